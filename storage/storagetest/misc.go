package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/notary-go/notary/storage"
)

var miscTests = []test{
	{"Ping", testPing},
	{"CanceledContext", testCanceledContext},
}

func testPing(t *testing.T, s storage.MetaStore) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v, want nil", err)
	}
}

func testCanceledContext(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "timestamp", 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"UpdateMany": func() error {
			return s.UpdateMany(ctx, gun, []storage.MetaUpdate{upd(gun, "timestamp", 2)})
		},
		"GetCurrent": func() error { _, err := s.GetCurrent(ctx, gun, "timestamp"); return err },
		"GetVersion": func() error { _, err := s.GetVersion(ctx, gun, "timestamp", 1); return err },
		"GetChecksum": func() error {
			_, err := s.GetChecksum(ctx, gun, "timestamp", storage.SHA256Hex(fileBytes(gun, "timestamp", 1)))
			return err
		},
		"GetChanges": func() error { _, err := s.GetChanges(ctx, "0", 10, ""); return err },
		"Delete":     func() error { return s.Delete(ctx, gun) },
		"Ping":       func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", name, err)
		}
	}
	got, err := s.GetCurrent(t.Context(), gun, "timestamp")
	wantMeta(t, "GetCurrent after canceled calls", got, err, upd(gun, "timestamp", 1))
	if cs := allChanges(t, s, ""); len(cs) != 1 {
		t.Errorf("changefeed after canceled calls has %d rows, want 1", len(cs))
	}
}
