package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token scope actions on a collection (v1 httpAccess): what a command needs
// from the token server for repository:<gun>.
var (
	// ActionsRead reads trust data.
	ActionsRead = []string{"pull"}
	// ActionsWrite publishes (and reads).
	ActionsWrite = []string{"push", "pull"}
	// ActionsAdmin deletes trust data on the server and rotates
	// server-managed keys.
	ActionsAdmin = []string{"*"}
)

// maxTokenResponse caps a token server's answer.
const maxTokenResponse = 1 << 20

// defaultTokenTTL is how long a token without expires_in is reused
// (docker/distribution's minimum token lifetime).
const defaultTokenTTL = 60 * time.Second

// AuthOptions configure an AuthTransport.
type AuthOptions struct {
	// ServerURL is the trust server (scheme, host, optional port).
	// Credentials and tokens go to this origin only: requests to any
	// other origin (a mirror, the target of a cross-host redirect) pass
	// through untouched and their challenges are not answered.
	ServerURL string
	// GUN and Actions make the token scope repository:<GUN>:<Actions>.
	// Actions nil means ActionsRead.
	GUN     string
	Actions []string
	// Credentials returns the user name and password to answer a Basic
	// challenge of the server or to send to the token server its Bearer
	// challenge names. It is called only when a challenge needs them; ""
	// as user name means anonymous. nil: always anonymous.
	Credentials func() (username, password string)
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Now is the clock for token lifetimes; nil means time.Now.
	Now func() time.Time
}

// An AuthTransport answers the trust server's authentication challenges
// the way docker/distribution's client does for notary (v1
// cmd/notary/tuf.go tokenAuth): on a 401 with a Bearer challenge it gets a
// token for repository:<gun>:<actions> from the challenge's realm (sending
// the Basic credentials there, as Docker does) and retries; on a Basic
// challenge it retries with the credentials. Tokens are reused per realm,
// service and scope until they expire.
//
// Credentials go only to the trust server's own origin and to the token
// realm that origin's challenge names; a realm in plain HTTP is refused
// when the server itself uses HTTPS. The token request is never
// redirected. A refusal is returned as an *AuthError that says whether
// credentials were missing, refused, or not enough for the action.
//
// An AuthTransport is safe for concurrent use.
type AuthTransport struct {
	opts   AuthOptions
	base   http.RoundTripper
	origin string
	secure bool

	mu     sync.Mutex
	tokens map[string]cachedToken // realm|service|scope → token
	auth   string                 // Authorization value the server last accepted
}

type cachedToken struct {
	value   string
	granted []string
	expires time.Time
}

// NewAuthTransport returns an AuthTransport for the server and GUN of
// opts.
func NewAuthTransport(opts AuthOptions) (*AuthTransport, error) {
	u, err := url.Parse(opts.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: auth: server URL %q must be http(s)://host[:port]", opts.ServerURL)
	}
	if opts.Actions == nil {
		opts.Actions = ActionsRead
	}
	if opts.Credentials == nil {
		opts.Credentials = func() (string, string) { return "", "" }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	base := opts.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return &AuthTransport{opts: opts, base: base, origin: origin(u), secure: u.Scheme == "https", tokens: map[string]cachedToken{}}, nil
}

// origin is scheme://host:port with the default port made explicit, so
// that https://h and https://h:443 are one origin.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func (t *AuthTransport) scope() string {
	return "repository:" + t.opts.GUN + ":" + strings.Join(t.opts.Actions, ",")
}

