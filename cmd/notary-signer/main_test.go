package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
	pb "github.com/notary-go/notary/signer/signerpb"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
)

// syncBuffer is a bytes.Buffer safe for the signer's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// testPKI is a CA with a signer certificate and client certificates, one
// good, one from another CA and one expired.
type testPKI struct {
	dir                     string
	ca, other               *testpki.CA
	signerCert, signerKey   string
	clientCert, clientKey   string
	otherCert, otherKey     string
	expiredCert, expiredKey string
	clientCA                string
	serverName              string
}

// signerServerCert is a certificate for a signer or server endpoint, named
// name, notary-signer, localhost and 127.0.0.1, that also serves as a client
// certificate.
func signerServerCert(name string) testpki.Options {
	return testpki.Options{DNS: []string{name, "notary-signer", "localhost"}, IPs: testpki.Loopback(), ServerAuth: true, ClientAuth: true}
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir, serverName: "notary-signer"}
	p.ca = testpki.New(t, "root")
	p.other = testpki.New(t, "other")
	p.clientCA = p.ca.CAFile
	p.signerCert, p.signerKey = p.ca.Issue(t, "signer", signerServerCert("signer")).Files()
	p.clientCert, p.clientKey = p.ca.Issue(t, "notary-server", testpki.Options{ClientAuth: true}).Files()
	p.otherCert, p.otherKey = p.other.Issue(t, "intruder", testpki.Options{ClientAuth: true}).Files()
	p.expiredCert, p.expiredKey = p.ca.Issue(t, "expired", testpki.Options{ClientAuth: true,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Files()
	return p
}

// clientTLS is the TLS config of a client presenting certFile (none if "").
func (p *testPKI) clientTLS(t *testing.T, certFile, keyFile string) *tls.Config {
	t.Helper()
	c, err := signer.LoadClientTLS(p.clientCA, certFile, keyFile, p.serverName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// baseConfig is a signer config for the PKI, listening on a free port.
func (p *testPKI) baseConfig(backend map[string]any) map[string]any {
	return map[string]any{
		"server": map[string]any{
			"grpc_addr":      "127.0.0.1:0",
			"tls_cert_file":  p.signerCert,
			"tls_key_file":   p.signerKey,
			"client_ca_file": p.clientCA,
		},
		"logging": map[string]any{"level": "debug"},
		"storage": backend,
	}
}

func writeConfig(t *testing.T, dir string, cfg map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "signer-config-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// runningSigner is a signer served in-process by run.
type runningSigner struct {
	addr   string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

func startSigner(t *testing.T, configFile string, envm map[string]string) *runningSigner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningSigner{logs: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	addrc := make(chan net.Addr, 1)
	e := env{stdout: rs.logs, stderr: rs.logs, lookup: mapLookup(envm), listening: func(a net.Addr) { addrc <- a }}
	go func() { rs.done <- run(ctx, []string{"-config", configFile, "-logf", "json"}, e) }()
	select {
	case a := <-addrc:
		rs.addr = a.String()
	case code := <-rs.done:
		cancel()
		t.Fatalf("signer exited with %d before listening:\n%s", code, rs.logs)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("signer did not listen within 60s:\n%s", rs.logs)
	}
	t.Cleanup(func() { rs.stop(t) })
	return rs
}

// stop cancels the signer (as SIGTERM does) and returns its exit status.
func (rs *runningSigner) stop(t *testing.T) int {
	t.Helper()
	rs.cancel()
	select {
	case code := <-rs.done:
		rs.done <- code // later calls see it too
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("signer did not stop within 30s:\n%s", rs.logs)
	}
	return -1
}

func dialClient(t *testing.T, addr string, tc *tls.Config) *signer.Client {
	t.Helper()
	c, err := signer.Dial(addr, tc, signer.ClientOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialRaw(t *testing.T, addr string, tc *tls.Config) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func verifyECDSA(t *testing.T, pub keys.PublicKey, msg, sig []byte) {
	t.Helper()
	cp, err := pub.CryptoPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	ek, ok := cp.(*ecdsa.PublicKey)
	if !ok || len(sig) != 64 {
		t.Fatalf("want an ecdsa key and a 64-byte signature, got %T and %d bytes", cp, len(sig))
	}
	d := sha256.Sum256(msg)
	if !ecdsa.Verify(ek, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("signature does not verify")
	}
}

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	server := map[string]any{
		"grpc_addr":      ":7899",
		"tls_cert_file":  "./signer.crt",
		"tls_key_file":   "./signer.key",
		"client_ca_file": "./ca.crt",
	}
	tests := []struct {
		name    string
		cfg     map[string]any
		env     map[string]string
		serving bool
		wantErr string
		check   func(t *testing.T, c *config)
	}{
		{
			name:    "v1 memory config",
			cfg:     map[string]any{"server": server, "logging": map[string]any{"level": "debug"}, "storage": map[string]any{"backend": "memory"}},
			serving: true,
			check: func(t *testing.T, c *config) {
				if c.backend != "memory" || c.grpcAddr != ":7899" || c.logLevel != "debug" {
					t.Errorf("got %+v", c)
				}
				if want := filepath.Join(dir, "signer.crt"); c.tlsCert != want {
					t.Errorf("tlsCert = %q, want %q (relative to the config file)", c.tlsCert, want)
				}
			},
		},
		{
			name:    "default backend is sqlite3 beside the config",
			cfg:     map[string]any{"server": server, "storage": map[string]any{"default_alias": "a1"}},
			serving: true,
			check: func(t *testing.T, c *config) {
				if c.backend != backendSQLite || c.dbURL != filepath.Join(dir, defaultSQLiteFile) || c.logLevel != "error" {
					t.Errorf("got backend %q db %q level %q", c.backend, c.dbURL, c.logLevel)
				}
			},
		},
		{
			name:    "mysql with default alias from v1's env variable",
			cfg:     map[string]any{"server": server, "storage": map[string]any{"backend": "mysql", "db_url": "u@tcp(db:3306)/s"}},
			env:     map[string]string{"NOTARY_SIGNER_DEFAULT_ALIAS": "timestamp_1"},
			serving: true,
			check: func(t *testing.T, c *config) {
				if c.defaultAlias != "timestamp_1" {
					t.Errorf("defaultAlias = %q", c.defaultAlias)
				}
			},
		},
		{
			name:    "environment overrides the file",
			cfg:     map[string]any{"server": server, "storage": map[string]any{"backend": "memory"}},
			env:     map[string]string{"NOTARY_SIGNER_STORAGE_BACKEND": "postgres", "NOTARY_SIGNER_STORAGE_DB_URL": "postgres://x/y", "NOTARY_SIGNER_STORAGE_DEFAULT_ALIAS": "a"},
			serving: true,
			check: func(t *testing.T, c *config) {
				if c.backend != "postgres" || c.dbURL != "postgres://x/y" {
					t.Errorf("got %q %q", c.backend, c.dbURL)
				}
			},
		},
		{
			name:    "pkcs11",
			cfg:     map[string]any{"server": server, "storage": map[string]any{"backend": "pkcs11"}, "pkcs11": map[string]any{"module": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "t", "max_sessions": 4}},
			serving: true,
			check: func(t *testing.T, c *config) {
				if c.pkcs11Module != "/usr/lib/softhsm/libsofthsm2.so" || c.pkcs11Token != "t" || c.pkcs11Max != 4 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "no client CA", cfg: map[string]any{"server": map[string]any{"grpc_addr": ":1", "tls_cert_file": "a", "tls_key_file": "b"}, "storage": map[string]any{"backend": "memory"}},
			serving: true, wantErr: "server.client_ca_file is required"},
		{name: "no certificate", cfg: map[string]any{"server": map[string]any{"grpc_addr": ":1", "client_ca_file": "c"}, "storage": map[string]any{"backend": "memory"}},
			serving: true, wantErr: "unable to set up TLS"},
		{name: "no grpc_addr", cfg: map[string]any{"server": map[string]any{"tls_cert_file": "a", "tls_key_file": "b", "client_ca_file": "c"}, "storage": map[string]any{"backend": "memory"}},
			serving: true, wantErr: "grpc listen address required"},
		{name: "subcommands do not need the server section", cfg: map[string]any{"storage": map[string]any{"backend": "sqlite3", "db_url": "x.db", "default_alias": "a"}}},
		{name: "sql without alias", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "sqlite3"}}, serving: true, wantErr: "must provide a default alias"},
		{name: "mysql without db_url", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "mysql", "default_alias": "a"}}, serving: true, wantErr: "non-empty database source"},
		{name: "rethinkdb", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "rethinkdb"}}, serving: true, wantErr: "rethinkdb is not supported"},
		{name: "unknown backend", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "file"}}, serving: true, wantErr: "not an allowed backend"},
		{name: "bad log level", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "memory"}, "logging": map[string]any{"level": "loud"}}, serving: true, wantErr: "logging.level"},
		{name: "pkcs11 PIN in the file", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "pkcs11"}, "pkcs11": map[string]any{"module": "m", "token_label": "t", "pin": "1234"}},
			serving: true, wantErr: "NOTARY_SIGNER_PKCS11_PIN"},
		{name: "pkcs11 without module", cfg: map[string]any{"server": server, "storage": map[string]any{"backend": "pkcs11"}, "pkcs11": map[string]any{"token_label": "t"}},
			serving: true, wantErr: "pkcs11.module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeConfig(t, dir, tt.cfg)
			rc, err := loadRawConfig(file, mapLookup(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseConfig(rc, tt.serving)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestMutualTLS: with a client certificate from the client CA every
// service answers; without one only health does; a certificate from
// another CA or an expired one fails the handshake.
func TestMutualTLS(t *testing.T) {
	p := newTestPKI(t)
	rs := startSigner(t, writeConfig(t, p.dir, p.baseConfig(map[string]any{"backend": "memory"})), nil)
	ctx := context.Background()

	t.Run("client certificate", func(t *testing.T) {
		c := dialClient(t, rs.addr, p.clientTLS(t, p.clientCert, p.clientKey))
		if err := c.CheckHealth(ctx); err != nil {
			t.Fatal(err)
		}
		pub, err := c.CreateKey(ctx, "timestamp", "example.com/app", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.GetKeyInfo(ctx, pub.ID())
		if err != nil || info.Role != "timestamp" || info.ID != pub.ID() {
			t.Fatalf("GetKeyInfo = %+v, %v", info, err)
		}
		msg := metaBody(t, "timestamp", 1)
		sig, err := c.Sign(ctx, pub.ID(), msg)
		if err != nil {
			t.Fatal(err)
		}
		verifyECDSA(t, pub, msg, sig)
		if err := c.DeleteKey(ctx, pub.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetKeyInfo(ctx, pub.ID()); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("GetKeyInfo after DeleteKey: %v, want not found", err)
		}
	})

	t.Run("no client certificate", func(t *testing.T) {
		cc := dialRaw(t, rs.addr, p.clientTLS(t, "", ""))
		hc := healthpb.NewHealthClient(cc)
		for _, svc := range []string{"", signer.HealthKeyManagement, signer.HealthSigner} {
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("health %q without a client certificate = %v, %v; want SERVING", svc, resp.GetStatus(), err)
			}
		}
		km := pb.NewKeyManagementClient(cc)
		calls := map[string]func() error{
			"CreateKey": func() error {
				_, err := km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: "ecdsa", Gun: "g", Role: "timestamp"})
				return err
			},
			"GetKeyInfo": func() error { _, err := km.GetKeyInfo(ctx, &pb.KeyID{ID: strings.Repeat("a", 64)}); return err },
			"DeleteKey":  func() error { _, err := km.DeleteKey(ctx, &pb.KeyID{ID: strings.Repeat("a", 64)}); return err },
			"Sign": func() error {
				_, err := pb.NewSignerClient(cc).Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: strings.Repeat("a", 64)}, Content: []byte("x")})
				return err
			},
		}
		for name, call := range calls {
			if err := call(); status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s without a client certificate: %v, want Unauthenticated", name, err)
			}
		}
		// The signer.Client view: not "unavailable", a refusal.
		c := dialClient(t, rs.addr, p.clientTLS(t, "", ""))
		_, err := c.CreateKey(ctx, "timestamp", "g", keys.ECDSA)
		var re *signer.RemoteError
		if !errors.As(err, &re) || re.Code != codes.Unauthenticated {
			t.Errorf("signer.Client CreateKey without a certificate: %v, want a RemoteError Unauthenticated", err)
		}
		if !strings.Contains(rs.logs.String(), "refused a call without a client certificate") {
			t.Error("refusal not logged")
		}
	})

	// forced presents certFile whatever CAs the signer asks for, as an
	// attacker would; a standard Go client does not send a certificate
	// the signer's CA list does not name (see below).
	forced := func(t *testing.T, certFile, keyFile string) *tls.Config {
		tc := p.clientTLS(t, "", "")
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		return tc
	}
	refused := func(t *testing.T, tc *tls.Config) {
		cc := dialRaw(t, rs.addr, tc)
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := pb.NewKeyManagementClient(cc).CreateKey(cctx, &pb.CreateKeyRequest{Algorithm: "ecdsa", Gun: "g", Role: "timestamp"})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("CreateKey: %v, want the handshake to fail (Unavailable)", err)
		}
		_, err = healthpb.NewHealthClient(cc).Check(cctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			t.Error("health check succeeded over a refused handshake")
		}
		t.Logf("refused: %v", err)
	}
	t.Run("certificate from another CA", func(t *testing.T) {
		refused(t, forced(t, p.otherCert, p.otherKey))
		// A standard client only sends a certificate issued by a CA the
		// signer names, so this one connects without a certificate and
		// its signing calls are refused.
		cc := dialRaw(t, rs.addr, p.clientTLS(t, p.otherCert, p.otherKey))
		_, err := pb.NewSignerClient(cc).Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: strings.Repeat("a", 64)}, Content: []byte("x")})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("Sign with another CA's certificate: %v, want Unauthenticated", err)
		}
	})
	t.Run("expired certificate", func(t *testing.T) {
		refused(t, p.clientTLS(t, p.expiredCert, p.expiredKey))
		refused(t, forced(t, p.expiredCert, p.expiredKey))
	})
	for _, want := range []string{"refused a TLS connection", "certificate has expired", "unknown authority"} {
		if !strings.Contains(rs.logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, rs.logs)
		}
	}

	if code := rs.stop(t); code != 0 {
		t.Fatalf("exit status %d after graceful stop", code)
	}
	if !strings.Contains(rs.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no graceful stop in the logs:\n%s", rs.logs)
	}
}

