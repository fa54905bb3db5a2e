package update_test

import (
	"context"
	"math"
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

// capChecker is a Remote that fails the test when a file is asked for
// with a limit over its role's cap, and answers roles marked endless with
// a TooLargeError at the limit (what an endless stream gives) without
// reading anything.
type capChecker struct {
	update.Remote
	t       *testing.T
	endless map[string]bool
}

func (c *capChecker) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	if maxSize > tuf.MaxSize(role) {
		c.t.Fatalf("%s asked for with limit %d, over its cap %d", role, maxSize, tuf.MaxSize(role))
	}
	if c.endless[role] {
		return nil, &update.TooLargeError{File: update.FileName(role, sha256hex), Limit: maxSize}
	}
	return c.Remote.GetMeta(ctx, role, sha256hex, maxSize)
}

func (c *capChecker) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	if maxSize > tuf.MaxRootSize {
		c.t.Fatalf("root %d asked for with limit %d, over its cap %d", version, maxSize, tuf.MaxRootSize)
	}
	return c.Remote.GetVersionedRoot(ctx, version, maxSize)
}

// FuzzUpdateHostileSizes runs the update workflow against a repository
// whose snapshot and timestamp (signed with their real keys, as a thief
// of them could) claim arbitrary lengths for the files they list, with
// any of those files endless. The client must never ask for more than a
// role's cap, nor panic; whatever it accepts must be what was published.
//
//	go test -run='^$' -fuzz=FuzzUpdateHostileSizes -fuzztime=3m ./update/
func FuzzUpdateHostileSizes(f *testing.F) {
	f.Add(int64(1)<<40, int64(0), int64(-1), uint8(0))
	f.Add(int64(1)<<40, int64(1)<<40, int64(1)<<40, uint8(7))
	f.Add(int64(-1), int64(math.MaxInt64), int64(1), uint8(2))
	f.Add(tuf.MaxSnapshotSize+1, tuf.MaxTargetsSize+1, tuf.MaxTargetsSize, uint8(4))
	f.Fuzz(func(t *testing.T, snapLen, targetsLen, delegLen int64, endless uint8) {
		fx := newFixture(t)
		fx.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("new"))
		fx.sim.AddTarget("targets/releases", "v2.1", []byte("new"))
		fx.sim.Publish()
		fx.sim.Forge(tuf.RoleSnapshot, func(m tuf.Metadata) {
			s := m.(*tuf.Snapshot)
			for role, l := range map[string]int64{tuf.RoleTargets: targetsLen, "targets/releases": delegLen} {
				fm := s.Meta[role]
				fm.Length = l
				s.Meta[role] = fm
			}
		})
		fx.sim.Forge(tuf.RoleTimestamp, func(m tuf.Metadata) {
			ts := m.(*tuf.Timestamp)
			fm := ts.Meta[tuf.RoleSnapshot]
			fm.Length = snapLen
			ts.Meta[tuf.RoleSnapshot] = fm
		})
		remote := &capChecker{Remote: fx.sim, t: t, endless: map[string]bool{
			tuf.RoleSnapshot:   endless&1 != 0,
			tuf.RoleTargets:    endless&2 != 0,
			"targets/releases": endless&4 != 0,
		}}
		u := newUpdater(t, remote, fx.cache, nil)
		repo, err := u.Update(context.Background(), fx.sim.Clock.Now())
		if err != nil {
			return
		}
		for _, role := range []string{tuf.RoleTargets, "targets/releases"} {
			tg := repo.Targets(role)
			if tg == nil {
				continue
			}
			if tg.Version != fx.sim.Version(role) {
				t.Fatalf("%s version %d accepted, published %d", role, tg.Version, fx.sim.Version(role))
			}
		}
	})
}
