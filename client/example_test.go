package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/update"
)

// exampleServer starts a notary server in-process; in real use the
// server is e.g. https://notary.example.com:4443.
func exampleServer() *httptest.Server {
	srv, err := server.New(server.Options{
		Store:  memory.New(),
		Keys:   keyservice.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	return httptest.NewServer(srv)
}

// A publisher creates a collection, signs a target into it and publishes;
// a consumer with an empty trust directory then reads it, verified.
func Example() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "notary-example")
	defer os.RemoveAll(dir)

	publisher, err := client.NewRepository("example.com/app", client.Options{
		TrustDir:  filepath.Join(dir, "publisher"),
		ServerURL: srv.URL,
		// Keys are encrypted with this passphrase. The CLI uses
		// passphrase.New: NOTARY_*_PASSPHRASE, then a terminal prompt.
		Retriever: passphrase.Constant("example passphrase"),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := publisher.Initialize(ctx, client.InitOptions{}); err != nil {
		log.Fatal(err)
	}
	target, err := client.NewTarget("v1.0", strings.NewReader("hello, world\n"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := publisher.AddTarget(ctx, target); err != nil {
		log.Fatal(err)
	}
	if err := publisher.Publish(ctx); err != nil {
		log.Fatal(err)
	}

	consumer, err := client.NewRepository("example.com/app", client.Options{
		TrustDir:  filepath.Join(dir, "consumer"),
		ServerURL: srv.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	t, err := consumer.GetTargetByName(ctx, "v1.0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes, sha256 %x…, signed by %s\n", t.Name, t.Length, t.Hashes["sha256"][:4], t.Role)
	// Output: v1.0: 13 bytes, sha256 853ff937…, signed by targets
}

// Reading through a static mirror: any folder or HTTP server holding a
// copy of the collection's files. Trust comes from the keys only: the
// consumer's first root is trusted on first use (or pinned, see
// Options.TrustPinning), and everything else must verify against it.
func ExampleMirrorRemote() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "notary-example")
	defer os.RemoveAll(dir)

	publisher, _ := client.NewRepository("example.com/app", client.Options{
		TrustDir: filepath.Join(dir, "publisher"), ServerURL: srv.URL,
		Retriever: passphrase.Constant("example passphrase"),
	})
	publisher.Initialize(ctx, client.InitOptions{})
	t, _ := client.NewTarget("v1.0", strings.NewReader("hello, world\n"), nil)
	publisher.AddTarget(ctx, t)
	if err := publisher.Publish(ctx); err != nil {
		log.Fatal(err)
	}

	// Copy the collection's files as the server serves them to a folder:
	// <mirror>/<gun>/<role>.json.
	mirror := filepath.Join(dir, "mirror")
	reader, _ := client.NewRepository("example.com/app", client.Options{TrustDir: filepath.Join(dir, "copier"), ServerURL: srv.URL})
	reader.ListTargets(ctx)
	roles, _ := reader.Cache().Roles()
	for _, role := range roles {
		data, _ := reader.Cache().Load(role)
		os.MkdirAll(filepath.Join(mirror, "example.com", "app"), 0o755)
		os.WriteFile(filepath.Join(mirror, "example.com", "app", role+".json"), data, 0o644)
	}

	remote, err := client.MirrorRemote(mirror, "example.com/app", nil)
	if err != nil {
		log.Fatal(err)
	}
	consumer, _ := client.NewRepository("example.com/app", client.Options{
		TrustDir: filepath.Join(dir, "consumer"),
		Remote:   remote, // no server at all
	})
	targets, err := consumer.ListTargets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range targets {
		fmt.Println(t.Name, t.Length, t.Role)
	}
	// Output: v1.0 13 targets
}

// Delegating part of a collection to a team's key, and publishing into the
// delegation with that key.
func ExampleRepository_AddDelegation() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "notary-example")
	defer os.RemoveAll(dir)

	repo, _ := client.NewRepository("example.com/app", client.Options{
		TrustDir: dir, ServerURL: srv.URL, Retriever: passphrase.Constant("example passphrase"),
	})
	repo.Initialize(ctx, client.InitOptions{})
	ks, _ := repo.KeyStore()
	releasesKey, _ := ks.Create(ctx, "targets/releases", "", "ecdsa")
	if err := repo.AddDelegation(ctx, "targets/releases", []keys.PublicKey{releasesKey}, []string{"releases/"}); err != nil {
		log.Fatal(err)
	}
	t, _ := client.NewTarget("releases/1.0", strings.NewReader("release"), nil)
	repo.AddTarget(ctx, t, "targets/releases")
	if err := repo.Publish(ctx); err != nil {
		log.Fatal(err)
	}
	roles, _ := repo.GetDelegationRoles(ctx)
	for _, r := range roles {
		fmt.Println(r.Name, r.Paths, r.Threshold, r.Status == update.DelegationLoaded)
	}
	targets, _ := repo.ListTargets(ctx)
	for _, t := range targets {
		fmt.Println(t.Name, t.Role)
	}
	// Output:
	// targets/releases [releases/] 1 true
	// releases/1.0 targets/releases
}
