// Package server is notary-server's HTTP API (protocol §5): it serves
// stored TUF metadata, validates and stores atomic updates, and makes the
// timestamp (and, when asked to, the snapshot) of every collection with
// keys from a KeyService.
//
// A Server keeps no state of its own between requests: everything comes
// from its storage.MetaStore, so several servers can share one database.
// Concurrent writers settle through the store's version checks
// (storage.ErrOldVersion): a writer that loses re-reads and retries, or
// reports a conflict when the conflicting version was the client's.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/notary-go/notary/gun"
	"log/slog"
	"net/http"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	// DefaultCurrentMaxAge is the Cache-Control max-age of current
	// metadata ({role}.json): v1 CurrentMetadataCacheMaxAge.
	DefaultCurrentMaxAge = 5 * time.Minute
	// DefaultConsistentMaxAge is the max-age of metadata addressed by hash
	// or version: v1 ConsistentMetadataCacheMaxAge (30 days).
	DefaultConsistentMaxAge = 30 * 24 * time.Hour
	// MaxCacheMaxAge is the largest max-age allowed (one year, v1
	// CacheMaxAgeLimit).
	MaxCacheMaxAge = 365 * 24 * time.Hour
	// DefaultMaxUpdateSize caps the body of an atomic update (100 MiB, the
	// largest metadata file a v1 client downloads without a known size).
	DefaultMaxUpdateSize int64 = 100 << 20
	// DefaultMaxParts caps the number of parts of an atomic update.
	DefaultMaxParts = 10000
	// DefaultKeyTimeout bounds every call to the KeyService, so a signer
	// that hangs costs a request at most this long before it fails with
	// 503 UNAVAILABLE.
	DefaultKeyTimeout = 10 * time.Second
	// DefaultKeyAlgorithm is the type of the keys the server creates.
	DefaultKeyAlgorithm = keys.ECDSA
	// fileCacheBudget bounds the bytes of current files kept in memory.
	fileCacheBudget = 16 << 20
	// maxRegenerateAttempts bounds how often a read's regeneration of an
	// expired timestamp is retried after losing a race to another writer
	// (another server: writers of one server are serialised per GUN).
	maxRegenerateAttempts = 10
	// An update that loses a race to another server is validated and
	// tried again while maxCommitWait has not passed and it has not been
	// tried maxCommitAttempts times: a server whose peer keeps committing
	// to the same collection must not be starved into refusing updates
	// that conflict with nothing the client sent.
	maxCommitAttempts = 200
	maxCommitWait     = 20 * time.Second
)

// A HealthCheck reports whether a dependency works; it must honour ctx.
type HealthCheck func(ctx context.Context) error

