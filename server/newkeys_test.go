package server_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/tuf"
)

// countingKeys counts CreateKey calls of the wrapped KeyService.
type countingKeys struct {
	server.KeyService
	created atomic.Int64
}

func (c *countingKeys) CreateKey(ctx context.Context, gun, role, alg string) (keys.PublicKey, error) {
	c.created.Add(1)
	return c.KeyService.CreateKey(ctx, gun, role, alg)
}

// TestKeyReadsReusePendingKey is issue 10 item 5: unauthenticated reads of
// a new collection's timestamp.key and snapshot.key must not make a key
// each, on any key store.
func TestKeyReadsReusePendingKey(t *testing.T) {
	kdb, err := keydb.NewMemory(keydb.Options{DefaultAlias: "test", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ks   server.KeyService
	}{
		{"memory", keyservice.NewMemory()},
		{"keydb", keyservice.NewLocal(kdb)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ck := &countingKeys{KeyService: tc.ks}
			h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{Keys: ck})
			c := h.Client(t, "example.com/new")
			for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot} {
				var first keys.PublicKey
				var wg sync.WaitGroup
				got := make([]keys.PublicKey, 20)
				errs := make([]error, len(got))
				for i := range got {
					wg.Go(func() { got[i], errs[i] = c.GetKey(ctx, role) })
				}
				wg.Wait()
				for i := range got {
					if errs[i] != nil {
						t.Fatalf("GET %s.key: %v", role, errs[i])
					}
					if i == 0 {
						first = got[0]
					} else if got[i].ID() != first.ID() {
						t.Fatalf("GET %s.key #%d = %s, want the first read's key %s", role, i, got[i].ID(), first.ID())
					}
				}
			}
			if n := ck.created.Load(); n != 2 {
				t.Errorf("40 reads made %d keys, want 2 (one per role)", n)
			}
			// The key store itself, asked twice, hands out the same
			// pending key too (a second server process, a restart of
			// the window).
			a, err := tc.ks.CreateKey(ctx, "example.com/direct", tuf.RoleTimestamp, keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tc.ks.CreateKey(ctx, "example.com/direct", tuf.RoleTimestamp, keys.ECDSA)
			if err != nil || a.ID() != b.ID() {
				t.Errorf("CreateKey twice: %s then %s (%v), want the pending key again", a.ID(), b.ID(), err)
			}
			// Once the key has signed it is no longer pending.
			sg, err := tc.ks.Signer(ctx, "example.com/direct", tuf.RoleTimestamp, a)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := sg.Sign(ctx, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			if c, err := tc.ks.CreateKey(ctx, "example.com/direct", tuf.RoleTimestamp, keys.ECDSA); err != nil || c.ID() == a.ID() {
				t.Errorf("CreateKey after the pending key signed = %s (%v), want a new key", c.ID(), err)
			}
		})
	}
}

// TestNewGUNKeysBounded: keys for GUNs without trust data are capped per
// window (503 beyond); a GUN already read keeps its key, collections with
// trust data are not affected, and the window frees room.
func TestNewGUNKeysBounded(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	ck := &countingKeys{KeyService: keyservice.NewMemory()}
	h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{Keys: ck, MaxNewGUNKeys: 4, Now: clock.Now})
	r := h.NewRepo(t, "example.com/published", true) // 2 of the 4
	want := r.Root.Roles[tuf.RoleTimestamp].KeyIDs[0]
	for i := range 2 {
		if _, err := h.Client(t, fmt.Sprintf("example.com/n%d", i)).GetKey(ctx, tuf.RoleTimestamp); err != nil {
			t.Fatalf("GET timestamp.key of new GUN %d: %v", i, err)
		}
	}
	_, err := h.Client(t, "example.com/one-too-many").GetKey(ctx, tuf.RoleTimestamp)
	if !errors.Is(err, api.ErrUnavailable) {
		t.Fatalf("GET timestamp.key beyond the cap = %v, want 503", err)
	}
	var se *api.StatusError
	if !errors.As(err, &se) || se.Err == nil || se.Err.Code != api.CodeUnavailable {
		t.Errorf("beyond the cap: %v, want UNAVAILABLE", err)
	}
	if _, err := h.Client(t, "example.com/n0").GetKey(ctx, tuf.RoleTimestamp); err != nil {
		t.Errorf("a GUN read before the cap was reached: %v", err)
	}
	if k, err := h.Client(t, "example.com/published").GetKey(ctx, tuf.RoleTimestamp); err != nil || k.ID() != want {
		t.Errorf("GET timestamp.key of a published collection at the cap = %s (%v), want its root's key", k.ID(), err)
	}
	if n := ck.created.Load(); n != 4 {
		t.Errorf("made %d keys, want 4", n)
	}
	clock.Advance(server.NewGUNKeyWindow)
	if _, err := h.Client(t, "example.com/one-too-many").GetKey(ctx, tuf.RoleTimestamp); err != nil {
		t.Errorf("after the window: %v", err)
	}
}
