package keystore

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/notary-go/notary/internal/fsperm"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/passphrase"
)

// Layout of the trust directory (§7.1).
const (
	// PrivateDir is the directory of <trust_dir> holding key files.
	PrivateDir = "private"
	// KeyFileExt ends every key file name: <canonical key ID>.key.
	KeyFileExt = ".key"

	dirPerm  = 0o700
	filePerm = 0o600
	// maxPassphraseAttempts bounds the calls to a retriever for one key
	// (v1 trustmanager gave up after attempt 10).
	maxPassphraseAttempts = 10
	// maxKeyFileSize bounds what is read from a key file.
	maxKeyFileSize = 1 << 20
	// DefaultImportRole is the role of an imported key with no role
	// header and no fallback (v1 notary.DefaultImportRole).
	DefaultImportRole = "delegation"
)

// FileStore is the key store of a v0.7.0 trust directory: one PEM file per
// key at <trust_dir>/private/<canonical key ID>.key (directories 0700, files
// 0600), in the format of keys.EncryptPEM, with "role" and "gun" headers.
// Files are written atomically (temporary file, then rename or link), so a
// crash never leaves half a key, and v0.7.0 reads every file it writes.
//
// Passphrases come from a passphrase.Retriever, asked with the key ID as
// keyName and the key's role as alias. A passphrase that does not decrypt a
// key is followed by a call with the next attempt number, until the
// retriever gives up (or after 10 attempts). An empty passphrase for a new
// key stores it unencrypted, as v1 does. Decrypted keys are cached for the
// life of the store, so a command asks at most once per key.
//
// Opening a store migrates the legacy layouts of Notary 0.1 to 0.3 (see
// OpenFile). A FileStore is safe for concurrent use; passphrase requests are
// serialised.
type FileStore struct {
	trustDir  string
	dir       string
	retriever passphrase.Retriever

	mu    sync.Mutex
	cache map[string]memoryEntry // canonical ID → decrypted key
}

var _ Service = (*FileStore)(nil)

// OpenFile opens the key store of trustDir, creating <trustDir>/private
// (0700) if needed, and migrates legacy layouts as v0.7.0 does:
// private/root_keys/<id>_root.key and private/tuf_keys/[<gun>/]<id>[_<role>].key
// move to private/<id>.key, gaining a "role" header from the file name and
// a "gun" header from the directory (kept only where keys.PEMGUN keeps it);
// the encrypted bytes are unchanged. Files that cannot be migrated (not
// PEM, or not named by a key ID) are left where they are, with their
// directories; emptied legacy directories are removed, and so are
// <trustDir>/trusted_certificates and private/trusted_certificates, which
// v0.7.0 no longer uses.
//
// A nil retriever gives up on every passphrase request: only unencrypted
// keys can be read, and Add, Create and Import fail.
func OpenFile(trustDir string, retriever passphrase.Retriever) (*FileStore, error) {
	if trustDir == "" {
		return nil, errors.New("keystore: empty trust directory")
	}
	// Both folders are made private even if they existed with looser
	// modes (NCC 2015 finding 7): other users must not reach the keys.
	dir := filepath.Join(trustDir, PrivateDir)
	if err := fsperm.MkdirPrivate(trustDir); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := fsperm.MkdirPrivate(dir); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := migrateLegacy(trustDir, dir); err != nil {
		return nil, err
	}
	if retriever == nil {
		retriever = noRetriever
	}
	return &FileStore{trustDir: trustDir, dir: dir, retriever: retriever, cache: map[string]memoryEntry{}}, nil
}

func noRetriever(_, alias string, _ bool, _ int) ([]byte, bool, error) {
	return nil, true, fmt.Errorf("keystore: no passphrase retriever for %s key: %w", alias, passphrase.ErrNoPassphrase)
}

// TrustDir is the trust directory the store was opened on.
func (s *FileStore) TrustDir() string { return s.trustDir }

// KeyPath is the file of key id (which need not exist), or an error
// wrapping ErrInvalidID.
func (s *FileStore) KeyPath(id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, id+KeyFileExt), nil
}

// Create implements Service. The new key is encrypted with a passphrase
// asked for with createNew set.
func (s *FileStore) Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error) {
	if err := ctxErr(ctx); err != nil {
		return keys.PublicKey{}, err
	}
	key, err := generate(keyType)
	if err != nil {
		return keys.PublicKey{}, err
	}
	if err := s.Add(ctx, KeyInfo{Role: role, GUN: gun}, key); err != nil {
		return keys.PublicKey{}, err
	}
	return key.Public(), nil
}

