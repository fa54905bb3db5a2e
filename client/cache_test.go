package client_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/update"
)

func TestFileCache(t *testing.T) {
	dir := t.TempDir()
	c, err := client.NewFileCache(dir, "example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load("root"); !errors.Is(err, update.ErrNotFound) {
		t.Fatalf("empty cache Load = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tuf")); !os.IsNotExist(err) {
		t.Errorf("Load created directories: %v", err)
	}

	// Compare-and-swap.
	if err := c.Store("root", []byte("x"), []byte("v1")); !errors.Is(err, update.ErrWriteConflict) {
		t.Errorf("Store with wrong old = %v", err)
	}
	if err := c.Store("root", nil, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Store("root", nil, []byte("v2")); !errors.Is(err, update.ErrWriteConflict) {
		t.Errorf("Store over an existing file with old=nil = %v", err)
	}
	if err := c.Store("root", []byte("v1"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Load("root"); string(got) != "v2" {
		t.Errorf("Load = %q", got)
	}
	if err := c.Store("targets/releases", nil, []byte("d")); err != nil {
		t.Fatal(err)
	}
	roles, err := c.Roles()
	if err != nil || !cmp.Equal(roles, []string{"root", "targets/releases"}) {
		t.Errorf("Roles = %v, %v", roles, err)
	}
	if err := c.Store("root", []byte("v2"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load("root"); !errors.Is(err, update.ErrNotFound) {
		t.Errorf("Load after delete = %v", err)
	}

	// v1 layout and modes.
	p := filepath.Join(dir, "tuf", "example.com", "app", "metadata", "targets", "releases.json")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v", p, st, err)
	}
	for _, d := range []string{"tuf", "tuf/example.com", "tuf/example.com/app", "tuf/example.com/app/metadata", "tuf/example.com/app/metadata/targets"} {
		st, err := os.Stat(filepath.Join(dir, d))
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, st, err)
		}
	}

	// Role names that could escape are refused.
	for _, role := range []string{"../root", "targets/../../x", "/etc/x", "targets/A", "nope"} {
		if err := c.Store(role, nil, []byte("x")); err == nil {
			t.Errorf("Store(%q) succeeded", role)
		}
		if _, err := c.Load(role); err == nil {
			t.Errorf("Load(%q) succeeded", role)
		}
	}

	// A symbolic link cannot lead the cache outside the trust directory.
	outside := t.TempDir()
	meta := filepath.Join(dir, "tuf", "example.com", "app", "metadata")
	if err := os.Symlink(outside, filepath.Join(meta, "targets", "evil")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(outside, "x.json"), filepath.Join(meta, "snapshot.json"))
	if err := c.Store("targets/evil/x", nil, []byte("x")); err == nil {
		t.Error("Store through a symlink succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "x.json")); err == nil {
		t.Error("a file was written outside the trust directory")
	}

	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(meta); !os.IsNotExist(err) {
		t.Errorf("Clear left %s: %v", meta, err)
	}
}
