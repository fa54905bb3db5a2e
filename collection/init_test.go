package collection_test

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// TestInitialize covers v1 Repository.Initialize + first publish: four
// base roles, threshold 1, consistent_snapshot false, version 0 signed as
// 1, expiries now + v1's defaults in the caller's zone.
func TestInitialize(t *testing.T) {
	r := newRepo(t)
	root := r.trusted.Root
	if root.Version != 1 || root.ConsistentSnapshot || root.Type != tuf.TypeRoot {
		t.Errorf("root version %d consistent %v type %q", root.Version, root.ConsistentSnapshot, root.Type)
	}
	for role, k := range map[string]keys.PublicKey{"root": r.rootPub, "targets": r.targets.Public(), "snapshot": r.snapshot.Public(), "timestamp": r.timestmp.Public()} {
		rr := root.Roles[role]
		if rr == nil || rr.Threshold != 1 || !slices.Equal(rr.KeyIDs, []string{k.ID()}) {
			t.Errorf("roles.%s = %+v, want threshold 1 and key %s", role, rr, k.ID())
		}
	}
	if got := root.Keys[r.rootPub.ID()].Type; got != keys.ECDSAx509 {
		t.Errorf("root key type %q, want ecdsa-x509", got)
	}
	if _, off := root.Expires.Zone(); !root.Expires.Equal(t0.Add(10*tuf.Year)) || off != -5*3600 {
		t.Errorf("root expires %s, want %s in the caller's zone", root.Expires, t0.Add(10*tuf.Year))
	}
	tg := r.trusted.Targets["targets"].Targets
	if tg.Version != 1 || !tg.Expires.Equal(t0.Add(3*tuf.Year)) || len(tg.Targets) != 0 || tg.Delegations.Keys == nil || tg.Delegations.Roles == nil {
		t.Errorf("targets = %+v", tg)
	}
	if s := r.trusted.Snapshot; s == nil || s.Version != 1 || !s.Expires.Equal(t0.Add(3*tuf.Year)) || len(s.Meta) != 2 {
		t.Errorf("snapshot = %+v", s)
	}
	if r.trusted.Timestamp != nil {
		t.Error("the publisher signed a timestamp")
	}
	// The empty targets file is what v1 writes.
	want := `"delegations":{"keys":{},"roles":[]}`
	if f := string(r.trusted.Targets["targets"].File); !strings.Contains(f, want) || !strings.Contains(f, `"targets":{}`) {
		t.Errorf("targets file %s lacks %s", f, want)
	}
}

// TestInitializeWithServerManagedSnapshot: the snapshot key is the
// server's (v1 Initialize(..., snapshot)), so the first publish carries
// root and targets only.
func TestInitializeWithServerManagedSnapshot(t *testing.T) {
	serverSnap := genKey(t, keys.ED25519)
	root := genKey(t, keys.ECDSA)
	rootPub, err := collection.RootCertificateKey(root, testGUN, t0)
	if err != nil {
		t.Fatal(err)
	}
	tk := genKey(t, keys.ECDSA)
	c, err := collection.Init(collection.InitOptions{GUN: testGUN, RootKeys: []keys.PublicKey{rootPub},
		Targets: tk.Public(), Snapshot: serverSnap.Public(), Timestamp: genKey(t, keys.ED25519).Public()}, newMemKeys(root, tk))
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Sign(context.Background(), t0, collection.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"root", "targets"}) {
		t.Errorf("uploaded %v, want root and targets", got)
	}
	if c.Snapshot() != nil {
		t.Error("collection made a snapshot it could not sign")
	}
}

func TestInitRefusesUnusableRootKeys(t *testing.T) {
	root := genKey(t, keys.ECDSA)
	other := genKey(t, keys.ECDSA)
	good, _ := collection.RootCertificateKey(root, testGUN, t0)
	wrongCN, _ := collection.RootCertificateKey(root, "example.com/other", t0)
	wild, _ := collection.RootCertificateKey(root, "example.com/*", t0)
	base := collection.InitOptions{GUN: testGUN, Targets: other.Public(), Snapshot: other.Public(), Timestamp: other.Public()}
	tests := []struct {
		name     string
		rootKeys []keys.PublicKey
		gun      string
		want     error
	}{
		{"certificate whose CN is the GUN", []keys.PublicKey{good}, testGUN, nil},
		{"wildcard CN prefixing the GUN", []keys.PublicKey{wild}, testGUN, nil},
		{"plain ecdsa key: root keys must be certificates", []keys.PublicKey{root.Public()}, testGUN, collection.ErrInvalidRole},
		{"CN of another GUN", []keys.PublicKey{wrongCN}, testGUN, collection.ErrInvalidRole},
		{"no root key", nil, testGUN, errAny},
		{"no GUN", []keys.PublicKey{good}, "", errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := base
			opts.RootKeys, opts.GUN = tc.rootKeys, tc.gun
			_, err := collection.Init(opts, nil)
			if tc.want == errAny {
				if err == nil {
					t.Fatal("Init succeeded")
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
	opts := base
	opts.RootKeys, opts.Targets = []keys.PublicKey{good}, keys.PublicKey{}
	if _, err := collection.Init(opts, nil); err == nil {
		t.Error("Init without a targets key succeeded")
	}
}

var errAny = &struct{ error }{}

// TestRootCertificateKey: v1 §3.5 — CN = GUN, NotBefore = now, valid ten
// 365-day years, self-signed, and the canonical ID stays the plain key's.
func TestRootCertificateKey(t *testing.T) {
	for _, typ := range []string{keys.ECDSA} {
		k := genKey(t, typ)
		pub, err := collection.RootCertificateKey(k, testGUN, t0)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := pub.Leaf()
		if err != nil {
			t.Fatal(err)
		}
		if leaf.Subject.CommonName != testGUN || !leaf.NotBefore.Equal(t0.Truncate(time.Second)) ||
			!leaf.NotAfter.Equal(t0.Add(3650*24*time.Hour).Truncate(time.Second)) || leaf.IsCA || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
			t.Errorf("certificate: CN %q %s – %s CA %v", leaf.Subject.CommonName, leaf.NotBefore, leaf.NotAfter, leaf.IsCA)
		}
		if cid, _ := pub.CanonicalID(); cid != k.ID() {
			t.Errorf("canonical ID %s, want the plain key's %s", cid, k.ID())
		}
	}
	if _, err := collection.RootCertificateKey(genKey(t, keys.ED25519), testGUN, t0); err == nil {
		t.Error("made a certificate for an ed25519 key")
	}
}
