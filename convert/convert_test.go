package convert

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/registry"
)

// fakeRegistry is an in-memory registry: blobs, tagged and untagged
// manifests, and referrers by subject.
type fakeRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte
	manifests map[string][]byte // by tag or digest
	referrers map[string][]registry.Referrer
	pushes    int
}

func newFake() *fakeRegistry {
	return &fakeRegistry{blobs: map[string][]byte{}, manifests: map[string][]byte{}, referrers: map[string][]registry.Referrer{}}
}

func (f *fakeRegistry) FetchManifest(_ context.Context, ref registry.Reference) (*registry.Manifest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := ref.Tag
	if ref.Digest != "" {
		key = ref.Digest
	}
	b, ok := f.manifests[key]
	if !ok {
		return nil, &registry.NotFoundError{Ref: ref.String()}
	}
	return &registry.Manifest{Descriptor: registry.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(b).String(), Size: int64(len(b))}, Bytes: b}, nil
}

func (f *fakeRegistry) PushBlob(_ context.Context, _ registry.Reference, mt string, data []byte) (registry.Descriptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := digest.FromBytes(data).String()
	f.blobs[d] = data
	f.pushes++
	return registry.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, nil
}

func (f *fakeRegistry) PushManifest(_ context.Context, ref registry.Reference, mt string, data []byte) (registry.Descriptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := digest.FromBytes(data).String()
	f.manifests[d] = data
	if ref.Tag != "" {
		f.manifests[ref.Tag] = data
	}
	var m ocispec.Manifest
	_ = json.Unmarshal(data, &m)
	if m.Subject != nil {
		f.referrers[m.Subject.Digest.String()] = append(f.referrers[m.Subject.Digest.String()], registry.Referrer{
			Descriptor: registry.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, ArtifactType: m.ArtifactType, Annotations: m.Annotations,
		})
	}
	f.pushes++
	return registry.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, nil
}

func (f *fakeRegistry) Referrers(_ context.Context, _ registry.Reference, subject registry.Descriptor, at string) ([]registry.Referrer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []registry.Referrer
	for _, r := range f.referrers[subject.Digest] {
		if at == "" || r.ArtifactType == at {
			out = append(out, r)
		}
	}
	return out, nil
}

func target() Target {
	body := []byte(`{"schemaVersion":2}`)
	return Target{
		Ref:     registry.Reference{Host: "localhost:5000", Repository: "app", Tag: "v1"},
		GUN:     "localhost:5000/app",
		Role:    "targets/releases",
		Subject: registry.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body).String(), Size: int64(len(body))},
	}
}

func keysUnderTest(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]crypto.Signer{"ecdsa": ec, "rsa": rk, "ed25519": ed}
}

func TestCosign(t *testing.T) {
	for name, key := range keysUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			reg := newFake()
			tg := target()
			c := &Cosign{Registry: reg, Key: key}

			if st, err := (&Cosign{Registry: reg, Key: key, DryRun: true}).Convert(ctx, tg); err != nil || st != DryRun || reg.pushes != 0 {
				t.Fatalf("dry run: %v %v, %d pushes", st, err, reg.pushes)
			}
			st, err := c.Convert(ctx, tg)
			if err != nil || st != Converted {
				t.Fatalf("Convert = %v, %v", st, err)
			}
			sigTag := "sha256-" + strings.TrimPrefix(tg.Subject.Digest, "sha256:") + ".sig"
			var m ocispec.Manifest
			if err := json.Unmarshal(reg.manifests[sigTag], &m); err != nil || len(m.Layers) != 1 {
				t.Fatalf("signature manifest under %s: %v %+v", sigTag, err, m)
			}
			l := m.Layers[0]
			if l.MediaType != CosignLayerMediaType {
				t.Errorf("layer media type %s", l.MediaType)
			}
			payload := reg.blobs[l.Digest.String()]
			var p map[string]any
			if err := json.Unmarshal(payload, &p); err != nil {
				t.Fatal(err)
			}
			crit := p["critical"].(map[string]any)
			if crit["type"] != CosignPayloadType ||
				crit["image"].(map[string]any)["docker-manifest-digest"] != tg.Subject.Digest ||
				crit["identity"].(map[string]any)["docker-reference"] != "localhost:5000/app" {
				t.Errorf("payload critical: %v", crit)
			}
			opt := p["optional"].(map[string]any)
			if opt["tag"] != "v1" || opt["io.notary.gun"] != tg.GUN || opt["io.notary.role"] != tg.Role {
				t.Errorf("payload optional: %v", opt)
			}
			sig, _ := base64.StdEncoding.DecodeString(l.Annotations[CosignSigAnnotation])
			if !cosignVerify(key.Public(), payload, sig) {
				t.Error("signature does not verify")
			}
			// Rerun: present, nothing written.
			before := reg.pushes
			if st, err := c.Convert(ctx, tg); err != nil || st != Present || reg.pushes != before {
				t.Errorf("rerun: %v %v, %d new pushes", st, err, reg.pushes-before)
			}
			// Another key appends its layer and keeps the first.
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if st, err := (&Cosign{Registry: reg, Key: other}).Convert(ctx, tg); err != nil || st != Converted {
				t.Fatalf("second key: %v %v", st, err)
			}
			_ = json.Unmarshal(reg.manifests[sigTag], &m)
			if len(m.Layers) != 2 {
				t.Errorf("layers after a second key: %d", len(m.Layers))
			}
		})
	}
}

