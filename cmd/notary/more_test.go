package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
)

const pemDir = "../../keys/testdata/v1/pem"

// TestRootKeyAndKeyFiles: init --rootkey with a key file v0.7.0 wrote, and
// key rotate -k with ed25519 and RSA key files (as the golden scenario).
func TestRootKeyAndKeyFiles(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	for k := range testPassphrases {
		c.env[k] = "goldenpassphrase"
	}
	// An unencrypted root key is refused.
	r := c.fail("init", gun, "--rootkey", filepath.Join(pemDir, "ecdsa.plain.pem"))
	mustContain(t, "plain root key", r.err, "only encrypted root keys may be imported")

	r = c.ok("init", gun, "-p", "--rootkey", filepath.Join(pemDir, "ecdsa.root.enc.pem"))
	rootID := keyIDRE.FindString(r.out)
	mustContain(t, "init --rootkey", r.out, "Root key found, using: "+rootID, "Successfully published")
	mustContain(t, "key list", c.ok("key", "list").out, "root ", rootID)

	// A second collection reuses the root key (v1).
	r = c.ok("init", "example.com/second", "-p")
	mustContain(t, "second init", r.out, "Root key found, using: "+rootID)

	// Rotate targets to an ed25519 key file, root to an RSA key file.
	c.ok("key", "rotate", gun, "targets", "-k", filepath.Join(pemDir, "ed25519.targets.enc.pem"))
	r = c.runIn("yes\n", "key", "rotate", gun, "root", "-k", filepath.Join(pemDir, "rsa.root.enc.pem"))
	if r.code != 0 {
		t.Fatalf("rotate root -k rsa: %s", r)
	}
	f := writeFile(t, filepath.Join(c.home, "x.txt"), "x")
	c.ok("add", gun, "x", f, "-p")
	mustContain(t, "consumer list", newCLI(t, srv.URL).ok("list", gun).out, "x ")

	// --rootcert must match a root key.
	r = c.fail("init", "example.com/third", "--rootcert", filepath.Join(pemDir, "..", "..", "..", "..", "go.mod"))
	mustContain(t, "bad --rootcert", r.err, "PEM certificate")
}

func TestCertRemoveAndLocalDelete(t *testing.T) {
	_, c := published(t)
	consumer := newCLI(t, c.server)
	consumer.ok("list", gun)
	r := consumer.ok("cert", "list", gun)
	id := keyIDRE.FindString(r.out)
	if id == "" {
		t.Fatalf("cert list:\n%s", r.out)
	}
	r = consumer.runIn("no\n", "cert", "remove", id)
	mustContain(t, "cert remove (no)", r.out, "Aborting action.")
	consumer.ok("cert", "remove", id[:12], "-y")
	r = consumer.ok("cert", "list")
	mustContain(t, "cert list after remove", r.out, "No trusted root certificates present.")
	// The next read bootstraps trust again.
	mustContain(t, "list", consumer.ok("list", gun).out, "hello ")
	r = consumer.fail("cert", "remove", strings.Repeat("0", 64), "-y")
	mustContain(t, "cert remove unknown", r.err, "no trusted root certificate matches")

	// delete without --remote: local data only.
	r = consumer.ok("delete", gun)
	if r.out != "Deleting trust data for repository example.com/app\nSuccessfully deleted local trust data for repository example.com/app\n" {
		t.Errorf("delete: %q", r.out)
	}
	if _, err := os.Stat(filepath.Join(consumer.trustDir, "tuf", "example.com")); !os.IsNotExist(err) {
		t.Errorf("empty GUN parent directories left: %v", err)
	}
	mustContain(t, "list after local delete", consumer.ok("list", gun).out, "hello ")
}

// TestDebugAndVerbose: -D logs every request on stderr, -v the settings.
func TestDebugAndVerbose(t *testing.T) {
	_, c := published(t)
	r := c.ok("-D", "list", gun)
	mustContain(t, "-D stderr", r.err, "debug: GET "+c.server+"/v2/example.com/app/_trust/tuf/timestamp.json: 200 OK")
	r = c.ok("-v", "list", gun)
	mustContain(t, "-v stderr", r.err, "info: using trust directory "+c.trustDir)
}

