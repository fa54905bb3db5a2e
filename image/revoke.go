package image

import (
	"context"
	"errors"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
)

// RevokeOptions configure RevokeImage.
type RevokeOptions struct {
	Options
	// NoPublish stages the removals without publishing them.
	NoPublish bool
}

// Revoked says which tags' signatures were removed.
type Revoked struct {
	GUN       string
	Tags      []string
	Published bool
}

// RevokeImage is `docker trust revoke`: for host/repo:tag, the tag's
// signature is removed from every role the user can sign (see
// SignableRoles); for host/repo, every released tag's. The registry is
// not touched. A tag with no signature, or a repository with none, is a
// *NotSignedError.
func RevokeImage(ctx context.Context, ref string, opts RevokeOptions) (Revoked, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return Revoked{}, err
	}
	if r.Digest != "" {
		return Revoked{}, &UsageError{Ref: ref, Reason: "revoke takes host/repo:tag (one tag) or host/repo (all tags), not a digest"}
	}
	gun := GUN(r)
	repo, err := opts.repo(gun)
	if err != nil {
		return Revoked{}, err
	}
	notSigned := func(err error) error {
		return &NotSignedError{Ref: ref, GUN: gun, Tag: r.Tag, Roles: releasedRoles, NoTrustData: errors.Is(err, client.ErrRepositoryNotExist), Err: err}
	}
	delegations, err := repo.GetDelegationRoles(ctx)
	if err != nil {
		if errors.Is(err, client.ErrRepositoryNotExist) {
			return Revoked{}, notSigned(err)
		}
		return Revoked{}, err
	}
	var targets []client.Target
	if r.Tag != "" {
		t, err := repo.GetTargetByName(ctx, r.Tag, releasedRoles...)
		if err != nil {
			if errors.Is(err, client.ErrTargetNotFound) {
				return Revoked{}, notSigned(err)
			}
			return Revoked{}, err
		}
		targets = append(targets, t.Target)
	} else {
		ts, err := repo.ListTargets(ctx, releasedRoles...)
		if err != nil {
			return Revoked{}, err
		}
		if len(ts) == 0 {
			return Revoked{}, notSigned(nil)
		}
		for _, t := range ts {
			targets = append(targets, t.Target)
		}
	}
	out := Revoked{GUN: gun}
	for _, t := range targets {
		roles, err := signableRoles(ctx, repo, delegations, t.Name)
		if err != nil {
			return Revoked{}, err
		}
		if err := repo.RemoveTarget(ctx, t.Name, roles...); err != nil {
			return Revoked{}, err
		}
		out.Tags = append(out.Tags, t.Name)
	}
	if !opts.NoPublish {
		if err := repo.Publish(ctx); err != nil {
			return Revoked{}, err
		}
		out.Published = true
	}
	return out, nil
}
