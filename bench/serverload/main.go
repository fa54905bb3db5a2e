// Command serverload compares notary-server implementations under the same
// load on loopback: GET throughput of timestamp.json, snapshot.json and
// targets.json (10 and 1,000 targets), and publish throughput, against our
// server and Notary v0.7.0's, plus their memory use (RSS). Each run is
// bounded in time; the report gives medians of several runs and ratios.
//
//	go run ./bench/serverload -v1bin .tools/bin -duration 3s -runs 3 -out bench/server.md
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"

	"github.com/notary-go/notary/bench/internal/report"
)

type target struct {
	name    string // column label
	bin     string
	storage string // memory | sqlite3
	env     []string
}

type proc struct {
	cmd  *exec.Cmd
	url  string
	dir  string
	done chan struct{}
}

func main() {
	v1bin := flag.String("v1bin", os.Getenv("NOTARY_V1_BIN"), "directory with the v0.7.0 notary-server (default $NOTARY_V1_BIN)")
	duration := flag.Duration("duration", 3*time.Second, "length of each measurement")
	runs := flag.Int("runs", 3, "runs per measurement (the median is reported)")
	conc := flag.Int("c", 8, "concurrent client connections")
	out := flag.String("out", "", "also write the markdown report to this file")
	sqlite := flag.Bool("sqlite", true, "also measure our server on SQLite")
	flag.Parse()
	if *v1bin == "" {
		log.Fatal("set -v1bin or NOTARY_V1_BIN (scripts/install-peers.sh builds the v0.7.0 binaries)")
	}
	abs, err := filepath.Abs(*v1bin)
	if err != nil {
		log.Fatal(err)
	}
	*v1bin = abs
	tmp, err := os.MkdirTemp("", "serverload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ours := filepath.Join(tmp, "notary-server")
	build := exec.Command("go", "build", "-o", ours, "./cmd/notary-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("building our server: %v", err)
	}
	targets := []target{
		{name: "v0.7.0 (memory)", bin: filepath.Join(*v1bin, "notary-server"), storage: "memory"},
		{name: "ours (memory)", bin: ours, storage: "memory", env: []string{"NOTARY_SERVER_KEY_PASSPHRASE=bench"}},
	}
	if *sqlite {
		targets = append(targets, target{name: "ours (sqlite)", bin: ours, storage: "sqlite3", env: []string{"NOTARY_SERVER_KEY_PASSPHRASE=bench"}})
	}
	workloads := []string{"GET timestamp.json", "GET snapshot.json", "GET targets.json (10 targets)", "GET targets.json (1000 targets)", "publish (targets of 10, server snapshot)"}
	// results[target][workload] = per-run req/s
	results := make([]map[string][]float64, len(targets))
	rss := make([][2]int64, len(targets)) // max over runs of [VmRSS after the reads, VmHWM at the end]
	for i := range results {
		results[i] = map[string][]float64{}
	}
	for run := 0; run < *runs; run++ {
		for i, tg := range targets {
			p, err := start(tg, filepath.Join(tmp, fmt.Sprintf("%d-%d", i, run)))
			if err != nil {
				log.Fatalf("%s: %v", tg.name, err)
			}
			fix, err := setup(p.url)
			if err != nil {
				p.stop()
				log.Fatalf("%s: setup: %v", tg.name, err)
			}
			for _, w := range workloads {
				if strings.HasPrefix(w, "publish") {
					// Memory after the reads, before publishes add data.
					cur, _ := memory(p.cmd.Process.Pid)
					rss[i][0] = max(rss[i][0], cur)
				}
				rps := measure(p.url, fix, w, *conc, *duration)
				results[i][w] = append(results[i][w], rps)
				log.Printf("run %d %-16s %-40s %9.0f req/s", run+1, tg.name, w, rps)
			}
			_, hwm := memory(p.cmd.Process.Pid)
			rss[i][1] = max(rss[i][1], hwm)
			p.stop()
		}
	}
	report := render(targets, workloads, results, rss, *runs, *duration, *conc)
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// start runs a server with plain HTTP on loopback and its local signer.
func start(tg target, dir string) (*proc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := report.FreePort()
	if err != nil {
		return nil, err
	}
	storage := map[string]any{"backend": tg.storage}
	if tg.storage == "sqlite3" {
		storage["db_url"] = filepath.Join(dir, "server.db")
	}
	cfg, _ := json.Marshal(map[string]any{
		"server":        map[string]any{"http_addr": fmt.Sprintf("127.0.0.1:%d", port)},
		"trust_service": map[string]any{"type": "local", "key_algorithm": "ecdsa"},
		"storage":       storage,
		"logging":       map[string]any{"level": "error"},
	})
	cfgFile := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(tg.bin, "-config", cfgFile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), tg.env...)
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.url + "/_notary_server/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("server exited:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.stop()
	return nil, fmt.Errorf("server not healthy")
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// fixture holds the collections the workloads read and write.
type fixture struct {
	small, large string        // GUNs with 10 and 1,000 targets
	writers      []*writerRepo // one GUN per publishing connection
}

type writerRepo struct {
	repo   *servertest.Repo
	client *api.Client
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}

func newRepo(url, gun string, nTargets int) (*servertest.Repo, *api.Client, error) {
	ctx := context.Background()
	c, err := api.NewClient(url, gun, api.ClientOptions{HTTPClient: httpClient})
	if err != nil {
		return nil, nil, err
	}
	ts, err := c.GetKey(ctx, "timestamp")
	if err != nil {
		return nil, nil, err
	}
	sn, err := c.GetKey(ctx, "snapshot")
	if err != nil {
		return nil, nil, err
	}
	r, err := servertest.NewRepo(gun, ts, sn)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < nTargets; i++ {
		if err := r.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%04d", i), []byte(strconv.Itoa(i))); err != nil {
			return nil, nil, err
		}
	}
	parts, err := r.Initial()
	if err != nil {
		return nil, nil, err
	}
	return r, c, c.Publish(ctx, parts)
}

func setup(url string) (*fixture, error) {
	f := &fixture{small: "bench.example.com/small", large: "bench.example.com/large"}
	if _, _, err := newRepo(url, f.small, 10); err != nil {
		return nil, err
	}
	if _, _, err := newRepo(url, f.large, 1000); err != nil {
		return nil, err
	}
	for i := 0; i < 64; i++ {
		r, c, err := newRepo(url, fmt.Sprintf("bench.example.com/writer-%d", i), 10)
		if err != nil {
			return nil, err
		}
		f.writers = append(f.writers, &writerRepo{repo: r, client: c})
	}
	return f, nil
}

// measure runs one workload with conc connections for d and returns
// successful requests per second. Any failure aborts the tool.
func measure(url string, f *fixture, workload string, conc int, d time.Duration) float64 {
	var path string
	switch workload {
	case "GET timestamp.json":
		path = api.MetaPath(f.small, "timestamp")
	case "GET snapshot.json":
		path = api.MetaPath(f.small, "snapshot")
	case "GET targets.json (10 targets)":
		path = api.MetaPath(f.small, "targets")
	case "GET targets.json (1000 targets)":
		path = api.MetaPath(f.large, "targets")
	}
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		stop = time.Now().Add(d)
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(stop) {
				if path != "" {
					resp, err := httpClient.Get(url + path)
					if err != nil {
						log.Fatalf("%s: %v", workload, err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						log.Fatalf("%s: status %d", workload, resp.StatusCode)
					}
				} else {
					wr := f.writers[w%len(f.writers)]
					// Replace one target: every publish uploads a
					// targets file of the same size (10 targets).
					_ = wr.repo.AddTarget(tuf.RoleTargets, "image-0000", []byte(strconv.FormatInt(n.Load(), 10)))
					parts, err := wr.repo.Publish(tuf.RoleTargets)
					if err != nil {
						log.Fatal(err)
					}
					if err := wr.client.Publish(context.Background(), parts); err != nil {
						log.Fatalf("%s: %v", workload, err)
					}
				}
				n.Add(1)
			}
		}(w)
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// memory returns VmRSS and VmHWM (peak) of pid, in KiB.
func memory(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}

func render(targets []target, workloads []string, results []map[string][]float64, rss [][2]int64, runs int, d time.Duration, conc int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Median of %d runs of %v each, %d concurrent connections, plain HTTP on loopback, %s/%s, %d CPUs, %s.\n\n",
		runs, d, conc, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "| workload (req/s) |")
	for _, t := range targets {
		fmt.Fprintf(&b, " %s |", t.name)
	}
	for _, t := range targets[1:] {
		fmt.Fprintf(&b, " %s ÷ v0.7.0 |", t.name)
	}
	b.WriteString("\n|---|")
	for range len(targets)*2 - 1 {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, w := range workloads {
		base := report.Median(results[0][w])
		fmt.Fprintf(&b, "| %s |", w)
		for i := range targets {
			fmt.Fprintf(&b, " %.0f |", report.Median(results[i][w]))
		}
		for i := 1; i < len(targets); i++ {
			fmt.Fprintf(&b, " %.2f |", report.Median(results[i][w])/base)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "| RSS after the reads (MiB) |")
	for i := range targets {
		fmt.Fprintf(&b, " %.0f |", float64(rss[i][0])/1024)
	}
	for i := 1; i < len(targets); i++ {
		fmt.Fprintf(&b, " %.2f |", float64(rss[i][0])/float64(max(rss[0][0], 1)))
	}
	fmt.Fprintf(&b, "\n| peak RSS after the publishes (MiB) |")
	for i := range targets {
		fmt.Fprintf(&b, " %.0f |", float64(rss[i][1])/1024)
	}
	for i := 1; i < len(targets); i++ {
		fmt.Fprintf(&b, " %.2f |", float64(rss[i][1])/float64(max(rss[0][1], 1)))
	}
	b.WriteString("\n")
	return b.String()
}
