// Command imagebench measures `notary image sign` and `notary image verify`
// (issue 11) against the CNCF distribution registry and our notary-server,
// both on loopback: signing N tags of one repository in one command (a new
// collection each time, so the root, targets and snapshot keys are made and
// the collection initialised too), then verifying every tag, one `notary
// image verify` process per tag from one trust directory (the first cold,
// the rest warm). Each size is measured -runs times and the median reported,
// with the wall time and the CPU time (user + system) of the CLI processes.
//
//	scripts/install-registry-peers.sh   # builds the registry into .tools/bin
//	go run ./bench/imagebench -runs 3 -out bench/image.md
//
// The images are OCI manifests pushed with plain HTTP requests (one shared
// config and layer blob, a manifest per tag made unique by an annotation),
// so pushing costs little and is not timed. Both servers use memory or
// temporary storage and plain HTTP; the whole run is bounded by -timeout.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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

	"github.com/notary-go/notary/bench/internal/report"
)

// cleanups run before the program exits, also through fatalf: the
// registry and the trust server must not outlive a failed run.
var cleanups []func()

func fatalf(format string, args ...any) {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	log.Fatalf(format, args...)
}

func main() {
	peers := flag.String("peers", "", "directory with the distribution registry binary (default $NOTARY_REGISTRY_PEERS_BIN, else .tools/bin)")
	runs := flag.Int("runs", 3, "runs per size (the median is reported)")
	sizes := flag.String("sizes", "10,30,100", "numbers of tags signed in one command")
	timeout := flag.Duration("timeout", 20*time.Minute, "bound on the whole run")
	out := flag.String("out", "", "also write the figures into this markdown file (replacing its \"## Figures\" section)")
	flag.Parse()
	if *peers == "" {
		*peers = os.Getenv("NOTARY_REGISTRY_PEERS_BIN")
	}
	if *peers == "" {
		*peers = filepath.Join(".tools", "bin")
	}
	registryBin := filepath.Join(*peers, "registry")
	if _, err := os.Stat(registryBin); err != nil {
		fatalf("no distribution registry at %s (%v): run scripts/install-registry-peers.sh", registryBin, err)
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			fatalf("-sizes: bad size %q", s)
		}
		ns = append(ns, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	work, err := os.MkdirTemp("", "imagebench")
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(work) })
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	notary := build(work, "./cmd/notary")
	server := build(work, "./cmd/notary-server")

	trustURL, stopTrust := startTrust(ctx, server, work)
	cleanups = append(cleanups, stopTrust)
	regHost, stopReg := startRegistry(ctx, registryBin, work)
	cleanups = append(cleanups, stopReg)

	b := &bench{ctx: ctx, bin: notary, server: trustURL, work: work}
	type row struct {
		n                          int
		sign, signCPU              []time.Duration
		verifyAll, verifyCPU, each []time.Duration
	}
	var rows []*row
	for _, n := range ns {
		r := &row{n: n}
		rows = append(rows, r)
		for run := 0; run < *runs; run++ {
			repo := fmt.Sprintf("bench/n%d-run%d", n, run)
			refs, err := pushTags(ctx, regHost, repo, n)
			if err != nil {
				fatalf("pushing %d tags: %v", n, err)
			}
			if len(rows) == 1 && run == 0 {
				probe(notary) // after the setup, so a run without it still checks the rest
			}
			signer := filepath.Join(work, "td", repo, "signer")
			wall, cpu := b.must(signer, append([]string{"image", "sign"}, refs...)...)
			r.sign, r.signCPU = append(r.sign, wall), append(r.signCPU, cpu)

			reader := filepath.Join(work, "td", repo, "reader")
			var all, allCPU time.Duration
			for _, ref := range refs {
				w, c := b.must(reader, "image", "verify", ref)
				all, allCPU = all+w, allCPU+c
				r.each = append(r.each, w)
			}
			r.verifyAll, r.verifyCPU = append(r.verifyAll, all), append(r.verifyCPU, allCPU)
			log.Printf("n=%d run %d: sign %s (CPU %s), verify all %s (CPU %s)", n, run,
				wall.Round(time.Millisecond), cpu.Round(time.Millisecond), all.Round(time.Millisecond), allCPU.Round(time.Millisecond))
		}
	}

	var md strings.Builder
	fmt.Fprintf(&md, "## Figures (%s, %s, %s/%s, %d CPUs, median of %d runs)\n\n", time.Now().UTC().Format("2006-01-02"),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *runs)
	md.WriteString("| tags | `image sign` of all tags, wall | CPU | wall per tag | `image verify` of every tag (one process each), wall | CPU | one `verify`, median wall |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		s := report.Median(r.sign)
		fmt.Fprintf(&md, "| %d | %s | %s | %s | %s | %s | %s |\n", r.n, report.Dur(s), report.Dur(report.Median(r.signCPU)), report.Dur(s/time.Duration(r.n)),
			report.Dur(report.Median(r.verifyAll)), report.Dur(report.Median(r.verifyCPU)), report.Dur(report.Median(r.each)))
	}
	if len(rows) > 1 {
		first, last := rows[0], rows[len(rows)-1]
		fmt.Fprintf(&md, "\nScaling from %d to %d tags (%.1f× the tags): signing takes %.2f× the time, verifying every tag %.2f×.\n",
			first.n, last.n, float64(last.n)/float64(first.n),
			float64(report.Median(last.sign))/float64(report.Median(first.sign)),
			float64(report.Median(last.verifyAll))/float64(report.Median(first.verifyAll)))
	}
	md.WriteString("\nWall time is what a user waits; CPU time (user + system of the notary processes) is the client's own cost and varies less on a loaded machine. Neither includes the registry's or the trust server's CPU.\n")
	fmt.Print(md.String())
	if *out != "" {
		if err := report.WriteFigures(*out, md.String()); err != nil {
			fatalf("%v", err)
		}
	}
}

