package update_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// BenchmarkUpdater measures one update against the simulator: cold (empty
// cache: root, timestamp, snapshot, targets and a delegation fetched and
// verified) and warm (nothing changed: only the timestamp fetched, the
// rest verified from the cache), with n targets in targets and n in
// targets/releases.
func BenchmarkUpdater(b *testing.B) {
	for _, n := range []int{10, 1000} {
		sim := tuftest.New(gun)
		sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
		for i := range n {
			sim.AddTarget(tuf.RoleTargets, fmt.Sprintf("t%d", i), []byte{byte(i)})
			sim.AddTarget("targets/releases", fmt.Sprintf("r%d", i), []byte{byte(i)})
		}
		sim.Publish()
		now := sim.Clock.Now()
		ctx := context.Background()
		b.Run(fmt.Sprintf("cold/targets=%d", n), func(b *testing.B) {
			for b.Loop() {
				u := newUpdater(b, sim, update.NewMemoryCache(), nil)
				if _, err := u.Update(ctx, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("warm/targets=%d", n), func(b *testing.B) {
			u := newUpdater(b, sim, update.NewMemoryCache(), nil)
			if _, err := u.Update(ctx, now); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := u.Update(ctx, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeepPaths is the quadratic path-check attack (docs/security.md):
// targets/a (paths team-a/) delegates to targets/a/b with n paths, which
// delegates to targets/a/b/c with n other paths. It measures a warm update
// and a listing; before paths were prepared once (tuf.PathSet), n = 20,000
// cost seconds per update. n is capped by tuf.MaxDelegationPaths.
func BenchmarkDeepPaths(b *testing.B) {
	for _, n := range []int{1000, tuf.MaxDelegationPaths} {
		sim := deepPathsSim(n)
		now := sim.Clock.Now()
		ctx := context.Background()
		u := newUpdater(b, sim, update.NewMemoryCache(), nil)
		repo, err := u.Update(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("update/paths=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := u.Update(ctx, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("list/paths=%d", n), func(b *testing.B) {
			for b.Loop() {
				repo.ListTargets()
			}
		})
	}
}

func deepPathsSim(n int) *tuftest.Simulator {
	sim := tuftest.New(gun)
	bPaths := make([]string, n)
	cPaths := make([]string, n)
	for i := range n {
		bPaths[i] = fmt.Sprintf("team-a/b/%06d/", i)
		cPaths[i] = fmt.Sprintf("team-a/b/%06d/c/%06d", i, i)
	}
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "team-a/")
	sim.AddDelegation("targets/a", "targets/a/b", bPaths...)
	sim.AddDelegation("targets/a/b", "targets/a/b/c", cPaths...)
	sim.AddTarget("targets/a/b/c", cPaths[n-1], []byte("deep"))
	sim.Publish()
	return sim
}
