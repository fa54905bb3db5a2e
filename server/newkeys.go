package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/notary-go/notary/keys"
)

// Defaults bounding the keys made for GUNs that have no trust data.
const (
	// DefaultMaxNewGUNKeys is how many (GUN, role) pairs without trust
	// data may hold a key this server made within NewGUNKeyWindow.
	DefaultMaxNewGUNKeys = 10000
	// NewGUNKeyWindow is how long such a key counts against the cap and
	// is handed out again to further reads.
	NewGUNKeyWindow = time.Hour
)

// ErrTooManyNewKeys: the server made DefaultMaxNewGUNKeys (or
// Options.MaxNewGUNKeys) keys for GUNs without trust data within
// NewGUNKeyWindow, and refuses to make more for now: 503 UNAVAILABLE.
var ErrTooManyNewKeys = errors.New("server: too many keys made for collections without trust data; retry later")

// newKeys bounds key creation for GUNs without trust data (issue 10 item
// 5). v0.7.0 makes a key on every unauthenticated GET {role}.key, also
// for GUNs nobody ever published, so any client could fill the key store.
// We keep v0.7.0's behaviour (a client needs the key before its first
// publish) but:
//   - one key per (GUN, role): reads within NewGUNKeyWindow get the key
//     made first (the key service may reuse pending keys too: keydb and
//     keyservice.Local do, across windows);
//   - at most max such keys per window and server process: beyond that a
//     read of a new GUN's key is 503 UNAVAILABLE until entries age out.
//     That is a rate of max/NewGUNKeyWindow new GUNs, with bursts of max.
//
// Memory: max entries of a GUN, a role and a public key. GUNs that have
// trust data never count: their keys come from their root or, once per
// rotation, from an authorised POST.
type newKeys struct {
	max int
	mu  sync.Mutex
	m   map[newKeySlot]newKey
}

type newKeySlot struct{ gun, role string }

type newKey struct {
	pub     keys.PublicKey
	created time.Time
	ready   chan struct{} // closed once pub is set or creation failed
}

// get returns the key of (gun, role) made within the window, else one
// made by create (callers of the same slot share a single creation), or
// ErrTooManyNewKeys.
func (n *newKeys) get(ctx context.Context, gun, role string, now time.Time, create func() (keys.PublicKey, error)) (keys.PublicKey, error) {
	slot := newKeySlot{gun, role}
	n.mu.Lock()
	if n.m == nil {
		n.m = map[newKeySlot]newKey{}
	}
	e, ok := n.m[slot]
	if ok && now.Sub(e.created) >= NewGUNKeyWindow {
		delete(n.m, slot)
		ok = false
	}
	if !ok {
		if len(n.m) >= n.max {
			n.evict(now)
		}
		if len(n.m) >= n.max {
			n.mu.Unlock()
			return keys.PublicKey{}, ErrTooManyNewKeys
		}
		e = newKey{created: now, ready: make(chan struct{})}
		n.m[slot] = e
		n.mu.Unlock()
		pub, err := create()
		n.mu.Lock()
		e.pub = pub
		if err != nil {
			delete(n.m, slot) // a failure is not remembered: retry later
		} else if cur, ok := n.m[slot]; ok && cur.ready == e.ready {
			n.m[slot] = e
		}
		n.mu.Unlock()
		close(e.ready)
		return pub, err
	}
	n.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return keys.PublicKey{}, ctx.Err()
	}
	n.mu.Lock()
	cur := n.m[slot]
	n.mu.Unlock()
	if cur.ready == e.ready && cur.pub.Type != "" {
		return cur.pub, nil
	}
	return keys.PublicKey{}, fmt.Errorf("server: creating the %s key of %q: %w", role, gun, ErrKeyCreationFailed)
}

// ErrKeyCreationFailed: a concurrent request's creation of the same key
// failed (its own error was reported to it): 503, retry.
var ErrKeyCreationFailed = errors.New("key creation failed")

// evict drops entries older than the window. Called with mu held, only
// when the map is full, so its cost is spread over max creations.
func (n *newKeys) evict(now time.Time) {
	for k, e := range n.m {
		if now.Sub(e.created) >= NewGUNKeyWindow {
			delete(n.m, k)
		}
	}
}
