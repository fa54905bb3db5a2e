package server

import (
	"context"
	"sync"
)

// flightGroup runs at most one regeneration per key at a time in this
// process; callers that arrive meanwhile wait and then re-read.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct{ done chan struct{} }

// do runs fn unless a call for key is running, in which case it waits for
// that call (or ctx) and reports shared=true so the caller re-reads.
func (g *flightGroup) do(ctx context.Context, key string, fn func()) (shared bool, err error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
		close(f.done)
	}()
	fn()
	return false, nil
}
