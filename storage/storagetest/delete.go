package storagetest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/notary-go/notary/storage"
)

var deleteTests = []test{
	{"OnlyThatGUN", testDeleteOnlyThatGUN},
	{"ChangefeedRow", testDeleteChangefeed},
	{"StartsAfresh", testDeleteStartsAfresh},
	{"PreconditionAfterDelete", testPreconditionAfterDelete},
}

func testDeleteOnlyThatGUN(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	// Upstream's memory store deleted by prefix; these neighbours must survive.
	neighbours := []string{"example.com/app2", "example.com/app/sub", "example.com/ap", "example.com/App", "example.com/app "}
	roles := []string{"root", "targets", "targets/releases", "snapshot", "timestamp"}
	for _, g := range append([]string{gun}, neighbours...) {
		for _, r := range roles {
			mustUpdate(t, s, g, upd(g, r, 1), upd(g, r, 2))
		}
	}
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatalf("Delete = %v, want nil", err)
	}
	for _, r := range roles {
		got, err := s.GetCurrent(ctx, gun, r)
		wantNotFound(t, "GetCurrent("+r+")", got, err, storage.NotFoundError{GUN: gun, Role: r})
		got, err = s.GetVersion(ctx, gun, r, 1)
		wantNotFound(t, "GetVersion("+r+")", got, err, storage.NotFoundError{GUN: gun, Role: r, Version: 1})
		sum := storage.SHA256Hex(fileBytes(gun, r, 2))
		got, err = s.GetChecksum(ctx, gun, r, sum)
		wantNotFound(t, "GetChecksum("+r+")", got, err, storage.NotFoundError{GUN: gun, Role: r, SHA256: sum})
	}
	for _, g := range neighbours {
		for _, r := range roles {
			got, err := s.GetCurrent(ctx, g, r)
			wantMeta(t, "GetCurrent("+g+", "+r+")", got, err, upd(g, r, 2))
		}
	}
}

func testDeleteChangefeed(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	// Unknown GUN: no error, no row.
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatalf("Delete(unknown) = %v, want nil", err)
	}
	if cs := allChanges(t, s, ""); len(cs) != 0 {
		t.Fatalf("changefeed after deleting an unknown GUN = %+v, want empty", cs)
	}
	// A GUN without timestamps still gets a deletion row: rows existed.
	mustUpdate(t, s, gun, upd(gun, "root", 1), upd(gun, "targets", 1))
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatalf("Delete = %v, want nil", err)
	}
	// Deleting again finds nothing: no second row.
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	cs := allChanges(t, s, "")
	want := []storage.Change{{GUN: gun, Version: 0, SHA256: "", Category: storage.CategoryDeletion}}
	if diff := cmp.Diff(want, cs, cmpopts.IgnoreFields(storage.Change{}, "ID", "CreatedAt")); diff != "" {
		t.Fatalf("changefeed mismatch (-want +got):\n%s", diff)
	}
	if cs[0].CreatedAt.IsZero() || cs[0].ID == "" {
		t.Errorf("deletion row %+v lacks ID or CreatedAt", cs[0])
	}
}

func testDeleteStartsAfresh(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "timestamp", 7))
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatal(err)
	}
	u := storage.MetaUpdate{Role: "timestamp", Version: 1, Data: []byte("fresh")}
	mustUpdate(t, s, gun, u)
	got, err := s.GetCurrent(ctx, gun, "timestamp")
	wantMeta(t, "GetCurrent", got, err, u)
	var cats []string
	for _, c := range allChanges(t, s, gun) {
		cats = append(cats, c.Category)
	}
	if want := []string{"update", "deletion", "update"}; !cmp.Equal(cats, want) {
		t.Errorf("changefeed categories = %v, want %v", cats, want)
	}
}

// testPreconditionAfterDelete is the DELETE-races-a-publish case (issue
// 18 item 5): a writer read timestamp version 1, the GUN was deleted, and
// its UpdateManyIf must then store nothing rather than targets, snapshot
// and timestamp without a root. Both directions: a stale "version 1" and a
// stale "nothing stored" (the GUN was created meanwhile).
func testPreconditionAfterDelete(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "root", 1), upd(gun, "targets", 1), upd(gun, "snapshot", 1), upd(gun, "timestamp", 1))
	read := storage.Precondition{Role: storage.TimestampRole, Version: 1}
	if err := s.Delete(ctx, gun); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateManyIf(ctx, gun, read, []storage.MetaUpdate{upd(gun, "targets", 2), upd(gun, "snapshot", 2), upd(gun, "timestamp", 2)})
	var ce *storage.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, storage.ErrConflict) || *ce != (storage.ConflictError{GUN: gun, Role: "timestamp", Want: 1, Have: 0}) {
		t.Fatalf("UpdateManyIf after a delete = %v, want *ConflictError{Want: 1, Have: 0}", err)
	}
	for _, r := range []string{"targets", "snapshot", "timestamp"} {
		got, err := s.GetCurrent(ctx, gun, r)
		wantNotFound(t, "GetCurrent("+r+") after the refused update", got, err, storage.NotFoundError{GUN: gun, Role: r})
	}

	// Expecting an empty GUN that someone created meanwhile.
	mustUpdate(t, s, gun, upd(gun, "root", 1), upd(gun, "timestamp", 3))
	err = s.UpdateManyIf(ctx, gun, storage.Precondition{Role: storage.TimestampRole}, []storage.MetaUpdate{upd(gun, "targets", 1), upd(gun, "timestamp", 4)})
	if !errors.As(err, &ce) || ce.Want != 0 || ce.Have != 3 {
		t.Fatalf("UpdateManyIf expecting no timestamp = %v, want *ConflictError{Want: 0, Have: 3}", err)
	}
	// The precondition holds: stored as UpdateMany would.
	if err := s.UpdateManyIf(ctx, gun, storage.Precondition{Role: storage.TimestampRole, Version: 3}, []storage.MetaUpdate{upd(gun, "targets", 1), upd(gun, "timestamp", 4)}); err != nil {
		t.Fatalf("UpdateManyIf with a holding precondition = %v", err)
	}
	got, err := s.GetCurrent(ctx, gun, "timestamp")
	wantMeta(t, "GetCurrent(timestamp)", got, err, upd(gun, "timestamp", 4))
}
