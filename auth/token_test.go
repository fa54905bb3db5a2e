package auth

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokenVerify(t *testing.T) {
	p := newTestPKI(t)
	v, err := NewTokenVerifier(testTokenOptions(p))
	if err != nil {
		t.Fatal(err)
	}
	es256 := func(signer *testCert, chain ...*x509.Certificate) map[string]any {
		return map[string]any{"typ": "JWT", "alg": "ES256", "x5c": x5c(chain...)}
	}
	libtrustID := func(c *testCert) string {
		id, err := LibtrustKeyID(c.cert.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	rsaKey := newKey(t, "rsa2048")
	rsaCert := issue(t, rsaKey, certSpec{cn: "rsa signer"}, p.root)
	rsaSmall := issue(t, newKey(t, "rsa1024"), certSpec{cn: "small rsa"}, p.root)
	p384 := issue(t, newKey(t, "p384"), certSpec{cn: "p384"}, p.root)
	p521 := issue(t, newKey(t, "p521"), certSpec{cn: "p521"}, p.root)
	p224 := issue(t, newKey(t, "p224"), certSpec{cn: "p224"}, p.root)
	ed := issue(t, newKey(t, "ed25519"), certSpec{cn: "ed25519"}, p.root)
	expiredLeaf := issue(t, newKey(t, "p256"), certSpec{cn: "expired", notBefore: t0.Add(-48 * time.Hour), notAfter: t0.Add(-time.Hour)}, p.root)
	claims := goodClaims(repo("example.com/foo", "pull"))

	pubDER, err := x509.MarshalPKIXPublicKey(p.leaf.cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"x5c self-signed signer in bundle", mint(t, es256(p.selfSigned, p.selfSigned.cert), claims, p.selfSigned.key, nil), true},
		{"x5c leaf+intermediate to root", mint(t, es256(p.leaf, p.leaf.cert, p.inter.cert), claims, p.leaf.key, nil), true},
		{"x5c root itself", mint(t, es256(p.root, p.root.cert), claims, p.root.key, nil), true},
		{"kid libtrust ID", mint(t, map[string]any{"alg": "ES256", "kid": libtrustID(p.selfSigned)}, claims, p.selfSigned.key, nil), true},
		{"kid RFC 7638 thumbprint", mint(t, map[string]any{"alg": "ES256", "kid": jwkThumbprints(p.root.cert.PublicKey)[0]}, claims, p.root.key, nil), true},
		{"x5c wins over a wrong kid", mint(t, with(es256(p.selfSigned, p.selfSigned.cert), "kid", "nope"), claims, p.selfSigned.key, nil), true},
		{"RS256 2048", mint(t, map[string]any{"alg": "RS256", "x5c": x5c(rsaCert.cert)}, claims, rsaKey, nil), true},
		{"PS256 2048", mint(t, map[string]any{"alg": "PS256", "x5c": x5c(rsaCert.cert)}, claims, rsaKey, nil), true},
		{"ES384 P-384", mint(t, map[string]any{"alg": "ES384", "x5c": x5c(p384.cert)}, claims, p384.key, nil), true},
		{"ES512 P-521", mint(t, map[string]any{"alg": "ES512", "x5c": x5c(p521.cert)}, claims, p521.key, nil), true},
		{"EdDSA", mint(t, map[string]any{"alg": "EdDSA", "x5c": x5c(ed.cert)}, claims, ed.key, nil), true},
		{"aud as array", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "aud", []string{"other", "notary.example.com"}), p.selfSigned.key, nil), true},
		{"no nbf", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "nbf", nil), p.selfSigned.key, nil), true},
		{"expired within leeway", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "exp", t0.Add(-59*time.Second).Unix()), p.selfSigned.key, nil), true},
		{"nbf within leeway", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "nbf", t0.Add(59*time.Second).Unix()), p.selfSigned.key, nil), true},

		{"expired", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "exp", t0.Add(-61*time.Second).Unix()), p.selfSigned.key, nil), false},
		{"not yet valid", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "nbf", t0.Add(61*time.Second).Unix()), p.selfSigned.key, nil), false},
		{"no exp", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "exp", nil), p.selfSigned.key, nil), false},
		{"wrong audience", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "aud", "other.example.com"), p.selfSigned.key, nil), false},
		{"no audience", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "aud", nil), p.selfSigned.key, nil), false},
		{"wrong issuer", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "iss", "evil.example.com"), p.selfSigned.key, nil), false},
		{"no issuer", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "iss", nil), p.selfSigned.key, nil), false},
		{"wrong signature (other key, trusted x5c)", mint(t, es256(p.selfSigned, p.selfSigned.cert), claims, p.stranger.key, nil), false},
		{"untrusted chain (self-signed, not in bundle)", mint(t, es256(p.stranger, p.stranger.cert), claims, p.stranger.key, nil), false},
		{"leaf without its intermediate", mint(t, es256(p.leaf, p.leaf.cert), claims, p.leaf.key, nil), false},
		{"expired certificate", mint(t, es256(expiredLeaf, expiredLeaf.cert), claims, expiredLeaf.key, nil), false},
		{"unknown kid", mint(t, map[string]any{"alg": "ES256", "kid": libtrustID(p.stranger)}, claims, p.stranger.key, nil), false},
		{"kid of a bundle cert, signed by another key", mint(t, map[string]any{"alg": "ES256", "kid": libtrustID(p.selfSigned)}, claims, p.stranger.key, nil), false},
		{"kid not a string", mint(t, map[string]any{"alg": "ES256", "kid": 7}, claims, p.selfSigned.key, nil), false},
		{"no key header", mint(t, map[string]any{"alg": "ES256"}, claims, p.selfSigned.key, nil), false},
		{"jwk header only", mint(t, map[string]any{"alg": "ES256", "jwk": map[string]any{"kty": "EC"}}, claims, p.selfSigned.key, nil), false},
		{"crit header", mint(t, with(es256(p.selfSigned, p.selfSigned.cert), "crit", []string{"exp"}), claims, p.selfSigned.key, nil), false},
		{"alg none", mint(t, map[string]any{"alg": "none", "x5c": x5c(p.selfSigned.cert)}, claims, nil, nil), false},
		{"alg None", mint(t, map[string]any{"alg": "None", "x5c": x5c(p.selfSigned.cert)}, claims, nil, nil), false},
		{"alg none, kid", mint(t, map[string]any{"alg": "none", "kid": libtrustID(p.selfSigned)}, claims, nil, nil), false},
		{"no alg", mint(t, map[string]any{"x5c": x5c(p.selfSigned.cert)}, claims, nil, nil), false},
		{"HS256 with the public key DER as secret", mint(t, map[string]any{"alg": "HS256", "x5c": x5c(p.selfSigned.cert)}, claims, nil, pubDER), false},
		{"HS256 with the certificate DER as secret", mint(t, map[string]any{"alg": "HS256", "x5c": x5c(p.selfSigned.cert)}, claims, nil, p.selfSigned.cert.Raw), false},
		{"HS256 kid", mint(t, map[string]any{"alg": "HS256", "kid": libtrustID(p.selfSigned)}, claims, nil, pubDER), false},
		{"HS512", mint(t, map[string]any{"alg": "HS512", "x5c": x5c(p.selfSigned.cert)}, claims, nil, pubDER), false},
		{"ES256 header, P-384 key", relabel(t, mint(t, map[string]any{"alg": "ES384", "x5c": x5c(p384.cert)}, claims, p384.key, nil), "ES256"), false},
		{"ES384 header, P-256 key", relabel(t, mint(t, es256(p.selfSigned, p.selfSigned.cert), claims, p.selfSigned.key, nil), "ES384"), false},
		{"P-224 key", mint(t, map[string]any{"alg": "ES256", "x5c": x5c(p224.cert)}, claims, p224.key, nil), false},
		{"RSA 1024", mint(t, map[string]any{"alg": "RS256", "x5c": x5c(rsaSmall.cert)}, claims, rsaSmall.key, nil), false},
		{"RS256 header, EC key", mint(t, map[string]any{"alg": "RS256", "x5c": x5c(p.selfSigned.cert)}, claims, rsaKey, nil), false},
		{"EdDSA header, EC key", mint(t, map[string]any{"alg": "EdDSA", "x5c": x5c(p.selfSigned.cert)}, claims, ed.key, nil), false},
		{"x5c not base64", mint(t, map[string]any{"alg": "ES256", "x5c": []any{"!!"}}, claims, p.selfSigned.key, nil), false},
		{"x5c not a certificate", mint(t, map[string]any{"alg": "ES256", "x5c": []any{"AAAA"}}, claims, p.selfSigned.key, nil), false},
		{"x5c not strings", mint(t, map[string]any{"alg": "ES256", "x5c": []any{1}}, claims, p.selfSigned.key, nil), false},
		{"x5c empty", mint(t, map[string]any{"alg": "ES256", "x5c": []any{}}, claims, p.selfSigned.key, nil), false},
		{"x5c too long", mint(t, map[string]any{"alg": "ES256", "x5c": x5c(p.selfSigned.cert, p.root.cert, p.root.cert, p.root.cert, p.root.cert, p.root.cert, p.root.cert, p.root.cert, p.root.cert)}, claims, p.selfSigned.key, nil), false},
		{"access not a list", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "access", "all"), p.selfSigned.key, nil), false},
		{"exp not a number", mint(t, es256(p.selfSigned, p.selfSigned.cert), with(claims, "exp", "tomorrow"), p.selfSigned.key, nil), false},
		{"two parts", "a.b", false},
		{"four parts", "a.b.c.d", false},
		{"garbage", "not.a.jwt", false},
		{"empty", "", false},
		{"too long", strings.Repeat("a", MaxCredentialsLen+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(tc.token)
			if tc.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "alice" || !c.Allows(Access{Type: "repository", Name: "example.com/foo", Action: "pull"}) {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			t.Logf("refused: %v", err)
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
		})
	}
}

