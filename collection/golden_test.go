package collection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// The golden scenario (tuf/testdata/v1/golden/README.md) was published by
// the real v0.7.0 client. These tests replay its publishes whose signing
// keys survived (keys/testdata/v1/golden/private) from the server's files
// of the step before, and compare what we sign with what v1 uploaded.
const (
	goldenDir        = "../tuf/testdata/v1/golden"
	goldenKeysDir    = "../keys/testdata/v1/golden/private"
	goldenPassphrase = "goldenpassphrase"
)

func skipWithoutGolden(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(goldenDir, "manifest.json")); err != nil {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): no v1 golden metadata:", err)
	}
	if _, err := os.Stat(goldenKeysDir); err != nil {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): no v1 golden keys:", err)
	}
}

// goldenKeys loads every private key of the golden publisher: those left
// at the end and those rotated away (kept aside after init).
func goldenKeys(t testing.TB) *memKeys {
	t.Helper()
	m := newMemKeys()
	for _, dir := range []string{goldenKeysDir, goldenKeysDir + "-after-init"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			m.add(loadKeyFile(t, filepath.Join(dir, e.Name()), goldenPassphrase))
		}
	}
	return m
}

// versions names the server file version of each role; 0 means absent.
type versions struct{ root, targets, releases, qa, snapshot int }

func goldenFile(t testing.TB, role string, v int) []byte {
	return readFile(t, goldenDir, "server", fmt.Sprintf("%d.%s.json", v, role))
}

