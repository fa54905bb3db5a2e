// Package api is the HTTP contract between Notary clients and notary-server
// (protocol §5): the /v2/{gun}/_trust/… paths, the error codes and their
// JSON envelope, the multipart body of an atomic update, the validation
// error a rejected update carries, and Client, a small HTTP client of that
// API with the size limits of §4.6.
//
// The package knows role names and sizes, never TUF semantics: it moves
// opaque metadata bytes. It is shared by the server (which writes what
// Client reads) and by the client library (which uses Client as its
// remote).
package api

import (
	"strconv"
	"strings"
)

// Fixed paths of the API.
const (
	// BasePath answers GET with "{}": the auth ping the CLI sends first.
	BasePath = "/v2/"
	// HealthPath reports the server's health (no auth).
	HealthPath = "/_notary_server/health"
	// MetricsPath serves Prometheus metrics (no auth).
	MetricsPath = "/metrics"
	// GlobalChangefeedPath is the changefeed of every GUN.
	GlobalChangefeedPath = "/v2/_trust/changefeed"
)

const (
	tufInfix        = "/_trust/tuf/"
	changefeedInfix = "/_trust/changefeed"
	metaExt         = ".json"
	keyExt          = ".key"
)

// UpdatePath is where a GUN's atomic update is POSTed and where DELETE
// removes the whole collection: /v2/{gun}/_trust/tuf/ (trailing slash
// required).
func UpdatePath(gun string) string { return "/v2/" + gun + tufInfix }

// MetaPath is the current metadata of role: /v2/{gun}/_trust/tuf/{role}.json.
func MetaPath(gun, role string) string { return UpdatePath(gun) + role + metaExt }

// MetaHashPath is role's metadata addressed by the lowercase hex SHA-256 of
// its bytes: /v2/{gun}/_trust/tuf/{role}.{hex}.json (role first, unlike
// TUF 1.0).
func MetaHashPath(gun, role, sha256hex string) string {
	return UpdatePath(gun) + role + "." + sha256hex + metaExt
}

// MetaVersionPath is a given version of role:
// /v2/{gun}/_trust/tuf/{version}.{role}.json.
func MetaVersionPath(gun, role string, version int64) string {
	return UpdatePath(gun) + strconv.FormatInt(version, 10) + "." + role + metaExt
}

// KeyPath is the server-managed key of role ("snapshot" or "timestamp"):
// GET returns (creating if needed) the current key, POST creates a new one.
func KeyPath(gun, role string) string { return UpdatePath(gun) + role + keyExt }

// ChangefeedPath is the changefeed of one GUN, or GlobalChangefeedPath when
// gun is "".
func ChangefeedPath(gun string) string {
	if gun == "" {
		return GlobalChangefeedPath
	}
	return "/v2/" + gun + changefeedInfix
}

// A RouteKind names what a request path addresses.
type RouteKind int

// Route kinds, as v0.7.0's router (server/server.go) distinguishes them.
const (
	RouteUnknown          RouteKind = iota
	RouteBase                       // /v2/
	RouteHealth                     // /_notary_server/health
	RouteMetrics                    // /metrics
	RouteGlobalChangefeed           // /v2/_trust/changefeed
	RouteChangefeed                 // /v2/{gun}/_trust/changefeed
	RouteUpdate                     // /v2/{gun}/_trust/tuf/ (POST update, DELETE)
	RouteMeta                       // /v2/{gun}/_trust/tuf/{role}.json
	RouteMetaHash                   // /v2/{gun}/_trust/tuf/{role}.{hex}.json
	RouteMetaVersion                // /v2/{gun}/_trust/tuf/{version}.{role}.json
	RouteKey                        // /v2/{gun}/_trust/tuf/{snapshot|timestamp}.key
)

// A Route is a parsed request path. GUN, Role, Checksum and Version are set
// as the kind requires. Checksum is as written in the path (64, 96 or 128
// hex digits, either case).
type Route struct {
	Kind     RouteKind
	GUN      string
	Role     string
	Checksum string
	Version  int64
}

