package update

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/notary-go/notary/tuf"
)

// Sentinel errors. Typed errors below unwrap to one of them; verification
// failures are the tuf package's typed errors (*tuf.ExpiredError,
// *tuf.LowVersionError, *tuf.HashMismatchError, *tuf.ThresholdError, ...),
// usually inside a *RoleError that says which file they came from. Test
// with errors.Is and read details with errors.As.
var (
	// ErrNotFound is what a Remote or a Cache returns (wrapped) for a file
	// it does not hold: HTTP 404 for a server, a missing file for a mirror.
	ErrNotFound = errors.New("metadata not found")
	// ErrTooLarge is what a Remote returns (wrapped, usually as a
	// *TooLargeError) for a file longer than the size it was allowed to
	// read (v1 §4.6: "malicious server").
	ErrTooLarge = errors.New("metadata exceeds its size limit")
	// ErrOffline: the remote could not be reached or failed (network
	// error, HTTP 5xx). Any Remote error that wraps neither ErrNotFound nor
	// ErrTooLarge counts as this.
	ErrOffline = errors.New("server unreachable")
	// ErrRepositoryNotExist: the remote has no root.json for the GUN and
	// nothing is cached (v1 "repository does not exist").
	ErrRepositoryNotExist = errors.New("repository does not exist")
	// ErrNoTrustData: nothing is cached for the GUN and the remote cannot
	// be asked (offline load, or unreachable server); v1 says "repository
	// not initialized".
	ErrNoTrustData = errors.New("no trust data cached for this repository")
	// ErrOutOfOrder: a TrustedSet call made before the roles it depends on
	// were loaded, or after the point where it is allowed.
	ErrOutOfOrder = errors.New("metadata loaded out of order")
	// ErrWriteConflict: a Cache compare-and-swap found other bytes than the
	// caller expected (another process updated the cache meanwhile).
	ErrWriteConflict = errors.New("cache changed concurrently")
	// ErrTargetNotFound: no visible role holds the target.
	ErrTargetNotFound = errors.New("target not found")
	// ErrRootChain: the rotation chain to the newest root could not be
	// walked (a missing intermediate version, a version that does not say
	// what it was asked for, a chain too long).
	ErrRootChain = errors.New("root rotation chain broken")
	// ErrDroppedRole: a new snapshot no longer lists a targets role that
	// the trusted snapshot listed and that is still delegated (TUF 5.5.5).
	ErrDroppedRole = errors.New("snapshot dropped a trusted role")
)

// A DroppedRoleError is a snapshot that hides a targets role the trusted
// snapshot listed while that role is still delegated: only the snapshot
// key is needed for it, and the server holds that key by default, so a
// client would otherwise take a lower-priority role's targets instead
// (TUF 5.5.5).
type DroppedRoleError struct {
	Role            string
	TrustedVersion  int64 // the trusted snapshot that listed Role
	SnapshotVersion int64 // the new snapshot that does not
}

func (e *DroppedRoleError) Error() string {
	return fmt.Sprintf("update: snapshot version %d no longer lists %s, which trusted snapshot version %d listed and which is still delegated", e.SnapshotVersion, e.Role, e.TrustedVersion)
}

func (e *DroppedRoleError) Unwrap() error { return ErrDroppedRole }

// OrderError reports a TrustedSet call made out of the TUF update order,
// such as updating snapshot before timestamp (go-tuf TrustedMetadata).
type OrderError struct {
	Op     string // the refused call, e.g. "UpdateSnapshot"
	Reason string // e.g. "timestamp is not loaded"
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("update: cannot %s: %s", e.Op, e.Reason)
}

func (e *OrderError) Unwrap() error { return ErrOutOfOrder }

// TooLargeError reports a file longer than Limit bytes, the most it was
// allowed to be (the length its parent lists, or a fixed cap, v1 §4.6).
type TooLargeError struct {
	File  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("update: %s is larger than its limit of %d bytes (malicious server or mirror?)", e.File, e.Limit)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// OfflineError reports a remote that could not be reached while reading
// File; Err is what the Remote returned.
type OfflineError struct {
	File string
	Err  error
}

func (e *OfflineError) Error() string {
	if errors.Is(e.Err, ErrNotFound) {
		// The remote answered: the data is gone, not the server.
		return fmt.Sprintf("update: the server was reached but no longer has %s (its trust data may have been deleted): %v", e.File, e.Err)
	}
	return fmt.Sprintf("update: server unreachable while fetching %s: %v", e.File, e.Err)
}

func (e *OfflineError) Unwrap() []error { return []error{ErrOffline, e.Err} }

// RoleError says which role's metadata could not be fetched or trusted,
// from which file, and why. Cached is true when the bytes came from the
// local cache rather than the remote. Err is the cause: a tuf verification
// error, a *TooLargeError, an *OfflineError, or an error wrapping
// ErrNotFound.
type RoleError struct {
	Role   string
	File   string
	Cached bool
	Err    error
}

func (e *RoleError) Error() string {
	src := e.File
	if e.Cached {
		src = "cached " + e.Role
	}
	var hm *tuf.HashMismatchError
	if errors.As(e.Err, &hm) && hm.Role == e.Role {
		return fmt.Sprintf("update: %s does not match the trusted hashes (malicious or corrupt server or cache): %v", src, e.Err)
	}
	return fmt.Sprintf("update: %s: %v", src, e.Err)
}

func (e *RoleError) Unwrap() error { return e.Err }

// RootChainError reports a rotation chain that could not be followed from
// the trusted root version From to the newest version To, at version At.
type RootChainError struct {
	From, To, At int64
	Err          error
}

func (e *RootChainError) Error() string {
	return fmt.Sprintf("update: root rotation from version %d to %d failed at version %d: %v", e.From, e.To, e.At, e.Err)
}

func (e *RootChainError) Unwrap() []error { return []error{ErrRootChain, e.Err} }

// TargetNotFoundError reports a target name that no visible role holds.
type TargetNotFoundError struct {
	Name  string
	Roles []string // the roles searched (with their delegations)
}

func (e *TargetNotFoundError) Error() string {
	return fmt.Sprintf("update: no trust data for target %s in %v", strconv.Quote(e.Name), e.Roles)
}

func (e *TargetNotFoundError) Unwrap() error { return ErrTargetNotFound }

// RootMismatchError reports a snapshot whose entry for root does not match
// the trusted root's bytes: the root was rotated (or the snapshot is
// wrong), so the root must be updated before the snapshot can be used (v1
// builder). Err is the *tuf.HashMismatchError for role "root".
type RootMismatchError struct {
	SnapshotVersion int64
	RootVersion     int64
	Err             error
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("update: snapshot version %d lists another root than trusted root version %d (root rotated?): %v", e.SnapshotVersion, e.RootVersion, e.Err)
}

func (e *RootMismatchError) Unwrap() error { return e.Err }

// RetryError reports an update that failed (Cause), after which updating
// the root failed too (Err). Both are reachable with errors.Is and As.
type RetryError struct {
	Err   error
	Cause error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (root update after: %v)", e.Err, e.Cause)
}

func (e *RetryError) Unwrap() []error { return []error{e.Err, e.Cause} }
