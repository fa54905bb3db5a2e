package update_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// TestAttacks stages each attack on a collection a client already trusts
// and checks that the next update refuses it with a typed error.
func TestAttacks(t *testing.T) {
	evil := []byte("evil payload")
	tests := []struct {
		name string
		// stage prepares the attack; it returns the remote the client then
		// talks to (nil: the simulator itself).
		stage func(t *testing.T, f *fixture) update.Remote
		want  check
	}{
		{
			name: "rollback/timestamp",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Rollback(tuf.RoleTimestamp, 1)
				return nil
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleTimestamp),
		},
		{
			name: "rollback/snapshot",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Rollback(tuf.RoleSnapshot, 1)
				return nil
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleSnapshot),
		},
		{
			name: "rollback/targets",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Rollback(tuf.RoleTargets, 1)
				return nil
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleTargets),
		},
		{
			name: "rollback/delegation",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget("targets/releases", "v3.0", []byte("three"))
				f.sim.Publish()
				f.mustUpdate(t)
				f.sim.Rollback("targets/releases", 1)
				return nil
			},
			want: refusedWith[*tuf.LowVersionError]("targets/releases"),
		},
		{
			name: "rollback/root",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.BumpRoot()
				f.sim.Publish()
				f.mustUpdate(t)
				f.sim.Rollback(tuf.RoleRoot, 1)
				return nil
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleRoot),
		},
		{
			name: "fork/behind",
			stage: func(t *testing.T, f *fixture) update.Remote {
				fork := f.sim.Fork()
				f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("newer"))
				f.sim.Publish()
				f.mustUpdate(t)
				fork.AddTarget(tuf.RoleTargets, "v1.1", evil)
				return fork // the fork's history is behind what the client saw
			},
			want: refusedWith[*tuf.LowVersionError](tuf.RoleTimestamp),
		},
		{
			name: "freeze",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Freeze()
				f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("fix"))
				f.sim.Publish()
				f.sim.Clock.Advance(tuf.DefaultTimestampTTL + time.Hour)
				return nil
			},
			want: refusedWith[*tuf.ExpiredError](tuf.RoleTimestamp),
		},
		{
			name: "mix-and-match/snapshot",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("new"))
				f.sim.Publish()
				f.sim.MixAndMatch(tuf.RoleSnapshot, 1)
				return nil
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleSnapshot),
		},
		{
			name: "mix-and-match/targets",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("new"))
				f.sim.Publish()
				f.sim.MixAndMatch(tuf.RoleTargets, 1)
				return nil
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleTargets),
		},
		{
			name: "mix-and-match/role-swap",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Override("timestamp.json", f.sim.Bytes(tuf.RoleSnapshot))
				return nil
			},
			want: refusedWith[*tuf.TypeError](tuf.RoleTimestamp),
		},
		{
			name: "arbitrary-target/targets",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.SubstituteTarget(tuf.RoleTargets, "v1.0", evil)
				return nil
			},
			want: refusedWith[*tuf.ThresholdError](tuf.RoleTargets),
		},
		{
			name: "endless-data/timestamp",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.EndlessData("timestamp.json")
				return nil
			},
			want: func(t *testing.T, err error) {
				if e := asErr[*update.TooLargeError](t, err); e.Limit != tuf.MaxTimestampSize {
					t.Errorf("limit = %d, want %d", e.Limit, tuf.MaxTimestampSize)
				}
			},
		},
		{
			name: "endless-data/snapshot",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Publish()
				f.sim.EndlessData(f.sim.CurrentName(tuf.RoleSnapshot))
				return nil
			},
			want: func(t *testing.T, err error) {
				// capped at the length the timestamp lists, not a fixed size
				if e := asErr[*update.TooLargeError](t, err); e.Limit >= tuf.MaxTimestampSize || e.Limit <= 0 {
					t.Errorf("limit = %d, want the snapshot's length", e.Limit)
				}
			},
		},
		{
			name: "endless-data/delegation",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget("targets/releases", "v3.0", []byte("three"))
				f.sim.Publish()
				f.sim.EndlessData(f.sim.CurrentName("targets/releases"))
				return nil
			},
			want: isErr(update.ErrTooLarge),
		},
		{
			name: "endless-data/remote-ignores-limit",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.IgnoreSizeLimits(true)
				f.sim.EndlessData("timestamp.json")
				return nil
			},
			want: refusedWith[*update.TooLargeError](""),
		},
		{
			name: "fast-forward/without-key",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Forge(tuf.RoleTimestamp, func(m tuf.Metadata) { m.(*tuf.Timestamp).Version = math.MaxInt64 }, tuftest.NewKey())
				return nil
			},
			want: refusedWith[*tuf.ThresholdError](tuf.RoleTimestamp),
		},
		{
			name: "malicious-mirror/timestamp",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Tamper(tuf.RoleTimestamp)
				return nil
			},
			want: refusedWith[*tuf.ThresholdError](tuf.RoleTimestamp),
		},
		{
			name: "malicious-mirror/snapshot",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.Publish()
				f.sim.Tamper(tuf.RoleSnapshot)
				return nil
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleSnapshot),
		},
		{
			name: "malicious-mirror/targets",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("new"))
				f.sim.Publish()
				f.sim.Tamper(tuf.RoleTargets)
				return nil
			},
			want: refusedWith[*tuf.HashMismatchError](tuf.RoleTargets),
		},
		{
			name: "malicious-mirror/delegation",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.AddTarget("targets/releases", "v3.0", []byte("three"))
				f.sim.Publish()
				f.sim.Tamper("targets/releases")
				return nil
			},
			want: refusedWith[*tuf.HashMismatchError]("targets/releases"),
		},
		{
			name: "key-compromise/root-not-signed-by-trusted-keys",
			stage: func(t *testing.T, f *fixture) update.Remote {
				thief := f.sim.NewRootKey()
				f.sim.Forge(tuf.RoleRoot, func(m tuf.Metadata) {
					r := m.(*tuf.Root)
					r.Keys[thief.ID()] = thief.Public()
					r.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{thief.ID()}, Threshold: 1}
				}, thief)
				return nil
			},
			want: refusedWith[*tuf.RootRotationError](""),
		},
		{
			name: "root-threshold/old-threshold-unmet",
			stage: func(t *testing.T, f *fixture) update.Remote {
				f.sim.SetThreshold(tuf.RoleRoot, 2)
				f.sim.Publish()
				f.mustUpdate(t)
				f.sim.Forge(tuf.RoleRoot, nil, f.sim.Keys(tuf.RoleRoot)[0])
				return nil
			},
			want: refusedWith[*tuf.RootRotationError](""),
		},
		{
			name: "root-threshold/new-threshold-unmet",
			stage: func(t *testing.T, f *fixture) update.Remote {
				next := f.sim.NewRootKey()
				f.sim.Forge(tuf.RoleRoot, func(m tuf.Metadata) {
					r := m.(*tuf.Root)
					r.Keys[next.ID()] = next.Public()
					r.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{next.ID()}, Threshold: 1}
				}, f.sim.Keys(tuf.RoleRoot)...) // signed by the old keys only
				return nil
			},
			want: func(t *testing.T, err error) {
				e := asErr[*tuf.ThresholdError](t, err)
				if e.Role != tuf.RoleRoot {
					t.Errorf("threshold error for %q, want root", e.Role)
				}
				if errors.Is(err, tuf.ErrRootRotation) {
					t.Errorf("the old keys did sign; want the new root's own threshold to fail, got %v", err)
				}
			},
		},
		{
			name: "root-certificate/wrong-gun",
			stage: func(t *testing.T, f *fixture) update.Remote {
				other := tuftest.New("docker.io/library/evil")
				k := other.Keys(tuf.RoleRoot)[0]
				f.sim.Forge(tuf.RoleRoot, func(m tuf.Metadata) {
					r := m.(*tuf.Root)
					r.Keys[k.ID()] = k.Public()
					r.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
				}, append(f.sim.Keys(tuf.RoleRoot), k)...)
				return nil
			},
			want: all(refusedWith[*trustpin.ValidationError](""), isErr(trustpin.ErrNoValidLeaf)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			remote := tc.stage(t, f)
			u := f.u
			if remote != nil {
				u = newUpdater(t, remote, f.cache, nil)
			}
			before := f.cache.Roles()
			repo, err := u.Update(context.Background(), f.sim.Clock.Now())
			if err == nil {
				t.Fatalf("Update accepted the attack; targets %v", repo.ListTargets())
			}
			t.Logf("refused: %v", err)
			tc.want(t, err)
			if got := f.cache.Roles(); len(got) != len(before) {
				t.Errorf("cache roles %v, before the attack %v", got, before)
			}
		})
	}
}

