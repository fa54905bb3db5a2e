package v1import

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notary-go/notary/storage/sqlstore"
)

// dest writes notary-go's tables (storage/sqlstore/migrations) directly,
// keeping creation times and changefeed ids, which storage.MetaStore's
// UpdateMany would replace.
type dest struct {
	db *sql.DB
	d  sqlstore.Dialect
}

func (w *dest) q(query string) string { return rebind(w.d, query) }

// sqliteTime is how sqlstore keeps times in SQLite (storage/sqlstore
// dialect.go: text in SQLite's format 4, microseconds, UTC). The import
// tests read imported rows back through sqlstore to catch a drift.
const sqliteTime = "2006-01-02 15:04:05.000000-07:00"

// timeArg encodes t as sqlstore does: UTC microseconds; text on SQLite.
func (w *dest) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if w.d == sqlstore.SQLite {
		return t.Format(sqliteTime)
	}
	return t
}

// checkNotUpstream refuses a destination that holds upstream's own tables
// (the source itself, or a copy of it): the table names are the same.
func (w *dest) checkNotUpstream(ctx context.Context) error {
	query := map[sqlstore.Dialect]string{
		sqlstore.Postgres: "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tuf_files' AND column_name = 'deleted_at'",
		sqlstore.MySQL:    "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'tuf_files' AND column_name = 'deleted_at'",
		sqlstore.SQLite:   "SELECT COUNT(*) FROM pragma_table_info('tuf_files') WHERE name = 'deleted_at'",
	}[w.d]
	var n int
	if err := w.db.QueryRowContext(ctx, query).Scan(&n); err != nil {
		return fmt.Errorf("v1import: inspecting the destination: %w", err)
	}
	if n > 0 {
		return errors.New("v1import: the destination holds upstream notary-server tables (tuf_files has deleted_at): " +
			"import into a new, empty notary-go database or schema, not into the source")
	}
	return nil
}

type roleVersion struct {
	role    string
	version int64
}

// present returns the SHA-256 of every file of gun the destination holds.
func (w *dest) present(ctx context.Context, gun string) (map[roleVersion]string, error) {
	rows, err := w.db.QueryContext(ctx, w.q("SELECT role, version, sha256 FROM tuf_files WHERE gun = ?"), gun)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's files of %q: %w", gun, err)
	}
	defer rows.Close()
	out := map[roleVersion]string{}
	for rows.Next() {
		var (
			k   roleVersion
			sum string
		)
		if err := rows.Scan(&k.role, &k.version, &sum); err != nil {
			return nil, fmt.Errorf("v1import: reading the destination's files of %q: %w", gun, err)
		}
		out[k] = strings.TrimSpace(sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's files of %q: %w", gun, err)
	}
	return out, nil
}

// A fileRow is one file to insert.
type fileRow struct {
	role      string
	version   int64
	data      []byte
	sha256    string
	createdAt time.Time
	updatedAt time.Time
}

func (w *dest) insertFile(ctx context.Context, tx *sql.Tx, gun string, f fileRow) error {
	_, err := tx.ExecContext(ctx, w.q("INSERT INTO tuf_files (created_at, updated_at, gun, role, version, data, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		w.timeArg(f.createdAt), w.timeArg(f.updatedAt), gun, f.role, f.version, f.data, f.sha256)
	return err
}

// maxChangeID is the highest changefeed id in the destination, 0 if none.
func (w *dest) maxChangeID(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := w.db.QueryRowContext(ctx, "SELECT MAX(id) FROM changefeed").Scan(&n); err != nil {
		return 0, fmt.Errorf("v1import: reading the destination's changefeed: %w", err)
	}
	return n.Int64, nil
}

// changesBetween returns the destination's changefeed rows with from <=
// id <= to, by id.
func (w *dest) changesBetween(ctx context.Context, from, to int64) (map[int64]change, error) {
	rows, err := w.db.QueryContext(ctx, w.q("SELECT id, gun, version, sha256, category FROM changefeed WHERE id >= ? AND id <= ?"), from, to)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's changefeed: %w", err)
	}
	defer rows.Close()
	out := map[int64]change{}
	for rows.Next() {
		var (
			c   change
			sum sql.NullString
		)
		if err := rows.Scan(&c.id, &c.gun, &c.version, &sum, &c.category); err != nil {
			return nil, fmt.Errorf("v1import: reading the destination's changefeed: %w", err)
		}
		c.sha256 = strings.TrimSpace(sum.String)
		out[c.id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's changefeed: %w", err)
	}
	return out, nil
}

func (w *dest) insertChange(ctx context.Context, tx *sql.Tx, c change, fallback time.Time) error {
	at := c.createdAt
	if at.IsZero() {
		at = fallback
	}
	sum := sql.NullString{String: c.sha256, Valid: c.sha256 != ""}
	_, err := tx.ExecContext(ctx, w.q("INSERT INTO changefeed (id, created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?, ?)"),
		c.id, w.timeArg(at), c.gun, c.version, sum, c.category)
	return err
}

// syncSequence moves PostgreSQL's changefeed id sequence past the highest
// id, so that rows the servers add later come after the imported ones.
// MySQL's AUTO_INCREMENT and SQLite's AUTOINCREMENT follow explicit ids by
// themselves.
func (w *dest) syncSequence(ctx context.Context) error {
	if w.d != sqlstore.Postgres {
		return nil
	}
	_, err := w.db.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('changefeed', 'id'), (SELECT MAX(id) FROM changefeed)) WHERE EXISTS (SELECT 1 FROM changefeed)")
	if err != nil {
		return fmt.Errorf("v1import: moving the changefeed id sequence past the imported ids: %w", err)
	}
	return nil
}
