package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key types as they appear in the "keytype" field.
const (
	ED25519   = "ed25519"
	ECDSA     = "ecdsa"
	RSA       = "rsa"
	ECDSAx509 = "ecdsa-x509"
	RSAx509   = "rsa-x509"
)

// PublicKey is a TUF key object: {"keytype":T,"keyval":{"private":null,"public":b64(Public)}}.
// Public holds the raw bytes before base64: 32 bytes for ed25519, DER
// SubjectPublicKeyInfo for ecdsa and rsa, PEM certificate text (leaf first)
// for the x509 types. A key of an unknown type is kept but verifies nothing.
type PublicKey struct {
	Type   string
	Public []byte
}

// NewPublicKey returns a PublicKey of the given type and raw public bytes.
func NewPublicKey(typ string, public []byte) PublicKey {
	return PublicKey{Type: typ, Public: public}
}

// ID is the key's TUF ID: the hex SHA-256 of its canonical JSON form. For
// x509 types it covers the certificate PEM, so it changes with the cert.
func (k PublicKey) ID() string {
	sum := sha256.Sum256(k.canonicalJSON())
	return hex.EncodeToString(sum[:])
}

// canonicalJSON builds {"keytype":..,"keyval":{"private":null,"public":..}}
// directly: key types and base64 never need escaping beyond '"' and '\'.
func (k PublicKey) canonicalJSON() []byte {
	b := make([]byte, 0, 64+base64.StdEncoding.EncodedLen(len(k.Public)))
	b = append(b, `{"keytype":`...)
	b = appendJSONString(b, k.Type)
	b = append(b, `,"keyval":{"private":null,"public":"`...)
	b = base64.StdEncoding.AppendEncode(b, k.Public)
	return append(b, `"}}`...)
}

// appendJSONString writes s with the canonical escaping (only '"' and '\').
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// IsX509 reports whether the key's public value is a certificate.
func (k PublicKey) IsX509() bool { return k.Type == ECDSAx509 || k.Type == RSAx509 }

// CanonicalID is the ID key stores use: for x509 keys, the ID of the plain
// ecdsa/rsa key holding the leaf certificate's SubjectPublicKeyInfo; for
// other keys, the same as ID.
func (k PublicKey) CanonicalID() (string, error) {
	if !k.IsX509() {
		return k.ID(), nil
	}
	plain, err := k.Unwrapped()
	if err != nil {
		return "", err
	}
	return plain.ID(), nil
}

// Unwrapped returns the plain ecdsa or rsa key inside an x509 key; other
// keys are returned unchanged.
func (k PublicKey) Unwrapped() (PublicKey, error) {
	if !k.IsX509() {
		return k, nil
	}
	leaf, err := k.Leaf()
	if err != nil {
		return PublicKey{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(leaf.PublicKey)
	if err != nil {
		return PublicKey{}, fmt.Errorf("keys: certificate public key: %w", err)
	}
	typ := ECDSA
	if k.Type == RSAx509 {
		typ = RSA
	}
	return PublicKey{Type: typ, Public: der}, nil
}

// Certificates parses the PEM chain of an x509 key, leaf first.
func (k PublicKey) Certificates() ([]*x509.Certificate, error) {
	if !k.IsX509() {
		return nil, fmt.Errorf("keys: %s key has no certificate", k.Type)
	}
	var certs []*x509.Certificate
	rest := k.Public
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keys: bad certificate in %s key: %w", k.Type, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("keys: %s key holds no PEM certificate", k.Type)
	}
	return certs, nil
}

// Leaf returns the first certificate of an x509 key.
func (k PublicKey) Leaf() (*x509.Certificate, error) {
	certs, err := k.Certificates()
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// CryptoPublicKey parses the key into a crypto.PublicKey, checking that its
// algorithm matches the declared type.
func (k PublicKey) CryptoPublicKey() (crypto.PublicKey, error) {
	switch k.Type {
	case ED25519:
		if len(k.Public) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("keys: ed25519 public key is %d bytes, want %d", len(k.Public), ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(k.Public), nil
	case ECDSA, RSA:
		pub, err := parsePKIX(k.Public)
		if err != nil {
			return nil, err
		}
		return pub, checkAlgorithm(k.Type, pub)
	case ECDSAx509, RSAx509:
		leaf, err := k.Leaf()
		if err != nil {
			return nil, err
		}
		return leaf.PublicKey, checkAlgorithm(k.Type, leaf.PublicKey)
	default:
		return nil, &UnknownKeyTypeError{Type: k.Type}
	}
}

// parsePKIX accepts DER SubjectPublicKeyInfo, or the same wrapped in PEM as
// some legacy (pycrypto-era) rsa keys were.
func parsePKIX(b []byte) (crypto.PublicKey, error) {
	if block, _ := pem.Decode(b); block != nil {
		b = block.Bytes
	}
	pub, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("keys: bad public key: %w", err)
	}
	return pub, nil
}

func checkAlgorithm(typ string, pub crypto.PublicKey) error {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		if typ == ECDSA || typ == ECDSAx509 {
			return nil
		}
	case *rsa.PublicKey:
		if typ == RSA || typ == RSAx509 {
			return nil
		}
	}
	return fmt.Errorf("keys: key declared %s holds a %T", typ, pub)
}

type publicKeyJSON struct {
	KeyType string     `json:"keytype"`
	KeyVal  keyValJSON `json:"keyval"`
}

type keyValJSON struct {
	Private []byte `json:"private"`
	Public  []byte `json:"public"`
}

// MarshalJSON writes the canonical key object with "private":null.
func (k PublicKey) MarshalJSON() ([]byte, error) { return k.canonicalJSON(), nil }

// UnmarshalJSON reads a key object. A key object carrying private material
// is refused: metadata must never hold a private key.
func (k *PublicKey) UnmarshalJSON(b []byte) error {
	var v publicKeyJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("keys: malformed key object: %w", err)
	}
	if v.KeyType == "" {
		return errors.New("keys: key object has no keytype")
	}
	if len(v.KeyVal.Private) != 0 {
		return errors.New("keys: key object in metadata carries a private key")
	}
	if len(v.KeyVal.Public) == 0 {
		return fmt.Errorf("keys: %s key object has no public value", v.KeyType)
	}
	k.Type, k.Public = v.KeyType, v.KeyVal.Public
	return nil
}

// UnknownKeyTypeError reports a keytype this package cannot use.
type UnknownKeyTypeError struct{ Type string }

func (e *UnknownKeyTypeError) Error() string {
	return fmt.Sprintf("keys: unsupported key type %q (want ed25519, ecdsa, rsa, ecdsa-x509 or rsa-x509)", e.Type)
}
