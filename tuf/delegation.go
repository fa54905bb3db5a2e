package tuf

import "strings"

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
		if r == nil || r.Name != name {
			continue
		}
		m, err := pickKeys(ParentRole(name), "delegations.roles."+name, t.Delegations.Keys, r.KeyIDs)
		if err != nil {
			return Delegation{}, err
		}
		return Delegation{
			RoleKeys: RoleKeys{Name: name, KeyIDs: r.KeyIDs, Keys: m, Threshold: r.Threshold},
			Paths:    r.Paths,
		}, nil
	}
	return Delegation{}, &NoSuchRoleError{Role: name, Parent: ParentRole(name)}
}

// PathAllowed reports whether target name falls under one of the paths
// (a plain prefix match; v1 checkPaths). An empty path list allows nothing.
func PathAllowed(paths []string, name string) bool {
	for _, p := range paths {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// PathAllowed reports whether the delegation may sign for target name.
func (d Delegation) PathAllowed(name string) bool { return PathAllowed(d.Paths, name) }

// RestrictPaths returns the child paths that have a prefix among the
// parent's effective paths, in the child's order (v1
// RestrictDelegationPathPrefixes). It never returns nil.
func RestrictPaths(parent, child []string) []string {
	out := []string{}
	for _, c := range child {
		if PathAllowed(parent, c) {
			out = append(out, c)
		}
	}
	return out
}

// Restrict returns child with its paths limited to those d allows, as if
// it were delegated directly (v1 DelegationRole.Restrict). ok is false when
// child is not a direct child of d.
func (d Delegation) Restrict(child Delegation) (Delegation, bool) {
	if !IsDirectChild(d.Name, child.Name) {
		return Delegation{}, false
	}
	child.Paths = RestrictPaths(d.Paths, child.Paths)
	return child, true
}

// Children returns the delegations t makes, in array order, with paths
// restricted by parent's effective paths (v1 GetValidDelegations). t must
// be parent's metadata. Entries that are not direct children of parent or
// that name a key t does not hold are left out.
func (t *Targets) Children(parent Delegation) []Delegation {
	out := make([]Delegation, 0, len(t.Delegations.Roles))
	for _, r := range t.Delegations.Roles {
		if r == nil {
			continue
		}
		d, err := t.DelegatedRole(r.Name)
		if err != nil {
			continue
		}
		if c, ok := parent.Restrict(d); ok {
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
