package changelist

import (
	"errors"
	"fmt"
	"os"
)

// A Batcher is a List that can stage many changes at once, all or none:
// "notary addhash --from-file" stages thousands of targets, and one file
// write plus fsync per change (Add) made that take minutes.
type Batcher interface {
	// AddBatch validates every change first and stages nothing if any is
	// invalid; otherwise it appends them in order and returns their IDs.
	AddBatch(cs []Change) (ids []string, err error)
}

// AddAll stages cs on l in order, in one batch when l is a Batcher. When l
// is not, an invalid change stages nothing but a failed write may leave
// the earlier changes staged.
func AddAll(l List, cs []Change) ([]string, error) {
	if b, ok := l.(Batcher); ok {
		return b.AddBatch(cs)
	}
	for i := range cs {
		if err := cs[i].Validate(); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
	}
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		id, err := l.Add(c)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

var (
	_ Batcher = (*FileList)(nil)
	_ Batcher = (*Memory)(nil)
)

// AddBatch implements Batcher. The on-disk format is the one Add writes
// (one v1 ".change" file per change, so a v1 client still reads the
// directory), but durability costs one filesystem sync for the batch
// instead of one fsync per change: every change is written to a
// temporary name, the files are synced together, then renamed into place
// and the directory synced. If anything fails, the files written so far
// are removed, so a batch is staged whole or not at all (barring a crash
// between the first and last rename, which leaves a prefix of the batch:
// still a valid, ordered changelist).
func (l *FileList) AddBatch(cs []Change) ([]string, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	data := make([][]byte, len(cs))
	for i, c := range cs {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
		b, err := Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("changelist: encoding change %d: %w", i+1, err)
		}
		data[i] = b
	}
	ids := make([]string, len(cs))
	for i := range ids {
		id, err := l.clock.next()
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	r, err := l.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	written, renamed := 0, 0
	undo := func(err error) ([]string, error) {
		var errs []error
		for i := range renamed {
			errs = append(errs, removeEntry(r, ids[i]))
		}
		for i := renamed; i < written; i++ {
			if e := r.Remove(tempPrefix + ids[i]); e != nil && !errors.Is(e, os.ErrNotExist) {
				errs = append(errs, e)
			}
		}
		if e := errors.Join(errs...); e != nil {
			err = fmt.Errorf("%w (cleaning up: %v)", err, e)
		}
		return nil, fmt.Errorf("changelist: writing changes: %w", err)
	}
	for i, id := range ids {
		f, err := r.OpenFile(tempPrefix+id, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return undo(err)
		}
		written++
		_, err = f.Write(data[i])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return undo(err)
		}
	}
	if err := syncDir(r, written); err != nil {
		return undo(err)
	}
	for _, id := range ids {
		if err := r.Rename(tempPrefix+id, id); err != nil {
			return undo(err)
		}
		renamed++
	}
	// The renames are durable once the directory is.
	if err := fsyncDirEntry(r); err != nil {
		return undo(err)
	}
	return ids, nil
}

// fsyncDirEntry fsyncs the directory itself (its entries, not the files).
func fsyncDirEntry(r *os.Root) error {
	d, err := r.Open(".")
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// AddBatch implements Batcher.
func (m *Memory) AddBatch(cs []Change) ([]string, error) {
	for i := range cs {
		if err := cs[i].Validate(); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
	}
	ids := make([]string, len(cs))
	added := make([]Change, len(cs))
	for i, c := range cs {
		id, err := m.clock.next()
		if err != nil {
			return nil, err
		}
		c.ID = id
		c.Data = append([]byte(nil), c.Data...)
		ids[i], added[i] = id, c
	}
	m.mu.Lock()
	m.changes = append(m.changes, added...)
	m.mu.Unlock()
	return ids, nil
}
