package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
)

var backends = []string{"sqlite3", "postgres", "mysql"}

// forEachBackend runs f as a parallel subtest per engine, skipping (or on
// CI failing) engines that are not configured.
func forEachBackend(t *testing.T, f func(t *testing.T, backend string)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			if b != "sqlite3" {
				skipUnlessConfigured(t, b)
			}
			t.Parallel()
			f(t, b)
		})
	}
}

// openDB opens a pool on dsn without migrating, closed at cleanup.
func openDB(t testing.TB, backend, dsn string) (*sql.DB, sqlstore.Dialect) {
	t.Helper()
	db, d, err := drivers.OpenDB(context.Background(), backend, dsn, drivers.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatalf("drivers.OpenDB(%s) = %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db, d
}

// freshDB opens a pool on a fresh, empty database of backend.
func freshDB(t testing.TB, backend string) (*sql.DB, sqlstore.Dialect, string) {
	t.Helper()
	dsn := sqltest.DSN(t, backend)
	db, d := openDB(t, backend, dsn)
	return db, d, dsn
}
