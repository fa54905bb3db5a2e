package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// A querier runs statements: a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// A writeTx is a write transaction that holds one GUN's write lock (see
// locks.go). Statements run through the embedded querier.
type writeTx struct {
	querier
	// lockFeed takes the changefeed lock, held until the transaction ends.
	// Call it right before the first changefeed insert; later calls are
	// no-ops.
	lockFeed func(context.Context) error
}

// inWriteTx runs fn in a write transaction holding gun's lock and commits
// if fn returns nil; otherwise it rolls back and returns fn's error.
func (s *Store) inWriteTx(ctx context.Context, gun string, fn func(*writeTx) error) error {
	switch s.dialect {
	case Postgres:
		return s.inPostgresTx(ctx, gun, fn)
	case MySQL:
		return s.inMySQLTx(ctx, gun, fn)
	default:
		return s.inSQLiteTx(ctx, fn)
	}
}

func (s *Store) inPostgresTx(ctx context.Context, gun string, fn func(*writeTx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	wait := lockWait(ctx, s.lockTimeout)
	// lock_timeout also bounds advisory lock waits; SET LOCAL scope.
	if _, err := tx.ExecContext(ctx, "SELECT set_config('lock_timeout', $1, true)", millis(wait)); err != nil {
		return fmt.Errorf("sqlstore: setting lock_timeout: %w", err)
	}
	lock := func(ctx context.Context, key int64, what string) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
			if isLockTimeout(Postgres, err) {
				return &LockTimeoutError{Lock: what, Timeout: wait}
			}
			return fmt.Errorf("sqlstore: taking the %s lock: %w", what, err)
		}
		return nil
	}
	if err := lock(ctx, pgLockKey(s.ns, "gun", gun), gunLock(gun)); err != nil {
		return err
	}
	feedLocked := false
	w := &writeTx{querier: tx, lockFeed: func(ctx context.Context) error {
		if feedLocked {
			return nil
		}
		if err := lock(ctx, s.feedKey, "changefeed"); err != nil {
			return err
		}
		feedLocked = true
		return nil
	}}
	if err := fn(w); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (s *Store) inMySQLTx(ctx context.Context, gun string, fn func(*writeTx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: connecting: %w", err)
	}
	defer conn.Close()
	var held []string
	defer func() { mysqlReleaseLocks(ctx, conn, held) }() // after the rollback below
	wait := lockWait(ctx, s.lockTimeout)
	name := mysqlLockName(s.ns, "gun", gun)
	if err := mysqlGetLock(ctx, conn, name, gunLock(gun), wait); err != nil {
		return err
	}
	held = append(held, name)

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	w := &writeTx{querier: tx, lockFeed: func(ctx context.Context) error {
		if len(held) > 1 {
			return nil
		}
		if err := mysqlGetLock(ctx, tx, s.feedName, "changefeed", wait); err != nil {
			return err
		}
		held = append(held, s.feedName)
		return nil
	}}
	if err := fn(w); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (s *Store) inSQLiteTx(ctx context.Context, fn func(*writeTx) error) error {
	wait := lockWait(ctx, s.lockTimeout)
	start := time.Now()
	// Writers of this Store queue here first: SQLite lets one writer in at
	// a time, and the others would poll for the file lock with sleeps of
	// 1, 2, 5, 10 ... 100 ms (busy_timeout), idle while the lock is free.
	// busy_timeout still settles contention with other processes.
	if err := s.sqliteWriter.lock(ctx, wait); err != nil {
		return err
	}
	defer s.sqliteWriter.unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: connecting: %w", err)
	}
	defer conn.Close()
	if err := sqliteBeginImmediate(ctx, conn, max(wait-time.Since(start), time.Millisecond), wait); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			sqliteRollback(ctx, conn)
		}
	}()
	if err := fn(&writeTx{querier: conn, lockFeed: func(context.Context) error { return nil }}); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	committed = true
	return nil
}

// sqliteBeginImmediate starts a write transaction on conn, waiting up to
// wait for other writers of the file (busy_timeout is per connection, so
// it is set here rather than trusted to the DSN). timeout is what a
// *LockTimeoutError reports.
func sqliteBeginImmediate(ctx context.Context, conn *sql.Conn, wait, timeout time.Duration) error {
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+millis(wait)); err != nil {
		return fmt.Errorf("sqlstore: setting busy_timeout: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		if isLockTimeout(SQLite, err) {
			return &LockTimeoutError{Lock: "database file", Timeout: timeout}
		}
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	return nil
}

// sqliteRollback ends conn's transaction; if it cannot, the connection is
// discarded so that no later user inherits an open transaction.
func sqliteRollback(ctx context.Context, conn *sql.Conn) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		discard(conn)
	}
}

func gunLock(gun string) string { return fmt.Sprintf("gun %q", gun) }

// millis formats d in whole milliseconds, at least 1: 0 would mean "wait
// for ever" to PostgreSQL's lock_timeout and "never wait" to SQLite.
func millis(d time.Duration) string { return strconv.FormatInt(max(d.Milliseconds(), 1), 10) }

// A gate is a mutex whose lock gives up when ctx ends or after a wait.
type gate chan struct{}

func newGate() gate { return make(gate, 1) }

// lock takes g, waiting at most wait: longer is a *LockTimeoutError on the
// SQLite database file, the lock g stands in front of.
func (g gate) lock(ctx context.Context, wait time.Duration) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return &LockTimeoutError{Lock: "database file", Timeout: wait}
	}
}

func (g gate) unlock() { <-g }
