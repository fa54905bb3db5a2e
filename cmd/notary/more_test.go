package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
