// Package drivers opens a sqlstore.Store from upstream's storage settings
// (backend name and DSN). It is the one place that imports the SQL drivers
// (pgx, go-sql-driver/mysql, modernc.org/sqlite); cmd/ and tests import it,
// library code does not.
package drivers

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/notary-go/notary/storage/sqlstore"
)

// Options configure the connection pool and the Store. Zero fields take
// the defaults below.
type Options struct {
	// MaxOpenConns caps open connections. Default: 25 for PostgreSQL and
	// MySQL; 8 for an SQLite file (WAL lets readers run beside the one
	// writer); always 1 for an in-memory SQLite database, whose connections
	// would each see a different database.
	MaxOpenConns int
	// MaxIdleConns caps idle connections kept for reuse. Default: 10, or
	// MaxOpenConns if lower.
	MaxIdleConns int
	// ConnMaxLifetime recycles connections, so that a database failover or
	// a proxy's idle cut-off does not leave dead ones. Default: 30 minutes
	// (none for SQLite).
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes connections idle this long. Default: 5 minutes
	// (none for SQLite).
	ConnMaxIdleTime time.Duration
	// Store is passed to sqlstore.Open.
	Store sqlstore.Options
}

// Open is OpenWithOptions with default Options.
func Open(ctx context.Context, backend, dsn string) (*sqlstore.Store, error) {
	return OpenWithOptions(ctx, backend, dsn, Options{})
}

// OpenWithOptions connects to dsn with backend's driver, migrates the
// schema and returns the Store, which owns the connection pool (Close it).
// backend is upstream's storage.backend: "sqlite3" (or "sqlite"),
// "postgres" or "mysql"; dsn is its storage.db_url, adjusted by DriverDSN.
func OpenWithOptions(ctx context.Context, backend, dsn string, opts Options) (*sqlstore.Store, error) {
	db, d, err := OpenDB(ctx, backend, dsn, opts)
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.Open(ctx, db, d, opts.Store)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB opens and pings a connection pool for backend and dsn (see
// DriverDSN), with opts' pool settings. Other packages that keep their
// own tables (the signer's key database) use it to share the DSN rules.
func OpenDB(ctx context.Context, backend, dsn string, opts Options) (*sql.DB, sqlstore.Dialect, error) {
	driver, dsn, d, err := DriverDSN(backend, dsn)
	if err != nil {
		return nil, "", err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil { // the DSN is not echoed: it may hold a password
		return nil, "", fmt.Errorf("drivers: opening %s database: %w", d, err)
	}
	configurePool(db, d, dsn, opts)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("drivers: connecting to %s database: %w", d, err)
	}
	return db, d, nil
}

// DriverDSN maps upstream's backend name to a database/sql driver name and
// dialect, and adjusts the DSN as upstream did or as the store needs:
//   - mysql: parseTime=true is forced (upstream forced it too), and
//     interpolateParams=true is set unless the DSN sets it; the DSN must
//     parse as go-sql-driver/mysql's user:pass@tcp(host:port)/db?params.
//   - sqlite3/sqlite: _pragma=busy_timeout(5000), _pragma=journal_mode(WAL)
//     and _pragma=foreign_keys(1) are added unless the DSN sets those
//     pragmas (by _pragma or the _busy_timeout, _journal_mode, _foreign_keys
//     shorthands or their aliases).
//   - postgres: unchanged; a URL or keyword/value DSN for pgx.
func DriverDSN(backend, dsn string) (driver, driverDSN string, d sqlstore.Dialect, err error) {
	d, err = sqlstore.ParseDialect(backend)
	if err != nil {
		return "", "", "", err
	}
	switch d {
	case sqlstore.Postgres:
		return "pgx", dsn, d, nil
	case sqlstore.MySQL:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "", "", "", fmt.Errorf("drivers: the mysql DSN does not parse (%v); want user:password@tcp(host:3306)/dbname", err)
		}
		cfg.ParseTime = true
		if !strings.Contains(dsn, "interpolateParams=") {
			// One round trip per query instead of prepare, execute, close.
			// The driver refuses it for the few charsets where it is unsafe.
			cfg.InterpolateParams = true
		}
		return "mysql", cfg.FormatDSN(), d, nil
	default:
		return "sqlite", sqliteDSN(dsn), d, nil
	}
}

// sqlitePragmaDefaults are added to SQLite DSNs that do not set them: the
// pragma name, its value, and the driver's shorthand keys for it.
var sqlitePragmaDefaults = []struct {
	name, value string
	keys        []string
}{
	{"busy_timeout", "5000", []string{"_busy_timeout", "_timeout"}},
	{"journal_mode", "WAL", []string{"_journal_mode", "_journal"}},
	{"foreign_keys", "1", []string{"_foreign_keys", "_fk"}},
}

func sqliteDSN(dsn string) string {
	_, query, _ := strings.Cut(dsn, "?")
	vals, _ := url.ParseQuery(query) // the driver reports malformed queries itself
	var add []string
next:
	for _, p := range sqlitePragmaDefaults {
		for _, k := range p.keys {
			if vals.Has(k) {
				continue next
			}
		}
		for _, v := range vals["_pragma"] {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), p.name) {
				continue next
			}
		}
		add = append(add, "_pragma="+p.name+"("+p.value+")")
	}
	if len(add) == 0 {
		return dsn
	}
	sep := "&"
	if !strings.Contains(dsn, "?") {
		sep = "?"
	} else if strings.HasSuffix(dsn, "?") || strings.HasSuffix(dsn, "&") {
		sep = ""
	}
	return dsn + sep + strings.Join(add, "&")
}

// sqliteInMemory reports whether dsn names a database that lives in one
// connection: ":memory:", "" (a private temporary file) or mode=memory
// without shared cache.
func sqliteInMemory(dsn string) bool {
	path, query, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	vals, _ := url.ParseQuery(query)
	return path == "" || path == ":memory:" || (vals.Get("mode") == "memory" && vals.Get("cache") != "shared")
}

func configurePool(db *sql.DB, d sqlstore.Dialect, dsn string, opts Options) {
	maxOpen, lifetime, idleTime := 25, 30*time.Minute, 5*time.Minute
	if d == sqlstore.SQLite {
		maxOpen, lifetime, idleTime = 8, 0, 0
	}
	if opts.MaxOpenConns > 0 {
		maxOpen = opts.MaxOpenConns
	}
	if d == sqlstore.SQLite && sqliteInMemory(dsn) {
		maxOpen = 1
	}
	maxIdle := min(10, maxOpen)
	if opts.MaxIdleConns > 0 {
		maxIdle = min(opts.MaxIdleConns, maxOpen)
	}
	if opts.ConnMaxLifetime > 0 {
		lifetime = opts.ConnMaxLifetime
	}
	if opts.ConnMaxIdleTime > 0 {
		idleTime = opts.ConnMaxIdleTime
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(lifetime)
	db.SetConnMaxIdleTime(idleTime)
}
