package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// A statusCounter is an http.RoundTripper that counts 5xx answers.
type statusCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	bad  []string // "GET /path: 500"
}

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil && resp.StatusCode >= 500 {
		s.mu.Lock()
		s.bad = append(s.bad, fmt.Sprintf("%s %s: %d", r.Method, r.URL.Path, resp.StatusCode))
		s.mu.Unlock()
	}
	return resp, err
}

func (s *statusCounter) errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bad)
}

// A pgServer is one of our servers, in process, with its own connection
// pools on a shared PostgreSQL database: as separate as two processes
// (nothing in memory is shared), keys in the shared key table.
type pgServer struct {
	url   string
	store *sqlstore.Store
}

func startPGServer(t testing.TB, dsn string, opts drivers.Options, readCacheTTL time.Duration) *pgServer {
	t.Helper()
	ctx := context.Background()
	st, err := drivers.OpenWithOptions(ctx, "postgres", dsn, opts)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	kpool, d, err := drivers.OpenDB(ctx, "postgres", dsn, opts)
	must(t, err)
	t.Cleanup(func() { kpool.Close() })
	kdb, err := keydb.OpenSQL(ctx, kpool, keydb.Dialect(d), keydb.Options{DefaultAlias: "shared", Passphrases: keydb.ConstantPassphrase("server key passphrase")})
	must(t, err)
	srv, err := server.New(server.Options{Store: st, Keys: keyservice.NewLocal(kdb), Logger: slog.New(slog.DiscardHandler), ReadCacheTTL: readCacheTTL})
	must(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &pgServer{url: hs.URL, store: st}
}

// TestTwoServersOnePostgres runs two of our servers on one PostgreSQL
// database and has publishers write through both at once: several writers
// per collection, each publishing through one server and reading through
// the other, while a consumer pages the changefeed through both. Writers of
// one collection race for the same targets version: each publish lands or
// gets 400 VERSION, and the loser re-reads and retries. It checks:
//   - no lost update: every acknowledged target is in the final metadata,
//     as read (and verified) through either server;
//   - read-your-writes: right after its publish is acknowledged, a writer
//     sees its target through the other server, with a client cache that
//     also refuses any rollback between the two servers;
//   - a complete changefeed: every stored timestamp has exactly one row,
//     with its hash, ids ascending, and a reader paging by id while writes
//     commit saw every row;
//   - no 5xx answer at any time.
//
// It runs with the servers' read cache off (every read is immediately
// consistent across servers) and with the default ReadCacheTTL, where a
// read through the other server is only promised to see a write once
// ReadCacheTTL has passed since it was acknowledged: that read is made
// then, and must see it.
func TestTwoServersOnePostgres(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"read cache off", -1}, {"read cache default", server.DefaultReadCacheTTL}} {
		t.Run(tc.name, func(t *testing.T) { runTwoServersOnePostgres(t, sqltest.PostgresDSN(t), tc.ttl) })
	}
}

