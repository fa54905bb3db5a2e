package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/notary-go/notary/storage"
)

var concurrentTests = []test{
	{"SameVersionOneWinner", testRaceSameVersion},
	{"ReadModifyWriteIsLinearizable", testRaceReadModifyWrite},
	{"VersionsOnlyGoUp", testRaceVersionsGoUp},
	{"ManyGUNs", testRaceManyGUNs},
	{"ReadsNeverTorn", testRaceReads},
}

// Goroutine counts: big enough to race on every engine, small enough for
// -race on a small machine.
const (
	racers = 12
	rounds = 4
)

// testRaceSameVersion: servers racing to store the same next snapshot and
// timestamp. Exactly one call wins, the others get ErrOldVersion, and what
// is stored is entirely the winner's.
func testRaceSameVersion(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "snapshot", 1), upd(gun, "timestamp", 1))
	for round := int64(2); round < 2+rounds; round++ {
		errs := make([]error, racers)
		data := func(i int, role string) []byte { return fmt.Appendf(nil, "%s v%d by racer %d", role, round, i) }
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				errs[i] = s.UpdateMany(ctx, gun, []storage.MetaUpdate{
					{Role: "snapshot", Version: round, Data: data(i, "snapshot")},
					{Role: "timestamp", Version: round, Data: data(i, "timestamp")},
				})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: racers %d and %d both stored version %d", round, winner, i, round)
			case err == nil:
				winner = i
			default:
				wantOldVersion(t, fmt.Sprintf("round %d racer %d", round, i), err, storage.OldVersionError{GUN: gun, Role: "snapshot", Version: round})
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer stored version %d", round, round)
		}
		for _, role := range []string{"snapshot", "timestamp"} {
			got, err := s.GetCurrent(ctx, gun, role)
			wantMeta(t, "GetCurrent("+role+")", got, err, storage.MetaUpdate{Role: role, Version: round, Data: data(winner, role)})
		}
	}
	cs := allChanges(t, s, gun)
	if len(cs) != 1+rounds {
		t.Fatalf("changefeed has %d rows, want %d (one per stored timestamp)", len(cs), 1+rounds)
	}
	for i, c := range cs {
		if c.Version != int64(i+1) {
			t.Errorf("change %d Version = %d, want %d", i, c.Version, i+1)
		}
	}
}

// testRaceReadModifyWrite: every racer repeatedly reads the current
// timestamp and stores current+1, retrying on ErrOldVersion. If the
// store's check-then-insert were not atomic, two racers would both store
// versions based on the same read and versions would repeat or skip.
func testRaceReadModifyWrite(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[int64]int{} // version → racer that stored it
		fail   error
	)
	for i := range racers {
		wg.Go(func() {
			for n := 0; n < rounds; {
				cur := int64(0)
				got, err := s.GetCurrent(ctx, gun, "timestamp")
				switch {
				case err == nil:
					cur = got.Version
				case !errors.Is(err, storage.ErrNotFound):
					mu.Lock()
					fail = err
					mu.Unlock()
					return
				}
				err = s.UpdateMany(ctx, gun, []storage.MetaUpdate{{Role: "timestamp", Version: cur + 1, Data: fmt.Appendf(nil, "v%d by %d", cur+1, i)}})
				if errors.Is(err, storage.ErrOldVersion) {
					continue
				}
				mu.Lock()
				if err != nil {
					fail = err
				} else if prev, dup := stored[cur+1]; dup {
					fail = fmt.Errorf("version %d stored by racers %d and %d", cur+1, prev, i)
				} else {
					stored[cur+1] = i
				}
				mu.Unlock()
				if err != nil {
					return
				}
				n++
			}
		})
	}
	wg.Wait()
	if fail != nil {
		t.Fatal(fail)
	}
	const total = racers * rounds
	for v := int64(1); v <= total; v++ {
		if _, ok := stored[v]; !ok {
			t.Errorf("no racer stored version %d; stored %v", v, stored)
		}
	}
	// The changefeed lists the versions in commit order: ascending.
	cs := allChanges(t, s, gun)
	if len(cs) != total {
		t.Fatalf("changefeed has %d rows, want %d", len(cs), total)
	}
	for i, c := range cs {
		if c.Version != int64(i+1) {
			t.Fatalf("change %d Version = %d, want %d: changefeed IDs are not in commit order", i, c.Version, i+1)
		}
	}
}

