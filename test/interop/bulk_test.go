//go:build interop

package interop

import (
	"fmt"
	"strings"
	"testing"
)

// TestBulkStagingReadByV1Client: targets our client stages in one batch
// (addhash --from-file) are one v1 ".change" file each, so the v0.7.0
// client in the same trust directory lists them in order and publishes
// them.
func TestBulkStagingReadByV1Client(t *testing.T) {
	v1Bin(t)
	clientOurBin(t)
	srv := startOurServer(t)
	const gun = "example.com/interop/bulk"
	shared := t.TempDir()
	ours, v1 := clientOurs(t, srv, shared), clientUpstream(t, srv, shared)
	ours.must("init", gun, "-p")

	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "bulk-%02d %d %s\n", i, i+1, strings.Repeat(fmt.Sprintf("%02x", i), 32))
	}
	ours.must("addhash", gun, "--from-file", ours.file("list.txt", b.String()))

	out := v1.must("status", gun)
	clientHas(t, "v0.7.0 status", out,
		"0     create    targets    target    bulk-00",
		"19    create    targets    target    bulk-19")
	v1.must("publish", gun)
	clientHas(t, "status after v0.7.0 publish", ours.must("status", gun), "No unpublished changes for "+gun)
	out = ours.must("list", gun)
	clientHas(t, "list", out, "bulk-00 ", "bulk-19 ", strings.Repeat("13", 32))
}
