package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// The expiry watch walks storage in the background, a bounded number of
// collections per cycle, and
//   - exports the soonest expiry per role kind and how many collections
//     have a root, targets or delegation expiring within 7 and 30 days (no
//     GUN label: the label sets are fixed, whatever the number of
//     collections);
//   - logs a warning when a collection's root, targets or delegation
//     crosses into 30 days, 7 days, or expired (once per crossing);
//   - renews timestamps (and server-held snapshots) that expire within
//     RenewBefore, ahead of any read, so a signer outage shorter than
//     RenewBefore is never seen by clients; when renewing fails, the
//     collection is counted in notary_server_timestamps_at_risk and an
//     error is logged with the moment clients will start failing.

// Defaults of ExpiryWatchOptions.
const (
	DefaultExpiryWatchInterval = time.Minute
	DefaultExpiryWatchBatch    = 200
	// DefaultRenewBefore is a quarter of the timestamp's lifetime: a
	// signer outage is reported 3.5 days before any client notices.
	DefaultRenewBefore = tuf.DefaultTimestampTTL / 4
	// maxWatchedRoles bounds the delegations read per collection in one
	// evaluation (each is one storage read).
	maxWatchedRoles = 1000
	// maxWatchedGUNs bounds the collections the watch remembers.
	maxWatchedGUNs = 1_000_000
)

// ExpiryWatchOptions configure Server.WatchExpiry.
type ExpiryWatchOptions struct {
	// Interval between cycles; 0: DefaultExpiryWatchInterval.
	Interval time.Duration
	// Batch is how many collections one cycle evaluates, and how many
	// changefeed rows it reads; 0: DefaultExpiryWatchBatch.
	Batch int
	// RenewBefore: timestamps (and server-held snapshots) that expire
	// within it are renewed; 0: DefaultRenewBefore; negative: never
	// renew ahead (reads still renew expired ones).
	RenewBefore time.Duration
}

func (o ExpiryWatchOptions) withDefaults() ExpiryWatchOptions {
	if o.Interval <= 0 {
		o.Interval = DefaultExpiryWatchInterval
	}
	if o.Batch <= 0 {
		o.Batch = DefaultExpiryWatchBatch
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = DefaultRenewBefore
	}
	return o
}

// Role kinds of the expiry gauges.
const (
	kindRoot = iota
	kindTargets
	kindDelegation
	kindSnapshot
	kindTimestamp
	numKinds
)

var kindNames = [numKinds]string{"root", "targets", "delegation", "snapshot", "timestamp"}

// Warning levels of a collection's publisher-signed roles.
const (
	levelOK = iota
	level30d
	level7d
	levelExpired
)

type gunExpiry struct {
	soonest [numKinds]time.Time // zero: no such role
	level   int                 // last level logged
	atRisk  bool
}

// publisherSoonest is the soonest expiry of root, targets and delegations.
func (g *gunExpiry) publisherSoonest() time.Time {
	var t time.Time
	for _, k := range []int{kindRoot, kindTargets, kindDelegation} {
		if s := g.soonest[k]; !s.IsZero() && (t.IsZero() || s.Before(t)) {
			t = s
		}
	}
	return t
}

type expiryWatch struct {
	mu        sync.Mutex
	cursor    string
	guns      map[string]*gunExpiry
	queue     []string
	queued    map[string]bool
	soonest   *prometheus.GaugeVec
	within    *prometheus.GaugeVec
	expired   prometheus.Gauge
	atRisk    prometheus.Gauge
	tracked   prometheus.Gauge
	renewFail prometheus.Counter
	lastCycle prometheus.Gauge
}

func newExpiryWatch(reg prometheus.Registerer) (*expiryWatch, error) {
	w := &expiryWatch{
		cursor: "0",
		guns:   map[string]*gunExpiry{},
		queued: map[string]bool{},
		soonest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notary_server_metadata_soonest_expiry_timestamp_seconds",
			Help: "Soonest expiry (Unix time) of any stored collection's metadata, per role kind (root, targets, delegation, snapshot, timestamp).",
		}, []string{"role"}),
		within: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "notary_server_collections_expiring",
			Help: "Collections whose root, targets or a delegation expires within the window (7d, 30d), expired ones included: their publishers must re-sign.",
		}, []string{"within"}),
		expired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "notary_server_collections_expired",
			Help: "Collections whose root, targets or a delegation has expired.",
		}),
		atRisk: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "notary_server_timestamps_at_risk",
			Help: "Collections whose timestamp (or server-held snapshot) nears expiry and could not be renewed (signer down?): clients fail once it expires.",
		}),
		tracked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "notary_server_expiry_watch_collections",
			Help: "Collections the expiry watch has evaluated.",
		}),
		renewFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notary_server_timestamp_renewal_failures_total",
			Help: "Failed attempts to renew a timestamp or snapshot ahead of its expiry.",
		}),
		lastCycle: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "notary_server_expiry_watch_last_cycle_timestamp_seconds",
			Help: "When the expiry watch last completed a cycle (Unix time; server clock).",
		}),
	}
	// A second Server on the same registry shares the first one's
	// collectors (both watches compute the same values from one store).
	var err error
	if w.soonest, err = register(reg, w.soonest); err != nil {
		return nil, err
	}
	if w.within, err = register(reg, w.within); err != nil {
		return nil, err
	}
	if w.expired, err = register(reg, w.expired); err != nil {
		return nil, err
	}
	if w.atRisk, err = register(reg, w.atRisk); err != nil {
		return nil, err
	}
	if w.tracked, err = register(reg, w.tracked); err != nil {
		return nil, err
	}
	if w.renewFail, err = register(reg, w.renewFail); err != nil {
		return nil, err
	}
	if w.lastCycle, err = register(reg, w.lastCycle); err != nil {
		return nil, err
	}
	return w, nil
}

