package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// faultyKeys wraps a KeyService and can make it fail or hang, as a
// notary-signer that is down or stuck would.
type faultyKeys struct {
	inner server.KeyService
	mode  atomic.Int32 // 0 ok, 1 fail, 2 hang until ctx ends
}

const (
	keysOK = iota
	keysFail
	keysHang
)

func (f *faultyKeys) fault(ctx context.Context) error {
	switch f.mode.Load() {
	case keysFail:
		return errors.New("connection refused")
	case keysHang:
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *faultyKeys) CreateKey(ctx context.Context, gun, role, alg string) (keys.PublicKey, error) {
	if err := f.fault(ctx); err != nil {
		return keys.PublicKey{}, err
	}
	return f.inner.CreateKey(ctx, gun, role, alg)
}

func (f *faultyKeys) Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error) {
	if err := f.fault(ctx); err != nil {
		return nil, err
	}
	return f.inner.Signer(ctx, gun, role, pub)
}

// TestKeyEndpoints checks GET and POST {snapshot,timestamp}.key (§4.2).
func TestKeyEndpoints(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			h := servertest.Start(t, b.Open(t), server.Options{})
			c := h.Client(t, "example.com/keys")
			// Before a root exists, every GET makes a key (as v1's
			// local signer does).
			k1, err := c.GetKey(ctx, "timestamp")
			if err != nil {
				t.Fatal(err)
			}
			if k1.Type != keys.ECDSA {
				t.Errorf("key type %s, want ecdsa", k1.Type)
			}
			r := h.NewRepo(t, "example.com/keys", true)
			want := r.Root.Roles["timestamp"].KeyIDs[0]
			for i := 0; i < 2; i++ {
				k, err := c.GetKey(ctx, "timestamp")
				if err != nil || k.ID() != want {
					t.Fatalf("GET timestamp.key with a root: %s (%v), want root's key %s", k.ID(), err, want)
				}
			}
			// Rotation: POST always makes a new key, unused until a root
			// lists it.
			nk, err := c.RotateKey(ctx, "timestamp")
			if err != nil || nk.ID() == want {
				t.Fatalf("POST timestamp.key: %s (%v)", nk.ID(), err)
			}
			if k, _ := c.GetKey(ctx, "timestamp"); k.ID() != want {
				t.Errorf("GET after POST returned %s, want the root's key until a new root is published", k.ID())
			}
			r.SetRoleKey(tuf.RoleTimestamp, nk)
			if _, err := r.SignRoot(); err != nil {
				t.Fatal(err)
			}
			if err := c.Publish(ctx, r.Parts(tuf.RoleRoot)); err != nil {
				t.Fatalf("publishing the rotated timestamp key: %v", err)
			}
			if k, _ := c.GetKey(ctx, "timestamp"); k.ID() != nk.ID() {
				t.Errorf("GET after publishing the rotation returned %s, want %s", k.ID(), nk.ID())
			}
			tsb, err := c.GetMeta(ctx, "timestamp", 0)
			if err != nil {
				t.Fatal(err)
			}
			_, env, err := tuf.ParseTimestamp(tsb)
			if err != nil || env.Signatures[0].KeyID != nk.ID() {
				t.Errorf("timestamp not signed by the rotated key")
			}
		})
	}
}

