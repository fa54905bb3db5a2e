package image

import (
	"context"
	"errors"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
)

// VerifyImages is VerifyImage for many tags (host/repo:tag, no digests,
// no platform) with one trust data update per repository instead of one
// per tag: each tag is then checked against that verified state and
// against what the registry serves now, by the same rules. The results
// are in refs' order: a Verified, or the error VerifyImage would return.
// A repository whose trust data cannot be updated fails all its tags.
func VerifyImages(ctx context.Context, refs []string, opts VerifyOptions) ([]Verified, []error) {
	out := make([]Verified, len(refs))
	errs := make([]error, len(refs))
	if opts.Platform != "" {
		for i := range refs {
			errs[i] = &UsageError{Ref: refs[i], Reason: "VerifyImages does not take a platform"}
		}
		return out, errs
	}
	states := map[string]*client.State{}
	stateErrs := map[string]error{}
	for i, ref := range refs {
		r, err := registry.ParseReference(ref)
		if err == nil && (r.Tag == "" || r.Digest != "") {
			err = &UsageError{Ref: ref, Reason: "VerifyImages takes host/repo:tag references"}
		}
		if err != nil {
			errs[i] = err
			continue
		}
		gun := GUN(r)
		st, ok := states[gun]
		if !ok && stateErrs[gun] == nil {
			repo, err := opts.repo(gun)
			if err == nil {
				st, err = repo.State(ctx)
			}
			if err != nil {
				stateErrs[gun] = err
			} else {
				states[gun] = st
			}
		}
		if err := stateErrs[gun]; err != nil {
			if errors.Is(err, client.ErrRepositoryNotExist) {
				err = notSigned(r, opts, err)
			}
			errs[i] = err
			continue
		}
		out[i], errs[i] = verifyTag(ctx, st, r, nil, opts)
	}
	return out, errs
}
