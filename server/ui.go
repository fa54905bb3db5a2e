package server

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/gun"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// The web view (issue 17): read-only HTML at /ui/, rendered on the
// server with html/template (which escapes every value: GUNs and target
// names are the publishers' to choose), no JavaScript, assets embedded.
// It reads the server's own store through the same resolution as the API
// (timestamp → snapshot → current files) and shows what the server holds;
// clients verify signatures for themselves.

//go:embed ui/*.html ui/*.css
var uiFiles embed.FS

// UIPrefix is where the web view is served.
const UIPrefix = "/ui/"

// uiCSP is the Content-Security-Policy of every web view response: no
// scripts at all, styles and images only from the server itself.
const uiCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Bounds of the work one web view request does.
const (
	// uiFeedWindow is how many changefeed rows one page of the
	// collection list reads (newest first).
	uiFeedWindow = 500
	// uiListPage caps the collections one list page shows (and so the
	// authorization probes it makes).
	uiListPage = 50
	// uiTargetsPage caps the targets one collection page shows.
	uiTargetsPage = 100
	// uiHistoryPage is how many changefeed rows of a collection one page
	// shows.
	uiHistoryPage = 50
	// uiMaxRoles caps the targets roles a collection page reads.
	uiMaxRoles = 200
	// uiSoon is when an expiry is shown as coming soon.
	uiSoon = 30 * 24 * time.Hour
	// uiMaxQuery bounds search strings.
	uiMaxQuery = 256
)

var uiTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"gunpath": func(g string) string { return UIPrefix + "gun/" + url.PathEscape(g) },
	"time":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"join":    strings.Join,
}).ParseFS(uiFiles, "ui/*.html"))

// uiHandler serves the web view; s.authMW is the API's auth middleware
// (nil: no authentication).
type uiHandler struct {
	s      *Server
	authMW func(http.Handler) http.Handler
	css    []byte
}

func newUIHandler(s *Server, mw func(http.Handler) http.Handler) *uiHandler {
	css, err := fs.ReadFile(uiFiles, "ui/style.css")
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return &uiHandler{s: s, authMW: mw, css: css}
}

// isUIPath reports whether p belongs to the web view.
func isUIPath(p string) bool { return p == "/ui" || strings.HasPrefix(p, UIPrefix) }

func (u *uiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	esc := r.URL.EscapedPath()
	switch {
	case esc == "/ui":
		http.Redirect(w, r, UIPrefix, http.StatusMovedPermanently)
	case esc == UIPrefix:
		u.index(w, r)
	case esc == UIPrefix+"static/style.css":
		// The only asset; not a file server, which would also list and
		// serve the templates.
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(u.css)
	case strings.HasPrefix(esc, UIPrefix+"gun/"):
		g, err := url.PathUnescape(strings.TrimPrefix(esc, UIPrefix+"gun/"))
		if err != nil || g == "" {
			u.notFound(w, r)
			return
		}
		u.collection(w, r, g)
	default:
		u.notFound(w, r)
	}
}

// probe runs the API's auth middleware on a copy of r for path (as the
// API would see a GET of it) and reports whether it let the request
// through. A refusal's response (status and WWW-Authenticate) is kept
// in rec, for answering an anonymous caller with the same challenge.
func (u *uiHandler) probe(r *http.Request, path string) (bool, *probeRecorder) {
	rec := &probeRecorder{header: http.Header{}}
	if u.authMW == nil {
		return true, rec
	}
	ok := false
	pr := r.Clone(r.Context())
	pr.Method = http.MethodGet
	pr.URL = &url.URL{Path: path}
	pr.RequestURI = path
	u.authMW(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ok = true })).ServeHTTP(rec, pr)
	return ok, rec
}

// probeRecorder is the ResponseWriter of a probe: it keeps the header and
// status and discards the body.
type probeRecorder struct {
	header http.Header
	status int
}

func (p *probeRecorder) Header() http.Header         { return p.header }
func (p *probeRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeRecorder) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// mayPull reports whether the caller may pull g: the API's pull route for
// it passes the auth middleware (which also applies gun_prefixes).
func (u *uiHandler) mayPull(r *http.Request, g string) bool {
	ok, _ := u.probe(r, "/v2/"+g+"/_trust/tuf/root.json")
	return ok && u.s.prefixes.Allows(g)
}

// challenge answers a caller who sent no credentials with the API's 401
// challenge (so a browser asks for Basic credentials), and reports
// whether it did.
func (u *uiHandler) challenge(w http.ResponseWriter, r *http.Request, rec *probeRecorder) bool {
	if r.Header.Get("Authorization") != "" || rec.status != http.StatusUnauthorized {
		return false
	}
	if v := rec.header.Get("WWW-Authenticate"); v != "" {
		w.Header().Set("WWW-Authenticate", v)
	}
	u.render(w, http.StatusUnauthorized, "error.html", errorPage{Title: "Sign in", Message: "This server needs credentials: sign in with the account you use for notary."})
	return true
}

