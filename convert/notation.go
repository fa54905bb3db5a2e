package convert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/registry"
)

// The Notation formats (notaryproject/specifications: signature-specification.md,
// signature-envelope-jws.md; notation-go v1.3 registry and envelope).
const (
	NotationArtifactType   = "application/vnd.cncf.notary.signature"
	NotationEnvelopeType   = "application/jose+json"
	NotationPayloadType    = "application/vnd.cncf.notary.payload.v1+json"
	NotationThumbprintsKey = "io.cncf.notary.x509chain.thumbprint#S256"
	notationSchemeKey      = "io.cncf.notary.signingScheme"
	notationTimeKey        = "io.cncf.notary.signingTime"
	notationSchemeX509     = "notary.x509"
	// TrustStoreName names the trust store and policy the generated
	// configuration uses.
	TrustStoreName = "notary-convert"
)

// Notation writes Notation signatures with Key, whose certificate chain
// (leaf first) is Chain.
type Notation struct {
	Registry Registry
	Key      crypto.Signer
	Chain    []*x509.Certificate
	// Now is the signing time; nil means time.Now.
	Now    func() time.Time
	DryRun bool
}

// Thumbprints is the annotation value Notation stores on a signature
// manifest: the SHA-256 of each certificate of the chain, as a JSON list.
func Thumbprints(chain []*x509.Certificate) string {
	out := make([]string, len(chain))
	for i, c := range chain {
		sum := sha256.Sum256(c.Raw)
		out[i] = hex.EncodeToString(sum[:])
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// Convert pushes a Notation signature of t's manifest as a referrer of
// it: a manifest with t's manifest as subject, through the referrers API
// where the registry has one, else with the referrers tag. If a
// signature with this certificate chain already refers to it, nothing is
// written.
func (n *Notation) Convert(ctx context.Context, t Target) (Status, error) {
	if err := checkKey("notation", n.Key); err != nil {
		return 0, err
	}
	if len(n.Chain) == 0 {
		return 0, fmt.Errorf("convert: notation: no certificate")
	}
	repo := registry.Reference{Host: t.Ref.Host, Repository: t.Ref.Repository, Digest: t.Subject.Digest}
	thumbs := Thumbprints(n.Chain)
	refs, err := n.Registry.Referrers(ctx, repo, t.Subject, NotationArtifactType)
	if err != nil {
		return 0, err
	}
	for _, r := range refs {
		if r.Annotations[NotationThumbprintsKey] == thumbs {
			return Present, nil
		}
	}
	if n.DryRun {
		return DryRun, nil
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	signingTime := now().Truncate(time.Second)
	env, err := n.envelope(t, signingTime)
	if err != nil {
		return 0, err
	}
	ed, err := n.Registry.PushBlob(ctx, repo, NotationEnvelopeType, env)
	if err != nil {
		return 0, err
	}
	empty := ocispec.DescriptorEmptyJSON
	if _, err := n.Registry.PushBlob(ctx, repo, NotationArtifactType, empty.Data); err != nil {
		return 0, err
	}
	man := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: NotationArtifactType,
		// As notation itself writes it: the artifact type as the config's
		// media type, with the empty JSON config.
		Config: ocispec.Descriptor{MediaType: NotationArtifactType, Digest: empty.Digest, Size: empty.Size},
		Layers: []ocispec.Descriptor{{MediaType: NotationEnvelopeType, Digest: digest.Digest(ed.Digest), Size: ed.Size}},
		Subject: &ocispec.Descriptor{
			MediaType: t.Subject.MediaType, Digest: digest.Digest(t.Subject.Digest), Size: t.Subject.Size,
		},
		Annotations: map[string]string{
			NotationThumbprintsKey:    thumbs,
			ocispec.AnnotationCreated: signingTime.UTC().Format(time.RFC3339),
		},
	}
	man.SchemaVersion = 2
	data, err := json.Marshal(man)
	if err != nil {
		return 0, err
	}
	if _, err := n.Registry.PushManifest(ctx, repo, ocispec.MediaTypeImageManifest, data); err != nil {
		return 0, err
	}
	return Converted, nil
}

// envelope is the JWS JSON serialization (flattened) of the Notation
// payload for t: protected header with alg, cty, crit and the signing
// scheme and time; the certificate chain in the unprotected x5c.
func (n *Notation) envelope(t Target, signingTime time.Time) ([]byte, error) {
	alg, err := jwsAlg(n.Key.Public())
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(map[string]any{"targetArtifact": map[string]any{
		"mediaType": t.Subject.MediaType,
		"digest":    t.Subject.Digest,
		"size":      t.Subject.Size,
	}})
	if err != nil {
		return nil, err
	}
	protected, err := json.Marshal(map[string]any{
		"alg":             alg,
		"cty":             NotationPayloadType,
		"crit":            []string{notationSchemeKey},
		notationSchemeKey: notationSchemeX509,
		notationTimeKey:   signingTime.Format(time.RFC3339),
	})
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(protected) + "." + b64(payload)
	sig, err := jwsSign(n.Key, alg, []byte(input))
	if err != nil {
		return nil, err
	}
	x5c := make([][]byte, len(n.Chain))
	for i, c := range n.Chain {
		x5c[i] = c.Raw
	}
	return json.Marshal(map[string]any{
		"payload":   b64(payload),
		"protected": b64(protected),
		"header": map[string]any{
			"x5c":                         x5c, // standard base64 of DER (RFC 7515 4.1.6)
			"io.cncf.notary.signingAgent": "notary image convert",
		},
		"signature": b64(sig),
	})
}

// jwsAlg picks the JWS algorithm Notation allows for the key: ES256/384/512
// by curve, PS256/384/512 by RSA size.
func jwsAlg(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
	case *rsa.PublicKey:
		switch {
		case k.N.BitLen() >= 4096:
			return "PS512", nil
		case k.N.BitLen() >= 3072:
			return "PS384", nil
		case k.N.BitLen() >= 2048:
			return "PS256", nil
		}
	}
	return "", &KeyError{Format: "notation", Reason: fmt.Sprintf("no JWS algorithm for %T", pub)}
}

func jwsHash(alg string) (crypto.Hash, hash.Hash, int) {
	switch alg {
	case "ES384", "PS384":
		return crypto.SHA384, sha512.New384(), 48
	case "ES512", "PS512":
		return crypto.SHA512, sha512.New(), 66
	}
	return crypto.SHA256, sha256.New(), 32
}

// jwsSign signs input for alg: ECDSA as the raw r||s of RFC 7518 3.4,
// RSA with PSS (salt length = hash length, RFC 7518 3.5).
func jwsSign(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	h, hh, size := jwsHash(alg)
	hh.Write(input)
	sum := hh.Sum(nil)
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		der, err := key.Sign(rand.Reader, sum, h)
		if err != nil {
			return nil, err
		}
		var sig struct{ R, S *big.Int }
		if _, err := asn1Unmarshal(der, &sig); err != nil {
			return nil, err
		}
		out := make([]byte, 2*size)
		sig.R.FillBytes(out[:size])
		sig.S.FillBytes(out[size:])
		return out, nil
	case *rsa.PublicKey:
		return key.Sign(rand.Reader, sum, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	}
	return nil, &KeyError{Format: "notation", Reason: "unsupported key type"}
}

// SelfIssuedCertificate makes a certificate for key that Notation accepts
// as a self-signed signing certificate: not a CA, key usage digital
// signature (critical), extended key usage code signing, valid from an
// hour before now for validity.
func SelfIssuedCertificate(key crypto.Signer, commonName string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"notary image convert"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// IssueCertificate is SelfIssuedCertificate for pub, issued by the CA
// certificate ca with its key caKey: the chain is then [leaf, ca].
func IssueCertificate(pub crypto.PublicKey, ca *x509.Certificate, caKey crypto.Signer, commonName string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"notary image convert"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// WriteNotationConfig writes a notation configuration under dir/notation
// (for XDG_CONFIG_HOME=dir): the chain's root in the trust store
// truststore/x509/ca/notary-convert/, and trustpolicy.json trusting it,
// strictly, for the given registry scopes (host/repo).
func WriteNotationConfig(dir string, chain []*x509.Certificate, scopes []string) error {
	if len(chain) == 0 {
		return fmt.Errorf("convert: no certificate")
	}
	base := filepath.Join(dir, "notation")
	store := filepath.Join(base, "truststore", "x509", "ca", TrustStoreName)
	if err := os.MkdirAll(store, 0o755); err != nil {
		return err
	}
	root := chain[len(chain)-1]
	if err := os.WriteFile(filepath.Join(store, "notary-convert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o644); err != nil {
		return err
	}
	policy := map[string]any{
		"version": "1.0",
		"trustPolicies": []any{map[string]any{
			"name":                  TrustStoreName,
			"registryScopes":        scopes,
			"signatureVerification": map[string]any{"level": "strict"},
			"trustStores":           []string{"ca:" + TrustStoreName},
			// The trust store holds only this chain's root, so any
			// identity it issued is this key's.
			"trustedIdentities": []string{"*"},
		}},
	}
	data, err := json.MarshalIndent(policy, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(base, "trustpolicy.json"), append(data, '\n'), 0o644)
}

func asn1Unmarshal(der []byte, v any) ([]byte, error) { return asn1.Unmarshal(der, v) }
