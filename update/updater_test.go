package update_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// names strips hashes from fetched file names: "snapshot.<hex>.json" →
// "snapshot.#.json".
func names(fetches []string) []string {
	out := make([]string, len(fetches))
	for i, f := range fetches {
		parts := strings.Split(f, ".")
		for j, p := range parts {
			if len(p) == 64 {
				parts[j] = "#"
			}
		}
		out[i] = strings.Join(parts, ".")
	}
	return out
}

func TestUpdateColdCache(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "v1.0", []byte("one"))
	sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	sim.AddTarget("targets/releases", "v2.0", []byte("two"))
	sim.Publish()
	cache := update.NewMemoryCache()
	repo, err := newUpdater(t, sim, cache, nil).Update(context.Background(), sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// v1 §4.4: the observed cold-cache fetch sequence
	want := []string{"root.json", "timestamp.json", "snapshot.#.json", "targets.#.json", "targets/releases.#.json"}
	if diff := cmp.Diff(want, names(sim.Fetches())); diff != "" {
		t.Errorf("fetches (-want +got):\n%s", diff)
	}
	for _, role := range []string{"root", "timestamp", "snapshot", "targets", "targets/releases"} {
		got, err := cache.Load(role)
		if err != nil {
			t.Errorf("cache.Load(%s): %v", role, err)
			continue
		}
		if !bytes.Equal(got, sim.Bytes(role)) {
			t.Errorf("cached %s differs from the published file", role)
		}
		if !bytes.Equal(repo.Bytes(role), got) {
			t.Errorf("Verified.Bytes(%s) differs from the cached file", role)
		}
	}
	if repo.Offline != nil || len(repo.Warnings) != 0 {
		t.Errorf("Offline = %v, Warnings = %v; want none", repo.Offline, repo.Warnings)
	}
	got := map[string]string{}
	for _, tg := range repo.ListTargets() {
		got[tg.Name] = tg.Role
	}
	if diff := cmp.Diff(map[string]string{"v1.0": "targets", "v2.0": "targets/releases"}, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestUpdateWarmCache(t *testing.T) {
	tests := []struct {
		name   string
		change func(sim *tuftest.Simulator)
		want   []string
	}{
		{
			name:   "nothing changed",
			change: func(*tuftest.Simulator) {},
			want:   []string{"timestamp.json"},
		},
		{
			name:   "timestamp refreshed",
			change: func(sim *tuftest.Simulator) { sim.RefreshTimestamp() },
			want:   []string{"timestamp.json"},
		},
		{
			name:   "delegation changed",
			change: func(sim *tuftest.Simulator) { sim.AddTarget("targets/releases", "v3.0", []byte("3")); sim.Publish() },
			want:   []string{"timestamp.json", "snapshot.#.json", "targets/releases.#.json"},
		},
		{
			name:   "targets changed",
			change: func(sim *tuftest.Simulator) { sim.AddTarget(tuf.RoleTargets, "v3.0", []byte("3")); sim.Publish() },
			want:   []string{"timestamp.json", "snapshot.#.json", "targets.#.json"},
		},
		{
			name: "root rotated",
			change: func(sim *tuftest.Simulator) {
				sim.RotateKeys(tuf.RoleRoot)
				sim.Publish()
			},
			// the snapshot names another root: update root, retry (v1 §4.4 step 6)
			want: []string{"timestamp.json", "snapshot.#.json", "root.json", "timestamp.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.change(f.sim)
			f.mustUpdate(t)
			if diff := cmp.Diff(tc.want, names(f.sim.Fetches())); diff != "" {
				t.Errorf("fetches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRootRotation(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		// stage runs after the client trusts root v1.
		stage     func(t *testing.T, sim *tuftest.Simulator)
		wantRoot  int64
		wantFetch []string // versioned roots fetched, in order
		want      check    // nil: success
	}{
		{
			name:     "direct",
			stage:    func(t *testing.T, sim *tuftest.Simulator) { sim.RotateKeys(tuf.RoleRoot); sim.Publish() },
			wantRoot: 2,
		},
		{
			name: "chain with an expired intermediate",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				sim.Expire(tuf.RoleRoot, sim.Clock.Now().Add(day)) // v2 expires tomorrow
				sim.Publish()
				sim.RotateKeys(tuf.RoleRoot) // v3
				sim.Publish()
				sim.RotateKeys(tuf.RoleRoot) // v4
				sim.Publish()
				sim.Clock.Advance(2 * day)
				sim.RefreshTimestamp()
			},
			wantRoot:  4,
			wantFetch: []string{"2.root.json", "3.root.json"},
		},
		{
			name: "long chain",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				for range 6 {
					sim.RotateKeys(tuf.RoleRoot)
					sim.Publish()
				}
			},
			wantRoot:  7,
			wantFetch: []string{"2.root.json", "3.root.json", "4.root.json", "5.root.json", "6.root.json"},
		},
		{
			name: "final root expired",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				sim.RotateKeys(tuf.RoleRoot)
				sim.Expire(tuf.RoleRoot, sim.Clock.Now().Add(day))
				sim.Publish()
				sim.Clock.Advance(2 * day)
				sim.RefreshTimestamp()
			},
			want: refusedWith[*tuf.ExpiredError](tuf.RoleRoot),
		},
		{
			name: "missing intermediate",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				for range 3 {
					sim.RotateKeys(tuf.RoleRoot)
					sim.Publish()
				}
				sim.Override("3.root.json", nil)
			},
			want: all(refusedWith[*update.RootChainError](""), isErr(update.ErrNotFound)),
		},
		{
			name: "intermediate of the wrong version",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				for range 3 {
					sim.RotateKeys(tuf.RoleRoot)
					sim.Publish()
				}
				sim.Override("2.root.json", sim.History(tuf.RoleRoot)[3])
			},
			want: func(t *testing.T, err error) {
				if e := asErr[*update.RootChainError](t, err); e.At != 2 {
					t.Errorf("chain failed at version %d, want 2", e.At)
				}
			},
		},
		{
			name: "chain too long",
			stage: func(t *testing.T, sim *tuftest.Simulator) {
				thief := sim.NewRootKey()
				sim.Forge(tuf.RoleRoot, func(m tuf.Metadata) {
					r := m.(*tuf.Root)
					r.Version = 1 << 40
					r.Keys[thief.ID()] = thief.Public()
					r.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{thief.ID()}, Threshold: 1}
				}, thief)
			},
			want: isErr(update.ErrRootChain),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.stage(t, f.sim)
			f.sim.ResetFetches()
			repo, err := f.update()
			if tc.want != nil {
				if err == nil {
					t.Fatalf("accepted root version %d", repo.Root.Version)
				}
				tc.want(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if repo.Root.Version != tc.wantRoot {
				t.Errorf("root version %d, want %d", repo.Root.Version, tc.wantRoot)
			}
			var versioned []string
			for _, n := range f.sim.Fetches() {
				if strings.HasSuffix(n, ".root.json") {
					versioned = append(versioned, n)
				}
			}
			if diff := cmp.Diff(tc.wantFetch, versioned); diff != "" {
				t.Errorf("versioned roots fetched (-want +got):\n%s", diff)
			}
			cached, _ := f.cache.Load(tuf.RoleRoot)
			if !bytes.Equal(cached, f.sim.Bytes(tuf.RoleRoot)) {
				t.Error("the newest root was not cached")
			}
		})
	}
}

func TestCachedRootExpired(t *testing.T) {
	f := newFixture(t)
	// The client caches a root that expires in an hour.
	f.sim.Expire(tuf.RoleRoot, f.sim.Clock.Now().Add(time.Hour))
	f.sim.Publish()
	f.mustUpdate(t)
	f.sim.Clock.Advance(2 * time.Hour)

	t.Run("no newer root", func(t *testing.T) {
		f.sim.ResetFetches()
		_, err := f.update()
		refusedWith[*tuf.ExpiredError](tuf.RoleRoot)(t, err)
	})
	t.Run("newer root", func(t *testing.T) {
		f.sim.BumpRoot()
		f.sim.Publish()
		f.sim.ResetFetches()
		repo := f.mustUpdate(t)
		if got := names(f.sim.Fetches())[0]; got != "root.json" {
			t.Errorf("first fetch %s, want root.json (an expired cached root is updated first)", got)
		}
		if repo.Root.Version != f.sim.Version(tuf.RoleRoot) {
			t.Errorf("root version %d, want %d", repo.Root.Version, f.sim.Version(tuf.RoleRoot))
		}
	})
	t.Run("offline", func(t *testing.T) {
		f.sim.Expire(tuf.RoleRoot, f.sim.Clock.Now().Add(time.Hour))
		f.sim.Publish()
		f.mustUpdate(t)
		f.sim.Clock.Advance(2 * time.Hour)
		f.sim.SetOffline(true)
		defer f.sim.SetOffline(false)
		_, err := f.update()
		all(refusedWith[*tuf.ExpiredError](tuf.RoleRoot), isErr(update.ErrOffline))(t, err)
	})
}

func TestTrustPinning(t *testing.T) {
	sim := tuftest.New(gun)
	other := tuftest.New(gun)
	pinned := func(ids []string) *trustpin.Checker {
		c, err := trustpin.Config{Certs: map[string][]string{gun: ids}}.Checker(gun)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("pinned cert accepted", func(t *testing.T) {
		u := newUpdater(t, sim, update.NewMemoryCache(), pinned(sim.RootCertIDs()))
		if _, err := u.Update(context.Background(), sim.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unpinned first root refused", func(t *testing.T) {
		u := newUpdater(t, sim, update.NewMemoryCache(), pinned(other.RootCertIDs()))
		_, err := u.Update(context.Background(), sim.Clock.Now())
		isErr(trustpin.ErrNotPinned)(t, err)
	})
	t.Run("tofu disabled", func(t *testing.T) {
		c, err := trustpin.Config{DisableTOFU: true}.Checker(gun)
		if err != nil {
			t.Fatal(err)
		}
		_, err = newUpdater(t, sim, update.NewMemoryCache(), c).Update(context.Background(), sim.Clock.Now())
		isErr(trustpin.ErrTOFUDisabled)(t, err)
	})
	t.Run("rotation to an unpinned cert refused", func(t *testing.T) {
		s := tuftest.New(gun)
		cache := update.NewMemoryCache()
		u := newUpdater(t, s, cache, pinned(s.RootCertIDs()))
		if _, err := u.Update(context.Background(), s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		s.RotateKeys(tuf.RoleRoot)
		s.Publish()
		_, err := u.Update(context.Background(), s.Clock.Now())
		isErr(trustpin.ErrNotPinned)(t, err)
		// TOFU follows the same rotation
		if _, err := newUpdater(t, s, cache, nil).Update(context.Background(), s.Clock.Now()); err != nil {
			t.Errorf("TOFU client: %v", err)
		}
	})
}

func TestOffline(t *testing.T) {
	tests := []struct {
		name   string
		stage  func(f *fixture)
		cold   bool
		want   check // nil: success from the cache
		fetch  []string
		notice bool // a warning about using cached data
	}{
		{
			name:   "unreachable, cached timestamp valid",
			stage:  func(f *fixture) { f.sim.SetOffline(true) },
			fetch:  []string{"timestamp.json"}, // no retry: the root cannot come either
			notice: true,
		},
		{
			name:   "timestamp not found",
			stage:  func(f *fixture) { f.sim.Delete() },
			fetch:  []string{"timestamp.json"},
			notice: true,
		},
		{
			name: "unreachable, cached timestamp expired",
			stage: func(f *fixture) {
				f.sim.SetOffline(true)
				f.sim.Clock.Advance(tuf.DefaultTimestampTTL + time.Minute)
			},
			want: all(refusedWith[*tuf.ExpiredError](tuf.RoleTimestamp), isErr(update.ErrOffline)),
		},
		{
			name:  "unreachable, nothing cached",
			cold:  true,
			stage: func(f *fixture) { f.sim.SetOffline(true) },
			want:  all(isErr(update.ErrNoTrustData), isErr(update.ErrOffline)),
		},
		{
			name:  "repository does not exist",
			cold:  true,
			stage: func(f *fixture) { f.sim.Delete() },
			want:  all(isErr(update.ErrRepositoryNotExist), refusedWith[*update.RoleError]("")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.cold {
				f.cache = update.NewMemoryCache()
				f.u = newUpdater(t, f.sim, f.cache, nil)
			}
			tc.stage(f)
			f.sim.ResetFetches()
			repo, err := f.update()
			if tc.want != nil {
				if err == nil {
					t.Fatal("update succeeded, want an error")
				}
				tc.want(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if repo.Offline == nil || !errors.Is(repo.Offline, update.ErrOffline) {
				t.Errorf("Verified.Offline = %v, want an *OfflineError", repo.Offline)
			}
			if tc.notice && len(repo.Warnings) == 0 {
				t.Error("no warning about the cached timestamp")
			}
			if diff := cmp.Diff(tc.fetch, names(f.sim.Fetches())); diff != "" {
				t.Errorf("fetches (-want +got):\n%s", diff)
			}
			if _, err := repo.Lookup("v2.0"); err != nil {
				t.Errorf("Lookup from the cache: %v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		stage func(f *fixture)
		want  check
	}{
		{name: "warm cache", stage: func(*fixture) {}},
		{
			name:  "nothing cached",
			stage: func(f *fixture) { f.cache = update.NewMemoryCache() },
			want:  isErr(update.ErrNoTrustData),
		},
		{
			name:  "timestamp expired",
			stage: func(f *fixture) { f.sim.Clock.Advance(tuf.DefaultTimestampTTL + time.Minute) },
			want:  refusedWith[*tuf.ExpiredError](tuf.RoleTimestamp),
		},
		{
			name:  "delegation missing",
			stage: func(f *fixture) { f.cache.Set("targets/releases", nil) },
			want:  all(isErr(update.ErrOffline), refusedWith[*update.RoleError]("")),
		},
		{
			name:  "cached snapshot corrupt",
			stage: func(f *fixture) { f.cache.Set(tuf.RoleSnapshot, []byte("{}")) },
			want:  isErr(update.ErrOffline),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.stage(f)
			u := newUpdater(t, nil, f.cache, nil) // no remote at all
			repo, err := u.Load(context.Background(), f.sim.Clock.Now())
			if n := len(f.sim.Fetches()); n != 0 {
				t.Errorf("Load fetched %d files", n)
			}
			if tc.want != nil {
				if err == nil {
					t.Fatal("Load succeeded, want an error")
				}
				tc.want(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if repo.Offline == nil {
				t.Error("Load did not say it is offline")
			}
			if got := len(repo.ListTargets()); got != 2 {
				t.Errorf("%d targets, want 2", got)
			}
		})
	}
}

func TestDelegationsSkipped(t *testing.T) {
	tests := []struct {
		name  string
		stage func(sim *tuftest.Simulator)
		want  check
	}{
		{
			name: "expired",
			stage: func(sim *tuftest.Simulator) {
				sim.Expire("targets/releases", sim.Clock.Now().Add(-time.Minute))
				sim.Publish()
			},
			want: refusedWith[*tuf.ExpiredError]("targets/releases"),
		},
		{
			name:  "under-signed",
			stage: func(sim *tuftest.Simulator) { sim.Forge("targets/releases", nil, tuftest.NewKey()) },
			want:  refusedWith[*tuf.ThresholdError]("targets/releases"),
		},
		{
			name: "malformed",
			stage: func(sim *tuftest.Simulator) {
				sim.Forge("targets/releases", func(m tuf.Metadata) {
					t := m.(*tuf.Targets)
					t.Delegations.Roles = append(t.Delegations.Roles, &tuf.DelegationRole{Name: "targets/elsewhere", Threshold: 1})
				})
			},
			want: isErr(tuf.ErrMalformed),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.sim.AddDelegation("targets/releases", "targets/releases/rc", "")
			f.sim.AddTarget("targets/releases/rc", "v3.0-rc", []byte("rc"))
			f.sim.Publish()
			f.mustUpdate(t)
			tc.stage(f.sim)
			repo := f.mustUpdate(t)
			tc.want(t, repo.Invalid()["targets/releases"])
			for _, name := range []string{"v2.0", "v3.0-rc"} {
				if tg, err := repo.Lookup(name); err == nil {
					t.Errorf("Lookup(%s) = %+v, want it hidden with its role", name, tg)
				}
			}
			if _, err := repo.Lookup("v1.0"); err != nil {
				t.Errorf("Lookup(v1.0): %v", err)
			}
			var skipped []string
			for _, w := range repo.Warnings {
				var sd *update.SkippedDelegationWarning
				if errors.As(w, &sd) {
					skipped = append(skipped, sd.Role)
				}
			}
			if len(skipped) != 1 || skipped[0] != "targets/releases" {
				t.Errorf("skipped-delegation warnings for %q in %v, want one for targets/releases", skipped, repo.Warnings)
			}
			var st update.DelegationStatus
			for _, d := range repo.Delegations() {
				if d.Name == "targets/releases" {
					st = d.Status
				}
			}
			if st != update.DelegationInvalid {
				t.Errorf("targets/releases status %q, want %q", st, update.DelegationInvalid)
			}
		})
	}
}

func TestTopLevelTargetsFatal(t *testing.T) {
	f := newFixture(t)
	f.sim.Expire(tuf.RoleTargets, f.sim.Clock.Now().Add(-time.Minute))
	f.sim.Publish()
	_, err := f.update()
	refusedWith[*tuf.ExpiredError](tuf.RoleTargets)(t, err)
}

func TestContextCanceled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.u.Update(ctx, f.sim.Clock.Now())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if errors.Is(err, update.ErrOffline) {
		t.Errorf("a cancelled update fell back to the cache: %v", err)
	}
}

func TestDirRemote(t *testing.T) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "v1.0", []byte("one"))
	sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	sim.AddTarget("targets/releases", "v2.0", []byte("two"))
	sim.Publish()
	old := sim.MapFS()
	sim.RotateKeys(tuf.RoleRoot)
	sim.RotateKeys(tuf.RoleRoot) // v3: v1 needs 2.root.json
	sim.AddTarget("targets/releases", "v3.0", []byte("three"))
	sim.Publish()
	full := sim.MapFS()
	plainOnly := fstest.MapFS{}
	for name, f := range full {
		if strings.Count(name, ".") == 1 { // <role>.json
			plainOnly[name] = f
		}
	}
	for v, b := range sim.History(tuf.RoleRoot) {
		plainOnly[update.VersionedRootName(v)] = &fstest.MapFile{Data: b}
	}
	stale := fstest.MapFS{}
	for name, f := range plainOnly {
		stale[name] = f
	}
	stale["snapshot.json"] = old["snapshot.json"]
	huge := fstest.MapFS{"timestamp.json": &fstest.MapFile{Data: make([]byte, tuf.MaxTimestampSize+1)}}

	tests := []struct {
		name string
		fsys fstest.MapFS
		warm fstest.MapFS // mirror state the client first trusted, if any
		want check
	}{
		{name: "full mirror", fsys: full},
		{name: "plain names only", fsys: plainOnly},
		{name: "rotation chain", fsys: full, warm: old},
		{name: "stale plain name", fsys: stale, want: refusedWith[*tuf.HashMismatchError](tuf.RoleSnapshot)},
		{name: "file too large", fsys: huge, warm: old, want: refusedWith[*update.TooLargeError]("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := update.NewMemoryCache()
			now := sim.Clock.Now()
			if tc.warm != nil {
				if _, err := newUpdater(t, update.DirRemote(tc.warm), cache, nil).Update(context.Background(), now); err != nil {
					t.Fatalf("first update: %v", err)
				}
			}
			repo, err := newUpdater(t, update.DirRemote(tc.fsys), cache, nil).Update(context.Background(), now)
			if tc.want != nil {
				if err == nil {
					t.Fatal("update succeeded, want an error")
				}
				tc.want(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg, err := repo.Lookup("v3.0"); err != nil || tg.Role != "targets/releases" {
				t.Errorf("Lookup(v3.0) = %+v, %v", tg, err)
			}
		})
	}
}

func TestDirRemoteContract(t *testing.T) {
	fsys := fstest.MapFS{
		"timestamp.json":   &fstest.MapFile{Data: []byte("0123456789")},
		"targets/a.json":   &fstest.MapFile{Data: []byte("a")},
		"1.root.json":      &fstest.MapFile{Data: []byte("r")},
		"targets/dir.json": &fstest.MapFile{Mode: 0o755 | 1<<31}, // a directory
	}
	r := update.DirRemote(fsys)
	ctx := context.Background()
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		get  func() ([]byte, error)
		want string
		err  error
	}{
		{name: "plain", get: func() ([]byte, error) { return r.GetMeta(ctx, "timestamp", "", 10) }, want: "0123456789"},
		{name: "hashed falls back to plain", get: func() ([]byte, error) { return r.GetMeta(ctx, "targets/a", hash, 10) }, want: "a"},
		{name: "too large", get: func() ([]byte, error) { return r.GetMeta(ctx, "timestamp", "", 9) }, err: update.ErrTooLarge},
		{name: "missing", get: func() ([]byte, error) { return r.GetMeta(ctx, "snapshot", "", 10) }, err: update.ErrNotFound},
		{name: "bad role", get: func() ([]byte, error) { return r.GetMeta(ctx, "../etc/passwd", "", 10) }, err: update.ErrNotFound},
		{name: "bad hash", get: func() ([]byte, error) { return r.GetMeta(ctx, "targets/a", "../x", 10) }, err: update.ErrNotFound},
		{name: "directory", get: func() ([]byte, error) { return r.GetMeta(ctx, "targets/dir", "", 10) }, err: update.ErrNotFound},
		{name: "versioned root", get: func() ([]byte, error) { return r.GetVersionedRoot(ctx, 1, 10) }, want: "r"},
		{name: "versioned root missing", get: func() ([]byte, error) { return r.GetVersionedRoot(ctx, 2, 10) }, err: update.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %q, %v; want an error wrapping %v", got, err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMemoryCache(t *testing.T) {
	c := update.NewMemoryCache()
	steps := []struct {
		name      string
		old, data string
		err       error
		after     string // "" means absent
	}{
		{name: "create", old: "", data: "a", after: "a"},
		{name: "create again conflicts", old: "", data: "b", err: update.ErrWriteConflict, after: "a"},
		{name: "stale old conflicts", old: "x", data: "b", err: update.ErrWriteConflict, after: "a"},
		{name: "swap", old: "a", data: "b", after: "b"},
		{name: "delete", old: "b", data: "", after: ""},
		{name: "delete absent conflicts", old: "b", data: "", err: update.ErrWriteConflict, after: ""},
	}
	for _, st := range steps {
		err := c.Store("root", []byte(st.old), []byte(st.data))
		if !errors.Is(err, st.err) || (st.err == nil && err != nil) {
			t.Errorf("%s: Store error %v, want %v", st.name, err, st.err)
		}
		got, err := c.Load("root")
		if st.after == "" {
			if !errors.Is(err, update.ErrNotFound) {
				t.Errorf("%s: Load = %q, %v; want ErrNotFound", st.name, got, err)
			}
		} else if string(got) != st.after {
			t.Errorf("%s: Load = %q, %v; want %q", st.name, got, err, st.after)
		}
	}
}

// racingCache lets another writer store role just before this one.
type racingCache struct {
	*update.MemoryCache
	role string
	once sync.Once
}

func (c *racingCache) Store(role string, old, data []byte) error {
	if role == c.role {
		c.once.Do(func() { c.MemoryCache.Set(role, []byte("someone else's")) })
	}
	return c.MemoryCache.Store(role, old, data)
}

func TestCacheWriteConflict(t *testing.T) {
	f := newFixture(t)
	f.sim.AddTarget(tuf.RoleTargets, "v1.1", []byte("x"))
	f.sim.Publish()
	rc := &racingCache{MemoryCache: f.cache, role: tuf.RoleTargets}
	repo, err := newUpdater(t, f.sim, rc, nil).Update(context.Background(), f.sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range repo.Warnings {
		var cw *update.CacheWriteWarning
		found = found || errors.As(w, &cw) && cw.Role == tuf.RoleTargets && errors.Is(w, update.ErrWriteConflict)
	}
	if !found {
		t.Errorf("warnings %v, want a write conflict", repo.Warnings)
	}
	if got, _ := f.cache.Load(tuf.RoleTargets); string(got) != "someone else's" {
		t.Errorf("the conflicting write was overwritten: %.40q", got)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 4 {
				if i == 0 {
					f.sim.AddTarget(tuf.RoleTargets, fmt.Sprintf("t%d", j), []byte{byte(j)})
					f.sim.Publish()
				}
				u := newUpdater(t, f.sim, f.cache, nil)
				if _, err := u.Update(context.Background(), f.sim.Clock.Now()); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	repo := f.mustUpdate(t)
	if _, err := repo.Lookup("t3"); err != nil {
		t.Errorf("after concurrent updates: %v", err)
	}
}
