package collection_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
)

// TestApplyChangesRefusesWhatV1Cannot: v1 applyChangelist errors, and the
// one deliberate difference (new_name).
func TestApplyChangesRefusesWhatV1Cannot(t *testing.T) {
	r := newRepo(t)
	r.delegate("targets/a", []string{""}, genKey(t, keys.ECDSA))
	goodTarget := must(t)(changelist.NewTarget("targets", "ok", meta(t, "ok")))
	tests := []struct {
		name string
		c    changelist.Change
		want error
	}{
		{"scope not supported", changelist.Change{Action: "create", Scope: "snapshot", Type: "target", Path: "x"}, collection.ErrUnsupportedChange},
		{"targets change of an unknown type", changelist.Change{Action: "create", Scope: "targets", Type: "file"}, collection.ErrUnsupportedChange},
		{"root change of another type", changelist.Change{Action: "update", Scope: "root", Type: "witness"}, collection.ErrUnsupportedChange},
		{"root change other than create", changelist.Change{Action: "update", Scope: "root", Type: "role", Data: []byte(`{"keys":[],"role":"targets"}`)}, collection.ErrUnsupportedChange},
		{"target update", changelist.Change{Action: "update", Scope: "targets", Type: "target", Path: "x"}, collection.ErrUnsupportedChange},
		{"delegation action unknown", changelist.Change{Action: "rename", Scope: "targets/a", Type: "delegation", Data: []byte(`{}`)}, collection.ErrUnsupportedChange},
		{"new_name (rename) is refused, not ignored", changelist.Change{Action: "update", Scope: "targets/a", Type: "delegation", Data: []byte(`{"new_name":"targets/b"}`)}, collection.ErrUnsupportedChange},
		{"target data that is not FileMeta", changelist.Change{Action: "create", Scope: "targets", Type: "target", Path: "x", Data: []byte(`[]`)}, changelist.ErrInvalidChange},
		{"target create without data", changelist.Change{Action: "create", Scope: "targets", Type: "target", Path: "x"}, changelist.ErrInvalidChange},
		{"root data that is not keys", changelist.Change{Action: "create", Scope: "root", Type: "role", Data: []byte(`"x"`)}, changelist.ErrInvalidChange},
		{"root keys for an unknown role", must(t)(changelist.NewBaseRoleKeys("timestamp", nil)), collection.ErrInvalidRole},
		{"target in a delegation that does not exist", changelist.Change{Action: "create", Scope: "targets/nobody", Type: "target", Path: "x", Data: goodTarget.Data}, collection.ErrInvalidRole},
		{"target in a wildcard scope", changelist.Change{Action: "create", Scope: "targets/*", Type: "target", Path: "x", Data: goodTarget.Data}, collection.ErrInvalidRole},
		{"update of a delegation that does not exist", changelist.Change{Action: "update", Scope: "targets/nobody", Type: "delegation", Data: []byte(`{"add_paths":["x"]}`)}, collection.ErrInvalidRole},
		{"create without threshold", changelist.Change{Action: "create", Scope: "targets/new", Type: "delegation", Data: []byte(`{"add_paths":["x"]}`)}, collection.ErrInvalidRole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := r.open()
			err := c.ApplyChanges(context.Background(), []changelist.Change{goodTarget, tc.c})
			var ce *collection.ChangeError
			if !errors.As(err, &ce) || ce.Index != 1 || !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want change #1 failing with %v", err, tc.want)
			}
			// All or nothing: the good change before it is not applied.
			if d := c.Dirty(); len(d) != 0 {
				t.Errorf("dirty %v after a failed ApplyChanges", d)
			}
			if tg, _ := c.Targets("targets"); len(tg.Targets) != 0 {
				t.Error("first change applied")
			}
		})
	}
}

