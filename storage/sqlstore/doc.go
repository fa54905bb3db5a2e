// Package sqlstore is the storage.MetaStore on a SQL database: SQLite
// (modernc.org/sqlite, the embedded default), PostgreSQL (pgx) or MySQL /
// MariaDB (go-sql-driver/mysql), through database/sql.
//
// # Drivers
//
// The package imports no driver: callers open a *sql.DB with the driver of
// their choice and pass it to Open with its Dialect. Package drivers does
// that from upstream's storage.backend and storage.db_url settings; cmd/
// and tests import it, library code does not.
//
// # Schema
//
// Tables keep upstream's names and columns (tuf_files, change_category,
// changefeed; protocol §8) so that upstream data can be imported, with
// 64-bit ids and versions. Schema changes are embedded migrations
// (migrations/<dialect>/NNNN_name.sql) applied by Migrate, which Open runs
// unless Options.SkipMigrate, and recorded in notary_schema_migrations.
// Migrate is safe when several instances start at once.
//
// # Concurrency
//
// Writers of one GUN exclude each other with a per-GUN lock taken before
// the version check (PostgreSQL pg_advisory_xact_lock, MySQL GET_LOCK,
// SQLite BEGIN IMMEDIATE), so of two servers storing the same next
// timestamp exactly one succeeds and the other gets storage.ErrOldVersion;
// the unique index on (gun, role, version) backs this up. Changefeed rows
// are appended under one more lock held until commit, so that changefeed
// ids follow commit order and a reader paging with "after id N" never skips
// a row that committed late. That serialises the commits of
// timestamp-writing transactions, which are few. A writer that waits longer
// than Options.LockTimeout gives up with a *LockTimeoutError. Reads take no
// locks.
//
// # SQLite
//
// DSNs should enable WAL (so that reads do not wait for the writer), a busy
// timeout and foreign keys, as drivers.Open does by default:
//
//	/var/lib/notary/server.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)
//
// Writes do not depend on the DSN: each write transaction sets its own
// busy_timeout and starts with BEGIN IMMEDIATE itself, so _txlock is not
// needed. Several processes may share one file.
package sqlstore
