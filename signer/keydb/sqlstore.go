package keydb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/keystore"
)

// OpenSQL returns a DB over the private_keys table of db, creating or
// upgrading the schema first (safe when several signers start at once).
// The caller links the driver, opens db and closes it after the DB is no
// longer used. An existing v1 signer database is used in place.
//
// SQLite: use a file (every connection to ":memory:" is a new database)
// and set a busy timeout, e.g. "file:keys.db?_pragma=busy_timeout(5000)"
// with modernc.org/sqlite. MySQL needs no DSN options.
func OpenSQL(ctx context.Context, db *sql.DB, dialect Dialect, opts Options) (*DB, error) {
	if _, err := ParseDialect(string(dialect)); err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, dialect); err != nil {
		return nil, err
	}
	return newDB(&sqlStore{db: db, d: dialect}, opts)
}

// sqlStore is the store over database/sql. GORM-style soft delete: every
// read of live rows adds deleted_at IS NULL, as v1 does.
type sqlStore struct {
	db *sql.DB
	d  Dialect
}

var _ store = (*sqlStore)(nil)

const rowColumns = "id, key_id, algorithm, public, private, encryption_alg, keywrap_alg, passphrase_alias, gun, role"

func scanRow(sc interface{ Scan(...any) error }, extra ...any) (row, error) {
	var r row
	dest := append([]any{&r.seq, &r.KeyID, &r.Algorithm, &r.Public, &r.Private, &r.EncryptionAlg, &r.KeywrapAlg, &r.Alias, &r.GUN, &r.Role}, extra...)
	err := sc.Scan(dest...)
	return r, err
}

