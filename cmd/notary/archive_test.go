package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/archive"
)

// publishTwo publishes two collections, one with a delegation, and returns
// the publisher's CLI.
func publishTwo(t *testing.T, srv *testServer) *cli {
	t.Helper()
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello world\n")
	c.ok("init", "-p", "example.com/one")
	c.ok("add", "-p", "example.com/one", "v1", hello)
	c.ok("init", "-p", "example.com/two")
	cert, _ := delegationCert(t, c, dir)
	c.ok("delegation", "add", "-p", "example.com/two", "targets/releases", cert, "--all-paths")
	c.ok("add", "-p", "example.com/two", "v2", hello, "-r", "targets/releases")
	return c
}

// delegationCert makes a delegation key in c's trust dir and returns its
// public key file and its private key file.
func delegationCert(t *testing.T, c *cli, dir string) (string, string) {
	t.Helper()
	base := filepath.Join(dir, "releases")
	c.ok("key", "generate", "ecdsa", "--role", "targets/releases", "-o", base)
	c.ok("key", "import", base+"-key.pem", "-r", "targets/releases")
	return base + ".pem", base + "-key.pem"
}

func TestArchive(t *testing.T) {
	srv := newTestServer(t)
	publishTwo(t, srv)
	out := filepath.Join(t.TempDir(), "archive")
	archiver := newCLI(t, srv.URL)

	r := archiver.ok("archive", "example.com/one", "example.com/two", "-o", out)
	mustContain(t, "archive", r.out, "archived example.com/one:", "archived example.com/two:", "manifest ")
	mustContain(t, "archive", r.err, `created the archive key`)
	for _, p := range []string{
		"v2/example.com/one/_trust/tuf/root.json",
		"v2/example.com/one/_trust/tuf/1.root.json",
		"v2/example.com/one/_trust/tuf/timestamp.json",
		"v2/example.com/one/_trust/tuf/timestamp.key",
		"v2/example.com/two/_trust/tuf/targets/releases.json",
		"v2/example.com/two/_trust/tuf/1.targets/releases.json",
		archive.ManifestName, archive.PublicKeyName,
	} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("archive lacks %s: %v", p, err)
		}
	}

	t.Run("rerun writes nothing new", func(t *testing.T) {
		r := archiver.ok("archive", "example.com/one", "example.com/two", "-o", out)
		mustContain(t, "rerun", r.out, "example.com/one: 0 files written", "example.com/two: 0 files written")
		mustNotContain(t, "rerun", r.err, "created the archive key")
	})

	// The server goes away; the archive is served by a plain static file server.
	srv.Close()
	static := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer static.Close()

	t.Run("read through a static server as -s", func(t *testing.T) {
		reader := newCLI(t, static.URL)
		r := reader.ok("list", "example.com/one")
		mustContain(t, "list one", r.out, "v1 ")
		r = reader.ok("list", "example.com/two")
		mustContain(t, "list two", r.out, "v2 ", "targets/releases")
	})
	t.Run("read as --mirror", func(t *testing.T) {
		reader := newCLI(t, "http://127.0.0.1:1") // no server at all
		r := reader.ok("--mirror", filepath.Join(out, "v2", "{gun}", "_trust", "tuf"), "list", "example.com/two")
		mustContain(t, "list two", r.out, "v2 ", "targets/releases")
	})
	t.Run("verify", func(t *testing.T) {
		keyID := readKeyID(t, out)
		r := archiver.ok("archive", "verify", out, "--key-id", keyID)
		mustContain(t, "verify", r.out, "example.com/one: ok", "example.com/two: ok", "every file intact")
		r = archiver.fail("archive", "verify", out, "--key-id", strings.Repeat("0", 64))
		mustContain(t, "verify with another key", r.err, "not "+strings.Repeat("0", 64))
	})
	t.Run("a tampered file is refused", func(t *testing.T) {
		tampered := filepath.Join(t.TempDir(), "a")
		copyDir(t, out, tampered)
		// Every copy of the delegation: plain, by hash and by version.
		copies, _ := filepath.Glob(filepath.Join(tampered, "v2/example.com/two/_trust/tuf/*targets/releases*.json"))
		if len(copies) != 3 {
			t.Fatalf("copies of releases.json: %v", copies)
		}
		for _, p := range copies {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), `"length":12`, `"length":13`, 1))
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := archiver.fail("archive", "verify", tampered, "--key-id", readKeyID(t, out))
		mustContain(t, "verify tampered", r.err, "targets/releases.json", "want ")
		_, _, verr := archive.Verify(tampered, nil)
		var fe *archive.FileError
		if !errors.As(verr, &fe) || !errors.Is(verr, archive.ErrFileMismatch) {
			t.Errorf("archive.Verify = %v, want a *FileError", verr)
		}
		reader := newCLI(t, "http://127.0.0.1:1")
		r = reader.run("--mirror", filepath.Join(tampered, "v2", "{gun}", "_trust", "tuf"), "list", "example.com/two")
		if strings.Contains(r.out, "v2 ") {
			t.Errorf("list through a tampered mirror shows the tampered target: %s", r)
		}
	})
	t.Run("a tampered manifest is refused", func(t *testing.T) {
		tampered := filepath.Join(t.TempDir(), "a")
		copyDir(t, out, tampered)
		p := filepath.Join(tampered, archive.ManifestName)
		data, _ := os.ReadFile(p)
		data = []byte(strings.Replace(string(data), "example.com/one", "example.com/0ne", 1))
		_ = os.WriteFile(p, data, 0o644)
		r := archiver.fail("archive", "verify", tampered)
		mustContain(t, "verify", r.err, "signature")
	})
}

