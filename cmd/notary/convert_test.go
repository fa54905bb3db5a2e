package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/convert"
	"github.com/notary-go/notary/registry/registrytest"
)

func TestImageConvertCLI(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		name := "referrers tag"
		if referrers {
			name = "referrers API"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			reg := registrytest.New()
			defer reg.Close()
			reg.EnablePush(referrers)
			c := newCLI(t, ts.URL)
			repo := reg.Host + "/team/app"
			d1 := pushImage(reg, "team/app", "1.0", "one")
			pushImage(reg, "team/app", "2.0", "two")
			c.ok("image", "sign", repo+":1.0", repo+":2.0")
			pushImage(reg, "team/app", "2.0", "two again") // re-pushed after signing
			pushImage(reg, "team/app", "3.0", "three")     // never signed
			out := t.TempDir()

			r := c.ok("image", "convert", "--to", "cosign,notation", "--dry-run", "-o", out, repo)
			mustContain(t, "dry run", r.out, "would convert", "0 converted", "2 to convert")
			if reg.Manifest("team/app", convert.CosignTag(d1)) != nil {
				t.Fatal("dry run wrote a signature")
			}
			if _, err := os.Stat(filepath.Join(out, "cosign.pub")); !os.IsNotExist(err) {
				t.Errorf("dry run wrote cosign.pub: %v", err)
			}
			if _, err := os.Stat(filepath.Join(c.trustDir, "convert")); !os.IsNotExist(err) {
				t.Errorf("dry run wrote a certificate into the trust directory: %v", err)
			}

			r = c.ok("image", "convert", "--to", "cosign,notation", "-o", out, repo, repo+":3.0")
			mustContain(t, "convert", r.out,
				"cosign converted "+repo+":1.0", "notation converted "+repo+":1.0",
				"skipped "+repo+":2.0: the registry serves", "skipped "+repo+":3.0: not signed",
				"2 converted, 0 already present, 2 skipped, 0 failed")
			mustContain(t, "convert stderr", r.err, "created the conversion key")

			// The cosign signature verifies with cosign.pub over the payload.
			pubPEM, err := os.ReadFile(filepath.Join(out, "cosign.pub"))
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(pubPEM)
			pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(reg.Manifest("team/app", convert.CosignTag(d1)), &m); err != nil || len(m.Layers) != 1 {
				t.Fatalf("cosign signature manifest: %v %+v", err, m)
			}
			payload := reg.Blob("team/app", m.Layers[0].Digest.String())
			mustContain(t, "payload", string(payload), `"docker-manifest-digest":"`+d1+`"`, `"docker-reference":"`+repo+`"`, `"io.notary.role":"targets"`)
			sig, _ := base64.StdEncoding.DecodeString(m.Layers[0].Annotations[convert.CosignSigAnnotation])
			sum := sha256.Sum256(payload)
			if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], sig) {
				t.Error("cosign signature does not verify with cosign.pub")
			}
			for _, p := range []string{"notation/trustpolicy.json", "notation/truststore/x509/ca/notary-convert/notary-convert.pem"} {
				if _, err := os.Stat(filepath.Join(out, p)); err != nil {
					t.Error(err)
				}
			}
			policy, _ := os.ReadFile(filepath.Join(out, "notation/trustpolicy.json"))
			mustContain(t, "trust policy", string(policy), `"`+repo+`"`, `"ca:notary-convert"`)
			if !referrers {
				// The referrers tag lists the Notation signature.
				idx := reg.Manifest("team/app", strings.Replace(d1, ":", "-", 1))
				mustContain(t, "referrers tag", string(idx), convert.NotationArtifactType)
			}

			// Rerun: nothing new.
			r = c.ok("image", "convert", "--to", "cosign,notation", "-o", out, repo+":1.0")
			mustContain(t, "rerun", r.out, "cosign already present", "notation already present", "0 converted, 2 already present")
			mustNotContain(t, "rerun stderr", r.err, "created the conversion key")

			// sign --also converts what it signed.
			pushImage(reg, "team/app", "4.0", "four")
			r = c.ok("image", "sign", "--also", "cosign", "--also-output", out, repo+":4.0")
			mustContain(t, "sign --also", r.out, "Signed "+repo+":4.0", "cosign converted "+repo+":4.0")
			c.fail("image", "sign", "--also", "cosign", "--no-publish", repo+":4.0")
			c.fail("image", "convert", "--to", "pgp", repo)
		})
	}
}

// TestImageVerifyAt: image verify --at checks expiries against a past
// time, saying so.
func TestImageVerifyAt(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	c := newCLI(t, ts.URL)
	dig := pushImage(reg, "team/app", "1.0", "one")
	ref := reg.Host + "/team/app:1.0"
	c.ok("image", "sign", ref)
	signedAt := time.Now()

	later := newCLI(t, ts.URL)
	later.now = func() time.Time { return signedAt.Add(30 * 24 * time.Hour) }
	r := later.fail("image", "verify", ref)
	mustContain(t, "verify 30 days later", r.err, "expired")
	r = later.ok("image", "verify", ref, "--at", signedAt.Add(time.Hour).UTC().Format(time.RFC3339))
	if r.out != reg.Host+"/team/app@"+dig+"\n" {
		t.Errorf("verify --at stdout = %q", r.out)
	}
	mustContain(t, "verify --at stderr", r.err, "historical check")
}

// TestImageConvertKeys: --key signs with a key of the trust directory;
// an Ed25519 key is refused for Notation before anything is written, and
// accepted for cosign.
func TestImageConvertKeys(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	reg.EnablePush(false)
	c := newCLI(t, ts.URL)
	dig := pushImage(reg, "team/app", "1.0", "one")
	ref := reg.Host + "/team/app:1.0"
	c.ok("image", "sign", ref)
	// An Ed25519 key, imported (key generate makes only ECDSA keys, as v1).
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	keyFile := writeFile(t, filepath.Join(t.TempDir(), "ed.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})))
	c.ok("key", "import", keyFile, "-r", "targets/ed")
	r := c.ok("key", "list")
	var id string
	for _, line := range strings.Split(r.out, "\n") {
		if strings.Contains(line, "targets/ed") {
			id = keyIDRE.FindString(line)
		}
	}
	if id == "" {
		t.Fatalf("imported key not listed:\n%s", r.out)
	}
	out := t.TempDir()
	r = c.fail("image", "convert", "--to", "notation", "--key", id, "-o", out, ref)
	mustContain(t, "notation with Ed25519", r.err, "Ed25519")
	if reg.Manifest("team/app", strings.Replace(dig, ":", "-", 1)) != nil {
		t.Error("a referrers tag was written")
	}
	r = c.ok("image", "convert", "--to", "cosign", "--key", id, "-o", out, ref)
	mustContain(t, "cosign with Ed25519", r.out, "cosign converted "+ref)
	pub, err := os.ReadFile(filepath.Join(out, "cosign.pub"))
	if err != nil || !strings.Contains(string(pub), "PUBLIC KEY") {
		t.Errorf("cosign.pub: %v %q", err, pub)
	}
}
