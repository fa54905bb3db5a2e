package tuftest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

const gun = "docker.io/library/alpine"

func TestNewPublishesVersionOne(t *testing.T) {
	sim := tuftest.New(gun)
	for _, role := range tuf.BaseRoles {
		m, env, err := tuf.ParseRole(role, sim.Bytes(role))
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if v := m.Common().Version; v != 1 {
			t.Errorf("%s version %d, want 1", role, v)
		}
		root, _, err := tuf.ParseRoot(sim.Bytes(tuf.RoleRoot))
		if err != nil {
			t.Fatal(err)
		}
		rk, err := root.RoleKeys(role)
		if err != nil {
			t.Fatal(err)
		}
		if err := rk.Verify(env); err != nil {
			t.Errorf("%s not signed by its root keys: %v", role, err)
		}
		// what MarshalEnvelope writes is what is served (v1 §1.10)
		again, err := tuf.MarshalEnvelope(env)
		if err != nil || !bytes.Equal(again, sim.Bytes(role)) {
			t.Errorf("%s is not in v1's serialised form (%v)", role, err)
		}
	}
	root, _, _ := tuf.ParseRoot(sim.Bytes(tuf.RoleRoot))
	k := root.Keys[root.Roles[tuf.RoleRoot].KeyIDs[0]]
	leaf, err := k.Leaf()
	if err != nil {
		t.Fatalf("root key is not a certificate: %v", err)
	}
	if leaf.Subject.CommonName != gun {
		t.Errorf("root certificate CN %q, want %q", leaf.Subject.CommonName, gun)
	}
}

func TestPublish(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "a", []byte("a"))
	sim.AddDelegation(tuf.RoleTargets, "targets/x", "x/")
	sim.DelegateOnly(tuf.RoleTargets, "targets/y", "")
	sim.Publish()
	want := map[string]int64{tuf.RoleRoot: 1, tuf.RoleTargets: 2, "targets/x": 1, tuf.RoleSnapshot: 2, tuf.RoleTimestamp: 2}
	for role, v := range want {
		if got := sim.Version(role); got != v {
			t.Errorf("%s version %d, want %d", role, got, v)
		}
	}
	snap, _, err := tuf.ParseSnapshot(sim.Bytes(tuf.RoleSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{tuf.RoleRoot, tuf.RoleTargets, "targets/x"} {
		if err := snap.Meta[role].Check(sim.Bytes(role)); err != nil {
			t.Errorf("snapshot meta for %s: %v", role, err)
		}
	}
	if _, ok := snap.Meta["targets/y"]; ok {
		t.Error("snapshot lists the unpublished targets/y")
	}
	ts, _, err := tuf.ParseTimestamp(sim.Bytes(tuf.RoleTimestamp))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Meta[tuf.RoleSnapshot].Check(sim.Bytes(tuf.RoleSnapshot)); err != nil {
		t.Errorf("timestamp meta: %v", err)
	}
}

func TestRemoteContract(t *testing.T) {
	sim := tuftest.New(gun)
	ctx := context.Background()
	snap := sim.Bytes(tuf.RoleSnapshot)
	tests := []struct {
		name  string
		stage func()
		get   func() ([]byte, error)
		want  []byte
		err   error
	}{
		{name: "current", get: func() ([]byte, error) { return sim.GetMeta(ctx, "snapshot", "", 1<<20) }, want: snap},
		{name: "by hash", get: func() ([]byte, error) {
			return sim.GetMeta(ctx, "snapshot", hashOf(sim, tuf.RoleSnapshot), 1<<20)
		}, want: snap},
		{name: "versioned root", get: func() ([]byte, error) { return sim.GetVersionedRoot(ctx, 1, 1<<20) }, want: sim.Bytes(tuf.RoleRoot)},
		{name: "unknown hash", get: func() ([]byte, error) { return sim.GetMeta(ctx, "snapshot", "00", 1<<20) }, err: update.ErrNotFound},
		{name: "size limit", get: func() ([]byte, error) { return sim.GetMeta(ctx, "snapshot", "", 10) }, err: update.ErrTooLarge},
		{name: "offline", stage: func() { sim.SetOffline(true) }, get: func() ([]byte, error) { return sim.GetMeta(ctx, "snapshot", "", 1<<20) }, err: tuftest.ErrUnreachable},
		{name: "endless", stage: func() { sim.EndlessData("timestamp.json") }, get: func() ([]byte, error) { return sim.GetMeta(ctx, "timestamp", "", 1<<10) }, err: update.ErrTooLarge},
		{name: "deleted", stage: func() { sim.Delete() }, get: func() ([]byte, error) { return sim.GetMeta(ctx, "root", "", 1<<20) }, err: update.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim.ClearAttacks()
			if tc.stage != nil {
				tc.stage()
			}
			got, err := tc.get()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %d bytes, %v; want %v", len(got), err, tc.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, %v; want the published file", len(got), err)
			}
		})
	}
}

