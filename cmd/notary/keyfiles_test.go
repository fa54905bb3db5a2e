package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyOutputFilesAre0600: `key export -o` and `key generate -o` write
// key material with mode 0600 even over an existing world-readable file
// (and through a symlink to one), issue 10. os.WriteFile and O_TRUNC keep
// the old mode.
func TestKeyOutputFilesAre0600(t *testing.T) {
	c := newCLI(t, "")
	c.ok("key", "generate", "--role", "targets/a")
	dir := t.TempDir()
	existing := func(t *testing.T, name string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("old"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	check := func(t *testing.T, path, want string) {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(path), st.Mode().Perm())
		}
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), want) {
			t.Errorf("%s holds %q, want %s", filepath.Base(path), b, want)
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			exp := existing(t, "export"+mode.String()+".pem", mode)
			c.ok("key", "export", "-o", exp)
			check(t, exp, "BEGIN ENCRYPTED PRIVATE KEY")

			base := filepath.Join(dir, "gen"+mode.String())
			existing(t, filepath.Base(base)+"-key.pem", mode)
			existing(t, filepath.Base(base)+".pem", mode)
			c.ok("key", "generate", "ecdsa", "--role", "targets/b", "-o", base)
			check(t, base+"-key.pem", "PRIVATE KEY")
			check(t, base+".pem", "PUBLIC KEY")

			// Through a symlink: the file it points to is replaced.
			real := existing(t, "real"+mode.String()+".pem", mode)
			link := filepath.Join(dir, "link"+mode.String()+".pem")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			c.ok("key", "export", "-o", link)
			check(t, real, "BEGIN ENCRYPTED PRIVATE KEY")
			if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the symlink given to -o was replaced (%v)", err)
			}
		})
	}
}
