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
