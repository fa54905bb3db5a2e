package keydb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

// Values of the encryption_alg and keywrap_alg columns for every row this
// package writes (v1's jose.A256GCM and jose.PBES2_HS256_A128KW).
const (
	EncryptionAlg = jwe.EncA256GCM
	KeywrapAlg    = jwe.AlgPBES2HS256A128KW
)

// MaxAliasLen is the width of the passphrase_alias column.
const MaxAliasLen = 50

// DefaultCacheSize is the number of decrypted keys a DB keeps by default.
const DefaultCacheSize = 10000

// rotationBatch is how many rows Reencrypt rewrites per transaction.
const rotationBatch = 100

// Options configure a DB.
type Options struct {
	// DefaultAlias is the passphrase alias new keys are encrypted under
	// (v1's storage.default_alias). Required; at most MaxAliasLen bytes.
	DefaultAlias string
	// Passphrases resolves aliases to passphrases. Nil means
	// EnvPassphrases(os.LookupEnv).
	Passphrases PassphraseFunc
	// Now is the clock for the created_at, updated_at, deleted_at and
	// last_used columns. Nil means time.Now.
	Now func() time.Time
	// CacheSize bounds how many decrypted keys are kept in memory: 0 means
	// DefaultCacheSize, a negative value disables the cache.
	CacheSize int
}

// DB is the signer's key database. It implements keystore.Service; every
// method first fails with an error wrapping ctx.Err() when ctx is done.
// Get serves keys from an in-memory cache of decrypted keys when it can,
// so a key soft-deleted by another process sharing the database may still
// be served by this one until it restarts (as in v1). Decrypted key bytes
// are wiped once parsed; passphrases, being Go strings, cannot be. A DB is
// safe for concurrent use.
type DB struct {
	st        store
	alias     string
	pass      PassphraseFunc
	now       func() time.Time
	cacheSize int
	batch     int

	createMu sync.Mutex // serialises Create so concurrent callers share one pending key

	cacheMu  sync.RWMutex
	cache    map[string]cachedKey
	removals uint64 // bumped by Remove, so a Get racing it does not re-cache the key

	usedMu sync.Mutex
	used   map[string]time.Time // when MarkUsed last wrote last_used, per key
}

// usedInterval is how stale last_used may get: within it, further
// signatures by a key write nothing, so signing is not a database write
// each time. The first use, which ends the pending state, is always written.
const usedInterval = time.Minute

type cachedKey struct {
	key  *keys.PrivateKey
	info keystore.KeyInfo
}

var _ keystore.Service = (*DB)(nil)

// NewMemory returns a DB that keeps its (encrypted) rows in memory.
func NewMemory(opts Options) (*DB, error) { return newDB(newMemStore(), opts) }

func newDB(st store, opts Options) (*DB, error) {
	if err := checkAlias(opts.DefaultAlias); err != nil {
		return nil, fmt.Errorf("keydb: default alias: %w", err)
	}
	d := &DB{
		st:        st,
		alias:     opts.DefaultAlias,
		pass:      opts.Passphrases,
		now:       opts.Now,
		cacheSize: opts.CacheSize,
		batch:     rotationBatch,
		cache:     make(map[string]cachedKey),
	}
	if d.pass == nil {
		d.pass = EnvPassphrases(os.LookupEnv)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.cacheSize == 0 {
		d.cacheSize = DefaultCacheSize
	}
	// Fail at start rather than at the first CreateKey.
	if _, err := d.pass(d.alias); err != nil {
		return nil, err
	}
	return d, nil
}

func checkAlias(alias string) error {
	switch {
	case alias == "":
		return errors.New("alias is empty")
	case len(alias) > MaxAliasLen:
		return fmt.Errorf("alias %q is longer than %d bytes", alias, MaxAliasLen)
	}
	return nil
}

// Create returns a key of keyType ("ecdsa" or "ed25519") for role and gun.
// Like v1 it first looks for a pending key, one never used to sign, with
// the same role, gun and type and returns the one with the lowest key ID;
// only when there is none does it generate, encrypt and store a new key.
// Any other keyType is an *UnsupportedTypeError. Concurrent Creates in one
// process return the same key; across processes they may each make one.
func (d *DB) Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error) {
	if err := ctxErr(ctx); err != nil {
		return keys.PublicKey{}, err
	}
	if keyType != keys.ECDSA && keyType != keys.ED25519 {
		return keys.PublicKey{}, &UnsupportedTypeError{Type: keyType}
	}
	d.createMu.Lock()
	defer d.createMu.Unlock()
	r, ok, err := d.st.pending(ctx, role, gun, keyType)
	if err != nil {
		return keys.PublicKey{}, err
	}
	if ok {
		return keys.NewPublicKey(r.Algorithm, r.Public), nil
	}
	k, err := keys.Generate(keyType)
	if err != nil {
		return keys.PublicKey{}, err
	}
	if err := d.Add(ctx, keystore.KeyInfo{Role: role, GUN: gun}, k); err != nil {
		return keys.PublicKey{}, err
	}
	return k.Public(), nil
}

