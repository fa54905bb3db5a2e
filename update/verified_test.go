package update_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// delegationTree publishes:
//
//	targets                 shared, top
//	├── targets/a  [a/]     a/1, shared, b/x (outside its paths), a/c/2
//	│   └── targets/a/c  [a/c/, z/]  (z/ is outside a/, so effective [a/c/])
//	│                        a/c/1, a/c/2, z/1, a/other
//	├── targets/b  [""]     a/1, a/c/2, b/1, b/x
//	└── targets/u  [u/]     delegated, never published
func delegationTree(t testing.TB) *update.Verified {
	t.Helper()
	sim := tuftest.New(gun)
	add := func(role string, names ...string) {
		for _, n := range names {
			sim.AddTarget(role, n, []byte(role+":"+n))
		}
	}
	add(tuf.RoleTargets, "shared", "top")
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "a/")
	add("targets/a", "a/1", "shared", "b/x")
	sim.AddDelegation("targets/a", "targets/a/c", "a/c/", "z/")
	add("targets/a/c", "a/c/1", "a/c/2", "z/1", "a/other")
	sim.AddDelegation(tuf.RoleTargets, "targets/b", "")
	add("targets/b", "a/1", "a/c/2", "b/1", "b/x")
	sim.DelegateOnly(tuf.RoleTargets, "targets/u", "u/")
	sim.Publish()
	repo, err := newUpdater(t, sim, update.NewMemoryCache(), nil).Update(context.Background(), sim.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestLookup(t *testing.T) {
	repo := delegationTree(t)
	tests := []struct {
		name   string
		target string
		roles  []string
		want   string // role that wins; "" for not found
	}{
		{name: "top level wins over delegations", target: "shared", want: "targets"},
		{name: "first delegation in array order", target: "a/1", want: "targets/a"},
		{name: "pre-order: nested child before later sibling", target: "a/c/2", want: "targets/a/c"},
		{name: "nested", target: "a/c/1", want: "targets/a/c"},
		{name: "outside the role's own paths falls through", target: "b/x", want: "targets/b"},
		{name: "outside the paths the parent allows", target: "z/1", want: ""},
		{name: "outside the child's paths", target: "a/other", want: ""},
		{name: "only in a later sibling", target: "b/1", want: "targets/b"},
		{name: "unknown", target: "nope", want: ""},
		{name: "walk from a delegation", target: "a/1", roles: []string{"targets/b"}, want: "targets/b"},
		{name: "walk from a nested delegation", target: "a/c/2", roles: []string{"targets/a/c"}, want: "targets/a/c"},
		{name: "walk from a role without it", target: "top", roles: []string{"targets/a"}, want: ""},
		{name: "roles in turn", target: "a/1", roles: []string{"targets/b", "targets"}, want: "targets/b"},
		{name: "other listed roles are skipped", target: "a/c/2", roles: []string{"targets", "targets/a"}, want: "targets/b"},
		{name: "unpublished delegation", target: "u/1", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := repo.Lookup(tc.target, tc.roles...)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Lookup(%q) = %+v, want not found", tc.target, got)
				}
				asErr[*update.TargetNotFoundError](t, err)
				return
			}
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tc.target, err)
			}
			if got.Role != tc.want || got.Name != tc.target {
				t.Errorf("Lookup(%q) = %s in %s, want %s", tc.target, got.Name, got.Role, tc.want)
			}
			if err := got.Meta.Check([]byte(got.Role + ":" + tc.target)); err != nil {
				t.Errorf("meta of %s does not come from %s: %v", tc.target, got.Role, err)
			}
		})
	}
}

func TestListTargets(t *testing.T) {
	repo := delegationTree(t)
	tests := []struct {
		name  string
		roles []string
		want  map[string]string
	}{
		{
			name: "all",
			want: map[string]string{
				"shared": "targets", "top": "targets",
				"a/1": "targets/a", "a/c/1": "targets/a/c", "a/c/2": "targets/a/c",
				"b/1": "targets/b", "b/x": "targets/b",
			},
		},
		{
			name:  "one delegation",
			roles: []string{"targets/b"},
			want:  map[string]string{"a/1": "targets/b", "a/c/2": "targets/b", "b/1": "targets/b", "b/x": "targets/b"},
		},
		{
			name:  "subtree",
			roles: []string{"targets/a"},
			// "shared" and "b/x" are outside targets/a's paths
			want: map[string]string{"a/1": "targets/a", "a/c/1": "targets/a/c", "a/c/2": "targets/a/c"},
		},
		{
			name:  "roles in priority order, skipping each other",
			roles: []string{"targets/a", "targets"},
			want: map[string]string{
				"a/1": "targets/a", "a/c/1": "targets/a/c", "a/c/2": "targets/a/c",
				"shared": "targets", "top": "targets", "b/1": "targets/b", "b/x": "targets/b",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			var order []string
			for _, tg := range repo.ListTargets(tc.roles...) {
				got[tg.Name] = tg.Role
				order = append(order, tg.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ListTargets(%v) (-want +got):\n%s", tc.roles, diff)
			}
			for i := 1; i < len(order); i++ {
				if order[i-1] >= order[i] {
					t.Errorf("not sorted by name: %v", order)
					break
				}
			}
		})
	}
}

func TestDelegations(t *testing.T) {
	repo := delegationTree(t)
	type row struct {
		Name, Parent    string
		Paths, Eff      []string
		Status          update.DelegationStatus
		Threshold, Keys int
	}
	var got []row
	for _, d := range repo.Delegations() {
		got = append(got, row{d.Name, d.Parent, d.Paths, d.EffectivePaths, d.Status, d.Threshold, len(d.Keys)})
	}
	want := []row{
		{"targets/a", "targets", []string{"a/"}, []string{"a/"}, update.DelegationLoaded, 1, 1},
		{"targets/b", "targets", []string{""}, []string{""}, update.DelegationLoaded, 1, 1},
		{"targets/u", "targets", []string{"u/"}, []string{"u/"}, update.DelegationUnpublished, 1, 1},
		{"targets/a/c", "targets/a", []string{"a/c/", "z/"}, []string{"a/c/"}, update.DelegationLoaded, 1, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Delegations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"targets", "targets/a", "targets/a/c", "targets/b"}, repo.Roles()); diff != "" {
		t.Errorf("Roles (pre-order) (-want +got):\n%s", diff)
	}
}
