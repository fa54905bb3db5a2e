package keystore_test

import (
	"testing"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
	"github.com/notary-go/notary/passphrase"
)

func TestFileConformance(t *testing.T) {
	for name, pass := range map[string]string{"encrypted": "conformance passphrase", "unencrypted": ""} {
		t.Run(name, func(t *testing.T) {
			open := func(t *testing.T, dir string) keystore.Service {
				s, err := keystore.OpenFile(dir, passphrase.Constant(pass))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			keystoretest.Run(t,
				func(t *testing.T) keystore.Service { return open(t, t.TempDir()) },
				keystoretest.Reopen(func(t *testing.T, s keystore.Service) keystore.Service {
					return open(t, s.(*keystore.FileStore).TrustDir())
				}))
		})
	}
}
