package collection_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// TestSignRootNearExpiry: v1 re-signs root on publish when it expires
// within six months (helpers.go nearExpiry: now.AddDate(0, 6, 0)).
func TestSignRootNearExpiry(t *testing.T) {
	r := newRepo(t)
	expires := r.trusted.Root.Expires
	for _, tc := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"seven months left", expires.AddDate(0, -7, 0), false},
		{"five months left", expires.AddDate(0, -5, 0), true},
		{"expired", expires.Add(time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := r.open()
			up, err := c.Sign(context.Background(), tc.now, collection.SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, got := up["root"]; got != tc.want {
				t.Errorf("root re-signed = %v, want %v", got, tc.want)
			}
			if tc.want && !rootOf(t, up).Expires.Equal(tc.now.Add(tuf.DefaultRootTTL)) {
				t.Error("re-signed root does not expire 10 years from now")
			}
		})
	}
}

// TestSignThresholds: every available key signs; fewer than the threshold
// is an *InsufficientSignaturesError naming the role (v1
// signed.ErrInsufficientSignatures), and Sign then changes nothing.
func TestSignThresholds(t *testing.T) {
	ctx := context.Background()
	k1, k2 := genKey(t, keys.ECDSA), genKey(t, keys.ED25519)
	r := newRepo(t)
	c := r.open()
	wantErr(t, c.UpdateDelegationKeys(ctx, "targets/two", []keys.PublicKey{k1.Public(), k2.Public()}, nil, 2), nil)
	wantErr(t, c.UpdateDelegationPaths(ctx, "targets/two", []string{""}, nil, false), nil)
	r.publish(c)

	r.lookup.add(k1)
	c = r.open()
	wantErr(t, c.AddTarget(ctx, "targets/two", "x", meta(t, "x")), nil) // one key is enough to edit
	wantErr(t, c.MarkDirty("root"), nil)
	before := c.Dirty()
	_, err := r.sign(c, collection.SignOptions{})
	var ins *collection.InsufficientSignaturesError
	if !errors.As(err, &ins) || ins.Role != "targets/two" || ins.Threshold != 2 || ins.Found != 1 || ins.Needed() != 1 ||
		!slices.Equal(ins.Missing, []string{k2.CanonicalID()}) || !errors.Is(err, collection.ErrInsufficientSignatures) {
		t.Fatalf("error = %#v", err)
	}
	if got := c.Dirty(); !slices.Equal(got, before) || c.Root().Version != r.trusted.Root.Version {
		t.Errorf("failed Sign changed the collection: dirty %v, root version %d", got, c.Root().Version)
	}
	if _, ok := c.File("targets/two"); ok {
		t.Error("failed Sign stored a file")
	}

	r.lookup.add(k2)
	c = r.open()
	wantErr(t, c.AddTarget(ctx, "targets/two", "x", meta(t, "x")), nil)
	up := r.publish(c)
	if got := sigKeyIDs(t, up["targets/two"]); len(got) != 2 {
		t.Errorf("signed by %v, want both keys", got)
	}
}

// TestSignSnapshotKeys: v1 publish signs the snapshot when it holds a
// snapshot key; with none it leaves it to the server; with some but too
// few it fails.
func TestSignSnapshotKeys(t *testing.T) {
	r := newRepo(t)
	s2 := genKey(t, keys.ECDSA)
	// A root whose snapshot role needs two keys.
	tr := r.trusted
	root := *tr.Root
	root.Keys = map[string]keys.PublicKey{}
	for id, k := range tr.Root.Keys {
		root.Keys[id] = k
	}
	root.Keys[s2.ID()] = s2.Public()
	root.Roles = map[string]*tuf.RootRole{}
	for n, rr := range tr.Root.Roles {
		cp := *rr
		root.Roles[n] = &cp
	}
	root.Roles["snapshot"] = &tuf.RootRole{KeyIDs: []string{r.snapshot.ID(), s2.ID()}, Threshold: 2}
	tr.Root = &root
	for _, tc := range []struct {
		name   string
		lookup *memKeys
		want   error
		snap   bool
	}{
		{"both snapshot keys", newMemKeys(r.root, r.targets, r.snapshot, s2), nil, true},
		{"no snapshot key: left to the server", newMemKeys(r.root, r.targets), nil, false},
		{"one of two", newMemKeys(r.root, r.targets, r.snapshot), collection.ErrInsufficientSignatures, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := collection.FromTrusted(tr, tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, c.AddTarget(context.Background(), "targets", "x", meta(t, "x")), nil)
			up, err := c.Sign(context.Background(), t0.Add(time.Hour), collection.SignOptions{})
			wantErr(t, err, tc.want)
			if _, got := up["snapshot"]; got != tc.snap {
				t.Errorf("snapshot uploaded = %v, want %v", got, tc.snap)
			}
		})
	}
}