// TestStartRefusesBadTLS: a certificate, key or CA that does not load
// stops the signer with a clear error, and so does a missing client CA.
func TestStartRefusesBadTLS(t *testing.T) {
	p := newTestPKI(t)
	notPEM := filepath.Join(p.dir, "not-pem.crt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(s map[string]any)
		wantErr string
	}{
		{"missing client CA", func(s map[string]any) { delete(s, "client_ca_file") }, "client_ca_file is required"},
		{"client CA file absent", func(s map[string]any) { s["client_ca_file"] = filepath.Join(p.dir, "nope.crt") }, "unable to set up TLS"},
		{"client CA not PEM", func(s map[string]any) { s["client_ca_file"] = notPEM }, "holds no PEM certificate"},
		{"certificate absent", func(s map[string]any) { s["tls_cert_file"] = filepath.Join(p.dir, "nope.crt") }, "unable to set up TLS"},
		{"key does not match", func(s map[string]any) { s["tls_key_file"] = p.clientKey }, "unable to set up TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.baseConfig(map[string]any{"backend": "memory"})
			tt.edit(cfg["server"].(map[string]any))
			var out syncBuffer
			code := run(context.Background(), []string{"-config", writeConfig(t, p.dir, cfg)}, env{stdout: &out, stderr: &out, lookup: mapLookup(nil)})
			if code != 1 || !strings.Contains(out.String(), tt.wantErr) {
				t.Fatalf("exit %d, output %q; want 1 and %q", code, out.String(), tt.wantErr)
			}
		})
	}
}

