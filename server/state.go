package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// A storedState is the consistent view of one GUN that every read and every
// update starts from (protocol §4.3): the newest timestamp, the snapshot
// whose hash it records, and through that snapshot's meta the current
// file of every other role. Stored versions the current snapshot does not
// list are history, reachable only by version or hash.
type storedState struct {
	gun      string
	ts       *storage.StoredMeta
	tsBody   *tuf.Timestamp
	snapSHA  string
	snap     *storage.StoredMeta // nil until needed (see snapshotFile)
	snapBody *tuf.Snapshot
}

// A CorruptError is stored metadata the server cannot use: unparseable, or
// referring to a file that does not exist. It is a 500: clients cannot fix
// it, the operator must.
type CorruptError struct {
	GUN  string
	Role string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("stored %s metadata of %q is unusable: %v", e.Role, e.GUN, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// loadCollection reads the current timestamp and snapshot of gun. A GUN
// without a timestamp gives a storage.ErrNotFound error.
func (s *Server) loadCollection(ctx context.Context, gun string) (*storedState, error) {
	ts, err := s.store.GetCurrent(ctx, gun, tuf.RoleTimestamp)
	if err != nil {
		return nil, err
	}
	tsBody, err := s.parsed.timestamp(ts)
	if err != nil {
		return nil, &CorruptError{GUN: gun, Role: tuf.RoleTimestamp, Err: err}
	}
	sha := tsBody.Meta[tuf.RoleSnapshot].SHA256Hex()
	if sha == "" {
		return nil, &CorruptError{GUN: gun, Role: tuf.RoleTimestamp, Err: errors.New("no sha256 of the snapshot")}
	}
	c := &storedState{gun: gun, ts: ts, tsBody: tsBody, snapSHA: sha}
	// A snapshot parsed before needs no read: content addressed, it
	// cannot have changed.
	if v, ok := s.parsed.get(tuf.RoleSnapshot + "\x00" + sha); ok {
		c.snapBody = v.(*tuf.Snapshot)
		return c, nil
	}
	if _, err := s.snapshotFile(ctx, c); err != nil {
		return nil, err
	}
	if c.snapBody, err = s.parsed.snapshot(c.snap); err != nil {
		return nil, &CorruptError{GUN: gun, Role: tuf.RoleSnapshot, Err: err}
	}
	return c, nil
}

// snapshotFile returns the bytes of the collection's snapshot, reading
// them on first use.
func (s *Server) snapshotFile(ctx context.Context, c *storedState) (*storage.StoredMeta, error) {
	if c.snap != nil {
		return c.snap, nil
	}
	snap, err := s.byHash(ctx, c.gun, tuf.RoleSnapshot, c.snapSHA)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, &CorruptError{GUN: c.gun, Role: tuf.RoleTimestamp, Err: fmt.Errorf("snapshot %s is not stored", c.snapSHA)}
		}
		return nil, err
	}
	c.snap = snap
	return snap, nil
}

// file returns the current file of role: timestamp and snapshot from the
// collection, any other role by the hash the snapshot records. A role the
// snapshot does not list is not found (404; v0.7.0's SQL store answered
// 500 here).
func (s *Server) file(ctx context.Context, c *storedState, role string) (*storage.StoredMeta, error) {
	switch role {
	case tuf.RoleTimestamp:
		return c.ts, nil
	case tuf.RoleSnapshot:
		return s.snapshotFile(ctx, c)
	}
	fm, ok := c.snapBody.Meta[role]
	if !ok {
		return nil, &storage.NotFoundError{GUN: c.gun, Role: role}
	}
	sha := fm.SHA256Hex()
	if sha == "" {
		return nil, &CorruptError{GUN: c.gun, Role: tuf.RoleSnapshot, Err: fmt.Errorf("no sha256 for %s", role)}
	}
	return s.byHash(ctx, c.gun, role, sha)
}

