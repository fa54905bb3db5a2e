package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// routeCase is one row of v0.7.0's route table (protocol §5.1) with the
// access it needs.
type routeCase struct {
	method, path string
	gun          string
	actions      []string // on repository:gun; nil with catalog=false means open
	catalog      bool
}

var h64 = strings.Repeat("ab", 32)

// routeTable covers every route of protocol §5.1 plus the catch-all.
var routeTable = []routeCase{
	{method: "GET", path: "/v2/", catalog: true},
	{method: "POST", path: "/v2/example.com/foo/_trust/tuf/", gun: "example.com/foo", actions: []string{"push", "pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/root.json", gun: "example.com/foo", actions: []string{"pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/targets/releases.json", gun: "example.com/foo", actions: []string{"pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/snapshot." + h64 + ".json", gun: "example.com/foo", actions: []string{"pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/3.root.json", gun: "example.com/foo", actions: []string{"pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/timestamp.key", gun: "example.com/foo", actions: []string{"push", "pull"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/snapshot.key", gun: "example.com/foo", actions: []string{"push", "pull"}},
	{method: "POST", path: "/v2/example.com/foo/_trust/tuf/timestamp.key", gun: "example.com/foo", actions: []string{"*"}},
	{method: "POST", path: "/v2/example.com/foo/_trust/tuf/snapshot.key", gun: "example.com/foo", actions: []string{"*"}},
	{method: "DELETE", path: "/v2/example.com/foo/_trust/tuf/", gun: "example.com/foo", actions: []string{"*"}},
	{method: "GET", path: "/v2/example.com/foo/_trust/changefeed", gun: "example.com/foo", actions: []string{"pull"}},
	{method: "GET", path: "/v2/_trust/changefeed", catalog: true},
	{method: "GET", path: "/_notary_server/health"},
	{method: "GET", path: "/metrics"},
	// The catch-all: every other GET/POST/PUT/HEAD/DELETE.
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/", catalog: true},
	{method: "PUT", path: "/v2/example.com/foo/_trust/tuf/root.json", catalog: true},
	{method: "HEAD", path: "/v2/example.com/foo/_trust/tuf/root.json", catalog: true},
	{method: "DELETE", path: "/v2/example.com/foo/_trust/tuf/root.json", catalog: true},
	{method: "POST", path: "/v2/example.com/foo/_trust/tuf/root.json", catalog: true},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/TARGETS.json", catalog: true},
	{method: "GET", path: "/v2/example.com/foo/_trust/tuf/root.key", catalog: true},
	{method: "POST", path: "/metrics", catalog: true},
	{method: "HEAD", path: "/_notary_server/health", catalog: true},
	{method: "GET", path: "/", catalog: true},
	{method: "GET", path: "/v2/*/_trust/tuf/root.json", catalog: true},
	// Methods v0.7.0 does not route: 405 without auth.
	{method: "PATCH", path: "/v2/example.com/foo/_trust/tuf/"},
	{method: "OPTIONS", path: "/v2/"},
}

func (rc routeCase) want() []Access {
	switch {
	case rc.catalog:
		return []Access{CatalogAccess}
	case rc.actions != nil:
		return RepositoryAccess(rc.gun, rc.actions...)
	}
	return nil
}

func TestRequiredAccess(t *testing.T) {
	for _, rc := range routeTable {
		t.Run(rc.method+" "+rc.path, func(t *testing.T) {
			got, gun, open := RequiredAccess(rc.method, rc.path)
			if want := rc.want(); !cmp.Equal(got, want) || open != (want == nil) || gun != rc.gun {
				t.Errorf("RequiredAccess = %v, gun %q, open %v; want %v, gun %q", got, gun, open, want, rc.gun)
			}
		})
	}
}

func TestScopeParam(t *testing.T) {
	for _, tc := range []struct {
		access []Access
		want   string
	}{
		{RepositoryAccess("example.com/foo", "push", "pull"), "repository:example.com/foo:push,pull"},
		{[]Access{CatalogAccess}, "registry:catalog:*"},
		{append(RepositoryAccess("a", "pull", "pull"), RepositoryAccess("b", "*")...), "repository:a:pull repository:b:*"},
		{nil, ""},
	} {
		if got := scopeParam(tc.access); got != tc.want {
			t.Errorf("scopeParam(%v) = %q, want %q", tc.access, got, tc.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ResourceActions
		err  bool
	}{
		{in: "repository:example.com/foo:pull", want: ResourceActions{Type: "repository", Name: "example.com/foo", Actions: []string{"pull"}}},
		{in: "repository:example.com/foo:push,pull", want: ResourceActions{Type: "repository", Name: "example.com/foo", Actions: []string{"push", "pull"}}},
		{in: "repository:localhost:5000/foo/bar:pull,push,pull", want: ResourceActions{Type: "repository", Name: "localhost:5000/foo/bar", Actions: []string{"pull", "push"}}},
		{in: "registry:catalog:*", want: ResourceActions{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		{in: "repository(plugin):vieux/sshfs:pull", want: ResourceActions{Type: "repository", Class: "plugin", Name: "vieux/sshfs", Actions: []string{"pull"}}},
		{in: "repository:a,b:pull", want: ResourceActions{Type: "repository", Name: "a,b", Actions: []string{"pull"}}},
		{in: "repository:foo", err: true},
		{in: "repository::pull", err: true},
		{in: "repository:foo:", err: true},
		{in: ":foo:pull", err: true},
		{in: "Repository:foo:pull", err: true},
		{in: "repository:foo:pu ll", err: true},
		{in: "repository:fo o:pull", err: true},
		{in: "repository:foo:pull,", err: true},
		{in: "repository(:foo:pull", err: true},
		{in: "repository():foo:pull", err: true},
		{in: "repository:foo\x00:pull", err: true},
		{in: "repository:" + strings.Repeat("a", 2000) + ":pull", err: true},
		{in: "", err: true},
	} {
		got, err := ParseScope(tc.in)
		if tc.err {
			if err == nil || !errors.Is(err, ErrInvalidScope) {
				t.Errorf("ParseScope(%q) = %v, %v; want ErrInvalidScope", tc.in, got, err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if err == nil {
			again, err := ParseScope(got.String())
			if err != nil || !cmp.Equal(again, got) {
				t.Errorf("ParseScope(String()) = %+v, %v; want %+v", again, err, got)
			}
		}
	}
}
