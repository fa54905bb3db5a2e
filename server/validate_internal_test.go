package server

import (
	"testing"

	"github.com/notary-go/notary/tuf"
)

// TestSameFileMeta pins sameFileMeta's answers now that it compares hashes
// in constant time (tuf.CheckFileMeta's convention).
func TestSameFileMeta(t *testing.T) {
	a := mustFileMeta([]byte("one"))
	b := mustFileMeta([]byte("two"))
	short := tuf.FileMeta{Length: a.Length, Hashes: map[string][]byte{tuf.SHA256: a.Hashes[tuf.SHA256], tuf.SHA512: a.Hashes[tuf.SHA512][:10]}}
	missing := tuf.FileMeta{Length: a.Length, Hashes: map[string][]byte{tuf.SHA256: a.Hashes[tuf.SHA256], "md5": a.Hashes[tuf.SHA512]}}
	for _, tc := range []struct {
		name string
		x, y tuf.FileMeta
		want bool
	}{
		{"same", a, mustFileMeta([]byte("one")), true},
		{"different data", a, b, false},
		{"different length", a, tuf.FileMeta{Length: a.Length + 1, Hashes: a.Hashes}, false},
		{"truncated hash", a, short, false},
		{"other algorithm", a, missing, false},
		{"no hashes", tuf.FileMeta{Length: 1}, tuf.FileMeta{Length: 1}, true},
	} {
		if got := sameFileMeta(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: sameFileMeta = %v, want %v", tc.name, got, tc.want)
		}
	}
}
