package tuf

import (
	"slices"
	"strings"
)

// A Delegation is a targets role as reached through its parent: its keys
// and threshold, and its paths. Paths are plain string prefixes; "" allows
// every target name (v1 §1.4).
type Delegation struct {
	RoleKeys
	Paths []string
}

// DelegatedRole returns the delegation entry for name in t, a targets file
// that must be name's parent. Paths are as listed, not restricted by t's
// own paths (see Restrict). An unlisted name is a *NoSuchRoleError.
func (t *Targets) DelegatedRole(name string) (Delegation, error) {
	for _, r := range t.Delegations.Roles {
		if r != nil && r.Name == name {
			return t.delegation(r)
		}
	}
	return Delegation{}, &NoSuchRoleError{Role: name, Parent: ParentRole(name)}
}

// delegation resolves entry r of t's delegations to its keys.
func (t *Targets) delegation(r *DelegationRole) (Delegation, error) {
	m, err := pickKeys(ParentRole(r.Name), "delegations.roles."+r.Name, t.Delegations.Keys, r.KeyIDs)
	if err != nil {
		return Delegation{}, err
	}
	return Delegation{
		RoleKeys: RoleKeys{Name: r.Name, KeyIDs: r.KeyIDs, Keys: m, Threshold: r.Threshold},
		Paths:    r.Paths,
	}, nil
}

// MaxDelegationPaths caps the paths one delegation may list. v1 has no
// cap; without one, a delegation chain with tens of thousands of paths
// cost every client seconds per update (docs/security.md).
// Path checks are O(log n) through a PathSet, so the cap only bounds the
// memory and parse time of a single entry; it is far above what real
// collections use (Docker's signer delegations list [""]).
const MaxDelegationPaths = 10000

// A PathSet is a list of delegation paths prepared for lookups: sorted,
// with every path that has another as a prefix left out, since it allows
// nothing more. Then the only candidate prefix of a name is the greatest
// path not above it, found by binary search. The zero PathSet allows
// nothing. A PathSet is immutable and safe for concurrent use.
type PathSet struct {
	prefixes []string
}

// NewPathSet prepares paths, in O(n log n).
func NewPathSet(paths []string) PathSet {
	sorted := slices.Clone(paths)
	slices.Sort(sorted)
	out := sorted[:0]
	for _, p := range sorted {
		// sorted order puts a prefix right before the paths it covers
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return PathSet{prefixes: out}
}

// Allows reports whether name falls under one of the paths (a plain
// prefix match; v1 checkPaths), in O(log n).
func (s PathSet) Allows(name string) bool {
	i, found := slices.BinarySearch(s.prefixes, name)
	if found {
		return true
	}
	// In a prefix-free sorted list, a prefix of name is the greatest
	// element below it: anything between would have to share that prefix.
	return i > 0 && strings.HasPrefix(name, s.prefixes[i-1])
}

// PathAllowed reports whether target name falls under one of the paths
// (a plain prefix match; v1 checkPaths). An empty path list allows
// nothing. To check many names against one list, make a PathSet once.
func PathAllowed(paths []string, name string) bool {
	return NewPathSet(paths).Allows(name)
}

// PathAllowed reports whether the delegation may sign for target name.
func (d Delegation) PathAllowed(name string) bool { return PathAllowed(d.Paths, name) }

// RestrictPaths returns the child paths that have a prefix among the
// parent's effective paths, in the child's order (v1
// RestrictDelegationPathPrefixes), in O((n+m) log n). It never returns
// nil.
func RestrictPaths(parent, child []string) []string {
	allowed := NewPathSet(parent)
	out := []string{}
	for _, c := range child {
		if allowed.Allows(c) {
			out = append(out, c)
		}
	}
	return out
}

// Restrict returns child with its paths limited to those d allows, as if
// it were delegated directly (v1 DelegationRole.Restrict). ok is false when
// child is not a direct child of d.
func (d Delegation) Restrict(child Delegation) (Delegation, bool) {
	return d.restrict(NewPathSet(d.Paths), child)
}

// restrict is Restrict with d's paths already prepared as allowed.
func (d Delegation) restrict(allowed PathSet, child Delegation) (Delegation, bool) {
	if !IsDirectChild(d.Name, child.Name) {
		return Delegation{}, false
	}
	paths := []string{}
	for _, p := range child.Paths {
		if allowed.Allows(p) {
			paths = append(paths, p)
		}
	}
	child.Paths = paths
	return child, true
}

// Children returns the delegations t makes, in array order, with paths
// restricted by parent's effective paths (v1 GetValidDelegations). t must
// be parent's metadata. Entries that are not direct children of parent or
// that name a key t does not hold are left out. parent's paths are
// prepared once, so this is O((n+m) log n) for n parent and m child paths.
func (t *Targets) Children(parent Delegation) []Delegation {
	allowed := NewPathSet(parent.Paths)
	out := make([]Delegation, 0, len(t.Delegations.Roles))
	seen := make(map[string]bool, len(t.Delegations.Roles))
	for _, r := range t.Delegations.Roles {
		if r == nil || seen[r.Name] {
			continue // the first entry of a name is the one DelegatedRole finds
		}
		seen[r.Name] = true
		d, err := t.delegation(r)
		if err != nil {
			continue
		}
		if c, ok := parent.restrict(allowed, d); ok {
			out = append(out, c)
		}
	}
	return out
}

// A Walk yields targets roles in v1's priority order: a pre-order
// depth-first walk that starts at "targets" (paths [""]) and visits each
// role's delegations in array order (v1 §1.4, client downloadTargets). The
// caller does the I/O: after Next returns a role, it loads and verifies
// that role's metadata and, to descend, calls Expand; a role that is
// missing, invalid, or whose paths exclude the target sought is simply not
// expanded. A Walk visits each name at most once. It is not safe for
// concurrent use.
type Walk struct {
	stack []Delegation
	seen  map[string]bool
}

// NewWalk starts a walk at the top-level targets role, whose keys and
// threshold come from root.
func NewWalk(root *Root) (*Walk, error) {
	rk, err := root.RoleKeys(RoleTargets)
	if err != nil {
		return nil, err
	}
	return &Walk{
		stack: []Delegation{{RoleKeys: rk, Paths: []string{""}}},
		seen:  map[string]bool{},
	}, nil
}

// Next returns the next role to visit, or false when the walk is over.
func (w *Walk) Next() (Delegation, bool) {
	for len(w.stack) > 0 {
		d := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		if w.seen[d.Name] {
			continue
		}
		w.seen[d.Name] = true
		return d, true
	}
	return Delegation{}, false
}

// Expand queues the children of d, whose verified metadata is t, so that
// they are visited next, in array order, before any sibling of d.
func (w *Walk) Expand(d Delegation, t *Targets) {
	children := t.Children(d)
	for i := len(children) - 1; i >= 0; i-- {
		w.stack = append(w.stack, children[i])
	}
}
