package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fixedClock is a clock for the server and the CLIs, moved by the test.
type fixedClock struct{ offset atomic.Int64 }

var clockBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *fixedClock) now() time.Time      { return clockBase.Add(time.Duration(c.offset.Load())) }
func (c *fixedClock) set(d time.Duration) { c.offset.Store(int64(d)) }

const day = 24 * time.Hour

func expiryJSON(t *testing.T, r result) []expiryRow {
	t.Helper()
	var rows []expiryRow
	if err := json.Unmarshal([]byte(r.out), &rows); err != nil {
		t.Fatalf("expiry -o json: %v\n%s", err, r)
	}
	return rows
}

func findRow(t *testing.T, rows []expiryRow, gun, role string) expiryRow {
	t.Helper()
	for _, r := range rows {
		if r.GUN == gun && r.Role == role {
			return r
		}
	}
	t.Fatalf("no row for %s %s in %+v", gun, role, rows)
	return expiryRow{}
}

// TestExpiryAndResign: two collections made 200 days apart, one with a
// delegation, are listed soonest first, fail the --within check as their
// targets near expiry (three years), and `resign --all` renews exactly the
// roles due, in that order, after which consumers still read them.
func TestExpiryAndResign(t *testing.T) {
	var clk fixedClock
	srv := newTestServerAt(t, clk.now)
	c := newCLI(t, srv.URL)
	c.now = clk.now
	consumer := newCLI(t, srv.URL)
	consumer.now = clk.now
	f := writeFile(t, filepath.Join(c.home, "f.txt"), "f")
	const ga, gb = "example.com/a", "example.com/b"

	c.ok("init", "-p", ga)
	clk.set(200 * day)
	c.ok("init", "-p", gb)
	relBase := filepath.Join(c.home, "releases")
	c.ok("key", "generate", "ecdsa", "--role", "targets/releases", "-o", relBase)
	c.ok("key", "import", relBase+"-key.pem")
	c.ok("delegation", "add", gb, "targets/releases", relBase+".pem", "--all-paths", "-p")
	c.ok("add", gb, "rel", f, "-r", "targets/releases", "-p")

	// Nearly three years after a was made: its targets and snapshot
	// expire in 20 days.
	clk.set(3*365*day - 20*day)
	r := c.ok("expiry", "-o", "json")
	rows := expiryJSON(t, r)
	if len(rows) != 9 {
		t.Fatalf("want 9 roles (a: 4, b: 5), got %d: %s", len(rows), r.out)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].Expires < rows[i-1].Expires {
			t.Errorf("not sorted soonest first: %s before %s", rows[i-1].Expires, rows[i].Expires)
		}
	}
	at := findRow(t, rows, ga, "targets")
	if at.ResignedBy != "publisher" || !at.KeyHeld || at.Due || at.SecondsLeft > int64(20*day/time.Second) {
		t.Errorf("a targets: %+v", at)
	}
	if ts := findRow(t, rows, ga, "timestamp"); ts.ResignedBy != "server" {
		t.Errorf("timestamp: %+v", ts)
	}
	if snap := findRow(t, rows, ga, "snapshot"); snap.ResignedBy != "publisher" || !snap.KeyHeld {
		t.Errorf("client-held snapshot: %+v", snap)
	}
	if d := findRow(t, rows, gb, "targets/releases"); d.ResignedBy != "publisher" || !d.KeyHeld || d.Version < 1 {
		t.Errorf("delegation: %+v", d)
	}

	r = c.run("expiry", "--within", "30d")
	if r.code == 0 {
		t.Fatalf("expiry --within 30d passed with targets due in 20 days: %s", r)
	}
	mustContain(t, "expiry --within table", r.out, "example.com/a", "REMAINING", "20d 0h")
	mustContain(t, "expiry --within error", r.err, "2 role(s) must be re-signed within 30d")
	// The timestamp expires sooner than 10 days, but the server renews it.
	c.ok("expiry", "--within", "10d")
	c.ok("expiry", "--within", "480h")
	// A consumer holds no keys: it sees who must act.
	r = consumer.ok("expiry", ga, gb)
	mustContain(t, "consumer table", r.out, "publisher (key not here)")

	r = c.ok("resign", "--all")
	mustContain(t, "resign", r.out, ga+": re-signed and published snapshot, targets\n", gb+": nothing expires within 30d\n")
	rows = expiryJSON(t, c.ok("expiry", "--within", "30d", "-o", "json", ga))
	if got := findRow(t, rows, ga, "targets"); got.Version <= at.Version || got.Due {
		t.Errorf("after resign, targets is %+v (was %+v)", got, at)
	}
	consumer.ok("list", ga)

	// Five days before b's roles expire: the delegation is re-signed too,
	// and its targets stay visible.
	clk.set(200*day + 3*365*day - 5*day)
	r = c.run("expiry", "--within", "7d", "-o", "json", gb)
	if r.code == 0 {
		t.Fatalf("want failure: %s", r)
	}
	r = c.ok("resign", gb, "--within", "7d")
	mustContain(t, "resign b", r.out, "targets/releases")
	r = consumer.ok("list", gb)
	mustContain(t, "list b", r.out, "rel ")
	c.ok("expiry", "--within", "7d", gb)
}

