package update

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// DefaultMaxRootRotations bounds the versions a root rotation chain may
// walk in one update, so that a root.json claiming a huge version cannot
// make the client fetch forever (go-tuf MaxRootRotations is 256; Notary
// collections rotate rarely, a generous bound costs nothing).
const DefaultMaxRootRotations = 1024

// Options configure an Updater.
type Options struct {
	// GUN names the collection. Required.
	GUN string
	// Remote serves the collection's files. With a nil Remote only Load
	// works and Update behaves like Load.
	Remote Remote
	// Cache holds the files last trusted. Required; NewMemoryCache gives
	// one that lives as long as the process.
	Cache Cache
	// Pin checks every root downloaded: the first one when nothing is
	// cached, and each new root of a rotation (certs and ca pins apply;
	// TOFU passes once a root is trusted, v1 §4.5, §4.8). A cached root is
	// not checked against it: it is the pin, and the expiry of its
	// certificates is not checked either (v1 §3.5). Nil means trust on
	// first use. Its GUN must be GUN.
	Pin *trustpin.Checker
	// MaxRootRotations bounds the root versions one update may walk
	// through; 0 means DefaultMaxRootRotations.
	MaxRootRotations int64
}

// An Updater runs the Notary v1 client update workflow (v1 §4.4,
// client/tufclient.go) for one collection: it bootstraps trust from the
// cached root (or a pinned first download), fetches the timestamp, then
// the snapshot, targets and delegations it names by hash, and returns the
// verified collection. It holds no state of its own between calls beyond
// its options, so it is safe for concurrent use as long as its Remote and
// Cache are; the Cache's compare-and-swap keeps concurrent updates from
// rolling each other back.
type Updater struct {
	opts Options
}

// NewUpdater checks opts and returns an Updater.
func NewUpdater(opts Options) (*Updater, error) {
	if opts.GUN == "" {
		return nil, errors.New("update: Options.GUN is required")
	}
	if opts.Cache == nil {
		return nil, errors.New("update: Options.Cache is required")
	}
	if opts.Pin != nil && opts.Pin.GUN() != opts.GUN {
		return nil, fmt.Errorf("update: trust pinning checker is for %q, not %q", opts.Pin.GUN(), opts.GUN)
	}
	if opts.MaxRootRotations <= 0 {
		opts.MaxRootRotations = DefaultMaxRootRotations
	}
	return &Updater{opts: opts}, nil
}

// Update brings the collection up to date from the remote and returns it,
// verified at time now:
//
//  1. Root: the cached root is trusted as it is (expired is allowed, and
//     then the newest root is fetched at once); with nothing cached,
//     root.json (at most tuf.MaxRootSize) is checked against Pin and cached. A
//     404 there is ErrRepositoryNotExist.
//  2. Timestamp: timestamp.json is always fetched (at most
//     tuf.MaxTimestampSize). If the remote is unreachable or has none, a cached
//     timestamp that is still valid is used instead, and Verified.Offline says
//     so.
//  3. Snapshot: the cached copy when its bytes match the timestamp's
//     hashes, else snapshot.<sha256>.json, at most the listed length.
//  4. Targets, then delegations in pre-order, children in array order, for
//     the roles the snapshot lists: from the cache when the bytes match,
//     else <role>.<sha256>.json. A delegation that is expired, under-signed
//     or malformed is skipped and recorded (Verified.Invalid); top-level
//     targets failing is fatal, as is any hash mismatch, rollback or
//     download failure.
//
// Every file is checked against its parent's hashes, its role's keys and
// threshold, its expiry and the version floor of its cached copy. Files
// that verify are written to the Cache. If steps 2-4 fail, the root is
// updated once through its rotation chain and the steps are retried once
// (v1 §4.4 step 6); a failure that comes only from an unreachable remote
// is not retried. When nothing changed, only timestamp.json is fetched.
func (u *Updater) Update(ctx context.Context, now time.Time) (*Verified, error) {
	remote := u.opts.Remote
	if remote == nil {
		remote = cacheOnly{}
	}
	return u.run(ctx, now, remote)
}

