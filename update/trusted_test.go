package update_test

import (
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// files is one published state of a simulator, by role.
type files map[string][]byte

func published(sim *tuftest.Simulator, roles ...string) files {
	out := files{}
	for _, r := range append([]string{tuf.RoleRoot, tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets}, roles...) {
		out[r] = sim.Bytes(r)
	}
	return out
}

func newSet(t testing.TB, sim *tuftest.Simulator, root []byte) *update.TrustedSet {
	t.Helper()
	s, err := update.NewTrustedSet(root, sim.Clock.Now(), nil, sim.GUN())
	if err != nil {
		t.Fatalf("NewTrustedSet: %v", err)
	}
	return s
}

func TestTrustedSetOrder(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "")
	sim.AddDelegation("targets/a", "targets/a/b", "")
	sim.Publish()
	fs := published(sim, "targets/a", "targets/a/b")

	type step func(s *update.TrustedSet) error
	ts := func(s *update.TrustedSet) error { _, err := s.UpdateTimestamp(fs[tuf.RoleTimestamp]); return err }
	sn := func(s *update.TrustedSet) error { _, err := s.UpdateSnapshot(fs[tuf.RoleSnapshot]); return err }
	tg := func(s *update.TrustedSet) error { _, err := s.UpdateTargets(fs[tuf.RoleTargets]); return err }
	da := func(s *update.TrustedSet) error {
		_, err := s.UpdateDelegation("targets/a", tuf.RoleTargets, fs["targets/a"])
		return err
	}
	dab := func(s *update.TrustedSet) error {
		_, err := s.UpdateDelegation("targets/a/b", "targets/a", fs["targets/a/b"])
		return err
	}
	rt := func(s *update.TrustedSet) error { _, err := s.UpdateRoot(fs[tuf.RoleRoot]); return err }
	floor := func(role string) step {
		return func(s *update.TrustedSet) error { _, err := s.SetCached(role, fs[role]); return err }
	}

	tests := []struct {
		name  string
		ok    []step // applied first, must succeed
		wrong step   // must be refused as out of order
	}{
		{name: "snapshot before timestamp", wrong: sn},
		{name: "targets before snapshot", ok: []step{ts}, wrong: tg},
		{name: "delegation before snapshot", ok: []step{ts}, wrong: da},
		{name: "delegation before its parent", ok: []step{ts, sn}, wrong: da},
		{name: "nested delegation before its parent", ok: []step{ts, sn, tg}, wrong: dab},
		{name: "root after timestamp", ok: []step{ts}, wrong: rt},
		{name: "timestamp after snapshot", ok: []step{ts, sn}, wrong: ts},
		{name: "snapshot twice", ok: []step{ts, sn}, wrong: sn},
		{name: "targets twice", ok: []step{ts, sn, tg}, wrong: tg},
		{name: "delegation twice", ok: []step{ts, sn, tg, da}, wrong: da},
		{name: "floor for root", wrong: floor(tuf.RoleRoot)},
		{name: "floor after load", ok: []step{ts}, wrong: floor(tuf.RoleTimestamp)},
		{name: "delegation floor before its parent", ok: []step{ts, sn}, wrong: floor("targets/a")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSet(t, sim, fs[tuf.RoleRoot])
			for i, st := range tc.ok {
				if err := st(s); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			err := tc.wrong(s)
			var oe *update.OrderError
			if !errors.As(err, &oe) || !errors.Is(err, update.ErrOutOfOrder) {
				t.Fatalf("got %v, want an *OrderError", err)
			}
		})
	}

	t.Run("in order", func(t *testing.T) {
		s := newSet(t, sim, fs[tuf.RoleRoot])
		for i, st := range []step{floor(tuf.RoleTimestamp), floor(tuf.RoleSnapshot), floor(tuf.RoleTargets), rt, ts, ts, sn, tg, floor("targets/a"), da, dab} {
			if err := st(s); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if got, want := s.Loaded(), []string{"targets", "targets/a", "targets/a/b"}; !equal(got, want) {
			t.Errorf("Loaded() = %v, want %v", got, want)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTrustedSetRules(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "a", []byte("a"))
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "")
	sim.Publish() // targets v2, snapshot v2, timestamp v2
	v2 := published(sim, "targets/a")
	sim.AddTarget(tuf.RoleTargets, "b", []byte("b"))
	sim.Publish() // v3
	v3 := published(sim, "targets/a")
	other := tuftest.New(gun) // same GUN, other keys

	tests := []struct {
		name string
		run  func(t *testing.T) error
		want check
	}{
		{
			name: "root/garbage",
			run: func(t *testing.T) error {
				_, err := update.NewTrustedSet([]byte("{"), sim.Clock.Now(), nil, gun)
				return err
			},
			want: isErr(tuf.ErrMalformed),
		},
		{
			name: "root/wrong-gun",
			run: func(t *testing.T) error {
				_, err := update.NewTrustedSet(v2[tuf.RoleRoot], sim.Clock.Now(), nil, "docker.io/other")
				return err
			},
			want: isErr(trustpin.ErrNoValidLeaf),
		},
		{
			name: "root/pinned-cert-mismatch",
			run: func(t *testing.T) error {
				pin, err := trustpin.Config{Certs: map[string][]string{gun: other.RootCertIDs()}}.Checker(gun)
				if err != nil {
					t.Fatal(err)
				}
				_, err = update.NewTrustedSet(v2[tuf.RoleRoot], sim.Clock.Now(), pin, gun)
				return err
			},
			want: isErr(trustpin.ErrNotPinned),
		},
		{
			name: "root/from-cache-ignores-pin",
			run: func(t *testing.T) error {
				pin, err := trustpin.Config{Certs: map[string][]string{gun: other.RootCertIDs()}}.Checker(gun)
				if err != nil {
					t.Fatal(err)
				}
				_, err = update.NewTrustedSetFromCache(v2[tuf.RoleRoot], sim.Clock.Now(), pin, gun)
				return err
			},
		},
		{
			name: "root/other-keys",
			run: func(t *testing.T) error {
				_, err := newSet(t, sim, v2[tuf.RoleRoot]).UpdateRoot(other.Bytes(tuf.RoleRoot))
				return err
			},
			want: refusedWith[*tuf.RootRotationError](""),
		},
		{
			name: "timestamp/root-expired",
			run: func(t *testing.T) error {
				sim2 := tuftest.New(gun)
				sim2.Expire(tuf.RoleRoot, sim2.Clock.Now().Add(time.Hour))
				sim2.Publish()
				s, err := update.NewTrustedSet(sim2.Bytes(tuf.RoleRoot), sim2.Clock.Now().Add(2*time.Hour), nil, gun)
				if err != nil {
					return err
				}
				_, err = s.UpdateTimestamp(sim2.Bytes(tuf.RoleTimestamp))
				return err
			},
			want: refusedWith[*tuf.ExpiredError](tuf.RoleRoot),
		},
		{
			name: "timestamp/expired",
			run: func(t *testing.T) error {
				s, err := update.NewTrustedSet(v2[tuf.RoleRoot], sim.Clock.Now().Add(tuf.DefaultTimestampTTL+time.Second), nil, gun)
				if err != nil {
					return err
				}
				_, err = s.UpdateTimestamp(v2[tuf.RoleTimestamp])
				return err
			},
			want: refusedWith[*tuf.ExpiredError](tuf.RoleTimestamp),
		},
		{
			name: "timestamp/expires-now-is-valid",
			run: func(t *testing.T) error {
				ts, _, err := tuf.ParseTimestamp(v2[tuf.RoleTimestamp])
				if err != nil {
					t.Fatal(err)
				}
				s, err := update.NewTrustedSet(v2[tuf.RoleRoot], ts.Expires, nil, gun)
				if err != nil {
					return err
				}
				_, err = s.UpdateTimestamp(v2[tuf.RoleTimestamp])
				return err
			},
		},
		{
			name: "timestamp/other-keys",
			run: func(t *testing.T) error {
				_, err := newSet(t, sim, v2[tuf.RoleRoot]).UpdateTimestamp(other.Bytes(tuf.RoleTimestamp))
				return err
			},
			want: refusedWith[*tuf.ThresholdError](tuf.RoleTimestamp),
		},
		{
			name: "timestamp/below-floor",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				if _, err := s.SetCached(tuf.RoleTimestamp, v3[tuf.RoleTimestamp]); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateTimestamp(v2[tuf.RoleTimestamp])
				return err
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleTimestamp),
		},
		{
			name: "timestamp/equal-to-floor",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				if _, err := s.SetCached(tuf.RoleTimestamp, v3[tuf.RoleTimestamp]); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateTimestamp(v3[tuf.RoleTimestamp])
				return err
			},
		},
		{
			name: "timestamp/replaced-by-lower",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				if _, err := s.UpdateTimestamp(v3[tuf.RoleTimestamp]); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateTimestamp(v2[tuf.RoleTimestamp])
				return err
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleTimestamp),
		},
		{
			name: "floor/other-keys-ignored",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				_, err := s.SetCached(tuf.RoleSnapshot, other.Bytes(tuf.RoleSnapshot))
				if _, ok := s.Floor(tuf.RoleSnapshot); ok {
					t.Error("a copy signed by other keys set a floor")
				}
				return err
			},
			want: refusedWith[*tuf.ThresholdError](tuf.RoleSnapshot),
		},
		{
			name: "snapshot/other-version",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				if _, err := s.UpdateTimestamp(v3[tuf.RoleTimestamp]); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateSnapshot(v2[tuf.RoleSnapshot])
				return err
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleSnapshot),
		},
		{
			name: "snapshot/root-rotated",
			run: func(t *testing.T) error {
				sim2 := tuftest.New(gun)
				r1 := sim2.Bytes(tuf.RoleRoot)
				sim2.RotateKeys(tuf.RoleRoot)
				sim2.Publish()
				s := newSet(t, sim2, r1)
				if _, err := s.UpdateTimestamp(sim2.Bytes(tuf.RoleTimestamp)); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateSnapshot(sim2.Bytes(tuf.RoleSnapshot))
				return err
			},
			want: all(refusedWith[*update.RootMismatchError](""), refusedWith[*tuf.HashMismatchError](tuf.RoleRoot)),
		},
		{
			name: "targets/other-version",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				mustLoad(t, s, v3)
				_, err := s.UpdateTargets(v2[tuf.RoleTargets])
				return err
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleTargets),
		},
		{
			name: "delegation/not-delegated",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				mustLoad(t, s, v3)
				if _, err := s.UpdateTargets(v3[tuf.RoleTargets]); err != nil {
					t.Fatal(err)
				}
				_, err := s.UpdateDelegation("targets/b", tuf.RoleTargets, v3["targets/a"])
				return err
			},
			want: isErr(tuf.ErrNoSuchRole),
		},
		{
			name: "delegation/not-a-child",
			run: func(t *testing.T) error {
				s := newSet(t, sim, v2[tuf.RoleRoot])
				mustLoad(t, s, v3)
				_, err := s.UpdateDelegation("targets/a/b", tuf.RoleTargets, v3["targets/a"])
				return err
			},
			want: isErr(tuf.ErrNoSuchRole),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			tc.want(t, err)
		})
	}
}

