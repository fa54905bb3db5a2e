package keystore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
)

func newRouted(roles ...string) (*keystore.Routed, *keystore.MemoryStore, *keystore.MemoryStore) {
	tok, def := keystore.NewMemory(), keystore.NewMemory()
	m := map[string]bool{}
	for _, r := range roles {
		m[r] = true
	}
	return &keystore.Routed{Token: tok, Default: def, Roles: m, TokenName: "token", DefaultName: "disk"}, tok, def
}

func TestRoutedConformance(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keystore.Service {
		r, _, _ := newRouted("root", keystore.RoleDelegation)
		return r
	})
}

// TestRoutedPlacement: keys go where their role is routed, are found
// from either store, and are listed with their location.
func TestRoutedPlacement(t *testing.T) {
	ctx := context.Background()
	r, tok, def := newRouted("root", keystore.RoleDelegation)
	for _, tc := range []struct {
		role    string
		onToken bool
	}{
		{"root", true},
		{"targets", false},
		{"snapshot", false},
		{"targets/releases", true},
		{"targets/a/b", true},
	} {
		t.Run(tc.role, func(t *testing.T) {
			pub, err := r.Create(ctx, tc.role, "example.com/app", keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := pub.CanonicalID()
			_, _, errT := tok.Get(ctx, id)
			_, _, errD := def.Get(ctx, id)
			if (errT == nil) != tc.onToken || (errD == nil) == tc.onToken {
				t.Errorf("key of %s: on token %v, on disk %v; want on token %v", tc.role, errT == nil, errD == nil, tc.onToken)
			}
			if _, _, err := r.Get(ctx, id); err != nil {
				t.Errorf("Get: %v", err)
			}
		})
	}
	located, err := r.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]int{}
	for _, l := range located {
		where[l.Location]++
	}
	if where["token"] != 3 || where["disk"] != 2 {
		t.Errorf("locations %v", where)
	}

	// One ID lives in one place: adding a disk key's ID as root is refused.
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, keystore.KeyInfo{Role: "targets"}, k); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, keystore.KeyInfo{Role: "root"}, k); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("Add of a key held on disk to the token: %v, want ErrExists", err)
	}
}