// Load returns the collection as cached, verified at time now, without
// contacting the remote: for reading (listing targets) when the server is
// unreachable. The cached timestamp, snapshot, targets and delegations
// must all be present, match each other's hashes and be unexpired (v1
// §4.7: a cached timestamp is used only while valid); Verified.Offline is
// always set. Nothing cached is ErrNoTrustData.
func (u *Updater) Load(ctx context.Context, now time.Time) (*Verified, error) {
	return u.run(ctx, now, cacheOnly{})
}

// errCacheOnly is what the stand-in remote of Load answers.
var errCacheOnly = errors.New("loading from the cache only")

type cacheOnly struct{}

func (cacheOnly) GetMeta(context.Context, string, string, int64) ([]byte, error) {
	return nil, errCacheOnly
}

func (cacheOnly) GetVersionedRoot(context.Context, int64, int64) ([]byte, error) {
	return nil, errCacheOnly
}

// A session is the state of one Update or Load call (Updater.run).
type session struct {
	u      *Updater
	ctx    context.Context
	now    time.Time
	remote Remote

	cache    map[string][]byte // what the Cache holds, as far as this run knows (nil: nothing)
	byHash   map[string][]byte // hash-addressed files fetched in this run (immutable, reused on retry)
	read     map[string]bool   // roles read from the Cache already
	warnings []error
	offline  *OfflineError
	invalid  map[string]error
	floored  map[string]bool // roles whose cached copy was tried as a floor in the current set
}

func (u *Updater) run(ctx context.Context, now time.Time, remote Remote) (*Verified, error) {
	r := &session{
		u: u, ctx: ctx, now: now, remote: remote,
		cache: map[string][]byte{}, read: map[string]bool{}, byHash: map[string][]byte{},
	}
	set, err := r.bootstrap()
	if err != nil {
		return nil, err
	}
	r.floored = map[string]bool{}
	if set.Root().Expires.Before(now) {
		// v1 §4.4 step 1: an expired cached root is replaced first. The
		// cached copies are recorded as floors before, so that a rotation
		// of their keys can drop them (TUF 5.3.11).
		if err := r.setBaseFloors(set); err != nil {
			return nil, err
		}
		if err := r.updateRoot(set); err != nil {
			if errors.Is(err, ErrOffline) {
				exp := &tuf.ExpiredError{Role: tuf.RoleRoot, Expires: set.Root().Expires, Now: now}
				return nil, &RoleError{Role: tuf.RoleRoot, Cached: true,
					Err: fmt.Errorf("%w; and the newest root cannot be fetched: %w", exp, err)}
			}
			return nil, err
		}
	}
	before := len(r.warnings)
	err = r.attempt(set)
	if _, cacheOnly := remote.(cacheOnly); err != nil && !cacheOnly && retryable(err) {
		// v1 §4.4 step 6: update the root once and retry once, from a set
		// that holds only the trusted root.
		r.warnings = r.warnings[:before]
		set, err = r.retry(set, err)
	}
	if err != nil {
		return nil, err
	}
	return r.result(set), nil
}

func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// An unreachable remote will not serve a root either.
	return !errors.Is(err, ErrOffline)
}

func (r *session) retry(failed *TrustedSet, cause error) (*TrustedSet, error) {
	set, err := NewTrustedSetFromCache(failed.Bytes(tuf.RoleRoot), r.now, r.u.opts.Pin, r.u.opts.GUN)
	if err != nil {
		return nil, &RetryError{Err: err, Cause: cause}
	}
	r.invalid, r.offline, r.floored = nil, nil, map[string]bool{}
	r.warn(&RetryWarning{Err: cause})
	if err := r.setBaseFloors(set); err != nil {
		return nil, &RetryError{Err: err, Cause: cause}
	}
	if err := r.updateRoot(set); err != nil {
		return nil, &RetryError{Err: err, Cause: cause}
	}
	if err := r.attempt(set); err != nil {
		return nil, err
	}
	return set, nil
}

