package integration

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/signer/keydb"
	keyimport "github.com/notary-go/notary/signer/keydb/v1import"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
	"github.com/notary-go/notary/update"
)

// Collections the upstream server holds in TestImportFromUpstream.
const (
	gunApp     = "example.com/app"     // client-signed snapshot; caught up after the first import
	gunDCT     = "example.com/dct"     // server-managed snapshot, timestamp key rotated (DCT-like)
	gunRotated = "example.com/rotated" // root key rotated: root v2 signed by old and new keys
	gunGone    = "example.com/gone"    // published, then deleted: only changefeed rows remain
	gunSoft    = "example.com/soft"    // rows soft-deleted (GORM deleted_at): not served, not imported
)

// v1Passphrases are the aliases of the signer keys, NOTARY_SIGNER_<ALIAS>
// style: alias1 and alias2 are those of the genuine v0.7.0 rows in
// signer/keydb/testdata.
var v1Passphrases = map[string]string{"alias1": "v1 passphrase one", "alias2": "v1 passphrase two"}

// TestImportFromUpstream builds a genuine v0.7.0 database with upstream's
// migrations, fills it through the real v0.7.0 notary-server driven by the
// real v0.7.0 notary CLI, imports it (server data and signer keys) into
// our SQLite and same-engine databases, and reads every collection back
// through our server with our update library and with the v0.7.0 CLI; the
// v0.7.0 CLI then publishes through our server with the imported keys.
//
// Two upstream limits shape it (docs/upstream-notes.md §0 and
// signer/keydb/internal/jwe/legacy.go): v0.7.0's server built with Go >=
// 1.17 rejects delegation uploads (INVALID_ROLE), so no collection has a
// delegation; and v0.7.0's signer built with Go >= 1.16 panics in jose2go
// on every SQL key operation, so the upstream server signs through our
// signer, which keeps its keys in the upstream-migrated private_keys table
// in place. The signer database also gets the four rows that v0.7.0's own
// signer code wrote (built with Go 1.14, signer/keydb/testdata), including
// a soft-deleted one, a used one and one under a second alias.
func TestImportFromUpstream(t *testing.T) {
	for _, backend := range []string{"postgres", "mysql"} {
		t.Run(backend, func(t *testing.T) { testImportFromUpstream(t, backend) })
	}
}

