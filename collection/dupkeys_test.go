package collection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// TestDuplicateKeysRefused: adding one key under two key IDs (the plain
// key and a self-signed certificate for it, or two certificates) to a
// delegation or to root is a *tuf.DuplicateKeyError: it would count once
// toward a threshold while looking like two (issue 18 item 6).
func TestDuplicateKeysRefused(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, keys.ECDSA)
	cert1, err := collection.RootCertificateKey(k, testGUN, t0)
	if err != nil {
		t.Fatal(err)
	}
	cert2, err := collection.RootCertificateKey(k, testGUN, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantDup := func(t *testing.T, err error) {
		t.Helper()
		var dup *tuf.DuplicateKeyError
		if !errors.As(err, &dup) || dup.CanonicalID != k.ID() {
			t.Fatalf("error %v, want a DuplicateKeyError for %s", err, k.ID())
		}
	}
	t.Run("delegation: plain key and certificate in one add", func(t *testing.T) {
		r := newRepo(t)
		wantDup(t, r.open().UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{k.Public(), cert1}, nil, 2))
	})
	t.Run("delegation: certificate added to a role holding the plain key", func(t *testing.T) {
		r := newRepo(t)
		c := r.open()
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{k.Public()}, nil, 1), nil)
		wantDup(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{cert1}, nil, 0))
	})
	t.Run("delegation: replacing the plain key by its certificate is fine", func(t *testing.T) {
		r := newRepo(t)
		c := r.open()
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{k.Public()}, nil, 1), nil)
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{cert1}, []string{k.ID()}, 0), nil)
	})
	t.Run("root rotation: two certificates for one key", func(t *testing.T) {
		r := newRepo(t)
		wantDup(t, r.open().ReplaceBaseKeys(tuf.RoleRoot, cert1, cert2))
	})
	t.Run("targets: plain key and certificate", func(t *testing.T) {
		r := newRepo(t)
		wantDup(t, r.open().ReplaceBaseKeys(tuf.RoleTargets, k.Public(), cert1))
	})
}
