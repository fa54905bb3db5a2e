package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/notary-go/notary/gun"
	"net"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/update"
)

// Sentinel errors. The typed errors below unwrap to them; test with
// errors.Is and read the details with errors.As.
var (
	// ErrInvalidGUN: the GUN cannot name a collection (see ValidateGUN).
	ErrInvalidGUN = gun.ErrInvalid
	// ErrNoServer: the operation needs a trust server and none is configured.
	ErrNoServer = errors.New("no trust server configured")
	// ErrRepositoryNotExist: the server has no trust data for the GUN
	// (v1 ErrRepositoryNotExist). It is update.ErrRepositoryNotExist, so
	// either package's sentinel matches.
	ErrRepositoryNotExist = update.ErrRepositoryNotExist
	// ErrRepositoryExists: Initialize was asked for a GUN the server
	// already has trust data for.
	ErrRepositoryExists = errors.New("repository already exists")
	// ErrServerUnreachable: no answer from the server (connection refused,
	// DNS, timeout).
	ErrServerUnreachable = errors.New("trust server unreachable")
	// ErrTLS: the TLS handshake with the server failed (unknown
	// authority, wrong host name, client certificate refused, ...).
	ErrTLS = errors.New("TLS handshake with the trust server failed")
	// ErrUnauthorized: the server refused the request for want of
	// authorization (HTTP 401). ErrCredentialsRequired,
	// ErrCredentialsRefused and ErrAccessDenied say why, when the
	// AuthTransport could tell.
	ErrUnauthorized = errors.New("trust server requires authentication")
	// ErrServerUnavailable: the server answered with a 5xx status.
	ErrServerUnavailable = errors.New("trust server unavailable")
	// ErrRejected: the server refused the request (4xx other than 401 and
	// 404), for example an update that fails its validation.
	ErrRejected = errors.New("trust server rejected the request")
	// ErrConflict: a publish lost a race with another publisher (400
	// VERSION).
	ErrConflict = errors.New("publish conflict")
	// ErrNoTrustData: nothing is cached for the GUN and no remote could be
	// read.
	ErrNoTrustData = update.ErrNoTrustData
	// ErrExpired: trusted metadata has expired.
	ErrExpired = errors.New("trust data expired")
	// ErrTargetNotFound: no trusted role lists the target. It is
	// update.ErrTargetNotFound.
	ErrTargetNotFound = update.ErrTargetNotFound
	// ErrRotation: a key rotation request is not allowed (wrong role, or
	// a key that cannot be server- or client-managed for it).
	ErrRotation = errors.New("key rotation not allowed")
)

// InvalidGUNError reports a GUN that cannot name a collection (the rules
// live in package gun).
type InvalidGUNError = gun.Error

// RepositoryNotExistError reports a GUN the server has no trust data for
// (v1: "<server> does not have trust data for <gun>").
type RepositoryNotExistError struct {
	Server string
	GUN    string
}

func (e *RepositoryNotExistError) Error() string {
	return fmt.Sprintf("%s does not have trust data for %s", e.Server, e.GUN)
}

// Unwrap returns ErrRepositoryNotExist.
func (e *RepositoryNotExistError) Unwrap() error { return ErrRepositoryNotExist }

// RepositoryExistsError reports an Initialize for a GUN that the server
// already holds: a new root would be refused by the server anyway, since it
// is not signed by the collection's current root key.
type RepositoryExistsError struct {
	Server string
	GUN    string
}

func (e *RepositoryExistsError) Error() string {
	// v0.7.0's words (its server's refusal of the new root) follow ours,
	// for scripts that match them.
	return fmt.Sprintf("%s already has trust data for %s: it cannot be initialized again (publish changes to it, or delete it with the remote option first): %s: %s", e.Server, e.GUN, api.TextRootRotationFailed, api.TextCertsMismatch)
}

// Unwrap returns ErrRepositoryExists.
func (e *RepositoryExistsError) Unwrap() error { return ErrRepositoryExists }

// ServerErrorKind classifies a failed exchange with the trust server.
type ServerErrorKind int