func readKeyID(t *testing.T, dir string) string {
	t.Helper()
	_, key, err := archive.ReadManifest(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return key.ID()
}

// TestArchiveFailedCollection: a collection that does not verify is
// reported and not written; the others are.
func TestArchiveFailedCollection(t *testing.T) {
	srv := newTestServer(t)
	publishTwo(t, srv)
	out := t.TempDir()
	archiver := newCLI(t, srv.URL)
	// The archiver trusts example.com/one already; then the server serves
	// a root for it signed by another key (a new collection under the name).
	archiver.ok("list", "example.com/one")
	other := newCLI(t, srv.URL)
	other.ok("init", "-p", "example.com/three")
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		r.URL.Path = strings.Replace(r.URL.Path, "/v2/example.com/one/", "/v2/example.com/three/", 1)
		return false
	})
	r := archiver.fail("archive", "example.com/one", "example.com/two", "-o", out)
	mustContain(t, "archive", r.err, "FAILED example.com/one", "1 of 2 collections failed")
	if _, err := os.Stat(filepath.Join(out, "v2/example.com/one")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed collection was written: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "v2/example.com/two/_trust/tuf/root.json")); err != nil {
		t.Errorf("the good collection was not written: %v", err)
	}
}

// TestArchiveAll pages through the changefeed.
func TestArchiveAll(t *testing.T) {
	srv := newTestServer(t)
	publishTwo(t, srv)
	out := t.TempDir()
	archiver := newCLI(t, srv.URL)
	r := archiver.ok("archive", "--all", "--page-size", "2", "-o", out)
	mustContain(t, "archive --all", r.err, "2 collections in the changefeed")
	mustContain(t, "archive --all", r.out, "archived example.com/one:", "archived example.com/two:")
	// On a terminal, a progress line.
	archiver.tty = true
	r = archiver.ok("archive", "--all", "-o", out)
	mustContain(t, "progress", r.err, "verifying: 2/2 (100%)")
	archiver.tty = false
	archiver.fail("archive", "--all", "example.com/one", "-o", out)
	archiver.fail("archive", "example.com/one")
}

