package auth

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The fuzz targets' seed corpora are in testdata/fuzz/<target>; they are
// also run as ordinary tests by `go test`.

// fuzzSigner is the fixed test signer of testdata/signer.{key,crt}, so that
// seed tokens stay valid (at t0) across runs.
func fuzzSigner(t testing.TB) *testCert {
	t.Helper()
	kb, err := os.ReadFile("testdata/signer.key")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := os.ReadFile("testdata/signer.crt")
	if err != nil {
		t.Fatal(err)
	}
	kblk, _ := pem.Decode(kb)
	cblk, _ := pem.Decode(cb)
	if kblk == nil || cblk == nil {
		t.Fatal("testdata/signer.{key,crt}: no PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{key: k.(crypto.Signer), cert: c}
}

// fuzzSeedToken is a valid token at t0 from fuzzSigner, granting pull on
// example.com/foo.
func fuzzSeedToken(t testing.TB, s *testCert) string {
	return mint(t, map[string]any{"typ": "JWT", "alg": "ES256", "x5c": x5c(s.cert)}, goodClaims(repo("example.com/foo", "pull")), s.key, nil)
}

func signingInput(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return tok
	}
	return tok[:i]
}

// FuzzTokenVerify feeds arbitrary tokens to the verifier. It must never
// panic, and may accept only tokens whose signed part is one this test
// signed (signatures cannot be forged by mutation).
func FuzzTokenVerify(f *testing.F) {
	s := fuzzSigner(f)
	seed := fuzzSeedToken(f, s)
	f.Add(seed)
	f.Add("not.a.jwt")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	v, err := NewTokenVerifier(TokenOptions{Service: "notary.example.com", Issuer: "auth.example.com", Roots: []*x509.Certificate{s.cert}, Now: fixedClock(t0)})
	if err != nil {
		f.Fatal(err)
	}
	// Header and claims of seed tokens are deterministic, so every token
	// this test (or the committed corpus) signed has this signing input;
	// only the signature differs between runs.
	kid, err := LibtrustKeyID(s.cert.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	signed := map[string]bool{
		signingInput(seed): true,
		signingInput(mint(f, map[string]any{"alg": "ES256", "kid": kid}, goodClaims(repo("example.com/foo", "pull")), s.key, nil)): true,
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := v.Verify(raw); err == nil && !signed[signingInput(raw)] {
			t.Fatalf("accepted a token this test did not sign: %q", raw)
		}
	})
}

// FuzzParseAuthorization checks the Authorization header parser: no
// panics, and what it accepts is a token scheme and token68 credentials
// that parse again to the same result.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "Basic dXNlcjpwYXNz", "bearer  x==", " Bearer x ", "Bearer", "", "Digest a=b, c=d", "Bearer a b", "\tBasic\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		scheme, cred, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if !isToken(scheme) || !isToken68(cred) || len(cred) > MaxCredentialsLen {
			t.Fatalf("ParseAuthorization(%q) = %q, %q", h, scheme, cred)
		}
		s2, c2, err := ParseAuthorization(scheme + " " + cred)
		if err != nil || s2 != scheme || c2 != cred {
			t.Fatalf("round trip of %q: %q %q %v", h, s2, c2, err)
		}
		if strings.EqualFold(scheme, "Basic") {
			if u, p, err := ParseBasic(cred); err == nil && (u == "" || strings.ContainsAny(u, ":\x00\n")) {
				t.Fatalf("ParseBasic(%q) = %q, %q", cred, u, p)
			}
		}
	})
}

// FuzzParseScope: no panics; an accepted scope renders and re-parses to
// itself.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"repository:example.com/foo:push,pull", "registry:catalog:*", "repository(plugin):a/b:pull", "repository:localhost:5000/a:pull", "a:b", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ra, err := ParseScope(s)
		if err != nil {
			return
		}
		again, err := ParseScope(ra.String())
		if err != nil || again.String() != ra.String() {
			t.Fatalf("ParseScope(%q) = %+v; re-parse: %+v, %v", s, ra, again, err)
		}
	})
}

// FuzzMiddleware drives the token middleware with arbitrary methods, paths
// and Authorization headers: it must never panic, must let a request
// through only with a valid token granting what the route needs, and must
// answer everything else 401 (or the GUN-prefix 400/404).
func FuzzMiddleware(f *testing.F) {
	s := fuzzSigner(f)
	seed := fuzzSeedToken(f, s)
	for _, rc := range routeTable {
		f.Add(rc.method, rc.path, "Bearer "+seed)
		f.Add(rc.method, rc.path, "")
	}
	f.Add("GET", "/v2/example.com/foo/_trust/tuf/root.json", "Basic dXNlcjpwYXNz")
	a, err := NewTokenAuth(TokenOptions{Realm: "https://auth/token", Service: "notary.example.com", Issuer: "auth.example.com", Roots: []*x509.Certificate{s.cert}, Now: fixedClock(t0)})
	if err != nil {
		f.Fatal(err)
	}
	h := Middleware(a, MiddlewareOptions{Logger: quiet, GUNPrefixes: []string{"example.com/"}})(reached)
	f.Fuzz(func(t *testing.T, method, path, authz string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#?%") || strings.ContainsAny(authz, "\r\n\x00") {
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Method, req.URL.Path = method, path
		req.Header.Set("Authorization", authz)
		rec := serve(h, req)
		need, gun, open := RequiredAccess(method, path)
		switch rec.Code {
		case 299:
			if open {
				return
			}
			// Only the seed token can pass, and it grants pull on
			// example.com/foo only.
			if !strings.Contains(authz, signingInput(seed)) {
				t.Fatalf("%s %s passed with %q", method, path, authz)
			}
			for _, n := range need {
				if n != (Access{Type: "repository", Name: "example.com/foo", Action: "pull"}) {
					t.Fatalf("%s %s passed needing %v", method, path, need)
				}
			}
		case http.StatusUnauthorized:
			if open || rec.Header().Get("Www-Authenticate") == "" {
				t.Fatalf("%s %s: 401 on an open route or without a challenge", method, path)
			}
		case http.StatusBadRequest, http.StatusNotFound:
			if gun == "" || strings.HasPrefix(gun, "example.com/") {
				t.Fatalf("%s %s: %d for gun %q", method, path, rec.Code, gun)
			}
		default:
			t.Fatalf("%s %s: status %d", method, path, rec.Code)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !isToken(m[i : i+1]) {
			return false
		}
	}
	return true
}
