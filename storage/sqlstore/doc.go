// Package sqlstore is the storage.MetaStore on a SQL database: SQLite
// (modernc.org/sqlite, the embedded default), PostgreSQL (pgx) or MySQL /
// MariaDB (go-sql-driver/mysql), through database/sql.
//
// The package imports no driver: callers open a *sql.DB with the driver of
// their choice and pass it to Open with its Dialect. Package drivers does
// that from upstream's storage.backend and storage.db_url settings, and is
// what cmd/ and tests import.
//
// Tables keep upstream's names and columns (tuf_files, change_category,
// changefeed; protocol §8) so that upstream data can be imported; schema
// changes are embedded migrations (migrations/<dialect>/NNNN_name.sql)
// applied by Migrate, recorded in notary_schema_migrations.
//
// SQLite DSNs should enable WAL and a busy timeout, e.g.
//
//	file:/var/lib/notary/server.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)
//
// Writes do not depend on them: every write transaction is BEGIN IMMEDIATE
// with its own busy_timeout (Options.LockTimeout), so a _txlock setting is
// not needed. Reads rely on WAL not to wait for writers.
//
// Concurrency: see locks.go. In short, writers of one GUN take a per-GUN
// lock before checking versions, and changefeed ids follow commit order.
package sqlstore