func testImportFromUpstream(t *testing.T, backend string) {
	ctx := context.Background()
	bin := v1Bin(t)
	srvDSN, srvDB := upstreamDB(t, backend, "server")
	_, sigDB := upstreamDB(t, backend, "signer")
	kdialect := keydb.Dialect(backend)

	// Upstream notary-server on the upstream server schema, signing through
	// our signer on the upstream signer schema.
	kdb, err := keydb.OpenSQL(ctx, sigDB, kdialect, keydb.Options{DefaultAlias: "alias1", Passphrases: passMap(v1Passphrases)})
	must(t, err)
	p := newPKI(t)
	sigAddr := startSigner(t, p, kdb)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	up := startProc(t, "upstream-notary-server", filepath.Join(bin, "notary-server"),
		[]string{"-config", upstreamServerConfig(t, p, addr, backend, srvDSN, sigAddr)}, nil)
	upURL := "http://" + addr
	waitHTTP(t, upURL+"/_notary_server/health", up)

	publisher := t.TempDir()
	cli := func(args ...string) string { return mustCLI(t, upURL, publisher, args...) }
	target := filepath.Join(t.TempDir(), "target.txt")
	must(t, os.WriteFile(target, []byte("a target"), 0o600))

	cli("init", "-p", gunApp)
	cli("add", "-p", gunApp, "t1", target)
	cli("add", "-p", gunApp, "t2", target)
	cli("init", "-p", gunDCT)
	cli("key", "rotate", gunDCT, "snapshot", "-r")
	cli("add", "-p", gunDCT, "latest", target)
	cli("key", "rotate", gunDCT, "timestamp", "-r")
	cli("add", "-p", gunDCT, "v2", target)
	cli("init", "-p", gunRotated)
	cli("add", "-p", gunRotated, "r1", target)
	if out, err := notaryCLIInput(t, "yes\n", upURL, publisher, "key", "rotate", gunRotated, "root"); err != nil || !strings.Contains(out, "Successfully rotated root key") {
		t.Fatalf("notary key rotate %s root: %v\n%s", gunRotated, err, out)
	}
	cli("init", "-p", gunGone)
	cli("delete", "--remote", gunGone)
	cli("init", "-p", gunSoft)
	t.Log("skipped: delegations (v0.7.0's server built with Go >= 1.17 rejects every delegation upload with 400 INVALID_ROLE, docs/upstream-notes.md §0)")

	// GORM soft delete, as an upstream operator's manual delete would leave it.
	execT(t, srvDB, ph(backend, "UPDATE tuf_files SET deleted_at = CURRENT_TIMESTAMP WHERE gun = ?"), gunSoft)
	if out, err := notaryCLI(t, upURL, t.TempDir(), "list", gunSoft); err == nil {
		t.Fatalf("upstream still serves the soft-deleted %s:\n%s", gunSoft, out)
	}
	insertGenuineV1Keys(t, sigDB, backend)

	// First import while upstream is running, into our SQLite and into a
	// database of the same engine.
	type destination struct {
		backend, dsn string
		db           *sql.DB
		d            sqlstore.Dialect
	}
	var dests []*destination
	for _, b := range []string{"sqlite3", backend} {
		dsn := sqltest.DSN(t, b)
		db, d, err := drivers.OpenDB(ctx, b, dsn, drivers.Options{})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		must(t, sqlstore.Migrate(ctx, db, d))
		dests = append(dests, &destination{backend: b, dsn: dsn, db: db, d: d})
	}
	source, err := v1import.NewSource(srvDB, sqlstore.Dialect(backend), nil)
	must(t, err)
	run := func(dst *destination) *v1import.Report {
		t.Helper()
		rep, err := v1import.Import(ctx, v1import.Options{Source: source, Dest: dst.db, DestDialect: dst.d, BatchSize: 4})
		if err != nil {
			t.Fatalf("import into %s: %v", dst.backend, err)
		}
		return rep
	}
	for _, dst := range dests {
		rep := run(dst)
		var guns []string
		for _, g := range rep.GUNs {
			guns = append(guns, g.GUN)
		}
		if want := []string{gunApp, gunDCT, gunRotated}; !slices.Equal(guns, want) {
			t.Errorf("%s: imported %q, want %q", dst.backend, guns, want)
		}
		if rep.Files.SoftDeleted == 0 || rep.Files.Imported == 0 || rep.Changes.Imported == 0 {
			t.Errorf("%s: files %+v changes %+v", dst.backend, rep.Files, rep.Changes)
		}
	}

	// Upstream keeps serving: one more publish, then it stops, and the
	// re-run catches up with exactly that.
	cli("add", "-p", gunApp, "t3", target)
	want := map[string][]string{}
	for _, gun := range []string{gunApp, gunDCT, gunRotated} {
		want[gun] = listedTargets(mustCLI(t, upURL, t.TempDir(), "list", gun))
	}
	if !slices.Equal(want[gunApp], []string{"t1", "t2", "t3"}) || !slices.Equal(want[gunDCT], []string{"latest", "v2"}) || !slices.Equal(want[gunRotated], []string{"r1"}) {
		t.Fatalf("upstream lists %v", want)
	}
	_, upFeed := getBody(t, nil, upURL+"/v2/_trust/changefeed?records=1000")
	up.stop()
	for _, dst := range dests {
		rep := run(dst)
		if rep.Files.Imported != 3 || rep.Changes.Imported != 1 || rep.Files.Conflicts != 0 {
			t.Errorf("%s catch-up: files %+v changes %+v, want 3 files (targets, snapshot, timestamp) and 1 change", dst.backend, rep.Files, rep.Changes)
		}
		rep = run(dst)
		if rep.Files.Imported != 0 || rep.Changes.Imported != 0 || rep.Files.Present != rep.Files.Source {
			t.Errorf("%s third run: files %+v changes %+v, want everything present", dst.backend, rep.Files, rep.Changes)
		}
		st, err := sqlstore.Open(ctx, dst.db, dst.d, sqlstore.Options{SkipMigrate: true})
		must(t, err)
		for _, r := range v1import.VerifyAll(ctx, st, []string{gunApp, gunDCT, gunRotated}, time.Now(), nil) {
			if r.Status != v1import.StatusOK || r.Targets != len(want[r.GUN]) {
				t.Errorf("%s: %s", dst.backend, r)
			}
			if r.GUN == gunRotated && r.RootVersion != 2 {
				t.Errorf("%s: %s, want root v2 reached through the rotation chain", dst.backend, r)
			}
		}
	}

	// Signer keys: into our SQLite and the same engine, ciphertexts as is.
	var keyDests []*destination
	for _, b := range []string{"sqlite3", backend} {
		dsn := sqltest.DSN(t, b)
		db, d, err := drivers.OpenDB(ctx, b, dsn, drivers.Options{})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		kd := &destination{backend: b, dsn: dsn, db: db, d: d}
		keyDests = append(keyDests, kd)
		krep, err := keyimport.Import(ctx, keyimport.Options{Source: sigDB, SourceDialect: kdialect, Dest: db, DestDialect: keydb.Dialect(d), BatchSize: 3})
		must(t, err)
		if krep.SoftDeleted != 1 || krep.Imported != krep.Source || len(krep.Live) != krep.Source-1 {
			t.Errorf("%s key import: %+v", b, krep)
		}
		res, err := keyimport.Check(ctx, db, keydb.Dialect(d), krep.Live, passMap(v1Passphrases), nil)
		must(t, err)
		gunsWithKeys := map[string]bool{}
		for _, g := range res {
			gunsWithKeys[g.GUN] = true
			if !g.OK() {
				t.Errorf("%s keys: %s", b, g)
			}
		}
		for _, gun := range []string{gunApp, gunDCT, gunRotated, "docker.io/library/alpine", "example.com/other"} {
			if !gunsWithKeys[gun] {
				t.Errorf("%s: no imported keys for %s (have %v)", b, gun, gunsWithKeys)
			}
		}
		again, err := keyimport.Import(ctx, keyimport.Options{Source: sigDB, SourceDialect: kdialect, Dest: db, DestDialect: keydb.Dialect(d)})
		must(t, err)
		if again.Imported != 0 || again.Present != krep.Source {
			t.Errorf("%s key re-import: %+v", b, again)
		}
	}

	// Our server, in process, on the imported SQLite databases: our update
	// library and the upstream CLI read every collection, and the upstream
	// CLI publishes through it, signed with the imported server keys.
	st, err := sqlstore.Open(ctx, dests[0].db, dests[0].d, sqlstore.Options{SkipMigrate: true})
	must(t, err)
	keys, err := keydb.OpenSQL(ctx, keyDests[0].db, keydb.SQLite, keydb.Options{DefaultAlias: "alias1", Passphrases: passMap(v1Passphrases)})
	must(t, err)
	srv, err := server.New(server.Options{Store: st, Keys: keyservice.NewLocal(keys), Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for gun, names := range want {
		if got := readWithUpdate(t, hs.URL, gun); !slices.Equal(got, names) {
			t.Errorf("our update library reads %s from our server: %q, want %q", gun, got, names)
		}
		if got := listedTargets(mustCLI(t, hs.URL, t.TempDir(), "list", gun)); !slices.Equal(got, names) {
			t.Errorf("v0.7.0 notary list %s against our server: %q, want %q", gun, got, names)
		}
	}
	for _, gun := range []string{gunApp, gunDCT} {
		mustCLI(t, hs.URL, publisher, "add", "-p", gun, "after-import", target)
		got := listedTargets(mustCLI(t, hs.URL, t.TempDir(), "list", gun))
		if !slices.Contains(got, "after-import") {
			t.Errorf("after publishing %s through our server with the imported keys: %q", gun, got)
		}
		if got := readWithUpdate(t, hs.URL, gun); !slices.Contains(got, "after-import") {
			t.Errorf("our update library after the publish of %s: %q", gun, got)
		}
	}

	// Our server binary on the same-engine database: the v0.7.0 CLI lists
	// every collection and the changefeed is upstream's, ids included.
	ourAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ours := startProc(t, "our-notary-server", ourServerBinary(t),
		[]string{"-config", ourServerConfig(t, ourAddr, dests[1].backend, dests[1].dsn), "-data-dir", t.TempDir()},
		[]string{"NOTARY_SERVER_KEY_PASSPHRASE=unused-for-reads"})
	ourURL := "http://" + ourAddr
	waitHTTP(t, ourURL+"/_notary_server/health", ours)
	for gun, names := range want {
		if got := listedTargets(mustCLI(t, ourURL, t.TempDir(), "list", gun)); !slices.Equal(got, names) {
			t.Errorf("v0.7.0 notary list %s against our server binary on %s: %q, want %q", gun, backend, got, names)
		}
	}
	_, ourFeed := getBody(t, nil, ourURL+"/v2/_trust/changefeed?records=1000")
	compareFeeds(t, upFeed, ourFeed)
}

// readWithUpdate reads gun from a server with our update library, as a
// client with an empty cache, and returns the sorted target names.
func readWithUpdate(t *testing.T, serverURL, gun string) []string {
	t.Helper()
	c, err := api.NewClient(serverURL, gun, api.ClientOptions{})
	must(t, err)
	u, err := update.NewUpdater(update.Options{GUN: gun, Remote: client.ServerRemote(c), Cache: update.NewMemoryCache()})
	must(t, err)
	repo, err := u.Update(context.Background(), time.Now())
	if err != nil {
		t.Errorf("update %s from %s: %v", gun, serverURL, err)
		return nil
	}
	var names []string
	for _, tg := range repo.ListTargets() {
		names = append(names, tg.Name)
	}
	sort.Strings(names)
	return names
}

type feedRecord struct {
	ID        string
	CreatedAt time.Time
	GUN       string
	Version   int64
	SHA256    string
	Category  string
}

// compareFeeds checks that two changefeed responses hold the same rows:
// ids, GUNs, versions, hashes, categories, and times to the second (MySQL
// timestamp columns keep whole seconds).
func compareFeeds(t *testing.T, upstream, ours []byte) {
	t.Helper()
	var a, b struct {
		Count   int
		Records []feedRecord
	}
	if err := json.Unmarshal(upstream, &a); err != nil {
		t.Fatalf("upstream changefeed: %v\n%s", err, upstream)
	}
	if err := json.Unmarshal(ours, &b); err != nil {
		t.Fatalf("our changefeed: %v\n%s", err, ours)
	}
	if a.Count == 0 {
		t.Fatalf("upstream changefeed is empty: %s", upstream)
	}
	// Ours has more rows at the end only if something was published to
	// this database since (nothing was).
	// Upstream on PostgreSQL answers a deletion row's empty sha256 as 64
	// spaces (CHAR(64) padding); on MySQL, and ours everywhere, it is "".
	norm := func(rs []feedRecord) []feedRecord {
		out := slices.Clone(rs)
		for i := range out {
			out[i].CreatedAt = out[i].CreatedAt.UTC().Truncate(time.Second)
			out[i].SHA256 = strings.TrimSpace(out[i].SHA256)
		}
		return out
	}
	if diff := cmp.Diff(norm(a.Records), norm(b.Records)); diff != "" {
		t.Errorf("changefeed (-upstream +ours after import):\n%s", diff)
	}
	cats := map[string]int{}
	for _, r := range a.Records {
		cats[r.Category]++
	}
	if cats["deletion"] != 1 || cats["update"] < 5 {
		t.Errorf("upstream changefeed categories %v, want one deletion and the updates", cats)
	}
}

// insertGenuineV1Keys adds the private_keys rows that v0.7.0's own signer
// code wrote (signer/keydb/testdata/v1_mysql_rows.json) to db.
func insertGenuineV1Keys(t *testing.T, db *sql.DB, backend string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "signer", "keydb", "testdata", "v1_mysql_rows.json"))
	must(t, err)
	var rows []struct {
		KeyID           string  `json:"key_id"`
		EncryptionAlg   string  `json:"encryption_alg"`
		KeywrapAlg      string  `json:"keywrap_alg"`
		Algorithm       string  `json:"algorithm"`
		PassphraseAlias string  `json:"passphrase_alias"`
		Public          string  `json:"public_b64"`
		Private         string  `json:"private"`
		GUN             string  `json:"gun"`
		Role            string  `json:"role"`
		DeletedAt       *string `json:"deleted_at"`
		LastUsed        *string `json:"last_used"`
	}
	must(t, json.Unmarshal(b, &rows))
	stamp := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, r := range rows {
		pub, err := base64.StdEncoding.DecodeString(r.Public)
		must(t, err)
		var deleted, used any
		if r.DeletedAt != nil {
			deleted = stamp
		}
		if r.LastUsed != nil {
			used = stamp
		}
		execT(t, db, ph(backend, `INSERT INTO private_keys (created_at, updated_at, deleted_at, key_id, encryption_alg, keywrap_alg,
			algorithm, passphrase_alias, public, private, gun, role, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			stamp, stamp, deleted, r.KeyID, r.EncryptionAlg, r.KeywrapAlg, r.Algorithm, r.PassphraseAlias, pub, []byte(r.Private), r.GUN, r.Role, used)
	}
}

// ph rewrites ? placeholders to $n for PostgreSQL.
func ph(backend, q string) string {
	if backend != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
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
