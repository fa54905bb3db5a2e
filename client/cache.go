package client

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/notary-go/notary/gun"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/notary-go/notary/internal/fsperm"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Layout of a trust directory (v1 §7.1).
const (
	// TUFDir holds one directory per GUN: <trust_dir>/tuf/<gun>/.
	TUFDir = "tuf"
	// MetadataDir holds the cached metadata of a GUN.
	MetadataDir = gun.MetadataFolder
	// ChangelistDir holds the staged changes of a GUN.
	ChangelistDir = gun.ChangelistFolder

	dirPerm  = 0o700
	filePerm = 0o600
)

// maxCachedFile caps what is read from a cached metadata file: the 100 MiB
// v1 allows for metadata of unknown length (§4.6).
const maxCachedFile = tuf.MaxMetaSize

// FileCache is the metadata cache of one collection in a v0.7.0 trust
// directory: <trust_dir>/tuf/<gun>/metadata/<role>.json, delegations in
// subdirectories (targets/releases.json), each file holding the bytes as
// downloaded or published, so v0.7.0 clients read what this cache writes
// and the other way round. Directories are created 0700 and files 0600.
//
// It implements update.Cache. Every access goes through an os.Root on
// <trust_dir>/tuf, so neither a role name nor a symbolic link can make it
// read or write outside that directory, and only valid role names are
// accepted. Files are replaced atomically (temporary file and rename).
// Store's compare-and-swap is exact within a process; between processes
// the window is the time between the comparison and the rename.
//
// A FileCache is safe for concurrent use.
type FileCache struct {
	tufDir string // <trust_dir>/tuf
	rel    string // <gun>/metadata, slash-separated, relative to tufDir
	mu     sync.Mutex
}

var _ update.Cache = (*FileCache)(nil)

// NewFileCache returns the cache of gun in trustDir. Nothing is created
// until something is stored.
func NewFileCache(trustDir, gun string) (*FileCache, error) {
	if err := ValidateGUN(gun); err != nil {
		return nil, err
	}
	return &FileCache{tufDir: filepath.Join(trustDir, TUFDir), rel: gun + "/" + MetadataDir}, nil
}

// Dir is the directory the cache keeps its files in.
func (c *FileCache) Dir() string { return filepath.Join(c.tufDir, filepath.FromSlash(c.rel)) }

func (c *FileCache) name(role string) (string, error) {
	if !cacheableRole(role) {
		return "", fmt.Errorf("client: cache: %w: invalid role name %q", update.ErrNotFound, role)
	}
	return c.rel + "/" + role + ".json", nil
}

// cacheableRole reports whether role has a file of its own in the cache:
// a valid role name none of whose segments is "metadata" or "changelist"
// (any case). Such a delegation (targets/metadata/root,
// targets/changelist/x) would land in the files of another GUN
// (X/metadata/targets) in a trust directory v0.7.0 shared between GUNs
// like that (issue 10 item 6); it is verified as usual, only not cached.
// ValidateGUN refuses the GUN side too, so either alone prevents the
// collision.
func cacheableRole(role string) bool {
	if !tuf.ValidRole(role) {
		return false
	}
	for _, seg := range strings.Split(role, "/") {
		if reservedSegment(seg) {
			return false
		}
	}
	return true
}

// openRoot opens <trust_dir>/tuf, creating it (0700) when create is set.
// Without create, a missing directory is reported as fs.ErrNotExist.
func (c *FileCache) openRoot(create bool) (*os.Root, error) {
	if create {
		// The trust directory and tuf/ are made private even if they
		// existed looser: another user who could write here could
		// replace the cached root (NCC 2015 finding 7).
		if err := fsperm.MkdirPrivate(filepath.Dir(c.tufDir)); err != nil {
			return nil, err
		}
		if err := fsperm.MkdirPrivate(c.tufDir); err != nil {
			return nil, err
		}
	}
	return os.OpenRoot(c.tufDir)
}

// Load implements update.Cache.
func (c *FileCache) Load(role string) ([]byte, error) {
	name, err := c.name(role)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load(name)
}

func (c *FileCache) load(name string) ([]byte, error) {
	root, err := c.openRoot(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("client: cache: %s: %w", name, update.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("client: cache: %s: %w", name, update.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("client: cache: %s is a directory: %w", name, update.ErrNotFound)
	}
	if st.Size() > maxCachedFile {
		return nil, fmt.Errorf("client: cache: %s is larger than %d bytes", name, maxCachedFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCachedFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("client: cache: %s is empty: %w", name, update.ErrNotFound)
	}
	return data, nil
}

// Store implements update.Cache.
func (c *FileCache) Store(role string, old, data []byte) error {
	name, err := c.name(role)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.load(name)
	if err != nil && !errors.Is(err, update.ErrNotFound) {
		return err
	}
	if (cur != nil) != (len(old) > 0) || !bytes.Equal(cur, old) {
		return fmt.Errorf("client: cache: storing %s: %w", role, update.ErrWriteConflict)
	}
	return c.set(name, data)
}

// Set replaces the cached file of role with data (nil or empty: removes
// it), unconditionally. The client uses it for the files it has just
// published, and Initialize for the files it signs.
func (c *FileCache) Set(role string, data []byte) error {
	name, err := c.name(role)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set(name, data)
}

func (c *FileCache) set(name string, data []byte) error {
	root, err := c.openRoot(true)
	if err != nil {
		return err
	}
	defer root.Close()
	local := filepath.FromSlash(name)
	if len(data) == 0 {
		err := root.Remove(local)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := root.MkdirAll(filepath.Dir(local), dirPerm); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(local), ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Rename(tmp, local)
	}
	if werr != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("client: cache: writing %s: %w", name, werr)
	}
	return nil
}

// Roles lists the roles with a cached file, sorted.
func (c *FileCache) Roles() ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root, err := c.openRoot(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var out []string
	err = fs.WalkDir(root.FS(), c.rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		role, ok := strings.CutSuffix(strings.TrimPrefix(p, c.rel+"/"), ".json")
		if ok && cacheableRole(role) {
			out = append(out, role)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Clear removes every cached file of the collection.
func (c *FileCache) Clear() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	root, err := c.openRoot(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	return root.RemoveAll(filepath.FromSlash(c.rel))
}

// removeGUNDir deletes <trust_dir>/tuf/<gun> (cache and changelist) and
// then every parent directory between it and <trust_dir>/tuf that is left
// empty, all through an os.Root so nothing outside can be touched.
func removeGUNDir(trustDir, gun string) error {
	if err := ValidateGUN(gun); err != nil {
		return err
	}
	tufDir := filepath.Join(trustDir, TUFDir)
	root, err := os.OpenRoot(tufDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.RemoveAll(filepath.FromSlash(gun)); err != nil {
		return err
	}
	for p := path.Dir(gun); p != "." && p != "/"; p = path.Dir(p) {
		if err := root.Remove(filepath.FromSlash(p)); err != nil {
			break // not empty (or gone): stop
		}
	}
	return nil
}
