package changelist

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/fsperm"
)

const (
	changeSuffix = ".change"
	// tempPrefix starts the names of files being written. Names starting
	// with "." are never entries, so a reader never sees a half-written
	// change.
	tempPrefix = ".tmp-"
	// MaxChangeSize caps how much of one change file is read: the 100 MiB
	// v1 allows for metadata of unknown size (v1 §4.6). A change cannot be
	// bigger than the targets file it would end up in.
	MaxChangeSize = 100 << 20
)

// FileList is the on-disk List v1 keeps in <trust_dir>/tuf/<gun>/changelist
// (v1 §7.3): one file per change, named "<20-digit UnixNano>_<uuid>.change",
// holding the change's stored form (see Change) with no trailing newline,
// mode 0600 in a 0700 directory. Changes apply in file-name order.
//
// Every file is written to a temporary name and renamed into place, so
// readers (including a v1 client) never see a partial change. All file
// access goes through an os.Root on the directory: the list never reads,
// writes or removes anything outside it, whatever the IDs it is given or
// the symbolic links it finds.
//
// Entries are the regular files of the directory whose names do not start
// with "." (v1 reads every file in the directory); subdirectories are
// ignored. A FileList is safe for concurrent use; several processes may
// share a directory, as with v1.
type FileList struct {
	dir   string
	clock idClock
}

var _ List = (*FileList)(nil)

// OpenDir opens the changelist in dir, creating the directory (mode 0700)
// if needed, as v1's NewFileChangelist does.
func OpenDir(dir string) (*FileList, error) {
	if dir == "" {
		return nil, errors.New("changelist: empty directory name")
	}
	// Private even if it existed looser: another user who could write
	// here could stage changes the owner then signs (NCC 2015 finding 7).
	if err := fsperm.MkdirPrivate(dir); err != nil {
		return nil, fmt.Errorf("changelist: %w", err)
	}
	l := &FileList{dir: dir, clock: idClock{now: time.Now}}
	// Start after the newest existing change, so a new change sorts last
	// even if the clock is behind the one that wrote the others.
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if len(n) > 20 && n[20] == '_' {
			if v, err := strconv.ParseInt(n[:20], 10, 64); err == nil && v > l.clock.last {
				l.clock.last = v
			}
		}
	}
	return l, nil
}

// Location implements List: the directory.
func (l *FileList) Location() string { return l.dir }

func (l *FileList) open() (*os.Root, error) {
	r, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, fmt.Errorf("changelist: %w", err)
	}
	return r, nil
}

// names returns the entry names in application order.
func (l *FileList) names() ([]string, error) {
	r, err := l.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(".")
	if err != nil {
		return nil, fmt.Errorf("changelist: %w", err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("changelist: reading %s: %w", l.dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names) // v1 applies changes in file-name order
	return names, nil
}

// Add implements List: it writes the change to a temporary file (0600),
// syncs it and renames it to its final name.
func (l *FileList) Add(c Change) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	data, err := Marshal(c)
	if err != nil {
		return "", fmt.Errorf("changelist: encoding change: %w", err)
	}
	id, err := l.clock.next()
	if err != nil {
		return "", err
	}
	r, err := l.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	tmp := tempPrefix + id
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("changelist: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, id)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return "", fmt.Errorf("changelist: writing change: %w", err)
	}
	return id, nil
}

// List implements List.
func (l *FileList) List() ([]Change, error) {
	names, err := l.names()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	r, err := l.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var (
		changes []Change
		bad     []EntryError
	)
	for _, name := range names {
		c, err := readChange(r, name)
		if err != nil {
			bad = append(bad, EntryError{ID: name, Err: err})
			continue
		}
		c.ID = name
		changes = append(changes, c)
	}
	if len(bad) > 0 {
		return changes, &UnreadableError{Entries: bad}
	}
	return changes, nil
}

func readChange(r *os.Root, name string) (Change, error) {
	f, err := r.Open(name)
	if err != nil {
		return Change{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Change{}, err
	}
	if !st.Mode().IsRegular() {
		return Change{}, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxChangeSize+1))
	if err != nil {
		return Change{}, err
	}
	if len(data) > MaxChangeSize {
		return Change{}, fmt.Errorf("larger than %d bytes", MaxChangeSize)
	}
	return Unmarshal(data)
}

// checkID refuses IDs that are not a plain entry name of this directory.
// os.Root would stop an escape anyway; this keeps Remove from touching the
// directory itself or temporary files.
func checkID(id string) error {
	if id == "" || strings.HasPrefix(id, ".") || strings.ContainsAny(id, `/\`+"\x00") {
		return &InvalidChangeError{Field: "id", Value: id, Reason: "not a change file name"}
	}
	return nil
}

// Remove implements List. Only regular files (or symbolic links, which are
// removed, not followed) are removed.
func (l *FileList) Remove(ids ...string) error {
	for _, id := range ids {
		if err := checkID(id); err != nil {
			return err
		}
	}
	r, err := l.open()
	if err != nil {
		return err
	}
	defer r.Close()
	var errs []error
	for _, id := range ids {
		if err := removeEntry(r, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func removeEntry(r *os.Root, name string) error {
	st, err := r.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("changelist: %w", err)
	}
	if st.IsDir() {
		return nil
	}
	if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("changelist: %w", err)
	}
	return nil
}

// Clear implements List. It also removes temporary files left by a writer
// that died mid-write.
func (l *FileList) Clear(except ...string) error {
	keep := make(map[string]bool, len(except))
	for _, id := range except {
		keep[id] = true
	}
	r, err := l.open()
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := r.Open(".")
	if err != nil {
		return fmt.Errorf("changelist: %w", err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("changelist: reading %s: %w", l.dir, err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if keep[name] || e.IsDir() || (strings.HasPrefix(name, ".") && !stale(e)) {
			continue
		}
		if err := removeEntry(r, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stale reports a temporary file old enough that its writer is gone.
func stale(e fs.DirEntry) bool {
	if !strings.HasPrefix(e.Name(), tempPrefix) {
		return false
	}
	info, err := e.Info()
	return err == nil && time.Since(info.ModTime()) > time.Hour
}
