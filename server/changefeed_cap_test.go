package server_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"

	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/memory"
)

// pageRecorder records the page sizes the server asks the store for.
type pageRecorder struct {
	*memory.Store
	mu    sync.Mutex
	asked []int
}

func (p *pageRecorder) GetChanges(ctx context.Context, changeID string, records int, gun string) ([]storage.Change, error) {
	p.mu.Lock()
	p.asked = append(p.asked, records)
	p.mu.Unlock()
	return p.Store.GetChanges(ctx, changeID, records, gun)
}

// TestChangefeedPageCapped: records up to 2^31-1 (issue 10) reaches the
// store as at most MaxChangefeedPage rows; sane values and v1's default
// (0 → 100) are passed on unchanged.
func TestChangefeedPageCapped(t *testing.T) {
	store := &pageRecorder{Store: memory.New()}
	h := servertest.Start(t, store, server.Options{})
	h.NewRepo(t, "example.com/feed", true)
	max := server.MaxChangefeedPage
	for _, tc := range []struct {
		records string
		want    int
	}{
		{"0", 100},
		{"10", 10},
		{"-10", -10},
		{strconv.Itoa(max), max},
		{strconv.Itoa(max + 1), max},
		{"2147483647", max},
		{"-2147483648", -max},
	} {
		for _, path := range []string{"/v2/_trust/changefeed", "/v2/example.com/feed/_trust/changefeed"} {
			store.mu.Lock()
			store.asked = nil
			store.mu.Unlock()
			got := do(t, h, "GET", path+"?records="+tc.records, nil, "")
			if got.status != 200 {
				t.Fatalf("GET %s records=%s: %d %s", path, tc.records, got.status, got.body)
			}
			var body struct {
				Count int `json:"count"`
			}
			if err := json.Unmarshal(got.body, &body); err != nil || body.Count != 1 {
				t.Errorf("records=%s: body %s (%v), want the one row", tc.records, got.body, err)
			}
			store.mu.Lock()
			asked := store.asked
			store.mu.Unlock()
			if len(asked) != 1 || asked[0] != tc.want {
				t.Errorf("GET %s records=%s asked the store for %v rows, want %d", path, tc.records, asked, tc.want)
			}
		}
	}
}