func mustLoad(t *testing.T, s *update.TrustedSet, fs files) {
	t.Helper()
	if _, err := s.UpdateTimestamp(fs[tuf.RoleTimestamp]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateSnapshot(fs[tuf.RoleSnapshot]); err != nil {
		t.Fatal(err)
	}
}

// TestTrustedSetFloorRotation: TUF 5.3.11. A floor survives a root update
// that keeps the role's keys and is dropped by one that rotates them.
func TestTrustedSetFloorRotation(t *testing.T) {
	sim := tuftest.New(gun)
	r1 := sim.Bytes(tuf.RoleRoot)
	ts1 := sim.Bytes(tuf.RoleTimestamp)
	sn1 := sim.Bytes(tuf.RoleSnapshot)
	sim.BumpRoot()
	sim.Publish()
	r2 := sim.Bytes(tuf.RoleRoot)
	sim.RotateKeys(tuf.RoleTimestamp)
	sim.Publish()
	r3 := sim.Bytes(tuf.RoleRoot)

	s := newSet(t, sim, r1)
	for role, b := range map[string][]byte{tuf.RoleTimestamp: ts1, tuf.RoleSnapshot: sn1} {
		if _, err := s.SetCached(role, b); err != nil {
			t.Fatalf("SetCached(%s): %v", role, err)
		}
	}
	if _, err := s.UpdateRoot(r2); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot} {
		if _, ok := s.Floor(role); !ok {
			t.Errorf("root v2 (same keys) dropped the %s floor", role)
		}
	}
	if _, err := s.UpdateRoot(r3); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Floor(tuf.RoleTimestamp); ok {
		t.Errorf("root v3 rotated the timestamp key but the floor (%d) stayed", v)
	}
	if _, ok := s.Floor(tuf.RoleSnapshot); !ok {
		t.Error("root v3 kept the snapshot key but dropped its floor")
	}
}