// TestSignInitialPublish: v1 publish with initialPublish uploads the root
// as it is and re-signs targets even if nothing changed.
func TestSignInitialPublish(t *testing.T) {
	r := newRepo(t)
	c := r.open()
	up, err := r.sign(c, collection.SignOptions{InitialPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"root", "snapshot", "targets"}) {
		t.Fatalf("uploaded %v", got)
	}
	if tg := targetsOf(t, up, "targets"); tg.Version != 2 {
		t.Errorf("targets version %d, want 2", tg.Version)
	}
}

// TestSignExtraRootKeys: v1 LegacyVersions — older root keys also sign
// root when available; giving any forces a root re-sign.
func TestSignExtraRootKeys(t *testing.T) {
	r := newRepo(t)
	old := genKey(t, keys.ECDSA)
	oldPub, _ := collection.RootCertificateKey(old, testGUN, t0)
	gone := genKey(t, keys.ECDSA)
	r.lookup.add(old)
	c := r.open()
	up, err := r.sign(c, collection.SignOptions{ExtraRootKeys: []keys.PublicKey{oldPub, gone.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{r.rootPub.ID(), oldPub.ID()}
	slices.Sort(want)
	if got := sigKeyIDs(t, up["root"]); !slices.Equal(got, want) {
		t.Errorf("root signed by %v, want %v", got, want)
	}
}

func TestSignNothingToDo(t *testing.T) {
	r := newRepo(t)
	r.lookup.remove(r.snapshot)
	up, err := r.sign(r.open(), collection.SignOptions{})
	if err != nil || len(up) != 0 {
		t.Errorf("upload %v, %v; want nothing", mapKeys(up), err)
	}
}

// TestSignRefusesWhatV1CannotWrite: a target name with a raw control
// character can be signed but not written by v1 (v1 §2.2).
func TestSignRefusesWhatV1CannotWrite(t *testing.T) {
	r := newRepo(t)
	c := r.open()
	wantErr(t, c.AddTarget(context.Background(), "targets", "a\nb", meta(t, "x")), nil)
	_, err := r.sign(c, collection.SignOptions{})
	wantErr(t, err, tuf.ErrUnsignable)
}

// TestKeyLookupContract: the lookup is asked about each key once, its
// errors stop the operation, and a signer may present the plain key of a
// root certificate.
func TestKeyLookupContract(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	c := r.open()
	for i := range 5 {
		wantErr(t, c.AddTarget(ctx, "targets", string(rune('a'+i)), meta(t, "x")), nil)
	}
	wantErr(t, c.MarkDirty("root"), nil)
	r.lookup.asked = nil
	if _, err := r.sign(c, collection.SignOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range r.lookup.asked {
		if seen[id] {
			t.Errorf("asked about %s more than once", id)
		}
		seen[id] = true
	}

	boom := errors.New("passphrase refused")
	c2, err := collection.FromTrusted(r.trusted, failingLookup{boom})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.AddTarget(ctx, "targets", "z", meta(t, "z")); !errors.Is(err, boom) {
		t.Errorf("error %v, want the lookup's", err)
	}
}

type failingLookup struct{ err error }

func (f failingLookup) Signers(context.Context, string, []keys.PublicKey) ([]tuf.Signer, error) {
	return nil, f.err
}
