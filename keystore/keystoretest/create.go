package keystoretest

// Conformance tests of keys made by the store: Create and what it refuses.

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// testCreate: Create makes a key of each supported type for a role and GUN, and Get returns it with its info.
func testCreate(t *testing.T, su suite) {
	ctx := context.Background()
	tests := []struct{ role, gun, keyType string }{
		{"root", "", keys.ECDSA},
		{"targets", gun, keys.ECDSA},
		{"snapshot", gun, keys.ED25519},
		{"targets/releases", "", keys.ED25519},
	}
	for _, tt := range tests {
		t.Run(tt.role+"/"+tt.keyType, func(t *testing.T) {
			s := su.open(t)
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
}

// testCreateUnsupportedType: Create refuses key types a store does not make, storing nothing.
func testCreateUnsupportedType(t *testing.T, su suite) {
	ctx := context.Background()
	for _, typ := range []string{keys.RSA, keys.ECDSAx509, "", "bogus"} {
		t.Run(typ, func(t *testing.T) {
			s := su.open(t)
			if _, err := s.Create(ctx, "targets", gun, typ); err == nil {
				t.Errorf("Create(%q) succeeded", typ)
			}
			if l := list(t, s); len(l) != 0 {
				t.Errorf("List after failed Create = %v", l)
			}
		})
	}
}
