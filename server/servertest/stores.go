package servertest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
	"github.com/notary-go/notary/storage/sqlstore/sqltest"
)

// A Backend opens a fresh, empty store for one test.
type Backend struct {
	Name string
	Open func(t testing.TB) storage.MetaStore
}

// Backends are the stores every handler test runs against: memory and an
// SQLite file in the test's temporary directory.
// PostgreSQL and MySQL are added when $NOTARY_TEST_POSTGRES_DSN or
// $NOTARY_TEST_MYSQL_DSN names a server (each test gets its own schema or
// database there).
func Backends() []Backend {
	b := []Backend{
		{Name: "memory", Open: func(testing.TB) storage.MetaStore { return memory.New() }},
		{Name: "sqlite", Open: OpenSQLite},
	}
	if os.Getenv(sqltest.PostgresEnv) != "" {
		b = append(b, Backend{Name: "postgres", Open: func(t testing.TB) storage.MetaStore { return openSQL(t, "postgres", sqltest.PostgresDSN(t)) }})
	}
	if os.Getenv(sqltest.MySQLEnv) != "" {
		b = append(b, Backend{Name: "mysql", Open: func(t testing.TB) storage.MetaStore { return openSQL(t, "mysql", sqltest.MySQLDSN(t)) }})
	}
	return b
}

func openSQL(t testing.TB, backend, dsn string) storage.MetaStore {
	t.Helper()
	s, err := drivers.Open(context.Background(), backend, dsn)
	if err != nil {
		t.Fatalf("opening %s store: %v", backend, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenSQLite opens an SQLite store in a file of t's temporary directory,
// closed at the end of the test.
func OpenSQLite(t testing.TB) storage.MetaStore {
	t.Helper()
	s, err := drivers.Open(context.Background(), "sqlite3", filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatalf("opening sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A Harness is a running test server with an in-memory key service.
type Harness struct {
	Server *server.Server
	HTTP   *httptest.Server
	Store  storage.MetaStore
	Keys   *keyservice.Local
}

// Start runs a server over store with opts (Store and Keys are filled in
// when unset) on an httptest server closed at the end of the test.
func Start(t testing.TB, store storage.MetaStore, opts server.Options) *Harness {
	t.Helper()
	h := &Harness{Store: store}
	if opts.Store == nil {
		opts.Store = store
	}
	if opts.Logger == nil {
		opts.Logger = Logger(t)
	}
	if opts.Keys == nil {
		h.Keys = keyservice.NewMemory()
		opts.Keys = h.Keys
	}
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h.Server = s
	h.HTTP = httptest.NewServer(s)
	t.Cleanup(h.HTTP.Close)
	return h
}

// Client returns an api.Client for gun on the harness.
func (h *Harness) Client(t testing.TB, gun string) *api.Client {
	t.Helper()
	c, err := api.NewClient(h.HTTP.URL, gun, api.ClientOptions{HTTPClient: h.HTTP.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewRepo creates a collection on the harness: it fetches the server's
// timestamp key (and snapshot key when serverSnapshot), builds a Repo and
// publishes its first version.
func (h *Harness) NewRepo(t testing.TB, gun string, serverSnapshot bool) *Repo {
	t.Helper()
	ctx := context.Background()
	c := h.Client(t, gun)
	ts, err := c.GetKey(ctx, "timestamp")
	if err != nil {
		t.Fatalf("GET timestamp.key: %v", err)
	}
	var sn keys.PublicKey
	if serverSnapshot {
		if sn, err = c.GetKey(ctx, "snapshot"); err != nil {
			t.Fatalf("GET snapshot.key: %v", err)
		}
	}
	r, err := NewRepo(gun, ts, sn)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := r.Initial()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, parts); err != nil {
		t.Fatalf("first publish of %s: %v", gun, err)
	}
	return r
}
