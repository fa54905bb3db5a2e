package collection_test

import (
	"testing"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/tuf"
)

// verifyUpload checks an upload the way a server and then a client would:
// a new root against the one before it (v1 §4.5), targets against root,
// delegations against their parent (new or old), the snapshot against
// root with meta matching every role's current bytes, none expired at now.
func verifyUpload(t testing.TB, before collection.Trusted, up map[string][]byte, now time.Time) {
	t.Helper()
	root := before.Root
	if f, ok := up["root"]; ok && string(f) != string(before.RootFile) { // InitialPublish uploads root as is
		nr, env, err := tuf.ParseRoot(f)
		if err != nil {
			t.Fatalf("root: %v", err)
		}
		if err := tuf.VerifyRootRotation(root, env, nr); err != nil {
			t.Errorf("root does not verify against the previous root: %v", err)
		}
		if nr.Version != root.Version+1 {
			t.Errorf("root version %d, want %d", nr.Version, root.Version+1)
		}
		if err := tuf.CheckExpiry("root", nr.Expires, now); err != nil {
			t.Error(err)
		}
		root = nr
	}
	files := map[string][]byte{"root": before.RootFile}
	if f, ok := up["root"]; ok {
		files["root"] = f
	}
	targets := map[string]*tuf.Targets{}
	for name, tf := range before.Targets {
		targets[name] = tf.Targets
		files[name] = tf.File
	}
	// Parse uploaded targets roles, shallowest first.
	var names []string
	for name := range up {
		if tuf.IsTargetsRole(name) {
			names = append(names, name)
		}
	}
	sortByDepth(names)
	for _, name := range names {
		tg, env, err := tuf.ParseTargets(up[name], name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rk tuf.RoleKeys
		if name == "targets" {
			rk, err = root.RoleKeys("targets")
		} else {
			parent := targets[tuf.ParentRole(name)]
			if parent == nil {
				t.Fatalf("%s: no parent metadata", name)
			}
			var d tuf.Delegation
			d, err = parent.DelegatedRole(name)
			rk = d.RoleKeys
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := rk.Verify(env); err != nil {
			t.Errorf("%s does not verify: %v", name, err)
		}
		if err := tuf.CheckExpiry(name, tg.Expires, now); err != nil {
			t.Error(err)
		}
		if old, ok := before.Targets[name]; ok && tg.Version != old.Targets.Version+1 {
			t.Errorf("%s version %d, want %d", name, tg.Version, old.Targets.Version+1)
		}
		targets[name] = tg
		files[name] = up[name]
	}
	if f, ok := up["snapshot"]; ok {
		s, env, err := tuf.ParseSnapshot(f)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		rk, err := root.RoleKeys("snapshot")
		if err != nil {
			t.Fatal(err)
		}
		if err := rk.Verify(env); err != nil {
			t.Errorf("snapshot does not verify: %v", err)
		}
		for name, m := range s.Meta {
			f, ok := files[name]
			if !ok {
				continue // a role that is not held (deleted, or never loaded)
			}
			if err := tuf.CheckFileMeta(name, m, f); err != nil {
				t.Errorf("snapshot meta for %s: %v", name, err)
			}
			if len(m.Hashes) != 2 {
				t.Errorf("snapshot meta for %s has %d hashes, want sha256 and sha512", name, len(m.Hashes))
			}
		}
		for name := range up {
			if _, ok := s.Meta[name]; !ok && name != "snapshot" {
				t.Errorf("snapshot has no meta for uploaded %s", name)
			}
		}
		for _, name := range []string{"root", "targets"} {
			if _, ok := s.Meta[name]; !ok {
				t.Errorf("snapshot has no meta for %s", name)
			}
		}
	}
}

func sortByDepth(names []string) {
	depth := func(s string) int {
		n := 0
		for _, c := range s {
			if c == '/' {
				n++
			}
		}
		return n
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && (depth(names[j]) < depth(names[j-1]) || depth(names[j]) == depth(names[j-1]) && names[j] < names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}
