package image

import (
	"context"
	"errors"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
)

// VerifyOptions configure VerifyImage.
type VerifyOptions struct {
	Options
	// Platform (os/arch[/variant]) requires the image to be a signed
	// index with a manifest for that platform; the result pins that
	// manifest.
	Platform string
	// Role requires the signature to be in this role (a delegation such
	// as "targets/releases", or "targets") instead of the Docker CLI's
	// "targets/releases, then targets".
	Role string
}

// A Verified image.
type Verified struct {
	Ref registry.Reference
	// Tag is the signed tag (for a reference by digest, the first signed
	// tag, by name, that names it or an index holding it).
	Tag string
	// Role signed the tag.
	Role string
	// SignedDigest is the tag's signed digest (an index's, with Platform
	// or when a child was asked for).
	SignedDigest string
	// Digest is what to pull: SignedDigest, or the platform's child.
	Digest string
	// Pinned is host/repo@Digest.
	Pinned string
}

func (o VerifyOptions) roles() []string {
	if o.Role != "" {
		return []string{o.Role}
	}
	return releasedRoles
}

// allowed reports whether a target found in role counts.
func (o VerifyOptions) allowed(role string) bool {
	if o.Role != "" {
		return role == o.Role
	}
	return isReleased(role)
}

// VerifyImage checks an image against its trust data. For a tag, the
// trusted target is found (targets/releases then targets, or Role), the
// registry is asked what it serves for the tag now, and the two must be
// the same manifest (digest and size). For a digest, some signed tag must
// name it, or name an index that lists it. With Platform, the signed
// image must be an index with a manifest for the platform, which is what
// Verified pins.
//
// Errors: *NotSignedError, *MismatchError, *PlatformError, the registry
// package's errors (unreachable, unauthorized, not found, ...) and the
// client package's (trust server unreachable, expired trust data, ...).
func VerifyImage(ctx context.Context, ref string, opts VerifyOptions) (Verified, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return Verified{}, err
	}
	if err := r.NeedTagOrDigest(); err != nil {
		return Verified{}, err
	}
	var plat *registry.Platform
	if opts.Platform != "" {
		p, err := registry.ParsePlatform(opts.Platform)
		if err != nil {
			return Verified{}, &UsageError{Ref: ref, Reason: err.Error()}
		}
		plat = &p
	}
	repo, err := opts.repo(GUN(r))
	if err != nil {
		return Verified{}, err
	}
	if r.Tag == "" || (r.Digest != "" && opts.Registry == nil) {
		return verifyDigest(ctx, repo, r, plat, opts)
	}
	return verifyTag(ctx, repo, r, plat, opts)
}

func notSigned(r registry.Reference, opts VerifyOptions, err error) error {
	e := &NotSignedError{Ref: r.String(), GUN: GUN(r), Tag: r.Tag, Digest: r.Digest, Roles: opts.roles(), Err: err}
	if errors.Is(err, client.ErrRepositoryNotExist) {
		e.NoTrustData = true
	}
	return e
}

// targetLookup finds a tag's target: a *client.Repository (one update
// per lookup) or a *client.State (one update for many lookups).
type targetLookup interface {
	GetTargetByName(ctx context.Context, name string, roles ...string) (client.TargetWithRole, error)
}

func verifyTag(ctx context.Context, repo targetLookup, r registry.Reference, plat *registry.Platform, opts VerifyOptions) (Verified, error) {
	if opts.Registry == nil {
		return Verified{}, errors.New("image: Options.Registry is required to verify a tag")
	}
	t, err := repo.GetTargetByName(ctx, r.Tag, opts.roles()...)
	switch {
	case errors.Is(err, client.ErrTargetNotFound), errors.Is(err, client.ErrRepositoryNotExist):
		return Verified{}, notSigned(r, opts, err)
	case err != nil:
		return Verified{}, err
	case !opts.allowed(t.Role):
		// Signed only by a role below the ones that count (the Docker CLI
		// ignores such signatures).
		return Verified{}, notSigned(r, opts, nil)
	}
	signed := targetDigest(t.Target)
	// What the registry serves for the tag now (a digest in the reference
	// is checked by FetchManifest against the bytes, and must be the
	// signed one too).
	m, err := opts.Registry.FetchManifest(ctx, registry.Reference{Host: r.Host, Repository: r.Repository, Tag: r.Tag})
	if err != nil {
		return Verified{}, err
	}
	if m.Digest != signed || m.Size != t.Length {
		return Verified{}, &MismatchError{Ref: r.String(), Role: t.Role, Signed: signed, SignedSize: t.Length, Served: m.Digest, ServedSize: m.Size}
	}
	v := Verified{Ref: r, Tag: r.Tag, Role: t.Role, SignedDigest: signed, Digest: signed}
	if r.Digest != "" && r.Digest != signed {
		// host/repo:tag@digest: the digest must be the signed index's
		// child, or the signed manifest itself.
		ch, ok := childByDigest(m.Children, r.Digest)
		if !ok {
			return Verified{}, &MismatchError{Ref: r.String(), Role: t.Role, Signed: signed, SignedSize: t.Length, Served: r.Digest}
		}
		v.Digest = ch.Digest
	}
	if plat != nil {
		if !m.IsIndex() {
			return Verified{}, &PlatformError{Ref: r.String(), Platform: plat.String(), Digest: signed, NotIndex: true}
		}
		ch, ok := m.Child(*plat)
		if !ok {
			return Verified{}, &PlatformError{Ref: r.String(), Platform: plat.String(), Digest: signed}
		}
		v.Digest = ch.Digest
	}
	v.Pinned = r.Pinned(v.Digest)
	return v, nil
}

