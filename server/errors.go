package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"unicode/utf8"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/storage"
)

// ErrKeyNotFound is what a KeyService returns (wrapped) when it does not
// hold a key: the server then creates one, or reports that it cannot sign.
var ErrKeyNotFound = errors.New("server: key not held by the key service")

// errNoKeyService: the server was built without a KeyService.
var errNoKeyService = errors.New("server: no key service configured")

// A KeyServiceError is a KeyService call that failed for any reason other
// than an unknown key (signer down, timed out, refused): the request
// fails with 503 UNAVAILABLE and can be retried.
type KeyServiceError struct {
	Op  string // "create key", "find key", "sign"
	Err error
}

func (e *KeyServiceError) Error() string { return fmt.Sprintf("key service: %s: %v", e.Op, e.Err) }
func (e *KeyServiceError) Unwrap() error { return e.Err }

// maxErrorDetail keeps error bodies below api.MaxErrorSize, the most a v1
// client reads before it gives up parsing the body.
const maxErrorDetail = 640

// toAPIError maps any error a handler returns to its wire form: the one
// table of domain errors to v1 codes (protocol §5.3). internal reports an
// error the operator must see (a bug or a broken dependency).
func toAPIError(err error) (e *api.Error, internal bool) {
	var (
		ae  *api.Error
		ve  *api.ValidationError
		kse *KeyServiceError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return ae, ae.Code.HTTPStatus() >= 500
	case errors.As(err, &ve):
		v := *ve
		v.Msg = truncate(v.Msg, maxErrorDetail)
		return api.NewError(api.CodeInvalidUpdate, &v), false
	case errors.As(err, &mbe):
		return api.NewError(api.CodeMalformedUpload, fmt.Sprintf("request body larger than %d bytes", mbe.Limit)), false
	case errors.Is(err, storage.ErrOldVersion):
		return api.NewError(api.CodeOldVersion, api.EmptyDetail), false
	case errors.Is(err, storage.ErrConflict):
		// The collection changed under the request and retries did not
		// settle it: v1 has no 409, and VERSION ("a newer version is
		// already available", 400) tells a client to re-read and retry.
		return api.NewError(api.CodeOldVersion, api.EmptyDetail), false
	case errors.Is(err, storage.ErrNotFound):
		return api.NewError(api.CodeMetadataNotFound, api.EmptyDetail), false
	case errors.Is(err, storage.ErrUnavailable):
		return api.NewError(api.CodeUnavailable, "storage unavailable, retry later"), true
	case errors.Is(err, errNoKeyService):
		return api.NewError(api.CodeNoCryptoService, nil), true
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return api.NewError(api.CodeUnavailable, nil), false
	case errors.Is(err, ErrTooManyNewKeys), errors.Is(err, ErrKeyCreationFailed):
		return api.NewError(api.CodeUnavailable, "cannot create keys now, retry later"), false
	case errors.As(err, &kse):
		return api.NewError(api.CodeUnavailable, "signing service unavailable"), true
	case errors.Is(err, context.DeadlineExceeded):
		return api.NewError(api.CodeUnavailable, nil), true
	}
	return api.NewError(api.CodeUnknown, nil), true
}

// writeError answers with the error's wire form and records the cause for
// the request log (the full text is logged, never sent).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := toAPIError(err)
	if rec, ok := w.(*statusRecorder); ok {
		rec.errText = err.Error()
		if rec.wroteHeader { // too late for an error response
			return
		}
	}
	if internal {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", string(e.Code), "error", err)
	}
	api.WriteError(w, e)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func stack() []byte { return debug.Stack() }