// TestAt: an archive older than its timestamp's expiry verifies with --at
// (saying it is a historical check) and fails without.
func TestAt(t *testing.T) {
	srv := newTestServer(t)
	publishTwo(t, srv)
	out := t.TempDir()
	archiver := newCLI(t, srv.URL)
	archiver.ok("archive", "example.com/one", "example.com/two", "-o", out)
	srv.Close()
	mirror := filepath.Join(out, "v2", "{gun}", "_trust", "tuf")
	archivedAt := time.Now()

	later := newCLI(t, "http://127.0.0.1:1")
	later.now = func() time.Time { return archivedAt.Add(30 * 24 * time.Hour) }
	r := later.fail("--mirror", mirror, "list", "example.com/one")
	mustContain(t, "list 30 days later", r.err, "expired")

	at := archivedAt.Add(time.Hour).UTC().Format(time.RFC3339)
	for _, args := range [][]string{
		{"list", "example.com/one"},
		{"lookup", "example.com/two", "v2"},
	} {
		t.Run(args[0], func(t *testing.T) {
			fresh := newCLI(t, "http://127.0.0.1:1")
			fresh.now = later.now
			r := fresh.ok(append([]string{"--mirror", mirror}, append(args, "--at", at)...)...)
			mustContain(t, "stderr", r.err, "historical check", "not now")
			mustContain(t, "stdout", r.out, "v")
		})
	}
	t.Run("verify", func(t *testing.T) {
		fresh := newCLI(t, "http://127.0.0.1:1")
		fresh.now = later.now
		r := fresh.runIn("hello world\n", "--mirror", mirror, "verify", "example.com/one", "v1", "--at", at)
		if r.code != 0 || r.out != "hello world\n" {
			t.Errorf("verify --at: %s", r)
		}
		mustContain(t, "stderr", r.err, "historical check")
	})
	t.Run("bad times", func(t *testing.T) {
		fresh := newCLI(t, "http://127.0.0.1:1")
		fresh.fail("--mirror", mirror, "list", "example.com/one", "--at", "yesterday")
		r := fresh.fail("--mirror", mirror, "list", "example.com/one", "--at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		mustContain(t, "future", r.err, "not in the past")
	})
	t.Run("archive verify defaults to the archive time", func(t *testing.T) {
		r := later.ok("archive", "verify", out, "--key-id", readKeyID(t, out))
		mustContain(t, "verify", r.out, "example.com/one: ok")
		r = later.fail("archive", "verify", out, "--at", later.now().Add(-time.Minute).UTC().Format(time.RFC3339))
		mustContain(t, "verify at a later time", r.err, "expired")
	})
}

// TestArchiveRootRotation: after a root rotation the archive holds every
// root version, so a reader who trusted the old root follows the rotation
// from the archive alone.
func TestArchiveRootRotation(t *testing.T) {
	srv := newTestServer(t)
	pub := newCLI(t, srv.URL)
	dir := t.TempDir()
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello world\n")
	pub.ok("init", "-p", "example.com/one")
	pub.ok("add", "-p", "example.com/one", "v1", hello)
	oldReader := newCLI(t, srv.URL)
	oldReader.ok("list", "example.com/one") // trusts root version 1
	if r := pub.runIn("yes\n", "key", "rotate", "example.com/one", "root"); r.code != 0 {
		t.Fatalf("rotate: %s", r)
	}
	pub.ok("add", "-p", "example.com/one", "v2", hello)

	out := t.TempDir()
	r := newCLI(t, srv.URL).ok("archive", "example.com/one", "-o", out)
	mustNotContain(t, "archive", r.err, "older root versions not archived")
	for _, p := range []string{"1.root.json", "2.root.json"} {
		if _, err := os.Stat(filepath.Join(out, "v2/example.com/one/_trust/tuf", p)); err != nil {
			t.Errorf("archive lacks %s: %v", p, err)
		}
	}
	srv.Close()
	r = oldReader.ok("--mirror", filepath.Join(out, "v2", "{gun}", "_trust", "tuf"), "list", "example.com/one")
	mustContain(t, "old reader", r.out, "v2 ")
}