// Kinds of ServerError.
const (
	KindUnreachable ServerErrorKind = iota + 1
	KindTLS
	KindUnauthorized
	KindUnavailable
	KindRejected
)

// ServerError is a failed exchange with the trust server at Server while
// doing Op ("fetch timestamp.json", "publish", "get timestamp key", ...).
// Kind says what went wrong; Status is the HTTP status, if any; Err is the
// underlying (api or transport) error.
type ServerError struct {
	Server string
	Op     string
	Kind   ServerErrorKind
	Status int
	Err    error
}

func (e *ServerError) Error() string {
	switch e.Kind {
	case KindUnreachable:
		return fmt.Sprintf("cannot reach the trust server at %s (%s): %v", e.Server, e.Op, rootCause(e.Err))
	case KindTLS:
		return fmt.Sprintf("TLS connection to the trust server at %s failed (%s): %v", e.Server, e.Op, rootCause(e.Err))
	case KindUnauthorized:
		var ae *AuthError
		switch {
		case errors.As(e.Err, &ae) && ae.Kind == AuthNoCredentials:
			return fmt.Sprintf("the trust server at %s requires authentication (%s): %v", e.Server, e.Op, ae)
		case errors.As(e.Err, &ae) && ae.Kind == AuthCredentialsRefused:
			return fmt.Sprintf("the trust server at %s refused the credentials (%s): %v", e.Server, e.Op, ae)
		case errors.As(e.Err, &ae):
			return fmt.Sprintf("the trust server at %s refused the %s: %v", e.Server, e.Op, ae)
		}
		return fmt.Sprintf("the trust server at %s requires authentication (%s: HTTP 401)", e.Server, e.Op)
	case KindUnavailable:
		if e.Status != 0 {
			return fmt.Sprintf("the trust server at %s is unavailable (%s: HTTP %d)", e.Server, e.Op, e.Status)
		}
		return fmt.Sprintf("the trust server at %s is unavailable (%s): %v", e.Server, e.Op, e.Err)
	default:
		var ve *api.ValidationError
		if errors.As(e.Err, &ve) {
			return fmt.Sprintf("the trust server at %s rejected the %s: %s: %s", e.Server, e.Op, ve.Name, ve.Msg)
		}
		var ae *api.Error
		if errors.As(e.Err, &ae) {
			msg := fmt.Sprintf("the trust server at %s rejected the %s: %s (%s)", e.Server, e.Op, ae.Code.Message(), ae.Code)
			if s, ok := ae.Detail.(string); ok && s != "" {
				msg += ": " + s
			}
			return msg
		}
		return fmt.Sprintf("the trust server at %s rejected the %s: %v", e.Server, e.Op, e.Err)
	}
}

// Unwrap returns the sentinel of the kind and the underlying error.
func (e *ServerError) Unwrap() []error {
	var s error
	switch e.Kind {
	case KindUnreachable:
		s = ErrServerUnreachable
	case KindTLS:
		s = ErrTLS
	case KindUnauthorized:
		s = ErrUnauthorized
	case KindUnavailable:
		s = ErrServerUnavailable
	default:
		s = ErrRejected
	}
	return []error{s, e.Err}
}

// rootCause strips the wrapping of net/http errors down to the part a
// person can act on ("connection refused", "x509: certificate signed by
// unknown authority").
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	var ue *x509.UnknownAuthorityError
	if errors.As(err, &ue) {
		return ue
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return he
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		return ci
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return cv.Err
	}
	var ae *api.NetworkError
	if errors.As(err, &ae) && ae.Err != nil {
		return ae.Err
	}
	return err
}

// isTLSError reports whether a transport error comes from the TLS layer.
func isTLSError(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		uap *x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		cv  *tls.CertificateVerificationError
		rh  tls.RecordHeaderError
		al  tls.AlertError
	)
	if errors.As(err, &ua) || errors.As(err, &uap) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &al) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return true // e.g. "remote error: tls: certificate required" (mutual TLS)
	}
	return false
}

