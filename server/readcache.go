package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

const (
	// DefaultReadCacheTTL is how long a GET may answer from the current
	// timestamp it read earlier instead of asking the database again.
	// Writes through this server are seen at once; a write by another
	// server sharing the database is seen by this server's reads within
	// this bound.
	DefaultReadCacheTTL = 100 * time.Millisecond
	// readCacheBudget bounds the bytes of cached timestamps.
	readCacheBudget = 8 << 20
)

// readCache is the MetaStore the server uses: the configured store, with
// the current timestamp of each GUN remembered for at most ttl for reads
// marked by withCachedReads (GETs of current metadata). That timestamp
// is the only per-request database read of a warm GET: everything else
// (snapshot, targets, ...) is read by the SHA-256 the timestamp chain
// names, immutable and cached without expiry (Server.byHash).
//
// Correctness:
//   - Staleness across servers: an entry is used only until ttl after the
//     query that filled it started, so a read never answers with a
//     timestamp older than what the database held ttl ago.
//   - This server's writes (updates, regenerations, deletes, the expiry
//     watch) go through UpdateMany/UpdateManyIf/Delete here, which drop
//     the GUN's entry before and after the write, failed or not (a
//     conflict means another server wrote), and bump gen so a query that
//     was running meanwhile does not put back what it read.
//   - Writers (validation of an update, key rotation) never read through
//     the cache: only contexts marked by withCachedReads do.
type readCache struct {
	storage.MetaStore
	ttl time.Duration
	now func() time.Time // monotonic wall clock, not the server's TUF clock
	gen atomic.Uint64
	lru *lru
	// misses counts database reads of a current timestamp for marked
	// contexts, for tests.
	misses atomic.Int64
}

type readCacheEntry struct {
	meta    *storage.StoredMeta
	fetched time.Time // when the query that read meta started
}

type cachedReadsKey struct{}

// withCachedReads marks ctx as a read that may be answered from the
// read cache.
func withCachedReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, cachedReadsKey{}, true)
}

func newReadCache(store storage.MetaStore, ttl time.Duration) *readCache {
	return &readCache{MetaStore: store, ttl: ttl, now: time.Now, lru: newLRU(readCacheBudget)}
}

// GetCurrent implements storage.MetaStore.
func (c *readCache) GetCurrent(ctx context.Context, gun, role string) (*storage.StoredMeta, error) {
	if role != tuf.RoleTimestamp || c.ttl <= 0 || ctx.Value(cachedReadsKey{}) == nil {
		return c.MetaStore.GetCurrent(ctx, gun, role)
	}
	now := c.now()
	if v, ok := c.lru.get(gun); ok {
		e := v.(*readCacheEntry)
		if age := now.Sub(e.fetched); age >= 0 && age < c.ttl {
			return e.meta, nil
		}
	}
	c.misses.Add(1)
	g := c.gen.Load()
	m, err := c.MetaStore.GetCurrent(ctx, gun, role)
	if err != nil {
		return nil, err
	}
	if c.gen.Load() == g {
		// put keeps an existing entry: drop the expired one first.
		c.lru.del(gun)
		c.lru.put(gun, &readCacheEntry{meta: m, fetched: now}, len(m.Data)+len(gun)+128)
	}
	return m, nil
}

// invalidate drops gun's entry and stops running fills from storing.
func (c *readCache) invalidate(gun string) {
	c.gen.Add(1)
	c.lru.del(gun)
}

// UpdateMany implements storage.MetaStore.
func (c *readCache) UpdateMany(ctx context.Context, gun string, updates []storage.MetaUpdate) error {
	c.invalidate(gun)
	defer c.invalidate(gun)
	return c.MetaStore.UpdateMany(ctx, gun, updates)
}

// UpdateManyIf implements storage.MetaStore.
func (c *readCache) UpdateManyIf(ctx context.Context, gun string, pre storage.Precondition, updates []storage.MetaUpdate) error {
	c.invalidate(gun)
	defer c.invalidate(gun)
	return c.MetaStore.UpdateManyIf(ctx, gun, pre, updates)
}

// Delete implements storage.MetaStore.
func (c *readCache) Delete(ctx context.Context, gun string) error {
	c.invalidate(gun)
	defer c.invalidate(gun)
	return c.MetaStore.Delete(ctx, gun)
}
