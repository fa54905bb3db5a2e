package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/storage/memory"
)

// TestMetricsCountAuthRefusals: with the auth middleware given as
// Options.Middleware, its 401s are counted in /metrics like any other
// response (issue 19: they were not, the middleware sitting outside the
// server's instrumentation).
func TestMetricsCountAuthRefusals(t *testing.T) {
	line, err := htpasswd.Line("alice", "pw", 4)
	if err != nil {
		t.Fatal(err)
	}
	users, err := htpasswd.Parse(strings.NewReader(line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	basic, err := auth.NewBasicAuth(auth.BasicOptions{Realm: "notary", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(server.Options{
		Store:      memory.New(),
		Middleware: auth.Middleware(basic, auth.MiddlewareOptions{Logger: quiet}),
		Logger:     quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	get := func(path string, user string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, "pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for range 2 {
		if code, _ := get("/v2/example.com/app/_trust/tuf/root.json", ""); code != http.StatusUnauthorized {
			t.Fatalf("without credentials: %d, want 401", code)
		}
	}
	if code, _ := get("/v2/example.com/app/_trust/tuf/root.json", "alice"); code != http.StatusNotFound {
		t.Fatalf("with credentials: %d, want 404", code)
	}
	code, body := get("/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`notary_server_http_requests_total{code="401",method="get",operation="GetRole"} 2`,
		`notary_server_http_requests_total{code="404",method="get",operation="GetRole"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