// bootstrap starts the TrustedSet from the cached root, or from a first
// download checked against the pin (v1 §4.4 step 1).
func (r *session) bootstrap() (*TrustedSet, error) {
	opts := r.u.opts
	cached, err := r.cached(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	if cached != nil {
		// The cached root pins trust: if it does not load, fail hard (v1).
		set, err := NewTrustedSetFromCache(cached, r.now, opts.Pin, opts.GUN)
		if err != nil {
			return nil, &RoleError{Role: tuf.RoleRoot, Cached: true, Err: err}
		}
		return set, nil
	}
	file := FileName(tuf.RoleRoot, "")
	data, err := r.fetch(tuf.RoleRoot, "", tuf.MaxRootSize)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, &RoleError{Role: tuf.RoleRoot, File: file, Err: fmt.Errorf("%w: %w", ErrRepositoryNotExist, err)}
	case errors.Is(err, ErrOffline):
		return nil, &RoleError{Role: tuf.RoleRoot, File: file, Err: fmt.Errorf("%w: %w", ErrNoTrustData, err)}
	case err != nil:
		return nil, &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
	}
	set, err := NewTrustedSet(data, r.now, opts.Pin, opts.GUN)
	if err != nil {
		return nil, &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
	}
	r.store(tuf.RoleRoot, data)
	return set, nil
}

// setBaseFloors records the cached timestamp, snapshot and targets as
// version floors before a root update.
func (r *session) setBaseFloors(set *TrustedSet) error {
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets} {
		if err := r.floor(set, role); err != nil {
			return err
		}
	}
	return nil
}

// floor records the cached copy of role, if any, as its version floor in
// set, once per set (v1 §4.7: a download must not be older than the cached
// copy). A copy that does not verify with the keys now trusted for role
// sets none: after a rotation, copies signed by the old keys are
// forgotten. Callers skip this when the cached copy is the very file about
// to be loaded, which cannot be below itself.
func (r *session) floor(set *TrustedSet, role string) error {
	if r.floored[role] {
		return nil
	}
	r.floored[role] = true
	data, err := r.cached(role)
	if err != nil || data == nil {
		return err
	}
	if _, err := set.SetCached(role, data); err != nil {
		r.warn(&RoleError{Role: role, Cached: true, Err: fmt.Errorf("ignored as a version floor: %w", err)})
	}
	return nil
}

// updateRoot brings set's root to the newest version the remote has,
// through the rotation chain (v1 §4.5): root.json is fetched; if the
// trusted root does not vouch for it directly, <v>.root.json is fetched
// for every version in between and each is checked against the previous
// one; their certificates may have expired, the final root's must not
// (v1 §3.5, §4.5), nor may the final root (TUF 5.3.10). It is cached,
// and cached timestamp, snapshot or targets whose keys were rotated are
// deleted (TUF 5.3.11).
func (r *session) updateRoot(set *TrustedSet) error {
	had := map[string]bool{}
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets} {
		_, had[role] = set.Floor(role)
	}
	from := set.Root().Version
	file := FileName(tuf.RoleRoot, "")
	data, err := r.fetch(tuf.RoleRoot, "", tuf.MaxRootSize)
	if errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("%w: %w", ErrRepositoryNotExist, err)
	}
	if err != nil {
		return &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
	}
	if !bytes.Equal(data, set.Bytes(tuf.RoleRoot)) {
		newest, _, err := tuf.ParseRoot(data)
		if err != nil {
			return &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
		}
		to := newest.Version
		if _, err := set.UpdateRoot(data); err != nil {
			if !errors.Is(err, tuf.ErrRootRotation) || to <= from+1 {
				return &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
			}
			if err := r.walkChain(set, from, to, data); err != nil {
				return err
			}
		}
	}
	if err := tuf.CheckExpiry(tuf.RoleRoot, set.Root().Expires, r.now); err != nil {
		return &RoleError{Role: tuf.RoleRoot, File: file, Err: err}
	}
	r.store(tuf.RoleRoot, set.Bytes(tuf.RoleRoot))
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets} {
		if _, still := set.Floor(role); had[role] && !still {
			r.warn(&KeysRotatedWarning{Role: role, RootVersion: set.Root().Version})
			r.store(role, nil)
		}
	}
	return nil
}

