package keystoretest

// Conformance tests of cancellation and concurrent use.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// testCancelledContext: every call honours a cancelled context and loses nothing.
func testCancelledContext(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
	pub, err := s.Create(ctx, "targets", gun, keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Create(cctx, "targets", gun, keys.ECDSA); !errors.Is(err, context.Canceled) {
		t.Errorf("Create: err = %v, want context.Canceled", err)
	}
	if _, _, err := s.Get(cctx, pub.ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: err = %v, want context.Canceled", err)
	}
	if _, err := s.List(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List: err = %v, want context.Canceled", err)
	}
	if err := s.Remove(cctx, pub.ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("Remove: err = %v, want context.Canceled", err)
	}
	if _, _, err := s.Get(ctx, pub.ID()); err != nil {
		t.Errorf("key lost after cancelled calls: %v", err)
	}
}

// testConcurrent: concurrent Create, Get, List and Remove, and one key added by everyone at once (exactly one wins).
func testConcurrent(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
	const workers, perWorker = 8, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	kept := map[string]keystore.KeyInfo{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// One role per Create: a store may hand out its pending key
			// for a role again (see keystore.Service.Create).
			var ids, roles []string
			for i := 0; i < perWorker; i++ {
				role := fmt.Sprintf("targets/w%d-%d", w, i)
				roles = append(roles, role)
				pub, err := s.Create(ctx, role, "", keys.ECDSA)
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				ids = append(ids, pub.ID())
				key, _, err := s.Get(ctx, pub.ID())
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				checkSigns(t, key, pub)
				if _, err := s.List(ctx); err != nil {
					t.Errorf("List: %v", err)
				}
			}
			if err := s.Remove(ctx, ids[0]); err != nil {
				t.Errorf("Remove: %v", err)
			}
			mu.Lock()
			for i := 1; i < len(ids); i++ {
				kept[ids[i]] = keystore.KeyInfo{ID: ids[i], Role: roles[i], Type: keys.ECDSA}
			}
			mu.Unlock()
		}(w)
	}
	// Everyone adds the same key at once: exactly one wins.
	shared := genKey(keys.ED25519)(t)
	var wins, losses int
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Add(ctx, keystore.KeyInfo{Role: "targets/shared"}, shared)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, keystore.ErrExists):
				losses++
			default:
				t.Errorf("concurrent Add: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || losses != workers-1 {
		t.Errorf("concurrent Add of one key: %d succeeded, %d ErrExists; want 1 and %d", wins, losses, workers-1)
	}
	kept[shared.CanonicalID()] = keystore.KeyInfo{ID: shared.CanonicalID(), Role: "targets/shared", Type: keys.ED25519}
	checkList(t, s, kept)
}
