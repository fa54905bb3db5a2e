// Package memtest measures heap growth for tests that bound the memory
// an operation may take (hostile input: issue 10).
package memtest

import (
	"runtime"
	"sync"
)

// PeakHeap runs f and returns the largest growth of runtime.MemStats
// HeapAlloc over its value before f (after a GC), sampled from another
// goroutine while f runs. HeapAlloc includes garbage not yet collected,
// so bounds on it need a margin; the race detector's own allocations
// distort it (see RaceEnabled).
func PeakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
				peak = ms.HeapAlloc - base
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak
}
