package update

import "fmt"

// Warnings of an update (Verified.Warnings): problems that did not stop it.
// Each is a typed value, so callers choose what to show with errors.As
// instead of matching text. Besides these, Verified.Warnings can hold a
// *RoleError (a cached file ignored as a version floor) and the errors of
// the Cache.

// A SkippedDelegationWarning says that a delegation's metadata was
// expired, under-signed or malformed and was skipped (v1 §4.4 step 4: the
// role is treated as absent). Verified.Invalid lists the same roles.
type SkippedDelegationWarning struct {
	Role string
	Err  error
}

func (w *SkippedDelegationWarning) Error() string {
	return fmt.Sprintf("update: skipping invalid delegation %s: %v", w.Role, w.Err)
}

func (w *SkippedDelegationWarning) Unwrap() error { return w.Err }

// A RetryWarning says that the update failed with Err and was retried
// once after a root update (v1 §4.4 step 6).
type RetryWarning struct{ Err error }

func (w *RetryWarning) Error() string { return fmt.Sprintf("%v; retrying after a root update", w.Err) }

func (w *RetryWarning) Unwrap() error { return w.Err }

// A KeysRotatedWarning says that root version RootVersion rotated the
// keys of Role, so the cached Role metadata was discarded.
type KeysRotatedWarning struct {
	Role        string
	RootVersion int64
}

func (w *KeysRotatedWarning) Error() string {
	return fmt.Sprintf("update: %s keys were rotated in root version %d; discarding the cached %s", w.Role, w.RootVersion, w.Role)
}

// A CachedTimestampWarning says that the remote timestamp could not be
// read (Err: the server unreachable, or 404 or 5xx) and the cached one,
// still valid, was used (v1 §4.4 step 2).
type CachedTimestampWarning struct {
	File string
	Err  error
}

func (w *CachedTimestampWarning) Error() string {
	return fmt.Sprintf("update: using the cached timestamp, which may not be the newest (%s: %v)", w.File, w.Err)
}

func (w *CachedTimestampWarning) Unwrap() error { return w.Err }

// A CacheWriteWarning says that verified metadata of Role could not be
// written to the cache (it is used all the same).
type CacheWriteWarning struct {
	Role string
	Err  error
}

func (w *CacheWriteWarning) Error() string {
	return fmt.Sprintf("update: not caching %s: %v", w.Role, w.Err)
}

func (w *CacheWriteWarning) Unwrap() error { return w.Err }
