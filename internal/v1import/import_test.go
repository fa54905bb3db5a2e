package v1import_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/tuf"
)

// upstreamDDL is upstream's PostgreSQL schema (migrations/server/postgresql
// 0001, 0002) in SQLite types: the shape GORM gives its SQLite test
// databases. The PostgreSQL and MariaDB sources, built with upstream's
// own migration files and written by the real v0.7.0 server, are tested
// in test/integration.
var upstreamDDL = []string{
	`CREATE TABLE tuf_files (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at DATETIME NULL, updated_at DATETIME NULL,
		deleted_at DATETIME NULL, gun VARCHAR(255) NOT NULL, role VARCHAR(255) NOT NULL, version INTEGER NOT NULL,
		data BLOB NOT NULL, sha256 CHAR(64) DEFAULT NULL, UNIQUE (gun, role, version))`,
	`CREATE TABLE change_category (category VARCHAR(20) PRIMARY KEY)`,
	`INSERT INTO change_category VALUES ('update'), ('deletion')`,
	`CREATE TABLE changefeed (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
		gun VARCHAR(255) NOT NULL, version INTEGER NOT NULL, sha256 CHAR(64) DEFAULT NULL,
		category VARCHAR(20) NOT NULL DEFAULT 'update' REFERENCES change_category)`,
}

const (
	gunClient  = "example.com/client-snapshot" // client-signed snapshot, a delegation
	gunServer  = "example.com/server-snapshot" // server snapshot, root rotated
	gunDeleted = "example.com/deleted"         // published then deleted: only changefeed rows
	gunStale   = "example.com/stale"           // timestamp expired since it was stored
	gunSoft    = "example.com/soft-deleted"    // every row soft-deleted by GORM
)

// fixture is an upstream-shaped source database with known content.
type fixture struct {
	up      *sql.DB
	targets map[string][]string // live GUN → target names a client sees
}

// newFixture publishes collections through our server (real signatures,
// server-made timestamps and changefeed) and copies its rows into an
// upstream-shaped SQLite database, as a v0.7.0 server would have them.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ours, err := drivers.Open(ctx, "sqlite3", filepath.Join(dir, "made.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ours.Close() })
	h := servertest.Start(t, ours, server.Options{Logger: quiet})

	publish := func(r *servertest.Repo, parts []api.Part, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Client(t, r.GUN).Publish(ctx, parts); err != nil {
			t.Fatalf("publish %s: %v", r.GUN, err)
		}
	}
	f := &fixture{targets: map[string][]string{}}

	a := h.NewRepo(t, gunClient, false)
	must(t, a.AddTarget(tuf.RoleTargets, "t1", []byte("one")))
	must(t, a.AddTarget(tuf.RoleTargets, "t2", []byte("two")))
	parts, err := a.Publish(tuf.RoleTargets)
	publish(a, parts, err)
	must(t, a.AddDelegation("targets/releases", ""))
	must(t, a.AddTarget("targets/releases", "r1", []byte("release")))
	parts, err = a.Publish(tuf.RoleTargets, "targets/releases")
	publish(a, parts, err)
	f.targets[gunClient] = []string{"r1", "t1", "t2"}

	b := h.NewRepo(t, gunServer, true)
	must(t, b.AddTarget(tuf.RoleTargets, "latest", []byte("manifest")))
	parts, err = b.Publish(tuf.RoleTargets)
	publish(b, parts, err)
	old, err := b.RotateRootKey()
	must(t, err)
	_, err = b.SignRoot(old)
	must(t, err)
	publish(b, b.Parts(tuf.RoleRoot), nil)
	must(t, b.AddTarget(tuf.RoleTargets, "v2", []byte("manifest 2")))
	parts, err = b.Publish(tuf.RoleTargets)
	publish(b, parts, err)
	f.targets[gunServer] = []string{"latest", "v2"}

	c := h.NewRepo(t, gunDeleted, true)
	if err := h.Client(t, c.GUN).Delete(ctx); err != nil {
		t.Fatal(err)
	}

	// Published a month ago, by a server whose clock said so: its
	// timestamp expired two weeks later.
	stale := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	past := servertest.Start(t, ours, server.Options{Keys: h.Keys, Now: func() time.Time { return stale }, Logger: quiet})
	d := pastRepo(t, past, gunStale, stale)
	must(t, d.AddTarget(tuf.RoleTargets, "old", []byte("old")))
	parts, err = d.Publish(tuf.RoleTargets)
	must(t, err)
	must(t, past.Client(t, d.GUN).Publish(ctx, parts))
	f.targets[gunStale] = []string{"old"}

	h.NewRepo(t, gunSoft, true)

	f.up = openSQLite(t, filepath.Join(dir, "upstream.db"))
	for _, stmt := range upstreamDDL {
		execT(t, f.up, stmt)
	}
	made := openSQLite(t, filepath.Join(dir, "made.db"))
	rows, err := made.Query("SELECT created_at, gun, role, version, data, sha256 FROM tuf_files ORDER BY id")
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		var (
			at                 string
			gun, role, sum     string
			version            int64
			data               []byte
			created, deletedAt any
		)
		must(t, rows.Scan(&at, &gun, &role, &version, &data, &sum))
		created = wall(parseOurTime(t, at))
		if gun == gunStale {
			created = wall(stale)
		}
		if gun == gunSoft {
			deletedAt = created
		}
		execT(t, f.up, "INSERT INTO tuf_files (created_at, updated_at, deleted_at, gun, role, version, data, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			created, created, deletedAt, gun, role, version, data, sum)
	}
	must(t, rows.Err())
	crow, err := made.Query("SELECT id, created_at, gun, version, sha256, category FROM changefeed ORDER BY id")
	must(t, err)
	defer crow.Close()
	for crow.Next() {
		var (
			id, version int64
			at, gun     string
			sum         sql.NullString
			cat         string
		)
		must(t, crow.Scan(&id, &at, &gun, &version, &sum, &cat))
		execT(t, f.up, "INSERT INTO changefeed (id, created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?, ?)",
			id+100, wall(parseOurTime(t, at)), gun, version, sum, cat) // ids that differ from a fresh database's
	}
	must(t, crow.Err())
	return f
}

