package collection_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

func sigKeyIDs(t *testing.T, file []byte) []string {
	t.Helper()
	env, err := tuf.ParseEnvelope(file)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range env.Signatures {
		ids = append(ids, s.KeyID)
	}
	slices.Sort(ids)
	return ids
}

// TestReplaceBaseKeys covers v1 key rotation (Repo.ReplaceBaseKeys and
// SignRoot, v1 §1.3 and §4.5).
func TestReplaceBaseKeys(t *testing.T) {
	t.Run("targets: old key leaves root, targets re-signed by the new key", func(t *testing.T) {
		r := newRepo(t)
		nk := genKey(t, keys.ED25519)
		r.lookup.add(nk)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("targets", nk.Public()), nil)
		if d := c.Dirty(); !slices.Equal(d, []string{"root", "targets"}) {
			t.Errorf("dirty %v", d)
		}
		if dk := c.DroppedKeys(); len(dk) != 1 || dk[0].ID() != r.targets.ID() {
			t.Errorf("dropped %v, want the old targets key", dk)
		}
		up := r.publish(c)
		root := rootOf(t, up)
		if _, ok := root.Keys[r.targets.ID()]; ok {
			t.Error("old targets key kept in root")
		}
		if got := sigKeyIDs(t, up["targets"]); !slices.Equal(got, []string{nk.ID()}) {
			t.Errorf("targets signed by %v", got)
		}
		if got := sigKeyIDs(t, up["root"]); !slices.Equal(got, []string{r.rootPub.ID()}) {
			t.Errorf("root signed by %v, want the unchanged root key only", got)
		}
	})
	t.Run("root: old certificate kept, new root signed by old and new keys, then by the new only", func(t *testing.T) {
		r := newRepo(t)
		nk := genKey(t, keys.ECDSA)
		npub, err := collection.RootCertificateKey(nk, testGUN, t0)
		if err != nil {
			t.Fatal(err)
		}
		r.lookup.add(nk)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("root", npub), nil)
		if len(c.DroppedKeys()) != 0 {
			t.Error("root certificate reported dropped")
		}
		up := r.publish(c)
		root := rootOf(t, up)
		if _, ok := root.Keys[r.rootPub.ID()]; !ok {
			t.Error("old root certificate removed from keys (v1 keeps it)")
		}
		if !slices.Equal(root.Roles["root"].KeyIDs, []string{npub.ID()}) {
			t.Errorf("root role keys %v", root.Roles["root"].KeyIDs)
		}
		want := []string{r.rootPub.ID(), npub.ID()}
		slices.Sort(want)
		if got := sigKeyIDs(t, up["root"]); !slices.Equal(got, want) {
			t.Errorf("root signed by %v, want %v", got, want)
		}
		// The next root change is signed by the new key alone.
		c = r.open()
		wantErr(t, c.ReplaceBaseKeys("timestamp", genKey(t, keys.ED25519).Public()), nil)
		up = r.publish(c)
		if got := sigKeyIDs(t, up["root"]); !slices.Equal(got, []string{npub.ID()}) {
			t.Errorf("following root signed by %v", got)
		}
	})
	t.Run("root: without the old root key the rotation cannot be signed", func(t *testing.T) {
		r := newRepo(t)
		nk := genKey(t, keys.ECDSA)
		npub, _ := collection.RootCertificateKey(nk, testGUN, t0)
		r.lookup.add(nk)
		r.lookup.remove(r.root)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("root", npub), nil)
		_, err := r.sign(c, collection.SignOptions{})
		var ins *collection.InsufficientSignaturesError
		if !errors.As(err, &ins) || !ins.PreviousRoot || ins.Role != "root" || ins.Needed() != 1 {
			t.Fatalf("error %v, want insufficient signatures by the previous root", err)
		}
	})
	t.Run("snapshot to the server's key: the snapshot is left to the server", func(t *testing.T) {
		r := newRepo(t)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("snapshot", genKey(t, keys.ED25519).Public()), nil)
		up := r.publish(c)
		if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"root"}) {
			t.Errorf("uploaded %v, want root only", got)
		}
	})
	t.Run("snapshot back to a publisher key: signed with it", func(t *testing.T) {
		r := newRepo(t)
		nk := genKey(t, keys.ECDSA)
		r.lookup.add(nk)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("snapshot", nk.Public()), nil)
		up := r.publish(c)
		if got := sigKeyIDs(t, up["snapshot"]); !slices.Equal(got, []string{nk.ID()}) {
			t.Errorf("snapshot signed by %v", got)
		}
	})
	t.Run("a key another role still uses stays in root", func(t *testing.T) {
		r := newRepo(t)
		c := r.open()
		wantErr(t, c.ReplaceBaseKeys("snapshot", r.targets.Public()), nil) // snapshot now shares the targets key
		wantErr(t, c.ReplaceBaseKeys("targets", genKey(t, keys.ECDSA).Public()), nil)
		root := c.Root()
		if _, ok := root.Keys[r.targets.ID()]; !ok {
			t.Error("key still used by snapshot was removed")
		}
		if _, ok := root.Keys[r.snapshot.ID()]; ok {
			t.Error("old snapshot key kept")
		}
	})
	for _, tc := range []struct {
		name string
		role string
		keys func(r *repo) []keys.PublicKey
	}{
		{"root keys must be certificates", "root", func(r *repo) []keys.PublicKey { return []keys.PublicKey{r.root.Public()} }},
		{"at least one key", "targets", func(r *repo) []keys.PublicKey { return nil }},
		{"a delegation is not a base role", "targets/a", func(r *repo) []keys.PublicKey { return []keys.PublicKey{r.targets.Public()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			c := r.open()
			wantErr(t, c.ReplaceBaseKeys(tc.role, tc.keys(r)...), collection.ErrInvalidRole)
			if d := c.Dirty(); len(d) != 0 {
				t.Errorf("refused rotation left dirty %v", d)
			}
		})
	}
}