// Add implements Service: it asks for a new passphrase (alias info.Role)
// and writes the key encrypted, with info.GUN kept only where keys.PEMGUN
// keeps it.
func (s *FileStore) Add(ctx context.Context, info KeyInfo, key *keys.PrivateKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	id, err := checkAdd(info, key)
	if err != nil {
		return err
	}
	info = KeyInfo{ID: id, Role: info.Role, GUN: keys.PEMGUN(info.Role, info.GUN), Type: key.Plain().Type()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkAbsent(id); err != nil {
		return err
	}
	pass, err := s.newPassphrase(s.retriever, id, info.Role)
	if err != nil {
		return err
	}
	defer clear(pass)
	return s.write(key, info, pass, false)
}

// checkAbsent fails with an *ExistsError if id is cached or has a file.
func (s *FileStore) checkAbsent(id string) error {
	if _, ok := s.cache[id]; ok {
		return &ExistsError{ID: id}
	}
	if _, err := os.Lstat(filepath.Join(s.dir, id+KeyFileExt)); err == nil {
		return &ExistsError{ID: id}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keystore: %w", err)
	}
	return nil
}

// write encodes key under pass (unencrypted when pass is empty, as v1),
// writes it atomically and caches it. The caller clears pass.
func (s *FileStore) write(key *keys.PrivateKey, info KeyInfo, pass []byte, replace bool) error {
	var data []byte
	var err error
	if len(pass) == 0 {
		data, err = keys.UnencryptedPEM(key, info.Role, info.GUN)
		defer clear(data)
	} else {
		data, err = keys.EncryptPEM(key, info.Role, info.GUN, pass)
	}
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.dir, info.ID+KeyFileExt, data, replace); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{ID: info.ID}
		}
		return fmt.Errorf("keystore: writing key %s: %w", info.ID, err)
	}
	s.cache[info.ID] = memoryEntry{key: key.Plain(), info: info}
	return nil
}

// newPassphrase asks r for the passphrase of a new key. The caller clears
// the result once the key is written.
func (s *FileStore) newPassphrase(r passphrase.Retriever, id, role string) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < maxPassphraseAttempts; attempt++ {
		p, giveUp, err := r(id, role, true, attempt)
		if err == nil && !giveUp {
			return p, nil
		}
		clear(p)
		lastErr = err
		if giveUp {
			break
		}
	}
	if lastErr == nil {
		lastErr = passphrase.ErrTooManyAttempts
	}
	return nil, &PassphraseError{ID: id, Role: role, Err: lastErr}
}

// decrypt parses a key file, asking r for passphrases while they are
// wrong. It returns the passphrase that worked (nil for an unencrypted
// key), which the caller clears; every other one is cleared here.
func decrypt(r passphrase.Retriever, keyName, role string, data []byte) (*keys.PrivateKey, keys.PEMInfo, []byte, error) {
	info, err := keys.ReadPEMInfo(data)
	if err != nil {
		return nil, info, nil, err
	}
	if !info.Encrypted {
		key, info, err := keys.ParsePEM(data, nil)
		return key, info, nil, err
	}
	for attempt := 0; ; attempt++ {
		if attempt >= maxPassphraseAttempts {
			return nil, info, nil, &PassphraseError{ID: keyName, Role: role, Attempts: attempt, Err: passphrase.ErrTooManyAttempts}
		}
		p, giveUp, err := r(keyName, role, false, attempt)
		if giveUp || err != nil {
			clear(p)
			return nil, info, nil, &PassphraseError{ID: keyName, Role: role, Attempts: attempt, Err: err}
		}
		key, _, err := keys.ParsePEM(data, p)
		switch {
		case err == nil:
			return key, info, p, nil
		case errors.Is(err, keys.ErrWrongPassphrase), errors.Is(err, keys.ErrPassphraseRequired):
			clear(p)
			continue
		default:
			clear(p)
			return nil, info, nil, err
		}
	}
}

