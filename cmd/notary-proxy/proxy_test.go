package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/policy"
	"github.com/notary-go/notary/registry/registrytest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// upstream is registrytest's fake registry plus blobs generated on the
// fly (never held in memory), counted as served.
type upstream struct {
	reg       *registrytest.Registry
	srv       *httptest.Server
	blobSize  int64
	blobReads atomic.Int64
}

func newUpstream(t testing.TB, blobSize int64) *upstream {
	u := &upstream{reg: registrytest.New(), blobSize: blobSize}
	inner := u.reg.Server.Config.Handler
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.Index(r.URL.Path, "/blobs/"); i > 0 {
			if !strings.HasSuffix(r.URL.Path, "/blobs/"+blobDigest(u.blobSize)) {
				http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(u.blobSize))
			w.Header().Set("Docker-Content-Digest", blobDigest(u.blobSize))
			w.Header().Set("Content-Type", "application/octet-stream")
			if r.Method == http.MethodGet {
				u.blobReads.Add(1)
				_, _ = io.Copy(w, io.LimitReader(zeros{}, u.blobSize))
			}
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { u.srv.Close(); u.reg.Close() })
	return u
}

func (u *upstream) host() string { return strings.TrimPrefix(u.srv.URL, "http://") }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var blobDigests sync.Map

func blobDigest(n int64) string {
	if d, ok := blobDigests.Load(n); ok {
		return d.(string)
	}
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(zeros{}, n))
	d := "sha256:" + hex.EncodeToString(h.Sum(nil))
	blobDigests.Store(n, d)
	return d
}

func fm(body []byte) tuf.FileMeta {
	sum := sha256.Sum256(body)
	return tuf.FileMeta{Length: int64(len(body)), Hashes: tuf.Hashes{tuf.SHA256: sum[:]}}
}

