//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/miekg/pkcs11"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// Signer signs with one key held by the token; the token makes every
// signature. It implements tuf.Signer and is safe for concurrent use. It
// stops working when its Store is closed.
type Signer struct {
	s   *Store
	e   *keyEntry
	pub keys.PublicKey
}

var _ tuf.Signer = (*Signer)(nil)

// Public is the TUF key the signatures verify with: the plain key, or the
// x509 form given to WithPublic.
func (k *Signer) Public() keys.PublicKey { return k.pub }

// Info describes the key: canonical ID, role, GUN and plain key type.
func (k *Signer) Info() keystore.KeyInfo { return k.e.info }

// Method is the v1 signature method the key makes: ecdsa, eddsa or rsapss.
func (k *Signer) Method() string {
	switch k.e.info.Type {
	case keys.ED25519:
		return keys.MethodEdDSA
	case keys.RSA:
		return keys.MethodRSAPSS
	}
	return keys.MethodECDSA
}

// WithPublic returns a signer for the same key that presents pub, an x509
// form of it (a root key's certificate), as its TUF key.
func (k *Signer) WithPublic(pub keys.PublicKey) (*Signer, error) {
	plain, err := pub.Unwrapped()
	if err != nil {
		return nil, err
	}
	if plain.ID() != k.e.pub.ID() {
		return nil, errors.New("pkcs11: public key does not belong to this token key")
	}
	return &Signer{s: k.s, e: k.e, pub: pub}, nil
}

// Sign has the token sign msg, the full canonical bytes, in v1's form
// (§3.4): ECDSA over SHA-256(msg) as raw r||s (CKM_ECDSA), pure Ed25519
// (CKM_EDDSA), or RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt
// (CKM_RSA_PKCS_PSS).
func (k *Signer) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	if err := k.s.check(ctx); err != nil {
		return nil, "", err
	}
	id := k.e.info.ID
	switch k.e.info.Type {
	case keys.ECDSA:
		digest := sha256.Sum256(msg)
		sig, err := k.signECDSA(ctx, digest[:])
		return sig, keys.MethodECDSA, err
	case keys.ED25519:
		sig, err := k.s.t.sign(ctx, id, pkcs11.NewMechanism(ckmEdDSA, nil), msg)
		if err == nil && len(sig) != ed25519.SignatureSize {
			err = fmt.Errorf("pkcs11: token returned a %d-byte Ed25519 signature", len(sig))
		}
		return sig, keys.MethodEdDSA, err
	case keys.RSA:
		digest := sha256.Sum256(msg)
		sig, err := k.signPSS(ctx, crypto.SHA256, sha256.Size, digest[:])
		return sig, keys.MethodRSAPSS, err
	}
	return nil, "", fmt.Errorf("pkcs11: cannot sign with a %s key", k.e.info.Type)
}

// signECDSA returns the token's raw r||s signature of digest.
func (k *Signer) signECDSA(ctx context.Context, digest []byte) ([]byte, error) {
	sig, err := k.s.t.sign(ctx, k.e.info.ID, pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), digest)
	if err == nil && len(sig) != 2*k.e.bytes {
		err = fmt.Errorf("pkcs11: token returned a %d-byte ECDSA signature, want %d", len(sig), 2*k.e.bytes)
	}
	return sig, err
}

func (k *Signer) signPSS(ctx context.Context, h crypto.Hash, salt int, digest []byte) ([]byte, error) {
	hm, mgf, err := pkcs11Hash(h)
	if err != nil {
		return nil, err
	}
	params := pkcs11.NewPSSParams(hm, mgf, uint(salt))
	return k.s.t.sign(ctx, k.e.info.ID, pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, params), digest)
}

func pkcs11Hash(h crypto.Hash) (mech, mgf uint, err error) {
	switch h {
	case crypto.SHA256:
		return pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, nil
	case crypto.SHA384:
		return pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384, nil
	case crypto.SHA512:
		return pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512, nil
	}
	return 0, 0, fmt.Errorf("pkcs11: unsupported hash %v", h)
}

// CryptoSigner returns the key as a standard crypto.Signer (ASN.1 DER
// ECDSA signatures over a digest, Ed25519 over the message, RSA PSS or
// PKCS#1 v1.5 over a SHA-256/384/512 digest), e.g. to sign a root
// certificate with x509.CreateCertificate. The crypto.Signer interface
// has no context: its calls use context.Background, so they wait for a
// free session for as long as it takes.
func (k *Signer) CryptoSigner() crypto.Signer { return cryptoSigner{k} }

type cryptoSigner struct{ k *Signer }

var _ crypto.Signer = cryptoSigner{}

func (c cryptoSigner) Public() crypto.PublicKey { return c.k.e.cpub }

func (c cryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx := context.Background()
	if err := c.k.s.check(ctx); err != nil {
		return nil, err
	}
	var h crypto.Hash
	if opts != nil {
		h = opts.HashFunc()
	}
	switch pub := c.k.e.cpub.(type) {
	case *ecdsa.PublicKey:
		if h == 0 || len(digest) != h.Size() {
			return nil, fmt.Errorf("pkcs11: ecdsa signs a digest of the hash in opts (got %d bytes, hash %v)", len(digest), h)
		}
		raw, err := c.k.signECDSA(ctx, digest)
		if err != nil {
			return nil, err
		}
		n := len(raw) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
	case ed25519.PublicKey:
		if o, ok := opts.(*ed25519.Options); h != 0 || ok && o.Context != "" {
			return nil, errors.New("pkcs11: only pure Ed25519 (no pre-hash, no context) is supported")
		}
		return c.k.s.t.sign(ctx, c.k.e.info.ID, pkcs11.NewMechanism(ckmEdDSA, nil), digest)
	case *rsa.PublicKey:
		if h == 0 || len(digest) != h.Size() {
			return nil, fmt.Errorf("pkcs11: rsa signs a digest of the hash in opts (got %d bytes, hash %v)", len(digest), h)
		}
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			salt := pss.SaltLength
			switch salt {
			case rsa.PSSSaltLengthEqualsHash:
				salt = h.Size()
			case rsa.PSSSaltLengthAuto: // the largest that fits, as crypto/rsa signs
				salt = (pub.N.BitLen()-1+7)/8 - 2 - h.Size()
			}
			if salt < 0 {
				return nil, errors.New("pkcs11: bad PSS salt length")
			}
			return c.k.signPSS(ctx, h, salt, digest)
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, fmt.Errorf("pkcs11: unsupported hash %v", h)
		}
		return c.k.s.t.sign(ctx, c.k.e.info.ID, pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), append(append([]byte(nil), prefix...), digest...))
	}
	return nil, fmt.Errorf("pkcs11: cannot sign with %T", c.k.e.cpub)
}

// digestInfoPrefix is the DER DigestInfo header before a digest, for
// PKCS#1 v1.5 signatures (RFC 8017 §9.2, note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}
