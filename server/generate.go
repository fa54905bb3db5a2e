package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// A CannotSignError says the key service holds too few of the keys root
// assigns to a server-signed role: the server cannot make that role.
type CannotSignError struct {
	Role      string
	Held      int
	Threshold int
}

func (e *CannotSignError) Error() string {
	return fmt.Sprintf("server holds %d of the %d %s keys it needs", e.Held, e.Threshold, e.Role)
}

// signRole signs body for role with the keys of root's role the key
// service holds. Too few keys is a *CannotSignError; a key service that
// fails is a *KeyServiceError.
func (s *Server) signRole(ctx context.Context, gun string, root *tuf.Root, role string, body any) ([]byte, error) {
	rk, err := root.RoleKeys(role)
	if err != nil {
		return nil, err
	}
	signers, err := s.heldSigners(ctx, gun, rk)
	if err != nil {
		return nil, err
	}
	if len(signers) < rk.Threshold || len(signers) == 0 {
		return nil, &CannotSignError{Role: role, Held: len(signers), Threshold: rk.Threshold}
	}
	_, data, err := tuf.Sign(ctx, body, signers...)
	if err != nil {
		var kse *KeyServiceError
		if errors.As(err, &kse) {
			return nil, kse
		}
		return nil, &KeyServiceError{Op: "sign " + role, Err: err}
	}
	return data, nil
}

// makeSnapshot builds (tuf.NextSnapshot) and signs the next snapshot
// (§4.2): prev's meta (if any) with changes applied, version prev+1 (1
// without prev), expiring tuf.DefaultSnapshotTTL after now. changes hold
// FileMeta over the exact stored bytes of each role (the fix of §1.10).
func (s *Server) makeSnapshot(ctx context.Context, gun string, root *tuf.Root, prev *tuf.Snapshot, changes map[string]tuf.FileMeta, now time.Time) ([]byte, int64, error) {
	body := tuf.NextSnapshot(prev, changes, now.UTC().Add(tuf.DefaultSnapshotTTL))
	data, err := s.signRole(ctx, gun, root, tuf.RoleSnapshot, body)
	return data, body.Version, err
}

// makeTimestamp builds (tuf.NextTimestamp) and signs the next timestamp
// (§4.2): version prev+1, meta.snapshot describing snapshot (its exact
// bytes), expiring tuf.DefaultTimestampTTL after now.
func (s *Server) makeTimestamp(ctx context.Context, gun string, root *tuf.Root, prev *tuf.Timestamp, snapshot []byte, now time.Time) ([]byte, int64, error) {
	body, err := tuf.NextTimestamp(prev, snapshot, now.UTC().Add(tuf.DefaultTimestampTTL))
	if err != nil {
		return nil, 0, err
	}
	data, err := s.signRole(ctx, gun, root, tuf.RoleTimestamp, body)
	return data, body.Version, err
}

func expired(expires, now time.Time) bool { return expires.Before(now) }

// freshCollection loads gun's collection for a read of the timestamp or
// snapshot and, as v1 does on such reads (§4.2), replaces an expired
// timestamp, and an expired snapshot whose key the server holds, storing
// them (with a changefeed row) before answering. Servers racing to do the
// same settle through storage.ErrOldVersion: the loser re-reads. When the
// server cannot sign, the stored files are served as they are; when the
// key service is down, the read fails with 503 rather than serve expired
// metadata clients would reject.
func (s *Server) freshCollection(ctx context.Context, gun string) (*storedState, error) {
	for attempt := 1; ; attempt++ {
		c, err := s.loadCollection(ctx, gun)
		if err != nil {
			return nil, err
		}
		now := s.now()
		if !expired(c.tsBody.Expires, now) && !expired(c.snapBody.Expires, now) {
			return c, nil
		}
		if attempt > maxRegenerateAttempts {
			s.log.Warn("giving up regenerating timestamp after repeated conflicts", "gun", gun)
			return c, nil
		}
		var regenErr error
		shared, err := s.regen.do(ctx, gun, func() { regenErr = s.regenerate(ctx, c, now) })
		if err != nil {
			return nil, err
		}
		if shared {
			continue // another request of this process regenerated: re-read
		}
		var cse *CannotSignError
		switch {
		case regenErr == nil, errors.Is(regenErr, storage.ErrOldVersion), errors.Is(regenErr, storage.ErrConflict):
			continue // re-read what we or another server stored
		case errors.As(regenErr, &cse):
			s.log.Warn("serving expired metadata: the server cannot re-sign it", "gun", gun, "reason", regenErr)
			return c, nil
		default:
			return nil, regenErr
		}
	}
}

// regenerate stores a new timestamp (and snapshot) for c; see
// freshCollection.
func (s *Server) regenerate(ctx context.Context, c *storedState, now time.Time) error {
	return s.renew(ctx, c, now, now)
}

// renew is regenerate ahead of time (the expiry watch): a new timestamp,
// and a new snapshot if the stored one expires before before and the
// server holds its key.
func (s *Server) renew(ctx context.Context, c *storedState, now, before time.Time) error {
	_, root, err := s.root(ctx, c)
	if err != nil {
		return err
	}
	var updates []storage.MetaUpdate
	sf, err := s.snapshotFile(ctx, c)
	if err != nil {
		return err
	}
	snap := sf.Data
	tsExpired := expired(c.tsBody.Expires, before)
	if expired(c.snapBody.Expires, before) {
		data, v, err := s.makeSnapshot(ctx, c.gun, root, c.snapBody, nil, now)
		var cse *CannotSignError
		switch {
		case err == nil:
			updates = append(updates, storage.MetaUpdate{Role: tuf.RoleSnapshot, Version: v, Data: data})
			snap = data
		case errors.As(err, &cse) && tsExpired:
			// The client signs its snapshot: still renew the timestamp.
		default:
			return err
		}
	}
	data, v, err := s.makeTimestamp(ctx, c.gun, root, c.tsBody, snap, now)
	if err != nil {
		return err
	}
	updates = append(updates, storage.MetaUpdate{Role: tuf.RoleTimestamp, Version: v, Data: data})
	// Deleted or replaced since c was read: store nothing (the caller
	// re-reads), never a timestamp without the rest of the collection.
	if err := s.store.UpdateManyIf(ctx, c.gun, storage.Precondition{Role: tuf.RoleTimestamp, Version: c.ts.Version}, updates); err != nil {
		return err
	}
	s.seedParsed(updates)
	s.log.Info("regenerated expired metadata", "gun", c.gun, "timestamp_version", v, "new_snapshot", len(updates) == 2)
	return nil
}
