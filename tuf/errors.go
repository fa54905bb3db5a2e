package tuf

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every typed error below unwraps to one of them, so
// callers test with errors.Is and read details with errors.As.
var (
	// ErrMalformed: the bytes are not well-formed metadata of the expected
	// role (bad JSON, missing or ill-typed field, broken invariant).
	ErrMalformed = errors.New("malformed metadata")
	// ErrWrongType: "_type" is not the one the role requires.
	ErrWrongType = errors.New("wrong metadata type")
	// ErrNoSignatures: the envelope has an empty signature list.
	ErrNoSignatures = errors.New("no signatures")
	// ErrThreshold: too few distinct keys of the role made valid signatures.
	ErrThreshold = errors.New("valid signatures did not meet threshold")
	// ErrKeyIDMismatch: a signature's keyid names a key whose computed ID
	// differs (v1 ErrInvalidKeyID); always fatal.
	ErrKeyIDMismatch = errors.New("key ID does not match key")
	// ErrExpired: the metadata's expiry is before the reference time.
	ErrExpired = errors.New("metadata expired")
	// ErrLowVersion: a version below the trusted one (rollback).
	ErrLowVersion = errors.New("metadata version lower than trusted version")
	// ErrHashMismatch: bytes do not match a FileMeta's hashes or length.
	ErrHashMismatch = errors.New("hash or length mismatch")
	// ErrNoKnownHash: a FileMeta carries no sha256 or sha512 digest.
	ErrNoKnownHash = errors.New("no supported hash algorithm")
	// ErrRoleName: not a valid role or delegation name.
	ErrRoleName = errors.New("invalid role name")
	// ErrNoSuchRole: the role is not defined by root or by its parent.
	ErrNoSuchRole = errors.New("role does not exist")
	// ErrRootRotation: a new root is not signed by the trusted root's keys.
	ErrRootRotation = errors.New("root rotation failed")
	// ErrUnsignable: the value cannot be written as v1 metadata (for
	// example a string holding a control character).
	ErrUnsignable = errors.New("cannot encode metadata")
	// ErrSigning: a signer failed or returned an unusable signature.
	ErrSigning = errors.New("signing failed")
)

// MalformedError says which role's metadata is malformed, at which field
// (a dotted path such as "roles.targets.threshold"; empty for the whole
// file) and why.
type MalformedError struct {
	Role   string
	Field  string
	Reason string
}