// RoundTrip sends req, answering an authentication challenge of the trust
// server once.
func (t *AuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if origin(req.URL) != t.origin {
		// A mirror, or where a redirect led: never our credentials.
		return t.base.RoundTrip(req)
	}
	t.mu.Lock()
	last := t.auth
	t.mu.Unlock()
	first := req
	if last != "" && req.Header.Get("Authorization") == "" {
		first = req.Clone(req.Context())
		first.Header.Set("Authorization", last)
	}
	resp, err := t.base.RoundTrip(first)
	if err == nil && resp.StatusCode == http.StatusForbidden && first != req {
		// Our accepted credentials, refused for this request: not allowed.
		user, _ := t.opts.Credentials()
		_, params := parseChallenge(resp.Header.Get("WWW-Authenticate"))
		discard(resp)
		return nil, &AuthError{Kind: AuthAccessDenied, Server: t.origin, User: user, Scope: t.scope(), Status: http.StatusForbidden, Reason: params["error"], Needed: params["scope"]}
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	scheme, params := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	var (
		value string
		tok   cachedToken
		user  string
	)
	switch strings.ToLower(scheme) {
	case "bearer":
		if last != "" && params["error"] == "invalid_token" {
			t.forget(params) // expired or revoked at the server before our clock said so
		}
		var aerr error
		tok, user, aerr = t.token(req, params)
		if aerr != nil {
			discard(resp)
			return nil, aerr
		}
		value = "Bearer " + tok.value
	case "basic":
		var pass string
		user, pass = t.opts.Credentials()
		if user == "" {
			discard(resp)
			return nil, &AuthError{Kind: AuthNoCredentials, Server: t.origin, Scope: t.scope()}
		}
		value = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	default:
		return resp, nil // a scheme we cannot answer: the 401 speaks for itself
	}
	retry := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		body, berr := req.GetBody()
		if berr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	discard(resp)
	retry.Header.Set("Authorization", value)
	resp, err = t.base.RoundTrip(retry)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
	default:
		t.mu.Lock()
		t.auth = value
		t.mu.Unlock()
		return resp, nil
	}
	// The credentials or token did not do: say which it was.
	_, again := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	discard(resp)
	ae := &AuthError{Server: t.origin, Realm: params["realm"], User: user, Scope: t.scope(), Granted: tok.granted, Status: resp.StatusCode, Reason: again["error"], Needed: again["scope"]}
	if ae.Needed == "" {
		ae.Needed = params["scope"]
	}
	switch {
	case strings.EqualFold(scheme, "basic") && resp.StatusCode == http.StatusUnauthorized:
		ae.Kind = AuthCredentialsRefused
	case again["error"] == "invalid_token":
		t.forget(params)
		ae.Kind = AuthCredentialsRefused
	case user == "":
		ae.Kind = AuthNoCredentials
	default:
		ae.Kind = AuthAccessDenied
	}
	return nil, ae
}

func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
}

func tokenKey(params map[string]string, scope string) string {
	return params["realm"] + "|" + params["service"] + "|" + scope
}

func (t *AuthTransport) forget(params map[string]string) {
	t.mu.Lock()
	delete(t.tokens, tokenKey(params, t.scope()))
	t.mu.Unlock()
}

// token fetches (or reuses) a bearer token for the challenge, and returns
// the user it was asked for ("" for anonymous).
func (t *AuthTransport) token(req *http.Request, params map[string]string) (cachedToken, string, error) {
	realm := params["realm"]
	if realm == "" {
		return cachedToken{}, "", errors.New("client: auth: bearer challenge without realm")
	}
	u, err := url.Parse(realm)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cachedToken{}, "", fmt.Errorf("client: auth: bad token realm %q", realm)
	}
	if t.secure && u.Scheme != "https" {
		// The server is reached over TLS; its challenge must not lead
		// the password onto a plaintext connection.
		return cachedToken{}, "", fmt.Errorf("client: auth: the token realm %s is plain HTTP while the trust server uses HTTPS; credentials not sent", realm)
	}
	scope := t.scope()
	key := tokenKey(params, scope)
	user, pass := t.opts.Credentials()
	now := t.opts.Now()
	t.mu.Lock()
	tok, ok := t.tokens[key]
	t.mu.Unlock()
	if ok && now.Before(tok.expires) {
		return tok, user, nil
	}
	q := u.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Set("scope", scope)
	if user != "" {
		q.Set("account", user)
	}
	u.RawQuery = q.Encode()
	treq, err := http.NewRequestWithContext(req.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return cachedToken{}, user, err
	}
	if user != "" {
		treq.SetBasicAuth(user, pass)
	}
	// RoundTrip, not a Client: a redirect of the token request is never
	// followed with the credentials.
	resp, err := t.base.RoundTrip(treq)
	if err != nil {
		return cachedToken{}, user, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized && user == "":
		return cachedToken{}, user, &AuthError{Kind: AuthNoCredentials, Server: t.origin, Realm: realm, Scope: scope, Status: resp.StatusCode}
	case resp.StatusCode == http.StatusUnauthorized:
		return cachedToken{}, user, &AuthError{Kind: AuthCredentialsRefused, Server: t.origin, Realm: realm, User: user, Scope: scope, Status: resp.StatusCode}
	case resp.StatusCode != http.StatusOK:
		return cachedToken{}, user, fmt.Errorf("client: auth: token server %s answered HTTP %d", realm, resp.StatusCode)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTokenResponse)).Decode(&body); err != nil {
		return cachedToken{}, user, fmt.Errorf("client: auth: token server %s: %w", realm, err)
	}
	tok = cachedToken{value: body.Token}
	if tok.value == "" {
		tok.value = body.AccessToken
	}
	if tok.value == "" {
		return cachedToken{}, user, fmt.Errorf("client: auth: token server %s returned no token", realm)
	}
	ttl := time.Duration(body.ExpiresIn) * time.Second
	if ttl < defaultTokenTTL {
		ttl = defaultTokenTTL
	}
	tok.expires = now.Add(ttl)
	tok.granted = grantedAccess(tok.value)
	t.mu.Lock()
	t.tokens[key] = tok
	t.mu.Unlock()
	return tok, user, nil
}

