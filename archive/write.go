package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/notary-go/notary/gun"
	"github.com/notary-go/notary/keys"
)

// A Writer adds verified collections to the archive in Dir and signs its
// manifest with Key. It is not safe for concurrent use, and only one
// Writer may write a directory at a time.
type Writer struct {
	Dir string
	Key *keys.PrivateKey
	// Now is the clock for the manifest's times; nil means time.Now.
	Now func() time.Time
}

// Result says what Add did for one collection.
type Result struct {
	GUN       string
	Written   int // files new or changed
	Unchanged int // files already archived with the same bytes
}

// Add writes c's files under DIR/v2/<gun>/_trust/tuf/ and records them in
// the manifest, which it re-signs and rewrites last, so a crash leaves the
// old manifest (and files it does not list yet) rather than a manifest
// listing files that are not there. A file already present with the same
// bytes is not rewritten, so reruns add only what changed; the previous
// files of c stay listed (old versions remain readable and checkable).
// Files are written to a temporary name and renamed into place.
//
// An existing manifest must verify with w.Key's public key: an archive is
// extended only by its own archiver.
func (w *Writer) Add(cols ...Collection) ([]Result, error) {
	if w.Key == nil {
		return nil, errors.New("archive: no signing key")
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return nil, err
	}
	pub := w.Key.Public()
	m, _, err := ReadManifest(w.Dir, &pub)
	switch {
	case errors.Is(err, ErrNoManifest):
		m = &Manifest{Type: ManifestType, Collections: map[string]CollectionEntry{}}
	case err != nil:
		return nil, err
	}
	root, err := os.OpenRoot(w.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	t := now().UTC().Truncate(time.Second)
	var results []Result
	for _, c := range cols {
		if err := gun.CheckPath(c.GUN); err != nil {
			return results, err
		}
		res := Result{GUN: c.GUN}
		entry := m.Collections[c.GUN]
		if entry.Files == nil {
			entry.Files = map[string]FileHash{}
		}
		for _, f := range c.Files {
			p := TreePath(c.GUN, f.Name)
			// path.Join cleans "../x" away: the name must stay inside
			// the collection's own tree.
			if !fs.ValidPath(f.Name) || path.Clean(f.Name) != f.Name || !strings.HasPrefix(p, TreePath(c.GUN, "")+"/") {
				return results, fmt.Errorf("archive: %s: invalid file name %q", c.GUN, f.Name)
			}
			changed, err := writeIfChanged(root, p, f.Data)
			if err != nil {
				return results, fmt.Errorf("archive: writing %s: %w", p, err)
			}
			if changed {
				res.Written++
			} else {
				res.Unchanged++
			}
			entry.Files[p] = hashOf(f.Data)
		}
		entry.Archived = t
		entry.Versions = c.Versions
		m.Collections[c.GUN] = entry
		results = append(results, res)
	}
	m.Version++
	m.Updated = t
	data, err := signManifest(m, w.Key)
	if err != nil {
		return results, err
	}
	kb, err := pub.MarshalJSON()
	if err != nil {
		return results, err
	}
	if _, err := writeIfChanged(root, PublicKeyName, kb); err != nil {
		return results, err
	}
	if _, err := writeIfChanged(root, ManifestName, data); err != nil {
		return results, err
	}
	return results, nil
}

// writeIfChanged writes data to p inside root unless p holds it already,
// through a temporary file and a rename so readers never see half a file.
func writeIfChanged(root *os.Root, p string, data []byte) (bool, error) {
	name := filepath.FromSlash(p)
	if old, err := readRootLimited(root, p, int64(len(data))); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return false, err
		}
	}
	tmp := name + ".tmp-archive"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return false, err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = root.Remove(tmp)
		return false, err
	}
	if err := root.Rename(tmp, name); err != nil {
		_ = root.Remove(tmp)
		return false, err
	}
	return true, nil
}
