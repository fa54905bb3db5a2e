package tuf

import (
	"testing"
	"time"
)

// TestNextSnapshot: the shared snapshot builder keeps prev's entries,
// applies changes on top, bumps the version (1 without prev) and leaves
// prev alone.
func TestNextSnapshot(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	fm := func(s string) FileMeta { m, _ := NewFileMeta([]byte(s)); return m }
	prev := &Snapshot{Type: TypeSnapshot, Version: 7, Meta: map[string]FileMeta{RoleRoot: fm("r1"), RoleTargets: fm("t1")}}
	for _, tc := range []struct {
		name        string
		prev        *Snapshot
		changes     map[string]FileMeta
		wantVersion int64
		want        map[string]FileMeta
	}{
		{"First", nil, map[string]FileMeta{RoleRoot: fm("r1")}, 1, map[string]FileMeta{RoleRoot: fm("r1")}},
		{"FirstEmpty", nil, nil, 1, map[string]FileMeta{}},
		{"Merge", prev, map[string]FileMeta{RoleTargets: fm("t2"), "targets/a": fm("a1")}, 8,
			map[string]FileMeta{RoleRoot: fm("r1"), RoleTargets: fm("t2"), "targets/a": fm("a1")}},
		{"Unchanged", prev, nil, 8, prev.Meta},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NextSnapshot(tc.prev, tc.changes, exp)
			if got.Type != TypeSnapshot || got.Version != tc.wantVersion || !got.Expires.Equal(exp) {
				t.Errorf("got type %q version %d expires %v", got.Type, got.Version, got.Expires)
			}
			if len(got.Meta) != len(tc.want) {
				t.Fatalf("meta = %v, want %v", got.Meta, tc.want)
			}
			for role, m := range tc.want {
				if !got.Meta[role].Equal(m) {
					t.Errorf("meta[%s] = %v, want %v", role, got.Meta[role], m)
				}
			}
		})
	}
	if prev.Version != 7 || len(prev.Meta) != 2 || !prev.Meta[RoleTargets].Equal(fm("t1")) {
		t.Errorf("prev modified: %+v", prev)
	}
}

// TestNextTimestamp: the shared timestamp builder describes the exact
// snapshot bytes and bumps the version (1 without prev).
func TestNextTimestamp(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	snap := []byte(`{"signed":{}}`)
	for _, tc := range []struct {
		name        string
		prev        *Timestamp
		wantVersion int64
	}{
		{"First", nil, 1},
		{"Next", &Timestamp{Type: TypeTimestamp, Version: 41}, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NextTimestamp(tc.prev, snap, exp)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != TypeTimestamp || got.Version != tc.wantVersion || !got.Expires.Equal(exp) || len(got.Meta) != 1 {
				t.Fatalf("got %+v", got)
			}
			if err := got.Meta[RoleSnapshot].Check(snap); err != nil {
				t.Errorf("meta.snapshot does not describe the snapshot: %v", err)
			}
			if len(got.Meta[RoleSnapshot].Hashes) != len(DefaultHashes) {
				t.Errorf("hashes = %v, want %v", got.Meta[RoleSnapshot].Hashes, DefaultHashes)
			}
		})
	}
}
