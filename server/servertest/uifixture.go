package servertest

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

// Names of the web view fixture (UIFixture).
const (
	// UIHostileTarget is a target name that runs a script if a page
	// does not escape it.
	UIHostileTarget = "<script>document.title='pwned'</script>"
	// UIAppGUN holds delegations, an image target, the hostile target
	// and roles that expire soon and that have expired.
	UIAppGUN = "registry.example.com/team/app"
	// UIHostileGUN is a GUN with markup in it.
	UIHostileGUN = "registry.example.com/<script>document.title='pwned'</script>"
	// UISecretGUN is a collection the fixture's restricted callers may
	// not pull.
	UISecretGUN = "registry.example.com/secret/db"
	// UIImageTag is the image target of UIAppGUN (a tag with only a
	// sha256 hash).
	UIImageTag = "1.0"
	// UIReleaseTarget is the target of the delegation targets/releases.
	UIReleaseTarget = "release/app.tar.gz"
	// UIExpiredRole is a delegation whose metadata has expired;
	// "targets" itself expires within 30 days.
	UIExpiredRole = "targets/old"
)

// UIFixture starts a server (opts: Now and Store are set here) holding
// the web view's test collections. Its clock starts at the wall clock and
// is then advanced so that targets and snapshot expire within 30 days,
// UIExpiredRole has expired, and root is fine.
func UIFixture(t testing.TB, opts server.Options) (*Harness, *tuftest.Clock) {
	t.Helper()
	// Now, not a fixed date: NewRepo's root certificate is made for the
	// wall clock, and the server checks it at upload.
	t0 := time.Now().UTC()
	clock := tuftest.NewClock(t0)
	opts.Now = clock.Now
	// The fixture publishes without credentials: opts.Middleware, if
	// any, is bypassed until the collections are in place.
	var publishing atomic.Bool
	publishing.Store(true)
	if mw := opts.Middleware; mw != nil {
		opts.Middleware = func(next http.Handler) http.Handler {
			guarded := mw(next)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if publishing.Load() {
					next.ServeHTTP(w, r)
					return
				}
				guarded.ServeHTTP(w, r)
			})
		}
	}
	store := memory.New()
	h := Start(t, store, opts)
	ctx := context.Background()

	app := h.NewRepo(t, UIAppGUN, true)
	app.Now = clock.Now
	digest := sha256.Sum256([]byte("image manifest"))
	app.Targets[tuf.RoleTargets].Targets[UIImageTag] = tuf.FileMeta{Hashes: tuf.Hashes{tuf.SHA256: digest[:]}, Length: 1234}
	must(t, app.AddTarget(tuf.RoleTargets, UIHostileTarget, []byte("hostile")))
	must(t, app.AddTarget(tuf.RoleTargets, "docs/readme.txt", []byte("readme")))
	must(t, app.AddDelegation("targets/releases", "release/"))
	must(t, app.AddTarget("targets/releases", UIReleaseTarget, []byte("release")))
	must(t, app.AddDelegation(UIExpiredRole, ""))
	must(t, app.AddTarget(UIExpiredRole, "old.txt", []byte("old")))
	// targets/old is signed 20 days earlier than the rest, so it expires
	// 20 days before them.
	clock.Set(t0.Add(-20 * 24 * time.Hour))
	if _, err := app.SignTargets(UIExpiredRole); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0)
	parts, err := app.Publish(tuf.RoleTargets, "targets/releases")
	must(t, err)
	parts = append(parts, app.Parts(UIExpiredRole)...)
	must(t, h.Client(t, UIAppGUN).Publish(ctx, parts))

	for _, g := range []string{UIHostileGUN, UISecretGUN} {
		r := h.NewRepo(t, g, true)
		r.Now = clock.Now
		must(t, r.AddTarget(tuf.RoleTargets, UIHostileTarget, []byte("x")))
		parts, err := r.Publish(tuf.RoleTargets)
		must(t, err)
		must(t, h.Client(t, g).Publish(ctx, parts))
	}
	clock.Set(t0.Add(tuf.DefaultTargetsTTL - 10*24*time.Hour))
	publishing.Store(false)
	return h, clock
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
