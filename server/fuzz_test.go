package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

const fuzzBoundary = "FUZZBOUNDARY"

// fuzzFixture is a server holding one collection, and the parts of a
// valid next publish to seed the fuzzer with.
type fuzzFixture struct {
	srv  *server.Server
	gun  string
	good []api.Part
	repo *servertest.Repo
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	h := servertest.Start(t, memory.New(), server.Options{MaxUpdateSize: 1 << 20, Logger: discardLogger()})
	r := h.NewRepo(t, "example.com/fuzz", true)
	_ = r.AddDelegation("targets/releases", "")
	_ = r.AddTarget("targets/releases", "v1", []byte("v1"))
	parts, err := r.Publish(tuf.RoleTargets, "targets/releases")
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzFixture{srv: h.Server, gun: r.GUN, good: parts, repo: r}
}

func updateBody(t testing.TB, parts []api.Part) []byte {
	var b bytes.Buffer
	mw := func() string {
		var buf bytes.Buffer
		ct, err := api.WriteUpdate(&buf, parts)
		if err != nil {
			t.Fatal(err)
		}
		b = buf
		return ct
	}()
	// Rewrite the random boundary to the fixed one the fuzzer uses.
	_, params, _ := strings.Cut(mw, "boundary=")
	return bytes.ReplaceAll(b.Bytes(), []byte(params), []byte(fuzzBoundary))
}

// FuzzUpdate throws arbitrary multipart bodies at the atomic update
// handler: it must never panic or answer 5xx, must answer JSON errors, and
// the collection must stay consistent (every stored state readable).
func FuzzUpdate(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add(updateBody(f, fx.good))
	f.Add(updateBody(f, fx.good[:1]))
	f.Add(updateBody(f, []api.Part{{Role: "root", Data: fx.repo.Files["root"]}}))
	f.Add(updateBody(f, []api.Part{{Role: "targets/releases", Data: []byte(`{"signed":{"_type":"Targets","version":9,"expires":"2030-01-01T00:00:00Z"},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}`)}}))
	f.Add(updateBody(f, []api.Part{{Role: "timestamp", Data: []byte(`{"signed":{},"signatures":[]}`)}}))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''targets%2Freleases\r\n\r\n{}\r\n--" + fuzzBoundary + "--\r\n"))
	f.Add([]byte("--" + fuzzBoundary + "--\r\n"))
	f.Add([]byte("not multipart at all"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v2/"+fx.gun+"/_trust/tuf/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		checkFuzzResponse(t, rec)
		if rec.Code == http.StatusOK {
			// Whatever was accepted must leave a readable collection.
			for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
				req := httptest.NewRequest("GET", api.MetaPath(fx.gun, role), nil)
				rec := httptest.NewRecorder()
				fx.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("after an accepted update GET %s = %d %s", role, rec.Code, rec.Body)
				}
			}
		}
	})
}

func checkFuzzResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Code != http.StatusOK {
		var body api.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
			t.Fatalf("status %d with a body that is not one JSON error: %q", rec.Code, rec.Body)
		}
		if int64(rec.Body.Len()) > api.MaxErrorSize {
			t.Fatalf("error body of %d bytes, above the %d v1 clients read", rec.Body.Len(), api.MaxErrorSize)
		}
	}
}

// FuzzRequest throws arbitrary paths, methods and query strings at the
// whole router: no panic, no 5xx.
func FuzzRequest(f *testing.F) {
	fx := newFuzzFixture(f)
	for _, p := range []string{
		"/v2/", "/v2/example.com/fuzz/_trust/tuf/root.json", "/v2/example.com/fuzz/_trust/tuf/targets/releases.json",
		"/v2/example.com/fuzz/_trust/tuf/1.root.json", "/v2/example.com/fuzz/_trust/tuf/root." + strings.Repeat("0", 64) + ".json",
		"/v2/example.com/fuzz/_trust/tuf/timestamp.key", "/v2/_trust/changefeed?records=-1&change_id=-1",
		"/v2/example.com/fuzz/_trust/changefeed?records=5&change_id=2", "/v2/a/_trust/tuf/_trust/tuf/root.json",
		"/_notary_server/health",
	} {
		f.Add("GET", p)
	}
	f.Add("POST", "/v2/example.com/fuzz/_trust/tuf/snapshot.key")
	f.Add("DELETE", "/v2/x/_trust/tuf/")
	f.Fuzz(func(t *testing.T, method, target string) {
		switch method {
		case "GET", "POST", "PUT", "HEAD", "DELETE", "PATCH":
		default:
			return
		}
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		if strings.Contains(target, "/metrics") {
			return // the Prometheus handler is not ours to fuzz
		}
		req, err := http.NewRequest(method, "http://fuzz"+target, nil)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body)
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz seed files from the
// fixtures; run with NOTARY_WRITE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("NOTARY_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set NOTARY_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz")
	}
	fx := newFuzzFixture(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzUpdate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{
		"valid-targets-and-delegation": updateBody(t, fx.good),
		"delegation-only":              updateBody(t, fx.good[1:]),
		"root-reupload":                updateBody(t, []api.Part{{Role: "root", Data: fx.repo.Files["root"]}}),
		"two-parts-same-role":          updateBody(t, []api.Part{fx.good[0], fx.good[0]}),
		"nested-boundary": []byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"targets\"\r\n\r\n" +
			"--" + fuzzBoundary + "\r\n\r\n--" + fuzzBoundary + "--\r\n"),
	}
	for name, b := range bodies {
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rdir := filepath.Join("testdata", "fuzz", "FuzzRequest")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{
		"/v2/example.com/fuzz/_trust/tuf/targets/releases.3b7e72edbcf8ec6b8d0c03a5a0b1f1cf0a7d9bc1f0d6b1e0c4c6a4c2e0a1b2c3.json",
		"/v2/example.com/fuzz/_trust/tuf/999999999999999999999999.root.json",
		"/v2/example.com%2Ffuzz/_trust/tuf/root.json",
		"/v2/_trust/changefeed?records=-2147483648&change_id=-9223372036854775808",
	} {
		content := fmt.Sprintf("go test fuzz v1\nstring(%q)\nstring(%q)\n", "GET", p)
		if err := os.WriteFile(filepath.Join(rdir, fmt.Sprintf("seed-%d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = context.Background
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
