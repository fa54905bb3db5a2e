package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/notary-go/notary/policy"
	"github.com/notary-go/notary/registry"
)

// decider is the policy engine as the proxy uses it.
type decider interface {
	DecideRef(ctx context.Context, ref registry.Reference) (policy.Decision, error)
}

// upstreamRegistry is what the proxy reads from the upstream.
type upstreamRegistry interface {
	FetchManifest(ctx context.Context, ref registry.Reference) (*registry.Manifest, error)
	OpenBlob(ctx context.Context, method string, ref registry.Reference, d string, hdr http.Header) (*http.Response, error)
}

// proxy serves the registry API, read-only, to pull clients: manifests
// only as the policy allows them, blobs streamed from the upstream.
type proxy struct {
	host     string // registry name: images are <host>/<repository>
	endpoint string // upstream URL's host[:port], where requests go
	engine   decider
	upstream upstreamRegistry
	log      *slog.Logger
	m        *metrics
}

type metrics struct {
	reg      *prometheus.Registry
	allowed  prometheus.Counter
	denied   *prometheus.CounterVec
	audit    *prometheus.CounterVec
	upstream *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		allowed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notary_proxy_manifests_allowed_total", Help: "Manifest requests allowed by the policy (signed, or no rule and default allow).",
		}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notary_proxy_manifests_denied_total", Help: "Manifest requests refused, by reason.",
		}, []string{"reason"}),
		audit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notary_proxy_manifests_audit_total", Help: "Manifest requests that failed the policy but were allowed by an audit rule, by reason.",
		}, []string{"reason"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "notary_proxy_upstream_seconds", Help: "Time to the upstream registry's response headers.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.allowed, m.denied, m.audit, m.upstream)
	return m
}

func (p *proxy) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/v2/", p.serveV2)
	mux.HandleFunc("/v2", p.serveV2)
	return mux
}

// repoRE is the distribution spec's repository name grammar.
var repoRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func (p *proxy) serveV2(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p.readOnly(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.readOnly(w, r)
		return
	}
	switch name, kind, ref, ok := splitRoute(r.URL.Path); {
	case ok && kind == "manifests":
		p.manifest(w, r, name, ref)
		return
	case ok:
		p.blob(w, r, name, ref)
		return
	}
	writeError(w, http.StatusNotFound, "UNSUPPORTED", "notary-proxy serves only manifests and blobs (pulls)")
}

// splitRoute splits /v2/<name>/manifests/<ref> and /v2/<name>/blobs/<ref>;
// kind is "manifests" or "blobs". The one place both routing and client
// auth read a path from, so the scope asked for is that of the repository
// served.
func splitRoute(path string) (name, kind, ref string, ok bool) {
	rest, found := strings.CutPrefix(path, "/v2/")
	if !found {
		return "", "", "", false
	}
	for _, k := range []string{"manifests", "blobs"} {
		if i := strings.LastIndex(rest, "/"+k+"/"); i > 0 {
			return rest[:i], k, rest[i+len(k)+2:], true
		}
	}
	return "", "", "", false
}

func validRepo(name string) bool { return len(name) <= 255 && repoRE.MatchString(name) }

func (p *proxy) readOnly(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", fmt.Sprintf("notary-proxy is read-only: %s is refused", r.Method))
}

// manifest serves a manifest by tag or digest, as the policy allows: a
// tag is resolved to its signed digest, and only bytes that hash to that
// digest are served.
func (p *proxy) manifest(w http.ResponseWriter, r *http.Request, name, reference string) {
	if !validRepo(name) {
		writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name")
		return
	}
	ref := registry.Reference{Host: p.host, Repository: name}
	if strings.Contains(reference, ":") {
		d, err := digest.Parse(reference)
		if err != nil || d.Algorithm() != digest.SHA256 {
			writeError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid or unsupported digest (sha256 only)")
			return
		}
		ref.Digest = d.String()
	} else {
		if !tagRE.MatchString(reference) {
			writeError(w, http.StatusBadRequest, "TAG_INVALID", "invalid tag")
			return
		}
		ref.Tag = reference
	}
	d, err := p.engine.DecideRef(r.Context(), ref)
	if err != nil {
		return // the client went away
	}
	if !d.Allowed {
		p.deny(w, ref, d.Reason, d.Err)
		return
	}
	// What to fetch: the pinned digest; without one (audit mode on an
	// unsigned image, or no rule and default allow) what was asked for.
	fetch := ref
	fetch.Host = p.endpoint
	if d.Digest != "" {
		fetch = registry.Reference{Host: p.endpoint, Repository: ref.Repository, Digest: d.Digest}
	}
	start := time.Now()
	m, err := p.upstream.FetchManifest(r.Context(), fetch)
	p.m.upstream.WithLabelValues("manifest").Observe(time.Since(start).Seconds())
	if err != nil {
		p.upstreamError(w, ref, err)
		return
	}
	if d.Digest != "" && d.Digest == d.SignedDigest && m.Size != d.SignedSize {
		p.deny(w, ref, policy.ReasonMismatch, fmt.Errorf("the registry serves %d bytes for %s but %d were signed", m.Size, d.Digest, d.SignedSize))
		return
	}
	if d.Audit {
		p.m.audit.WithLabelValues(string(d.Reason)).Inc()
		p.log.Warn("audit: allowed an image the policy would deny", "image", ref.String(), "rule", d.Rule, "reason", d.Reason, "error", d.Err)
	} else {
		p.m.allowed.Inc()
		p.log.Debug("allowed", "image", ref.String(), "digest", m.Digest, "role", d.Role)
	}
	w.Header().Set("Content-Type", m.MediaType)
	w.Header().Set("Docker-Content-Digest", m.Digest)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.Bytes)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(m.Bytes)
	}
}

