package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// readRemote is where reads come from: Options.Remote, else the server,
// else nothing (cache only).
func (r *Repository) readRemote() (update.Remote, string) {
	if r.opts.Remote != nil {
		return r.opts.Remote, "the mirror"
	}
	c, err := r.server()
	if err != nil {
		return nil, ""
	}
	return ServerRemote(c), r.serverName()
}

// update runs the TUF update workflow (v1 §4.4) against remote (nil: the
// cache only) and reports what it had to put up with.
func (r *Repository) update(ctx context.Context, remote update.Remote, source string) (*update.Verified, error) {
	return r.updateFor(ctx, remote, source, updateMode{})
}

// updateMode is how updateFor verifies; the zero value is a read, now.
type updateMode struct {
	// forWrite is set for a publish, which renews them: expired root
	// certificates are not warned about (see RootCertExpiredWarning).
	forWrite bool
	// at, when non-zero, is the time to verify as of instead of now (see
	// renewalTime).
	at time.Time
}

// updateFor is update, in the given mode.
func (r *Repository) updateFor(ctx context.Context, remote update.Remote, source string, mode updateMode) (*update.Verified, error) {
	pin, err := r.pinChecker()
	if err != nil {
		return nil, err
	}
	u, err := update.NewUpdater(update.Options{GUN: r.gun, Remote: remote, Cache: r.cache, Pin: pin})
	if err != nil {
		return nil, err
	}
	now := r.now()
	if !mode.at.IsZero() {
		now = mode.at
	}
	var repo *update.Verified
	if remote == nil {
		repo, err = u.Load(ctx, now)
	} else {
		repo, err = u.Update(ctx, now)
	}
	if err != nil {
		return nil, r.readError(err, source, now)
	}
	if !mode.forWrite {
		r.warnIfRootCertExpired(repo.Root, now)
	}
	if remote != nil && repo.Offline != nil {
		r.warn(&OfflineWarning{GUN: r.gun, Source: source, Err: repo.Offline})
	}
	invalid := repo.Invalid()
	for _, role := range sortedKeys(invalid) {
		r.warn(&InvalidDelegationWarning{GUN: r.gun, Role: role, Err: invalid[role]})
	}
	for _, w := range repo.Warnings {
		if repo.Offline != nil && errors.Is(w, update.ErrOffline) {
			continue // already said
		}
		var re *update.RoleError
		if errors.As(w, &re) && invalid[re.Role] != nil {
			continue // already said
		}
		var sd *update.SkippedDelegationWarning
		if errors.As(w, &sd) {
			continue // already said, as an InvalidDelegationWarning
		}
		var ct *update.CachedTimestampWarning
		if repo.Offline != nil && errors.As(w, &ct) {
			continue // already said, as an OfflineWarning
		}
		r.warn(&Notice{Err: w})
	}
	return repo, nil
}

// InvalidDelegationWarning says that a delegation's metadata was skipped
// because it is expired, under-signed or malformed (v1 treats such a role
// as absent, with a warning): its targets are not visible.
type InvalidDelegationWarning struct {
	GUN  string
	Role string
	Err  error
}

func (w *InvalidDelegationWarning) Error() string {
	return fmt.Sprintf("skipping the delegation %s of %s, whose trust data cannot be used: %v", w.Role, w.GUN, w.Err)
}

func (w *InvalidDelegationWarning) Unwrap() error { return w.Err }

// Notice is a minor event of an update that needs no action (a cached
// file that no longer verifies after a key rotation and is replaced, a
// cache write that lost a race): worth showing in verbose output only.
type Notice struct{ Err error }

func (n *Notice) Error() string { return n.Err.Error() }

func (n *Notice) Unwrap() error { return n.Err }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OfflineWarning says that a read used the cached trust data because the
// server (or mirror) could not be read: the data is verified and unexpired,
// but may not be the newest.
type OfflineWarning struct {
	GUN    string
	Source string
	Err    error
}

func (w *OfflineWarning) Error() string {
	// Both keep v0.7.0's words ("Error while downloading remote metadata,
	// using cached timestamp"), which scripts written for it match.
	if errors.Is(w.Err, update.ErrNotFound) {
		return fmt.Sprintf("%s was reached, but no longer has trust data for %s (deleted from the server?); using the trust data cached in the trust directory, which may be out of date (%s)", w.Source, w.GUN, api.TextCachedTimestamp)
	}
	return fmt.Sprintf("could not read %s from %s (%v); using the trust data cached in the trust directory, which may not be the newest (%s)", w.GUN, w.Source, rootCause(w.Err), api.TextCachedTimestamp)
}

// Unwrap returns update.ErrOffline and the cause.
func (w *OfflineWarning) Unwrap() []error { return []error{update.ErrOffline, w.Err} }

