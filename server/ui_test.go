package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
)

const wantCSP = "default-src 'none'; style-src 'self'; img-src 'self'"

// scopeAuth is an auth.Authorizer for the web view tests: a bearer token
// is a user name, granted exactly the scopes listed for it.
type scopeAuth map[string][]string

func (a scopeAuth) Authorize(r *http.Request, access []auth.Access) (*auth.Grant, error) {
	ch := &auth.Challenge{Scheme: "Bearer", Realm: "https://auth.example.com/token", Service: "notary", Access: access}
	user, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		ch.Err = auth.ErrCredentialsRequired
		return nil, ch
	}
	granted, known := a[user]
	if !known {
		ch.Err = auth.ErrInvalidToken
		return nil, ch
	}
	for _, acc := range access {
		if !slices.Contains(granted, acc.Type+":"+acc.Name+":"+acc.Action) {
			ch.Err = auth.ErrInsufficientScope
			return nil, ch
		}
	}
	return &auth.Grant{User: user, Access: access}, nil
}

// Users of the tests: admin may list and pull everything, puller may pull
// only the app collection (no catalog), stranger nothing.
var uiUsers = scopeAuth{
	"admin": {"registry:catalog:*",
		"repository:" + servertest.UIAppGUN + ":pull",
		"repository:" + servertest.UIHostileGUN + ":pull",
		"repository:" + servertest.UISecretGUN + ":pull"},
	"puller":   {"repository:" + servertest.UIAppGUN + ":pull"},
	"stranger": {},
}

func uiGet(t *testing.T, h *servertest.Harness, path, user string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.HTTP.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+user)
	}
	c := h.HTTP.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
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

func gunPath(g string) string { return server.UIPrefix + "gun/" + url.PathEscape(g) }

