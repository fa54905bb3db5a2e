// Command clientbench compares our notary CLI with Notary v0.7.0's on the
// same notary-server (v0.7.0's, memory storage, local signer, plain HTTP on
// loopback), in the same run: staging and publishing 1, 100, 1,000 and
// 10,000 targets, and listing a 10,000-target collection from a fresh and
// from a warm trust directory. Every measurement is repeated and the
// median reported, with the ratio v0.7.0 / ours (above 1: ours is faster).
//
//	go run ./bench/clientbench -v1bin .tools/bin -runs 3 -out bench/client.md
//
// Staging runs one `notary addhash` process per target, as a user would,
// for up to 1,000 targets. For 10,000 targets the change files are written
// directly (the same v1 changelist bytes for both clients) and only the
// publish is timed, which keeps a run within minutes. The file system is
// synced before each timed publish. The whole run is bounded by -timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/tuf"

	"github.com/notary-go/notary/bench/internal/report"
)

var passphrases = []string{
	"NOTARY_ROOT_PASSPHRASE=bench-root-pass",
	"NOTARY_TARGETS_PASSPHRASE=bench-targets-pass",
	"NOTARY_SNAPSHOT_PASSPHRASE=bench-snapshot-pass",
	"NOTARY_DELEGATION_PASSPHRASE=bench-delegation-pass",
}

type cli struct {
	name string
	bin  string
}

type bench struct {
	ctx    context.Context
	server string
	work   string
	home   string
}

func main() {
	v1bin := flag.String("v1bin", os.Getenv("NOTARY_V1_BIN"), "directory with the v0.7.0 notary and notary-server (default $NOTARY_V1_BIN)")
	runs := flag.Int("runs", 3, "runs per measurement (the median is reported)")
	sizes := flag.String("sizes", "1,100,1000,10000", "numbers of targets to stage and publish")
	cliStageMax := flag.Int("cli-stage-max", 1000, "largest size staged with one addhash process per target; larger ones write change files")
	listSize := flag.Int("list", 10000, "targets in the collection listed fresh and warm")
	timeout := flag.Duration("timeout", 30*time.Minute, "bound on the whole run")
	out := flag.String("out", "", "also write the markdown report to this file")
	flag.Parse()
	if *v1bin == "" {
		log.Fatal("set -v1bin or NOTARY_V1_BIN (scripts/install-peers.sh builds the v0.7.0 binaries)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	work, err := os.MkdirTemp("", "clientbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	ours := filepath.Join(work, "notary-ours")
	build := exec.Command("go", "build", "-o", ours, "./cmd/notary")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("building ./cmd/notary (run from the module root): %v", err)
	}
	clis := []cli{{"v0.7.0", filepath.Join(*v1bin, "notary")}, {"ours", ours}}

	url, stop := startServer(ctx, filepath.Join(*v1bin, "notary-server"), work)
	defer stop()
	b := &bench{ctx: ctx, server: url, work: work, home: filepath.Join(work, "home")}
	os.MkdirAll(b.home, 0o700)

	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		fmt.Sscan(s, &n)
		ns = append(ns, n)
	}

	type row struct {
		label string
		vals  map[string][]time.Duration // wall time
		cpu   map[string][]time.Duration // CPU time of the CLI processes
	}
	var rows []*row
	get := func(label string) *row {
		for _, r := range rows {
			if r.label == label {
				return r
			}
		}
		r := &row{label: label, vals: map[string][]time.Duration{}, cpu: map[string][]time.Duration{}}
		rows = append(rows, r)
		return r
	}
	for run := 0; run < *runs; run++ {
		for _, n := range ns {
			for _, c := range order(clis, run) {
				gun := fmt.Sprintf("bench.example.com/%s/stage-%d/run-%d", c.name, n, run)
				td := filepath.Join(work, "td", c.name, gun)
				b.must(c, td, "init", "-p", gun)
				var stage time.Duration
				if n <= *cliStageMax {
					start := time.Now()
					one := get("one `addhash` (median over every staging run)")
					var cpu time.Duration
					for i := 0; i < n; i++ {
						t0 := time.Now()
						_, c1 := b.mustCPU(c, td, "addhash", gun, fmt.Sprintf("target-%05d", i), "1234", "--sha256", fmt.Sprintf("%064x", i))
						one.vals[c.name] = append(one.vals[c.name], time.Since(t0))
						one.cpu[c.name] = append(one.cpu[c.name], c1)
						cpu += c1
					}
					stage = time.Since(start)
					r := get(fmt.Sprintf("stage %d targets (%d `addhash` processes)", n, n))
					r.vals[c.name] = append(r.vals[c.name], stage)
					r.cpu[c.name] = append(r.cpu[c.name], cpu)
				} else {
					writeChanges(td, gun, n)
				}
				// Both clients delete the change files they publish: let
				// them reach the disk first, so neither is timed deleting
				// files that were never written back.
				syscall.Sync()
				start := time.Now()
				_, cpu := b.mustCPU(c, td, "publish", gun)
				pub := time.Since(start)
				r := get(fmt.Sprintf("publish %d staged targets", n))
				r.vals[c.name] = append(r.vals[c.name], pub)
				r.cpu[c.name] = append(r.cpu[c.name], cpu)
				log.Printf("run %d %s n=%d stage=%s publish=%s", run, c.name, n, stage.Round(time.Millisecond), pub.Round(time.Millisecond))
			}
		}
	}

	// A 10,000-target collection published once (by ours), then listed by
	// both clients from fresh trust directories and from warm ones.
	gun := fmt.Sprintf("bench.example.com/list-%d", *listSize)
	pubTD := filepath.Join(work, "td", "list-publisher")
	b.must(clis[1], pubTD, "init", "-p", gun)
	writeChanges(pubTD, gun, *listSize)
	b.must(clis[1], pubTD, "publish", gun)
	for run := 0; run < *runs; run++ {
		for _, c := range order(clis, run) {
			td := filepath.Join(work, "td", "list", c.name, fmt.Sprint(run))
			start := time.Now()
			out, freshCPU := b.mustCPU(c, td, "list", gun)
			fresh := time.Since(start)
			if n := strings.Count(out, "\n"); n != *listSize+2 {
				log.Fatalf("%s list printed %d lines, want %d", c.name, n, *listSize+2)
			}
			start = time.Now()
			_, warmCPU := b.mustCPU(c, td, "list", gun)
			warm := time.Since(start)
			rf := get(fmt.Sprintf("`list` of %d targets, fresh trust dir", *listSize))
			rf.vals[c.name] = append(rf.vals[c.name], fresh)
			rf.cpu[c.name] = append(rf.cpu[c.name], freshCPU)
			rw := get(fmt.Sprintf("`list` of %d targets, warm trust dir", *listSize))
			rw.vals[c.name] = append(rw.vals[c.name], warm)
			rw.cpu[c.name] = append(rw.cpu[c.name], warmCPU)
			log.Printf("run %d %s list fresh=%s warm=%s", run, c.name, fresh.Round(time.Millisecond), warm.Round(time.Millisecond))
		}
	}

	var md strings.Builder
	fmt.Fprintf(&md, "## Figures (%s, %s, %s/%s, %d CPUs, median of %d runs)\n\n", time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *runs)
	md.WriteString("| measurement | wall v0.7.0 | wall ours | v0.7.0 / ours | CPU v0.7.0 | CPU ours | v0.7.0 / ours |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		up, us := report.Median(r.vals["v0.7.0"]), report.Median(r.vals["ours"])
		cup, cus := report.Median(r.cpu["v0.7.0"]), report.Median(r.cpu["ours"])
		fmt.Fprintf(&md, "| %s | %s | %s | %.2f× | %s | %s | %.2f× |\n", r.label, report.Dur(up), report.Dur(us), float64(up)/float64(us), report.Dur(cup), report.Dur(cus), float64(cup)/float64(max(cus, 1)))
	}
	md.WriteString("\nWall time is what a user waits; CPU time (user + system of the CLI process) is what the client itself costs, and varies much less on a loaded machine. Neither includes the server's work in CPU.\n")
	fmt.Print(md.String())
	if *out != "" {
		if err := report.WriteFigures(*out, md.String()); err != nil {
			log.Fatal(err)
		}
	}
}