type bench struct {
	ctx    context.Context
	bin    string
	server string
	work   string
}

// must runs our notary with trust directory td and returns its wall and
// CPU time; any failure ends the benchmark.
func (b *bench) must(td string, args ...string) (time.Duration, time.Duration) {
	full := append([]string{"-d", td, "-s", b.server}, args...)
	cmd := exec.CommandContext(b.ctx, b.bin, full...)
	home := filepath.Join(b.work, "home")
	os.MkdirAll(filepath.Join(home, ".docker"), 0o700)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"NOTARY_ROOT_PASSPHRASE=bench-root-pass", "NOTARY_TARGETS_PASSPHRASE=bench-targets-pass",
		"NOTARY_SNAPSHOT_PASSPHRASE=bench-snapshot-pass", "NOTARY_DELEGATION_PASSPHRASE=bench-delegation-pass",
	}
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fatalf("notary %s: %v\n%s", strings.Join(args[:min(len(args), 3)], " "), err, outb.String())
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// probe stops early, saying why, when our notary has no `image` commands.
func probe(bin string) {
	out, err := exec.Command(bin, "image", "sign", "--help").CombinedOutput()
	if err != nil {
		fatalf("our notary has no `notary image` commands (issue 11) to measure: `notary image sign --help`: %v\n%s", err, out)
	}
}

func build(work, pkg string) string {
	bin := filepath.Join(work, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fatalf("building %s (run from the module root): %v", pkg, err)
	}
	return bin
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs bin with its output in work/name.log and waits until url
// answers; the returned func stops it.
func start(ctx context.Context, work, name, url string, env []string, bin string, args ...string) func() {
	logf, err := os.Create(filepath.Join(work, name+".log"))
	if err != nil {
		fatalf("%v", err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		fatalf("starting %s: %v", name, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			b, _ := os.ReadFile(logf.Name())
			fatalf("%s did not start: %v\n%s", name, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
}

// startTrust runs our notary-server: memory storage, in-process signing,
// plain HTTP on loopback.
func startTrust(ctx context.Context, bin, work string) (string, func()) {
	addr := freeAddr()
	cfg, _ := json.Marshal(map[string]any{
		"server":        map[string]any{"http_addr": addr},
		"trust_service": map[string]any{"type": "local", "key_algorithm": "ecdsa"},
		"storage":       map[string]any{"backend": "memory"},
		"logging":       map[string]any{"level": "error"},
	})
	p := filepath.Join(work, "server.json")
	os.WriteFile(p, cfg, 0o600)
	env := []string{"PATH=" + os.Getenv("PATH")}
	return "http://" + addr, start(ctx, work, "notary-server", "http://"+addr+"/v2/", env, bin, "-config", p, "-data-dir", work)
}

// startRegistry runs the distribution registry: filesystem storage in
// work, plain HTTP on loopback, no auth, no access log.
func startRegistry(ctx context.Context, bin, work string) (string, func()) {
	addr := freeAddr()
	cfg, _ := json.Marshal(map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "error", "accesslog": map[string]any{"disabled": true}},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(work, "registry")}},
		"http":    map[string]any{"addr": addr, "secret": "imagebench"},
	})
	p := filepath.Join(work, "registry.yml")
	os.WriteFile(p, cfg, 0o600)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"}
	return addr, start(ctx, work, "registry", "http://"+addr+"/v2/", env, bin, "serve", p)
}

// pushTags pushes n OCI manifests as repo:t000..., sharing one config and
// one layer blob, and returns their references.
func pushTags(ctx context.Context, host, repo string, n int) ([]string, error) {
	base := "http://" + host + "/v2/" + repo
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("imagebench layer of " + repo)
	blobs := []struct {
		b  []byte
		mt string
	}{{config, "application/vnd.oci.image.config.v1+json"}, {layer, "application/vnd.oci.image.layer.v1.tar"}}
	var descs []map[string]any
	for _, bl := range blobs {
		d := digest(bl.b)
		if err := pushBlob(ctx, base, d, bl.b); err != nil {
			return nil, err
		}
		descs = append(descs, map[string]any{"mediaType": bl.mt, "digest": d, "size": len(bl.b)})
	}
	var refs []string
	for i := 0; i < n; i++ {
		tag := fmt.Sprintf("t%03d", i)
		m, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": descs[0], "layers": descs[1:],
			"annotations": map[string]string{"org.opencontainers.image.ref.name": tag},
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/manifests/"+tag, bytes.NewReader(m))
		req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if err := do(req, http.StatusCreated); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", tag, err)
		}
		refs = append(refs, host+"/"+repo+":"+tag)
	}
	return refs, nil
}

// pushBlob uploads one blob monolithically (POST, then PUT with the
// digest).
func pushBlob(ctx context.Context, base, d string, b []byte) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/blobs/uploads/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("starting a blob upload: %s", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", d)
	loc.RawQuery = q.Encode()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	return do(req, http.StatusCreated)
}

func do(req *http.Request, want int) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s", req.Method, req.URL.Path, resp.Status, body)
	}
	return nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
