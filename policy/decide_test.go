package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

const gun = "reg.example.com:5000/org/app"

func digestOf(s string) (string, []byte) {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:]), sum[:]
}

// meta is a target for a manifest with content s, optionally recording
// index children.
func meta(t *testing.T, s string, children ...string) tuf.FileMeta {
	t.Helper()
	_, sum := digestOf(s)
	fm := tuf.FileMeta{Length: int64(len(s)), Hashes: tuf.Hashes{tuf.SHA256: sum}}
	if len(children) > 0 {
		var ds []registry.Descriptor
		for i, c := range children {
			d, _ := digestOf(c)
			ds = append(ds, registry.Descriptor{MediaType: registry.MediaTypeOCIManifest, Digest: d, Size: int64(len(c)), Platform: &registry.Platform{OS: "linux", Architecture: []string{"amd64", "arm64"}[i%2]}})
		}
		raw, err := json.Marshal(map[string]any{"index": map[string]any{"mediaType": registry.MediaTypeOCIIndex, "manifests": ds}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.CanonicalCustom(raw)
		if err != nil {
			t.Fatal(err)
		}
		rm := json.RawMessage(c)
		fm.Custom = &rm
	}
	return fm
}

// fakeManifests serves indexes by digest, counting reads.
type fakeManifests struct {
	mu      sync.Mutex
	indexes map[string][]string // digest -> children contents
	reads   int
}

func (f *fakeManifests) FetchManifest(_ context.Context, ref registry.Reference) (*registry.Manifest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	ch, ok := f.indexes[ref.Digest]
	if !ok {
		return &registry.Manifest{Descriptor: registry.Descriptor{MediaType: registry.MediaTypeOCIManifest, Digest: ref.Digest}}, nil
	}
	m := &registry.Manifest{Descriptor: registry.Descriptor{MediaType: registry.MediaTypeOCIIndex, Digest: ref.Digest}}
	for _, c := range ch {
		d, _ := digestOf(c)
		m.Children = append(m.Children, registry.Descriptor{MediaType: registry.MediaTypeOCIManifest, Digest: d})
	}
	return m, nil
}

type fixture struct {
	sim *tuftest.Simulator
	eng *Engine
	fm  *fakeManifests
	log []error
	mu  sync.Mutex
}

func newFixture(t *testing.T, polJSON string) *fixture {
	t.Helper()
	f := &fixture{sim: tuftest.New(gun), fm: &fakeManifests{indexes: map[string][]string{}}}
	f.sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	f.sim.AddDelegation(tuf.RoleTargets, "targets/alice", "")
	f.sim.AddDelegation(tuf.RoleTargets, "targets/bob", "")
	f.sim.AddTargetMeta("targets/releases", "1.0", meta(t, "manifest 1.0"))
	f.sim.AddTargetMeta(tuf.RoleTargets, "top", meta(t, "manifest top"))
	f.sim.AddTargetMeta(tuf.RoleTargets, "1.0", meta(t, "shadowed by releases"))
	f.sim.AddTargetMeta("targets/releases", "multi", meta(t, "index multi", "amd64 child", "arm64 child"))
	f.sim.AddTargetMeta("targets/releases", "dockerindex", meta(t, "docker-signed index"))
	d, _ := digestOf("docker-signed index")
	f.fm.indexes[d] = []string{"docker child"}
	f.sim.AddTargetMeta("targets/alice", "both", meta(t, "agreed"))
	f.sim.AddTargetMeta("targets/bob", "both", meta(t, "agreed"))
	f.sim.AddTargetMeta("targets/alice", "split", meta(t, "alice's"))
	f.sim.AddTargetMeta("targets/bob", "split", meta(t, "bob's"))
	f.sim.Publish()
	pol, err := Parse([]byte(polJSON))
	if err != nil {
		t.Fatal(err)
	}
	f.eng, err = NewEngine(pol, Options{
		TrustDir:  t.TempDir(),
		Now:       f.sim.Clock.Now,
		Manifests: f.fm,
		Remote: func(_ *Rule, g string) (update.Remote, error) {
			if g != gun {
				return nil, fmt.Errorf("no trust server knows %s", g)
			}
			return f.sim, nil
		},
		OnWarning: func(err error) { f.mu.Lock(); f.log = append(f.log, err); f.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const tofuPolicy = `{"rules": [
 {"images": "reg.example.com:5000/org/*", "trust": {"server": "https://notary.example.com:4443", "tofu": true}},
 {"images": "reg.example.com:5000/org/strict", "trust": {"server": "https://notary.example.com:4443", "tofu": true}, "roles": ["targets/releases"]},
 {"images": "reg.example.com:5000/audit/*", "trust": {"server": "https://notary.example.com:4443", "tofu": true}, "mode": "audit"}
], "default": "deny"}`

func TestDecide(t *testing.T) {
	f := newFixture(t, tofuPolicy)
	d10, _ := digestOf("manifest 1.0")
	dTop, _ := digestOf("manifest top")
	dMulti, _ := digestOf("index multi")
	dArm, _ := digestOf("arm64 child")
	dDockerIdx, _ := digestOf("docker-signed index")
	dDockerChild, _ := digestOf("docker child")
	dShadow, _ := digestOf("shadowed by releases")
	dUnsigned, _ := digestOf("never signed")
	tests := []struct {
		name       string
		img        string
		allowed    bool
		audit      bool
		reason     Reason
		wantDigest string
		wantRole   string
	}{
		{name: "tag in releases", img: gun + ":1.0", allowed: true, wantDigest: d10, wantRole: "targets/releases"},
		{name: "tag only in targets", img: gun + ":top", allowed: true, wantDigest: dTop, wantRole: "targets"},
		{name: "unsigned tag", img: gun + ":2.0", reason: ReasonNotSigned},
		{name: "tag signed only by another delegation", img: gun + ":both", reason: ReasonNotSigned},
		{name: "signed digest", img: gun + "@" + d10, allowed: true, wantDigest: d10},
		{name: "digest shadowed by releases is not signed", img: gun + "@" + dShadow, reason: ReasonNotSigned},
		{name: "unsigned digest", img: gun + "@" + dUnsigned, reason: ReasonNotSigned},
		{name: "child recorded in the trust data", img: gun + "@" + dArm, allowed: true, wantDigest: dArm},
		{name: "child of a docker-signed index", img: gun + "@" + dDockerChild, allowed: true, wantDigest: dDockerChild},
		{name: "the index itself", img: gun + "@" + dDockerIdx, allowed: true, wantDigest: dDockerIdx},
		{name: "tag and its child digest", img: gun + ":multi@" + dArm, allowed: true, wantDigest: dArm},
		{name: "tag and a foreign digest", img: gun + ":1.0@" + dMulti, reason: ReasonNotSigned},
		{name: "trust source unreachable for the GUN", img: "reg.example.com:5000/org/strict:top", reason: ReasonTrustUnavailable},
		{name: "no rule, default deny", img: "other.example.com/x:1", reason: ReasonNoRule},
		{name: "familiar name, default deny", img: "nginx", reason: ReasonNoRule},
		{name: "invalid reference", img: "reg.example.com/App:1", reason: ReasonInvalidReference},
		{name: "audit allows no trust data", img: "reg.example.com:5000/audit/x:1", allowed: true, audit: true, reason: ReasonTrustUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := f.eng.Decide(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.allowed || d.Audit != tt.audit || d.Reason != tt.reason {
				t.Fatalf("got allowed=%v audit=%v reason=%q (%v), want %v %v %q", d.Allowed, d.Audit, d.Reason, d.Err, tt.allowed, tt.audit, tt.reason)
			}
			if tt.wantDigest != "" && d.Digest != tt.wantDigest {
				t.Fatalf("digest %s, want %s", d.Digest, tt.wantDigest)
			}
			if tt.wantRole != "" && d.Role != tt.wantRole {
				t.Fatalf("role %s, want %s", d.Role, tt.wantRole)
			}
			if tt.reason != "" {
				var de *DeniedError
				if !errors.As(d.Err, &de) || !errors.Is(d.Err, ErrDenied) || de.Reason != tt.reason {
					t.Fatalf("Err = %v, want a *DeniedError with reason %s", d.Err, tt.reason)
				}
			}
		})
	}
}

func TestDecideRolesAndThreshold(t *testing.T) {
	f := newFixture(t, `{"rules": [
 {"images": "reg.example.com:5000/org/app", "trust": {"server": "https://n.example.com", "tofu": true}, "roles": ["targets/alice", "targets/bob"], "threshold": 2}]}`)
	dAgreed, _ := digestOf("agreed")
	tests := []struct {
		img     string
		allowed bool
		reason  Reason
	}{
		{img: gun + ":both", allowed: true},
		{img: gun + "@" + dAgreed, allowed: true},
		{img: gun + ":split", reason: ReasonThreshold},
		{img: gun + ":1.0", reason: ReasonNotSigned},
	}
	for _, tt := range tests {
		t.Run(tt.img, func(t *testing.T) {
			d, _ := f.eng.Decide(context.Background(), tt.img)
			if d.Allowed != tt.allowed || d.Reason != tt.reason {
				t.Fatalf("got %v %q (%v)", d.Allowed, d.Reason, d.Err)
			}
		})
	}
}

func TestDecidePinning(t *testing.T) {
	sim := tuftest.New(gun)
	ids := sim.RootCertIDs()
	for _, tt := range []struct {
		name    string
		trust   string
		allowed bool
	}{
		{name: "pinned root key", trust: fmt.Sprintf(`"root_keys": [%q]`, ids[0]), allowed: true},
		{name: "other root key", trust: `"root_keys": ["` + hex64('b') + `"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, `{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", `+tt.trust+`}}]}`)
			// The fixture made its own simulator; pin against its IDs for the
			// positive case.
			if tt.allowed {
				pol, _ := Parse([]byte(fmt.Sprintf(`{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", "root_keys": [%q]}}]}`, f.sim.RootCertIDs()[0])))
				f.eng.pol = pol
			}
			d, _ := f.eng.Decide(context.Background(), gun+":1.0")
			if d.Allowed != tt.allowed {
				t.Fatalf("allowed=%v (%v)", d.Allowed, d.Err)
			}
			if !tt.allowed && d.Reason != ReasonTrustUnavailable {
				t.Fatalf("reason %s", d.Reason)
			}
		})
	}
}

// countingRemote counts timestamp reads.
type countingRemote struct {
	update.Remote
	mu    sync.Mutex
	reads int
}

func (c *countingRemote) GetMeta(ctx context.Context, role, h string, max int64) ([]byte, error) {
	if role == tuf.RoleTimestamp {
		c.mu.Lock()
		c.reads++
		c.mu.Unlock()
	}
	return c.Remote.GetMeta(ctx, role, h, max)
}

func (c *countingRemote) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.reads }

func TestCacheRefreshAndOutage(t *testing.T) {
	f := newFixture(t, `{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", "tofu": true, "refresh": "1h"}}]}`)
	cr := &countingRemote{Remote: f.sim}
	f.eng.opts.Remote = func(*Rule, string) (update.Remote, error) { return cr, nil }
	ctx := context.Background()
	decide := func(img string) Decision {
		t.Helper()
		d, err := f.eng.Decide(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d10, _ := digestOf("manifest 1.0")
	if d := decide(gun + ":1.0"); !d.Allowed || d.Digest != d10 {
		t.Fatalf("first: %+v", d)
	}
	reads := cr.count()
	for range 5 {
		decide(gun + ":1.0")
		decide(gun + ":top")
	}
	if cr.count() != reads {
		t.Fatalf("cached decisions read the timestamp again: %d reads, want %d", cr.count(), reads)
	}

	t.Run("refresh interval sees a re-signed tag", func(t *testing.T) {
		f.sim.AddTargetMeta("targets/releases", "1.0", meta(t, "manifest 1.0 rebuilt"))
		f.sim.Publish()
		if d := decide(gun + ":1.0"); d.Digest != d10 {
			t.Fatalf("before refresh: %s", d.Digest)
		}
		f.sim.Clock.Advance(61 * time.Minute)
		want, _ := digestOf("manifest 1.0 rebuilt")
		if d := decide(gun + ":1.0"); d.Digest != want {
			t.Fatalf("after refresh: %s, want %s", d.Digest, want)
		}
	})

	t.Run("outage serves what the cache still proves", func(t *testing.T) {
		f.sim.SetOffline(true)
		f.sim.Clock.Advance(2 * time.Hour) // past the refresh interval, timestamp still valid
		d := decide(gun + ":top")
		if !d.Allowed {
			t.Fatalf("denied while the cached timestamp is valid: %v", d.Err)
		}
		if d := decide(gun + ":unsigned"); d.Allowed {
			t.Fatal("unsigned tag allowed during the outage")
		}
	})

	t.Run("outage past the timestamp's expiry refuses", func(t *testing.T) {
		f.sim.Clock.Advance(tuf.DefaultTTL(tuf.RoleTimestamp) + time.Hour)
		d := decide(gun + ":top")
		if d.Allowed || d.Reason != ReasonTrustUnavailable {
			t.Fatalf("got allowed=%v reason=%s (%v)", d.Allowed, d.Reason, d.Err)
		}
	})

	t.Run("back online", func(t *testing.T) {
		f.sim.SetOffline(false)
		f.sim.RefreshTimestamp()
		if d := decide(gun + ":top"); !d.Allowed {
			t.Fatalf("denied after recovery: %v", d.Err)
		}
	})
}

func TestTimestampExpiryRefreshes(t *testing.T) {
	f := newFixture(t, `{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", "tofu": true}}]}`)
	cr := &countingRemote{Remote: f.sim}
	f.eng.opts.Remote = func(*Rule, string) (update.Remote, error) { return cr, nil }
	ctx := context.Background()
	if d, _ := f.eng.Decide(ctx, gun+":1.0"); !d.Allowed {
		t.Fatal(d.Err)
	}
	n := cr.count()
	f.sim.Clock.Advance(tuf.DefaultTTL(tuf.RoleTimestamp) / 2)
	f.eng.Decide(ctx, gun+":1.0")
	if cr.count() != n {
		t.Fatal("refreshed before the timestamp expired")
	}
	f.sim.Clock.Advance(tuf.DefaultTTL(tuf.RoleTimestamp))
	f.sim.RefreshTimestamp()
	if d, _ := f.eng.Decide(ctx, gun+":1.0"); !d.Allowed {
		t.Fatal(d.Err)
	}
	if cr.count() == n {
		t.Fatal("not refreshed after the timestamp expired")
	}
}

func TestDefaultAllow(t *testing.T) {
	f := newFixture(t, `{"default": "allow"}`)
	d, err := f.eng.Decide(context.Background(), "nginx:1")
	if err != nil || !d.Allowed || d.Rule != "" {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestDecideConcurrent(t *testing.T) {
	f := newFixture(t, tofuPolicy)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img := gun + ":1.0"
			if i%2 == 1 {
				img = gun + ":top"
			}
			if d, _ := f.eng.Decide(context.Background(), img); !d.Allowed {
				t.Errorf("denied: %v", d.Err)
			}
		}()
	}
	wg.Wait()
}

func TestDecideCanceled(t *testing.T) {
	f := newFixture(t, tofuPolicy)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.eng.Decide(ctx, gun+":1.0"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// Client-chosen names must not grow the engine's memory without bound.
func TestEntriesBounded(t *testing.T) {
	old := maxEntries
	maxEntries = 8
	defer func() { maxEntries = old }()
	f := newFixture(t, `{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", "tofu": true}}]}`)
	for i := range 50 {
		d, _ := f.eng.Decide(context.Background(), fmt.Sprintf("reg.example.com:5000/random/r%d:1", i))
		if d.Allowed {
			t.Fatal("allowed")
		}
	}
	if d, _ := f.eng.Decide(context.Background(), gun+":1.0"); !d.Allowed {
		t.Fatal(d.Err)
	}
	f.eng.mu.Lock()
	n := len(f.eng.entries)
	f.eng.mu.Unlock()
	if n > 8 {
		t.Fatalf("%d entries kept, limit 8", n)
	}
}

// A digest that is nobody's child reads at most maxIndexReads manifests
// per decision, however many tags are signed.
func TestIndexReadsBounded(t *testing.T) {
	f := newFixture(t, tofuPolicy)
	for i := range 40 {
		f.sim.AddTargetMeta("targets/releases", fmt.Sprintf("t%d", i), meta(t, fmt.Sprintf("m%d", i)))
	}
	f.sim.Publish()
	dUnsigned, _ := digestOf("never signed")
	d, _ := f.eng.Decide(context.Background(), gun+"@"+dUnsigned)
	if d.Allowed {
		t.Fatal("allowed")
	}
	if f.fm.reads > maxIndexReads {
		t.Fatalf("%d manifest reads, limit %d", f.fm.reads, maxIndexReads)
	}
}

// root_certs pins the root certificates' IDs. (root_ca hands the CA to
// trustpin, whose CA rules are tested there; the simulator's roots are
// self-signed, not issued by a CA.)
func TestDecidePinningByCertificate(t *testing.T) {
	f := newFixture(t, tofuPolicy)
	leaf, err := f.sim.Keys(tuf.RoleRoot)[0].Public().Leaf()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(good, keys.CertificatePEM(leaf), 0o644); err != nil {
		t.Fatal(err)
	}
	other := tuftest.New(gun)
	otherLeaf, _ := other.Keys(tuf.RoleRoot)[0].Public().Leaf()
	bad := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(bad, keys.CertificatePEM(otherLeaf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		trust   string
		allowed bool
	}{
		{name: "root_certs match", trust: fmt.Sprintf(`"root_certs": [%q]`, good), allowed: true},
		{name: "root_certs other", trust: fmt.Sprintf(`"root_certs": [%q]`, bad)},
		{name: "root_ca other", trust: fmt.Sprintf(`"root_ca": %q`, bad)},
		{name: "root_certs missing file", trust: fmt.Sprintf(`"root_certs": [%q]`, filepath.Join(dir, "none.pem"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pol, err := Parse([]byte(`{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", ` + tt.trust + `}}]}`))
			if err != nil {
				t.Fatal(err)
			}
			eng, err := NewEngine(pol, Options{TrustDir: t.TempDir(), Now: f.sim.Clock.Now, Remote: func(*Rule, string) (update.Remote, error) { return f.sim, nil }})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := eng.Decide(context.Background(), gun+":1.0")
			if d.Allowed != tt.allowed {
				t.Fatalf("allowed=%v (%v)", d.Allowed, d.Err)
			}
		})
	}
}

// A tag signed after the trust data was cached is seen without waiting
// for the timestamp to expire, and unsigned requests re-read the trust
// data at most once per MissRefresh.
func TestMissRefresh(t *testing.T) {
	f := newFixture(t, `{"rules": [{"images": "reg.example.com:5000/*", "trust": {"server": "https://n.example.com", "tofu": true}}]}`)
	cr := &countingRemote{Remote: f.sim}
	f.eng.opts.Remote = func(*Rule, string) (update.Remote, error) { return cr, nil }
	ctx := context.Background()
	if d, _ := f.eng.Decide(ctx, gun+":1.0"); !d.Allowed {
		t.Fatal(d.Err)
	}
	f.sim.AddTargetMeta("targets/releases", "fresh", meta(t, "fresh manifest"))
	f.sim.Publish()
	reads := cr.count()
	for range 10 {
		if d, _ := f.eng.Decide(ctx, gun+":fresh"); d.Allowed || d.Reason != ReasonNotSigned {
			t.Fatalf("allowed=%v reason=%s", d.Allowed, d.Reason)
		}
	}
	if cr.count() != reads {
		t.Fatalf("misses within %s re-read the trust data: %d reads", MissRefresh, cr.count()-reads)
	}
	f.sim.Clock.Advance(MissRefresh)
	want, _ := digestOf("fresh manifest")
	if d, _ := f.eng.Decide(ctx, gun+":fresh"); !d.Allowed || d.Digest != want {
		t.Fatalf("newly signed tag: allowed=%v %v", d.Allowed, d.Err)
	}
	reads = cr.count()
	for range 10 {
		f.eng.Decide(ctx, gun+":never")
	}
	if cr.count() > reads {
		t.Fatalf("unsigned requests re-read the trust data %d times right after a refresh", cr.count()-reads)
	}
}
