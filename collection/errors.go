package collection

import (
	"errors"
	"fmt"
	"strings"

	"github.com/notary-go/notary/changelist"
)

// Sentinel errors. Every typed error below unwraps to one of them.
var (
	// ErrInvalidRole: the role does not exist, is not the right kind of
	// role for the operation, or the edit would make it invalid (v1
	// data.ErrInvalidRole).
	ErrInvalidRole = errors.New("invalid role")
	// ErrNoSigningKeys: the edit changes a role for which no signing key
	// is available (v1 signed.ErrNoKeys, from Repo.VerifyCanSign).
	ErrNoSigningKeys = errors.New("no signing keys available")
	// ErrInsufficientSignatures: fewer signing keys are available than a
	// role's threshold (v1 signed.ErrInsufficientSignatures).
	ErrInsufficientSignatures = errors.New("not enough signing keys")
	// ErrPathNotAllowed: the target name is outside the paths the role may
	// sign for.
	ErrPathNotAllowed = errors.New("target path not allowed for role")
	// ErrUnsupportedChange: a changelist entry v1's publish cannot apply.
	ErrUnsupportedChange = errors.New("unsupported change")
)

// InvalidRoleError is v1's data.ErrInvalidRole: Role and why it is
// unusable here.
type InvalidRoleError struct {
	Role   string
	Reason string
	Err    error // an underlying error, if any
}

func (e *InvalidRoleError) Error() string {
	s := fmt.Sprintf("collection: invalid role %s", e.Role)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInvalidRole and the underlying error.
func (e *InvalidRoleError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidRole}
	}
	return []error{ErrInvalidRole, e.Err}
}

// NoSigningKeysError reports that none of Role's keys (canonical IDs
// KeyIDs) is available, so the edit could never be signed.
type NoSigningKeysError struct {
	Role   string
	KeyIDs []string
}

func (e *NoSigningKeysError) Error() string {
	return fmt.Sprintf("collection: cannot change %s: none of its signing keys is available (need one of: %s)",
		e.Role, strings.Join(e.KeyIDs, ", "))
}

// Unwrap returns ErrNoSigningKeys.
func (e *NoSigningKeysError) Unwrap() error { return ErrNoSigningKeys }

// InsufficientSignaturesError reports that only Found of the Threshold
// signatures Role needs can be made. Missing holds the canonical IDs of the
// role's keys that are not available. PreviousRoot marks the check of a
// rotated root against the keys of the root it replaces (v1 §4.5).
type InsufficientSignaturesError struct {
	Role         string
	Threshold    int
	Found        int
	Missing      []string
	PreviousRoot bool
}

// Needed is how many more signing keys would reach the threshold.
func (e *InsufficientSignaturesError) Needed() int { return e.Threshold - e.Found }

func (e *InsufficientSignaturesError) Error() string {
	role := e.Role
	if e.PreviousRoot {
		role = "root (keys of the previous root)"
	}
	s := fmt.Sprintf("collection: not enough signing keys for %s: found %d of %d, %d more needed",
		role, e.Found, e.Threshold, e.Needed())
	if len(e.Missing) > 0 {
		s += " (unavailable: " + strings.Join(e.Missing, ", ") + ")"
	}
	return s
}

// Unwrap returns ErrInsufficientSignatures.
func (e *InsufficientSignaturesError) Unwrap() error { return ErrInsufficientSignatures }

// PathNotAllowedError reports a target name outside Role's effective paths
// (its own paths, narrowed by every ancestor's; v1 §1.4).
type PathNotAllowedError struct {
	Role   string
	Target string
	Paths  []string
}

func (e *PathNotAllowedError) Error() string {
	return fmt.Sprintf("collection: %s may not sign target %q (allowed path prefixes: %q)", e.Role, e.Target, e.Paths)
}

// Unwrap returns ErrPathNotAllowed.
func (e *PathNotAllowedError) Unwrap() error { return ErrPathNotAllowed }

// UnsupportedChangeError reports a change whose Field ("role", "type",
// "action" or "new_name") has a Value v1's publish does not apply.
type UnsupportedChangeError struct {
	Field string
	Value string
}

func (e *UnsupportedChangeError) Error() string {
	switch e.Field {
	case "role":
		return fmt.Sprintf("collection: scope not supported: %q", e.Value)
	case "new_name":
		return fmt.Sprintf("collection: renaming a delegation (new_name %q) is not supported", e.Value)
	}
	return fmt.Sprintf("collection: %s %q not supported here", e.Field, e.Value)
}

// Unwrap returns ErrUnsupportedChange.
func (e *UnsupportedChangeError) Unwrap() error { return ErrUnsupportedChange }

// ChangeError reports the changelist entry at Index (in the slice given to
// ApplyChanges) that could not be applied.
type ChangeError struct {
	Index  int
	Change changelist.Change
	Err    error
}

func (e *ChangeError) Error() string {
	c := e.Change
	id := ""
	if c.ID != "" {
		id = " (" + c.ID + ")"
	}
	return fmt.Sprintf("collection: change #%d%s %s %s on %s path %q: %v", e.Index, id, c.Action, c.Type, c.Scope, c.Path, e.Err)
}

// Unwrap returns the cause.
func (e *ChangeError) Unwrap() error { return e.Err }
