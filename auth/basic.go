package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/notary-go/notary/auth/htpasswd"
)

// BasicOptions configure Basic authentication (auth.type "htpasswd").
type BasicOptions struct {
	// Realm is the protection space sent in challenges.
	Realm string
	// Users are the accounts.
	Users *htpasswd.File
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
	realm string
	users *htpasswd.File
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
	return &BasicAuth{realm: opts.Realm, users: opts.Users}, nil
}

// Authorize checks the request's Basic credentials. A refusal is a
// *Challenge (Basic realm=...) wrapping ErrCredentialsRequired (none, or
// another scheme) or ErrInvalidCredentials.
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
	if !a.users.Authenticate(user, pass) {
		ch.Err = fmt.Errorf("%w (user %q)", ErrInvalidCredentials, user)
		return nil, ch
	}
	return &Grant{User: user, Access: access}, nil
}
