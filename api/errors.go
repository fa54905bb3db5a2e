package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// A Code is an error code of the notary.api.v1 group (protocol §5.3), as
// it appears in the "code" field of an error body.
type Code string

// Error codes of notary-server v0.7.0 (server/errors/errors.go) plus the
// docker/distribution codes it uses (UNKNOWN, UNAUTHORIZED) and UNAVAILABLE,
// which this server sends when its signing service does not answer in time.
const (
	CodeNoStorage        Code = "NO_STORAGE"
	CodeNoFilename       Code = "NO_FILENAME"
	CodeInvalidRole      Code = "INVALID_ROLE"
	CodeMalformedJSON    Code = "MALFORMED_JSON"
	CodeUpdating         Code = "UPDATING"
	CodeOldVersion       Code = "VERSION"
	CodeMetadataNotFound Code = "METADATA_NOT_FOUND"
	CodeInvalidUpdate    Code = "INVALID_UPDATE"
	CodeMalformedUpload  Code = "MALFORMED_UPLOAD"
	CodeGenericNotFound  Code = "GENERIC_NOT_FOUND"
	CodeNoCryptoService  Code = "NO_CRYPTOSERVICE"
	CodeNoKeyAlgorithm   Code = "NO_KEYALGORITHM"
	CodeInvalidGUN       Code = "INVALID_GUN"
	CodeInvalidParams    Code = "INVALID_PARAMETERS"
	CodeUnknown          Code = "UNKNOWN"
	CodeUnauthorized     Code = "UNAUTHORIZED"
	CodeUnavailable      Code = "UNAVAILABLE"
)

type codeInfo struct {
	status  int
	message string
}

// codes is the one table of wire codes: HTTP status and message
// (protocol §5.3; UNAVAILABLE is docker/distribution's errcode).
var codes = map[Code]codeInfo{
	CodeNoStorage:        {http.StatusInternalServerError, "The server is misconfigured and has no storage."},
	CodeNoFilename:       {http.StatusBadRequest, "No file/role name provided."},
	CodeInvalidRole:      {http.StatusBadRequest, "The role you are attempting to operate on is invalid."},
	CodeMalformedJSON:    {http.StatusBadRequest, "JSON sent by the client could not be parsed by the server"},
	CodeUpdating:         {http.StatusInternalServerError, "An error has occurred while updating the TUF repository."},
	CodeOldVersion:       {http.StatusBadRequest, "A newer version of metadata is already available."},
	CodeMetadataNotFound: {http.StatusNotFound, "You have requested metadata that does not exist."},
	CodeInvalidUpdate:    {http.StatusBadRequest, "Update sent by the client is invalid."},
	CodeMalformedUpload:  {http.StatusBadRequest, "The body of your request is malformed."},
	CodeGenericNotFound:  {http.StatusNotFound, "You have requested a resource that does not exist."},
	CodeNoCryptoService:  {http.StatusInternalServerError, "The server does not have a signing service configured."},
	CodeNoKeyAlgorithm:   {http.StatusInternalServerError, "The server does not have a key algorithm configured."},
	CodeInvalidGUN:       {http.StatusBadRequest, "The server does not support actions on images of this name."},
	CodeInvalidParams:    {http.StatusBadRequest, "The parameters provided are not valid."},
	CodeUnknown:          {http.StatusInternalServerError, "unknown error"},
	CodeUnauthorized:     {http.StatusUnauthorized, "authentication required"},
	CodeUnavailable:      {http.StatusServiceUnavailable, "service unavailable"},
}

// HTTPStatus is the status a response with this code carries; unknown
// codes give 500.
func (c Code) HTTPStatus() int {
	if i, ok := codes[c]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Message is the fixed human-readable message of the code.
func (c Code) Message() string {
	if i, ok := codes[c]; ok {
		return i.message
	}
	return string(c)
}

// An Error is one entry of an error response. Detail is anything that
// marshals to JSON; nil omits it. Use Detail: EmptyDetail to send "{}",
// as v0.7.0 does for storage errors it wraps.
type Error struct {
	Code    Code
	Message string // empty: Code.Message()
	Detail  any
}

// EmptyDetail marshals as {}: v0.7.0 sends "detail":{} when the detail it
// was given is a Go error value (encoding/json writes a struct without
// exported fields).
var EmptyDetail = struct{}{}

// NewError returns an *Error of code with the given detail.
func NewError(code Code, detail any) *Error { return &Error{Code: code, Detail: detail} }

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.Message()
	}
	switch d := e.Detail.(type) {
	case nil:
		return fmt.Sprintf("%s: %s", e.Code, msg)
	case string:
		return fmt.Sprintf("%s: %s: %s", e.Code, msg, d)
	case error:
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, d)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

// Is makes errors.Is(err, ErrNotFound) etc. true by code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == CodeMetadataNotFound || e.Code == CodeGenericNotFound
	case ErrVersion:
		return e.Code == CodeOldVersion
	case ErrUnavailable:
		return e.Code.HTTPStatus() >= 500
	}
	return false
}

