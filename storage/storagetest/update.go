package storagetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/notary-go/notary/storage"
)

var updateTests = []test{
	{"OldVersion", testOldVersion},
	{"AllOrNothing", testAllOrNothing},
	{"SeveralVersionsInOneCall", testSameCallVersions},
	{"EmptyUpdates", testEmptyUpdates},
	{"InvalidArguments", testInvalidArguments},
}

func testOldVersion(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "targets", 5), upd(gun, "timestamp", 5))
	for _, tc := range []struct {
		name    string
		version int64
	}{
		{name: "Equal", version: 5},
		{name: "Lower", version: 4},
		{name: "Zero", version: 0},
		{name: "Negative", version: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := upd(gun, "targets", tc.version)
			u.Data = append(u.Data, " changed"...)
			err := s.UpdateMany(ctx, gun, []storage.MetaUpdate{u})
			wantOldVersion(t, "UpdateMany", err, storage.OldVersionError{GUN: gun, Role: "targets", Version: tc.version})
		})
	}
	got, err := s.GetCurrent(ctx, gun, "targets")
	wantMeta(t, "GetCurrent after refused updates", got, err, upd(gun, "targets", 5))
	// Another role or another GUN is not affected by targets' versions.
	mustUpdate(t, s, gun, upd(gun, "snapshot", 1))
	mustUpdate(t, s, "example.com/other", upd("example.com/other", "targets", 1))
}

func testAllOrNothing(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "snapshot", 3))
	for _, tc := range []struct {
		name    string
		updates []storage.MetaUpdate
		bad     storage.MetaUpdate
	}{
		{
			name:    "ConflictLast",
			updates: []storage.MetaUpdate{upd(gun, "root", 1), upd(gun, "targets", 1), upd(gun, "timestamp", 1), upd(gun, "snapshot", 3)},
			bad:     upd(gun, "snapshot", 3),
		},
		{
			name:    "ConflictFirst",
			updates: []storage.MetaUpdate{upd(gun, "snapshot", 2), upd(gun, "root", 1), upd(gun, "timestamp", 1)},
			bad:     upd(gun, "snapshot", 2),
		},
		{
			name:    "RepeatLast",
			updates: []storage.MetaUpdate{upd(gun, "root", 1), upd(gun, "timestamp", 1), upd(gun, "targets", 1), upd(gun, "targets", 1)},
			bad:     upd(gun, "targets", 1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UpdateMany(ctx, gun, tc.updates)
			wantOldVersion(t, "UpdateMany", err, storage.OldVersionError{GUN: gun, Role: tc.bad.Role, Version: tc.bad.Version})
			for _, role := range []string{"root", "targets", "timestamp"} {
				got, err := s.GetCurrent(ctx, gun, role)
				wantNotFound(t, "GetCurrent("+role+") after a refused call", got, err, storage.NotFoundError{GUN: gun, Role: role})
			}
			got, err := s.GetCurrent(ctx, gun, "snapshot")
			wantMeta(t, "GetCurrent(snapshot)", got, err, upd(gun, "snapshot", 3))
			if cs := allChanges(t, s, ""); len(cs) != 0 {
				t.Errorf("changefeed after a refused call = %+v, want empty", cs)
			}
		})
	}
}

func testSameCallVersions(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	// Upstream: several versions of one role may be stored in one call if
	// all are unique and newer than what is stored; their order is free.
	mustUpdate(t, s, gun, upd(gun, "timestamp", 2), upd(gun, "timestamp", 3))
	mustUpdate(t, s, gun, upd(gun, "timestamp", 6), upd(gun, "timestamp", 5))
	got, err := s.GetCurrent(ctx, gun, "timestamp")
	wantMeta(t, "GetCurrent", got, err, upd(gun, "timestamp", 6))
	for _, v := range []int64{2, 3, 5, 6} {
		got, err := s.GetVersion(ctx, gun, "timestamp", v)
		wantMeta(t, "GetVersion", got, err, upd(gun, "timestamp", v))
	}
	var versions []int64
	for _, c := range allChanges(t, s, gun) {
		versions = append(versions, c.Version)
	}
	if want := []int64{2, 3, 6, 5}; !slices.Equal(versions, want) {
		t.Errorf("changefeed versions = %v, want %v (the order of the calls' updates)", versions, want)
	}
	err = s.UpdateMany(ctx, gun, []storage.MetaUpdate{upd(gun, "timestamp", 7), upd(gun, "timestamp", 4)})
	wantOldVersion(t, "UpdateMany(7, 4)", err, storage.OldVersionError{GUN: gun, Role: "timestamp", Version: 4})
	if _, err := s.GetVersion(ctx, gun, "timestamp", 7); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetVersion(7) after a refused call = %v, want ErrNotFound", err)
	}
}

func testEmptyUpdates(t *testing.T, s storage.MetaStore) {
	for _, updates := range [][]storage.MetaUpdate{nil, {}} {
		if err := s.UpdateMany(t.Context(), "example.com/app", updates); err != nil {
			t.Errorf("UpdateMany(%#v) = %v, want nil", updates, err)
		}
	}
	if cs := allChanges(t, s, ""); len(cs) != 0 {
		t.Errorf("changefeed = %+v, want empty", cs)
	}
	// An empty call creates nothing, so deleting the GUN writes no row.
	if err := s.Delete(t.Context(), "example.com/app"); err != nil {
		t.Fatal(err)
	}
	if cs := allChanges(t, s, ""); len(cs) != 0 {
		t.Errorf("changefeed after Delete = %+v, want empty", cs)
	}
}

func testInvalidArguments(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	good := upd(gun, "targets", 1)
	for _, tc := range []struct {
		name    string
		gun     string
		role    string
		wantArg string
	}{
		{name: "EmptyGUN", gun: "", role: "targets", wantArg: "gun"},
		{name: "LongGUN", gun: strings.Repeat("g", storage.MaxNameLen+1), role: "targets", wantArg: "gun"},
		{name: "LongMultiByteGUN", gun: strings.Repeat("é", 128), role: "targets", wantArg: "gun"},
		{name: "InvalidUTF8GUN", gun: "example.com/\xff", role: "targets", wantArg: "gun"},
		{name: "NULInGUN", gun: "example.com/a\x00b", role: "targets", wantArg: "gun"},
		{name: "EmptyRole", gun: gun, role: "", wantArg: "role"},
		{name: "LongRole", gun: gun, role: strings.Repeat("r", storage.MaxNameLen+1), wantArg: "role"},
		{name: "InvalidUTF8Role", gun: gun, role: "targets/\xc3", wantArg: "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := storage.MetaUpdate{Role: tc.role, Version: 1, Data: []byte("x")}
			err := s.UpdateMany(ctx, tc.gun, []storage.MetaUpdate{good, bad})
			var ia *storage.InvalidArgumentError
			if !errors.Is(err, storage.ErrInvalidArgument) || !errors.As(err, &ia) {
				t.Fatalf("UpdateMany = %v, want an *InvalidArgumentError", err)
			}
			if ia.Arg != tc.wantArg {
				t.Errorf("InvalidArgumentError.Arg = %q, want %q", ia.Arg, tc.wantArg)
			}
		})
	}
	got, err := s.GetCurrent(ctx, gun, "targets")
	wantNotFound(t, "GetCurrent after refused calls", got, err, storage.NotFoundError{GUN: gun, Role: "targets"})
}
