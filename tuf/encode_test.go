package tuf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/notary-go/notary/keys"
)

// envelopeCase is one entry of canonicaljson/testdata/envelope.json: the
// file v0.7.0's client and server write for a raw body and signatures.
type envelopeCase struct {
	Name       string      `json:"name"`
	SignedB64  string      `json:"signed_b64"`
	Signatures []Signature `json:"signatures"`
	ClientB64  string      `json:"client_b64"`
	ServerB64  string      `json:"server_b64"`
	ClientErr  string      `json:"client_error"`
}

func TestMarshalEnvelopeMatchesV1(t *testing.T) {
	b, err := os.ReadFile("../canonicaljson/testdata/envelope.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): envelope.json not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var cases []envelopeCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			signed, _ := base64.StdEncoding.DecodeString(c.SignedB64)
			got, err := MarshalEnvelope(&Envelope{Signed: signed, Signatures: c.Signatures})
			if c.ClientErr != "" {
				if !errors.Is(err, ErrUnsignable) {
					t.Fatalf("got %q, %v; want an error like v1's %q", got, err, c.ClientErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, _ := base64.StdEncoding.DecodeString(c.ClientB64)
			server, _ := base64.StdEncoding.DecodeString(c.ServerB64)
			if !bytes.Equal(want, server) {
				t.Fatalf("v1 client and server disagree: %q vs %q", want, server)
			}
			if c.Signatures == nil {
				// Deliberate: we write [] where v1 writes null for a nil
				// list; neither parses (v1 §1.1: "no signatures").
				want = bytes.Replace(want, []byte(`"signatures":null`), []byte(`"signatures":[]`), 1)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalEnvelope\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestMarshalEnvelopeRefusesControlCharacters: v1 canonical-encodes a raw
// control byte but its envelope marshal fails on it (v1 §2.2).
func TestMarshalEnvelopeRefusesControlCharacters(t *testing.T) {
	for _, c := range []byte{0x00, '\n', '\t', 0x1f} {
		signed := []byte(`{"a":"x` + string(c) + `y"}`)
		_, err := MarshalEnvelope(&Envelope{Signed: signed})
		if !errors.Is(err, ErrUnsignable) {
			t.Errorf("byte %#x: err = %v", c, err)
		}
	}
	if _, err := MarshalEnvelope(nil); !errors.Is(err, ErrUnsignable) {
		t.Fatalf("nil envelope: %v", err)
	}
}

func TestSignRefusesControlCharacters(t *testing.T) {
	k := newKey(t, keys.ECDSA)
	body := targetsBody(1)
	body.Targets["line\nbreak"] = fileMetaOf(t, "x")
	_, _, err := Sign(context.Background(), body, LocalSigner(k))
	var ue *UnsignableError
	if !errors.As(err, &ue) || ue.Role != RoleTargets || !strings.Contains(err.Error(), "control character") {
		t.Fatalf("err = %v", err)
	}
}

func TestMarshalEnvelopeEmptySignaturesIsList(t *testing.T) {
	got, err := MarshalEnvelope(&Envelope{Signed: []byte(`{"v":1}`)})
	if err != nil || string(got) != `{"signed":{"v":1},"signatures":[]}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

// TestSignRoundTrip signs each role with each key type Notary uses and
// checks the file parses, verifies and re-marshals to itself.
func TestSignRoundTrip(t *testing.T) {
	for _, typ := range []string{keys.ECDSA, keys.ED25519, keys.RSA} {
		t.Run(typ, func(t *testing.T) {
			k := newKey(t, typ)
			m, ids := keyMap(k)
			body := targetsBody(7)
			body.Targets["a&b<c>"] = fileMetaOf(t, "x")
			body.Targets["ünïcødé/☃.txt"] = fileMetaOf(t, "y")
			custom := json.RawMessage(`{"build":7,"note":"x"}`)
			fm := fileMetaOf(t, "z")
			fm.Custom = &custom
			body.Targets["v1.0"] = fm
			env, file, err := Sign(context.Background(), body, LocalSigner(k))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(file, []byte(`"a\u0026b\u003cc\u003e"`)) {
				t.Fatalf("file does not HTML-escape: %s", file)
			}
			if env.Signatures[0].Method != k.Method() || env.Signatures[0].KeyID != k.ID() {
				t.Fatalf("signature %+v", env.Signatures[0])
			}
			got, penv, err := ParseTargets(file, RoleTargets)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifySignatures(penv, RoleTargets, m, ids, 1); err != nil {
				t.Fatal(err)
			}
			c, err := CanonicalSigned(got)
			if err != nil || !bytes.Equal(c, env.Signed) {
				t.Fatalf("re-encoded body differs: %v\n%s\n%s", err, c, env.Signed)
			}
			again, err := MarshalEnvelope(penv)
			if err != nil || !bytes.Equal(again, file) {
				t.Fatalf("re-marshal differs: %v", err)
			}
		})
	}
}

// TestCanonicalSignedCanonicalisesCustom: unlike v1 (which copies custom
// verbatim and so signs bytes its own verifier rejects, v1 §1.7), we sign
// custom canonically.
func TestCanonicalSignedCanonicalisesCustom(t *testing.T) {
	custom := json.RawMessage(`{ "z": 1e3, "a": "<\u00e9>" }`)
	fm := FileMeta{Hashes: Hashes{SHA256: make([]byte, 32)}, Length: 1, Custom: &custom}
	got, err := CanonicalSigned(fm)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"custom":{"a":"<é>","z":1000},`; !strings.HasPrefix(string(got), want) {
		t.Fatalf("got %s, want prefix %s", got, want)
	}
	bad := json.RawMessage(`{"n":1.5}`)
	fm.Custom = &bad
	if _, err := CanonicalSigned(fm); !errors.Is(err, ErrUnsignable) {
		t.Fatalf("non-integer custom: %v", err)
	}
}

type fakeSigner struct {
	pub    keys.PublicKey
	sig    []byte
	method string
	err    error
	calls  *int
}

func (f fakeSigner) Public() keys.PublicKey { return f.pub }
func (f fakeSigner) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	if f.calls != nil {
		*f.calls++
	}
	return f.sig, f.method, f.err
}

// TestSignChecksSigners: a signer's output is verified before use, so a
// faulty or lying remote signer is caught at signing time.
func TestSignChecksSigners(t *testing.T) {
	k, other := newKey(t, keys.ECDSA), newKey(t, keys.ECDSA)
	body := timestampBody(t, 1)
	canonical, _ := CanonicalSigned(body)
	otherSig, _ := other.Sign(canonical)
	goodSig, _ := k.Sign(canonical)
	tests := []struct {
		name   string
		signer Signer
	}{
		{"Fails", fakeSigner{pub: k.Public(), err: errors.New("hsm unplugged")}},
		{"WrongKey", fakeSigner{pub: k.Public(), sig: otherSig, method: "ecdsa"}},
		{"WrongMethod", fakeSigner{pub: k.Public(), sig: goodSig, method: "eddsa"}},
		{"Garbage", fakeSigner{pub: k.Public(), sig: []byte("x"), method: "ecdsa"}},
		{"Nil", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Sign(context.Background(), body, tc.signer)
			if !errors.Is(err, ErrSigning) {
				t.Fatalf("err = %v, want ErrSigning", err)
			}
		})
	}
	t.Run("NoSigners", func(t *testing.T) {
		if _, _, err := Sign(context.Background(), body); !errors.Is(err, ErrSigning) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := Sign(ctx, body, LocalSigner(k)); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DuplicateSignerOnce", func(t *testing.T) {
		calls := 0
		s := fakeSigner{pub: k.Public(), sig: goodSig, method: "ecdsa", calls: &calls}
		env, _, err := Sign(context.Background(), body, s, s, LocalSigner(k))
		if err != nil || len(env.Signatures) != 1 || calls != 1 {
			t.Fatalf("env %+v, calls %d, err %v", env, calls, err)
		}
	})
}

type trustedFake struct {
	fakeSigner
	trusted bool
}

func (f trustedFake) SignaturesTrusted() bool { return f.trusted }

// TestSignTrustedSigners: only a signer that vouches for itself skips the
// check after signing (the method must still fit the key).
func TestSignTrustedSigners(t *testing.T) {
	k := newKey(t, keys.ECDSA)
	body := timestampBody(t, 1)
	garbage := fakeSigner{pub: k.Public(), sig: []byte("x"), method: "ecdsa"}
	if _, _, err := Sign(context.Background(), body, trustedFake{garbage, false}); !errors.Is(err, ErrSigning) {
		t.Errorf("untrusting signer with a bad signature: err = %v, want ErrSigning", err)
	}
	if _, _, err := Sign(context.Background(), body, trustedFake{garbage, true}); err != nil {
		t.Errorf("trusted signer: err = %v, want its signature taken as is", err)
	}
	wrongMethod := fakeSigner{pub: k.Public(), sig: []byte("x"), method: "eddsa"}
	if _, _, err := Sign(context.Background(), body, trustedFake{wrongMethod, true}); !errors.Is(err, ErrSigning) {
		t.Errorf("trusted signer with a method the key cannot use: err = %v, want ErrSigning", err)
	}
}

func TestAddSignatures(t *testing.T) {
	a, b := newKey(t, keys.ECDSA), newKey(t, keys.ED25519)
	env, _, err := Sign(context.Background(), timestampBody(t, 1), LocalSigner(a))
	if err != nil {
		t.Fatal(err)
	}
	stale := env.Signatures[0]
	if err := AddSignatures(context.Background(), env, LocalSigner(b), LocalSigner(a)); err != nil {
		t.Fatal(err)
	}
	if len(env.Signatures) != 2 || env.Signatures[0].KeyID != a.ID() || env.Signatures[1].KeyID != b.ID() {
		t.Fatalf("signatures %+v", env.Signatures)
	}
	if bytes.Equal(env.Signatures[0].Sig, stale.Sig) {
		t.Fatal("a's signature was not renewed") // ecdsa signatures are randomised
	}
	m, ids := keyMap(a, b)
	if err := VerifySignatures(env, RoleTimestamp, m, ids, 2); err != nil {
		t.Fatal(err)
	}
}
