package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/notary-go/notary/auth/htpasswd"
)

// BasicOptions configure Basic authentication (auth.type "htpasswd").
type BasicOptions struct {
	// Realm is the protection space sent in challenges.
	Realm string
	// Users are the accounts.
	Users *htpasswd.File
	// FailureBurst and FailureInterval limit failed logins per client
	// address: FailureBurst in a row, then one per FailureInterval
	// (0: DefaultFailureBurst, DefaultFailureInterval). Beyond that the
	// client's requests are refused without checking a password.
	FailureBurst    int
	FailureInterval time.Duration
	// Now is the clock of the limiter; nil means time.Now.
	Now func() time.Time
}

// A BasicAuth authorizes requests with HTTP Basic credentials of a user in
// an htpasswd file (docker/distribution registry/auth/htpasswd). Every
// authenticated user may do everything: use token auth with per-user
// rules (cmd/notary-auth) to tell users apart. It is safe for concurrent
// use.
//
// Clients: the Docker CLI and our notary CLI send Basic credentials on
// every request once /v2/ has answered with a Basic challenge. v0.7.0's
// notary CLI sends them only for writes: its read-only commands (list,
// lookup, verify, delegation list, ...) cannot read from a Basic-auth
// server at all (its anonymous transport fails on the Basic challenge with
// "no basic auth credentials"); use token auth for such readers.
type BasicAuth struct {
	realm   string
	users   *htpasswd.File
	limiter *failureLimiter
}

var _ Authorizer = (*BasicAuth)(nil)

// NewBasicAuth returns a BasicAuth for opts.
func NewBasicAuth(opts BasicOptions) (*BasicAuth, error) {
	if opts.Realm == "" {
		return nil, errors.New("auth: htpasswd auth requires a realm")
	}
	if opts.Users == nil {
		return nil, errors.New("auth: htpasswd auth requires an htpasswd file")
	}
	return &BasicAuth{realm: opts.Realm, users: opts.Users,
		limiter: newFailureLimiter(opts.FailureBurst, opts.FailureInterval, opts.Now)}, nil
}

// Authorize checks the request's Basic credentials. A refusal is a
// *Challenge (Basic realm=...) wrapping ErrCredentialsRequired (none, or
// another scheme), ErrInvalidCredentials or, for a client over its
// failed-login limit (checked before any bcrypt work), ErrTooManyFailures.
func (a *BasicAuth) Authorize(r *http.Request, access []Access) (*Grant, error) {
	ch := &Challenge{Scheme: "Basic", Realm: a.realm, Access: access}
	scheme, cred, err := ParseAuthorization(r.Header.Get("Authorization"))
	switch {
	case errors.Is(err, ErrNoCredentials):
		ch.Err = ErrCredentialsRequired
		return nil, ch
	case err != nil:
		ch.Err = fmt.Errorf("%w: %v", ErrInvalidCredentials, err)
		return nil, ch
	case !strings.EqualFold(scheme, "Basic"):
		ch.Err = fmt.Errorf("%w: %s credentials where Basic is needed", ErrCredentialsRequired, scheme)
		return nil, ch
	}
	user, pass, err := ParseBasic(cred)
	if err != nil {
		ch.Err = fmt.Errorf("%w: %v", ErrInvalidCredentials, err)
		return nil, ch
	}
	client := clientKey(r)
	if !a.limiter.take(client) {
		ch.Err = fmt.Errorf("%w (client %s)", ErrTooManyFailures, client)
		return nil, ch
	}
	if !a.users.Authenticate(user, pass) {
		ch.Err = fmt.Errorf("%w (user %q)", ErrInvalidCredentials, user)
		return nil, ch
	}
	a.limiter.refund(client)
	return &Grant{User: user, Access: access}, nil
}