func childByDigest(children []registry.Descriptor, d string) (registry.Descriptor, bool) {
	for _, ch := range children {
		if ch.Digest == d {
			return ch, true
		}
	}
	return registry.Descriptor{}, false
}

// verifyDigest finds a signed tag naming the digest, or an index that
// lists it, among the targets of the roles that count. No registry is
// needed: the digest names the content.
func verifyDigest(ctx context.Context, repo *client.Repository, r registry.Reference, plat *registry.Platform, opts VerifyOptions) (Verified, error) {
	targets, err := repo.ListTargets(ctx, opts.roles()...)
	if err != nil {
		if errors.Is(err, client.ErrRepositoryNotExist) {
			return Verified{}, notSigned(r, opts, err)
		}
		return Verified{}, err
	}
	var counted []client.TargetWithRole
	for _, t := range targets {
		if opts.allowed(t.Role) && (r.Tag == "" || t.Name == r.Tag) {
			counted = append(counted, t)
		}
	}
	// The digest itself signed for a tag.
	for _, t := range counted {
		signed := targetDigest(t.Target)
		if signed != r.Digest {
			continue
		}
		v := Verified{Ref: r, Tag: t.Name, Role: t.Role, SignedDigest: signed, Digest: signed}
		if plat != nil {
			idx := indexOf(t.Target)
			if idx == nil {
				m, err := fetchIndex(ctx, r, opts)
				if err != nil {
					return Verified{}, err
				}
				if m == nil {
					return Verified{}, &PlatformError{Ref: r.String(), Platform: plat.String(), Digest: signed, NotIndex: true}
				}
				idx = &Index{MediaType: m.MediaType, Manifests: m.Children}
			}
			ch, ok := (&registry.Manifest{Descriptor: registry.Descriptor{MediaType: idx.MediaType}, Children: idx.Manifests}).Child(*plat)
			if !ok {
				return Verified{}, &PlatformError{Ref: r.String(), Platform: plat.String(), Digest: signed}
			}
			v.Digest = ch.Digest
		}
		v.Pinned = r.Pinned(v.Digest)
		return v, nil
	}
	// A child of a signed index.
	for _, t := range counted {
		idx := indexOf(t.Target)
		if idx == nil {
			continue
		}
		ch, ok := childByDigest(idx.Manifests, r.Digest)
		if !ok {
			continue
		}
		if plat != nil && (ch.Platform == nil || !ch.Platform.Matches(*plat)) {
			continue
		}
		return Verified{Ref: r, Tag: t.Name, Role: t.Role, SignedDigest: targetDigest(t.Target), Digest: ch.Digest, Pinned: r.Pinned(ch.Digest)}, nil
	}
	return Verified{}, notSigned(r, opts, nil)
}

// fetchIndex reads the manifest r's digest names from the registry (its
// bytes are checked against the digest) and returns it if it is an
// index, nil if not. It is used for an index signed without children in
// its custom field (by the Docker CLI).
func fetchIndex(ctx context.Context, r registry.Reference, opts VerifyOptions) (*registry.Manifest, error) {
	if opts.Registry == nil {
		return nil, errors.New("image: Options.Registry is required to read an index the trust data does not describe")
	}
	m, err := opts.Registry.FetchManifest(ctx, registry.Reference{Host: r.Host, Repository: r.Repository, Digest: r.Digest})
	if err != nil {
		return nil, err
	}
	if !m.IsIndex() {
		return nil, nil
	}
	return m, nil
}
