package image_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// exampleSetup starts a notary server in-process and a fake registry
// (registrytest, an in-memory stand-in for a V2 registry) holding
// app:1.0; in real use they are e.g. https://notary.example.com and
// registry.example.com. It returns the options and the image's name.
func exampleSetup() (image.Options, *registrytest.Registry, func()) {
	srv, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		log.Fatal(err)
	}
	notary := httptest.NewServer(srv)
	reg := registrytest.New()
	mt, body := registrytest.ImageManifest(false, "app 1.0")
	reg.Put("team/app", "1.0", mt, body)
	dir, _ := os.MkdirTemp("", "notary-image-example")

	// Credentials come from the Docker config file, as docker login left
	// them; TLS and plain HTTP are chosen per registry host.
	creds, err := registry.DockerCredentials(registry.DockerConfigPath(os.Getenv, dir))
	if err != nil {
		log.Fatal(err)
	}
	rc, err := registry.New(registry.Options{Credentials: creds})
	if err != nil {
		log.Fatal(err)
	}
	servers := image.TrustServers{PerRegistry: map[string]string{reg.Host: notary.URL}}
	opts := image.Options{
		Registry: rc,
		Repository: func(gun string) (*client.Repository, error) {
			host, _, _ := strings.Cut(gun, "/")
			return client.NewRepository(gun, client.Options{
				TrustDir:  dir,
				ServerURL: servers.For(host),
				Retriever: passphrase.Constant("example passphrase"),
			})
		},
	}
	return opts, reg, func() { notary.Close(); reg.Close(); os.RemoveAll(dir) }
}

// Sign the manifest a registry serves for a tag, then verify it and get
// the reference to pull, pinned by digest.
func ExampleSignImage() {
	opts, reg, done := exampleSetup()
	defer done()
	ctx := context.Background()

	s, err := image.SignImage(ctx, reg.Host+"/team/app:1.0", image.SignOptions{Options: opts})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed", s.Tag, "in", s.Roles, "published:", s.Published)

	v, err := image.VerifyImage(ctx, reg.Host+"/team/app:1.0", image.VerifyOptions{Options: opts})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.TrimPrefix(v.Pinned, reg.Host+"/") == "team/app@"+s.Digest)
	// Output:
	// signed 1.0 in [targets] published: true
	// true
}

// A tag pushed again with other content no longer verifies.
func ExampleVerifyImage() {
	opts, reg, done := exampleSetup()
	defer done()
	ctx := context.Background()
	if _, err := image.SignImage(ctx, reg.Host+"/team/app:1.0", image.SignOptions{Options: opts}); err != nil {
		log.Fatal(err)
	}
	mt, body := registrytest.ImageManifest(false, "something else")
	reg.Put("team/app", "1.0", mt, body)

	_, err := image.VerifyImage(ctx, reg.Host+"/team/app:1.0", image.VerifyOptions{Options: opts})
	var mismatch *image.MismatchError
	fmt.Println(errors.As(err, &mismatch), errors.Is(err, image.ErrMismatch))

	_, err = image.VerifyImage(ctx, reg.Host+"/team/app:2.0", image.VerifyOptions{Options: opts})
	fmt.Println(errors.Is(err, image.ErrNotSigned))
	// Output:
	// true true
	// true
}

// Inspect shows what `docker trust inspect` shows, in the same schema.
func ExampleInspectImage() {
	opts, reg, done := exampleSetup()
	defer done()
	ctx := context.Background()
	if _, err := image.SignImage(ctx, reg.Host+"/team/app:1.0", image.SignOptions{Options: opts}); err != nil {
		log.Fatal(err)
	}
	info, err := image.InspectImage(ctx, reg.Host+"/team/app", image.InspectOptions{Options: opts})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range info.SignedTags {
		fmt.Println(t.SignedTag, t.Signers)
	}
	for _, k := range info.AdministrativeKeys {
		fmt.Println(k.Name, len(k.Keys))
	}
	// Output:
	// 1.0 [Repo Admin]
	// Root 1
	// Repository 1
}

// Revoke one tag (host/repo:tag) or every tag (host/repo).
func ExampleRevokeImage() {
	opts, reg, done := exampleSetup()
	defer done()
	ctx := context.Background()
	if _, err := image.SignImage(ctx, reg.Host+"/team/app:1.0", image.SignOptions{Options: opts}); err != nil {
		log.Fatal(err)
	}
	r, err := image.RevokeImage(ctx, reg.Host+"/team/app:1.0", image.RevokeOptions{Options: opts})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked", r.Tags)
	_, err = image.VerifyImage(ctx, reg.Host+"/team/app:1.0", image.VerifyOptions{Options: opts})
	fmt.Println(errors.Is(err, image.ErrNotSigned))
	// Output:
	// revoked [1.0]
	// true
}
