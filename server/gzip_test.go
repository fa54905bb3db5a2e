package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// rawGet fetches path without Go's transparent decompression, asking for
// the given Accept-Encoding ("" for none).
func rawGet(t testing.TB, h *servertest.Harness, path, acceptEncoding string) response {
	t.Helper()
	tr := h.HTTP.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	req, err := http.NewRequest(http.MethodGet, h.HTTP.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != int64(len(b)) {
		t.Errorf("%s: Content-Length %d, body %d bytes", path, resp.ContentLength, len(b))
	}
	return response{resp.StatusCode, resp.Header, b}
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGzipResponses: metadata of 1 KiB or more goes out gzipped to
// clients that accept it, plain to others, with Vary: Accept-Encoding on
// both; every read path (current, by hash, by version) does it; the
// timestamp is too small to bother.
func TestGzipResponses(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			h := servertest.Start(t, b.Open(t), server.Options{})
			const gun = "example.com/gzip"
			r := h.NewRepo(t, gun, true)
			for i := range 100 {
				if err := r.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%03d", i), []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			parts, err := r.Publish(tuf.RoleTargets)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Client(t, gun).Publish(context.Background(), parts); err != nil {
				t.Fatal(err)
			}
			targets := r.Files[tuf.RoleTargets]
			paths := map[string][]byte{
				"current":  targets,
				"checksum": targets,
				"version":  targets,
				"root":     r.Files[tuf.RoleRoot],
			}
			urls := map[string]string{
				"current":  api.MetaPath(gun, tuf.RoleTargets),
				"checksum": "/v2/" + gun + "/_trust/tuf/targets." + servertest.SHA256Hex(targets) + ".json",
				"version":  "/v2/" + gun + "/_trust/tuf/2.targets.json",
				"root":     api.MetaPath(gun, tuf.RoleRoot),
			}
			for name, want := range paths {
				t.Run(name, func(t *testing.T) {
					z := rawGet(t, h, urls[name], "gzip")
					if z.status != 200 || z.header.Get("Content-Encoding") != "gzip" {
						t.Fatalf("status %d, Content-Encoding %q", z.status, z.header.Get("Content-Encoding"))
					}
					if got := gunzip(t, z.body); !bytes.Equal(got, want) {
						t.Errorf("gunzipped body differs from the stored file")
					}
					if len(z.body) >= len(want) {
						t.Errorf("gzip body %d bytes, plain %d", len(z.body), len(want))
					}
					for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
						p := rawGet(t, h, urls[name], ae)
						if p.header.Get("Content-Encoding") != "" || !bytes.Equal(p.body, want) {
							t.Errorf("Accept-Encoding %q: Content-Encoding %q, body equal %v", ae, p.header.Get("Content-Encoding"), bytes.Equal(p.body, want))
						}
						if p.header.Get("Vary") != "Accept-Encoding" {
							t.Errorf("Accept-Encoding %q: Vary %q", ae, p.header.Get("Vary"))
						}
					}
					if z.header.Get("Vary") != "Accept-Encoding" {
						t.Errorf("gzip: Vary %q", z.header.Get("Vary"))
					}
				})
			}
			ts := rawGet(t, h, api.MetaPath(gun, tuf.RoleTimestamp), "gzip")
			if ts.status != 200 || ts.header.Get("Content-Encoding") != "" {
				t.Errorf("timestamp: status %d, Content-Encoding %q", ts.status, ts.header.Get("Content-Encoding"))
			}
			// Go's client asks for gzip itself and hands back the plain bytes.
			resp := do(t, h, "GET", urls["current"], nil, "")
			if !bytes.Equal(resp.body, targets) {
				t.Errorf("default Go client: body differs")
			}
		})
	}
}

// TestGzipOncePerFile: many requests, concurrent ones included, compress
// a stored file once.
func TestGzipOncePerFile(t *testing.T) {
	h := servertest.Start(t, servertest.OpenSQLite(t), server.Options{})
	const gun = "example.com/gzip-once"
	r := h.NewRepo(t, gun, true)
	for i := range 50 {
		_ = r.AddTarget(tuf.RoleTargets, fmt.Sprintf("t%d", i), []byte(fmt.Sprint(i)))
	}
	parts, err := r.Publish(tuf.RoleTargets)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Client(t, gun).Publish(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	before := server.GzipCompressions(h.Server)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if z := rawGet(t, h, api.MetaPath(gun, tuf.RoleTargets), "gzip"); z.header.Get("Content-Encoding") != "gzip" {
					t.Errorf("not gzipped")
				}
			}
		})
	}
	wg.Wait()
	if n := server.GzipCompressions(h.Server) - before; n != 1 {
		t.Errorf("80 requests compressed targets.json %d times, want 1", n)
	}
}
