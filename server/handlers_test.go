package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, h *servertest.Harness, method, path string, body []byte, contentType string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.HTTP.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// errorOf decodes an error body, which must hold exactly one error.
func errorOf(t testing.TB, r response) (code api.Code, detail json.RawMessage, hasDetail bool) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("error Content-Type = %q, want application/json; charset=utf-8", ct)
	}
	var raw struct {
		Errors []map[string]json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil || len(raw.Errors) != 1 {
		t.Fatalf("error body %q: want one error (%v)", r.body, err)
	}
	e := raw.Errors[0]
	if err := json.Unmarshal(e["code"], &code); err != nil {
		t.Fatalf("error code in %s: %v", r.body, err)
	}
	var msg string
	_ = json.Unmarshal(e["message"], &msg)
	if msg != code.Message() {
		t.Errorf("message = %q, want %q", msg, code.Message())
	}
	detail, hasDetail = e["detail"]
	return code, detail, hasDetail
}

const (
	currentCache    = "public, max-age=300, s-maxage=300, must-revalidate"
	consistentCache = "public, max-age=2592000, s-maxage=2592000"
)

// TestRoutes checks every route of the v0.7.0 API (protocol §5.1) and the
// shape of its answers, against every storage backend.
func TestRoutes(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			h := servertest.Start(t, b.Open(t), server.Options{})
			const gun = "example.com/app"
			r := h.NewRepo(t, gun, true)
			if err := r.AddDelegation("targets/releases", ""); err != nil {
				t.Fatal(err)
			}
			if err := r.AddTarget("targets/releases", "v1", []byte("one")); err != nil {
				t.Fatal(err)
			}
			parts, err := r.Publish(tuf.RoleTargets, "targets/releases")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Client(t, gun).Publish(context.Background(), parts); err != nil {
				t.Fatalf("publishing a delegation: %v", err)
			}
			rootSHA := servertest.SHA256Hex(r.Files[tuf.RoleRoot])
			base := "/v2/" + gun + "/_trust/tuf/"

			type want struct {
				status    int
				code      api.Code // "" for a success
				detail    string   // expected raw detail; "-" for none
				body      []byte   // expected body of a success, if not nil
				cache     string   // expected Cache-Control of a success
				substring string   // the success body contains this
			}
			for _, tc := range []struct {
				name, method, path string
				want               want
			}{
				{"Base", "GET", "/v2/", want{status: 200, body: []byte("{}")}},
				{"Health", "GET", "/_notary_server/health", want{status: 200, body: []byte("{}")}},
				{"Metrics", "GET", "/metrics", want{status: 200, substring: "notary_server_http_requests_total"}},
				{"CatchAll", "GET", "/nothing/here", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"CatchAllPut", "PUT", base + "root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"CatchAllGetUpdatePath", "GET", base, want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"CatchAllRootKey", "GET", base + "root.key", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"CatchAllPostTargetsKey", "POST", base + "targets.key", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"CatchAllUppercaseRole", "GET", base + "TARGETS.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"Root", "GET", base + "root.json", want{status: 200, body: r.Files[tuf.RoleRoot], cache: currentCache}},
				{"Targets", "GET", base + "targets.json", want{status: 200, body: r.Files[tuf.RoleTargets], cache: currentCache}},
				{"Delegation", "GET", base + "targets/releases.json", want{status: 200, body: r.Files["targets/releases"], cache: currentCache}},
				{"Snapshot", "GET", base + "snapshot.json", want{status: 200, substring: `"_type":"Snapshot"`, cache: currentCache}},
				{"Timestamp", "GET", base + "timestamp.json", want{status: 200, substring: `"_type":"Timestamp"`, cache: currentCache}},
				{"RootByHash", "GET", base + "root." + rootSHA + ".json", want{status: 200, body: r.Files[tuf.RoleRoot], cache: consistentCache}},
				{"RootByVersion", "GET", base + "1.root.json", want{status: 200, body: r.Files[tuf.RoleRoot], cache: consistentCache}},
				{"TargetsByVersion", "GET", base + "2.targets.json", want{status: 200, body: r.Files[tuf.RoleTargets], cache: consistentCache}},
				{"VersionZero", "GET", base + "0.root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"VersionMissing", "GET", base + "99.root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"HashMissing", "GET", base + "root." + strings.Repeat("a", 64) + ".json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"HashUppercase", "GET", base + "root." + strings.ToUpper(rootSHA) + ".json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"UnknownDelegation", "GET", base + "targets/nope.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"InvalidDelegationName", "GET", base + "targets/Upper.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"UnknownGUN", "GET", "/v2/example.com/none/_trust/tuf/root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"UnknownGUNTimestamp", "GET", "/v2/example.com/none/_trust/tuf/timestamp.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"DotDotGUN", "GET", "/v2/a/../b/_trust/tuf/root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "{}"}},
				{"StarGUN", "GET", "/v2/a*b/_trust/tuf/root.json", want{status: 404, code: api.CodeMetadataNotFound, detail: "-"}},
				{"TimestampKey", "GET", base + "timestamp.key", want{status: 200, substring: `"keyval":{"public":"`}},
				{"SnapshotKey", "GET", base + "snapshot.key", want{status: 200, substring: `,"private":null}}`}},
				{"DeleteBadGUN", "DELETE", "/v2/a..b/_trust/tuf/", want{status: 400, code: api.CodeInvalidGUN, detail: `"GUN contains \"..\""`}},
				{"GlobalChangefeed", "GET", "/v2/_trust/changefeed?records=10", want{status: 200, substring: `"Category":"update"`}},
				{"GUNChangefeed", "GET", "/v2/" + gun + "/_trust/changefeed?records=-1&change_id=-1", want{status: 200, substring: `"count":1,`}},
				{"ChangefeedNoRecords", "GET", "/v2/_trust/changefeed", want{status: 400, code: api.CodeInvalidParams, detail: `"invalid records parameter: strconv.ParseInt: parsing \"\": invalid syntax"`}},
				{"ChangefeedRecordsOverflow", "GET", "/v2/_trust/changefeed?records=99999999999", want{status: 400, code: api.CodeInvalidParams, detail: `"invalid records parameter: strconv.ParseInt: parsing \"99999999999\": value out of range"`}},
				{"ChangefeedBadChangeID", "GET", "/v2/_trust/changefeed?records=1&change_id=x", want{status: 400, code: api.CodeInvalidParams, detail: "{}"}},
				{"ChangefeedUnknownGUN", "GET", "/v2/example.com/none/_trust/changefeed?records=0", want{status: 200, body: []byte(`{"count":0,"records":[]}`)}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := do(t, h, tc.method, tc.path, nil, "")
					if got.status != tc.want.status {
						t.Fatalf("%s %s: status %d, want %d (body %s)", tc.method, tc.path, got.status, tc.want.status, got.body)
					}
					if tc.want.code != "" {
						code, detail, has := errorOf(t, got)
						if code != tc.want.code {
							t.Errorf("code %s, want %s", code, tc.want.code)
						}
						switch {
						case tc.want.detail == "-" && has:
							t.Errorf("detail %s, want none", detail)
						case tc.want.detail != "-" && string(detail) != tc.want.detail:
							t.Errorf("detail %s, want %s", detail, tc.want.detail)
						}
						return
					}
					if tc.want.body != nil && !bytes.Equal(got.body, tc.want.body) {
						t.Errorf("body %q, want %q", got.body, tc.want.body)
					}
					if tc.want.substring != "" && !bytes.Contains(got.body, []byte(tc.want.substring)) {
						t.Errorf("body %q does not contain %q", got.body, tc.want.substring)
					}
					if cc := got.header.Get("Cache-Control"); cc != tc.want.cache {
						t.Errorf("Cache-Control %q, want %q", cc, tc.want.cache)
					}
					if tc.want.cache != "" && !strings.HasSuffix(got.header.Get("Last-Modified"), " UTC") {
						t.Errorf("Last-Modified %q, want an RFC 1123 time in UTC", got.header.Get("Last-Modified"))
					}
				})
			}
		})
	}
}

