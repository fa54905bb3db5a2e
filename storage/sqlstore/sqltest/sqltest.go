// Package sqltest gives tests an isolated, throw-away database on each SQL
// engine: a new SQLite file, a new PostgreSQL schema or a new MySQL
// database, dropped when the test ends, so that parallel tests and parallel
// package runs never see each other's rows.
//
// PostgreSQL and MySQL come from the environment (PostgresEnv, MySQLEnv).
// When one is unset the test is skipped with a message, or fails if CI=true.
package sqltest

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
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/notary-go/notary/storage/sqlstore/drivers"
)

// Environment variables naming the servers to test against, e.g.
//
//	NOTARY_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	NOTARY_TEST_MYSQL_DSN=root@tcp(127.0.0.1:3306)/test
const (
	PostgresEnv = "NOTARY_TEST_POSTGRES_DSN"
	MySQLEnv    = "NOTARY_TEST_MYSQL_DSN"
)

// BaseDSN returns the DSN in env. If it is unset it skips the test, or
// fails it when CI=true, since CI must run every engine.
func BaseDSN(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn != "" {
		return dsn
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("set %s to run this test: CI must test every database (scripts/databases.sh exports it)", env)
	}
	t.Skipf("%s is not set; skipping (e.g. export %s=%s)", env, env, example[env])
	return ""
}

var example = map[string]string{
	PostgresEnv: "'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'",
	MySQLEnv:    "'root@tcp(127.0.0.1:3306)/test'",
}

// SQLiteDSN returns the DSN of a new SQLite file in t.TempDir().
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "notary.db")
}

// PostgresDSN creates a new schema on the server of PostgresEnv and returns
// a DSN whose search_path selects it. The schema is dropped at cleanup.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t, PostgresEnv)
	name := uniqueName()
	admin := openAdmin(t, "postgres", base)
	exec(t, admin, "CREATE SCHEMA "+name)
	t.Cleanup(func() { exec(t, admin, "DROP SCHEMA "+name+" CASCADE") })
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return base + " search_path=" + name // keyword/value form
}

// MySQLDSN creates a new database on the server of MySQLEnv and returns a
// DSN that selects it. The database is dropped at cleanup.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t, MySQLEnv)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("%s does not parse as a MySQL DSN: %v", MySQLEnv, err)
	}
	name := uniqueName()
	admin := openAdmin(t, "mysql", base)
	exec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE "+name) })
	cfg.DBName = name
	return cfg.FormatDSN()
}

// DSN returns an isolated DSN for backend ("sqlite3", "postgres", "mysql").
func DSN(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "postgres":
		return PostgresDSN(t)
	case "mysql":
		return MySQLDSN(t)
	case "sqlite3", "sqlite":
		return SQLiteDSN(t)
	}
	t.Fatalf("sqltest: unknown backend %q", backend)
	return ""
}

// uniqueName returns a fresh lower-case identifier.
func uniqueName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "notary_t_" + hex.EncodeToString(b)
}

// openAdmin opens a one-connection pool for setup and cleanup, closed after
// the cleanups registered after it.
func openAdmin(t testing.TB, backend, dsn string) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, _, err := drivers.OpenDB(ctx, backend, dsn, drivers.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("sqltest: cannot reach the %s server of %s: %v", backend, map[string]string{"postgres": PostgresEnv, "mysql": MySQLEnv}[backend], err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t testing.TB, db *sql.DB, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Errorf("sqltest: %s: %v", strings.Fields(stmt)[0], err)
	}
}
