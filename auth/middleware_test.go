package auth

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/auth/htpasswd"
)

// TestTokenAuthMatrix runs every route of §5.1 against every kind of
// credential and checks status, challenge error and body.
func TestTokenAuthMatrix(t *testing.T) {
	p := newTestPKI(t)
	a, err := NewTokenAuth(testTokenOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(a, MiddlewareOptions{Logger: quiet})(reached)
	good := func(access ...ResourceActions) string {
		return "Bearer " + mint(t, map[string]any{"alg": "ES256", "x5c": x5c(p.leaf.cert, p.inter.cert)}, goodClaims(access...), p.leaf.key, nil)
	}
	bad := func(mod func(hdr, claims map[string]any) any) string {
		hdr := map[string]any{"alg": "ES256", "x5c": x5c(p.selfSigned.cert)}
		claims := goodClaims(repo("example.com/foo", "*"), ResourceActions{Type: "registry", Name: "catalog", Actions: []string{"*"}})
		key := mod(hdr, claims)
		switch k := key.(type) {
		case []byte:
			return "Bearer " + mint(t, hdr, claims, nil, k)
		case *testCert:
			return "Bearer " + mint(t, hdr, claims, k.key, nil)
		}
		return "Bearer " + mint(t, hdr, claims, p.selfSigned.key, nil)
	}
	catalog := ResourceActions{Type: "registry", Name: "catalog", Actions: []string{"*"}}
	invalid := map[string]string{
		"malformed":      "Bearer not.a.jwt",
		"expired":        bad(func(_, c map[string]any) any { c["exp"] = t0.Add(-2 * time.Minute).Unix(); return nil }),
		"not yet valid":  bad(func(_, c map[string]any) any { c["nbf"] = t0.Add(2 * time.Minute).Unix(); return nil }),
		"wrong audience": bad(func(_, c map[string]any) any { c["aud"] = "registry.example.com"; return nil }),
		"wrong issuer":   bad(func(_, c map[string]any) any { c["iss"] = "evil"; return nil }),
		"wrong signature": bad(func(_, _ map[string]any) any {
			return p.stranger
		}),
		"untrusted chain": bad(func(h, _ map[string]any) any { h["x5c"] = x5c(p.stranger.cert); return p.stranger }),
		"alg none":        bad(func(h, _ map[string]any) any { h["alg"] = "none"; return []byte(nil) }),
		"HS256 public key as secret": bad(func(h, _ map[string]any) any {
			h["alg"] = "HS256"
			return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.selfSigned.cert.Raw})
		}),
	}
	required := map[string]string{
		"none":          "",
		"basic":         "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pass")),
		"bearer, empty": "Bearer",
	}
	for _, rc := range routeTable {
		need := rc.want()
		t.Run(rc.method+" "+rc.path, func(t *testing.T) {
			check := func(name, authz, wantErr string) {
				t.Helper()
				req := httptest.NewRequest(rc.method, rc.path, nil)
				if authz != "" {
					req.Header.Set("Authorization", authz)
				}
				rec := serve(h, req)
				if need == nil || wantErr == "pass" {
					if rec.Code != 299 {
						t.Errorf("%s: status %d (%s), want the request to pass", name, rec.Code, rec.Header().Get("Www-Authenticate"))
					}
					return
				}
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("%s: status %d, want 401", name, rec.Code)
				}
				ch := rec.Header().Get("Www-Authenticate")
				want := `Bearer realm="https://auth.example.com/token",service="notary.example.com",scope="` + scopeParam(need) + `"`
				if wantErr != "" {
					want += `,error="` + wantErr + `"`
				}
				if ch != want {
					t.Errorf("%s: challenge %q, want %q", name, ch, want)
				}
				var body api.ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Code != api.CodeUnauthorized {
					t.Fatalf("%s: body %s", name, rec.Body)
				}
				var detail []Access
				if err := json.Unmarshal(body.Errors[0].Detail, &detail); err != nil || !cmp.Equal(detail, need) {
					t.Errorf("%s: detail %s, want %v", name, body.Errors[0].Detail, need)
				}
			}
			for name, authz := range required {
				check(name, authz, "")
			}
			for name, authz := range invalid {
				check(name, authz, "invalid_token")
			}
			// The exact access needed passes; each missing action is
			// insufficient_scope.
			if need != nil && !rc.catalog {
				check("exact", good(repo(rc.gun, rc.actions...)), "pass")
				check("star", good(repo(rc.gun, "*")), "pass")
				check("other repository", good(repo("example.com/other", "*")), "insufficient_scope")
				check("catalog only", good(catalog), "insufficient_scope")
				check("empty access", good(), "insufficient_scope")
				for _, drop := range rc.actions {
					var rest []string
					for _, a := range rc.actions {
						if a != drop {
							rest = append(rest, a)
						}
					}
					if rest == nil {
						rest = []string{"nothing"}
					}
					check("without "+drop, good(repo(rc.gun, rest...)), "insufficient_scope")
				}
				if contains(rc.actions, "*") {
					check("push and pull", good(repo(rc.gun, "push", "pull")), "insufficient_scope")
				}
			}
			if rc.catalog {
				check("catalog", good(catalog), "pass")
				check("repository *", good(repo("example.com/foo", "*")), "insufficient_scope")
				check("catalog pull", good(ResourceActions{Type: "registry", Name: "catalog", Actions: []string{"pull"}}), "insufficient_scope")
			}
		})
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	p := newTestPKI(t)
	a, err := NewTokenAuth(testTokenOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, map[string]any{"alg": "ES256", "x5c": x5c(p.selfSigned.cert)}, goodClaims(repo("example.com/foo", "pull")), p.selfSigned.key, nil)
	for _, tc := range []struct {
		h       string
		wantErr string // "" pass, "-" plain challenge
	}{
		{"Bearer " + tok, ""},
		{"bearer " + tok, ""},
		{"BEARER   " + tok + "  ", ""},
		{"Bearer", "-"},
		{"Bearer ", "-"},
		{"Token " + tok, "-"},
		{"Basic " + tok, "-"},
		{"Bearer " + tok + " extra", "invalid_token"},
		{"Bearer " + tok + ",", "invalid_token"},
		{"Bearer\t" + tok, "-"},
	} {
		req := httptest.NewRequest("GET", "/v2/example.com/foo/_trust/tuf/root.json", nil)
		req.Header.Set("Authorization", tc.h)
		g, err := a.Authorize(req, RepositoryAccess("example.com/foo", "pull"))
		switch {
		case tc.wantErr == "":
			if err != nil || g.User != "alice" {
				t.Errorf("%.40q: %v, %v; want alice", tc.h, g, err)
			}
		case err == nil:
			t.Errorf("%.40q: authorized", tc.h)
		default:
			ch := err.(*Challenge).Header()
			if tc.wantErr == "-" && strings.Contains(ch, "error=") || tc.wantErr != "-" && !strings.Contains(ch, `error="`+tc.wantErr+`"`) {
				t.Errorf("%.40q: challenge %q, want error %q", tc.h, ch, tc.wantErr)
			}
		}
	}
}