// TestSignerFaults checks that with the key service down stored metadata
// is still served, and operations that need a key fail with 503 within the
// key timeout.
func TestSignerFaults(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			fk := &faultyKeys{inner: keyservice.NewMemory()}
			h := servertest.Start(t, b.Open(t), server.Options{Keys: fk, KeyTimeout: 300 * time.Millisecond})
			r := h.NewRepo(t, "example.com/faults", true)
			c := h.Client(t, r.GUN)
			for _, mode := range []int32{keysFail, keysHang} {
				fk.mode.Store(mode)
				for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
					if _, err := c.GetMeta(ctx, role, 0); err != nil {
						t.Errorf("mode %d: GET %s with the signer down: %v", mode, role, err)
					}
				}
				start := time.Now()
				_, err := c.GetKey(ctx, "snapshot")
				checkUnavailable(t, "GET snapshot.key", err)
				_, err = c.RotateKey(ctx, "timestamp")
				checkUnavailable(t, "POST timestamp.key", err)
				_ = r.AddTarget("targets", "x", []byte("x"))
				parts, _ := r.Publish("targets")
				err = c.Publish(ctx, parts)
				checkUnavailable(t, "publish", err)
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("mode %d: three failing calls took %v", mode, d)
				}
				r.Targets["targets"].Version-- // the publish did not land
			}
			fk.mode.Store(keysOK)
			parts, _ := r.Publish("targets")
			if err := c.Publish(ctx, parts); err != nil {
				t.Errorf("publish after the signer recovered: %v", err)
			}
		})
	}
}

func checkUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var se *api.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("%s with the signer down: %v, want 503", what, err)
	}
}

// TestNoKeyService checks a server without a key service: reads work,
// signing answers 500 NO_CRYPTOSERVICE.
func TestNoKeyService(t *testing.T) {
	store := servertest.Backends()[0].Open(t)
	h := servertest.Start(t, store, server.Options{})
	r := h.NewRepo(t, "gun", true)
	s, err := server.New(server.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	h2 := &servertest.Harness{Server: s, Store: store}
	h2.HTTP = newHTTPTest(t, s)
	if got := do(t, h2, "GET", "/v2/gun/_trust/tuf/targets.json", nil, ""); got.status != 200 {
		t.Errorf("read without key service: %d", got.status)
	}
	got := do(t, h2, "GET", "/v2/gun/_trust/tuf/snapshot.key", nil, "")
	if code, _, _ := errorOf(t, got); code != api.CodeNoCryptoService || got.status != 500 {
		t.Errorf("key without key service: %d %s", got.status, got.body)
	}
	_ = r
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func versionOf(t *testing.T, role string, b []byte) int64 {
	t.Helper()
	m, _, err := tuf.ParseRole(role, b)
	if err != nil {
		t.Fatalf("parsing %s: %v", role, err)
	}
	return m.Common().Version
}

// TestRegeneration checks that reads of timestamp and snapshot replace
// expired ones (§4.2), store them and write a changefeed row.
func TestRegeneration(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := &fakeClock{now: time.Now()}
			h := servertest.Start(t, b.Open(t), server.Options{Now: clock.Now})
			r := h.NewRepo(t, "example.com/regen", true)
			c := h.Client(t, r.GUN)
			get := func(role string) []byte {
				t.Helper()
				body, err := c.GetMeta(ctx, role, 0)
				if err != nil {
					t.Fatalf("GET %s: %v", role, err)
				}
				return body
			}
			if v := versionOf(t, "timestamp", get("timestamp")); v != 1 {
				t.Fatalf("timestamp version %d, want 1", v)
			}
			clock.Advance(15 * 24 * time.Hour) // timestamp expired, snapshot not
			ts := get("timestamp")
			if v := versionOf(t, "timestamp", ts); v != 2 {
				t.Errorf("timestamp after expiry: version %d, want 2", v)
			}
			if v := versionOf(t, "snapshot", get("snapshot")); v != 1 {
				t.Errorf("snapshot version %d, want 1 (not expired)", v)
			}
			if got := get("timestamp"); string(got) != string(ts) {
				t.Error("a second read regenerated again")
			}
			cf, err := c.Changefeed(ctx, "", 10)
			if err != nil || cf.Count != 2 || cf.Records[1].Version != 2 || cf.Records[1].SHA256 != servertest.SHA256Hex(ts) {
				t.Errorf("changefeed after regeneration: %+v (%v)", cf, err)
			}
			clock.Advance(4 * 365 * 24 * time.Hour) // both expired; the server holds the snapshot key
			sn := get("snapshot")
			if v := versionOf(t, "snapshot", sn); v != 2 {
				t.Errorf("snapshot after expiry: version %d, want 2", v)
			}
			tsb, _, _ := tuf.ParseTimestamp(get("timestamp"))
			if err := tsb.Meta["snapshot"].Check(sn); err != nil || tsb.Version != 3 {
				t.Errorf("timestamp v%d does not describe the new snapshot: %v", tsb.Version, err)
			}
		})
	}
}

