package tuf

import (
	"bytes"
	"testing"

	"github.com/notary-go/notary/internal/memtest"
)

// TestParseMemoryBounded: parsing a 50 MiB file whose "signed" carries
// "x":[{},{},...] costs about its size, whatever the role: unknown members
// are checked but never built (issue 10 item 1; a generic tree cost about
// 30 bytes per byte). The client reads metadata through these parsers.
func TestParseMemoryBounded(t *testing.T) {
	if testing.Short() || memtest.RaceEnabled {
		t.Skip("50 MiB inputs; heap figures need the race detector off")
	}
	const size = 50 << 20
	for _, tc := range []struct {
		role, typ string
		parse     func([]byte) error
	}{
		{RoleRoot, TypeRoot, func(b []byte) error { _, _, err := ParseRoot(b); return err }},
		{RoleTargets, TypeTargets, func(b []byte) error { _, _, err := ParseTargets(b, RoleTargets); return err }},
		{RoleSnapshot, TypeSnapshot, func(b []byte) error { _, _, err := ParseSnapshot(b); return err }},
		{RoleTimestamp, TypeTimestamp, func(b []byte) error { _, _, err := ParseTimestamp(b); return err }},
	} {
		t.Run(tc.role, func(t *testing.T) {
			var b bytes.Buffer
			b.Grow(size + 256)
			b.WriteString(`{"signed":{"_type":"` + tc.typ + `","version":2,"expires":"2030-01-01T00:00:00Z","x":[{}`)
			for b.Len() < size {
				b.WriteString(`,{}`)
			}
			b.WriteString(`]},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}`)
			data := b.Bytes()
			var err error
			peak := memtest.PeakHeap(func() { err = tc.parse(data) })
			t.Logf("%s: %d bytes, peak heap growth %d (%.1fx), err %v", tc.role, len(data), peak, float64(peak)/float64(len(data)), err)
			if limit := uint64(3 * len(data)); peak > limit {
				t.Errorf("peak heap growth %d bytes, want at most %d (3x the input)", peak, limit)
			}
		})
	}
}
