package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
)

// ciMode reports whether missing prerequisites must fail rather than skip.
func ciMode() bool { return os.Getenv("CI") == "true" }

// need skips the test with why, or fails it under CI=true.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ciMode() {
		t.Fatal(msg + " (CI=true: required)")
	}
	t.Skip(msg)
}

// repoRoot is the module root, two levels up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// v1Bin returns the directory of the upstream v0.7.0 binaries
// ($NOTARY_V1_BIN, filled by scripts/install-peers.sh).
func v1Bin(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("NOTARY_V1_BIN")
	if dir == "" {
		need(t, "NOTARY_V1_BIN is not set: run scripts/install-peers.sh and export NOTARY_V1_BIN=$PWD/.tools/bin")
	}
	for _, n := range []string{"notary", "notary-server"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			need(t, "upstream %s missing in NOTARY_V1_BIN=%s: run scripts/install-peers.sh", n, dir)
		}
	}
	return dir
}

// upstreamMigrations returns upstream's migrations/<kind>/<engine>
// directory (kind "server" or "signer", engine "postgresql" or "mysql")
// from the tools module's module cache.
func upstreamMigrations(t testing.TB, kind, engine string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-C", filepath.Join(repoRoot(t), "tools"), "-m", "-f", "{{.Dir}}", "github.com/theupdateframework/notary").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		need(t, "upstream notary v0.7.0 sources not in the module cache (go list in tools/: %v); run scripts/install-peers.sh", err)
	}
	return filepath.Join(dir, "migrations", kind, engine)
}

// engineDir maps our backend names to upstream's migration directories.
var engineDir = map[string]string{"postgres": "postgresql", "mysql": "mysql"}

// upstreamDB creates an isolated database (PostgreSQL schema or MySQL
// database) holding upstream's schema for kind, built by applying
// upstream's own golang-migrate files in order. It returns the DSN (valid
// for upstream's binaries and for our drivers) and an open pool.
func upstreamDB(t testing.TB, backend, kind string) (string, *sql.DB) {
	t.Helper()
	dsn := sqltest.DSN(t, backend)
	db, _, err := drivers.OpenDB(context.Background(), backend, dsn, drivers.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := upstreamMigrations(t, kind, engineDir[backend])
	files, err := filepath.Glob(filepath.Join(dir, "*.up.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no upstream migrations in %s: %v", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range strings.Split(string(b), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("upstream migration %s: %v\n%s", filepath.Base(f), err, stmt)
			}
		}
	}
	return dsn, db
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A proc is a process started by a test, killed at cleanup; its output
// goes to a log file shown when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProc(t testing.TB, name, bin string, args []string, env []string) *proc {
	t.Helper()
	logf := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }() //nolint:errcheck // exit status is irrelevant
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(logf)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("--- tail of %s log:\n%s", name, b)
		}
	})
	return p
}

// stop kills the process (it holds no state worth a graceful stop here)
// and waits for it.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill() //nolint:errcheck
	<-p.done
}

// waitHTTP polls url until it answers 200, or fails the test.
func waitHTTP(t testing.TB, url string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p != nil {
			select {
			case <-p.done:
				t.Fatalf("%s exited before answering %s", p.name, url)
			default:
			}
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 30s", url)
}

// cliPassphrases are the upstream CLI's passphrases for every test.
var cliPassphrases = []string{
	"NOTARY_ROOT_PASSPHRASE=root-passphrase", "NOTARY_TARGETS_PASSPHRASE=targets-passphrase",
	"NOTARY_SNAPSHOT_PASSPHRASE=snapshot-passphrase", "NOTARY_DELEGATION_PASSPHRASE=delegation-passphrase",
}

// notaryCLI runs the upstream notary client against serverURL with the
// trust directory dir and returns its combined output.
func notaryCLI(t testing.TB, serverURL, dir string, args ...string) (string, error) {
	t.Helper()
	return notaryCLIInput(t, "", serverURL, dir, args...)
}

// notaryCLIInput is notaryCLI with stdin (e.g. "yes\n" to confirm a root
// key rotation).
func notaryCLIInput(t testing.TB, stdin, serverURL, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"-s", serverURL, "-d", dir}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(v1Bin(t), "notary"), full...)
	cmd.Env = append(os.Environ(), cliPassphrases...)
	cmd.Env = append(cmd.Env, "NOTARY_AUTH=")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustCLI is notaryCLI failing the test on error.
