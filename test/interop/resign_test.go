//go:build interop

package interop

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestResignUpstreamCollection: a collection made by the v0.7.0 client
// (root, targets, its snapshot key, a delegation) is re-signed by our
// `notary resign` from the same trust directory, and both a v0.7.0 client
// that shares the trust directory and a fresh one read it afterwards.
func TestResignUpstreamCollection(t *testing.T) {
	v1Bin(t)
	clientOurBin(t)
	srv := startOurServer(t)
	const gun = "example.com/resign/upstream"
	shared := t.TempDir()
	up, ours := clientUpstream(t, srv, shared), clientOurs(t, srv, shared)
	f := up.file("a.txt", "made by v0.7.0\n")

	up.must("init", gun, "-p")
	up.must("add", gun, "v1-target", f, "-p")
	dir := t.TempDir()
	ours.must("key", "generate", "ecdsa", "--role", "targets/team", "-o", filepath.Join(dir, "team"))
	up.must("delegation", "add", gun, "targets/team", filepath.Join(dir, "team.pem"), "--all-paths", "-p")
	ours.must("key", "import", filepath.Join(dir, "team-key.pem"))
	ours.must("add", gun, "team/x", f, "-r", "targets/team", "-p")

	versions := func() map[string]int64 {
		t.Helper()
		var rows []struct {
			Role    string `json:"role"`
			Version int64  `json:"version"`
			KeyHeld bool   `json:"key_held"`
		}
		out := ours.must("expiry", gun, "-o", "json")
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("expiry -o json: %v\n%s", err, out)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Role] = r.Version
		}
		return m
	}
	before := versions()
	// Targets, the delegation and the snapshot last three years, root ten:
	// a window of 1200 days makes all but root due.
	out := ours.must("resign", gun, "--within", "1200d")
	clientHas(t, "resign", out, "re-signed and published", "targets/team", "snapshot")
	after := versions()
	for _, role := range []string{"targets", "targets/team", "snapshot"} {
		if after[role] <= before[role] {
			t.Errorf("%s: version %d after resign, %d before", role, after[role], before[role])
		}
	}
	if after["root"] != before["root"] {
		t.Errorf("root re-signed although not due: %d -> %d", before["root"], after["root"])
	}
	// The upstream client reads the re-signed collection, from the shared
	// trust directory and from a fresh one, and can still publish to it.
	clientHas(t, "v0.7.0 list (shared)", up.must("list", gun), "v1-target ", "team/x ")
	fresh := clientUpstream(t, srv, "")
	clientHas(t, "v0.7.0 list (fresh)", fresh.must("list", gun), "v1-target ", "team/x ")
	up.must("add", gun, "after-resign", f, "-p")
	clientHas(t, "v0.7.0 list after its publish", fresh.must("list", gun), "after-resign ")
}
