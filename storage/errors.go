package storage

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors, tested with errors.Is. Every error a MetaStore returns for
// one of these conditions is a typed error below that wraps its sentinel.
var (
	// ErrNotFound: no stored row matches the lookup. The HTTP layer answers
	// 404 METADATA_NOT_FOUND.
	ErrNotFound = errors.New("metadata not found")
	// ErrOldVersion: an update's version is not newer than a stored one (or
	// repeats within the call). The HTTP layer answers 400 VERSION.
	ErrOldVersion = errors.New("a newer version of the metadata is already stored")
	// ErrConflict: UpdateManyIf's precondition no longer holds, the stored
	// state changed since the caller read it (another writer, a delete).
	// The caller re-reads and decides again; the HTTP layer never answers
	// 5xx for it.
	ErrConflict = errors.New("stored metadata changed since it was read")
	// ErrInvalidArgument: the caller passed a value the store cannot accept.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnavailable: the backend failed or could not be reached (a lost
	// connection, a restarting database). The HTTP layer answers 503 and
	// the caller retries later.
	ErrUnavailable = errors.New("storage unavailable")
)

// A NotFoundError says which lookup found nothing. Version is set for a
// lookup by version, SHA256 for a lookup by hash; both are zero for a
// lookup of the current version.
type NotFoundError struct {
	GUN     string
	Role    string
	Version int64
	SHA256  string
}

func (e *NotFoundError) Error() string {
	switch {
	case e.SHA256 != "":
		return fmt.Sprintf("storage: no %s metadata with sha256 %s for gun %q", e.Role, e.SHA256, e.GUN)
	case e.Version != 0:
		return fmt.Sprintf("storage: no version %d of %s metadata for gun %q", e.Version, e.Role, e.GUN)
	default:
		return fmt.Sprintf("storage: no %s metadata for gun %q", e.Role, e.GUN)
	}
}

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// An OldVersionError names the update that UpdateMany refused because
// (GUN, Role) already has Version or a higher one stored, or because the
// same call repeats Version for Role. Nothing of that call was stored.
type OldVersionError struct {
	GUN     string
	Role    string
	Version int64
}

func (e *OldVersionError) Error() string {
	return fmt.Sprintf("storage: version %d of %s for gun %q is not newer than a stored version; re-read the current metadata and retry with a higher version",
		e.Version, e.Role, e.GUN)
}

// Unwrap makes errors.Is(err, ErrOldVersion) true.
func (e *OldVersionError) Unwrap() error { return ErrOldVersion }

// A ConflictError says which precondition of UpdateManyIf failed: Want is
// the version of Role the caller read, Have the one stored now (0: none).
// Nothing of that call was stored.
type ConflictError struct {
	GUN  string
	Role string
	Want int64
	Have int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("storage: %s of gun %q changed since it was read (version %d, now %d); re-read and retry",
		e.Role, e.GUN, e.Want, e.Have)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Check returns a *ConflictError unless have, the highest stored version
// of p.Role (0: none), is what p expects. A zero p always holds.
func (p Precondition) Check(gun string, have int64) error {
	if p.Role == "" || have == p.Version {
		return nil
	}
	return &ConflictError{GUN: gun, Role: p.Role, Want: p.Version, Have: have}
}

// An InvalidArgumentError says which argument was refused, its value and
// what was expected instead.
type InvalidArgumentError struct {
	Arg   string // e.g. "gun", "role", "changeID"
	Value string
	Want  string // e.g. "a decimal integer"
}

func (e *InvalidArgumentError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	return fmt.Sprintf("storage: invalid %s %q: want %s", e.Arg, v, e.Want)
}

// Unwrap makes errors.Is(err, ErrInvalidArgument) true.
func (e *InvalidArgumentError) Unwrap() error { return ErrInvalidArgument }

// An UnavailableError says which operation the backend failed (a lost
// connection, a restarting database). It matches both ErrUnavailable and
// the backend's own error with errors.Is and errors.As.
type UnavailableError struct {
	Op  string
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("storage: %s: backend unavailable: %v", e.Op, e.Err)
}

func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Unavailable wraps err, a backend failure during op, in an
// *UnavailableError. nil, the storage package's own errors and context
// errors are returned unchanged.
func Unavailable(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrOldVersion) ||
		errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &UnavailableError{Op: op, Err: err}
}
