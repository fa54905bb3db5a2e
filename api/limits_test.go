package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/tuf"
)

// TestClientRoleLimits: a caller's maxSize (a length a parent claims) is
// capped at the role's limit, so a forged 2^40-byte claim reads no more
// than tuf.MaxSize (issue 10 item 4); the server's Content-Length over the
// cap is refused before reading.
func TestClientRoleLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(tuf.MaxTargetsSize+1, 10))
		w.WriteHeader(200)
	}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL, "g/x", api.ClientOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{tuf.RoleRoot, tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets, "targets/rel"} {
		for _, claimed := range []int64{0, 1 << 40} {
			_, err := c.GetMetaByHash(context.Background(), role, "ab", claimed)
			var tl *api.TooLargeError
			if !errors.As(err, &tl) || tl.Limit != tuf.MaxSize(role) {
				t.Errorf("%s claimed %d: %v, want TooLargeError at %d", role, claimed, err, tuf.MaxSize(role))
			}
		}
	}
}
