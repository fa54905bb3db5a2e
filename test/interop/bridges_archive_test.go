//go:build interop

package interop

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBridgesArchive archives our server holding several collections (one
// with a delegation), stops the server, serves the archive with a plain
// static file server, and lists every collection with our client and with
// v0.7.0's; a tampered archive is refused by both.
func TestBridgesArchive(t *testing.T) {
	v1Bin(t)
	clientOurBin(t)
	s := startServer(t, ourServer, serverOptions{})
	srv := &clientServer{Name: "our server", URL: s.URL, CAFile: s.PKI.CAFile, Delegations: true}

	pub := clientOurs(t, srv, "")
	payload := pub.file("p.txt", "payload\n")
	guns := []string{"example.com/archive/a", "example.com/archive/b", "example.com/archive/c"}
	for _, g := range guns {
		pub.must("init", g, "-p")
		pub.must("add", g, "v1", payload, "-p")
	}
	dir := t.TempDir()
	pub.must("key", "generate", "ecdsa", "--role", "targets/releases", "-o", filepath.Join(dir, "releases"))
	pub.must("delegation", "add", guns[1], "targets/releases", filepath.Join(dir, "releases.pem"), "--all-paths", "-p")
	pub.must("key", "import", filepath.Join(dir, "releases-key.pem"))
	pub.must("add", guns[1], "rel", payload, "-r", "targets/releases", "-p")

	out := filepath.Join(t.TempDir(), "archive")
	archiver := clientOurs(t, srv, "")
	res := archiver.must(append([]string{"archive", "-o", out}, guns...)...)
	clientHas(t, "archive", res, "archived "+guns[0], "archived "+guns[2], "manifest ")
	res = archiver.must("archive", "--all", "-o", out)
	clientHas(t, "archive --all", res, "archived "+guns[1]+": 0 files written")
	s.Stop()

	static := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer static.Close()
	mirror := &clientServer{Name: "static archive", URL: static.URL, CAFile: s.PKI.CAFile}

	for _, reader := range []*clientCLI{clientOurs(t, mirror, ""), clientUpstream(t, mirror, "")} {
		t.Run(reader.name, func(t *testing.T) {
			for _, g := range guns {
				clientHas(t, reader.name+" list "+g, reader.must("list", g), "v1 ")
			}
			res := reader.must("list", guns[1])
			clientHas(t, reader.name+" list delegation", res, "rel ", "targets/releases")
			got := reader.mustIn("payload\n", "verify", guns[0], "v1")
			if got != "payload\n" {
				t.Errorf("%s verify: %q", reader.name, got)
			}
		})
	}

	// Tamper with every copy of b's targets: both clients refuse it.
	tampered := filepath.Join(t.TempDir(), "tampered")
	if err := os.CopyFS(tampered, os.DirFS(out)); err != nil {
		t.Fatal(err)
	}
	copies, _ := filepath.Glob(filepath.Join(tampered, "v2", guns[1], "_trust/tuf/*targets.*json"))
	copies = append(copies, filepath.Join(tampered, "v2", guns[1], "_trust/tuf/targets.json"))
	for _, p := range copies {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), `"length":8`, `"length":9`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := httptest.NewServer(http.FileServer(http.Dir(tampered)))
	defer bad.Close()
	badMirror := &clientServer{Name: "tampered archive", URL: bad.URL, CAFile: s.PKI.CAFile}
	for _, reader := range []*clientCLI{clientOurs(t, badMirror, ""), clientUpstream(t, badMirror, "")} {
		reader.mustFail("list", guns[1])
	}
	clientHas(t, "archive verify tampered", archiver.mustFail("archive", "verify", tampered), "targets.json")
}
