package changelist

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// A List is an ordered store of staged changes. Implementations are safe
// for concurrent use.
type List interface {
	// Add validates c (Change.Validate) and appends it, returning its ID.
	// c.ID is ignored.
	Add(c Change) (id string, err error)
	// List returns the changes in the order they must be applied, each with
	// its ID. An empty list is (nil, nil). A FileList that cannot read or
	// decode some of its entries still returns the others, together with an
	// *UnreadableError naming the ones it skipped (v1 logs and skips them).
	List() ([]Change, error)
	// Remove deletes the changes with the given IDs, typically those a
	// publish applied. IDs not (or no longer) in the list are ignored.
	Remove(ids ...string) error
	// Clear deletes every change, readable or not, except those whose IDs
	// are listed (v1 clears the whole list after a publish; keeping the IDs
	// of changes staged while a publish ran avoids losing them).
	Clear(except ...string) error
	// Location describes where the list lives: its directory, or "memory".
	Location() string
}

// ErrUnreadable is wrapped by *UnreadableError.
var ErrUnreadable = errors.New("unreadable changelist entries")

// UnreadableError lists entries a List skipped because it could not read or
// decode them. Their IDs can be passed to Remove.
type UnreadableError struct {
	Entries []EntryError
}

// EntryError is one unreadable entry and why.
type EntryError struct {
	ID  string
	Err error
}

func (e *UnreadableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "changelist: %d unreadable change(s)", len(e.Entries))
	for i, f := range e.Entries {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Entries)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", f.ID, f.Err)
	}
	return b.String()
}

// Unwrap returns ErrUnreadable.
func (e *UnreadableError) Unwrap() error { return ErrUnreadable }

// idClock issues v1 change names, "<20-digit UnixNano>_<uuid>.change",
// whose nanosecond part strictly increases within a process, so names sort
// in the order changes were added even when the clock stalls or steps back.
type idClock struct {
	mu   sync.Mutex
	now  func() time.Time
	last int64
}

func (c *idClock) next() (string, error) {
	u, err := newUUID()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	n := c.now().UnixNano()
	if n <= c.last {
		n = c.last + 1
	}
	c.last = n
	c.mu.Unlock()
	return fmt.Sprintf("%020d_%s%s", n, u, changeSuffix), nil
}

// newUUID returns a random (version 4) UUID in its canonical text form,
// as docker/distribution's uuid.Generate used by v1.
func newUUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("changelist: generating change ID: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:]), nil
}

// Memory is a List held in memory, as v1's memChangelist (used by "key
// rotate", whose change is never written to disk). The zero value is not
// usable; call NewMemory.
type Memory struct {
	clock   idClock
	mu      sync.Mutex
	changes []Change
}

var _ List = (*Memory)(nil)

// NewMemory returns an empty in-memory List.
func NewMemory() *Memory { return &Memory{clock: idClock{now: time.Now}} }

// Add implements List.
func (m *Memory) Add(c Change) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	id, err := m.clock.next()
	if err != nil {
		return "", err
	}
	c.ID = id
	c.Data = slices.Clone(c.Data)
	m.mu.Lock()
	m.changes = append(m.changes, c)
	m.mu.Unlock()
	return id, nil
}

// List implements List. The changes are copies.
func (m *Memory) List() ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.changes) == 0 {
		return nil, nil
	}
	out := make([]Change, len(m.changes))
	for i, c := range m.changes {
		c.Data = slices.Clone(c.Data)
		out[i] = c
	}
	return out, nil
}

// Remove implements List.
func (m *Memory) Remove(ids ...string) error {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	m.mu.Lock()
	m.changes = slices.DeleteFunc(m.changes, func(c Change) bool { return drop[c.ID] })
	m.mu.Unlock()
	return nil
}

// Clear implements List.
func (m *Memory) Clear(except ...string) error {
	keep := make(map[string]bool, len(except))
	for _, id := range except {
		keep[id] = true
	}
	m.mu.Lock()
	m.changes = slices.DeleteFunc(m.changes, func(c Change) bool { return !keep[c.ID] })
	m.mu.Unlock()
	return nil
}

// Location implements List.
func (m *Memory) Location() string { return "memory" }
