package server_test

import (
	"bytes"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

// hostileMeta returns a metadata file of about size bytes whose "signed"
// body carries an unknown member "x": [{},{},...], the cheapest JSON to
// send per value a generic parser must allocate (issue 10 item 1).
func hostileMeta(typ string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 256)
	b.WriteString(`{"signed":{"_type":"` + typ + `","version":2,"expires":"2030-01-01T00:00:00Z","x":[{}`)
	for b.Len() < size-100 {
		b.WriteString(`,{}`)
	}
	b.WriteString(`]},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}`)
	return b.Bytes()
}

// peakHeap runs f and returns the largest growth of the live heap over
// its starting point seen while f ran, sampled from another goroutine.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
				peak = ms.HeapAlloc - base
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak
}

// TestUploadMemoryBounded sends a 50 MiB hostile part per role and checks
// that the server's peak heap stays within a small multiple of the body
// (issue 10 item 1: it was about 30 bytes per byte sent).
func TestUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MiB bodies")
	}
	const size = 50 << 20
	h := servertest.Start(t, memory.New(), server.Options{Logger: discardLogger()})
	r := h.NewRepo(t, "example.com/dos", true)
	for _, tc := range []struct{ role, typ string }{
		{tuf.RoleRoot, tuf.TypeRoot},
		{tuf.RoleTargets, tuf.TypeTargets},
		{"targets/releases", tuf.TypeTargets},
		{tuf.RoleSnapshot, tuf.TypeSnapshot},
	} {
		t.Run(strings.ReplaceAll(tc.role, "/", "_"), func(t *testing.T) {
			var ct bytes.Buffer
			contentType, err := api.WriteUpdate(&ct, []api.Part{{Role: tc.role, Data: hostileMeta(tc.typ, size)}})
			if err != nil {
				t.Fatal(err)
			}
			body := ct.Bytes()
			var rec *httptest.ResponseRecorder
			peak := peakHeap(func() {
				req := httptest.NewRequest("POST", "/v2/"+r.GUN+"/_trust/tuf/", bytes.NewReader(body))
				req.Header.Set("Content-Type", contentType)
				rec = httptest.NewRecorder()
				h.Server.ServeHTTP(rec, req)
			})
			t.Logf("%s: body %d bytes, peak heap growth %d bytes (%.1fx), status %d", tc.role, len(body), peak, float64(peak)/float64(len(body)), rec.Code)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Errorf("status %d, want 4xx: %s", rec.Code, rec.Body.Bytes())
			}
			if limit := uint64(6 * len(body)); peak > limit {
				t.Errorf("peak heap growth %d bytes, want at most %d (6x the body)", peak, limit)
			}
		})
	}
}