type errorPage struct {
	Title, Message string
}

func (u *uiHandler) notFound(w http.ResponseWriter, r *http.Request) {
	u.render(w, http.StatusNotFound, "error.html", errorPage{Title: "Not found", Message: "No such page, or no collection by that name that you may read."})
}

func (u *uiHandler) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := uiTemplates.ExecuteTemplate(&b, name, data); err != nil {
		u.s.log.Error("web view: rendering", "template", name, "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func query(r *http.Request, key string) string {
	v := strings.TrimSpace(r.URL.Query().Get(key))
	if len(v) > uiMaxQuery {
		v = v[:uiMaxQuery]
	}
	return v
}

// listEntry is one collection of the list page.
type listEntry struct {
	GUN     string
	Version int64
	Changed time.Time
}

type indexPage struct {
	Catalog bool // the caller may read the global changefeed
	Query   string
	Entries []listEntry
	Older   string // change ID to page on with, "" at the end
	Named   *listEntry
	Missing bool // Query names no collection the caller may read
}

// index lists collections. With registry:catalog:* (the global
// changefeed's scope) it lists, newest change first, the GUNs of a
// window of the changefeed, filtered by the search string and by what
// the caller may pull; without it, only the collection the search box
// names exactly, if the caller may pull it.
func (u *uiHandler) index(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	catalog, rec := u.probe(r, "/v2/_trust/changefeed")
	if !catalog && u.challenge(w, r, rec) {
		return
	}
	p := indexPage{Catalog: catalog, Query: query(r, "q")}
	if p.Query != "" && u.mayPull(r, p.Query) {
		if e, ok := u.lookup(ctx, p.Query); ok {
			p.Named = &e
		}
	}
	if catalog {
		before := query(r, "before")
		if before == "" {
			before = "-1"
		}
		if _, err := strconv.ParseInt(before, 10, 64); err != nil {
			u.render(w, http.StatusBadRequest, "error.html", errorPage{Title: "Bad request", Message: "before must be a change ID."})
			return
		}
		changes, err := u.s.store.GetChanges(ctx, before, -uiFeedWindow, "")
		if err != nil {
			u.fail(w, err)
			return
		}
		seen := map[string]bool{}
		i := len(changes) - 1
		for ; i >= 0 && len(p.Entries) < uiListPage; i-- {
			c := changes[i]
			if seen[c.GUN] {
				continue
			}
			seen[c.GUN] = true
			if c.Category == storage.CategoryDeletion || (p.Query != "" && !strings.Contains(c.GUN, p.Query)) {
				continue
			}
			if !u.mayPull(r, c.GUN) {
				continue
			}
			p.Entries = append(p.Entries, listEntry{GUN: c.GUN, Version: c.Version, Changed: c.CreatedAt})
		}
		// The next page starts below the last row examined: a full page
		// stops inside the window, and rows below it must not be
		// skipped. (A GUN changed again lower down can show on both.)
		switch {
		case i >= 0:
			p.Older = changes[i+1].ID
		case len(changes) == uiFeedWindow:
			p.Older = changes[0].ID
		}
	}
	p.Missing = p.Query != "" && p.Named == nil && len(p.Entries) == 0
	u.render(w, http.StatusOK, "index.html", p)
}

// lookup reports whether g is a collection the server holds.
func (u *uiHandler) lookup(ctx context.Context, g string) (listEntry, bool) {
	c, err := u.s.loadCollection(ctx, g)
	if err != nil {
		return listEntry{}, false
	}
	return listEntry{GUN: g, Version: c.ts.Version, Changed: c.ts.UpdatedAt}, true
}

func (u *uiHandler) fail(w http.ResponseWriter, err error) {
	u.s.log.Error("web view: reading the store", "err", err)
	u.render(w, http.StatusInternalServerError, "error.html", errorPage{Title: "Error", Message: "The server could not read its store; see its log."})
}

// Expiry classes, the CSS classes of the role table.
const (
	expExpired = "expired"
	expSoon    = "soon"
	expFine    = "fine"
)

type roleRow struct {
	Role    string
	Version int64
	Expires time.Time
	Class   string
	KeyIDs  []string
	Thresh  int
}

type delegationRow struct {
	Parent    string
	Role      string
	KeyIDs    []string
	Paths     []string
	AllPaths  bool
	Threshold int
}

type targetRow struct {
	Name   string
	Role   string
	SHA256 string
	Size   int64
	Image  string // gun@sha256:... for an image target
}

type collectionPage struct {
	GUN         string
	Now         time.Time
	Roles       []roleRow
	Delegations []delegationRow
	Targets     []targetRow
	TargetTotal int
	Target      string // target search
	Page        int
	PrevPage    int // 0: none
	NextPage    int // 0: none
	RolesCapped bool
	History     []storage.Change
	OlderChange string
}

// collection shows one collection, if the caller may pull it.
func (u *uiHandler) collection(w http.ResponseWriter, r *http.Request, g string) {
	ctx := r.Context()
	if !u.mayPull(r, g) {
		_, rec := u.probe(r, "/v2/"+g+"/_trust/tuf/root.json")
		if u.challenge(w, r, rec) {
			return
		}
		u.notFound(w, r)
		return
	}
	c, err := u.s.loadCollection(ctx, g)
	if errors.Is(err, storage.ErrNotFound) {
		u.notFound(w, r)
		return
	}
	if err != nil {
		u.fail(w, err)
		return
	}
	now := u.s.now()
	p := collectionPage{GUN: g, Now: now, Target: query(r, "t"), Page: 1}
	if n, err := strconv.Atoi(query(r, "page")); err == nil && n > 1 {
		p.Page = n
	}
	class := func(t time.Time) string {
		switch {
		case !t.After(now):
			return expExpired
		case t.Sub(now) <= uiSoon:
			return expSoon
		}
		return expFine
	}
	if _, root, err := u.s.root(ctx, c); err == nil {
		for _, role := range []string{tuf.RoleRoot, tuf.RoleTargets, tuf.RoleSnapshot, tuf.RoleTimestamp} {
			row := roleRow{Role: role}
			if rr := root.Roles[role]; rr != nil {
				row.KeyIDs, row.Thresh = rr.KeyIDs, rr.Threshold
			}
			switch role {
			case tuf.RoleRoot:
				row.Version, row.Expires = root.Version, root.Expires
			case tuf.RoleSnapshot:
				row.Version, row.Expires = c.snapBody.Version, c.snapBody.Expires
			case tuf.RoleTimestamp:
				row.Version, row.Expires = c.tsBody.Version, c.tsBody.Expires
			}
			p.Roles = append(p.Roles, row)
		}
	} else {
		u.s.log.Warn("web view: cannot read root", "gun", g, "err", err)
	}
	roles := make([]string, 0, len(c.snapBody.Meta))
	for role := range c.snapBody.Meta {
		if tuf.IsTargetsRole(role) {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles) // "targets" first: it is a prefix of every delegation
	if len(roles) > uiMaxRoles {
		roles, p.RolesCapped = roles[:uiMaxRoles], true
	}
	var all []targetRow
	for _, role := range roles {
		f, err := u.s.file(ctx, c, role)
		if err != nil {
			continue
		}
		t, err := u.s.parsed.targets(role, f)
		if err != nil {
			continue
		}
		if role == tuf.RoleTargets {
			for i := range p.Roles {
				if p.Roles[i].Role == tuf.RoleTargets {
					p.Roles[i].Version, p.Roles[i].Expires = t.Version, t.Expires
				}
			}
		} else {
			p.Roles = append(p.Roles, roleRow{Role: role, Version: t.Version, Expires: t.Expires})
		}
		for _, d := range t.Delegations.Roles {
			p.Delegations = append(p.Delegations, delegationRow{Parent: role, Role: d.Name, KeyIDs: d.KeyIDs, Paths: d.Paths, AllPaths: len(d.Paths) == 0 || slices.Contains(d.Paths, ""), Threshold: d.Threshold})
		}
		for name, fm := range t.Targets {
			if p.Target != "" && !strings.Contains(name, p.Target) {
				continue
			}
			row := targetRow{Name: name, Role: role, SHA256: fm.SHA256Hex(), Size: fm.Length}
			if len(fm.Hashes) == 1 && row.SHA256 != "" && gun.ValidTag(name) {
				row.Image = g + "@sha256:" + row.SHA256
			}
			all = append(all, row)
		}
	}
	for i := range p.Roles {
		p.Roles[i].Class = class(p.Roles[i].Expires)
	}
	slices.SortFunc(all, func(a, b targetRow) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Role, b.Role))
	})
	p.TargetTotal = len(all)
	start := (p.Page - 1) * uiTargetsPage
	if start >= len(all) && p.Page > 1 {
		p.Page = max(1, (len(all)+uiTargetsPage-1)/uiTargetsPage)
		start = (p.Page - 1) * uiTargetsPage
	}
	end := min(start+uiTargetsPage, len(all))
	p.Targets = all[start:end]
	if p.Page > 1 {
		p.PrevPage = p.Page - 1
	}
	if end < len(all) {
		p.NextPage = p.Page + 1
	}
	before := query(r, "before")
	if _, err := strconv.ParseInt(before, 10, 64); err != nil {
		before = "-1"
	}
	hist, err := u.s.store.GetChanges(ctx, before, -uiHistoryPage, g)
	if err != nil {
		u.fail(w, err)
		return
	}
	slices.Reverse(hist)
	p.History = hist
	if len(hist) == uiHistoryPage {
		p.OlderChange = hist[len(hist)-1].ID
	}
	u.render(w, http.StatusOK, "collection.html", p)
}
