package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// notifyBuffer is a goroutine-safe writer that signals once what was
// written matches re.
type notifyBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	match chan []string
	done  bool
}

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if !b.done {
		if m := b.re.FindStringSubmatch(b.buf.String()); m != nil {
			b.done = true
			b.match <- m
		}
	}
	return n, err
}

func (b *notifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startTLSAuto runs the server with -tls-auto in dataDir on a free port
// until the test ends; it returns the printed instructions and the
// https://localhost:port address.
func startTLSAuto(t *testing.T, dataDir string) (help, hostport string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &notifyBuffer{
		re:    regexp.MustCompile(`(?s)notary -s https://(localhost:\d+) --tlscacert .*Docker:.*\n\n`),
		match: make(chan []string, 1),
	}
	errc := make(chan error, 1)
	go func() {
		errc <- serve(ctx, flags{dataDir: dataDir, tlsAuto: true, logFormat: "logfmt"}, out,
			envFrom(map[string]string{"NOTARY_SERVER_SERVER_HTTP_ADDR": "127.0.0.1:0"}))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case m := <-out.match:
		return out.String(), m[1]
	case err := <-errc:
		errc <- err
		t.Fatalf("server stopped: %v\n%s", err, out.String())
	}
	return "", ""
}

func caClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no CA in", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestTLSAuto: -tls-auto serves HTTPS that a client trusting only the
// printed CA verifies, for localhost and 127.0.0.1; keys are 0600; the
// printed commands name the real port and CA; a restart keeps the same
// CA and certificate.
func TestTLSAuto(t *testing.T) {
	dataDir := t.TempDir()
	caFile := filepath.Join(dataDir, tlsAutoDir, tlsAutoCA)
	help, hostport := startTLSAuto(t, dataDir)
	abs := mustAbs(caFile)
	for _, want := range []string{
		"notary -s https://" + hostport + " --tlscacert " + abs + " list <gun>",
		"mkdir -p ~/.docker/tls/" + hostport + " && cp " + abs + " ~/.docker/tls/" + hostport + "/ca.crt",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("instructions lack %q:\n%s", want, help)
		}
	}
	for _, f := range []string{tlsAutoCAKey, tlsAutoKey} {
		fi, err := os.Stat(filepath.Join(dataDir, tlsAutoDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, fi, err)
		}
	}
	c := caClient(t, caFile)
	port := strings.TrimPrefix(hostport, "localhost:")
	for _, host := range []string{"localhost", "127.0.0.1"} {
		resp, err := c.Get("https://" + host + ":" + port + "/_notary_server/health")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", host, resp.StatusCode)
		}
	}
	// A client without the CA refuses the server.
	if resp, err := http.Get("https://" + hostport + "/_notary_server/health"); err == nil {
		resp.Body.Close()
		t.Error("a client without the local CA accepted the server")
	}

	ca1, _ := os.ReadFile(caFile)
	leaf1, _ := os.ReadFile(filepath.Join(dataDir, tlsAutoDir, tlsAutoCert))
	_, hostport2 := startTLSAuto(t, dataDir)
	if ca2, _ := os.ReadFile(caFile); !bytes.Equal(ca1, ca2) {
		t.Error("restart replaced the CA")
	}
	if leaf2, _ := os.ReadFile(filepath.Join(dataDir, tlsAutoDir, tlsAutoCert)); !bytes.Equal(leaf1, leaf2) {
		t.Error("restart replaced a valid server certificate")
	}
	resp, err := c.Get("https://" + hostport2 + "/_notary_server/health")
	if err != nil {
		t.Fatalf("after restart, the old CA does not verify: %v", err)
	}
	resp.Body.Close()
}

// TestTLSAutoRenewal: a server certificate near expiry is replaced by
// one from the same CA; a CA that does not load stops the server
// rather than being silently replaced (clients trust it).
func TestTLSAutoRenewal(t *testing.T) {
	dataDir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := ensureAutoTLS(dataDir, now)
	if err != nil {
		t.Fatal(err)
	}
	ca1, _ := os.ReadFile(a.caFile)
	leaf1, _ := os.ReadFile(a.certFile)
	for _, tc := range []struct {
		name    string
		at      time.Time
		renewed bool
	}{
		{"Fresh", now.Add(24 * time.Hour), false},
		{"NearExpiry", now.Add(tlsAutoCertLife - 10*24*time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ensureAutoTLS(dataDir, tc.at); err != nil {
				t.Fatal(err)
			}
			if ca, _ := os.ReadFile(a.caFile); !bytes.Equal(ca, ca1) {
				t.Error("CA replaced")
			}
			leaf, _ := os.ReadFile(a.certFile)
			if renewed := !bytes.Equal(leaf, leaf1); renewed != tc.renewed {
				t.Errorf("renewed = %v, want %v", renewed, tc.renewed)
			}
			leaf1 = leaf
		})
	}
	if err := os.WriteFile(a.caFile, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureAutoTLS(dataDir, now); err == nil || !strings.Contains(err.Error(), "remove the folder") {
		t.Errorf("broken CA: %v, want an error naming the fix", err)
	}
	if b, _ := os.ReadFile(a.caFile); string(b) != "garbage" {
		t.Error("a broken CA was overwritten")
	}
}

// TestTLSAutoWithConfiguredCert: -tls-auto with a configured certificate
// is refused rather than one silently winning.
func TestTLSAutoWithConfiguredCert(t *testing.T) {
	cfg := writeConfig(t, `{"server":{"http_addr":"127.0.0.1:0","tls_cert_file":"a.crt","tls_key_file":"a.key"},"storage":{"backend":"memory"}}`)
	var out bytes.Buffer
	if code := run([]string{"-tls-auto", "-config", cfg}, &out, envFrom(nil)); code != 1 || !strings.Contains(out.String(), "choose one") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
}
