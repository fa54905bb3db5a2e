package server

import (
	"container/list"
	"sync"
)

// lru is a size-bounded least-recently-used cache, safe for concurrent
// use. Sizes are whatever unit the caller counts (bytes here).
type lru struct {
	mu     sync.Mutex
	budget int
	used   int
	ll     *list.List // front = most recently used
	m      map[string]*list.Element
}

type lruEntry struct {
	key  string
	v    any
	size int
}

func newLRU(budget int) *lru {
	return &lru{budget: budget, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *lru) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry).v, true
}

// put adds v unless it is larger than a quarter of the budget, evicting
// the least recently used entries to make room.
func (c *lru) put(key string, v any, size int) {
	if size > c.budget/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.ll.MoveToFront(e)
		return
	}
	for c.used+size > c.budget && c.ll.Len() > 0 {
		old := c.ll.Back()
		oe := old.Value.(*lruEntry)
		c.ll.Remove(old)
		delete(c.m, oe.key)
		c.used -= oe.size
	}
	c.m[key] = c.ll.PushFront(&lruEntry{key: key, v: v, size: size})
	c.used += size
}

// del removes key, if present.
func (c *lru) del(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.ll.Remove(e)
		delete(c.m, key)
		c.used -= e.Value.(*lruEntry).size
	}
}