// insert tries a plain INSERT first; only when that fails does it look at
// the existing row, so each step is one atomic statement on every engine.
func (s *sqlStore) insert(ctx context.Context, r row, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO private_keys
		(created_at, updated_at, key_id, encryption_alg, keywrap_alg, algorithm, passphrase_alias, public, private, gun, role)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		now, now, r.KeyID, r.EncryptionAlg, r.KeywrapAlg, r.Algorithm, r.Alias, r.Public, r.Private, r.GUN, r.Role)
	if err == nil {
		return nil
	}
	var deleted int
	qerr := s.db.QueryRowContext(ctx, s.d.rebind(
		"SELECT CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM private_keys WHERE key_id = ?"), r.KeyID).Scan(&deleted)
	switch {
	case qerr != nil: // no such row (or the database is down): the INSERT error stands
		return fmt.Errorf("keydb: storing key %s: %w", r.KeyID, err)
	case deleted == 0:
		return &keystore.ExistsError{ID: r.KeyID}
	}
	// Revive the soft-deleted row with the new content.
	res, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE private_keys SET
		created_at = ?, updated_at = ?, deleted_at = NULL, last_used = NULL, encryption_alg = ?, keywrap_alg = ?,
		algorithm = ?, passphrase_alias = ?, public = ?, private = ?, gun = ?, role = ?
		WHERE key_id = ? AND deleted_at IS NOT NULL`),
		now, now, r.EncryptionAlg, r.KeywrapAlg, r.Algorithm, r.Alias, r.Public, r.Private, r.GUN, r.Role, r.KeyID)
	if err != nil {
		return fmt.Errorf("keydb: storing key %s: %w", r.KeyID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("keydb: storing key %s: %w", r.KeyID, err)
	} else if n == 0 { // revived by someone else meanwhile
		return &keystore.ExistsError{ID: r.KeyID}
	}
	return nil
}

func (s *sqlStore) get(ctx context.Context, keyID string) (row, error) {
	r, err := scanRow(s.db.QueryRowContext(ctx, s.d.rebind(
		"SELECT "+rowColumns+" FROM private_keys WHERE key_id = ? AND deleted_at IS NULL"), keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, &keystore.NotFoundError{ID: keyID}
	}
	if err != nil {
		return row{}, fmt.Errorf("keydb: reading key %s: %w", keyID, err)
	}
	return r, nil
}

func (s *sqlStore) pending(ctx context.Context, role, gun, algorithm string) (row, bool, error) {
	r, err := scanRow(s.db.QueryRowContext(ctx, s.d.rebind(
		"SELECT "+rowColumns+` FROM private_keys
		WHERE role = ? AND gun = ? AND algorithm = ? AND last_used IS NULL AND deleted_at IS NULL
		ORDER BY key_id LIMIT 1`), role, gun, algorithm))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, false, nil
	}
	if err != nil {
		return row{}, false, fmt.Errorf("keydb: looking for a pending key: %w", err)
	}
	return r, true, nil
}

func (s *sqlStore) list(ctx context.Context) ([]row, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT key_id, algorithm, gun, role FROM private_keys WHERE deleted_at IS NULL")
	if err != nil {
		return nil, fmt.Errorf("keydb: listing keys: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.KeyID, &r.Algorithm, &r.GUN, &r.Role); err != nil {
			return nil, fmt.Errorf("keydb: listing keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keydb: listing keys: %w", err)
	}
	return out, nil
}

func (s *sqlStore) remove(ctx context.Context, keyID string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.rebind(
		"UPDATE private_keys SET deleted_at = ?, updated_at = ? WHERE key_id = ? AND deleted_at IS NULL"), now, now, keyID)
	if err != nil {
		return fmt.Errorf("keydb: removing key %s: %w", keyID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("keydb: removing key %s: %w", keyID, err)
	} else if n == 0 {
		return &keystore.NotFoundError{ID: keyID}
	}
	return nil
}

func (s *sqlStore) markUsed(ctx context.Context, keyID string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(
		"UPDATE private_keys SET last_used = ?, updated_at = ? WHERE key_id = ? AND deleted_at IS NULL"), now, now, keyID)
	if err != nil {
		return fmt.Errorf("keydb: marking key %s used: %w", keyID, err)
	}
	return nil
}

func (s *sqlStore) scanForRotation(ctx context.Context, alias string, after int64, limit int) ([]row, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(
		"SELECT "+rowColumns+`, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM private_keys
		WHERE passphrase_alias <> ? AND id > ? ORDER BY id LIMIT ?`), alias, after, limit)
	if err != nil {
		return nil, fmt.Errorf("keydb: scanning keys to re-encrypt: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var deleted int
		r, err := scanRow(rows, &deleted)
		if err != nil {
			return nil, fmt.Errorf("keydb: scanning keys to re-encrypt: %w", err)
		}
		r.Deleted = deleted != 0
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keydb: scanning keys to re-encrypt: %w", err)
	}
	return out, nil
}

func (s *sqlStore) rotate(ctx context.Context, rs []rotation, now time.Time) (int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("keydb: re-encrypting: %w", err)
	}
	defer tx.rollback()
	q := s.d.rebind("UPDATE private_keys SET private = ?, passphrase_alias = ?, updated_at = ? WHERE id = ? AND passphrase_alias = ?")
	n := 0
	for _, rot := range rs {
		res, err := tx.ExecContext(ctx, q, rot.newPrivate, rot.newAlias, now, rot.seq, rot.oldAlias)
		if err != nil {
			return 0, fmt.Errorf("keydb: re-encrypting key %s: %w", rot.keyID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("keydb: re-encrypting key %s: %w", rot.keyID, err)
		}
		n += int(k)
	}
	if err := tx.commit(); err != nil {
		return 0, fmt.Errorf("keydb: re-encrypting: %w", err)
	}
	return n, nil
}

// A writeTx is a write transaction: a *sql.Tx, or on SQLite a connection
// inside BEGIN IMMEDIATE.
type writeTx struct {
	execer interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
	commit   func() error
	rollback func()
}

func (w *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return w.execer.ExecContext(ctx, query, args...)
}

// beginWrite starts a write transaction. On SQLite it begins IMMEDIATE:
// a deferred transaction takes the write lock only at its first write,
// and when another connection wrote in between SQLite fails it with
// SQLITE_BUSY at once (busy_timeout cannot help a transaction that would
// have to upgrade its read snapshot). IMMEDIATE waits for the lock up
// front, under busy_timeout.
func (s *sqlStore) beginWrite(ctx context.Context) (*writeTx, error) {
	if s.d != SQLite {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &writeTx{execer: tx, commit: tx.Commit, rollback: func() { _ = tx.Rollback() }}, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		return nil, err
	}
	done := false
	return &writeTx{
		execer: conn,
		commit: func() error {
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				return err
			}
			done = true
			return nil
		},
		rollback: func() {
			if !done {
				// A connection whose ROLLBACK fails is not handed on
				// with a transaction still open.
				if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
					_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				}
			}
			conn.Close()
		},
	}, nil
}

func (s *sqlStore) ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM private_keys WHERE 1 = 0").Scan(&n); err != nil {
		return fmt.Errorf("keydb: database check failed: %w", err)
	}
	return nil
}
