package keystore_test

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
	"github.com/notary-go/notary/passphrase"
)

func TestMemoryConformance(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keystore.Service { return keystore.NewMemory() })
}

// TestGUNRule: the client's stores keep a GUN only for targets, snapshot
// and timestamp keys, as v1's trustmanager AddKey did.
func TestGUNRule(t *testing.T) {
	stores := map[string]func(t *testing.T) keystore.Service{
		"memory": func(*testing.T) keystore.Service { return keystore.NewMemory() },
		"file": func(t *testing.T) keystore.Service {
			s, err := keystore.OpenFile(t.TempDir(), passphrase.Constant("gun rule passphrase"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			for _, tt := range []struct{ role, wantGUN string }{
				{"root", ""}, {"targets", "g"}, {"snapshot", "g"}, {"timestamp", "g"}, {"targets/releases", ""}, {"custom", ""},
			} {
				pub, err := s.Create(context.Background(), tt.role, "g", keys.ECDSA)
				if err != nil {
					t.Fatal(err)
				}
				_, info, err := s.Get(context.Background(), pub.ID())
				if err != nil || info.GUN != tt.wantGUN {
					t.Errorf("%s key: GUN %q, %v; want %q", tt.role, info.GUN, err, tt.wantGUN)
				}
				list, _ := s.List(context.Background())
				for _, l := range list {
					if l.ID == pub.ID() && l.GUN != tt.wantGUN {
						t.Errorf("%s key: List GUN %q, want %q", tt.role, l.GUN, tt.wantGUN)
					}
				}
			}
		})
	}
}
