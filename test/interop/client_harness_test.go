//go:build interop

package interop

// Harness for the client interop tests (client_test.go): our notary CLI
// and v0.7.0's, each with its own (or a shared) trust directory, against
// the real v0.7.0 notary-server + notary-signer pair over mutual TLS, or
// against our notary-server (harness_server.go's startServer).

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/testpki"
)

// clientOurBin builds ./cmd/notary once per test binary.
func clientOurBin(t testing.TB) string { return ourBin(t, "./cmd/notary") }

// clientServer is a running trust server the CLIs talk to.
type clientServer struct {
	Name   string
	URL    string
	CAFile string
	// Delegations is false for v0.7.0's server built with a modern Go,
	// which rejects every delegation upload.
	Delegations bool
}

// clientCLI runs one notary CLI binary (ours or v0.7.0's) on a trust
// directory against a server.
type clientCLI struct {
	t        testing.TB
	name     string
	bin      string
	trustDir string
	srv      *clientServer
	env      []string
}

// The passphrases every interop key uses (both CLIs read the same
// NOTARY_*_PASSPHRASE variables).
var clientEnv = []string{
	"NOTARY_ROOT_PASSPHRASE=interop-root-pass",
	"NOTARY_TARGETS_PASSPHRASE=interop-targets-pass",
	"NOTARY_SNAPSHOT_PASSPHRASE=interop-snapshot-pass",
	"NOTARY_DELEGATION_PASSPHRASE=interop-delegation-pass",
}

func clientOurs(t testing.TB, srv *clientServer, trustDir string) *clientCLI {
	return clientNewCLI(t, "ours", clientOurBin(t), srv, trustDir)
}

func clientUpstream(t testing.TB, srv *clientServer, trustDir string) *clientCLI {
	return clientNewCLI(t, "v0.7.0", filepath.Join(v1Bin(t), "notary"), srv, trustDir)
}

func clientNewCLI(t testing.TB, name, bin string, srv *clientServer, trustDir string) *clientCLI {
	t.Helper()
	if trustDir == "" {
		trustDir = t.TempDir()
	}
	home := t.TempDir() // no ~/.notary/config.json of the user's
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	env = append(env, clientEnv...)
	return &clientCLI{t: t, name: name, bin: bin, trustDir: trustDir, srv: srv, env: env}
}

// run runs the CLI with -d, -s and --tlscacert, returning stdout and
// stderr together (v0.7.0 prints errors on stdout).
func (c *clientCLI) run(stdin string, args ...string) (string, error) {
	c.t.Helper()
	full := []string{"-d", c.trustDir, "-s", c.srv.URL, "--tlscacert", c.srv.CAFile}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *clientCLI) must(args ...string) string {
	c.t.Helper()
	return c.mustIn("", args...)
}

func (c *clientCLI) mustIn(stdin string, args ...string) string {
	c.t.Helper()
	out, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("%s notary %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
	}
	return out
}

func (c *clientCLI) mustFail(args ...string) string {
	c.t.Helper()
	out, err := c.run("", args...)
	if err == nil {
		c.t.Fatalf("%s notary %s succeeded, want failure:\n%s", c.name, strings.Join(args, " "), out)
	}
	return out
}

func (c *clientCLI) file(name, content string) string {
	c.t.Helper()
	dir := c.t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func clientHas(t testing.TB, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output does not contain %q:\n%s", what, s, out)
		}
	}
}

func clientLacks(t testing.TB, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(out, s) {
			t.Errorf("%s: output contains %q:\n%s", what, s, out)
		}
	}
}

// clientCert issues name.crt and name.key from ca, a certificate for
// 127.0.0.1, localhost and name usable for both server and client
// authentication.
func clientCert(t testing.TB, ca *testpki.CA, name string) (certFile, keyFile string) {
	t.Helper()
	return ca.Issue(t, name, testpki.Options{
		DNS: []string{"localhost", name}, IPs: testpki.Loopback(), ServerAuth: true, ClientAuth: true, SEC1Key: true,
	}).Files()
}

// clientProc is a process started for the test, stopped at cleanup.
type clientProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func clientStart(t testing.TB, dir, name string, args ...string) *clientProc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &clientProc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, tail(string(b), 40))
		}
	})
	return p
}

// startUpstreamPair starts v0.7.0's notary-signer (gRPC over mutual TLS,
// memory storage) and notary-server (TLS, remote trust service through
// that signer with a client certificate, memory storage).
func startUpstreamPair(t testing.TB) *clientServer {
	t.Helper()
	bin := v1Bin(t)
	pki := testpki.New(t, "client interop CA")
	dir := t.TempDir()
	signerCert, signerKey := clientCert(t, pki, "notary-signer")
	serverCert, serverKey := clientCert(t, pki, "notary-server")
	toSignerCert, toSignerKey := clientCert(t, pki, "notary-server-client")
	signerPort, serverPort := freePort(t), freePort(t)

	writeJSON := func(name string, v any) string {
		p := filepath.Join(dir, name)
		b, _ := json.MarshalIndent(v, "", "  ")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	signerCfg := writeJSON("signer.json", map[string]any{
		"server": map[string]any{
			"grpc_addr":      fmt.Sprintf("127.0.0.1:%d", signerPort),
			"tls_cert_file":  signerCert,
			"tls_key_file":   signerKey,
			"client_ca_file": pki.CAFile,
		},
		"logging": map[string]any{"level": "info"},
		"storage": map[string]any{"backend": "memory"},
	})
	serverCfg := writeJSON("server.json", map[string]any{
		"server": map[string]any{
			"http_addr":     fmt.Sprintf("127.0.0.1:%d", serverPort),
			"tls_cert_file": serverCert,
			"tls_key_file":  serverKey,
		},
		"trust_service": map[string]any{
			"type":            "remote",
			"hostname":        "127.0.0.1",
			"port":            fmt.Sprint(signerPort),
			"tls_ca_file":     pki.CAFile,
			"key_algorithm":   "ecdsa",
			"tls_client_cert": toSignerCert,
			"tls_client_key":  toSignerKey,
		},
		"logging": map[string]any{"level": "info"},
		"storage": map[string]any{"backend": "memory"},
	})
	clientStart(t, dir, "notary-signer", filepath.Join(bin, "notary-signer"), "-config", signerCfg)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", signerPort))
	clientStart(t, dir, "notary-server", filepath.Join(bin, "notary-server"), "-config", serverCfg)
	srv := &clientServer{Name: "v0.7.0 server + v0.7.0 signer (mTLS)", URL: fmt.Sprintf("https://127.0.0.1:%d", serverPort), CAFile: pki.CAFile}
	waitHealthy(t, srv)
	return srv
}

// startOurServer starts our notary-server binary (harness_server.go).
func startOurServer(t testing.TB) *clientServer {
	t.Helper()
	s := startServer(t, ourServer, serverOptions{})
	return &clientServer{Name: "our server", URL: s.URL, CAFile: s.PKI.CAFile, Delegations: true}
}

func waitTCP(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not accept connections", addr)
}

// waitHealthy waits until the server answers /v2/ (its health endpoint
// turns 200 only after the first periodic signer check).
func waitHealthy(t testing.TB, srv *clientServer) {
	t.Helper()
	pem, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := clientHTTP(pool)
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := hc.Get(srv.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not come up: %v", srv.Name, last)
}

func clientHTTP(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
