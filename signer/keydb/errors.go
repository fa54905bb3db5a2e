package keydb

import (
	"errors"
	"fmt"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

// UnsupportedTypeError is returned by Create for a key type the signer
// cannot generate (anything but ecdsa and ed25519, as in v1).
type UnsupportedTypeError struct{ Type string }

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("keydb: cannot generate %q keys (want ecdsa or ed25519)", e.Type)
}

// MissingPassphraseError says no passphrase is configured for an alias. It
// wraps keystore.ErrPassphraseGiveUp. It never carries a passphrase.
type MissingPassphraseError struct {
	Alias string
	// Source says where the passphrase was looked for, e.g. the variable
	// name NOTARY_SIGNER_ALIAS1; it may be empty.
	Source string
}

func (e *MissingPassphraseError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("keydb: no passphrase for alias %q (%s is unset or empty)", e.Alias, e.Source)
	}
	return fmt.Sprintf("keydb: no passphrase for alias %q", e.Alias)
}

func (e *MissingPassphraseError) Unwrap() error { return keystore.ErrPassphraseGiveUp }

// DecryptError says a stored key did not decrypt. When the passphrase of
// its alias is wrong (or the row was altered) it matches
// keystore.ErrBadPassphrase with errors.Is.
type DecryptError struct {
	KeyID string
	Alias string
	Err   error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("keydb: key %s (alias %q) does not decrypt: %v", e.KeyID, e.Alias, e.Err)
}

func (e *DecryptError) Unwrap() []error {
	if errors.Is(e.Err, jwe.ErrDecrypt) {
		return []error{keystore.ErrBadPassphrase, e.Err}
	}
	return []error{e.Err}
}

// CorruptKeyError says a stored row is inconsistent: its private key does
// not parse, or does not match its key ID or public key.
type CorruptKeyError struct {
	KeyID  string
	Reason string
}

func (e *CorruptKeyError) Error() string {
	return fmt.Sprintf("keydb: stored key %s is corrupt: %s", e.KeyID, e.Reason)
}

// KeyIDMismatchError is returned by Add when KeyInfo.ID is set but is not
// the canonical ID of the key being added.
type KeyIDMismatchError struct{ Given, Computed string }

func (e *KeyIDMismatchError) Error() string {
	return fmt.Sprintf("keydb: key info names key %s but the key's canonical ID is %s", e.Given, e.Computed)
}
