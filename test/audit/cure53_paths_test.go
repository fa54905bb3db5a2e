package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
)

// TestAudit_Cure53_NOT01003_GUNPathTraversal: Cure53 2018, NOT-01-003
// (ID as this project recorded it; wording from memory, unverified):
// `notary init ../../x` wrote outside the trust directory, since a GUN
// becomes a path. Through the Go client, every GUN that could name a path
// outside <trust_dir>/tuf is refused (*client.InvalidGUNError) before
// anything is written, and nothing appears outside the trust directory;
// an ordinary GUN still initialises.
func TestAudit_Cure53_NOT01003_GUNPathTraversal(t *testing.T) {
	h := servertest.Start(t, memory.New(), server.Options{})
	base := t.TempDir()
	trustDir := filepath.Join(base, "a", "trust")
	if err := os.MkdirAll(trustDir, 0o700); err != nil {
		t.Fatal(err)
	}
	open := func(gun string) (*client.Repository, error) {
		return client.NewRepository(gun, client.Options{
			TrustDir: trustDir, ServerURL: h.HTTP.URL, HTTPClient: h.HTTP.Client(),
			Retriever: passphrase.Constant("a passphrase for the audit"),
		})
	}
	for _, gun := range []string{
		"../../x", "../x", "..", ".", "a/../../x", "a/./b", "/etc/x", "a//b", "a/", `a\..\..\x`, "a/..", "x/\x00", "C:/x", "a*b",
	} {
		t.Run(gun, func(t *testing.T) {
			repo, err := open(gun)
			if err == nil {
				_, err = repo.Initialize(context.Background(), client.InitOptions{})
			}
			var ig *client.InvalidGUNError
			if !errors.As(err, &ig) {
				t.Fatalf("GUN %q: %v, want an *client.InvalidGUNError", gun, err)
			}
		})
	}
	// Nothing was written beside the trust directory.
	entries, err := os.ReadDir(filepath.Join(base, "a"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "trust" {
			t.Errorf("written outside the trust directory: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Error("../../x was created")
	}
	repo, err := open("example.com/audit/ok")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Initialize(context.Background(), client.InitOptions{}); err != nil {
		t.Fatalf("an ordinary GUN: %v", err)
	}
}
