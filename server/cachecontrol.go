package server

import (
	"fmt"
	"net/http"
	"time"
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
