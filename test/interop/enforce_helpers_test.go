//go:build interop

package interop

// Helpers of the enforcement interop tests (enforce_*_test.go, issue 12):
// the CNCF distribution registry and crane as peers (built by
// scripts/install-registry-peers.sh), our trust server in-process, images
// pushed with the registry API and signed with package image, and the
// notary-proxy binary. Peers, processes and registries come from the
// registry helpers (registry_helpers_test.go); what is here has no twin
// there and is prefixed enf so it cannot clash with the other interop
// helpers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// enfPushBlob uploads b (monolithic POST then PUT) unless present.
func enfPushBlob(t testing.TB, host, repo string, b []byte) string {
	t.Helper()
	d := regDigest(b)
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
	return regDigest(body)
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
		ref = regDigest(m)
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
func enfProxy(t testing.TB, cfg map[string]any) (string, *regProc) {
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
	p := regStartProc(t, dir, "notary-proxy", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, bin, "-config", cfgFile)
	p.waitUp(t, "http://"+host+"/healthz", nil)
	return host, p
}

// enfCrane runs crane against a plain-HTTP registry or proxy
// (--insecure), without credentials; it returns stdout, stderr and
// whether it succeeded.
func enfCrane(t testing.TB, args ...string) (string, string, bool) {
	t.Helper()
	c := regNewCrane(t, regDockerConfig(t, nil), "")
	out, errs, err := c.output(append(args, "--insecure")...)
	return out, errs, err == nil
}

// enfRegctl runs regctl with its own config home, in which proxy (a
// plain-HTTP host) is set to TLS disabled.
func enfRegctl(t testing.TB, home, proxy string, args ...string) (string, string, bool) {
	t.Helper()
	bin := regPeer(t, "regctl")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	if _, errs, err := regExec(bin, env, "registry", "set", "--tls", "disabled", proxy); err != nil {
		t.Fatalf("regctl registry set: %s", errs)
	}
	out, errs, err := regExec(bin, env, args...)
	return out, errs, err == nil
}
