package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/notary-go/notary/auth"
)

// clientAuth checks pull clients' Basic credentials against an htpasswd
// file of bcrypt hashes (what the distribution registry's htpasswd auth
// reads, and `htpasswd -B` writes).
type clientAuth struct {
	hashes map[string][]byte // user -> bcrypt hash

	mu sync.Mutex
	// ok remembers a verified password's SHA-256 per user, so bcrypt
	// (tens of milliseconds by design) runs once per user and password,
	// not on every manifest request.
	ok map[string][32]byte
}

// loadHtpasswd reads user:bcrypt-hash lines; anything else is refused.
func loadHtpasswd(path string) (*clientAuth, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client_auth: %w", err)
	}
	a := &clientAuth{hashes: map[string][]byte{}, ok: map[string][32]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("client_auth: %s line %d: not user:hash", path, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("client_auth: %s line %d: only bcrypt hashes are accepted (htpasswd -B)", path, n)
		}
		a.hashes[user] = []byte(hash)
	}
	if len(a.hashes) == 0 {
		return nil, fmt.Errorf("client_auth: %s holds no user", path)
	}
	return a, nil
}

func (a *clientAuth) check(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hash, known := a.hashes[user]
	if !known {
		return false
	}
	sum := sha256.Sum256([]byte(pass))
	a.mu.Lock()
	prev, seen := a.ok[user]
	a.mu.Unlock()
	if seen && subtle.ConstantTimeCompare(prev[:], sum[:]) == 1 {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	a.mu.Lock()
	a.ok[user] = sum
	a.mu.Unlock()
	return true
}

// wrap requires credentials on every /v2/ request, answering as a
// registry does (401, a Basic challenge, UNAUTHORIZED).
func (a *clientAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2") && !a.check(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="notary-proxy"`)
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenClientAuth requires a bearer token from the configured token server
// on every /v2/ request. Token checks (signature chain to the root bundle,
// issuer, audience, lifetime, scope) are the auth package's, as
// notary-server's token mode uses them; only the access a request needs is
// the proxy's own, in the registry's terms (registryAccess).
type tokenClientAuth struct {
	a   auth.Authorizer
	log *slog.Logger
}

func newTokenClientAuth(c *TokenAuth, log *slog.Logger) (*tokenClientAuth, error) {
	a, err := auth.NewAuthorizer(auth.Config{
		Type: auth.TypeToken,
		Options: map[string]any{
			"realm": c.Realm, "service": c.Service, "issuer": c.Issuer, "rootcertbundle": c.RootCertBundle,
		},
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("client_auth.token: %w", err)
	}
	return &tokenClientAuth{a: a, log: log}, nil
}

// wrap answers a request without a token granting its access as a
// registry does: 401 UNAUTHORIZED with a Bearer challenge naming realm,
// service and scope, which clients (containerd, docker, crane) follow to
// the token server and retry.
func (t *tokenClientAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2") {
			access := registryAccess(r.URL.Path)
			_, err := t.a.Authorize(r, access)
			if base := r.URL.Path == "/v2/" || r.URL.Path == "/v2"; base && errors.Is(err, auth.ErrInsufficientScope) {
				// The challenge for /v2/ names registry:catalog:* (as
				// notary-server's), but any valid token from the token
				// server passes there, as at the distribution registry:
				// `docker login` retries /v2/ with a token of no scope,
				// and /v2/ reveals nothing.
				err = nil
			}
			if err != nil {
				level := slog.LevelInfo
				if errors.Is(err, auth.ErrCredentialsRequired) {
					level = slog.LevelDebug // every client's first try
				}
				t.log.Log(r.Context(), level, "client refused by auth", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
				w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
				auth.WriteUnauthorized(w, err, access)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// registryAccess is the access a request needs, as the distribution
// registry asks for it on reads: pull on the repository the path names
// (split as serveV2 splits it), registry:catalog:* for /v2/ and any path
// naming no valid repository.
func registryAccess(path string) []auth.Access {
	if name, _, _, ok := splitRoute(path); ok && validRepo(name) {
		return auth.RepositoryAccess(name, auth.ActionPull)
	}
	return []auth.Access{auth.CatalogAccess}
}
