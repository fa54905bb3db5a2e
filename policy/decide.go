package policy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Reason says why an image was denied (or would have been, in audit
// mode). Reasons are metric labels: a small fixed set.
type Reason string

const (
	ReasonNone Reason = ""
	// ReasonNoRule: no rule matches and the default is deny.
	ReasonNoRule Reason = "no_rule"
	// ReasonInvalidReference: the image reference cannot be parsed.
	ReasonInvalidReference Reason = "invalid_reference"
	// ReasonNoTrustData: the trust source has no collection for the GUN.
	ReasonNoTrustData Reason = "no_trust_data"
	// ReasonNotSigned: no required role signs the tag or digest.
	ReasonNotSigned Reason = "not_signed"
	// ReasonThreshold: fewer than Threshold roles agree on the digest.
	ReasonThreshold Reason = "threshold"
	// ReasonTrustUnavailable: the trust data could not be read and no
	// cached copy still proves anything (server down, expired cache,
	// pinning failure, bad signatures...).
	ReasonTrustUnavailable Reason = "trust_unavailable"
	// ReasonMismatch: the registry serves content other than the signed
	// digest (set by the programs that fetch it).
	ReasonMismatch Reason = "mismatch"
	// ReasonUpstream: the registry could not be read to check the image.
	ReasonUpstream Reason = "upstream"
)

// ErrDenied matches every *DeniedError.
var ErrDenied = errors.New("image denied by policy")

// DeniedError says which image was refused and why; Err is the cause.
type DeniedError struct {
	Image  string
	Reason Reason
	Err    error
}

func (e *DeniedError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s denied by policy: %s", e.Image, e.Reason)
	}
	return fmt.Sprintf("%s denied by policy (%s): %v", e.Image, e.Reason, e.Err)
}

// Unwrap returns ErrDenied and the cause.
func (e *DeniedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDenied}
	}
	return []error{ErrDenied, e.Err}
}

// A Decision is the policy's answer for one image reference.
type Decision struct {
	// Ref is the reference as decided on (normalized: host, library/,
	// :latest).
	Ref registry.Reference
	// Rule is the matching rule's pattern, "" when none matched.
	Rule string
	Mode Mode
	// Allowed: the image may be pulled. With Audit set it is allowed only
	// because the rule is in audit mode, and Reason/Err say what failed.
	Allowed bool
	Audit   bool
	// Digest is what to pull, pinned: the signed digest of the tag, or
	// the digest asked for (itself signed, or a child of a signed index).
	// Empty when not signed, or when allowed without a rule.
	Digest string
	// SignedDigest and SignedSize are the signed target's (for a child of
	// an index: the index's). Tag and Role name the signed target.
	SignedDigest string
	SignedSize   int64
	Tag          string
	Role         string
	// Reason and Err say why the image is (or, in audit mode, would be)
	// denied; Err is a *DeniedError.
	Reason Reason
	Err    error
}

// Pinned is host/repo@Digest, or "" without a digest.
func (d Decision) Pinned() string {
	if d.Digest == "" {
		return ""
	}
	return d.Ref.Pinned(d.Digest)
}

// ManifestSource reads a manifest by digest from a registry, checked
// against the digest (registry.Client does). It is used only to list the
// children of a signed index whose trust data does not record them.
type ManifestSource interface {
	FetchManifest(ctx context.Context, ref registry.Reference) (*registry.Manifest, error)
}

// Options configure an Engine.
type Options struct {
	// TrustDir holds the cached trust data (client's tuf/<gun>/ cache),
	// which outlives restarts and keeps serving when a trust server is
	// down. Required.
	TrustDir string
	// Now is the clock. Required (programs pass time.Now).
	Now func() time.Time
	// Manifests, if set, lists the children of signed indexes that their
	// trust data does not describe; nil: such children are not signed.
	Manifests ManifestSource
	// Remote, if set, replaces the rule's trust source (tests use an
	// in-memory repository; embedders their own transport).
	Remote func(rule *Rule, gun string) (update.Remote, error)
	// OnWarning receives what did not stop a decision: trust server
	// unreachable and the cache used, skipped delegations. nil: dropped.
	OnWarning func(error)
}

