// Package registrytest is a fake registry for tests: an in-memory
// implementation of the few Docker Registry HTTP API V2 endpoints the
// registry package uses (GET/HEAD /v2/, GET/HEAD
// /v2/<repo>/manifests/<tag or digest>), with optional Basic or Bearer
// token authentication, and knobs to misbehave (a wrong
// Docker-Content-Digest). It is not a real registry: tests put manifests
// in with Put; EnablePush adds blob and manifest uploads and, optionally,
// the referrers API (push.go).
package registrytest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// A Registry is the fake's state. Its zero value is not usable: use New.
type Registry struct {
	// Server is the running httptest server (plain HTTP on 127.0.0.1).
	Server *httptest.Server
	// Host is host:port of the server, the first component of image
	// references.
	Host string

	mu        sync.Mutex
	manifests map[string]stored // repo@digest
	tags      map[string]string // repo:tag → digest
	wrongHdr  map[string]string // repo:ref → Docker-Content-Digest to send instead
	basic     map[string]string // user → password; non-empty: auth required
	bearer    bool              // token flow instead of Basic
	tokens    map[string]bool   // issued tokens
	requests  []string          // METHOD path, in order
	noHeader  bool              // omit Docker-Content-Digest

	// EnablePush (push.go)
	push         bool
	referrersAPI bool
	blobs        map[string][]byte            // repo@digest
	uploads      map[string]string            // upload ID → repo
	refs         map[string][]json.RawMessage // repo@subject digest → descriptors
}

type stored struct {
	mediaType string
	body      []byte
}

// New starts a fake registry; it is closed when the test ends (tb.Cleanup
// is left to the caller through Close).
func New() *Registry {
	r := &Registry{manifests: map[string]stored{}, tags: map[string]string{}, wrongHdr: map[string]string{}, basic: map[string]string{}, tokens: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.Server.URL, "http://")
	return r
}

// NewTLS is New over HTTPS, with httptest's certificate (valid for
// 127.0.0.1); CAFile writes it as a PEM file.
func NewTLS() *Registry {
	r := &Registry{manifests: map[string]stored{}, tags: map[string]string{}, wrongHdr: map[string]string{}, basic: map[string]string{}, tokens: map[string]bool{}}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.Server.URL, "https://")
	return r
}

// CAFile writes the TLS server's certificate to dir/ca.pem and returns
// the path.
func (r *Registry) CAFile(dir string) (string, error) {
	p := filepath.Join(dir, "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Server.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// Close stops the server.
func (r *Registry) Close() { r.Server.Close() }

// Digest is "sha256:<hex>" of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// Put stores manifest body with mediaType in repo, under tag if not "",
// and returns its digest.
func (r *Registry) Put(repo, tag, mediaType string, body []byte) string {
	d := Digest(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.manifests[repo+"@"+d] = stored{mediaType: mediaType, body: append([]byte(nil), body...)}
	if tag != "" {
		r.tags[repo+":"+tag] = d
	}
	return d
}

// PutAt stores body under digest d in repo, whatever its true digest: a
// registry serving the wrong content for a digest.
func (r *Registry) PutAt(repo, d, mediaType string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.manifests[repo+"@"+d] = stored{mediaType: mediaType, body: append([]byte(nil), body...)}
}

// WrongDigestHeader makes the registry announce digest d for repo's ref
// (tag or digest) instead of the true one.
func (r *Registry) WrongDigestHeader(repo, ref, d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrongHdr[repo+":"+ref] = d
}

// OmitDigestHeader stops sending Docker-Content-Digest.
func (r *Registry) OmitDigestHeader() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noHeader = true
}

// RequireBasic makes every /v2/ request need Basic user:password.
func (r *Registry) RequireBasic(user, password string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.basic[user] = password
}

// RequireToken makes every /v2/ request need a Bearer token from the
// server's own realm (/token), which wants Basic user:password as set by
// RequireBasic (or grants anyone if none is set).
func (r *Registry) RequireToken() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bearer = true
}

// Requests returns "METHOD path" of every request so far.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

func (r *Registry) checkBasic(req *http.Request) bool {
	u, p, ok := req.BasicAuth()
	return ok && r.basic[u] == p && p != ""
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req.Method+" "+req.URL.Path)
	if req.URL.Path == "/token" {
		if len(r.basic) > 0 && !r.checkBasic(req) {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		tok := fmt.Sprintf("tok%d", len(r.tokens)+1)
		r.tokens[tok] = true
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
		return
	}
	if !strings.HasPrefix(req.URL.Path, "/v2/") {
		http.NotFound(w, req)
		return
	}
	switch {
	case r.bearer:
		h := req.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ") || !r.tokens[strings.TrimPrefix(h, "Bearer ")] {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake"`, r.Server.URL))
			writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
	case len(r.basic) > 0:
		if !r.checkBasic(req) {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
	}
	if req.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	rest := strings.TrimPrefix(req.URL.Path, "/v2/")
	if r.servePush(w, req, rest) {
		return
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i < 0 || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		writeErr(w, http.StatusNotFound, "UNSUPPORTED", "not implemented by the fake")
		return
	}
	repo, ref := rest[:i], rest[i+len("/manifests/"):]
	d := ref
	if !strings.HasPrefix(ref, "sha256:") {
		d = r.tags[repo+":"+ref]
	}
	m, ok := r.manifests[repo+"@"+d]
	if !ok {
		writeErr(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
		return
	}
	w.Header().Set("Content-Type", m.mediaType)
	w.Header().Set("Content-Length", fmt.Sprint(len(m.body)))
	if !r.noHeader {
		hdr := d
		if wh, ok := r.wrongHdr[repo+":"+ref]; ok {
			hdr = wh
		}
		w.Header().Set("Docker-Content-Digest", hdr)
	}
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		_, _ = w.Write(m.body)
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// ImageManifest returns a small Docker (docker true) or OCI image
// manifest whose config digest is made from seed, so different seeds give
// different manifests.
func ImageManifest(docker bool, seed string) (mediaType string, body []byte) {
	mt, cfgMT := "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json"
	if docker {
		mt, cfgMT = "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json"
	}
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     mt,
		"config":        map[string]any{"mediaType": cfgMT, "digest": Digest([]byte(seed)), "size": len(seed)},
		"layers":        []any{},
	})
	return mt, b
}

// Index returns an OCI index of the given children (digest → platform
// "os/arch[/variant]").
func Index(children [][2]string) (mediaType string, body []byte) {
	var ms []map[string]any
	for _, ch := range children {
		parts := strings.Split(ch[1], "/")
		p := map[string]string{"os": parts[0], "architecture": parts[1]}
		if len(parts) > 2 {
			p["variant"] = parts[2]
		}
		ms = append(ms, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ch[0], "size": 100, "platform": p})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ms})
	return "application/vnd.oci.image.index.v1+json", b
}

// BasicHeader is the Authorization value for user:password.
func BasicHeader(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
