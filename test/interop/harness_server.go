//go:build interop

// Package interop runs our binaries against Notary v0.7.0's (from
// $NOTARY_V1_BIN, built by scripts/install-peers.sh) in both directions.
package interop

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

	"github.com/notary-go/notary/internal/testpki"
)

// v1Bin returns the directory holding the v0.7.0 binaries, skipping the
// test when NOTARY_V1_BIN is not set.
func v1Bin(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("NOTARY_V1_BIN")
	if dir == "" {
		requirePeer(t, "NOTARY_V1_BIN is not set: run scripts/install-peers.sh and export NOTARY_V1_BIN=$PWD/.tools/bin")
	}
	if _, err := os.Stat(filepath.Join(dir, "notary")); err != nil {
		t.Fatalf("NOTARY_V1_BIN=%s: %v", dir, err)
	}
	return dir
}

// requirePeer skips a test whose interop peer (an upstream binary, the
// Docker CLI, a token) is missing, or fails it on CI (CI=true), where
// scripts/test.sh provides every peer.
func requirePeer(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: every peer is required)", args...)
	}
	t.Skipf(format, args...)
}

// ourBuild is one package of ours built for the test binary.
type ourBuild struct {
	once sync.Once
	bin  string
	err  error
}

var ourBuilds sync.Map // package path -> *ourBuild

