package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// An uploadedPart is one role of an atomic update, as read from the body.
type uploadedPart struct {
	role string
	data []byte
}

// handleUpdate answers POST /v2/{gun}/_trust/tuf/ (§5.2, §4.1): read every
// part, validate the whole update against the current collection, add the
// server-made snapshot and timestamp, and store everything in one
// transaction. Nothing is stored unless everything is valid.
func (s *Server) handleUpdate(ctx context.Context, w http.ResponseWriter, r *http.Request, gun string) error {
	if err := checkGUN(gun); err != nil {
		return err
	}
	body := &budgetReader{r: http.MaxBytesReader(w, r.Body, s.maxUpdateSize), budget: s.uploads}
	defer body.done()
	r.Body = io.NopCloser(body)
	mr, err := r.MultipartReader()
	if err != nil {
		return api.NewError(api.CodeMalformedUpload, nil)
	}
	parts, err := readParts(mr, s.maxParts, s.maxPartSize)
	if ae := (*api.Error)(nil); errors.As(err, &ae) && ae.Code == api.CodeUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if err != nil {
		return err
	}
	return s.commitUpdate(ctx, gun, parts)
}

// readParts reads an update's parts (§5.2): the role is the raw filename
// (keeping "/"), each body must look like metadata (an object with
// "signed" holding _type, version and expires, and "signatures"), and no
// role may come twice, nor be larger than maxPart or its role's limit
// (tuf.MaxSize). Errors are the v1 codes: NO_FILENAME, INVALID_ROLE,
// MALFORMED_JSON, MALFORMED_UPLOAD.
func readParts(mr *multipart.Reader, maxParts int, maxPart int64) (map[string][]byte, error) {
	parts := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadReadError(err)
		}
		role, err := api.PartRole(p.Header)
		if err != nil {
			return nil, api.NewError(api.CodeNoFilename, nil)
		}
		if !tuf.ValidRole(role) {
			return nil, api.NewError(api.CodeInvalidRole, role)
		}
		if _, dup := parts[role]; dup {
			return nil, api.NewError(api.CodeMalformedUpload, fmt.Sprintf("role %s sent twice", role))
		}
		if len(parts) >= maxParts {
			return nil, api.NewError(api.CodeMalformedUpload, fmt.Sprintf("more than %d parts", maxParts))
		}
		// Per-role limits (tuf.MaxSize): a root or timestamp has no
		// business being megabytes, so it is refused before any parsing.
		limit := min(maxPart, tuf.MaxSize(role))
		data, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			return nil, uploadReadError(err)
		}
		if int64(len(data)) > limit {
			return nil, api.NewError(api.CodeMalformedUpload, fmt.Sprintf("the %s part is larger than %d bytes", role, limit))
		}
		if !looksLikeMetadata(data) {
			return nil, api.NewError(api.CodeMalformedJSON, nil)
		}
		parts[role] = data
	}
	return parts, nil
}

func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe
	}
	if isUploadsBusy(err) {
		return uploadsBusy()
	}
	return api.NewError(api.CodeMalformedUpload, nil)
}

// looksLikeMetadata is v1's first check of an uploaded part (decoding into
// data.SignedMeta): one JSON object whose "signed" has a string _type, an
// integer version and an RFC 3339 expires where present, and whose
// "signatures" is a list of signature objects. Everything else is for
// validation, which answers INVALID_UPDATE.
func looksLikeMetadata(data []byte) bool {
	var m struct {
		Signed *struct {
			Type    string    `json:"_type"`
			Version int64     `json:"version"`
			Expires time.Time `json:"expires"`
		} `json:"signed"`
		Signatures signatureList `json:"signatures"`
	}
	return json.Unmarshal(data, &m) == nil && m.Signed != nil
}

// signatureList decodes a "signatures" list as v1's SignedMeta does, but
// only when it has at most tuf.MaxSignatures elements: a longer one is left
// for validation to refuse (INVALID_UPDATE), rather than decoded at tens
// of bytes of memory per byte of [{},{},...] (issue 10 item 1).
type signatureList []struct {
	KeyID  string `json:"keyid"`
	Method string `json:"method"`
	Sig    []byte `json:"sig"`
}

func (l *signatureList) UnmarshalJSON(b []byte) error {
	if countElements(b) > tuf.MaxSignatures {
		return nil
	}
	type plain signatureList
	return json.Unmarshal(b, (*plain)(l))
}

// countElements counts the elements of the JSON array b (valid JSON, as
// encoding/json checks it before calling an UnmarshalJSON); any other
// value counts 0.
func countElements(b []byte) int {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return 0
	}
	if len(bytes.TrimSpace(b[1:len(b)-1])) == 0 {
		return 0
	}
	n, depth, inString := 1, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 1:
			n++
		}
	}
	return n
}

// commitUpdate validates parts and stores the result. A conflict on a
// role the server made (timestamp, generated snapshot) means another
// writer got in first: validate again against the new state. A conflict
// on a role the client sent is the client's: 400 VERSION.
func (s *Server) commitUpdate(ctx context.Context, gun string, parts map[string][]byte) error {
	unlock, err := s.writers.lock(ctx, gun)
	if err != nil {
		return err
	}
	defer unlock()
	deadline := time.Now().Add(maxCommitWait)
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			// Another server got in first: back off a little, with
			// jitter, so racing servers do not collide again.
			backoff := int64(min(attempt, 10)) * int64(5*time.Millisecond)
			if err := sleepCtx(ctx, time.Duration(rand.Int64N(backoff))); err != nil {
				return err
			}
		}
		retry := attempt < maxCommitAttempts && time.Now().Before(deadline)
		p, err := s.validateUpdate(ctx, gun, parts)
		if err != nil {
			return err
		}
		if s.beforeCommit != nil {
			s.beforeCommit(gun)
		}
		// The collection validation read must still be the current one:
		// a DELETE (or a writer on another server) in between would
		// otherwise leave targets, snapshot and timestamp without a root.
		err = s.store.UpdateManyIf(ctx, gun, storage.Precondition{Role: tuf.RoleTimestamp, Version: p.basis}, p.updates)
		if err == nil {
			s.seedParsed(p.updates)
			s.log.Info("updated collection", "gun", gun, "roles", p.roleList(), "timestamp_version", p.timestampVersion)
			return nil
		}
		var ove *storage.OldVersionError
		if errors.As(err, &ove) && p.generated[ove.Role] && retry {
			s.log.Debug("update lost a race on a server-made role, retrying", "gun", gun, "role", ove.Role, "attempt", attempt)
			continue
		}
		if errors.Is(err, storage.ErrConflict) && retry {
			// Changed (or deleted) since validation: validate against
			// what is stored now, as if this update had come after.
			s.log.Debug("collection changed during validation, retrying", "gun", gun, "attempt", attempt)
			continue
		}
		return err
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
