package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/notary-go/notary/gun"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/internal/pemcert"
)

// An Authorizer decides whether a request may perform the given access.
// It returns the Grant on success; a refusal is a *Challenge (answered 401
// with its WWW-Authenticate header), any other error is answered 401
// without one. Implementations must be safe for concurrent use and must not
// read the request body.
type Authorizer interface {
	Authorize(r *http.Request, access []Access) (*Grant, error)
}

// Auth types of the server config's auth.type.
const (
	TypeNone     = ""
	TypeToken    = "token"
	TypeHtpasswd = "htpasswd"
)

// Config is the server config's "auth" section plus what the middleware
// needs from the rest of the config.
type Config struct {
	// Type is auth.type: "" (no authentication), "token" or "htpasswd".
	// Any other value is an error (v0.7.0 silently ran without
	// authentication; we refuse to start instead).
	Type string
	// Options is auth.options, as decoded from JSON (keys are
	// case-insensitive):
	//
	//	token:    realm, service, issuer, rootcertbundle (all strings, required;
	//	          realm may be omitted with autoredirect), autoredirect (bool),
	//	          autoredirectpath (string)
	//	htpasswd: realm, path (strings, required)
	Options map[string]any
	// BaseDir, when set, is what relative paths in Options
	// (rootcertbundle, path) are relative to; otherwise they are used as
	// given (relative to the working directory, as v0.7.0 does).
	BaseDir string
	// GUNPrefixes is repositories.gun_prefixes. A request for a GUN
	// outside them is answered before authentication, as v0.7.0 does: 400
	// INVALID_GUN for an update, 404 METADATA_NOT_FOUND otherwise.
	GUNPrefixes []string
	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per refused request (debug level for the
	// credential-less first try every client makes, info otherwise); nil
	// means slog.Default().
	Logger *slog.Logger
}

// New returns the authentication middleware cfg describes. With Type ""
// it returns a middleware that passes every request through unchanged.
func New(cfg Config) (func(http.Handler) http.Handler, error) {
	a, err := NewAuthorizer(cfg)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return func(h http.Handler) http.Handler { return h }, nil
	}
	return Middleware(a, MiddlewareOptions{GUNPrefixes: cfg.GUNPrefixes, Logger: cfg.Logger}), nil
}

// NewAuthorizer returns the Authorizer cfg describes, or nil for Type "".
func NewAuthorizer(cfg Config) (Authorizer, error) {
	opts, err := newOptionReader(cfg)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(cfg.Type)) {
	case TypeNone:
		return nil, nil
	case TypeToken:
		realm := opts.str("realm")
		to := TokenOptions{
			Realm:            realm,
			Service:          opts.str("service"),
			Issuer:           opts.str("issuer"),
			AutoRedirect:     opts.boolean("autoredirect"),
			AutoRedirectPath: opts.str("autoredirectpath"),
			Now:              cfg.Now,
		}
		bundle := opts.path("rootcertbundle")
		if err := opts.check("realm", "service", "issuer", "rootcertbundle", "autoredirect", "autoredirectpath"); err != nil {
			return nil, err
		}
		for _, req := range []struct{ key, val string }{{"service", to.Service}, {"issuer", to.Issuer}, {"rootcertbundle", bundle}} {
			if req.val == "" {
				return nil, fmt.Errorf("auth: token auth requires a valid option string: %q", req.key)
			}
		}
		if realm == "" && !to.AutoRedirect {
			return nil, fmt.Errorf("auth: token auth requires a valid option string: %q", "realm")
		}
		if to.Roots, err = LoadCertBundle(bundle); err != nil {
			return nil, err
		}
		return NewTokenAuth(to)
	case TypeHtpasswd:
		realm, file := opts.str("realm"), opts.path("path")
		if err := opts.check("realm", "path"); err != nil {
			return nil, err
		}
		if realm == "" || file == "" {
			return nil, errors.New(`auth: htpasswd auth requires the options "realm" and "path"`)
		}
		users, err := htpasswd.Load(file)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		return NewBasicAuth(BasicOptions{Realm: realm, Users: users})
	}
	return nil, fmt.Errorf("auth: unknown auth.type %q (want %q, %q, or none)", cfg.Type, TypeToken, TypeHtpasswd)
}

