package collection_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

func delegationIn(t *testing.T, tg *tuf.Targets, name string) *tuf.DelegationRole {
	t.Helper()
	for _, r := range tg.Delegations.Roles {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("%s not delegated", name)
	return nil
}

func applyOK(t *testing.T, c *collection.Collection, changes ...changelist.Change) {
	t.Helper()
	if err := c.ApplyChanges(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
}

// must unwraps a changelist constructor's result: must(t)(changelist.NewWitness(r)).
func must(t *testing.T) func(changelist.Change, error) changelist.Change {
	return func(c changelist.Change, err error) changelist.Change {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// TestDelegationKeys covers v1 Repo.UpdateDelegationKeys and the
// delegation create/update changes.
func TestDelegationKeys(t *testing.T) {
	ctx := context.Background()
	t.Run("create: the parent lists the role with its keys and threshold, no paths", func(t *testing.T) {
		r := newRepo(t)
		k := genKey(t, keys.ECDSA)
		c := r.open()
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{k.Public()}, nil, 1), nil)
		up := r.publish(c)
		tg := targetsOf(t, up, "targets")
		d := delegationIn(t, tg, "targets/a")
		if !slices.Equal(d.KeyIDs, []string{k.ID()}) || d.Threshold != 1 || d.Paths != nil {
			t.Errorf("delegation %+v", d)
		}
		if _, ok := tg.Delegations.Keys[k.ID()]; !ok || len(tg.Delegations.Keys) != 1 {
			t.Errorf("delegation keys %v", tg.Delegations.Keys)
		}
		if _, ok := up["targets/a"]; ok {
			t.Error("a delegation with no targets got metadata")
		}
	})
	t.Run("a new delegation needs a threshold of at least 1", func(t *testing.T) {
		r := newRepo(t)
		wantErr(t, r.open().UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{genKey(t, keys.ECDSA).Public()}, nil, 0), collection.ErrInvalidRole)
	})
	t.Run("editing a delegation needs one of the parent's keys", func(t *testing.T) {
		r := newRepo(t)
		r.lookup.remove(r.targets)
		wantErr(t, r.open().UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{genKey(t, keys.ECDSA).Public()}, nil, 1), collection.ErrNoSigningKeys)
	})
	t.Run("not a delegation name", func(t *testing.T) {
		r := newRepo(t)
		for _, name := range []string{"targets", "targets/*", "snapshot", "targets/a/../b", "targets/A"} {
			wantErr(t, r.open().UpdateDelegationKeys(ctx, name, nil, nil, 1), collection.ErrInvalidRole)
		}
	})
	t.Run("v1 ignores the threshold of an existing delegation", func(t *testing.T) {
		r := newRepo(t)
		r.delegate("targets/a", []string{""}, genKey(t, keys.ECDSA))
		c := r.open()
		k2 := genKey(t, keys.ECDSA)
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a", []keys.PublicKey{k2.Public()}, nil, 2), nil)
		d := delegationIn(t, targetsOf(t, r.publish(c), "targets"), "targets/a")
		if d.Threshold != 1 || len(d.KeyIDs) != 2 {
			t.Errorf("delegation %+v, want threshold 1 and two keys", d)
		}
	})
	t.Run("removing every key writes keyids null, drops the key, and warns", func(t *testing.T) {
		r := newRepo(t)
		k := genKey(t, keys.ECDSA)
		r.delegate("targets/a", []string{""}, k)
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionUpdate, "targets/a", changelist.TUFDelegation{RemoveKeys: []string{k.CanonicalID()}})))
		up := r.publish(c)
		if !strings.Contains(string(up["targets"]), `"keyids":null`) || !strings.Contains(string(up["targets"]), `"keys":{}`) {
			t.Errorf("targets file %s", up["targets"])
		}
		if w := c.Warnings(); len(w) != 1 || !isWarning[*collection.UnderThresholdWarning](w[0]) {
			t.Errorf("warnings %q", w)
		}
	})
	t.Run("an x509 delegation key is removed by its canonical ID", func(t *testing.T) {
		r := newRepo(t)
		k := genKey(t, keys.ECDSA)
		cert, err := k.WithRootCertificate("targets/qa", t0, t0.Add(tuf.Year))
		if err != nil {
			t.Fatal(err)
		}
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionCreate, "targets/qa", changelist.TUFDelegation{NewThreshold: 1, AddKeys: []keys.PublicKey{cert.Public()}})))
		r.publish(c)
		if cert.ID() == k.CanonicalID() {
			t.Fatal("certificate and key share an ID")
		}
		c = r.open()
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionUpdate, "targets/qa", changelist.TUFDelegation{RemoveKeys: []string{cert.ID()}})))
		if tg, _ := c.Targets("targets"); len(delegationIn(t, tg, "targets/qa").KeyIDs) != 1 {
			t.Error("a TUF ID in remove_keys removed the key; v1 matches canonical IDs only")
		}
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionUpdate, "targets/qa", changelist.TUFDelegation{RemoveKeys: []string{k.CanonicalID()}})))
		if tg, _ := c.Targets("targets"); delegationIn(t, tg, "targets/qa").KeyIDs != nil {
			t.Error("canonical ID did not remove the certificate key")
		}
	})
	t.Run("creating a nested delegation creates the parent's metadata", func(t *testing.T) {
		r := newRepo(t)
		r.delegate("targets/a", []string{"a/"}, genKey(t, keys.ECDSA))
		if _, ok := r.trusted.Targets["targets/a"]; ok {
			t.Fatal("targets/a has metadata already")
		}
		c := r.open()
		k := genKey(t, keys.ECDSA)
		wantErr(t, c.UpdateDelegationKeys(ctx, "targets/a/b", []keys.PublicKey{k.Public()}, nil, 1), nil)
		up := r.publish(c)
		if tg := targetsOf(t, up, "targets/a"); tg.Version != 1 || delegationIn(t, tg, "targets/a/b").Threshold != 1 {
			t.Errorf("targets/a = %+v", tg)
		}
	})
	t.Run("a delegation below an undelegated role", func(t *testing.T) {
		r := newRepo(t)
		wantErr(t, r.open().UpdateDelegationKeys(ctx, "targets/x/y", []keys.PublicKey{genKey(t, keys.ECDSA).Public()}, nil, 1), collection.ErrInvalidRole)
	})
}

