package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

const day = 24 * time.Hour

// watchClock is the injected clock of a watch test.
type watchClock struct {
	base   time.Time
	offset atomic.Int64
}

func (c *watchClock) now() time.Time      { return c.base.Add(time.Duration(c.offset.Load())) }
func (c *watchClock) set(d time.Duration) { c.offset.Store(int64(d)) }

// flakyKeys is a key service whose signer can be taken down.
type flakyKeys struct {
	*keyservice.Local
	down atomic.Bool
}

var errSignerDown = errors.New("signer unreachable")

func (f *flakyKeys) Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error) {
	if f.down.Load() {
		return nil, errSignerDown
	}
	return f.Local.Signer(ctx, gun, role, pub)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns and clears what was logged.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

type watchEnv struct {
	t     *testing.T
	clk   *watchClock
	keys  *flakyKeys
	h     *servertest.Harness
	logs  *syncBuffer
	batch int
}

func newWatchEnv(t *testing.T) *watchEnv {
	t.Helper()
	e := &watchEnv{t: t, clk: &watchClock{base: time.Now().UTC().Truncate(time.Second)}, logs: &syncBuffer{}}
	e.keys = &flakyKeys{Local: keyservice.NewMemory()}
	e.h = servertest.Start(t, memory.New(), server.Options{
		Keys:   e.keys,
		Now:    e.clk.now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	return e
}

// repo publishes a new collection as of the test clock.
func (e *watchEnv) repo(gun string, serverSnapshot bool, delegation bool) *servertest.Repo {
	e.t.Helper()
	ctx := context.Background()
	c := e.h.Client(e.t, gun)
	ts, err := c.GetKey(ctx, "timestamp")
	if err != nil {
		e.t.Fatal(err)
	}
	var sn keys.PublicKey
	if serverSnapshot {
		if sn, err = c.GetKey(ctx, "snapshot"); err != nil {
			e.t.Fatal(err)
		}
	}
	r, err := servertest.NewRepo(gun, ts, sn)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Now = e.clk.now
	parts, err := r.Initial()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.Publish(ctx, parts); err != nil {
		e.t.Fatal(err)
	}
	if delegation {
		if err := r.AddDelegation("targets/releases", ""); err != nil {
			e.t.Fatal(err)
		}
		if parts, err = r.Publish(tuf.RoleTargets, "targets/releases"); err != nil {
			e.t.Fatal(err)
		}
		if err := c.Publish(ctx, parts); err != nil {
			e.t.Fatal(err)
		}
	}
	return r
}

func (e *watchEnv) cycle() {
	e.t.Helper()
	if err := e.h.Server.ExpiryCycle(context.Background(), server.ExpiryWatchOptions{Batch: e.batch}); err != nil {
		e.t.Fatal(err)
	}
}

// metrics returns the /metrics text.
func (e *watchEnv) metrics() string {
	e.t.Helper()
	resp, err := e.h.HTTP.Client().Get(e.h.HTTP.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(b)
}

// metric returns the value of the sample named series (name with its
// labels, as printed), or NaN-like false when absent.
func metric(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

func (e *watchEnv) want(body string, series map[string]float64) {
	e.t.Helper()
	for s, want := range series {
		got, ok := metric(body, s)
		if !ok {
			e.t.Errorf("/metrics lacks %s", s)
			continue
		}
		if got != want {
			e.t.Errorf("%s = %v, want %v", s, got, want)
		}
	}
}

// TestExpiryWatchMetrics: collections whose roles expire at different
// times are counted in the right windows as the clock moves, warned about
// once per crossing, with no GUN label on any series.
func TestExpiryWatchMetrics(t *testing.T) {
	e := newWatchEnv(t)
	const ga, gb = "example.com/a", "example.com/b"
	e.repo(ga, true, false)
	e.clk.set(200 * day)
	e.repo(gb, false, true)
	e.cycle()
	body := e.metrics()
	aTargets := e.clk.base.Add(tuf.DefaultTargetsTTL)
	e.want(body, map[string]float64{
		"notary_server_expiry_watch_collections":                                     2,
		`notary_server_collections_expiring{within="7d"}`:                            0,
		`notary_server_collections_expiring{within="30d"}`:                           0,
		"notary_server_collections_expired":                                          0,
		"notary_server_timestamps_at_risk":                                           0,
		`notary_server_metadata_soonest_expiry_timestamp_seconds{role="targets"}`:    float64(aTargets.Unix()),
		`notary_server_metadata_soonest_expiry_timestamp_seconds{role="delegation"}`: float64(e.clk.base.Add(200*day + tuf.DefaultTargetsTTL).Unix()),
		`notary_server_metadata_soonest_expiry_timestamp_seconds{role="timestamp"}`:  float64(e.clk.now().Add(tuf.DefaultTimestampTTL).Unix()), // a's was renewed ahead
		"notary_server_expiry_watch_last_cycle_timestamp_seconds":                    float64(e.clk.now().Unix()),
		"notary_server_timestamp_renewal_failures_total":                             0,
	})
	if strings.Contains(body, "gun=") {
		t.Errorf("a series has a GUN label:\n%s", body)
	}
	e.logs.take()

	// 20 days before a's targets expire: a is in the 30-day window, and
	// warned about once.
	e.clk.set(tuf.DefaultTargetsTTL - 20*day)
	e.cycle()
	e.want(e.metrics(), map[string]float64{
		`notary_server_collections_expiring{within="7d"}`:  0,
		`notary_server_collections_expiring{within="30d"}`: 1,
		"notary_server_timestamps_at_risk":                 0,
	})
	logs := e.logs.take()
	if strings.Count(logs, "expires soon") != 1 || !strings.Contains(logs, "gun="+ga) || !strings.Contains(logs, "role=targets") {
		t.Errorf("want one warning about %s targets, got:\n%s", ga, logs)
	}
	e.cycle()
	if logs := e.logs.take(); strings.Contains(logs, "expires soon") {
		t.Errorf("warned again without a new crossing:\n%s", logs)
	}

	// 5 days before: the 7-day window; then expired.
	e.clk.set(tuf.DefaultTargetsTTL - 5*day)
	e.cycle()
	e.want(e.metrics(), map[string]float64{
		`notary_server_collections_expiring{within="7d"}`:  1,
		`notary_server_collections_expiring{within="30d"}`: 1,
	})
	e.clk.set(tuf.DefaultTargetsTTL + day)
	e.cycle()
	e.want(e.metrics(), map[string]float64{
		`notary_server_collections_expiring{within="7d"}`: 1,
		"notary_server_collections_expired":               1,
	})
	if logs := e.logs.take(); !strings.Contains(logs, "has expired") {
		t.Errorf("no expired warning:\n%s", logs)
	}

	// Deleted collections leave the counts.
	if err := e.h.Client(t, ga).Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.cycle()
	e.want(e.metrics(), map[string]float64{
		"notary_server_expiry_watch_collections": 1,
		"notary_server_collections_expired":      0,
	})
}

// TestExpiryWatchSignerOutage: timestamps are renewed ahead of expiry; a
// signer that is down when one must be renewed is reported (metric and
// error log) days before the timestamp lapses, and clears once it is back.
func TestExpiryWatchSignerOutage(t *testing.T) {
	e := newWatchEnv(t)
	const g = "example.com/ts"
	e.repo(g, true, false)
	e.cycle()

	// Ten days in, nothing to do yet; twelve days in the timestamp has
	// two days left: renewed by the watch, before any client reads it.
	e.clk.set(12 * day)
	e.cycle()
	body := e.metrics()
	e.want(body, map[string]float64{
		`notary_server_metadata_soonest_expiry_timestamp_seconds{role="timestamp"}`: float64(e.clk.now().Add(tuf.DefaultTimestampTTL).Unix()),
		"notary_server_timestamps_at_risk":                                          0,
	})

	// The signer goes down; 12 days later the timestamp has 2 days left.
	e.keys.down.Store(true)
	e.clk.set(24 * day)
	e.cycle()
	e.want(e.metrics(), map[string]float64{
		"notary_server_timestamps_at_risk":               1,
		"notary_server_timestamp_renewal_failures_total": 1,
	})
	logs := e.logs.take()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "cannot renew the timestamp ahead of its expiry") || !strings.Contains(logs, "gun="+g) {
		t.Errorf("no loud log of the outage:\n%s", logs)
	}
	// Clients are still served the valid timestamp meanwhile.
	c := e.h.Client(t, g)
	data, err := c.GetMeta(context.Background(), tuf.RoleTimestamp, tuf.MaxTimestampSize)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := tuf.ParseTimestamp(data)
	if err != nil || !ts.Expires.After(e.clk.now()) {
		t.Fatalf("timestamp served during the outage: %v, %v", ts, err)
	}

	// Back up: the next cycle renews and clears the risk.
	e.keys.down.Store(false)
	e.cycle()
	e.want(e.metrics(), map[string]float64{"notary_server_timestamps_at_risk": 0})
}

// TestServerSnapshotNeverLapses: a snapshot whose key the server holds is
// renewed by the watch before it expires, and by a read after it expired
// when no watch ran.
func TestServerSnapshotNeverLapses(t *testing.T) {
	e := newWatchEnv(t)
	const watched, unwatched = "example.com/watched", "example.com/unwatched"
	e.repo(watched, true, false)
	e.repo(unwatched, true, false)
	snapExpiry := func(g string) time.Time {
		t.Helper()
		data, err := e.h.Client(t, g).GetMeta(context.Background(), tuf.RoleSnapshot, tuf.MaxSnapshotSize)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := tuf.ParseSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		return s.Expires
	}
	// A day before the snapshot expires, the watch renews it.
	e.clk.set(tuf.DefaultSnapshotTTL - day)
	e.batch = 1 // bounded: one collection per cycle
	e.cycle()
	e.cycle()
	e.cycle()
	body := e.metrics()
	if v, _ := metric(body, `notary_server_metadata_soonest_expiry_timestamp_seconds{role="snapshot"}`); v < float64(e.clk.now().Add(tuf.DefaultSnapshotTTL-day).Unix()) {
		t.Errorf("watched snapshot not renewed ahead: soonest snapshot expiry %v, now %v", v, e.clk.now().Unix())
	}
	// Past expiry with no watch cycle: a read renews it.
	e.clk.set(2*tuf.DefaultSnapshotTTL + day)
	if got := snapExpiry(unwatched); !got.After(e.clk.now()) {
		t.Errorf("snapshot served after expiry: expires %v, now %v", got, e.clk.now())
	}
	if got := snapExpiry(watched); !got.After(e.clk.now()) {
		t.Errorf("snapshot served after expiry: expires %v, now %v", got, e.clk.now())
	}
}

// TestExpiryWatchBatch: one cycle does at most Batch collections' worth
// of work.
func TestExpiryWatchBatch(t *testing.T) {
	e := newWatchEnv(t)
	for _, g := range []string{"example.com/1", "example.com/2", "example.com/3"} {
		e.repo(g, true, false)
	}
	e.batch = 1
	e.cycle()
	e.want(e.metrics(), map[string]float64{"notary_server_expiry_watch_collections": 1})
	e.cycle()
	e.cycle()
	e.want(e.metrics(), map[string]float64{"notary_server_expiry_watch_collections": 3})
}
