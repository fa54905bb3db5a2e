// Package bench holds whole-system benchmarks: our binaries against
// Notary v0.7.0's on the same machine, in the same run (see *.md).
package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/tuf"
)

// Load parameters, overridable by environment for longer runs.
var (
	benchDuration    = envDuration("NOTARY_SQL_BENCH_DURATION", 5*time.Second) // per phase and round
	benchRounds      = envInt("NOTARY_SQL_BENCH_ROUNDS", 3)
	benchConcurrency = envInt("NOTARY_SQL_BENCH_CONCURRENCY", 8)
)

// TestSQLBench measures publish and GET throughput of our notary-server
// and of v0.7.0's, both on PostgreSQL (each in its own fresh schema, ours
// migrated by itself, upstream's by its own migration files) and both
// signing through the same v0.7.0 notary-signer (memory backend: v0.7.0's
// SQL key store panics when built with Go >= 1.16), over loopback HTTP.
// Each round runs every phase against both servers, alternating which goes
// first; it reports the median of the rounds and the ratio ours/upstream.
// It only runs with NOTARY_SQL_BENCH=1 (see sql.md).
func TestSQLBench(t *testing.T) {
	if os.Getenv("NOTARY_SQL_BENCH") != "1" {
		t.Skip("set NOTARY_SQL_BENCH=1 to run the SQL benchmark (see bench/sql.md)")
	}
	bin := os.Getenv("NOTARY_V1_BIN")
	if bin == "" {
		t.Fatal("NOTARY_V1_BIN must name the v0.7.0 binaries (scripts/install-peers.sh)")
	}
	ctx := context.Background()
	p := newPKI(t)

	// One v0.7.0 signer for both servers.
	sigAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sigCfg := writeFile(t, "signer.json", fmt.Sprintf(`{"server": {"grpc_addr": %q, "tls_cert_file": %q, "tls_key_file": %q, "client_ca_file": %q},
 "logging": {"level": "error"}, "storage": {"backend": "memory"}}`, sigAddr, p.certFile, p.keyFile, p.caFile))
	start(t, "upstream-signer", filepath.Join(bin, "notary-signer"), "-config", sigCfg)
	waitTCP(t, sigAddr)
	trust := func() string {
		return fmt.Sprintf(`"trust_service": {"type": "remote", "hostname": "127.0.0.1", "port": %q, "tls_ca_file": %q,
  "key_algorithm": "ecdsa", "tls_client_cert": %q, "tls_client_key": %q}`, strings.Split(sigAddr, ":")[1], p.caFile, p.certFile, p.keyFile)
	}

	// Upstream notary-server on an upstream-migrated schema.
	upDSN := sqltest.PostgresDSN(t)
	applyUpstreamMigrations(t, upDSN)
	upAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	upCfg := writeFile(t, "upstream.json", fmt.Sprintf(`{"server": {"http_addr": %q}, %s, "logging": {"level": "error"},
 "storage": {"backend": "postgres", "db_url": %q}}`, upAddr, trust(), upDSN))
	upProc := start(t, "upstream-server", filepath.Join(bin, "notary-server"), "-config", upCfg)

	// Ours, built from this tree, on its own fresh schema.
	ourBin := filepath.Join(t.TempDir(), "notary-server")
	if out, err := exec.Command("go", "build", "-C", "..", "-o", ourBin, "./cmd/notary-server").CombinedOutput(); err != nil {
		t.Fatalf("building ./cmd/notary-server: %v\n%s", err, out)
	}
	ourAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ourCfg := writeFile(t, "ours.json", fmt.Sprintf(`{"server": {"http_addr": %q}, %s, "logging": {"level": "error"},
 "storage": {"backend": "postgres", "db_url": %q}}`, ourAddr, trust(), sqltest.PostgresDSN(t)))
	ourProc := start(t, "our-server", ourBin, "-config", ourCfg, "-data-dir", t.TempDir())

	targets := []*target{{name: "v0.7.0", url: "http://" + upAddr, proc: upProc}, {name: "ours", url: "http://" + ourAddr, proc: ourProc}}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
	for _, tg := range targets {
		waitHTTP(t, tg.url+"/_notary_server/health")
		tg.repos = setupRepos(t, ctx, hc, tg.url, benchConcurrency)
	}

	type phase struct {
		name string
		run  func(tg *target) (int64, error)
	}
	phases := []phase{
		{"publish (targets update; server signs snapshot and timestamp)", func(tg *target) (int64, error) { return publishLoad(ctx, hc, tg) }},
		{"GET timestamp.json + targets.json (current)", func(tg *target) (int64, error) { return getLoad(ctx, hc, tg) }},
	}
	results := map[string]map[string][]float64{} // phase → server → ops/s per round
	for round := range benchRounds {
		for _, ph := range phases {
			order := slices.Clone(targets)
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, tg := range order {
				n, err := ph.run(tg)
				for attempt := 0; err != nil && tg.proc.exited() && attempt < 5; attempt++ {
					// v0.7.0's TUFMetaStorage caches in a map without a
					// lock: concurrent requests can kill it ("fatal error:
					// concurrent map writes"). Count it, restart, measure again.
					tg.proc.restarts++
					t.Logf("round %d %s: the server died (%v); restarting it and measuring again", round+1, tg.name, err)
					tg.proc.launch(t)
					waitHTTP(t, tg.url+"/_notary_server/health")
					n, err = ph.run(tg)
				}
				if err != nil {
					t.Fatalf("%s, %s, round %d: %v", ph.name, tg.name, round, err)
				}
				rate := float64(n) / benchDuration.Seconds()
				if results[ph.name] == nil {
					results[ph.name] = map[string][]float64{}
				}
				results[ph.name][tg.name] = append(results[ph.name][tg.name], rate)
				t.Logf("round %d %-8s %-60s %8.1f ops/s", round+1, tg.name, ph.name, rate)
			}
		}
	}

	// Rates drift with whatever else the machine runs; the ratio of the two
	// measurements of one round, taken back to back, drifts less.
	var b strings.Builder
	fmt.Fprintf(&b, "\n| load (%d clients, %v x %d rounds, PostgreSQL) | v0.7.0 ops/s (median) | ours ops/s (median) | ours / v0.7.0 (per-round ratios: median [min-max]) |\n|---|---|---|---|\n",
		benchConcurrency, benchDuration, benchRounds)
	for _, ph := range phases {
		upRates, ourRates := results[ph.name]["v0.7.0"], results[ph.name]["ours"]
		ratios := make([]float64, len(upRates))
		for i := range upRates {
			ratios[i] = ourRates[i] / upRates[i]
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.2f [%.2f-%.2f] |\n", ph.name, median(upRates), median(ourRates),
			median(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	fmt.Fprintf(&b, "\nserver crashes (restarted, phase measured again): v0.7.0 %d, ours %d\n", upProc.restarts, ourProc.restarts)
	t.Log(b.String())
}

// A target is one server under load and the collections it holds, one
// per client so that publishers never conflict.
type target struct {
	name  string
	url   string
	proc  *proc
	repos []*servertest.Repo
}

func setupRepos(t *testing.T, ctx context.Context, hc *http.Client, url string, n int) []*servertest.Repo {
	t.Helper()
	var repos []*servertest.Repo
	for i := range n {
		gun := fmt.Sprintf("bench.example.com/c%d", i)
		c, err := api.NewClient(url, gun, api.ClientOptions{HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		ts, err := c.GetKey(ctx, tuf.RoleTimestamp)
		if err != nil {
			t.Fatalf("%s timestamp.key: %v", url, err)
		}
		sn, err := c.GetKey(ctx, tuf.RoleSnapshot)
		if err != nil {
			t.Fatalf("%s snapshot.key: %v", url, err)
		}
		r, err := servertest.NewRepo(gun, ts, sn)
		if err != nil {
			t.Fatal(err)
		}
		parts, err := r.Initial()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Publish(ctx, parts); err != nil {
			t.Fatalf("%s first publish: %v", url, err)
		}
		repos = append(repos, r)
	}
	return repos
}

// publishLoad has each client publish a new targets version of its own
// collection, back to back, for benchDuration; it returns the number of
// publishes acknowledged.
func publishLoad(ctx context.Context, hc *http.Client, tg *target) (int64, error) {
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	end := time.Now().Add(benchDuration)
	for _, r := range tg.repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := api.NewClient(tg.url, r.GUN, api.ClientOptions{HTTPClient: hc})
			for i := 0; time.Now().Before(end); i++ {
				if err := r.AddTarget(tuf.RoleTargets, "t"+strconv.Itoa(i%50), []byte(strconv.Itoa(i))); err != nil {
					errMu.Lock()
					first = err
					errMu.Unlock()
					return
				}
				parts, err := r.Publish(tuf.RoleTargets)
				if err == nil {
					err = c.Publish(ctx, parts)
				}
				if errors.Is(err, api.ErrVersion) {
					// A publish the server committed but could not
					// acknowledge (it died): continue from its version.
					err = resync(ctx, c, r)
					if err == nil {
						continue
					}
				}
				if err != nil {
					errMu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", r.GUN, err)
					}
					errMu.Unlock()
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), first
}

// getLoad has each client read timestamp.json and targets.json (the
// current versions, resolved through the database) in a loop; it returns
// the number of GETs answered 200.
func getLoad(ctx context.Context, hc *http.Client, tg *target) (int64, error) {
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	end := time.Now().Add(benchDuration)
	for _, r := range tg.repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := api.NewClient(tg.url, r.GUN, api.ClientOptions{HTTPClient: hc})
			for time.Now().Before(end) {
				for _, role := range []string{tuf.RoleTimestamp, tuf.RoleTargets} {
					if _, err := c.GetMeta(ctx, role, 0); err != nil {
						errMu.Lock()
						if first == nil {
							first = err
						}
						errMu.Unlock()
						return
					}
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return n.Load(), first
}

// resync sets the client's targets version to the server's.
func resync(ctx context.Context, c *api.Client, r *servertest.Repo) error {
	cur, err := c.GetMeta(ctx, tuf.RoleTargets, 0)
	if err != nil {
		return err
	}
	tg, _, err := tuf.ParseTargets(cur, tuf.RoleTargets)
	if err != nil {
		return err
	}
	r.Targets[tuf.RoleTargets].Version = tg.Version
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// applyUpstreamMigrations builds upstream's notary-server schema with its
// own migration files (from the tools module's module cache).
func applyUpstreamMigrations(t *testing.T, dsn string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-C", filepath.Join("..", "tools"), "-m", "-f", "{{.Dir}}", "github.com/theupdateframework/notary").Output()
	if err != nil {
		t.Fatalf("locating upstream sources (run scripts/install-peers.sh): %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "migrations", "server", "postgresql", "*.up.sql"))
	if len(files) == 0 {
		t.Fatal("no upstream postgresql migrations found")
	}
	sort.Strings(files)
	db, _, err := drivers.OpenDB(context.Background(), "postgres", dsn, drivers.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(b), ";") {
			if strings.TrimSpace(stmt) != "" {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
			}
		}
	}
}

// A proc is a process under test that can be restarted when it dies.
type proc struct {
	name, bin string
	args      []string
	logf      *os.File
	cmd       *exec.Cmd
	done      chan struct{}
	restarts  int
}

func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, bin: bin, args: args, logf: logf}
	p.launch(t)
	t.Cleanup(func() {
		p.kill()
		logf.Close()
		if t.Failed() || p.restarts > 0 {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- %s log (%d restarts), tail:\n%s", name, p.restarts, b[max(0, len(b)-4000):])
		}
	})
	return p
}

func (p *proc) launch(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logf, p.logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(p.cmd, p.done) //nolint:errcheck
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) kill() {
	if !p.exited() {
		p.cmd.Process.Kill() //nolint:errcheck
		<-p.done
	}
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	for range 300 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s", addr)
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for range 300 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200", url)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// pki is a throw-away CA and one certificate for 127.0.0.1, used both by
// the signer and, as a client certificate, by the servers.
type pki struct{ caFile, certFile, keyFile string }

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca := testpki.New(t, "bench CA")
	leaf := ca.Issue(t, "notary-bench", testpki.Options{
		DNS: []string{"localhost"}, IPs: testpki.Loopback(), ServerAuth: true, ClientAuth: true, SEC1Key: true,
	})
	return &pki{caFile: ca.CAFile, certFile: leaf.CertFile, keyFile: leaf.KeyFile}
}