// TestAttackFirstRootWrongGUN: a first root (trust on first use) whose
// certificate names another GUN is refused by the certificate rules.
func TestAttackFirstRootWrongGUN(t *testing.T) {
	other := tuftest.New("docker.io/library/evil")
	u := newUpdater(t, other, update.NewMemoryCache(), nil)
	_, err := u.Update(context.Background(), other.Clock.Now())
	if err == nil {
		t.Fatal("accepted a root whose certificate names another GUN")
	}
	var rerr *update.RoleError
	if !errors.As(err, &rerr) || rerr.Role != tuf.RoleRoot {
		t.Errorf("got %v, want a RoleError about root", err)
	}
	if !errors.Is(err, trustpin.ErrNoValidLeaf) {
		t.Errorf("got %v, want the no-valid-leaf certificate rule", err)
	}
}

// TestArbitraryTargetInDelegation: a delegation signed by a key its parent
// does not list is skipped (v1 §4.4 step 4), so its targets are not
// trusted, and the skip is recorded.
func TestArbitraryTargetInDelegation(t *testing.T) {
	f := newFixture(t)
	f.sim.SubstituteTarget("targets/releases", "v2.0", []byte("evil"))
	repo := f.mustUpdate(t)
	if tg, err := repo.Lookup("v2.0"); err == nil {
		t.Fatalf("Lookup(v2.0) = %+v from the forged delegation", tg)
	} else {
		asErr[*update.TargetNotFoundError](t, err)
	}
	inv := repo.Invalid()["targets/releases"]
	refusedWith[*tuf.ThresholdError]("targets/releases")(t, inv)
	if len(repo.Warnings) == 0 {
		t.Error("no warning for the skipped delegation")
	}
	if _, err := repo.Lookup("v1.0"); err != nil {
		t.Errorf("Lookup(v1.0) in targets: %v", err)
	}
}

