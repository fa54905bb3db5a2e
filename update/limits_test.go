package update_test

import (
	"context"
	"sync"
	"testing"

	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// limitRecorder is a Remote that notes the largest size each role was
// asked for, and answers every request over a role's limit with a
// TooLargeError without reading anything.
type limitRecorder struct {
	update.Remote
	mu   sync.Mutex
	max  map[string]int64
	stop map[string]bool
}

func (l *limitRecorder) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	l.mu.Lock()
	l.max[role] = max(l.max[role], maxSize)
	stop := l.stop[role]
	l.mu.Unlock()
	if stop {
		return nil, &update.TooLargeError{File: update.FileName(role, sha256hex), Limit: maxSize}
	}
	return l.Remote.GetMeta(ctx, role, sha256hex, maxSize)
}

func (l *limitRecorder) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	l.mu.Lock()
	l.max[tuf.RoleRoot] = max(l.max[tuf.RoleRoot], maxSize)
	l.mu.Unlock()
	return l.Remote.GetVersionedRoot(ctx, version, maxSize)
}

// TestForgedLengthCapped: a timestamp (signed with the timestamp key, as
// a thief of it could) claiming a 2^40-byte snapshot must not make the
// client ask for more than the snapshot's limit (issue 10 item 4: the
// client read 600 MiB, twice, before the hash check failed). Every other
// file is asked for with at most its role's limit too.
func TestForgedLengthCapped(t *testing.T) {
	f := newFixture(t)
	f.sim.Forge(tuf.RoleTimestamp, func(m tuf.Metadata) {
		ts := m.(*tuf.Timestamp)
		fm := ts.Meta[tuf.RoleSnapshot]
		fm.Length = 1 << 40
		ts.Meta[tuf.RoleSnapshot] = fm
	})
	rec := &limitRecorder{Remote: f.sim, max: map[string]int64{}, stop: map[string]bool{tuf.RoleSnapshot: true}}
	u := newUpdater(t, rec, f.cache, nil)
	_, err := u.Update(context.Background(), f.sim.Clock.Now())
	if e := asErr[*update.TooLargeError](t, err); e.Limit != tuf.MaxSnapshotSize {
		t.Errorf("snapshot read limit %d, want %d", e.Limit, tuf.MaxSnapshotSize)
	}
	for role, got := range rec.max {
		if got > tuf.MaxSize(role) {
			t.Errorf("%s asked for with limit %d, over its cap %d", role, got, tuf.MaxSize(role))
		}
	}
}

// TestMaxSize pins the per-role limits and ReadLimit's choice.
func TestMaxSize(t *testing.T) {
	for _, tc := range []struct {
		role   string
		length int64
		want   int64
	}{
		{tuf.RoleTimestamp, 0, 1 << 20},
		{tuf.RoleRoot, 0, 1 << 20},
		{tuf.RoleSnapshot, 0, 32 << 20},
		{tuf.RoleTargets, 0, 100 << 20},
		{"targets/releases", -1, 100 << 20},
		{tuf.RoleSnapshot, 1 << 40, 32 << 20},
		{tuf.RoleSnapshot, 1234, 1234},
		{"targets/releases", 1 << 40, 100 << 20},
	} {
		if got := tuf.ReadLimit(tc.role, tc.length); got != tc.want {
			t.Errorf("ReadLimit(%s, %d) = %d, want %d", tc.role, tc.length, got, tc.want)
		}
	}
}