func TestNotation(t *testing.T) {
	ctx := context.Background()
	for name, key := range keysUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			cert, err := SelfIssuedCertificate(key, "test", now, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			reg := newFake()
			n := &Notation{Registry: reg, Key: key, Chain: []*x509.Certificate{cert}, Now: func() time.Time { return now }}
			st, err := n.Convert(ctx, target())
			if name == "ed25519" {
				if !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "Ed25519") {
					t.Errorf("Ed25519: %v, want ErrUnsupportedKey naming Ed25519", err)
				}
				return
			}
			if err != nil || st != Converted {
				t.Fatalf("Convert = %v %v", st, err)
			}
			refs := reg.referrers[target().Subject.Digest]
			if len(refs) != 1 || refs[0].ArtifactType != NotationArtifactType || refs[0].Annotations[NotationThumbprintsKey] != Thumbprints([]*x509.Certificate{cert}) {
				t.Fatalf("referrers: %+v", refs)
			}
			var m ocispec.Manifest
			_ = json.Unmarshal(reg.manifests[refs[0].Digest], &m)
			if m.Subject == nil || m.Subject.Digest.String() != target().Subject.Digest || m.Config.MediaType != NotationArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != NotationEnvelopeType {
				t.Fatalf("signature manifest: %+v", m)
			}
			checkJWS(t, reg.blobs[m.Layers[0].Digest.String()], cert)
			before := reg.pushes
			if st, err := n.Convert(ctx, target()); err != nil || st != Present || reg.pushes != before {
				t.Errorf("rerun: %v %v", st, err)
			}
		})
	}
}

// checkJWS verifies the envelope as a JWS verifier would.
func checkJWS(t *testing.T, env []byte, cert *x509.Certificate) {
	t.Helper()
	var e struct {
		Payload, Protected, Signature string
		Header                        struct {
			X5c [][]byte `json:"x5c"`
		}
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	ph, _ := base64.RawURLEncoding.DecodeString(e.Protected)
	var h map[string]any
	_ = json.Unmarshal(ph, &h)
	if h["cty"] != NotationPayloadType || h["io.cncf.notary.signingScheme"] != "notary.x509" || h["crit"].([]any)[0] != "io.cncf.notary.signingScheme" {
		t.Errorf("protected header: %v", h)
	}
	pl, _ := base64.RawURLEncoding.DecodeString(e.Payload)
	if !strings.Contains(string(pl), target().Subject.Digest) {
		t.Errorf("payload: %s", pl)
	}
	if len(e.Header.X5c) != 1 || string(e.Header.X5c[0]) != string(cert.Raw) {
		t.Error("x5c is not the certificate")
	}
	sig, _ := base64.RawURLEncoding.DecodeString(e.Signature)
	sum := sha256.Sum256([]byte(e.Protected + "." + e.Payload))
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if h["alg"] != "ES256" || len(sig) != 64 || !ecdsa.Verify(k, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Errorf("ES256 signature does not verify (alg %v)", h["alg"])
		}
	case *rsa.PublicKey:
		if h["alg"] != "PS256" || rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			t.Errorf("PS256 signature does not verify (alg %v)", h["alg"])
		}
	}
}

func TestSelfIssuedCertificateForNotation(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := SelfIssuedCertificate(key, "x", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
		t.Errorf("certificate: CA %v, key usage %v, EKU %v", c.IsCA, c.KeyUsage, c.ExtKeyUsage)
	}
	critical := false
	for _, e := range c.Extensions {
		if e.Id.String() == "2.5.29.15" {
			critical = e.Critical
		}
	}
	if !critical {
		t.Error("key usage is not critical (Notation requires it)")
	}
	dir := t.TempDir()
	if err := WriteNotationConfig(dir, []*x509.Certificate{c}, []string{"localhost:5000/app"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"notation/trustpolicy.json", "notation/truststore/x509/ca/notary-convert/notary-convert.pem"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
}
