// Package v1import copies the data of a Notary v0.7.0 notary-server
// database into a notary-go database, so that an existing deployment can
// switch binaries without losing a collection or a changefeed position.
//
// # Source
//
// The source is the database upstream's golang-migrate files created
// (migrations/server/{mysql,postgresql}; protocol §8.1, §8.2): tables
// tuf_files and changefeed. It is only read. Rows of tuf_files that GORM
// soft-deleted (deleted_at IS NOT NULL) are skipped, as upstream never
// served them. SQLite sources (GORM AutoMigrate, upstream's tests only)
// are accepted too.
//
// Upstream's PostgreSQL columns are "timestamp" without a zone, holding the
// wall clock of whoever wrote them (the notary-server process for
// tuf_files, the database session for changefeed); Options.SourceLocation
// says which zone that was (UTC by default). MySQL "timestamp" columns
// carry their zone and need nothing.
//
// # Destination
//
// The destination is a notary-go database of any dialect (SQLite,
// PostgreSQL, MySQL/MariaDB), migrated by sqlstore.Migrate; it cannot be
// the source database itself, whose tables have the same names. Files are
// copied byte for byte with their creation times, their SHA-256 recomputed
// from the bytes. Changefeed rows keep their ids, so a consumer that paged
// upstream's feed up to change N continues after N on the new servers;
// PostgreSQL's id sequence is moved past the imported ids.
//
// # Idempotence and consistency
//
// A collection (GUN) is imported in one transaction: all of its missing
// files or none. A file already present with the same bytes is skipped, so
// an import can be re-run to catch up with an upstream server still in
// use. A file present with other bytes is a conflict: that GUN is left
// alone and reported, and the import fails. Changefeed rows are matched by
// id the same way; a source row that would land before a newer row the
// destination already has (written by notary-go servers after a previous
// import) is a conflict too, since readers paging the feed by id would
// never see it. Import before the new servers start writing, or re-run
// only while they are stopped.
//
// # Verification
//
// Verify checks one collection the way a client without a cache would,
// from its own first root: the chain of stored roots, then the timestamp,
// snapshot, targets and delegations by hash (update.Updater), at a given
// time. A collection whose only problem is expired metadata, which the
// import cannot change and which the server re-signs on the next read for
// the roles whose keys it holds, is reported as StatusExpired rather than
// StatusFailed.
package v1import
