package audit

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
)

// privateAncestor reports whether a folder between p (exclusive) and
// trustDir (inclusive) has no group or other permission bits.
func privateAncestor(t *testing.T, trustDir, p string) bool {
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 == 0 {
			return true
		}
		if d == trustDir || d == filepath.Dir(d) {
			return false
		}
	}
}

// TestAudit_NCC2015_7_TrustDirFileModes: NCC 2015 finding 7 (private key
// files and their folders were created with modes that depended on the
// user's umask, world-readable under a permissive one). Through the Go
// client (key store, cache, changelist), with the umask set to 022 and to
// 000, and with the trust directory and its folders already there with
// loose modes (0777 folders), every file of the trust directory is 0600
// after init, staging and publish, every folder it created is 0700, and
// the trust directory itself, private/, tuf/ and the changelist folder are
// 0700 even when they existed looser (a pre-existing folder below them may
// keep its mode: no other user can reach it).
//
// The umask is process-wide: this test is serial (no test in this package
// calls t.Parallel) and restores it.
func TestAudit_NCC2015_7_TrustDirFileModes(t *testing.T) {
	h := servertest.Start(t, memory.New(), server.Options{})
	for _, umask := range []int{0o022, 0o000} {
		for _, preexisting := range []bool{false, true} {
			name := fmt.Sprintf("umask %03o", umask)
			if preexisting {
				name += " loose existing dirs"
			}
			t.Run(name, func(t *testing.T) {
				old := syscall.Umask(umask)
				t.Cleanup(func() { syscall.Umask(old) })

				trustDir := filepath.Join(t.TempDir(), "trust")
				gun := fmt.Sprintf("example.com/audit/modes-%03o-%v", umask, preexisting)
				if preexisting {
					for _, d := range []string{"", "private", "tuf", filepath.Join("tuf", filepath.FromSlash(gun), "metadata"), filepath.Join("tuf", filepath.FromSlash(gun), "changelist")} {
						p := filepath.Join(trustDir, d)
						if err := os.MkdirAll(p, 0o777); err != nil {
							t.Fatal(err)
						}
						if err := os.Chmod(p, 0o777); err != nil {
							t.Fatal(err)
						}
					}
				}
				ctx := context.Background()
				repo, err := client.NewRepository(gun, client.Options{
					TrustDir: trustDir, ServerURL: h.HTTP.URL, HTTPClient: h.HTTP.Client(),
					Retriever: passphrase.Constant("a passphrase for the audit"),
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := repo.Initialize(ctx, client.InitOptions{}); err != nil {
					t.Fatalf("Initialize: %v", err)
				}
				tg, err := client.NewTarget("v1", strings.NewReader("v1"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := repo.AddTarget(ctx, tg); err != nil {
					t.Fatal(err)
				}
				if err := repo.Publish(ctx); err != nil {
					t.Fatalf("Publish: %v", err)
				}
				tg2, _ := client.NewTarget("v2", strings.NewReader("v2"), nil)
				if err := repo.AddTarget(ctx, tg2); err != nil { // a staged change stays on disk
					t.Fatal(err)
				}
				if _, err := repo.ListTargets(ctx); err != nil {
					t.Fatal(err)
				}

				var files, dirs int
				err = filepath.WalkDir(trustDir, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					st, err := os.Lstat(p)
					if err != nil {
						return err
					}
					rel, _ := filepath.Rel(trustDir, p)
					switch {
					case d.IsDir():
						dirs++
						got := st.Mode().Perm()
						if got == 0o700 {
							break
						}
						// A folder that was already there may keep its mode
						// if a private folder above it (the trust directory
						// itself at least) keeps other users out; the trust
						// directory, private/, tuf/ and the changelist may not.
						strict := rel == "." || rel == "private" || rel == "tuf" || filepath.Base(rel) == "changelist"
						if !preexisting || strict || !privateAncestor(t, trustDir, p) {
							t.Errorf("folder %s: mode %04o, want 0700", rel, got)
						}
					default:
						files++
						if got := st.Mode().Perm(); got != 0o600 {
							t.Errorf("file %s: mode %04o, want 0600", rel, got)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if files < 5 || dirs < 5 {
					t.Fatalf("only %d files and %d folders under the trust directory", files, dirs)
				}
			})
		}
	}
}
