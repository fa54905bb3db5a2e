package storagetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/storage"
)

var changeTests = []test{
	{"OnlyTimestampsAndDeletions", testChangeRows},
	{"Paging", testChangePaging},
	{"InvalidChangeID", testInvalidChangeID},
}

func testChangeRows(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	before := time.Now().Add(-2 * time.Second)
	mustUpdate(t, s, gun, upd(gun, "root", 1), upd(gun, "targets", 1), upd(gun, "snapshot", 1), upd(gun, "timestamp", 1))
	mustUpdate(t, s, gun, upd(gun, "targets", 2))
	mustUpdate(t, s, gun, upd(gun, "snapshot", 2), upd(gun, "timestamp", 2))
	after := time.Now().Add(2 * time.Second)

	cs := allChanges(t, s, "")
	var got []storage.Change
	for _, c := range cs {
		if c.CreatedAt.Before(before) || c.CreatedAt.After(after) || c.CreatedAt.Location() != time.UTC {
			t.Errorf("change %s CreatedAt = %v, want a UTC time between %v and %v", c.ID, c.CreatedAt, before, after)
		}
		c.ID, c.CreatedAt = "", time.Time{}
		got = append(got, c)
	}
	want := []storage.Change{
		{GUN: gun, Version: 1, SHA256: storage.SHA256Hex(fileBytes(gun, "timestamp", 1)), Category: "update"},
		{GUN: gun, Version: 2, SHA256: storage.SHA256Hex(fileBytes(gun, "timestamp", 2)), Category: "update"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changefeed mismatch (-want +got):\n%s", diff)
	}
	wantIncreasingIDs(t, cs)
}

// wantIncreasingIDs checks that IDs are decimal integers in strictly
// increasing order.
func wantIncreasingIDs(t testing.TB, cs []storage.Change) {
	t.Helper()
	last := int64(0)
	for i, c := range cs {
		id, err := strconv.ParseInt(c.ID, 10, 64)
		if err != nil || id <= last {
			t.Fatalf("change %d has ID %q after %d, want a strictly increasing decimal integer", i, c.ID, last)
		}
		last = id
	}
}

func testChangePaging(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const a, b = "example.com/a", "example.com/b"
	// 9 rows: a1 b1 a2 a3 b2 a(deleted) b3 a1' b4
	mustUpdate(t, s, a, upd(a, "timestamp", 1))
	mustUpdate(t, s, b, upd(b, "timestamp", 1))
	mustUpdate(t, s, a, upd(a, "timestamp", 2))
	mustUpdate(t, s, a, upd(a, "timestamp", 3))
	mustUpdate(t, s, b, upd(b, "timestamp", 2))
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, b, upd(b, "timestamp", 3))
	mustUpdate(t, s, a, upd(a, "timestamp", 1))
	mustUpdate(t, s, b, upd(b, "timestamp", 4))

	all := allChanges(t, s, "")
	if len(all) != 9 {
		t.Fatalf("global changefeed has %d rows, want 9: %+v", len(all), all)
	}
	wantIncreasingIDs(t, all)
	id := func(i int) string { return all[i].ID } // ID of the i-th row, 0-based
	// Rows by index; the changefeed of a is rows 0 2 3 5 7, of b 1 4 6 8.
	pick := func(idx ...int) []storage.Change {
		out := []storage.Change{}
		for _, i := range idx {
			out = append(out, all[i])
		}
		return out
	}
	lastID, _ := strconv.ParseInt(id(8), 10, 64)
	for _, tc := range []struct {
		name     string
		changeID string
		records  int
		gun      string
		want     []storage.Change
	}{
		{name: "FromEmptyID", changeID: "", records: 3, want: pick(0, 1, 2)},
		{name: "FromZero", changeID: "0", records: 3, want: pick(0, 1, 2)},
		{name: "AfterID", changeID: id(2), records: 3, want: pick(3, 4, 5)},
		{name: "AfterIDShortPage", changeID: id(6), records: 5, want: pick(7, 8)},
		{name: "AfterLast", changeID: id(8), records: 5, want: pick()},
		{name: "AfterFuture", changeID: strconv.FormatInt(lastID+100, 10), records: 5, want: pick()},
		{name: "ZeroRecords", changeID: "0", records: 0, want: pick()},
		{name: "LatestN", changeID: "-1", records: -3, want: pick(6, 7, 8)},
		{name: "NegativeIDPositiveRecords", changeID: "-1", records: 3, want: pick(6, 7, 8)},
		{name: "NegativeIDBelowMinusOne", changeID: "-7", records: 2, want: pick(7, 8)},
		{name: "ZeroIDBackwards", changeID: "0", records: -2, want: pick(7, 8)},
		{name: "EmptyIDBackwards", changeID: "", records: -2, want: pick(7, 8)},
		{name: "BeforeID", changeID: id(5), records: -2, want: pick(3, 4)},
		{name: "BeforeIDShortPage", changeID: id(1), records: -5, want: pick(0)},
		{name: "BeforeFirst", changeID: id(0), records: -5, want: pick()},
		{name: "BeforeFuture", changeID: strconv.FormatInt(lastID+100, 10), records: -2, want: pick(7, 8)},
		{name: "AllBackwards", changeID: "-1", records: -100, want: all},
		{name: "GUNForward", changeID: "0", records: 100, gun: a, want: pick(0, 2, 3, 5, 7)},
		{name: "GUNAfterID", changeID: id(2), records: 2, gun: a, want: pick(3, 5)},
		{name: "GUNAfterOtherGUNsID", changeID: id(1), records: 1, gun: a, want: pick(2)},
		{name: "GUNLatest", changeID: "-1", records: -2, gun: b, want: pick(6, 8)},
		{name: "GUNBeforeID", changeID: id(7), records: -2, gun: b, want: pick(4, 6)},
		{name: "UnknownGUN", changeID: "0", records: 100, gun: "example.com/none", want: pick()},
		{name: "GUNIsExact", changeID: "0", records: 100, gun: "example.com/", want: pick()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetChanges(ctx, tc.changeID, tc.records, tc.gun)
			if err != nil {
				t.Fatalf("GetChanges(%q, %d, %q) = %v", tc.changeID, tc.records, tc.gun, err)
			}
			if got == nil {
				t.Errorf("GetChanges(%q, %d, %q) = nil, want a non-nil slice", tc.changeID, tc.records, tc.gun)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("GetChanges(%q, %d, %q) mismatch (-want +got):\n%s", tc.changeID, tc.records, tc.gun, diff)
			}
		})
	}
}

func testInvalidChangeID(t *testing.T, s storage.MetaStore) {
	mustUpdate(t, s, "example.com/a", upd("example.com/a", "timestamp", 1))
	for _, id := range []string{"abc", "1.5", " 1", "0x10", "99999999999999999999"} {
		got, err := s.GetChanges(t.Context(), id, 10, "")
		var ia *storage.InvalidArgumentError
		if !errors.Is(err, storage.ErrInvalidArgument) || !errors.As(err, &ia) || ia.Arg != "changeID" {
			t.Errorf("GetChanges(%q) = (%v, %v), want an *InvalidArgumentError for changeID", id, got, err)
		}
	}
}
