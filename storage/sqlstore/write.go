package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/notary-go/notary/storage"
)

// UpdateMany implements storage.MetaStore. The version check and the
// inserts run in one transaction under gun's write lock (locks.go), so
// concurrent callers, in this process or another, cannot both pass the
// check; a duplicate-key error, should one still occur, is reported as
// ErrOldVersion too.
func (s *Store) UpdateMany(ctx context.Context, gun string, updates []storage.MetaUpdate) error {
	return s.UpdateManyIf(ctx, gun, storage.Precondition{}, updates)
}

// UpdateManyIf implements storage.MetaStore: the precondition is read in
// the write transaction, under the same lock as the version checks.
func (s *Store) UpdateManyIf(ctx context.Context, gun string, pre storage.Precondition, updates []storage.MetaUpdate) (err error) {
	defer wrapBackend("UpdateMany", &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateUpdates(gun, updates); err != nil {
		return err
	}
	if len(updates) == 0 {
		return nil
	}
	return s.inWriteTx(ctx, gun, func(tx *writeTx) error {
		// Read after the lock wait, so that a GUN's times follow its commits.
		now := s.timestamp()
		roles := updates
		if pre.Role != "" {
			roles = append([]storage.MetaUpdate{{Role: pre.Role}}, updates...)
		}
		stored, err := s.maxVersions(ctx, tx, gun, roles)
		if err != nil {
			return err
		}
		if err := pre.Check(gun, stored[pre.Role].Int64); err != nil {
			return err
		}
		for _, u := range updates {
			if top := stored[u.Role]; top.Valid && top.Int64 >= u.Version {
				return &storage.OldVersionError{GUN: gun, Role: u.Role, Version: u.Version}
			}
		}
		var feed []storage.Change
		for _, u := range updates {
			data := u.Data
			if data == nil {
				data = []byte{} // NOT NULL; drivers bind nil as NULL
			}
			sum := storage.SHA256Hex(data)
			at := s.dialect.timeArg(now)
			if _, err := tx.ExecContext(ctx, s.q.insertFile, at, at, gun, u.Role, u.Version, data, sum); err != nil {
				if isUniqueViolation(s.dialect, err) {
					return &storage.OldVersionError{GUN: gun, Role: u.Role, Version: u.Version}
				}
				return fmt.Errorf("sqlstore: storing version %d of %s for %q: %w", u.Version, u.Role, gun, err)
			}
			if u.Role == storage.TimestampRole {
				feed = append(feed, storage.Change{Version: u.Version, SHA256: sum, Category: storage.CategoryUpdate})
			}
		}
		return s.appendChanges(ctx, tx, now, gun, feed)
	})
}

// maxVersionsPerQuery bounds the roles one maxVersions statement asks
// about (an update of many delegations takes several statements).
const maxVersionsPerQuery = 16

// maxVersions returns the highest stored version of every role updates
// name (not Valid for a role without rows), in as few statements as
// maxVersionsPerQuery allows.
func (s *Store) maxVersions(ctx context.Context, tx *writeTx, gun string, updates []storage.MetaUpdate) (map[string]sql.NullInt64, error) {
	stored := make(map[string]sql.NullInt64, len(updates))
	var roles []string
	for _, u := range updates {
		if _, ok := stored[u.Role]; !ok {
			stored[u.Role] = sql.NullInt64{}
			roles = append(roles, u.Role)
		}
	}
	for len(roles) > 0 {
		batch := roles[:min(len(roles), maxVersionsPerQuery)]
		roles = roles[len(batch):]
		args := make([]any, 0, 2*len(batch))
		for _, role := range batch {
			args = append(args, gun, role)
		}
		tops := make([]sql.NullInt64, len(batch))
		dest := make([]any, len(batch))
		for i := range tops {
			dest[i] = &tops[i]
		}
		if err := tx.QueryRowContext(ctx, s.q.maxVersions(len(batch)), args...).Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlstore: reading the stored versions of %s for %q: %w", strings.Join(batch, ", "), gun, err)
		}
		for i, role := range batch {
			stored[role] = tops[i]
		}
	}
	return stored, nil
}

// Delete implements storage.MetaStore.
func (s *Store) Delete(ctx context.Context, gun string) (err error) {
	defer wrapBackend("Delete", &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if !storage.ValidName(gun) {
		return nil // cannot have been stored; PostgreSQL would reject the query
	}
	return s.inWriteTx(ctx, gun, func(tx *writeTx) error {
		now := s.timestamp()
		res, err := tx.ExecContext(ctx, s.q.deleteGUN, gun)
		if err != nil {
			return fmt.Errorf("sqlstore: deleting %q: %w", gun, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: deleting %q: %w", gun, err)
		}
		if n == 0 {
			return nil // nothing existed: no deletion row (upstream)
		}
		return s.appendChanges(ctx, tx, now, gun, []storage.Change{{Category: storage.CategoryDeletion}})
	})
}

// appendChanges inserts changefeed rows for gun (Version, SHA256 and
// Category of each), in order, under the changefeed lock.
func (s *Store) appendChanges(ctx context.Context, tx *writeTx, now time.Time, gun string, changes []storage.Change) error {
	if len(changes) == 0 {
		return nil
	}
	if err := tx.lockFeed(ctx); err != nil {
		return err
	}
	at := s.dialect.timeArg(now)
	for _, c := range changes {
		sum := sql.NullString{String: c.SHA256, Valid: c.SHA256 != ""}
		if _, err := tx.ExecContext(ctx, s.q.insertChange, at, gun, c.Version, sum, c.Category); err != nil {
			return fmt.Errorf("sqlstore: appending to the changefeed for %q: %w", gun, err)
		}
	}
	return nil
}