func (p *proxy) deny(w http.ResponseWriter, ref registry.Reference, reason policy.Reason, err error) {
	p.m.denied.WithLabelValues(string(reason)).Inc()
	p.log.Info("denied", "image", ref.String(), "reason", reason, "error", err)
	msg := fmt.Sprintf("%s denied by notary-proxy: %s", ref.String(), reason)
	var de *policy.DeniedError
	if errors.As(err, &de) && de.Err != nil {
		msg += ": " + de.Err.Error()
	} else if err != nil && de == nil {
		msg += ": " + err.Error()
	}
	writeErrorDetail(w, http.StatusForbidden, "DENIED", msg, map[string]string{"image": ref.String(), "reason": string(reason)})
}

// upstreamError relays an upstream failure: a manifest the upstream does
// not have is MANIFEST_UNKNOWN; content that does not hash to the signed
// digest is DENIED; anything else is the upstream's fault (502).
func (p *proxy) upstreamError(w http.ResponseWriter, ref registry.Reference, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("%s: the upstream registry has no such manifest", ref.String()))
	case errors.Is(err, registry.ErrDigestMismatch):
		p.deny(w, ref, policy.ReasonMismatch, err)
	case errors.Is(err, context.Canceled):
	default:
		p.m.denied.WithLabelValues(string(policy.ReasonUpstream)).Inc()
		p.log.Warn("upstream failure", "image", ref.String(), "error", err)
		writeError(w, http.StatusBadGateway, "UNAVAILABLE", fmt.Sprintf("%s: the upstream registry could not be read", ref.String()))
	}
}

// blobHeaders are relayed from the upstream's blob response.
var blobHeaders = []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Docker-Content-Digest", "Etag", "Last-Modified", "Cache-Control"}

// blob streams a blob from the upstream: blobs are content-addressed, and
// pull clients check them against the digests in the manifest the proxy
// allowed. The body is copied as it arrives, never held whole.
func (p *proxy) blob(w http.ResponseWriter, r *http.Request, name, d string) {
	if !validRepo(name) {
		writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name")
		return
	}
	if _, err := digest.Parse(d); err != nil {
		writeError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	hdr := http.Header{}
	for _, h := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		if v := r.Header.Values(h); len(v) > 0 {
			hdr[h] = v
		}
	}
	ref := registry.Reference{Host: p.endpoint, Repository: name}
	start := time.Now()
	resp, err := p.upstream.OpenBlob(r.Context(), r.Method, ref, d, hdr)
	p.m.upstream.WithLabelValues("blob").Observe(time.Since(start).Seconds())
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			p.log.Warn("upstream failure", "blob", ref.Name()+"@"+d, "error", err)
			writeError(w, http.StatusBadGateway, "UNAVAILABLE", "the upstream registry could not be read")
		}
		return
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to the upstream registry")
		return
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// The proxy's own upstream credentials were refused: not the
		// client's to retry with its credentials.
		writeError(w, http.StatusBadGateway, "UNAVAILABLE", "the upstream registry refused the proxy's credentials")
		return
	case resp.StatusCode >= 500:
		writeError(w, http.StatusBadGateway, "UNAVAILABLE", fmt.Sprintf("the upstream registry answered %d", resp.StatusCode))
		return
	}
	for _, h := range blobHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodGet {
		// 256 KiB at a time (not net/http's 32 KiB): a quarter of the
		// write system calls on a large layer; bounded per request.
		bufp := copyBufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(writerOnly{w}, resp.Body, *bufp)
		copyBufs.Put(bufp)
	}
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writerOnly hides the ResponseWriter's ReadFrom, which would copy with
// its own 32 KiB buffer.
type writerOnly struct{ io.Writer }

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorDetail(w, status, code, msg, nil)
}

func writeErrorDetail(w http.ResponseWriter, status int, code, msg string, detail any) {
	e := map[string]any{"code": code, "message": msg}
	if detail != nil {
		e["detail"] = detail
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{e}})
}