// TestMethodNotRouted checks that methods v0.7.0 never routes get 405.
func TestMethodNotRouted(t *testing.T) {
	h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{})
	got := do(t, h, "PATCH", "/v2/", nil, "")
	if got.status != http.StatusMethodNotAllowed {
		t.Errorf("PATCH /v2/: status %d, want 405", got.status)
	}
	got = do(t, h, "HEAD", "/v2/x/_trust/tuf/root.json", nil, "")
	if got.status != http.StatusNotFound {
		t.Errorf("HEAD root.json: status %d, want 404 (HEAD is not routed in v0.7.0)", got.status)
	}
}

// TestCacheControlConfig checks caching.max_age settings (protocol §5.4).
func TestCacheControlConfig(t *testing.T) {
	for _, tc := range []struct {
		name                string
		current, consistent string
		opts                server.Options
		pragma              string
	}{
		{name: "Disabled", opts: server.Options{CurrentMaxAge: -1, ConsistentMaxAge: -1},
			current: "max-age=0, no-cache, no-store", consistent: "max-age=0, no-cache, no-store", pragma: "no-cache"},
		{name: "Custom", opts: server.Options{CurrentMaxAge: 60e9, ConsistentMaxAge: 3600e9},
			current: "public, max-age=60, s-maxage=60, must-revalidate", consistent: "public, max-age=3600, s-maxage=3600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := servertest.Start(t, servertest.Backends()[0].Open(t), tc.opts)
			h.NewRepo(t, "gun", true)
			got := do(t, h, "GET", "/v2/gun/_trust/tuf/root.json", nil, "")
			if cc := got.header.Get("Cache-Control"); cc != tc.current {
				t.Errorf("current Cache-Control %q, want %q", cc, tc.current)
			}
			if p := got.header.Get("Pragma"); p != tc.pragma {
				t.Errorf("Pragma %q, want %q", p, tc.pragma)
			}
			got = do(t, h, "GET", "/v2/gun/_trust/tuf/1.root.json", nil, "")
			if cc := got.header.Get("Cache-Control"); cc != tc.consistent {
				t.Errorf("consistent Cache-Control %q, want %q", cc, tc.consistent)
			}
		})
	}
	if _, err := server.New(server.Options{Store: servertest.Backends()[0].Open(t), CurrentMaxAge: server.MaxCacheMaxAge + 1}); err == nil {
		t.Error("New accepted a max-age above one year")
	}
}

