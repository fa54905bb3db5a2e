package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/htpasswd"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func str(s string) *string { return &s }

func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer test"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testACL = ACL{
	{Account: str("admin"), Name: "*", Actions: []string{"*"}},
	{Account: str("admin"), Type: "registry", Name: "catalog", Actions: []string{"*"}},
	{Account: str("*"), Name: "example.com/${account}/*", Actions: []string{"push", "pull"}},
	{Account: str("*"), Name: "example.com/shared", Actions: []string{"pull"}},
	{Account: str("bob"), Name: "example.com/shared", Actions: []string{"push"}},
	{Account: str(""), Name: "example.com/public/*", Actions: []string{"pull"}},
}

func TestACLGrant(t *testing.T) {
	for _, tc := range []struct {
		account, scope string
		want           []string
	}{
		{"admin", "repository:anything/at/all:push,pull,*", []string{"push", "pull", "*"}},
		{"admin", "registry:catalog:*", []string{"*"}},
		{"alice", "registry:catalog:*", nil},
		{"alice", "repository:example.com/alice/app:pull,push", []string{"pull", "push"}},
		{"alice", "repository:example.com/alice/app:*", nil},
		{"alice", "repository:example.com/alice:pull", nil},
		{"alice", "repository:example.com/bob/app:pull", nil},
		{"alice", "repository:example.com/shared:push,pull", []string{"pull"}},
		{"bob", "repository:example.com/shared:push,pull", []string{"push", "pull"}},
		{"alice", "repository:example.com/public/x:pull", nil},
		{"", "repository:example.com/public/x:pull,push", []string{"pull"}},
		{"", "repository:example.com/shared:pull", nil},
		{"", "repository:example.com//app:pull", nil}, // ${account} never matches anonymous
		{"a*", "repository:example.com/a*/x:pull", []string{"pull"}},
		{"a*", "repository:example.com/abc/x:pull", nil}, // the account is literal in ${account}
	} {
		s, err := auth.ParseScope(tc.scope)
		if err != nil {
			t.Fatal(err)
		}
		if got := testACL.Grant(tc.account, s); !cmp.Equal(got, tc.want) {
			t.Errorf("Grant(%q, %s) = %v, want %v", tc.account, tc.scope, got, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		ok         bool
	}{
		{"*", "", true},
		{"*", "a/b/c", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"a**c", "ac", true},
		{"*.example.com/*", "x.example.com/y", true},
		{"*.example.com/*", "example.com/y", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"a*b*c*d", "aXbYcZd", true},
		{"a*b*c*d", "aXbYcZ", false},
	} {
		if got := glob(tc.pattern, "", tc.s); got != tc.ok {
			t.Errorf("glob(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestParseACL(t *testing.T) {
	good := `[{"account":"admin","name":"*","actions":["*"]},{"account":"","name":"pub/*","actions":["pull"]}]`
	if acl, err := ParseACL([]byte(good)); err != nil || len(acl) != 2 {
		t.Errorf("ParseACL = %v, %v", acl, err)
	}
	for _, bad := range []string{
		`[{"name":"*","actions":["*"]}]`,
		`[{"account":"a","actions":["*"]}]`,
		`[{"account":"a","name":"x"}]`,
		`[{"account":"a","name":"x","actions":["pu ll"]}]`,
		`[{"account":"a","name":"x","actions":["pull"],"action":["push"]}]`,
		`{"account":"a"}`,
	} {
		if _, err := ParseACL([]byte(bad)); err == nil {
			t.Errorf("ParseACL(%s) succeeded", bad)
		}
	}
}

type fixture struct {
	iss      *Issuer
	verifier *auth.TokenVerifier
	srv      *httptest.Server
}

func newFixture(t *testing.T, key crypto.Signer) *fixture {
	t.Helper()
	cert := selfSigned(t, key)
	var lines []string
	for _, u := range []string{"admin", "alice", "bob"} {
		l, err := htpasswd.Line(u, u+"-password", 4)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	users, err := htpasswd.Parse(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New(Options{
		Issuer: "notary-auth", Services: []string{"notary.example.com"},
		Key: key, Chain: []*x509.Certificate{cert},
		Users: users, ACL: testACL, Now: func() time.Time { return t0 },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewTokenVerifier(auth.TokenOptions{Service: "notary.example.com", Issuer: "notary-auth", Roots: []*x509.Certificate{cert}, Now: func() time.Time { return t0.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(iss)
	t.Cleanup(srv.Close)
	return &fixture{iss: iss, verifier: v, srv: srv}
}

type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope"`
}

func (f *fixture) get(t *testing.T, user string, q url.Values) (*http.Response, tokenResponse) {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+"/token?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, user+"-password")
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, tokenResponse) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			t.Fatal(err)
		}
	}
	return resp, tr
}

func TestIssueAndVerify(t *testing.T) {
	for _, kind := range []string{"p256", "p384", "p521", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			var key crypto.Signer
			var err error
			switch kind {
			case "p256":
				key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			case "p384":
				key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			case "p521":
				key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
			case "rsa":
				key, err = rsa.GenerateKey(rand.Reader, 2048)
			}
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, key)
			q := url.Values{"service": {"notary.example.com"}, "account": {"alice"},
				"scope": {"repository:example.com/alice/app:push,pull repository:example.com/shared:push,pull", "repository:example.com/bob/x:pull"}}
			resp, tr := f.get(t, "alice", q)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if tr.Token == "" || tr.Token != tr.AccessToken || tr.ExpiresIn != 300 || tr.IssuedAt != "2030-01-02T03:04:05Z" {
				t.Errorf("response %+v", tr)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			c, err := f.verifier.Verify(tr.Token)
			if err != nil {
				t.Fatalf("our verifier refuses the issued token: %v", err)
			}
			want := []auth.ResourceActions{
				{Type: "repository", Name: "example.com/alice/app", Actions: []string{"push", "pull"}},
				{Type: "repository", Name: "example.com/shared", Actions: []string{"pull"}},
			}
			if c.Subject != "alice" || !cmp.Equal(c.Access, want) || !c.Expiry.Equal(t0.Add(5*time.Minute)) {
				t.Errorf("claims %+v", c)
			}
			// The header names the key both ways (x5c and libtrust kid).
			hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tr.Token, ".")[0])
			var hdr map[string]any
			if err := json.Unmarshal(hb, &hdr); err != nil || hdr["kid"] == nil || hdr["x5c"] == nil || hdr["typ"] != "JWT" {
				t.Errorf("header %s", hb)
			}
			// aud is a string, as docker/distribution v2 requires.
			cb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tr.Token, ".")[1])
			if !strings.Contains(string(cb), `"aud":"notary.example.com"`) {
				t.Errorf("claims %s", cb)
			}
		})
	}
}

func TestTokenRequests(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f := newFixture(t, key)
	svc := "notary.example.com"
	for _, tc := range []struct {
		name      string
		user      string
		badPass   bool
		authz     string
		q         url.Values
		status    int
		challenge bool
		access    []auth.ResourceActions
	}{
		{name: "anonymous, public", q: url.Values{"service": {svc}, "scope": {"repository:example.com/public/a:pull,push"}}, status: 200,
			access: []auth.ResourceActions{{Type: "repository", Name: "example.com/public/a", Actions: []string{"pull"}}}},
		{name: "anonymous, private", q: url.Values{"service": {svc}, "scope": {"repository:example.com/alice/a:pull"}}, status: 200, access: []auth.ResourceActions{}},
		{name: "no scope", user: "alice", q: url.Values{"service": {svc}}, status: 200, access: []auth.ResourceActions{}},
		{name: "admin catalog", user: "admin", q: url.Values{"service": {svc}, "scope": {"registry:catalog:*"}}, status: 200,
			access: []auth.ResourceActions{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}},
		{name: "admin delete", user: "admin", q: url.Values{"service": {svc}, "scope": {"repository:x/y:*"}}, status: 200,
			access: []auth.ResourceActions{{Type: "repository", Name: "x/y", Actions: []string{"*"}}}},
		{name: "wrong password", user: "alice", badPass: true, q: url.Values{"service": {svc}}, status: 401, challenge: true},
		{name: "unknown user", user: "mallory", q: url.Values{"service": {svc}}, status: 401, challenge: true},
		{name: "bearer credentials", authz: "Bearer x.y.z", q: url.Values{"service": {svc}}, status: 401, challenge: true},
		{name: "malformed basic", authz: "Basic !!!", q: url.Values{"service": {svc}}, status: 401, challenge: true},
		{name: "account mismatch", user: "alice", q: url.Values{"service": {svc}, "account": {"admin"}}, status: 400},
		{name: "anonymous with account", q: url.Values{"service": {svc}, "account": {"admin"}}, status: 401, challenge: true},
		{name: "unknown service", user: "alice", q: url.Values{"service": {"registry.example.com"}}, status: 400},
		{name: "no service", user: "alice", q: url.Values{}, status: 400},
		{name: "bad scope", user: "alice", q: url.Values{"service": {svc}, "scope": {"repository:foo"}}, status: 400},
		{name: "too many scopes", user: "alice", q: url.Values{"service": {svc}, "scope": {strings.Repeat("repository:a:pull ", MaxScopes+1)}}, status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.srv.URL+"/token?"+tc.q.Encode(), nil)
			switch {
			case tc.authz != "":
				req.Header.Set("Authorization", tc.authz)
			case tc.user != "":
				pass := tc.user + "-password"
				if tc.badPass {
					pass += "x"
				}
				req.SetBasicAuth(tc.user, pass)
			}
			resp, tr := do(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Www-Authenticate"); (got == `Basic realm="notary-auth"`) != tc.challenge {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if tc.status != 200 {
				return
			}
			c, err := f.verifier.Verify(tr.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(c.Access, tc.access) || c.Subject != tc.user {
				t.Errorf("subject %q access %+v, want %q %+v", c.Subject, c.Access, tc.user, tc.access)
			}
		})
	}
}

func TestOAuthPasswordGrant(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f := newFixture(t, key)
	post := func(form url.Values) (*http.Response, tokenResponse) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}
	resp, tr := post(url.Values{"grant_type": {"password"}, "client_id": {"docker"}, "username": {"bob"}, "password": {"bob-password"},
		"service": {"notary.example.com"}, "scope": {"repository:example.com/shared:push,pull repository:example.com/bob/a:pull"}, "access_type": {"offline"}})
	if resp.StatusCode != 200 || tr.AccessToken == "" || tr.Token != "" || tr.Scope != "repository:example.com/shared:push,pull repository:example.com/bob/a:pull" {
		t.Fatalf("status %d, %+v", resp.StatusCode, tr)
	}
	if _, err := f.verifier.Verify(tr.AccessToken); err != nil {
		t.Fatal(err)
	}
	for _, form := range []url.Values{
		{"grant_type": {"password"}, "client_id": {"docker"}, "username": {"bob"}, "password": {"nope"}, "service": {"notary.example.com"}},
		{"grant_type": {"refresh_token"}, "client_id": {"docker"}, "refresh_token": {"x"}, "service": {"notary.example.com"}},
		{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob-password"}, "service": {"notary.example.com"}},
		{"grant_type": {"client_credentials"}},
	} {
		if resp, _ := post(form); resp.StatusCode/100 != 4 {
			t.Errorf("POST %v: status %d", form, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("PUT", f.srv.URL+"/token", nil)
	if resp, _ := do(t, req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
}

func TestNewRefuses(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // testing the refusal
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	good := func() Options {
		return Options{Issuer: "i", Services: []string{"s"}, Key: p256, Chain: []*x509.Certificate{selfSigned(t, p256)}}
	}
	if _, err := New(good()); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Options){
		"no issuer":      func(o *Options) { o.Issuer = "" },
		"no service":     func(o *Options) { o.Services = nil },
		"no key":         func(o *Options) { o.Key = nil },
		"no chain":       func(o *Options) { o.Chain = nil },
		"chain mismatch": func(o *Options) { o.Chain = []*x509.Certificate{selfSigned(t, other)} },
		"P-224":          func(o *Options) { o.Key = p224; o.Chain = []*x509.Certificate{selfSigned(t, p224)} },
		"RSA 1024":       func(o *Options) { o.Key = small; o.Chain = []*x509.Certificate{selfSigned(t, small)} },
		"Ed25519":        func(o *Options) { o.Key = ed; o.Chain = []*x509.Certificate{selfSigned(t, ed)} },
		"TTL too short":  func(o *Options) { o.TTL = time.Second },
		"TTL too long":   func(o *Options) { o.TTL = 48 * time.Hour },
		"bad ACL":        func(o *Options) { o.ACL = ACL{{Name: "x", Actions: []string{"pull"}}} },
	} {
		o := good()
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
