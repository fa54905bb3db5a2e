package tuf

import (
	"encoding/json"
	"testing"

	"github.com/notary-go/notary/internal/v1golden"
	"github.com/notary-go/notary/keys"
)

// TestVerifierVerdictsMatchV1 replays keys/testdata/v1/signatures.json:
// signatures made by v0.7.0 for every key type plus negative vectors, each
// with the verdict of v0.7.0's verifier, through VerifyCanonical.
func TestVerifierVerdictsMatchV1(t *testing.T) {
	for _, c := range v1golden.Signatures(t, "../keys/testdata/v1/signatures.json") {
		t.Run(c.Name, func(t *testing.T) {
			var k keys.PublicKey
			if err := json.Unmarshal(c.KeyJSON, &k); err != nil {
				t.Fatal(err)
			}
			if k.ID() != c.KeyID {
				t.Fatalf("key ID %s, v1 %s", k.ID(), c.KeyID)
			}
			err := VerifyCanonical(c.Message, []Signature{{KeyID: c.KeyID, Method: c.Method, Sig: c.Sig}}, "test",
				map[string]keys.PublicKey{c.KeyID: k}, []string{c.KeyID}, 1)
			if (err == nil) != c.Want {
				t.Fatalf("VerifyCanonical = %v; v1 verifier: %s", err, c.Upstream)
			}
		})
	}
}
