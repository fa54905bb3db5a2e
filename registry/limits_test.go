package registry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/notary-go/notary/registry"
)

// endless writes manifest bytes forever, without Content-Length.
type endless struct{}

func (endless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		return
	}
	w.Header().Set("Content-Type", registry.MediaTypeOCIManifest)
	w.WriteHeader(http.StatusOK)
	chunk := []byte(strings.Repeat(" ", 64<<10))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if r.Context().Err() != nil {
			return
		}
	}
}

// A registry that sends an endless manifest without announcing its size
// is cut off after MaxManifestSize bytes.
func TestFetchManifestEndlessBody(t *testing.T) {
	srv := httptest.NewServer(endless{})
	defer srv.Close()
	c, _ := registry.New(registry.Options{})
	ref := mustRef(t, strings.TrimPrefix(srv.URL, "http://")+"/app:t")
	_, err := c.FetchManifest(context.Background(), ref)
	var tl *registry.ManifestTooLargeError
	if !errors.As(err, &tl) || tl.Size != -1 || !errors.Is(err, registry.ErrManifestTooLarge) {
		t.Fatalf("err = %v, want *ManifestTooLargeError with unknown size", err)
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"registry.example.com/team/app:1.0", "localhost:5000/app@sha256:0123456789012345678901234567890123456789012345678901234567890123",
		"r.io/a:t@sha256:0123456789012345678901234567890123456789012345678901234567890123", "[::1]:5000/a:b", "a/b", "r.io/a", ":/", "r.io/a:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := registry.ParseReference(s)
		if err != nil {
			if !errors.Is(err, registry.ErrInvalidReference) {
				t.Fatalf("ParseReference(%q): untyped error %v", s, err)
			}
			return
		}
		// What parses prints back to something that parses the same.
		again, err := registry.ParseReference(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseReference(%q) = %+v; String %q parses to %+v, %v", s, r, r.String(), again, err)
		}
	})
}
