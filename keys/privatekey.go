package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// PrivateKey is a private key with the TUF public key it signs for. The
// public half may be an x509 form (for root keys) wrapping the same key.
// A PrivateKey is safe for concurrent use.
type PrivateKey struct {
	public PublicKey
	signer crypto.Signer
}

// Generate makes a new key of type ECDSA (P-256) or ED25519, the two types
// Notary generates. RSA keys can only be imported.
func Generate(typ string) (*PrivateKey, error) {
	switch typ {
	case ECDSA:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return FromCrypto(k)
	case ED25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return FromCrypto(k)
	default:
		return nil, fmt.Errorf("keys: cannot generate %q keys (want ecdsa or ed25519)", typ)
	}
}

// FromCrypto wraps a private key (*ecdsa.PrivateKey, *rsa.PrivateKey,
// ed25519.PrivateKey, or any crypto.Signer with such a public key) with its
// plain TUF public key.
func FromCrypto(signer crypto.Signer) (*PrivateKey, error) {
	// The key type comes from the public half, so signers whose private key
	// lives elsewhere (a PKCS#11 token) work too.
	pub, err := publicOf(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("keys: unsupported private key %T: %w", signer, err)
	}
	return &PrivateKey{public: pub, signer: signer}, nil
}

// publicOf is the plain TUF key of a crypto public key.
func publicOf(p crypto.PublicKey) (PublicKey, error) {
	switch k := p.(type) {
	case ed25519.PublicKey:
		return PublicKey{Type: ED25519, Public: append([]byte(nil), k...)}, nil
	case *ecdsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		return PublicKey{Type: ECDSA, Public: der}, err
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return PublicKey{}, fmt.Errorf("rsa key of %d bits is below the %d-bit minimum", k.N.BitLen(), MinRSABits)
		}
		der, err := x509.MarshalPKIXPublicKey(k)
		return PublicKey{Type: RSA, Public: der}, err
	}
	return PublicKey{}, fmt.Errorf("public key %T", p)
}

// ErrNotExportable: the key's private half cannot be read (it lives on a
// token), so it cannot be written to a file or a database.
var ErrNotExportable = errors.New("keys: private key cannot be exported")

// FromBytes rebuilds a key from v1's internal private form for the given
// type: SEC1 DER for ecdsa, PKCS#1 DER for rsa, and pub||seed||pub (96
// bytes) or a bare 64-byte seed||pub for ed25519. This is what the signer's
// key database stores.
func FromBytes(typ string, private []byte) (*PrivateKey, error) {
	switch typ {
	case ED25519:
		switch len(private) {
		case 96:
			return FromCrypto(ed25519.PrivateKey(append([]byte(nil), private[32:]...)))
		case ed25519.PrivateKeySize:
			return FromCrypto(ed25519.PrivateKey(append([]byte(nil), private...)))
		}
		return nil, fmt.Errorf("keys: ed25519 private key is %d bytes, want 96", len(private))
	case ECDSA, ECDSAx509:
		k, err := x509.ParseECPrivateKey(private)
		if err != nil {
			return nil, fmt.Errorf("keys: bad ecdsa private key: %w", err)
		}
		return FromCrypto(k)
	case RSA, RSAx509:
		k, err := x509.ParsePKCS1PrivateKey(private)
		if err != nil {
			return nil, fmt.Errorf("keys: bad rsa private key: %w", err)
		}
		return FromCrypto(k)
	}
	return nil, &UnknownKeyTypeError{Type: typ}
}

// Bytes returns v1's internal private form (see FromBytes). The caller owns
// the slice and should wipe it after use.
func (k *PrivateKey) Bytes() ([]byte, error) {
	switch s := k.signer.(type) {
	case ed25519.PrivateKey:
		out := make([]byte, 0, 96)
		out = append(out, s[32:]...)
		out = append(out, s...)
		return out, nil
	case *ecdsa.PrivateKey:
		return x509.MarshalECPrivateKey(s)
	case *rsa.PrivateKey:
		return x509.MarshalPKCS1PrivateKey(s), nil
	}
	return nil, fmt.Errorf("keys: %T: %w", k.signer, ErrNotExportable)
}

