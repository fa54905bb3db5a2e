package changelist

import "time"

// SetClock replaces the clock a list names changes with.
func SetClock(l List, now func() time.Time) {
	switch l := l.(type) {
	case *FileList:
		l.clock.mu.Lock()
		l.clock.now = now
		l.clock.mu.Unlock()
	case *Memory:
		l.clock.mu.Lock()
		l.clock.now = now
		l.clock.mu.Unlock()
	}
}
