package storagetest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/storage"
)

var readTests = []test{
	{"EmptyStore", testReadEmpty},
	{"RoundTrip", testRoundTrip},
	{"CurrentIsHighestVersion", testCurrentIsHighest},
	{"ByVersion", testGetVersion},
	{"ByChecksum", testGetChecksum},
	{"ChecksumOfRepeatedBytes", testChecksumRepeatedBytes},
	{"Versions64Bit", testVersions64Bit},
	{"NamesAreExact", testNamesExact},
	{"BytesAreExact", testBytesExact},
	{"NoAliasing", testNoAliasing},
	{"UnstorableNamesAreNotFound", testUnstorableNames},
}

func testReadEmpty(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	got, err := s.GetCurrent(ctx, "example.com/app", "root")
	wantNotFound(t, "GetCurrent", got, err, storage.NotFoundError{GUN: "example.com/app", Role: "root"})
	got, err = s.GetVersion(ctx, "example.com/app", "root", 1)
	wantNotFound(t, "GetVersion", got, err, storage.NotFoundError{GUN: "example.com/app", Role: "root", Version: 1})
	sum := storage.SHA256Hex([]byte("x"))
	got, err = s.GetChecksum(ctx, "example.com/app", "root", sum)
	wantNotFound(t, "GetChecksum", got, err, storage.NotFoundError{GUN: "example.com/app", Role: "root", SHA256: sum})
}

func testRoundTrip(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	ups := []storage.MetaUpdate{
		upd(gun, "root", 1), upd(gun, "targets", 1), upd(gun, "targets/releases", 1),
		upd(gun, "snapshot", 1), upd(gun, "timestamp", 1),
	}
	before := time.Now().Add(-2 * time.Second) // slack for clock steps and rounding
	mustUpdate(t, s, gun, ups...)
	after := time.Now().Add(2 * time.Second)
	for _, u := range ups {
		got, err := s.GetCurrent(ctx, gun, u.Role)
		wantMeta(t, "GetCurrent("+u.Role+")", got, err, u)
		if err == nil && (got.CreatedAt.Before(before) || got.CreatedAt.After(after)) {
			t.Errorf("GetCurrent(%s).CreatedAt = %v, want between %v and %v (wrong time zone?)", u.Role, got.CreatedAt, before, after)
		}
	}
	got, err := s.GetCurrent(ctx, gun, "targets/other")
	wantNotFound(t, "GetCurrent(unknown role)", got, err, storage.NotFoundError{GUN: gun, Role: "targets/other"})
	got, err = s.GetCurrent(ctx, "example.com/other", "root")
	wantNotFound(t, "GetCurrent(unknown gun)", got, err, storage.NotFoundError{GUN: "example.com/other", Role: "root"})
}

func testCurrentIsHighest(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	for _, v := range []int64{1, 2, 5} {
		mustUpdate(t, s, gun, upd(gun, "targets", v))
	}
	mustUpdate(t, s, gun, upd(gun, "root", 1))
	got, err := s.GetCurrent(t.Context(), gun, "targets")
	wantMeta(t, "GetCurrent(targets)", got, err, upd(gun, "targets", 5))
}

func testGetVersion(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	for _, v := range []int64{1, 2, 5} {
		mustUpdate(t, s, gun, upd(gun, "targets", v), upd(gun, "snapshot", v))
	}
	for _, v := range []int64{1, 2, 5} {
		got, err := s.GetVersion(ctx, gun, "targets", v)
		wantMeta(t, "GetVersion(targets)", got, err, upd(gun, "targets", v))
	}
	for _, v := range []int64{0, 3, 6, -1} {
		got, err := s.GetVersion(ctx, gun, "targets", v)
		wantNotFound(t, "GetVersion(missing)", got, err, storage.NotFoundError{GUN: gun, Role: "targets", Version: v})
	}
	got, err := s.GetVersion(ctx, gun, "root", 1)
	wantNotFound(t, "GetVersion(other role)", got, err, storage.NotFoundError{GUN: gun, Role: "root", Version: 1})
}

