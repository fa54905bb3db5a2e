package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

const gun = "example.com/audit"

// TestAudit_NCC2015_2_ExpiredSnapshotRefused: NCC 2015 finding 2 (expired
// metadata was not refused everywhere, a freeze attack). A current,
// correctly signed timestamp that points at an expired snapshot must not
// get the snapshot trusted: the snapshot's own expiry is checked
// (TUF 5.5.6), not only the timestamp's or the targets'. Both the pure
// state machine and the whole client workflow are driven.
func TestAudit_NCC2015_2_ExpiredSnapshotRefused(t *testing.T) {
	newSim := func() *tuftest.Simulator {
		sim := tuftest.New(gun)
		sim.AddTarget(tuf.RoleTargets, "v1", []byte("v1"))
		// Snapshot expired a minute ago; timestamp and targets are current.
		sim.Expire(tuf.RoleSnapshot, sim.Clock.Now().Add(-time.Minute))
		sim.Publish()
		return sim
	}
	wantExpiredSnapshot := func(t *testing.T, err error) {
		t.Helper()
		var ee *tuf.ExpiredError
		if !errors.As(err, &ee) || !errors.Is(err, tuf.ErrExpired) || ee.Role != tuf.RoleSnapshot {
			t.Fatalf("got %v, want a *tuf.ExpiredError for snapshot", err)
		}
	}

	t.Run("TrustedSet.UpdateSnapshot", func(t *testing.T) {
		sim := newSim()
		s, err := update.NewTrustedSet(sim.Bytes(tuf.RoleRoot), sim.Clock.Now(), nil, gun)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateTimestamp(sim.Bytes(tuf.RoleTimestamp)); err != nil {
			t.Fatalf("the current timestamp must be accepted: %v", err)
		}
		_, err = s.UpdateSnapshot(sim.Bytes(tuf.RoleSnapshot))
		wantExpiredSnapshot(t, err)
		// Nothing past the snapshot may load.
		if _, err := s.UpdateTargets(sim.Bytes(tuf.RoleTargets)); err == nil {
			t.Fatal("targets loaded after the snapshot was refused")
		}
	})

	t.Run("Updater", func(t *testing.T) {
		sim := newSim()
		u, err := update.NewUpdater(update.Options{GUN: gun, Remote: sim, Cache: update.NewMemoryCache()})
		if err != nil {
			t.Fatal(err)
		}
		repo, err := u.Update(context.Background(), sim.Clock.Now())
		if err == nil {
			t.Fatalf("Update trusted an expired snapshot: %d targets", len(repo.ListTargets()))
		}
		wantExpiredSnapshot(t, err)
	})
}
