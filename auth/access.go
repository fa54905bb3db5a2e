package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/notary-go/notary/api"
)

// Actions and resource types of the token scopes notary-server asks for
// (docker/distribution auth.Access).
const (
	ActionPull = "pull"
	ActionPush = "push"
	// ActionAll is the literal action "*": it is required to delete a
	// collection or to rotate a server-managed key, and a token granting
	// it on a resource grants every action on that resource.
	ActionAll = "*"

	TypeRepository = "repository"
	TypeRegistry   = "registry"
)

// An Access is one action on one resource that a request needs. Its JSON
// form, {"Type":..,"Class":..,"Name":..,"Action":..}, is the detail v0.7.0
// puts in an UNAUTHORIZED error body.
type Access struct {
	Type   string
	Class  string
	Name   string
	Action string
}

// CatalogAccess is the access to the whole registry (registry:catalog:*):
// v0.7.0 asks for it on every route that names no GUN.
var CatalogAccess = Access{Type: TypeRegistry, Name: "catalog", Action: ActionAll}

// RepositoryAccess returns the access records of actions on the collection
// gun, in the given order.
func RepositoryAccess(gun string, actions ...string) []Access {
	out := make([]Access, 0, len(actions))
	for _, a := range actions {
		out = append(out, Access{Type: TypeRepository, Name: gun, Action: a})
	}
	return out
}

// RequiredAccess returns the access a request needs, from v0.7.0's route
// table (server/server.go RootHandler; protocol §5.1):
//
//	GET    /v2/                                  registry:catalog:*
//	POST   /v2/<gun>/_trust/tuf/                 push, pull
//	GET    /v2/<gun>/_trust/tuf/<role>[...].json pull (current, by hash, by version)
//	GET    /v2/<gun>/_trust/tuf/<role>.key       push, pull
//	POST   /v2/<gun>/_trust/tuf/<role>.key       *
//	DELETE /v2/<gun>/_trust/tuf/                 *
//	GET    /v2/<gun>/_trust/changefeed           pull
//	GET    /v2/_trust/changefeed                 registry:catalog:*
//	GET    /_notary_server/health, /metrics      none (open)
//	GET, POST, PUT, HEAD, DELETE anything else   registry:catalog:* (the catch-all)
//
// open reports a request that needs no authorization: health and metrics,
// and methods v0.7.0 does not route at all (answered 405 without auth).
// gun is the collection the route names, "" if none. path is the decoded
// URL path, as the router sees it.
func RequiredAccess(method, path string) (access []Access, gun string, open bool) {
	rt := api.ParsePath(path)
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead, http.MethodDelete:
	default:
		return nil, "", true
	}
	switch {
	case rt.Kind == api.RouteHealth && method == http.MethodGet,
		rt.Kind == api.RouteMetrics && method == http.MethodGet:
		return nil, "", true
	case rt.Kind == api.RouteUpdate && method == http.MethodPost:
		return RepositoryAccess(rt.GUN, ActionPush, ActionPull), rt.GUN, false
	case rt.Kind == api.RouteUpdate && method == http.MethodDelete:
		return RepositoryAccess(rt.GUN, ActionAll), rt.GUN, false
	case (rt.Kind == api.RouteMeta || rt.Kind == api.RouteMetaHash || rt.Kind == api.RouteMetaVersion) && method == http.MethodGet:
		return RepositoryAccess(rt.GUN, ActionPull), rt.GUN, false
	case rt.Kind == api.RouteKey && method == http.MethodGet:
		return RepositoryAccess(rt.GUN, ActionPush, ActionPull), rt.GUN, false
	case rt.Kind == api.RouteKey && method == http.MethodPost:
		return RepositoryAccess(rt.GUN, ActionAll), rt.GUN, false
	case rt.Kind == api.RouteChangefeed && method == http.MethodGet:
		return RepositoryAccess(rt.GUN, ActionPull), rt.GUN, false
	}
	// /v2/, the global changefeed and v0.7.0's catch-all route
	// (/{other:.*}): no GUN, so the catalog record (utils.buildCatalogRecord).
	return []Access{CatalogAccess}, "", false
}