// TestSecretsNotLogged: passphrases and DSN passwords never reach the
// logs or errors, even at debug level.
func TestSecretsNotLogged(t *testing.T) {
	p := newTestPKI(t)
	const pass = "S3cret-Passphrase-0b5e"
	db := filepath.Join(p.dir, "keys.db")
	cfg := p.baseConfig(map[string]any{"backend": "sqlite3", "db_url": db, "default_alias": "alias1"})
	rs := startSigner(t, writeConfig(t, p.dir, cfg), map[string]string{"NOTARY_SIGNER_ALIAS1": pass})
	c := dialClient(t, rs.addr, p.clientTLS(t, p.clientCert, p.clientKey))
	pub, err := c.CreateKey(context.Background(), "snapshot", "example.com/s", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(context.Background(), pub.ID(), metaBody(t, "snapshot", 1)); err != nil {
		t.Fatal(err)
	}
	rs.stop(t)
	if strings.Contains(rs.logs.String(), pass) {
		t.Errorf("the passphrase is in the logs:\n%s", rs.logs)
	}
	if !strings.Contains(rs.logs.String(), `"msg":"grpc call"`) {
		t.Errorf("debug logs missing:\n%s", rs.logs)
	}

	// A database that cannot be reached: the error names the backend, not
	// the DSN's password.
	mcfg := p.baseConfig(map[string]any{"backend": "mysql", "db_url": "notary:hunter2secret@tcp(127.0.0.1:1)/signer", "default_alias": "a"})
	var out syncBuffer
	code := run(context.Background(), []string{"-config", writeConfig(t, p.dir, mcfg)}, env{stdout: &out, stderr: &out, lookup: mapLookup(map[string]string{"NOTARY_SIGNER_A": "x"})})
	if code != 1 || strings.Contains(out.String(), "hunter2secret") {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}

// TestMigrateAndRotateAlias: migrate creates the schema; rotate-alias
// re-encrypts every key while the signer keeps signing.
func TestMigrateAndRotateAlias(t *testing.T) {
	p := newTestPKI(t)
	db := filepath.Join(p.dir, "keys.db")
	cfgFile := writeConfig(t, p.dir, p.baseConfig(map[string]any{"backend": "sqlite3", "db_url": db, "default_alias": "alias1"}))
	envm := map[string]string{"NOTARY_SIGNER_ALIAS1": "first passphrase", "NOTARY_SIGNER_ALIAS2": "second passphrase"}
	ctx := context.Background()

	var out syncBuffer
	if code := run(ctx, []string{"migrate", "-config", cfgFile}, env{stdout: &out, stderr: &out, lookup: mapLookup(nil)}); code != 0 {
		t.Fatalf("migrate: exit %d:\n%s", code, out.String())
	}
	sqlDB, _, err := drivers.OpenDB(ctx, "sqlite3", db, drivers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	var n int
	if err := sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM private_keys").Scan(&n); err != nil || n != 0 {
		t.Fatalf("private_keys after migrate: %d rows, %v", n, err)
	}

	rs := startSigner(t, cfgFile, envm)
	c := dialClient(t, rs.addr, p.clientTLS(t, p.clientCert, p.clientKey))
	var pubs []keys.PublicKey
	var bodies [][]byte
	for i, role := range []string{"timestamp", "snapshot", "timestamp"} {
		pub, err := c.CreateKey(ctx, role, "example.com/r"+string(rune('a'+i)), keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub)
		bodies = append(bodies, metaBody(t, role, 1))
	}

	// Sign continuously while rotating.
	stop := make(chan struct{})
	signErr := make(chan error, 1)
	var signed int
	go func() {
		defer close(signErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i, pub := range pubs {
				msg := bodies[i]
				sig, err := c.Sign(ctx, pub.ID(), msg)
				if err != nil {
					signErr <- err
					return
				}
				_ = sig
				signed++
			}
		}
	}()
	out = syncBuffer{}
	code := run(ctx, []string{"rotate-alias", "-config", cfgFile, "-new-alias", "alias2"}, env{stdout: &out, stderr: &out, lookup: mapLookup(envm)})
	close(stop)
	if err := <-signErr; err != nil {
		t.Fatalf("signing during rotation: %v", err)
	}
	if code != 0 || !strings.Contains(out.String(), `re-encrypted 3 keys under alias "alias2"`) {
		t.Fatalf("rotate-alias: exit %d:\n%s", code, out.String())
	}
	t.Logf("%d signatures during the rotation", signed)

	rows, err := sqlDB.QueryContext(ctx, "SELECT DISTINCT passphrase_alias FROM private_keys")
	if err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		aliases = append(aliases, a)
	}
	rows.Close()
	if len(aliases) != 1 || aliases[0] != "alias2" {
		t.Fatalf("aliases after rotation: %q", aliases)
	}
	// Only alias2's passphrase is needed now.
	kdb, err := keydb.OpenSQL(ctx, sqlDB, keydb.SQLite, keydb.Options{DefaultAlias: "alias2",
		Passphrases: keydb.EnvPassphrases(mapLookup(map[string]string{"NOTARY_SIGNER_ALIAS2": "second passphrase"}))})
	if err != nil {
		t.Fatal(err)
	}
	for _, pub := range pubs {
		if _, _, err := kdb.Get(ctx, pub.ID()); err != nil {
			t.Errorf("key %s with alias2 only: %v", pub.ID(), err)
		}
	}

	// A rerun finds nothing to do; a missing passphrase is a clear error.
	out = syncBuffer{}
	if code := run(ctx, []string{"rotate-alias", "-config", cfgFile, "-new-alias", "alias2"}, env{stdout: &out, stderr: &out, lookup: mapLookup(envm)}); code != 0 || !strings.Contains(out.String(), "re-encrypted 0 keys") {
		t.Errorf("rerun: exit %d:\n%s", code, out.String())
	}
	out = syncBuffer{}
	if code := run(ctx, []string{"rotate-alias", "-config", cfgFile, "-new-alias", "alias3"}, env{stdout: &out, stderr: &out, lookup: mapLookup(envm)}); code != 1 || !strings.Contains(out.String(), "NOTARY_SIGNER_ALIAS3") {
		t.Errorf("missing passphrase: exit %d:\n%s", code, out.String())
	}
	out = syncBuffer{}
	if code := run(ctx, []string{"rotate-alias", "-config", cfgFile}, env{stdout: &out, stderr: &out, lookup: mapLookup(envm)}); code != 2 {
		t.Errorf("without -new-alias: exit %d:\n%s", code, out.String())
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"-help"}, 0, "Mutual TLS only"},
		{[]string{"help"}, 0, "rotate-alias -config FILE -new-alias ALIAS"},
		{[]string{"help", "rotate-alias"}, 0, "To retire an alias"},
		{[]string{"migrate", "-help"}, 0, "Creates or upgrades"},
		{[]string{"-version"}, 0, "notary-signer Version:"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{}, 1, "-config is required"},
		{[]string{"-config", "/nonexistent/signer.json"}, 1, "could not read config"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out syncBuffer
			code := run(context.Background(), tt.args, env{stdout: &out, stderr: &out, lookup: mapLookup(nil)})
			if code != tt.wantCode || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output:\n%s\nwant %d and %q", code, out.String(), tt.wantCode, tt.want)
			}
		})
	}
}

