// Package storagetest is the conformance suite and the benchmark suite that
// every storage.MetaStore implementation runs, one line each:
//
//	func TestConformance(t *testing.T) { storagetest.Run(t, openMyStore) }
//	func BenchmarkStore(b *testing.B)  { storagetest.Bench(b, openMyStore) }
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/storage"
)

// Run runs every contract test of storage.MetaStore as a parallel subtest.
// open must return a new, empty store for each call (each subtest calls it
// once), register its own cleanup with t.Cleanup, and be safe to call from
// parallel subtests.
func Run(t *testing.T, open func(t *testing.T) storage.MetaStore) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Read", readTests},
		{"Update", updateTests},
		{"Delete", deleteTests},
		{"Changes", changeTests},
		{"Concurrent", concurrentTests},
		{"Misc", miscTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// A test is one contract check, run against a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s storage.MetaStore)
}

// fileBytes returns distinct, recognisable file bytes for (gun, role, version).
func fileBytes(gun, role string, version int64) []byte {
	return fmt.Appendf(nil, `{"signed":{"_type":%q,"gun":%q,"version":%d},"signatures":[]}`, role, gun, version)
}

// upd builds a MetaUpdate with fileBytes data.
func upd(gun, role string, version int64) storage.MetaUpdate {
	return storage.MetaUpdate{Role: role, Version: version, Data: fileBytes(gun, role, version)}
}

// mustUpdate stores updates or fails the test.
func mustUpdate(t testing.TB, s storage.MetaStore, gun string, updates ...storage.MetaUpdate) {
	t.Helper()
	if err := s.UpdateMany(context.Background(), gun, updates); err != nil {
		t.Fatalf("UpdateMany(%q, %d updates) = %v, want nil", gun, len(updates), err)
	}
}

// wantMeta checks that got holds exactly u's data.
func wantMeta(t *testing.T, what string, got *storage.StoredMeta, err error, u storage.MetaUpdate) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: error %v, want version %d", what, err, u.Version)
	}
	if string(got.Data) != string(u.Data) {
		t.Errorf("%s: Data = %q, want %q", what, got.Data, u.Data)
	}
	if got.Data == nil {
		t.Errorf("%s: Data is nil, want a non-nil slice", what)
	}
	if got.Version != u.Version {
		t.Errorf("%s: Version = %d, want %d", what, got.Version, u.Version)
	}
	if want := storage.SHA256Hex(u.Data); got.SHA256 != want {
		t.Errorf("%s: SHA256 = %q, want %q", what, got.SHA256, want)
	}
	if got.CreatedAt.IsZero() || got.CreatedAt.Location() != time.UTC {
		t.Errorf("%s: CreatedAt = %v, want a UTC time", what, got.CreatedAt)
	}
	if !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("%s: UpdatedAt = %v, want CreatedAt %v", what, got.UpdatedAt, got.CreatedAt)
	}
}

// wantNotFound checks that err is a *storage.NotFoundError equal to want.
func wantNotFound(t *testing.T, what string, got *storage.StoredMeta, err error, want storage.NotFoundError) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("%s = (%v, %v), want ErrNotFound", what, got, err)
	}
	var nf *storage.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("%s: error %T does not unwrap to *storage.NotFoundError", what, err)
	}
	if diff := cmp.Diff(want, *nf); diff != "" {
		t.Errorf("%s: NotFoundError mismatch (-want +got):\n%s", what, diff)
	}
}

// wantOldVersion checks that err is a *storage.OldVersionError equal to want.
func wantOldVersion(t testing.TB, what string, err error, want storage.OldVersionError) {
	t.Helper()
	if !errors.Is(err, storage.ErrOldVersion) {
		t.Fatalf("%s = %v, want ErrOldVersion", what, err)
	}
	var ov *storage.OldVersionError
	if !errors.As(err, &ov) {
		t.Fatalf("%s: error %T does not unwrap to *storage.OldVersionError", what, err)
	}
	if diff := cmp.Diff(want, *ov); diff != "" {
		t.Errorf("%s: OldVersionError mismatch (-want +got):\n%s", what, diff)
	}
}

// allChanges returns the whole changefeed, global when gun is "".
func allChanges(t testing.TB, s storage.MetaStore, gun string) []storage.Change {
	t.Helper()
	cs, err := s.GetChanges(context.Background(), "0", 1<<30, gun)
	if err != nil {
		t.Fatalf("GetChanges(0, all, %q) = %v", gun, err)
	}
	return cs
}