// TestRootRenewal: root and its certificate are valid for ten years. A
// publish in the last six months re-signs root with a renewed certificate;
// once they have expired, a publish with the root key still recovers
// (v0.7.0 could not), and consumers follow.
func TestRootRenewal(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := newTestServerAt(t, clock)
	c := newCLI(t, srv.URL)
	c.now = clock
	f := writeFile(t, filepath.Join(c.home, "f.txt"), "f")
	for _, g := range []string{"example.com/soon", "example.com/late"} {
		c.ok("init", "-p", g)
		c.ok("add", g, "before", f, "-p")
	}
	consumer := newCLI(t, srv.URL)
	consumer.now = clock
	for _, g := range []string{"example.com/soon", "example.com/late"} {
		consumer.ok("list", g)
	}
	certs := func() string { return consumer.ok("cert", "list").out }
	before := certs()

	// The publisher publishes every two and a half years (targets and
	// snapshot last three); the consumer reads every time.
	for _, days := range []int{900, 1800, 2700} {
		offset.Store(int64(time.Duration(days) * 24 * time.Hour))
		for _, g := range []string{"example.com/soon", "example.com/late"} {
			c.ok("witness", g, "targets", "-p")
			consumer.ok("list", g)
		}
	}

	// 9 years and 9 months later: within six months of expiry.
	offset.Store(int64((10*365 - 90) * 24 * time.Hour))
	c.ok("add", "example.com/soon", "renewed", f, "-p")
	r := consumer.ok("list", "example.com/soon")
	mustContain(t, "list after renewal", r.out, "renewed ")
	after := certs()
	if strings.Count(after, "days") != 2 || after == before {
		t.Errorf("certificates before:\n%s\nafter:\n%s", before, after)
	}

	// 10 years and a month later, nobody renewed example.com/late.
	offset.Store(int64((10*365 + 30) * 24 * time.Hour))
	r = consumer.fail("list", "example.com/late")
	mustContain(t, "expired list", r.err, "expired")
	r = c.run("add", "example.com/late", "recovered", f, "-p")
	if r.code != 0 {
		t.Fatalf("publish after expiry: %s", r)
	}
	mustContain(t, "publish after expiry", r.err, "re-signs it and renews its certificate")
	r = consumer.ok("list", "example.com/late")
	mustContain(t, "list after recovery", r.out, "recovered ", "before ")
	mustContain(t, "list soon", consumer.ok("list", "example.com/soon").out, "renewed ")
}

func TestBadServerURL(t *testing.T) {
	c := newCLI(t, "notary-server:4443")
	r := c.fail("list", gun)
	mustContain(t, "stderr", r.err, "Trust server url has to be in the form of http(s)://URL:PORT. Got: notary-server:4443")
}

// TestCAPinningAndCertDelegation: a root certificate issued by a CA
// (init --rootkey --rootcert) and pinned through trust_pinning.ca; and a
// delegation added with an X.509 certificate.
func TestCAPinningAndCertDelegation(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	ca := testpki.New(t, "test CA")
	caFile := writeFile(t, filepath.Join(dir, "ca.pem"), string(ca.PEM))

	// A root key and a CA-issued certificate for it, CN = GUN.
	priv, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	encPEM, err := keys.EncryptPEM(priv, "root", "", []byte(testPassphrases["NOTARY_ROOT_PASSPHRASE"]))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, filepath.Join(dir, "root.key"), string(encPEM))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: gun},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		// No extended key usage: v1 verifies the chain with Go's default (server
		// authentication), which a codeSigning-only certificate fails.
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, priv.CryptoSigner().Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writeFile(t, filepath.Join(dir, "root.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	c.ok("init", gun, "--rootkey", keyFile, "--rootcert", certFile, "-p")

	// A delegation keyed by a certificate (as `openssl req -x509` makes).
	dcert := ca.Issue(t, "targets/qa", testpki.Options{ClientAuth: true, SEC1Key: true})
	dcertFile := writeFile(t, filepath.Join(dir, "qa.crt"), string(dcert.CertPEM))
	r := c.ok("delegation", "add", gun, "targets/qa", dcertFile, "--paths", "qa/", "-p")
	qaID := keyIDRE.FindString(r.out)

	pinned := writeFile(t, filepath.Join(dir, "pinned.json"), fmt.Sprintf(`{"trust_pinning":{"ca":{"example.com/":%q},"disable_tofu":true}}`, caFile))
	consumer := newCLI(t, srv.URL)
	r = consumer.ok("-c", pinned, "delegation", "list", gun)
	mustContain(t, "delegation list", r.out, "targets/qa ", "qa/", qaID)

	other := testpki.New(t, "test CA")
	otherFile := writeFile(t, filepath.Join(dir, "other.pem"), string(other.PEM))
	wrong := writeFile(t, filepath.Join(dir, "wrong.json"), fmt.Sprintf(`{"trust_pinning":{"ca":{"example.com/":%q}}}`, otherFile))
	r = newCLI(t, srv.URL).fail("-c", wrong, "list", gun)
	mustContain(t, "wrong CA", r.err, "trust_pinning")
}
