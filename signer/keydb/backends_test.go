package keydb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Environment variables naming the test databases. Each test makes its own
// schema (PostgreSQL) or database (MySQL) with a random name and drops it.
const (
	postgresDSNEnv = "NOTARY_TEST_POSTGRES_DSN"
	mysqlDSNEnv    = "NOTARY_TEST_MYSQL_DSN"
)

// testBackend opens fresh, isolated stores of one kind.
type testBackend struct {
	name string
	// fresh makes an empty store and returns an opener that opens a DB
	// over it; every call of the opener opens another DB over the same
	// store, as another signer process would. db is nil for memory.
	fresh func(t *testing.T) (open func(t *testing.T, opts Options) *DB, db *sql.DB, dialect Dialect)
}

func testBackends() []testBackend {
	return []testBackend{
		{name: "memory", fresh: freshMemory},
		{name: "sqlite", fresh: freshSQLite},
		{name: "postgres", fresh: freshPostgres},
		{name: "mysql", fresh: freshMySQL},
	}
}

func freshMemory(t *testing.T) (func(*testing.T, Options) *DB, *sql.DB, Dialect) {
	st := newMemStore()
	return func(t *testing.T, opts Options) *DB {
		t.Helper()
		d, err := newDB(st, opts)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}, nil, ""
}

func sqlOpener(db *sql.DB, dialect Dialect) func(*testing.T, Options) *DB {
	return func(t *testing.T, opts Options) *DB {
		t.Helper()
		d, err := OpenSQL(context.Background(), db, dialect, opts)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

func freshSQLite(t *testing.T) (func(*testing.T, Options) *DB, *sql.DB, Dialect) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "keys.db"))
	return sqlOpener(db, SQLite), db, SQLite
}

func openSQLite(t *testing.T, file string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// requireDSN returns the DSN in env, or skips the test (fails it when
// CI=true, so CI cannot pass without the real databases).
func requireDSN(t *testing.T, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: the SQL backend tests must run in CI", env)
		}
		t.Skipf("%s not set: skipping this backend (e.g. %s=%s)", env, env, exampleDSN(env))
	}
	return dsn
}

func exampleDSN(env string) string {
	if env == postgresDSNEnv {
		return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

func randomName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

func freshPostgres(t *testing.T) (func(*testing.T, Options) *DB, *sql.DB, Dialect) {
	dsn := requireDSN(t, postgresDSNEnv)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := randomName(t, "keydb_test_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	db, err := sql.Open("pgx", withSearchPath(t, dsn, schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the DROP (LIFO)
	return sqlOpener(db, Postgres), db, Postgres
}

// withSearchPath points every connection of dsn (URL or key=value form)
// at schema.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func freshMySQL(t *testing.T) (func(*testing.T, Options) *DB, *sql.DB, Dialect) {
	dsn := requireDSN(t, mysqlDSNEnv)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", mysqlDSNEnv, err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := randomName(t, "keydb_test_")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqlOpener(db, MySQL), db, MySQL
}
