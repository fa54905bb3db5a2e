package update_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Root certificates live ten years (v1 §3.5). The certificate expiry rule
// applies to a root that is newly trusted: the first root downloaded and
// the final root of a rotation chain. It does not apply to the root
// trusted already (the cached root) nor to the intermediate roots of a
// chain (v1 §3.5 "expiry is not checked for the previously trusted root",
// §4.5 "expired intermediates allowed").

const day = 24 * time.Hour

// certLifetimeLater is a month after a root certificate made now expires.
const certLifetimeLater = keys.RootCertificateValidity + 30*day

// farRootExpiry makes the next root version expire long after its
// certificate, so that only the certificate has expired.
func farRootExpiry(sim *tuftest.Simulator) {
	sim.Expire(tuf.RoleRoot, sim.Clock.Now().Add(3*keys.RootCertificateValidity))
}

// refreshTargets re-signs targets and the delegation of the fixture, so
// that only root matters when the clock has moved on by years.
func refreshTargets(sim *tuftest.Simulator, name string) {
	sim.AddTarget(tuf.RoleTargets, name, []byte(name))
	sim.AddTarget("targets/releases", name+"-rel", []byte(name))
	sim.Publish()
}

func TestCachedRootWithExpiredCertificateStillPinsTrust(t *testing.T) {
	f := newFixture(t)
	farRootExpiry(f.sim)
	f.sim.Publish() // root v2, same key and certificate
	f.mustUpdate(t)
	f.sim.Clock.Advance(certLifetimeLater)
	refreshTargets(f.sim, "later")

	// The cached root's certificate has expired: it still pins trust.
	repo := f.mustUpdate(t)
	if repo.Root.Version != 2 {
		t.Errorf("root version %d, want 2", repo.Root.Version)
	}
	if _, ok := repo.Targets(tuf.RoleTargets).Targets["later"]; !ok {
		t.Error("the targets published after the certificate expired are not visible")
	}
	if len(repo.Invalid()) != 0 {
		t.Errorf("invalid roles: %v", repo.Invalid())
	}
	if _, err := f.u.Load(context.Background(), f.sim.Clock.Now()); err != nil {
		t.Errorf("Load: %v", err)
	}

	// A client that has not trusted that root yet refuses it: for a new
	// root, the certificate must be valid.
	_, err := newUpdater(t, f.sim, update.NewMemoryCache(), nil).Update(context.Background(), f.sim.Clock.Now())
	isErr(trustpin.ErrCertExpired)(t, err)

	// Only the certificate expiry is waived: the cached root must still
	// be signed by its own root keys meeting the threshold.
	thief := f.sim.NewRootKey()
	forged := f.sim.Forge(tuf.RoleRoot, nil, thief)
	if _, err := update.NewTrustedSetFromCache(forged, f.sim.Clock.Now(), nil, gun); err == nil {
		t.Fatal("a cached root signed by a key it does not list was accepted")
	}
	cache := update.NewMemoryCache()
	if err := cache.Store(tuf.RoleRoot, nil, forged); err != nil {
		t.Fatal(err)
	}
	_, err = newUpdater(t, f.sim, cache, nil).Update(context.Background(), f.sim.Clock.Now())
	if e := asErr[*update.RoleError](t, err); e.Role != tuf.RoleRoot || !e.Cached {
		t.Errorf("error about %s (cached %v), want the cached root: %v", e.Role, e.Cached, err)
	}
}

func TestRotationChainThroughARootWhoseCertificateExpired(t *testing.T) {
	f := newFixture(t) // the client trusts root v1 (certificate A)
	f.sim.Clock.Advance(365 * day)
	f.sim.RotateKeys(tuf.RoleRoot) // v2: certificate B, made a year after A
	f.sim.Publish()
	f.sim.Clock.Advance(certLifetimeLater) // A and B have expired
	f.sim.RotateKeys(tuf.RoleRoot)         // v3: certificate C, valid
	f.sim.Publish()
	refreshTargets(f.sim, "later")
	f.sim.ResetFetches()

	repo := f.mustUpdate(t)
	if repo.Root.Version != 3 {
		t.Errorf("root version %d, want 3", repo.Root.Version)
	}
	if !slices.Contains(f.sim.Fetches(), "2.root.json") {
		t.Errorf("2.root.json was not fetched: %v", f.sim.Fetches())
	}

	// At the TrustedSet level: v2 is acceptable in the middle of a chain,
	// not as its end.
	history := f.sim.History(tuf.RoleRoot)
	set, err := update.NewTrustedSetFromCache(history[1], f.sim.Clock.Now(), nil, gun)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.UpdateRoot(history[2]); !errors.Is(err, trustpin.ErrCertExpired) {
		t.Fatalf("UpdateRoot(v2) = %v, want ErrCertExpired", err)
	}
	if _, err := set.UpdateIntermediateRoot(history[2]); err != nil {
		t.Fatalf("UpdateIntermediateRoot(v2): %v", err)
	}
	if _, err := set.UpdateRoot(history[3]); err != nil {
		t.Fatalf("UpdateRoot(v3): %v", err)
	}
	// The intermediate root must still be signed by its predecessor.
	set, err = update.NewTrustedSetFromCache(history[1], f.sim.Clock.Now(), nil, gun)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.UpdateIntermediateRoot(history[3]); !errors.Is(err, tuf.ErrRootRotation) {
		t.Fatalf("UpdateIntermediateRoot(v3 over v1) = %v, want a rotation error", err)
	}
}

func TestFinalRootWithExpiredCertificateRefused(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		f := newFixture(t) // the client trusts root v1
		farRootExpiry(f.sim)
		f.sim.Publish() // v2, same certificate
		f.sim.Clock.Advance(certLifetimeLater)
		refreshTargets(f.sim, "later")

		_, err := f.update()
		isErr(trustpin.ErrCertExpired)(t, err)
		if e := asErr[*update.RoleError](t, err); e.Role != tuf.RoleRoot {
			t.Errorf("error about %s, want root: %v", e.Role, err)
		}
		cached, _ := f.cache.Load(tuf.RoleRoot)
		if r, _, _ := tuf.ParseRoot(cached); r == nil || r.Version != 1 {
			t.Errorf("the refused root replaced the cached one")
		}
	})
	t.Run("end of a chain", func(t *testing.T) {
		f := newFixture(t) // the client trusts root v1 (certificate A)
		farRootExpiry(f.sim)
		f.sim.RotateKeys(tuf.RoleRoot) // v2: certificate B, signed by A and B
		f.sim.Publish()
		farRootExpiry(f.sim) // v3: signed by B only
		f.sim.Publish()
		f.sim.Clock.Advance(certLifetimeLater)
		refreshTargets(f.sim, "later")

		_, err := f.update()
		isErr(trustpin.ErrCertExpired)(t, err)
		if e := asErr[*update.RootChainError](t, err); e.At != 3 {
			t.Errorf("chain failed at version %d, want 3 (v2's expired certificate is allowed): %v", e.At, err)
		}
	})
}