// TestKeyCompromiseRecovery: a thief of a role's key pushes a huge
// version (fast-forward); the client cannot tell and accepts it, so the
// legitimate versions that follow are refused as rollbacks, until the key
// is rotated in root: then the cached copy signed by the old key is
// discarded (TUF 5.3.11) and the client is no longer locked out.
func TestKeyCompromiseRecovery(t *testing.T) {
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets, "targets/releases"} {
		for _, version := range []int64{math.MaxInt32, math.MaxInt64} {
			t.Run(role+"/"+itoa(version), func(t *testing.T) {
				f := newFixture(t)
				f.sim.FastForward(role, version)
				repo := f.mustUpdate(t) // signed by the stolen key: accepted
				if got := version_(repo, role); got != version {
					t.Fatalf("after fast-forward %s version = %d, want %d", role, got, version)
				}

				republish(f.sim, role)
				_, err := f.update()
				refusedWith[*tuf.LowVersionError](role)(t, err)

				f.sim.RotateKeys(role)
				f.sim.Publish()
				repo = f.mustUpdate(t)
				if got, want := version_(repo, role), f.sim.Version(role); got != want {
					t.Errorf("after rotation %s version = %d, want %d", role, got, want)
				}
				// and it stays unlocked
				f.sim.AddTarget(tuf.RoleTargets, "v9", []byte("nine"))
				f.sim.Publish()
				repo = f.mustUpdate(t)
				if _, err := repo.Lookup("v9"); err != nil {
					t.Errorf("Lookup(v9) after recovery: %v", err)
				}
			})
		}
	}
}

// republish makes the legitimate server sign role again (after a
// fast-forward by a thief).
func republish(sim *tuftest.Simulator, role string) {
	if tuf.IsTargetsRole(role) {
		sim.AddTarget(role, "legit", []byte("legit"))
	}
	sim.Publish()
}

func version_(repo *update.Verified, role string) int64 {
	switch role {
	case tuf.RoleTimestamp:
		return repo.Timestamp.Version
	case tuf.RoleSnapshot:
		return repo.Snapshot.Version
	}
	if t := repo.Targets(role); t != nil {
		return t.Version
	}
	return -1
}

func itoa(v int64) string {
	switch v {
	case math.MaxInt32:
		return "2^31-1"
	case math.MaxInt64:
		return "2^63-1"
	}
	return "v"
}

// TestRootKeyCompromiseRecovery: the root key holder rotates root keys
// after a compromise; a client follows the rotation and then refuses a
// root signed by the stolen key alone.
func TestRootKeyCompromiseRecovery(t *testing.T) {
	f := newFixture(t)
	stolen := f.sim.Keys(tuf.RoleRoot)[0]
	f.sim.RotateKeys(tuf.RoleRoot)
	f.sim.Publish()
	repo := f.mustUpdate(t)
	if repo.Root.Version != 2 {
		t.Fatalf("root version %d, want 2", repo.Root.Version)
	}
	thief := f.sim.NewRootKey()
	f.sim.Forge(tuf.RoleRoot, func(m tuf.Metadata) {
		r := m.(*tuf.Root)
		r.Keys[thief.ID()] = thief.Public()
		r.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{thief.ID()}, Threshold: 1}
	}, stolen, thief)
	_, err := f.update()
	refusedWith[*tuf.RootRotationError]("")(t, err)
}
