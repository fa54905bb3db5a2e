// Package keystoretest is the conformance suite every keystore.Service
// passes: one line per implementation,
//
//	keystoretest.Run(t, func(t *testing.T) keystore.Service { return keystore.NewMemory() })
//
// plus keystoretest.Reopen for stores that persist keys.
package keystoretest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// Option configures Run.
type Option func(*config)

type config struct {
	reopen        func(t *testing.T, s keystore.Service) keystore.Service
	nonExportable bool
}

// NonExportable is for stores whose keys never leave them (a PKCS#11
// token): a key got from Get cannot be added back after Remove.
func NonExportable() Option { return func(c *config) { c.nonExportable = true } }

// Reopen lets Run check that keys survive a reload: reopen returns a new
// instance over the same storage as s (a store open returned), as a new
// process would see it.
func Reopen(reopen func(t *testing.T, s keystore.Service) keystore.Service) Option {
	return func(c *config) { c.reopen = reopen }
}

const gun = "example.com/conformance"

// Run runs the suite. open returns a new, empty store each time it is
// called; subtests do not share stores.
func Run(t *testing.T, open func(t *testing.T) keystore.Service, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	ctx := context.Background()

	t.Run("Create", func(t *testing.T) {
		tests := []struct{ role, gun, keyType string }{
			{"root", "", keys.ECDSA},
			{"targets", gun, keys.ECDSA},
			{"snapshot", gun, keys.ED25519},
			{"targets/releases", "", keys.ED25519},
		}
		for _, tt := range tests {
			t.Run(tt.role+"/"+tt.keyType, func(t *testing.T) {
				s := open(t)
				pub, err := s.Create(ctx, tt.role, tt.gun, tt.keyType)
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if pub.Type != tt.keyType {
					t.Errorf("public key type %s, want %s", pub.Type, tt.keyType)
				}
				key, info, err := s.Get(ctx, pub.ID())
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				want := keystore.KeyInfo{ID: pub.ID(), Role: tt.role, GUN: tt.gun, Type: tt.keyType}
				if info != want {
					t.Errorf("Get info = %+v, want %+v", info, want)
				}
				if key.CanonicalID() != pub.ID() {
					t.Errorf("Get returned key %s, want %s", key.CanonicalID(), pub.ID())
				}
				checkSigns(t, key, pub)
			})
		}
	})

	t.Run("CreateUnsupportedType", func(t *testing.T) {
		for _, typ := range []string{keys.RSA, keys.ECDSAx509, "", "bogus"} {
			t.Run(typ, func(t *testing.T) {
				s := open(t)
				if _, err := s.Create(ctx, "targets", gun, typ); err == nil {
					t.Errorf("Create(%q) succeeded", typ)
				}
				if l := list(t, s); len(l) != 0 {
					t.Errorf("List after failed Create = %v", l)
				}
			})
		}
	})

	rsaKey := sync.OnceValue(func() *keys.PrivateKey {
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		k, err := keys.FromCrypto(r)
		if err != nil {
			panic(err)
		}
		return k
	})

	t.Run("AddGet", func(t *testing.T) {
		tests := []struct {
			name string
			key  func(t *testing.T) *keys.PrivateKey
			role string
			gun  string
		}{
			{"ecdsa", genKey(keys.ECDSA), "targets", gun},
			{"ed25519", genKey(keys.ED25519), "targets/a", ""},
			{"rsa", func(*testing.T) *keys.PrivateKey { return rsaKey() }, "targets/b", ""},
			{"ecdsa-x509", func(t *testing.T) *keys.PrivateKey {
				k, err := genKey(keys.ECDSA)(t).WithRootCertificate(gun, time.Unix(1700000000, 0), time.Unix(1900000000, 0))
				if err != nil {
					t.Fatal(err)
				}
				return k
			}, "root", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				key := tt.key(t)
				id := key.CanonicalID()
				if err := s.Add(ctx, keystore.KeyInfo{Role: tt.role, GUN: tt.gun}, key); err != nil {
					t.Fatalf("Add: %v", err)
				}
				got, info, err := s.Get(ctx, id)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				plainType := key.Plain().Type()
				want := keystore.KeyInfo{ID: id, Role: tt.role, GUN: tt.gun, Type: plainType}
				if info != want {
					t.Errorf("info = %+v, want %+v", info, want)
				}
				if got.CanonicalID() != id {
					t.Errorf("Get returned key %s, want %s", got.CanonicalID(), id)
				}
				checkSigns(t, got, key.Plain().Public())
				if key.Public().IsX509() {
					x, err := got.WithPublic(key.Public())
					if err != nil {
						t.Fatalf("WithPublic(certificate): %v", err)
					}
					checkSigns(t, x, key.Public())
				}
			})
		}
	})

	t.Run("AddWithID", func(t *testing.T) {
		s := open(t)
		key := genKey(keys.ECDSA)(t)
		if err := s.Add(ctx, keystore.KeyInfo{ID: key.CanonicalID(), Role: "targets", GUN: gun}, key); err != nil {
			t.Fatalf("Add with its own ID: %v", err)
		}
		other := genKey(keys.ECDSA)(t)
		if err := s.Add(ctx, keystore.KeyInfo{ID: key.CanonicalID(), Role: "targets", GUN: gun}, other); err == nil {
			t.Error("Add with another key's ID succeeded")
		}
		if _, _, err := s.Get(ctx, other.CanonicalID()); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("key added under a wrong ID is stored: %v", err)
		}
	})

	t.Run("AddExists", func(t *testing.T) {
		s := open(t)
		key := genKey(keys.ECDSA)(t)
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets", GUN: gun}, key); err != nil {
			t.Fatal(err)
		}
		err := s.Add(ctx, keystore.KeyInfo{Role: "snapshot", GUN: gun}, key)
		if !errors.Is(err, keystore.ErrExists) {
			t.Errorf("second Add: err = %v, want ErrExists", err)
		}
		if _, info, err := s.Get(ctx, key.CanonicalID()); err != nil || info.Role != "targets" {
			t.Errorf("after second Add: role %q, %v; want the first one kept", info.Role, err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		id := genKey(keys.ECDSA)(t).CanonicalID()
		if _, _, err := s.Get(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
		if err := s.Remove(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Remove: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("InvalidID", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"", "../../../../etc/passwd", "..", "abc", fmt.Sprintf("%064d", 0) + "/x", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"} {
			if _, _, err := s.Get(ctx, id); err == nil || !(errors.Is(err, keystore.ErrInvalidID) || errors.Is(err, keystore.ErrNotFound)) {
				t.Errorf("Get(%q): err = %v, want ErrInvalidID or ErrNotFound", id, err)
			}
			if err := s.Remove(ctx, id); err == nil || !(errors.Is(err, keystore.ErrInvalidID) || errors.Is(err, keystore.ErrNotFound)) {
				t.Errorf("Remove(%q): err = %v, want ErrInvalidID or ErrNotFound", id, err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		if l := list(t, s); len(l) != 0 {
			t.Fatalf("new store lists %v", l)
		}
		want := map[string]keystore.KeyInfo{}
		for _, k := range []struct{ role, gun, typ string }{
			{"root", "", keys.ECDSA}, {"targets", gun, keys.ECDSA}, {"snapshot", gun, keys.ED25519}, {"targets/x", "", keys.ECDSA},
		} {
			pub, err := s.Create(ctx, k.role, k.gun, k.typ)
			if err != nil {
				t.Fatal(err)
			}
			want[pub.ID()] = keystore.KeyInfo{ID: pub.ID(), Role: k.role, GUN: k.gun, Type: k.typ}
		}
		checkList(t, s, want)
	})

	t.Run("Remove", func(t *testing.T) {
		s := open(t)
		a, err := s.Create(ctx, "targets", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Create(ctx, "snapshot", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		keyA, _, err := s.Get(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, a.ID()); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, _, err := s.Get(ctx, a.ID()); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Get after Remove: err = %v, want ErrNotFound", err)
		}
		if err := s.Remove(ctx, a.ID()); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("second Remove: err = %v, want ErrNotFound", err)
		}
		checkList(t, s, map[string]keystore.KeyInfo{b.ID(): {ID: b.ID(), Role: "snapshot", GUN: gun, Type: keys.ECDSA}})
		if c.nonExportable {
			return
		}
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets", GUN: gun}, keyA); err != nil {
			t.Errorf("Add after Remove: %v", err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
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
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
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
	})

	if c.reopen == nil {
		return
	}
	t.Run("Reopen", func(t *testing.T) {
		s := open(t)
		want := map[string]keystore.KeyInfo{}
		pubs := map[string]keys.PublicKey{}
		for _, k := range []struct{ role, gun, typ string }{
			{"root", "", keys.ECDSA}, {"targets", gun, keys.ECDSA}, {"snapshot", gun, keys.ED25519}, {"targets/x", "", keys.ED25519},
		} {
			pub, err := s.Create(ctx, k.role, k.gun, k.typ)
			if err != nil {
				t.Fatal(err)
			}
			pubs[pub.ID()] = pub
			want[pub.ID()] = keystore.KeyInfo{ID: pub.ID(), Role: k.role, GUN: k.gun, Type: k.typ}
		}
		r := open(t)
		if l := list(t, r); len(l) != 0 {
			t.Errorf("a store from open sees another's keys: %v", l)
		}
		s2 := c.reopen(t, s)
		checkList(t, s2, want)
		for id, pub := range pubs {
			key, info, err := s2.Get(ctx, id)
			if err != nil {
				t.Fatalf("Get after reopen: %v", err)
			}
			if info != want[id] {
				t.Errorf("info after reopen = %+v, want %+v", info, want[id])
			}
			checkSigns(t, key, pub)
		}
		if err := s2.Remove(ctx, pubs[firstKey(pubs)].ID()); err != nil {
			t.Fatal(err)
		}
		delete(want, firstKey(pubs))
		checkList(t, c.reopen(t, s), want)
	})
}

func firstKey(m map[string]keys.PublicKey) string {
	first := ""
	for k := range m {
		if first == "" || k < first {
			first = k
		}
	}
	return first
}

func genKey(typ string) func(t *testing.T) *keys.PrivateKey {
	return func(t *testing.T) *keys.PrivateKey {
		t.Helper()
		k, err := keys.Generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

func list(t *testing.T, s keystore.Service) []keystore.KeyInfo {
	t.Helper()
	l, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return l
}

// checkList compares List with want. A store may leave Type empty in List
// (keystore.KeyInfo).
func checkList(t *testing.T, s keystore.Service, want map[string]keystore.KeyInfo) {
	t.Helper()
	got := list(t, s)
	seen := map[string]bool{}
	for _, info := range got {
		w, ok := want[info.ID]
		if !ok {
			t.Errorf("List has unexpected key %+v", info)
			continue
		}
		if seen[info.ID] {
			t.Errorf("List has %s twice", info.ID)
		}
		seen[info.ID] = true
		if info.Type == "" {
			w.Type = ""
		}
		if info != w {
			t.Errorf("List entry %+v, want %+v", info, w)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("List lacks %s", id)
		}
	}
}

func checkSigns(t *testing.T, key *keys.PrivateKey, pub keys.PublicKey) {
	t.Helper()
	msg := []byte(`{"_type":"Targets","version":1}`)
	sig, err := key.Sign(msg)
	if err != nil {
		t.Errorf("Sign: %v", err)
		return
	}
	if err := pub.Verify(key.Method(), msg, sig); err != nil {
		t.Errorf("signature by stored key does not verify with %s key %s: %v", pub.Type, pub.ID(), err)
	}
}
