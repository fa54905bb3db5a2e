package collection_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// memKeys is a KeyLookup over private keys held in memory, by canonical ID.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string]*keys.PrivateKey
	calls int
	asked []string // canonical IDs asked for
}

func newMemKeys(ks ...*keys.PrivateKey) *memKeys {
	m := &memKeys{keys: map[string]*keys.PrivateKey{}}
	for _, k := range ks {
		m.add(k)
	}
	return m
}

func (m *memKeys) add(k *keys.PrivateKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.CanonicalID()] = k.Plain()
}

func (m *memKeys) remove(k *keys.PrivateKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, k.CanonicalID())
}

func (m *memKeys) Signers(ctx context.Context, role string, pubs []keys.PublicKey) ([]tuf.Signer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	var out []tuf.Signer
	for _, p := range pubs {
		cid, err := p.CanonicalID()
		if err != nil {
			continue
		}
		m.asked = append(m.asked, cid)
		if k, ok := m.keys[cid]; ok {
			out = append(out, tuf.LocalSigner(k))
		}
	}
	return out, nil
}

// loadKeyFile reads an encrypted v1 PEM key.
func loadKeyFile(t testing.TB, path, passphrase string) *keys.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := keys.ParsePEM(data, []byte(passphrase))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

func readFile(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
