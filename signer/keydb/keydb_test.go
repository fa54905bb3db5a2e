package keydb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

// testPass resolves aliases from a map.
func testPass(m map[string]string) PassphraseFunc {
	return func(alias string) (string, error) {
		if p, ok := m[alias]; ok {
			return p, nil
		}
		return "", &MissingPassphraseError{Alias: alias}
	}
}

var defaultTestOpts = Options{DefaultAlias: "alias1", Passphrases: testPass(map[string]string{"alias1": "passphrase-one"})}

// forEachBackend runs f against a fresh store of every backend.
func forEachBackend(t *testing.T, f func(t *testing.T, open func(*testing.T, Options) *DB)) {
	for _, b := range testBackends() {
		t.Run(b.name, func(t *testing.T) {
			open, _, _ := b.fresh(t)
			f(t, open)
		})
	}
}

func TestCreateGetListRemove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, defaultTestOpts)
		for _, typ := range []string{keys.ECDSA, keys.ED25519} {
			pub, err := d.Create(ctx, "timestamp", "docker.io/library/"+typ, typ)
			if err != nil {
				t.Fatalf("Create(%s): %v", typ, err)
			}
			if pub.Type != typ {
				t.Errorf("Create(%s) made a %s key", typ, pub.Type)
			}
			// A second DB has no cache: this decrypts the stored row.
			for _, db := range []*DB{d, open(t, defaultTestOpts)} {
				k, info, err := db.Get(ctx, pub.ID())
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				want := keystore.KeyInfo{ID: pub.ID(), Role: "timestamp", GUN: "docker.io/library/" + typ, Type: typ}
				if info != want {
					t.Errorf("Get info = %+v, want %+v", info, want)
				}
				msg := []byte(`{"signed":"x"}`)
				sig, err := k.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.Verify(k.Method(), msg, sig); err != nil {
					t.Errorf("signature by the stored key does not verify: %v", err)
				}
			}
		}
		list, err := d.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("List = %d keys, want 2", len(list))
		}
		id := list[0].ID
		if err := d.Remove(ctx, id); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		for _, db := range []*DB{d, open(t, defaultTestOpts)} {
			if _, _, err := db.Get(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
				t.Errorf("Get after Remove: err = %v, want ErrNotFound", err)
			}
		}
		if err := d.Remove(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("second Remove: err = %v, want ErrNotFound", err)
		}
		if _, _, err := d.Get(ctx, strings.Repeat("ab", 32)); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Get unknown: err = %v, want ErrNotFound", err)
		}
		if list, _ = d.List(ctx); len(list) != 1 || list[0].ID == id {
			t.Errorf("List after Remove = %+v, want only the other key", list)
		}
	})
}

