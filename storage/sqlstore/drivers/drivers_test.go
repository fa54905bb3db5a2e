package drivers

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
)

func TestDriverDSN(t *testing.T) {
	for _, tc := range []struct {
		name, backend, dsn string
		wantDriver         string
		wantDialect        sqlstore.Dialect
		wantDSN            string // "" means: check below
	}{
		{name: "Postgres", backend: "postgres", dsn: "postgres://u@h/db?sslmode=disable", wantDriver: "pgx", wantDialect: sqlstore.Postgres, wantDSN: "postgres://u@h/db?sslmode=disable"},
		{name: "PostgreSQL", backend: "postgresql", dsn: "host=h dbname=db", wantDriver: "pgx", wantDialect: sqlstore.Postgres, wantDSN: "host=h dbname=db"},
		{name: "SQLite3Plain", backend: "sqlite3", dsn: "/var/lib/notary.db", wantDriver: "sqlite", wantDialect: sqlstore.SQLite,
			wantDSN: "/var/lib/notary.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"},
		{name: "SQLiteKeepsOwnPragmas", backend: "sqlite", dsn: "file:x.db?_pragma=busy_timeout(100)&_journal=DELETE&_fk=0", wantDriver: "sqlite", wantDialect: sqlstore.SQLite,
			wantDSN: "file:x.db?_pragma=busy_timeout(100)&_journal=DELETE&_fk=0"},
		{name: "SQLiteAddsMissing", backend: "sqlite3", dsn: "x.db?_pragma=journal_mode(DELETE)", wantDriver: "sqlite", wantDialect: sqlstore.SQLite,
			wantDSN: "x.db?_pragma=journal_mode(DELETE)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"},
		{name: "MySQL", backend: "mysql", dsn: "root:pw@tcp(127.0.0.1:3306)/notary", wantDriver: "mysql", wantDialect: sqlstore.MySQL},
		{name: "MySQLParseTimeFalse", backend: "mysql", dsn: "root@tcp(127.0.0.1:3306)/notary?parseTime=false&timeout=5s", wantDriver: "mysql", wantDialect: sqlstore.MySQL},
		{name: "MySQLNoInterpolation", backend: "mysql", dsn: "root@tcp(127.0.0.1:3306)/notary?interpolateParams=false", wantDriver: "mysql", wantDialect: sqlstore.MySQL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			driver, dsn, d, err := DriverDSN(tc.backend, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if driver != tc.wantDriver || d != tc.wantDialect {
				t.Errorf("DriverDSN(%q) = driver %q dialect %q, want %q %q", tc.backend, driver, d, tc.wantDriver, tc.wantDialect)
			}
			if tc.wantDSN != "" && dsn != tc.wantDSN {
				t.Errorf("DSN = %q, want %q", dsn, tc.wantDSN)
			}
			if d == sqlstore.MySQL {
				cfg, err := mysql.ParseDSN(dsn)
				if err != nil || !cfg.ParseTime {
					t.Errorf("MySQL DSN %q: parseTime not forced (%v)", dsn, err)
				}
				if want := !strings.Contains(tc.dsn, "interpolateParams=false"); cfg.InterpolateParams != want {
					t.Errorf("MySQL DSN %q: interpolateParams = %v, want %v", dsn, cfg.InterpolateParams, want)
				}
				orig, _ := mysql.ParseDSN(tc.dsn)
				if cfg.DBName != orig.DBName || cfg.Addr != orig.Addr || cfg.User != orig.User || cfg.Passwd != orig.Passwd || cfg.Timeout != orig.Timeout {
					t.Errorf("MySQL DSN %q lost settings of %q", dsn, tc.dsn)
				}
			}
		})
	}
}

func TestDriverDSNErrors(t *testing.T) {
	if _, _, _, err := DriverDSN("rethinkdb", "x"); err == nil {
		t.Error("DriverDSN(rethinkdb) = nil error")
	}
	_, _, _, err := DriverDSN("mysql", "root:s3cret@tcp(127.0.0.1:3306/notary")
	if err == nil {
		t.Fatal("DriverDSN(bad mysql DSN) = nil error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the password", err)
	}
}

func TestSQLiteInMemory(t *testing.T) {
	for dsn, want := range map[string]bool{
		":memory:": true, "": true, "file::memory:": true, "file:x?mode=memory": true,
		"file:x?mode=memory&cache=shared": false, "/tmp/x.db": false, "file:/tmp/x.db?_pragma=busy_timeout(1)": false,
	} {
		if got := sqliteInMemory(dsn); got != want {
			t.Errorf("sqliteInMemory(%q) = %v, want %v", dsn, got, want)
		}
	}
}

// TestOpenSQLite: the default DSN pragmas reach every pooled connection,
// and an in-memory database works (one connection, one database).
func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "notary.db")
	db, _, err := OpenDB(ctx, "sqlite3", path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1"} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	if st := db.Stats(); st.MaxOpenConnections != 8 {
		t.Errorf("MaxOpenConnections = %d, want 8", st.MaxOpenConnections)
	}

	s, err := Open(ctx, "sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	up := storage.MetaUpdate{Role: "root", Version: 1, Data: []byte("r")}
	if err := s.UpdateMany(ctx, "g", []storage.MetaUpdate{up}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetCurrent(ctx, "g", "root"); err != nil || string(got.Data) != "r" {
		t.Errorf("GetCurrent = %v, %v; want the stored root", got, err)
	}
}
