package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// notFound is the 404 of a read that cannot match anything.
func notFound(gun, role string) error { return &storage.NotFoundError{GUN: gun, Role: role} }

// handleGetCurrent answers GET {role}.json with the current file (§4.3):
// the newest timestamp, the snapshot it names, or the file the snapshot
// names; timestamp and snapshot may be regenerated first (§4.2).
func (s *Server) handleGetCurrent(ctx context.Context, w http.ResponseWriter, gun, role string) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) {
		return notFound(gun, role)
	}
	var (
		c   *collection
		err error
	)
	if role == tuf.RoleTimestamp || role == tuf.RoleSnapshot {
		c, err = s.freshCollection(ctx, gun)
	} else {
		c, err = s.loadCollection(ctx, gun)
	}
	if err != nil {
		return err
	}
	f, err := s.file(ctx, c, role)
	if err != nil {
		return err
	}
	s.current.set(w.Header(), f.UpdatedAt)
	return writeMeta(w, f.Data)
}

// handleGetChecksum answers GET {role}.{hex}.json: any stored file of role
// with that SHA-256, current or not.
func (s *Server) handleGetChecksum(ctx context.Context, w http.ResponseWriter, gun, role, sum string) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) {
		return notFound(gun, role)
	}
	f, err := s.store.GetChecksum(ctx, gun, role, sum)
	if err != nil {
		return err
	}
	s.consistent.set(w.Header(), f.CreatedAt)
	return writeMeta(w, f.Data)
}

// handleGetVersion answers GET {version}.{role}.json: any stored version.
func (s *Server) handleGetVersion(ctx context.Context, w http.ResponseWriter, gun, role string, version int64) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) || version < 0 {
		return notFound(gun, role)
	}
	f, err := s.store.GetVersion(ctx, gun, role, version)
	if err != nil {
		return err
	}
	s.consistent.set(w.Header(), f.CreatedAt)
	return writeMeta(w, f.Data)
}

// handleDelete answers DELETE /v2/{gun}/_trust/tuf/: every stored file of
// the GUN goes, in one transaction, with one changefeed "deletion" row.
// The server's keys for the GUN are kept, as in v1. It takes the GUN's
// writer lock, so it never lands between an update's validation and its
// commit on this server (other servers are caught by the commit's
// storage.Precondition).
func (s *Server) handleDelete(ctx context.Context, w http.ResponseWriter, gun string) error {
	if err := checkGUN(gun); err != nil {
		return err
	}
	unlock, err := s.writers.lock(ctx, gun)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.store.Delete(ctx, gun); err != nil {
		return err
	}
	s.log.Info("trust data deleted", "gun", gun)
	return nil
}

// writeMeta writes metadata bytes verbatim. Like v1 it sets no
// Content-Type (Go sniffs text/plain); unlike v1 it always sets
// Content-Length, so clients can refuse an oversized file before reading
// it (v1 sends large files chunked).
func writeMeta(w http.ResponseWriter, data []byte) error {
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, err := w.Write(data)
	return err
}