// ParsePath interprets a (decoded) URL path exactly as v0.7.0's gorilla
// routes do (protocol §5.1): {gun} is [^*]+ and may contain slashes, {role}
// is root|targets(/[^/\s]+)*|snapshot|timestamp, and when several splits of
// the path match, the longest GUN wins (the regexp is greedy). A path no
// route matches gives Kind RouteUnknown. Whether the GUN and role are valid
// names is for the caller to check.
func ParsePath(p string) Route {
	switch p {
	case BasePath:
		return Route{Kind: RouteBase}
	case HealthPath:
		return Route{Kind: RouteHealth}
	case MetricsPath:
		return Route{Kind: RouteMetrics}
	case GlobalChangefeedPath:
		return Route{Kind: RouteGlobalChangefeed}
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return Route{}
	}
	if gun, ok := strings.CutSuffix(rest, changefeedInfix); ok && validRouteGUN(gun) {
		return Route{Kind: RouteChangefeed, GUN: gun}
	}
	// Try every split at "/_trust/tuf/", longest GUN first (greedy match).
	for end := strings.LastIndex(rest, tufInfix); end >= 0; end = strings.LastIndex(rest[:end], tufInfix) {
		gun, file := rest[:end], rest[end+len(tufInfix):]
		if !validRouteGUN(gun) {
			continue
		}
		if r, ok := parseFile(file); ok {
			r.GUN = gun
			return r
		}
		if end == 0 {
			break
		}
	}
	return Route{}
}

// validRouteGUN is the route regexp [^*]+.
func validRouteGUN(gun string) bool { return gun != "" && !strings.Contains(gun, "*") }

func parseFile(file string) (Route, bool) {
	if file == "" {
		return Route{Kind: RouteUpdate}, true
	}
	if name, ok := strings.CutSuffix(file, keyExt); ok {
		if name == "snapshot" || name == "timestamp" {
			return Route{Kind: RouteKey, Role: name}, true
		}
		return Route{}, false
	}
	name, ok := strings.CutSuffix(file, metaExt)
	if !ok {
		return Route{}, false
	}
	// {role}.{checksum}.json: the checksum never contains a dot, so it is
	// the last dot-separated part; roles never contain a dot.
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		head, tail := name[:i], name[i+1:]
		if routeRole(head) && isHexChecksum(tail) {
			return Route{Kind: RouteMetaHash, Role: head, Checksum: tail}, true
		}
		// {version}.{role}.json.
		if j := strings.IndexByte(name, '.'); j > 0 {
			v, role := name[:j], name[j+1:]
			if routeVersion(v) && routeRole(role) {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					// Too large for any stored version: still the
					// version route, which will find nothing.
					n = -1
				}
				return Route{Kind: RouteMetaVersion, Role: role, Version: n}, true
			}
		}
		return Route{}, false
	}
	if routeRole(name) {
		return Route{Kind: RouteMeta, Role: name}, true
	}
	return Route{}, false
}

// routeRole is the route regexp root|targets(?:/[^/\s]+)*|snapshot|timestamp.
// A role segment may not hold a dot here, because the dot-separated forms
// are matched first and a dotted role never names a valid role anyway.
func routeRole(s string) bool {
	switch s {
	case "root", "snapshot", "timestamp", "targets":
		return true
	}
	rest, ok := strings.CutPrefix(s, "targets/")
	if !ok {
		return false
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" || strings.ContainsAny(seg, " \t\n\f\r\v.") {
			return false
		}
	}
	return true
}

// isHexChecksum is [a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}.
func isHexChecksum(s string) bool {
	if len(s) != 64 && len(s) != 96 && len(s) != 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// routeVersion is the route regexp [1-9]*[0-9]+, which (because [0-9]+
// absorbs everything) matches every non-empty string of ASCII digits,
// "01" included.
func routeVersion(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
