package changelist_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/notary-go/notary/changelist"
)

// TestAddBatch: a batch is staged after the changes already there, in
// order, in v1's on-disk format (one 0600 ".change" file per change with
// the bytes Add writes, no temporary files left), and reads back the same.
func TestAddBatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "changelist")
	fl, err := changelist.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []changelist.List{fl, changelist.NewMemory()} {
		t.Run(l.Location(), func(t *testing.T) {
			first := targetChange(t, "targets", "first")
			id0, err := l.Add(first)
			if err != nil {
				t.Fatal(err)
			}
			first.ID = id0
			want := []changelist.Change{first}
			var batch []changelist.Change
			for i := range 300 {
				batch = append(batch, targetChange(t, "targets", fmt.Sprintf("t%03d", i)))
			}
			ids, err := changelist.AddAll(l, batch)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != len(batch) {
				t.Fatalf("%d ids for %d changes", len(ids), len(batch))
			}
			for i, c := range batch {
				if !v1Name.MatchString(ids[i]) {
					t.Errorf("name %q is not v1's <UnixNano>_<uuid>.change", ids[i])
				}
				c.ID = ids[i]
				want = append(want, c)
			}
			got, err := l.List()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			if l != changelist.List(fl) {
				return
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != len(want) {
				t.Errorf("%d files in the directory, want %d (no temporary files left)", len(ents), len(want))
			}
			for _, c := range want[1:4] {
				st, err := os.Stat(filepath.Join(dir, c.ID))
				if err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("file mode = %v, %v; want 0600", st.Mode(), err)
				}
				raw, _ := os.ReadFile(filepath.Join(dir, c.ID))
				c.ID = ""
				wantRaw, _ := changelist.Marshal(c)
				if string(raw) != string(wantRaw) {
					t.Errorf("file = %s, want %s", raw, wantRaw)
				}
			}
		})
	}
}

// TestAddBatchAllOrNothing: one invalid change anywhere in a batch stages
// none of it, and the error says which change (1-based) was refused.
func TestAddBatchAllOrNothing(t *testing.T) {
	fl, err := changelist.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []changelist.List{fl, changelist.NewMemory()} {
		t.Run(l.Location(), func(t *testing.T) {
			batch := []changelist.Change{
				targetChange(t, "targets", "a"),
				targetChange(t, "targets", "b"),
				{Action: "create", Scope: "snapshot", Type: "target"},
				targetChange(t, "targets", "d"),
			}
			_, err := changelist.AddAll(l, batch)
			if !errors.Is(err, changelist.ErrInvalidChange) {
				t.Fatalf("AddAll = %v, want ErrInvalidChange", err)
			}
			if want := "change 3:"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
				t.Errorf("error %q does not name change 3", err)
			}
			if cs, err := l.List(); err != nil || cs != nil {
				t.Errorf("list after refused batch = %v, %v", cs, err)
			}
		})
	}
}

// TestAddBatchOrderSurvivesAClockStall: a batch issued while the clock
// stands still still gets strictly increasing names.
func TestAddBatchOrderSurvivesAClockStall(t *testing.T) {
	l, err := changelist.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stuck := time.Unix(1_700_000_000, 0)
	changelist.SetClock(l, func() time.Time { return stuck })
	batch := []changelist.Change{targetChange(t, "targets", "a"), targetChange(t, "targets", "b"), targetChange(t, "targets", "c")}
	ids, err := l.AddBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Errorf("ids not increasing: %q >= %q", ids[i-1], ids[i])
		}
	}
}

// plainList is a List that is not a Batcher, to check AddAll's fallback.
type plainList struct{ *changelist.Memory }

// AddBatch hides Memory's, so plainList is not a Batcher.
func (plainList) AddBatch() {}

func TestAddAllWithoutBatcher(t *testing.T) {
	l := plainList{changelist.NewMemory()}
	_, err := changelist.AddAll(l, []changelist.Change{targetChange(t, "targets", "a"), {Action: "bogus"}})
	if !errors.Is(err, changelist.ErrInvalidChange) {
		t.Fatalf("AddAll = %v", err)
	}
	if cs, _ := l.List(); cs != nil {
		t.Errorf("staged %v after a refused batch", cs)
	}
	ids, err := changelist.AddAll(l, []changelist.Change{targetChange(t, "targets", "a"), targetChange(t, "targets", "b")})
	if err != nil || len(ids) != 2 {
		t.Fatalf("AddAll = %v, %v", ids, err)
	}
}