// walkChain applies <v>.root.json for v in (from, to), then newest.
func (r *session) walkChain(set *TrustedSet, from, to int64, newest []byte) error {
	if to-from > r.u.opts.MaxRootRotations {
		return &RootChainError{From: from, To: to, At: from + 1,
			Err: fmt.Errorf("root.json claims version %d, more than %d rotations ahead", to, r.u.opts.MaxRootRotations)}
	}
	for v := from + 1; v < to; v++ {
		file := VersionedRootName(v)
		data, err := r.classify(file, tuf.MaxRootSize)(r.remote.GetVersionedRoot(r.ctx, v, tuf.MaxRootSize))
		if err != nil {
			return &RootChainError{From: from, To: to, At: v, Err: &RoleError{Role: tuf.RoleRoot, File: file, Err: err}}
		}
		root, _, err := tuf.ParseRoot(data)
		if err == nil && root.Version != v {
			err = fmt.Errorf("%s holds root version %d", file, root.Version)
		}
		if err == nil {
			_, err = set.UpdateIntermediateRoot(data) // expired certificates allowed (v1 §4.5)
		}
		if err != nil {
			return &RootChainError{From: from, To: to, At: v, Err: &RoleError{Role: tuf.RoleRoot, File: file, Err: err}}
		}
	}
	if _, err := set.UpdateRoot(newest); err != nil {
		return &RootChainError{From: from, To: to, At: to, Err: &RoleError{Role: tuf.RoleRoot, File: FileName(tuf.RoleRoot, ""), Err: err}}
	}
	return nil
}

// attempt runs steps 2-4 of the workflow on set.
func (r *session) attempt(set *TrustedSet) error {
	r.invalid = map[string]error{}
	if err := r.timestamp(set); err != nil {
		return err
	}
	snapshot, err := r.snapshot(set)
	if err != nil {
		return err
	}
	if err := r.targets(set); err != nil {
		return err
	}
	r.store(tuf.RoleSnapshot, snapshot)
	return nil
}

func (r *session) timestamp(set *TrustedSet) error {
	role := tuf.RoleTimestamp
	file := FileName(role, "")
	data, err := r.fetch(role, "", tuf.MaxTimestampSize)
	if err == nil {
		if cached, cerr := r.cached(role); cerr != nil {
			return cerr
		} else if !bytes.Equal(cached, data) {
			if err := r.floor(set, role); err != nil {
				return err
			}
		}
		if _, err := set.UpdateTimestamp(data); err != nil {
			return &RoleError{Role: role, File: file, Err: err}
		}
		r.store(role, data)
		return nil
	}
	var off *OfflineError
	if !errors.Is(err, ErrNotFound) && !errors.As(err, &off) {
		return &RoleError{Role: role, File: file, Err: err}
	}
	// v1 §4.4 step 2: unreachable, 404 or 5xx: a still-valid cached
	// timestamp will do.
	cached, cerr := r.cached(role)
	if cerr != nil {
		return cerr
	}
	if cached == nil {
		return &RoleError{Role: role, File: file, Err: err}
	}
	if _, cerr := set.UpdateTimestamp(cached); cerr != nil {
		return &RoleError{Role: role, Cached: true, Err: fmt.Errorf("%w (and fetching %s failed: %w)", cerr, file, err)}
	}
	if off == nil {
		off = &OfflineError{File: file, Err: err}
	}
	r.offline = off
	if !errors.Is(err, errCacheOnly) {
		r.warn(&CachedTimestampWarning{File: file, Err: err})
	}
	return nil
}

