package changelist_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/notary-go/notary/changelist"
)

// FuzzUnmarshal decodes arbitrary change files as a List reads them. It
// must never panic, and whatever decodes must survive a round trip: the
// stored form re-decodes to the same change, and typed data that decodes
// re-encodes to data that decodes to the same value. Seeds:
// testdata/fuzz/FuzzUnmarshal (v1's change files and edge cases).
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"action":"create","role":"targets","type":"target","path":"x","data":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := changelist.Unmarshal(b)
		if err != nil {
			return
		}
		_ = c.Validate()
		enc, err := changelist.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal of a decoded change: %v", err)
		}
		c2, err := changelist.Unmarshal(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the change (-first +second):\n%s", diff)
		}
		if m, err := c.TargetMeta(); err == nil && len(m.Hashes) > 0 {
			n, err := changelist.NewTarget("targets", c.Path, m)
			if err != nil {
				t.Fatalf("re-encoding target meta: %v", err)
			}
			m2, err := n.TargetMeta()
			if err != nil {
				t.Fatalf("re-decoding target meta %s: %v", n.Data, err)
			}
			if m.Length != m2.Length || len(m.Hashes) != len(m2.Hashes) || (m.Custom == nil) != (m2.Custom == nil) {
				t.Fatalf("target meta round trip: %+v != %+v", m, m2)
			}
		}
		if d, err := c.Delegation(); err == nil {
			n, err := changelist.NewDelegation(changelist.ActionUpdate, "targets/a", d)
			if err != nil {
				t.Fatalf("re-encoding delegation data: %v", err)
			}
			d2, err := n.Delegation()
			if err != nil {
				t.Fatalf("re-decoding delegation data %s: %v", n.Data, err)
			}
			if diff := cmp.Diff(d, d2, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("delegation data round trip (-first +second):\n%s", diff)
			}
		}
		if r, err := c.RootRole(); err == nil && len(r.Keys) > 0 {
			if _, err := changelist.Unmarshal(enc); err != nil {
				t.Fatal(err)
			}
		}
		m := changelist.NewMemory()
		if c.Validate() == nil {
			if _, err := m.Add(c); err != nil {
				t.Fatalf("Memory.Add of a valid change: %v", err)
			}
		}
	})
}
