package sqlstore_test

import (
	"context"
	"testing"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/storage/storagetest"
)

func TestSQLite(t *testing.T) { storagetest.Run(t, opener[*testing.T]("sqlite3")) }

func TestPostgres(t *testing.T) {
	skipUnlessConfigured(t, "postgres")
	storagetest.Run(t, opener[*testing.T]("postgres"))
}

func TestMySQL(t *testing.T) {
	skipUnlessConfigured(t, "mysql")
	storagetest.Run(t, opener[*testing.T]("mysql"))
}

func BenchmarkSQLite(b *testing.B) { storagetest.Bench(b, opener[*testing.B]("sqlite3")) }

func BenchmarkPostgres(b *testing.B) {
	skipUnlessConfigured(b, "postgres")
	storagetest.Bench(b, opener[*testing.B]("postgres"))
}

func BenchmarkMySQL(b *testing.B) {
	skipUnlessConfigured(b, "mysql")
	storagetest.Bench(b, opener[*testing.B]("mysql"))
}

// skipUnlessConfigured skips (or, with CI=true, fails) once per engine
// rather than once per subtest.
func skipUnlessConfigured(t testing.TB, backend string) {
	t.Helper()
	sqltest.BaseDSN(t, map[string]string{"postgres": sqltest.PostgresEnv, "mysql": sqltest.MySQLEnv}[backend])
}

// opener returns a storagetest open function giving each caller a Store on
// its own database, schema or file.
func opener[T testing.TB](backend string) func(T) storage.MetaStore {
	return func(t T) storage.MetaStore { return openStore(t, backend, sqlstore.Options{}) }
}

// openStore opens a Store of backend on a fresh database, closed at cleanup.
func openStore(t testing.TB, backend string, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := drivers.OpenWithOptions(context.Background(), backend, sqltest.DSN(t, backend),
		drivers.Options{MaxOpenConns: 8, Store: opts})
	if err != nil {
		t.Fatalf("drivers.Open(%s) = %v", backend, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