// snapshot verifies the snapshot the timestamp names and returns its
// bytes. They are cached only once the targets walk has passed too
// (attempt): a snapshot that hides a delegation is caught there, and
// caching it first would make it the next run's trusted snapshot.
func (r *session) snapshot(set *TrustedSet) ([]byte, error) {
	meta := set.Timestamp().Meta[tuf.RoleSnapshot]
	return r.load(set, tuf.RoleSnapshot, meta, func(data []byte) error {
		_, err := set.UpdateSnapshot(data)
		return err
	})
}

// load uses the cached copy of role when its bytes match meta, else
// fetches <role>.<sha256>.json capped at meta's length, and verifies it
// with update. A cached copy that matches the hashes is byte for byte the
// file the remote would send, so it is not fetched again if it fails. It
// returns the verified bytes for the caller to cache.
func (r *session) load(set *TrustedSet, role string, meta tuf.FileMeta, update func([]byte) error) ([]byte, error) {
	cached, err := r.cached(role)
	if err != nil {
		return nil, err
	}
	if cached != nil && tuf.CheckFileMeta(role, meta, cached) == nil {
		if err := update(cached); err != nil {
			return nil, &RoleError{Role: role, Cached: true, Err: err}
		}
		return cached, nil
	}
	if err := r.floor(set, role); err != nil {
		return nil, err
	}
	hex := meta.SHA256Hex()
	file := FileName(role, hex)
	// The smaller of the claimed length and the role's limit: a forged
	// parent claiming 2^40 bytes must not make us read them (issue 10
	// item 4). Without a usable length the hash check refuses whatever
	// comes.
	limit := tuf.ReadLimit(role, meta.Length)
	data, err := r.fetch(role, hex, limit)
	if err != nil {
		return nil, &RoleError{Role: role, File: file, Err: err}
	}
	if err := update(data); err != nil {
		return nil, &RoleError{Role: role, File: file, Err: err}
	}
	return data, nil
}

// targets loads targets, then the delegations in v1's pre-order (v1 §4.4
// step 4, client downloadTargets).
func (r *session) targets(set *TrustedSet) error {
	snap := set.Snapshot()
	data, err := r.load(set, tuf.RoleTargets, snap.Meta[tuf.RoleTargets], func(data []byte) error {
		_, err := set.UpdateTargets(data)
		return err
	})
	if err != nil {
		return err // top-level targets failing is fatal
	}
	r.store(tuf.RoleTargets, data)
	type item struct{ name, parent string }
	var stack []item
	push := func(parent string) {
		children := set.Children(parent)
		for i := len(children) - 1; i >= 0; i-- {
			stack = append(stack, item{children[i].Name, parent})
		}
	}
	push(tuf.RoleTargets)
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		meta, listed := snap.Meta[it.name]
		if !listed {
			if err := set.CheckUnlisted(it.name); err != nil {
				return &RoleError{Role: tuf.RoleSnapshot, Err: err}
			}
			continue // never published: nothing to fetch (v1)
		}
		data, err := r.load(set, it.name, meta, func(data []byte) error {
			_, err := set.UpdateDelegation(it.name, it.parent, data)
			return err
		})
		if err != nil {
			if !skippable(err) {
				return err
			}
			r.invalid[it.name] = err
			r.warn(&SkippedDelegationWarning{Role: it.name, Err: err})
			continue
		}
		r.store(it.name, data)
		push(it.name)
	}
	return nil
}