func (e *MalformedError) Error() string {
	var b strings.Builder
	b.WriteString("tuf: malformed ")
	b.WriteString(roleLabel(e.Role))
	b.WriteString(" metadata")
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

func (e *MalformedError) Unwrap() error { return ErrMalformed }

// TypeError reports a "_type" other than the one the role requires.
type TypeError struct {
	Role      string
	Want, Got string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("tuf: %s metadata has _type %q, want %q", roleLabel(e.Role), e.Got, e.Want)
}

func (e *TypeError) Unwrap() []error { return []error{ErrWrongType, ErrMalformed} }

// ThresholdError reports that fewer than Threshold distinct keys of Role
// made valid signatures. Skipped lists, for signatures whose keyid belongs
// to the role, why each did not count (at most a few).
type ThresholdError struct {
	Role      string
	Threshold int
	Valid     int
	Skipped   []error
}

func (e *ThresholdError) Error() string {
	var b strings.Builder
	if e.Threshold < 1 {
		fmt.Fprintf(&b, "tuf: %s role has invalid threshold %d", roleLabel(e.Role), e.Threshold)
		return b.String()
	}
	fmt.Fprintf(&b, "tuf: valid signatures did not meet threshold for %s: %d of %d", roleLabel(e.Role), e.Valid, e.Threshold)
	for i, err := range e.Skipped {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if len(e.Skipped) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

func (e *ThresholdError) Unwrap() error { return ErrThreshold }

// NoSignaturesError reports an envelope without signatures.
type NoSignaturesError struct{ Role string }

func (e *NoSignaturesError) Error() string {
	return fmt.Sprintf("tuf: %s metadata has no signatures", roleLabel(e.Role))
}

func (e *NoSignaturesError) Unwrap() error { return ErrNoSignatures }

// KeyIDMismatchError reports a key listed under KeyID whose computed TUF ID
// is Computed (v1 ErrInvalidKeyID). Signatures naming it are never counted.
type KeyIDMismatchError struct {
	Role     string
	KeyID    string
	Computed string
}

func (e *KeyIDMismatchError) Error() string {
	return fmt.Sprintf("tuf: %s: key listed as %s has ID %s", roleLabel(e.Role), e.KeyID, e.Computed)
}

func (e *KeyIDMismatchError) Unwrap() error { return ErrKeyIDMismatch }

// ExpiredError reports metadata whose expiry is before the reference time.
type ExpiredError struct {
	Role    string
	Expires time.Time
	Now     time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("tuf: %s metadata expired at %s (now %s)", roleLabel(e.Role),
		e.Expires.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

func (e *ExpiredError) Unwrap() error { return ErrExpired }

// LowVersionError reports a version below the trusted one.
type LowVersionError struct {
	Role    string
	Version int64
	Trusted int64
}

func (e *LowVersionError) Error() string {
	return fmt.Sprintf("tuf: %s version %d is lower than trusted version %d", roleLabel(e.Role), e.Version, e.Trusted)
}

func (e *LowVersionError) Unwrap() error { return ErrLowVersion }

// HashMismatchError reports bytes that do not match their FileMeta:
// Algorithm is "sha256", "sha512" or "length".
type HashMismatchError struct {
	Role      string
	Algorithm string
	Want, Got string
}

func (e *HashMismatchError) Error() string {
	if e.Algorithm == "length" {
		return fmt.Sprintf("tuf: %s: length %s does not match expected %s", roleLabel(e.Role), e.Got, e.Want)
	}
	return fmt.Sprintf("tuf: %s: %s checksum mismatch: got %s, want %s", roleLabel(e.Role), e.Algorithm, e.Got, e.Want)
}

func (e *HashMismatchError) Unwrap() error { return ErrHashMismatch }

// RoleNameError reports an invalid role or delegation name.
type RoleNameError struct {
	Name   string
	Reason string
}

func (e *RoleNameError) Error() string {
	return fmt.Sprintf("tuf: invalid role name %q: %s", e.Name, e.Reason)
}

func (e *RoleNameError) Unwrap() error { return ErrRoleName }

// NoSuchRoleError reports a role that root (Parent "root") or the
// delegating targets role Parent does not define.
type NoSuchRoleError struct {
	Role   string
	Parent string
}

func (e *NoSuchRoleError) Error() string {
	return fmt.Sprintf("tuf: role %s is not defined in %s", e.Role, roleLabel(e.Parent))
}

func (e *NoSuchRoleError) Unwrap() error { return ErrNoSuchRole }

// RootRotationError reports a new root that the trusted root (version
// Trusted) does not vouch for, or that does not vouch for itself; Err is
// the underlying threshold or structure error.
type RootRotationError struct {
	Trusted int64
	Version int64
	Err     error
}

func (e *RootRotationError) Error() string {
	return fmt.Sprintf("tuf: root rotation from version %d to %d failed: %v", e.Trusted, e.Version, e.Err)
}

func (e *RootRotationError) Unwrap() []error { return []error{ErrRootRotation, e.Err} }

// UnsignableError reports a value that v1 could not write as metadata.
type UnsignableError struct {
	Role   string
	Reason string
}

func (e *UnsignableError) Error() string {
	return fmt.Sprintf("tuf: cannot encode %s metadata: %s", roleLabel(e.Role), e.Reason)
}

func (e *UnsignableError) Unwrap() error { return ErrUnsignable }

// SigningError reports a signer that failed or returned a signature the
// key cannot verify.
type SigningError struct {
	KeyID string
	Err   error
}

func (e *SigningError) Error() string {
	return fmt.Sprintf("tuf: signing with key %s: %v", e.KeyID, e.Err)
}

func (e *SigningError) Unwrap() []error { return []error{ErrSigning, e.Err} }

func roleLabel(role string) string {
	if role == "" {
		return "unknown role"
	}
	return role
}

// A DuplicateKeyError reports a role listing one key under two key IDs,
// KeyID and Other, that share CanonicalID (a plain key and a certificate
// for it, or two certificates for one key): it would meet a threshold of
// two alone (issue 18).
type DuplicateKeyError struct {
	Role        string
	KeyID       string
	Other       string
	CanonicalID string
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("tuf: %s lists one key twice: key IDs %s and %s are the same key (canonical ID %s)", roleLabel(e.Role), e.KeyID, e.Other, e.CanonicalID)
}
