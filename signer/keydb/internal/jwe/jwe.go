// Package jwe seals private keys at rest exactly as Notary v1's signer does
// through jose2go: a JWE in compact serialisation (RFC 7516 §7.1) with
// PBES2-HS256+A128KW key management (RFC 7518 §4.8) and A256GCM content
// encryption (RFC 7518 §5.3). Tokens it makes decrypt with any RFC 7516
// library given the passphrase, and tokens v1 stored decrypt with Open.
package jwe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Algorithms this package writes; v1 stores them in the keywrap_alg and
// encryption_alg columns.
const (
	AlgPBES2HS256A128KW = "PBES2-HS256+A128KW"
	EncA256GCM          = "A256GCM"
)

// Parameters v1 (jose2go) uses for every token: 8192 PBKDF2 iterations and
// a 12-byte random salt input.
const (
	Iterations    = 8192
	SaltInputSize = 12
)

// maxIterations bounds p2c when opening a token so a corrupt row cannot
// make the signer spin (RFC 7518 §4.8.1.2 leaves the bound to us).
const maxIterations = 10_000_000

const (
	gcmIVSize  = 12
	gcmTagSize = 16
)

// ErrDecrypt means the token does not open with the passphrase: the
// passphrase is wrong or the token was altered. Test with errors.Is.
var ErrDecrypt = errors.New("jwe: wrong passphrase or altered token")

// FormatError reports a token that is malformed or uses parameters this
// package does not support.
type FormatError struct{ Reason string }

func (e *FormatError) Error() string { return "jwe: " + e.Reason }

// keyWraps lists the PBES2 variants Open accepts (RFC 7518 §4.8.1); Seal
// only writes PBES2-HS256+A128KW.
var keyWraps = map[string]struct {
	prf     func() hash.Hash
	kekSize int
}{
	AlgPBES2HS256A128KW:  {sha256.New, 16},
	"PBES2-HS384+A192KW": {sha512.New384, 24},
	"PBES2-HS512+A256KW": {sha512.New, 32},
}

// contentKeySizes lists the AES-GCM content encryptions Open accepts (RFC
// 7518 §5.3) and their CEK sizes; Seal only writes A256GCM.
var contentKeySizes = map[string]int{"A128GCM": 16, "A192GCM": 24, EncA256GCM: 32}

// header is the protected header. Its field order is the sorted order that
// jose2go's map marshalling produces, so our headers look like v1's.
type header struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	P2C int    `json:"p2c"`
	P2S string `json:"p2s"`
}

var b64 = base64.RawURLEncoding

// Seal encrypts plaintext under passphrase and returns the compact
// serialisation header.encryptedKey.iv.ciphertext.tag. The header is
// {"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192,"p2s":<12 random
// bytes>}, as v1 writes it. Seal does not keep or alter plaintext.
func Seal(plaintext []byte, passphrase string) (string, error) {
	return seal(rand.Reader, plaintext, passphrase, Iterations)
}

func seal(rnd io.Reader, plaintext []byte, passphrase string, iterations int) (string, error) {
	saltInput := make([]byte, SaltInputSize)
	cek := make([]byte, contentKeySizes[EncA256GCM])
	iv := make([]byte, gcmIVSize)
	defer clear(cek)
	for _, b := range [][]byte{saltInput, cek, iv} {
		if _, err := io.ReadFull(rnd, b); err != nil {
			return "", fmt.Errorf("jwe: reading randomness: %w", err)
		}
	}
	h := header{Alg: AlgPBES2HS256A128KW, Enc: EncA256GCM, P2C: iterations, P2S: b64.EncodeToString(saltInput)}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	protected := b64.EncodeToString(hj)

	kek, err := deriveKEK(h.Alg, passphrase, saltInput, iterations)
	if err != nil {
		return "", err
	}
	defer clear(kek)
	encryptedKey, err := wrapKey(kek, cek)
	if err != nil {
		return "", err
	}
	aead, err := newGCM(cek)
	if err != nil {
		return "", err
	}
	sealed := aead.Seal(nil, iv, plaintext, []byte(protected))
	ciphertext, tag := sealed[:len(sealed)-gcmTagSize], sealed[len(sealed)-gcmTagSize:]
	return strings.Join([]string{
		protected,
		b64.EncodeToString(encryptedKey),
		b64.EncodeToString(iv),
		b64.EncodeToString(ciphertext),
		b64.EncodeToString(tag),
	}, "."), nil
}

