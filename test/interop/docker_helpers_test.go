//go:build interop

package interop

// Helpers of the Docker Content Trust and auth interop tests. Everything
// here is prefixed docker/auth so it cannot clash with other interop
// helpers in this package.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// dockerRepoRoot is the module root (where go.mod is).
func dockerRepoRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("not inside the module")
	}
	return filepath.Dir(mod)
}

// dockerBuild builds a main package of this module into dir and returns
// the binary's path.
func dockerBuild(t testing.TB, pkg, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = dockerRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// dockerV1Bin is an upstream v0.7.0 binary ($NOTARY_V1_BIN or .tools/bin);
// the test is skipped without it.
func dockerV1Bin(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("NOTARY_V1_BIN")
	if dir == "" {
		dir = filepath.Join(dockerRepoRoot(t), ".tools", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		requirePeer(t, "upstream %s not installed (%v): run scripts/install-peers.sh or set NOTARY_V1_BIN", name, err)
	}
	return p
}

// dockerCLI is the Docker CLI; the test is skipped without it.
func dockerCLI(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("docker")
	if err != nil {
		requirePeer(t, "no docker CLI on PATH")
	}
	return p
}

// authPKI is a throwaway PKI: a CA, a TLS server certificate for
// 127.0.0.1/localhost, and a token signing certificate under the CA.
type authPKI struct {
	dir                       string
	caCert                    *x509.Certificate
	caKey                     crypto.Signer
	CA, ServerCert, ServerKey string // PEM files
	SignerCert, SignerKey     string
	ServerTLS                 tls.Certificate
	Signer                    crypto.Signer
	SignerChain               []*x509.Certificate
	OtherCA, OtherCAKey       string // an unrelated CA (untrusted chain tests)
	otherCACert               *x509.Certificate
	otherCAKey                crypto.Signer
}

func authNewPKI(t testing.TB) *authPKI {
	t.Helper()
	p := &authPKI{dir: t.TempDir()}
	p.caKey, p.caCert = authMakeCert(t, "notary interop test CA", true, nil, nil, nil)
	p.CA = p.writePEM(t, "ca.crt", "CERTIFICATE", p.caCert.Raw)
	srvKey, srvCert := authMakeCert(t, "notary-server", false, []string{"localhost"}, p.caCert, p.caKey)
	p.ServerCert = p.writePEM(t, "server.crt", "CERTIFICATE", srvCert.Raw)
	p.ServerKey = p.writeKey(t, "server.key", srvKey)
	var err error
	if p.ServerTLS, err = tls.LoadX509KeyPair(p.ServerCert, p.ServerKey); err != nil {
		t.Fatal(err)
	}
	sigKey, sigCert := authMakeCert(t, "notary-auth token signer", false, nil, p.caCert, p.caKey)
	p.SignerCert = p.writePEM(t, "token.crt", "CERTIFICATE", sigCert.Raw)
	p.SignerKey = p.writeKey(t, "token.key", sigKey)
	p.Signer, p.SignerChain = sigKey, []*x509.Certificate{sigCert}
	p.otherCAKey, p.otherCACert = authMakeCert(t, "someone else's CA", true, nil, nil, nil)
	p.OtherCA = p.writePEM(t, "other-ca.crt", "CERTIFICATE", p.otherCACert.Raw)
	p.OtherCAKey = p.writeKey(t, "other-ca.key", p.otherCAKey)
	return p
}

// authMakeCert makes a P-256 key and a certificate for it, signed by
// parent (self-signed when nil). dns names go with 127.0.0.1 into the SAN.
func authMakeCert(t testing.TB, cn string, ca bool, dns []string, parent *x509.Certificate, parentKey crypto.Signer) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if dns != nil {
		tmpl.DNSNames = dns
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

func (p *authPKI) writePEM(t testing.TB, name, typ string, der []byte) string {
	t.Helper()
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (p *authPKI) writeKey(t testing.TB, name string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return p.writePEM(t, name, "PRIVATE KEY", der)
}

// caPEM returns the CA certificate's PEM bytes.
func (p *authPKI) caPEM(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(p.CA)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clientTLS trusts only the test CA.
func (p *authPKI) clientTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// authFreePort returns a loopback port that was free a moment ago.
func authFreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// authStartProcess starts a long-running process with its output in
// dir/<name>.log, stopped (by its own PID) when the test ends.
func authStartProcess(t testing.TB, dir, name string, env []string, bin string, args ...string) string {
	t.Helper()
	logFile := filepath.Join(dir, name+".log")
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		lf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("--- %s log (last 4 KiB) ---\n%s", name, authTail(b, 4096))
		}
	})
	return logFile
}

func authTail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// authWaitHTTPS waits until url answers over TLS (any status).
func authWaitHTTPS(t testing.TB, url string, tlsConf *tls.Config, logFile string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("%s did not come up: %v\n%s", url, err, authTail(b, 4096))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// authOurServer starts our notary-server in this process (memory storage,
// in-process keys) behind the auth middleware built from cfg, over TLS
// with the PKI's server certificate. It returns the base URL.
//
// This is how cmd/notary-server would wire auth (see docs/docker.md);
// until its config accepts auth.type, the tests wire it themselves.
func authOurServer(t testing.TB, p *authPKI, cfg auth.Config) string {
	t.Helper()
	srv, err := server.New(server.Options{
		Store:       memory.New(),
		Keys:        keyservice.NewMemory(),
		GUNPrefixes: cfg.GUNPrefixes,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	mw, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(mw(srv))
	hs.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.ServerTLS},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return hs.URL
}

// authIssuerConfig is cmd/notary-auth's config file.
type authIssuerConfig struct {
	Server  map[string]string `json:"server"`
	Token   map[string]any    `json:"token"`
	Users   map[string]string `json:"users,omitempty"`
	ACL     []map[string]any  `json:"acl,omitempty"`
	Logging map[string]string `json:"logging,omitempty"`
}

// authUsers writes an htpasswd file of user→password (bcrypt cost 4) with
// cmd/notary-auth's htpasswd command, and returns its path.
func authUsers(t testing.TB, notaryAuth, dir string, users map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	for u, pw := range users {
		cmd := exec.Command(notaryAuth, "htpasswd", "-cost", "4", u)
		cmd.Stdin = strings.NewReader(pw + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("notary-auth htpasswd: %v", err)
		}
		buf.Write(out)
	}
	f := filepath.Join(dir, "users.htpasswd")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// authStartIssuer runs cmd/notary-auth over TLS with the PKI's server
// certificate and token signer, and returns the realm URL.
func authStartIssuer(t testing.TB, notaryAuth string, p *authPKI, issuer, service, htpasswdFile string, acl []map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := authIssuerConfig{
		Server:  map[string]string{"http_addr": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert_file": p.ServerCert, "tls_key_file": p.ServerKey},
		Token:   map[string]any{"issuer": issuer, "service": service, "signing_key": p.SignerKey, "signing_cert": p.SignerCert, "ttl": "5m"},
		Users:   map[string]string{"htpasswd": htpasswdFile, "realm": "notary-auth test"},
		ACL:     acl,
		Logging: map[string]string{"level": "debug"},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "notary-auth.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := authStartProcess(t, dir, "notary-auth", []string{"PATH=" + os.Getenv("PATH")}, notaryAuth, "-config", cfgFile, "-logf", "text")
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	authWaitHTTPS(t, base+"/health", p.clientTLS(), logFile)
	return base + "/token"
}

// authFetchToken asks the realm for a token as user (Basic auth) for the
// given scopes, as a Docker client does.
func authFetchToken(t testing.TB, p *authPKI, realm, service, user, pass string, scopes ...string) string {
	t.Helper()
	req, err := http.NewRequest("GET", realm, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("service", service)
	for _, s := range scopes {
		q.Add("scope", s)
	}
	if user != "" {
		q.Set("account", user)
		req.SetBasicAuth(user, pass)
	}
	req.URL.RawQuery = q.Encode()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS()}, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("token request: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.Token == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr.Token
}

// dockerEnv is a Docker CLI configuration directory ($DOCKER_CONFIG) set
// up for Docker Content Trust against one notary server.
type dockerEnv struct {
	t        testing.TB
	docker   string
	dir      string // DOCKER_CONFIG
	server   string // DOCKER_CONTENT_TRUST_SERVER
	extraEnv []string
}

const (
	dockerRootPass = "root-passphrase-1"
	dockerRepoPass = "repo-passphrase-1"
)

// dockerNewEnv makes a DOCKER_CONFIG that trusts the test CA for the
// notary server (tls/<host:port>/ca.crt) and holds Basic credentials
// (config.json auths) for the image registries in creds (registry host →
// "user:password"). The Docker CLI looks the credentials for the notary
// server up by the image's registry host, not by the notary server's
// (docker/cli cli/trust GetNotaryRepository gets the registry's
// AuthConfig).
func dockerNewEnv(t testing.TB, server string, caPEM []byte, creds map[string]string) *dockerEnv {
	t.Helper()
	d := &dockerEnv{t: t, docker: dockerCLI(t), dir: t.TempDir(), server: server}
	host := strings.TrimPrefix(server, "https://")
	if err := os.MkdirAll(filepath.Join(d.dir, "tls", host), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "tls", host, "ca.crt"), caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	auths := map[string]any{}
	for reg, up := range creds {
		auths[reg] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	if err := os.WriteFile(filepath.Join(d.dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// TrustDir is the notary trust directory the Docker CLI writes.
func (d *dockerEnv) TrustDir() string { return filepath.Join(d.dir, "trust") }

// env is the CLI's whole environment: nothing inherited but PATH, and no
// Docker engine (DOCKER_HOST points at a socket that does not exist).
func (d *dockerEnv) env(extra ...string) []string {
	e := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + d.dir,
		"DOCKER_CONFIG=" + d.dir,
		"DOCKER_HOST=unix://" + filepath.Join(d.dir, "no-engine.sock"),
		"DOCKER_CONTENT_TRUST_SERVER=" + d.server,
		"DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE=" + dockerRootPass,
		"DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE=" + dockerRepoPass,
		"DOCKER_CLI_HINTS=false",
	}
	e = append(e, d.extraEnv...)
	return append(e, extra...)
}

// dockerResult is the outcome of one CLI run.
type dockerResult struct {
	args           []string
	stdout, stderr string
	err            error
}

func (r dockerResult) String() string {
	return fmt.Sprintf("$ %s\n[err: %v]\n--- stdout ---\n%s--- stderr ---\n%s", strings.Join(r.args, " "), r.err, r.stdout, r.stderr)
}

// run runs the docker CLI with stdin closed.
func (d *dockerEnv) run(extraEnv []string, args ...string) dockerResult {
	d.t.Helper()
	return d.runIn("", extraEnv, args...)
}

// runIn runs the docker CLI with stdin as its input.
func (d *dockerEnv) runIn(stdin string, extraEnv []string, args ...string) dockerResult {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.docker, args...)
	cmd.Env = d.env(extraEnv...)
	cmd.Dir = d.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := dockerResult{args: append([]string{"docker"}, args...), stdout: out.String(), stderr: errb.String(), err: err}
	d.t.Logf("%s", r)
	return r
}

// ok runs the CLI and fails the test unless it succeeds.
func (d *dockerEnv) ok(args ...string) dockerResult {
	d.t.Helper()
	r := d.run(nil, args...)
	if r.err != nil {
		d.t.Fatalf("docker %s failed: %v\n%s", strings.Join(args, " "), r.err, r)
	}
	return r
}

// notaryCLI runs a notary CLI (ours or v0.7.0) on a trust directory.
type notaryCLI struct {
	t        testing.TB
	bin      string
	label    string // shown in logs; "" means the binary's name
	trustDir string
	server   string
	ca       string
	auth     string // user:password for NOTARY_AUTH, or ""
}

func (n *notaryCLI) run(args ...string) dockerResult {
	n.t.Helper()
	full := append([]string{"-s", n.server, "-d", n.trustDir, "--tlscacert", n.ca}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.bin, full...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + n.trustDir,
		"NOTARY_ROOT_PASSPHRASE=" + dockerRootPass,
		"NOTARY_TARGETS_PASSPHRASE=" + dockerRepoPass,
		"NOTARY_SNAPSHOT_PASSPHRASE=" + dockerRepoPass,
		"NOTARY_DELEGATION_PASSPHRASE=" + dockerRepoPass,
	}
	if n.auth != "" {
		cmd.Env = append(cmd.Env, "NOTARY_AUTH="+base64.StdEncoding.EncodeToString([]byte(n.auth)))
	}
	cmd.Stdin = strings.NewReader("")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := dockerResult{args: append([]string{n.name()}, full...), stdout: out.String(), stderr: errb.String(), err: err}
	n.t.Logf("%s", r)
	return r
}

func (n *notaryCLI) name() string {
	if n.label != "" {
		return n.label
	}
	return filepath.Base(n.bin)
}

func (n *notaryCLI) ok(args ...string) dockerResult {
	n.t.Helper()
	r := n.run(args...)
	if r.err != nil {
		n.t.Fatalf("%s %s failed: %v\n%s", n.name(), strings.Join(args, " "), r.err, r)
	}
	return r
}

// authStartUpstreamServerConfig runs v0.7.0 notary-server over TLS with
// memory storage and local signing, plus the extra top-level config
// sections in extra (JSON members, e.g. an "auth" section), and returns
// its URL.
func authStartUpstreamServerConfig(t testing.TB, bin string, p *authPKI, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := fmt.Sprintf(`{"server":{"http_addr":"127.0.0.1:%d","tls_cert_file":%q,"tls_key_file":%q},
		"trust_service":{"type":"local","key_algorithm":"ecdsa"},"storage":{"backend":"memory"},"logging":{"level":"debug"},%s}`,
		port, p.ServerCert, p.ServerKey, extra)
	cfgFile := filepath.Join(dir, "server.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := authStartProcess(t, dir, "notary-server-v0.7.0", []string{"PATH=" + os.Getenv("PATH")}, bin, "-config", cfgFile)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	authWaitHTTPS(t, url+"/_notary_server/health", p.clientTLS(), logFile)
	return url
}
