package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/notary-go/notary/storage"
)

// GetCurrent implements storage.MetaStore (an index seek on
// (gun, role, version)).
func (s *Store) GetCurrent(ctx context.Context, gun, role string) (_ *storage.StoredMeta, err error) {
	defer wrapBackend("GetCurrent", &err)
	return s.getFile(ctx, &storage.NotFoundError{GUN: gun, Role: role}, s.q.current, gun, role)
}

// GetVersion implements storage.MetaStore.
func (s *Store) GetVersion(ctx context.Context, gun, role string, version int64) (_ *storage.StoredMeta, err error) {
	defer wrapBackend("GetVersion", &err)
	return s.getFile(ctx, &storage.NotFoundError{GUN: gun, Role: role, Version: version}, s.q.byVersion, gun, role, version)
}

// GetChecksum implements storage.MetaStore (an index seek on sha256).
func (s *Store) GetChecksum(ctx context.Context, gun, role, sha256hex string) (_ *storage.StoredMeta, err error) {
	defer wrapBackend("GetChecksum", &err)
	nf := &storage.NotFoundError{GUN: gun, Role: role, SHA256: sha256hex}
	if !storage.ValidSHA256(sha256hex) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, nf
	}
	return s.getFile(ctx, nf, s.q.byChecksum, gun, role, sha256hex)
}

// getFile runs a single-row query over fileColumns, returning notFound for
// no row. Names that UpdateMany refuses cannot be stored, so they are not
// looked up: PostgreSQL would fail on invalid UTF-8 or NUL instead of
// finding nothing.
func (s *Store) getFile(ctx context.Context, notFound *storage.NotFoundError, query string, args ...any) (*storage.StoredMeta, error) {
	if !storage.ValidName(notFound.GUN) || !storage.ValidName(notFound.Role) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, notFound
	}
	var (
		m   storage.StoredMeta
		sum sql.NullString
	)
	err := s.queryRow(ctx, query, args...).Scan(&m.Data, &sum, &m.Version, timeDest{&m.CreatedAt}, timeDest{&m.UpdatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("sqlstore: reading %s of %q: %w", notFound.Role, notFound.GUN, err)
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	m.SHA256 = strings.TrimSpace(sum.String)
	if m.SHA256 == "" { // rows imported from upstream may lack it
		m.SHA256 = storage.SHA256Hex(m.Data)
	}
	return &m, nil
}
