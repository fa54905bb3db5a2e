package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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
