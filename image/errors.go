package image

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; the typed errors below unwrap to them. Registry
// failures are the registry package's errors (registry.ErrUnreachable,
// registry.ErrUnauthorized, ...), trust server failures the client
// package's (client.ErrServerUnreachable, ...), both passed through.
var (
	// ErrNotSigned: no trusted role signs the tag (or digest), or the
	// repository has no trust data at all.
	ErrNotSigned = errors.New("image not signed")
	// ErrMismatch: the registry serves something other than what was
	// signed for the tag.
	ErrMismatch = errors.New("image does not match its signature")
	// ErrPlatform: the platform asked for is not a child of the signed
	// index (or the image is not an index).
	ErrPlatform = errors.New("platform not in the signed image index")
	// ErrNoSigningRole: the collection has signer delegations and none of
	// their keys is in the trust directory (Docker CLI: "no valid signing
	// keys for delegation roles").
	ErrNoSigningRole = errors.New("no valid signing keys for delegation roles")
	// ErrUsage: the options do not fit the reference (a --tag with a tag
	// reference that names another tag, a digest to revoke, ...).
	ErrUsage = errors.New("invalid image operation")
)

// NotSignedError reports an image with no trusted signature: Tag (or
// Digest) is not in any of Roles of GUN, or GUN has no trust data
// (NoTrustData). Err is the underlying client error, if any.
type NotSignedError struct {
	Ref         string
	GUN         string
	Tag         string
	Digest      string
	Roles       []string
	NoTrustData bool
	Err         error
}

func (e *NotSignedError) Error() string {
	switch {
	case e.NoTrustData:
		return fmt.Sprintf("%s is not signed: the trust server has no trust data for %s", e.Ref, e.GUN)
	case e.Digest != "" && e.Tag == "":
		return fmt.Sprintf("%s is not signed: no signed tag of %s (in %s) names the digest %s or an index containing it", e.Ref, e.GUN, strings.Join(e.Roles, ", "), e.Digest)
	default:
		return fmt.Sprintf("%s is not signed: the tag %q has no signature in %s of %s", e.Ref, e.Tag, strings.Join(e.Roles, " or "), e.GUN)
	}
}

// Unwrap returns ErrNotSigned and the cause.
func (e *NotSignedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotSigned}
	}
	return []error{ErrNotSigned, e.Err}
}

// MismatchError reports a tag whose manifest in the registry is not the
// one signed: Signed and Served are "sha256:<hex>" digests with sizes.
type MismatchError struct {
	Ref        string
	Role       string
	Signed     string
	SignedSize int64
	Served     string
	ServedSize int64
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s does not match its signature: the registry serves %s (%d bytes) but %s signed %s (%d bytes)", e.Ref, e.Served, e.ServedSize, e.Role, e.Signed, e.SignedSize)
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// PlatformError reports a platform that the signed image does not offer.
type PlatformError struct {
	Ref      string
	Platform string
	Digest   string
	NotIndex bool
}

func (e *PlatformError) Error() string {
	if e.NotIndex {
		return fmt.Sprintf("%s (%s) is a single-platform image, not an index: --platform %s cannot be checked against it", e.Ref, e.Digest, e.Platform)
	}
	return fmt.Sprintf("the signed index of %s (%s) has no manifest for the platform %s", e.Ref, e.Digest, e.Platform)
}

// Unwrap returns ErrPlatform.
func (e *PlatformError) Unwrap() error { return ErrPlatform }

// NoSigningRoleError reports a collection whose signer delegations hold
// none of the user's keys.
type NoSigningRoleError struct {
	GUN   string
	Tag   string
	Roles []string // the delegations that exist
}

func (e *NoSigningRoleError) Error() string {
	return fmt.Sprintf("cannot sign %s:%s: no valid signing keys for delegation roles (%s has the signer roles %s and the trust directory holds none of their keys)", e.GUN, e.Tag, e.GUN, strings.Join(e.Roles, ", "))
}

// Unwrap returns ErrNoSigningRole.
func (e *NoSigningRoleError) Unwrap() error { return ErrNoSigningRole }

// UsageError reports options that do not fit the reference.
type UsageError struct {
	Ref    string
	Reason string
}

func (e *UsageError) Error() string { return fmt.Sprintf("%s: %s", e.Ref, e.Reason) }

// Unwrap returns ErrUsage.
func (e *UsageError) Unwrap() error { return ErrUsage }
