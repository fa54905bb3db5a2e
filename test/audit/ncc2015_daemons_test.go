package audit

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/tuf"
)

// proc is a program started by a test; it is killed at the end.
type proc struct {
	addr string // where it listens, from its log
	out  *strings.Builder
	exit chan error
}

// startDaemon runs bin with args and waits until it logs a JSON line whose
// message contains listening and that has an "addr" (then the process is
// returned, and killed at the end of the test), or until it exits (then
// the error says so and holds its output: a refusal to start).
func startDaemon(t *testing.T, bin string, env []string, listening string, args ...string) (*proc, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &proc{out: &strings.Builder{}, exit: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { err := cmd.Wait(); pw.Close(); d.exit <- err }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		for range lines { // drain
		}
	})
	// A guard against a hang, not a timing assertion.
	guard := time.NewTimer(2 * time.Minute)
	defer guard.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-d.exit
				d.exit <- err
				return d, fmt.Errorf("exited (%v) without listening:\n%s", err, d.out)
			}
			d.out.WriteString(l + "\n")
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Addr != "" && strings.Contains(rec.Msg, listening) {
				d.addr = rec.Addr
				go func() {
					for l := range lines {
						_ = l
					}
				}()
				return d, nil
			}
		case <-guard.C:
			t.Fatalf("%s neither listened nor exited:\n%s", bin, d.out)
		}
	}
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAudit_NCC2015_3_SignerRequiresClientCertificate: NCC 2015 (numbered
// 3 here from memory, unverified): notary-signer served its key-management
// and signing API to any client that could reach it. The real
// notary-signer binary refuses to start without a client CA, refuses
// every key call from a client without a certificate (Unauthenticated;
// only health is open, for load balancers), fails the handshake of a
// certificate from another CA or an expired one, and serves a client with
// a good certificate.
func TestAudit_NCC2015_3_SignerRequiresClientCertificate(t *testing.T) {
	bin := filepath.Join(buildPrograms(t, "notary-signer"), "notary-signer")
	dir := t.TempDir()
	ca, other := testpki.New(t, "audit CA"), testpki.New(t, "other CA")
	srvCert, srvKey := ca.Issue(t, "notary-signer", testpki.Options{DNS: []string{"notary-signer"}, IPs: testpki.Loopback(), ServerAuth: true}).Files()
	goodCert, goodKey := ca.Issue(t, "notary-server", testpki.Options{ClientAuth: true}).Files()
	otherCert, otherKey := other.Issue(t, "intruder", testpki.Options{ClientAuth: true}).Files()
	oldCert, oldKey := ca.Issue(t, "expired", testpki.Options{ClientAuth: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).Files()
	server := map[string]any{"grpc_addr": "127.0.0.1:0", "tls_cert_file": srvCert, "tls_key_file": srvKey, "client_ca_file": ca.CAFile}
	storage := map[string]any{"backend": "memory"}

	t.Run("no client CA: refuses to start", func(t *testing.T) {
		noCA := map[string]any{"grpc_addr": "127.0.0.1:0", "tls_cert_file": srvCert, "tls_key_file": srvKey}
		cfg := writeJSON(t, dir, "noca.json", map[string]any{"server": noCA, "storage": storage, "logging": map[string]any{"level": "info"}})
		if _, err := startDaemon(t, bin, nil, "serving", "-config", cfg, "-logf", "json"); err == nil {
			t.Fatal("notary-signer served without a client CA")
		}
	})

	// v0.7.0's default level is error: info shows where it listens.
	cfg := writeJSON(t, dir, "signer.json", map[string]any{"server": server, "storage": storage, "logging": map[string]any{"level": "info"}})
	d, err := startDaemon(t, bin, nil, "serving", "-config", cfg, "-logf", "json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := func(t *testing.T, cert, key string) *signer.Client {
		tc, err := signer.LoadClientTLS(ca.CAFile, cert, key, "notary-signer")
		if err != nil {
			t.Fatal(err)
		}
		c, err := signer.Dial(d.addr, tc, signer.ClientOptions{Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("no certificate: health only", func(t *testing.T) {
		c := client(t, "", "")
		if err := c.CheckHealth(ctx); err != nil {
			t.Fatalf("health without a certificate: %v", err)
		}
		_, err := c.CreateKey(ctx, "timestamp", gun, keys.ECDSA)
		var re *signer.RemoteError
		if !errors.As(err, &re) || re.Code != codes.Unauthenticated {
			t.Fatalf("CreateKey without a certificate: %v, want Unauthenticated", err)
		}
	})
	for name, pair := range map[string][2]string{"another CA": {otherCert, otherKey}, "expired": {oldCert, oldKey}} {
		t.Run(name+": refused", func(t *testing.T) {
			if _, err := client(t, pair[0], pair[1]).CreateKey(ctx, "timestamp", gun, keys.ECDSA); err == nil {
				t.Fatalf("CreateKey with a certificate from %s succeeded", name)
			}
		})
	}
	t.Run("good certificate: served", func(t *testing.T) {
		c := client(t, goodCert, goodKey)
		pub, err := c.CreateKey(ctx, "timestamp", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		// The signer signs only sane timestamp and snapshot bodies
		// (docs/security.md, issue 18 item 2).
		msg, err := tuf.CanonicalSigned(&tuf.Timestamp{
			Type: tuf.TypeOf(tuf.RoleTimestamp), Version: 1, Expires: time.Now().Add(time.Hour).UTC().Truncate(time.Second),
			Meta: map[string]tuf.FileMeta{tuf.RoleSnapshot: {Hashes: tuf.Hashes{tuf.SHA256: make([]byte, 32)}, Length: 1}},
		})
		if err != nil {
			t.Fatal(err)
		}
		sig, err := c.Sign(ctx, pub.ID(), msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Verify(keys.MethodECDSA, msg, sig); err != nil {
			t.Fatalf("signature from the signer: %v", err)
		}
	})
}

// TestAudit_NCC2015_4_NoPlaintextFallback: NCC 2015 (numbered 4 here from
// memory, unverified): a TLS certificate or key that failed to load made
// a service fall back to plain text instead of stopping. The real
// notary-server and notary-signer binaries, given a missing certificate, a
// key that is not PEM, a key that does not match the certificate, or a
// certificate without its key, exit with an error and never listen; with
// good files notary-server serves HTTPS only.
func TestAudit_NCC2015_4_NoPlaintextFallback(t *testing.T) {
	bins := buildPrograms(t, "notary-server", "notary-signer")
	dir := t.TempDir()
	ca := testpki.New(t, "audit CA")
	cert, key := ca.Issue(t, "localhost", testpki.Options{DNS: []string{"localhost"}, IPs: testpki.Loopback(), ServerAuth: true}).Files()
	_, otherKey := ca.Issue(t, "other", testpki.Options{ServerAuth: true}).Files()
	garbage := filepath.Join(dir, "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string][2]string{
		"missing certificate": {filepath.Join(dir, "missing.crt"), key},
		"key not PEM":         {cert, garbage},
		"mismatched key":      {cert, otherKey},
		"certificate only":    {cert, ""},
	}
	env := []string{"NOTARY_SERVER_KEY_PASSPHRASE=audit passphrase"}
	for name, files := range bad {
		t.Run("notary-server/"+name, func(t *testing.T) {
			srv := map[string]any{"http_addr": "127.0.0.1:0", "tls_cert_file": files[0]}
			if files[1] != "" {
				srv["tls_key_file"] = files[1]
			}
			cfg := writeJSON(t, t.TempDir(), "server.json", map[string]any{"server": srv, "storage": map[string]any{"backend": "memory"}})
			d, err := startDaemon(t, filepath.Join(bins, "notary-server"), env, "listening", "-config", cfg, "-data-dir", t.TempDir())
			if err == nil {
				t.Fatalf("notary-server listened on %s with a bad TLS setup:\n%s", d.addr, d.out)
			}
		})
		t.Run("notary-signer/"+name, func(t *testing.T) {
			srv := map[string]any{"grpc_addr": "127.0.0.1:0", "tls_cert_file": files[0], "client_ca_file": ca.CAFile}
			if files[1] != "" {
				srv["tls_key_file"] = files[1]
			}
			cfg := writeJSON(t, t.TempDir(), "signer.json", map[string]any{"server": srv, "storage": map[string]any{"backend": "memory"}, "logging": map[string]any{"level": "info"}})
			d, err := startDaemon(t, filepath.Join(bins, "notary-signer"), nil, "serving", "-config", cfg, "-logf", "json")
			if err == nil {
				t.Fatalf("notary-signer served on %s with a bad TLS setup:\n%s", d.addr, d.out)
			}
		})
	}

	t.Run("notary-server/good files: HTTPS only", func(t *testing.T) {
		cfg := writeJSON(t, t.TempDir(), "server.json", map[string]any{
			"server":  map[string]any{"http_addr": "127.0.0.1:0", "tls_cert_file": cert, "tls_key_file": key},
			"storage": map[string]any{"backend": "memory"},
		})
		d, err := startDaemon(t, filepath.Join(bins, "notary-server"), env, "listening with TLS", "-config", cfg, "-data-dir", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
		resp, err := hc.Get("https://" + d.addr + "/v2/")
		if err != nil {
			t.Fatalf("HTTPS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v2/ over HTTPS: %d", resp.StatusCode)
		}
		resp, err = (&http.Client{Timeout: time.Minute}).Get("http://" + d.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("the TLS listener answered plain HTTP with 200")
			}
		}
	})
}