func hashOf(sim *tuftest.Simulator, role string) string {
	name := sim.CurrentName(role)
	return name[len(role)+1 : len(name)-len(".json")]
}

func TestAttackHelpers(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "a", []byte("a"))
	sim.Publish()
	ctx := context.Background()
	get := func(role string) []byte {
		b, err := sim.GetMeta(ctx, role, "", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	version := func(role string, b []byte) int64 {
		m, _, err := tuf.ParseRole(role, b)
		if err != nil {
			t.Fatal(err)
		}
		return m.Common().Version
	}

	t.Run("fork diverges", func(t *testing.T) {
		fork := sim.Fork()
		fork.AddTarget(tuf.RoleTargets, "b", []byte("b"))
		fork.Publish()
		if sim.Version(tuf.RoleTargets) == fork.Version(tuf.RoleTargets) {
			t.Error("publishing on the fork changed the original")
		}
	})
	t.Run("freeze", func(t *testing.T) {
		before := get(tuf.RoleTimestamp)
		sim.Freeze()
		sim.Publish()
		if !bytes.Equal(get(tuf.RoleTimestamp), before) {
			t.Error("frozen timestamp changed")
		}
		sim.Unfreeze()
		if bytes.Equal(get(tuf.RoleTimestamp), before) {
			t.Error("unfrozen timestamp did not move on")
		}
	})
	t.Run("fast-forward keeps the legitimate counter", func(t *testing.T) {
		legit := sim.Version(tuf.RoleTimestamp)
		sim.FastForward(tuf.RoleTimestamp, 1<<31-1)
		if v := version(tuf.RoleTimestamp, get(tuf.RoleTimestamp)); v != 1<<31-1 {
			t.Errorf("served version %d", v)
		}
		sim.Publish()
		if v := version(tuf.RoleTimestamp, get(tuf.RoleTimestamp)); v != legit+1 {
			t.Errorf("after Publish served version %d, want %d", v, legit+1)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		sim.Rollback(tuf.RoleTargets, 1)
		if v := version(tuf.RoleTargets, get(tuf.RoleTargets)); v != 1 {
			t.Errorf("served targets version %d, want 1", v)
		}
	})
	t.Run("expire", func(t *testing.T) {
		at := sim.Clock.Now().Add(time.Minute)
		sim.Expire(tuf.RoleSnapshot, at)
		sim.Publish()
		m, _, _ := tuf.ParseSnapshot(get(tuf.RoleSnapshot))
		if !m.Expires.Equal(at) {
			t.Errorf("snapshot expires %v, want %v", m.Expires, at)
		}
		sim.Publish()
		m, _, _ = tuf.ParseSnapshot(get(tuf.RoleSnapshot))
		if m.Expires.Equal(at) {
			t.Error("Expire applied to more than the next signature")
		}
	})
	t.Run("rotate root signs with old and new", func(t *testing.T) {
		old, _, _ := tuf.ParseRoot(get(tuf.RoleRoot))
		sim.RotateKeys(tuf.RoleRoot)
		sim.Publish()
		next, env, err := tuf.ParseRoot(get(tuf.RoleRoot))
		if err != nil {
			t.Fatal(err)
		}
		if err := tuf.VerifyRootRotation(old, env, next); err != nil {
			t.Errorf("rotated root does not verify against the old one: %v", err)
		}
	})
	t.Run("mirror holds every file", func(t *testing.T) {
		fsys := sim.MapFS()
		for _, name := range []string{"root.json", "1.root.json", "2.root.json", "timestamp.json", sim.CurrentName(tuf.RoleSnapshot)} {
			if _, ok := fsys[name]; !ok {
				t.Errorf("MapFS has no %s", name)
			}
		}
	})
}
