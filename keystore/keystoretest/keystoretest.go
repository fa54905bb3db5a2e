// Package keystoretest is the conformance suite every keystore.Service
// passes: one line per implementation,
//
//	keystoretest.Run(t, func(t *testing.T) keystore.Service { return keystore.NewMemory() })
//
// plus keystoretest.Reopen for stores that persist keys.
package keystoretest

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// Option configures Run.
type Option func(*config)

type config struct {
	reopen        func(t *testing.T, s keystore.Service) keystore.Service
	nonExportable bool
}

// NonExportable is for stores whose keys never leave them (a PKCS#11
// token): a key got from Get cannot be added back after Remove.
func NonExportable() Option { return func(c *config) { c.nonExportable = true } }

// Reopen lets Run check that keys survive a reload: reopen returns a new
// instance over the same storage as s (a store open returned), as a new
// process would see it.
func Reopen(reopen func(t *testing.T, s keystore.Service) keystore.Service) Option {
	return func(c *config) { c.reopen = reopen }
}

const gun = "example.com/conformance"

// Run runs the suite. open returns a new, empty store each time it is
// called; subtests do not share stores.
func Run(t *testing.T, open func(t *testing.T) keystore.Service, opts ...Option) {
	su := suite{open: open}
	for _, o := range opts {
		o(&su.config)
	}
	tests := []test{
		{"Create", testCreate},
		{"CreateUnsupportedType", testCreateUnsupportedType},
		{"AddGet", testAddGet},
		{"AddWithID", testAddWithID},
		{"AddExists", testAddExists},
		{"NotFound", testNotFound},
		{"InvalidID", testInvalidID},
		{"List", testList},
		{"Remove", testRemove},
		{"CancelledContext", testCancelledContext},
		{"Concurrent", testConcurrent},
	}
	if su.reopen != nil {
		tests = append(tests, test{"Reopen", testReopen})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, su) })
	}
}

// A suite is what every test gets: the store maker and the options.
type suite struct {
	open func(t *testing.T) keystore.Service
	config
}

// A test is one contract check; it calls open for the stores it needs.
type test struct {
	name string
	fn   func(t *testing.T, su suite)
}

func firstKey(m map[string]keys.PublicKey) string {
	first := ""
	for k := range m {
		if first == "" || k < first {
			first = k
		}
	}
	return first
}

func genKey(typ string) func(t *testing.T) *keys.PrivateKey {
	return func(t *testing.T) *keys.PrivateKey {
		t.Helper()
		k, err := keys.Generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

func list(t *testing.T, s keystore.Service) []keystore.KeyInfo {
	t.Helper()
	l, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return l
}

// checkList compares List with want. A store may leave Type empty in List
// (keystore.KeyInfo).
func checkList(t *testing.T, s keystore.Service, want map[string]keystore.KeyInfo) {
	t.Helper()
	got := list(t, s)
	seen := map[string]bool{}
	for _, info := range got {
		w, ok := want[info.ID]
		if !ok {
			t.Errorf("List has unexpected key %+v", info)
			continue
		}
		if seen[info.ID] {
			t.Errorf("List has %s twice", info.ID)
		}
		seen[info.ID] = true
		if info.Type == "" {
			w.Type = ""
		}
		if info != w {
			t.Errorf("List entry %+v, want %+v", info, w)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("List lacks %s", id)
		}
	}
}

func checkSigns(t *testing.T, key *keys.PrivateKey, pub keys.PublicKey) {
	t.Helper()
	msg := []byte(`{"_type":"Targets","version":1}`)
	sig, err := key.Sign(msg)
	if err != nil {
		t.Errorf("Sign: %v", err)
		return
	}
	if err := pub.Verify(key.Method(), msg, sig); err != nil {
		t.Errorf("signature by stored key does not verify with %s key %s: %v", pub.Type, pub.ID(), err)
	}
}
