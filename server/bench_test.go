package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// BenchmarkServer measures the handler alone (no network): reads of
// current metadata and publishes, per storage backend.
//
// The Get* cases answer into a discarding ResponseWriter, so they count
// the server's own work (resolution of the current file, storage reads,
// headers) and not a recorder's copy of the body. Publish signs nothing in
// the timed loop: the client's targets files are signed beforehand, so it
// counts what the server does (multipart reading, validation, signing of
// snapshot and timestamp, the storage transaction). PublishClient is the
// older end-to-end variant through api.Client over loopback HTTP, client
// signing included.
func BenchmarkServer(b *testing.B) {
	for _, be := range servertest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			h := servertest.Start(b, be.Open(b), server.Options{Logger: discardLogger()})
			small := h.NewRepo(b, "bench/small", true)
			large := h.NewRepo(b, "bench/large", true)
			for i := 0; i < 1000; i++ {
				_ = large.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%04d", i), []byte(fmt.Sprint(i)))
			}
			parts, _ := large.Publish(tuf.RoleTargets)
			if err := h.Client(b, large.GUN).Publish(context.Background(), parts); err != nil {
				b.Fatal(err)
			}
			for _, tc := range []struct{ name, path string }{
				{"GetTimestamp", api.MetaPath(small.GUN, "timestamp")},
				{"GetSnapshot", api.MetaPath(small.GUN, "snapshot")},
				{"GetTargets10", api.MetaPath(small.GUN, "targets")},
				{"GetTargets1000", api.MetaPath(large.GUN, "targets")},
			} {
				b.Run(tc.name, func(b *testing.B) {
					benchGet(b, h.Server, tc.path)
				})
				b.Run(tc.name+"Parallel", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						w := &discardWriter{h: http.Header{}}
						req := cancelableGet(b, tc.path)
						for pb.Next() {
							w.reset()
							h.Server.ServeHTTP(w, req)
							if w.code != 200 {
								b.Fatal(w.code)
							}
						}
					})
				})
			}
			pubs := 0
			b.Run("Publish", func(b *testing.B) {
				pubs++ // the body runs once per b.N tried: a fresh GUN each time
				benchPublish(b, h, h.NewRepo(b, fmt.Sprintf("bench/publish-%d", pubs), true))
			})
			b.Run("PublishParallel8", func(b *testing.B) {
				const conc = 8
				var repos []*servertest.Repo
				for i := range conc {
					pubs++
					repos = append(repos, h.NewRepo(b, fmt.Sprintf("bench/publish-%d-%d", pubs, i), true))
				}
				benchPublishParallel(b, h, repos)
			})
			b.Run("PublishClient", func(b *testing.B) {
				b.ReportAllocs()
				c := h.Client(b, small.GUN)
				for i := 0; i < b.N; i++ {
					_ = small.AddTarget(tuf.RoleTargets, "x", []byte(fmt.Sprint(i)))
					parts, _ := small.Publish(tuf.RoleTargets)
					if err := c.Publish(context.Background(), parts); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func benchGet(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	w := &discardWriter{h: http.Header{}}
	req := cancelableGet(b, path)
	for i := 0; i < b.N; i++ {
		w.reset()
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

// cancelableGet is a GET whose context can be cancelled, as net/http
// gives every request: database/sql watches such contexts (one goroutine
// per query), httptest.NewRequest's background context would hide that.
func cancelableGet(b *testing.B, path string) *http.Request {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	return httptest.NewRequest("GET", path, nil).WithContext(ctx)
}

// benchPublish posts b.N re-signed targets files of r (10 targets), signed
// before the timer starts, so that only the server's work is timed.
func benchPublish(b *testing.B, h *servertest.Harness, r *servertest.Repo) {
	for i := 0; i < 10; i++ {
		_ = r.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%04d", i), []byte(fmt.Sprint(i)))
	}
	bodies := signBodies(b, r, b.N)
	path := api.UpdatePath(r.GUN)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range bodies {
		post(b, h, w, path, bodies[i])
	}
}

// benchPublishParallel is benchPublish with one goroutine per repo, each
// publishing its own collection (b.N publishes in all).
func benchPublishParallel(b *testing.B, h *servertest.Harness, repos []*servertest.Repo) {
	n := (b.N + len(repos) - 1) / len(repos)
	bodies := make([][]pubBody, len(repos))
	for i, r := range repos {
		for j := 0; j < 10; j++ {
			_ = r.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%04d", j), []byte(fmt.Sprint(j)))
		}
		bodies[i] = signBodies(b, r, n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, r := range repos {
		wg.Go(func() {
			path := api.UpdatePath(r.GUN)
			w := &discardWriter{h: http.Header{}}
			for _, body := range bodies[i] {
				post(b, h, w, path, body)
			}
		})
	}
	wg.Wait()
}

type pubBody struct {
	ct   string
	data []byte
}

func post(b *testing.B, h *servertest.Harness, w *discardWriter, path string, body pubBody) {
	req := httptest.NewRequest("POST", path, bytes.NewReader(body.data))
	req.Header.Set("Content-Type", body.ct)
	w.reset()
	h.Server.ServeHTTP(w, req)
	if w.code != 0 && w.code != 200 { // 0: nothing written, an implicit 200
		b.Errorf("publish to %s: status %d", path, w.code)
	}
}

// signBodies signs n successive targets updates of r (replacing one
// target each time) as multipart bodies.
func signBodies(b *testing.B, r *servertest.Repo, n int) []pubBody {
	bodies := make([]pubBody, n)
	for i := range bodies {
		_ = r.AddTarget(tuf.RoleTargets, "image-0000", []byte(fmt.Sprint("v", i)))
		parts, err := r.Publish(tuf.RoleTargets)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		ct, err := api.WriteUpdate(&buf, parts)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = pubBody{ct, buf.Bytes()}
	}
	return bodies
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.code = 0
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return len(p), nil
}
