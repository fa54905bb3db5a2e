package server_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// TestDeleteRacesPublish is issue 18 item 5: a DELETE landing between an
// update's validation and its store write must not leave targets,
// snapshot and timestamp without a root, nor make anyone's next request a
// 5xx.
func TestDeleteRacesPublish(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("OtherServer", func(t *testing.T) { testDeleteFromOtherServer(t, b) })
			t.Run("SameServer", func(t *testing.T) { testDeleteOnSameServer(t, b) })
		})
	}
}

// testDeleteFromOtherServer: the DELETE goes through a second server on
// the same database, which no in-process lock of the first can stop; the
// first server's write must notice (storage.Precondition) and validate
// again, against the now empty collection.
func testDeleteFromOtherServer(t *testing.T, b servertest.Backend) {
	ctx := context.Background()
	store := b.Open(t)
	a := servertest.Start(t, store, server.Options{})
	other := servertest.Start(t, store, server.Options{Keys: a.Keys})
	const gun = "example.com/race"
	r := a.NewRepo(t, gun, true)
	deleted := false
	server.SetBeforeCommit(a.Server, func(string) {
		if deleted {
			return
		}
		deleted = true
		if err := other.Client(t, gun).Delete(ctx); err != nil {
			t.Errorf("DELETE through the other server: %v", err)
		}
	})
	if err := r.AddTarget(tuf.RoleTargets, "app", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	parts, err := r.Publish(tuf.RoleTargets)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Client(t, gun).Publish(ctx, parts)
	if !deleted {
		t.Fatal("the hook did not run")
	}
	// Validated again after the delete: no root, so INVALID_UPDATE.
	if !errors.Is(err, api.ErrInvalidUpdate) {
		t.Fatalf("publish racing a delete = %v, want 400 INVALID_UPDATE (no root any more)", err)
	}
	for _, h := range []*servertest.Harness{a, other} {
		for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
			if got := do(t, h, "GET", "/v2/"+gun+"/_trust/tuf/"+role+".json", nil, ""); got.status != 404 {
				t.Errorf("GET %s.json after the refused publish = %d, want 404 (nothing half written)", role, got.status)
			}
		}
	}
	if n := serverErrors(t, a, other); n != 0 {
		t.Errorf("%d requests got a 5xx", n)
	}
	server.SetBeforeCommit(a.Server, nil)
	a.NewRepo(t, gun, true) // the owner starts afresh
}

// testDeleteOnSameServer: the DELETE reaches the publishing server; it
// waits for the writer lock, so the publish lands whole and the delete
// then removes all of it.
func testDeleteOnSameServer(t *testing.T, b servertest.Backend) {
	ctx := context.Background()
	a := servertest.Start(t, b.Open(t), server.Options{})
	const gun = "example.com/race"
	r := a.NewRepo(t, gun, true)
	deleteDone := make(chan error, 1)
	c := a.Client(t, gun)
	started := false
	server.SetBeforeCommit(a.Server, func(string) {
		if started {
			return
		}
		started = true
		go func() { deleteDone <- c.Delete(ctx) }()
		// Wait until the DELETE queues on the writer lock (held by this
		// publish: 2 holders) or, without that lock, has finished.
		for server.WritersQueued(a.Server, gun) < 2 {
			select {
			case err := <-deleteDone:
				deleteDone <- err
				return
			default:
			}
			runtime.Gosched()
		}
	})
	if err := r.AddTarget(tuf.RoleTargets, "app", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	parts, err := r.Publish(tuf.RoleTargets)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Client(t, gun).Publish(ctx, parts); err != nil {
		t.Errorf("publish with a DELETE queued behind it = %v, want success (the DELETE waits for the writer lock)", err)
	}
	if err := <-deleteDone; err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
		if got := do(t, a, "GET", "/v2/"+gun+"/_trust/tuf/"+role+".json", nil, ""); got.status != 404 {
			t.Errorf("GET %s.json after the delete = %d, want 404", role, got.status)
		}
	}
	if n := serverErrors(t, a); n != 0 {
		t.Errorf("%d requests got a 5xx", n)
	}
}