// Add encrypts key under the default alias and stores it as a pending key
// for info.Role and info.GUN. The row holds the plain (non-x509) form of
// the key under its canonical ID; info.ID, when set, must be that ID (else
// *KeyIDMismatchError) and info.Type is ignored. A key ID already stored
// gives a *keystore.ExistsError (matching keystore.ErrExists); one that
// was removed is stored again, pending, with the new role and GUN.
func (d *DB) Add(ctx context.Context, info keystore.KeyInfo, key *keys.PrivateKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if key == nil {
		return errors.New("keydb: nil key")
	}
	plain := key.Plain()
	id := plain.ID()
	if info.ID != "" && info.ID != id {
		return &KeyIDMismatchError{Given: info.ID, Computed: id}
	}
	raw, err := plain.Bytes()
	if err != nil {
		return err
	}
	defer clear(raw)
	pass, err := d.pass(d.alias)
	if err != nil {
		return err
	}
	token, err := jwe.Seal(raw, pass)
	if err != nil {
		return fmt.Errorf("keydb: encrypting key %s: %w", id, err)
	}
	pub := plain.Public()
	r := row{
		KeyID:         id,
		Algorithm:     pub.Type,
		Public:        pub.Public,
		Private:       []byte(token),
		EncryptionAlg: EncryptionAlg,
		KeywrapAlg:    KeywrapAlg,
		Alias:         d.alias,
		GUN:           info.GUN,
		Role:          info.Role,
	}
	d.cacheMu.RLock()
	gen := d.removals
	d.cacheMu.RUnlock()
	if err := d.st.insert(ctx, r, d.now().UTC()); err != nil {
		return err
	}
	d.cachePut(id, cachedKey{key: plain, info: keystore.KeyInfo{ID: id, Role: info.Role, GUN: info.GUN, Type: pub.Type}}, gen)
	return nil
}

// Get returns the key with canonical ID id and its info, decrypting it
// with the passphrase of the row's alias unless it is cached. An unknown
// or removed key gives a *keystore.NotFoundError, an ID that is not 64
// lowercase hex digits an error wrapping keystore.ErrInvalidID, a missing
// passphrase a *MissingPassphraseError and a wrong one a *DecryptError
// matching keystore.ErrBadPassphrase.
func (d *DB) Get(ctx context.Context, id string) (*keys.PrivateKey, keystore.KeyInfo, error) {
	if err := checkCall(ctx, id); err != nil {
		return nil, keystore.KeyInfo{}, err
	}
	c, ok, gen := d.cacheGet(id)
	if ok {
		return c.key, c.info, nil
	}
	r, err := d.st.get(ctx, id)
	if err != nil {
		return nil, keystore.KeyInfo{}, err
	}
	k, err := d.decrypt(r)
	if err != nil {
		return nil, keystore.KeyInfo{}, err
	}
	info := keystore.KeyInfo{ID: r.KeyID, Role: r.Role, GUN: r.GUN, Type: r.Algorithm}
	d.cachePut(id, cachedKey{key: k, info: info}, gen)
	return k, info, nil
}

