package trustpin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notary-go/notary/tuf"
)

// TestGoldenV1RootChain validates every root v0.7.0 published in
// tuf/testdata/v1 as its client does: version 1 on first bootstrap (TOFU),
// then each version against its predecessor (v1 §4.5), including the
// rotation from an ecdsa-x509 to an rsa-x509 root certificate.
func TestGoldenV1RootChain(t *testing.T) {
	genTime := time.Date(2026, 11, 24, 21, 11, 1, 0, time.UTC)
	for _, repo := range []struct{ dir, gun string }{
		{"../tuf/testdata/v1/golden/server", "example.com/golden"},
		{"../tuf/testdata/v1/remote-signer/server", "example.com/remote"},
	} {
		t.Run(repo.gun, func(t *testing.T) {
			var prev *tuf.Root
			for v := 1; ; v++ {
				data, err := os.ReadFile(filepath.Join(repo.dir, fmt.Sprintf("%d.root.json", v)))
				if errors.Is(err, os.ErrNotExist) {
					if v == 1 {
						t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): goldens not generated")
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				root, env, err := tuf.ParseRoot(data)
				if err != nil {
					t.Fatal(err)
				}
				ch := mustChecker(t, Config{DisableTOFU: v > 1}, repo.gun)
				if err := ch.ValidateRoot(prev, root, env, genTime); err != nil {
					t.Fatalf("root v%d: %v", v, err)
				}
				// Pinning the certificate IDs of the root keys also works.
				rk, _ := root.RoleKeys(tuf.RoleRoot)
				pinned := mustChecker(t, Config{Certs: map[string][]string{repo.gun: rk.KeyIDs}}, repo.gun)
				if err := pinned.CheckRoot(root, env, genTime, true); err != nil {
					t.Fatalf("root v%d pinned: %v", v, err)
				}
				if err := mustChecker(t, Config{}, "example.com/other").CheckRoot(root, env, genTime, true); !errors.Is(err, ErrCommonName) {
					t.Fatalf("root v%d accepted for another GUN: %v", v, err)
				}
				prev = root
			}
		})
	}
}
