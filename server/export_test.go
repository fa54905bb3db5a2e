package server

import "time"

// SetBeforeCommit installs a hook that runs between an update's
// validation and its store write (nil removes it). Tests only.
func SetBeforeCommit(s *Server, f func(gun string)) { s.beforeCommit = f }

// WritersQueued reports how many requests hold or wait for gun's writer
// lock on s. Tests only.
func WritersQueued(s *Server, gun string) int {
	s.writers.mu.Lock()
	defer s.writers.mu.Unlock()
	if e := s.writers.m[gun]; e != nil {
		return e.refs
	}
	return 0
}

// GzipCompressions reports how many times s has gzipped a file. Tests only.
func GzipCompressions(s *Server) int64 { return s.gz.compressions.Load() }

// SetReadCacheClock replaces the clock the read cache ages entries by.
// Tests only.
func SetReadCacheClock(s *Server, now func() time.Time) { s.store.(*readCache).now = now }

// ReadCacheMisses reports how many cacheable reads of a current
// timestamp went to the database. Tests only.
func ReadCacheMisses(s *Server) int64 { return s.store.(*readCache).misses.Load() }
