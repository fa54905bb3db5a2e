//go:build interop

package interop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/registry"
)

// bridgesPeer finds a signature verifier: $NOTARY_SIG_PEERS_BIN
// (scripts/install-sig-peers.sh), $NOTARY_V1_BIN (scripts/test.sh builds
// every peer into one directory), then the module's .tools/bin. Missing, the test is skipped (failed with CI=true).
func bridgesPeer(t testing.TB, name string) string {
	t.Helper()
	var tried []string
	for _, dir := range []string{os.Getenv("NOTARY_SIG_PEERS_BIN"), os.Getenv("NOTARY_V1_BIN"), filepath.Join(dockerRepoRoot(t), ".tools", "bin")} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
		tried = append(tried, p)
	}
	requirePeer(t, "peer %s not built (looked at %s): run scripts/install-sig-peers.sh", name, strings.Join(tried, ", "))
	return ""
}

// bridgesPushImage pushes a one-layer OCI image (seed makes it unique)
// under ref and returns its descriptor.
func bridgesPushImage(t testing.TB, rc *registry.Client, ref registry.Reference, seed string) registry.Descriptor {
	t.Helper()
	ctx := context.Background()
	layer := []byte("layer " + seed)
	ld, err := rc.PushBlob(ctx, ref, ocispec.MediaTypeImageLayer, layer)
	if err != nil {
		t.Fatal(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digest.FromBytes(layer).String() + `"]}}`)
	cd, err := rc.PushBlob(ctx, ref, ocispec.MediaTypeImageConfig, config)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(ocispec.Manifest{
		Versioned: ocispecVersioned,
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: cd.MediaType, Digest: digest.Digest(cd.Digest), Size: cd.Size},
		Layers:    []ocispec.Descriptor{{MediaType: ld.MediaType, Digest: digest.Digest(ld.Digest), Size: ld.Size}},
	})
	d, err := rc.PushManifest(ctx, ref, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// bridgesPushIndex pushes an OCI index of two platform images under ref.
func bridgesPushIndex(t testing.TB, rc *registry.Client, ref registry.Reference, seed string) registry.Descriptor {
	t.Helper()
	var children []ocispec.Descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		d := bridgesPushImage(t, rc, registry.Reference{Host: ref.Host, Repository: ref.Repository, Tag: "child-" + arch + "-" + seed}, seed+arch)
		children = append(children, ocispec.Descriptor{MediaType: d.MediaType, Digest: digest.Digest(d.Digest), Size: d.Size, Platform: &ocispec.Platform{OS: "linux", Architecture: arch}})
	}
	idx, _ := json.Marshal(ocispec.Index{Versioned: ocispecVersioned, MediaType: ocispec.MediaTypeImageIndex, Manifests: children})
	d, err := rc.PushManifest(context.Background(), ref, ocispec.MediaTypeImageIndex, idx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// bridgesRun runs a verifier with HOME and XDG_CONFIG_HOME of its own.
func bridgesRun(t testing.TB, env []string, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestBridgesConvert signs images with Notary (a single image, an index,
// and one re-pushed after signing), converts them, and checks the
// converted signatures with the real verifiers: cosign v2.6.5 and
// notation v1.3.2, against the distribution registry (referrers tag
// fallback) and olareg (referrers API).
func TestBridgesConvert(t *testing.T) {
	cosign := bridgesPeer(t, "cosign")
	notation := bridgesPeer(t, "notation")
	clientOurBin(t)
	for _, kind := range []string{"distribution", "olareg"} {
		t.Run(kind, func(t *testing.T) {
			var reg *regRegistry
			if kind == "distribution" {
				reg = regStartDistribution(t, regDistOpts{})
			} else {
				reg = regStartOlareg(t)
			}
			host := reg.Host
			srv := startOurServer(t)
			rc, err := registry.New(registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			repo := registry.Reference{Host: host, Repository: "team/app"}
			img := bridgesPushImage(t, rc, repo.WithTag("1.0"), "one")
			idx := bridgesPushIndex(t, rc, repo.WithTag("multi"), "multi")
			bridgesPushImage(t, rc, repo.WithTag("2.0"), "two")
			name := repo.Name()

			n := clientOurs(t, srv, "")
			n.must("image", "sign", name+":1.0", name+":multi", name+":2.0")
			bridgesPushImage(t, rc, repo.WithTag("2.0"), "two, pushed again") // not what was signed

			out := t.TempDir()
			res := n.must("image", "convert", "--to", "cosign,notation", "-o", out, name)
			clientHas(t, "convert", res, "cosign converted "+name+":1.0", "notation converted "+name+":multi",
				"skipped "+name+":2.0", "4 converted, 0 already present, 1 skipped, 0 failed")
			res = n.must("image", "convert", "--to", "cosign,notation", "-o", out, name)
			clientHas(t, "rerun", res, "0 converted, 4 already present")

			home := t.TempDir()
			cosignEnv := []string{"HOME=" + home, "DOCKER_CONFIG=" + home, "SIGSTORE_NO_CACHE=true", "TUF_ROOT=" + filepath.Join(home, "tuf")}
			cosignVerify := func(ref string) (string, error) {
				return bridgesRun(t, cosignEnv, cosign, "verify", "--key", filepath.Join(out, "cosign.pub"), "--insecure-ignore-tlog=true", "--allow-insecure-registry", ref)
			}
			notationEnv := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + out, "DOCKER_CONFIG=" + home}
			notationVerify := func(ref string) (string, error) {
				return bridgesRun(t, notationEnv, notation, "verify", "--insecure-registry", ref)
			}
			for _, ref := range []string{name + ":1.0", name + ":multi", repo.Pinned(img.Digest), repo.Pinned(idx.Digest)} {
				if o, err := cosignVerify(ref); err != nil || !strings.Contains(o, "signatures were verified against the specified public key") {
					t.Errorf("cosign verify %s: %v\n%s", ref, err, o)
				}
				if o, err := notationVerify(ref); err != nil || !strings.Contains(o, "Successfully verified signature") {
					t.Errorf("notation verify %s: %v\n%s", ref, err, o)
				}
			}
			// Pushed as a referrer through the API where the registry has
			// one (olareg), through the referrers tag where not.
			_, err = rc.FetchManifest(context.Background(), repo.WithTag(strings.Replace(img.Digest, ":", "-", 1)))
			if hasTag := err == nil; hasTag != (kind == "distribution") {
				t.Errorf("%s: referrers tag present = %v (%v)", kind, hasTag, err)
			}
			// A certificate issued by the user's CA: notation trusts the CA.
			caOut := t.TempDir()
			caCert, caKey := bridgesCA(t, caOut)
			res = n.must("image", "convert", "--to", "notation", "-o", caOut, "--ca-cert", caCert, "--ca-key", caKey, name+":1.0")
			clientHas(t, "convert with a CA", res, "notation converted "+name+":1.0")
			caEnv := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + caOut, "DOCKER_CONFIG=" + home}
			if o, err := bridgesRun(t, caEnv, notation, "verify", "--insecure-registry", name+":1.0"); err != nil || !strings.Contains(o, "Successfully verified signature") {
				t.Errorf("notation verify with the CA's policy: %v\n%s", err, o)
			}

			if o, err := cosignVerify(name + ":2.0"); err == nil {
				t.Errorf("cosign verify of the re-pushed tag passed:\n%s", o)
			}
			if o, err := notationVerify(name + ":2.0"); err == nil {
				t.Errorf("notation verify of the re-pushed tag passed:\n%s", o)
			}
		})
	}
}

var ocispecVersioned = specs.Versioned{SchemaVersion: 2}

// bridgesCA writes a code-signing CA (certificate and PKCS #8 key) to dir.
func bridgesCA(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bridges interop CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	testpki.WritePEM(t, certFile, "CERTIFICATE", der)
	testpki.WritePEM(t, keyFile, "PRIVATE KEY", p8)
	return certFile, keyFile
}
