package v1import

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// A Reader is the part of storage.MetaStore that verification reads
// through: every storage.MetaStore is one, and so is a Source.
type Reader interface {
	GetCurrent(ctx context.Context, gun, role string) (*storage.StoredMeta, error)
	GetVersion(ctx context.Context, gun, role string, version int64) (*storage.StoredMeta, error)
	GetChecksum(ctx context.Context, gun, role, sha256hex string) (*storage.StoredMeta, error)
}

// Status is the verdict on one collection.
type Status string

// Verification statuses.
const (
	// StatusOK: the collection verifies at the given time.
	StatusOK Status = "ok"
	// StatusExpired: it verifies, but only as of when its newest timestamp
	// was stored; some metadata has expired since. The import did not
	// cause that: upstream served the same. The server re-signs an expired
	// timestamp (and snapshot, when it holds that key) on the next read if
	// its signer holds the key; expired root or targets need the
	// publisher.
	StatusExpired Status = "expired"
	// StatusFailed: it does not verify; Reason says why.
	StatusFailed Status = "failed"
)

// A Result is the verification of one collection.
type Result struct {
	GUN    string
	Status Status
	// Reason is why it failed or what expired.
	Reason string
	// AsOf is the time the collection was verified at.
	AsOf time.Time
	// Versions of what verified.
	RootVersion, TimestampVersion int64
	// Targets counts the target names a client sees; Delegations the
	// delegated roles it loaded.
	Targets, Delegations int
	// Warnings: delegations a client would skip, and other oddities.
	Warnings []string
}

func (r Result) String() string {
	switch r.Status {
	case StatusOK:
		return fmt.Sprintf("%s: ok (root v%d, timestamp v%d, %d targets, %d delegations)", r.GUN, r.RootVersion, r.TimestampVersion, r.Targets, r.Delegations)
	case StatusExpired:
		return fmt.Sprintf("%s: expired, otherwise ok as of %s (root v%d, timestamp v%d, %d targets): %s", r.GUN,
			r.AsOf.UTC().Format(time.RFC3339), r.RootVersion, r.TimestampVersion, r.Targets, r.Reason)
	}
	return fmt.Sprintf("%s: failed: %s", r.GUN, r.Reason)
}

// Verify checks the collection gun in r as a client with an empty cache
// would, at time now, but starting from the collection's own first root
// (version 1, else 2) instead of trusting the newest root on first use:
// every root rotation is checked, then the timestamp, the snapshot it
// names, and targets and delegations by the hashes the snapshot lists
// (update.Updater). If that fails only because something expired, it is
// checked again as of the creation of the newest timestamp (StatusExpired
// when that passes). It never writes.
func Verify(ctx context.Context, r Reader, gun string, now time.Time) Result {
	res := Result{GUN: gun, AsOf: now}
	first, warn, err := firstRoot(ctx, r, gun)
	if err != nil {
		res.Status, res.Reason = StatusFailed, err.Error()
		return res
	}
	if warn != "" {
		res.Warnings = append(res.Warnings, warn)
	}
	repo, err := verifyAt(ctx, r, gun, first, now)
	if err != nil {
		var exp *tuf.ExpiredError
		if !errors.As(err, &exp) {
			res.Status, res.Reason = StatusFailed, err.Error()
			return res
		}
		ts, terr := r.GetCurrent(ctx, gun, tuf.RoleTimestamp)
		if terr != nil || ts.CreatedAt.IsZero() || !ts.CreatedAt.Before(now) {
			res.Status, res.Reason = StatusFailed, err.Error()
			return res
		}
		repo2, err2 := verifyAt(ctx, r, gun, first, ts.CreatedAt)
		if err2 != nil {
			res.Status, res.Reason = StatusFailed, err.Error()
			return res
		}
		repo, res.Status, res.Reason, res.AsOf = repo2, StatusExpired, err.Error(), ts.CreatedAt
	} else {
		res.Status = StatusOK
	}
	res.RootVersion = repo.Root.Version
	res.TimestampVersion = repo.Timestamp.Version
	res.Targets = len(repo.ListTargets())
	res.Delegations = len(repo.Roles()) - 1
	invalid := repo.Invalid()
	names := make([]string, 0, len(invalid))
	for role := range invalid {
		names = append(names, role)
	}
	sort.Strings(names)
	for _, role := range names {
		res.Warnings = append(res.Warnings, fmt.Sprintf("delegation %s is skipped by clients: %v", role, invalid[role]))
	}
	return res
}