// Get implements Service. An encrypted key is decrypted with passphrases
// from the retriever (alias: the file's role header) and then cached.
func (s *FileStore) Get(ctx context.Context, id string) (*keys.PrivateKey, KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, KeyInfo{}, err
	}
	if err := checkID(id); err != nil {
		return nil, KeyInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cache[id]; ok {
		return e.key, e.info, nil
	}
	data, err := s.readKeyFile(id)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	defer clear(data)
	info, err := keys.ReadPEMInfo(data)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("keystore: key file %s: %w", id, err)
	}
	key, _, pass, err := decrypt(s.retriever, id, info.Role, data)
	clear(pass)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("keystore: key %s: %w", id, err)
	}
	if got := key.CanonicalID(); got != id {
		return nil, KeyInfo{}, fmt.Errorf("keystore: key file %s holds key %s", id, got)
	}
	ki := KeyInfo{ID: id, Role: info.Role, GUN: info.GUN, Type: key.Type()}
	s.cache[id] = memoryEntry{key: key, info: ki}
	return key, ki, nil
}

// readKeyFile reads the file of a valid id, or returns a *NotFoundError.
func (s *FileStore) readKeyFile(id string) ([]byte, error) {
	f, err := os.Open(filepath.Join(s.dir, id+KeyFileExt))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keystore: reading key %s: %w", id, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("keystore: key file %s is larger than %d bytes", id, maxKeyFileSize)
	}
	return data, nil
}

// List implements Service without decrypting: Role and GUN come from the
// PEM headers, Type from the cache or a legacy block type (else empty).
// It lists the regular files private/<id>.key whose name is a key ID and
// whose content is a private key PEM block, sorted by ID; other files are
// ignored, as v1 ignores them.
func (s *FileStore) List(ctx context.Context) ([]KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	out := []KeyInfo{}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), KeyFileExt)
		if !ok || !ValidID(id) || !e.Type().IsRegular() {
			continue
		}
		data, err := s.readKeyFile(id)
		if err != nil {
			if errors.Is(err, ErrNotFound) { // removed meanwhile
				continue
			}
			return nil, err
		}
		info, err := keys.ReadPEMInfo(data)
		clear(data)
		if err != nil {
			continue
		}
		typ := info.KeyType()
		s.mu.Lock()
		if c, ok := s.cache[id]; ok {
			typ = c.info.Type
		}
		s.mu.Unlock()
		out = append(out, KeyInfo{ID: id, Role: info.Role, GUN: info.GUN, Type: typ})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Remove implements Service: it deletes the file and forgets the cached key.
func (s *FileStore) Remove(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, id)
	err := os.Remove(filepath.Join(s.dir, id+KeyFileExt))
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{ID: id}
	}
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	syncDir(s.dir)
	return nil
}

// Export returns the key file of id exactly as stored: for every key this
// store wrote with a passphrase, an ENCRYPTED PRIVATE KEY PEM with its
// role/gun headers; keys migrated from old layouts keep their legacy
// (RFC 1423 encrypted) form. Nothing is decrypted and no passphrase is
// asked. (v1 `notary key export` writes these bytes and adds a "path"
// header; that is the caller's business.) Unknown IDs wrap ErrNotFound.
func (s *FileStore) Export(ctx context.Context, id string) ([]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	return s.readKeyFile(id)
}

// ImportOptions tunes FileStore.Import.
type ImportOptions struct {
	// Role and GUN are used when the PEM block has no "role" / "gun"
	// header (v1 `notary key import --role --gun`). With neither, the role
	// is DefaultImportRole.
	Role, GUN string
	// Name identifies the key in passphrase prompts (e.g. the file it came
	// from); it may be empty.
	Name string
	// NewPassphrase asks for a new passphrase (createNew) even when the key
	// came encrypted. By default an encrypted key is stored under the
	// passphrase that decrypted it, and only an unencrypted one is given a
	// new passphrase.
	NewPassphrase bool
}

// ImportError says why a PEM block cannot be imported.
type ImportError struct{ Reason string }

func (e *ImportError) Error() string { return "keystore: cannot import key: " + e.Reason }

