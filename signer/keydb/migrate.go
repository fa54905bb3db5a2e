package keydb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
)

// migrationFiles holds migrations/<dialect>/NNNN_name.sql, applied in
// version order. Each statement ends with ";" at the end of a line.
//
//go:embed migrations/*/*.sql
var migrationFiles embed.FS

// migrationsTable records applied versions. It is not golang-migrate's
// schema_migrations, so a v1 signer database keeps its own bookkeeping
// untouched; our 0001 creates private_keys only if it is missing.
const migrationsTable = "notary_signer_migrations"

// migrationLockWait is how long (seconds) a MySQL start waits for another
// process's migration to finish.
const migrationLockWait = 60

type migration struct {
	version int
	name    string
	stmts   []string
}

// loadMigrations reads the embedded migrations of d in version order.
func loadMigrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("keydb: no migrations for dialect %q", d)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("keydb: bad migration file name %s", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), stmts: splitStatements(string(b))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// splitStatements cuts a script at lines ending in ";" and drops pieces
// that hold only comments. Drivers differ on multi-statement Exec, so each
// statement is sent alone.
func splitStatements(script string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(script, "\n") {
		cur.WriteString(line)
		if t := strings.TrimSpace(line); strings.HasSuffix(t, ";") && !strings.HasPrefix(t, "--") {
			if s := strings.TrimSpace(cur.String()); hasCode(s) {
				stmts = append(stmts, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); hasCode(s) {
		stmts = append(stmts, s)
	}
	return stmts
}

func hasCode(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// migrate brings the schema up to date. Concurrent starts are serialised
// with a lock each engine offers: a transaction-scoped advisory lock on
// PostgreSQL (whose DDL is transactional), an immediate transaction on
// SQLite, and a named lock on MySQL (whose DDL is not transactional, so the
// statements are written to be idempotent).
func migrate(ctx context.Context, db *sql.DB, d Dialect) (err error) {
	ms, err := loadMigrations(d)
	if err != nil {
		return err
	}
	var conn *sql.Conn
	if d == SQLite {
		// Several signers opening one new file at once: see SQLiteConn.
		conn, err = sqldialect.SQLiteConn(ctx, db, migrationLockWait*time.Second)
	} else {
		conn, err = db.Conn(ctx)
	}
	if err != nil {
		return fmt.Errorf("keydb: migrate: connecting: %w", err)
	}
	defer conn.Close()
	switch d {
	case Postgres:
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("keydb: migrate: %w", err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('notary_signer_migrate.' || current_schema()))"); err != nil {
			return fmt.Errorf("keydb: migrate: taking the migration lock: %w", err)
		}
		if err := applyMigrations(ctx, tx, d, ms); err != nil {
			return err
		}
		return tx.Commit()
	case SQLite:
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return fmt.Errorf("keydb: migrate: begin: %w", err)
		}
		if err := applyMigrations(ctx, conn, d, ms); err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return fmt.Errorf("keydb: migrate: %w", err)
		}
		return nil
	case MySQL:
		const lockName = "LEFT(CONCAT('notary_signer_migrate.', DATABASE()), 64)"
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+lockName+", ?)", migrationLockWait).Scan(&got); err != nil {
			return fmt.Errorf("keydb: migrate: taking the migration lock: %w", err)
		}
		if !got.Valid || got.Int64 != 1 {
			return errors.New("keydb: migrate: timed out waiting for another process's migration")
		}
		defer func() {
			var released sql.NullInt64
			_ = conn.QueryRowContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK("+lockName+")").Scan(&released)
		}()
		return applyMigrations(ctx, conn, d, ms)
	}
	return fmt.Errorf("keydb: unknown SQL dialect %q", d)
}

// applyMigrations runs, under the caller's lock, every migration not yet
// recorded in migrationsTable.
func applyMigrations(ctx context.Context, ex execQuerier, d Dialect, ms []migration) error {
	create := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at %s NOT NULL)",
		migrationsTable, d.timestampType())
	if _, err := ex.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("keydb: migrate: %w", err)
	}
	rows, err := ex.QueryContext(ctx, "SELECT version FROM "+migrationsTable)
	if err != nil {
		return fmt.Errorf("keydb: migrate: %w", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("keydb: migrate: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("keydb: migrate: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := ex.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("keydb: migration %s: %w", m.name, err)
			}
		}
		ins := d.rebind("INSERT INTO " + migrationsTable + " (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)")
		if _, err := ex.ExecContext(ctx, ins, m.version, m.name); err != nil {
			return fmt.Errorf("keydb: recording migration %s: %w", m.name, err)
		}
	}
	return nil
}
