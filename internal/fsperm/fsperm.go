// Package fsperm keeps the client's private folders private whatever the
// umask and whatever was on disk before (NCC 2015 finding 7): folders are
// created 0700, and a folder that already exists with group or other
// permission bits loses them. Files are written 0600 by their writers
// (keystore, client cache, changelist), which set the mode explicitly
// rather than through the umask.
package fsperm

import (
	"fmt"
	"os"
)

// DirPerm is the mode of every folder of a trust directory.
const DirPerm os.FileMode = 0o700

// MkdirPrivate creates dir (and missing parents) with mode 0700 and, if
// dir already exists with any group or other permission, removes those
// bits (a folder holding keys, cached roots or staged changes must not be
// readable, writable or traversable by other users). A symlink at dir is
// followed, as by os.MkdirAll; the folder it names is tightened.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, DirPerm); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&^0o077); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}
