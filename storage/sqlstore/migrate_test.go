package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/storage/sqlstore"
)

func TestMigrateConcurrently(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		_, _, dsn := freshDB(t, backend)
		// Several server instances starting at once, each with its own pool.
		const instances = 6
		var wg sync.WaitGroup
		errs := make([]error, instances)
		for i := range instances {
			db, d := openDB(t, backend, dsn)
			wg.Go(func() { errs[i] = sqlstore.Migrate(t.Context(), db, d) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: Migrate = %v", i, err)
			}
		}
		db, d := openDB(t, backend, dsn)
		if err := sqlstore.CheckSchema(t.Context(), db, d); err != nil {
			t.Fatalf("CheckSchema after Migrate = %v", err)
		}
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+sqlstore.MigrationsTable).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s has %d rows (%v), want 1: each migration recorded once", sqlstore.MigrationsTable, n, err)
		}
		// Running again changes nothing.
		if err := sqlstore.Migrate(t.Context(), db, d); err != nil {
			t.Errorf("second Migrate = %v", err)
		}
	})
}

func TestSchemaVersionChecks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		db, d, _ := freshDB(t, backend)

		// Not migrated: SkipMigrate refuses, saying what to do.
		if _, err := sqlstore.Open(ctx, db, d, sqlstore.Options{SkipMigrate: true}); err == nil {
			t.Fatal("Open(SkipMigrate) on an empty database = nil error, want one")
		} else {
			t.Logf("Open(SkipMigrate) on an empty database: %v", err)
		}
		if err := sqlstore.Migrate(ctx, db, d); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlstore.Open(ctx, db, d, sqlstore.Options{SkipMigrate: true}); err != nil {
			t.Fatalf("Open(SkipMigrate) after Migrate = %v", err)
		}

		// A newer binary migrated this database: refuse, touch nothing.
		insert := "INSERT INTO " + sqlstore.MigrationsTable + " (version, name, applied_at) VALUES (99, 'future', CURRENT_TIMESTAMP)"
		if _, err := db.ExecContext(ctx, insert); err != nil {
			t.Fatal(err)
		}
		want := &sqlstore.SchemaVersionError{Have: 99, Want: 1}
		for name, err := range map[string]error{
			"Migrate":     sqlstore.Migrate(ctx, db, d),
			"CheckSchema": sqlstore.CheckSchema(ctx, db, d),
		} {
			var got *sqlstore.SchemaVersionError
			if !errors.As(err, &got) {
				t.Fatalf("%s = %v, want a *SchemaVersionError", name, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: SchemaVersionError mismatch (-want +got):\n%s", name, diff)
			}
		}
	})
}

// TestMigrateRefusesUpstreamTables: an upstream notary-server database is
// not adopted by CREATE TABLE IF NOT EXISTS; the error says what to do.
func TestMigrateRefusesUpstreamTables(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		db, d, _ := freshDB(t, backend)
		// Upstream's columns (migrations/server/*/0001), trimmed.
		upstream := "CREATE TABLE tuf_files (id INTEGER PRIMARY KEY, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, deleted_at TIMESTAMP NULL, " +
			"gun VARCHAR(255) NOT NULL, role VARCHAR(255) NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, sha256 CHAR(64) NULL)"
		if d == sqlstore.Postgres {
			upstream = strings.Replace(upstream, "BLOB", "BYTEA", 1)
		}
		if _, err := db.ExecContext(ctx, upstream); err != nil {
			t.Fatal(err)
		}
		err := sqlstore.Migrate(ctx, db, d)
		if err == nil || !strings.Contains(err.Error(), "upstream") {
			t.Fatalf("Migrate over upstream tables = %v, want an error about upstream's tables", err)
		}
		if d != sqlstore.MySQL { // MySQL DDL is not transactional: the bookkeeping table stays
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tuf_files").Scan(&n); err != nil {
				t.Errorf("upstream tuf_files after the refused Migrate: %v", err)
			}
		}
	})
}

func TestSplitStatements(t *testing.T) {
	in := `-- a comment; with a semicolon
CREATE TABLE a (
    x INT -- trailing comment
);

INSERT INTO a VALUES (1), (2);
-- last
SELECT 1`
	want := []string{
		"CREATE TABLE a (\n    x INT -- trailing comment\n)",
		"INSERT INTO a VALUES (1), (2)",
		"SELECT 1",
	}
	if diff := cmp.Diff(want, sqlstore.SplitStatements(in)); diff != "" {
		t.Errorf("SplitStatements mismatch (-want +got):\n%s", diff)
	}
}

func TestUnknownDialect(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlstore.Open(ctx, nil, "oracle", sqlstore.Options{}); err == nil {
		t.Error("Open(oracle) = nil error")
	}
	if err := sqlstore.Migrate(ctx, nil, "oracle"); err == nil {
		t.Error("Migrate(oracle) = nil error")
	}
	for name, want := range map[string]sqlstore.Dialect{
		"sqlite3": sqlstore.SQLite, "sqlite": sqlstore.SQLite, "postgres": sqlstore.Postgres,
		"postgresql": sqlstore.Postgres, "mysql": sqlstore.MySQL, "MySQL": sqlstore.MySQL,
	} {
		if got, err := sqlstore.ParseDialect(name); got != want || err != nil {
			t.Errorf("ParseDialect(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"memory", "rethinkdb", ""} {
		if _, err := sqlstore.ParseDialect(name); err == nil {
			t.Errorf("ParseDialect(%q) = nil error", name)
		}
	}
}