func TestGUNPrefixes(t *testing.T) {
	p := newTestPKI(t)
	a, err := NewTokenAuth(testTokenOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(a, MiddlewareOptions{Logger: quiet, GUNPrefixes: []string{"example.com/", "docker.io/"}})(reached)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		// Outside the prefixes: answered before auth (v0.7.0
		// filterImagePrefixes), 400 on update, 404 elsewhere.
		{"POST", "/v2/other.org/foo/_trust/tuf/", 400, `{"errors":[{"code":"INVALID_GUN","message":"The server does not support actions on images of this name.","detail":"Require GUNs with prefix: [example.com/ docker.io/]"}]}` + "\n"},
		{"GET", "/v2/other.org/foo/_trust/tuf/root.json", 404, `{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}` + "\n"},
		{"DELETE", "/v2/other.org/foo/_trust/tuf/", 404, ""},
		{"GET", "/v2/other.org/foo/_trust/tuf/timestamp.key", 404, ""},
		{"GET", "/v2/other.org/foo/_trust/changefeed", 404, ""},
		// Inside: auth applies.
		{"POST", "/v2/example.com/foo/_trust/tuf/", 401, ""},
		{"GET", "/v2/docker.io/library/alpine/_trust/tuf/root.json", 401, ""},
		// Routes without a GUN are not filtered.
		{"GET", "/v2/", 401, ""},
		{"GET", "/v2/_trust/changefeed", 401, ""},
		// Neither is the catch-all.
		{"PUT", "/v2/other.org/foo/_trust/tuf/root.json", 401, ""},
		{"GET", "/_notary_server/health", 299, ""},
	} {
		rec := serve(h, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || tc.body != "" && rec.Body.String() != tc.body {
			t.Errorf("%s %s = %d %s; want %d %s", tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.body)
		}
	}
}

func writeHtpasswd(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	f := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBasicAuth(t *testing.T) {
	alice, err := htpasswd.Line("alice", "wonderland", 4)
	if err != nil {
		t.Fatal(err)
	}
	users, err := htpasswd.Parse(strings.NewReader(alice + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Every case comes from one address: no failed-login limit here
	// (TestBasicAuthFailureLimit tests it).
	a, err := NewBasicAuth(BasicOptions{Realm: "notary", Users: users, FailureBurst: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(a, MiddlewareOptions{Logger: quiet})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g, ok := GrantFromContext(r.Context()); ok {
			w.Header().Set("X-User", g.User)
		}
		w.WriteHeader(299)
	}))
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	for _, rc := range routeTable {
		for _, tc := range []struct {
			name, h string
			ok      bool
		}{
			{"right password", basic("alice", "wonderland"), true},
			{"lowercase scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland")), true},
			{"no credentials", "", false},
			{"wrong password", basic("alice", "wonderlant"), false},
			{"unknown user", basic("bob", "wonderland"), false},
			{"empty user", basic("", "wonderland"), false},
			{"bearer", "Bearer abc.def.ghi", false},
			{"not base64", "Basic !!!", false},
			{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), false},
		} {
			req := httptest.NewRequest(rc.method, rc.path, nil)
			if tc.h != "" {
				req.Header.Set("Authorization", tc.h)
			}
			rec := serve(h, req)
			need := rc.want()
			switch {
			case need == nil || tc.ok:
				if rec.Code != 299 && need == nil {
					t.Errorf("%s %s %s: %d, want open", rc.method, rc.path, tc.name, rec.Code)
				}
				if need != nil && (rec.Code != 299 || rec.Header().Get("X-User") != "alice") {
					t.Errorf("%s %s %s: %d (user %q), want pass as alice", rc.method, rc.path, tc.name, rec.Code, rec.Header().Get("X-User"))
				}
			default:
				if rec.Code != 401 || rec.Header().Get("Www-Authenticate") != `Basic realm="notary"` {
					t.Errorf("%s %s %s: %d %q, want 401 Basic challenge", rc.method, rc.path, tc.name, rec.Code, rec.Header().Get("Www-Authenticate"))
				}
				var body api.ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Errors[0].Code != api.CodeUnauthorized {
					t.Errorf("body %s", rec.Body)
				}
			}
		}
	}
}