// pastRepo creates a collection on h as a publisher would have at time
// at: its root certificate starts then.
func pastRepo(t *testing.T, h *servertest.Harness, gun string, at time.Time) *servertest.Repo {
	t.Helper()
	ctx := context.Background()
	c := h.Client(t, gun)
	ts, err := c.GetKey(ctx, tuf.RoleTimestamp)
	must(t, err)
	sn, err := c.GetKey(ctx, tuf.RoleSnapshot)
	must(t, err)
	r, err := servertest.NewRepo(gun, ts, sn)
	must(t, err)
	r.Now = func() time.Time { return at }
	delete(r.Root.Keys, r.RootKey.Public().ID())
	rk, err := keys.Generate(keys.ECDSA)
	must(t, err)
	r.RootKey, err = rk.WithRootCertificate(gun, at, at.Add(keys.RootCertificateValidity))
	must(t, err)
	pub := r.RootKey.Public()
	r.Root.Keys[pub.ID()] = pub
	r.Root.Roles[tuf.RoleRoot].KeyIDs = []string{pub.ID()}
	parts, err := r.Initial()
	must(t, err)
	must(t, c.Publish(ctx, parts))
	return r
}

var quiet = slog.New(slog.DiscardHandler)

func (f *fixture) source(t *testing.T) *v1import.Source {
	t.Helper()
	s, err := v1import.NewSource(f.up, sqlstore.SQLite, nil)
	must(t, err)
	return s
}

// wall formats t as a zone-less wall clock in UTC, as upstream's
// timestamp columns hold it.
func wall(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999") }

func parseOurTime(t *testing.T, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02 15:04:05.000000-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v
		}
	}
	t.Fatalf("cannot parse time %q", s)
	return time.Time{}
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, _, err := drivers.OpenDB(context.Background(), "sqlite3", path, drivers.Options{})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// destination opens an empty, migrated notary-go database of backend
// (sqlite3, postgres, mysql), giving the raw pool and a Store on it.
func destination(t *testing.T, backend string) (*sql.DB, sqlstore.Dialect, *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	dsn := sqltest.DSN(t, backend)
	db, d, err := drivers.OpenDB(ctx, backend, dsn, drivers.Options{})
	must(t, err)
	st, err := sqlstore.Open(ctx, db, d, sqlstore.Options{})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	return db, d, st
}

var backends = []string{"sqlite3", "postgres", "mysql"}

