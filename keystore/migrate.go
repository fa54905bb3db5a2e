package keystore

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/notary-go/notary/keys"
)

// Legacy layouts (Notary 0.1 to 0.3; v1 notary.RootKeysSubdir,
// NonRootKeysSubdir, TrustedCertsDir).
const (
	legacyRootDir    = "root_keys"
	legacyNonRootDir = "tuf_keys"
	legacyCertsDir   = "trusted_certificates"
)

// migrateLegacy moves keys from private/root_keys and private/tuf_keys to
// private/<id>.key (v1 storage.FilesystemStore.migrateTo0Dot4) and removes
// the certificates directory.
func migrateLegacy(trustDir, privDir string) error {
	for _, sub := range []string{legacyRootDir, legacyNonRootDir} {
		base := filepath.Join(privDir, sub)
		fi, err := os.Lstat(base)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("keystore: migrating %s: %w", base, err)
		}
		if !fi.IsDir() {
			continue
		}
		var dirs []string
		err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: leave it
			}
			if d.IsDir() {
				dirs = append(dirs, p)
				return nil
			}
			if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), KeyFileExt) {
				return nil
			}
			rel, err := filepath.Rel(base, p)
			if err != nil {
				return nil
			}
			return migrateKeyFile(privDir, p, rel)
		})
		if err != nil {
			return err
		}
		// Remove the emptied directories, deepest first; non-empty ones
		// (holding files we could not migrate) stay.
		sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
		for _, d := range dirs {
			_ = os.Remove(d)
		}
	}
	// v1 meant to delete the unused certificate store, but looked for it
	// under private/; §7.1 says it goes, wherever it is.
	for _, d := range []string{filepath.Join(trustDir, legacyCertsDir), filepath.Join(privDir, legacyCertsDir)} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("keystore: removing %s: %w", d, err)
		}
	}
	syncDir(privDir)
	return nil
}

// migrateKeyFile moves one legacy key file; rel is its path below
// root_keys/ or tuf_keys/, e.g. "docker.com/app/<id>_targets.key".
func migrateKeyFile(privDir, file, rel string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil // leave it
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil // v1 logged and skipped (then deleted it); we keep it
	}
	if block.Headers == nil {
		block.Headers = map[string]string{}
	}
	name := strings.TrimSuffix(filepath.Base(rel), KeyFileExt)
	if gunDir := filepath.Dir(rel); gunDir != "." {
		block.Headers[keys.PEMHeaderGUN] = filepath.ToSlash(gunDir)
	}
	id := name
	if i := strings.IndexByte(name, '_'); i >= 0 {
		// <id>_<role>: v1 took the second "_"-separated field as the role.
		role := strings.Split(name, "_")[1]
		id = strings.TrimSuffix(name, "_"+role)
		block.Headers[keys.PEMHeaderRole] = role
	}
	if !ValidID(id) {
		return nil
	}
	if g := keys.PEMGUN(block.Headers[keys.PEMHeaderRole], block.Headers[keys.PEMHeaderGUN]); g != "" {
		block.Headers[keys.PEMHeaderGUN] = g
	} else {
		delete(block.Headers, keys.PEMHeaderGUN)
	}
	err = writeFileAtomic(privDir, id+KeyFileExt, pem.EncodeToMemory(block), false)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keystore: migrating %s: %w", file, err)
	}
	// Migrated now or before (same ID, same key): drop the legacy copy.
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keystore: migrating %s: %w", file, err)
	}
	return nil
}
