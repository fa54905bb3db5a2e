package registry

import (
	"bytes"
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

// A Referrer is a manifest that names another as its subject (OCI 1.1),
// as the referrers API (or its tag fallback) lists it.
type Referrer struct {
	Descriptor
	ArtifactType string
	Annotations  map[string]string
}

// repository is the oras repository of ref, reached as scheme says.
func (c *Client) repository(ctx context.Context, ref Reference) (*remote.Repository, error) {
	scheme, err := c.scheme(ctx, ref.Host)
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	return &remote.Repository{
		Client:             c.authClient(ref.Host),
		Reference:          orasreg.Reference{Registry: endpoint(ref.Host), Repository: ref.Repository},
		PlainHTTP:          scheme == "http",
		ManifestMediaTypes: manifestMediaTypes,
		MaxMetadataBytes:   MaxManifestSize,
		// Bounded: a referrers list is read page by page.
		ReferrerListMaxPages: 64,
	}, nil
}

func ociDescriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

// PushBlob uploads data as a blob of ref's repository, unless the registry
// has it already, and returns its descriptor.
func (c *Client) PushBlob(ctx context.Context, ref Reference, mediaType string, data []byte) (Descriptor, error) {
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return Descriptor{}, err
	}
	d := ociDescriptor(mediaType, data)
	ok, err := repo.Blobs().Exists(ctx, d)
	if err != nil {
		return Descriptor{}, c.classify(ctx, ref, err)
	}
	if !ok {
		if err := repo.Blobs().Push(ctx, d, bytes.NewReader(data)); err != nil {
			return Descriptor{}, c.classify(ctx, ref, err)
		}
	}
	return Descriptor{MediaType: mediaType, Digest: d.Digest.String(), Size: d.Size}, nil
}

// PushManifest uploads a manifest, under ref's tag if it has one (else by
// digest), and returns its descriptor. A manifest with a subject is
// pushed as a referrer: a registry with the referrers API indexes it (it
// answers with OCI-Subject); for one without, the referrers tag
// (sha256-<hex> of the subject) is updated to list it, per the OCI
// distribution spec 1.1.
func (c *Client) PushManifest(ctx context.Context, ref Reference, mediaType string, data []byte) (Descriptor, error) {
	if len(data) > MaxManifestSize {
		return Descriptor{}, &ManifestTooLargeError{Ref: ref.String(), Size: int64(len(data)), Limit: MaxManifestSize}
	}
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return Descriptor{}, err
	}
	d := ociDescriptor(mediaType, data)
	if ref.Tag != "" {
		err = repo.PushReference(ctx, d, bytes.NewReader(data), ref.Tag)
	} else {
		err = repo.Push(ctx, d, bytes.NewReader(data))
	}
	if err != nil {
		return Descriptor{}, c.classify(ctx, ref, err)
	}
	return Descriptor{MediaType: mediaType, Digest: d.Digest.String(), Size: d.Size}, nil
}

// Referrers lists the manifests whose subject is subject (in ref's
// repository) of artifactType ("" for all): through the referrers API
// where the registry has it, else through the referrers tag.
func (c *Client) Referrers(ctx context.Context, ref Reference, subject Descriptor, artifactType string) ([]Referrer, error) {
	repo, err := c.repository(ctx, ref)
	if err != nil {
		return nil, err
	}
	dg, err := digest.Parse(subject.Digest)
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error(), Err: ErrInvalidReference}
	}
	var out []Referrer
	err = repo.Referrers(ctx, ocispec.Descriptor{MediaType: subject.MediaType, Digest: dg, Size: subject.Size}, artifactType, func(page []ocispec.Descriptor) error {
		for _, d := range page {
			out = append(out, Referrer{
				Descriptor:   Descriptor{MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size},
				ArtifactType: d.ArtifactType,
				Annotations:  d.Annotations,
			})
		}
		return nil
	})
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	return out, nil
}
