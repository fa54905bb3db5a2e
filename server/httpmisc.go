package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// cacheControl is the caching policy of one kind of metadata read
// (protocol §5.4, v1 utils.CacheControlConfig).
type cacheControl struct {
	value   string // Cache-Control header value
	noCache bool
}

func newCacheControl(d, def time.Duration, mustRevalidate bool) (cacheControl, error) {
	switch {
	case d == 0:
		d = def
	case d < 0:
		return cacheControl{value: "max-age=0, no-cache, no-store", noCache: true}, nil
	case d > MaxCacheMaxAge:
		return cacheControl{}, fmt.Errorf("max-age %v is above the %v limit", d, MaxCacheMaxAge)
	}
	secs := int64(d / time.Second)
	if secs == 0 {
		return cacheControl{value: "max-age=0, no-cache, no-store", noCache: true}, nil
	}
	v := fmt.Sprintf("public, max-age=%d, s-maxage=%d", secs, secs)
	if mustRevalidate {
		v += ", must-revalidate"
	}
	return cacheControl{value: v}, nil
}

// set writes the caching headers of a 200 metadata response. Last-Modified
// uses Go's RFC 1123 layout with the time's own zone name ("UTC"), as v1
// does (utils.SetLastModifiedHeader).
func (c cacheControl) set(h http.Header, lastModified time.Time) {
	h.Set("Last-Modified", lastModified.Format(time.RFC1123))
	h.Set("Cache-Control", c.value)
	if c.noCache {
		h.Set("Pragma", "no-cache")
	} else {
		h.Del("Pragma")
	}
}

// healthChecker runs the health checks, at most once per second whatever
// the request rate, each bounded by healthTimeout.
type healthChecker struct {
	checks map[string]HealthCheck
	log    *slog.Logger

	mu     sync.Mutex
	at     time.Time
	result map[string]string
}

const (
	healthTimeout  = 5 * time.Second
	healthCacheTTL = time.Second
)

func newHealthChecker(checks map[string]HealthCheck, log *slog.Logger) *healthChecker {
	return &healthChecker{checks: checks, log: log}
}

func (h *healthChecker) status(ctx context.Context) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.result != nil && time.Since(h.at) < healthCacheTTL {
		return h.result
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthTimeout)
	defer cancel()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out = map[string]string{}
	)
	for name, check := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := check(ctx); err != nil {
				mu.Lock()
				out[name] = err.Error()
				mu.Unlock()
				h.log.Warn("health check failed", "check", name, "error", err)
			}
		}()
	}
	wg.Wait()
	h.result, h.at = out, time.Now()
	return out
}

// serve answers /_notary_server/health as v1 (docker/distribution
// health.StatusHandler): 200 {} or 503 with a map of check name to error.
func (h *healthChecker) serve(w http.ResponseWriter, r *http.Request) {
	res := h.status(r.Context())
	status := http.StatusOK
	if len(res) > 0 {
		status = http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(res)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// metrics are v1's per-operation HTTP metrics (prometheus
// InstrumentHandlerWithOpts with namespace notary_server, subsystem http and
// an "operation" label), so existing dashboards keep working.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.SummaryVec
	reqSize  *prometheus.SummaryVec
	respSize *prometheus.SummaryVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	objectives := map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "notary_server", Subsystem: "http", Name: "requests_total",
			Help: "Total number of HTTP requests made.",
		}, []string{"operation", "code", "method"}),
		duration: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Namespace: "notary_server", Subsystem: "http", Name: "request_duration_microseconds",
			Help: "The HTTP request latencies in microseconds.", Objectives: objectives,
		}, []string{"operation"}),
		reqSize: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Namespace: "notary_server", Subsystem: "http", Name: "request_size_bytes",
			Help: "The HTTP request sizes in bytes.", Objectives: objectives,
		}, []string{"operation"}),
		respSize: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Namespace: "notary_server", Subsystem: "http", Name: "response_size_bytes",
			Help: "The HTTP response sizes in bytes.", Objectives: objectives,
		}, []string{"operation"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.reqSize, m.respSize} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue // a second Server on the same registry shares them
			}
			return nil, fmt.Errorf("server: registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(op string, r *http.Request, rec *statusRecorder, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status), strings.ToLower(r.Method)).Inc()
	m.duration.WithLabelValues(op).Observe(float64(d.Microseconds()))
	size := r.ContentLength
	if size < 0 {
		size = 0
	}
	m.reqSize.WithLabelValues(op).Observe(float64(size))
	m.respSize.WithLabelValues(op).Observe(float64(rec.written))
}

func registerRuntimeCollectors(r *prometheus.Registry) {
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// flightGroup runs at most one regeneration per key at a time in this
// process; callers that arrive meanwhile wait and then re-read.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct{ done chan struct{} }

// do runs fn unless a call for key is running, in which case it waits for
// that call (or ctx) and reports shared=true so the caller re-reads.
func (g *flightGroup) do(ctx context.Context, key string, fn func()) (shared bool, err error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
		close(f.done)
	}()
	fn()
	return false, nil
}

// keyedMutex serialises work per key (a GUN) in this process, so updates
// of one collection through one server do not race each other; races with
// other servers still settle through the store.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{}
	refs int
}

// lock waits for key (or ctx) and returns the unlock function.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
