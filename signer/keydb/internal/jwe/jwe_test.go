package jwe

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func b64d(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPBES2RFC7517AppendixC checks the key-management half against the
// PBES2-HS256+A128KW example of RFC 7517 Appendix C (C.3-C.4): the salt
// construction, the PBKDF2 derivation and the AES key wrap of the CEK.
func TestPBES2RFC7517AppendixC(t *testing.T) {
	const passphrase = "Thus from my lips, by yours, my sin is purged."
	saltInput := b64d(t, "2WCTcJZ1Rvd_CJuJripQ1w")
	wantSaltInput := []byte{217, 96, 147, 112, 150, 117, 70, 247, 127, 8, 155, 137, 174, 42, 80, 215}
	if !bytes.Equal(saltInput, wantSaltInput) {
		t.Fatalf("p2s decodes to %v, want %v", saltInput, wantSaltInput)
	}
	wantKEK := []byte{110, 171, 169, 92, 129, 92, 109, 117, 233, 242, 116, 233, 170, 14, 24, 75}
	cek := []byte{111, 27, 25, 52, 66, 29, 20, 78, 92, 176, 56, 240, 65, 208, 82, 112,
		161, 131, 36, 55, 202, 236, 185, 172, 129, 23, 153, 194, 195, 48, 253, 182}
	encryptedKey := b64d(t, "TrqXOwuNUfDV9VPTNbyGvEJ9JMjefAVn-TR1uIxR9p6hsRQh9Tk7BA")

	kek, err := deriveKEK(AlgPBES2HS256A128KW, passphrase, saltInput, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kek, wantKEK) {
		t.Fatalf("derived KEK = %v, want %v", kek, wantKEK)
	}
	got, err := wrapKey(kek, cek)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, encryptedKey) {
		t.Errorf("wrapped CEK = %x, want %x", got, encryptedKey)
	}
	back, err := unwrapKey(kek, encryptedKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, cek) {
		t.Errorf("unwrapped CEK = %v, want %v", back, cek)
	}
}

// TestContentRFC7516AppendixA1 checks the content half against RFC 7516
// Appendix A.1 (A256GCM): the AAD is the ASCII of the base64url header.
func TestContentRFC7516AppendixA1(t *testing.T) {
	cek := []byte{177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246,
		138, 7, 110, 91, 112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64, 252}
	const protected = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ"
	iv := b64d(t, "48V1_ALb6US04U3b")
	ciphertext := b64d(t, "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A")
	tag := b64d(t, "XFBoMYUZodetZdvTiFvSkQ")
	const want = "The true sign of intelligence is not knowledge but imagination."

	got, err := openContent(cek, protected, iv, ciphertext, tag)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("plaintext = %q, want %q", got, want)
	}
	// The AAD binds the header: any other header fails authentication.
	if _, err := openContent(cek, protected+"x", iv, ciphertext, tag); !errors.Is(err, ErrDecrypt) {
		t.Errorf("altered header: err = %v, want ErrDecrypt", err)
	}
}

// TestOpenJose2goTokens opens tokens made by jose2go, the library v1's
// signer stores keys with, as built by Go 1.14 (standard) and Go 1.15
// (non-standard PBKDF2, see deriveKEKGo115).
func TestOpenJose2goTokens(t *testing.T) {
	want := b64d(t, jose2goPlaintextB64)
	for name, token := range map[string]string{"go1.14": jose2goGo114Token, "go1.15": jose2goGo115Token} {
		t.Run(name, func(t *testing.T) {
			got, err := Open(token, jose2goPassphrase)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plaintext = %x, want %x", got, want)
			}
			if _, err := Open(token, "wrong"); !errors.Is(err, ErrDecrypt) {
				t.Errorf("wrong passphrase: err = %v, want ErrDecrypt", err)
			}
		})
	}
}

