package keydb

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/notary-go/notary/keystore"
)

// memStore is the in-memory store: the same rows and rules as SQL, lost
// when the process exits.
type memStore struct {
	mu   sync.Mutex
	seq  int64
	rows map[string]*memRow // by key ID, deleted rows included
}

type memRow struct {
	row
	lastUsed  *time.Time
	deletedAt *time.Time
}

var _ store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{rows: make(map[string]*memRow)} }

func (m *memStore) insert(_ context.Context, r row, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.rows[r.KeyID]; ok {
		if old.deletedAt == nil {
			return &keystore.ExistsError{ID: r.KeyID}
		}
		r.seq = old.seq
	} else {
		m.seq++
		r.seq = m.seq
	}
	r.Deleted = false
	r.Public = bytes.Clone(r.Public)
	r.Private = bytes.Clone(r.Private)
	m.rows[r.KeyID] = &memRow{row: r}
	return nil
}

func (m *memStore) get(_ context.Context, keyID string) (row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[keyID]
	if !ok || r.deletedAt != nil {
		return row{}, &keystore.NotFoundError{ID: keyID}
	}
	return r.copy(), nil
}

func (m *memStore) pending(_ context.Context, role, gun, algorithm string) (row, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *memRow
	for _, r := range m.rows {
		if r.deletedAt != nil || r.lastUsed != nil || r.Role != role || r.GUN != gun || r.Algorithm != algorithm {
			continue
		}
		if best == nil || r.KeyID < best.KeyID {
			best = r
		}
	}
	if best == nil {
		return row{}, false, nil
	}
	return best.copy(), true, nil
}

func (m *memStore) list(context.Context) ([]row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]row, 0, len(m.rows))
	for _, r := range m.rows {
		if r.deletedAt == nil {
			c := r.copy()
			c.Private = nil
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) remove(_ context.Context, keyID string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[keyID]
	if !ok || r.deletedAt != nil {
		return &keystore.NotFoundError{ID: keyID}
	}
	r.deletedAt = &now
	return nil
}

func (m *memStore) markUsed(_ context.Context, keyID string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[keyID]; ok && r.deletedAt == nil {
		r.lastUsed = &now
	}
	return nil
}

func (m *memStore) scanForRotation(_ context.Context, alias string, after int64, limit int) ([]row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []row
	for _, r := range m.rows {
		if r.Alias != alias && r.seq > after {
			c := r.copy()
			c.Deleted = r.deletedAt != nil
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b row) int { return cmp.Compare(a.seq, b.seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) rotate(_ context.Context, rs []rotation, _ time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, rot := range rs {
		r, ok := m.rows[rot.keyID]
		if !ok || r.seq != rot.seq || r.Alias != rot.oldAlias {
			continue
		}
		r.Private = bytes.Clone(rot.newPrivate)
		r.Alias = rot.newAlias
		n++
	}
	return n, nil
}

func (m *memStore) ping(context.Context) error { return nil }

func (r *memRow) copy() row {
	c := r.row
	c.Public = bytes.Clone(r.Public)
	c.Private = bytes.Clone(r.Private)
	return c
}
