package tuf

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/notary-go/notary/keys"
)

// TestRestrictPaths: v1 RestrictDelegationPathPrefixes.
func TestRestrictPaths(t *testing.T) {
	tests := []struct {
		name          string
		parent, child []string
		want          []string
	}{
		{"AllowAll", []string{""}, []string{"a/", "b"}, []string{"a/", "b"}},
		{"Narrowed", []string{"a/"}, []string{"a/b", "b/", "a/"}, []string{"a/b", "a/"}},
		{"Wider child dropped", []string{"a/b"}, []string{"a/"}, []string{}},
		{"Empty child", []string{""}, nil, []string{}},
		{"Empty parent", nil, []string{""}, []string{}},
		{"Empty string child needs empty parent", []string{"a"}, []string{""}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RestrictPaths(tc.parent, tc.child); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPathAllowed(t *testing.T) {
	tests := []struct {
		paths []string
		name  string
		want  bool
	}{
		{[]string{""}, "anything", true},
		{[]string{"qa/"}, "qa/tool", true},
		{[]string{"qa/"}, "qa", false},
		{[]string{"qa/"}, "QA/tool", false},
		{[]string{"a", "b"}, "bee", true},
		{nil, "x", false},
		{[]string{}, "", false},
	}
	for _, tc := range tests {
		if got := PathAllowed(tc.paths, tc.name); got != tc.want {
			t.Errorf("PathAllowed(%q, %q) = %v, want %v", tc.paths, tc.name, got, tc.want)
		}
	}
}

// TestPathSetMatchesLinearScan: a PathSet answers exactly as v1's linear
// prefix scan, for random path lists over a small alphabet (so prefixes,
// duplicates and "" are common).
func TestPathSetMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 4))
	word := func() string {
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = "ab/"[rng.IntN(3)]
		}
		return string(b)
	}
	linear := func(paths []string, name string) bool {
		for _, p := range paths {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	for range 2000 {
		paths := make([]string, rng.IntN(6))
		for i := range paths {
			paths[i] = word()
		}
		set := NewPathSet(paths)
		for range 20 {
			name := word()
			if got, want := set.Allows(name), linear(paths, name); got != want {
				t.Fatalf("NewPathSet(%q).Allows(%q) = %v, want %v", paths, name, got, want)
			}
		}
	}
}

// delegate adds a delegation to parent and returns its key.
func delegate(t *testing.T, parent *Targets, name string, paths ...string) *keys.PrivateKey {
	k := newKey(t, keys.ED25519)
	parent.Delegations.Keys[k.ID()] = k.Public()
	parent.Delegations.Roles = append(parent.Delegations.Roles, &DelegationRole{Name: name, KeyIDs: []string{k.ID()}, Threshold: 1, Paths: paths})
	return k
}

// TestWalkOrder: v1 visits roles in a pre-order depth-first walk, children
// in array order, restricting paths on the way down (v1 §1.4, §4.4).
func TestWalkOrder(t *testing.T) {
	ks := newTestKeys(t)
	root := ks.root(1)
	top := targetsBody(1)
	delegate(t, top, "targets/b", "")
	delegate(t, top, "targets/a", "a/")
	a := targetsBody(1)
	delegate(t, a, "targets/a/y", "a/y/", "b/")
	delegate(t, a, "targets/a/x", "")
	b := targetsBody(1)
	delegate(t, b, "targets/b/z", "")
	delegate(t, b, "targets/a/q", "") // not b's child: left out
	files := map[string]*Targets{RoleTargets: top, "targets/a": a, "targets/b": b}

	w, err := NewWalk(root)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	paths := map[string][]string{}
	for d, ok := w.Next(); ok; d, ok = w.Next() {
		order = append(order, d.Name)
		paths[d.Name] = d.Paths
		if f := files[d.Name]; f != nil {
			w.Expand(d, f)
		}
	}
	want := []string{"targets", "targets/b", "targets/b/z", "targets/a", "targets/a/y", "targets/a/x"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
	wantPaths := map[string][]string{
		"targets":     {""},
		"targets/b":   {""},
		"targets/b/z": {""},
		"targets/a":   {"a/"},
		"targets/a/y": {"a/y/"},
		"targets/a/x": {},
	}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Fatalf("paths %q, want %q", paths, wantPaths)
	}
	if _, ok := w.Next(); ok {
		t.Fatal("walk did not end")
	}
}

// TestWalkVisitsOnce: expanding the same role twice does not revisit it.
func TestWalkVisitsOnce(t *testing.T) {
	ks := newTestKeys(t)
	top := targetsBody(1)
	delegate(t, top, "targets/a", "")
	w, _ := NewWalk(ks.root(1))
	d, _ := w.Next()
	w.Expand(d, top)
	w.Expand(d, top)
	n := 0
	for _, ok := w.Next(); ok; _, ok = w.Next() {
		n++
	}
	if n != 1 {
		t.Fatalf("visited %d roles, want 1", n)
	}
}

func TestDelegatedRole(t *testing.T) {
	top := targetsBody(1)
	k := delegate(t, top, "targets/a", "x/")
	d, err := top.DelegatedRole("targets/a")
	if err != nil || d.Threshold != 1 || d.Keys[k.ID()].Type != keys.ED25519 || !d.PathAllowed("x/1") || d.PathAllowed("y") {
		t.Fatalf("got %+v, %v", d, err)
	}
	if _, err := top.DelegatedRole("targets/b"); !errors.Is(err, ErrNoSuchRole) {
		t.Fatalf("err = %v", err)
	}
	// A delegation file signed by its key verifies through the entry.
	env := mustEnvelope(t, signFile(t, targetsBody(1), k))
	if err := d.Verify(env); err != nil {
		t.Fatal(err)
	}
}
