package v1import_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/signer/keydb/v1import"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
)

// v1Row is one row of ../testdata/v1_mysql_rows.json: private_keys rows
// written by Notary v0.7.0's own signer code (see its README).
type v1Row struct {
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

var passphrases = map[string]string{"alias1": "v1 passphrase one", "alias2": "v1 passphrase two"}

func pass(m map[string]string) keydb.PassphraseFunc {
	return func(alias string) (string, error) {
		if p, ok := m[alias]; ok {
			return p, nil
		}
		return "", &keydb.MissingPassphraseError{Alias: alias, Source: keydb.EnvVar(alias)}
	}
}

// upstreamDDL is upstream's migrations/signer/postgresql/0001 in SQLite
// types. PostgreSQL and MariaDB sources written by the real v0.7.0 signer
// are tested in test/integration.
const upstreamDDL = `CREATE TABLE private_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at DATETIME NULL, updated_at DATETIME NULL,
	deleted_at DATETIME NULL, key_id VARCHAR(255) NOT NULL, encryption_alg VARCHAR(255) NOT NULL, keywrap_alg VARCHAR(255) NOT NULL,
	algorithm VARCHAR(50) NOT NULL, passphrase_alias VARCHAR(50) NOT NULL, public BLOB NOT NULL, private BLOB NOT NULL,
	gun VARCHAR(255) NOT NULL, role VARCHAR(255) NOT NULL, last_used DATETIME NULL, UNIQUE (key_id), UNIQUE (key_id, algorithm))`

// Keys of the fixture rows.
const (
	pendingTS  = "404b5ff3e5" // alpine timestamp, never used
	usedSnap   = "65f71040bd" // alpine snapshot, used
	removedKey = "428916271b" // example.com/deleted, soft-deleted
	otherAlias = "eb29a3804f" // example.com/other, alias2
)

func source(t *testing.T) (*sql.DB, []v1Row) {
	t.Helper()
	b, err := os.ReadFile("../testdata/v1_mysql_rows.json")
	must(t, err)
	var rows []v1Row
	must(t, json.Unmarshal(b, &rows))
	db, _, err := drivers.OpenDB(context.Background(), "sqlite3", sqltest.SQLiteDSN(t), drivers.Options{})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	execT(t, db, upstreamDDL)
	for _, r := range rows {
		pub, err := base64.StdEncoding.DecodeString(r.Public)
		must(t, err)
		execT(t, db, `INSERT INTO private_keys (created_at, updated_at, deleted_at, key_id, encryption_alg, keywrap_alg, algorithm,
			passphrase_alias, public, private, gun, role, last_used) VALUES ('2020-01-02 03:04:05', '2020-01-02 03:04:05', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.DeletedAt, r.KeyID, r.EncryptionAlg, r.KeywrapAlg, r.Algorithm, r.PassphraseAlias, pub, []byte(r.Private), r.GUN, r.Role, r.LastUsed)
	}
	return db, rows
}

func fullID(t *testing.T, rows []v1Row, prefix string) string {
	t.Helper()
	for _, r := range rows {
		if r.KeyID[:len(prefix)] == prefix {
			return r.KeyID
		}
	}
	t.Fatalf("no fixture key %s", prefix)
	return ""
}

func TestImport(t *testing.T) {
	for _, backend := range []string{"sqlite3", "postgres", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			src, rows := source(t)
			dst, d, err := drivers.OpenDB(ctx, backend, sqltest.DSN(t, backend), drivers.Options{})
			must(t, err)
			defer dst.Close()
			dialect := keydb.Dialect(d)
			opts := v1import.Options{Source: src, SourceDialect: keydb.SQLite, Dest: dst, DestDialect: dialect, BatchSize: 3}
			rep, err := v1import.Import(ctx, opts)
			must(t, err)
			if rep.Source != 4 || rep.Imported != 4 || rep.SoftDeleted != 1 || len(rep.Live) != 3 {
				t.Errorf("report %+v, want 4 imported, 1 of them soft-deleted, 3 live", rep)
			}

			// Every live key decrypts with its alias's passphrase, as is.
			res, err := v1import.Check(ctx, dst, dialect, rep.Live, pass(passphrases), nil)
			must(t, err)
			for _, g := range res {
				if !g.OK() {
					t.Errorf("%s", g)
				}
			}
			// Without alias2's passphrase, that GUN's key is reported.
			res, err = v1import.Check(ctx, dst, dialect, rep.Live, pass(map[string]string{"alias1": passphrases["alias1"]}), nil)
			must(t, err)
			for _, g := range res {
				var mp *keydb.MissingPassphraseError
				wantFail := g.GUN == "example.com/other"
				if g.OK() == wantFail || wantFail && !errors.As(g.Failed[0].Err, &mp) {
					t.Errorf("without alias2: %s", g)
				}
			}

			// The signer's key database uses the rows: pending and used keys,
			// removed keys, all as upstream left them.
			kdb, err := keydb.OpenSQL(ctx, dst, dialect, keydb.Options{DefaultAlias: "alias1", Passphrases: pass(passphrases)})
			must(t, err)
			pub, err := kdb.Create(ctx, "timestamp", "docker.io/library/alpine", keys.ECDSA)
			must(t, err)
			if pub.ID() != fullID(t, rows, pendingTS) {
				t.Errorf("Create returned %s, want the pending key %s", pub.ID(), pendingTS)
			}
			pub, err = kdb.Create(ctx, "snapshot", "docker.io/library/alpine", keys.ED25519)
			must(t, err)
			if pub.ID() == fullID(t, rows, usedSnap) {
				t.Errorf("Create handed out the used key %s again", usedSnap)
			}
			if _, _, err := kdb.Get(ctx, fullID(t, rows, removedKey)); !errors.Is(err, keystore.ErrNotFound) {
				t.Errorf("removed key: %v, want not found", err)
			}
			k, _, err := kdb.Get(ctx, fullID(t, rows, otherAlias))
			must(t, err)
			sig, err := k.Sign([]byte("message"))
			must(t, err)
			if err := k.Public().Verify(k.Method(), []byte("message"), sig); err != nil {
				t.Errorf("imported key does not sign: %v", err)
			}

			// Re-runs skip what is there; last_used used upstream since is
			// brought forward.
			again, err := v1import.Import(ctx, opts)
			must(t, err)
			if again.Imported != 0 || again.Present != 4 || again.Updated != 0 {
				t.Errorf("re-run: %+v, want 4 present", again)
			}
			execT(t, src, "UPDATE private_keys SET last_used = '2021-01-01 00:00:00' WHERE key_id = ?", fullID(t, rows, otherAlias))
			third, err := v1import.Import(ctx, opts)
			must(t, err)
			if third.Updated != 1 {
				t.Errorf("after upstream used a key: %+v, want 1 updated", third)
			}
			kdb2, err := keydb.OpenSQL(ctx, dst, dialect, keydb.Options{DefaultAlias: "alias1", Passphrases: pass(passphrases)})
			must(t, err)
			pub, err = kdb2.Create(ctx, "timestamp", "example.com/other", keys.ED25519)
			must(t, err)
			if pub.ID() == fullID(t, rows, otherAlias) {
				t.Errorf("a key used upstream after the first import is still handed out as pending")
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	ctx := context.Background()
	src, _ := source(t)
	dst, _, err := drivers.OpenDB(ctx, "sqlite3", sqltest.SQLiteDSN(t), drivers.Options{})
	must(t, err)
	defer dst.Close()
	rep, err := v1import.Import(ctx, v1import.Options{Source: src, SourceDialect: keydb.SQLite, Dest: dst, DestDialect: keydb.SQLite, DryRun: true})
	must(t, err)
	if rep.Imported != 4 || !rep.DryRun {
		t.Errorf("dry run: %+v", rep)
	}
	var n int
	must(t, dst.QueryRow("SELECT COUNT(*) FROM sqlite_master").Scan(&n))
	if n != 0 {
		t.Errorf("dry run created %d schema objects", n)
	}
	res, err := v1import.CheckSource(ctx, src, keydb.SQLite, rep.Live, pass(map[string]string{"alias1": "wrong"}), nil)
	must(t, err)
	bad := 0
	for _, g := range res {
		for _, f := range g.Failed {
			bad++
			if f.Alias == "alias1" && !errors.Is(f.Err, keystore.ErrBadPassphrase) {
				t.Errorf("wrong passphrase: %v, want ErrBadPassphrase", f.Err)
			}
		}
	}
	if bad != 3 {
		t.Errorf("%d failures with a wrong alias1 and no alias2, want 3: %v", bad, res)
	}
	res, err = v1import.CheckSource(ctx, src, keydb.SQLite, rep.Live, pass(passphrases), nil)
	must(t, err)
	for _, g := range res {
		if !g.OK() {
			t.Errorf("%s", g)
		}
	}
}

func TestConflict(t *testing.T) {
	ctx := context.Background()
	src, rows := source(t)
	dst, _, err := drivers.OpenDB(ctx, "sqlite3", sqltest.SQLiteDSN(t), drivers.Options{})
	must(t, err)
	defer dst.Close()
	opts := v1import.Options{Source: src, SourceDialect: keydb.SQLite, Dest: dst, DestDialect: keydb.SQLite}
	_, err = v1import.Import(ctx, opts)
	must(t, err)
	execT(t, dst, "UPDATE private_keys SET public = ? WHERE key_id = ?", []byte("other"), fullID(t, rows, pendingTS))
	rep, err := v1import.Import(ctx, opts)
	if !errors.Is(err, v1import.ErrConflict) || len(rep.Conflicts) != 1 {
		t.Errorf("Import over a different key: %v (%+v), want one conflict", err, rep.Conflicts)
	}
}

func TestSourceTimes(t *testing.T) {
	ctx := context.Background()
	src, _ := source(t)
	dst, _, err := drivers.OpenDB(ctx, "sqlite3", sqltest.SQLiteDSN(t), drivers.Options{})
	must(t, err)
	defer dst.Close()
	_, err = v1import.Import(ctx, v1import.Options{Source: src, SourceDialect: keydb.SQLite, Dest: dst, DestDialect: keydb.SQLite,
		SourceLocation: time.FixedZone("UTC+2", 2*3600)})
	must(t, err)
	var created time.Time
	must(t, dst.QueryRow("SELECT created_at FROM private_keys LIMIT 1").Scan(&created))
	if want := time.Date(2020, 1, 2, 1, 4, 5, 0, time.UTC); !created.Equal(want) {
		t.Errorf("created_at %v, want %v (03:04:05 read in UTC+2)", created, want)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func execT(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