// An Engine decides, for a policy, whether images may be pulled. It
// caches verified trust data per GUN in memory and is safe for
// concurrent use.
type Engine struct {
	pol  *Policy
	opts Options

	mu      sync.Mutex
	entries map[string]*entry // by rule pattern + "\x00" + GUN
	httpc   map[string]*http.Client

	childMu  sync.Mutex
	children map[string]*image.Index // signed digest -> index (nil: not an index)
}

// NewEngine returns an Engine for pol.
func NewEngine(pol *Policy, opts Options) (*Engine, error) {
	if pol == nil {
		return nil, errors.New("policy: no policy")
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	if opts.TrustDir == "" {
		return nil, errors.New("policy: Options.TrustDir is required")
	}
	if opts.Now == nil {
		return nil, errors.New("policy: Options.Now is required")
	}
	return &Engine{pol: pol, opts: opts, entries: map[string]*entry{}, httpc: map[string]*http.Client{}, children: map[string]*image.Index{}}, nil
}

// Policy returns the engine's policy.
func (e *Engine) Policy() *Policy { return e.pol }

func (e *Engine) warn(err error) {
	if e.opts.OnWarning != nil && err != nil {
		e.opts.OnWarning(err)
	}
}

// Decide answers for image (any reference a Pod or `docker pull` takes;
// see NormalizeImage). A tag is resolved to the digest its trust data
// signs; a digest must be signed itself or be a child of a signed index.
// The returned error is non-nil only when ctx ends; every denial is a
// Decision with Allowed false (or Audit true), a Reason and a
// *DeniedError in Err.
func (e *Engine) Decide(ctx context.Context, img string) (Decision, error) {
	ref, err := NormalizeImage(img)
	if err != nil {
		d := Decision{Mode: ModeEnforce}
		return e.deny(d, img, ReasonInvalidReference, err), nil
	}
	return e.DecideRef(ctx, ref)
}

// DecideRef is Decide for a parsed, full reference with a tag or digest.
func (e *Engine) DecideRef(ctx context.Context, ref registry.Reference) (Decision, error) {
	d := Decision{Ref: ref, Mode: ModeEnforce}
	if err := ref.NeedTagOrDigest(); err != nil {
		return e.deny(d, ref.String(), ReasonInvalidReference, err), nil
	}
	rule := e.pol.Match(ref.Name())
	if rule == nil {
		if e.pol.Default == "allow" {
			d.Allowed = true
			if ref.Tag == "" {
				d.Digest = ref.Digest
			}
			return d, nil
		}
		return e.deny(d, ref.String(), ReasonNoRule, fmt.Errorf("no policy rule matches %s and the default is deny", ref.Name())), nil
	}
	d.Rule, d.Mode = rule.Images, rule.mode()
	ts, fetched, err := e.trusted(ctx, rule, ref.Name(), time.Time{})
	if err != nil {
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		reason := ReasonTrustUnavailable
		if errors.Is(err, client.ErrRepositoryNotExist) {
			reason = ReasonNoTrustData
		}
		return e.deny(d, ref.String(), reason, err), nil
	}
	out := e.decideFrom(ctx, d, ref, ts)
	if (out.Reason == ReasonNotSigned || out.Reason == ReasonThreshold) && !e.opts.Now().Before(fetched.Add(MissRefresh)) {
		// A tag signed since the data was read must not wait for the
		// timestamp to expire: read it again, at most every MissRefresh
		// per GUN. If that fails the denial stands.
		if ts2, _, err := e.trusted(ctx, rule, ref.Name(), fetched); err == nil {
			out = e.decideFrom(ctx, d, ref, ts2)
		}
	}
	if ctx.Err() != nil {
		return d, ctx.Err()
	}
	return out, nil
}

// MissRefresh is how old cached trust data must be before a denial for a
// missing signature reads it again (a tag signed a moment ago). Reading
// more often would let unsigned requests drive load to the trust server.
const MissRefresh = 30 * time.Second

// decideFrom answers for ref from the trust set ts.
func (e *Engine) decideFrom(ctx context.Context, d Decision, ref registry.Reference, ts *trustSet) Decision {
	var sig *signed
	if ref.Tag != "" {
		sig = ts.byTag[ref.Tag]
		if sig == nil {
			reason, why := ReasonNotSigned, fmt.Errorf("the tag %q has no signature in %v of %s", ref.Tag, ts.roles, ref.Name())
			if ts.partial[ref.Tag] {
				reason, why = ReasonThreshold, fmt.Errorf("fewer than %d of %v agree on a digest for the tag %q of %s", ts.threshold, ts.roles, ref.Tag, ref.Name())
			}
			return e.deny(d, ref.String(), reason, why)
		}
		d.Tag, d.Role, d.SignedDigest, d.SignedSize, d.Digest = sig.tag, sig.role, sig.digest, sig.size, sig.digest
		if ref.Digest != "" && ref.Digest != sig.digest {
			// tag@digest: the digest must be the signed one or its child.
			budget := maxIndexReads
			if !e.isChild(ctx, ref, sig, ref.Digest, &budget) {
				return e.deny(d, ref.String(), ReasonNotSigned, fmt.Errorf("%s is neither the digest signed for the tag %q (%s) nor a child of it", ref.Digest, ref.Tag, sig.digest))
			}
			d.Digest = ref.Digest
		}
		d.Allowed = true
		return d
	}
	// By digest: signed itself, or a child of a signed index.
	if sig = ts.byDigest[ref.Digest]; sig != nil {
		d.Tag, d.Role, d.SignedDigest, d.SignedSize, d.Digest = sig.tag, sig.role, sig.digest, sig.size, sig.digest
		d.Allowed = true
		return d
	}
	budget := maxIndexReads
	for _, s := range ts.all {
		if e.isChild(ctx, ref, s, ref.Digest, &budget) {
			d.Tag, d.Role, d.SignedDigest, d.SignedSize, d.Digest = s.tag, s.role, s.digest, s.size, ref.Digest
			d.Allowed = true
			return d
		}
		if ctx.Err() != nil {
			break
		}
	}
	return e.deny(d, ref.String(), ReasonNotSigned, fmt.Errorf("no signed tag of %s (in %v) names the digest %s or an index containing it", ref.Name(), ts.roles, ref.Digest))
}

func (e *Engine) deny(d Decision, img string, reason Reason, err error) Decision {
	d.Reason = reason
	d.Err = &DeniedError{Image: img, Reason: reason, Err: err}
	if d.Mode == ModeAudit {
		d.Allowed, d.Audit = true, true
	} else {
		d.Allowed = false
	}
	return d
}

// isChild reports whether digest is a manifest listed by the signed
// target s: from the children recorded in its trust data, else (when a
// ManifestSource is set) from the index itself, read once by its digest
// and remembered (it is content-addressed).
//
// budget bounds the manifests read from the registry for one decision: a
// collection with thousands of tags signed by the Docker CLI (no children
// recorded) costs at most that many reads per request; the next request
// goes on where it stopped, since listings are remembered.
func (e *Engine) isChild(ctx context.Context, ref registry.Reference, s *signed, d string, budget *int) bool {
	idx := s.index
	if idx == nil {
		if e.opts.Manifests == nil {
			return false
		}
		e.childMu.Lock()
		cached, ok := e.children[s.digest]
		e.childMu.Unlock()
		if !ok {
			if *budget <= 0 {
				return false
			}
			*budget--
			m, err := e.opts.Manifests.FetchManifest(ctx, registry.Reference{Host: ref.Host, Repository: ref.Repository, Digest: s.digest})
			if err != nil {
				// Not remembered: the next request tries again.
				e.warn(fmt.Errorf("reading the signed manifest %s of %s to list its children: %w", s.digest, ref.Name(), err))
				return false
			}
			if m.IsIndex() {
				cached = &image.Index{MediaType: m.MediaType, Manifests: m.Children}
			}
			e.childMu.Lock()
			if len(e.children) >= maxRememberedIndexes {
				clear(e.children)
			}
			e.children[s.digest] = cached
			e.childMu.Unlock()
		}
		idx = cached
	}
	if idx == nil {
		return false
	}
	for _, ch := range idx.Manifests {
		if ch.Digest == d {
			return true
		}
	}
	return false
}

// maxIndexReads bounds the registry reads of one decision (see isChild).
const maxIndexReads = 16

// maxRememberedIndexes bounds the index listings kept in memory.
const maxRememberedIndexes = 4096

// signed is one signed tag as the rule counts it.
type signed struct {
	tag, role, digest string
	size              int64
	index             *image.Index
}

// trustSet is what a GUN's verified trust data says under a rule.
type trustSet struct {
	roles     []string
	threshold int
	byTag     map[string]*signed
	byDigest  map[string]*signed
	all       []*signed
	partial   map[string]bool // tags some role signs without reaching the threshold
}

// entry is one GUN's cached trust data under a rule.
type entry struct {
	refreshMu sync.Mutex // one refresh at a time

	mu         sync.RWMutex
	ts         *trustSet
	validUntil time.Time // earliest expiry of the files it came from
	refreshAt  time.Time // validUntil, or sooner with Trust.Refresh
	fetchedAt  time.Time // when ts was read
	repo       *client.Repository
}

// current returns the cached set and when it was read, if it is still
// fresh and was read after olderThan.
func (en *entry) current(now, olderThan time.Time) (*trustSet, time.Time) {
	en.mu.RLock()
	defer en.mu.RUnlock()
	if en.ts != nil && now.Before(en.refreshAt) && now.Before(en.validUntil) && en.fetchedAt.After(olderThan) {
		return en.ts, en.fetchedAt
	}
	return nil, time.Time{}
}

// trusted returns the trust set of gun under rule: from memory while its
// files are unexpired (and Trust.Refresh has not passed), else through
// the client, which updates from the trust source or, when that cannot
// be read, from the trust directory's cache as long as it is still valid
// (and fails otherwise: an outage never opens up). With a non-zero
// olderThan, data read at or before it is read again. It returns the set
// and when it was read.
func (e *Engine) trusted(ctx context.Context, rule *Rule, gun string, olderThan time.Time) (*trustSet, time.Time, error) {
	if olderThan.IsZero() {
		olderThan = time.Time{}.Add(-1) // any read time is after it
	}
	key := rule.Images + "\x00" + gun
	e.mu.Lock()
	en := e.entries[key]
	if en == nil {
		e.evictLocked()
		en = &entry{}
		e.entries[key] = en
	}
	e.mu.Unlock()
	if ts, at := en.current(e.opts.Now(), olderThan); ts != nil {
		return ts, at, nil
	}
	en.refreshMu.Lock()
	defer en.refreshMu.Unlock()
	now := e.opts.Now()
	if ts, at := en.current(now, olderThan); ts != nil {
		return ts, at, nil // refreshed while we waited
	}
	if en.repo == nil {
		repo, err := e.repository(rule, gun)
		if err != nil {
			return nil, time.Time{}, err
		}
		en.repo = repo
	}
	ts, validUntil, err := e.load(ctx, rule, en.repo)
	if err != nil {
		en.mu.Lock()
		en.ts = nil
		en.mu.Unlock()
		return nil, time.Time{}, err
	}
	refreshAt := validUntil
	if rule.Trust.Refresh > 0 {
		if t := now.Add(time.Duration(rule.Trust.Refresh)); t.Before(refreshAt) {
			refreshAt = t
		}
	}
	en.mu.Lock()
	en.ts, en.validUntil, en.refreshAt, en.fetchedAt = ts, validUntil, refreshAt, now
	en.mu.Unlock()
	return ts, now, nil
}

// maxEntries bounds the GUNs whose trust data is kept in memory: names
// come from clients (any repository under a wildcard rule), so the map
// must not grow with them. A variable so tests can lower it.
var maxEntries = 4096

// evictLocked makes room for one more entry: first the entries that hold
// nothing (failed lookups), then arbitrary ones. An evicted GUN is simply
// read again (from the trust directory's cache or the trust source).
func (e *Engine) evictLocked() {
	if len(e.entries) < maxEntries {
		return
	}
	for k, en := range e.entries {
		en.mu.RLock()
		empty := en.ts == nil
		en.mu.RUnlock()
		if empty {
			delete(e.entries, k)
		}
	}
	for k := range e.entries {
		if len(e.entries) < maxEntries {
			break
		}
		delete(e.entries, k)
	}
}

// load reads the targets of the rule's roles through the client and
// applies the rule's role order and threshold.
func (e *Engine) load(ctx context.Context, rule *Rule, repo *client.Repository) (*trustSet, time.Time, error) {
	roles := rule.Roles
	if len(roles) == 0 {
		roles = image.ReleasedRoles()
	}
	threshold := max(rule.Threshold, 1)
	perRole := make([]map[string]client.TargetWithRole, len(roles))
	for i, role := range roles {
		ts, err := repo.ListTargets(ctx, role)
		if err != nil {
			return nil, time.Time{}, err
		}
		m := map[string]client.TargetWithRole{}
		for _, t := range ts {
			// Only the role itself counts, not what it delegates further
			// (the Docker CLI's rule).
			if t.Role == role {
				m[t.Name] = t
			}
		}
		perRole[i] = m
	}
	set := &trustSet{roles: roles, threshold: threshold, byTag: map[string]*signed{}, byDigest: map[string]*signed{}, partial: map[string]bool{}}
	names := map[string]bool{}
	for _, m := range perRole {
		for n := range m {
			names[n] = true
		}
	}
	for name := range names {
		var chosen *signed
		if threshold == 1 {
			for i := range roles {
				if t, ok := perRole[i][name]; ok {
					chosen = newSigned(t)
					break
				}
			}
		} else {
			votes := map[string]int{}
			var first map[string]*signed = map[string]*signed{}
			for i := range roles {
				t, ok := perRole[i][name]
				if !ok {
					continue
				}
				s := newSigned(t)
				k := fmt.Sprintf("%s/%d", s.digest, s.size)
				votes[k]++
				if first[k] == nil {
					first[k] = s
				}
				if votes[k] >= threshold && chosen == nil {
					chosen = first[k]
				}
			}
			if chosen == nil {
				set.partial[name] = true
			}
		}
		if chosen == nil || chosen.digest == "" {
			continue
		}
		set.byTag[name] = chosen
		if set.byDigest[chosen.digest] == nil {
			set.byDigest[chosen.digest] = chosen
		}
		set.all = append(set.all, chosen)
	}
	return set, e.expiry(repo, roles), nil
}

func newSigned(t client.TargetWithRole) *signed {
	return &signed{tag: t.Name, role: t.Role, digest: image.SignedDigest(t.Target), size: t.Length, index: image.RecordedIndex(t.Target)}
}

// expiry is the earliest expiry among the cached files the decision rests
// on (timestamp, snapshot, targets and the rule's roles), as just
// verified by the client's update. A file that cannot be read makes the
// data expire now, so the next decision reads it again.
func (e *Engine) expiry(repo *client.Repository, roles []string) time.Time {
	now := e.opts.Now()
	var until time.Time
	for _, role := range append([]string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets}, roles...) {
		b, err := repo.Cache().Load(role)
		if err != nil || b == nil {
			if role == tuf.RoleTargets || role == tuf.RoleTimestamp || role == tuf.RoleSnapshot {
				return now
			}
			continue
		}
		var env struct {
			Signed struct {
				Expires time.Time `json:"expires"`
			} `json:"signed"`
		}
		if json.Unmarshal(b, &env) != nil || env.Signed.Expires.IsZero() {
			return now
		}
		if until.IsZero() || env.Signed.Expires.Before(until) {
			until = env.Signed.Expires
		}
	}
	return until
}

