package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/tuf"
)

// SignOptions configure SignImage.
type SignOptions struct {
	Options
	// Tag names the target when a reference is given by digest only
	// (host/repo@sha256:...): what was built is what gets signed, with no
	// race against a later push of the tag.
	Tag string
	// NoPublish stages the targets without publishing them.
	NoPublish bool
}

// A Signed image: the reference (with its tag), the manifest signed, and
// where.
type Signed struct {
	Ref       registry.Reference
	GUN       string
	Tag       string
	Digest    string
	Size      int64
	MediaType string
	// Platforms are an index's children, recorded in the target.
	Platforms []registry.Descriptor
	// Roles are the roles the target was staged into.
	Roles []string
	// Initialized is set when the collection was created by this call.
	Initialized bool
	// Published is set when the change was published.
	Published bool
}

// SignImage signs one image; see SignImages.
func SignImage(ctx context.Context, ref string, opts SignOptions) (Signed, error) {
	out, err := SignImages(ctx, []string{ref}, opts)
	if err != nil {
		return Signed{}, err
	}
	return out[0], nil
}

// SignImages signs images as the Docker CLI did on push: for each
// reference, the manifest the registry serves for its tag (or digest) is
// fetched and checked, then recorded as the tag's target in the signable
// roles of its collection (see the package comment), creating the
// collection first if the trust server has none. Every manifest is
// fetched before anything is staged, so a bad reference or registry
// answer stages and publishes nothing. Each collection is published once
// (unless NoPublish), with all its tags.
func SignImages(ctx context.Context, refs []string, opts SignOptions) ([]Signed, error) {
	type item struct {
		ref registry.Reference
		tag string
		m   *registry.Manifest
	}
	if opts.Registry == nil {
		return nil, errors.New("image: Options.Registry is required to sign")
	}
	items := make([]item, 0, len(refs))
	for _, s := range refs {
		ref, err := registry.ParseReference(s)
		if err != nil {
			return nil, err
		}
		tag := ref.Tag
		switch {
		case opts.Tag != "" && ref.Digest == "":
			return nil, &UsageError{Ref: s, Reason: "--tag goes with a reference by digest (host/repo@sha256:...)"}
		case opts.Tag != "" && tag != "" && tag != opts.Tag:
			return nil, &UsageError{Ref: s, Reason: fmt.Sprintf("the reference names the tag %q and --tag %q", tag, opts.Tag)}
		case opts.Tag != "":
			tag = opts.Tag
		}
		if tag == "" {
			reason := "it names no tag: write " + ref.Name() + ":<tag>"
			if ref.Digest != "" {
				reason = "a reference by digest needs --tag to name the signed tag"
			}
			return nil, &registry.ReferenceError{Ref: s, Reason: reason, Err: registry.ErrNoTag}
		}
		items = append(items, item{ref: ref, tag: tag})
	}
	for i := range items {
		m, err := opts.Registry.FetchManifest(ctx, items[i].ref)
		if err != nil {
			return nil, err
		}
		items[i].m = m
	}

	// Group by collection, in order of first appearance.
	var guns []string
	byGUN := map[string][]int{}
	for i, it := range items {
		g := GUN(it.ref)
		if _, ok := byGUN[g]; !ok {
			guns = append(guns, g)
		}
		byGUN[g] = append(byGUN[g], i)
	}
	out := make([]Signed, len(items))
	for _, gun := range guns {
		repo, err := opts.repo(gun)
		if err != nil {
			return nil, err
		}
		delegations, initialized, err := openForWrite(ctx, repo)
		if err != nil {
			return nil, err
		}
		// Every target and its roles first, so that an error stages
		// nothing for this collection.
		staged := make([]client.Target, len(byGUN[gun]))
		roles := make([][]string, len(byGUN[gun]))
		for j, i := range byGUN[gun] {
			it := items[i]
			if staged[j], err = Target(it.tag, it.m); err != nil {
				return nil, err
			}
			if roles[j], err = signableRoles(ctx, repo, delegations, it.tag); err != nil {
				return nil, err
			}
		}
		for j, i := range byGUN[gun] {
			it := items[i]
			if err := repo.AddTarget(ctx, staged[j], roles[j]...); err != nil {
				return nil, err
			}
			out[i] = Signed{
				Ref: it.ref.WithTag(it.tag), GUN: gun, Tag: it.tag, Digest: it.m.Digest, Size: it.m.Size,
				MediaType: it.m.MediaType, Platforms: it.m.Children, Roles: roles[j], Initialized: initialized,
			}
		}
		if opts.NoPublish {
			continue
		}
		if err := repo.Publish(ctx); err != nil {
			return nil, err
		}
		for _, i := range byGUN[gun] {
			out[i].Published = true
		}
	}
	return out, nil
}

// openForWrite returns the delegations of the collection, creating it
// (server-managed snapshot, as docker push did) when the trust server has
// none and none was initialized locally before (a sign with NoPublish).
func openForWrite(ctx context.Context, repo *client.Repository) ([]client.DelegationRole, bool, error) {
	delegations, err := repo.GetDelegationRoles(ctx)
	if err == nil {
		return delegations, false, nil
	}
	if !errors.Is(err, client.ErrRepositoryNotExist) {
		return nil, false, err
	}
	if _, cerr := repo.Cache().Load(tuf.RoleRoot); cerr == nil {
		// Initialized here earlier and not yet published: the next
		// publish uploads it with everything staged.
		return nil, false, nil
	}
	if _, err := repo.Initialize(ctx, client.InitOptions{ServerManagedSnapshot: true}); err != nil && !errors.Is(err, client.ErrRepositoryExists) {
		return nil, false, err
	}
	return nil, true, nil
}
