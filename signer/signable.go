package signer

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/tuf"
)

// SignLimits bound what Sign accepts. The signer only signs the canonical
// "signed" body of its key's own role, timestamp or snapshot (what a
// notary-server, v0.7.0's or ours, sends: notary-v1-protocol.md §6.3),
// so a client holding a certificate cannot have it sign arbitrary bytes,
// a far-future expiry or a huge version that would lock the collection's
// clients out (issue 18 item 2).
type SignLimits struct {
	// MaxTimestampExpiry and MaxSnapshotExpiry bound how far after now a
	// body may expire. v0.7.0's server uses 14 days and 3 years.
	MaxTimestampExpiry time.Duration
	MaxSnapshotExpiry  time.Duration
	// MaxVersionJump bounds how far above the highest version this
	// process has signed with a key the next one may be; 0 means no
	// bound. Servers count up by one.
	MaxVersionJump int64
}

// Default limits.
const (
	DefaultMaxTimestampExpiry = 365 * 24 * time.Hour
	DefaultMaxSnapshotExpiry  = 10 * 365 * 24 * time.Hour
	DefaultMaxVersionJump     = 1000
	// MaxVersion is the highest version signed: the largest that every
	// v0.7.0 SQL schema stores (a signed 32-bit column).
	MaxVersion = math.MaxInt32
)

// DefaultSignLimits are the limits used when Options.Limits is zero.
var DefaultSignLimits = SignLimits{
	MaxTimestampExpiry: DefaultMaxTimestampExpiry,
	MaxSnapshotExpiry:  DefaultMaxSnapshotExpiry,
	MaxVersionJump:     DefaultMaxVersionJump,
}

// ErrUnsignable is matched by every *UnsignableError.
var ErrUnsignable = errors.New("signer: refused to sign")

// UnsignableError says why Sign refused a body.
type UnsignableError struct {
	KeyID  string
	Role   string
	Reason string
}

func (e *UnsignableError) Error() string {
	return fmt.Sprintf("refused to sign with %s key %s: %s", e.Role, e.KeyID, e.Reason)
}

func (e *UnsignableError) Is(target error) bool { return target == ErrUnsignable }

// signableRole reports whether the signer holds keys of role: only the
// roles a notary-server signs, never root or targets.
func signableRole(role string) bool {
	return role == tuf.RoleTimestamp || role == tuf.RoleSnapshot
}

// versionTracker remembers the highest version signed per key, bounded.
type versionTracker struct {
	mu  sync.Mutex
	max map[string]int64
}

const maxTrackedKeys = 100000

func (v *versionTracker) highest(id string) (int64, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, ok := v.max[id]
	return n, ok
}

func (v *versionTracker) signed(id string, version int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.max == nil || len(v.max) >= maxTrackedKeys {
		v.max = map[string]int64{}
	}
	if version > v.max[id] {
		v.max[id] = version
	}
}

// checkSignable checks content is a body the key (id, role) may sign at
// now, and returns its version.
func checkSignable(id, role string, content []byte, now time.Time, lim SignLimits, seen *versionTracker) (int64, error) {
	fail := func(format string, a ...any) (int64, error) {
		return 0, &UnsignableError{KeyID: id, Role: role, Reason: fmt.Sprintf(format, a...)}
	}
	if !signableRole(role) {
		return fail("the signer only signs timestamp and snapshot metadata")
	}
	// Canonical bytes only: what the server signs is the canonical
	// encoding of the body (§2.3), and a non-canonical one would verify
	// nowhere.
	if !canonicaljson.IsCanonical(content) {
		return fail("not the canonical JSON of a %s body", role)
	}
	var (
		version  int64
		expires  time.Time
		maxAhead time.Duration
	)
	switch role {
	case tuf.RoleTimestamp:
		ts, err := tuf.DecodeTimestamp(content)
		if err != nil {
			return fail("not a timestamp body: %v", err)
		}
		version, expires, maxAhead = ts.Version, ts.Expires, lim.MaxTimestampExpiry
	case tuf.RoleSnapshot:
		sn, err := tuf.DecodeSnapshot(content)
		if err != nil {
			return fail("not a snapshot body: %v", err)
		}
		version, expires, maxAhead = sn.Version, sn.Expires, lim.MaxSnapshotExpiry
	}
	if version > MaxVersion {
		return fail("version %d is above %d", version, MaxVersion)
	}
	if lim.MaxVersionJump > 0 {
		if last, ok := seen.highest(id); ok && version > last+lim.MaxVersionJump {
			return fail("version %d is more than %d above %d, the highest this key signed", version, lim.MaxVersionJump, last)
		}
	}
	if !expires.After(now) {
		return fail("already expired (%s)", expires.UTC().Format(time.RFC3339))
	}
	if expires.Sub(now) > maxAhead {
		return fail("expires %s, more than %v from now", expires.UTC().Format(time.RFC3339), maxAhead)
	}
	return version, nil
}
