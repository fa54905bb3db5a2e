package keyservice_test

import (
	"context"
	"errors"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/tuf"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	kdb, err := keydb.NewMemory(keydb.Options{DefaultAlias: "test", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ks   *keyservice.Local
	}{
		{"memory", keyservice.NewMemory()},
		{"keydb", keyservice.NewLocal(kdb)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := tc.ks.CreateKey(ctx, "example.com/a", "timestamp", keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			s, err := tc.ks.Signer(ctx, "example.com/a", "timestamp", pub)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte(`{"a":1}`)
			sig, method, err := s.Sign(ctx, msg)
			if err != nil || pub.Verify(method, msg, sig) != nil || s.Public().ID() != pub.ID() {
				t.Fatalf("signature does not verify (%v)", err)
			}
			// Software keys vouch for their own signatures: tuf.Sign
			// skips the check after signing for them.
			if ts, ok := s.(tuf.TrustedSigner); !ok || !ts.SignaturesTrusted() {
				t.Errorf("signer of a software key: not a trusted signer")
			}
			other, _ := keys.Generate(keys.ECDSA)
			for _, c := range []struct {
				name, gun, role string
				pub             keys.PublicKey
			}{
				{"OtherGUN", "example.com/b", "timestamp", pub},
				{"OtherRole", "example.com/a", "snapshot", pub},
				{"UnknownKey", "example.com/a", "timestamp", other.Public()},
				{"BadKey", "example.com/a", "timestamp", keys.PublicKey{Type: keys.ECDSAx509, Public: []byte("junk")}},
			} {
				if _, err := tc.ks.Signer(ctx, c.gun, c.role, c.pub); !errors.Is(err, server.ErrKeyNotFound) {
					t.Errorf("%s: %v, want ErrKeyNotFound", c.name, err)
				}
			}
		})
	}
}

// TestLocalPendingKeys checks that a key that signed is marked used in the
// key database, so CreateKey no longer hands it out as a pending key (v1
// §6.4), while an unused key is handed out again.
func TestLocalPendingKeys(t *testing.T) {
	ctx := context.Background()
	kdb, err := keydb.NewMemory(keydb.Options{DefaultAlias: "test", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	ks := keyservice.NewLocal(kdb)
	k1, _ := ks.CreateKey(ctx, "g", "snapshot", keys.ECDSA)
	k2, _ := ks.CreateKey(ctx, "g", "snapshot", keys.ECDSA)
	if k1.ID() != k2.ID() {
		t.Fatalf("an unused key was not handed out again: %s, %s", k1.ID(), k2.ID())
	}
	s, err := ks.Signer(ctx, "g", "snapshot", k1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Sign(ctx, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	k3, _ := ks.CreateKey(ctx, "g", "snapshot", keys.ECDSA)
	if k3.ID() == k1.ID() {
		t.Error("a key that signed was handed out again as a new key")
	}
}
