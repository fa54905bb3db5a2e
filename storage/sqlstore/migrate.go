package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
)

// migrationsTable records which embedded migrations a database has had. It
// is ours, not golang-migrate's schema_migrations, so that upstream's
// bookkeeping in the same database is left alone.
const migrationsTable = "notary_schema_migrations"

// migrationLockTimeout bounds the wait for another instance's migration.
const migrationLockTimeout = 5 * time.Minute

//go:embed migrations
var migrationFS embed.FS

// A migration is one embedded file, migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int64
	name    string
	stmts   []string
}

// Migrate brings db's schema to the newest embedded migration of d. It is
// safe to run from several instances at once: each takes a database-level
// lock first (PostgreSQL pg_advisory_xact_lock, MySQL GET_LOCK, SQLite
// BEGIN IMMEDIATE) and applies only what is still missing. PostgreSQL and
// SQLite apply all pending migrations in one transaction; MySQL cannot roll
// DDL back, so its migrations are written to be re-runnable.
//
// A database already migrated beyond this code fails with a
// *SchemaVersionError and is left alone.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	if err := d.valid(); err != nil {
		return err
	}
	ms, err := loadMigrations(d)
	if err != nil {
		return err
	}
	wait := lockWait(ctx, migrationLockTimeout)
	var conn *sql.Conn
	if d == SQLite {
		// Several servers opening one new file at once: see SQLiteConn.
		conn, err = sqldialect.SQLiteConn(ctx, db, wait)
	} else {
		conn, err = db.Conn(ctx)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: connecting: %w", err)
	}
	defer conn.Close()
	switch d {
	case Postgres:
		// One transaction holding a transaction-scoped lock: PostgreSQL
		// DDL is transactional, and unlike a session lock this also works
		// behind a transaction-pooling proxy such as PgBouncer.
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: begin: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		ns, err := namespace(ctx, tx, d)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, true)", millis(wait)); err != nil {
			return fmt.Errorf("sqlstore: migrate: setting lock_timeout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", pgLockKey(ns, "migrate", "")); err != nil {
			if isLockTimeout(d, err) {
				return &LockTimeoutError{Lock: "migrations", Timeout: wait}
			}
			return fmt.Errorf("sqlstore: migrate: taking the migrations lock: %w", err)
		}
		if err := applyMigrations(ctx, tx, d, ms); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlstore: migrate: commit: %w", err)
		}
		return nil
	case MySQL:
		// MySQL DDL commits implicitly, so the lock is a session lock and
		// migrations are written to be re-runnable.
		ns, err := namespace(ctx, conn, d)
		if err != nil {
			return err
		}
		name := mysqlLockName(ns, "migrate", "")
		if err := mysqlGetLock(ctx, conn, name, "migrations", wait); err != nil {
			return err
		}
		defer mysqlReleaseLocks(ctx, conn, []string{name})
		return applyMigrations(ctx, conn, d, ms)
	default:
		if err := sqliteBeginImmediate(ctx, conn, wait, wait); err != nil {
			return err
		}
		if err := applyMigrations(ctx, conn, d, ms); err != nil {
			sqliteRollback(ctx, conn)
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			sqliteRollback(ctx, conn)
			return fmt.Errorf("sqlstore: migrate: commit: %w", err)
		}
		return nil
	}
}

// CheckSchema returns a *SchemaVersionError unless db has exactly the
// newest embedded migration of d applied.
func CheckSchema(ctx context.Context, db *sql.DB, d Dialect) error {
	if err := d.valid(); err != nil {
		return err
	}
	ms, err := loadMigrations(d)
	if err != nil {
		return err
	}
	have, err := schemaVersion(ctx, db, d)
	if err != nil {
		return fmt.Errorf("%w; has the schema been migrated? Run sqlstore.Migrate, or Open without SkipMigrate", err)
	}
	if want := ms[len(ms)-1].version; have != want {
		return &SchemaVersionError{Have: have, Want: want}
	}
	return nil
}