// TestWatchHealth: a key database that stops answering turns health
// NOT_SERVING, and SERVING again when it answers.
func TestWatchHealth(t *testing.T) {
	db, err := keydb.NewMemory(keydb.Options{DefaultAlias: "a", Passphrases: keydb.ConstantPassphrase("p")})
	if err != nil {
		t.Fatal(err)
	}
	srv := signer.NewServer(db, signer.Options{})
	gs := grpc.NewServer()
	srv.Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	defer gs.Stop()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)

	var mu sync.Mutex
	down := false
	ping := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return errors.New("database down")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	log, _, _ := newLogger(&logs, "json", "info")
	go watchHealth(ctx, ping, 20*time.Millisecond, srv, log)

	waitFor := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: signer.HealthSigner})
			if err == nil && resp.GetStatus() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health = %v, %v; want %v", resp.GetStatus(), err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(healthpb.HealthCheckResponse_SERVING)
	mu.Lock()
	down = true
	mu.Unlock()
	waitFor(healthpb.HealthCheckResponse_NOT_SERVING)
	mu.Lock()
	down = false
	mu.Unlock()
	waitFor(healthpb.HealthCheckResponse_SERVING)
	if !strings.Contains(logs.String(), "key database unreachable") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestPKCS11Backend serves keys made and used on a PKCS#11 token. It runs
