package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/notary-go/notary/storage"
)

// UpdateMany implements storage.MetaStore. The version check and the
// inserts run in one transaction under gun's write lock (locks.go), so
// concurrent callers, in this process or another, cannot both pass the
// check; a duplicate-key error, should one still occur, is reported as
// ErrOldVersion too.
func (s *Store) UpdateMany(ctx context.Context, gun string, updates []storage.MetaUpdate) (err error) {
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
		stored := make(map[string]sql.NullInt64) // role → highest stored version
		for _, u := range updates {
			top, ok := stored[u.Role]
			if !ok {
				if err := tx.QueryRowContext(ctx, s.q.maxVersion, gun, u.Role).Scan(&top); err != nil {
					return fmt.Errorf("sqlstore: reading the stored versions of %s for %q: %w", u.Role, gun, err)
				}
				stored[u.Role] = top
			}
			if top.Valid && top.Int64 >= u.Version {
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
