package update

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
)

// A Cache keeps the metadata files a client last trusted for one
// collection, by role name ("root", "timestamp", "targets/releases"): the
// client's trust directory tuf/<gun>/metadata/ (v1 §7.1) or memory. The
// Updater reads it to start from (the cached root pins trust, v1 §4.4) and
// to refuse rollbacks below the cached versions (v1 §4.7), and writes every
// file it has verified. Cached bytes are verified again on every use.
// Implementations must be safe for concurrent use.
type Cache interface {
	// Load returns the cached bytes of role. Nothing cached is an error
	// wrapping ErrNotFound; any other error is reported to the caller.
	Load(role string) ([]byte, error)
	// Store is a compare-and-swap: if the cache holds exactly old for role
	// (old empty: nothing cached), it replaces it with data (data empty:
	// removes the entry) atomically and returns nil. If the cache holds
	// anything else it changes nothing and returns an error wrapping
	// ErrWriteConflict, so that a concurrent update cannot be rolled back
	// by a slower writer that read the cache earlier (sumdb
	// WriteConfig).
	Store(role string, old, data []byte) error
}

// MemoryCache is a Cache held in memory. The zero value is empty and ready
// to use; it is safe for concurrent use.
type MemoryCache struct {
	mu    sync.Mutex
	files map[string][]byte
}

var _ Cache = (*MemoryCache)(nil)

// NewMemoryCache returns an empty MemoryCache.
func NewMemoryCache() *MemoryCache { return &MemoryCache{} }

// Load implements Cache. It returns a copy of the cached bytes.
func (c *MemoryCache) Load(role string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[role]
	if !ok {
		return nil, fmt.Errorf("update: cached %s: %w", role, ErrNotFound)
	}
	return bytes.Clone(b), nil
}

// Store implements Cache. It keeps a copy of data.
func (c *MemoryCache) Store(role string, old, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.files[role]
	if ok != (len(old) > 0) || !bytes.Equal(cur, old) {
		return fmt.Errorf("update: storing %s: %w", role, ErrWriteConflict)
	}
	if len(data) == 0 {
		delete(c.files, role)
		return nil
	}
	if c.files == nil {
		c.files = make(map[string][]byte)
	}
	c.files[role] = bytes.Clone(data)
	return nil
}

// Roles lists the cached roles, sorted.
func (c *MemoryCache) Roles() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.files))
	for r := range c.files {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Set stores data for role unconditionally (nil removes it): for tests
// and for seeding a cache.
func (c *MemoryCache) Set(role string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if data == nil {
		delete(c.files, role)
		return
	}
	if c.files == nil {
		c.files = make(map[string][]byte)
	}
	c.files[role] = bytes.Clone(data)
}
