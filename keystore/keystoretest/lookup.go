package keystoretest

// Conformance tests of finding, listing and removing keys.

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// testNotFound: Get and Remove of an unknown ID are ErrNotFound.
func testNotFound(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
	id := genKey(keys.ECDSA)(t).CanonicalID()
	if _, _, err := s.Get(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Get: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Remove: err = %v, want ErrNotFound", err)
	}
}

// testInvalidID: IDs that are not key IDs (path tricks included) are ErrInvalidID or ErrNotFound.
func testInvalidID(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
	for _, id := range []string{"", "../../../../etc/passwd", "..", "abc", fmt.Sprintf("%064d", 0) + "/x", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"} {
		if _, _, err := s.Get(ctx, id); err == nil || !(errors.Is(err, keystore.ErrInvalidID) || errors.Is(err, keystore.ErrNotFound)) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidID or ErrNotFound", id, err)
		}
		if err := s.Remove(ctx, id); err == nil || !(errors.Is(err, keystore.ErrInvalidID) || errors.Is(err, keystore.ErrNotFound)) {
			t.Errorf("Remove(%q): err = %v, want ErrInvalidID or ErrNotFound", id, err)
		}
	}
}

// testList: List shows exactly the keys created, with their info.
func testList(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
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
}

// testRemove: a removed key is gone (and, when exportable, can be added back).
func testRemove(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
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
	if su.nonExportable {
		return
	}
	if err := s.Add(ctx, keystore.KeyInfo{Role: "targets", GUN: gun}, keyA); err != nil {
		t.Errorf("Add after Remove: %v", err)
	}
}