// relabel changes the alg of a token's header, keeping its signature.
func relabel(t *testing.T, tok, alg string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	h := strings.Replace(string(hb), `"alg":"`, `"alg":"`+alg+`","x":"`, 1)
	return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2]
}

func TestTokenVerifyClock(t *testing.T) {
	p := newTestPKI(t)
	now := t0
	opts := testTokenOptions(p)
	opts.Now = func() time.Time { return now }
	v, err := NewTokenVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, map[string]any{"alg": "ES256", "x5c": x5c(p.selfSigned.cert)}, goodClaims(), p.selfSigned.key, nil)
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{
		{t0, true},
		{t0.Add(5*time.Minute + 59*time.Second), true},
		{t0.Add(6*time.Minute + time.Second), false},
		{t0.Add(-2 * time.Minute), true},
		{t0.Add(-2*time.Minute - time.Second), false},
		{t0.Add(-48 * time.Hour), false}, // before the certificate
	} {
		now = tc.at
		_, err := v.Verify(tok)
		if (err == nil) != tc.ok {
			t.Errorf("at %v: err = %v, want ok=%v", tc.at, err, tc.ok)
		}
	}
}

func TestLibtrustKeyID(t *testing.T) {
	// Known vector: the libtrust key ID of the P-256 key in the upstream
	// golden token (tools/cmd/tokenserver's CA), computed by
	// docker/libtrust keyIDFromCryptoKey.
	der, err := base64.StdEncoding.DecodeString("MIIBsDCCAVegAwIBAgIUbyzIKLaklqwRiXKRolbG2XCkMGAwCgYIKoZIzj0EAwIwJjEkMCIGA1UEAwwbbm90YXJ5LWdvbGRlbnMgdGhyb3dhd2F5IENBMB4XDTI2MTEyNDIxMTg1OVoXDTI2MTIyNDIxMTg1OVowJjEkMCIGA1UEAwwbbm90YXJ5LWdvbGRlbnMgdGhyb3dhd2F5IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJfz5mq+tDyvRzdpqhg8NuqRF3B48uZyhv1i/1AwAHK5eHvuOie/SdA6as0AL9czqR/QbnZXf+GZpu1sh/V4jIKNjMGEwHQYDVR0OBBYEFB8O/KK1S+27R5vOlnhmamLF1aLHMB8GA1UdIwQYMBaAFB8O/KK1S+27R5vOlnhmamLF1aLHMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0cAMEQCIFWmXd1dMvzQ8tzykumFlpMT9UFfAHsK39zVyl1iMW8vAiAhXc58Vy6dyJ+0Z+RpkfRel2u5sIDA4cVpRWGAjNBoXQ==")
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LibtrustKeyID(c.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 59 || strings.Count(got, ":") != 11 {
		t.Errorf("LibtrustKeyID = %q: want 12 groups of 4", got)
	}
	if want := libtrustVector; got != want {
		t.Errorf("LibtrustKeyID = %q, want %q", got, want)
	}
}

// libtrustVector is docker/libtrust's KeyID() of the key above (computed
// with github.com/docker/libtrust@aabc10ec26b7, the version v0.7.0 vendors).
const libtrustVector = "ABAM:LM4T:YRFK:5F2H:RR4U:QYUQ:DMNZ:KSM5:A3AI:JZNC:7TIL:VXPT"
