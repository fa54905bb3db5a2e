package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
)

// TestPushAndReferrers: blobs and manifests go up; a manifest with a
// subject is listed by Referrers through the API where the registry has
// one, and through the referrers tag (sha256-<hex>) where not.
func TestPushAndReferrers(t *testing.T) {
	for _, api := range []bool{false, true} {
		name := map[bool]string{false: "tag fallback", true: "referrers API"}[api]
		t.Run(name, func(t *testing.T) {
			reg := registrytest.New()
			defer reg.Close()
			reg.EnablePush(api)
			c, err := registry.New(registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			ref := registry.Reference{Host: reg.Host, Repository: "team/app", Tag: "1.0"}
			mt, body := registrytest.ImageManifest(false, "one")
			subject, err := c.PushManifest(ctx, ref, mt, body)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Resolve(ctx, ref); got.Digest != subject.Digest {
				t.Fatalf("Resolve after push = %+v, want %s", got, subject.Digest)
			}
			blob, err := c.PushBlob(ctx, ref, "application/octet-stream", []byte("payload"))
			if err != nil || string(reg.Blob("team/app", blob.Digest)) != "payload" {
				t.Fatalf("PushBlob = %+v, %v", blob, err)
			}
			// Pushing it again is a no-op.
			if _, err := c.PushBlob(ctx, ref, "application/octet-stream", []byte("payload")); err != nil {
				t.Fatal(err)
			}
			empty := ocispec.DescriptorEmptyJSON
			if _, err := c.PushBlob(ctx, ref, empty.MediaType, empty.Data); err != nil {
				t.Fatal(err)
			}
			sig := ocispec.Manifest{
				MediaType:    ocispec.MediaTypeImageManifest,
				ArtifactType: "application/example",
				Config:       empty,
				Layers:       []ocispec.Descriptor{{MediaType: "application/octet-stream", Digest: digest.Digest(blob.Digest), Size: blob.Size}},
				Subject:      &ocispec.Descriptor{MediaType: subject.MediaType, Digest: digest.Digest(subject.Digest), Size: subject.Size},
				Annotations:  map[string]string{"k": "v"},
			}
			sig.SchemaVersion = 2
			data, _ := json.Marshal(sig)
			byDigest := registry.Reference{Host: reg.Host, Repository: "team/app", Digest: subject.Digest}
			if _, err := c.PushManifest(ctx, byDigest, ocispec.MediaTypeImageManifest, data); err != nil {
				t.Fatal(err)
			}
			refs, err := c.Referrers(ctx, byDigest, subject, "application/example")
			if err != nil || len(refs) != 1 || refs[0].ArtifactType != "application/example" || refs[0].Annotations["k"] != "v" {
				t.Fatalf("Referrers = %+v, %v", refs, err)
			}
			tagged := reg.Manifest("team/app", strings.Replace(subject.Digest, ":", "-", 1))
			if (tagged != nil) == api {
				t.Errorf("referrers tag present = %v with the API %v", tagged != nil, api)
			}
			if refs, err := c.Referrers(ctx, byDigest, subject, "application/other"); err != nil || len(refs) != 0 {
				t.Errorf("Referrers of another type = %+v, %v", refs, err)
			}
		})
	}
}

// TestPushManifestTooLarge: a manifest over the limit is refused before
// any request.
func TestPushManifestTooLarge(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	reg.EnablePush(false)
	c, _ := registry.New(registry.Options{})
	_, err := c.PushManifest(context.Background(), registry.Reference{Host: reg.Host, Repository: "a", Tag: "t"}, ocispec.MediaTypeImageManifest, make([]byte, registry.MaxManifestSize+1))
	var tl *registry.ManifestTooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("PushManifest = %v, want *ManifestTooLargeError", err)
	}
	if len(reg.Requests()) != 0 {
		t.Errorf("requests sent: %v", reg.Requests())
	}
}