// scopeParam renders access as the scope parameter of a challenge:
// "type:name:a,b" per resource, resources separated by spaces, actions and
// resources in first-seen order. (v0.7.0 iterates a Go map, so its order
// is random; clients treat scopes as sets.)
func scopeParam(access []Access) string {
	type res struct{ typ, name string }
	var order []res
	actions := map[res][]string{}
	for _, a := range access {
		k := res{a.Type, a.Name}
		if _, ok := actions[k]; !ok {
			order = append(order, k)
		}
		if !contains(actions[k], a.Action) {
			actions[k] = append(actions[k], a.Action)
		}
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, k.typ+":"+k.name+":"+strings.Join(actions[k], ","))
	}
	return strings.Join(parts, " ")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ResourceActions is one entry of a token's "access" claim, and of a token
// request's scope: actions granted (or asked for) on one resource.
type ResourceActions struct {
	Type    string   `json:"type"`
	Class   string   `json:"class,omitempty"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// String renders r as a scope: type[(class)]:name:action,action.
func (r ResourceActions) String() string {
	t := r.Type
	if r.Class != "" {
		t += "(" + r.Class + ")"
	}
	return t + ":" + r.Name + ":" + strings.Join(r.Actions, ",")
}

// ErrInvalidScope is returned (wrapped) by ParseScope.
var ErrInvalidScope = errors.New("auth: invalid scope")

// maxScopeLen bounds a single scope string.
const maxScopeLen = 1024

// ParseScope parses one scope of a token request, as the token
// specification defines it:
//
//	scope        := resourcetype ":" resourcename ":" action [ "," action ]*
//	resourcetype := name [ "(" class ")" ]
//
// The resource name may itself contain ":" (a registry host with a port),
// so the type ends at the first ":" and the actions start after the last.
// Types, classes and actions are [a-z0-9_-]+ (an action may also be "*");
// the name is any non-empty text without whitespace or control
// characters, matched literally. Repeated actions are dropped.
func ParseScope(s string) (ResourceActions, error) {
	bad := func(why string) (ResourceActions, error) {
		return ResourceActions{}, fmt.Errorf("%w %q: %s", ErrInvalidScope, truncateForError(s), why)
	}
	if len(s) > maxScopeLen {
		return bad("too long")
	}
	first := strings.IndexByte(s, ':')
	last := strings.LastIndexByte(s, ':')
	if first < 0 || first == last {
		return bad(`want type:name:actions`)
	}
	typ, name, acts := s[:first], s[first+1:last], s[last+1:]
	var class string
	if i := strings.IndexByte(typ, '('); i >= 0 {
		if !strings.HasSuffix(typ, ")") {
			return bad("unbalanced resource class")
		}
		typ, class = typ[:i], typ[i+1:len(typ)-1]
		if !isWord(class) {
			return bad("invalid resource class")
		}
	}
	if !isWord(typ) {
		return bad("invalid resource type")
	}
	if name == "" {
		return bad("empty resource name")
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f {
			return bad("invalid character in resource name")
		}
	}
	if acts == "" {
		return bad("no actions")
	}
	ra := ResourceActions{Type: typ, Class: class, Name: name}
	for _, a := range strings.Split(acts, ",") {
		if a != ActionAll && !isWord(a) {
			return bad("invalid action")
		}
		if !contains(ra.Actions, a) {
			ra.Actions = append(ra.Actions, a)
		}
	}
	return ra, nil
}

// isWord is [a-z0-9_-]+.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func truncateForError(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// A Grant is what an Authorizer established about a request: who made it
// (empty for an anonymous request, or when authentication is off) and the
// access it was checked for.
type Grant struct {
	User   string
	Access []Access
}
