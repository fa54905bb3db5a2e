package audit

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
)

var msg = []byte(`{"_type":"Timestamp","version":1}`)

// testKey is a private key and the TUF public key it presents.
type testKey struct {
	priv *keys.PrivateKey
	pub  keys.PublicKey
}

func mustKey(t *testing.T, typ string) testKey {
	t.Helper()
	var k *keys.PrivateKey
	var err error
	switch typ {
	case keys.ED25519, keys.ECDSA:
		k, err = keys.Generate(typ)
	case keys.RSA, keys.RSAx509:
		var r *rsa.PrivateKey
		if r, err = rsa.GenerateKey(rand.Reader, 2048); err == nil {
			k, err = keys.FromCrypto(r)
		}
	case keys.ECDSAx509:
		k, err = keys.Generate(keys.ECDSA)
	}
	if err != nil {
		t.Fatal(err)
	}
	if typ == keys.ECDSAx509 || typ == keys.RSAx509 {
		now := time.Now()
		if k, err = k.WithRootCertificate("example.com/audit", now.Add(-time.Hour), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if k.Type() != typ {
		t.Fatalf("made a %s key, want %s", k.Type(), typ)
	}
	return testKey{priv: k, pub: k.Public()}
}

// TestAudit_NCC2015_1_MethodMatchesKeyType: NCC 2015 finding 1 (High): a
// signature's "method" chose the verification algorithm whatever the
// key's type. Every method of another key family must be refused with a
// *keys.MethodMismatchError, for the x509 types as well as the plain ones,
// even though the signature bytes are valid for the key: the algorithm is
// picked from the key, and the method only has to agree with it.
func TestAudit_NCC2015_1_MethodMatchesKeyType(t *testing.T) {
	allowed := map[string][]string{
		keys.ED25519:   {keys.MethodEdDSA},
		keys.ECDSA:     {keys.MethodECDSA},
		keys.ECDSAx509: {keys.MethodECDSA},
		keys.RSA:       {keys.MethodRSAPSS, keys.MethodRSAPKCS1v15, keys.MethodPyCryptoPSS},
		keys.RSAx509:   {keys.MethodRSAPSS, keys.MethodRSAPKCS1v15},
	}
	methods := []string{keys.MethodEdDSA, keys.MethodECDSA, keys.MethodRSAPSS, keys.MethodRSAPKCS1v15, keys.MethodPyCryptoPSS, "ECDSA", "EdDSA", "RSAPSS", "hmac-sha256", ""}
	for typ, ok := range allowed {
		k := mustKey(t, typ)
		sig, err := k.priv.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		// The key's own method verifies: the refusals below are about the
		// method alone.
		if err := k.pub.Verify(k.priv.Method(), msg, sig); err != nil {
			t.Fatalf("%s: own method %s: %v", typ, k.priv.Method(), err)
		}
		for _, m := range methods {
			if contains(ok, m) || contains(ok, lower(m)) {
				continue
			}
			t.Run(typ+"/"+m, func(t *testing.T) {
				err := k.pub.Verify(m, msg, sig)
				var mm *keys.MethodMismatchError
				if !errors.As(err, &mm) {
					t.Fatalf("Verify(%q) on a %s key = %v, want *keys.MethodMismatchError", m, typ, err)
				}
				if keys.MethodAllowed(typ, m) {
					t.Fatalf("MethodAllowed(%s, %q) = true", typ, m)
				}
			})
		}
	}
}

// TestAudit_NCC2015_1_KeyBytesMatchDeclaredType: the other half of NCC
// finding 1: the "keytype" a key object declares must match the key its
// bytes hold. A key declared ecdsa that holds an RSA or ed25519 public key
// (or an x509 key whose certificate holds the other algorithm) verifies
// nothing, even a signature valid for the bytes it holds, under the
// declared type's method.
func TestAudit_NCC2015_1_KeyBytesMatchDeclaredType(t *testing.T) {
	rsaKey, edKey, ecKey := mustKey(t, keys.RSA), mustKey(t, keys.ED25519), mustKey(t, keys.ECDSA)
	rsaCert, ecCert := mustKey(t, keys.RSAx509), mustKey(t, keys.ECDSAx509)
	edSPKI, err := x509.MarshalPKIXPublicKey(edKey.priv.CryptoSigner().Public())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		declared string
		public   []byte
		signer   testKey
	}{
		{"ecdsa holding rsa", keys.ECDSA, rsaKey.pub.Public, rsaKey},
		{"ecdsa holding ed25519", keys.ECDSA, edSPKI, edKey},
		{"rsa holding ecdsa", keys.RSA, ecKey.pub.Public, ecKey},
		{"rsa holding ed25519", keys.RSA, edSPKI, edKey},
		{"ecdsa-x509 holding an rsa certificate", keys.ECDSAx509, rsaCert.pub.Public, rsaCert},
		{"rsa-x509 holding an ecdsa certificate", keys.RSAx509, ecCert.pub.Public, ecCert},
		{"ed25519 holding ecdsa", keys.ED25519, ecKey.pub.Public, ecKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := tc.signer.priv.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			forged := keys.NewPublicKey(tc.declared, tc.public)
			for _, m := range []string{keys.MethodEdDSA, keys.MethodECDSA, keys.MethodRSAPSS, keys.MethodRSAPKCS1v15, keys.MethodPyCryptoPSS} {
				if err := forged.Verify(m, msg, sig); err == nil {
					t.Errorf("a key declared %s holding other bytes verified a signature with method %s", tc.declared, m)
				}
			}
			if _, err := forged.CryptoPublicKey(); err == nil {
				t.Errorf("CryptoPublicKey of a key declared %s holding other bytes succeeded", tc.declared)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