// when NOTARY_PKCS11_MODULE and NOTARY_PKCS11_TOKEN name one (eval
// "$(scripts/softhsm.sh DIR)" makes a SoftHSM2 token and prints them).
func TestPKCS11Backend(t *testing.T) {
	module, token := os.Getenv("NOTARY_PKCS11_MODULE"), os.Getenv("NOTARY_PKCS11_TOKEN")
	if module == "" || token == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(`no PKCS#11 token on CI: scripts/test.sh sets one up with scripts/softhsm.sh`)
		}
		t.Skip(`no PKCS#11 token: eval "$(scripts/softhsm.sh /tmp/hsm)" to run this test`)
	}
	p := newTestPKI(t)
	cfg := p.baseConfig(map[string]any{"backend": "pkcs11"})
	cfg["pkcs11"] = map[string]any{"module": module, "token_label": token}
	cfgFile := writeConfig(t, p.dir, cfg)

	var out syncBuffer
	if code := run(context.Background(), []string{"-config", cfgFile}, env{stdout: &out, stderr: &out, lookup: mapLookup(nil)}); code != 1 || !strings.Contains(out.String(), "NOTARY_SIGNER_PKCS11_PIN") {
		t.Fatalf("without a PIN: exit %d:\n%s", code, out.String())
	}

	pin := os.Getenv("NOTARY_PKCS11_PIN")
	rs := startSigner(t, cfgFile, map[string]string{"NOTARY_SIGNER_PKCS11_PIN": pin})
	c := dialClient(t, rs.addr, p.clientTLS(t, p.clientCert, p.clientKey))
	ctx := context.Background()
	if err := c.CheckHealth(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := c.CreateKey(ctx, "timestamp", "example.com/hsm", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.GetKeyInfo(ctx, pub.ID())
	if err != nil || info.Role != "timestamp" {
		t.Fatalf("GetKeyInfo = %+v, %v", info, err)
	}
	msg := metaBody(t, "timestamp", 1)
	sig, err := c.Sign(ctx, pub.ID(), msg)
	if err != nil {
		t.Fatal(err)
	}
	verifyECDSA(t, pub, msg, sig)
	if _, err := c.CreateKey(ctx, "timestamp", "g", "rsa"); err == nil {
		t.Error("CreateKey rsa succeeded")
	}
	if err := c.DeleteKey(ctx, pub.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx, pub.ID(), msg); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Sign after DeleteKey: %v, want not found", err)
	}
	if len(pin) >= 8 && strings.Contains(rs.logs.String(), pin) { // short PINs such as 1234 occur in port numbers
		t.Errorf("the PIN is in the logs:\n%s", rs.logs)
	}
}

// TestSQLiteKeyDBMode: a new SQLite key database is created 0600 in a
// 0700 directory (under the usual 022 umask it would be 0644).
func TestSQLiteKeyDBMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	file := filepath.Join(dir, "keys.db")
	cfg := &config{backend: backendSQLite, dbURL: file}
	_, closer, err := openKeyDB(context.Background(), cfg, keydb.Options{DefaultAlias: "a", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, file: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}