// grantedAccess reads the access claim of a JWT without verifying it:
// only to tell a person what the token server granted.
func grantedAccess(jwt string) []string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Access []struct {
			Type    string   `json:"type"`
			Name    string   `json:"name"`
			Actions []string `json:"actions"`
		} `json:"access"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return nil
	}
	out := []string{}
	for _, a := range claims.Access {
		out = append(out, a.Type+":"+a.Name+":"+strings.Join(a.Actions, ","))
	}
	return out
}

// parseChallenge parses `Scheme k="v",k2="v2"` (RFC 7235, one challenge).
func parseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimLeft(v, " ")
		var val string
		if strings.HasPrefix(v, `"`) {
			v = v[1:]
			var b strings.Builder
			i := 0
			for ; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
					b.WriteByte(v[i])
					continue
				}
				if v[i] == '"' {
					break
				}
				b.WriteByte(v[i])
			}
			val = b.String()
			if i < len(v) {
				v = v[i+1:]
			} else {
				v = ""
			}
		} else {
			end := strings.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			val, v = strings.TrimSpace(v[:end]), v[end:]
		}
		params[k] = val
		rest = strings.TrimLeft(strings.TrimSpace(v), ",")
		rest = strings.TrimSpace(rest)
	}
	return scheme, params
}

// AuthErrorKind says why the trust server refused a request.
type AuthErrorKind int

// Kinds of AuthError.
const (
	// AuthNoCredentials: the server (or its token server) wants
	// credentials and none were given.
	AuthNoCredentials AuthErrorKind = iota + 1
	// AuthCredentialsRefused: the user name or password was refused by
	// the token server (or by the server's Basic auth), or the server did
	// not accept the token.
	AuthCredentialsRefused
	// AuthAccessDenied: the credentials are good, but the user may not
	// do this on this collection (the token lacks the action, the server
	// said insufficient_scope or 403).
	AuthAccessDenied
)

// Sentinels of the AuthError kinds; each also matches ErrUnauthorized.
var (
	// ErrCredentialsRequired: no credentials were given and the server
	// needs some.
	ErrCredentialsRequired error = &sentinel{"trust server requires credentials"}
	// ErrCredentialsRefused: the credentials were refused.
	ErrCredentialsRefused error = &sentinel{"credentials refused"}
	// ErrAccessDenied: the user is not allowed the action on the GUN.
	ErrAccessDenied error = &sentinel{"access denied"}
)

// sentinel is an error that also matches ErrUnauthorized.
type sentinel struct{ msg string }

func (s *sentinel) Error() string        { return s.msg }
func (s *sentinel) Is(target error) bool { return target == ErrUnauthorized }

// An AuthError is a request the trust server refused for want of
// authorization, with what is known of why.
type AuthError struct {
	Kind AuthErrorKind
	// Server is the trust server's origin.
	Server string
	// Realm is the token server its challenge named ("" for Basic auth).
	Realm string
	// User is the user name sent ("" for none).
	User string
	// Scope is the access asked for: repository:<gun>:<actions>.
	Scope string
	// Granted is what the token server granted, when the token says
	// (nil: unknown).
	Granted []string
	// Needed is the access the server's challenge asked for, if it said
	// (e.g. "repository:<gun>:push,pull").
	Needed string
	// Status is the HTTP status of the refusal (401 or 403).
	Status int
	// Reason is the error parameter of the server's challenge
	// (insufficient_scope, invalid_token), if any.
	Reason string
}

func (e *AuthError) Error() string {
	switch e.Kind {
	case AuthNoCredentials:
		if e.Realm != "" {
			return fmt.Sprintf("no credentials were given, and the token server %s grants anonymous users no %s", e.Realm, e.Scope)
		}
		return "no credentials were given, and the server requires them"
	case AuthCredentialsRefused:
		switch {
		case e.Reason == "invalid_token":
			return fmt.Sprintf("the server did not accept the token %s issued for %q (invalid_token): the token server and the trust server do not agree", e.Realm, e.User)
		case e.Realm != "":
			return fmt.Sprintf("the token server %s refused the user name or password of %q", e.Realm, e.User)
		}
		return fmt.Sprintf("the server refused the user name or password of %q", e.User)
	}
	need := e.Needed
	if need == "" {
		need = e.Scope
	}
	msg := fmt.Sprintf("%q is not allowed %s", e.User, need)
	if e.Granted != nil {
		g := "nothing"
		if len(e.Granted) > 0 {
			g = strings.Join(e.Granted, " ")
		}
		msg += fmt.Sprintf(" (the token server granted %s)", g)
	}
	return msg
}

// Unwrap returns the sentinel of the kind.
func (e *AuthError) Unwrap() error {
	switch e.Kind {
	case AuthNoCredentials:
		return ErrCredentialsRequired
	case AuthCredentialsRefused:
		return ErrCredentialsRefused
	}
	return ErrAccessDenied
}