// Options configure a Server. Store is required; everything else has a
// default.
type Options struct {
	// Store holds the metadata.
	Store storage.MetaStore
	// Keys creates and uses the server's timestamp and snapshot keys. nil
	// makes every operation that needs a key fail with 500
	// NO_CRYPTOSERVICE; reads of stored metadata still work.
	Keys KeyService
	// KeyAlgorithm is the type of new keys ("ecdsa" or "ed25519"; "rsa"
	// is accepted as v1's config does, but no signer makes such keys);
	// "" means DefaultKeyAlgorithm.
	KeyAlgorithm string
	// KeyTimeout bounds each KeyService call; 0 means DefaultKeyTimeout.
	KeyTimeout time.Duration
	// MaxNewGUNKeys caps the (GUN, role) pairs without trust data that
	// GET {role}.key made a key for within NewGUNKeyWindow; 0 means
	// DefaultMaxNewGUNKeys. Beyond it such reads answer 503 (see newKeys).
	MaxNewGUNKeys int

	// ReadCacheTTL bounds how stale a GET of current metadata may be when
	// several servers share one database: a write made through another
	// server is seen by this one's reads within ReadCacheTTL (this
	// server's own writes at once). 0 means DefaultReadCacheTTL; a
	// negative value reads the database on every request.
	ReadCacheTTL time.Duration
	// CurrentMaxAge and ConsistentMaxAge set Cache-Control on metadata
	// reads (protocol §5.4): 0 means the default, a negative value
	// disables caching ("max-age=0, no-cache, no-store" and Pragma).
	CurrentMaxAge    time.Duration
	ConsistentMaxAge time.Duration

	// GUNPrefixes, when not empty, restricts the server to GUNs starting
	// with one of them (repositories.gun_prefixes; each ends in "/").
	GUNPrefixes []string

	// MaxUpdateSize caps an update's body (0: DefaultMaxUpdateSize);
	// MaxPartSize each of its parts (0: MaxUpdateSize; every part is also
	// capped at its role's limit, tuf.MaxSize: 1 MiB for root and
	// timestamp, 32 MiB for snapshot, 100 MiB for targets and delegations);
	// MaxParts their number (0: DefaultMaxParts).
	MaxUpdateSize int64
	MaxPartSize   int64
	MaxParts      int
	// MaxUploadBytesInFlight bounds the update body bytes held by all
	// requests at once (0: DefaultMaxUploadBytesInFlight, and never less
	// than MaxUpdateSize). An update that would exceed it gets 503
	// UNAVAILABLE with Retry-After: 1.
	MaxUploadBytesInFlight int64

	// HealthChecks are reported by /_notary_server/health next to the
	// built-in "DB operational" check (e.g. "Trust operational").
	HealthChecks map[string]HealthCheck

	// Middleware, if set, wraps the server's routes inside its metrics,
	// request log and panic recovery, so what the middleware answers
	// itself (the 401s of package auth) is counted in /metrics and logged
	// like any other response. It must not change the request's path.
	Middleware func(http.Handler) http.Handler

	// DisableUI turns off the read-only web view at /ui/ (config
	// ui.enabled: false); on by default. The view authorizes with
	// Middleware, as the API does (see ui.go).
	DisableUI bool

	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the server's Prometheus metrics and Gatherer
	// serves /metrics. nil for both means a private registry holding the
	// server's metrics plus the Go and process collectors.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// A Server is the notary-server HTTP handler. It is safe for concurrent
// use.
type Server struct {
	store         storage.MetaStore
	keys          KeyService
	keyAlg        string
	keyTimeout    time.Duration
	current       cacheControl
	consistent    cacheControl
	prefixes      gun.Prefixes
	maxUpdateSize int64
	maxPartSize   int64
	maxParts      int
	uploads       *byteBudget
	log           *slog.Logger
	now           func() time.Time
	health        *healthChecker
	metrics       *metrics
	expiry        *expiryWatch
	metricsH      http.Handler
	routes        http.Handler // s.route inside Options.Middleware; nil without one
	ui            http.Handler // the web view; nil when disabled
	parsed        *parseCache
	files         *lru // current files by GUN, role and hash (see byHash)
	gz            *gzipCache
	regen         flightGroup
	writers       keyedMutex
	newKeys       newKeys
	// beforeCommit, set only by tests, runs between an update's
	// validation and its UpdateManyIf (the window a racing DELETE hits).
	beforeCommit func(gun string)
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: Options.Store is required")
	}
	s := &Server{
		store:         newReadCache(opts.Store, cmp.Or(opts.ReadCacheTTL, DefaultReadCacheTTL)),
		keys:          opts.Keys,
		keyAlg:        opts.KeyAlgorithm,
		keyTimeout:    opts.KeyTimeout,
		maxUpdateSize: opts.MaxUpdateSize,
		maxPartSize:   opts.MaxPartSize,
		maxParts:      opts.MaxParts,
		log:           opts.Logger,
		now:           opts.Now,
		parsed:        newParseCache(parseCacheBudget),
		files:         newLRU(fileCacheBudget),
		gz:            newGzipCache(gzipCacheBudget),
	}
	if s.keyAlg == "" {
		s.keyAlg = DefaultKeyAlgorithm
	}
	switch s.keyAlg {
	case keys.ECDSA, keys.ED25519, keys.RSA: // rsa: v1 accepts it; signers refuse to make such keys
	default:
		return nil, fmt.Errorf("server: invalid key algorithm %q (want %s or %s)", s.keyAlg, keys.ECDSA, keys.ED25519)
	}
	if s.keyTimeout <= 0 {
		s.keyTimeout = DefaultKeyTimeout
	}
	s.newKeys.max = opts.MaxNewGUNKeys
	if s.newKeys.max <= 0 {
		s.newKeys.max = DefaultMaxNewGUNKeys
	}
	var err error
	if s.current, err = newCacheControl(opts.CurrentMaxAge, DefaultCurrentMaxAge, true); err != nil {
		return nil, fmt.Errorf("server: current metadata max-age: %w", err)
	}
	if s.consistent, err = newCacheControl(opts.ConsistentMaxAge, DefaultConsistentMaxAge, false); err != nil {
		return nil, fmt.Errorf("server: consistent metadata max-age: %w", err)
	}
	if s.prefixes, err = gun.ParsePrefixes(opts.GUNPrefixes); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.maxUpdateSize <= 0 {
		s.maxUpdateSize = DefaultMaxUpdateSize
	}
	if s.maxPartSize <= 0 || s.maxPartSize > s.maxUpdateSize {
		s.maxPartSize = s.maxUpdateSize
	}
	if s.maxParts <= 0 {
		s.maxParts = DefaultMaxParts
	}
	s.uploads = &byteBudget{max: opts.MaxUploadBytesInFlight}
	if s.uploads.max <= 0 {
		s.uploads.max = DefaultMaxUploadBytesInFlight
	}
	s.uploads.max = max(s.uploads.max, s.maxUpdateSize)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	checks := map[string]HealthCheck{"DB operational": s.store.Ping}
	for name, c := range opts.HealthChecks {
		if c != nil {
			checks[name] = c
		}
	}
	s.health = newHealthChecker(checks, s.log)
	reg, gath := opts.Registerer, opts.Gatherer
	if reg == nil && gath == nil {
		r := prometheus.NewRegistry()
		registerRuntimeCollectors(r)
		reg, gath = r, r
	}
	if reg == nil || gath == nil {
		return nil, errors.New("server: set both Options.Registerer and Options.Gatherer, or neither")
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	if s.expiry, err = newExpiryWatch(reg); err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	s.metricsH = metricsHandler(gath)
	if opts.Middleware != nil {
		s.routes = opts.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.route(w, r, api.ParsePath(r.URL.Path))
		}))
	}
	if !opts.DisableUI {
		s.ui = newUIHandler(s, opts.Middleware)
	}
	return s, nil
}

