package v1import

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
	"github.com/notary-go/notary/internal/v1db"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
)

// A Source reads an upstream v0.7.0 notary-server database: its tables
// tuf_files (live rows only: deleted_at IS NULL) and changefeed. It also
// implements Reader, answering like upstream's SQL store, so a collection
// can be verified before it is imported (a dry run). A Source is safe for
// concurrent use; it never writes.
type Source struct {
	db  *sql.DB
	d   sqlstore.Dialect
	loc *time.Location
}

var _ Reader = (*Source)(nil)

// NewSource returns a Source on db, an upstream database of dialect d
// (sqlstore.Postgres, sqlstore.MySQL, or sqlstore.SQLite for databases
// made by GORM's AutoMigrate). loc is the zone of the wall-clock times the
// database returns (see Options.SourceLocation); nil means UTC. For MySQL,
// db must have been opened with parseTime=true (drivers.OpenDB forces it).
func NewSource(db *sql.DB, d sqlstore.Dialect, loc *time.Location) (*Source, error) {
	switch d {
	case sqlstore.Postgres, sqlstore.MySQL, sqlstore.SQLite:
	default:
		return nil, fmt.Errorf("v1import: unsupported source dialect %q: want postgres or mysql", d)
	}
	if db == nil {
		return nil, errors.New("v1import: no source database")
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Source{db: db, d: d, loc: loc}, nil
}

// rebind turns ? placeholders into $n for PostgreSQL. Our queries hold no
// literal '?'.
func rebind(d sqlstore.Dialect, q string) string {
	if d != sqlstore.Postgres {
		return q
	}
	return sqldialect.Dollar(q)
}

func (s *Source) q(query string) string { return rebind(s.d, query) }

// Check fails unless the database holds upstream's tables: tuf_files with
// GORM's deleted_at column, and changefeed.
func (s *Source) Check(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tuf_files WHERE deleted_at IS NULL AND 1 = 0").Scan(&n); err != nil {
		return fmt.Errorf("v1import: the source does not look like a Notary v0.7.0 notary-server database (reading tuf_files.deleted_at failed: %w)", err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM changefeed WHERE 1 = 0").Scan(&n); err != nil {
		return fmt.Errorf("v1import: the source has no changefeed table (upstream migrations 0005 (mysql) / 0002 (postgresql) missing?): %w", err)
	}
	return nil
}

// GUNs returns the name of every collection with at least one live file,
// byte-exact (MySQL's case-insensitive collation would merge "A" and "a"),
// in byte order.
func (s *Source) GUNs(ctx context.Context) ([]string, error) {
	col := "gun"
	if s.d == sqlstore.MySQL {
		col = "CAST(gun AS BINARY)"
	}
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT "+col+" FROM tuf_files WHERE deleted_at IS NULL")
	if err != nil {
		return nil, fmt.Errorf("v1import: listing the source's collections: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g []byte
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("v1import: listing the source's collections: %w", err)
		}
		out = append(out, string(g))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: listing the source's collections: %w", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// SoftDeleted counts the tuf_files rows GORM soft-deleted, which are not
// imported.
func (s *Source) SoftDeleted(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tuf_files WHERE deleted_at IS NOT NULL").Scan(&n); err != nil {
		return 0, fmt.Errorf("v1import: counting soft-deleted files: %w", err)
	}
	return n, nil
}

// A fileHead is a live tuf_files row without its data.
type fileHead struct {
	id        int64
	role      string
	version   int64
	sha256    string // the source's column, "" when NULL
	size      int64
	createdAt time.Time
	updatedAt time.Time
}

func (s *Source) lengthFunc() string {
	if s.d == sqlstore.Postgres {
		return "octet_length(data)"
	}
	return "LENGTH(data)"
}

// fileHeads lists gun's live files in id order (the order upstream wrote
// them).
func (s *Source) fileHeads(ctx context.Context, gun string) ([]fileHead, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, gun, role, version, sha256, "+s.lengthFunc()+", created_at, updated_at "+
		"FROM tuf_files WHERE gun = ? AND deleted_at IS NULL ORDER BY id"), gun)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the files of %q: %w", gun, err)
	}
	defer rows.Close()
	var out []fileHead
	for rows.Next() {
		var (
			h     fileHead
			g     string
			sum   sql.NullString
			c, u  srcTime
			role  string
			vers  int64
			size  sql.NullInt64
			ident int64
		)
		c.loc, u.loc = s.loc, s.loc
		if err := rows.Scan(&ident, &g, &role, &vers, &sum, &size, &c, &u); err != nil {
			return nil, fmt.Errorf("v1import: reading the files of %q: %w", gun, err)
		}
		if g != gun { // MySQL: case- and pad-insensitive match
			continue
		}
		h.id, h.role, h.version, h.size = ident, role, vers, size.Int64
		h.sha256 = strings.ToLower(strings.TrimSpace(sum.String))
		h.createdAt, h.updatedAt = c.t, u.t
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the files of %q: %w", gun, err)
	}
	return out, nil
}

