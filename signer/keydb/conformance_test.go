package keydb

import (
	"sync"
	"testing"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
)

// TestConformance runs the keystore.Service suite on every backend, with
// Reopen opening a new DB (no cache) over the same storage.
func TestConformance(t *testing.T) {
	for _, b := range testBackends() {
		t.Run(b.name, func(t *testing.T) {
			var mu sync.Mutex
			reopeners := map[keystore.Service]func(*testing.T) *DB{}
			keystoretest.Run(t,
				func(t *testing.T) keystore.Service {
					open, _, _ := b.fresh(t)
					d := open(t, defaultTestOpts)
					mu.Lock()
					reopeners[d] = func(t *testing.T) *DB { return open(t, defaultTestOpts) }
					mu.Unlock()
					return d
				},
				keystoretest.Reopen(func(t *testing.T, s keystore.Service) keystore.Service {
					mu.Lock()
					reopen := reopeners[s]
					mu.Unlock()
					return reopen(t)
				}))
		})
	}
}