// TestGo115DerivationDiffers shows the legacy derivation is a different
// function, so the fallback cannot mask a standard-derivation bug.
func TestGo115DerivationDiffers(t *testing.T) {
	salt := pbes2Salt(AlgPBES2HS256A128KW, []byte("0123456789ab"))
	std, err := deriveKEK(AlgPBES2HS256A128KW, "pw", []byte("0123456789ab"), 8192)
	if err != nil {
		t.Fatal(err)
	}
	legacy := deriveKEKGo115(keyWraps[AlgPBES2HS256A128KW].prf, "pw", salt, 8192, 16)
	if bytes.Equal(std, legacy) {
		t.Fatal("legacy derivation equals the standard one")
	}
	if len(legacy) != 16 {
		t.Fatalf("legacy KEK is %d bytes, want 16", len(legacy))
	}
}

// fixedReader yields 0, 1, 2, ... so Seal is deterministic in tests.
type fixedReader struct{ n byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

// TestSealDeterministic pins the exact token for fixed randomness, so any
// change to the header form or the algorithms shows up. The same token was
// checked to open with jose2go (Go 1.14.15) and with go-jose v4.1.9.
func TestSealDeterministic(t *testing.T) {
	plaintext := []byte("notary signer private key bytes")
	got, err := seal(&fixedReader{}, plaintext, "passphrase", Iterations)
	if err != nil {
		t.Fatal(err)
	}
	if got != sealedFixedToken {
		t.Errorf("seal =\n%s\nwant\n%s", got, sealedFixedToken)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(got, ".")[0])
	const wantHeader = `{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192,"p2s":"AAECAwQFBgcICQoL"}`
	if string(hdr) != wantHeader {
		t.Errorf("header = %s, want %s", hdr, wantHeader)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 32, 96, 121, 1000} {
		plaintext := bytes.Repeat([]byte{0x5a}, n)
		token, err := Seal(plaintext, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(token, "correct horse")
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("%d bytes: round trip changed the plaintext", n)
		}
	}
	a, _ := Seal([]byte("x"), "p")
	b, _ := Seal([]byte("x"), "p")
	if a == b {
		t.Error("two seals of the same plaintext are identical; salt, CEK and IV must be random")
	}
}

func TestOpenRefusesAlteredTokens(t *testing.T) {
	token, err := Seal([]byte("secret key material"), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	for i := range parts {
		raw := b64d(t, parts[i])
		raw[len(raw)/2] ^= 0x04
		altered := append([]string(nil), parts...)
		altered[i] = base64.RawURLEncoding.EncodeToString(raw)
		_, err := Open(strings.Join(altered, "."), "pw")
		var fe *FormatError
		if !errors.Is(err, ErrDecrypt) && !errors.As(err, &fe) {
			t.Errorf("part %d altered: err = %v, want ErrDecrypt or *FormatError", i+1, err)
		}
		if err == nil {
			t.Errorf("part %d altered: Open succeeded", i+1)
		}
	}
}

func TestOpenRefusesMalformed(t *testing.T) {
	enc := func(h string) string { return base64.RawURLEncoding.EncodeToString([]byte(h)) }
	const rest = ".AAAA.AAAA.AAAA.AAAA"
	tests := []struct{ name, token string }{
		{name: "three parts", token: "a.b.c"},
		{name: "bad base64", token: "!!!" + rest},
		{name: "header not JSON", token: enc("nope") + rest},
		{name: "other alg", token: enc(`{"alg":"A128KW","enc":"A256GCM","p2c":8192,"p2s":"AAAA"}`) + rest},
		{name: "other enc", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A128CBC-HS256","p2c":8192,"p2s":"AAAA"}`) + rest},
		{name: "zip", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192,"p2s":"AAAA","zip":"DEF"}`) + rest},
		{name: "crit", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192,"p2s":"AAAA","crit":["x"]}`) + rest},
		{name: "huge p2c", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":99999999999,"p2s":"AAAA"}`) + rest},
		{name: "zero p2c", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":0,"p2s":"AAAA"}`) + rest},
		{name: "no p2s", token: enc(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192}`) + rest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.token, "pw")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("err = %v, want *FormatError", err)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	token, err := Seal(make([]byte, 121), "pw")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Open(token, "pw"); err != nil {
			b.Fatal(err)
		}
	}
}
