package tuf

import (
	"encoding/json"
	"testing"

	"github.com/notary-go/notary/keys"
)

func TestFileMetaEqual(t *testing.T) {
	raw := func(s string) *json.RawMessage { m := json.RawMessage(s); return &m }
	base := FileMeta{Length: 3, Hashes: Hashes{SHA256: []byte{1, 2}, SHA512: []byte{3, 4}}}
	with := func(edit func(*FileMeta)) FileMeta {
		m := base
		m.Hashes = Hashes{SHA256: []byte{1, 2}, SHA512: []byte{3, 4}}
		edit(&m)
		return m
	}
	tests := []struct {
		name string
		a, b FileMeta
		want bool
	}{
		{name: "same", a: base, b: with(func(*FileMeta) {}), want: true},
		{name: "length differs", a: base, b: with(func(m *FileMeta) { m.Length = 4 })},
		{name: "hash differs", a: base, b: with(func(m *FileMeta) { m.Hashes[SHA256] = []byte{1, 3} })},
		{name: "hash missing", a: base, b: with(func(m *FileMeta) { delete(m.Hashes, SHA512) })},
		{name: "truncated hash", a: base, b: with(func(m *FileMeta) { m.Hashes[SHA512] = []byte{3} })},
		{name: "no hashes", a: FileMeta{Length: 1}, b: FileMeta{Length: 1}, want: true},
		{name: "same count, other algorithm", a: base, b: with(func(m *FileMeta) { delete(m.Hashes, SHA512); m.Hashes["md5"] = []byte{3, 4} })},
		// custom is part of a signed target: a change of it is a change
		{name: "custom only on one", a: base, b: with(func(m *FileMeta) { m.Custom = raw(`{"a":1}`) })},
		{name: "custom differs", a: with(func(m *FileMeta) { m.Custom = raw(`{"a":1}`) }), b: with(func(m *FileMeta) { m.Custom = raw(`{"a":2}`) })},
		{name: "custom identical", a: with(func(m *FileMeta) { m.Custom = raw(`{"a":1}`) }), b: with(func(m *FileMeta) { m.Custom = raw(`{"a":1}`) }), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tc.want)
			}
			if got := tc.b.Equal(tc.a); got != tc.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRoleKeysEqual(t *testing.T) {
	k1, k2 := newKey(t, keys.ED25519).Public(), newKey(t, keys.ED25519).Public()
	rk := func(threshold int, ks ...keys.PublicKey) RoleKeys {
		r := RoleKeys{Name: "targets", Keys: map[string]keys.PublicKey{}, Threshold: threshold}
		for _, k := range ks {
			r.KeyIDs = append(r.KeyIDs, k.ID())
			r.Keys[k.ID()] = k
		}
		return r
	}
	renamed := rk(1, k2, k1)
	renamed.Name = "targets/other"
	tests := []struct {
		name string
		a, b RoleKeys
		want bool
	}{
		{name: "same keys in another order, another name", a: rk(1, k1, k2), b: renamed, want: true},
		{name: "threshold differs", a: rk(1, k1, k2), b: rk(2, k1, k2)},
		{name: "a key more", a: rk(1, k1), b: rk(1, k1, k2)},
		{name: "another key", a: rk(1, k1), b: rk(1, k2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tc.want)
			}
			if got := tc.b.Equal(tc.a); got != tc.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tc.want)
			}
		})
	}
}
