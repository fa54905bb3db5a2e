package keydb

import (
	"context"
	"time"
)

// row is one private_keys row as this package uses it.
type row struct {
	seq           int64 // the id column: insertion order, used to page through rows
	KeyID         string
	Algorithm     string // the key type (ecdsa, ed25519, ...)
	Public        []byte // raw public bytes (keys.PublicKey.Public)
	Private       []byte // JWE compact serialisation, ASCII
	EncryptionAlg string
	KeywrapAlg    string
	Alias         string
	GUN           string
	Role          string
	Deleted       bool // set only by scanForRotation
}

// rotation replaces one row's ciphertext and alias, provided the row is
// still under oldAlias (compare-and-swap). Whatever else changed meanwhile,
// a row with this key ID holds the same key (the ID is a hash of its
// public key), so newPrivate stays a valid encryption of it.
type rotation struct {
	seq        int64
	keyID      string
	oldAlias   string
	newPrivate []byte
	newAlias   string
}

// store is the table behind a DB. "Live" rows are those not soft-deleted.
// Implementations are safe for concurrent use.
type store interface {
	// insert adds r (created_at = updated_at = now, last_used NULL). A live
	// row with r.KeyID makes it return an error wrapping
	// keystore.ErrExists; a soft-deleted one is overwritten with r and
	// revived.
	insert(ctx context.Context, r row, now time.Time) error
	// get returns the live row with keyID, or a *keystore.NotFoundError.
	get(ctx context.Context, keyID string) (row, error)
	// pending returns the live row for (role, gun, algorithm) that was
	// never used to sign, lowest key ID first; ok is false when none.
	pending(ctx context.Context, role, gun, algorithm string) (r row, ok bool, err error)
	// list returns every live row, Private left nil.
	list(ctx context.Context) ([]row, error)
	// remove soft-deletes the live row with keyID, or returns a
	// *keystore.NotFoundError.
	remove(ctx context.Context, keyID string, now time.Time) error
	// markUsed sets last_used = now on the live row with keyID. An unknown
	// key is not an error.
	markUsed(ctx context.Context, keyID string, now time.Time) error
	// scanForRotation returns up to limit rows, deleted ones included,
	// whose alias differs from alias and whose seq is above after, in seq
	// order.
	scanForRotation(ctx context.Context, alias string, after int64, limit int) ([]row, error)
	// rotate applies rs in one transaction and returns how many applied;
	// a rotation whose row is no longer under oldAlias is skipped.
	rotate(ctx context.Context, rs []rotation, now time.Time) (int, error)
	// ping checks the store answers.
	ping(ctx context.Context) error
}
