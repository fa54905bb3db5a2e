package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// Passphrases every test key uses.
var testPassphrases = map[string]string{
	"NOTARY_ROOT_PASSPHRASE":       "rootpassphrase",
	"NOTARY_TARGETS_PASSPHRASE":    "targetspassphrase",
	"NOTARY_SNAPSHOT_PASSPHRASE":   "snapshotpassphrase",
	"NOTARY_DELEGATION_PASSPHRASE": "delegationpassphrase",
}

// testServer is our notary server in-process, with a hook to interfere
// with requests.
type testServer struct {
	*httptest.Server
	mu       sync.Mutex
	hook     func(w http.ResponseWriter, r *http.Request) bool // true: handled
	requests []string
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerAt(t, nil)
}

// newTestServerAt is newTestServer with the server's clock.
func newTestServerAt(t *testing.T, now func() time.Time) *testServer {
	t.Helper()
	srv, err := server.New(server.Options{
		Store:  memory.New(),
		Keys:   keyservice.NewMemory(),
		Logger: discardLogger(),
		Now:    now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		hook := ts.hook
		ts.requests = append(ts.requests, r.Method+" "+r.URL.Path)
		ts.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	ts.mu.Lock()
	ts.hook = h
	ts.mu.Unlock()
}

func (ts *testServer) takeRequests() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r := ts.requests
	ts.requests = nil
	return r
}

// cli runs our CLI in-process with a trust dir, a server and an
// environment of its own.
type cli struct {
	t        *testing.T
	home     string
	trustDir string
	server   string
	env      map[string]string
	now      func() time.Time
	tty      bool
}

func newCLI(t *testing.T, serverURL string) *cli {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	for k, v := range testPassphrases {
		env[k] = v
	}
	return &cli{t: t, home: home, trustDir: filepath.Join(home, "trust"), server: serverURL, env: env}
}

type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return "exit " + itoa(r.code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err
}

func itoa(i int) string { return strconv.Itoa(i) }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// run runs notary with -d and -s set (unless given) and stdin.
func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	full := []string{}
	if !hasFlag(args, "-d", "--trustDir") {
		full = append(full, "-d", c.trustDir)
	}
	if c.server != "" && !hasFlag(args, "-s", "--server") {
		full = append(full, "-s", c.server)
	}
	full = append(full, args...)
	var out, errb bytes.Buffer
	io := &stdio{
		stdin:     strings.NewReader(stdin),
		stdout:    &out,
		stderr:    &errb,
		getenv:    func(k string) string { return c.env[k] },
		now:       c.now,
		stderrTTY: c.tty,
	}
	code := run(context.Background(), full, io)
	return result{out: out.String(), err: errb.String(), code: code}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs and fails the test on a non-zero exit.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("notary %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fail runs and fails the test on a zero exit.
func (c *cli) fail(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code == 0 {
		c.t.Fatalf("notary %s succeeded, want failure: %s", strings.Join(args, " "), r)
	}
	return r
}

func hasFlag(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if a == n || strings.HasPrefix(a, n+"=") {
				return true
			}
		}
	}
	return false
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func mustNotContain(t *testing.T, what, got string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(got, w) {
			t.Errorf("%s contains %q:\n%s", what, w, got)
		}
	}
}

// copyDir copies a directory tree (fixtures are read-only).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