// ServeHTTP routes a request (protocol §5.1). It never panics: a panic in
// a handler is logged with its stack and answered with 500 UNKNOWN.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	route := api.ParsePath(r.URL.Path)
	op := operationName(route.Kind, r.Method)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(stack()))
			if !rec.wroteHeader {
				api.WriteError(rec, api.NewError(api.CodeUnknown, nil))
			}
		}
		s.metrics.observe(op, r, rec, time.Since(start))
		s.logRequest(r, rec, time.Since(start))
	}()
	if s.ui != nil && isUIPath(r.URL.Path) {
		// Not through Middleware as a whole: it would ask every page
		// for registry:catalog:*. The view asks it per collection.
		s.ui.ServeHTTP(rec, r)
		return
	}
	if s.routes != nil {
		s.routes.ServeHTTP(rec, r)
		return
	}
	s.route(rec, r, route)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, rt api.Route) {
	ctx := r.Context()
	var err error
	switch {
	case rt.Kind == api.RouteHealth && r.Method == http.MethodGet:
		s.health.serve(w, r)
		return
	case rt.Kind == api.RouteMetrics && r.Method == http.MethodGet:
		s.metricsH.ServeHTTP(w, r)
		return
	case rt.Kind == api.RouteBase && r.Method == http.MethodGet:
		_, _ = w.Write([]byte("{}"))
		return
	case rt.Kind == api.RouteGlobalChangefeed && r.Method == http.MethodGet:
		err = s.changefeed(ctx, w, r, "")
	case rt.GUN != "" && s.methodMatches(rt.Kind, r.Method) && !s.prefixes.Allows(rt.GUN):
		// Before anything else about the GUN (v1 filterImagePrefixes):
		// 400 on update, 404 elsewhere.
		if rt.Kind == api.RouteUpdate && r.Method == http.MethodPost {
			err = api.NewError(api.CodeInvalidGUN, s.prefixes.RefusalDetail())
		} else {
			err = api.NewError(api.CodeMetadataNotFound, nil)
		}
	case rt.Kind == api.RouteChangefeed && r.Method == http.MethodGet:
		err = s.changefeed(ctx, w, r, rt.GUN)
	case rt.Kind == api.RouteUpdate && r.Method == http.MethodPost:
		err = s.handleUpdate(ctx, w, r, rt.GUN)
	case rt.Kind == api.RouteUpdate && r.Method == http.MethodDelete:
		err = s.handleDelete(ctx, w, rt.GUN)
	case rt.Kind == api.RouteMeta && r.Method == http.MethodGet:
		err = s.handleGetCurrent(ctx, w, r, rt.GUN, rt.Role)
	case rt.Kind == api.RouteMetaHash && r.Method == http.MethodGet:
		err = s.handleGetChecksum(ctx, w, r, rt.GUN, rt.Role, rt.Checksum)
	case rt.Kind == api.RouteMetaVersion && r.Method == http.MethodGet:
		err = s.handleGetVersion(ctx, w, r, rt.GUN, rt.Role, rt.Version)
	case rt.Kind == api.RouteKey && r.Method == http.MethodGet:
		err = s.handleGetKey(ctx, w, rt.GUN, rt.Role)
	case rt.Kind == api.RouteKey && r.Method == http.MethodPost:
		err = s.handleRotateKey(ctx, w, rt.GUN, rt.Role)
	default:
		// v1's catch-all: GET/POST/PUT/HEAD/DELETE of anything else is
		// 404 METADATA_NOT_FOUND without detail; other methods are not
		// routed at all (gorilla answers 405 for them).
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead, http.MethodDelete:
			err = api.NewError(api.CodeMetadataNotFound, nil)
		default:
			w.Header().Set("Allow", "GET, POST, PUT, HEAD, DELETE")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// methodMatches reports whether a route of kind accepts method.
func (s *Server) methodMatches(kind api.RouteKind, method string) bool {
	switch kind {
	case api.RouteUpdate:
		return method == http.MethodPost || method == http.MethodDelete
	case api.RouteKey:
		return method == http.MethodGet || method == http.MethodPost
	}
	return method == http.MethodGet
}

// operationName labels metrics as v1 did (server.go CreateHandler names).
func operationName(kind api.RouteKind, method string) string {
	switch kind {
	case api.RouteBase:
		return "Main"
	case api.RouteHealth:
		return "Health"
	case api.RouteMetrics:
		return "Metrics"
	case api.RouteGlobalChangefeed, api.RouteChangefeed:
		return "Changefeed"
	case api.RouteUpdate:
		if method == http.MethodDelete {
			return "DeleteTUF"
		}
		return "UpdateTUF"
	case api.RouteMeta:
		return "GetRole"
	case api.RouteMetaHash:
		return "GetRoleByHash"
	case api.RouteMetaVersion:
		return "GetRoleByVersion"
	case api.RouteKey:
		if method == http.MethodPost {
			return "RotateKey"
		}
		return "GetKey"
	}
	return "NotFound"
}

func (s *Server) logRequest(r *http.Request, rec *statusRecorder, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.written),
		slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr),
	}
	if rec.errText != "" {
		attrs = append(attrs, slog.String("error", rec.errText))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// statusRecorder records what a handler wrote, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	written     int64
	wroteHeader bool
	errText     string
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
