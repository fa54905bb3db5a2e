package changelist_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/tuf"
)

var v1Name = regexp.MustCompile(`^[0-9]{20}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.change$`)

func targetChange(t testing.TB, scope, name string) changelist.Change {
	t.Helper()
	c, err := changelist.NewTarget(scope, name, tuf.FileMeta{Length: int64(len(name)), Hashes: tuf.Hashes{"sha256": make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyDir copies the files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "changelist")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestFileListReadsV1TrustDirectories: the changelists Notary 0.1 and 0.3
// left behind list in file-name order with the staged targets.
func TestFileListReadsV1TrustDirectories(t *testing.T) {
	tests := []struct {
		dir  string
		want []string // scope:path
	}{
		{"testdata/v1compat/notary0.1", []string{"targets:.gitignore"}},
		{"testdata/v1compat/notary0.3", []string{"targets:MAINTAINERS", "targets/releases:Dockerfile"}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			l, err := changelist.OpenDir(copyDir(t, tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			cs, err := l.List()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Scope+":"+c.Path)
				if !v1Name.MatchString(c.ID) && !regexp.MustCompile(`^[0-9]{20}_`).MatchString(c.ID) {
					t.Errorf("ID %q is not the file name", c.ID)
				}
				m, err := c.TargetMeta()
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Hashes["sha256"]) != 32 || m.Length <= 0 {
					t.Errorf("%s: target meta %+v", c.Path, m)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFileListOnDiskFormat: v1 §7.3 — one compact object per file named
// <20-digit UnixNano>_<uuid>.change, mode 0600, in a 0700 directory
// created on open; List in add order; IDs are the file names.
func TestFileListOnDiskFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tuf", "example.com", "app", "changelist")
	l, err := changelist.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, %v; want 0700", st.Mode(), err)
	}
	if l.Location() != dir {
		t.Errorf("Location = %q", l.Location())
	}
	var added []changelist.Change
	for i := range 5 {
		c := targetChange(t, "targets", fmt.Sprintf("t%d", i))
		id, err := l.Add(c)
		if err != nil {
			t.Fatal(err)
		}
		if !v1Name.MatchString(id) {
			t.Errorf("name %q is not v1's <UnixNano>_<uuid>.change", id)
		}
		st, err := os.Stat(filepath.Join(dir, id))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("file mode = %v, %v; want 0600", st.Mode(), err)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, id))
		want, _ := changelist.Marshal(c)
		if string(raw) != string(want) {
			t.Errorf("file = %s, want %s", raw, want)
		}
		c.ID = id
		added = append(added, c)
	}
	got, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(added, got); diff != "" {
		t.Errorf("List (-added +listed):\n%s", diff)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 5 {
		t.Errorf("%d files in the directory, want 5 (no temporary files left)", len(ents))
	}
}

// TestFileListOrderSurvivesAClockStepBack: names keep increasing within a
// process, and a list opened on a directory with changes from a clock
// ahead of ours still appends after them.
func TestFileListOrderSurvivesAClockStepBack(t *testing.T) {
	dir := t.TempDir()
	future := fmt.Sprintf("%020d_%s.change", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), "00000000-0000-4000-8000-000000000000")
	raw, _ := changelist.Marshal(targetChange(t, "targets", "future"))
	if err := os.WriteFile(filepath.Join(dir, future), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := changelist.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	changelist.SetClock(l, func() time.Time { return fixed })
	for i := range 3 {
		if _, err := l.Add(targetChange(t, "targets", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Path)
	}
	if want := []string{"future", "0", "1", "2"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

// TestFileListToleratesUnreadableEntries: like v1, unreadable entries are
// skipped, but they are reported, can be removed by ID, and Clear removes
// them. Dot files and directories are not entries.
func TestFileListToleratesUnreadableEntries(t *testing.T) {
	dir := t.TempDir()
	l, err := changelist.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	good, err := l.Add(targetChange(t, "targets", "good"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "00000000000000000001_garbage.change"), []byte("{not json"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "99999999999999999999_empty.change"), nil, 0o600))
	must(os.WriteFile(filepath.Join(dir, ".hidden"), []byte("{}"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "subdir"), 0o700))

	cs, err := l.List()
	var ue *changelist.UnreadableError
	if !errors.As(err, &ue) || !errors.Is(err, changelist.ErrUnreadable) {
		t.Fatalf("List error = %v, want *UnreadableError", err)
	}
	var bad []string
	for _, e := range ue.Entries {
		bad = append(bad, e.ID)
	}
	if want := []string{"00000000000000000001_garbage.change", "99999999999999999999_empty.change"}; !slices.Equal(bad, want) {
		t.Errorf("unreadable = %v, want %v", bad, want)
	}
	if len(cs) != 1 || cs[0].ID != good {
		t.Errorf("readable changes = %+v, want just %s", cs, good)
	}
	must(l.Remove(bad[0]))
	if _, err := os.Stat(filepath.Join(dir, bad[0])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove left %s: %v", bad[0], err)
	}
	must(l.Clear(good))
	cs, err = l.List()
	if err != nil || len(cs) != 1 || cs[0].ID != good {
		t.Errorf("after Clear(except good): %+v, %v", cs, err)
	}
	must(l.Clear())
	if cs, err := l.List(); err != nil || cs != nil {
		t.Errorf("after Clear: %+v, %v", cs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "subdir")); err != nil {
		t.Error("Clear removed a directory")
	}
}

// TestFileListStaysInsideItsDirectory: IDs cannot name anything outside,
// symbolic links are not followed out of it, and removing a link removes
// the link only.
func TestFileListStaysInsideItsDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "changelist")
	l, err := changelist.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(base, "victim.change")
	raw, _ := changelist.Marshal(targetChange(t, "targets", "victim"))
	if err := os.WriteFile(victim, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../victim.change", victim, "..", ".", "", "a/b", `..\victim.change`, ".tmp-x"} {
		if err := l.Remove(id); !errors.Is(err, changelist.ErrInvalidChange) {
			t.Errorf("Remove(%q) = %v, want refused", id, err)
		}
	}
	if err := os.Symlink(victim, filepath.Join(dir, "00000000000000000002_link.change")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink("../victim.change", filepath.Join(dir, "00000000000000000003_rel.change")); err != nil {
		t.Fatal(err)
	}
	cs, err := l.List()
	var ue *changelist.UnreadableError
	if !errors.As(err, &ue) || len(ue.Entries) != 2 || len(cs) != 0 {
		t.Errorf("List through links out of the directory = %+v, %v; want both unreadable", cs, err)
	}
	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("the link target outside the directory was removed: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("links left: %v", ents)
	}
}

func TestListsRefuseInvalidChanges(t *testing.T) {
	fl, err := changelist.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []changelist.List{fl, changelist.NewMemory()} {
		if _, err := l.Add(changelist.Change{Action: "create", Scope: "snapshot", Type: "target"}); !errors.Is(err, changelist.ErrInvalidChange) {
			t.Errorf("%s: Add invalid = %v", l.Location(), err)
		}
		if cs, err := l.List(); err != nil || cs != nil {
			t.Errorf("%s: list after refused add = %v, %v", l.Location(), cs, err)
		}
	}
}

// TestListContract runs the same operations on both Lists.
func TestListContract(t *testing.T) {
	fl, err := changelist.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []changelist.List{fl, changelist.NewMemory()} {
		t.Run(fmt.Sprintf("%T", l), func(t *testing.T) {
			var ids []string
			for i := range 4 {
				id, err := l.Add(targetChange(t, "targets", fmt.Sprint(i)))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			if !slices.IsSorted(ids) {
				t.Errorf("IDs not increasing: %v", ids)
			}
			if err := l.Remove(ids[1], "no-such-change"); err != nil {
				t.Fatal(err)
			}
			paths := func() []string {
				cs, err := l.List()
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range cs {
					out = append(out, c.Path)
				}
				return out
			}
			if got := paths(); !slices.Equal(got, []string{"0", "2", "3"}) {
				t.Errorf("after Remove: %v", got)
			}
			if err := l.Clear(ids[3]); err != nil {
				t.Fatal(err)
			}
			if got := paths(); !slices.Equal(got, []string{"3"}) {
				t.Errorf("after Clear(except 3): %v", got)
			}
			// Listed changes are copies.
			cs, _ := l.List()
			cs[0].Data[0] = 'X'
			again, _ := l.List()
			if diff := cmp.Diff(cs, again, cmpopts.EquateEmpty()); diff == "" {
				t.Error("List returned the list's own data")
			}
		})
	}
}

func TestListsAreSafeForConcurrentUse(t *testing.T) {
	fl, err := changelist.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []changelist.List{fl, changelist.NewMemory()} {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					if _, err := l.Add(targetChange(t, "targets", fmt.Sprintf("%d-%d", g, i))); err != nil {
						t.Error(err)
					}
					if _, err := l.List(); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		cs, err := l.List()
		if err != nil || len(cs) != 80 {
			t.Errorf("%T: %d changes, %v; want 80", l, len(cs), err)
		}
	}
}