// TestWitness covers v1 witnessTargets.
func TestWitness(t *testing.T) {
	ctx := context.Background()
	k := genKey(t, keys.ECDSA)
	setup := func(t *testing.T) *repo {
		r := newRepo(t)
		r.delegate("targets/a", []string{""}, k)
		c := r.open()
		wantErr(t, c.AddTarget(ctx, "targets/a", "x", meta(t, "x")), nil)
		r.publish(c)
		return r
	}
	t.Run("a held role is re-signed unchanged, version+1", func(t *testing.T) {
		r := setup(t)
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewWitness("targets/a")))
		up := r.publish(c)
		old := r.trusted.Targets["targets/a"].Targets
		if tg := targetsOf(t, up, "targets/a"); tg.Version != 2 || len(tg.Targets) != 1 {
			t.Errorf("witnessed role %+v (was %+v)", tg, old)
		}
	})
	t.Run("targets itself", func(t *testing.T) {
		r := setup(t)
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewWitness("targets")))
		if _, ok := r.publish(c)["targets"]; !ok {
			t.Error("targets not re-signed")
		}
	})
	t.Run("an invalid (e.g. expired) delegation is revived", func(t *testing.T) {
		r := setup(t)
		tr := r.trusted
		tr.Invalid = map[string]collection.TargetsFile{"targets/a": tr.Targets["targets/a"]}
		tr.Targets = map[string]collection.TargetsFile{"targets": tr.Targets["targets"]}
		c, err := collection.FromTrusted(tr, r.lookup)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Targets("targets/a"); ok {
			t.Fatal("invalid role held as valid")
		}
		wantErr(t, c.Witness("targets/a"), nil)
		up, err := c.Sign(ctx, r.now.Add(time.Hour), collection.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tg := targetsOf(t, up, "targets/a"); tg.Version != 2 || len(tg.Targets) != 1 {
			t.Errorf("revived role %+v", tg)
		}
	})
	t.Run("adding to an invalid delegation starts it over above its version", func(t *testing.T) {
		// After a lost delegation key was replaced the role's current
		// file no longer verifies; the server holds its version, so the
		// new one must be higher, and the old targets are not kept.
		r := setup(t)
		tr := r.trusted
		tr.Invalid = map[string]collection.TargetsFile{"targets/a": tr.Targets["targets/a"]}
		tr.Targets = map[string]collection.TargetsFile{"targets": tr.Targets["targets"]}
		c, err := collection.FromTrusted(tr, r.lookup)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, c.AddTarget(ctx, "targets/a", "y", meta(t, "y")), nil)
		up, err := c.Sign(ctx, r.now.Add(time.Hour), collection.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tg := targetsOf(t, up, "targets/a")
		if _, old := tg.Targets["x"]; tg.Version != 2 || old || len(tg.Targets) != 1 {
			t.Errorf("restarted role version %d, targets %v; want version 2 with y only", tg.Version, tg.Targets)
		}
	})
	t.Run("a role with fewer keys than its threshold cannot be witnessed", func(t *testing.T) {
		r := setup(t)
		c := r.open()
		applyOK(t, c, must(t)(changelist.NewDelegation(changelist.ActionUpdate, "targets/a", changelist.TUFDelegation{RemoveKeys: []string{k.CanonicalID()}})))
		r.publish(c)
		tr := r.trusted
		tr.Invalid = map[string]collection.TargetsFile{"targets/a": tr.Targets["targets/a"]}
		delete(tr.Targets, "targets/a")
		c, err := collection.FromTrusted(tr, r.lookup)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, c.Witness("targets/a"), collection.ErrInvalidRole)
	})
	t.Run("an unknown role", func(t *testing.T) {
		r := setup(t)
		for _, role := range []string{"targets/b", "targets/*", "root", "snapshot"} {
			wantErr(t, r.open().Witness(role), collection.ErrInvalidRole)
		}
	})
}

// TestNotary03TrustDirectoryPublishes: the trust directory Notary 0.3 left
// (fixtures/notary-compat/notary0.3: legacy keys, 2016 metadata, a staged
// changelist) applies and signs, and the result verifies.
func TestNotary03TrustDirectoryPublishes(t *testing.T) {
	const (
		dir  = "testdata/notary0.3"
		gun  = "docker.com/notary0.3/tst"
		pass = "password" // as upstream's backwards_compatibility_test.go says; not "randompass"
	)
	md := filepath.Join(dir, "tuf", gun, "metadata")
	files := map[string][]byte{}
	for _, role := range []string{"root", "targets", "targets/releases", "snapshot", "timestamp"} {
		files[role] = readFile(t, md, role+".json")
	}
	tr := trustedFromFiles(t, files)
	lookup := newMemKeys()
	err := filepath.WalkDir(filepath.Join(dir, "private"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		lookup.add(loadKeyFile(t, p, pass))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read the staged changes through a FileList, as the client will.
	l, err := changelist.OpenDir(copyTree(t, filepath.Join(dir, "tuf", gun, "changelist")))
	if err != nil {
		t.Fatal(err)
	}
	changes, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	c, err := collection.FromTrusted(tr, lookup)
	if err != nil {
		t.Fatal(err)
	}
	applyOK(t, c, changes...)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	up, err := c.Sign(context.Background(), now, collection.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"snapshot", "targets", "targets/releases"}) {
		t.Fatalf("uploaded %v", got)
	}
	verifyUpload(t, tr, up, now)
	if _, ok := targetsOf(t, up, "targets").Targets["MAINTAINERS"]; !ok {
		t.Error("MAINTAINERS not added to targets")
	}
	if _, ok := targetsOf(t, up, "targets/releases").Targets["Dockerfile"]; !ok {
		t.Error("Dockerfile not added to targets/releases")
	}
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "changelist")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}