func testGetChecksum(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun, other = "example.com/app", "example.com/other"
	for _, v := range []int64{1, 2, 3} {
		mustUpdate(t, s, gun, upd(gun, "snapshot", v))
	}
	u := upd(gun, "snapshot", 2)
	sum := storage.SHA256Hex(u.Data)
	// The same bytes under another role of another GUN must not leak into
	// lookups of gun's targets or of other's snapshot.
	mustUpdate(t, s, other, storage.MetaUpdate{Role: "targets", Version: 1, Data: u.Data})
	got, err := s.GetChecksum(ctx, gun, "snapshot", sum)
	wantMeta(t, "GetChecksum(v2)", got, err, u)

	miss := []struct {
		name, gun, role, sum string
	}{
		{name: "OtherRole", gun: gun, role: "targets", sum: sum},
		{name: "OtherGUN", gun: other, role: "snapshot", sum: sum},
		{name: "UpperCaseHex", gun: gun, role: "snapshot", sum: strings.ToUpper(sum)},
		{name: "Unknown", gun: gun, role: "snapshot", sum: storage.SHA256Hex([]byte("nope"))},
		{name: "NotHex", gun: gun, role: "snapshot", sum: "not-a-hash"},
	}
	for _, m := range miss {
		got, err := s.GetChecksum(ctx, m.gun, m.role, m.sum)
		wantNotFound(t, "GetChecksum/"+m.name, got, err, storage.NotFoundError{GUN: m.gun, Role: m.role, SHA256: m.sum})
	}
}

func testChecksumRepeatedBytes(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	data := []byte("identical bytes")
	mustUpdate(t, s, gun, storage.MetaUpdate{Role: "targets", Version: 1, Data: data})
	mustUpdate(t, s, gun, storage.MetaUpdate{Role: "targets", Version: 2, Data: data})
	got, err := s.GetChecksum(t.Context(), gun, "targets", storage.SHA256Hex(data))
	wantMeta(t, "GetChecksum", got, err, storage.MetaUpdate{Role: "targets", Version: 2, Data: data})
}

func testVersions64Bit(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	versions := []int64{math.MaxInt32, 1 << 31, 1 << 32, 1 << 62, math.MaxInt64}
	for _, v := range versions {
		mustUpdate(t, s, gun, upd(gun, "timestamp", v))
	}
	for _, v := range versions {
		got, err := s.GetVersion(ctx, gun, "timestamp", v)
		wantMeta(t, "GetVersion", got, err, upd(gun, "timestamp", v))
	}
	got, err := s.GetCurrent(ctx, gun, "timestamp")
	wantMeta(t, "GetCurrent", got, err, upd(gun, "timestamp", math.MaxInt64))
	err = s.UpdateMany(ctx, gun, []storage.MetaUpdate{upd(gun, "timestamp", 1<<62+1)})
	wantOldVersion(t, "UpdateMany(2^62+1 after MaxInt64)", err, storage.OldVersionError{GUN: gun, Role: "timestamp", Version: 1<<62 + 1})
	cs := allChanges(t, s, gun)
	if len(cs) != len(versions) {
		t.Fatalf("changefeed has %d rows, want %d", len(cs), len(versions))
	}
	for i, c := range cs {
		if c.Version != versions[i] {
			t.Errorf("change %d Version = %d, want %d", i, c.Version, versions[i])
		}
	}
}

func testNamesExact(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	// Case, trailing spaces, multi-byte characters and the longest names
	// must all be stored and matched byte for byte on every backend.
	long := strings.Repeat("é", 127) + "x" // 255 bytes, 128 characters
	guns := []string{"example.com/app", "example.com/App", "example.com/app ", "example.com/ap", long}
	roles := []string{"targets", "Targets", "targets ", "targets/releases", long}
	for i, gun := range guns {
		for j, role := range roles {
			mustUpdate(t, s, gun, storage.MetaUpdate{Role: role, Version: int64(1 + i*10 + j), Data: fileBytes(gun, role, 1)})
		}
	}
	for i, gun := range guns {
		for j, role := range roles {
			got, err := s.GetCurrent(ctx, gun, role)
			wantMeta(t, "GetCurrent("+gun+", "+role+")", got, err,
				storage.MetaUpdate{Role: role, Version: int64(1 + i*10 + j), Data: fileBytes(gun, role, 1)})
		}
	}
}