// Public is the TUF public key this private key signs for.
func (k *PrivateKey) Public() PublicKey { return k.public }

// ID is the TUF ID of the public key (the ID written in signatures).
func (k *PrivateKey) ID() string { return k.public.ID() }

// Type is the key type of the public key (possibly an x509 type).
func (k *PrivateKey) Type() string { return k.public.Type }

// CanonicalID is the ID under which key stores file this key.
func (k *PrivateKey) CanonicalID() string {
	id, err := k.public.CanonicalID()
	if err != nil { // cannot happen: WithCertificate checked the cert
		return k.public.ID()
	}
	return id
}

// CryptoSigner exposes the standard library key, e.g. to sign certificates.
func (k *PrivateKey) CryptoSigner() crypto.Signer { return k.signer }

// Method is the signature method this key produces.
func (k *PrivateKey) Method() string {
	switch k.signer.Public().(type) {
	case ed25519.PublicKey:
		return MethodEdDSA
	case *ecdsa.PublicKey:
		return MethodECDSA
	default:
		return MethodRSAPSS
	}
}

// Sign signs msg (canonical bytes) in v1's form: raw r||s for ecdsa,
// pure Ed25519, or RSASSA-PSS with SHA-256 and a 32-byte salt.
func (k *PrivateKey) Sign(msg []byte) ([]byte, error) {
	return SignWith(k.signer, rand.Reader, msg)
}

// SignWith signs msg with a standard library key in v1's form.
func SignWith(signer crypto.Signer, rnd io.Reader, msg []byte) ([]byte, error) {
	switch s := signer.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(s, msg), nil
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256(msg)
		r, ss, err := ecdsa.Sign(rnd, s, digest[:])
		if err != nil {
			return nil, err
		}
		size := (s.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		ss.FillBytes(out[size:])
		return out, nil
	case *rsa.PrivateKey:
		digest := sha256.Sum256(msg)
		return rsa.SignPSS(rnd, s, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: sha256.Size, Hash: crypto.SHA256})
	}
	// Any other crypto.Signer (a token), by its public key's type.
	switch p := signer.Public().(type) {
	case ed25519.PublicKey:
		return signer.Sign(rnd, msg, crypto.Hash(0))
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(msg)
		der, err := signer.Sign(rnd, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
			return nil, errors.New("keys: signer returned a malformed ECDSA signature")
		}
		size := (p.Curve.Params().BitSize + 7) / 8
		if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 8*size || rs.S.BitLen() > 8*size {
			return nil, errors.New("keys: signer returned an out-of-range ECDSA signature")
		}
		out := make([]byte, 2*size)
		rs.R.FillBytes(out[:size])
		rs.S.FillBytes(out[size:])
		return out, nil
	case *rsa.PublicKey:
		digest := sha256.Sum256(msg)
		return signer.Sign(rnd, digest[:], &rsa.PSSOptions{SaltLength: sha256.Size, Hash: crypto.SHA256})
	}
	return nil, fmt.Errorf("keys: unsupported private key %T", signer)
}

// WithPublic returns a key that signs with the same private key but
// presents pub (an x509 form of it) as its TUF key. pub must hold the same
// public key.
func (k *PrivateKey) WithPublic(pub PublicKey) (*PrivateKey, error) {
	plain, err := pub.Unwrapped()
	if err != nil {
		return nil, err
	}
	mine, _ := k.public.Unwrapped()
	if plain.ID() != mine.ID() {
		return nil, errors.New("keys: public key does not belong to this private key")
	}
	return &PrivateKey{public: pub, signer: k.signer}, nil
}

// Plain returns the key with its plain (non-x509) public key.
func (k *PrivateKey) Plain() *PrivateKey {
	p, err := FromCrypto(k.signer)
	if err != nil {
		return k
	}
	return p
}
