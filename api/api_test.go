package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/api"
)

func TestParsePath(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		path string
		want api.Route
	}{
		{"/v2/", api.Route{Kind: api.RouteBase}},
		{"/_notary_server/health", api.Route{Kind: api.RouteHealth}},
		{"/metrics", api.Route{Kind: api.RouteMetrics}},
		{"/v2/_trust/changefeed", api.Route{Kind: api.RouteGlobalChangefeed}},
		{"/v2/docker.io/library/alpine/_trust/changefeed", api.Route{Kind: api.RouteChangefeed, GUN: "docker.io/library/alpine"}},
		{"/v2/docker.io/library/alpine/_trust/tuf/", api.Route{Kind: api.RouteUpdate, GUN: "docker.io/library/alpine"}},
		{"/v2/g/_trust/tuf/root.json", api.Route{Kind: api.RouteMeta, GUN: "g", Role: "root"}},
		{"/v2/g/_trust/tuf/targets/releases.json", api.Route{Kind: api.RouteMeta, GUN: "g", Role: "targets/releases"}},
		{"/v2/g/_trust/tuf/targets/Upper.json", api.Route{Kind: api.RouteMeta, GUN: "g", Role: "targets/Upper"}},
		{"/v2/g/_trust/tuf/snapshot." + hex64 + ".json", api.Route{Kind: api.RouteMetaHash, GUN: "g", Role: "snapshot", Checksum: hex64}},
		{"/v2/g/_trust/tuf/targets/a/b." + hex64 + ".json", api.Route{Kind: api.RouteMetaHash, GUN: "g", Role: "targets/a/b", Checksum: hex64}},
		{"/v2/g/_trust/tuf/3.root.json", api.Route{Kind: api.RouteMetaVersion, GUN: "g", Role: "root", Version: 3}},
		{"/v2/g/_trust/tuf/01.root.json", api.Route{Kind: api.RouteMetaVersion, GUN: "g", Role: "root", Version: 1}},
		{"/v2/g/_trust/tuf/12.targets/x.json", api.Route{Kind: api.RouteMetaVersion, GUN: "g", Role: "targets/x", Version: 12}},
		{"/v2/g/_trust/tuf/timestamp.key", api.Route{Kind: api.RouteKey, GUN: "g", Role: "timestamp"}},
		{"/v2/g/_trust/tuf/snapshot.key", api.Route{Kind: api.RouteKey, GUN: "g", Role: "snapshot"}},
		// Greedy GUN: the longest GUN that leaves a valid file wins.
		{"/v2/a/_trust/tuf/b/_trust/tuf/root.json", api.Route{Kind: api.RouteMeta, GUN: "a/_trust/tuf/b", Role: "root"}},
		{"/v2/g/_trust/tuf/targets/_trust/tuf/x.json", api.Route{Kind: api.RouteMeta, GUN: "g", Role: "targets/_trust/tuf/x"}},
		// Not routed.
		{"/v2/g/_trust/tuf/root.key", api.Route{}},
		{"/v2/g/_trust/tuf/TARGETS.json", api.Route{}},
		{"/v2/g/_trust/tuf/foo.json", api.Route{}},
		{"/v2/g/_trust/tuf/root." + hex64[:63] + ".json", api.Route{}},
		{"/v2/a*b/_trust/tuf/root.json", api.Route{}},
		{"/v2//_trust/tuf/root.json", api.Route{}},
		{"/v2", api.Route{}},
		{"/", api.Route{}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := api.ParsePath(tc.path); got != tc.want {
				t.Errorf("ParsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
			}
		})
	}
}