// TestGUNPrefixes checks repositories.gun_prefixes (protocol §5.1): 400
// INVALID_GUN on update, 404 elsewhere.
func TestGUNPrefixes(t *testing.T) {
	h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{GUNPrefixes: []string{"a/", "b/"}})
	h.NewRepo(t, "a/app", true)
	got := do(t, h, "POST", "/v2/c/app/_trust/tuf/", []byte("x"), "multipart/form-data; boundary=x")
	if code, detail, _ := errorOf(t, got); got.status != 400 || code != api.CodeInvalidGUN || string(detail) != `"Require GUNs with prefix: [a/ b/]"` {
		t.Errorf("POST outside prefixes: %d %s", got.status, got.body)
	}
	for _, p := range []string{"/v2/c/app/_trust/tuf/root.json", "/v2/c/app/_trust/tuf/timestamp.key", "/v2/c/app/_trust/changefeed?records=1"} {
		got := do(t, h, "GET", p, nil, "")
		if code, _, has := errorOf(t, got); got.status != 404 || code != api.CodeMetadataNotFound || has {
			t.Errorf("GET %s outside prefixes: %d %s", p, got.status, got.body)
		}
	}
	if got := do(t, h, "GET", "/v2/a/app/_trust/tuf/root.json", nil, ""); got.status != 200 {
		t.Errorf("GET inside prefixes: %d", got.status)
	}
	if _, err := server.New(server.Options{Store: servertest.Backends()[0].Open(t), GUNPrefixes: []string{"noslash"}}); err == nil {
		t.Error("New accepted a prefix without a trailing slash")
	}
}

// TestDelete checks DELETE of a collection: everything goes, one
// deletion row is written, and the GUN can start again at version 1.
func TestDelete(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			h := servertest.Start(t, b.Open(t), server.Options{})
			h.NewRepo(t, "example.com/del", true)
			h.NewRepo(t, "example.com/del/keep", true)
			c := h.Client(t, "example.com/del")
			if err := c.Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"root.json", "1.root.json", "timestamp.json"} {
				if got := do(t, h, "GET", "/v2/example.com/del/_trust/tuf/"+p, nil, ""); got.status != 404 {
					t.Errorf("GET %s after delete: %d", p, got.status)
				}
			}
			if got := do(t, h, "GET", "/v2/example.com/del/keep/_trust/tuf/root.json", nil, ""); got.status != 200 {
				t.Errorf("DELETE of a GUN removed a GUN it is a prefix of: %d", got.status)
			}
			cf, err := c.Changefeed(context.Background(), "-1", -1)
			if err != nil {
				t.Fatal(err)
			}
			if cf.Count != 1 || cf.Records[0].Category != "deletion" || cf.Records[0].Version != 0 {
				t.Errorf("last changefeed row after delete: %+v", cf.Records)
			}
			// Deleting again (nothing stored) succeeds and writes no row.
			if err := c.Delete(context.Background()); err != nil {
				t.Fatal(err)
			}
			all, _ := h.Client(t, "").GlobalChangefeed(context.Background(), "", 100)
			if all.Count != 3 { // two updates, one deletion
				t.Errorf("global changefeed has %d rows, want 3: %+v", all.Count, all.Records)
			}
			h.NewRepo(t, "example.com/del", true) // starts afresh at version 1
		})
	}
}