// fileData returns the data of the given live rows of gun, by id.
func (s *Source) fileData(ctx context.Context, gun string, ids []int64) (map[int64][]byte, error) {
	if len(ids) == 0 {
		return map[int64][]byte{}, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, gun)
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, gun, data FROM tuf_files WHERE gun = ? AND deleted_at IS NULL AND id IN ("+
		strings.Join(marks, ", ")+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading file data of %q: %w", gun, err)
	}
	defer rows.Close()
	out := make(map[int64][]byte, len(ids))
	for rows.Next() {
		var (
			id   int64
			g    string
			data []byte
		)
		if err := rows.Scan(&id, &g, &data); err != nil {
			return nil, fmt.Errorf("v1import: reading file data of %q: %w", gun, err)
		}
		if g != gun {
			continue
		}
		if data == nil {
			data = []byte{}
		}
		out[id] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading file data of %q: %w", gun, err)
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, fmt.Errorf("v1import: file id %d of %q vanished from the source during the import (deleted upstream?); re-run the import", id, gun)
		}
	}
	return out, nil
}

// A change is one changefeed row.
type change struct {
	id        int64
	createdAt time.Time
	gun       string
	version   int64
	sha256    string
	category  string
}

// changes returns up to limit changefeed rows with id > after, ascending.
func (s *Source) changes(ctx context.Context, after int64, limit int) ([]change, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT id, created_at, gun, version, sha256, category FROM changefeed WHERE id > ? ORDER BY id LIMIT ?"), after, limit)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the source's changefeed: %w", err)
	}
	defer rows.Close()
	var out []change
	for rows.Next() {
		var (
			c   change
			sum sql.NullString
			at  = srcTime{loc: s.loc}
		)
		if err := rows.Scan(&c.id, &at, &c.gun, &c.version, &sum, &c.category); err != nil {
			return nil, fmt.Errorf("v1import: reading the source's changefeed: %w", err)
		}
		c.createdAt = at.t
		c.sha256 = strings.ToLower(strings.TrimSpace(sum.String))
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the source's changefeed: %w", err)
	}
	return out, nil
}

// GetCurrent implements Reader as upstream's SQL store does: the highest
// live version of (gun, role).
func (s *Source) GetCurrent(ctx context.Context, gun, role string) (*storage.StoredMeta, error) {
	return s.getOne(ctx, "gun = ? AND role = ?", []any{gun, role}, gun, role, &storage.NotFoundError{GUN: gun, Role: role})
}

// GetVersion implements Reader.
func (s *Source) GetVersion(ctx context.Context, gun, role string, version int64) (*storage.StoredMeta, error) {
	return s.getOne(ctx, "gun = ? AND role = ? AND version = ?", []any{gun, role, version}, gun, role,
		&storage.NotFoundError{GUN: gun, Role: role, Version: version})
}

// GetChecksum implements Reader: the live file of (gun, role) whose
// SHA-256 is sha256hex, the highest version should several match.
func (s *Source) GetChecksum(ctx context.Context, gun, role, sha256hex string) (*storage.StoredMeta, error) {
	return s.getOne(ctx, "gun = ? AND role = ? AND sha256 = ?", []any{gun, role, sha256hex}, gun, role,
		&storage.NotFoundError{GUN: gun, Role: role, SHA256: sha256hex})
}

func (s *Source) getOne(ctx context.Context, where string, args []any, gun, role string, notFound error) (*storage.StoredMeta, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT gun, role, version, data, created_at, updated_at FROM tuf_files WHERE "+
		where+" AND deleted_at IS NULL ORDER BY version DESC"), args...)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading %s of %q from the source: %w", role, gun, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			g, r string
			m    storage.StoredMeta
			c    = srcTime{loc: s.loc}
			u    = srcTime{loc: s.loc}
		)
		if err := rows.Scan(&g, &r, &m.Version, &m.Data, &c, &u); err != nil {
			return nil, fmt.Errorf("v1import: reading %s of %q from the source: %w", role, gun, err)
		}
		if g != gun || r != role {
			continue
		}
		if m.Data == nil {
			m.Data = []byte{}
		}
		m.SHA256 = sha256Hex(m.Data)
		m.CreatedAt, m.UpdatedAt = c.t, u.t
		return &m, rows.Close()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading %s of %q from the source: %w", role, gun, err)
	}
	return nil, notFound
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// srcTime scans a source time column: nil (upstream's columns allow NULL)
// gives the zero time; otherwise the wall clock the database returned is
// read in loc and converted to UTC.
type srcTime struct {
	loc *time.Location
	t   time.Time
}

func (s *srcTime) Scan(src any) error {
	t, _, err := v1db.ParseTime(src, s.loc)
	if err != nil {
		return err
	}
	s.t = t
	return nil
}
