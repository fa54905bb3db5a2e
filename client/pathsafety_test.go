package client_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/client"
)

// TestPathSafety checks that no GUN or role name can make the client
// create or read anything outside the trust directory, including through
// symlinks planted inside it.
func TestPathSafety(t *testing.T) {
	badGUNs := []string{
		"../x", "a/../../b", "/abs", "a//b", ".", "..", "a/.", "a/..", "./a",
		"a\x00b", `a\..\b`, `..\x`, strings.Repeat("a", client.MaxGUNLen+1),
		"targets/../../x", "a/", "", "C:/x", "a\nb",
	}
	badRoles := []string{
		"../x", "targets/../../x", "targets/../root", "/root", "targets//a",
		"targets/a/", ".", "..", "root\x00", `targets\..\x`, "targets/A",
		"targets/" + strings.Repeat("a", 300), "x", "",
	}

	outside := t.TempDir()
	trust := filepath.Join(t.TempDir(), "trust")

	for _, gun := range badGUNs {
		if _, err := client.NewFileCache(trust, gun); err == nil {
			t.Errorf("NewFileCache(%q) accepted", gun)
		}
		if _, err := client.NewRepository(gun, client.Options{TrustDir: trust}); err == nil {
			t.Errorf("NewRepository(%q) accepted", gun)
		}
		if _, err := client.MirrorRemote(outside, gun, nil); err == nil {
			t.Errorf("MirrorRemote(dir, %q) accepted", gun)
		}
		if _, err := client.MirrorRemote("https://mirror.example/{gun}", gun, nil); err == nil {
			t.Errorf("MirrorRemote(url, %q) accepted", gun)
		}
	}

	c, err := client.NewFileCache(trust, "example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range badRoles {
		if err := c.Set(role, []byte("{}")); err == nil {
			t.Errorf("Set(%q) accepted", role)
		}
		if err := c.Store(role, nil, []byte("{}")); err == nil {
			t.Errorf("Store(%q) accepted", role)
		}
		if _, err := c.Load(role); err == nil {
			t.Errorf("Load(%q) accepted", role)
		}
	}

	// Symlinks inside the trust dir pointing outside: writes through them
	// must fail, and reads must not see the outside file.
	if err := os.WriteFile(filepath.Join(outside, "root.json"), []byte(`{"outside":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tuf := filepath.Join(trust, client.TUFDir)
	if err := os.MkdirAll(filepath.Join(tuf, "evil.com"), 0o700); err != nil {
		t.Fatal(err)
	}
	// tuf/evil.com/app -> outside (whole GUN dir).
	if err := os.Symlink(outside, filepath.Join(tuf, "evil.com", "app")); err != nil {
		t.Fatal(err)
	}
	// tuf/evil.com/meta/metadata -> outside (metadata dir).
	if err := os.MkdirAll(filepath.Join(tuf, "evil.com", "meta"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(tuf, "evil.com", "meta", client.MetadataDir)); err != nil {
		t.Fatal(err)
	}
	// tuf/evil.com/file/metadata/root.json -> outside/root.json (file).
	if err := os.MkdirAll(filepath.Join(tuf, "evil.com", "file", client.MetadataDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "root.json"), filepath.Join(tuf, "evil.com", "file", client.MetadataDir, "root.json")); err != nil {
		t.Fatal(err)
	}
	for _, gun := range []string{"evil.com/app", "evil.com/meta", "evil.com/file"} {
		c, err := client.NewFileCache(trust, gun)
		if err != nil {
			t.Fatal(err)
		}
		if data, err := c.Load("root"); err == nil {
			t.Errorf("%s: Load(root) read %q through a symlink", gun, data)
		}
		if gun == "evil.com/file" {
			// The metadata dir is real: a write replaces the link
			// itself (rename), never the file it points to.
			_ = c.Set("root", []byte("{}"))
		} else if err := c.Set("targets", []byte("{}")); err == nil {
			t.Errorf("%s: Set(targets) wrote through a symlink", gun)
		}
		r, err := client.NewRepository(gun, client.Options{TrustDir: trust})
		if err != nil {
			t.Fatal(err)
		}
		if gun == "evil.com/app" {
			if _, err := r.GetChangelist(); err == nil {
				t.Errorf("%s: GetChangelist opened a changelist through a symlink", gun)
			}
		}
	}

	// Nothing may have been created or changed outside.
	var got []string
	_ = filepath.WalkDir(outside, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != outside {
			got = append(got, p)
		}
		return nil
	})
	if len(got) != 1 || got[0] != filepath.Join(outside, "root.json") {
		t.Errorf("files outside the trust dir: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "root.json")); string(b) != `{"outside":true}` {
		t.Errorf("outside file changed: %q", b)
	}
	// And nothing was created beside the trust dir.
	entries, _ := os.ReadDir(filepath.Dir(trust))
	for _, e := range entries {
		if e.Name() != "trust" {
			t.Errorf("created beside the trust dir: %s", e.Name())
		}
	}
}

// TestMirrorURLEscapesGUN: a GUN with "?", "#" or "%" must stay in the
// path of an HTTP mirror's URL, never become a query, a fragment or an
// encoded "..".
func TestMirrorURLEscapesGUN(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.EscapedPath()+"|"+r.URL.RawQuery)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for _, tc := range []struct{ base, gun, want string }{
		{srv.URL + "/{gun}/tuf", "a?b/c#d", "/a%3Fb/c%23d/tuf/root.json|"},
		{srv.URL, "x/%2e%2e", "/x/%252e%252e/root.json|"},
	} {
		paths = nil
		r, err := client.MirrorRemote(tc.base, tc.gun, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = r.GetMeta(context.Background(), "root", "", 1<<20)
		if len(paths) != 1 || paths[0] != tc.want {
			t.Errorf("MirrorRemote(%q, %q) requested %v, want %s", tc.base, tc.gun, paths, tc.want)
		}
	}
}
