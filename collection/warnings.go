package collection

import "fmt"

// Warnings of applying edits (Collection.Warnings): v1 logs them and goes
// on. Match them with errors.As.

// An UnderThresholdWarning says that delegation Role is left with fewer
// keys than its Threshold: it cannot be used until keys are added.
type UnderThresholdWarning struct {
	Role      string
	Threshold int
}

func (w *UnderThresholdWarning) Error() string {
	return fmt.Sprintf("role %s has fewer keys than its threshold of %d; it will not be usable until keys are added to it", w.Role, w.Threshold)
}

// A PurgeSkippedWarning says that keys being purged were left in Role
// (and its immediate children) because none of its signing keys is
// available; Err says why.
type PurgeSkippedWarning struct {
	Role string
	Err  error
}

func (w *PurgeSkippedWarning) Error() string {
	return fmt.Sprintf("role %s contains keys being purged but you do not have the necessary keys present to sign it; keys will not be purged from %s or its immediate children", w.Role, w.Role)
}

func (w *PurgeSkippedWarning) Unwrap() error { return w.Err }
