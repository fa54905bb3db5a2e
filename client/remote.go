package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// ServerRemote adapts an api.Client to update.Remote: <role>.json,
// <role>.<sha256>.json and <version>.root.json from the notary server's
// /v2/<gun>/_trust/tuf/. A 404 becomes update.ErrNotFound and a body over
// the limit update.ErrTooLarge; anything else (network errors, 5xx) is left
// for the Updater to treat as the server being unreachable.
func ServerRemote(c *api.Client) update.Remote { return serverRemote{c} }

type serverRemote struct{ c *api.Client }

var _ update.Remote = serverRemote{}

func (s serverRemote) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	var (
		data []byte
		err  error
	)
	if sha256hex == "" {
		data, err = s.c.GetMeta(ctx, role, maxSize)
	} else {
		data, err = s.c.GetMetaByHash(ctx, role, sha256hex, maxSize)
	}
	return data, remoteError(err)
}

func (s serverRemote) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	data, err := s.c.GetMetaByVersion(ctx, tuf.RoleRoot, version, maxSize)
	return data, remoteError(err)
}

func remoteError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, api.ErrNotFound):
		return fmt.Errorf("%w: %w", update.ErrNotFound, err)
	case errors.Is(err, api.ErrTooLarge):
		return fmt.Errorf("%w: %w", update.ErrTooLarge, err)
	}
	return err
}

// prefetched serves a root.json already downloaded (by Publish, to learn
// whether the repository exists) once, and forwards everything else.
type prefetched struct {
	update.Remote
	mu   sync.Mutex
	root []byte
}

func (p *prefetched) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	if role == tuf.RoleRoot && sha256hex == "" {
		p.mu.Lock()
		data := p.root
		p.root = nil
		p.mu.Unlock()
		if data != nil && int64(len(data)) <= maxSize {
			return data, nil
		}
	}
	return p.Remote.GetMeta(ctx, role, sha256hex, maxSize)
}

// MirrorRemote returns an update.Remote that reads a static copy of the
// collection gun's metadata files: <role>.json, <role>.<sha256>.json and
// <version>.root.json, with delegations in subdirectories
// (targets/releases.json). Any HTTP server, object store or folder will do;
// trust comes only from the keys, since the Updater verifies every file.
//
// base says where the files are:
//
//   - an http:// or https:// URL: the files of gun are at <base>/<gun>/;
//     if base contains "{gun}" it is replaced by the GUN instead, so
//     "https://host/v2/{gun}/_trust/tuf" reads a notary server's own
//     layout through any HTTP cache;
//   - a file:// URL or a local path: the same, as a folder.
//
// A mirror may hold only the plain <role>.json names: a hash-addressed file
// that is missing is read from the plain name instead (a stale file is
// refused by the hash check, never trusted). hc sends the HTTP requests
// (nil: http.DefaultClient).
func MirrorRemote(base, gun string, hc *http.Client) (update.Remote, error) {
	if err := ValidateGUN(gun); err != nil {
		return nil, err
	}
	withGUN := func(g string) string {
		if strings.Contains(base, "{gun}") {
			return strings.ReplaceAll(base, "{gun}", g)
		}
		return strings.TrimSuffix(base, "/") + "/" + g
	}
	// In a URL the GUN is path-escaped, so "?", "#" or "%" in it can never
	// change the query, fragment or (once decoded) the path segments.
	loc := withGUN(gun)
	u, err := url.Parse(withGUN((&url.URL{Path: gun}).EscapedPath()))
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if hc == nil {
			hc = http.DefaultClient
		}
		return &httpMirror{base: strings.TrimSuffix(u.String(), "/"), hc: hc}, nil
	}
	dir := loc
	if err == nil && u.Scheme == "file" {
		dir = u.Path
	} else if err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return nil, fmt.Errorf("client: mirror %q: unsupported URL scheme %q (use http, https, file or a path)", base, u.Scheme)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("client: mirror: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("client: mirror %s is not a directory", dir)
	}
	// os.Root, unlike os.DirFS, never follows a symlink out of the mirror.
	root, err := os.OpenRoot(filepath.Clean(dir))
	if err != nil {
		return nil, fmt.Errorf("client: mirror: %w", err)
	}
	return update.DirRemote(root.FS()), nil
}

type httpMirror struct {
	base string
	hc   *http.Client
}

func (m *httpMirror) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	if !tuf.ValidRole(role) {
		return nil, fmt.Errorf("client: mirror: %w: invalid role %q", update.ErrNotFound, role)
	}
	if sha256hex != "" {
		data, err := m.get(ctx, update.FileName(role, sha256hex), maxSize)
		if !errors.Is(err, update.ErrNotFound) {
			return data, err
		}
	}
	return m.get(ctx, update.FileName(role, ""), maxSize)
}

func (m *httpMirror) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	return m.get(ctx, update.VersionedRootName(version), maxSize)
}

func (m *httpMirror) get(ctx context.Context, name string, maxSize int64) ([]byte, error) {
	u := m.base + "/" + (&url.URL{Path: name}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, &update.OfflineError{File: name, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
		// Object stores answer 403 for a missing object when listing is
		// not allowed.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, api.MaxErrorSize))
		return nil, fmt.Errorf("client: mirror %s: %w", u, update.ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, api.MaxErrorSize))
		return nil, &update.OfflineError{File: name, Err: fmt.Errorf("mirror %s answered HTTP %d", u, resp.StatusCode)}
	}
	if resp.ContentLength > maxSize {
		return nil, &update.TooLargeError{File: name, Limit: maxSize}
	}
	return update.ReadLimited(resp.Body, name, maxSize)
}