func TestNewFromConfig(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	var pemBytes []byte
	for _, c := range p.bundle() {
		pemBytes = append(pemBytes, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(bundle, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	line, _ := htpasswd.Line("alice", "pw", 4)
	writeHtpasswd(t, dir, line)
	writeHtpasswd2 := filepath.Join(dir, "md5")
	if err := os.WriteFile(writeHtpasswd2, []byte("bob:$apr1$abc$def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := func(kv ...any) map[string]any {
		m := map[string]any{"realm": "https://auth/token", "service": "notary.example.com", "issuer": "auth.example.com", "rootcertbundle": bundle}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
		status  int // of GET /v2/ without credentials
	}{
		{name: "none", cfg: Config{}, status: 299},
		{name: "token", cfg: Config{Type: "token", Options: token()}, status: 401},
		{name: "token, upper-case keys", cfg: Config{Type: "token", Options: map[string]any{"Realm": "r", "SERVICE": "s", "Issuer": "i", "RootCertBundle": bundle}}, status: 401},
		{name: "token, relative bundle", cfg: Config{Type: "token", BaseDir: dir, Options: token("rootcertbundle", "bundle.pem")}, status: 401},
		{name: "token, autoredirect without realm", cfg: Config{Type: "token", Options: token("realm", nil, "autoredirect", true)}, status: 401},
		{name: "token, autoredirect as string", cfg: Config{Type: "token", Options: token("autoredirect", "true")}, status: 401},
		{name: "token, unknown option is ignored", cfg: Config{Type: "token", Options: token("foo", "bar")}, status: 401},
		{name: "token, no realm", cfg: Config{Type: "token", Options: token("realm", nil)}, wantErr: `"realm"`},
		{name: "token, no service", cfg: Config{Type: "token", Options: token("service", nil)}, wantErr: `"service"`},
		{name: "token, no issuer", cfg: Config{Type: "token", Options: token("issuer", nil)}, wantErr: `"issuer"`},
		{name: "token, no bundle", cfg: Config{Type: "token", Options: token("rootcertbundle", nil)}, wantErr: `"rootcertbundle"`},
		{name: "token, missing bundle", cfg: Config{Type: "token", Options: token("rootcertbundle", filepath.Join(dir, "nope.pem"))}, wantErr: "unable to read"},
		{name: "token, empty bundle", cfg: Config{Type: "token", Options: token("rootcertbundle", filepath.Join(dir, "empty.pem"))}, wantErr: "at least one"},
		{name: "token, realm not a string", cfg: Config{Type: "token", Options: token("realm", 7)}, wantErr: "must be a string"},
		{name: "token, autoredirect not a bool", cfg: Config{Type: "token", Options: token("autoredirect", 7)}, wantErr: "must be a boolean"},
		{name: "token, no options", cfg: Config{Type: "token"}, wantErr: `"service"`},
		{name: "htpasswd", cfg: Config{Type: "htpasswd", Options: map[string]any{"realm": "notary", "path": filepath.Join(dir, "htpasswd")}}, status: 401},
		{name: "htpasswd, relative", cfg: Config{Type: "htpasswd", BaseDir: dir, Options: map[string]any{"realm": "notary", "path": "htpasswd"}}, status: 401},
		{name: "htpasswd, no path", cfg: Config{Type: "htpasswd", Options: map[string]any{"realm": "notary"}}, wantErr: `"path"`},
		{name: "htpasswd, md5", cfg: Config{Type: "htpasswd", Options: map[string]any{"realm": "notary", "path": writeHtpasswd2}}, wantErr: "only bcrypt"},
		{name: "unknown type", cfg: Config{Type: "silly"}, wantErr: "unknown auth.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			mw, err := New(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(mw(reached), httptest.NewRequest("GET", "/v2/", nil))
			if rec.Code != tc.status {
				t.Errorf("GET /v2/ = %d, want %d", rec.Code, tc.status)
			}
		})
	}
}

func TestAutoRedirectRealm(t *testing.T) {
	p := newTestPKI(t)
	opts := testTokenOptions(p)
	opts.AutoRedirect = true
	a, err := NewTokenAuth(opts)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "https://notary.example.com:4443/v2/", nil)
	_, err = a.Authorize(req, []Access{CatalogAccess})
	if got := err.(*Challenge).Header(); !strings.HasPrefix(got, `Bearer realm="https://notary.example.com:4443/auth/token",`) {
		t.Errorf("challenge %q", got)
	}
}
