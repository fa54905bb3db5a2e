package tuftest_test

// The update workflow against metadata that the real Notary v0.7.0 client
// and server produced (tuf/testdata/v1, see its READMEs), served as a
// static mirror. It lives here rather than in update so that update's
// tests need no os access.

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// v1Generated is when scripts/gen-goldens.sh ran; the v1 timestamps expire
// 14 days later.
var v1Generated = time.Date(2026, 11, 24, 21, 19, 23, 0, time.UTC)

type v1Target struct {
	Name   string
	SHA256 string
	Length int64
	Role   string
}

func TestUpdaterAgainstV1Server(t *testing.T) {
	const dir = "../../tuf/testdata/v1/golden/server"
	fsys := os.DirFS(dir)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("golden data missing (scripts/gen-goldens.sh makes it): no v1 goldens: %v", err)
	}
	// `notary list example.com/golden` as the v0.7.0 CLI printed it
	want := []v1Target{
		{"a&b<c>", "20cefcd2857bba3832309121c6c47475be2f1d9a2d7ec191d3f88af873fcda3f", 29, "targets"},
		{"after-server-snapshot", "3585ff92a190a8dc23da1c2dde1cdd4662d0e0b15ae68ad04e635d9097425bd0", 13, "targets"},
		{"by-sha256-only", "ad3b5a0eaa9f730b36f08077ce24f3b216e5e93ddbfd2b14b469bc652e920487", 1234, "targets"},
		{"by-sha512-only", "", 42, "targets"},
		{"empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0, "targets"},
		{"release-1.0", "be110d6f8d61b5ddbd77bac7005548b01a51a7267183875866b264659d9d0753", 16, "targets/releases"},
		{"v1.0", "528d106c13168a016c5784500764a94fd1cbfbe0aaf6fdcc59ca63391d03abb6", 20, "targets"},
		{"ünïcødé/☃.txt", "a01d938c2bf26177bedc8872d3460289607cd17485338ac41b0fa38cd88377d3", 15, "targets"},
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	now := v1Generated.Add(time.Hour)
	tests := []struct {
		name  string
		seed  map[string][]byte // cache contents before the update
		chain []string          // versioned roots walked
	}{
		{name: "cold cache"},
		{
			// the "old consumer" of the v1 scenario: it trusted root v1 and
			// walks the rotations (ecdsa → rsa-x509 → ecdsa root keys)
			name: "old consumer walks the root chain",
			seed: map[string][]byte{
				"root":      read("1.root.json"),
				"timestamp": read("2.timestamp.json"),
				"snapshot":  read("2.snapshot.json"),
				"targets":   read("2.targets.json"),
			},
			// v1 signs each rotated root with the old and new root keys, and
			// 1 → 6 is no single rotation
			chain: []string{"2.root.json", "3.root.json", "4.root.json", "5.root.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := update.NewMemoryCache()
			for role, b := range tc.seed {
				cache.Set(role, b)
			}
			remote := &logRemote{Remote: update.DirRemote(fsys)}
			u, err := update.NewUpdater(update.Options{GUN: "example.com/golden", Remote: remote, Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			repo, err := u.Update(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			var got []v1Target
			for _, tg := range repo.ListTargets() {
				got = append(got, v1Target{tg.Name, hex.EncodeToString(tg.Meta.Hashes[tuf.SHA256]), tg.Meta.Length, tg.Role})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("targets (-v1 list +ours):\n%s", diff)
			}
			if tg, err := repo.Lookup("a&b<c>"); err != nil || tg.Role != "targets" {
				t.Errorf("Lookup(a&b<c>) = %+v, %v", tg, err)
			}
			if diff := cmp.Diff(tc.chain, remote.roots); diff != "" {
				t.Errorf("versioned roots fetched (-want +got):\n%s", diff)
			}
			if repo.Root.Version != 6 {
				t.Errorf("root version %d, want 6", repo.Root.Version)
			}
			if len(repo.Invalid()) != 0 {
				t.Errorf("invalid roles: %v", repo.Invalid())
			}
			// a second update is warm, and Load works offline
			if _, err := u.Update(context.Background(), now); err != nil {
				t.Errorf("warm update: %v", err)
			}
			if _, err := u.Load(context.Background(), now); err != nil {
				t.Errorf("Load: %v", err)
			}
			// two weeks later the v1 timestamp has expired: a freeze
			_, err = u.Update(context.Background(), v1Generated.Add(15*24*time.Hour))
			var exp *tuf.ExpiredError
			if !errors.As(err, &exp) || exp.Role != tuf.RoleTimestamp {
				t.Errorf("after 15 days: %v, want the timestamp expired", err)
			}
		})
	}
}

func TestUpdaterAgainstV1ClientSnapshot(t *testing.T) {
	const dir = "../../tuf/testdata/v1/client-snapshot/server"
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("golden data missing (scripts/gen-goldens.sh makes it): no v1 goldens: %v", err)
	}
	u, err := update.NewUpdater(update.Options{GUN: "example.com/clientsnapshot", Remote: update.DirRemote(os.DirFS(dir)), Cache: update.NewMemoryCache()})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := u.Update(context.Background(), v1Generated.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// targets.json ends with "roles":null and the snapshot no longer
	// lists targets/tmp: nothing is visible
	if got := repo.ListTargets(); len(got) != 0 {
		t.Errorf("targets %v, want none", got)
	}
	if got := repo.Roles(); !cmp.Equal(got, []string{"targets"}) {
		t.Errorf("roles %v, want [targets]", got)
	}
}

// logRemote records the versioned roots fetched through it.
type logRemote struct {
	update.Remote
	roots []string
}

func (l *logRemote) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	l.roots = append(l.roots, update.VersionedRootName(version))
	return l.Remote.GetVersionedRoot(ctx, version, maxSize)
}
