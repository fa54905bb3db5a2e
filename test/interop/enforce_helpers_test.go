//go:build interop

package interop

// Helpers of the enforcement interop tests (enforce_*_test.go, issue 12):
// the CNCF distribution registry and crane as peers (built by
// scripts/install-registry-peers.sh), our trust server in-process, images
// pushed with the registry API and signed with package image, and the
// notary-proxy binary. Everything here is prefixed enf so it cannot clash
// with the other interop helpers.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// enfPeer finds a registry peer binary: $NOTARY_PEER_<NAME> (what
// scripts/install-registry-peers.sh prints), else
// $NOTARY_REGISTRY_PEERS_BIN/<name>, else the module's .tools/bin/<name>;
// missing, the test is skipped (failed with CI=true).
func enfPeer(t testing.TB, name string) string {
	t.Helper()
	cands := []string{os.Getenv("NOTARY_PEER_" + strings.ToUpper(name))}
	if d := os.Getenv("NOTARY_REGISTRY_PEERS_BIN"); d != "" {
		cands = append(cands, filepath.Join(d, name))
	}
	if root, err := moduleRoot(); err == nil {
		cands = append(cands, filepath.Join(root, ".tools", "bin", name))
	}
	for _, p := range cands {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	requirePeer(t, "registry peer %s not built: run scripts/install-registry-peers.sh (or set NOTARY_PEER_%s)", name, strings.ToUpper(name))
	return ""
}

// enfProc is a process started by a test, stopped by its PID.
type enfProc struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{}
	once      sync.Once
}

func enfStart(t testing.TB, dir, name string, env []string, bin string, args ...string) *enfProc {
	t.Helper()
	p := &enfProc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	lf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = dir, env, lf, lf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("--- %s log ---\n%s", name, tail(string(b), 40))
		}
	})
	return p
}

func (p *enfProc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func (p *enfProc) logText() string { b, _ := os.ReadFile(p.log); return string(b) }

// waitUp polls url until it answers (any status); the process exiting or
// 60s without an answer fails the test.
func (p *enfProc) waitUp(t testing.TB, url string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, tail(p.logText(), 40))
		default:
		}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer %s:\n%s", p.name, url, tail(p.logText(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// enfDistribution starts the distribution registry (plain HTTP, loopback,
// filesystem storage) and returns its host:port.
func enfDistribution(t testing.TB) string {
	t.Helper()
	bin := enfPeer(t, "registry")
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "warn", "accesslog": map[string]any{"disabled": true}},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "data")}, "delete": map[string]any{"enabled": true}},
		"http":    map[string]any{"addr": host, "secret": "enforce-interop"},
	}
	b, _ := json.Marshal(cfg) // JSON is YAML
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"}
	p := enfStart(t, dir, "distribution", env, bin, "serve", cfgFile)
	p.waitUp(t, "http://"+host+"/v2/")
	return host
}

func enfDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// enfOlareg starts olareg (in memory, loopback) and returns its host:port.
func enfOlareg(t testing.TB) string {
	t.Helper()
	bin := enfPeer(t, "olareg")
	dir := t.TempDir()
	port := freePort(t)
	host := fmt.Sprintf("127.0.0.1:%d", port)
	p := enfStart(t, dir, "olareg", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, bin, "serve", "--addr", "127.0.0.1", "--port", fmt.Sprint(port), "--store-type", "mem")
	p.waitUp(t, "http://"+host+"/v2/")
	return host
}

// enfPushBlob uploads b (monolithic POST then PUT) unless present.
func enfPushBlob(t testing.TB, host, repo string, b []byte) string {
	t.Helper()
	d := enfDigest(b)
	resp, err := http.Post("http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload start: %s", resp.Status)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+d, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s", resp.Status)
	}
	return d
}

// enfPushManifest puts a manifest under ref (a tag or its digest).
func enfPushManifest(t testing.TB, host, repo, ref, mediaType string, body []byte) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest %s:%s: %s %s", repo, ref, resp.Status, b)
	}
	return enfDigest(body)
}

