package tuf

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
)

var testExpires = time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)

func newKey(t testing.TB, typ string) *keys.PrivateKey {
	t.Helper()
	if typ == keys.RSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := keys.FromCrypto(k)
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	k, err := keys.Generate(typ)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testKeys holds one key per base role.
type testKeys map[string]*keys.PrivateKey

func newTestKeys(t testing.TB) testKeys {
	ks := testKeys{}
	for _, r := range BaseRoles {
		ks[r] = newKey(t, keys.ECDSA)
	}
	return ks
}

func (ks testKeys) root(version int64) *Root {
	r := &Root{Type: TypeRoot, Expires: testExpires, Version: version,
		Keys: map[string]keys.PublicKey{}, Roles: map[string]*RootRole{}}
	for role, k := range ks {
		r.Keys[k.ID()] = k.Public()
		r.Roles[role] = &RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
	}
	return r
}

func signers(ks ...*keys.PrivateKey) []Signer {
	out := make([]Signer, len(ks))
	for i, k := range ks {
		out[i] = LocalSigner(k)
	}
	return out
}

// signFile signs body with the given keys and returns the file bytes.
func signFile(t testing.TB, body any, ks ...*keys.PrivateKey) []byte {
	t.Helper()
	_, file, err := Sign(context.Background(), body, signers(ks...)...)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func targetsBody(version int64) *Targets {
	return &Targets{Type: TypeTargets, Expires: testExpires, Version: version,
		Targets:     map[string]FileMeta{},
		Delegations: Delegations{Keys: map[string]keys.PublicKey{}, Roles: []*DelegationRole{}}}
}

func fileMetaOf(t testing.TB, data string) FileMeta {
	t.Helper()
	fm, err := NewFileMeta([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

func snapshotBody(t testing.TB, version int64) *Snapshot {
	return &Snapshot{Type: TypeSnapshot, Expires: testExpires, Version: version, Meta: map[string]FileMeta{
		RoleRoot: fileMetaOf(t, "root"), RoleTargets: fileMetaOf(t, "targets")}}
}

func timestampBody(t testing.TB, version int64) *Timestamp {
	return &Timestamp{Type: TypeTimestamp, Expires: testExpires, Version: version, Meta: map[string]FileMeta{
		RoleSnapshot: fileMetaOf(t, "snapshot")}}
}

// editJSON decodes a file into a generic tree, lets f change it and
// re-encodes it (keys sorted, numbers exact). Signatures are not renewed.
func editJSON(t testing.TB, data []byte, f func(file map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signedOf returns the "signed" object of a decoded file.
func signedOf(m map[string]any) map[string]any { return m["signed"].(map[string]any) }

func obj(v any) map[string]any { return v.(map[string]any) }
