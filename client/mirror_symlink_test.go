package client

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A directory mirror is untrusted input: a symlink in it must not make the
// client read a file outside the mirror.
func TestDirMirrorDoesNotFollowSymlinksOut(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "root.json"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	gunDir := filepath.Join(mirror, "example.com", "app")
	if err := os.MkdirAll(gunDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "root.json"), filepath.Join(gunDir, "root.json")); err != nil {
		t.Skip("no symlinks:", err)
	}
	r, err := MirrorRemote(mirror, "example.com/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := r.GetMeta(context.Background(), "root", "", 1<<20); err == nil {
		t.Fatalf("read %q through a symlink out of the mirror", data)
	}
}