// readError turns an update failure into one a person can act on.
func (r *Repository) readError(err error, source string, now time.Time) error {
	var exp *tuf.ExpiredError
	if errors.As(err, &exp) {
		var re *update.RoleError
		cached := errors.As(err, &re) && re.Cached
		return &ExpiredMetadataError{GUN: r.gun, Role: exp.Role, Expires: exp.Expires, Now: now, Cached: cached, Err: err}
	}
	switch {
	case errors.Is(err, update.ErrRepositoryNotExist):
		return &RepositoryNotExistError{Server: source, GUN: r.gun}
	case errors.Is(err, update.ErrNoTrustData):
		if source == "" {
			return &NoTrustDataError{GUN: r.gun, Err: err}
		}
		cause := offlineCause(err)
		if r.opts.Remote == nil {
			cause = serverError(source, "fetch root.json", cause)
		}
		return &NoTrustDataError{GUN: r.gun, Server: source, Err: cause}
	}
	var off *update.OfflineError
	if errors.As(err, &off) && source != "" {
		if r.opts.Remote == nil {
			return fmt.Errorf("%w (and no usable copy is cached)", serverError(source, "fetch "+off.File, off.Err))
		}
		return fmt.Errorf("could not read %s from %s: %w (and no usable copy is cached)", off.File, source, off.Err)
	}
	return err
}

func offlineCause(err error) error {
	var off *update.OfflineError
	if errors.As(err, &off) {
		return off.Err
	}
	return err
}

// ListTargets returns every target visible in the collection, sorted by
// name, after updating from the server (or mirror, or the cache when
// neither can be read). With roles, the walk starts at those roles in turn
// instead of "targets", so they shadow it (v1 ListTargets): a name listed by
// several roles is reported once, for the role with priority.
func (r *Repository) ListTargets(ctx context.Context, roles ...string) ([]TargetWithRole, error) {
	remote, source := r.readRemote()
	repo, err := r.update(ctx, remote, source)
	if err != nil {
		return nil, err
	}
	ts := repo.ListTargets(roles...)
	out := make([]TargetWithRole, len(ts))
	for i, t := range ts {
		out[i] = TargetWithRole{Target: targetFromMeta(t.Name, t.Meta), Role: t.Role}
	}
	return out, nil
}

// GetTargetByName returns target name as the role with priority lists it
// (v1 GetTargetByName): a pre-order walk of the delegation tree from each
// of roles ("targets" when none are given). A name no role holds is a
// *TargetNotFoundError.
func (r *Repository) GetTargetByName(ctx context.Context, name string, roles ...string) (TargetWithRole, error) {
	remote, source := r.readRemote()
	repo, err := r.update(ctx, remote, source)
	if err != nil {
		return TargetWithRole{}, err
	}
	return r.lookup(repo, name, roles...)
}

// lookup is GetTargetByName in a verified state.
func (r *Repository) lookup(repo *update.Verified, name string, roles ...string) (TargetWithRole, error) {
	t, err := repo.Lookup(name, roles...)
	if err != nil {
		var nf *update.TargetNotFoundError
		if errors.As(err, &nf) {
			return TargetWithRole{}, &TargetNotFoundError{GUN: r.gun, Name: name, Roles: nf.Roles, Err: err}
		}
		return TargetWithRole{}, err
	}
	return TargetWithRole{Target: targetFromMeta(t.Name, t.Meta), Role: t.Role}, nil
}

// DelegationRole describes one delegation of the collection.
type DelegationRole struct {
	Name string
	// KeyIDs are canonical key IDs (the IDs of the private key files,
	// and what `notary delegation remove` takes), sorted.
	KeyIDs    []string
	Keys      []keys.PublicKey
	Threshold int
	// Paths are as the parent lists them.
	Paths []string
	// Status says whether its metadata was published and verified.
	Status update.DelegationStatus
}

// GetDelegationRoles lists every delegation reachable in the collection,
// nested ones included, sorted by name (v1 GetDelegationRoles). Key IDs
// are translated to canonical IDs, as v1 shows them.
func (r *Repository) GetDelegationRoles(ctx context.Context) ([]DelegationRole, error) {
	remote, source := r.readRemote()
	repo, err := r.update(ctx, remote, source)
	if err != nil {
		return nil, err
	}
	var out []DelegationRole
	for _, d := range repo.Delegations() {
		dr := DelegationRole{Name: d.Name, Threshold: d.Threshold, Paths: d.Paths, Status: d.Status}
		for _, id := range d.KeyIDs {
			k, ok := d.Keys[id]
			if !ok {
				continue
			}
			cid, err := k.CanonicalID()
			if err != nil {
				cid = id
			}
			dr.KeyIDs = append(dr.KeyIDs, cid)
			dr.Keys = append(dr.Keys, k)
		}
		sort.Strings(dr.KeyIDs)
		out = append(out, dr)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
