package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// readClock is a settable clock for the read cache.
type readClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *readClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *readClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func tsVersion(t testing.TB, h *servertest.Harness, gun string) int64 {
	t.Helper()
	r := do(t, h, "GET", api.MetaPath(gun, tuf.RoleTimestamp), nil, "")
	if r.status != 200 {
		t.Fatalf("GET timestamp: %d %s", r.status, r.body)
	}
	var env struct {
		Signed struct{ Version int64 } `json:"signed"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	return env.Signed.Version
}

// TestReadCacheAcrossServers: two servers share one database. A write
// through one is seen at once by its own reads and by the other's within
// ReadCacheTTL (never later); the other's writers never validate against
// its cached view.
func TestReadCacheAcrossServers(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			store := b.Open(t)
			const ttl = 100 * time.Millisecond
			a := servertest.Start(t, store, server.Options{ReadCacheTTL: ttl})
			bsrv := servertest.Start(t, store, server.Options{ReadCacheTTL: ttl, Keys: a.Keys})
			clock := &readClock{t: time.Unix(1_800_000_000, 0)}
			server.SetReadCacheClock(a.Server, clock.now)
			server.SetReadCacheClock(bsrv.Server, clock.now)
			const gun = "example.com/shared"
			repo := a.NewRepo(t, gun, true)

			v1 := tsVersion(t, bsrv, gun) // b caches it
			if got := tsVersion(t, a, gun); got != v1 {
				t.Fatalf("servers disagree: %d, %d", got, v1)
			}
			publish := func(h *servertest.Harness, name string) {
				t.Helper()
				if err := repo.AddTarget(tuf.RoleTargets, name, []byte(name)); err != nil {
					t.Fatal(err)
				}
				parts, err := repo.Publish(tuf.RoleTargets)
				if err != nil {
					t.Fatal(err)
				}
				if err := h.Client(t, gun).Publish(context.Background(), parts); err != nil {
					t.Fatalf("publish through %s: %v", name, err)
				}
			}
			publish(a, "through-a")
			if got := tsVersion(t, a, gun); got <= v1 {
				t.Errorf("a reads timestamp %d after its own write, want > %d", got, v1)
			}
			v2 := tsVersion(t, a, gun)
			// b may still answer from its cache, within the bound...
			if got := tsVersion(t, bsrv, gun); got != v1 && got != v2 {
				t.Errorf("b reads %d, want %d (cached) or %d", got, v1, v2)
			}
			// ...but never beyond it.
			clock.add(ttl)
			if got := tsVersion(t, bsrv, gun); got != v2 {
				t.Errorf("b reads %d once the bound has passed, want %d", got, v2)
			}

			// b caches v2; a publishes again; b's writer must validate
			// against the database, not its cache, so a publish through
			// b right away succeeds.
			publish(a, "through-a-again")
			publish(bsrv, "through-b")
			v4 := tsVersion(t, bsrv, gun)
			if got := tsVersion(t, a, gun); v4 <= v2 || (got != v4 && got < v4) {
				t.Errorf("after publishes through a then b: b reads %d, a reads %d", v4, got)
			}
			clock.add(ttl)
			if got := tsVersion(t, a, gun); got != v4 {
				t.Errorf("a reads %d once the bound has passed, want %d", got, v4)
			}

			// A delete through a is seen by b within the bound.
			do(t, a, "DELETE", "/v2/"+gun+"/_trust/tuf/", nil, "")
			if r := do(t, a, "GET", api.MetaPath(gun, tuf.RoleTimestamp), nil, ""); r.status != 404 {
				t.Errorf("a after its delete: %d", r.status)
			}
			clock.add(ttl)
			if r := do(t, bsrv, "GET", api.MetaPath(gun, tuf.RoleTimestamp), nil, ""); r.status != 404 {
				t.Errorf("b after a's delete and the bound: %d", r.status)
			}
		})
	}
}

// TestReadCacheHits: repeated reads within the bound query the database
// once; ReadCacheTTL < 0 turns the cache off.
func TestReadCacheHits(t *testing.T) {
	for _, tc := range []struct {
		ttl        time.Duration
		wantMisses int64
	}{{time.Hour, 2}, {-1, 0}} {
		t.Run(fmt.Sprint(tc.ttl), func(t *testing.T) {
			h := servertest.Start(t, servertest.OpenSQLite(t), server.Options{ReadCacheTTL: tc.ttl})
			clock := &readClock{t: time.Unix(1_800_000_000, 0)}
			if tc.ttl > 0 {
				server.SetReadCacheClock(h.Server, clock.now)
			}
			const gun = "example.com/hits"
			h.NewRepo(t, gun, true)
			before := server.ReadCacheMisses(h.Server)
			for range 10 {
				tsVersion(t, h, gun)
				do(t, h, "GET", api.MetaPath(gun, tuf.RoleTargets), nil, "")
			}
			// Once the bound has passed, one read refreshes the entry
			// and the next ones use it again.
			if tc.ttl > 0 {
				clock.add(tc.ttl)
				for range 5 {
					tsVersion(t, h, gun)
				}
			}
			if got := server.ReadCacheMisses(h.Server) - before; tc.ttl > 0 && got != tc.wantMisses {
				t.Errorf("20 reads: %d database reads, want %d", got, tc.wantMisses)
			} else if tc.ttl < 0 && got != 0 {
				t.Errorf("cache off: %d cacheable reads counted", got)
			}
		})
	}
}
