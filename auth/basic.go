package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/notary-go/notary/auth/htpasswd"
)

// A BasicAuth authorizes requests with HTTP Basic credentials of a user in
// an htpasswd file (docker/distribution registry/auth/htpasswd). Every
// authenticated user may do everything: use token auth with per-user
// rules (cmd/notary-auth) to tell users apart. It is safe for concurrent
// use.
type BasicAuth struct {
	realm string
	users *htpasswd.File
}

var _ Authorizer = (*BasicAuth)(nil)

// NewBasicAuth returns a BasicAuth for the users of file, challenging with
// realm.
func NewBasicAuth(realm string, users *htpasswd.File) (*BasicAuth, error) {
	if realm == "" {
		return nil, errors.New("auth: htpasswd auth requires a realm")
	}
	if users == nil {
		return nil, errors.New("auth: htpasswd auth requires an htpasswd file")
	}
	return &BasicAuth{realm: realm, users: users}, nil
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
