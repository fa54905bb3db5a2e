//go:build interop

package interop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/issuer"
)

// authRoute is a request of the §5.1 route table.
type authRoute struct {
	method, path string
}

// authRoutes: every route of protocol §5.1, the catch-all, the open
// routes, and GUNs outside the configured prefixes.
var authRoutes = []authRoute{
	{"GET", "/v2/"},
	{"POST", "/v2/example.com/foo/_trust/tuf/"},
	{"GET", "/v2/example.com/foo/_trust/tuf/root.json"},
	{"GET", "/v2/example.com/foo/_trust/tuf/targets/releases.json"},
	{"GET", "/v2/example.com/foo/_trust/tuf/snapshot." + strings.Repeat("ab", 32) + ".json"},
	{"GET", "/v2/example.com/foo/_trust/tuf/2.root.json"},
	{"GET", "/v2/example.com/foo/_trust/tuf/timestamp.key"},
	{"POST", "/v2/example.com/foo/_trust/tuf/snapshot.key"},
	{"DELETE", "/v2/example.com/foo/_trust/tuf/"},
	{"GET", "/v2/example.com/foo/_trust/changefeed?records=10"},
	{"GET", "/v2/_trust/changefeed?records=10"},
	{"GET", "/_notary_server/health"},
	{"PUT", "/v2/example.com/foo/_trust/tuf/root.json"},
	{"GET", "/v2/example.com/foo/_trust/tuf/TARGETS.json"},
	{"POST", "/metrics"},
	{"POST", "/v2/other.org/foo/_trust/tuf/"},
	{"GET", "/v2/other.org/foo/_trust/tuf/root.json"},
	{"DELETE", "/v2/other.org/foo/_trust/tuf/"},
}

// authMintRaw builds a compact JWS over hdr and claims: ES256 with key,
// HS256 with secret, or no signature for "none".
func authMintRaw(t testing.TB, hdr, claims map[string]any, key crypto.Signer, secret []byte) string {
	t.Helper()
	hb, _ := json.Marshal(hdr)
	cb, _ := json.Marshal(claims)
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(hb) + "." + b64(cb)
	var sig []byte
	switch hdr["alg"] {
	case "ES256":
		h := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "HS256":
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	}
	return input + "." + b64(sig)
}