// Open decrypts a compact-serialised token sealed with a PBES2 key wrap and
// AES-GCM content encryption. A wrong passphrase or an altered token gives
// an error wrapping ErrDecrypt; anything malformed or unsupported (other
// algorithms, "zip", "crit", p2c out of range) is a *FormatError. The caller
// owns the returned plaintext and should wipe it after use.
func Open(token, passphrase string) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 {
		return nil, &FormatError{Reason: fmt.Sprintf("token has %d parts, want 5 (compact JWE)", len(parts))}
	}
	raw := make([][]byte, 5)
	for i, p := range parts {
		b, err := b64.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return nil, &FormatError{Reason: fmt.Sprintf("part %d is not base64url: %v", i+1, err)}
		}
		raw[i] = b
	}
	h, err := parseHeader(raw[0])
	if err != nil {
		return nil, err
	}
	saltInput, err := b64.DecodeString(strings.TrimRight(h.P2S, "="))
	if err != nil {
		return nil, &FormatError{Reason: "p2s is not base64url"}
	}
	cek, err := unwrapCEK(h, passphrase, saltInput, raw[1])
	if err != nil {
		return nil, err
	}
	defer clear(cek)
	if len(cek) != contentKeySizes[h.Enc] {
		return nil, &FormatError{Reason: fmt.Sprintf("content key is %d bytes, %s needs %d", len(cek), h.Enc, contentKeySizes[h.Enc])}
	}
	return openContent(cek, parts[0], raw[2], raw[3], raw[4])
}

// unwrapCEK derives the KEK and unwraps the content key. When the
// standard derivation fails the integrity check it retries with the one a
// Go 1.15 build of v1's signer used (see deriveKEKGo115).
func unwrapCEK(h header, passphrase string, saltInput, encryptedKey []byte) ([]byte, error) {
	kek, err := deriveKEK(h.Alg, passphrase, saltInput, h.P2C)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	cek, err := unwrapKey(kek, encryptedKey)
	if errors.Is(err, errUnwrap) {
		kw := keyWraps[h.Alg]
		legacy := deriveKEKGo115(kw.prf, passphrase, pbes2Salt(h.Alg, saltInput), h.P2C, kw.kekSize)
		defer clear(legacy)
		cek, err = unwrapKey(legacy, encryptedKey)
	}
	if errors.Is(err, errUnwrap) {
		return nil, fmt.Errorf("%w (key unwrap failed)", ErrDecrypt)
	}
	if err != nil {
		return nil, &FormatError{Reason: err.Error()}
	}
	return cek, nil
}

// parseHeader decodes and checks the protected header.
func parseHeader(b []byte) (header, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return header{}, &FormatError{Reason: "protected header is not a JSON object"}
	}
	for _, name := range []string{"zip", "crit"} {
		if _, ok := fields[name]; ok {
			return header{}, &FormatError{Reason: fmt.Sprintf("unsupported %q header parameter", name)}
		}
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return header{}, &FormatError{Reason: fmt.Sprintf("bad protected header: %v", err)}
	}
	if _, ok := keyWraps[h.Alg]; !ok {
		return header{}, &FormatError{Reason: fmt.Sprintf("unsupported alg %q", h.Alg)}
	}
	if _, ok := contentKeySizes[h.Enc]; !ok {
		return header{}, &FormatError{Reason: fmt.Sprintf("unsupported enc %q", h.Enc)}
	}
	if h.P2C < 1 || h.P2C > maxIterations {
		return header{}, &FormatError{Reason: fmt.Sprintf("p2c %d out of range [1, %d]", h.P2C, maxIterations)}
	}
	if h.P2S == "" {
		return header{}, &FormatError{Reason: "missing p2s"}
	}
	return h, nil
}

// deriveKEK is RFC 7518 §4.8.1.1: PBKDF2 with salt UTF8(alg) || 0x00 ||
// salt input, and the HMAC and key size the algorithm names.
func deriveKEK(alg, passphrase string, saltInput []byte, iterations int) ([]byte, error) {
	kw, ok := keyWraps[alg]
	if !ok {
		return nil, &FormatError{Reason: fmt.Sprintf("unsupported alg %q", alg)}
	}
	kek, err := pbkdf2.Key(kw.prf, passphrase, pbes2Salt(alg, saltInput), iterations, kw.kekSize)
	if err != nil {
		return nil, fmt.Errorf("jwe: deriving key: %w", err)
	}
	return kek, nil
}

// pbes2Salt is UTF8(alg) || 0x00 || salt input (RFC 7518 §4.8.1.1).
func pbes2Salt(alg string, saltInput []byte) []byte {
	salt := make([]byte, 0, len(alg)+1+len(saltInput))
	return append(append(append(salt, alg...), 0), saltInput...)
}

// openContent is RFC 7516 §5.2 steps 14-16 for AES-GCM: the additional
// authenticated data is the ASCII of the base64url protected header.
func openContent(cek []byte, protected string, iv, ciphertext, tag []byte) ([]byte, error) {
	if len(iv) != gcmIVSize || len(tag) != gcmTagSize {
		return nil, &FormatError{Reason: fmt.Sprintf("AES-GCM needs a %d-byte IV and %d-byte tag, got %d and %d", gcmIVSize, gcmTagSize, len(iv), len(tag))}
	}
	aead, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	sealed := make([]byte, 0, len(ciphertext)+len(tag))
	sealed = append(append(sealed, ciphertext...), tag...)
	plaintext, err := aead.Open(nil, iv, sealed, []byte(protected))
	if err != nil {
		return nil, fmt.Errorf("%w (content authentication failed)", ErrDecrypt)
	}
	return plaintext, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("jwe: %w", err)
	}
	return cipher.NewGCM(block)
}
