package signer

import (
	"fmt"
	"testing"
	"time"

	"github.com/notary-go/notary/tuf"
)

// testBody is the canonical "signed" body of a timestamp or snapshot, as
// a notary-server sends it to Sign: version, expiring ttl from now, with
// extra meta entries for other roles (to make large bodies).
func testBody(t testing.TB, role string, version int64, ttl time.Duration, extra int) []byte {
	t.Helper()
	meta := map[string]tuf.FileMeta{}
	fm := tuf.FileMeta{Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}
	var body any
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	switch role {
	case tuf.RoleTimestamp:
		meta[tuf.RoleSnapshot] = fm
		body = &tuf.Timestamp{Type: tuf.TypeOf(role), Version: version, Expires: expires, Meta: meta}
	case tuf.RoleSnapshot:
		meta[tuf.RoleRoot], meta[tuf.RoleTargets] = fm, fm
		for i := range extra {
			meta[fmt.Sprintf("targets/role%06d", i)] = fm
		}
		body = &tuf.Snapshot{Type: tuf.TypeOf(role), Version: version, Expires: expires, Meta: meta}
	default:
		t.Fatalf("testBody: role %s", role)
	}
	b, err := tuf.CanonicalSigned(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tsBody is a valid timestamp body of version 1.
func tsBody(t testing.TB) []byte { return testBody(t, tuf.RoleTimestamp, 1, 14*24*time.Hour, 0) }

// snBody is a valid snapshot body of version 1.
func snBody(t testing.TB) []byte { return testBody(t, tuf.RoleSnapshot, 1, 3*365*24*time.Hour, 0) }