func TestCreateRefusesOtherTypes(t *testing.T) {
	d, err := NewMemory(defaultTestOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{keys.RSA, keys.ECDSAx509, "", "ECDSA"} {
		_, err := d.Create(context.Background(), "timestamp", "gun", typ)
		var ute *UnsupportedTypeError
		if !errors.As(err, &ute) || ute.Type != typ {
			t.Errorf("Create(%q): err = %v, want *UnsupportedTypeError", typ, err)
		}
	}
}

// TestPendingKeys checks v1's pending-key rule (§6.4): Create hands out the
// unused key with the same role, GUN and type, lowest key ID first, until
// a signature marks it used.
func TestPendingKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, defaultTestOpts)
		first, err := d.Create(ctx, "timestamp", "gun/a", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		again, err := open(t, defaultTestOpts).Create(ctx, "timestamp", "gun/a", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID() != first.ID() {
			t.Errorf("second Create = %s, want the pending key %s", again.ID(), first.ID())
		}
		others := map[string][3]string{
			"other role": {"snapshot", "gun/a", keys.ECDSA},
			"other gun":  {"timestamp", "gun/b", keys.ECDSA},
			"other type": {"timestamp", "gun/a", keys.ED25519},
		}
		for name, args := range others {
			k, err := d.Create(ctx, args[0], args[1], args[2])
			if err != nil {
				t.Fatal(err)
			}
			if k.ID() == first.ID() {
				t.Errorf("%s: Create returned the pending key of another role/gun/type", name)
			}
		}

		if err := d.MarkUsed(ctx, first.ID()); err != nil {
			t.Fatal(err)
		}
		next, err := d.Create(ctx, "timestamp", "gun/a", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		if next.ID() == first.ID() {
			t.Fatal("Create returned a key already used to sign")
		}
		if err := d.MarkUsed(ctx, first.ID()); err != nil { // marking twice is fine
			t.Fatal(err)
		}
		if err := d.MarkUsed(ctx, strings.Repeat("0", 64)); err != nil {
			t.Errorf("MarkUsed(unknown) = %v, want nil", err)
		}

		// With several pending keys the lowest key ID wins.
		var ids []string
		for range 3 {
			k, err := keys.Generate(keys.ED25519)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Add(ctx, keystore.KeyInfo{Role: "snapshot", GUN: "gun/c"}, k); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, k.ID())
		}
		got, err := d.Create(ctx, "snapshot", "gun/c", keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		if want := slices.Min(ids); got.ID() != want {
			t.Errorf("Create with 3 pending keys = %s, want the lowest ID %s", got.ID(), want)
		}
		// A removed pending key is not handed out.
		if err := d.Remove(ctx, got.ID()); err != nil {
			t.Fatal(err)
		}
		got2, err := d.Create(ctx, "snapshot", "gun/c", keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		if got2.ID() == got.ID() {
			t.Error("Create returned a removed key")
		}
	})
}

func TestConcurrentCreateSharesPendingKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		d := open(t, defaultTestOpts)
		var wg sync.WaitGroup
		ids := make([]string, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Go(func() {
				k, err := d.Create(context.Background(), "timestamp", "gun", keys.ED25519)
				ids[i], errs[i] = k.ID(), err
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("concurrent Creates returned %s and %s", ids[0], ids[i])
			}
		}
	})
}

func TestAdd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, defaultTestOpts)
		k, err := keys.Generate(keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		info := keystore.KeyInfo{ID: k.ID(), Role: "targets", GUN: "gun"}
		if err := d.Add(ctx, info, k); err != nil {
			t.Fatal(err)
		}
		if err := d.Add(ctx, info, k); !errors.Is(err, keystore.ErrExists) {
			t.Errorf("Add twice: err = %v, want ErrExists", err)
		}
		if err := open(t, defaultTestOpts).Add(ctx, info, k); !errors.Is(err, keystore.ErrExists) {
			t.Errorf("Add twice from another instance: err = %v, want ErrExists", err)
		}
		var mismatch *KeyIDMismatchError
		if err := d.Add(ctx, keystore.KeyInfo{ID: strings.Repeat("1", 64)}, k); !errors.As(err, &mismatch) {
			t.Errorf("Add with a wrong ID: err = %v, want *KeyIDMismatchError", err)
		}
		// Removed keys can be added again (the row is revived).
		if err := d.Remove(ctx, k.ID()); err != nil {
			t.Fatal(err)
		}
		if err := d.Add(ctx, keystore.KeyInfo{Role: "snapshot", GUN: "gun2"}, k); err != nil {
			t.Fatalf("Add after Remove: %v", err)
		}
		_, got, err := open(t, defaultTestOpts).Get(ctx, k.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.Role != "snapshot" || got.GUN != "gun2" {
			t.Errorf("revived key info = %+v, want role snapshot, gun gun2", got)
		}
	})
}

// TestAddX509Key stores the plain form of a key whose public half is a
// certificate, under its canonical ID.
func TestAddX509Key(t *testing.T) {
	ctx := context.Background()
	d, err := NewMemory(defaultTestOpts)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	x509Key, err := k.WithPublic(selfSignedCert(t, k))
	if err != nil {
		t.Fatal(err)
	}
	if x509Key.ID() == k.ID() {
		t.Fatal("test setup: x509 TUF ID equals the canonical ID")
	}
	if err := d.Add(ctx, keystore.KeyInfo{ID: x509Key.CanonicalID(), Role: "root"}, x509Key); err != nil {
		t.Fatal(err)
	}
	got, info, err := d.Get(ctx, k.ID())
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != keys.ECDSA || got.ID() != k.ID() {
		t.Errorf("stored key = %s %s, want the plain ecdsa key %s", info.Type, got.ID(), k.ID())
	}
}