// serverError classifies err, returned by the api.Client while doing op,
// as a *ServerError. Context errors and nil pass through unchanged.
func serverError(server, op string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !isNetTimeout(err) {
		return err
	}
	se := &ServerError{Server: server, Op: op, Err: err}
	var st *api.StatusError
	if errors.As(err, &st) {
		se.Status = st.Status
	}
	var (
		ne *api.NetworkError
		ae *AuthError
	)
	switch {
	case errors.As(err, &ae):
		// Before NetworkError: the AuthTransport reports a refusal as a
		// transport error, which the api.Client wraps.
		se.Kind = KindUnauthorized
		se.Status = ae.Status
	case errors.As(err, &ne):
		if isTLSError(err) {
			se.Kind = KindTLS
		} else {
			se.Kind = KindUnreachable
		}
	case errors.Is(err, api.ErrUnauthorized):
		se.Kind = KindUnauthorized
	case errors.Is(err, api.ErrUnavailable):
		se.Kind = KindUnavailable
	default:
		se.Kind = KindRejected
	}
	return se
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// NoTrustDataError reports a read for a GUN with nothing cached in the
// trust directory and a remote that could not be read.
type NoTrustDataError struct {
	GUN    string
	Server string
	Err    error
}

func (e *NoTrustDataError) Error() string {
	if e.Server == "" {
		return fmt.Sprintf("no trust data for %s is cached in the trust directory, and no trust server is configured", e.GUN)
	}
	var se *ServerError
	if errors.As(e.Err, &se) {
		return fmt.Sprintf("no trust data for %s is cached in the trust directory, and %v", e.GUN, se)
	}
	return fmt.Sprintf("no trust data for %s is cached in the trust directory, and %s cannot be read: %v", e.GUN, e.Server, rootCause(e.Err))
}

// Unwrap returns ErrNoTrustData and the cause.
func (e *NoTrustDataError) Unwrap() []error { return []error{ErrNoTrustData, e.Err} }

// ExpiredMetadataError reports trusted metadata of Role that expired at
// Expires. Server is true for the roles the trust server signs (timestamp,
// and a server-managed snapshot), which only the server can renew.
type ExpiredMetadataError struct {
	GUN     string
	Role    string
	Expires time.Time
	Now     time.Time
	Cached  bool
	Err     error
}

func (e *ExpiredMetadataError) Error() string {
	ago := e.Now.Sub(e.Expires).Round(time.Second)
	where := ""
	if e.Cached {
		where = " (cached copy)"
	}
	return fmt.Sprintf("the %s metadata of %s expired on %s, %s ago%s", e.Role, e.GUN,
		e.Expires.UTC().Format(time.RFC3339), humanDuration(ago), where)
}

// Unwrap returns ErrExpired and the underlying *tuf.ExpiredError.
func (e *ExpiredMetadataError) Unwrap() []error { return []error{ErrExpired, e.Err} }

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	default:
		return d.String()
	}
}

// PublishConflictError reports a publish the server refused because it
// already holds a newer version of a role (400 VERSION): someone else
// published in between. The staged changes are kept; publishing again
// applies them on top of the new version.
type PublishConflictError struct {
	GUN string
	Err error
}

func (e *PublishConflictError) Error() string {
	return fmt.Sprintf("someone else published %s while this publish was being prepared (the server already has a newer version); the changes are still staged, publish again to apply them on top of the new version", e.GUN)
}

// Unwrap returns ErrConflict and the server's error.
func (e *PublishConflictError) Unwrap() []error { return []error{ErrConflict, e.Err} }

// RotationError reports a key rotation request that is not allowed, with
// v1's wording.
type RotationError struct {
	Role   string
	Reason string
}

func (e *RotationError) Error() string { return e.Reason }

// Unwrap returns ErrRotation.
func (e *RotationError) Unwrap() error { return ErrRotation }

// TargetNotFoundError reports a target no trusted role holds (v1 "No valid
// trust data for <name>").
type TargetNotFoundError struct {
	GUN   string
	Name  string
	Roles []string
	Err   error
}

func (e *TargetNotFoundError) Error() string {
	return fmt.Sprintf("No valid trust data for %s in %s", e.Name, e.GUN)
}

// Unwrap returns ErrTargetNotFound and the cause.
func (e *TargetNotFoundError) Unwrap() []error { return []error{ErrTargetNotFound, e.Err} }
