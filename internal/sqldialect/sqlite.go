package sqldialect

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// sqliteBusy is SQLITE_BUSY (https://www.sqlite.org/rescode.html); the
// low byte of every extended busy code.
const sqliteBusy = 5

// IsSQLiteBusy reports whether err is SQLITE_BUSY or one of its extended
// codes, from a driver whose errors have a Code() int (modernc.org/sqlite,
// mattn/go-sqlite3's ErrNo differs and is not linked here).
func IsSQLiteBusy(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == sqliteBusy
}

// SQLiteConn takes a connection of db for a write transaction, retrying
// for up to wait while opening it fails with SQLITE_BUSY.
//
// Why: opening a connection runs the DSN's pragmas, and
// journal_mode(WAL) on a database still in rollback mode needs the
// exclusive lock. When another connection (or process) is inside its own
// first transaction, SQLite answers BUSY at once, without the busy
// handler, because waiting could deadlock; busy_timeout does not help.
// That is what two signers or servers starting on one new SQLite file
// hit. Once the file is in WAL mode the pragma no longer needs the lock.
func SQLiteConn(ctx context.Context, db *sql.DB, wait time.Duration) (*sql.Conn, error) {
	deadline := time.Now().Add(wait)
	backoff := time.Millisecond
	for {
		conn, err := db.Conn(ctx)
		if err == nil || !IsSQLiteBusy(err) || time.Now().Add(backoff).After(deadline) {
			return conn, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}
