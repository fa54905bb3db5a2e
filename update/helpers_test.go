package update_test

import (
	"context"
	"errors"
	"testing"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

const gun = "docker.io/library/alpine"

// fixture is a published collection (targets "v1.0" in targets,
// "v2.0" in targets/releases) and a client whose cache is warm.
type fixture struct {
	sim   *tuftest.Simulator
	cache *update.MemoryCache
	u     *update.Updater
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "v1.0", []byte("one"))
	sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	sim.AddTarget("targets/releases", "v2.0", []byte("two"))
	sim.Publish()
	f := &fixture{sim: sim, cache: update.NewMemoryCache()}
	f.u = newUpdater(t, sim, f.cache, nil)
	f.mustUpdate(t)
	sim.ResetFetches()
	return f
}

func newUpdater(t testing.TB, remote update.Remote, cache update.Cache, pin *trustpin.Checker) *update.Updater {
	t.Helper()
	u, err := update.NewUpdater(update.Options{GUN: gun, Remote: remote, Cache: cache, Pin: pin})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) update() (*update.Verified, error) {
	return f.u.Update(context.Background(), f.sim.Clock.Now())
}

func (f *fixture) mustUpdate(t testing.TB) *update.Verified {
	t.Helper()
	repo, err := f.update()
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return repo
}

// asErr fails the test unless err holds a T, and returns it.
func asErr[T error](t testing.TB, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("got error %v (%T), want a %T", err, err, target)
	}
	return target
}

// roleOf returns the Role of the tuf error err holds.
func roleOf(err error) string {
	var (
		low  *tuf.LowVersionError
		exp  *tuf.ExpiredError
		hash *tuf.HashMismatchError
		thr  *tuf.ThresholdError
		typ  *tuf.TypeError
	)
	switch {
	case errors.As(err, &low):
		return low.Role
	case errors.As(err, &exp):
		return exp.Role
	case errors.As(err, &hash):
		return hash.Role
	case errors.As(err, &thr):
		return thr.Role
	case errors.As(err, &typ):
		return typ.Role
	}
	return ""
}

// check is an expectation on an error.
type check func(t *testing.T, err error)

// refusedWith expects err to hold a T about role ("" for any role).
func refusedWith[T error](role string) check {
	return func(t *testing.T, err error) {
		t.Helper()
		asErr[T](t, err)
		if role != "" {
			if got := roleOf(err); got != role {
				t.Errorf("error is about role %q, want %q: %v", got, role, err)
			}
		}
	}
}

func isErr(want error) check {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got error %v, want one wrapping %v", err, want)
		}
	}
}

func all(checks ...check) check {
	return func(t *testing.T, err error) {
		t.Helper()
		for _, c := range checks {
			c(t, err)
		}
	}
}
