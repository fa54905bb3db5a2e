package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// TestConcurrentPublishers has many clients publish to one collection at
// once, through several servers sharing the store. Writers of targets race
// for the same versions: each publish lands or gets 400 VERSION, and the
// loser retries from the new state. Writers of their own delegations never
// conflict with each other: the server merges them into its snapshot. In
// the end no acknowledged publish is lost, nothing is half applied, and no
// request got a 5xx.
func TestConcurrentPublishers(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			store := b.Open(t)
			first := servertest.Start(t, store, server.Options{})
			servers := []*servertest.Harness{first, servertest.Start(t, store, server.Options{Keys: first.Keys})}
			const gun = "example.com/busy"
			r := first.NewRepo(t, gun, true)
			const nTargets, nDelegations, rounds = 8, 6, 4
			for i := 0; i < nDelegations; i++ {
				if err := r.AddDelegation(fmt.Sprintf("targets/d%d", i), ""); err != nil {
					t.Fatal(err)
				}
			}
			parts, err := r.Publish(tuf.RoleTargets)
			if err != nil {
				t.Fatal(err)
			}
			if err := first.Client(t, gun).Publish(ctx, parts); err != nil {
				t.Fatal(err)
			}

			var (
				wg        sync.WaitGroup
				acked     atomic.Int64
				conflicts atomic.Int64
			)
			// Targets writers: read, add own target, publish; retry on
			// VERSION.
			for i := 0; i < nTargets; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					c := servers[i%len(servers)].Client(t, gun)
					for round := 0; round < rounds; round++ {
						for attempt := 0; ; attempt++ {
							if attempt > 200 {
								t.Errorf("writer %d: no progress", i)
								return
							}
							cur, err := c.GetMeta(ctx, tuf.RoleTargets, 0)
							if err != nil {
								t.Errorf("writer %d: GET targets: %v", i, err)
								return
							}
							tg, _, err := tuf.ParseTargets(cur, tuf.RoleTargets)
							if err != nil {
								t.Errorf("writer %d: %v", i, err)
								return
							}
							fm, _ := tuf.NewFileMeta([]byte(fmt.Sprint(i, round)))
							if tg.Targets == nil {
								tg.Targets = map[string]tuf.FileMeta{}
							}
							tg.Targets[fmt.Sprintf("w%d-r%d", i, round)] = fm
							tg.Version++
							tg.Expires = time.Now().Add(time.Hour)
							_, data, err := tuf.Sign(ctx, tg, tuf.LocalSigner(r.TargetsKey))
							if err != nil {
								t.Error(err)
								return
							}
							err = c.Publish(ctx, []api.Part{{Role: tuf.RoleTargets, Data: data}})
							if err == nil {
								acked.Add(1)
								break
							}
							if !errors.Is(err, api.ErrVersion) {
								t.Errorf("writer %d: publish: %v (want success or 400 VERSION)", i, err)
								return
							}
							conflicts.Add(1)
						}
					}
				}(i)
			}
			// Delegation writers: each owns one delegation, so none of
			// their publishes may fail.
			for i := 0; i < nDelegations; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					role := fmt.Sprintf("targets/d%d", i)
					c := servers[i%len(servers)].Client(t, gun)
					d := &tuf.Targets{Type: tuf.TypeTargets, Targets: map[string]tuf.FileMeta{}}
					for round := 0; round < rounds; round++ {
						fm, _ := tuf.NewFileMeta([]byte(role))
						d.Targets[fmt.Sprintf("%s-r%d", role, round)] = fm
						d.Version++
						d.Expires = time.Now().Add(time.Hour)
						_, data, err := tuf.Sign(ctx, d, tuf.LocalSigner(r.DelegationKeys[role]))
						if err != nil {
							t.Error(err)
							return
						}
						if err := c.Publish(ctx, []api.Part{{Role: role, Data: data}}); err != nil {
							t.Errorf("%s round %d: %v", role, round, err)
							return
						}
						acked.Add(1)
					}
				}(i)
			}
			wg.Wait()
			t.Logf("%d publishes acknowledged, %d conflicts retried", acked.Load(), conflicts.Load())

			// Every acknowledged publish is in the final state, which is
			// consistent from the timestamp down.
			st := checkConsistent(t, first, gun, r)
			for i := 0; i < nTargets; i++ {
				for round := 0; round < rounds; round++ {
					if _, ok := st[tuf.RoleTargets].Targets[fmt.Sprintf("w%d-r%d", i, round)]; !ok {
						t.Errorf("target w%d-r%d of an acknowledged publish is lost", i, round)
					}
				}
			}
			for i := 0; i < nDelegations; i++ {
				role := fmt.Sprintf("targets/d%d", i)
				if d := st[role]; d == nil || d.Version != rounds || len(d.Targets) != rounds {
					t.Errorf("%s: final state %+v, want version %d with %d targets", role, d, rounds, rounds)
				}
			}
			// One timestamp (changefeed row) per acknowledged publish.
			cf, err := store.GetChanges(ctx, "", 10000, gun)
			if err != nil {
				t.Fatal(err)
			}
			if want := int(acked.Load()) + 2; len(cf) != want {
				t.Errorf("changefeed has %d rows, want %d", len(cf), want)
			}
			if n := serverErrors(t, servers...); n != 0 {
				t.Errorf("%d requests answered 5xx", n)
			}
		})
	}
}

