package keys

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/notary-go/notary/internal/v1golden"
)

// TestVerifyMatchesV1Verifiers replays testdata/v1/signatures.json (v0.7.0
// signatures and verdicts) through PublicKey.Verify.
func TestVerifyMatchesV1Verifiers(t *testing.T) {
	for _, c := range v1golden.Signatures(t, "testdata/v1/signatures.json") {
		t.Run(c.Name, func(t *testing.T) {
			var k PublicKey
			if err := json.Unmarshal(c.KeyJSON, &k); err != nil {
				t.Fatal(err)
			}
			// v1 lowercases methods when it parses a signature; Verify
			// does the same, so upper-case methods verify in files.
			if err := k.Verify(c.Method, c.Message, c.Sig); (err == nil) != c.Want {
				t.Fatalf("Verify = %v; v1: %s", err, c.Upstream)
			}
		})
	}
}

// TestVerifyRefusesForeignMethods: every method of another key family is a
// MethodMismatchError, whatever the signature bytes (NCC 2015 audit).
func TestVerifyRefusesForeignMethods(t *testing.T) {
	methods := []string{MethodEdDSA, MethodECDSA, MethodRSAPSS, MethodRSAPKCS1v15, MethodPyCryptoPSS}
	for _, typ := range []string{ED25519, ECDSA} {
		k, err := Generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte(`{"_type":"Timestamp"}`)
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range methods {
			if m == k.Method() {
				if err := k.Public().Verify(m, msg, sig); err != nil {
					t.Fatalf("%s/%s: %v", typ, m, err)
				}
				continue
			}
			t.Run(typ+"/"+m, func(t *testing.T) {
				var mm *MethodMismatchError
				if err := k.Public().Verify(m, msg, sig); !errors.As(err, &mm) {
					t.Fatalf("err = %v, want MethodMismatchError", err)
				}
			})
		}
	}
}
