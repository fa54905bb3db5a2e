//go:build interop

package interop

// Harness for the client interop tests (client_test.go): our notary CLI
// and v0.7.0's, each with its own (or a shared) trust directory, against
// the real v0.7.0 notary-server + notary-signer pair over mutual TLS, or
// against our notary-server (harness_server.go's startServer).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	clientBuildOnce sync.Once
	clientBin       string
	clientBuildErr  error
)

// clientOurBin builds ./cmd/notary once per test binary.
func clientOurBin(t testing.TB) string {
	t.Helper()
	clientBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "notary-go-client-bin")
		if err != nil {
			clientBuildErr = err
			return
		}
		clientBin = filepath.Join(dir, "notary")
		root, err := moduleRoot()
		if err != nil {
			clientBuildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", clientBin, "./cmd/notary")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			clientBuildErr = fmt.Errorf("go build ./cmd/notary: %v\n%s", err, out)
		}
	})
	if clientBuildErr != nil {
		t.Fatal(clientBuildErr)
	}
	return clientBin
}

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

// clientPKI is a CA with certificates for the signer (SAN IP 127.0.0.1),
// the server's TLS endpoint, and the server's client certificate to the
// signer.
type clientPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
}

func newClientPKI(t testing.TB) *clientPKI {
	t.Helper()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client interop CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &clientPKI{dir: dir, ca: ca, caKey: key, CAFile: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	return p
}

// issue writes name.crt and name.key, a certificate for 127.0.0.1 and
// localhost usable for both server and client authentication.
func (p *clientPKI) issue(t testing.TB, name string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		DNSNames: []string{"localhost", name}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(p.dir, name+".crt"), filepath.Join(p.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
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
	pki := newClientPKI(t)
	dir := t.TempDir()
	signerCert, signerKey := pki.issue(t, "notary-signer")
	serverCert, serverKey := pki.issue(t, "notary-server")
	toSignerCert, toSignerKey := pki.issue(t, "notary-server-client")
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
