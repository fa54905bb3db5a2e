package keydb

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestParseDialect(t *testing.T) {
	for name, want := range map[string]Dialect{
		"sqlite3": SQLite, "sqlite": SQLite, "postgres": Postgres, "PostgreSQL": Postgres,
		"pgx": Postgres, "mysql": MySQL, "mariadb": MySQL,
	} {
		if got, err := ParseDialect(name); err != nil || got != want {
			t.Errorf("ParseDialect(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", "memory", "rethinkdb"} {
		if _, err := ParseDialect(name); err == nil {
			t.Errorf("ParseDialect(%q) succeeded", name)
		}
	}
}

func TestRebind(t *testing.T) {
	q := "UPDATE t SET a = ?, b = ? WHERE c = ?"
	if got := Postgres.rebind(q); got != "UPDATE t SET a = $1, b = $2 WHERE c = $3" {
		t.Errorf("postgres rebind = %q", got)
	}
	if got := MySQL.rebind(q); got != q {
		t.Errorf("mysql rebind = %q", got)
	}
}

func TestSplitStatements(t *testing.T) {
	script := "-- leading comment;\nCREATE TABLE a (\n  x int -- note\n);\n\n-- between\nALTER TABLE a ADD y int;\n-- trailing\n"
	got := splitStatements(script)
	want := []string{"-- leading comment;\nCREATE TABLE a (\n  x int -- note\n);", "-- between\nALTER TABLE a ADD y int;"}
	if !slices.Equal(got, want) {
		t.Errorf("splitStatements =\n%q\nwant\n%q", got, want)
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		ms, err := loadMigrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || ms[0].version != 1 || len(ms[0].stmts) != 1 {
			t.Errorf("%s migrations = %+v", d, ms)
		}
	}
}

// TestConcurrentOpen starts several signers on one empty database at once:
// the migration lock lets exactly one create the schema and all open.
func TestConcurrentOpen(t *testing.T) {
	for _, b := range testBackends()[1:] {
		t.Run(b.name, func(t *testing.T) {
			_, db, dialect := b.fresh(t)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = OpenSQL(context.Background(), db, dialect, defaultTestOpts)
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM " + migrationsTable).Scan(&n); err != nil || n != 1 {
				t.Errorf("migrations recorded = %d, %v; want 1", n, err)
			}
			d, err := OpenSQL(context.Background(), db, dialect, defaultTestOpts)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Ping(context.Background()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

// TestOpenOverV1Schema opens a database whose private_keys table was made
// by v1's own migrations (and golang-migrate's bookkeeping), as when an
// upstream signer database is reused in place.
func TestOpenOverV1Schema(t *testing.T) {
	v1DDL := map[Dialect][]string{
		MySQL: {
			"CREATE TABLE `private_keys` (`id` int(11) NOT NULL AUTO_INCREMENT, `created_at` timestamp NULL DEFAULT NULL, `updated_at` timestamp NULL DEFAULT NULL, `deleted_at` timestamp NULL DEFAULT NULL, `key_id` varchar(255) NOT NULL, `encryption_alg` varchar(255) NOT NULL, `keywrap_alg` varchar(255) NOT NULL, `algorithm` varchar(50) NOT NULL, `passphrase_alias` varchar(50) NOT NULL, `public` blob NOT NULL, `private` blob NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `key_id` (`key_id`), UNIQUE KEY `key_id_2` (`key_id`,`algorithm`)) ENGINE=InnoDB DEFAULT CHARSET=utf8",
			"ALTER TABLE `private_keys` ADD COLUMN `gun` VARCHAR(255) NOT NULL, ADD COLUMN `role` VARCHAR(255) NOT NULL, ADD COLUMN `last_used` DATETIME NULL DEFAULT NULL",
			"CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
			"INSERT INTO schema_migrations VALUES (2, false)",
		},
		Postgres: {
			`CREATE TABLE "private_keys" ("id" serial PRIMARY KEY, "created_at" timestamp NULL DEFAULT NULL, "updated_at" timestamp NULL DEFAULT NULL, "deleted_at" timestamp NULL DEFAULT NULL, "key_id" varchar(255) NOT NULL, "encryption_alg" varchar(255) NOT NULL, "keywrap_alg" varchar(255) NOT NULL, "algorithm" varchar(50) NOT NULL, "passphrase_alias" varchar(50) NOT NULL, "public" bytea NOT NULL, "private" bytea NOT NULL, "gun" varchar(255) NOT NULL, "role" varchar(255) NOT NULL, "last_used" timestamp NULL DEFAULT NULL, CONSTRAINT "key_id" UNIQUE ("key_id"), CONSTRAINT "key_id_2" UNIQUE ("key_id","algorithm"))`,
			"CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
			"INSERT INTO schema_migrations VALUES (1, false)",
		},
	}
	for _, b := range testBackends()[2:] {
		t.Run(b.name, func(t *testing.T) {
			_, db, dialect := b.fresh(t)
			for _, stmt := range v1DDL[dialect] {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			d, err := OpenSQL(context.Background(), db, dialect, defaultTestOpts)
			if err != nil {
				t.Fatalf("OpenSQL over a v1 schema: %v", err)
			}
			pub, err := d.Create(context.Background(), "timestamp", "gun", "ecdsa")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Get(context.Background(), pub.ID()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConcurrentOpenNewFile starts several signers, each with its own
// connection pool as separate processes would have, on one new SQLite
// file at once, a few times over. Opening a connection switches the file
// to WAL mode, which SQLite refuses at once with SQLITE_BUSY while
// another connection is in its first transaction (issue 10's reliability
// defect); every start must still succeed.
func TestConcurrentOpenNewFile(t *testing.T) {
	for round := range 10 {
		file := filepath.Join(t.TempDir(), fmt.Sprintf("keys%d.db", round))
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			db := openSQLite(t, file)
			wg.Go(func() {
				_, errs[i] = OpenSQL(context.Background(), db, SQLite, defaultTestOpts)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, signer %d: %v", round, i, err)
			}
		}
	}
}