// Import stores the private key of the first PEM block of data, in any form
// keys.ParsePEM reads, and returns its info. Role and GUN come from the
// block's headers, else from opts, with v1's rules (trustmanager
// ImportKeys): a legacy "path" header under tuf_keys/<gun>/ gives the GUN;
// a targets, snapshot or timestamp key needs a GUN (else *ImportError);
// other roles drop it. An encrypted block is decrypted with passphrases
// from the store's retriever (alias: the role, keyName: opts.Name); the key
// is then written as v0.7.0 writes keys (encrypted PKCS#8), re-encrypted
// under the same passphrase unless opts.NewPassphrase. An unencrypted block
// is encrypted under a new passphrase. A key already stored is not
// replaced: the error wraps ErrExists.
//
// Unlike v1, which copied encrypted blocks without opening them, the key is
// always decrypted, so its ID is known and a corrupt file is refused. v1's
// rule that root keys given to `notary init --rootkey` must be encrypted is
// the caller's to apply (keys.IsEncryptedPEM).
func (s *FileStore) Import(ctx context.Context, data []byte, opts ImportOptions) (KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return KeyInfo{}, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return KeyInfo{}, fmt.Errorf("keystore: %w", keys.ErrNotPrivateKeyPEM)
	}
	role, gun := block.Headers[keys.PEMHeaderRole], block.Headers[keys.PEMHeaderGUN]
	if p := block.Headers["path"]; p != "" && p != path.Base(p) {
		// v1 handleLegacyPath: an export by an old client names the GUN in
		// its path.
		if dir := path.Dir(filepath.ToSlash(p)); strings.HasPrefix(dir, legacyNonRootDir) {
			if g := strings.Trim(strings.TrimPrefix(dir, legacyNonRootDir), "/"); g != "" {
				gun = g
			}
		}
	}
	if gun == "" {
		gun = opts.GUN
	}
	if role == "" {
		role = opts.Role
	}
	if role == "" {
		role = DefaultImportRole
	}
	switch role {
	case "targets", "snapshot", "timestamp":
		if gun == "" {
			return KeyInfo{}, &ImportError{Reason: fmt.Sprintf("a %s key needs a GUN (from a gun header or the GUN option)", role)}
		}
	default:
		gun = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, pinfo, pass, err := decrypt(s.retriever, opts.Name, role, pem.EncodeToMemory(block))
	defer func() { clear(pass) }() // pass may be replaced below
	if err != nil {
		return KeyInfo{}, fmt.Errorf("keystore: import: %w", err)
	}
	id := key.CanonicalID()
	if err := s.checkAbsent(id); err != nil {
		return KeyInfo{}, err
	}
	if !pinfo.Encrypted || opts.NewPassphrase {
		clear(pass)
		if pass, err = s.newPassphrase(s.retriever, id, role); err != nil {
			return KeyInfo{}, err
		}
	}
	info := KeyInfo{ID: id, Role: role, GUN: gun, Type: key.Type()}
	if err := s.write(key, info, pass, false); err != nil {
		return KeyInfo{}, err
	}
	return info, nil
}

// ChangePassphrase re-encrypts key id (`notary key passwd`): it decrypts
// the key with the store's retriever (or cache), asks newPass for a new
// passphrase (createNew, alias: the key's role) and atomically replaces the
// file, keeping its role and gun. newPass must be a different retriever
// from the store's, since a prompt's cache would offer the old passphrase
// again. Unknown IDs wrap ErrNotFound.
func (s *FileStore) ChangePassphrase(ctx context.Context, id string, newPass passphrase.Retriever) error {
	if newPass == nil {
		return errors.New("keystore: ChangePassphrase needs a retriever for the new passphrase")
	}
	key, info, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Lstat(filepath.Join(s.dir, id+KeyFileExt)); err != nil {
		return &NotFoundError{ID: id} // removed meanwhile
	}
	pass, err := s.newPassphrase(newPass, id, info.Role)
	if err != nil {
		return err
	}
	defer clear(pass)
	return s.write(key, info, pass, true)
}

// writeFileAtomic writes dir/name with mode 0600 through a temporary file
// in dir. Without replace it fails with an error wrapping fs.ErrExist if
// the file exists (a hard link makes that check atomic where supported).
func writeFileAtomic(dir, name string, data []byte, replace bool) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(filePerm); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	final := filepath.Join(dir, name)
	if replace {
		if err = os.Rename(tmp, final); err != nil {
			return err
		}
	} else {
		switch lerr := os.Link(tmp, final); {
		case lerr == nil:
			os.Remove(tmp)
		case errors.Is(lerr, fs.ErrExist):
			return lerr
		default: // no hard links here: check, then rename
			if _, serr := os.Lstat(final); serr == nil {
				return fs.ErrExist
			}
			if err = os.Rename(tmp, final); err != nil {
				return err
			}
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename or removal in dir durable, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