func mustCLI(t testing.TB, serverURL, dir string, args ...string) string {
	t.Helper()
	out, err := notaryCLI(t, serverURL, dir, args...)
	if err != nil {
		t.Fatalf("notary %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// listedTargets parses the target names of `notary list` output.
func listedTargets(out string) []string {
	var names []string
	header := true
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if header {
			if f[0] == "NAME" {
				header = false
			}
			continue
		}
		if strings.HasPrefix(f[0], "---") {
			continue
		}
		names = append(names, f[0])
	}
	sort.Strings(names)
	return names
}

// ourServerBinary builds ./cmd/notary-server into the test's temporary
// directory (the build cache makes repeated builds quick).
func ourServerBinary(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "notary-server")
	if b, err := exec.Command("go", "build", "-C", repoRoot(t), "-o", out, "./cmd/notary-server").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/notary-server: %v\n%s", err, b)
	}
	return out
}

// A pki is a throw-away CA with server and client certificates for
// 127.0.0.1, written as PEM files.
type pki struct {
	caFile         string
	pool           *x509.CertPool
	serverCert     tls.Certificate
	certFile       string // server certificate (also valid as a client's)
	keyFile        string
	clientCertFile string
	clientKeyFile  string
	clientCertTLS  tls.Certificate
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	ca := testpki.New(t, "notary integration test CA")
	// Certificates for localhost and 127.0.0.1, valid for servers and clients.
	issue := func(name string) *testpki.Leaf {
		return ca.Issue(t, "notary-"+name, testpki.Options{
			DNS: []string{"localhost"}, IPs: testpki.Loopback(), ServerAuth: true, ClientAuth: true, SEC1Key: true,
		})
	}
	srv, cli := issue("server"), issue("client")
	return &pki{
		caFile: ca.CAFile, pool: ca.Pool,
		serverCert: srv.TLS, certFile: srv.CertFile, keyFile: srv.KeyFile,
		clientCertTLS: cli.TLS, clientCertFile: cli.CertFile, clientKeyFile: cli.KeyFile,
	}
}

// startSigner serves our signer over kdb on 127.0.0.1 with mutual TLS
// (the PKI's server certificate; clients need one from its CA) and
// returns its address. It stops at cleanup.
func startSigner(t testing.TB, p *pki, kdb *keydb.DB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(signer.ServerTLSConfig(p.serverCert, p.pool))))
	signer.NewServer(kdb, signer.Options{}).Register(gs)
	go gs.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(gs.Stop)
	return l.Addr().String()
}

// passMap resolves aliases from a map, like NOTARY_SIGNER_<ALIAS>.
func passMap(m map[string]string) keydb.PassphraseFunc {
	return func(alias string) (string, error) {
		if p, ok := m[alias]; ok {
			return p, nil
		}
		return "", &keydb.MissingPassphraseError{Alias: alias, Source: keydb.EnvVar(alias)}
	}
}

// upstreamServerConfig writes a v0.7.0 notary-server config: plain HTTP
// on addr, storage backend/dsn, and a remote signer at signerAddr reached
// with the PKI's client certificate.
func upstreamServerConfig(t testing.TB, p *pki, addr, backend, dsn, signerAddr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(signerAddr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{
 "server": {"http_addr": %q},
 "trust_service": {"type": "remote", "hostname": %q, "port": %q, "tls_ca_file": %q, "key_algorithm": "ecdsa",
                   "tls_client_cert": %q, "tls_client_key": %q},
 "logging": {"level": "info"},
 "storage": {"backend": %q, "db_url": %q}
}`, addr, host, port, p.caFile, p.clientCertFile, p.clientKeyFile, backend, dsn)
	f := filepath.Join(t.TempDir(), "server.json")
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// ourServerConfig writes our notary-server's config for storage
// backend/dsn with in-process signing (plain HTTP on addr).
func ourServerConfig(t testing.TB, addr, backend, dsn string) string {
	t.Helper()
	cfg := fmt.Sprintf(`{"server": {"http_addr": %q}, "logging": {"level": "warn"}, "storage": {"backend": %q, "db_url": %q}}`, addr, backend, dsn)
	f := filepath.Join(t.TempDir(), "our-server.json")
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// getBody GETs url and returns status and body.
func getBody(t testing.TB, client *http.Client, url string) (int, []byte) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b.Bytes()
}
