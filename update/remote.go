package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/notary-go/notary/tuf"
)

// A Remote serves a collection's metadata files, as a notary server or a
// static mirror of its files does. The Updater verifies everything a Remote
// returns, so a Remote needs no trust of its own. Implementations must be
// safe for concurrent use.
type Remote interface {
	// GetMeta returns the bytes of role's metadata file: the current one
	// (<role>.json) when sha256hex is "", else the one whose SHA-256 is
	// sha256hex (<role>.<sha256hex>.json, v1 §9). role is a base role or a
	// delegation name such as "targets/releases".
	//
	// It never returns more than maxSize bytes: a longer file is an error
	// wrapping ErrTooLarge (see ReadLimited). A file the remote does not
	// hold is an error wrapping ErrNotFound. Any other error means the
	// remote could not be reached or failed (network error, HTTP 5xx); the
	// Updater may then fall back to cached data.
	GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error)
	// GetVersionedRoot returns <version>.root.json, the root of that
	// version, with the same size and error contract as GetMeta. The
	// Updater walks these to follow a root rotation chain (v1 §4.5).
	GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error)
}

// FileName returns the remote name of role's metadata: "<role>.json", or
// "<role>.<sha256hex>.json" when sha256hex is not empty (v1 §9: role
// first, unlike TUF 1.0).
func FileName(role, sha256hex string) string {
	if sha256hex == "" {
		return role + ".json"
	}
	return role + "." + sha256hex + ".json"
}

// VersionedRootName returns "<version>.root.json".
func VersionedRootName(version int64) string {
	return strconv.FormatInt(version, 10) + ".root.json"
}

// ReadLimited reads r to the end, but never more than maxSize+1 bytes: a
// stream longer than maxSize is a *TooLargeError naming file, so a remote
// that sends endless data cannot exhaust memory (v1 §4.6). A negative
// maxSize allows nothing.
func ReadLimited(r io.Reader, file string, maxSize int64) ([]byte, error) {
	if maxSize < 0 {
		maxSize = 0
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxSize {
		return nil, &TooLargeError{File: file, Limit: maxSize}
	}
	return data, nil
}

// DirRemote returns a Remote reading a static mirror of a collection's
// files from fsys: <role>.json, <role>.<sha256hex>.json (delegations in
// subdirectories, "targets/releases.<hex>.json") and <version>.root.json.
// A mirror may hold only the plain names, so a hash-addressed file that is
// absent is read from <role>.json instead: the Updater checks every file
// against its trusted hashes, so a stale plain file is refused, never
// trusted. Use os.DirFS for a folder.
func DirRemote(fsys fs.FS) Remote { return dirRemote{fsys} }

type dirRemote struct{ fsys fs.FS }

var _ Remote = dirRemote{}

func (d dirRemote) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !tuf.ValidRole(role) {
		return nil, fmt.Errorf("update: %w: invalid role name %q", ErrNotFound, role)
	}
	if sha256hex != "" {
		if !isHex64(sha256hex) {
			return nil, fmt.Errorf("update: %w: invalid sha256 %q", ErrNotFound, sha256hex)
		}
		data, err := readFS(d.fsys, FileName(role, sha256hex), maxSize)
		if !errors.Is(err, ErrNotFound) {
			return data, err
		}
	}
	return readFS(d.fsys, FileName(role, ""), maxSize)
}

func (d dirRemote) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if version < 1 {
		return nil, fmt.Errorf("update: %w: root version %d", ErrNotFound, version)
	}
	return readFS(d.fsys, VersionedRootName(version), maxSize)
}

func readFS(fsys fs.FS, name string, maxSize int64) ([]byte, error) {
	// Only regular files: opening a FIFO planted in a mirror would block
	// forever, and a device could stream without end.
	if st, err := fs.Stat(fsys, name); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, fmt.Errorf("update: %s: %w", name, ErrNotFound)
		}
		return nil, fmt.Errorf("update: %s is not a regular file (%s)", name, st.Mode().Type())
	}
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("update: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("update: %s: %w", name, ErrNotFound)
		}
		if st.Size() > maxSize {
			return nil, &TooLargeError{File: name, Limit: maxSize}
		}
	}
	return ReadLimited(f, name, maxSize)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
