//go:build race

package memtest

// RaceEnabled reports whether the race detector is on: heap figures are
// then not representative, and memory tests skip.
const RaceEnabled = true