func TestImport(t *testing.T) {
	f := newFixture(t)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			db, d, st := destination(t, backend)
			var phases []string
			rep, err := v1import.Import(ctx, v1import.Options{Source: f.source(t), Dest: db, DestDialect: d, BatchSize: 3,
				Progress: func(p v1import.Progress) { phases = append(phases, p.Phase) }})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			var guns []string
			for _, g := range rep.GUNs {
				guns = append(guns, g.GUN)
				if g.Err != nil || g.Imported != g.Files || g.Present != 0 {
					t.Errorf("%s: %+v, want all %d files imported", g.GUN, g, g.Files)
				}
			}
			if want := []string{gunClient, gunServer, gunStale}; !slices.Equal(guns, want) {
				t.Errorf("imported GUNs %q, want %q (soft-deleted and deleted ones left out)", guns, want)
			}
			if rep.Files.SoftDeleted == 0 || rep.Files.Imported != rep.Files.Source {
				t.Errorf("file counts %+v", rep.Files)
			}
			if !slices.Contains(phases, "files") || !slices.Contains(phases, "changefeed") {
				t.Errorf("progress phases %q", phases)
			}

			// Every stored file, byte for byte, with its creation time.
			src := f.source(t)
			for _, gun := range guns {
				for _, role := range []string{tuf.RoleRoot, tuf.RoleTargets, tuf.RoleSnapshot, tuf.RoleTimestamp} {
					for v := int64(1); ; v++ {
						want, err := src.GetVersion(ctx, gun, role, v)
						if errors.Is(err, storage.ErrNotFound) {
							break
						}
						must(t, err)
						got, err := st.GetVersion(ctx, gun, role, v)
						if err != nil {
							t.Fatalf("%s %s v%d: %v", gun, role, v, err)
						}
						if string(got.Data) != string(want.Data) || got.SHA256 != want.SHA256 || !got.CreatedAt.Equal(want.CreatedAt) {
							t.Errorf("%s %s v%d: got %s at %v, want %s at %v", gun, role, v, got.SHA256, got.CreatedAt, want.SHA256, want.CreatedAt)
						}
					}
				}
			}
			if _, err := st.GetCurrent(ctx, gunSoft, tuf.RoleRoot); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("soft-deleted collection: GetCurrent = %v, want not found", err)
			}

			// The changefeed, ids included.
			got, err := st.GetChanges(ctx, "0", 1000, "")
			must(t, err)
			want := sourceChanges(t, f.up)
			if diff := cmp.Diff(want, stripTimes(got)); diff != "" {
				t.Errorf("changefeed (-source +imported):\n%s", diff)
			}
			// New rows go after the imported ones (PostgreSQL's sequence).
			must(t, st.UpdateMany(ctx, gunClient, []storage.MetaUpdate{{Role: tuf.RoleTimestamp, Version: 1000, Data: []byte("{}")}}))
			last, err := st.GetChanges(ctx, "-1", -1, "")
			must(t, err)
			if len(last) != 1 || atoi(t, last[0].ID) <= atoi(t, want[len(want)-1].ID) {
				t.Errorf("next changefeed row %+v, want an id after %s", last, want[len(want)-1].ID)
			}

			// Every collection verifies; the stale one only as of when it was stored.
			results := v1import.VerifyAll(ctx, st, guns, time.Now(), nil)
			for _, r := range results {
				if r.GUN == gunClient {
					continue // its timestamp was just replaced by junk above
				}
				want := v1import.StatusOK
				if r.GUN == gunStale {
					want = v1import.StatusExpired
				}
				if r.Status != want || r.Targets != len(f.targets[r.GUN]) {
					t.Errorf("%s: %s, want %s with %d targets", r.GUN, r, want, len(f.targets[r.GUN]))
				}
			}
		})
	}
}

// sourceChanges reads the upstream changefeed in our Change form, without
// times.
func sourceChanges(t *testing.T, up *sql.DB) []storage.Change {
	t.Helper()
	rows, err := up.Query("SELECT id, gun, version, sha256, category FROM changefeed ORDER BY id")
	must(t, err)
	defer rows.Close()
	var out []storage.Change
	for rows.Next() {
		var (
			c   storage.Change
			id  int64
			sum sql.NullString
		)
		must(t, rows.Scan(&id, &c.GUN, &c.Version, &sum, &c.Category))
		c.ID, c.SHA256 = fmt.Sprint(id), sum.String
		out = append(out, c)
	}
	must(t, rows.Err())
	return out
}

func stripTimes(cs []storage.Change) []storage.Change {
	out := slices.Clone(cs)
	for i := range out {
		out[i].CreatedAt = time.Time{}
	}
	return out
}

