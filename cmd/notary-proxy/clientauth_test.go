package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/auth/issuer"
)

// tokenServer is an in-process notary-auth issuer: user "node" may pull
// org/app only; "admin" may do anything, the catalog included.
type tokenServer struct {
	srv    *httptest.Server
	bundle string // PEM of the issuer's self-signed certificate
}

func newTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy token issuer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	var lines []string
	for _, u := range []string{"node", "admin"} {
		l, err := htpasswd.Line(u, u+"-pass", 4)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	users, err := htpasswd.Parse(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	node, admin := "node", "admin"
	iss, err := issuer.New(issuer.Options{
		Issuer: "test-issuer", Services: []string{"notary-proxy"},
		Key: key, Chain: []*x509.Certificate{cert}, Users: users,
		ACL: issuer.ACL{
			{Account: &node, Name: "org/app", Actions: []string{"pull"}},
			{Account: &admin, Name: "*", Actions: []string{"*"}},
			{Account: &admin, Type: "registry", Name: "catalog", Actions: []string{"*"}},
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenServer{srv: httptest.NewServer(iss), bundle: filepath.Join(t.TempDir(), "root.crt")}
	t.Cleanup(ts.srv.Close)
	if err := os.WriteFile(ts.bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return ts
}

// challengeParams parses a Bearer challenge's quoted parameters.
func challengeParams(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("not a Bearer challenge: %q", h)
	}
	out := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, `="`)
		if !ok {
			t.Fatalf("bad challenge %q", h)
		}
		end := strings.IndexByte(v, '"')
		out[k] = v[:end]
		rest = strings.TrimPrefix(v[end+1:], ",")
	}
	return out
}

// pull does what crane/containerd do: try, follow a Bearer challenge to
// the token server with the given Basic credentials, retry with the
// token. It returns the first answer's challenge and the final answer.
func pull(t *testing.T, url0, user string) (challenge map[string]string, final *http.Response) {
	t.Helper()
	resp, err := http.Get(url0)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("first try: status %d, want a 401 challenge", resp.StatusCode)
	}
	challenge = challengeParams(t, resp.Header.Get("WWW-Authenticate"))
	q := url.Values{"service": {challenge["service"]}, "scope": {challenge["scope"]}}
	req, _ := http.NewRequest("GET", challenge["realm"]+"?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, user+"-pass")
	}
	tr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(tr.Body).Decode(&tok); err != nil || tr.StatusCode != 200 {
		t.Fatalf("token server: status %d, %v", tr.StatusCode, err)
	}
	req, _ = http.NewRequest("GET", url0, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	final, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { final.Body.Close() })
	return challenge, final
}

func TestProxyClientTokenAuth(t *testing.T) {
	ts := newTokenServer(t)
	e := newEnvOpts(t, 4096, envOpts{auth: &ClientAuth{Token: &TokenAuth{
		Realm: ts.srv.URL + "/token", Service: "notary-proxy", Issuer: "test-issuer", RootCertBundle: ts.bundle,
	}}})
	blob := "/v2/org/app/blobs/" + blobDigest(4096)
	for _, tt := range []struct {
		name, path, user string
		scope            string
		want             int
	}{
		{name: "base, catalog grant", path: "/v2/", user: "admin", scope: "registry:catalog:*", want: 200},
		// docker login: any valid token passes /v2/.
		{name: "base, no catalog grant", path: "/v2/", user: "node", scope: "registry:catalog:*", want: 200},
		{name: "signed manifest", path: "/v2/org/app/manifests/1.0", user: "node", scope: "repository:org/app:pull", want: 200},
		{name: "blob", path: blob, user: "node", scope: "repository:org/app:pull", want: 200},
		{name: "policy still applies", path: "/v2/org/app/manifests/unsigned", user: "node", scope: "repository:org/app:pull", want: 403},
		{name: "repository not granted", path: "/v2/org/audited/manifests/1", user: "node", scope: "repository:org/audited:pull", want: 401},
		{name: "anonymous token", path: "/v2/org/app/manifests/1.0", scope: "repository:org/app:pull", want: 401},
		{name: "nested name", path: "/v2/org/app/blobs/x/manifests/1.0", user: "admin", scope: "repository:org/app/blobs/x:pull", want: 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch, resp := pull(t, e.proxy.URL+tt.path, tt.user)
			if ch["realm"] != ts.srv.URL+"/token" || ch["service"] != "notary-proxy" || ch["scope"] != tt.scope || ch["error"] != "" {
				t.Fatalf("challenge %v, want scope %q", ch, tt.scope)
			}
			if resp.StatusCode != tt.want {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
			if tt.want == 401 {
				if got := challengeParams(t, resp.Header.Get("WWW-Authenticate")); got["error"] != "insufficient_scope" || got["scope"] != tt.scope {
					t.Fatalf("retry challenge %v", got)
				}
			}
		})
	}
	t.Run("refused tokens", func(t *testing.T) {
		for name, h := range map[string]string{
			"basic":   "Basic bm9kZTpub2RlLXBhc3M=",
			"garbage": "Bearer not.a.token",
		} {
			req, _ := http.NewRequest("GET", e.proxy.URL+"/v2/org/app/manifests/1.0", nil)
			req.Header.Set("Authorization", h)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body regError
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 401 || len(body.Errors) != 1 || body.Errors[0].Code != "UNAUTHORIZED" {
				t.Errorf("%s: status %d, %+v", name, resp.StatusCode, body)
			}
		}
	})
	t.Run("bad token config", func(t *testing.T) {
		for name, c := range map[string]*TokenAuth{
			"no bundle file": {Realm: "https://a/token", Service: "s", Issuer: "i", RootCertBundle: filepath.Join(t.TempDir(), "none.crt")},
			"no service":     {Realm: "https://a/token", Issuer: "i", RootCertBundle: ts.bundle},
			"no realm":       {Service: "s", Issuer: "i", RootCertBundle: ts.bundle},
		} {
			if _, err := newTokenClientAuth(c, slog.New(slog.DiscardHandler)); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
	t.Run("health and metrics stay open", func(t *testing.T) {
		if resp, _ := e.get(t, "GET", "/healthz"); resp.StatusCode != 200 {
			t.Fatalf("healthz: %s", resp.Status)
		}
	})
}

func TestRegistryAccess(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/v2/", "registry:catalog:*"},
		{"/v2", "registry:catalog:*"},
		{"/v2/org/app/manifests/1.0", "repository:org/app:pull"},
		{"/v2/a/b/c/blobs/sha256:00", "repository:a/b/c:pull"},
		{"/v2/UPPER/manifests/1", "registry:catalog:*"},
		{"/v2/org/app/tags/list", "registry:catalog:*"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			acc := registryAccess(tt.path)
			c := &auth.Challenge{Scheme: "Bearer", Access: acc}
			if got := challengeParams(t, c.Header())["scope"]; got != tt.want {
				t.Fatalf("scope %q, want %q", got, tt.want)
			}
		})
	}
}
