package auth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/notary-go/notary/api"
)

// Why a request was refused. A *Challenge wraps exactly one of these.
var (
	// ErrCredentialsRequired: the request carries no credentials of the
	// scheme the server uses (none at all, or Basic where a bearer token
	// is needed).
	ErrCredentialsRequired = errors.New("auth: credentials required")
	// ErrInvalidToken: a bearer token that is malformed, not signed by a
	// trusted key, from another issuer, for another service, expired or
	// not yet valid. The challenge says error="invalid_token".
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrInsufficientScope: a valid token that does not grant every
	// access the request needs. The challenge says
	// error="insufficient_scope".
	ErrInsufficientScope = errors.New("auth: insufficient scope")
	// ErrInvalidCredentials: Basic credentials of an unknown user, or
	// with the wrong password.
	ErrInvalidCredentials = errors.New("auth: invalid username or password")
	// ErrTooManyFailures: Basic credentials from a client that failed to
	// log in too often lately; refused without checking them.
	ErrTooManyFailures = errors.New("auth: too many failed logins from this client, retry later")
)

// A Challenge is an Authorizer's refusal of a request: the response is 401
// with a WWW-Authenticate header that tells the client how to
// authenticate, and an UNAUTHORIZED error listing the access needed.
type Challenge struct {
	// Scheme is "Bearer" or "Basic".
	Scheme string
	// Realm is the token server URL (Bearer) or the protection space
	// (Basic).
	Realm string
	// Service is the token audience the client must ask for (Bearer).
	Service string
	// Access is what the request needs; for Bearer it becomes the scope.
	Access []Access
	// Err is why: it wraps ErrCredentialsRequired, ErrInvalidToken,
	// ErrInsufficientScope, ErrInvalidCredentials or ErrTooManyFailures,
	// possibly with the
	// cause (for logs; the client never sees it).
	Err error
}

func (c *Challenge) Error() string {
	return fmt.Sprintf("auth: %s challenge: %v", c.Scheme, c.Err)
}

func (c *Challenge) Unwrap() error { return c.Err }

// Header is the WWW-Authenticate value, as docker/distribution writes it
// (registry/auth/token authChallenge.challengeParams, htpasswd
// challenge.SetHeaders):
//
//	Bearer realm="<realm>",service="<service>",scope="<scope>"[,error="invalid_token"|"insufficient_scope"]
//	Basic realm="<realm>"
func (c *Challenge) Header() string {
	if c.Scheme == "Basic" {
		return fmt.Sprintf("Basic realm=%q", c.Realm)
	}
	s := fmt.Sprintf("Bearer realm=%q,service=%q", c.Realm, c.Service)
	if scope := scopeParam(c.Access); scope != "" {
		s += fmt.Sprintf(",scope=%q", scope)
	}
	switch {
	case errors.Is(c.Err, ErrInvalidToken):
		s += `,error="invalid_token"`
	case errors.Is(c.Err, ErrInsufficientScope):
		s += `,error="insufficient_scope"`
	}
	return s
}

// WriteUnauthorized answers a refused request as v0.7.0 does
// (utils.rootHandler.doAuth): for a *Challenge, its WWW-Authenticate
// header and 401 UNAUTHORIZED with the needed access as detail; for any
// other error, 401 UNAUTHORIZED without detail.
func WriteUnauthorized(w http.ResponseWriter, err error, access []Access) {
	var c *Challenge
	if !errors.As(err, &c) {
		api.WriteError(w, api.NewError(api.CodeUnauthorized, nil))
		return
	}
	w.Header().Add("WWW-Authenticate", c.Header())
	if access == nil {
		access = c.Access
	}
	var detail any
	if access != nil {
		detail = access
	}
	api.WriteError(w, api.NewError(api.CodeUnauthorized, detail))
}