// ourBin builds pkg (such as "./cmd/notary-server") once per test binary
// and returns the binary's path.
func ourBin(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := ourBuilds.LoadOrStore(pkg, new(ourBuild))
	b := v.(*ourBuild)
	b.once.Do(func() {
		name := filepath.Base(pkg)
		dir, err := os.MkdirTemp("", "notary-go-"+name+"-bin")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(dir, name)
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		cmd := exec.Command("go", "build", "-o", b.bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// ourServerBin builds ./cmd/notary-server once per test binary.
func ourServerBin(t testing.TB) string { return ourBin(t, "./cmd/notary-server") }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// serverPKI is a throwaway CA and a server certificate for 127.0.0.1 and
// localhost, written as PEM files.
type serverPKI struct {
	CAFile, CertFile, KeyFile     string
	ClientCertFile, ClientKeyFile string // a client certificate from the same CA
	Pool                          *x509.CertPool
}

func newServerPKI(t testing.TB) *serverPKI {
	t.Helper()
	ca := testpki.New(t, "notary-go test CA")
	srv := ca.Issue(t, "notary-server", testpki.Options{
		DNS: []string{"localhost", "notary-server"}, IPs: testpki.Loopback(), ServerAuth: true, SEC1Key: true,
	})
	cli := ca.Issue(t, "notary-server client", testpki.Options{ClientAuth: true, SEC1Key: true})
	return &serverPKI{
		CAFile: ca.CAFile, CertFile: srv.CertFile, KeyFile: srv.KeyFile,
		ClientCertFile: cli.CertFile, ClientKeyFile: cli.KeyFile,
		Pool: ca.Pool,
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverKind selects the server binary.
type serverKind string

const (
	ourServer      serverKind = "ours"
	upstreamServer serverKind = "v0.7.0"
)

// A serverProc is a running notary-server process.
type serverProc struct {
	Kind    serverKind
	URL     string
	PKI     *serverPKI
	DataDir string
	Config  string
	LogFile string
	bin     string
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	env     []string
}

// serverOptions configure startServer.
type serverOptions struct {
	// DataDir holds our server's SQLite database; "" makes a new one.
	DataDir string
	// Port to listen on; 0 picks a free one.
	Port int
	// PKI to serve with; nil makes a new one.
	PKI *serverPKI
	// Storage overrides our server's backend ("memory" for benchmarks).
	Storage string
}

// startServer starts a notary-server of kind with TLS. Ours stores in
// SQLite under DataDir with in-process signing; v0.7.0 uses memory storage
// and its local (ed25519) signer, the only setup it runs without a
// database or notary-signer.
func startServer(t testing.TB, kind serverKind, o serverOptions) *serverProc {
	t.Helper()
	if o.PKI == nil {
		o.PKI = newServerPKI(t)
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Port == 0 {
		o.Port = freePort(t)
	}
	s := &serverProc{Kind: kind, PKI: o.PKI, DataDir: o.DataDir, URL: fmt.Sprintf("https://127.0.0.1:%d", o.Port)}
	cfg := map[string]any{
		"server": map[string]any{
			"http_addr":     fmt.Sprintf("127.0.0.1:%d", o.Port),
			"tls_cert_file": o.PKI.CertFile,
			"tls_key_file":  o.PKI.KeyFile,
		},
		"trust_service": map[string]any{"type": "local", "key_algorithm": "ecdsa"},
		"logging":       map[string]any{"level": "info"},
	}

	switch kind {
	case ourServer:
		s.bin = ourServerBin(t)
		st := map[string]any{"backend": "sqlite3", "db_url": filepath.Join(o.DataDir, "server.db")}
		if o.Storage != "" {
			st = map[string]any{"backend": o.Storage}
		}
		cfg["storage"] = st
		s.env = []string{"NOTARY_SERVER_KEY_PASSPHRASE=interop-test-passphrase"}
	case upstreamServer:
		s.bin = filepath.Join(v1Bin(t), "notary-server")
		if _, err := os.Stat(s.bin); err != nil {
			requirePeer(t, "notary-server v0.7.0 not built (%v): run scripts/install-peers.sh", err)
		}
		cfg["storage"] = map[string]any{"backend": "memory"}
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	s.Config = filepath.Join(o.DataDir, fmt.Sprintf("server-config-%d.json", o.Port))
	if err := os.WriteFile(s.Config, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s.LogFile = filepath.Join(o.DataDir, fmt.Sprintf("server-%d.log", o.Port))
	s.start(t)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			if log, err := os.ReadFile(s.LogFile); err == nil {
				t.Logf("%s server log (%s):\n%s", s.Kind, s.LogFile, tail(string(log), 60))
			}
		}
	})
	return s
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func (s *serverProc) start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "-config", s.Config)
	s.cmd.Dir = s.DataDir
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	s.done = done
	cmd := s.cmd
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	if err := s.waitHealthy(20 * time.Second); err != nil {
		log, _ := os.ReadFile(s.LogFile)
		t.Fatalf("%s server did not become healthy: %v\n%s", s.Kind, err, log)
	}
}

// HTTPClient trusts the test CA.
func (s *serverProc) HTTPClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.PKI.Pool}, MaxIdleConnsPerHost: 64},
	}
}

func (s *serverProc) waitHealthy(d time.Duration) error {
	c := s.HTTPClient()
	c.Timeout = time.Second
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("process exited")
		default:
		}
		resp, err := c.Get(s.URL + "/_notary_server/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("health status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

// Stop ends the server with SIGTERM (SIGKILL after 10s).
func (s *serverProc) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Kill ends the server with SIGKILL, as a crash would.
func (s *serverProc) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the same server again (same config, data and port).
func (s *serverProc) Restart(t testing.TB) { s.start(t) }

// Pid is the server's process id (0 when stopped).
func (s *serverProc) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// serverCLI runs the v0.7.0 notary CLI with its own trust directory.
type serverCLI struct {
	t      testing.TB
	bin    string
	dir    string
	config string
	server *serverProc
	env    []string
}

// newServerCLI makes a CLI with a fresh trust directory, configured (-c)
// for srv with its CA (--tlscacert).
func newServerCLI(t testing.TB, srv *serverProc) *serverCLI {
	t.Helper()
	dir := t.TempDir()
	c := &serverCLI{t: t, bin: filepath.Join(v1Bin(t), "notary"), dir: dir, server: srv}
	c.config = filepath.Join(dir, "config.json")
	b, _ := json.Marshal(map[string]any{
		"trust_dir":     filepath.Join(dir, "trust"),
		"remote_server": map[string]any{"url": srv.URL},
	})
	if err := os.WriteFile(c.config, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(),
		"NOTARY_ROOT_PASSPHRASE=root-passphrase-1",
		"NOTARY_TARGETS_PASSPHRASE=targets-passphrase-1",
		"NOTARY_SNAPSHOT_PASSPHRASE=snapshot-passphrase-1",
		"NOTARY_DELEGATION_PASSPHRASE=delegation-passphrase-1",
	)
	return c
}

// run runs the CLI with args (and stdin) and returns its combined output.
func (c *serverCLI) run(stdin []byte, args ...string) (string, error) {
	c.t.Helper()
	full := append([]string{"-c", c.config, "--tlscacert", c.server.PKI.CAFile}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs the CLI and fails the test on a non-zero exit.
func (c *serverCLI) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(nil, args...)
	if err != nil {
		c.t.Fatalf("notary %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// file writes content to a file in the client's directory.
func (c *serverCLI) file(name string, content []byte) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// serverDelegationCert makes a key and self-signed certificate for a delegation
// (as `openssl req -x509` would), written as PEM files.
func serverDelegationCert(t testing.TB, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	testpki.WritePEM(t, certFile, "CERTIFICATE", der)
	testpki.WritePEM(t, keyFile, "PRIVATE KEY", p8)
	return certFile, keyFile
}