// decrypt opens a row and checks the key matches its key ID and public key.
func (d *DB) decrypt(r row) (*keys.PrivateKey, error) {
	raw, err := d.open(r)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	k, err := keys.FromBytes(r.Algorithm, raw)
	if err != nil {
		return nil, &CorruptKeyError{KeyID: r.KeyID, Reason: err.Error()}
	}
	if k.ID() != r.KeyID || !bytes.Equal(k.Public().Public, r.Public) {
		return nil, &CorruptKeyError{KeyID: r.KeyID, Reason: "private key does not match the stored key ID and public key"}
	}
	return k, nil
}

// open returns the plaintext private bytes of a row; the caller wipes them.
func (d *DB) open(r row) ([]byte, error) {
	pass, err := d.pass(r.Alias)
	if err != nil {
		return nil, err
	}
	raw, err := jwe.Open(string(r.Private), pass)
	if err != nil {
		return nil, &DecryptError{KeyID: r.KeyID, Alias: r.Alias, Err: err}
	}
	return raw, nil
}

// List returns the info of every stored (not removed) key, in no
// particular order, without decrypting anything.
func (d *DB) List(ctx context.Context) ([]keystore.KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	rows, err := d.st.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]keystore.KeyInfo, len(rows))
	for i, r := range rows {
		out[i] = keystore.KeyInfo{ID: r.KeyID, Role: r.Role, GUN: r.GUN, Type: r.Algorithm}
	}
	return out, nil
}

// Remove soft-deletes the key (v1's deleted_at) and drops it from the
// cache. An unknown or already removed key gives a *keystore.NotFoundError;
// a malformed ID an error wrapping keystore.ErrInvalidID.
func (d *DB) Remove(ctx context.Context, id string) error {
	if err := checkCall(ctx, id); err != nil {
		return err
	}
	err := d.st.remove(ctx, id, d.now().UTC())
	d.cacheMu.Lock()
	d.removals++
	delete(d.cache, id)
	d.cacheMu.Unlock()
	d.usedMu.Lock()
	delete(d.used, id)
	d.usedMu.Unlock()
	return err
}

// MarkUsed records that the key just made a signature (last_used = now),
// which takes it out of the pending keys Create hands out. Marking an
// unknown key is not an error. The signer service calls it after every
// successful Sign; last_used is refreshed at most once per usedInterval.
func (d *DB) MarkUsed(ctx context.Context, id string) error {
	if err := checkCall(ctx, id); err != nil {
		return err
	}
	now := d.now().UTC()
	d.usedMu.Lock()
	last, seen := d.used[id]
	d.usedMu.Unlock()
	if seen && now.Sub(last) < usedInterval && !now.Before(last) {
		return nil
	}
	if err := d.st.markUsed(ctx, id, now); err != nil {
		return err
	}
	d.usedMu.Lock()
	if d.used == nil {
		d.used = make(map[string]time.Time)
	}
	d.used[id] = now
	d.usedMu.Unlock()
	return nil
}

// Ping reports whether the backing store answers; use it for health checks.
func (d *DB) Ping(ctx context.Context) error { return d.st.ping(ctx) }

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keydb: %w", err)
	}
	return nil
}

// checkCall refuses a done context and a malformed key ID before any
// storage is touched.
func checkCall(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !keystore.ValidID(id) {
		return fmt.Errorf("keydb: %q: %w", id, keystore.ErrInvalidID)
	}
	return nil
}

// cacheGet returns the cached key, if any, and the removal generation to
// hand to cachePut after a miss.
func (d *DB) cacheGet(id string) (cachedKey, bool, uint64) {
	d.cacheMu.RLock()
	defer d.cacheMu.RUnlock()
	c, ok := d.cache[id]
	return c, ok, d.removals
}

// cachePut caches a key read at removal generation gen, unless a Remove
// ran since; when full it evicts an arbitrary key.
func (d *DB) cachePut(id string, c cachedKey, gen uint64) {
	if d.cacheSize < 0 {
		return
	}
	d.cacheMu.Lock()
	defer d.cacheMu.Unlock()
	if d.removals != gen {
		return
	}
	if _, ok := d.cache[id]; !ok && len(d.cache) >= d.cacheSize {
		for victim := range d.cache {
			delete(d.cache, victim)
			break
		}
	}
	d.cache[id] = c
}