// repository opens the client.Repository of gun for rule: its trust
// source, its pinning, the engine's trust directory and clock.
func (e *Engine) repository(rule *Rule, gun string) (*client.Repository, error) {
	pin, err := pinning(rule.Trust, gun)
	if err != nil {
		return nil, err
	}
	opts := client.Options{TrustDir: e.opts.TrustDir, TrustPinning: pin, Now: e.opts.Now, OnWarning: e.opts.OnWarning}
	switch {
	case e.opts.Remote != nil:
		r, err := e.opts.Remote(rule, gun)
		if err != nil {
			return nil, err
		}
		opts.Remote = r
	default:
		hc, err := e.httpClient(rule.Trust.CA)
		if err != nil {
			return nil, err
		}
		if rule.Trust.Server != "" {
			opts.ServerURL, opts.HTTPClient = rule.Trust.Server, hc
		} else {
			r, err := client.MirrorRemote(rule.Trust.Mirror, gun, hc)
			if err != nil {
				return nil, err
			}
			opts.Remote = r
		}
	}
	return client.NewRepository(gun, opts)
}

// pinning turns a rule's root trust into trustpin's configuration for gun.
func pinning(t Trust, gun string) (trustpin.Config, error) {
	cfg := trustpin.Config{DisableTOFU: !t.TOFU, ReadFile: os.ReadFile}
	switch {
	case len(t.RootKeys) > 0:
		cfg.Certs = map[string][]string{gun: t.RootKeys}
	case len(t.RootCerts) > 0:
		var ids []string
		for _, path := range t.RootCerts {
			pemBytes, err := os.ReadFile(path)
			if err != nil {
				return cfg, &InvalidPolicyError{Where: "trust.root_certs", Reason: err.Error()}
			}
			certs, err := trustpin.ParseBundle(pemBytes)
			if err != nil || len(certs) == 0 {
				return cfg, &InvalidPolicyError{Where: "trust.root_certs", Reason: fmt.Sprintf("%s: no certificate: %v", path, err)}
			}
			for _, c := range certs {
				k, err := keys.X509PublicKey(c)
				if err != nil {
					return cfg, &InvalidPolicyError{Where: "trust.root_certs", Reason: fmt.Sprintf("%s: %v", path, err)}
				}
				ids = append(ids, k.ID())
			}
		}
		cfg.Certs = map[string][]string{gun: ids}
	case t.RootCA != "":
		cfg.CA = map[string]string{gun: t.RootCA}
	}
	return cfg, nil
}

// httpClient returns the HTTP client for a trust source with CA file ca
// ("" for the system roots), shared by every rule that names it.
func (e *Engine) httpClient(ca string) (*http.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.httpc[ca]; ok {
		return c, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pemBytes, err := os.ReadFile(ca)
		if err != nil {
			return nil, &InvalidPolicyError{Where: "trust.ca", Reason: err.Error()}
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, &InvalidPolicyError{Where: "trust.ca", Reason: ca + " holds no PEM certificate"}
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.ResponseHeaderTimeout = 30 * time.Second
	c := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	e.httpc[ca] = c
	return c, nil
}
