package collection_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// TestAddTarget covers v1 Repo.AddTargets rules.
func TestAddTarget(t *testing.T) {
	custom := json.RawMessage(`{"build":7}`)
	tests := []struct {
		name   string
		setup  func(r *repo) // before the collection is opened
		keysOf func(r *repo) // adjust the lookup
		role   string
		target string
		meta   func(t *testing.T) tuf.FileMeta
		want   error
		check  func(t *testing.T, r *repo, up map[string][]byte)
	}{
		{
			name: "adds to targets: targets and snapshot re-signed, root untouched",
			role: "targets", target: "v1.0",
			meta: func(t *testing.T) tuf.FileMeta { m := meta(t, "x"); m.Custom = &custom; return m },
			check: func(t *testing.T, r *repo, up map[string][]byte) {
				if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"snapshot", "targets"}) {
					t.Errorf("uploaded %v", got)
				}
				m := targetsOf(t, up, "targets").Targets["v1.0"]
				if string(*m.Custom) != `{"build":7}` || m.Length != 1 {
					t.Errorf("target meta %+v", m)
				}
			},
		},
		{
			name: "v1 FileMeta.Equals: the same metadata again changes nothing and needs no key",
			setup: func(r *repo) {
				c := r.open()
				if err := c.AddTarget(context.Background(), "targets", "same", meta(r.t, "same")); err != nil {
					r.t.Fatal(err)
				}
				r.publish(c)
			},
			keysOf: func(r *repo) { r.lookup.remove(r.targets) },
			role:   "targets", target: "same",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "same") },
			check: func(t *testing.T, r *repo, up map[string][]byte) {
				if _, ok := up["targets"]; ok {
					t.Error("targets re-signed for an unchanged target")
				}
			},
		},
		{
			name:   "v1 VerifyCanSign: a change needs one of the role's keys",
			keysOf: func(r *repo) { r.lookup.remove(r.targets) },
			role:   "targets", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrNoSigningKeys,
		},
		{
			name:  "delegation: metadata created on first target, version 1",
			setup: func(r *repo) { r.delegate("targets/releases", []string{"rel/"}, genKey(r.t, keys.ECDSA)) },
			role:  "targets/releases", target: "rel/1.0",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			check: func(t *testing.T, r *repo, up map[string][]byte) {
				if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"snapshot", "targets/releases"}) {
					t.Errorf("uploaded %v", got)
				}
				if tg := targetsOf(t, up, "targets/releases"); tg.Version != 1 {
					t.Errorf("new delegation metadata version %d, want 1", tg.Version)
				}
			},
		},
		{
			name:  "delegation paths: a name outside them is refused",
			setup: func(r *repo) { r.delegate("targets/releases", []string{"rel/"}, genKey(r.t, keys.ECDSA)) },
			role:  "targets/releases", target: "other/1.0",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrPathNotAllowed,
		},
		{
			name:  "delegation paths are narrowed by the parent's (v1 Restrict)",
			setup: func(r *repo) { nestedWithNarrowedParent(r) },
			role:  "targets/a/b", target: "c/x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrPathNotAllowed,
		},
		{
			name:  "nested delegation within every ancestor's paths",
			setup: func(r *repo) { nestedWithNarrowedParent(r) },
			role:  "targets/a/b", target: "a/b/x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
		},
		{
			name: "delegation without paths may hold nothing",
			setup: func(r *repo) {
				r.delegate("targets/nopaths", nil, genKey(r.t, keys.ECDSA))
			},
			role: "targets/nopaths", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrPathNotAllowed,
		},
		{
			name:   "delegation key not held",
			setup:  func(r *repo) { r.delegate("targets/releases", []string{""}, genKey(r.t, keys.ECDSA)) },
			keysOf: func(r *repo) { r.lookup = newMemKeys(r.root, r.targets, r.snapshot) },
			role:   "targets/releases", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrNoSigningKeys,
		},
		{
			name: "delegation that does not exist",
			role: "targets/nobody", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrInvalidRole,
		},
		{
			name: "not a targets role: root", role: "root", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrInvalidRole,
		},
		{
			name: "not a targets role: wildcard", role: "targets/*", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrInvalidRole,
		},
		{
			name: "not a targets role: upper case delegation", role: "targets/Rel", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return meta(t, "x") },
			want: collection.ErrInvalidRole,
		},
		{
			name: "metadata without hashes", role: "targets", target: "x",
			meta: func(t *testing.T) tuf.FileMeta { return tuf.FileMeta{Length: 1} },
			want: errAny,
		},
		{
			name: "sha256 of the wrong size", role: "targets", target: "x",
			meta: func(t *testing.T) tuf.FileMeta {
				return tuf.FileMeta{Length: 1, Hashes: tuf.Hashes{"sha256": []byte{1}}}
			},
			want: errAny,
		},
		{
			name: "only sha512 is enough (notary addhash --sha512)", role: "targets", target: "x",
			meta: func(t *testing.T) tuf.FileMeta {
				m := meta(t, "x")
				delete(m.Hashes, "sha256")
				return m
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			if tc.setup != nil {
				tc.setup(r)
			}
			if tc.keysOf != nil {
				tc.keysOf(r)
			}
			c := r.open()
			before := c.Dirty()
			err := c.AddTarget(context.Background(), tc.role, tc.target, tc.meta(t))
			if tc.want != nil {
				if err == nil || (tc.want != errAny && !errors.Is(err, tc.want)) {
					t.Fatalf("error = %v, want %v", err, tc.want)
				}
				if got := c.Dirty(); !slices.Equal(got, before) {
					t.Errorf("failed AddTarget left dirty roles %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			up := r.publish(c)
			if tc.check != nil {
				tc.check(t, r, up)
			}
		})
	}
}

// TestRemoveTarget covers v1 Repo.RemoveTargets rules.
func TestRemoveTarget(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *repo {
		r := newRepo(t)
		r.delegate("targets/rel", []string{"rel/"}, genKey(t, keys.ECDSA))
		c := r.open()
		if err := c.AddTarget(ctx, "targets", "a", meta(t, "a")); err != nil {
			t.Fatal(err)
		}
		if err := c.AddTarget(ctx, "targets/rel", "rel/x", meta(t, "x")); err != nil {
			t.Fatal(err)
		}
		r.publish(c)
		return r
	}
	t.Run("removes the target", func(t *testing.T) {
		r := setup(t)
		c := r.open()
		wantErr(t, c.RemoveTarget(ctx, "targets", "a"), nil)
		up := r.publish(c)
		if _, ok := targetsOf(t, up, "targets").Targets["a"]; ok {
			t.Error("target still there")
		}
	})
	t.Run("absent target: nothing to do, no key needed", func(t *testing.T) {
		r := setup(t)
		r.lookup.remove(r.targets)
		c := r.open()
		wantErr(t, c.RemoveTarget(ctx, "targets", "nope"), nil)
		if d := c.Dirty(); len(d) != 0 {
			t.Errorf("dirty %v", d)
		}
	})
	t.Run("present target needs a key", func(t *testing.T) {
		r := setup(t)
		r.lookup.remove(r.targets)
		wantErr(t, r.open().RemoveTarget(ctx, "targets", "a"), collection.ErrNoSigningKeys)
	})
	t.Run("a delegation's paths do not restrict removal (v1: fix invalid state)", func(t *testing.T) {
		r := setup(t)
		// Narrow the delegation's paths so rel/x falls outside them.
		c := r.open()
		wantErr(t, c.UpdateDelegationPaths(ctx, "targets/rel", []string{"other/"}, []string{"rel/"}, false), nil)
		r.publish(c)
		c = r.open()
		wantErr(t, c.RemoveTarget(ctx, "targets/rel", "rel/x"), nil)
		up := r.publish(c)
		if len(targetsOf(t, up, "targets/rel").Targets) != 0 {
			t.Error("target not removed")
		}
	})
	t.Run("role without metadata yet: nothing to do", func(t *testing.T) {
		r := newRepo(t)
		r.delegate("targets/empty", []string{""}, genKey(t, keys.ECDSA))
		c := r.open()
		wantErr(t, c.RemoveTarget(ctx, "targets/empty", "x"), nil)
		if _, ok := c.Targets("targets/empty"); ok {
			t.Error("RemoveTarget created metadata")
		}
	})
	t.Run("unknown role", func(t *testing.T) {
		r := newRepo(t)
		wantErr(t, r.open().RemoveTarget(ctx, "targets/nobody", "x"), collection.ErrInvalidRole)
		wantErr(t, r.open().RemoveTarget(ctx, "snapshot", "x"), collection.ErrInvalidRole)
	})
}

// nestedWithNarrowedParent delegates targets/a (a/, c/) and targets/a/b
// (a/b/, c/), then removes c/ from targets/a: targets/a/b still lists c/,
// but its effective paths are only a/b/.
func nestedWithNarrowedParent(r *repo) {
	r.t.Helper()
	r.delegate("targets/a", []string{"a/", "c/"}, genKey(r.t, keys.ECDSA))
	r.delegate("targets/a/b", []string{"a/b/", "c/"}, genKey(r.t, keys.ECDSA))
	c := r.open()
	if err := c.UpdateDelegationPaths(context.Background(), "targets/a", nil, []string{"c/"}, false); err != nil {
		r.t.Fatal(err)
	}
	r.publish(c)
}
