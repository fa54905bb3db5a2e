package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
)

// pkcs11CLI is a CLI whose environment points at the SoftHSM2 token of
// scripts/softhsm.sh; the test is skipped without one, and fails without
// one on CI.
func pkcs11CLI(t *testing.T, serverURL string) *cli {
	t.Helper()
	module, token, pin := os.Getenv("NOTARY_PKCS11_MODULE"), os.Getenv("NOTARY_PKCS11_TOKEN"), os.Getenv("NOTARY_PKCS11_PIN")
	if module == "" || token == "" || pin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(`no PKCS#11 token on CI: scripts/test.sh sets one up with scripts/softhsm.sh`)
		}
		t.Skip(`no PKCS#11 token: eval "$(scripts/softhsm.sh DIR)" first`)
	}
	c := newCLI(t, serverURL)
	c.env["NOTARY_PKCS11_MODULE"] = module
	c.env["NOTARY_PKCS11_TOKEN"] = token
	c.env["NOTARY_PKCS11_PIN"] = pin
	return c
}

// diskKeys lists the keys in the trust directory's private/ (no token).
func diskKeys(t *testing.T, c *cli) map[string]keystore.KeyInfo {
	t.Helper()
	fs, err := keystore.OpenFile(c.trustDir, passphrase.Constant("unused"))
	if err != nil {
		t.Fatal(err)
	}
	infos, err := fs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]keystore.KeyInfo{}
	for _, i := range infos {
		out[i.ID] = i
	}
	return out
}

var rootKeyLine = regexp.MustCompile(`(?m)^root\s+([0-9a-f]{64})\s+pkcs11:`)

// TestPKCS11Workflow: with --key-store pkcs11 the root key is made on the
// token (never on disk), and init, publish, a targets key rotation (signed
// by the token's root key) and a delegation whose key is imported onto the
// token all work; consumers read the result.
func TestPKCS11Workflow(t *testing.T) {
	srv := newTestServer(t)
	c := pkcs11CLI(t, srv.URL)
	c.env[EnvPKCS11Roles] = "root,delegation"
	consumer := newCLI(t, srv.URL)
	const g = "example.com/hsm"
	f := writeFile(t, filepath.Join(c.home, "f.txt"), "on a token\n")

	c.ok("--key-store", "pkcs11", "init", g, "-p")
	list := c.ok("--key-store", "pkcs11", "key", "list").out
	m := rootKeyLine.FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("key list shows no root key on the token:\n%s", list)
	}
	mustContain(t, "key list", list, "pkcs11:"+c.env["NOTARY_PKCS11_TOKEN"], "/trust/private\n")
	for id, ki := range diskKeys(t, c) {
		if ki.Role == "root" {
			t.Errorf("root key %s is on disk", id)
		}
	}

	c.ok("--key-store", "pkcs11", "add", g, "one", f, "-p")
	c.ok("--key-store", "pkcs11", "key", "rotate", g, "targets")
	c.ok("--key-store", "pkcs11", "add", g, "two", f, "-p")

	// A delegation key, made as files and imported onto the token.
	base := filepath.Join(c.home, "releases")
	c.ok("key", "generate", "ecdsa", "--role", "targets/releases", "-o", base)
	c.ok("--key-store", "pkcs11", "delegation", "add", g, "targets/releases", base+".pem", "--all-paths", "-p")
	r := c.ok("--key-store", "pkcs11", "key", "import", base+"-key.pem")
	mustContain(t, "key import", r.out, "Imported targets/releases key", "onto the PKCS#11 token")
	for _, ki := range diskKeys(t, c) {
		if ki.Role == "targets/releases" {
			t.Errorf("delegation key %s was written to disk", ki.ID)
		}
	}
	c.ok("--key-store", "pkcs11", "add", g, "rel", f, "-r", "targets/releases", "-p")
	// Without the token the delegation cannot sign.
	r = c.fail("add", g, "rel2", f, "-r", "targets/releases", "-p")

	out := consumer.ok("list", g).out
	mustContain(t, "consumer list", out, "one ", "two ", "rel ")
	mustNotContain(t, "consumer list", out, "rel2 ")

	// The expiry watch sees the token's keys as held.
	rows := expiryJSON(t, c.ok("--key-store", "pkcs11", "expiry", g, "-o", "json"))
	if rr := findRow(t, rows, g, "root"); !rr.KeyHeld {
		t.Errorf("root on the token not seen as held: %+v", rr)
	}
	if rr := findRow(t, rows, g, "targets/releases"); !rr.KeyHeld {
		t.Errorf("delegation on the token not seen as held: %+v", rr)
	}
}