// register registers c, or returns the collector already registered
// under its name.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}

// WatchExpiry runs the expiry watch until ctx ends (see ExpiryCycle).
// Run it once per process; several servers sharing a database may each
// run it (renewals settle through version conflicts).
func (s *Server) WatchExpiry(ctx context.Context, opts ExpiryWatchOptions) {
	opts = opts.withDefaults()
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		if err := s.ExpiryCycle(ctx, opts); err != nil && ctx.Err() == nil {
			s.log.Error("expiry watch cycle failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpiryCycle is one bounded step of the expiry watch: it reads at most
// opts.Batch changefeed rows (collections created, updated or deleted
// since the last cycle are evaluated first), evaluates at most opts.Batch
// collections (after the changed ones, the rest in turn), renews
// timestamps nearing expiry, and updates the gauges. Concurrent calls are
// serialised.
func (s *Server) ExpiryCycle(ctx context.Context, opts ExpiryWatchOptions) error {
	opts = opts.withDefaults()
	w := s.expiry
	w.mu.Lock()
	defer w.mu.Unlock()
	changes, err := s.store.GetChanges(ctx, w.cursor, opts.Batch, "")
	if err != nil {
		return err
	}
	for _, ch := range changes {
		w.cursor = ch.ID
		if ch.Category == storage.CategoryDeletion {
			delete(w.guns, ch.GUN)
			continue
		}
		if _, ok := w.guns[ch.GUN]; !ok && len(w.guns) >= maxWatchedGUNs {
			continue
		}
		if _, ok := w.guns[ch.GUN]; !ok {
			w.guns[ch.GUN] = &gunExpiry{}
		}
		w.enqueue(ch.GUN)
	}
	if len(w.queue) == 0 {
		// A new sweep over every known collection.
		all := make([]string, 0, len(w.guns))
		for g := range w.guns {
			all = append(all, g)
		}
		slices.Sort(all)
		for _, g := range all {
			w.enqueue(g)
		}
	}
	n := min(opts.Batch, len(w.queue))
	batch := w.queue[:n]
	w.queue = slices.Clone(w.queue[n:])
	for _, g := range batch {
		delete(w.queued, g)
		if err := ctx.Err(); err != nil {
			return err
		}
		s.evaluateExpiry(ctx, w, g, opts)
	}
	w.publish(s.now())
	return nil
}

func (w *expiryWatch) enqueue(g string) {
	if !w.queued[g] {
		w.queued[g] = true
		w.queue = append(w.queue, g)
	}
}

// evaluateExpiry reads the current metadata of gun and records its
// expiries; errors other than a deleted collection are logged and the
// previous record kept.
func (s *Server) evaluateExpiry(ctx context.Context, w *expiryWatch, gun string, opts ExpiryWatchOptions) {
	rec, ok := w.guns[gun]
	if !ok {
		return
	}
	c, err := s.loadCollection(ctx, gun)
	if errors.Is(err, storage.ErrNotFound) {
		delete(w.guns, gun)
		return
	}
	if err != nil {
		s.log.Warn("expiry watch: cannot read collection", "gun", gun, "err", err)
		return
	}
	now := s.now()
	if opts.RenewBefore > 0 {
		before := now.Add(opts.RenewBefore)
		if expired(c.tsBody.Expires, before) || (expired(c.snapBody.Expires, before) && s.holdsSnapshotKey(ctx, c)) {
			c = s.renewAhead(ctx, w, rec, c, now, before)
		} else {
			rec.atRisk = false
		}
	}
	var soon [numKinds]time.Time
	note := func(k int, t time.Time) {
		if soon[k].IsZero() || t.Before(soon[k]) {
			soon[k] = t
		}
	}
	note(kindTimestamp, c.tsBody.Expires)
	note(kindSnapshot, c.snapBody.Expires)
	if _, root, err := s.root(ctx, c); err == nil {
		note(kindRoot, root.Expires)
	} else {
		s.log.Warn("expiry watch: cannot read root", "gun", gun, "err", err)
	}
	roles := make([]string, 0, len(c.snapBody.Meta))
	for role := range c.snapBody.Meta {
		if tuf.IsTargetsRole(role) {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles)
	if len(roles) > maxWatchedRoles {
		roles = roles[:maxWatchedRoles]
	}
	for _, role := range roles {
		f, err := s.file(ctx, c, role)
		if err != nil {
			continue
		}
		t, err := s.parsed.targets(role, f)
		if err != nil {
			continue
		}
		if role == tuf.RoleTargets {
			note(kindTargets, t.Expires)
		} else {
			note(kindDelegation, t.Expires)
		}
	}
	rec.soonest = soon
	s.logExpiryLevel(gun, rec, now)
}

// holdsSnapshotKey reports whether the server can sign c's snapshot.
func (s *Server) holdsSnapshotKey(ctx context.Context, c *storedState) bool {
	_, root, err := s.root(ctx, c)
	if err != nil {
		return false
	}
	rk, err := root.RoleKeys(tuf.RoleSnapshot)
	if err != nil {
		return false
	}
	signers, err := s.heldSigners(ctx, c.gun, rk)
	return err == nil && len(signers) >= rk.Threshold && len(signers) > 0
}

// renewAhead renews c's timestamp (and server-held snapshot) and returns
// the collection as stored afterwards; on failure it reports the
// collection at risk, loudly, and returns c.
func (s *Server) renewAhead(ctx context.Context, w *expiryWatch, rec *gunExpiry, c *storedState, now, before time.Time) *storedState {
	// Through the same flight group as reads that regenerate, so a read
	// and the watch never sign the same collection's timestamp at once.
	var err error
	shared, ferr := s.regen.do(ctx, c.gun, func() { err = s.renew(ctx, c, now, before) })
	if ferr != nil {
		err = ferr
	} else if shared {
		err = nil // a read just regenerated it
	}
	if err == nil || errors.Is(err, storage.ErrOldVersion) {
		rec.atRisk = false
		if fresh, lerr := s.loadCollection(ctx, c.gun); lerr == nil {
			return fresh
		}
		return c
	}
	w.renewFail.Inc()
	rec.atRisk = true
	lapse := c.tsBody.Expires
	if c.snapBody.Expires.Before(lapse) && s.holdsSnapshotKey(ctx, c) {
		lapse = c.snapBody.Expires
	}
	s.log.Error("cannot renew the timestamp ahead of its expiry: clients will fail to read the collection once it expires unless the signer recovers",
		"gun", c.gun, "expires", lapse.UTC().Format(time.RFC3339), "in", lapse.Sub(now).Round(time.Minute).String(), "err", err)
	return c
}

// logExpiryLevel warns once each time a collection's root, targets or a
// delegation crosses into 30 days, 7 days or expired.
func (s *Server) logExpiryLevel(gun string, rec *gunExpiry, now time.Time) {
	t := rec.publisherSoonest()
	level := levelOK
	switch {
	case t.IsZero():
	case !now.Before(t):
		level = levelExpired
	case t.Before(now.Add(7 * 24 * time.Hour)):
		level = level7d
	case t.Before(now.Add(30 * 24 * time.Hour)):
		level = level30d
	}
	if level > rec.level {
		var roles []string
		for _, k := range []int{kindRoot, kindTargets, kindDelegation} {
			if rec.soonest[k].Equal(t) {
				roles = append(roles, kindNames[k])
			}
		}
		msg := "collection metadata expires soon: its publisher must re-sign it (notary resign)"
		if level == levelExpired {
			msg = "collection metadata has expired: clients refuse it until its publisher re-signs it (notary resign)"
		}
		s.log.Warn(msg, "gun", gun, "role", strings.Join(roles, ","), "expires", t.UTC().Format(time.RFC3339), "in", t.Sub(now).Round(time.Minute).String())
	}
	rec.level = level
}

// publish sets the gauges from every record.
func (w *expiryWatch) publish(now time.Time) {
	var soon [numKinds]time.Time
	var in7, in30, exp, risk int
	for _, g := range w.guns {
		for k, t := range g.soonest {
			if !t.IsZero() && (soon[k].IsZero() || t.Before(soon[k])) {
				soon[k] = t
			}
		}
		if t := g.publisherSoonest(); !t.IsZero() {
			if t.Before(now.Add(7 * 24 * time.Hour)) {
				in7++
			}
			if t.Before(now.Add(30 * 24 * time.Hour)) {
				in30++
			}
			if !now.Before(t) {
				exp++
			}
		}
		if g.atRisk {
			risk++
		}
	}
	for k, t := range soon {
		if t.IsZero() {
			w.soonest.DeleteLabelValues(kindNames[k])
			continue
		}
		w.soonest.WithLabelValues(kindNames[k]).Set(float64(t.Unix()))
	}
	w.within.WithLabelValues("7d").Set(float64(in7))
	w.within.WithLabelValues("30d").Set(float64(in30))
	w.expired.Set(float64(exp))
	w.atRisk.Set(float64(risk))
	w.tracked.Set(float64(len(w.guns)))
	w.lastCycle.Set(float64(now.Unix()))
}