type env struct {
	up    *upstream
	sim   *tuftest.Simulator
	proxy *httptest.Server
	logs  *syncBuffer
	// manifests by name
	signed, unsigned, index, child, other []byte
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newEnv: upstream with org/app:1.0 (signed), :unsigned, :multi (a signed
// index with an amd64 child) and org/audited:1 (unsigned, audit rule).
func newEnv(t testing.TB, blobSize int64) *env { return newEnvOpts(t, blobSize, envOpts{}) }

type envOpts struct {
	name  string       // upstream.name
	creds *Credentials // upstream.credentials
	env   map[string]string
	auth  *ClientAuth
}

func newEnvOpts(t testing.TB, blobSize int64, o envOpts) *env {
	t.Helper()
	e := &env{up: newUpstream(t, blobSize), logs: &syncBuffer{}}
	host := e.up.host()
	if o.name != "" {
		host = o.name
	}
	gun := host + "/org/app"
	e.sim = tuftest.New(gun)
	e.sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")

	mt, body := registrytest.ImageManifest(false, "app 1.0")
	e.signed = body
	e.up.reg.Put("org/app", "1.0", mt, body)
	e.sim.AddTargetMeta("targets/releases", "1.0", fm(body))

	mt, e.unsigned = registrytest.ImageManifest(false, "unsigned")
	e.up.reg.Put("org/app", "unsigned", mt, e.unsigned)

	mt, e.child = registrytest.ImageManifest(false, "amd64 child")
	childDigest := e.up.reg.Put("org/app", "child-tmp", mt, e.child)
	imt, idx := registrytest.Index([][2]string{{childDigest, "linux/amd64"}})
	e.index = idx
	e.up.reg.Put("org/app", "multi", imt, idx)
	e.sim.AddTargetMeta("targets/releases", "multi", fm(idx))
	e.sim.Publish()

	mt, e.other = registrytest.ImageManifest(false, "audited")
	e.up.reg.Put("org/audited", "1", mt, e.other)

	pol, err := policy.Parse([]byte(fmt.Sprintf(`{"rules": [
 {"images": %q, "trust": {"server": "https://notary.invalid", "tofu": true}},
 {"images": %q, "trust": {"server": "https://notary.invalid", "tofu": true}, "mode": "audit"}], "default": "deny"}`, host+"/org/app", host+"/org/audited")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Listen: "127.0.0.1:0", Upstream: Upstream{URL: e.up.srv.URL, Name: o.name, Credentials: o.creds}, TrustDir: t.TempDir(), ClientAuth: o.auth}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := newHandler(cfg, pol, log, func(k string) string { return o.env[k] }, policy.Options{
		Now: e.sim.Clock.Now,
		Remote: func(_ *policy.Rule, g string) (update.Remote, error) {
			if g != gun {
				return nil, fmt.Errorf("unreachable trust server for %s", g)
			}
			return e.sim, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.proxy = httptest.NewServer(h)
	t.Cleanup(e.proxy.Close)
	return e
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type regError struct {
	Errors []struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Detail  map[string]string `json:"detail"`
	} `json:"errors"`
}

func (e *env) get(t *testing.T, method, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.proxy.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestProxyManifests(t *testing.T) {
	e := newEnv(t, 1024)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   []byte
		wantCode   string
		wantReason string
	}{
		{name: "signed tag", method: "GET", path: "/v2/org/app/manifests/1.0", wantStatus: 200, wantBody: e.signed},
		{name: "signed tag HEAD", method: "HEAD", path: "/v2/org/app/manifests/1.0", wantStatus: 200},
		{name: "signed digest", method: "GET", path: "/v2/org/app/manifests/" + digestOf(e.signed), wantStatus: 200, wantBody: e.signed},
		{name: "signed index", method: "GET", path: "/v2/org/app/manifests/multi", wantStatus: 200, wantBody: e.index},
		{name: "child of the signed index", method: "GET", path: "/v2/org/app/manifests/" + digestOf(e.child), wantStatus: 200, wantBody: e.child},
		{name: "unsigned tag", method: "GET", path: "/v2/org/app/manifests/unsigned", wantStatus: 403, wantCode: "DENIED", wantReason: "not_signed"},
		{name: "unsigned digest", method: "GET", path: "/v2/org/app/manifests/" + digestOf(e.unsigned), wantStatus: 403, wantCode: "DENIED", wantReason: "not_signed"},
		{name: "no rule", method: "GET", path: "/v2/org/other/manifests/1", wantStatus: 403, wantCode: "DENIED", wantReason: "no_rule"},
		{name: "audit rule allows", method: "GET", path: "/v2/org/audited/manifests/1", wantStatus: 200, wantBody: e.other},
		{name: "push refused", method: "PUT", path: "/v2/org/app/manifests/1.0", wantStatus: 405, wantCode: "UNSUPPORTED"},
		{name: "upload refused", method: "POST", path: "/v2/org/app/blobs/uploads/", wantStatus: 405, wantCode: "UNSUPPORTED"},
		{name: "delete refused", method: "DELETE", path: "/v2/org/app/manifests/" + digestOf(e.signed), wantStatus: 405, wantCode: "UNSUPPORTED"},
		{name: "bad name", method: "GET", path: "/v2/Org/App/manifests/1.0", wantStatus: 400, wantCode: "NAME_INVALID"},
		{name: "bad digest", method: "GET", path: "/v2/org/app/manifests/sha256:zz", wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "base", method: "GET", path: "/v2/", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.method, tt.path)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != nil {
				if !bytes.Equal(body, tt.wantBody) {
					t.Fatalf("body differs")
				}
				if got := resp.Header.Get("Docker-Content-Digest"); got != digestOf(tt.wantBody) {
					t.Fatalf("Docker-Content-Digest %s", got)
				}
			}
			if tt.wantCode != "" {
				var re regError
				if err := json.Unmarshal(body, &re); err != nil || len(re.Errors) != 1 || re.Errors[0].Code != tt.wantCode {
					t.Fatalf("error body %s, want code %s", body, tt.wantCode)
				}
				if tt.wantReason != "" {
					if re.Errors[0].Detail["reason"] != tt.wantReason || !strings.Contains(re.Errors[0].Message, "/org/") {
						t.Fatalf("error %+v, want reason %s and the image named", re.Errors[0], tt.wantReason)
					}
				}
			}
		})
	}
	if !strings.Contains(e.logs.String(), `"msg":"audit: allowed an image the policy would deny"`) {
		t.Fatalf("audit not logged: %s", e.logs.String())
	}
	_, metrics := e.get(t, "GET", "/metrics")
	for _, want := range []string{
		`notary_proxy_manifests_denied_total{reason="not_signed"} 2`,
		`notary_proxy_manifests_denied_total{reason="no_rule"} 1`,
		`notary_proxy_manifests_audit_total{reason="trust_unavailable"} 1`,
		`notary_proxy_manifests_allowed_total 5`,
		`notary_proxy_upstream_seconds_count{op="manifest"}`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A tag moved in the registry after signing still gets the signed
// content; once that content is gone, a refusal, never the new one.
func TestProxyRepushedTag(t *testing.T) {
	e := newEnv(t, 1024)
	mt, evil := registrytest.ImageManifest(false, "re-pushed")
	e.up.reg.Put("org/app", "1.0", mt, evil)
	resp, body := e.get(t, "GET", "/v2/org/app/manifests/1.0")
	if resp.StatusCode != 200 || !bytes.Equal(body, e.signed) {
		t.Fatalf("status %d, body is the re-pushed one: %v", resp.StatusCode, bytes.Equal(body, evil))
	}
	// The upstream now serves other bytes under the signed digest.
	e.up.reg.PutAt("org/app", digestOf(e.signed), mt, evil)
	resp, body = e.get(t, "GET", "/v2/org/app/manifests/1.0")
	if resp.StatusCode == 200 {
		t.Fatalf("served %d bytes that do not hash to the signed digest", len(body))
	}
	var re regError
	_ = json.Unmarshal(body, &re)
	if resp.StatusCode != 403 || re.Errors[0].Detail["reason"] != "mismatch" {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
}

// A trust server outage: what the cache proves keeps being served, the
// rest is refused, and once the cached timestamp expires everything is.
func TestProxyTrustOutage(t *testing.T) {
	e := newEnv(t, 1024)
	if resp, _ := e.get(t, "GET", "/v2/org/app/manifests/1.0"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	e.sim.SetOffline(true)
	if resp, _ := e.get(t, "GET", "/v2/org/app/manifests/1.0"); resp.StatusCode != 200 {
		t.Fatalf("cached signed tag refused during the outage: %s", resp.Status)
	}
	if resp, _ := e.get(t, "GET", "/v2/org/app/manifests/unsigned"); resp.StatusCode != 403 {
		t.Fatalf("unsigned tag: %s", resp.Status)
	}
	e.sim.Clock.Advance(tuf.DefaultTTL(tuf.RoleTimestamp) + time.Minute)
	resp, body := e.get(t, "GET", "/v2/org/app/manifests/1.0")
	var re regError
	_ = json.Unmarshal(body, &re)
	if resp.StatusCode != 403 || re.Errors[0].Detail["reason"] != "trust_unavailable" {
		t.Fatalf("expired cache during the outage: %d %s", resp.StatusCode, body)
	}
}

// A blob streams through: the whole blob arrives, and the proxy's heap
// never holds it (a 64 MiB blob, peak heap growth well under it).
func TestProxyBlobStreams(t *testing.T) {
	const size = 64 << 20
	e := newEnv(t, size)
	d := blobDigest(size)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			runtime.Gosched()
		}
	}()
	resp, err := http.Get(e.proxy.URL + "/v2/org/app/blobs/" + d)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	close(stop)
	<-done
	if err != nil || n != size || "sha256:"+hex.EncodeToString(h.Sum(nil)) != d {
		t.Fatalf("got %d bytes, err %v", n, err)
	}
	if grow := int64(peak.Load()) - int64(base.HeapInuse); grow > size/2 {
		t.Fatalf("heap grew by %d bytes while streaming a %d-byte blob", grow, size)
	}
	if resp, _ := e.get(t, "GET", "/v2/org/app/blobs/sha256:"+strings.Repeat("0", 64)); resp.StatusCode != 404 {
		t.Fatalf("unknown blob: %s", resp.Status)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(polPath, []byte(`{"default": "allow"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     string
		wantErr bool
	}{
		{name: "inline policy", cfg: `{"listen": ":5000", "upstream": {"url": "https://reg.example.com:5000"}, "policy": {"default": "deny"}}`},
		{name: "policy path", cfg: `{"listen": ":5000", "upstream": {"url": "http://127.0.0.1:5001"}, "policy": "` + polPath + `"}`},
		{name: "no listen", cfg: `{"upstream": {"url": "https://r"}, "policy": {}}`, wantErr: true},
		{name: "bad upstream", cfg: `{"listen": ":1", "upstream": {"url": "reg:5000"}, "policy": {}}`, wantErr: true},
		{name: "upstream with path", cfg: `{"listen": ":1", "upstream": {"url": "https://r/v2"}, "policy": {}}`, wantErr: true},
		{name: "cert without key", cfg: `{"listen": ":1", "tls_cert": "c", "upstream": {"url": "https://r"}, "policy": {}}`, wantErr: true},
		{name: "no policy", cfg: `{"listen": ":1", "upstream": {"url": "https://r"}}`, wantErr: true},
		{name: "password in config refused", cfg: `{"listen": ":1", "upstream": {"url": "https://r", "credentials": {"password": "x"}}, "policy": {}}`, wantErr: true},
		{name: "token client auth", cfg: `{"listen": ":1", "upstream": {"url": "https://r"}, "policy": {}, "client_auth": {"token": {"realm": "https://a/token", "service": "s", "issuer": "i", "rootcertbundle": "b.crt"}}}`},
		{name: "both client auths", cfg: `{"listen": ":1", "upstream": {"url": "https://r"}, "policy": {}, "client_auth": {"htpasswd": "h", "token": {"realm": "https://a/token", "service": "s", "issuer": "i", "rootcertbundle": "b.crt"}}}`, wantErr: true},
		{name: "empty client auth", cfg: `{"listen": ":1", "upstream": {"url": "https://r"}, "policy": {}, "client_auth": {}}`, wantErr: true},
		{name: "bad policy", cfg: `{"listen": ":1", "upstream": {"url": "https://r"}, "policy": {"default": "open"}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseConfig([]byte(tt.cfg))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestUpstreamCredentials(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(f, []byte(`{"username": "u", "password": "p"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"U": "eu", "P": "ep"}
	for _, tt := range []struct {
		name     string
		c        Credentials
		wantUser string
		wantErr  bool
	}{
		{name: "file", c: Credentials{File: f}, wantUser: "u"},
		{name: "env", c: Credentials{UsernameEnv: "U", PasswordEnv: "P"}, wantUser: "eu"},
		{name: "empty env", c: Credentials{UsernameEnv: "U", PasswordEnv: "NONE"}, wantErr: true},
		{name: "missing file", c: Credentials{File: filepath.Join(dir, "none")}, wantErr: true},
		{name: "nothing", c: Credentials{}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := Upstream{URL: "https://reg.example.com", Credentials: &tt.c}
			fn, err := u.credentialFunc(func(k string) string { return env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			c, _ := fn(context.Background(), "reg.example.com")
			if c.Username != tt.wantUser {
				t.Fatalf("user %q", c.Username)
			}
			if c, _ := fn(context.Background(), "evil.example.com"); !c.IsZero() {
				t.Fatal("credentials offered to another host")
			}
		})
	}
}

// upstream.name: images are named after the registry, requests go to the
// URL; the proxy's credentials (from the environment) reach the upstream.
func TestProxyUpstreamNameAndCredentials(t *testing.T) {
	e := newEnvOpts(t, 1024, envOpts{
		name:  "registry.test:5000",
		creds: &Credentials{UsernameEnv: "UP_USER", PasswordEnv: "UP_PASS"},
		env:   map[string]string{"UP_USER": "proxy", "UP_PASS": "s3cret"},
	})
	e.up.reg.RequireBasic("proxy", "s3cret")
	resp, body := e.get(t, "GET", "/v2/org/app/manifests/1.0")
	if resp.StatusCode != 200 || !bytes.Equal(body, e.signed) {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp, _ := e.get(t, "GET", "/v2/org/app/manifests/"+digestOf(e.child)); resp.StatusCode != 200 {
		t.Fatalf("child: %s", resp.Status)
	}
	if resp, _ := e.get(t, "GET", "/v2/org/app/manifests/unsigned"); resp.StatusCode != 403 {
		t.Fatalf("unsigned: %s", resp.Status)
	}
}

func TestProxyClientAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("node-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ht := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(ht, []byte("# nodes\nnode:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, 1024, envOpts{auth: &ClientAuth{Htpasswd: ht}})
	for _, tt := range []struct {
		name, user, pass string
		want             int
	}{
		{name: "no credentials", want: 401},
		{name: "wrong password", user: "node", pass: "x", want: 401},
		{name: "unknown user", user: "other", pass: "node-pass", want: 401},
		{name: "right", user: "node", pass: "node-pass", want: 200},
		{name: "right again (remembered)", user: "node", pass: "node-pass", want: 200},
		{name: "wrong after right", user: "node", pass: "node-pas", want: 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v2/", "/v2/org/app/manifests/1.0"} {
				req, _ := http.NewRequest("GET", e.proxy.URL+path, nil)
				if tt.user != "" {
					req.SetBasicAuth(tt.user, tt.pass)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Fatalf("%s: status %d, want %d", path, resp.StatusCode, tt.want)
				}
				if tt.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Fatalf("no Basic challenge")
				}
			}
		})
	}
	t.Run("bad htpasswd", func(t *testing.T) {
		for _, content := range []string{"", "node:plaintext\n", "nocolon\n"} {
			p := filepath.Join(dir, "bad")
			_ = os.WriteFile(p, []byte(content), 0o600)
			if _, err := loadHtpasswd(p); err == nil {
				t.Errorf("accepted %q", content)
			}
		}
	})
}

// BenchmarkProxyBlob compares a 50 MiB blob GET from the upstream directly
// with one through the proxy (profile the blob path with -cpuprofile).
func BenchmarkProxyBlob(b *testing.B) {
	const size = 50 << 20
	e := newEnv(b, size)
	d := blobDigest(size)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, side := range []struct{ name, url string }{
		{"direct", e.up.srv.URL}, {"proxy", e.proxy.URL},
	} {
		b.Run(side.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				resp, err := hc.Get(side.url + "/v2/org/app/blobs/" + d)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if n != size {
					b.Fatalf("%d bytes", n)
				}
			}
		})
	}
}
