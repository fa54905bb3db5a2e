package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
	"github.com/notary-go/notary/storage"
)

// A LockTimeoutError says that a write gave up waiting for a lock that
// another writer (another server, or another request) held for longer than
// Options.LockTimeout. Nothing was written; the caller may retry.
type LockTimeoutError struct {
	Lock    string // `gun "example.com/app"`, "changefeed" or "migrations"
	Timeout time.Duration
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("sqlstore: gave up after %v waiting for the %s lock held by another writer; retry, or raise the lock timeout", e.Timeout, e.Lock)
}

// A SchemaVersionError says the database schema is not the one this code
// was built for: Have is the newest migration applied, Want the newest one
// embedded here.
type SchemaVersionError struct {
	Have, Want int64
}

func (e *SchemaVersionError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("sqlstore: database schema version %d is newer than this binary's %d; upgrade notary-server", e.Have, e.Want)
	}
	return fmt.Sprintf("sqlstore: database schema version %d is older than %d; run the migrations (sqlstore.Migrate, or Open without SkipMigrate)", e.Have, e.Want)
}

// Driver errors are recognised by their methods or text, so that this
// package needs no driver import: pgx's *pgconn.PgError has SQLState(),
// modernc.org/sqlite's *Error has Code(), and go-sql-driver/mysql's
// *MySQLError prints "Error <number> ...".
type (
	sqlStater   interface{ SQLState() string }
	sqliteCoder interface{ Code() int }
)

// SQLite result codes (https://www.sqlite.org/rescode.html).
const (
	sqliteConstraint           = 19
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// isUniqueViolation reports whether err is a duplicate-key error: PostgreSQL
// 23505, MySQL 1062 (duplicate entry) or 1022 (duplicate key), SQLite
// SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY.
func isUniqueViolation(d Dialect, err error) bool {
	switch d {
	case Postgres:
		var e sqlStater
		return errors.As(err, &e) && e.SQLState() == "23505"
	case MySQL:
		n := mysqlErrorNumber(err)
		return n == 1062 || n == 1022
	case SQLite:
		var e sqliteCoder
		if !errors.As(err, &e) {
			return false
		}
		c := e.Code()
		return c == sqliteConstraintUnique || c == sqliteConstraintPrimaryKey ||
			(c == sqliteConstraint && strings.Contains(err.Error(), "UNIQUE"))
	}
	return false
}

// isLockTimeout reports whether err says a lock wait ran out: PostgreSQL
// 55P03 (lock_not_available), SQLite SQLITE_BUSY and its extended codes.
// MySQL's GET_LOCK reports a timeout by its result, not an error.
func isLockTimeout(d Dialect, err error) bool {
	switch d {
	case Postgres:
		var e sqlStater
		return errors.As(err, &e) && e.SQLState() == "55P03"
	case SQLite:
		return sqldialect.IsSQLiteBusy(err)
	}
	return false
}

// mysqlErrorNumber returns the server error number of a go-sql-driver/mysql
// error ("Error 1062 (23000): Duplicate entry ..."), or 0.
func mysqlErrorNumber(err error) int {
	for ; err != nil; err = errors.Unwrap(err) {
		var n int
		if _, scanErr := fmt.Sscanf(err.Error(), "Error %d", &n); scanErr == nil {
			return n
		}
	}
	return 0
}

// wrapBackend turns a database failure returned by a MetaStore method into
// a *storage.UnavailableError, so the server can answer 503 and let the
// client retry (a lost connection, a restarting database, a lock timeout).
func wrapBackend(op string, err *error) { *err = storage.Unavailable(op, *err) }