// skippable reports whether a delegation failed for reasons that lie with
// the delegation itself (v1 skips expired and under-signed delegations;
// we also skip malformed ones, whose bytes the snapshot vouches for),
// rather than with the server (hash mismatch, rollback, size, transport),
// which is fatal.
func skippable(err error) bool {
	for _, e := range []error{tuf.ErrHashMismatch, tuf.ErrLowVersion, tuf.ErrNoKnownHash, ErrTooLarge, ErrOffline, ErrNotFound, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return false
		}
	}
	for _, e := range []error{tuf.ErrExpired, tuf.ErrThreshold, tuf.ErrNoSignatures, tuf.ErrKeyIDMismatch, tuf.ErrMalformed, tuf.ErrWrongType} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// fetch gets role's file from the remote, classifying errors. A
// hash-addressed file already fetched in this run (before a retry) is not
// fetched again: its name fixes its bytes.
func (r *session) fetch(role, sha256hex string, maxSize int64) ([]byte, error) {
	name := FileName(role, sha256hex)
	if data, ok := r.byHash[name]; ok && int64(len(data)) <= maxSize {
		return data, nil
	}
	data, err := r.classify(name, maxSize)(r.remote.GetMeta(r.ctx, role, sha256hex, maxSize))
	if err == nil && sha256hex != "" && tuf.CheckFileMeta(role, tuf.FileMeta{Hashes: tuf.Hashes{tuf.SHA256: mustHex(sha256hex)}, Length: int64(len(data))}, data) == nil {
		r.byHash[name] = data
	}
	return data, err
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

// classify turns a Remote answer into data or an error of a known kind:
// not found, too large (also enforced here, whatever the Remote did),
// cancelled, or else offline.
func (r *session) classify(file string, maxSize int64) func([]byte, error) ([]byte, error) {
	return func(data []byte, err error) ([]byte, error) {
		if err != nil {
			switch {
			case r.ctx.Err() != nil:
				return nil, fmt.Errorf("update: fetching %s: %w", file, r.ctx.Err())
			case errors.Is(err, ErrNotFound), errors.Is(err, ErrTooLarge),
				errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				return nil, err
			}
			var off *OfflineError
			if errors.As(err, &off) {
				return nil, err
			}
			return nil, &OfflineError{File: file, Err: err}
		}
		if int64(len(data)) > maxSize {
			return nil, &TooLargeError{File: file, Limit: maxSize}
		}
		return data, nil
	}
}

// cached reads role from the Cache once per run; nothing cached is nil.
func (r *session) cached(role string) ([]byte, error) {
	if r.read[role] {
		return r.cache[role], nil
	}
	data, err := r.u.opts.Cache.Load(role)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("update: reading cached %s: %w", role, err)
	}
	r.read[role] = true
	if len(data) == 0 {
		data = nil
	}
	r.cache[role] = data
	return data, nil
}

// store writes data (nil: deletes) for role with a compare-and-swap
// against what this run read. A failure is only a warning: the data is
// verified either way, and a conflict means another update got there
// first.
func (r *session) store(role string, data []byte) {
	if _, err := r.cached(role); err != nil {
		r.warn(err)
		return
	}
	old := r.cache[role]
	if bytes.Equal(old, data) {
		return
	}
	if err := r.u.opts.Cache.Store(role, old, data); err != nil {
		r.warn(&CacheWriteWarning{Role: role, Err: err})
		return
	}
	r.cache[role] = slices.Clone(data)
}

func (r *session) warn(err error) { r.warnings = append(r.warnings, err) }

func (r *session) result(set *TrustedSet) *Verified {
	repo := &Verified{
		GUN:       r.u.opts.GUN,
		Root:      set.Root(),
		Timestamp: set.Timestamp(),
		Snapshot:  set.Snapshot(),
		Offline:   r.offline,
		Warnings:  r.warnings,
		set:       set,
		invalid:   r.invalid,
	}
	return repo
}