// goldenTrusted builds the publisher's view after a step from the server's
// files (the client's cache holds the same bytes).
func goldenTrusted(t testing.TB, v versions) collection.Trusted {
	t.Helper()
	rootFile := goldenFile(t, "root", v.root)
	root, _, err := tuf.ParseRoot(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	tr := collection.Trusted{Root: root, RootFile: rootFile, Targets: map[string]collection.TargetsFile{}}
	for role, ver := range map[string]int{"targets": v.targets, "targets/releases": v.releases, "targets/qa": v.qa} {
		if ver == 0 {
			continue
		}
		f := goldenFile(t, role, ver)
		tg, _, err := tuf.ParseTargets(f, role)
		if err != nil {
			t.Fatal(role, err)
		}
		tr.Targets[role] = collection.TargetsFile{Targets: tg, File: f}
	}
	if v.snapshot > 0 {
		tr.SnapshotFile = goldenFile(t, "snapshot", v.snapshot)
		if tr.Snapshot, _, err = tuf.ParseSnapshot(tr.SnapshotFile); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// currentVersions reads the versions of the current files from the
// manifest.
func currentVersions(t testing.TB) map[string]int {
	t.Helper()
	var m []struct {
		Role    string `json:"role"`
		Version int    `json:"version"`
		Current bool   `json:"current"`
	}
	if err := json.Unmarshal(readFile(t, goldenDir, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range m {
		if e.Current {
			out[e.Role] = e.Version
		}
	}
	return out
}

func goldenChanges(t testing.TB, step string) []changelist.Change {
	t.Helper()
	dir := filepath.Join(goldenDir, "changelist", step)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []changelist.Change
	for _, e := range ents { // ReadDir sorts by name: v1's order
		c, err := changelist.Unmarshal(readFile(t, dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		c.ID = e.Name()
		out = append(out, c)
	}
	return out
}

// rootKeyOf returns the only key of role in the golden root of version v.
func rootKeyOf(t testing.TB, v int, role string) keys.PublicKey {
	t.Helper()
	root, _, err := tuf.ParseRoot(goldenFile(t, "root", v))
	if err != nil {
		t.Fatal(err)
	}
	rk, err := root.RoleKeys(role)
	if err != nil || len(rk.KeyIDs) != 1 {
		t.Fatalf("root %d %s: %v %v", v, role, rk.KeyIDs, err)
	}
	return rk.Keys[rk.KeyIDs[0]]
}

func goldenExpires(t testing.TB, file []byte) time.Time {
	t.Helper()
	env, err := tuf.ParseEnvelope(file)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Expires time.Time }
	if err := json.Unmarshal(env.Signed, &c); err != nil {
		t.Fatal(err)
	}
	return c.Expires
}

// TestGoldenV1Publishes replays every golden publish from the server's
// files of the step before, with the same changes and keys. What we sign
// must be what v1 uploaded: the same roles, versions and signing keys,
// bodies equal byte for byte once the expiry (which counts from the
// signing time) is aligned, snapshot meta equal for the files we did not
// re-sign, and files that verify with tuf's verifier. Files signed with
// ed25519, which is deterministic, must be identical.
func TestGoldenV1Publishes(t *testing.T) {
	skipWithoutGolden(t)
	lookup := goldenKeys(t)
	tests := []struct {
		name    string
		before  versions
		changes func(t *testing.T) []changelist.Change
		want    map[string]int // role → golden version we must reproduce
		exact   string         // its expiry fixes now
		same    []string       // roles whose whole file must be identical
	}{
		{
			name:    "2 add targets",
			before:  versions{root: 1, targets: 2, snapshot: 2},
			changes: func(t *testing.T) []changelist.Change { return goldenChanges(t, "add-targets") },
			want:    map[string]int{"targets": 3, "snapshot": 3},
			exact:   "targets",
		},
		{
			name:    "3 add delegations",
			before:  versions{root: 1, targets: 3, snapshot: 3},
			changes: func(t *testing.T) []changelist.Change { return goldenChanges(t, "add-delegations") },
			want:    map[string]int{"targets": 4, "snapshot": 4},
			exact:   "targets",
		},
		{
			name:    "4 add delegated targets: new delegation metadata starts at version 1",
			before:  versions{root: 1, targets: 4, snapshot: 4},
			changes: func(t *testing.T) []changelist.Change { return goldenChanges(t, "add-delegated-targets") },
			want:    map[string]int{"targets/releases": 1, "targets/qa": 1, "snapshot": 5},
			exact:   "targets/releases",
		},
		{
			name:    "5 witness re-signs the delegation unchanged",
			before:  versions{root: 1, targets: 4, releases: 1, qa: 1, snapshot: 5},
			changes: func(t *testing.T) []changelist.Change { return goldenChanges(t, "witness") },
			want:    map[string]int{"targets/releases": 2, "snapshot": 6},
			exact:   "targets/releases",
		},
		{
			name:   "6 key rotate snapshot -r: root only, the server signs the snapshot",
			before: versions{root: 1, targets: 4, releases: 2, qa: 1, snapshot: 6},
			changes: func(t *testing.T) []changelist.Change {
				return []changelist.Change{baseRoleChange(t, "snapshot", rootKeyOf(t, 2, "snapshot"))}
			},
			want:  map[string]int{"root": 2},
			exact: "root",
		},
		{
			name:   "6 add with a server-managed snapshot: targets only",
			before: versions{root: 2, targets: 4, releases: 2, qa: 1, snapshot: 7},
			changes: func(t *testing.T) []changelist.Change {
				tg, _, err := tuf.ParseTargets(goldenFile(t, "targets", 5), "targets")
				if err != nil {
					t.Fatal(err)
				}
				c, err := changelist.NewTarget("targets", "after-server-snapshot", tg.Targets["after-server-snapshot"])
				if err != nil {
					t.Fatal(err)
				}
				return []changelist.Change{c}
			},
			want:  map[string]int{"targets": 5},
			exact: "targets",
		},
		{
			name:   "7 key rotate timestamp -r: root only",
			before: versions{root: 2, targets: 5, releases: 2, qa: 1, snapshot: 8},
			changes: func(t *testing.T) []changelist.Change {
				return []changelist.Change{baseRoleChange(t, "timestamp", rootKeyOf(t, 3, "timestamp"))}
			},
			want:  map[string]int{"root": 3},
			exact: "root",
		},
		{
			name:   "8 key rotate targets: old key dropped, targets re-signed with the new one",
			before: versions{root: 3, targets: 5, releases: 2, qa: 1, snapshot: 9},
			changes: func(t *testing.T) []changelist.Change {
				return []changelist.Change{baseRoleChange(t, "targets", rootKeyOf(t, 4, "targets"))}
			},
			want:  map[string]int{"root": 4, "targets": 6},
			exact: "targets",
			same:  []string{"targets"},
		},
		{
			name:   "9 key rotate root to rsa: old certificate kept, signed by old and new root keys",
			before: versions{root: 4, targets: 6, releases: 2, qa: 1, snapshot: 10},
			changes: func(t *testing.T) []changelist.Change {
				return []changelist.Change{baseRoleChange(t, "root", rootKeyOf(t, 5, "root"))}
			},
			want:  map[string]int{"root": 5},
			exact: "root",
		},
		{
			name:    "10 remove a target and a delegation",
			before:  versions{root: 5, targets: 6, releases: 2, qa: 1, snapshot: 11},
			changes: func(t *testing.T) []changelist.Change { return goldenChanges(t, "remove") },
			want:    map[string]int{"targets": 7},
			exact:   "targets",
			same:    []string{"targets"},
		},
		{
			name:   "11 key rotate root again: both earlier root certificates kept",
			before: versions{root: 5, targets: 7, releases: 2, snapshot: 12},
			changes: func(t *testing.T) []changelist.Change {
				return []changelist.Change{baseRoleChange(t, "root", rootKeyOf(t, 6, "root"))}
			},
			want:  map[string]int{"root": 6},
			exact: "root",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tr := goldenTrusted(t, tc.before)
			c, err := collection.FromTrusted(tr, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.ApplyChanges(ctx, tc.changes(t)); err != nil {
				t.Fatal(err)
			}
			now := goldenExpires(t, goldenFile(t, tc.exact, tc.want[tc.exact])).Add(-tuf.DefaultTTL(tc.exact))
			up, err := c.Sign(ctx, now, collection.SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstGolden(t, tr, up, tc.want, now)
			for _, role := range tc.same {
				if got, want := up[role], goldenFile(t, role, tc.want[role]); string(got) != string(want) {
					t.Errorf("%s file differs from v1's:\n got %s\nwant %s", role, got, want)
				}
			}
		})
	}
}

// TestGoldenV1Init replays "notary init -p": Init signs root, targets and
// snapshot version 1 into the cache, and the first publish uploads that
// root as is with targets and snapshot re-signed as version 2.
func TestGoldenV1Init(t *testing.T) {
	skipWithoutGolden(t)
	ctx := context.Background()
	lookup := goldenKeys(t)
	c, err := collection.Init(collection.InitOptions{
		GUN:       "example.com/golden",
		RootKeys:  []keys.PublicKey{rootKeyOf(t, 1, "root")},
		Targets:   rootKeyOf(t, 1, "targets"),
		Snapshot:  rootKeyOf(t, 1, "snapshot"),
		Timestamp: rootKeyOf(t, 1, "timestamp"),
	}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	now := goldenExpires(t, goldenFile(t, "root", 1)).Add(-tuf.DefaultRootTTL)
	local, err := c.Sign(ctx, now, collection.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(local)); !slices.Equal(got, []string{"root", "snapshot", "targets"}) {
		t.Fatalf("init signed %v, want root, snapshot, targets", got)
	}
	for role, f := range local {
		m, _, err := tuf.ParseRole(role, f)
		if err != nil {
			t.Fatal(role, err)
		}
		if v := m.Common().Version; v != 1 {
			t.Errorf("init: %s version %d, want 1", role, v)
		}
	}
	sameBody(t, "root", local["root"], goldenFile(t, "root", 1), now.Add(tuf.DefaultRootTTL))
	sameSigners(t, "root", local["root"], goldenFile(t, "root", 1))

	// The first publish, from the cached files.
	tr := trustedFromFiles(t, local)
	c2, err := collection.FromTrusted(tr, lookup)
	if err != nil {
		t.Fatal(err)
	}
	now = goldenExpires(t, goldenFile(t, "targets", 2)).Add(-tuf.DefaultTargetsTTL)
	up, err := c2.Sign(ctx, now, collection.SignOptions{InitialPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(up["root"]) != string(local["root"]) {
		t.Error("first publish did not upload the cached root as is")
	}
	delete(up, "root") // not re-signed: checkAgainstGolden would want v2
	checkAgainstGolden(t, tr, up, map[string]int{"targets": 2, "snapshot": 2}, now, "root")
}

// checkAgainstGolden compares an upload with v1's files of the versions
// in want (see TestGoldenV1Publishes). ours names roles whose current
// file we signed earlier, beyond those uploaded.
func checkAgainstGolden(t *testing.T, before collection.Trusted, up map[string][]byte, want map[string]int, now time.Time, ours ...string) {
	t.Helper()
	if got, w := slices.Sorted(mapKeys(up)), slices.Sorted(mapKeys(want)); !slices.Equal(got, w) {
		t.Fatalf("uploaded roles = %v, want %v", got, w)
	}
	verifyUpload(t, before, up, now)
	for role, v := range want {
		gf := goldenFile(t, role, v)
		if role == "snapshot" {
			signed := map[string]bool{}
			for r := range up {
				signed[r] = true
			}
			for _, r := range ours {
				signed[r] = true
			}
			sameSnapshot(t, up[role], gf, signed, now.Add(tuf.DefaultSnapshotTTL))
		} else {
			sameBody(t, role, up[role], gf, now.Add(tuf.DefaultTTL(role)))
		}
		sameSigners(t, role, up[role], gf)
	}
}

// sameSnapshot compares snapshots: same version, roles and lengths; same
// hashes for files v1 and we share (those not re-signed in this publish:
// our signatures differ from v1's, ECDSA being randomised).
func sameSnapshot(t *testing.T, got, want []byte, ours map[string]bool, wantExpires time.Time) {
	t.Helper()
	g, _, err := tuf.ParseSnapshot(got)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := tuf.ParseSnapshot(want)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != w.Version || !g.Expires.Equal(wantExpires) {
		t.Errorf("snapshot version %d expires %s, want %d and %s", g.Version, g.Expires, w.Version, wantExpires)
	}
	if gk, wk := slices.Sorted(mapKeys(g.Meta)), slices.Sorted(mapKeys(w.Meta)); !slices.Equal(gk, wk) {
		t.Fatalf("snapshot lists %v, v1's %v", gk, wk)
	}
	for role, wm := range w.Meta {
		gm := g.Meta[role]
		if gm.Length != wm.Length {
			t.Errorf("snapshot: %s length %d, v1 %d", role, gm.Length, wm.Length)
		}
		if ours[role] {
			continue
		}
		if gm.SHA256Hex() != wm.SHA256Hex() || string(gm.Hashes["sha512"]) != string(wm.Hashes["sha512"]) {
			t.Errorf("snapshot: %s hashes differ from v1's for a file we did not re-sign", role)
		}
	}
}

// trustedFromFiles parses a set of files as the update workflow would.
func trustedFromFiles(t testing.TB, files map[string][]byte) collection.Trusted {
	t.Helper()
	var tr collection.Trusted
	tr.Targets = map[string]collection.TargetsFile{}
	var err error
	for role, f := range files {
		switch {
		case role == "root":
			tr.Root, _, err = tuf.ParseRoot(f)
			tr.RootFile = f
		case role == "snapshot":
			tr.Snapshot, _, err = tuf.ParseSnapshot(f)
			tr.SnapshotFile = f
		case role == "timestamp":
			tr.Timestamp, _, err = tuf.ParseTimestamp(f)
			tr.TimestampFile = f
		default:
			var tg *tuf.Targets
			tg, _, err = tuf.ParseTargets(f, role)
			tr.Targets[role] = collection.TargetsFile{Targets: tg, File: f}
		}
		if err != nil {
			t.Fatal(role, err)
		}
	}
	return tr
}

// TestGoldenV1AddTargetToCurrent loads the final golden state, adds a
// target to targets and one to targets/releases, signs with the v1-made
// keys, and checks the result as v1 would have produced it: versions +1,
// expiries now + 3 years, no root (not dirty, far from expiry), no
// snapshot (server-managed since the snapshot key rotation).
func TestGoldenV1AddTargetToCurrent(t *testing.T) {
	skipWithoutGolden(t)
	ctx := context.Background()
	cur := currentVersions(t)
	tr := goldenTrusted(t, versions{root: cur["root"], targets: cur["targets"], releases: cur["targets/releases"], snapshot: cur["snapshot"]})
	c, err := collection.FromTrusted(tr, goldenKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := tuf.NewFileMeta([]byte("new content\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddTarget(ctx, "targets", "new-target", meta); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTarget(ctx, "targets/releases", "release-2.0", meta); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 21, 11, 1, 0, time.UTC)
	up, err := c.Sign(ctx, now, collection.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(up)); !slices.Equal(got, []string{"targets", "targets/releases"}) {
		t.Fatalf("uploaded %v, want targets and targets/releases", got)
	}
	verifyUpload(t, tr, up, now)
	for role, v := range map[string]int{"targets": cur["targets"], "targets/releases": cur["targets/releases"]} {
		got, _, err := tuf.ParseTargets(up[role], role)
		if err != nil {
			t.Fatal(err)
		}
		old, _, _ := tuf.ParseTargets(goldenFile(t, role, v), role)
		if got.Version != old.Version+1 || !got.Expires.Equal(now.Add(tuf.DefaultTargetsTTL)) {
			t.Errorf("%s version %d expires %s, want %d and %s", role, got.Version, got.Expires, old.Version+1, now.Add(tuf.DefaultTargetsTTL))
		}
		// Everything but the new target, the version and the expiry is
		// what v1 published.
		name := map[string]string{"targets": "new-target", "targets/releases": "release-2.0"}[role]
		delete(got.Targets, name)
		got.Version, got.Expires = old.Version, old.Expires
		gb, _ := tuf.CanonicalSigned(got)
		wb, _ := tuf.CanonicalSigned(old)
		if string(gb) != string(wb) {
			t.Errorf("%s body changed beyond the new target:\n got %s\nwant %s", role, gb, wb)
		}
	}
	// And the collection now holds what it uploaded.
	if f, _ := c.File("targets"); string(f) != string(up["targets"]) {
		t.Error("collection does not hold the signed targets file")
	}
}

func baseRoleChange(t testing.TB, role string, pubs ...keys.PublicKey) changelist.Change {
	t.Helper()
	c, err := changelist.NewBaseRoleKeys(role, pubs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mapKeys[V any](m map[string]V) iter.Seq[string] { return maps.Keys(m) }

// sameBody checks our signed body equals v1's once expires is aligned, and
// that ours expires at wantExpires.
func sameBody(t *testing.T, role string, got, want []byte, wantExpires time.Time) {
	t.Helper()
	gm := signedMap(t, got)
	wm := signedMap(t, want)
	exp, err := time.Parse(time.RFC3339Nano, gm["expires"].(string))
	if err != nil || !exp.Equal(wantExpires) {
		t.Errorf("%s expires %v, want %s", role, gm["expires"], wantExpires.Format(time.RFC3339Nano))
	}
	gm["expires"] = wm["expires"]
	gb, err := canonicaljson.Marshal(gm)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := canonicaljson.Marshal(wm)
	if string(gb) != string(wb) {
		t.Errorf("%s body differs from v1's:\n got %s\nwant %s", role, gb, wb)
	}
}

func signedMap(t *testing.T, file []byte) map[string]any {
	t.Helper()
	env, err := tuf.ParseEnvelope(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(env.Signed)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameSigners checks both files are signed by the same key IDs with the
// same methods.
func sameSigners(t *testing.T, role string, got, want []byte) {
	t.Helper()
	ids := func(f []byte) []string {
		env, err := tuf.ParseEnvelope(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range env.Signatures {
			out = append(out, s.KeyID+"/"+s.Method)
		}
		slices.Sort(out)
		return out
	}
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		t.Errorf("%s signed by %v, v1 by %v", role, g, w)
	}
}
