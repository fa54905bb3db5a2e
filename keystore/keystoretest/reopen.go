package keystoretest

// Conformance tests of persistence (only with the Reopen option).

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// testReopen: keys, their info and removals survive a reopen; stores from open do not share keys.
func testReopen(t *testing.T, su suite) {
	ctx := context.Background()
	s := su.open(t)
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
	r := su.open(t)
	if l := list(t, r); len(l) != 0 {
		t.Errorf("a store from open sees another's keys: %v", l)
	}
	s2 := su.reopen(t, s)
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
	checkList(t, su.reopen(t, s), want)
}