// authTokens returns the credentials of the matrix, by name: valid tokens
// of every scope (from our issuer), and every kind of invalid one.
func authTokens(t *testing.T, p *authPKI) map[string]string {
	t.Helper()
	now := time.Now()
	mk := func(name string, at time.Time, key crypto.Signer, chain []*x509.Certificate) *issuer.Issuer {
		iss, err := issuer.New(issuer.Options{Issuer: name, Services: []string{"notary.example.com", "other.example.com"},
			Key: key, Chain: chain, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	good := mk("notary-auth", now, p.Signer, p.SignerChain)
	mint := func(iss *issuer.Issuer, service string, access ...auth.ResourceActions) string {
		tok, err := iss.Mint("alice", service, access)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok.Raw
	}
	repo := func(name string, actions ...string) auth.ResourceActions {
		return auth.ResourceActions{Type: "repository", Name: name, Actions: actions}
	}
	catalog := auth.ResourceActions{Type: "registry", Name: "catalog", Actions: []string{"*"}}
	all := []auth.ResourceActions{repo("example.com/foo", "*"), catalog}

	// Another CA's signer: a chain the bundle does not trust.
	strangerKey, strangerCert := authMakeCert(t, "stranger", false, nil, p.otherCACert, p.otherCAKey)
	// Tokens by hand: kid-only, none, HS256, tampered.
	claims := map[string]any{"iss": "notary-auth", "sub": "alice", "aud": "notary.example.com",
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(), "jti": "x",
		"access": all}
	x5c := []string{base64.StdEncoding.EncodeToString(p.SignerChain[0].Raw)}
	kid, err := auth.LibtrustKeyID(p.caCert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Split(mint(good, "notary.example.com", all...), ".")
	var c map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(tampered[1])
	_ = json.Unmarshal(cb, &c)
	c["sub"] = "mallory"
	cb, _ = json.Marshal(c)
	tampered[1] = base64.RawURLEncoding.EncodeToString(cb)

	return map[string]string{
		"none":                    "",
		"basic":                   "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw")),
		"malformed":               "Bearer not.a.jwt",
		"pull":                    mint(good, "notary.example.com", repo("example.com/foo", "pull")),
		"push":                    mint(good, "notary.example.com", repo("example.com/foo", "push")),
		"push+pull":               mint(good, "notary.example.com", repo("example.com/foo", "push", "pull")),
		"star":                    mint(good, "notary.example.com", repo("example.com/foo", "*")),
		"catalog":                 mint(good, "notary.example.com", catalog),
		"other repository":        mint(good, "notary.example.com", repo("example.com/other", "*")),
		"outside prefixes":        mint(good, "notary.example.com", repo("other.org/foo", "*")),
		"everything":              mint(good, "notary.example.com", all...),
		"expired":                 mint(mk("notary-auth", now.Add(-time.Hour), p.Signer, p.SignerChain), "notary.example.com", all...),
		"not yet valid":           mint(mk("notary-auth", now.Add(time.Hour), p.Signer, p.SignerChain), "notary.example.com", all...),
		"wrong audience":          mint(good, "other.example.com", all...),
		"wrong issuer":            mint(mk("evil", now, p.Signer, p.SignerChain), "notary.example.com", all...),
		"untrusted chain":         mint(mk("notary-auth", now, strangerKey, []*x509.Certificate{strangerCert}), "notary.example.com", all...),
		"wrong signature":         strings.Join(tampered, "."),
		"kid of the root":         "Bearer " + authMintRaw(t, map[string]any{"alg": "ES256", "kid": kid}, claims, p.caKey, nil),
		"alg none":                "Bearer " + authMintRaw(t, map[string]any{"alg": "none", "x5c": x5c}, claims, nil, nil),
		"HS256, cert as secret":   "Bearer " + authMintRaw(t, map[string]any{"alg": "HS256", "x5c": x5c}, claims, nil, p.SignerChain[0].Raw),
		"HS256, pubkey as secret": "Bearer " + authMintRaw(t, map[string]any{"alg": "HS256", "x5c": x5c}, claims, nil, authPKIX(t, p.SignerChain[0])),
	}
}

func authPKIX(t testing.TB, c *x509.Certificate) []byte {
	der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

type authResp struct {
	status      int
	challenge   string
	contentType string
	body        []byte
}

func authDo(t *testing.T, c *http.Client, base string, rt authRoute, authz string) authResp {
	t.Helper()
	var body io.Reader
	if rt.method == "POST" {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(rt.method, base+rt.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rt.method, rt.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return authResp{resp.StatusCode, resp.Header.Get("Www-Authenticate"), resp.Header.Get("Content-Type"), b}
}

// authNormChallenge sorts the scope's resources and actions (v0.7.0
// orders them randomly).
func authNormChallenge(h string) string {
	i := strings.Index(h, `scope="`)
	if i < 0 {
		return h
	}
	j := strings.IndexByte(h[i+7:], '"')
	var res []string
	for _, one := range strings.Fields(h[i+7 : i+7+j]) {
		k := strings.LastIndexByte(one, ':')
		acts := strings.Split(one[k+1:], ",")
		sort.Strings(acts)
		res = append(res, one[:k+1]+strings.Join(acts, ","))
	}
	sort.Strings(res)
	return h[:i+7] + strings.Join(res, " ") + h[i+7+j:]
}

// TestAuthMatrixAgainstUpstream sends every route of §5.1 with every kind
// of credential to v0.7.0 notary-server with token auth and to our server
// behind auth.Middleware, configured alike (same realm, service, issuer,
// root bundle and gun_prefixes), and requires the same decision: the same
// 401 (status, WWW-Authenticate with the scope compared as a set,
// Content-Type and body byte for byte), the same 400/404 for GUNs outside
// the prefixes, or both letting the request through to the handlers.
func TestAuthMatrixAgainstUpstream(t *testing.T) {
	srvBin := dockerV1Bin(t, "notary-server")
	p := authNewPKI(t)
	realm := "https://auth.example.com/token"
	prefixes := []string{"example.com/", "docker.io/"}
	theirs := authStartUpstreamServerWith(t, srvBin, p, realm, p.CA, prefixes)
	ours := authOurServer(t, p, auth.Config{
		Type:        "token",
		Options:     map[string]any{"realm": realm, "service": "notary.example.com", "issuer": "notary-auth", "rootcertbundle": p.CA},
		GUNPrefixes: prefixes,
	})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS()}, Timeout: 30 * time.Second}
	tokens := authTokens(t, p)
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	sort.Strings(names)
	compared, refused := 0, 0
	for _, rt := range authRoutes {
		for _, name := range names {
			t.Run(fmt.Sprintf("%s %s/%s", rt.method, rt.path, name), func(t *testing.T) {
				want := authDo(t, c, theirs, rt, tokens[name])
				got := authDo(t, c, ours, rt, tokens[name])
				compared++
				switch {
				case want.status == http.StatusUnauthorized:
					refused++
					if got.status != want.status || authNormChallenge(got.challenge) != authNormChallenge(want.challenge) ||
						got.contentType != want.contentType || !bytes.Equal(got.body, want.body) {
						t.Errorf("v0.7.0: %d %q %s\nours:   %d %q %s", want.status, want.challenge, want.body, got.status, got.challenge, got.body)
					}
				case strings.Contains(rt.path, "other.org"):
					// Refused before auth by the GUN prefix filter.
					if got.status != want.status || !bytes.Equal(got.body, want.body) {
						t.Errorf("v0.7.0: %d %s\nours:   %d %s", want.status, want.body, got.status, got.body)
					}
				default:
					// Authorized: the handlers' answers are another
					// test's business; auth must not refuse.
					if got.status == http.StatusUnauthorized {
						t.Errorf("v0.7.0 let the request through (%d); ours refused: %q %s", want.status, got.challenge, got.body)
					}
				}
			})
		}
	}
	t.Logf("compared %d requests, %d refused by both", compared, refused)
}

// authStartUpstreamServerWith is authStartUpstreamServer with
// repositories.gun_prefixes.
func authStartUpstreamServerWith(t testing.TB, bin string, p *authPKI, realm, bundle string, prefixes []string) string {
	t.Helper()
	pj, _ := json.Marshal(prefixes)
	return authStartUpstreamServerConfig(t, bin, p, fmt.Sprintf(`"auth":{"type":"token","options":{"realm":%q,"service":"notary.example.com","issuer":"notary-auth","rootcertbundle":%q}},"repositories":{"gun_prefixes":%s}`, realm, bundle, pj))
}