// optionReader reads auth.options, remembering the first type error.
type optionReader struct {
	m       map[string]any
	baseDir string
	err     error
	log     *slog.Logger
}

func newOptionReader(cfg Config) (*optionReader, error) {
	o := &optionReader{m: map[string]any{}, baseDir: cfg.BaseDir, log: cfg.Logger}
	if o.log == nil {
		o.log = slog.Default()
	}
	for k, v := range cfg.Options {
		lk := strings.ToLower(k)
		if _, dup := o.m[lk]; dup {
			return nil, fmt.Errorf("auth: option %q given twice", lk)
		}
		o.m[lk] = v
	}
	return o, nil
}

func (o *optionReader) str(key string) string {
	v, ok := o.m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok && o.err == nil {
		o.err = fmt.Errorf("auth: option %q must be a string", key)
	}
	return strings.TrimSpace(s)
}

func (o *optionReader) boolean(key string) bool {
	switch v := o.m[key].(type) {
	case nil:
		return false
	case bool:
		return v
	case string: // from an environment override
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes":
			return true
		case "false", "0", "no", "":
			return false
		}
	}
	if o.err == nil {
		o.err = fmt.Errorf("auth: option %q must be a boolean", key)
	}
	return false
}

func (o *optionReader) path(key string) string {
	p := o.str(key)
	if p != "" && o.baseDir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(o.baseDir, p)
	}
	return p
}

// check reports the first type error, and logs options nobody reads (as
// v0.7.0, which ignores them, but not silently).
func (o *optionReader) check(known ...string) error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.m {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		o.log.Warn("ignoring unknown auth.options", "options", unknown)
	}
	return nil
}

// LoadCertBundle reads the PEM certificates of a root certificate bundle
// (auth.options.rootcertbundle). Blocks of other types are skipped; a
// CERTIFICATE block that does not parse, or a file without certificates,
// is an error.
func LoadCertBundle(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: unable to read token auth root certificate bundle file %q: %w", path, err)
	}
	certs, err := pemcert.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("auth: unable to parse token auth root certificate in %q: %w", path, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("auth: token auth requires at least one token signing root certificate (none in %q)", path)
	}
	return certs, nil
}

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// GUNPrefixes: see Config.GUNPrefixes.
	GUNPrefixes []string
	// Logger: see Config.Logger.
	Logger *slog.Logger
}

// Middleware returns a middleware that authorizes every request with a
// before passing it on: it derives the access the request needs from the
// route (RequiredAccess), lets open routes through, answers GUNs outside
// the prefixes as v0.7.0 does, and answers refusals with WriteUnauthorized.
// The handler it passes requests to finds the Grant with GrantFromContext.
func Middleware(a Authorizer, opts MiddlewareOptions) func(http.Handler) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	prefixes := gun.Prefixes(slices.Clone(opts.GUNPrefixes)) // checked by the config (gun.ParsePrefixes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			access, name, open := RequiredAccess(r.Method, r.URL.Path)
			if open {
				next.ServeHTTP(w, r)
				return
			}
			if name != "" && !prefixes.Allows(name) {
				// v0.7.0 filterImagePrefixes wraps the auth handler.
				if api.ParsePath(r.URL.Path).Kind == api.RouteUpdate && r.Method == http.MethodPost {
					api.WriteError(w, api.NewError(api.CodeInvalidGUN, prefixes.RefusalDetail()))
				} else {
					api.WriteError(w, api.NewError(api.CodeMetadataNotFound, nil))
				}
				return
			}
			g, err := a.Authorize(r, access)
			if err != nil {
				level := slog.LevelInfo
				if errors.Is(err, ErrCredentialsRequired) {
					level = slog.LevelDebug
				}
				log.Log(r.Context(), level, "request refused by auth", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
				WriteUnauthorized(w, err, access)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithGrant(r.Context(), g)))
		})
	}
}

type grantKey struct{}

// WithGrant returns ctx carrying g.
func WithGrant(ctx context.Context, g *Grant) context.Context {
	return context.WithValue(ctx, grantKey{}, g)
}

// GrantFromContext returns the Grant the middleware stored, if any.
func GrantFromContext(ctx context.Context) (*Grant, bool) {
	g, ok := ctx.Value(grantKey{}).(*Grant)
	return g, ok && g != nil
}