func TestVerifyImported(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db, d, st := destination(t, "sqlite3")
	if _, err := v1import.Import(ctx, v1import.Options{Source: f.source(t), Dest: db, DestDialect: d}); err != nil {
		t.Fatal(err)
	}
	// The imported collections are served by our server and read by a
	// client that trusts on first use.
	h := servertest.Start(t, st, server.Options{Logger: quiet})
	for gun, want := range f.targets {
		if gun == gunStale {
			continue
		}
		res := v1import.Verify(ctx, st, gun, time.Now())
		if res.Status != v1import.StatusOK {
			t.Errorf("%s", res)
		}
		resp, err := h.HTTP.Client().Get(h.HTTP.URL + "/v2/" + gun + "/_trust/tuf/root.json")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s root.json: %d", gun, resp.StatusCode)
		}
		_ = want
	}
	res := v1import.Verify(ctx, st, gunServer, time.Now())
	if res.RootVersion != 2 || res.Status != v1import.StatusOK {
		t.Errorf("rotated collection: %s, want root v2 ok", res)
	}
	if res := v1import.Verify(ctx, st, "example.com/nothing", time.Now()); res.Status != v1import.StatusFailed || !strings.Contains(res.Reason, "no timestamp") {
		t.Errorf("unknown collection: %s", res)
	}
}

func TestImportIsIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db, d, st := destination(t, "sqlite3")
	opts := v1import.Options{Source: f.source(t), Dest: db, DestDialect: d, BatchSize: 2}
	first, err := v1import.Import(ctx, opts)
	must(t, err)
	again, err := v1import.Import(ctx, opts)
	must(t, err)
	if again.Files.Imported != 0 || again.Files.Present != first.Files.Imported || again.Changes.Imported != 0 || again.Changes.Present != first.Changes.Imported {
		t.Errorf("re-run: files %+v changes %+v; want everything present (first run: files %+v changes %+v)", again.Files, again.Changes, first.Files, first.Changes)
	}

	// Upstream keeps serving meanwhile: a new timestamp and its changefeed
	// row are caught up with by the next run, and only they.
	ts, err := f.source(t).GetCurrent(ctx, gunServer, tuf.RoleTimestamp)
	must(t, err)
	var maxID int64
	must(t, f.up.QueryRow("SELECT MAX(id) FROM changefeed").Scan(&maxID))
	execT(t, f.up, "INSERT INTO tuf_files (created_at, updated_at, gun, role, version, data, sha256) VALUES (?, ?, ?, ?, ?, ?, NULL)",
		wall(time.Now()), wall(time.Now()), gunServer, tuf.RoleTimestamp, ts.Version+1, ts.Data)
	execT(t, f.up, "INSERT INTO changefeed (id, gun, version, sha256) VALUES (?, ?, ?, ?)", maxID+1, gunServer, ts.Version+1, ts.SHA256)
	third, err := v1import.Import(ctx, opts)
	must(t, err)
	if third.Files.Imported != 1 || third.Changes.Imported != 1 {
		t.Errorf("catch-up run: files %+v changes %+v; want 1 file and 1 change imported", third.Files, third.Changes)
	}
	got, err := st.GetVersion(ctx, gunServer, tuf.RoleTimestamp, ts.Version+1)
	must(t, err)
	if got.SHA256 != ts.SHA256 {
		t.Errorf("caught-up file has sha256 %s, want %s (computed from the bytes: the source column was NULL)", got.SHA256, ts.SHA256)
	}
	// A fourth run, with the source sha256 NULL for a present row, still
	// finds everything present by comparing bytes.
	fourth, err := v1import.Import(ctx, opts)
	must(t, err)
	if fourth.Files.Imported != 0 || fourth.Files.Conflicts != 0 {
		t.Errorf("fourth run: %+v", fourth.Files)
	}
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dsn := sqltest.SQLiteDSN(t)
	db, d, err := drivers.OpenDB(ctx, "sqlite3", dsn, drivers.Options{})
	must(t, err)
	defer db.Close()
	src := f.source(t)
	rep, err := v1import.Import(ctx, v1import.Options{Source: src, Dest: db, DestDialect: d, DryRun: true})
	must(t, err)
	if !rep.DryRun || rep.Files.Imported == 0 || rep.Files.Imported != rep.Files.Source || rep.Changes.Imported == 0 {
		t.Errorf("dry run report: files %+v changes %+v", rep.Files, rep.Changes)
	}
	var n int
	must(t, db.QueryRow("SELECT COUNT(*) FROM sqlite_master").Scan(&n))
	if n != 0 {
		t.Errorf("dry run created %d schema objects in the destination", n)
	}
	// The source itself can be verified before importing.
	for _, r := range v1import.VerifyAll(ctx, src, []string{gunClient, gunServer}, time.Now(), nil) {
		if r.Status != v1import.StatusOK {
			t.Errorf("source %s", r)
		}
	}
}

