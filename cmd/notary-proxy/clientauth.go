package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
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
