package registry

import (
	"errors"
	"fmt"
)

// Sentinel errors. The typed errors below unwrap to them: test with
// errors.Is, read the details with errors.As.
var (
	// ErrInvalidReference: the reference cannot name an image.
	ErrInvalidReference = errors.New("invalid image reference")
	// ErrNoTag: the reference names neither a tag nor a digest.
	ErrNoTag = errors.New("image reference has no tag")
	// ErrUnreachable: no answer from the registry (DNS, refused, timeout).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrTLS: the TLS handshake with the registry failed.
	ErrTLS = errors.New("TLS handshake with the registry failed")
	// ErrUnauthorized: the registry refused access (401 or 403), with or
	// without credentials.
	ErrUnauthorized = errors.New("registry requires authentication")
	// ErrNotFound: the registry has no such manifest (or repository).
	ErrNotFound = errors.New("manifest not found in the registry")
	// ErrManifestTooLarge: the manifest is bigger than MaxManifestSize.
	ErrManifestTooLarge = errors.New("manifest too large")
	// ErrDigestMismatch: the bytes served do not hash to the digest the
	// registry announced (Docker-Content-Digest) or that was asked for.
	ErrDigestMismatch = errors.New("manifest digest mismatch")
	// ErrUnsupportedMediaType: the manifest is not one of the four types
	// this package handles (Docker schema 2, Docker list, OCI manifest,
	// OCI index).
	ErrUnsupportedMediaType = errors.New("unsupported manifest media type")
	// ErrBadResponse: the registry answered with an unexpected status or
	// a malformed manifest.
	ErrBadResponse = errors.New("unexpected registry response")
	// ErrCredentials: the Docker credentials could not be read (bad config
	// file, failing credential helper).
	ErrCredentials = errors.New("cannot read registry credentials")
)

// ReferenceError reports a reference that cannot be used.
type ReferenceError struct {
	Ref    string
	Reason string
	Err    error // ErrInvalidReference or ErrNoTag
}

func (e *ReferenceError) Error() string {
	return fmt.Sprintf("invalid image reference %q: %s", e.Ref, e.Reason)
}

func (e *ReferenceError) Unwrap() error { return e.Err }

// UnreachableError reports a registry that could not be reached.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the registry %s: %v", e.Host, e.Err)
}

// Unwrap returns ErrUnreachable and the cause.
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// TLSError reports a failed TLS handshake with the registry.
type TLSError struct {
	Host string
	Err  error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("TLS connection to the registry %s failed: %v", e.Host, e.Err)
}

// Unwrap returns ErrTLS and the cause.
func (e *TLSError) Unwrap() []error { return []error{ErrTLS, e.Err} }

// AuthError reports a registry that refused access. HadCredentials says
// whether credentials were found for it (in the Docker config file).
type AuthError struct {
	Host           string
	Repository     string
	Status         int
	HadCredentials bool
}

func (e *AuthError) Error() string {
	if e.HadCredentials {
		return fmt.Sprintf("the registry %s refused access to %s with the credentials of the Docker config file (HTTP %d)", e.Host, e.Repository, e.Status)
	}
	return fmt.Sprintf("the registry %s requires authentication for %s (HTTP %d) and no credentials for it are in the Docker config file", e.Host, e.Repository, e.Status)
}

// Unwrap returns ErrUnauthorized.
func (e *AuthError) Unwrap() error { return ErrUnauthorized }

// NotFoundError reports a manifest the registry does not have.
type NotFoundError struct {
	Ref string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("the registry has no manifest for %s", e.Ref)
}

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ManifestTooLargeError reports a manifest over the size limit. Size is
// what the registry announced, or -1 when it only showed while reading.
type ManifestTooLargeError struct {
	Ref   string
	Size  int64
	Limit int64
}

func (e *ManifestTooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("the manifest of %s is larger than the %d-byte limit", e.Ref, e.Limit)
	}
	return fmt.Sprintf("the manifest of %s is %d bytes, over the %d-byte limit", e.Ref, e.Size, e.Limit)
}

// Unwrap returns ErrManifestTooLarge.
func (e *ManifestTooLargeError) Unwrap() error { return ErrManifestTooLarge }

// DigestMismatchError reports manifest bytes whose digest (Actual) is not
// the one expected: announced by the registry in Docker-Content-Digest
// (Source "Docker-Content-Digest"), or named by the reference (Source
// "reference").
type DigestMismatchError struct {
	Ref      string
	Source   string
	Expected string
	Actual   string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("the registry served a manifest for %s whose digest %s is not the %s digest %s", e.Ref, e.Actual, e.Source, e.Expected)
}

// Unwrap returns ErrDigestMismatch.
func (e *DigestMismatchError) Unwrap() error { return ErrDigestMismatch }

// MediaTypeError reports a manifest of a type this package cannot sign.
type MediaTypeError struct {
	Ref       string
	MediaType string
}

func (e *MediaTypeError) Error() string {
	return fmt.Sprintf("the manifest of %s has media type %q; supported are Docker image manifests (schema 2) and manifest lists, OCI image manifests and indexes", e.Ref, e.MediaType)
}

// Unwrap returns ErrUnsupportedMediaType.
func (e *MediaTypeError) Unwrap() error { return ErrUnsupportedMediaType }

// ResponseError reports an unexpected answer: a status other than the
// ones above, with the registry's error code if it sent one, or a
// malformed manifest (Status 200 and Reason saying what is wrong).
type ResponseError struct {
	Host    string
	Ref     string
	Status  int
	Code    string
	Message string
}

func (e *ResponseError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("the registry %s failed for %s: %s", e.Host, e.Ref, e.Message)
	}
	msg := fmt.Sprintf("the registry %s answered HTTP %d for %s", e.Host, e.Status, e.Ref)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns ErrBadResponse.
func (e *ResponseError) Unwrap() error { return ErrBadResponse }

// CredentialsError reports Docker credentials that could not be read.
type CredentialsError struct {
	Host string
	Err  error
}

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("cannot read the Docker credentials for %s: %v", e.Host, e.Err)
}

// Unwrap returns ErrCredentials and the cause.
func (e *CredentialsError) Unwrap() []error { return []error{ErrCredentials, e.Err} }