// serverErrors counts 5xx answers from the servers' metrics.
func serverErrors(t *testing.T, hs ...*servertest.Harness) int {
	t.Helper()
	n := 0
	for _, h := range hs {
		got := do(t, h, "GET", "/metrics", nil, "")
		for _, line := range splitLines(string(got.body)) {
			if len(line) > 0 && line[0] != '#' && containsAll(line, "notary_server_http_requests_total", `code="5`) {
				n++
			}
		}
	}
	return n
}

// checkConsistent walks gun from its timestamp as a client would and
// checks every hash, signature and expiry. It returns the targets roles.
func checkConsistent(t *testing.T, h *servertest.Harness, gun string, r *servertest.Repo) map[string]*tuf.Targets {
	t.Helper()
	ctx := context.Background()
	c := h.Client(t, gun)
	now := time.Now()
	rootB, err := c.GetMeta(ctx, tuf.RoleRoot, 0)
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := tuf.ParseRoot(rootB)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(role string, rk tuf.RoleKeys, b []byte) {
		t.Helper()
		_, env, err := tuf.ParseRole(role, b)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if err := rk.Verify(env); err != nil {
			t.Errorf("%s: %v", role, err)
		}
	}
	rk := func(role string) tuf.RoleKeys {
		k, err := root.RoleKeys(role)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tsB, err := c.GetMeta(ctx, tuf.RoleTimestamp, 0)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := tuf.ParseTimestamp(tsB)
	if err != nil {
		t.Fatal(err)
	}
	verify(tuf.RoleTimestamp, rk(tuf.RoleTimestamp), tsB)
	snB, err := c.GetMetaByHash(ctx, tuf.RoleSnapshot, ts.Meta["snapshot"].SHA256Hex(), ts.Meta["snapshot"].Length)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Meta["snapshot"].Check(snB); err != nil {
		t.Fatal(err)
	}
	sn, _, err := tuf.ParseSnapshot(snB)
	if err != nil {
		t.Fatal(err)
	}
	verify(tuf.RoleSnapshot, rk(tuf.RoleSnapshot), snB)
	if err := sn.Meta["root"].Check(rootB); err != nil {
		t.Errorf("root: %v", err)
	}
	out := map[string]*tuf.Targets{}
	var walk func(role string, keys tuf.RoleKeys)
	walk = func(role string, keys tuf.RoleKeys) {
		fm, ok := sn.Meta[role]
		if !ok {
			return
		}
		b, err := c.GetMetaByHash(ctx, role, fm.SHA256Hex(), fm.Length)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if err := fm.Check(b); err != nil {
			t.Errorf("%s: %v", role, err)
		}
		verify(role, keys, b)
		tg, _, err := tuf.ParseTargets(b, role)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Expires.Before(now) {
			t.Errorf("%s expired", role)
		}
		out[role] = tg
		for _, d := range tg.Delegations.Roles {
			dr, err := tg.DelegatedRole(d.Name)
			if err != nil {
				t.Fatal(err)
			}
			walk(d.Name, dr.RoleKeys)
		}
	}
	walk(tuf.RoleTargets, rk(tuf.RoleTargets))
	_ = r
	_ = keys.ECDSA
	_ = http.StatusOK
	return out
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		found := false
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
