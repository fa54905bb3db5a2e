package update_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

func ExampleUpdater() {
	// A collection on a (simulated) notary server.
	sim := tuftest.New("docker.io/library/alpine")
	sim.AddTarget(tuf.RoleTargets, "3.20", []byte("manifest 3.20"))
	sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	sim.AddTarget("targets/releases", "3.21", []byte("manifest 3.21"))
	sim.Publish()

	// A client: a Remote (the api package's HTTP client, or
	// update.DirRemote(os.DirFS(mirror)) for a static mirror) and a Cache
	// (the trust directory, or memory).
	u, err := update.NewUpdater(update.Options{
		GUN:    "docker.io/library/alpine",
		Remote: sim,
		Cache:  update.NewMemoryCache(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	now := sim.Clock.Now() // the caller's clock; update never reads one
	repo, err := u.Update(ctx, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range repo.ListTargets() {
		fmt.Printf("%s %d bytes, signed by %s\n", t.Name, t.Meta.Length, t.Role)
	}
	if t, err := repo.Lookup("3.21"); err == nil {
		fmt.Println("3.21 resolves through", t.Role)
	}
	if _, err := repo.Lookup("edge"); errors.Is(err, update.ErrTargetNotFound) {
		fmt.Println("edge:", err)
	}

	// The server goes away: the still-valid cached timestamp is used.
	sim.SetOffline(true)
	repo, err = u.Update(ctx, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	if repo.Offline != nil {
		fmt.Println("server unreachable, using cached data")
	}
	// Output:
	// 3.20 13 bytes, signed by targets
	// 3.21 13 bytes, signed by targets/releases
	// 3.21 resolves through targets/releases
	// edge: update: no trust data for target "edge" in [targets]
	// server unreachable, using cached data
}
