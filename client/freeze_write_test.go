package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

// TestExpiredRootPublishRefusesFreeze (issue 10): a publish whose root
// has expired verifies the server's data as of the root's expiry, so that
// the root key can renew it. A server that then serves the files it served
// just before that expiry (a freeze) must not get them accepted: their
// timestamp has expired since, and a current client refuses it. Nothing is
// uploaded. Served honestly, the same publish renews the root.
func TestExpiredRootPublishRefusesFreeze(t *testing.T) {
	base := time.Now()
	var offset atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	at := func(d time.Duration) { offset.Store(int64(d)) }
	const day = 24 * time.Hour

	srv, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		record   bool
		freeze   bool
		recorded = map[string][]byte{}
		posts    int
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		rec, frz := record, freeze
		frozen, ok := recorded[r.URL.Path]
		if r.Method == http.MethodPost {
			posts++
		}
		mu.Unlock()
		if frz && ok && r.Method == http.MethodGet {
			_, _ = w.Write(frozen)
			return
		}
		if !rec || r.Method != http.MethodGet {
			srv.ServeHTTP(w, r)
			return
		}
		// Record the plain bytes: the frozen replay sends no
		// Content-Encoding.
		r.Header.Del("Accept-Encoding")
		cw := httptest.NewRecorder()
		srv.ServeHTTP(cw, r)
		if cw.Code == http.StatusOK {
			mu.Lock()
			recorded[r.URL.Path] = bytes.Clone(cw.Body.Bytes())
			mu.Unlock()
		}
		for k, v := range cw.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(cw.Code)
		_, _ = w.Write(cw.Body.Bytes())
	}))
	defer hs.Close()
	ctx := context.Background()
	p := newRepo(t, hs.URL, func(o *client.Options) { o.Now = now })
	if _, err := p.Initialize(ctx, client.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	addTarget(t, p, "v1")
	if err := p.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	root, _, err := tuf.ParseRoot(mustLoad(t, p, tuf.RoleRoot))
	if err != nil {
		t.Fatal(err)
	}
	rootLife := root.Expires.Sub(base)
	// Targets and snapshot (three years each) are renewed every two and
	// a half, the last time late enough to outlive the root.
	for i, d := range []time.Duration{900 * day, 1800 * day, 2700 * day, rootLife - 300*day} {
		at(d)
		addTarget(t, p, "v"+string(rune('2'+i)))
		if err := p.Publish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The day before the root expires, a reader fetches everything: the
	// server records what it served.
	at(rootLife - day)
	mu.Lock()
	record = true
	mu.Unlock()
	reader := newRepo(t, hs.URL, func(o *client.Options) { o.Now = now })
	if _, err := reader.ListTargets(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	record, freeze, posts = false, true, 0
	mu.Unlock()

	// A month after the root expired the server serves the frozen files;
	// their timestamp expired two weeks after it was recorded.
	at(rootLife + 30*day)
	addTarget(t, p, "frozen")
	err = p.Publish(ctx)
	var eme *client.ExpiredMetadataError
	if !errors.As(err, &eme) || eme.Role != tuf.RoleTimestamp {
		t.Fatalf("publish on frozen data = %v, want the timestamp refused as expired", err)
	}
	mu.Lock()
	if posts != 0 {
		t.Errorf("%d uploads on frozen data, want none", posts)
	}
	freeze = false
	mu.Unlock()

	// Served honestly: the publish renews the root.
	if err := p.Publish(ctx); err != nil {
		t.Fatalf("publish after expiry, honest server: %v", err)
	}
	root, _, err = tuf.ParseRoot(mustLoad(t, p, tuf.RoleRoot))
	if err != nil || !root.Expires.After(now()) || root.Version != 2 {
		t.Errorf("root after the renewal: version %d, expires %v (%v)", root.Version, root.Expires, err)
	}
}

func mustLoad(t *testing.T, r *client.Repository, role string) []byte {
	t.Helper()
	data, err := r.Cache().Load(role)
	if err != nil {
		t.Fatalf("cached %s: %v", role, err)
	}
	return data
}