// enfPushImage pushes a one-layer OCI image with a layer of layerSize
// bytes made from seed, tagged tag (if not ""), and returns its manifest.
func enfPushImage(t testing.TB, host, repo, tag, seed string, layerSize int, platform string) (digest string, manifest []byte) {
	t.Helper()
	layer := bytes.Repeat([]byte(seed), layerSize/len(seed)+1)[:layerSize]
	ld := enfPushBlob(t, host, repo, layer)
	os, arch, _ := strings.Cut(platform, "/")
	cfg, _ := json.Marshal(map[string]any{"architecture": arch, "os": os, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{ld}}, "config": map[string]any{"Labels": map[string]string{"seed": seed}}})
	cd := enfPushBlob(t, host, repo, cfg)
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": registry.MediaTypeOCIManifest,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}},
	})
	ref := tag
	if ref == "" {
		ref = enfDigest(m)
	}
	return enfPushManifest(t, host, repo, ref, registry.MediaTypeOCIManifest, m), m
}

// enfPushIndex pushes an OCI index of the given children (digest, size,
// platform) under tag.
func enfPushIndex(t testing.TB, host, repo, tag string, children [][3]string) (string, []byte) {
	t.Helper()
	var ms []any
	for _, c := range children {
		os, arch, _ := strings.Cut(c[2], "/")
		var size int
		fmt.Sscan(c[1], &size)
		ms = append(ms, map[string]any{"mediaType": registry.MediaTypeOCIManifest, "digest": c[0], "size": size, "platform": map[string]string{"os": os, "architecture": arch}})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": registry.MediaTypeOCIIndex, "manifests": ms})
	return enfPushManifest(t, host, repo, tag, registry.MediaTypeOCIIndex, b), b
}

// enfTrust is our trust server in-process and a trust directory to sign
// images into it with package image.
type enfTrust struct {
	srv  *httptest.Server
	opts image.Options
}

func enfStartTrust(t testing.TB) *enfTrust {
	t.Helper()
	s, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	rc, err := registry.New(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &enfTrust{srv: ts, opts: image.Options{
		Registry: rc,
		Repository: func(gun string) (*client.Repository, error) {
			return client.NewRepository(gun, client.Options{TrustDir: dir, ServerURL: ts.URL, Retriever: passphrase.Constant("interop passphrase")})
		},
	}}
}

// sign signs ref (host/repo:tag) as the Docker CLI would, into targets.
func (e *enfTrust) sign(t testing.TB, ref string) image.Signed {
	t.Helper()
	s, err := image.SignImage(context.Background(), ref, image.SignOptions{Options: e.opts})
	if err != nil {
		t.Fatalf("sign %s: %v", ref, err)
	}
	return s
}

// enfProxy runs the notary-proxy binary with cfg (listen is filled in)
// and returns its host:port and process.
func enfProxy(t testing.TB, cfg map[string]any) (string, *enfProc) {
	t.Helper()
	bin := ourBin(t, "./cmd/notary-proxy")
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg["listen"] = host
	if cfg["trust_dir"] == nil {
		cfg["trust_dir"] = filepath.Join(dir, "trust")
	}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "proxy.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := enfStart(t, dir, "notary-proxy", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, bin, "-config", cfgFile)
	p.waitUp(t, "http://"+host+"/healthz")
	return host, p
}

// enfCrane runs crane; it returns stdout, stderr and whether it succeeded.
func enfCrane(t testing.TB, args ...string) (string, string, bool) {
	t.Helper()
	bin := enfPeer(t, "crane")
	cmd := exec.Command(bin, append(args, "--insecure")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

// enfRegctl runs regctl with its own config home, in which proxy (a
// plain-HTTP host) is set to TLS disabled.
func enfRegctl(t testing.TB, home, proxy string, args ...string) (string, string, bool) {
	t.Helper()
	bin := enfPeer(t, "regctl")
	run := func(args ...string) (string, string, bool) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err == nil
	}
	if _, errs, ok := run("registry", "set", "--tls", "disabled", proxy); !ok {
		t.Fatalf("regctl registry set: %s", errs)
	}
	return run(args...)
}
