package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"hash"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// quiet discards the middleware's logs.
var quiet = slog.New(slog.DiscardHandler)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testCert is a key and its certificate.
type testCert struct {
	key  crypto.Signer
	cert *x509.Certificate
}

type certSpec struct {
	cn        string
	ca        bool
	notBefore time.Time
	notAfter  time.Time
}

func newKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch kind {
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "p224":
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // testing the refusal of small keys
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue makes a certificate for key, signed by parent (self-signed if nil).
func issue(t testing.TB, key crypto.Signer, spec certSpec, parent *testCert) *testCert {
	t.Helper()
	if spec.notBefore.IsZero() {
		spec.notBefore = t0.Add(-24 * time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = t0.Add(365 * 24 * time.Hour)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.cn},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  spec.ca,
	}
	if spec.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{key: key, cert: c}
}

// testPKI is a root CA (in the bundle), an intermediate under it and a
// token signing leaf under the intermediate, plus a self-signed signer
// that is itself in the bundle, and an unrelated self-signed one.
type testPKI struct {
	root, inter, leaf, selfSigned, stranger *testCert
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{}
	p.root = issue(t, newKey(t, "p256"), certSpec{cn: "root", ca: true}, nil)
	p.inter = issue(t, newKey(t, "p256"), certSpec{cn: "intermediate", ca: true}, p.root)
	p.leaf = issue(t, newKey(t, "p256"), certSpec{cn: "token signer"}, p.inter)
	p.selfSigned = issue(t, newKey(t, "p256"), certSpec{cn: "self-signed signer"}, nil)
	p.stranger = issue(t, newKey(t, "p256"), certSpec{cn: "stranger"}, nil)
	return p
}

// bundle is the root certificate bundle the server trusts.
func (p *testPKI) bundle() []*x509.Certificate {
	return []*x509.Certificate{p.root.cert, p.selfSigned.cert}
}

func x5c(certs ...*x509.Certificate) []any {
	out := make([]any, len(certs))
	for i, c := range certs {
		out[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	return out
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mint builds a compact JWS over hdr and claims, signed by key with the
// algorithm hdr["alg"] names. For HS* the key is secret; for "none" the
// signature is empty.
func mint(t testing.TB, hdr, claims map[string]any, key crypto.Signer, secret []byte) string {
	t.Helper()
	hb, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64u(hb) + "." + b64u(cb)
	alg, _ := hdr["alg"].(string)
	return input + "." + b64u(signJWS(t, alg, input, key, secret))
}

func signJWS(t testing.TB, alg, input string, key crypto.Signer, secret []byte) []byte {
	t.Helper()
	hashOf := func(h crypto.Hash) []byte {
		switch h {
		case crypto.SHA384:
			s := sha512.Sum384([]byte(input))
			return s[:]
		case crypto.SHA512:
			s := sha512.Sum512([]byte(input))
			return s[:]
		}
		s := sha256.Sum256([]byte(input))
		return s[:]
	}
	hashFor := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	switch {
	case alg == "none" || alg == "None" || alg == "":
		return nil
	case alg[:2] == "HS":
		h := hmac.New(map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}[alg], secret)
		h.Write([]byte(input))
		return h.Sum(nil)
	case alg == "EdDSA":
		sig, err := key.Sign(rand.Reader, []byte(input), crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case alg[:2] == "ES":
		h := hashFor[alg[2:]]
		der, err := key.Sign(rand.Reader, hashOf(h), h)
		if err != nil {
			t.Fatal(err)
		}
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			t.Fatal(err)
		}
		size := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}[alg]
		out := make([]byte, 2*size)
		rs.R.FillBytes(out[:size])
		rs.S.FillBytes(out[size:])
		return out
	case alg[:2] == "RS":
		h := hashFor[alg[2:]]
		sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), h, hashOf(h))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case alg[:2] == "PS":
		h := hashFor[alg[2:]]
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), h, hashOf(h), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("unknown alg %q", alg)
	return nil
}

// goodClaims are valid claims at t0 for issuer "auth.example.com" and
// service "notary.example.com", granting access.
func goodClaims(access ...ResourceActions) map[string]any {
	if access == nil {
		access = []ResourceActions{}
	}
	return map[string]any{
		"iss":    "auth.example.com",
		"sub":    "alice",
		"aud":    "notary.example.com",
		"exp":    t0.Add(5 * time.Minute).Unix(),
		"nbf":    t0.Add(-time.Minute).Unix(),
		"iat":    t0.Unix(),
		"jti":    "abc",
		"access": access,
	}
}

func testTokenOptions(p *testPKI) TokenOptions {
	return TokenOptions{
		Realm:   "https://auth.example.com/token",
		Service: "notary.example.com",
		Issuer:  "auth.example.com",
		Roots:   p.bundle(),
		Now:     fixedClock(t0),
	}
}

func repo(name string, actions ...string) ResourceActions {
	return ResourceActions{Type: "repository", Name: name, Actions: actions}
}

// serve runs req through h and returns the recorded response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// reached is a next handler that answers 299 so tests see auth passed.
var reached = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(299)
})
