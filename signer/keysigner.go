package signer

import (
	"context"
	"fmt"

	"github.com/notary-go/notary/keys"
)

// KeySigner signs with one key held by the signer. It is what the
// notary-server hands to code that re-signs snapshot and timestamp
// metadata. It is safe for concurrent use.
type KeySigner struct {
	c           *Client
	pub         keys.PublicKey
	canonicalID string
	gun         string // "" for no GUN check (see Client.SignFor)
}

// Signer returns a KeySigner for pub, a key the signer holds (from
// CreateKey or GetKey, or an x509 form of one).
func (c *Client) Signer(pub keys.PublicKey) *KeySigner {
	id, err := pub.CanonicalID()
	if err != nil {
		id = pub.ID()
	}
	return &KeySigner{c: c, pub: pub, canonicalID: id}
}

// SignerFor is Signer for metadata of gun: every signature request names
// gun, and our signer refuses it for a key of another GUN.
func (c *Client) SignerFor(gun string, pub keys.PublicKey) *KeySigner {
	s := c.Signer(pub)
	s.gun = gun
	return s
}

// Public is the key signatures verify with.
func (s *KeySigner) Public() keys.PublicKey { return s.pub }

// ID is the key's TUF ID, the keyid to write next to the signature.
func (s *KeySigner) ID() string { return s.pub.ID() }

// Method is the signature method for the key's type, derived locally as
// the v1 notary-server does (it ignores the method the signer returns):
// ecdsa for ecdsa keys, eddsa for ed25519, rsapss for rsa.
func (s *KeySigner) Method() string { return methodFor(s.pub.Type) }

// Sign has the signer sign msg (the canonical bytes of a role's "signed"
// value) and checks the signature against the public key before returning
// it, so a confused signer cannot slip a bad signature into metadata.
func (s *KeySigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	sig, err := s.c.SignFor(ctx, s.gun, s.canonicalID, msg)
	if err != nil {
		return nil, err
	}
	if err := s.pub.Verify(s.Method(), msg, sig); err != nil {
		return nil, &BadResponseError{Op: "Sign", Reason: fmt.Sprintf("signature does not verify: %v", err)}
	}
	return sig, nil
}

func methodFor(keyType string) string {
	switch keyType {
	case keys.ED25519:
		return keys.MethodEdDSA
	case keys.RSA, keys.RSAx509:
		return keys.MethodRSAPSS
	default:
		return keys.MethodECDSA
	}
}