// applyMigrations runs, through q holding the migrations lock, every
// migration newer than the database's schema version.
func applyMigrations(ctx context.Context, q querier, d Dialect, ms []migration) error {
	if _, err := q.ExecContext(ctx, bookkeepingDDL[d]); err != nil {
		return fmt.Errorf("sqlstore: migrate: creating %s: %w", migrationsTable, err)
	}
	have, err := schemaVersion(ctx, q, d)
	if err != nil {
		return err
	}
	if want := ms[len(ms)-1].version; have > want {
		return &SchemaVersionError{Have: have, Want: want}
	}
	if have == 0 {
		if err := refuseUpstreamTables(ctx, q, d); err != nil {
			return err
		}
	}
	record := d.rebind("INSERT INTO " + migrationsTable + " (version, name, applied_at) VALUES (?, ?, ?)")
	for _, m := range ms {
		if m.version <= have {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlstore: migration %04d_%s (%s): %w\nin statement:\n%s", m.version, m.name, d, err, stmt)
			}
		}
		if _, err := q.ExecContext(ctx, record, m.version, m.name, d.timeArg(time.Now())); err != nil {
			return fmt.Errorf("sqlstore: migration %04d_%s (%s): recording it: %w", m.version, m.name, d, err)
		}
	}
	return nil
}

// refuseUpstreamTables fails if the database already holds upstream
// notary-server's tuf_files (recognised by GORM's deleted_at column), which
// CREATE TABLE IF NOT EXISTS would otherwise silently adopt: its soft-deleted
// rows and 32-bit versions do not fit this store.
func refuseUpstreamTables(ctx context.Context, q querier, d Dialect) error {
	query := map[Dialect]string{
		Postgres: "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tuf_files' AND column_name = 'deleted_at'",
		MySQL:    "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'tuf_files' AND column_name = 'deleted_at'",
		SQLite:   "SELECT COUNT(*) FROM pragma_table_info('tuf_files') WHERE name = 'deleted_at'",
	}[d]
	var n int
	if err := q.QueryRowContext(ctx, query).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: migrate: inspecting existing tables: %w", err)
	}
	if n > 0 {
		return errors.New("sqlstore: migrate: this database already holds upstream notary-server's tables (tuf_files has deleted_at); " +
			"give notary-go a new, empty database (or schema) and import the upstream data into it")
	}
	return nil
}

// bookkeepingDDL creates migrationsTable.
var bookkeepingDDL = map[Dialect]string{
	Postgres: "CREATE TABLE IF NOT EXISTS " + migrationsTable + " (version BIGINT PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
	MySQL:    "CREATE TABLE IF NOT EXISTS " + migrationsTable + " (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	SQLite:   "CREATE TABLE IF NOT EXISTS " + migrationsTable + " (version INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL)",
}

// schemaVersion returns the newest applied migration, 0 for none.
func schemaVersion(ctx context.Context, q querier, d Dialect) (int64, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT MAX(version) FROM "+migrationsTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: reading the schema version (%s): %w", d, err)
	}
	return v.Int64, nil
}

// loadMigrations returns d's embedded migrations in version order.
func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := migrationFS.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: no migrations for %s: %w", d, err)
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqlstore: migration file %s/%s is not named NNNN_name.sql", dir, e.Name())
		}
		text, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, stmts: splitStatements(string(text))})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i, m := range ms {
		if m.version != int64(i+1) {
			return nil, fmt.Errorf("sqlstore: migrations of %s are not numbered 1, 2, 3...: found %d at position %d", d, m.version, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("sqlstore: no migrations for %s", d)
	}
	return ms, nil
}

// splitStatements splits a migration into statements: each ends with ';'
// at the end of a line. Lines starting with "--" are comments. Statements
// must not hold a line ending in ';' inside a literal.
func splitStatements(text string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		stmts = append(stmts, rest)
	}
	return stmts
}
