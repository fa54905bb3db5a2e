package signer

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
)

// ErrUnavailable is matched (errors.Is) by every error saying the signer
// could not be reached or did not answer in time. The notary-server
// answers such requests with 503.
var ErrUnavailable = errors.New("signer unavailable")

// UnavailableError says the call Op did not reach the signer or timed out;
// Err is the transport's reason (connection refused, TLS handshake
// failure, deadline). It matches ErrUnavailable.
type UnavailableError struct {
	Op  string
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("signer unavailable: %s: %v", e.Op, e.Err)
}

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }

// RemoteError is an error status the signer answered Op with, other than
// NotFound (which the client reports as a *keystore.NotFoundError).
type RemoteError struct {
	Op      string
	Code    codes.Code
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("signer: %s failed: %s: %s", e.Op, e.Code, e.Message)
}

// BadResponseError says the signer's answer to Op was malformed, e.g. a
// public key whose ID is not the one announced.
type BadResponseError struct {
	Op     string
	Reason string
}

func (e *BadResponseError) Error() string {
	return fmt.Sprintf("signer: bad %s response: %s", e.Op, e.Reason)
}