func testBytesExact(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{name: "Nil", data: nil},
		{name: "Empty", data: []byte{}},
		{name: "AllByteValues", data: all},
		{name: "TrailingSpacesAndNUL", data: []byte("x \x00 \x00  ")},
		{name: "OneMiB", data: big},
	}
	for i, c := range cases {
		u := storage.MetaUpdate{Role: "targets", Version: int64(i + 1), Data: c.data}
		mustUpdate(t, s, gun, u)
		got, err := s.GetVersion(t.Context(), gun, "targets", u.Version)
		wantMeta(t, "GetVersion/"+c.name, got, err, u)
	}
}

func testNoAliasing(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	in := []byte("original")
	mustUpdate(t, s, gun, storage.MetaUpdate{Role: "targets", Version: 1, Data: in})
	copy(in, "XXXXXXXX") // the caller reuses its buffer
	want := storage.MetaUpdate{Role: "targets", Version: 1, Data: []byte("original")}

	got, err := s.GetCurrent(ctx, gun, "targets")
	wantMeta(t, "GetCurrent after changing the input", got, err, want)
	if err != nil {
		return
	}
	copy(got.Data, "YYYYYYYY") // the caller scribbles on a result
	for name, get := range map[string]func() (*storage.StoredMeta, error){
		"GetCurrent": func() (*storage.StoredMeta, error) { return s.GetCurrent(ctx, gun, "targets") },
		"GetVersion": func() (*storage.StoredMeta, error) { return s.GetVersion(ctx, gun, "targets", 1) },
		"GetChecksum": func() (*storage.StoredMeta, error) {
			return s.GetChecksum(ctx, gun, "targets", storage.SHA256Hex(want.Data))
		},
	} {
		got, err := get()
		wantMeta(t, name+" after changing an earlier result", got, err, want)
	}
}

// testUnstorableNames: lookups by names that UpdateMany refuses (as a
// server may pass on from a URL) find nothing rather than fail.
func testUnstorableNames(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	mustUpdate(t, s, "example.com/app", upd("example.com/app", "targets", 1))
	sum := storage.SHA256Hex(fileBytes("example.com/app", "targets", 1))
	for _, name := range []string{"", "example.com/\xff", "example.com/a\x00b", strings.Repeat("n", 300)} {
		for _, l := range []struct{ gun, role string }{{name, "targets"}, {"example.com/app", name}} {
			got, err := s.GetCurrent(ctx, l.gun, l.role)
			wantNotFound(t, "GetCurrent", got, err, storage.NotFoundError{GUN: l.gun, Role: l.role})
			got, err = s.GetVersion(ctx, l.gun, l.role, 1)
			wantNotFound(t, "GetVersion", got, err, storage.NotFoundError{GUN: l.gun, Role: l.role, Version: 1})
			got, err = s.GetChecksum(ctx, l.gun, l.role, sum)
			wantNotFound(t, "GetChecksum", got, err, storage.NotFoundError{GUN: l.gun, Role: l.role, SHA256: sum})
		}
		if name == "" {
			continue // "" is the global feed
		}
		if cs, err := s.GetChanges(ctx, "0", 10, name); err != nil || len(cs) != 0 {
			t.Errorf("GetChanges(gun %q) = %v, %v; want no rows", name, cs, err)
		}
		if err := s.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q) = %v, want nil", name, err)
		}
	}
	for _, bad := range []string{"", "\xff", "a\x00b", strings.ToUpper(sum), sum + "00"} {
		got, err := s.GetChecksum(ctx, "example.com/app", "targets", bad)
		wantNotFound(t, "GetChecksum(bad sum)", got, err, storage.NotFoundError{GUN: "example.com/app", Role: "targets", SHA256: bad})
	}
	if err := s.Delete(ctx, ""); err != nil {
		t.Errorf(`Delete("") = %v, want nil`, err)
	}
	got, err := s.GetCurrent(ctx, "example.com/app", "targets")
	wantMeta(t, "GetCurrent", got, err, upd("example.com/app", "targets", 1))
}