// order alternates which client goes first, so neither always runs on a
// warmer machine.
func order(c []cli, run int) []cli {
	if run%2 == 1 {
		return []cli{c[1], c[0]}
	}
	return c
}

func (b *bench) must(c cli, trustDir string, args ...string) string {
	out, _ := b.mustCPU(c, trustDir, args...)
	return out
}

// mustCPU runs the CLI and also returns the CPU time (user + system) the
// process used: on a loaded machine it varies much less than wall time.
func (b *bench) mustCPU(c cli, trustDir string, args ...string) (string, time.Duration) {
	full := append([]string{"-d", trustDir, "-s", b.server}, args...)
	cmd := exec.CommandContext(b.ctx, c.bin, full...)
	cmd.Env = append([]string{"HOME=" + b.home, "PATH=" + os.Getenv("PATH")}, passphrases...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log.Fatalf("%s notary %s: %v\n%s", c.name, strings.Join(args, " "), err, tail(string(out)))
	}
	return string(out), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// writeChanges stages n targets by writing v1 change files directly.
func writeChanges(trustDir, gun string, n int) {
	cl, err := changelist.OpenDir(filepath.Join(trustDir, "tuf", filepath.FromSlash(gun), "changelist"))
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < n; i++ {
		h := make([]byte, 32)
		copy(h, fmt.Sprintf("%032d", i))
		c, err := changelist.NewTarget(tuf.RoleTargets, fmt.Sprintf("target-%05d", i), tuf.FileMeta{Length: 1234, Hashes: tuf.Hashes{tuf.SHA256: h}})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := cl.Add(c); err != nil {
			log.Fatal(err)
		}
	}
}

// startServer runs v0.7.0's notary-server (memory storage, local signer,
// plain HTTP) on a free loopback port.
func startServer(ctx context.Context, bin, work string) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := map[string]any{
		"server":        map[string]any{"http_addr": addr},
		"trust_service": map[string]any{"type": "local", "key_algorithm": "ecdsa"},
		"storage":       map[string]any{"backend": "memory"},
		"logging":       map[string]any{"level": "error"},
	}
	data, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(work, "server.json")
	os.WriteFile(cfgPath, data, 0o600)
	cmd := exec.CommandContext(ctx, bin, "-config", cfgPath)
	logf, _ := os.Create(filepath.Join(work, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log.Fatalf("notary-server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
}
