package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// applyChunk is how many changes are applied between progress reports.
const applyChunk = 1000

// ApplyError reports a staged change that cannot be applied: the publish
// stops and nothing is uploaded (v1 behaviour). Index is the change's
// position in the changelist, as `notary status` numbers it.
type ApplyError struct {
	Index  int
	Change changelist.Change
	Err    error
}

func (e *ApplyError) Error() string {
	c := e.Change
	what := c.Type
	if c.Path != "" {
		what += fmt.Sprintf(" %q", c.Path)
	}
	return fmt.Sprintf("cannot apply staged change #%d (%s %s on %s): %v", e.Index, c.Action, what, c.Scope, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Publish applies the staged changes to the newest trusted state of the
// collection and uploads the result to the server (v1 publish, §4.9):
//
//  1. The server is asked for root.json. If it has none, this is the first
//     publish: the collection is loaded from the cache (as Initialize left
//     it), or initialized now with new keys if nothing is cached.
//     Otherwise the collection is updated from the server (never from
//     the cache alone: publishing on stale data would only conflict).
//  2. The changelist is applied in order; the first change that fails
//     stops the publish (*ApplyError).
//  3. Changed roles are signed: root if it changed, expires within six
//     months, or on the first publish; every changed targets role; the
//     snapshot if its key is held (else the server makes it).
//  4. Everything is POSTed as one atomic update. Only on success are the
//     applied changes removed from the changelist (changes staged while
//     publishing stay) and the uploaded files written to the cache.
//
// If someone else published meanwhile the server refuses the update with
// a *PublishConflictError, and the changes stay staged for another try.
//
// Beyond v1, a publish also keeps the collection alive: self-signed root
// certificates that expire within six months are renewed (same root key)
// along with root; a root that has already expired is re-signed (the
// update is then verified as of just before it expired); and a first
// publish of an old trust directory whose root names a timestamp key the
// server does not hold moves the timestamp key to the server's.
func (r *Repository) Publish(ctx context.Context) error {
	return r.publishStaged(ctx, nil)
}

// PublishTargets publishes the staged changes together with adding every
// target of ts to each of roles, as AddTargets then Publish would, but
// without writing the new targets to the changelist first: staging
// thousands of change files costs more than the publish on file systems
// where creating a file is slow ("notary addhash --from-file -p"). If the
// publish fails the new targets are staged (as AddTargets does), so a
// later Publish can retry them; nothing is lost short of a crash during
// the call, after which the caller still holds its input.
func (r *Repository) PublishTargets(ctx context.Context, ts []Target, roles ...string) error {
	extra, err := targetChanges(ts, roles)
	if err != nil {
		return err
	}
	return r.publishStaged(ctx, extra)
}

// publishStaged publishes the staged changes followed by extra; on
// failure extra is staged for a later Publish.
func (r *Repository) publishStaged(ctx context.Context, extra []changelist.Change) (err error) {
	if len(extra) > 0 {
		defer func() {
			if err == nil {
				return
			}
			if serr := r.stage(extra...); serr != nil {
				err = errors.Join(err, fmt.Errorf("the new changes could not be staged either: %w", serr))
			}
		}()
	}
	cl, err := r.GetChangelist()
	if err != nil {
		return err
	}
	r.progress("reading staged changes", 0, 0)
	changes, err := cl.List()
	var done []string
	if err != nil {
		var ue *changelist.UnreadableError
		if !errors.As(err, &ue) {
			return err
		}
		// v1 skips entries it cannot read, and clears them with the rest.
		r.warn(fmt.Errorf("skipping unreadable staged changes: %w", err))
		for _, e := range ue.Entries {
			done = append(done, e.ID)
		}
	}
	all := changes
	if len(extra) > 0 {
		all = append(slices.Clip(changes), extra...)
	}
	if err := r.publish(ctx, all, publishOptions{}); err != nil {
		return err
	}
	for _, c := range changes {
		done = append(done, c.ID)
	}
	if len(done) > 0 {
		r.progress("clearing published changes", 0, len(done))
		if err := cl.Remove(done...); err != nil {
			r.warn(fmt.Errorf("published, but could not clear the changelist in %s: %w", cl.Location(), err))
		}
	}
	return nil
}

type publishOptions struct {
	// legacyVersions: also sign a new root with the root keys of this many
	// older root versions (-1: all), for old clients (v1 LegacyVersions).
	legacyVersions int
	// removeDropped deletes the private keys of rotated-away roles after a
	// successful publish (v1 deletes them while rotating).
	removeDropped bool
	// resignRoot re-signs root even when unchanged and not due (Resign).
	resignRoot bool
	// verifyAt, if set, is the time the collection is verified as of
	// instead of now: just before its earliest expiry, so that Resign can
	// renew roles that have already expired.
	verifyAt time.Time
}

// publish is Publish for the given changes.
func (r *Repository) publish(ctx context.Context, changes []changelist.Change, po publishOptions) error {
	c, err := r.server()
	if err != nil {
		return err
	}
	ks, err := r.KeyStore()
	if err != nil {
		return err
	}
	coll, initial, err := r.loadForPublish(ctx, c, ks, changes, po.verifyAt)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, coll, changes); err != nil {
		return err
	}
	if po.resignRoot {
		if err := coll.MarkDirty(tuf.RoleRoot); err != nil {
			return err
		}
	}
	var extra []keys.PublicKey
	if po.legacyVersions != 0 && !initial {
		if extra, err = r.legacyRootKeys(ctx, c, coll.Root().Version, po.legacyVersions); err != nil {
			return err
		}
	}
	files, coll, err := r.uploadWithRetry(ctx, c, ks, coll, changes, initial, extra)
	if err != nil {
		return err
	}
	r.afterPublish(ctx, ks, coll, files, initial, po)
	return nil
}

// loadForPublish is publish's load stage: the collection as the server
// has it, verified (a first publish, the server not knowing the GUN yet,
// starts from the cache or a new collection: initial), with root
// certificates renewed when they expire soon.
func (r *Repository) loadForPublish(ctx context.Context, c *api.Client, ks keystore.Service, changes []changelist.Change, verifyAt time.Time) (coll *collection.Collection, initial bool, err error) {
	rootData, err := c.GetMeta(ctx, tuf.RoleRoot, tuf.MaxRootSize)
	switch {
	case err == nil:
		if coll, err = r.loadPublished(ctx, c, ks, rootData, changes, verifyAt); err != nil {
			return nil, false, err
		}
	case errors.Is(err, api.ErrNotFound):
		initial = true
		if coll, err = r.loadInitial(ctx, c, ks, keys.PublicKey{}); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, serverError(r.serverName(), "fetch root.json", err)
	}
	if err := r.maybeRenewRootCerts(ctx, ks, coll); err != nil {
		return nil, false, err
	}
	return coll, initial, nil
}

// loadPublished verifies the server's collection (its root already
// fetched as rootData) for a publish, as of verifyAt (zero: now).
func (r *Repository) loadPublished(ctx context.Context, c *api.Client, ks keystore.Service, rootData []byte, changes []changelist.Change, verifyAt time.Time) (*collection.Collection, error) {
	remote := &prefetched{Remote: ServerRemote(c), root: rootData}
	repo, err := r.updateFor(ctx, remote, r.serverName(), updateMode{forWrite: true, at: verifyAt})
	if at, ok := r.renewalTime(err); ok {
		// The root (or its certificate) has expired: verify as of
		// just before, so that this publish can re-sign root and
		// renew its certificate (v0.7.0 could not recover). What a
		// current client would refuse must still be refused, or an
		// expired root would let a frozen server through (freshForWrite).
		r.warn(fmt.Errorf("the root of %s has expired (or its certificate has): this publish re-signs it and renews its certificate, which needs the root key", r.gun))
		remote = &prefetched{Remote: ServerRemote(c), root: rootData}
		repo, err = r.updateFor(ctx, remote, r.serverName(), updateMode{forWrite: true, at: at})
		if err == nil {
			if ferr := freshForWrite(repo, r.now()); ferr != nil {
				err = r.readError(ferr, r.serverName(), r.now())
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if repo.Offline != nil {
		// Publishing on cached data would be refused or, worse, undo
		// someone else's changes: the server must answer.
		return nil, serverError(r.serverName(), "fetch "+repo.Offline.File, repo.Offline.Err)
	}
	trusted := trustedFrom(repo)
	r.addInvalidForChanges(ctx, c, repo, changes, &trusted)
	return collection.FromTrusted(trusted, keyLookup{ks})
}

// uploadWithRetry is publish's sign-and-upload stage, with its one retry:
// a first publish whose root names a timestamp key the server does not
// hold. It returns the uploaded files and the collection they came from.
func (r *Repository) uploadWithRetry(ctx context.Context, c *api.Client, ks keystore.Service, coll *collection.Collection, changes []changelist.Change, initial bool, extra []keys.PublicKey) (map[string][]byte, *collection.Collection, error) {
	files, err := r.signAndUpload(ctx, c, coll, initial, extra)
	if initial && isMissingTimestampKey(err) {
		// A root from an old trust directory (or from another server)
		// names a timestamp key this server does not hold. v1 needed a
		// manual `key rotate <gun> timestamp -r` first; do it here (root
		// is re-signed with the root key) and try once more, from the
		// cached state again so that root goes up one version only.
		tsKey, kerr := c.GetKey(ctx, tuf.RoleTimestamp)
		if kerr != nil {
			return nil, nil, serverError(r.serverName(), "get the timestamp key", kerr)
		}
		r.warn(fmt.Errorf("the server does not hold the timestamp key the local root of %s lists: rotating the timestamp key to the server's (%s)", r.gun, tsKey.ID()))
		if coll, err = r.loadInitial(ctx, c, ks, tsKey); err != nil {
			return nil, nil, err
		}
		if err := r.apply(ctx, coll, changes); err != nil {
			return nil, nil, err
		}
		files, err = r.signAndUpload(ctx, c, coll, initial, extra)
	}
	if err != nil {
		return nil, nil, err
	}
	return files, coll, nil
}

// afterPublish is publish's last stage, once the server has accepted:
// cache what was uploaded and, if asked, delete rotated-away keys.
// Failures are warnings: the publish itself succeeded.
func (r *Repository) afterPublish(ctx context.Context, ks keystore.Service, coll *collection.Collection, files map[string][]byte, initial bool, po publishOptions) {
	for role, data := range files {
		if err := r.cache.Set(role, data); err != nil {
			r.warn(fmt.Errorf("published, but could not cache %s: %w", role, err))
		}
	}
	if initial {
		// A cached timestamp belongs to the history of another server (or
		// none): the server makes a new one.
		if err := r.cache.Set(tuf.RoleTimestamp, nil); err != nil {
			r.warn(err)
		}
	}
	if po.removeDropped {
		for _, k := range coll.DroppedKeys() {
			id, err := k.CanonicalID()
			if err != nil {
				continue
			}
			if err := ks.Remove(ctx, id); err != nil && !errors.Is(err, keystore.ErrNotFound) {
				r.warn(fmt.Errorf("could not delete the rotated-away key %s: %w", id, err))
			}
		}
	}
}

// loadInitial prepares a first publish: the collection as cached (or
// initialized now if nothing is), with its root certificates renewed when
// they expire soon, and the timestamp key replaced by tsKey if given.
func (r *Repository) loadInitial(ctx context.Context, c *api.Client, ks keystore.Service, tsKey keys.PublicKey) (*collection.Collection, error) {
	lookup := keyLookup{ks}
	coll, err := r.loadLocal(lookup)
	if errors.Is(err, errNoLocalData) {
		// v1: "No TUF data found locally or remotely - initializing
		// repository for the first time".
		ts, kerr := c.GetKey(ctx, tuf.RoleTimestamp)
		if kerr != nil {
			return nil, serverError(r.serverName(), "get the timestamp key", kerr)
		}
		if _, err = r.initialize(ctx, InitOptions{}, ts, keys.PublicKey{}); err != nil {
			return nil, err
		}
		coll, err = r.loadLocal(lookup)
	}
	if err != nil {
		return nil, err
	}
	if err := r.maybeRenewRootCerts(ctx, ks, coll); err != nil {
		return nil, err
	}
	if tsKey.Type != "" {
		if err := coll.ReplaceBaseKeys(tuf.RoleTimestamp, tsKey); err != nil {
			return nil, err
		}
	}
	return coll, nil
}

// uploadOrder sorts roles as root, targets, delegations, snapshot.
func uploadOrder(files map[string][]byte) []string {
	rank := func(r string) int {
		switch {
		case r == tuf.RoleRoot:
			return 0
		case r == tuf.RoleTargets:
			return 1
		case strings.HasPrefix(r, tuf.RoleTargets+"/"):
			return 2
		case r == tuf.RoleSnapshot:
			return 3
		}
		return 4
	}
	out := make([]string, 0, len(files))
	for r := range files {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := rank(out[i]), rank(out[j]); a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}

// apply applies changes in chunks, reporting progress.
func (r *Repository) apply(ctx context.Context, coll *collection.Collection, changes []changelist.Change) error {
	total := len(changes)
	for i := 0; i < total; i += applyChunk {
		j := min(i+applyChunk, total)
		if err := coll.ApplyChanges(ctx, changes[i:j]); err != nil {
			var ce *collection.ChangeError
			if errors.As(err, &ce) {
				return &ApplyError{Index: i + ce.Index, Change: ce.Change, Err: ce.Err}
			}
			return err
		}
		r.progress("applying changes", j, total)
	}
	return nil
}

// trustedFrom hands the verified state of an update to the collection.
func trustedFrom(repo *update.Verified) collection.Trusted {
	t := collection.Trusted{
		Root:          repo.Root,
		RootFile:      repo.Bytes(tuf.RoleRoot),
		Targets:       map[string]collection.TargetsFile{},
		Snapshot:      repo.Snapshot,
		SnapshotFile:  repo.Bytes(tuf.RoleSnapshot),
		Timestamp:     repo.Timestamp,
		TimestampFile: repo.Bytes(tuf.RoleTimestamp),
	}
	for _, role := range repo.Roles() {
		if tt := repo.Targets(role); tt != nil {
			t.Targets[role] = collection.TargetsFile{Targets: tt, File: repo.Bytes(role)}
		}
	}
	return t
}

// addInvalidForChanges fetches, for each delegation the update skipped as
// invalid and that a staged change witnesses or adds targets to, its
// current file: a witness makes it valid again (v1 keeps "invalid" roles
// for that), and a target change starts the role over above its version
// (collection.AddTargets), which the server requires (§4.3) after a lost
// delegation key was replaced. The file is only parsed: it is what the
// snapshot lists, and it will be re-signed or replaced.
func (r *Repository) addInvalidForChanges(ctx context.Context, c *api.Client, repo *update.Verified, changes []changelist.Change, t *collection.Trusted) {
	invalid := repo.Invalid()
	if len(invalid) == 0 {
		return
	}
	for _, ch := range changes {
		if ch.Type != changelist.TypeWitness && ch.Type != changelist.TypeTarget {
			continue
		}
		if _, ok := invalid[ch.Scope]; !ok {
			continue
		}
		if _, done := t.Invalid[ch.Scope]; done {
			continue
		}
		meta, ok := repo.Snapshot.Meta[ch.Scope]
		if !ok {
			continue
		}
		data, err := c.GetMetaByHash(ctx, ch.Scope, meta.SHA256Hex(), meta.Length)
		if err != nil || tuf.CheckFileMeta(ch.Scope, meta, data) != nil {
			continue
		}
		tt, _, err := tuf.ParseTargets(data, ch.Scope)
		if err != nil {
			continue
		}
		if t.Invalid == nil {
			t.Invalid = map[string]collection.TargetsFile{}
		}
		t.Invalid[ch.Scope] = collection.TargetsFile{Targets: tt, File: data}
	}
}

var errNoLocalData = errors.New("no trust data cached locally")

// loadLocal loads the collection as a previous Initialize (or an old
// client) left it in the cache, for a first publish (v1 bootstrapRepo):
// root and targets are required, the snapshot is used if it verifies.
// Beyond v1, which loads only the base roles, cached delegations that
// verify are loaded too, so their targets survive the first publish of an
// old trust directory. The trust decisions are update.VerifyLocal's.
func (r *Repository) loadLocal(lookup collection.KeyLookup) (*collection.Collection, error) {
	l, err := update.VerifyLocal(r.cache, r.gun, r.now())
	var re *update.RoleError
	switch {
	case errors.Is(err, update.ErrNoTrustData):
		return nil, errNoLocalData
	case errors.As(err, &re):
		return nil, fmt.Errorf("the cached %s of %s cannot be used: %w", re.Role, r.gun, re.Err)
	case err != nil:
		return nil, err
	}
	for _, w := range l.Warnings {
		r.warn(w)
	}
	t := collection.Trusted{
		Root: l.Root, RootFile: l.RootFile,
		Targets:  map[string]collection.TargetsFile{},
		Snapshot: l.Snapshot, SnapshotFile: l.SnapshotFile,
	}
	for _, role := range l.Order {
		t.Targets[role] = collection.TargetsFile{Targets: l.Targets[role], File: l.Files[role]}
	}
	return collection.FromTrusted(t, lookup)
}

// signAndUpload signs what changed and uploads it as one atomic update.
// It returns the files uploaded (none when nothing changed and the server
// signs the snapshot).
func (r *Repository) signAndUpload(ctx context.Context, c *api.Client, coll *collection.Collection, initial bool, extra []keys.PublicKey) (map[string][]byte, error) {
	r.progress("signing", 0, 0)
	files, err := coll.Sign(ctx, r.now(), collection.SignOptions{InitialPublish: initial, ExtraRootKeys: extra})
	if err != nil {
		return nil, err
	}
	for _, w := range coll.Warnings() {
		r.warn(w)
	}
	if initial {
		// Delegations loaded from the cache but not re-signed go up as
		// they are: the snapshot lists them, so the server must have them.
		for _, role := range coll.TargetsRoles() {
			if _, ok := files[role]; !ok {
				if f, ok := coll.File(role); ok {
					files[role] = f
				}
			}
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	parts := make([]api.Part, 0, len(files))
	for _, role := range uploadOrder(files) {
		parts = append(parts, api.Part{Role: role, Data: files[role]})
	}
	r.progress("uploading", 0, len(parts))
	if err := c.Publish(ctx, parts); err != nil {
		if errors.Is(err, api.ErrVersion) {
			return nil, &PublishConflictError{GUN: r.gun, Err: err}
		}
		return nil, serverError(r.serverName(), "update", err)
	}
	r.progress("uploading", len(parts), len(parts))
	return files, nil
}

// isMissingTimestampKey recognises the server's refusal of a root whose
// timestamp key it does not hold (v1: ErrBadRoot "no  timestamp keys
// exist on the server").
func isMissingTimestampKey(err error) bool { return api.IsNoTimestampKey(err) }

// legacyRootKeys returns the root keys of up to n root versions before
// current (n < 0: all of them), from <v>.root.json on the server, so a
// new root is also signed for clients that trust an old root (v1
// oldKeysForLegacyClientSupport). Versions that cannot be fetched are
// skipped.
func (r *Repository) legacyRootKeys(ctx context.Context, c *api.Client, current int64, n int) ([]keys.PublicKey, error) {
	oldest := current - int64(n)
	if n < 0 || oldest < 1 {
		oldest = 1
	}
	if current <= 1 || oldest == current {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []keys.PublicKey
	for v := current; v >= oldest; v-- {
		data, err := c.GetMetaByVersion(ctx, tuf.RoleRoot, v, tuf.MaxRootSize)
		if err != nil {
			r.warn(fmt.Errorf("could not fetch root version %d for legacy signing: %w", v, err))
			continue
		}
		old, _, err := tuf.ParseRoot(data)
		if err != nil {
			return nil, err
		}
		rk, err := old.RoleKeys(tuf.RoleRoot)
		if err != nil {
			continue
		}
		for _, id := range rk.KeyIDs {
			if k, ok := rk.Keys[id]; ok && !seen[id] {
				seen[id] = true
				out = append(out, k)
			}
		}
	}
	return out, nil
}
