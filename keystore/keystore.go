// Package keystore keeps private keys at rest behind one interface, so the
// client's trust directory, the signer's encrypted database and tests can
// all serve the code that signs.
//
// Implementations here: FileStore, the v0.7.0 trust directory
// (<trust_dir>/private/<canonical key ID>.key, encrypted PKCS#8 PEM), and
// MemoryStore. Every implementation passes keystoretest.Run.
package keystore

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/keys"
)

// KeyInfo describes a stored key without its private material. ID is the
// canonical key ID. GUN: the client's stores (FileStore, MemoryStore) keep
// it only for targets, snapshot and timestamp keys and clear it for root,
// delegation and other roles, as v1's key stores did (keys.PEMGUN); the
// signer's database keeps what it was given. Type is the key type ("ecdsa", "ed25519",
// "rsa"); List may leave it empty when a store cannot tell without
// decrypting (FileStore, for an encrypted PKCS#8 key it has not decrypted
// yet).
type KeyInfo struct {
	ID   string
	Role string
	GUN  string
	Type string
}

// Service stores private keys by canonical key ID. Implementations are safe
// for concurrent use. A cancelled context makes a method fail with an error
// wrapping ctx.Err().
type Service interface {
	// Create generates a key of keyType ("ecdsa" or "ed25519") for role and
	// gun, stores it and returns its public key. A store may instead return
	// a key it holds for the same role, gun and type that has not signed
	// anything yet (the signer's database does, as v1's "pending" keys);
	// FileStore and MemoryStore always make a new key. Other types fail.
	Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error)
	// Add stores an existing key under its canonical ID (info.ID, if set,
	// must equal it). Adding an ID that is already stored replaces nothing
	// and returns an error wrapping ErrExists.
	Add(ctx context.Context, info KeyInfo, key *keys.PrivateKey) error
	// Get returns the key with the given canonical ID and its info, or an
	// error wrapping ErrNotFound. The key's CanonicalID is id; its public
	// key is the plain (non-x509) one, since certificates are not stored
	// with private keys: use WithPublic to sign as an x509 key.
	Get(ctx context.Context, id string) (*keys.PrivateKey, KeyInfo, error)
	// List returns every stored key, in no particular order.
	List(ctx context.Context) ([]KeyInfo, error)
	// Remove deletes the key; removing an unknown ID wraps ErrNotFound.
	Remove(ctx context.Context, id string) error
}

// Sentinel errors, tested with errors.Is.
var (
	ErrNotFound = errors.New("key not found")
	ErrExists   = errors.New("key already exists")
	// ErrBadPassphrase is keys.ErrWrongPassphrase, so a wrong passphrase
	// matches it whichever layer noticed.
	ErrBadPassphrase    = keys.ErrWrongPassphrase
	ErrPassphraseGiveUp = errors.New("no passphrase available")
	// ErrInvalidID: a key ID is not 64 lowercase hex digits. Stores refuse
	// such IDs before touching storage, so an ID can never name a path
	// outside a store.
	ErrInvalidID = errors.New("invalid key ID")
)

// NotFoundError says which key could not be found.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("key %s not found", e.ID) }
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ExistsError says which key is already stored; it matches ErrExists.
type ExistsError struct{ ID string }

func (e *ExistsError) Error() string { return fmt.Sprintf("key %s already exists", e.ID) }
func (e *ExistsError) Unwrap() error { return ErrExists }

// PassphraseError says no passphrase could be had for a key: the
// passphrase retriever gave up, after Attempts passphrases that did not
// decrypt it. It matches ErrPassphraseGiveUp, ErrBadPassphrase when
// Attempts > 0, and Err (the retriever's reason, e.g.
// passphrase.ErrNoPassphrase or passphrase.ErrTooManyAttempts). It never
// carries a passphrase.
type PassphraseError struct {
	ID       string // the key ID, or for FileStore.Import the key's ImportOptions.Name
	Role     string
	Attempts int
	Err      error
}

func (e *PassphraseError) Error() string {
	msg := fmt.Sprintf("keystore: no passphrase for %s key", e.Role)
	if e.ID != "" {
		msg += " " + e.ID
	}
	if e.Attempts > 0 {
		msg += fmt.Sprintf(" after %d wrong passphrase(s)", e.Attempts)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PassphraseError) Unwrap() []error {
	errs := []error{ErrPassphraseGiveUp}
	if e.Attempts > 0 {
		errs = append(errs, ErrBadPassphrase)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ValidID reports whether id is a well-formed key ID: 64 lowercase hex
// digits (a SHA-256), as every Notary key ID is.
func ValidID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("keystore: %q: %w", id, ErrInvalidID)
	}
	return nil
}

// generate makes a key for Create in every store.
func generate(keyType string) (*keys.PrivateKey, error) {
	switch keyType {
	case keys.ECDSA, keys.ED25519:
		return keys.Generate(keyType)
	}
	return nil, fmt.Errorf("keystore: cannot generate %q keys (want ecdsa or ed25519)", keyType)
}

// checkAdd validates the arguments of Add and returns the canonical ID.
func checkAdd(info KeyInfo, key *keys.PrivateKey) (string, error) {
	if key == nil {
		return "", errors.New("keystore: nil key")
	}
	id := key.CanonicalID()
	if info.ID != "" && info.ID != id {
		return "", fmt.Errorf("keystore: KeyInfo.ID %s is not the key's canonical ID %s", info.ID, id)
	}
	return id, nil
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	return nil
}
