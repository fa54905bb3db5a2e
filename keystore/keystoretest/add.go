package keystoretest

// Conformance tests of keys added from outside: Add, its ID rules and duplicates.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// rsaKey is made once per test binary: RSA generation is slow.
var rsaKey = sync.OnceValue(func() *keys.PrivateKey {
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

// testAddGet: every key type (x509 included) added comes back from Get, signing as it did.
func testAddGet(t *testing.T, su suite) {
	ctx := context.Background()
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
			s := su.open(t)
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
}

// testAddWithID: Add under the key's own ID works, under another key's ID it fails.
func testAddWithID(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
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
}

// testAddExists: adding a key twice is ErrExists and keeps the first entry.
func testAddExists(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
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
}
