// Package memory is a map-backed storage.MetaStore for tests and for the
// server's "memory" backend. Contents live as long as the Store value.
package memory

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/notary-go/notary/storage"
)

var _ storage.MetaStore = (*Store)(nil)

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Now returns the time recorded in CreatedAt/UpdatedAt; nil means
	// time.Now. Tests inject a fake clock.
	Now func() time.Time
}

// A Store is an in-memory storage.MetaStore, safe for concurrent use. It
// copies bytes on the way in and on the way out, so no caller ever aliases
// stored data.
type Store struct {
	now func() time.Time

	mu      sync.RWMutex
	guns    map[string]*gunFiles
	changes []change // changes[i].id == i+1
}

type gunFiles struct {
	roles map[string][]*file // ascending by version
	bySum map[sumKey]*file   // highest version holding those bytes
}

type sumKey struct{ role, sha string }

type file struct {
	data    []byte
	sha     string
	version int64
	created time.Time
}

type change struct {
	id      int64
	created time.Time
	gun     string
	version int64
	sha     string
	cat     string
}

// New returns an empty Store using time.Now.
func New() *Store { return NewWithOptions(Options{}) }

// NewWithOptions returns an empty Store configured by opts.
func NewWithOptions(opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, guns: make(map[string]*gunFiles)}
}

func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// UpdateMany implements storage.MetaStore.
func (s *Store) UpdateMany(ctx context.Context, gun string, updates []storage.MetaUpdate) error {
	return s.UpdateManyIf(ctx, gun, storage.Precondition{}, updates)
}

// UpdateManyIf implements storage.MetaStore.
func (s *Store) UpdateManyIf(ctx context.Context, gun string, pre storage.Precondition, updates []storage.MetaUpdate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateUpdates(gun, updates); err != nil {
		return err
	}
	if len(updates) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	g := s.guns[gun]
	var have int64
	if g != nil {
		if fs := g.roles[pre.Role]; len(fs) > 0 {
			have = fs[len(fs)-1].version
		}
	}
	if err := pre.Check(gun, have); err != nil {
		return err
	}
	// Check everything before writing anything: all or nothing.
	if g != nil {
		for _, u := range updates {
			if fs := g.roles[u.Role]; len(fs) > 0 && fs[len(fs)-1].version >= u.Version {
				return &storage.OldVersionError{GUN: gun, Role: u.Role, Version: u.Version}
			}
		}
	} else {
		g = &gunFiles{roles: make(map[string][]*file), bySum: make(map[sumKey]*file)}
		s.guns[gun] = g
	}
	now := s.timestamp()
	for _, u := range updates {
		f := &file{data: clone(u.Data), sha: storage.SHA256Hex(u.Data), version: u.Version, created: now}
		fs := g.roles[u.Role]
		i, _ := slices.BinarySearchFunc(fs, f.version, func(f *file, v int64) int { return cmp.Compare(f.version, v) })
		g.roles[u.Role] = slices.Insert(fs, i, f)
		k := sumKey{u.Role, f.sha}
		if old := g.bySum[k]; old == nil || old.version < f.version {
			g.bySum[k] = f
		}
		if u.Role == storage.TimestampRole {
			s.appendChange(now, gun, f.version, f.sha, storage.CategoryUpdate)
		}
	}
	return nil
}

func (s *Store) appendChange(now time.Time, gun string, version int64, sha, cat string) {
	s.changes = append(s.changes, change{
		id: int64(len(s.changes)) + 1, created: now, gun: gun, version: version, sha: sha, cat: cat,
	})
}

// GetCurrent implements storage.MetaStore.
func (s *Store) GetCurrent(ctx context.Context, gun, role string) (*storage.StoredMeta, error) {
	return s.get(ctx, &storage.NotFoundError{GUN: gun, Role: role}, func(g *gunFiles) *file {
		if fs := g.roles[role]; len(fs) > 0 {
			return fs[len(fs)-1]
		}
		return nil
	})
}

// GetVersion implements storage.MetaStore.
func (s *Store) GetVersion(ctx context.Context, gun, role string, version int64) (*storage.StoredMeta, error) {
	return s.get(ctx, &storage.NotFoundError{GUN: gun, Role: role, Version: version}, func(g *gunFiles) *file {
		fs := g.roles[role]
		if i, ok := slices.BinarySearchFunc(fs, version, func(f *file, v int64) int { return cmp.Compare(f.version, v) }); ok {
			return fs[i]
		}
		return nil
	})
}

// GetChecksum implements storage.MetaStore.
func (s *Store) GetChecksum(ctx context.Context, gun, role, sha256hex string) (*storage.StoredMeta, error) {
	return s.get(ctx, &storage.NotFoundError{GUN: gun, Role: role, SHA256: sha256hex}, func(g *gunFiles) *file {
		return g.bySum[sumKey{role, sha256hex}]
	})
}

// get runs find on gun's files under the read lock and returns a copy of
// the file it picks, or notFound.
func (s *Store) get(ctx context.Context, notFound *storage.NotFoundError, find func(*gunFiles) *file) (*storage.StoredMeta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.guns[notFound.GUN]
	if g == nil {
		return nil, notFound
	}
	f := find(g)
	if f == nil {
		return nil, notFound
	}
	return &storage.StoredMeta{
		Data: clone(f.data), SHA256: f.sha, Version: f.version, CreatedAt: f.created, UpdatedAt: f.created,
	}, nil
}

// Delete implements storage.MetaStore.
func (s *Store) Delete(ctx context.Context, gun string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.guns[gun]; !ok {
		return nil // nothing existed: no deletion row (upstream)
	}
	delete(s.guns, gun)
	s.appendChange(s.timestamp(), gun, 0, "", storage.CategoryDeletion)
	return nil
}

// GetChanges implements storage.MetaStore.
func (s *Store) GetChanges(ctx context.Context, changeID string, records int, gun string) ([]storage.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := storage.ParseChangeQuery(changeID, records)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()

	out := []storage.Change{}
	take := func(c change) bool {
		if (gun == "" || c.gun == gun) && q.Match(c.id) {
			out = append(out, c.export())
		}
		return len(out) < q.Limit
	}
	if q.Limit == 0 {
		return out, nil
	}
	// IDs equal index+1, so start scanning next to the bound.
	if q.Reverse {
		end := len(s.changes)
		if q.ID > 0 && q.ID-1 < int64(end) {
			end = int(q.ID - 1)
		}
		for i := end - 1; i >= 0 && take(s.changes[i]); i-- {
		}
		slices.Reverse(out)
	} else {
		start := int64(0)
		if q.ID > 0 {
			start = min(q.ID, int64(len(s.changes)))
		}
		for i := int(start); i < len(s.changes) && take(s.changes[i]); i++ {
		}
	}
	return out, nil
}

// Ping implements storage.MetaStore; a Store is always reachable.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

func (c change) export() storage.Change {
	return storage.Change{
		ID: strconv.FormatInt(c.id, 10), CreatedAt: c.created, GUN: c.gun, Version: c.version, SHA256: c.sha, Category: c.cat,
	}
}

// clone copies b, returning a non-nil slice even for empty input so that
// callers never see a nil Data.
func clone(b []byte) []byte { return append([]byte{}, b...) }
