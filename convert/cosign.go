package convert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/registry"
)

// The cosign formats (sigstore/cosign pkg/oci/static, pkg/types, specs/SIGNATURE_SPEC.md).
const (
	CosignPayloadType     = "cosign container image signature"
	CosignLayerMediaType  = "application/vnd.dev.cosign.simplesigning.v1+json"
	CosignSigAnnotation   = "dev.cosignproject.cosign/signature"
	cosignConfigMediaType = ocispec.MediaTypeImageConfig
)

// CosignTag is the tag cosign stores a digest's signatures under:
// sha256:<hex> becomes sha256-<hex>.sig.
func CosignTag(d string) string { return strings.Replace(d, ":", "-", 1) + ".sig" }

// simpleSigning is the payload (containers/image "simple signing", as
// cosign writes it).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// CosignPayload is the simple-signing payload for t: the repository and
// digest it signs, and in "optional" where the trust came from (the tag,
// GUN and role of the Notary v1 signature). It is deterministic, so a
// rerun recognises its own signature.
func CosignPayload(t Target) ([]byte, error) {
	var p simpleSigning
	p.Critical.Identity.DockerReference = t.Ref.Name()
	p.Critical.Image.DockerManifestDigest = t.Subject.Digest
	p.Critical.Type = CosignPayloadType
	p.Optional = map[string]any{
		"tag":                     t.Ref.Tag,
		"io.notary.gun":           t.GUN,
		"io.notary.role":          t.Role,
		"io.notary.converted-by":  "notary image convert",
		"io.notary.signed-digest": t.Subject.Digest,
	}
	return json.Marshal(p)
}

// Cosign writes cosign signatures with Key.
type Cosign struct {
	Registry Registry
	Key      crypto.Signer
	DryRun   bool
}

// cosignSign signs payload as cosign verifies it: ECDSA (ASN.1) and RSA
// (PKCS #1 v1.5) over its SHA-256; Ed25519 over the payload itself.
func cosignSign(key crypto.Signer, payload []byte) ([]byte, error) {
	sum := sha256.Sum256(payload)
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		return key.Sign(rand.Reader, sum[:], crypto.SHA256)
	case *rsa.PublicKey:
		return key.Sign(rand.Reader, sum[:], crypto.SHA256)
	case ed25519.PublicKey:
		return key.Sign(rand.Reader, payload, crypto.Hash(0))
	}
	return nil, &KeyError{Format: "cosign", Reason: "unsupported key type"}
}

// cosignVerify checks a signature made by cosignSign.
func cosignVerify(pub crypto.PublicKey, payload, sig []byte) bool {
	sum := sha256.Sum256(payload)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, sum[:], sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	case ed25519.PublicKey:
		return ed25519.Verify(k, payload, sig)
	}
	return false
}

// Convert writes a cosign signature for t's digest: the payload as a
// layer of the manifest tagged sha256-<hex>.sig, the signature in the
// layer's annotation. Signatures already under that tag are kept (cosign
// appends too); if one of them is this key's over this payload, nothing
// is written.
func (c *Cosign) Convert(ctx context.Context, t Target) (Status, error) {
	if err := checkKey("cosign", c.Key); err != nil {
		return 0, err
	}
	payload, err := CosignPayload(t)
	if err != nil {
		return 0, err
	}
	sigRef := registry.Reference{Host: t.Ref.Host, Repository: t.Ref.Repository, Tag: CosignTag(t.Subject.Digest)}
	var existing ocispec.Manifest
	m, err := c.Registry.FetchManifest(ctx, sigRef)
	var nf *registry.NotFoundError
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return 0, err
	default:
		if err := json.Unmarshal(m.Bytes, &existing); err != nil {
			return 0, err
		}
	}
	pd := digest.FromBytes(payload)
	for _, l := range existing.Layers {
		if l.Digest != pd {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[CosignSigAnnotation])
		if err == nil && cosignVerify(c.Key.Public(), payload, sig) {
			return Present, nil
		}
	}
	if c.DryRun {
		return DryRun, nil
	}
	sig, err := cosignSign(c.Key, payload)
	if err != nil {
		return 0, err
	}
	if _, err := c.Registry.PushBlob(ctx, sigRef, CosignLayerMediaType, payload); err != nil {
		return 0, err
	}
	layers := append(existing.Layers, ocispec.Descriptor{
		MediaType:   CosignLayerMediaType,
		Digest:      pd,
		Size:        int64(len(payload)),
		Annotations: map[string]string{CosignSigAnnotation: base64.StdEncoding.EncodeToString(sig)},
	})
	config, err := cosignConfig(layers)
	if err != nil {
		return 0, err
	}
	cd, err := c.Registry.PushBlob(ctx, sigRef, cosignConfigMediaType, config)
	if err != nil {
		return 0, err
	}
	man := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: cosignConfigMediaType, Digest: digest.Digest(cd.Digest), Size: cd.Size},
		Layers:    layers,
	}
	man.SchemaVersion = 2
	data, err := json.Marshal(man)
	if err != nil {
		return 0, err
	}
	if _, err := c.Registry.PushManifest(ctx, sigRef, ocispec.MediaTypeImageManifest, data); err != nil {
		return 0, err
	}
	return Converted, nil
}

// cosignConfig is the image config of a signature image as cosign makes
// it: an empty image whose layers (uncompressed) are the payloads.
func cosignConfig(layers []ocispec.Descriptor) ([]byte, error) {
	diffIDs := make([]string, len(layers))
	history := make([]map[string]string, len(layers))
	for i, l := range layers {
		diffIDs[i] = l.Digest.String()
		history[i] = map[string]string{"created": "0001-01-01T00:00:00Z"}
	}
	return json.Marshal(map[string]any{
		"architecture": "",
		"created":      "0001-01-01T00:00:00Z",
		"history":      history,
		"os":           "",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
		"config":       map[string]any{},
	})
}
