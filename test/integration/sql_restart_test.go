package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
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
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// A cutProxy forwards TCP connections to a database. Cut makes the
// database look like it went down: it resets every open connection and
// stops listening, so new connections are refused; Restore listens again
// on the same address. That is what clients see while a database server
// restarts, without disturbing the shared database other tests use.
type cutProxy struct {
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() { p.Cut(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.pipe(c) }()
		}
	}()
}

func (p *cutProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src) //nolint:errcheck // ends when either side closes
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Cut refuses new connections and resets the open ones.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) //nolint:errcheck // RST rather than FIN, like a killed server
		}
		c.Close()
	}
}

// Restore accepts connections again on the same address.
func (p *cutProxy) Restore(t testing.TB) {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("re-listening on %s: %v", p.addr, err)
}

// pgHost returns the host:port of a PostgreSQL URL DSN.
func pgHost(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		need(t, "%s must be a postgres:// URL for the restart test", sqltest.PostgresEnv)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// withHost returns the URL DSN pointed at addr.
func withHost(t testing.TB, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	must(t, err)
	u.Host = addr
	return u.String()
}

// outcome is what one request got.
type outcome struct {
	at     time.Time
	op     string
	status int    // 0: no HTTP response
	code   string // errcode of an error body
}

// TestDatabaseRestart runs publishers and readers against our server while
// its PostgreSQL database "restarts" (a proxy resets every connection and
// refuses new ones for a few seconds). While it is down, requests must
// fail with a clear error: 503 with an error body, never a hang, never a
// 500 "unknown error", and the health check must report it. Once it is
// back, the same server (not restarted) must serve and accept publishes
// again within seconds, and every publish acknowledged before, during or
// after the outage must be there.
func TestDatabaseRestart(t *testing.T) {
	ctx := context.Background()
	dsn := sqltest.PostgresDSN(t)
	proxy := newCutProxy(t, pgHost(t, dsn))
	proxied := withHost(t, dsn, proxy.addr)

	opts := drivers.Options{MaxOpenConns: 8}
	st, err := drivers.OpenWithOptions(ctx, "postgres", proxied, opts)
	must(t, err)
	defer st.Close()
	kpool, d, err := drivers.OpenDB(ctx, "postgres", proxied, opts)
	must(t, err)
	defer kpool.Close()
	kdb, err := keydb.OpenSQL(ctx, kpool, keydb.Dialect(d), keydb.Options{DefaultAlias: "k", Passphrases: keydb.ConstantPassphrase("server key passphrase")})
	must(t, err)
	srv, err := server.New(server.Options{Store: st, Keys: keyservice.NewLocal(kdb), Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	hc := &http.Client{Timeout: 30 * time.Second}
	apiClient := func(gun string) *api.Client {
		c, err := api.NewClient(hs.URL, gun, api.ClientOptions{HTTPClient: hc})
		must(t, err)
		return c
	}

	const nPublishers, nReaders = 4, 4
	repos := make([]*servertest.Repo, nPublishers)
	for i := range repos {
		gun := fmt.Sprintf("example.com/restart-%d", i)
		c := apiClient(gun)
		ts, err := c.GetKey(ctx, tuf.RoleTimestamp)
		must(t, err)
		sn, err := c.GetKey(ctx, tuf.RoleSnapshot)
		must(t, err)
		r, err := servertest.NewRepo(gun, ts, sn)
		must(t, err)
		parts, err := r.Initial()
		must(t, err)
		must(t, c.Publish(ctx, parts))
		repos[i] = r
	}

	var (
		mu       sync.Mutex
		outcomes []outcome
		acked    = map[string][]string{}
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	record := func(o outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	classify := func(op string, err error) outcome {
		o := outcome{at: time.Now(), op: op, status: http.StatusOK}
		if err == nil {
			return o
		}
		o.status = 0
		var se *api.StatusError
		if errors.As(err, &se) {
			o.status = se.Status
			if se.Err != nil {
				o.code = string(se.Err.Code)
			}
		}
		return o
	}
	for i, r := range repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := apiClient(r.GUN)
			for n := 0; !stop.Load(); n++ {
				name := fmt.Sprintf("p%d-%d", i, n)
				cur, err := c.GetMeta(ctx, tuf.RoleTargets, 0)
				if err != nil {
					record(classify("GET targets.json", err))
					time.Sleep(20 * time.Millisecond)
					continue
				}
				tg, _, err := tuf.ParseTargets(cur, tuf.RoleTargets)
				if err != nil {
					t.Error(err)
					return
				}
				if tg.Targets == nil {
					tg.Targets = map[string]tuf.FileMeta{}
				}
				fm, _ := tuf.NewFileMeta([]byte(name))
				tg.Targets[name] = fm
				tg.Version++
				tg.Expires = time.Now().Add(24 * time.Hour)
				_, data, err := tuf.Sign(ctx, tg, tuf.LocalSigner(r.TargetsKey))
				if err != nil {
					t.Error(err)
					return
				}
				err = c.Publish(ctx, []api.Part{{Role: tuf.RoleTargets, Data: data}})
				o := classify("POST update", err)
				record(o)
				if err == nil {
					mu.Lock()
					acked[r.GUN] = append(acked[r.GUN], name)
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	for i := range nReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := apiClient(repos[i%len(repos)].GUN)
			for !stop.Load() {
				_, err := c.GetMeta(ctx, tuf.RoleTimestamp, 0)
				record(classify("GET timestamp.json", err))
				_, err = c.GlobalChangefeed(ctx, "-1", -5)
				record(classify("GET changefeed", err))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}

	time.Sleep(time.Second)
	cutAt := time.Now()
	proxy.Cut()
	time.Sleep(1500 * time.Millisecond)
	status, body := getBody(t, hc, hs.URL+"/_notary_server/health")
	var health map[string]string
	json.Unmarshal(body, &health) //nolint:errcheck // checked below
	if status != http.StatusServiceUnavailable || health["DB operational"] == "" {
		t.Errorf("health during the outage: %d %s, want 503 naming \"DB operational\"", status, body)
	}
	time.Sleep(1500 * time.Millisecond)
	restoreAt := time.Now()
	proxy.Restore(t)

	// Recovery, without touching the server.
	var recovered time.Time
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s, _ := getBody(t, hc, hs.URL+"/_notary_server/health"); s != http.StatusOK {
			continue
		}
		mu.Lock()
		var ok bool
		for _, o := range outcomes {
			if o.op == "POST update" && o.status == http.StatusOK && o.at.After(restoreAt) {
				ok = true
			}
		}
		mu.Unlock()
		if ok {
			recovered = time.Now()
			break
		}
	}
	if recovered.IsZero() {
		t.Errorf("no successful publish within 20s of the database coming back")
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	// During the outage: clear errors only. Outside it, nothing fails but
	// version conflicts.
	var during, ok503, unclear, outside []outcome
	for _, o := range outcomes {
		inOutage := !o.at.Before(cutAt) && (recovered.IsZero() || !o.at.After(recovered))
		switch {
		case o.status == http.StatusOK:
		case o.status == http.StatusBadRequest && o.code == "VERSION":
			// A publish whose commit the server could not confirm may have
			// landed; the publisher's next try then conflicts. Fine.
		case !inOutage:
			outside = append(outside, o)
		case o.status == http.StatusServiceUnavailable:
			during, ok503 = append(during, o), append(ok503, o)
		default:
			during, unclear = append(during, o), append(unclear, o)
		}
	}
	t.Logf("outage %v; recovered %v after the database came back; %d requests failed during it, %d of them with 503",
		restoreAt.Sub(cutAt).Round(time.Millisecond), recovered.Sub(restoreAt).Round(time.Millisecond), len(during), len(ok503))
	if len(during) == 0 {
		t.Errorf("no request failed while the database was down: did the proxy cut anything?")
	}
	if len(outside) > 0 {
		t.Errorf("requests failed outside the outage: %v", tally(outside))
	}
	t.Run("503 while the database is down", func(t *testing.T) {
		// Clients treat any 5xx as "server unavailable"; 503 UNAVAILABLE
		// says it is temporary, where 500 UNKNOWN reads as a server bug.
		if len(unclear) > 0 {
			t.Errorf("requests during the outage answered other than 503: %v", tally(unclear))
		}
	})

	// Nothing acknowledged is lost.
	for _, r := range repos {
		u, err := update.NewUpdater(update.Options{GUN: r.GUN, Remote: client.ServerRemote(apiClient(r.GUN)), Cache: update.NewMemoryCache()})
		must(t, err)
		repo, err := u.Update(ctx, time.Now())
		if err != nil {
			t.Fatalf("%s after recovery: %v", r.GUN, err)
		}
		for _, name := range acked[r.GUN] {
			if _, err := repo.Lookup(name); err != nil {
				t.Errorf("%s: acknowledged %s lost: %v", r.GUN, name, err)
			}
		}
		if len(acked[r.GUN]) == 0 {
			t.Errorf("%s: nothing acknowledged", r.GUN)
		}
	}
	if os.Getenv("NOTARY_RESTART_VERBOSE") != "" {
		slices.SortFunc(outcomes, func(a, b outcome) int { return a.at.Compare(b.at) })
		for _, o := range outcomes {
			t.Logf("%s %s %d %s", o.at.Format("15:04:05.000"), o.op, o.status, o.code)
		}
	}
}

func tally(os []outcome) map[string]int {
	counts := map[string]int{}
	for _, o := range os {
		counts[fmt.Sprintf("%s → %d %s", o.op, o.status, o.code)]++
	}
	return counts
}