func TestPassphrases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, defaultTestOpts)
		pub, err := d.Create(ctx, "timestamp", "gun", keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		wrong := open(t, Options{DefaultAlias: "alias1", Passphrases: testPass(map[string]string{"alias1": "not it"})})
		_, _, err = wrong.Get(ctx, pub.ID())
		var de *DecryptError
		if !errors.Is(err, keystore.ErrBadPassphrase) || !errors.As(err, &de) || de.Alias != "alias1" {
			t.Errorf("Get with a wrong passphrase: err = %v, want *DecryptError matching ErrBadPassphrase", err)
		}
		other := open(t, Options{DefaultAlias: "alias2", Passphrases: testPass(map[string]string{"alias2": "two"})})
		_, _, err = other.Get(ctx, pub.ID())
		var me *MissingPassphraseError
		if !errors.Is(err, keystore.ErrPassphraseGiveUp) || !errors.As(err, &me) || me.Alias != "alias1" {
			t.Errorf("Get without the row's passphrase: err = %v, want *MissingPassphraseError for alias1", err)
		}
		if strings.Contains(fmt.Sprint(err), "passphrase-one") {
			t.Error("error message carries a passphrase")
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "no alias", opts: Options{Passphrases: ConstantPassphrase("x")}},
		{name: "alias too long", opts: Options{DefaultAlias: strings.Repeat("a", 51), Passphrases: ConstantPassphrase("x")}},
		{name: "no passphrase for the default alias", opts: Options{DefaultAlias: "a", Passphrases: testPass(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewMemory(tc.opts); err == nil {
				t.Error("NewMemory succeeded, want an error")
			}
		})
	}
}

