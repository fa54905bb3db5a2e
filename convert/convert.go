// Package convert turns Notary v1 trust into OCI-native signatures that
// today's verifiers check: cosign's simple-signing signatures (the
// sha256-<hex>.sig tag scheme) and Notation's JWS envelopes (referrers of
// the signed manifest, with the referrers tag fallback where a registry
// has no referrers API).
//
// It signs only what it is given: each Target must already be verified
// through TUF, and its digest checked against what the registry serves
// now (image.VerifyImage does both). Converting is idempotent: a
// signature by the same key over the same content already in the
// registry is left alone.
package convert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/notary-go/notary/registry"
)

// A Target is a signed tag, verified through TUF, and the manifest the
// registry serves for it (the signed digest).
type Target struct {
	// Ref names the image's repository (host/repo) and the tag.
	Ref registry.Reference
	// GUN and Role say where the Notary v1 signature came from.
	GUN  string
	Role string
	// Subject is the signed manifest: media type, digest and size.
	Subject registry.Descriptor
}

// Registry is what converting needs of a registry; *registry.Client
// satisfies it.
type Registry interface {
	FetchManifest(ctx context.Context, ref registry.Reference) (*registry.Manifest, error)
	PushBlob(ctx context.Context, ref registry.Reference, mediaType string, data []byte) (registry.Descriptor, error)
	PushManifest(ctx context.Context, ref registry.Reference, mediaType string, data []byte) (registry.Descriptor, error)
	Referrers(ctx context.Context, ref registry.Reference, subject registry.Descriptor, artifactType string) ([]registry.Referrer, error)
}

var _ Registry = (*registry.Client)(nil)

// Status is what Convert did.
type Status int

const (
	// Converted: a signature was written.
	Converted Status = iota
	// Present: the registry already has this signature (same key, same
	// content); nothing was written.
	Present
	// DryRun: a signature would have been written.
	DryRun
)

func (s Status) String() string {
	switch s {
	case Converted:
		return "converted"
	case Present:
		return "already present"
	case DryRun:
		return "would convert (dry run)"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Errors, matched with errors.Is.
var (
	// ErrUnsupportedKey: the key cannot make this kind of signature
	// (Ed25519 for Notation, which allows only ECDSA and RSA).
	ErrUnsupportedKey = errors.New("convert: unsupported key")
)

// KeyError says why a key cannot be used.
type KeyError struct {
	Format string // "cosign" or "notation"
	Reason string
}

func (e *KeyError) Error() string { return fmt.Sprintf("convert: %s: %s", e.Format, e.Reason) }
func (e *KeyError) Unwrap() error { return ErrUnsupportedKey }

// PublicKeyPEM returns key's public key as a PEM "PUBLIC KEY" block (PKIX),
// the form of cosign.pub.
func PublicKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// CheckKey says whether key can sign in format ("cosign" or "notation"):
// an error wrapping ErrUnsupportedKey if not.
func CheckKey(format string, key crypto.Signer) error { return checkKey(format, key) }

// checkKey refuses key types neither format accepts.
func checkKey(format string, key crypto.Signer) error {
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return &KeyError{Format: format, Reason: "ECDSA keys must use P-256, P-384 or P-521"}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return &KeyError{Format: format, Reason: "RSA keys must have at least 2048 bits"}
		}
		return nil
	case ed25519.PublicKey:
		if format == "notation" {
			return &KeyError{Format: format, Reason: "Notation signatures cannot use Ed25519 keys (only ECDSA and RSA): use --key with an ECDSA or RSA key, or convert to cosign only"}
		}
		return nil
	}
	return &KeyError{Format: format, Reason: fmt.Sprintf("key type %T", key.Public())}
}