// testRaceManyGUNs: writers of different GUNs never conflict, and the
// global changefeed gets every row with unique, increasing IDs.
func testRaceManyGUNs(t *testing.T, s storage.MetaStore) {
	var wg sync.WaitGroup
	errs := make(chan error, racers*rounds)
	for i := range racers {
		gun := fmt.Sprintf("example.com/app%d", i)
		wg.Go(func() {
			for v := int64(1); v <= rounds; v++ {
				if err := s.UpdateMany(t.Context(), gun, []storage.MetaUpdate{upd(gun, "snapshot", v), upd(gun, "timestamp", v)}); err != nil {
					errs <- fmt.Errorf("UpdateMany(%s, v%d) = %w", gun, v, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := allChanges(t, s, "")
	if len(all) != racers*rounds {
		t.Fatalf("global changefeed has %d rows, want %d", len(all), racers*rounds)
	}
	wantIncreasingIDs(t, all)
	for i := range racers {
		gun := fmt.Sprintf("example.com/app%d", i)
		cs := allChanges(t, s, gun)
		if len(cs) != rounds {
			t.Fatalf("changefeed of %s has %d rows, want %d", gun, len(cs), rounds)
		}
		for j, c := range cs {
			if c.GUN != gun || c.Version != int64(j+1) {
				t.Errorf("changefeed of %s row %d = %+v, want version %d", gun, j, c, j+1)
			}
		}
	}
}

// testRaceReads: readers running beside a writer always see a whole file
// (SHA256 matches Data) and never see versions go backwards.
func testRaceReads(t *testing.T, s storage.MetaStore) {
	const gun = "example.com/app"
	mustUpdate(t, s, gun, upd(gun, "timestamp", 1))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for range racers / 2 {
		wg.Go(func() {
			last := int64(0)
			for ctx.Err() == nil {
				got, err := s.GetCurrent(ctx, gun, "timestamp")
				if ctx.Err() != nil {
					return
				}
				switch {
				case err != nil:
					errs <- err
					return
				case got.SHA256 != storage.SHA256Hex(got.Data):
					errs <- fmt.Errorf("torn read: version %d SHA256 %s does not match its data", got.Version, got.SHA256)
					return
				case got.Version < last:
					errs <- fmt.Errorf("version went back from %d to %d", last, got.Version)
					return
				}
				last = got.Version
			}
		})
	}
	for v := int64(2); v <= 4*rounds; v++ {
		mustUpdate(t, s, gun, upd(gun, "timestamp", v))
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testRaceVersionsGoUp: racers store current+1..current+3, so that two of
// them can pick different versions from the same read. The version check
// must still see every committed and in-flight write: in commit order
// (changefeed order) versions only go up, and nothing lower than a stored
// version is ever accepted.
func testRaceVersionsGoUp(t *testing.T, s storage.MetaStore) {
	ctx := t.Context()
	const gun = "example.com/app"
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for i := range racers {
		wg.Go(func() {
			for n, attempt := 0, 0; n < rounds; attempt++ {
				cur := int64(0)
				got, err := s.GetCurrent(ctx, gun, "timestamp")
				switch {
				case err == nil:
					cur = got.Version
				case !errors.Is(err, storage.ErrNotFound):
					errs <- err
					return
				}
				v := cur + 1 + int64((i+attempt)%3)
				err = s.UpdateMany(ctx, gun, []storage.MetaUpdate{{Role: "timestamp", Version: v, Data: fmt.Appendf(nil, "v%d by %d", v, i)}})
				switch {
				case errors.Is(err, storage.ErrOldVersion):
				case err != nil:
					errs <- err
					return
				default:
					n++
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cs := allChanges(t, s, gun)
	if len(cs) != racers*rounds {
		t.Fatalf("changefeed has %d rows, want %d", len(cs), racers*rounds)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Version <= cs[i-1].Version {
			t.Fatalf("version %d was stored after version %d: the version check is not atomic with the insert", cs[i].Version, cs[i-1].Version)
		}
	}
	got, err := s.GetCurrent(ctx, gun, "timestamp")
	if err != nil || got.Version != cs[len(cs)-1].Version {
		t.Fatalf("GetCurrent = %v, %v; want the last changefeed version %d", got, err, cs[len(cs)-1].Version)
	}
}