func TestPathBuildersRoundTrip(t *testing.T) {
	gun := "registry.example.com:5000/team/app"
	for _, tc := range []struct {
		path string
		want api.Route
	}{
		{api.UpdatePath(gun), api.Route{Kind: api.RouteUpdate, GUN: gun}},
		{api.MetaPath(gun, "targets/releases"), api.Route{Kind: api.RouteMeta, GUN: gun, Role: "targets/releases"}},
		{api.MetaHashPath(gun, "root", strings.Repeat("0", 64)), api.Route{Kind: api.RouteMetaHash, GUN: gun, Role: "root", Checksum: strings.Repeat("0", 64)}},
		{api.MetaVersionPath(gun, "snapshot", 7), api.Route{Kind: api.RouteMetaVersion, GUN: gun, Role: "snapshot", Version: 7}},
		{api.KeyPath(gun, "timestamp"), api.Route{Kind: api.RouteKey, GUN: gun, Role: "timestamp"}},
		{api.ChangefeedPath(gun), api.Route{Kind: api.RouteChangefeed, GUN: gun}},
		{api.ChangefeedPath(""), api.Route{Kind: api.RouteGlobalChangefeed}},
	} {
		if got := api.ParsePath(tc.path); got != tc.want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	f.Add("/v2/a/_trust/tuf/targets/x.json")
	f.Add("/v2/a/_trust/tuf/1.root.json")
	f.Add("/v2/a/_trust/changefeed")
	f.Fuzz(func(t *testing.T, p string) {
		r := api.ParsePath(p)
		if r.Kind == api.RouteUnknown {
			return
		}
		if r.GUN != "" && strings.Contains(r.GUN, "*") {
			t.Fatalf("GUN %q holds a *", r.GUN)
		}
		// The builders reproduce every routed path.
		var back string
		switch r.Kind {
		case api.RouteMeta:
			back = api.MetaPath(r.GUN, r.Role)
		case api.RouteMetaHash:
			back = api.MetaHashPath(r.GUN, r.Role, r.Checksum)
		case api.RouteKey:
			back = api.KeyPath(r.GUN, r.Role)
		case api.RouteUpdate:
			back = api.UpdatePath(r.GUN)
		default:
			return
		}
		if back != p {
			t.Fatalf("ParsePath(%q) = %+v, which builds %q", p, r, back)
		}
	})
}

// TestValidationErrorWire checks the INVALID_UPDATE detail against the
// exact JSON v1's SerializableError produces and parses.
func TestValidationErrorWire(t *testing.T) {
	for _, tc := range []struct {
		err  api.ValidationError
		wire string
		text string
	}{
		{api.ValidationError{Name: api.ErrNameBadRoot, Msg: "m"}, `{"Name":"ErrBadRoot","Error":{"Msg":"m"}}`, "The root metadata is invalid: m"},
		{api.ValidationError{Name: api.ErrNameValidation, Msg: "no pre-existing root and no root provided in update."},
			`{"Name":"ErrValidation","Error":{"Msg":"no pre-existing root and no root provided in update."}}`,
			"An error occurred during validation: no pre-existing root and no root provided in update."},
		{api.ValidationError{Name: api.ErrNameBadHierarchy, Missing: "snapshot", Msg: "x"}, `{"Name":"ErrBadHierarchy","Error":{"Missing":"snapshot","Msg":"x"}}`, "Metadata hierarchy is incomplete: x"},
		{api.ValidationError{Name: api.ErrNameBadTargets, Msg: "<&>"}, `{"Name":"ErrBadTargets","Error":{"Msg":"\u003c\u0026\u003e"}}`, "The targets metadata is invalid: <&>"},
		{api.ValidationError{Name: api.ErrNameBadSnapshot, Msg: "s"}, `{"Name":"ErrBadSnapshot","Error":{"Msg":"s"}}`, "The snapshot metadata is invalid: s"},
	} {
		b, err := json.Marshal(&tc.err)
		if err != nil || string(b) != tc.wire {
			t.Errorf("Marshal(%+v) = %s (%v), want %s", tc.err, b, err, tc.wire)
		}
		var back api.ValidationError
		if err := json.Unmarshal([]byte(tc.wire), &back); err != nil || back != tc.err {
			t.Errorf("Unmarshal(%s) = %+v (%v), want %+v", tc.wire, back, err, tc.err)
		}
		if back.Error() != tc.text {
			t.Errorf("Error() = %q, want %q", back.Error(), tc.text)
		}
	}
	var v api.ValidationError
	if err := json.Unmarshal([]byte(`{"Name":"ErrOther","Error":{}}`), &v); err == nil {
		t.Error("unknown validation error name accepted")
	}
}

func TestWriteErrorBody(t *testing.T) {
	rec := httptest.NewRecorder()
	api.WriteError(rec, api.NewError(api.CodeOldVersion, api.EmptyDetail))
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	want := `{"errors":[{"code":"VERSION","message":"A newer version of metadata is already available.","detail":{}}]}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("body %q, want %q", rec.Body, want)
	}
}

// TestMultipartRoundTrip checks the update body: v1's part headers, and
// raw filenames keeping "/" (not multipart.Part.FileName's base name).
func TestMultipartRoundTrip(t *testing.T) {
	parts := []api.Part{{Role: "root", Data: []byte("r")}, {Role: "targets/releases", Data: []byte("d")}}
	var buf bytes.Buffer
	ct, err := api.WriteUpdate(&buf, parts)
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(&buf, params["boundary"])
	var got []api.Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `form-data; name="files"; filename="`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := p.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("part Content-Type %q", ct)
		}
		role, err := api.PartRole(p.Header)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		got = append(got, api.Part{Role: role, Data: data})
	}
	if diff := cmp.Diff(parts, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ cd, want string }{
		{`form-data; name="files"; filename="targets.json"`, "targets"},
		{`form-data; filename="targets/a/b"`, "targets/a/b"},
		{`form-data; filename*=UTF-8''targets%2Freleases`, "targets/releases"},
		{`attachment; filename="root"`, "root"},
	} {
		h := map[string][]string{"Content-Disposition": {tc.cd}}
		if got, err := api.PartRole(h); err != nil || got != tc.want {
			t.Errorf("PartRole(%s) = %q, %v; want %q", tc.cd, got, err, tc.want)
		}
	}
	for _, cd := range []string{"", `form-data; name="files"`, `form-data; filename=""`, `form-data; filename=".json"`, "garbage;;"} {
		if _, err := api.PartRole(map[string][]string{"Content-Disposition": {cd}}); !errors.Is(err, api.ErrNoFilename) {
			t.Errorf("PartRole(%q) = %v, want ErrNoFilename", cd, err)
		}
	}
}

