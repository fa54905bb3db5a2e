package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// notFound is the 404 of a read that cannot match anything.
func notFound(gun, role string) error { return &storage.NotFoundError{GUN: gun, Role: role} }

// handleGetCurrent answers GET {role}.json with the current file (§4.3):
// the newest timestamp, the snapshot it names, or the file the snapshot
// names; timestamp and snapshot may be regenerated first (§4.2).
func (s *Server) handleGetCurrent(ctx context.Context, w http.ResponseWriter, r *http.Request, gun, role string) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) {
		return notFound(gun, role)
	}
	var (
		c   *storedState
		err error
	)
	// A read may use a current timestamp read up to ReadCacheTTL ago.
	ctx = withCachedReads(ctx)
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
	return s.writeMeta(w, r, currentSHA(c, role), f.Data)
}

// handleGetChecksum answers GET {role}.{hex}.json: any stored file of role
// with that SHA-256, current or not.
func (s *Server) handleGetChecksum(ctx context.Context, w http.ResponseWriter, r *http.Request, gun, role, sum string) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) {
		return notFound(gun, role)
	}
	f, err := s.store.GetChecksum(ctx, gun, role, sum)
	if err != nil {
		return err
	}
	s.consistent.set(w.Header(), f.CreatedAt)
	return s.writeMeta(w, r, strings.ToLower(sum), f.Data)
}

// handleGetVersion answers GET {version}.{role}.json: any stored version.
func (s *Server) handleGetVersion(ctx context.Context, w http.ResponseWriter, r *http.Request, gun, role string, version int64) error {
	if !readableGUN(gun) || !tuf.ValidRole(role) || version < 0 {
		return notFound(gun, role)
	}
	f, err := s.store.GetVersion(ctx, gun, role, version)
	if err != nil {
		return err
	}
	s.consistent.set(w.Header(), f.CreatedAt)
	sha := ""
	if len(f.Data) >= gzipMinSize && acceptsGzip(r) {
		sum := sha256.Sum256(f.Data)
		sha = hex.EncodeToString(sum[:])
	}
	return s.writeMeta(w, r, sha, f.Data)
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

// writeMeta writes metadata bytes verbatim, or their gzip form to a
// client that accepts it (Go's HTTP client, hence both notary clients and
// Docker, asks for gzip by default). The gzip form is made once per stored
// file (see gzipCache), keyed by sha, the file's hex SHA-256 ("" to send
// it uncompressed). Like v1 it sets no Content-Type (Go sniffs
// text/plain); unlike v1 it always sets Content-Length, so clients can
// refuse an oversized file before reading it (v1 sends large files
// chunked).
func (s *Server) writeMeta(w http.ResponseWriter, r *http.Request, sha string, data []byte) error {
	h := w.Header()
	if len(data) >= gzipMinSize {
		// The same URL has a gzip and a plain form: shared caches must
		// pick by the client's Accept-Encoding.
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			if z := s.gz.get(r.Context(), sha, data); z != nil {
				h.Set("Content-Encoding", "gzip")
				data = z
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, err := w.Write(data)
	return err
}

// currentSHA is the hex SHA-256 of the current file of role in c, as
// the snapshot (or, for the snapshot, the timestamp) records it: the hash
// the file was read by. The timestamp's is not recorded, and it is too
// small to compress.
func currentSHA(c *storedState, role string) string {
	switch role {
	case tuf.RoleTimestamp:
		return ""
	case tuf.RoleSnapshot:
		return c.snapSHA
	}
	return c.snapBody.Meta[role].SHA256Hex()
}