// ErrorBody is the JSON body of every error response:
// {"errors":[{"code":..,"message":..,"detail":..}]}.
type ErrorBody struct {
	Errors []ErrorItem `json:"errors"`
}

// ErrorItem is one entry of ErrorBody.Errors. Detail is kept raw.
type ErrorItem struct {
	Code    Code            `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

type errorItemOut struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// MarshalErrorBody returns the JSON error body for e.
func MarshalErrorBody(e *Error) ([]byte, error) {
	msg := e.Message
	if msg == "" {
		msg = e.Code.Message()
	}
	return json.Marshal(struct {
		Errors []errorItemOut `json:"errors"`
	}{[]errorItemOut{{Code: e.Code, Message: msg, Detail: e.Detail}}})
}

// WriteError writes e as v0.7.0 does (errcode.ServeJSON): status from the
// code, Content-Type application/json; charset=utf-8, the body and a
// trailing newline.
func WriteError(w http.ResponseWriter, e *Error) {
	body, err := MarshalErrorBody(e)
	if err != nil { // a detail that cannot be marshalled: drop it
		body, _ = MarshalErrorBody(&Error{Code: e.Code, Message: e.Message})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Cache-Control")
	h.Del("Last-Modified")
	w.WriteHeader(e.Code.HTTPStatus())
	_, _ = w.Write(append(body, '\n'))
}

// Validation error names: the "Name" of an INVALID_UPDATE detail
// (v1 tuf/validation.SerializableError).
const (
	ErrNameValidation   = "ErrValidation"
	ErrNameBadHierarchy = "ErrBadHierarchy"
	ErrNameBadRoot      = "ErrBadRoot"
	ErrNameBadTargets   = "ErrBadTargets"
	ErrNameBadSnapshot  = "ErrBadSnapshot"
)

// A ValidationError is why the server refused an update: the detail of an
// INVALID_UPDATE error, {"Name":"ErrBadRoot","Error":{"Msg":"..."}}, which
// v1 clients decode back into their typed validation errors. Missing is
// only sent for ErrBadHierarchy. Error() reads as v1's message.
type ValidationError struct {
	Name    string
	Missing string
	Msg     string
}

func (e *ValidationError) Error() string {
	switch e.Name {
	case ErrNameValidation:
		return "An error occurred during validation: " + e.Msg
	case ErrNameBadHierarchy:
		return "Metadata hierarchy is incomplete: " + e.Msg
	case ErrNameBadRoot:
		return "The root metadata is invalid: " + e.Msg
	case ErrNameBadTargets:
		return "The targets metadata is invalid: " + e.Msg
	case ErrNameBadSnapshot:
		return "The snapshot metadata is invalid: " + e.Msg
	}
	return e.Name + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalidUpdate) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidUpdate }

type validationMsg struct {
	Msg string
}

type hierarchyMsg struct {
	Missing string
	Msg     string
}

// MarshalJSON writes v1's SerializableError form.
func (e *ValidationError) MarshalJSON() ([]byte, error) {
	var inner any = validationMsg{Msg: e.Msg}
	if e.Name == ErrNameBadHierarchy {
		inner = hierarchyMsg{Missing: e.Missing, Msg: e.Msg}
	}
	return json.Marshal(struct {
		Name  string
		Error any
	}{e.Name, inner})
}

// UnmarshalJSON reads v1's SerializableError form; like v1 it refuses
// names it does not know.
func (e *ValidationError) UnmarshalJSON(b []byte) error {
	var v struct {
		Name  string
		Error *hierarchyMsg
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v.Name {
	case ErrNameValidation, ErrNameBadHierarchy, ErrNameBadRoot, ErrNameBadTargets, ErrNameBadSnapshot:
	default:
		return fmt.Errorf("api: unknown validation error name %q", v.Name)
	}
	*e = ValidationError{Name: v.Name}
	if v.Error != nil {
		e.Msg = v.Error.Msg
		if v.Name == ErrNameBadHierarchy {
			e.Missing = v.Error.Missing
		}
	}
	return nil
}

// Sentinel errors the Client's errors match with errors.Is.
var (
	// ErrNotFound: 404, the metadata or key does not exist.
	ErrNotFound = errors.New("api: not found")
	// ErrVersion: 400 VERSION, a newer version is already stored; re-read
	// and retry.
	ErrVersion = errors.New("api: a newer version of the metadata is already stored")
	// ErrInvalidUpdate: 400 INVALID_UPDATE with a ValidationError.
	ErrInvalidUpdate = errors.New("api: update rejected by validation")
	// ErrRejected: any other 4xx.
	ErrRejected = errors.New("api: request rejected by the server")
	// ErrUnauthorized: 401.
	ErrUnauthorized = errors.New("api: not authorized")
	// ErrUnavailable: 5xx or another unexpected status.
	ErrUnavailable = errors.New("api: server unavailable")
	// ErrTooLarge: the response exceeds the size the caller allowed (v1
	// ErrMaliciousServer).
	ErrTooLarge = errors.New("api: response larger than allowed")
)
