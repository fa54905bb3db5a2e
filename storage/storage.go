// Package storage defines the notary server's metadata store: opaque file
// bytes addressed by (GUN, role, version) and by SHA-256, plus the
// changefeed that records every new timestamp and every deleted GUN.
//
// The package knows no TUF. It never parses the bytes it stores; the server
// decides which stored version is "current" by walking hashes from the
// newest timestamp (protocol §4.3). Implementations live in subpackages
// (memory, sqlstore) and all pass storagetest.Run.
package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// TimestampRole is the one role name storage knows: every stored row of this
// role also appends an update row to the changefeed (protocol §4.3).
const TimestampRole = "timestamp"

// Changefeed categories (upstream table change_category).
const (
	CategoryUpdate   = "update"
	CategoryDeletion = "deletion"
)

// MaxNameLen is the longest GUN or role name, in bytes, that UpdateMany
// accepts. It matches upstream's varchar(255) columns.
const MaxNameLen = 255

// A MetaUpdate is one file to store. Data is the exact file bytes; the store
// computes their SHA-256 itself.
type MetaUpdate struct {
	Role    string
	Version int64
	Data    []byte
}

// A Precondition is what UpdateManyIf requires of the stored state: Role's
// highest stored version is Version (0: Role has no stored version).
type Precondition struct {
	Role    string
	Version int64
}

// A StoredMeta is one stored file. Data is a copy the caller owns, never
// nil (empty for an empty file). SHA256 is the lowercase hex SHA-256 of
// Data. Times are UTC with microsecond precision; UpdatedAt equals
// CreatedAt because rows are never modified (upstream serves UpdatedAt as
// Last-Modified for current reads and CreatedAt for hash and version
// reads, protocol §5.4).
type StoredMeta struct {
	Data      []byte
	SHA256    string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// A Change is one changefeed row (protocol §5.5). ID is a decimal integer,
// strictly increasing in commit order. Category is CategoryUpdate (Version
// and SHA256 are the stored timestamp's) or CategoryDeletion (Version 0,
// SHA256 "").
type Change struct {
	ID        string
	CreatedAt time.Time
	GUN       string
	Version   int64
	SHA256    string
	Category  string
}

// A MetaStore stores the server's metadata. Implementations are safe for
// concurrent use, also by several processes sharing one database: the
// version checks of UpdateMany are atomic with its writes, so of two racing
// writers of the same (gun, role, version) exactly one wins and the other
// gets ErrOldVersion. That is how concurrent servers regenerating the same
// timestamp settle who wins; the loser re-reads and serves the winner's.
//
// Every method returns an error wrapping ctx.Err() when ctx is done before
// it could complete. Nothing is retried internally: callers decide.
type MetaStore interface {
	// UpdateMany stores all updates for gun atomically, in one transaction:
	// all or nothing. gun and every role must be valid UTF-8 of 1 to
	// MaxNameLen bytes without NUL, else the call fails with an
	// *InvalidArgumentError and stores nothing.
	//
	// The versions of one role must be unique within the call and greater
	// than every stored version of (gun, role); otherwise the whole call
	// fails with an *OldVersionError (errors.Is ErrOldVersion) naming the
	// first offending update, and stores nothing. Versions need not be
	// consecutive. An empty updates slice succeeds and stores nothing.
	//
	// Every stored TimestampRole row also appends a CategoryUpdate
	// changefeed row, in the order the updates were given, in the same
	// transaction. Data is copied; the caller may reuse it afterwards.
	UpdateMany(ctx context.Context, gun string, updates []MetaUpdate) error

	// UpdateManyIf is UpdateMany with a precondition checked in the same
	// transaction, after the writer lock is taken: the highest stored
	// version of (gun, pre.Role) must be pre.Version, where 0 means "no
	// stored version". Otherwise the call fails with a *ConflictError
	// (errors.Is ErrConflict) and stores nothing. It is how a writer that
	// read the collection, then worked on it without a lock (validation,
	// signing), makes sure nobody deleted or replaced it meanwhile. A zero
	// Precondition (Role "") checks nothing.
	UpdateManyIf(ctx context.Context, gun string, pre Precondition, updates []MetaUpdate) error

	// GetCurrent returns the highest stored version of (gun, role), or an
	// *NotFoundError (errors.Is ErrNotFound) if there is none.
	GetCurrent(ctx context.Context, gun, role string) (*StoredMeta, error)

	// GetVersion returns the given version of (gun, role), or an
	// *NotFoundError (errors.Is ErrNotFound).
	GetVersion(ctx context.Context, gun, role string, version int64) (*StoredMeta, error)

	// GetChecksum returns the stored file of (gun, role) whose SHA-256 is
	// sha256hex (lowercase hex; other spellings never match), or an
	// *NotFoundError (errors.Is ErrNotFound). Should several versions hold
	// identical bytes, the highest is returned. Lookups are indexed.
	GetChecksum(ctx context.Context, gun, role, sha256hex string) (*StoredMeta, error)

	// Delete hard-deletes every stored version of every role of gun, and of
	// no other GUN (not even GUNs it is a prefix of). If any row existed it
	// appends one CategoryDeletion changefeed row, in the same transaction.
	// Deleting an unknown GUN is not an error and writes no changefeed row.
	// Afterwards gun starts afresh: any version may be stored again.
	Delete(ctx context.Context, gun string) error

	// GetChanges pages through the changefeed with upstream's semantics
	// (protocol §5.5), always returning rows oldest to newest:
	//   - changeID "" or "0" means from the start; otherwise it must be a
	//     decimal integer, else an *InvalidArgumentError.
	//   - records > 0 and changeID >= 0: rows with ID > changeID, ascending,
	//     at most records of them.
	//   - records < 0 or changeID < 0 (backwards): the |records| newest rows
	//     with ID < changeID (no bound when changeID <= 0), so changeID "-1"
	//     with records -N gives the latest N.
	//   - records == 0 returns no rows (the HTTP layer maps 0 to 100).
	// gun "" means the global feed; otherwise only gun's rows. An empty
	// result is a non-nil empty slice.
	GetChanges(ctx context.Context, changeID string, records int, gun string) ([]Change, error)

	// Ping reports whether the backend is reachable and its schema present
	// (the server's "DB operational" health check).
	Ping(ctx context.Context) error
}

// SHA256Hex returns the lowercase hex SHA-256 of data, the form StoredMeta,
// Change and GetChecksum use.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