func TestConflicts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db, d, st := destination(t, "sqlite3")
	opts := v1import.Options{Source: f.source(t), Dest: db, DestDialect: d}
	_, err := v1import.Import(ctx, opts)
	must(t, err)

	// The destination diverged: other bytes for a file of one collection.
	execT(t, db, "UPDATE tuf_files SET data = ?, sha256 = ? WHERE gun = ? AND role = ? AND version = 2",
		[]byte("other"), servertest.SHA256Hex([]byte("other")), gunClient, tuf.RoleTargets)
	rep, err := v1import.Import(ctx, opts)
	if !errors.Is(err, v1import.ErrConflict) {
		t.Fatalf("Import over a diverged destination: %v, want ErrConflict", err)
	}
	failed := rep.Failed()
	var ce *v1import.ConflictError
	if len(failed) != 1 || failed[0].GUN != gunClient || !errors.As(failed[0].Err, &ce) || ce.Role != tuf.RoleTargets || ce.Version != 2 {
		t.Errorf("failed collections %+v, want %s targets v2", failed, gunClient)
	}

	// Our servers wrote to the changefeed; then upstream added a row: it
	// cannot be slotted in before ours.
	must(t, st.UpdateMany(ctx, gunServer, []storage.MetaUpdate{{Role: tuf.RoleTimestamp, Version: 500, Data: []byte("{}")}}))
	var maxID int64
	must(t, f.up.QueryRow("SELECT MAX(id) FROM changefeed").Scan(&maxID))
	execT(t, f.up, "INSERT INTO changefeed (id, gun, version, category) VALUES (?, ?, 0, 'deletion')", maxID+1, "example.com/x")
	rep, err = v1import.Import(ctx, opts)
	if !errors.As(err, &ce) || ce.Table != "changefeed" || ce.ID != maxID+1 || rep.Changes.Conflicts != 1 {
		t.Errorf("Import after our servers wrote: %v (changes %+v), want a changefeed conflict at id %d", err, rep.Changes, maxID+1)
	}
}

func TestImportRefusesUpstreamDestination(t *testing.T) {
	f := newFixture(t)
	_, err := v1import.Import(context.Background(), v1import.Options{Source: f.source(t), Dest: f.up, DestDialect: sqlstore.SQLite})
	if err == nil || !strings.Contains(err.Error(), "upstream") {
		t.Errorf("Import into the source itself: %v, want a refusal", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	src := f.source(t)
	// One byte of the current targets changed: the snapshot's hash no
	// longer matches. A row whose sha256 column is updated along with it
	// is found by hash and must be refused by the client check.
	var data []byte
	must(t, f.up.QueryRow("SELECT data FROM tuf_files WHERE gun = ? AND role = 'targets' ORDER BY version DESC LIMIT 1", gunServer).Scan(&data))
	bad := []byte(strings.Replace(string(data), `"latest"`, `"lateSt"`, 1))
	execT(t, f.up, "UPDATE tuf_files SET data = ? WHERE gun = ? AND role = 'targets' AND data = ?", bad, gunServer, data)
	res := v1import.Verify(ctx, src, gunServer, time.Now())
	if res.Status != v1import.StatusFailed || res.Reason == "" {
		t.Errorf("tampered targets: %s, want failed", res)
	}
	t.Logf("reported: %s", res)
}

func TestSourceTimeZone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	utc := f.source(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	inNY, err := v1import.NewSource(f.up, sqlstore.SQLite, ny)
	must(t, err)
	a, err := utc.GetVersion(ctx, gunClient, tuf.RoleRoot, 1)
	must(t, err)
	b, err := inNY.GetVersion(ctx, gunClient, tuf.RoleRoot, 1)
	must(t, err)
	if d := b.CreatedAt.Sub(a.CreatedAt); d != 4*time.Hour && d != 5*time.Hour {
		t.Errorf("the same wall clock read in New York is %v later than in UTC, want 4h or 5h", d)
	}
}

func atoi(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	must(t, err)
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func execT(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