// TestDelegationPaths covers v1 Repo.UpdateDelegationPaths.
func TestDelegationPaths(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		role         string
		add, remove  []string
		clear        bool
		want         []string
		wantErr      error
		noParentMeta bool
	}{
		{name: "add", role: "targets/a", add: []string{"b/"}, want: []string{"a/", "b/"}},
		{name: "add an existing path again", role: "targets/a", add: []string{"a/"}, want: []string{"a/"}},
		{name: "remove", role: "targets/a", remove: []string{"a/"}, want: nil},
		{name: "clear then add", role: "targets/a", clear: true, add: []string{"z/"}, want: []string{"z/"}},
		{name: "remove, clear and add in v1's order", role: "targets/a", remove: []string{"a/"}, add: []string{"a/"}, want: []string{"a/"}},
		{name: "added paths must fall under the parent's", role: "targets/a/b", add: []string{"b/"}, wantErr: collection.ErrInvalidRole},
		{name: "within the parent's", role: "targets/a/b", add: []string{"a/b/"}, want: []string{"a/b/"}},
		{name: "at most tuf.MaxDelegationPaths", role: "targets/a", add: manyPaths("a/", tuf.MaxDelegationPaths), wantErr: collection.ErrInvalidRole},
		{name: "the parent's metadata must exist", role: "targets/a/b", add: []string{"a/"}, noParentMeta: true, wantErr: collection.ErrInvalidRole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.delegate("targets/a", []string{"a/"}, genKey(t, keys.ECDSA))
			if !tc.noParentMeta {
				r.delegate("targets/a/b", nil, genKey(t, keys.ECDSA))
			}
			c := r.open()
			err := c.UpdateDelegationPaths(ctx, tc.role, tc.add, tc.remove, tc.clear)
			if tc.wantErr != nil {
				wantErr(t, err, tc.wantErr)
				return
			}
			wantErr(t, err, nil)
			up := r.publish(c)
			parent := tuf.ParentRole(tc.role)
			if got := delegationIn(t, targetsOf(t, up, parent), tc.role).Paths; !slices.Equal(got, tc.want) {
				t.Errorf("paths %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDeleteDelegation covers v1 Repo.DeleteDelegation.
func TestDeleteDelegation(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*repo, *keys.PrivateKey) {
		r := newRepo(t)
		k := genKey(t, keys.ECDSA)
		r.delegate("targets/a", []string{""}, k)
		c := r.open()
		wantErr(t, c.AddTarget(ctx, "targets/a", "x", meta(t, "x")), nil)
		r.publish(c)
		return r, k
	}
	t.Run("the last delegation: roles null, key, metadata and snapshot entry gone", func(t *testing.T) {
		r, _ := setup(t)
		c := r.open()
		applyOK(t, c, must(t)(changelist.DeleteDelegation("targets/a")))
		if _, ok := c.Targets("targets/a"); ok {
			t.Error("metadata kept")
		}
		up := r.publish(c)
		if !strings.Contains(string(up["targets"]), `"delegations":{"keys":{},"roles":null}`) {
			t.Errorf("targets file %s", up["targets"])
		}
		s, _, err := tuf.ParseSnapshot(up["snapshot"])
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Meta["targets/a"]; ok {
			t.Error("snapshot still lists targets/a")
		}
	})
	t.Run("other delegations and their keys stay", func(t *testing.T) {
		r, _ := setup(t)
		k2 := genKey(t, keys.ECDSA)
		r.delegate("targets/b", []string{""}, k2)
		c := r.open()
		wantErr(t, c.DeleteDelegation(ctx, "targets/a"), nil)
		tg := targetsOf(t, r.publish(c), "targets")
		if len(tg.Delegations.Roles) != 1 || tg.Delegations.Roles[0].Name != "targets/b" || len(tg.Delegations.Keys) != 1 {
			t.Errorf("delegations %+v", tg.Delegations)
		}
	})
	t.Run("needs one of the parent's keys", func(t *testing.T) {
		r, _ := setup(t)
		r.lookup.remove(r.targets)
		wantErr(t, r.open().DeleteDelegation(ctx, "targets/a"), collection.ErrNoSigningKeys)
	})
	t.Run("a delegation the parent does not list is already gone", func(t *testing.T) {
		r, _ := setup(t)
		c := r.open()
		wantErr(t, c.DeleteDelegation(ctx, "targets/zzz"), nil)
		if d := c.Dirty(); len(d) != 0 {
			t.Errorf("dirty %v", d)
		}
	})
	t.Run("not a delegation name", func(t *testing.T) {
		r, _ := setup(t)
		wantErr(t, r.open().DeleteDelegation(ctx, "targets"), collection.ErrInvalidRole)
	})
}

// TestPurgeDelegationKeys covers v1 Repo.PurgeDelegationKeys (wildcard
// delegation updates).
func TestPurgeDelegationKeys(t *testing.T) {
	ctx := context.Background()
	shared, other, aKey := genKey(t, keys.ECDSA), genKey(t, keys.ECDSA), genKey(t, keys.ECDSA)
	setup := func(t *testing.T) *repo {
		r := newRepo(t)
		r.delegate("targets/a", []string{""}, aKey)
		r.delegate("targets/a/b", []string{""}, shared, other)
		r.delegate("targets/c", []string{""}, shared)
		return r
	}
	t.Run("targets/* removes the key from every delegation", func(t *testing.T) {
		r := setup(t)
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionUpdate, "targets/*", changelist.TUFDelegation{RemoveKeys: []string{shared.CanonicalID()}})))
		up := r.publish(c)
		tg := targetsOf(t, up, "targets")
		if d := delegationIn(t, tg, "targets/c"); d.KeyIDs != nil {
			t.Errorf("targets/c keys %v", d.KeyIDs)
		}
		if d := delegationIn(t, tg, "targets/a"); !slices.Equal(d.KeyIDs, []string{aKey.ID()}) {
			t.Errorf("targets/a keys %v", d.KeyIDs)
		}
		if d := delegationIn(t, targetsOf(t, up, "targets/a"), "targets/a/b"); !slices.Equal(d.KeyIDs, []string{other.ID()}) {
			t.Errorf("targets/a/b keys %v", d.KeyIDs)
		}
		if _, ok := tg.Delegations.Keys[shared.ID()]; ok {
			t.Error("purged key kept in targets")
		}
		if w := c.Warnings(); len(w) != 1 || !isWarning[*collection.UnderThresholdWarning](w[0]) || w[0].(*collection.UnderThresholdWarning).Role != "targets/c" {
			t.Errorf("warnings %q, want one for targets/c", w)
		}
	})
	t.Run("targets/a/* leaves targets/a's own entry alone", func(t *testing.T) {
		r := setup(t)
		r.delegate("targets/a", []string{""}, shared) // targets/a now signed by aKey and shared
		c := r.open()
		wantErr(t, c.PurgeDelegationKeys(ctx, "targets/a/*", []string{shared.CanonicalID()}), nil)
		up := r.publish(c)
		if _, ok := up["targets"]; ok {
			t.Error("targets edited by a purge below targets/a")
		}
		if d := delegationIn(t, targetsOf(t, up, "targets/a"), "targets/a/b"); !slices.Equal(d.KeyIDs, []string{other.ID()}) {
			t.Errorf("targets/a/b keys %v", d.KeyIDs)
		}
	})
	t.Run("v1 walk order: purging the only key of a parent stops the purge below it", func(t *testing.T) {
		r := newRepo(t)
		r.delegate("targets/a", []string{""}, shared)
		r.delegate("targets/a/b", []string{""}, shared, other)
		c := r.open()
		wantErr(t, c.PurgeDelegationKeys(ctx, "targets/*", []string{shared.CanonicalID()}), nil)
		if d := c.Dirty(); !slices.Equal(d, []string{"targets"}) {
			t.Errorf("dirty %v, want only targets: targets/a lost its key first", d)
		}
		if w, ok := findWarning[*collection.PurgeSkippedWarning](c.Warnings()); !ok || w.Role != "targets/a" {
			t.Errorf("warnings %q", c.Warnings())
		}
	})
	t.Run("a role whose keys are missing is skipped with a warning", func(t *testing.T) {
		r := setup(t)
		r.lookup.remove(aKey)
		c := r.open()
		wantErr(t, c.PurgeDelegationKeys(ctx, "targets/*", []string{shared.CanonicalID()}), nil)
		if d := c.Dirty(); !slices.Equal(d, []string{"targets"}) {
			t.Errorf("dirty %v, want only targets (targets/a cannot be signed)", d)
		}
		if w, ok := findWarning[*collection.PurgeSkippedWarning](c.Warnings()); !ok || !errors.Is(w, collection.ErrNoSigningKeys) {
			t.Errorf("warnings %q", c.Warnings())
		}
	})
	t.Run("only wildcard names", func(t *testing.T) {
		r := setup(t)
		wantErr(t, r.open().PurgeDelegationKeys(ctx, "targets/a", nil), collection.ErrInvalidRole)
	})
}

// manyPaths returns n distinct paths under prefix.
func manyPaths(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d/", prefix, i)
	}
	return out
}

func isWarning[T error](w error) bool {
	var x T
	return errors.As(w, &x)
}

// findWarning returns the first warning of type T.
func findWarning[T error](ws []error) (T, bool) {
	for _, w := range ws {
		var x T
		if errors.As(w, &x) {
			return x, true
		}
	}
	var zero T
	return zero, false
}