// TestExpiryListsExpired: a collection whose targets have expired is still
// listed (verified as of just before), with negative time left.
func TestExpiryListsExpired(t *testing.T) {
	var clk fixedClock
	srv := newTestServerAt(t, clk.now)
	c := newCLI(t, srv.URL)
	c.now = clk.now
	c.ok("init", "-p", gun)
	clk.set(3*365*day + 2*day)
	r := c.run("expiry", "-o", "json", "--within", "1d", gun)
	if r.code == 0 {
		t.Fatalf("want failure: %s", r)
	}
	rows := expiryJSON(t, r)
	if tg := findRow(t, rows, gun, "targets"); tg.SecondsLeft >= 0 || !tg.Due {
		t.Errorf("expired targets: %+v", tg)
	}
	if rt := findRow(t, rows, gun, "root"); rt.Due {
		t.Errorf("root: %+v", rt)
	}
}

func TestExpiryUsage(t *testing.T) {
	c := newCLI(t, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"expiry", "--within", "30x"}, `invalid --within "30x"`},
		{[]string{"expiry", "--within", "-1h"}, `invalid --within "-1h"`},
		{[]string{"expiry", "-o", "yaml"}, `invalid --output "yaml"`},
		{[]string{"resign"}, "Must specify a GUN (or --all)"},
		{[]string{"resign", "--all", gun}, "either GUNs or --all"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := c.fail(tc.args...)
			mustContain(t, "stderr", r.err, tc.want)
		})
	}
	r := c.ok("expiry")
	mustContain(t, "empty trust dir", r.out, "No collections found.")
}

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * day, true},
		{"0d", 0, true},
		{"12h", 12 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"", 0, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-3d", 0, false},
		{"99999999d", 0, false},
		{"soon", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseWindow(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseWindow(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

// TestExpiryRemote: --remote lists every collection the server holds (not
// only those in the trust directory), walking the changefeed; a deleted
// collection is left out.
func TestExpiryRemote(t *testing.T) {
	var clk fixedClock
	srv := newTestServerAt(t, clk.now)
	c := newCLI(t, srv.URL)
	c.now = clk.now
	for _, g := range []string{"example.com/x", "example.com/y", "example.com/gone"} {
		c.ok("init", "-p", g)
	}
	c.ok("delete", "--remote", "example.com/gone")
	other := newCLI(t, srv.URL)
	other.now = clk.now
	rows := expiryJSON(t, other.ok("expiry", "--remote", "-o", "json"))
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.GUN]++
	}
	if len(seen) != 2 || seen["example.com/x"] != 4 || seen["example.com/y"] != 4 {
		t.Errorf("--remote listed %v", seen)
	}
	// Without --remote the other trust directory now caches both.
	rows = expiryJSON(t, other.ok("expiry", "-o", "json"))
	if len(rows) != 8 {
		t.Errorf("local listing after --remote: %d rows", len(rows))
	}
}

// TestResignAfterExpiry: a collection whose targets and snapshot have
// already expired is renewed by resign (verified as of just before the
// expiry), after which consumers read it again.
func TestResignAfterExpiry(t *testing.T) {
	var clk fixedClock
	srv := newTestServerAt(t, clk.now)
	c := newCLI(t, srv.URL)
	c.now = clk.now
	consumer := newCLI(t, srv.URL)
	consumer.now = clk.now
	f := writeFile(t, filepath.Join(c.home, "f.txt"), "f")
	c.ok("init", "-p", gun)
	c.ok("add", gun, "kept", f, "-p")
	consumer.ok("list", gun)
	clk.set(3*365*day + 2*day)
	consumer.fail("list", gun)
	r := c.ok("resign", gun)
	mustContain(t, "resign", r.out, "re-signed and published snapshot, targets")
	c.ok("expiry", "--within", "30d", gun)
	mustContain(t, "list after resign", consumer.ok("list", gun).out, "kept ")
}

// TestResignAllSkipsReadOnly: resign --all in a trust directory that also
// caches collections it only reads skips those instead of failing on
// them; naming such a collection fails, since its roles are due.
func TestResignAllSkipsReadOnly(t *testing.T) {
	var clk fixedClock
	srv := newTestServerAt(t, clk.now)
	publisher := newCLI(t, srv.URL)
	publisher.now = clk.now
	publisher.ok("init", "-p", "example.com/theirs")
	c := newCLI(t, srv.URL)
	c.now = clk.now
	c.ok("init", "-p", "example.com/mine")
	c.ok("list", "example.com/theirs")
	clk.set(3*365*day - 10*day)
	r := c.ok("resign", "--all")
	mustContain(t, "resign --all", r.out, "example.com/mine: re-signed and published", "example.com/theirs: no keys of it here, skipped")
	r = c.fail("resign", "example.com/theirs")
	mustContain(t, "resign theirs", r.err, "its key is not in this trust directory")
}
