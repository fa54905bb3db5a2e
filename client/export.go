package client

import (
	"bytes"
	"context"
	"fmt"

	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// An Export is a collection as verified by an update, with what an
// archive of it needs: the verified files and the older roots of its
// rotation chain.
type Export struct {
	// Repo is the verified collection: its files (Repo.Bytes) and versions.
	Repo *update.Verified
	// OlderRoots holds <v>.root.json for v = 1 .. current-1, oldest first,
	// when the remote served them all and they chain, signature by
	// signature, to the current root (v1 §4.5); nil otherwise (a reader
	// whose cached root is older than the current one then cannot follow
	// the rotation from this copy, and RootChainErr says why).
	OlderRoots   [][]byte
	RootChainErr error
}

// Export updates the collection from the server (or mirror) exactly as
// ListTargets does, so what it returns is verified with the keys the trust
// directory trusts, then reads the older roots of its rotation chain.
// Delegations that could not be verified are left out (and warned about,
// as for any read).
func (r *Repository) Export(ctx context.Context) (*Export, error) {
	remote, source := r.readRemote()
	if remote == nil {
		return nil, ErrNoServer
	}
	repo, err := r.update(ctx, remote, source)
	if err != nil {
		return nil, err
	}
	if repo.Offline != nil {
		// An export must be the remote's current state, not the cache's.
		return nil, fmt.Errorf("could not read %s from %s: %w", r.gun, source, repo.Offline)
	}
	out := &Export{Repo: repo}
	out.OlderRoots, out.RootChainErr = r.olderRoots(ctx, remote, repo)
	return out, nil
}

// olderRoots fetches <1..n-1>.root.json and checks, with the update
// package's own rotation rules, that they chain to the verified current
// root: each signed by its predecessor's keys and its own.
func (r *Repository) olderRoots(ctx context.Context, remote update.Remote, repo *update.Verified) ([][]byte, error) {
	n := repo.Root.Version
	if n <= 1 {
		return nil, nil
	}
	if n > update.DefaultMaxRootRotations {
		return nil, fmt.Errorf("root version %d: more than %d rotations", n, update.DefaultMaxRootRotations)
	}
	roots := make([][]byte, 0, n-1)
	for v := int64(1); v < n; v++ {
		data, err := remote.GetVersionedRoot(ctx, v, tuf.MaxRootSize)
		if err != nil {
			return nil, fmt.Errorf("root version %d: %w", v, err)
		}
		roots = append(roots, data)
	}
	tofu, err := trustpin.Config{}.Checker(r.gun)
	if err != nil {
		return nil, err
	}
	set, err := update.NewTrustedSetFromCache(roots[0], r.now(), tofu, r.gun)
	if err != nil {
		return nil, fmt.Errorf("root version 1: %w", err)
	}
	if set.Root().Version != 1 {
		return nil, fmt.Errorf("1.root.json holds version %d", set.Root().Version)
	}
	for i, data := range roots[1:] {
		root, err := set.UpdateIntermediateRoot(data)
		if err != nil {
			return nil, fmt.Errorf("root version %d: %w", i+2, err)
		}
		if root.Version != int64(i+2) {
			return nil, fmt.Errorf("%d.root.json holds version %d", i+2, root.Version)
		}
	}
	current := repo.Bytes(tuf.RoleRoot)
	if _, err := set.UpdateIntermediateRoot(current); err != nil {
		return nil, fmt.Errorf("root version %d does not follow from %d: %w", n, n-1, err)
	}
	if !bytes.Equal(set.Bytes(tuf.RoleRoot), current) {
		return nil, fmt.Errorf("root chain does not end at the verified root")
	}
	return roots, nil
}
