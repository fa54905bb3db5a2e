package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/gun"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// File names at the archive's top.
const (
	ManifestName  = "notary-archive.json"
	PublicKeyName = "notary-archive.pub"
	// ManifestType is the manifest's _type.
	ManifestType = "notary-archive"
	// maxManifestSize bounds the manifest read back (about 150 bytes a file).
	maxManifestSize int64 = 256 << 20
	// maxFileSize bounds one archived file read back to check its hash.
	maxFileSize int64 = 100 << 20
)

// A Manifest lists what an archive holds. Its Version grows by one at every
// write, so a reader can tell an older manifest from a newer one.
type Manifest struct {
	Type        string                     `json:"_type"`
	Version     int64                      `json:"version"`
	Updated     time.Time                  `json:"updated"`
	Collections map[string]CollectionEntry `json:"collections"`
}

// A CollectionEntry is one GUN in the manifest: when it was last archived,
// the role versions then, and every file of it in the archive (paths
// relative to the archive's top, slash-separated), old versions included.
type CollectionEntry struct {
	Archived time.Time           `json:"archived"`
	Versions map[string]int64    `json:"versions"`
	Files    map[string]FileHash `json:"files"`
}

// FileHash is a file's length and SHA-256 (hex).
type FileHash struct {
	Length int64  `json:"length"`
	SHA256 string `json:"sha256"`
}

// signedManifest is the manifest file: the manifest and signatures over its
// canonical JSON, in the shape of TUF metadata.
type signedManifest struct {
	Signed     json.RawMessage `json:"signed"`
	Signatures []tuf.Signature `json:"signatures"`
}

// Errors, matched with errors.Is.
var (
	// ErrNoManifest: the directory holds no archive manifest.
	ErrNoManifest = errors.New("archive: no manifest")
	// ErrBadSignature: the manifest is not signed by the expected key.
	ErrBadSignature = errors.New("archive: manifest signature does not verify")
	// ErrFileMismatch: a file differs from the manifest (FileError).
	ErrFileMismatch = errors.New("archive: file does not match the manifest")
)

// A FileError says which archived file is missing or altered.
type FileError struct {
	Path string
	Want FileHash
	Got  FileHash // zero when the file is missing
	Err  error    // why it could not be read, if so
}

func (e *FileError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("archive: %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("archive: %s: want %d bytes, sha256 %s; got %d bytes, sha256 %s", e.Path, e.Want.Length, e.Want.SHA256, e.Got.Length, e.Got.SHA256)
}

func (e *FileError) Unwrap() error { return ErrFileMismatch }

// TreePath is the archive path of a collection's file name
// ("v2/<gun>/_trust/tuf/<name>").
func TreePath(g, name string) string { return path.Join("v2", g, "_trust", "tuf", name) }

func hashOf(data []byte) FileHash {
	sum := sha256.Sum256(data)
	return FileHash{Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

// signManifest returns the manifest file's bytes.
func signManifest(m *Manifest, key *keys.PrivateKey) ([]byte, error) {
	body, err := canonicaljson.Marshal(m)
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(body)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(signedManifest{
		Signed:     body,
		Signatures: []tuf.Signature{{KeyID: key.ID(), Method: key.Method(), Sig: sig}},
	}, "", "  ")
}

// ReadManifest reads DIR's manifest and checks that it is signed by pub. A
// nil pub takes the key in DIR/notary-archive.pub instead, which proves
// only that the archive is whole as its archiver left it if the caller
// then checks the returned key's ID against one it trusts.
func ReadManifest(dir string, pub *keys.PublicKey) (*Manifest, keys.PublicKey, error) {
	data, err := readLimited(filepath.Join(dir, ManifestName), maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, keys.PublicKey{}, fmt.Errorf("%w in %s", ErrNoManifest, dir)
	}
	if err != nil {
		return nil, keys.PublicKey{}, err
	}
	var key keys.PublicKey
	if pub != nil {
		key = *pub
	} else {
		kb, err := readLimited(filepath.Join(dir, PublicKeyName), 1<<20)
		if err != nil {
			return nil, keys.PublicKey{}, fmt.Errorf("archive: reading the archiver's key: %w", err)
		}
		if err := json.Unmarshal(kb, &key); err != nil {
			return nil, keys.PublicKey{}, fmt.Errorf("archive: %s: %w", PublicKeyName, err)
		}
	}
	var sm signedManifest
	if err := json.Unmarshal(data, &sm); err != nil {
		return nil, key, fmt.Errorf("archive: %s: %w", ManifestName, err)
	}
	body, err := canonicaljson.Canonicalize(sm.Signed)
	if err != nil {
		return nil, key, fmt.Errorf("archive: %s: %w", ManifestName, err)
	}
	verified := false
	for _, s := range sm.Signatures {
		if s.KeyID == key.ID() && key.Verify(s.Method, body, s.Sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, key, fmt.Errorf("%w: no valid signature by key %s", ErrBadSignature, key.ID())
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, key, fmt.Errorf("archive: %s: %w", ManifestName, err)
	}
	if m.Type != ManifestType {
		return nil, key, fmt.Errorf("archive: %s: _type %q, want %q", ManifestName, m.Type, ManifestType)
	}
	for g, c := range m.Collections {
		if err := gun.CheckPath(g); err != nil {
			return nil, key, fmt.Errorf("archive: %s: %w", ManifestName, err)
		}
		for p := range c.Files {
			if !strings.HasPrefix(p, TreePath(g, "")+"/") || !fs.ValidPath(p) {
				return nil, key, fmt.Errorf("archive: %s: file %q is outside %s's tree", ManifestName, p, g)
			}
		}
	}
	return &m, key, nil
}

// Verify checks DIR as a whole: the manifest is signed by pub (nil: the
// archive's own key, see ReadManifest) and every file it lists is present
// with its length and SHA-256. Files the manifest does not list are
// ignored (a static server may hold more). The first mismatch of each
// file is returned, joined; the manifest is returned whenever its
// signature verified.
func Verify(dir string, pub *keys.PublicKey) (*Manifest, keys.PublicKey, error) {
	m, key, err := ReadManifest(dir, pub)
	if err != nil {
		return nil, key, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, key, err
	}
	defer root.Close()
	var errs []error
	for _, g := range sortedGUNs(m) {
		c := m.Collections[g]
		paths := make([]string, 0, len(c.Files))
		for p := range c.Files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			want := c.Files[p]
			data, err := readRootLimited(root, p, maxFileSize)
			if err != nil {
				errs = append(errs, &FileError{Path: p, Want: want, Err: err})
				continue
			}
			if got := hashOf(data); got != want {
				errs = append(errs, &FileError{Path: p, Want: want, Got: got})
			}
		}
	}
	return m, key, errors.Join(errs...)
}

func sortedGUNs(m *Manifest) []string {
	out := make([]string, 0, len(m.Collections))
	for g := range m.Collections {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return limitedRead(f, name, limit)
}

// readRootLimited reads p (slash-separated) inside root: never a file
// outside it, whatever symlinks the tree holds.
func readRootLimited(root *os.Root, p string, limit int64) ([]byte, error) {
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return limitedRead(f, p, limit)
}

func limitedRead(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("archive: %s is larger than %d bytes", name, limit)
	}
	return data, nil
}
