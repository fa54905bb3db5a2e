// Package v1golden reads golden vectors that Notary v0.7.0 produced
// (scripts/gen-goldens.sh) for tests in several packages. Only tests import
// it, and it imports nothing of ours so any package's tests can use it.
package v1golden

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// A SignatureCase is one signature v0.7.0 made or was shown, with its
// verifier's verdict.
type SignatureCase struct {
	Name    string
	KeyJSON []byte // the public key object
	KeyID   string
	Method  string
	Message []byte
	Sig     []byte
	// Want is whether the signature verifies in a metadata file. v1's
	// verifier looks methods up case-sensitively, but its signature parser
	// lowercases them first, so an upper-case method verifies in a file.
	Want     bool
	Upstream string // v1's raw verdict
}

// Signatures reads keys/testdata/v1/signatures.json at path.
func Signatures(t testing.TB, path string) []SignatureCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden data missing (scripts/gen-goldens.sh makes it): %v", err)
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
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]SignatureCase, 0, len(golden.Cases))
	for _, c := range golden.Cases {
		msg, err := base64.StdEncoding.DecodeString(golden.Messages[c.Message])
		if err != nil {
			t.Fatalf("%s: case %s: message: %v", path, c.Name, err)
		}
		sig, err := base64.StdEncoding.DecodeString(c.Sig)
		if err != nil {
			t.Fatalf("%s: case %s: sig: %v", path, c.Name, err)
		}
		out = append(out, SignatureCase{
			Name: c.Name, KeyJSON: []byte(c.KeyJSON), KeyID: c.KeyID, Method: c.Method,
			Message: msg, Sig: sig, Upstream: c.Upstream,
			Want: c.Upstream == "ok" || strings.HasSuffix(c.Name, "/method-uppercase-lookup"),
		})
	}
	return out
}
