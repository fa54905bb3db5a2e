package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/storage"
)

var _ storage.MetaStore = (*Store)(nil)

// DefaultLockTimeout is how long a write waits, by default, for another
// writer of the same GUN.
const DefaultLockTimeout = 30 * time.Second

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Now returns the time written to created_at and updated_at; nil means
	// time.Now. Times are stored in UTC, truncated to microseconds.
	Now func() time.Time
	// LockTimeout bounds how long a write waits for another writer of the
	// same GUN, or for the changefeed: PostgreSQL lock_timeout, MySQL
	// GET_LOCK, SQLite busy_timeout. 0 means DefaultLockTimeout. A sooner
	// context deadline wins. A wait that runs out fails the write with a
	// *LockTimeoutError.
	LockTimeout time.Duration
	// SkipMigrate makes Open only check that the schema is current (and fail
	// with a *SchemaVersionError otherwise), for deployments that run
	// Migrate separately with a more privileged database user.
	SkipMigrate bool
}

// A Store is a storage.MetaStore on a SQL database, safe for concurrent use
// by many goroutines and by many processes sharing the database.
type Store struct {
	db          *sql.DB
	dialect     Dialect
	now         func() time.Time
	lockTimeout time.Duration
	q           queries
	ns          string // lock namespace, see locks.go
	feedKey     int64  // PostgreSQL changefeed lock
	feedName    string // MySQL changefeed lock
	// SQLite only: the read statements, prepared once per connection
	// (parsing and planning cost more than the indexed read itself), and
	// the gate this Store's writers queue at (see inSQLiteTx).
	stmts        map[string]*sql.Stmt
	sqliteWriter gate
	detachReads  bool // see queryRow
}

// Open migrates db's schema to the newest embedded version (see Migrate)
// unless opts.SkipMigrate, and returns a Store on it.
//
// db must have been opened with d's driver; Open imports no driver itself
// (package drivers does). For SQLite the DSN should set
// _pragma=journal_mode(WAL), _pragma=busy_timeout(5000) and
// _pragma=foreign_keys(1), as drivers.Open does. For PostgreSQL the schema
// is the first existing one of search_path; for MySQL the DSN must name a
// database and should set parseTime=true.
//
// On success the Store owns db: Close closes it.
func Open(ctx context.Context, db *sql.DB, d Dialect, opts Options) (*Store, error) {
	if err := d.valid(); err != nil {
		return nil, err
	}
	if opts.SkipMigrate {
		if err := CheckSchema(ctx, db, d); err != nil {
			return nil, err
		}
	} else if err := Migrate(ctx, db, d); err != nil {
		return nil, err
	}
	ns, err := namespace(ctx, db, d)
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:          db,
		dialect:     d,
		now:         opts.Now,
		lockTimeout: opts.LockTimeout,
		q:           newQueries(d),
		ns:          ns,
		feedKey:     pgLockKey(ns, "changefeed", ""),
		feedName:    mysqlLockName(ns, "changefeed", ""),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lockTimeout <= 0 {
		s.lockTimeout = DefaultLockTimeout
	}
	if d == SQLite {
		// PostgreSQL needs no prepared statements here: pgx caches them per
		// connection by itself. MySQL reads are one round trip each with
		// interpolateParams; server-side statements would add round trips.
		s.sqliteWriter = newGate()
		s.stmts = map[string]*sql.Stmt{}
		for _, q := range []string{s.q.current, s.q.byVersion, s.q.byChecksum} {
			st, err := db.PrepareContext(ctx, q)
			if err != nil {
				s.closeStmts()
				return nil, fmt.Errorf("sqlstore: preparing %q: %w", q, err)
			}
			s.stmts[q] = st
		}
		s.detachReads = db.Stats().MaxOpenConnections != 1
	}
	return s, nil
}

// Close closes the *sql.DB the Store was opened on.
func (s *Store) Close() error {
	s.closeStmts()
	return s.db.Close()
}

func (s *Store) closeStmts() {
	for _, st := range s.stmts {
		st.Close()
	}
}

// queryRow runs query through its prepared statement when there is one.
//
// Such a read (SQLite: an index seek in a local file, which in WAL mode
// never waits for writers) runs detached from ctx's cancellation once ctx
// is checked: database/sql would otherwise start a goroutine per query to
// watch ctx, which costs more than the read (BenchmarkServer/sqlite/Get*).
// A lock wait, should one happen, is still bounded by busy_timeout. Not
// with a pool of one connection (an in-memory database), where a read may
// wait for a whole write transaction and must stay cancellable.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.stmts[query]; ok {
		if s.detachReads && ctx.Err() == nil {
			ctx = context.WithoutCancel(ctx)
		}
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// Dialect returns the store's SQL dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping implements storage.MetaStore: it checks that the database answers
// and that the tuf_files table is there, as upstream's health check did.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer wrapBackend("Ping", &err)
	var id int64
	err = s.db.QueryRowContext(ctx, "SELECT id FROM tuf_files LIMIT 1").Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: database not operational: %w", err)
	}
	return nil
}

// timestamp is the time to record for a write: UTC, in microseconds, the
// precision every engine keeps.
func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
