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

// TestCachePathCollisions is issue 10 item 6: in the v0.7.0 layout
// (tuf/<gun>/metadata/<role>.json, tuf/<gun>/changelist/) GUN X's role
// targets/metadata/root and GUN X/metadata/targets's root are one file,
// and X's role targets/changelist/x lands in GUN X/metadata/targets's
// changelist. Both directions are refused; plain GUNs and delegations keep
// the v0.7.0 paths.
func TestCachePathCollisions(t *testing.T) {
	const gun = "example.com/app"
	t.Run("GUN", func(t *testing.T) {
		for _, g := range []string{
			gun + "/metadata/targets", gun + "/changelist", gun + "/metadata",
			gun + "/Metadata/targets", gun + "/CHANGELIST/x",
		} {
			var ige *client.InvalidGUNError
			if err := client.ValidateGUN(g); !errors.As(err, &ige) || !errors.Is(err, client.ErrInvalidGUN) {
				t.Errorf("ValidateGUN(%q) = %v, want *InvalidGUNError", g, err)
			}
			if _, err := client.NewFileCache(t.TempDir(), g); err == nil {
				t.Errorf("NewFileCache(%q) succeeded", g)
			}
		}
		// A first segment (a host) and segments merely containing the
		// words are not directories of a collection.
		for _, g := range []string{"metadata/app", "changelist", "example.com/metadata-svc", "example.com/app/changelists"} {
			if err := client.ValidateGUN(g); err != nil {
				t.Errorf("ValidateGUN(%q) = %v, want nil", g, err)
			}
		}
	})
	t.Run("Role", func(t *testing.T) {
		dir := t.TempDir()
		c, err := client.NewFileCache(dir, gun)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"targets/metadata/root", "targets/changelist/x", "targets/a/Metadata/b", "targets/changelist"} {
			if err := c.Set(role, []byte("data")); err == nil {
				t.Errorf("Set(%q) succeeded", role)
			}
			if err := c.Store(role, nil, []byte("data")); err == nil {
				t.Errorf("Store(%q) succeeded", role)
			}
			if _, err := c.Load(role); !errors.Is(err, update.ErrNotFound) {
				t.Errorf("Load(%q) = %v, want ErrNotFound", role, err)
			}
		}
		// Nothing was written where another GUN's files would be.
		for _, p := range []string{"metadata/targets/metadata/root.json", "metadata/targets/changelist/x.json", "metadata/targets/changelist.json"} {
			if _, err := os.Stat(filepath.Join(dir, "tuf", filepath.FromSlash(gun), filepath.FromSlash(p))); !os.IsNotExist(err) {
				t.Errorf("%s exists (%v)", p, err)
			}
		}
	})
	t.Run("V070Layout", func(t *testing.T) {
		// A v0.7.0 trust directory, files where v0.7.0 put them, including
		// one another GUN could have left: only the GUN's own roles are
		// read.
		dir := t.TempDir()
		meta := filepath.Join(dir, "tuf", filepath.FromSlash(gun), "metadata")
		files := map[string]string{
			"root.json": "r", "targets.json": "t", "snapshot.json": "s", "timestamp.json": "ts",
			"targets/releases.json": "rel", "targets/a/b.json": "ab",
			"targets/metadata/root.json": "another GUN's root",
		}
		for name, data := range files {
			p := filepath.Join(meta, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c, err := client.NewFileCache(dir, gun)
		if err != nil {
			t.Fatal(err)
		}
		roles, err := c.Roles()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"root", "snapshot", "targets", "targets/a/b", "targets/releases", "timestamp"}
		if diff := cmp.Diff(want, roles); diff != "" {
			t.Errorf("Roles (-want +got):\n%s", diff)
		}
		for _, role := range want {
			got, err := c.Load(role)
			if err != nil || string(got) != files[role+".json"] {
				t.Errorf("Load(%s) = %q, %v", role, got, err)
			}
		}
		if err := c.Set("targets/releases", []byte("rel2")); err != nil {
			t.Errorf("Set of a v0.7.0-layout delegation: %v", err)
		}
	})
}
