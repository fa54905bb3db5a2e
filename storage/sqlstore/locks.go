package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// Writers of one GUN exclude each other with a lock per GUN, taken before
// the version check, so that "no stored version >= new" and the insert are
// one atomic step on every engine (protocol §4.3):
//
//   - PostgreSQL: pg_advisory_xact_lock(key), released by COMMIT/ROLLBACK.
//   - MySQL: GET_LOCK(name) on the transaction's connection, released with
//     RELEASE_LOCK after COMMIT/ROLLBACK (or by the server when the session
//     ends). Taken before START TRANSACTION so that the snapshot of
//     REPEATABLE READ starts after the previous writer committed.
//   - SQLite: BEGIN IMMEDIATE, which serialises all writers of the file.
//
// Writers that append to the changefeed also take one changefeed lock right
// before the insert, held until the transaction has committed. Ids from
// sequences and AUTO_INCREMENT are handed out at insert time, not at commit;
// without the lock a reader paging with "id > last seen" could see id 6
// commit before id 5 and then skip 5 for ever. The lock makes changefeed ids
// follow commit order, at the price of serialising the commits of
// timestamp-writing transactions. Locks are always taken gun first, then
// changefeed, so they cannot deadlock.
//
// Lock keys hash a namespace (database and schema) with the GUN, so that
// stores in different databases or schemas of one server never contend.

// namespace returns what distinguishes this store's tables from other
// stores on the same server: database and schema (PostgreSQL), database
// (MySQL). SQLite locks are per file and need none.
func namespace(ctx context.Context, q querier, d Dialect) (string, error) {
	var query string
	switch d {
	case Postgres:
		query = "SELECT current_database() || '/' || COALESCE(current_schema(), '')"
	case MySQL:
		query = "SELECT COALESCE(DATABASE(), '')"
	default:
		return "", nil
	}
	var ns string
	if err := q.QueryRowContext(ctx, query).Scan(&ns); err != nil {
		return "", fmt.Errorf("sqlstore: reading the current database: %w", err)
	}
	switch {
	case d == MySQL && ns == "":
		return "", errors.New("sqlstore: the MySQL DSN names no database; add one, as in user@tcp(host:3306)/notaryserver")
	case d == Postgres && ns[len(ns)-1] == '/':
		return "", errors.New("sqlstore: no PostgreSQL schema of search_path exists; create it or fix search_path")
	}
	return ns, nil
}

// lockID hashes (namespace, purpose, gun) into a lock identity.
func lockID(ns, purpose, gun string) [sha256.Size]byte {
	return sha256.Sum256([]byte("notary-go\x00" + ns + "\x00" + purpose + "\x00" + gun))
}

// pgLockKey is the pg_advisory_*lock key of (ns, purpose, gun).
func pgLockKey(ns, purpose, gun string) int64 {
	id := lockID(ns, purpose, gun)
	return int64(binary.BigEndian.Uint64(id[:8]))
}

// mysqlLockName is the GET_LOCK name of (ns, purpose, gun): at most 64
// characters, as MySQL requires.
func mysqlLockName(ns, purpose, gun string) string {
	id := lockID(ns, purpose, gun)
	return "notary:" + hex.EncodeToString(id[:20])
}

// lockWait is how long to wait for a lock: timeout, or less if ctx's
// deadline comes sooner.
func lockWait(ctx context.Context, timeout time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			return max(left, time.Millisecond)
		}
	}
	return timeout
}

// mysqlGetLock takes the named user-level lock for q's session, waiting at
// most wait (rounded up to whole seconds, GET_LOCK's unit).
func mysqlGetLock(ctx context.Context, q querier, name, what string, wait time.Duration) error {
	secs := int64(math.Ceil(wait.Seconds()))
	var got sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, secs).Scan(&got); err != nil {
		return fmt.Errorf("sqlstore: taking the %s lock: %w", what, err)
	}
	if !got.Valid || got.Int64 != 1 {
		return &LockTimeoutError{Lock: what, Timeout: wait}
	}
	return nil
}

// mysqlReleaseLocks releases names on conn's session. If that fails the
// connection is discarded, which ends the session and with it its locks.
func mysqlReleaseLocks(ctx context.Context, conn *sql.Conn, names []string) {
	ctx = context.WithoutCancel(ctx)
	for _, name := range names {
		if _, err := conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", name); err != nil {
			discard(conn)
			return
		}
	}
}

// discard makes database/sql close conn instead of returning it to the
// pool; used when a session may still hold a lock or an open transaction.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}
