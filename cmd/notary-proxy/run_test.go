package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/notary-go/notary/registry/registrytest"
)

// run as main calls it: TLS from tls_cert/tls_key, the policy from a
// path; with no rule and default allow, a manifest passes through.
func TestRunTLS(t *testing.T) {
	up := registrytest.NewTLS()
	defer up.Close()
	dir := t.TempDir()
	ca, err := up.CAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	mt, body := registrytest.ImageManifest(false, "x")
	up.Put("org/app", "1", mt, body)
	// The proxy serves with the same httptest certificate (valid for
	// 127.0.0.1), written out as files.
	cert := up.Server.TLS.Certificates[0]
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePEM(t, certFile, keyFile, cert)
	polFile := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(polFile, []byte(`{"default": "allow"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"listen": "127.0.0.1:0", "tls_cert": %q, "tls_key": %q, "log_level": "error",
 "upstream": {"url": %q, "ca": %q}, "trust_dir": %q, "policy": %q}`, certFile, keyFile, up.Server.URL, ca, filepath.Join(dir, "trust"), polFile)
	cfgFile := filepath.Join(dir, "proxy.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, errc := make(chan string, 1), make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-config", cfgFile}, func(string) string { return "" }, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: up.Server.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}}
	resp, err := hc.Get("https://" + addr + "/v2/org/app/manifests/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != registrytest.Digest(body) {
		t.Fatalf("status %d digest %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"))
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-config"}, {"-config", "/nonexistent"}, {"extra"}} {
		if err := run(context.Background(), args, os.Getenv, nil); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func TestTuneTransport(t *testing.T) {
	orig := &http.Transport{MaxIdleConnsPerHost: 2}
	got, ok := tuneTransport(orig).(*http.Transport)
	if !ok || got == orig {
		t.Fatalf("want a tuned copy, got %T", got)
	}
	if !got.DisableCompression || got.MaxIdleConnsPerHost < 32 || got.ReadBufferSize < 256<<10 {
		t.Fatalf("not tuned: compression disabled %v, idle per host %d, read buffer %d", got.DisableCompression, got.MaxIdleConnsPerHost, got.ReadBufferSize)
	}
	if orig.DisableCompression || orig.MaxIdleConnsPerHost != 2 {
		t.Fatal("the original transport was changed")
	}
	other := http.RoundTripper(http.NewFileTransport(http.Dir(".")))
	if tuneTransport(other) != other {
		t.Fatal("a transport of another type should pass through")
	}
}