func runTwoServersOnePostgres(t *testing.T, dsn string, ttl time.Duration) {
	ctx := context.Background()
	servers := []*pgServer{startPGServer(t, dsn, drivers.Options{}, ttl), startPGServer(t, dsn, drivers.Options{}, ttl)}
	// afterBound waits until a read through another server must see what
	// was acknowledged at acked (no wait with the cache off).
	afterBound := func(acked time.Time) {
		if d := time.Until(acked.Add(ttl)); ttl > 0 && d > 0 {
			time.Sleep(d)
		}
	}
	var lastAck atomic.Int64
	counter := &statusCounter{next: http.DefaultTransport}
	hc := &http.Client{Transport: counter, Timeout: time.Minute}
	apiClient := func(s *pgServer, gun string) *api.Client {
		c, err := api.NewClient(s.url, gun, api.ClientOptions{HTTPClient: hc})
		must(t, err)
		return c
	}

	const (
		nGUNs    = 3
		nWriters = 4 // per GUN
		rounds   = 5
	)
	// Collections created through both servers at once: the key comes from
	// one, the first publish goes through the other.
	repos := make([]*servertest.Repo, nGUNs)
	var wg sync.WaitGroup
	for g := range nGUNs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gun := fmt.Sprintf("example.com/multi-%d", g)
			from, via := servers[g%2], servers[(g+1)%2]
			ts, err := apiClient(from, gun).GetKey(ctx, tuf.RoleTimestamp)
			if err != nil {
				t.Errorf("timestamp.key of %s: %v", gun, err)
				return
			}
			sn, err := apiClient(from, gun).GetKey(ctx, tuf.RoleSnapshot)
			if err != nil {
				t.Errorf("snapshot.key of %s: %v", gun, err)
				return
			}
			r, err := servertest.NewRepo(gun, ts, sn)
			if err != nil {
				t.Error(err)
				return
			}
			parts, err := r.Initial()
			if err != nil {
				t.Error(err)
				return
			}
			if err := apiClient(via, gun).Publish(ctx, parts); err != nil {
				t.Errorf("first publish of %s through the other server: %v", gun, err)
				return
			}
			repos[g] = r
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// A consumer pages the global changefeed by id through both servers
	// while the writers run.
	var (
		seen     []api.Change
		stopPoll = make(chan struct{})
		pollDone = make(chan struct{})
	)
	poll := func(s *pgServer) (int, error) {
		last := "0"
		if len(seen) > 0 {
			last = seen[len(seen)-1].ID
		}
		cf, err := apiClient(s, "").GlobalChangefeed(ctx, last, 7)
		if err != nil {
			return 0, err
		}
		seen = append(seen, cf.Records...)
		return len(cf.Records), nil
	}
	go func() {
		defer close(pollDone)
		for i := 0; ; i++ {
			select {
			case <-stopPoll:
				return
			default:
			}
			if _, err := poll(servers[i%2]); err != nil {
				t.Errorf("changefeed poll: %v", err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	var (
		ackedMu   sync.Mutex
		acked     = map[string][]string{} // gun → acknowledged target names
		nAcked    atomic.Int64
		conflicts atomic.Int64
	)
	for g := range nGUNs {
		for w := range nWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := repos[g]
				gun := r.GUN
				write, read := servers[w%2], servers[(w+1)%2]
				wc := apiClient(write, gun)
				cache := update.NewMemoryCache()
				u, err := update.NewUpdater(update.Options{GUN: gun, Remote: client.ServerRemote(apiClient(read, gun)), Cache: cache})
				if err != nil {
					t.Error(err)
					return
				}
				for round := range rounds {
					name := fmt.Sprintf("w%d-r%d", w, round)
					for attempt := 0; ; attempt++ {
						if attempt > 200 {
							t.Errorf("%s %s: no progress after %d attempts", gun, name, attempt)
							return
						}
						cur, err := wc.GetMeta(ctx, tuf.RoleTargets, 0)
						if err != nil {
							t.Errorf("%s: GET targets.json: %v", gun, err)
							return
						}
						tg, _, err := tuf.ParseTargets(cur, tuf.RoleTargets)
						if err != nil {
							t.Error(err)
							return
						}
						if tg.Targets == nil {
							tg.Targets = map[string]tuf.FileMeta{}
						}
						fm, err := tuf.NewFileMeta([]byte(gun + name))
						if err != nil {
							t.Error(err)
							return
						}
						tg.Targets[name] = fm
						tg.Version++
						tg.Expires = time.Now().Add(24 * time.Hour)
						_, data, err := tuf.Sign(ctx, tg, tuf.LocalSigner(r.TargetsKey))
						if err != nil {
							t.Error(err)
							return
						}
						err = wc.Publish(ctx, []api.Part{{Role: tuf.RoleTargets, Data: data}})
						if err == nil {
							break
						}
						if !errors.Is(err, api.ErrVersion) {
							t.Errorf("%s %s: publish: %v (want success or 400 VERSION)", gun, name, err)
							return
						}
						conflicts.Add(1)
					}
					ackedAt := time.Now()
					lastAck.Store(ackedAt.UnixNano())
					nAcked.Add(1)
					ackedMu.Lock()
					acked[gun] = append(acked[gun], name)
					ackedMu.Unlock()
					// Read your own write through the other server (once
					// its read cache may no longer hide it).
					afterBound(ackedAt)
					repo, err := u.Update(ctx, time.Now())
					if err != nil {
						t.Errorf("%s: %s read through the other server after its publish: %v", gun, name, err)
						return
					}
					if _, err := repo.Lookup(name); err != nil {
						t.Errorf("%s: acknowledged %s not visible through the other server: %v", gun, name, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(stopPoll)
	<-pollDone
	for {
		n, err := poll(servers[0])
		must(t, err)
		if n == 0 {
			break
		}
	}
	t.Logf("%d publishes acknowledged, %d VERSION conflicts retried, %d changefeed rows paged", nAcked.Load(), conflicts.Load(), len(seen))
	if want := int64(nGUNs * nWriters * rounds); nAcked.Load() != want {
		t.Errorf("%d publishes acknowledged, want %d", nAcked.Load(), want)
	}

	// No lost update, through either server, verified.
	afterBound(time.Unix(0, lastAck.Load()))
	for _, r := range repos {
		want := slices.Sorted(slices.Values(acked[r.GUN]))
		for i, s := range servers {
			u, err := update.NewUpdater(update.Options{GUN: r.GUN, Remote: client.ServerRemote(apiClient(s, r.GUN)), Cache: update.NewMemoryCache()})
			must(t, err)
			repo, err := u.Update(ctx, time.Now())
			if err != nil {
				t.Fatalf("%s through server %d: %v", r.GUN, i, err)
			}
			var got []string
			for _, tg := range repo.ListTargets() {
				got = append(got, tg.Name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s through server %d: targets %q, want the %d acknowledged %q", r.GUN, i, got, len(want), want)
			}
		}
	}

	// The changefeed: the reader that paged during the writes saw exactly
	// the final feed; each stored timestamp version has one row with its
	// hash.
	var all []api.Change
	for {
		last := "0"
		if len(all) > 0 {
			last = all[len(all)-1].ID
		}
		cf, err := apiClient(servers[1], "").GlobalChangefeed(ctx, last, 100)
		must(t, err)
		if len(cf.Records) == 0 {
			break
		}
		all = append(all, cf.Records...)
	}
	if !slices.Equal(ids(seen), ids(all)) {
		t.Errorf("the reader paging during the writes saw %d rows, the final feed has %d: a row committed behind the reader's position\nseen:  %v\nfinal: %v",
			len(seen), len(all), ids(seen), ids(all))
	}
	for i := 1; i < len(all); i++ {
		if atoiT(t, all[i].ID) <= atoiT(t, all[i-1].ID) {
			t.Errorf("changefeed ids not ascending: %s after %s", all[i].ID, all[i-1].ID)
		}
	}
	for _, r := range repos {
		ts, err := servers[0].store.GetCurrent(ctx, r.GUN, tuf.RoleTimestamp)
		must(t, err)
		var versions []int64
		for _, c := range all {
			if c.GUN != r.GUN {
				continue
			}
			versions = append(versions, c.Version)
			m, err := servers[1].store.GetVersion(ctx, r.GUN, tuf.RoleTimestamp, c.Version)
			if err != nil {
				t.Errorf("%s: changefeed row %s names timestamp v%d, which is not stored: %v", r.GUN, c.ID, c.Version, err)
				continue
			}
			sum := sha256.Sum256(m.Data)
			if c.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: changefeed row %s has sha256 %s, timestamp v%d hashes to %x", r.GUN, c.ID, c.SHA256, c.Version, sum)
			}
		}
		want := make([]int64, ts.Version)
		for i := range want {
			want[i] = int64(i + 1)
		}
		if !slices.Equal(versions, want) {
			t.Errorf("%s: changefeed timestamp versions %v, want each of 1..%d once, in order", r.GUN, versions, ts.Version)
		}
	}
	if bad := counter.errors(); len(bad) > 0 {
		t.Errorf("%d 5xx answers, e.g. %q", len(bad), bad[:min(5, len(bad))])
	}
}

func ids(cs []api.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func atoiT(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	must(t, err)
	return n
}