// TestRegenerationClientSnapshot checks that an expired timestamp over a
// client-signed snapshot is renewed, and an expired client snapshot is
// served as it is (only its owner can renew it).
func TestRegenerationClientSnapshot(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	h := servertest.Start(t, servertest.OpenSQLite(t), server.Options{Now: clock.Now})
	r := h.NewRepo(t, "example.com/client", false)
	c := h.Client(t, r.GUN)
	clock.Advance(4 * 365 * 24 * time.Hour)
	ts, err := c.GetMeta(ctx, "timestamp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, "timestamp", ts); v != 2 {
		t.Errorf("timestamp version %d, want 2", v)
	}
	sn, err := c.GetMeta(ctx, "snapshot", 0)
	if err != nil || string(sn) != string(r.Files["snapshot"]) {
		t.Errorf("expired client snapshot not served as stored (%v)", err)
	}
}

// TestRegenerationCannotSign checks that a server without the timestamp
// key serves the stored (expired) timestamp, and one whose key service is
// down answers 503 instead of expired metadata.
func TestRegenerationCannotSign(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	store := servertest.OpenSQLite(t)
	h := servertest.Start(t, store, server.Options{Now: clock.Now})
	r := h.NewRepo(t, "example.com/nokey", true)
	other := servertest.Start(t, store, server.Options{Now: clock.Now}) // its own empty key service
	clock.Advance(15 * 24 * time.Hour)
	ts, err := other.Client(t, r.GUN).GetMeta(ctx, "timestamp", 0)
	if err != nil || versionOf(t, "timestamp", ts) != 1 {
		t.Errorf("server without the key: %v, want the stored timestamp", err)
	}
	fk := &faultyKeys{inner: h.Keys}
	fk.mode.Store(keysFail)
	down := servertest.Start(t, store, server.Options{Now: clock.Now, Keys: fk})
	_, err = down.Client(t, r.GUN).GetMeta(ctx, "timestamp", 0)
	checkUnavailable(t, "GET expired timestamp", err)
	if _, err := down.Client(t, r.GUN).GetMeta(ctx, "root", 0); err != nil {
		t.Errorf("GET root with the signer down: %v", err)
	}
}

// TestRegenerationRace has several servers sharing one database renew the
// same expired timestamp at once: they must settle on one new version.
func TestRegenerationRace(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	store := servertest.OpenSQLite(t)
	first := servertest.Start(t, store, server.Options{Now: clock.Now})
	r := first.NewRepo(t, "example.com/race", true)
	hs := []*servertest.Harness{first}
	for i := 0; i < 3; i++ {
		hs = append(hs, servertest.Start(t, store, server.Options{Now: clock.Now, Keys: first.Keys}))
	}
	clock.Advance(15 * 24 * time.Hour)
	var wg sync.WaitGroup
	results := make(chan []byte, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(h *servertest.Harness) {
			defer wg.Done()
			b, err := h.Client(t, r.GUN).GetMeta(ctx, "timestamp", 0)
			if err != nil {
				t.Errorf("GET timestamp: %v", err)
				return
			}
			results <- b
		}(hs[i%len(hs)])
	}
	wg.Wait()
	close(results)
	for b := range results {
		if v := versionOf(t, "timestamp", b); v != 2 {
			t.Errorf("a reader got timestamp version %d, want 2", v)
		}
	}
	cf, err := store.GetChanges(ctx, "", 100, r.GUN)
	if err != nil || len(cf) != 2 {
		t.Errorf("changefeed has %d rows (%v), want 2: one regeneration", len(cf), err)
	}
	var _ storage.MetaStore = store
}

func newHTTPTest(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