// TestClient checks the client against a scripted server: requests, size
// limits and the error mapping of v1's translateStatusToError.
func TestClient(t *testing.T) {
	ctx := context.Background()
	var lastReq *http.Request
	var lastBody []byte
	mux := http.NewServeMux()
	respond := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			lastReq = r
			lastBody, _ = io.ReadAll(r.Body)
			if status != 200 {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	mux.HandleFunc("GET /prefix/v2/g/x/_trust/tuf/timestamp.json", respond(200, "ts"))
	mux.HandleFunc("GET /prefix/v2/g/x/_trust/tuf/targets/rel.0123.json", respond(200, "0123456789"))
	mux.HandleFunc("GET /prefix/v2/g/x/_trust/tuf/3.root.json", respond(404, `{"errors":[{"code":"METADATA_NOT_FOUND","message":"m","detail":{}}]}`))
	mux.HandleFunc("GET /prefix/v2/g/x/_trust/tuf/snapshot.key", respond(200, `{"keytype":"ecdsa","keyval":{"public":"AQID","private":null}}`))
	mux.HandleFunc("POST /prefix/v2/g/x/_trust/tuf/timestamp.key", respond(503, `{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}`))
	mux.HandleFunc("POST /prefix/v2/g/x/_trust/tuf/", respond(400, `{"errors":[{"code":"INVALID_UPDATE","message":"m","detail":{"Name":"ErrBadTargets","Error":{"Msg":"bad"}}}]}`))
	mux.HandleFunc("DELETE /prefix/v2/g/x/_trust/tuf/", respond(400, `{"errors":[{"code":"VERSION","message":"m","detail":{}}]}`))
	mux.HandleFunc("GET /prefix/v2/g/x/_trust/changefeed", respond(200, `{"count":1,"records":[{"ID":"7","CreatedAt":"2026-01-01T00:00:00Z","GUN":"g/x","Version":3,"SHA256":"ab","Category":"update"}]}`))
	mux.HandleFunc("GET /prefix/v2/_trust/changefeed", respond(401, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
	mux.HandleFunc("GET /prefix/v2/", respond(200, "{}"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := api.NewClient(srv.URL+"/prefix/", "g/x", api.ClientOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.GetMeta(ctx, "timestamp", 0); err != nil || string(b) != "ts" {
		t.Errorf("GetMeta = %q, %v", b, err)
	}
	if b, err := c.GetMetaByHash(ctx, "targets/rel", "0123", 10); err != nil || len(b) != 10 {
		t.Errorf("GetMetaByHash at the limit = %q, %v", b, err)
	}
	if _, err := c.GetMetaByHash(ctx, "targets/rel", "0123", 9); !errors.Is(err, api.ErrTooLarge) {
		t.Errorf("GetMetaByHash over the limit: %v, want ErrTooLarge", err)
	}
	_, err = c.GetMetaByVersion(ctx, "root", 3, 0)
	if !errors.Is(err, api.ErrNotFound) || !api.IsNotFound(err) {
		t.Errorf("404: %v, want ErrNotFound", err)
	}
	if k, err := c.GetKey(ctx, "snapshot"); err != nil || k.Type != "ecdsa" || string(k.Public) != "\x01\x02\x03" {
		t.Errorf("GetKey = %+v, %v", k, err)
	}
	if _, err := c.RotateKey(ctx, "timestamp"); !errors.Is(err, api.ErrUnavailable) || errors.Is(err, api.ErrRejected) {
		t.Errorf("503: %v, want ErrUnavailable", err)
	}
	err = c.Publish(ctx, []api.Part{{Role: "targets/rel", Data: []byte("x")}})
	var ve *api.ValidationError
	if !errors.As(err, &ve) || ve.Name != api.ErrNameBadTargets || ve.Msg != "bad" || !errors.Is(err, api.ErrInvalidUpdate) {
		t.Errorf("400 INVALID_UPDATE: %v", err)
	}
	if ct := lastReq.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/form-data; boundary=") || !bytes.Contains(lastBody, []byte(`filename="targets/rel"`)) {
		t.Errorf("publish request: %s %q", ct, lastBody)
	}
	if err := c.Delete(ctx); !errors.Is(err, api.ErrVersion) || !errors.Is(err, api.ErrRejected) {
		t.Errorf("400 VERSION: %v, want ErrVersion and ErrRejected", err)
	}
	cf, err := c.Changefeed(ctx, "", 5)
	if err != nil || cf.Count != 1 || cf.Records[0].ID != "7" {
		t.Errorf("Changefeed = %+v, %v", cf, err)
	}
	if q := lastReq.URL.Query(); q.Get("records") != "5" || !q.Has("change_id") {
		t.Errorf("changefeed query %q", lastReq.URL.RawQuery)
	}
	if _, err := c.GlobalChangefeed(ctx, "0", 1); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("401: %v, want ErrUnauthorized", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// A network failure.
	srv.Close()
	var ne *api.NetworkError
	if _, err := c.GetMeta(ctx, "root", 0); !errors.As(err, &ne) {
		t.Errorf("closed server: %v, want *NetworkError", err)
	}
	if _, err := api.NewClient("not a url", "g", api.ClientOptions{}); err == nil {
		t.Error("NewClient accepted a relative URL")
	}
}

func TestIsNoTimestampKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"v1's refusal", &api.ValidationError{Name: api.ErrNameBadRoot, Msg: api.TextNoTimestampKey}, true},
		{"wrapped", fmt.Errorf("publish: %w", &api.ValidationError{Name: api.ErrNameBadRoot, Msg: api.TextNoTimestampKey}), true},
		{"another root refusal", &api.ValidationError{Name: api.ErrNameBadRoot, Msg: api.TextRootRotationFailed + ": " + api.TextCertsMismatch}, false},
		{"another role", &api.ValidationError{Name: api.ErrNameBadTargets, Msg: api.TextNoTimestampKey}, false},
		{"not a validation error", errors.New(api.TextNoTimestampKey), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := api.IsNoTimestampKey(tc.err); got != tc.want {
				t.Errorf("IsNoTimestampKey = %v, want %v", got, tc.want)
			}
		})
	}
}
