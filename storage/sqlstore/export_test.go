package sqlstore

import "context"

// Test hooks, compiled only into this package's tests.

// HoldWriteLock runs fn inside a write transaction holding gun's write lock.
func HoldWriteLock(ctx context.Context, s *Store, gun string, fn func()) error {
	return s.inWriteTx(ctx, gun, func(*writeTx) error { fn(); return nil })
}

var (
	IsUniqueViolation = isUniqueViolation
	SplitStatements   = splitStatements
	MigrationsTable   = migrationsTable
)
