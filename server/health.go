package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

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