// firstRoot returns the collection's first stored root (version 1, else
// 2, the versions a first upload may have, protocol §4.1), or nil with a
// warning when neither is stored.
func firstRoot(ctx context.Context, r Reader, gun string) ([]byte, string, error) {
	for _, v := range []int64{1, 2} {
		m, err := r.GetVersion(ctx, gun, tuf.RoleRoot, v)
		if err == nil {
			return m.Data, "", nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, "", err
		}
	}
	if _, err := r.GetCurrent(ctx, gun, tuf.RoleTimestamp); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, "", errors.New("no timestamp stored: the collection was never completely published")
		}
		return nil, "", err
	}
	return nil, "neither root version 1 nor 2 is stored: trusting the current root on first use, without checking its rotation chain", nil
}

func verifyAt(ctx context.Context, r Reader, gun string, first []byte, at time.Time) (*update.Verified, error) {
	cache := update.NewMemoryCache()
	if first != nil {
		cache.Set(tuf.RoleRoot, first)
	}
	u, err := update.NewUpdater(update.Options{GUN: gun, Remote: &readerRemote{r: r, gun: gun}, Cache: cache})
	if err != nil {
		return nil, err
	}
	repo, err := u.Update(ctx, at)
	if err != nil {
		return nil, err
	}
	if repo.Offline != nil {
		return nil, repo.Offline
	}
	return repo, nil
}

// readerRemote serves a collection's files from a Reader the way
// notary-server does (protocol §4.3): the newest timestamp, the snapshot
// it names, and every other role by the hash that snapshot lists.
type readerRemote struct {
	r   Reader
	gun string
}

var _ update.Remote = (*readerRemote)(nil)

func (s *readerRemote) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	file := update.FileName(role, sha256hex)
	var (
		m   *storage.StoredMeta
		err error
	)
	switch {
	case sha256hex != "":
		m, err = s.r.GetChecksum(ctx, s.gun, role, sha256hex)
	case role == tuf.RoleTimestamp:
		m, err = s.r.GetCurrent(ctx, s.gun, role)
	default:
		m, err = s.current(ctx, role)
	}
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", file, update.ErrNotFound)
		}
		return nil, err
	}
	return update.ReadLimited(bytes.NewReader(m.Data), file, maxSize)
}

func (s *readerRemote) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	file := update.VersionedRootName(version)
	m, err := s.r.GetVersion(ctx, s.gun, tuf.RoleRoot, version)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", file, update.ErrNotFound)
		}
		return nil, err
	}
	return update.ReadLimited(bytes.NewReader(m.Data), file, maxSize)
}

// current finds the current file of a role other than the timestamp
// through the timestamp and snapshot hashes.
func (s *readerRemote) current(ctx context.Context, role string) (*storage.StoredMeta, error) {
	ts, err := s.r.GetCurrent(ctx, s.gun, tuf.RoleTimestamp)
	if err != nil {
		return nil, err
	}
	tsBody, _, err := tuf.ParseTimestamp(ts.Data)
	if err != nil {
		return nil, fmt.Errorf("the current timestamp does not parse: %w", err)
	}
	snapSum := tsBody.Meta[tuf.RoleSnapshot].SHA256Hex()
	if snapSum == "" {
		return nil, errors.New("the current timestamp lists no snapshot sha256")
	}
	snap, err := s.r.GetChecksum(ctx, s.gun, tuf.RoleSnapshot, snapSum)
	if err != nil {
		return nil, err
	}
	if role == tuf.RoleSnapshot {
		return snap, nil
	}
	snapBody, _, err := tuf.ParseSnapshot(snap.Data)
	if err != nil {
		return nil, fmt.Errorf("the current snapshot does not parse: %w", err)
	}
	fm, ok := snapBody.Meta[role]
	if !ok || fm.SHA256Hex() == "" {
		return nil, &storage.NotFoundError{GUN: s.gun, Role: role}
	}
	return s.r.GetChecksum(ctx, s.gun, role, fm.SHA256Hex())
}

// VerifyAll verifies every collection in guns (see Verify), reporting
// progress after each, and returns the results in the same order.
func VerifyAll(ctx context.Context, r Reader, guns []string, now time.Time, progress func(Progress)) []Result {
	out := make([]Result, 0, len(guns))
	for i, gun := range guns {
		if ctx.Err() != nil {
			out = append(out, Result{GUN: gun, Status: StatusFailed, Reason: ctx.Err().Error(), AsOf: now})
			continue
		}
		out = append(out, Verify(ctx, r, gun, now))
		if progress != nil {
			progress(Progress{Phase: "verify", Done: i + 1, Total: len(guns), Item: gun})
		}
	}
	return out
}