// byHash reads a file the current snapshot or timestamp names, through
// the file cache. Content addressed, such a file never changes; the walk
// from a freshly read timestamp decides whether it is still current, so
// the cache never serves a deleted collection. (Reads by hash or version
// from clients go to the store.) The StoredMeta is shared: read only.
func (s *Server) byHash(ctx context.Context, gun, role, sha string) (*storage.StoredMeta, error) {
	key := gun + "\x00" + role + "\x00" + sha
	if v, ok := s.files.get(key); ok {
		return v.(*storage.StoredMeta), nil
	}
	f, err := s.store.GetChecksum(ctx, gun, role, sha)
	if err != nil {
		return nil, err
	}
	s.files.put(key, f, len(f.Data)+len(key)+64)
	return f, nil
}

// root returns the current root, parsed.
func (s *Server) root(ctx context.Context, c *storedState) (*storage.StoredMeta, *tuf.Root, error) {
	f, err := s.file(ctx, c, tuf.RoleRoot)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil, &CorruptError{GUN: c.gun, Role: tuf.RoleSnapshot, Err: errors.New("current root is not stored")}
		}
		return nil, nil, err
	}
	r, err := s.parsed.root(f)
	if err != nil {
		return nil, nil, &CorruptError{GUN: c.gun, Role: tuf.RoleRoot, Err: err}
	}
	return f, r, nil
}

// parseCache keeps parsed metadata by role and content hash, least
// recently used first out, within a budget counted as parsedWeight times
// the source bytes. Entries are immutable and shared: callers must never
// modify what it returns.
type parseCache struct{ *lru }

const (
	// parseCacheBudget bounds the (estimated) memory of parsed metadata.
	parseCacheBudget = 16 << 20
	// parsedWeight estimates parsed size from source size.
	parsedWeight = 4
)

func newParseCache(budget int) *parseCache { return &parseCache{newLRU(budget)} }

func cached[T any](c *parseCache, role string, f *storage.StoredMeta, parse func([]byte) (T, error)) (T, error) {
	key := role + "\x00" + f.SHA256
	if v, ok := c.get(key); ok {
		return v.(T), nil
	}
	v, err := parse(f.Data)
	if err != nil {
		var zero T
		return zero, err
	}
	c.put(key, v, parsedWeight*len(f.Data))
	return v, nil
}

func (c *parseCache) timestamp(f *storage.StoredMeta) (*tuf.Timestamp, error) {
	return cached(c, tuf.RoleTimestamp, f, func(b []byte) (*tuf.Timestamp, error) {
		t, _, err := tuf.ParseTimestamp(b)
		return t, err
	})
}

func (c *parseCache) snapshot(f *storage.StoredMeta) (*tuf.Snapshot, error) {
	return cached(c, tuf.RoleSnapshot, f, func(b []byte) (*tuf.Snapshot, error) {
		t, _, err := tuf.ParseSnapshot(b)
		return t, err
	})
}

func (c *parseCache) root(f *storage.StoredMeta) (*tuf.Root, error) {
	return cached(c, tuf.RoleRoot, f, func(b []byte) (*tuf.Root, error) {
		t, _, err := tuf.ParseRoot(b)
		return t, err
	})
}

func (c *parseCache) targets(role string, f *storage.StoredMeta) (*tuf.Targets, error) {
	return cached(c, role, f, func(b []byte) (*tuf.Targets, error) {
		t, _, err := tuf.ParseTargets(b, role)
		return t, err
	})
}

// seedParsed parses the snapshot and timestamp of updates, just stored,
// into the parse cache, so that the next read of the collection (in this
// process) needs no storage read of the new snapshot: a collection's
// resolution still starts from the timestamp row read from storage, and
// entries are keyed by content hash, so this cannot make anything stale.
// Errors are ignored: what does not parse is reported when read.
func (s *Server) seedParsed(updates []storage.MetaUpdate) {
	for _, u := range updates {
		f := &storage.StoredMeta{Data: u.Data, SHA256: storage.SHA256Hex(u.Data)}
		switch u.Role {
		case tuf.RoleSnapshot:
			_, _ = s.parsed.snapshot(f)
		case tuf.RoleTimestamp:
			_, _ = s.parsed.timestamp(f)
		}
	}
}