func TestEnvPassphrases(t *testing.T) {
	env := map[string]string{"NOTARY_SIGNER_ALIAS1": "one", "NOTARY_SIGNER_MY_ALIAS": "dotted", "NOTARY_SIGNER_EMPTY": ""}
	get := EnvPassphrases(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	tests := []struct {
		alias, want string
		missing     bool
	}{
		{alias: "alias1", want: "one"},
		{alias: "Alias1", want: "one"},
		{alias: "my.alias", want: "dotted"},
		{alias: "empty", missing: true},
		{alias: "unset", missing: true},
	}
	for _, tc := range tests {
		got, err := get(tc.alias)
		if tc.missing {
			var me *MissingPassphraseError
			if !errors.As(err, &me) || !errors.Is(err, keystore.ErrPassphraseGiveUp) {
				t.Errorf("%q: err = %v, want *MissingPassphraseError", tc.alias, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.alias, got, err, tc.want)
		}
	}
	if got := EnvVar("timestamp_1"); got != "NOTARY_SIGNER_TIMESTAMP_1" {
		t.Errorf("EnvVar = %s", got)
	}
}

// rawRow reads a row directly from the store, deleted rows included.
type rawRowInfo struct {
	row
	used, deleted bool
}

func readRaw(t *testing.T, d *DB, id string) rawRowInfo {
	t.Helper()
	switch st := d.st.(type) {
	case *memStore:
		st.mu.Lock()
		defer st.mu.Unlock()
		r, ok := st.rows[id]
		if !ok {
			t.Fatalf("no row %s", id)
		}
		return rawRowInfo{row: r.copy(), used: r.lastUsed != nil, deleted: r.deletedAt != nil}
	case *sqlStore:
		var out rawRowInfo
		var used, deleted int
		r, err := scanRow(st.db.QueryRow(st.d.rebind("SELECT "+rowColumns+`,
			CASE WHEN last_used IS NULL THEN 0 ELSE 1 END, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END
			FROM private_keys WHERE key_id = ?`), id), &used, &deleted)
		if err != nil {
			t.Fatalf("reading row %s: %v", id, err)
		}
		out.row, out.used, out.deleted = r, used == 1, deleted == 1
		return out
	}
	t.Fatalf("unknown store %T", d.st)
	return rawRowInfo{}
}

// TestRowsAtRest checks the stored row is v1's (§6.4, §8.4): the column
// values, a JWE that opens with the alias's passphrase to the raw private
// bytes, and the last_used / deleted_at life cycle.
func TestRowsAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, defaultTestOpts)
		for _, typ := range []string{keys.ECDSA, keys.ED25519} {
			k, err := keys.Generate(typ)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Add(ctx, keystore.KeyInfo{Role: "snapshot", GUN: "example.com/app"}, k); err != nil {
				t.Fatal(err)
			}
			r := readRaw(t, d, k.ID())
			if r.Algorithm != typ || r.EncryptionAlg != "A256GCM" || r.KeywrapAlg != "PBES2-HS256+A128KW" ||
				r.Alias != "alias1" || r.GUN != "example.com/app" || r.Role != "snapshot" {
				t.Errorf("row = %+v", r.row)
			}
			if !bytes.Equal(r.Public, k.Public().Public) {
				t.Errorf("public column = %x, want the raw public bytes %x", r.Public, k.Public().Public)
			}
			plain, err := jwe.Open(string(r.Private), "passphrase-one")
			if err != nil {
				t.Fatalf("private column does not open: %v", err)
			}
			want, _ := k.Bytes()
			if !bytes.Equal(plain, want) {
				t.Errorf("private column holds %x, want v1's private form %x", plain, want)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(string(r.Private), ".")[0])
			var h map[string]any
			if err := json.Unmarshal(hdr, &h); err != nil {
				t.Fatal(err)
			}
			if h["alg"] != "PBES2-HS256+A128KW" || h["enc"] != "A256GCM" || h["p2c"] != float64(8192) || len(h) != 4 {
				t.Errorf("JWE header = %s", hdr)
			}
			if r.used || r.deleted {
				t.Errorf("new row: used=%v deleted=%v, want both false", r.used, r.deleted)
			}
			if err := d.MarkUsed(ctx, k.ID()); err != nil {
				t.Fatal(err)
			}
			if r := readRaw(t, d, k.ID()); !r.used {
				t.Error("last_used still NULL after MarkUsed")
			}
			if err := d.Remove(ctx, k.ID()); err != nil {
				t.Fatal(err)
			}
			if r := readRaw(t, d, k.ID()); !r.deleted {
				t.Error("deleted_at still NULL after Remove (want a soft delete)")
			}
		}
	})
}

// TestCorruptRow checks a row whose private key is not its public key is
// refused rather than used.
func TestCorruptRow(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	d, err := newDB(st, defaultTestOpts)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := keys.Generate(keys.ED25519)
	b, _ := keys.Generate(keys.ED25519)
	if err := d.Add(ctx, keystore.KeyInfo{Role: "timestamp"}, a); err != nil {
		t.Fatal(err)
	}
	raw, _ := b.Bytes()
	token, err := jwe.Seal(raw, "passphrase-one")
	if err != nil {
		t.Fatal(err)
	}
	st.rows[a.ID()].Private = []byte(token)
	fresh, _ := newDB(st, defaultTestOpts)
	var ce *CorruptKeyError
	if _, _, err := fresh.Get(ctx, a.ID()); !errors.As(err, &ce) {
		t.Errorf("Get of a swapped row: err = %v, want *CorruptKeyError", err)
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	opts := defaultTestOpts
	opts.CacheSize = 2
	d, err := newDB(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := d.Create(ctx, "timestamp", fmt.Sprint(time.Now().UnixNano()), keys.ED25519); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(d.cache); n > 2 {
		t.Errorf("cache holds %d keys, want at most 2", n)
	}
	opts.CacheSize = -1
	nocache, _ := newDB(st, opts)
	list, _ := nocache.List(ctx)
	for _, info := range list {
		if _, _, err := nocache.Get(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(nocache.cache) != 0 {
		t.Errorf("disabled cache holds %d keys", len(nocache.cache))
	}
}
