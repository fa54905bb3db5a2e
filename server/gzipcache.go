package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

const (
	// gzipMinSize: smaller files go out as they are. A timestamp (~500
	// bytes) gains a few hundred bytes at most, less than the cost of a
	// cache lookup is worth.
	gzipMinSize = 1024
	// gzipCacheBudget bounds the bytes of compressed files kept in memory.
	gzipCacheBudget = 16 << 20
)

// gzipCache holds the gzip form of stored metadata files, keyed by their
// SHA-256 and length. A stored file never changes under its hash, so each
// is compressed once (concurrent first requests wait for one compression)
// and then served from memory until evicted; a file whose compressed form
// is not smaller, or too large for the cache, is remembered as such and
// sent uncompressed.
type gzipCache struct {
	lru     *lru
	flights flightGroup
	// compressions counts gzip runs, for tests.
	compressions atomic.Int64
}

// noGzip marks a file better sent as it is.
type noGzip struct{}

func newGzipCache(budget int) *gzipCache { return &gzipCache{lru: newLRU(budget)} }

// get returns the gzip form of data, whose hex SHA-256 is sha, or nil if
// it should go out uncompressed.
func (g *gzipCache) get(ctx context.Context, sha string, data []byte) []byte {
	if sha == "" || len(data) < gzipMinSize {
		return nil
	}
	key := sha + "\x00" + strconv.Itoa(len(data))
	for range 2 {
		if v, ok := g.lru.get(key); ok {
			z, _ := v.([]byte)
			return z
		}
		shared, err := g.flights.do(ctx, key, func() {
			g.compressions.Add(1)
			z := compress(data)
			if z == nil || len(z) >= len(data) || len(z)+len(key)+64 > g.lru.budget/4 {
				g.lru.put(key, noGzip{}, len(key)+64)
				return
			}
			g.lru.put(key, z, len(z)+len(key)+64)
		})
		if err != nil || !shared {
			// Ours just ran: it is in the cache unless evicted at once.
			break
		}
	}
	if v, ok := g.lru.get(key); ok {
		z, _ := v.([]byte)
		return z
	}
	return nil
}

func compress(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(data) / 3)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil
	}
	if _, err := zw.Write(data); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (RFC 9110 §12.5.3): "gzip" or "x-gzip" with a non-zero weight, or "*"
// with a non-zero weight when gzip is not listed.
func acceptsGzip(r *http.Request) bool {
	vals := r.Header.Values("Accept-Encoding")
	if len(vals) == 0 {
		return false
	}
	star := false
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			ok := qNonZero(params)
			switch coding {
			case "gzip", "x-gzip":
				return ok
			case "*":
				star = ok
			}
		}
	}
	return star
}

// qNonZero reports whether the parameters of an Accept-Encoding item give
// a weight above zero (no weight means 1).
func qNonZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.ToLower(strings.TrimSpace(k)) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil && q > 0
	}
	return true
}
