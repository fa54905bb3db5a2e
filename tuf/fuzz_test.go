package tuf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/keys"
)

// addGoldenSeeds seeds a fuzzer with a few files v0.7.0 produced.
func addGoldenSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata/v1/golden/server", n))
		if err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseEnvelope: never panics; an accepted file re-marshals and
// re-parses to the same envelope.
func FuzzParseEnvelope(f *testing.F) {
	addGoldenSeeds(f, "timestamp.json", "snapshot.json", "targets.json")
	f.Add([]byte(`{"signed":{},"signatures":[{"keyid":"a","method":"ECDSA","sig":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		out, err := MarshalEnvelope(env)
		if err != nil {
			t.Fatalf("accepted envelope does not marshal: %v", err)
		}
		env2, err := ParseEnvelope(out)
		if err != nil {
			t.Fatalf("re-marshalled envelope %q does not parse: %v", out, err)
		}
		if len(env2.Signatures) != len(env.Signatures) {
			t.Fatal("signatures changed")
		}
		for i := range env.Signatures {
			a, b := env.Signatures[i], env2.Signatures[i]
			if a.KeyID != b.KeyID || a.Method != b.Method || !bytes.Equal(a.Sig, b.Sig) {
				t.Fatalf("signature %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}

// FuzzParseRoot: never panics; an accepted root re-encodes canonically and
// decodes back to an equal body.
func FuzzParseRoot(f *testing.F) {
	addGoldenSeeds(f, "1.root.json", "root.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, err := ParseRoot(data)
		if err != nil {
			return
		}
		for _, role := range BaseRoles {
			if _, err := r.RoleKeys(role); err != nil {
				t.Fatalf("accepted root lacks %s: %v", role, err)
			}
		}
		roundTrip(t, r, func(b []byte) (Metadata, error) { return DecodeRoot(b) })
	})
}

// FuzzParseTargets: never panics for any role name; an accepted file
// round-trips and every delegation it makes is a direct child.
func FuzzParseTargets(f *testing.F) {
	for _, n := range []string{"targets.json", "targets/releases.json", "2.targets.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/v1/golden/server", n))
		if err == nil {
			f.Add(b, "targets")
		}
	}
	f.Add([]byte(`{"signed":{"_type":"Targets","delegations":{"keys":null,"roles":null},"expires":"2030-01-02T03:04:05Z","targets":null,"version":1},"signatures":[{"keyid":"a","method":"ecdsa","sig":""}]}`), "targets/a")
	f.Fuzz(func(t *testing.T, data []byte, role string) {
		tg, _, err := ParseTargets(data, role)
		if err != nil {
			return
		}
		for _, d := range tg.Delegations.Roles {
			if !IsDirectChild(role, d.Name) {
				t.Fatalf("%s delegates %s", role, d.Name)
			}
			if _, err := tg.DelegatedRole(d.Name); err != nil {
				t.Fatal(err)
			}
		}
		roundTrip(t, tg, func(b []byte) (Metadata, error) { return DecodeTargets(b, role) })
	})
}

func roundTrip(t *testing.T, m Metadata, decode func([]byte) (Metadata, error)) {
	t.Helper()
	c, err := CanonicalSigned(m)
	if err != nil {
		// A string with a control character parses (escaped) but cannot
		// be written back: v1 cannot write it either.
		if _, ok := err.(*UnsignableError); ok && strings.Contains(err.Error(), "control character") {
			return
		}
		t.Fatal(err)
	}
	m2, err := decode(c)
	if err != nil {
		t.Fatalf("canonical form %q does not decode: %v", c, err)
	}
	c2, err := CanonicalSigned(m2)
	if err != nil || !bytes.Equal(c, c2) {
		t.Fatalf("round trip changed the body: %q -> %q (%v)", c, c2, err)
	}
}

// FuzzVerify: VerifySignatures never panics and never accepts a body the
// fixed key did not sign.
func FuzzVerify(f *testing.F) {
	k, err := keys.FromBytes(keys.ED25519, bytes.Repeat([]byte{7}, 64))
	if err != nil {
		f.Fatal(err)
	}
	signed := []byte(`{"_type":"Timestamp","expires":"2030-01-02T03:04:05Z","meta":{},"version":1}`)
	sig, _ := k.Sign(signed)
	f.Add(signed, sig, "eddsa", 1)
	f.Add([]byte(`{"version":1, "_type":"Timestamp","meta":{},"expires":"2030-01-02T03:04:05Z"}`), sig, "EdDSA", 1)
	f.Add(signed, sig, "ecdsa", 0)
	keyMap := map[string]keys.PublicKey{k.ID(): k.Public()}
	ids := []string{k.ID(), k.ID()}
	f.Fuzz(func(t *testing.T, body, sigBytes []byte, method string, threshold int) {
		env := &Envelope{Signed: body, Signatures: []Signature{{KeyID: k.ID(), Method: method, Sig: sigBytes}, {KeyID: k.ID(), Method: method, Sig: sigBytes}}}
		err := VerifySignatures(env, RoleTimestamp, keyMap, ids, threshold)
		if err == nil {
			if threshold > 1 {
				t.Fatal("one key met a threshold above one")
			}
			// Only the canonical form of what the key signed verifies.
			if c, cerr := canonicaljson.Canonicalize(body); cerr != nil || !bytes.Equal(c, signed) {
				t.Fatalf("signature accepted for %q (canonical %q, %v)", body, c, cerr)
			}
		}
	})
}