func TestUIPages(t *testing.T) {
	h, _ := servertest.UIFixture(t, server.Options{})
	for _, tc := range []struct {
		name, path string
		status     int
		want       []string // substrings of the body
		notWant    []string
	}{
		{name: "Index", path: "/ui/", status: 200,
			want: []string{servertest.UIAppGUN, "registry.example.com/&lt;script&gt;", gunPath(servertest.UIAppGUN), servertest.UISecretGUN}},
		{name: "SearchGUN", path: "/ui/?q=team", status: 200,
			want: []string{servertest.UIAppGUN}, notWant: []string{servertest.UISecretGUN}},
		{name: "Collection", path: gunPath(servertest.UIAppGUN), status: 200,
			want: []string{
				"&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
				servertest.UIAppGUN + "@sha256:",                           // the image target's reference
				servertest.UIReleaseTarget, "release/", "targets/releases", // delegation and its target
				`class="expired"`, `class="soon"`, `class="fine"`,
				"History", "update",
				"clients check signatures and expiry for themselves",
			}},
		{name: "TargetSearch", path: gunPath(servertest.UIAppGUN) + "?t=release", status: 200,
			want: []string{servertest.UIReleaseTarget, "1 target matching"}, notWant: []string{"docs/readme.txt"}},
		{name: "HostileGUN", path: gunPath(servertest.UIHostileGUN), status: 200,
			want: []string{"registry.example.com/&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"}},
		{name: "Unknown", path: gunPath("registry.example.com/nope"), status: 404},
		{name: "NoPage", path: "/ui/nothing", status: 404},
		{name: "CSS", path: "/ui/static/style.css", status: 200, want: []string{".badge.expired"}},
		{name: "NoTemplateSource", path: "/ui/static/index.html", status: 404, notWant: []string{"{{"}},
		{name: "NoStaticListing", path: "/ui/static/", status: 404, notWant: []string{"collection.html"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := uiGet(t, h, tc.path, "")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if got := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(got, wantCSP) {
				t.Errorf("CSP %q, want it to start with %q", got, wantCSP)
			}
			body := string(r.body)
			if strings.Contains(body, "<script>") {
				t.Errorf("unescaped <script> in the page:\n%s", body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

func TestUITargetPaging(t *testing.T) {
	// The fixture's app collection has 6 targets; page 2 of a page size
	// of 100 is clamped to the last page rather than empty.
	h, _ := servertest.UIFixture(t, server.Options{})
	r := uiGet(t, h, gunPath(servertest.UIAppGUN)+"?page=99", "")
	if r.status != 200 || !strings.Contains(string(r.body), servertest.UIReleaseTarget) {
		t.Fatalf("page 99: status %d, body:\n%s", r.status, r.body)
	}
	if r := uiGet(t, h, gunPath(servertest.UIAppGUN)+"?page=x&before=y", ""); r.status != 200 {
		t.Fatalf("bad paging parameters: status %d", r.status)
	}
}

func TestUIAuth(t *testing.T) {
	h, _ := servertest.UIFixture(t, server.Options{Middleware: auth.Middleware(uiUsers, auth.MiddlewareOptions{})})
	for _, tc := range []struct {
		name, path, user string
		status           int
		want, notWant    []string
	}{
		{name: "AnonymousIndexChallenged", path: "/ui/", status: 401, notWant: []string{servertest.UIAppGUN}},
		{name: "AnonymousCollectionChallenged", path: gunPath(servertest.UIAppGUN), status: 401, notWant: []string{"release/"}},
		{name: "AdminListsAll", path: "/ui/", user: "admin", status: 200,
			want: []string{servertest.UIAppGUN, servertest.UISecretGUN}},
		{name: "PullerNoCatalog", path: "/ui/", user: "puller", status: 200,
			want: []string{"registry:catalog:*"}, notWant: []string{gunPath(servertest.UIAppGUN), gunPath(servertest.UISecretGUN)}},
		{name: "PullerNamesOwn", path: "/ui/?q=" + url.QueryEscape(servertest.UIAppGUN), user: "puller", status: 200,
			want: []string{gunPath(servertest.UIAppGUN)}},
		{name: "PullerNamesSecret", path: "/ui/?q=" + url.QueryEscape(servertest.UISecretGUN), user: "puller", status: 200,
			notWant: []string{gunPath(servertest.UISecretGUN)}},
		{name: "PullerReadsOwn", path: gunPath(servertest.UIAppGUN), user: "puller", status: 200,
			want: []string{servertest.UIReleaseTarget}},
		{name: "PullerSecretNotFound", path: gunPath(servertest.UISecretGUN), user: "puller", status: 404,
			notWant: []string{"pwned"}},
		{name: "StrangerNothing", path: gunPath(servertest.UIAppGUN), user: "stranger", status: 404,
			notWant: []string{servertest.UIReleaseTarget}},
		{name: "AdminSecret", path: gunPath(servertest.UISecretGUN), user: "admin", status: 200,
			want: []string{"pwned"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := uiGet(t, h, tc.path, tc.user)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without the API's challenge: %q", r.header.Get("WWW-Authenticate"))
			}
			if got := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(got, wantCSP) {
				t.Errorf("CSP %q", got)
			}
			body := string(r.body)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestUIDisabled(t *testing.T) {
	h, _ := servertest.UIFixture(t, server.Options{DisableUI: true})
	r := uiGet(t, h, "/ui/", "")
	if r.status != http.StatusNotFound || r.header.Get("Content-Security-Policy") != "" {
		t.Fatalf("disabled view: status %d, CSP %q", r.status, r.header.Get("Content-Security-Policy"))
	}
}

func TestUIMethodNotAllowed(t *testing.T) {
	h, _ := servertest.UIFixture(t, server.Options{})
	r := do(t, h, http.MethodPost, "/ui/", nil, "")
	if r.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST /ui/: %d", r.status)
	}
}

// TestUIListPaging: a full list page stops inside the changefeed window;
// its "older" link must continue right below the last row it examined,
// so that no collection is skipped (the first version linked below the
// whole window and lost every GUN between).
func TestUIListPaging(t *testing.T) {
	h := servertest.Start(t, memory.New(), server.Options{})
	const n = 53
	want := map[string]bool{}
	for i := range n {
		g := fmt.Sprintf("registry.example.com/team/app%02d", i)
		h.NewRepo(t, g, true)
		want[g] = true
	}
	linkRE := regexp.MustCompile(`href="/ui/gun/([^"]+)"`)
	olderRE := regexp.MustCompile(`href="(/ui/\?q=&amp;before=\d+)"`)
	got := map[string]bool{}
	path := "/ui/"
	for page := 1; path != ""; page++ {
		if page > 3 {
			t.Fatal("more than 3 pages for 53 collections")
		}
		r := uiGet(t, h, path, "")
		if r.status != 200 {
			t.Fatalf("%s: status %d", path, r.status)
		}
		links := linkRE.FindAllStringSubmatch(string(r.body), -1)
		if page == 1 && len(links) != 50 {
			t.Errorf("first page: %d collections, want 50", len(links))
		}
		for _, m := range links {
			g, err := url.PathUnescape(m[1])
			if err != nil {
				t.Fatal(err)
			}
			got[g] = true
		}
		path = ""
		if m := olderRE.FindStringSubmatch(string(r.body)); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	for g := range want {
		if !got[g] {
			t.Errorf("%s is on no page", g)
		}
	}
}