// TestPKCS11ImportRootKey: a root key kept in the trust directory is
// exported, removed from disk and imported onto the token (v0.7.0 moved
// root keys onto a YubiKey the same way); a new collection is initialized
// with it.
func TestPKCS11ImportRootKey(t *testing.T) {
	srv := newTestServer(t)
	c := pkcs11CLI(t, srv.URL)
	r := c.ok("key", "generate", "ecdsa")
	var id string
	for kid, ki := range diskKeys(t, c) {
		if ki.Role == "root" {
			id = kid
		}
	}
	if id == "" {
		t.Fatalf("no root key on disk after key generate: %s", r)
	}
	exported := filepath.Join(c.home, "root-export.pem")
	c.ok("key", "export", "--key", id, "-o", exported)
	c.runIn("yes\n", "key", "remove", id)
	if _, ok := diskKeys(t, c)[id]; ok {
		t.Fatal("key remove left the key")
	}

	r = c.ok("--key-store", "pkcs11", "key", "import", exported)
	mustContain(t, "import", r.out, "Imported root key "+id+" onto the PKCS#11 token")
	if _, ok := diskKeys(t, c)[id]; ok {
		t.Errorf("imported root key %s is on disk", id)
	}
	list := c.ok("--key-store", "pkcs11", "key", "list").out
	if !regexp.MustCompile(`(?m)^root\s+` + id + `\s+pkcs11:`).MatchString(list) {
		t.Errorf("key list does not show %s on the token:\n%s", id, list)
	}
	r = c.ok("--key-store", "pkcs11", "init", "example.com/imported", "--rootkey", exported, "-p")
	mustContain(t, "init", r.out, "Root key found, using: "+id)
	newCLI(t, srv.URL).ok("list", "example.com/imported")
	if _, ok := diskKeys(t, c)[id]; ok {
		t.Errorf("init --rootkey wrote the token's root key %s to disk", id)
	}
}

// TestPKCS11Errors: a wrong PIN, a missing token or missing settings fail
// with a clear error before anything is written.
func TestPKCS11Errors(t *testing.T) {
	srv := newTestServer(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"wrong PIN", map[string]string{"NOTARY_PKCS11_PIN": "0000"}, "refused the PIN"},
		{"missing token", map[string]string{"NOTARY_PKCS11_TOKEN": "no-such-token"}, `the PKCS#11 token "no-such-token" is not present`},
		{"no module", map[string]string{"NOTARY_PKCS11_MODULE": ""}, "needs the module"},
		{"no PIN, no terminal", map[string]string{"NOTARY_PKCS11_PIN": ""}, "set NOTARY_PKCS11_PIN"},
		{"bad role", map[string]string{EnvPKCS11Roles: "timestamp"}, `invalid role "timestamp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pkcs11CLI(t, srv.URL)
			for k, v := range tc.env {
				c.env[k] = v
			}
			const g = "example.com/never"
			r := c.fail("--key-store", "pkcs11", "init", g, "-p")
			mustContain(t, "stderr", r.err, tc.want)
			if _, err := os.Stat(filepath.Join(c.trustDir, "tuf", "example.com", "never")); !os.IsNotExist(err) {
				t.Errorf("init left trust data: %v", err)
			}
			if keys := diskKeys(t, c); len(keys) != 0 {
				t.Errorf("init left keys on disk: %v", keys)
			}
			if r := c.run("list", g); r.code == 0 {
				t.Errorf("the collection was published: %s", r)
			}
		})
	}
	c := newCLI(t, srv.URL)
	mustContain(t, "bad --key-store", c.fail("--key-store", "yubikey", "key", "list").err, `invalid key store "yubikey"`)
}
