package keydb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// v1Row is one row of testdata/v1_mysql_rows.json.
type v1Row struct {
	ID              int64   `json:"id"`
	KeyID           string  `json:"key_id"`
	EncryptionAlg   string  `json:"encryption_alg"`
	KeywrapAlg      string  `json:"keywrap_alg"`
	Algorithm       string  `json:"algorithm"`
	PassphraseAlias string  `json:"passphrase_alias"`
	Public          string  `json:"public_b64"`
	Private         string  `json:"private"`
	GUN             string  `json:"gun"`
	Role            string  `json:"role"`
	DeletedAt       *string `json:"deleted_at"`
	LastUsed        *string `json:"last_used"`
}

var v1Passphrases = map[string]string{"alias1": "v1 passphrase one", "alias2": "v1 passphrase two"}

func loadV1Rows(t *testing.T) []v1Row {
	t.Helper()
	b, err := os.ReadFile("testdata/v1_mysql_rows.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []v1Row
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// importV1Rows writes the rows as they are into a fresh store of the
// backend under test and returns a DB over it.
func importV1Rows(t *testing.T, b testBackend, rows []v1Row) *DB {
	t.Helper()
	open, db, dialect := b.fresh(t)
	opts := Options{DefaultAlias: "alias1", Passphrases: testPass(v1Passphrases)}
	d := open(t, opts) // creates the schema
	stamp := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, r := range rows {
		pub, err := base64.StdEncoding.DecodeString(r.Public)
		if err != nil {
			t.Fatal(err)
		}
		var deleted, used *time.Time
		if r.DeletedAt != nil {
			deleted = &stamp
		}
		if r.LastUsed != nil {
			used = &stamp
		}
		if db == nil {
			st := d.st.(*memStore)
			st.rows[r.KeyID] = &memRow{row: row{seq: r.ID, KeyID: r.KeyID, Algorithm: r.Algorithm, Public: pub, Private: []byte(r.Private),
				EncryptionAlg: r.EncryptionAlg, KeywrapAlg: r.KeywrapAlg, Alias: r.PassphraseAlias, GUN: r.GUN, Role: r.Role},
				lastUsed: used, deletedAt: deleted}
			st.seq = max(st.seq, r.ID)
			continue
		}
		_, err = db.Exec(dialect.rebind(`INSERT INTO private_keys (id, created_at, updated_at, deleted_at, key_id, encryption_alg,
			keywrap_alg, algorithm, passphrase_alias, public, private, gun, role, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			r.ID, stamp, stamp, deleted, r.KeyID, r.EncryptionAlg, r.KeywrapAlg, r.Algorithm, r.PassphraseAlias, pub, []byte(r.Private), r.GUN, r.Role, used)
		if err != nil {
			t.Fatal(err)
		}
	}
	if dialect == Postgres { // explicit ids do not advance the serial
		if _, err := db.Exec("SELECT setval(pg_get_serial_sequence('private_keys', 'id'), (SELECT MAX(id) FROM private_keys))"); err != nil {
			t.Fatal(err)
		}
	}
	return open(t, opts)
}

// TestV1Rows uses rows written by Notary v0.7.0's signer: they decrypt, the
// pending and soft-delete columns mean what they meant in v1, and they
// re-encrypt to another alias.
func TestV1Rows(t *testing.T) {
	rows := loadV1Rows(t)
	for _, b := range testBackends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			d := importV1Rows(t, b, rows)
			for _, r := range rows {
				k, info, err := d.Get(ctx, r.KeyID)
				if r.DeletedAt != nil {
					if !errors.Is(err, keystore.ErrNotFound) {
						t.Errorf("deleted v1 row %d: Get err = %v, want ErrNotFound", r.ID, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("v1 row %d: %v", r.ID, err)
				}
				want := keystore.KeyInfo{ID: r.KeyID, Role: r.Role, GUN: r.GUN, Type: r.Algorithm}
				if info != want || k.ID() != r.KeyID {
					t.Errorf("v1 row %d: info %+v, key %s; want %+v", r.ID, info, k.ID(), want)
				}
				sig, err := k.Sign([]byte("msg"))
				if err != nil {
					t.Fatal(err)
				}
				if err := k.Public().Verify(k.Method(), []byte("msg"), sig); err != nil {
					t.Errorf("v1 row %d: %v", r.ID, err)
				}
			}
			if list, _ := d.List(ctx); len(list) != 3 {
				t.Errorf("List = %d keys, want the 3 live v1 rows", len(list))
			}
			// Row 1 is pending: Create hands it out. Row 2 signed: Create makes a new key.
			got, err := d.Create(ctx, "timestamp", "docker.io/library/alpine", keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != rows[0].KeyID {
				t.Errorf("Create for v1's pending key = %s, want %s", got.ID(), rows[0].KeyID)
			}
			got, err = d.Create(ctx, "snapshot", "docker.io/library/alpine", keys.ED25519)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() == rows[1].KeyID {
				t.Error("Create returned v1's used key")
			}
			// Everything, the removed row included, moves to alias2.
			n, err := d.Reencrypt(ctx, "alias2")
			if err != nil {
				t.Fatal(err)
			}
			if n != 4 { // rows 1-3 (alias1) and the new snapshot key
				t.Errorf("Reencrypt rewrote %d rows, want 4", n)
			}
		})
	}
}
