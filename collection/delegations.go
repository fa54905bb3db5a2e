package collection

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// UpdateDelegationKeys creates delegation role or edits its keys, as v1's
// Repo.UpdateDelegationKeys:
//
//   - role must be a delegation name; one of its parent's signing keys
//     must be available (the parent's metadata is what changes);
//   - a parent without metadata yet gets a new, empty one;
//   - an existing delegation loses the keys whose TUF IDs are in remove and
//     gains add; its threshold is left alone (v1 ignores threshold for an
//     existing delegation);
//   - a new delegation gets add, no paths, and threshold, which must be at
//     least 1;
//   - the parent's key map gains add and drops keys no delegation uses.
//
// A delegation left with fewer keys than its threshold is kept, with a
// warning (see Warnings), as v1 does: keys can be added later.
func (c *Collection) UpdateDelegationKeys(ctx context.Context, role string, add []keys.PublicKey, remove []string, threshold int) error {
	return c.updateDelegation(ctx, role, delegationEdit{addKeys: add, removeKeys: remove, threshold: threshold})
}

// UpdateDelegationPaths edits delegation role's paths, as v1's
// Repo.UpdateDelegationPaths: remove the listed paths, then clear all of
// them if clear is set, then add the listed ones. Added paths must fall
// under the parent's effective paths. The parent's metadata must exist;
// a delegation not listed in it is created with no keys and threshold 1
// (v1 does the same; it cannot sign until keys are added).
func (c *Collection) UpdateDelegationPaths(ctx context.Context, role string, add, remove []string, clear bool) error {
	return c.updateDelegation(ctx, role, delegationEdit{pathsOnly: true, addPaths: add, removePaths: remove, clearPaths: clear, threshold: 1})
}

type delegationEdit struct {
	pathsOnly   bool // UpdateDelegationPaths: parent metadata must exist
	addKeys     []keys.PublicKey
	removeKeys  []string
	addPaths    []string
	removePaths []string
	clearPaths  bool
	threshold   int // for a new delegation
}

// updateDelegation is v1's delegationUpdateVisitor run on role's parent.
// It validates everything before it changes anything.
func (c *Collection) updateDelegation(ctx context.Context, role string, e delegationEdit) error {
	if !tuf.IsDelegationName(role) {
		return &InvalidRoleError{Role: role, Reason: "not a valid delegated role"}
	}
	parent := path.Dir(role)
	if err := c.verifyCanSign(ctx, parent); err != nil {
		return err
	}
	var parentPaths []string
	if parent == tuf.RoleTargets {
		parentPaths = []string{""}
	} else {
		d, err := c.delegation(parent)
		if err != nil {
			return err
		}
		parentPaths = d.Paths
	}
	pr, ok := c.targets[parent]
	if !ok && e.pathsOnly {
		return &InvalidRoleError{Role: role, Reason: "no valid delegated role exists"}
	}
	if len(tuf.RestrictPaths(parentPaths, e.addPaths)) != len(e.addPaths) {
		return &InvalidRoleError{Role: role, Reason: "invalid paths to add to role"}
	}

	var (
		existing = -1
		dr       *tuf.DelegationRole
	)
	if ok {
		existing = slices.IndexFunc(pr.t.Delegations.Roles, func(r *tuf.DelegationRole) bool { return r != nil && r.Name == role })
	}
	addIDs := make([]string, 0, len(e.addKeys))
	for _, k := range e.addKeys {
		if k.Type == "" || len(k.Public) == 0 {
			return &InvalidRoleError{Role: role, Reason: "empty key"}
		}
		if id := k.ID(); !slices.Contains(addIDs, id) {
			addIDs = append(addIDs, id)
		}
	}
	if existing >= 0 {
		// v1 works on a copy: remove paths, clear, add paths, remove keys.
		old := pr.t.Delegations.Roles[existing]
		dr = &tuf.DelegationRole{
			KeyIDs:    slices.Clone(old.KeyIDs),
			Name:      old.Name,
			Paths:     slices.Clone(old.Paths),
			Threshold: old.Threshold,
		}
		dr.Paths = subtract(dr.Paths, e.removePaths)
		if e.clearPaths {
			dr.Paths = []string{}
		}
		dr.Paths = merge(dr.Paths, e.addPaths)
		dr.KeyIDs = subtract(dr.KeyIDs, e.removeKeys)
	} else {
		// v1 data.NewRole: threshold >= 1; key IDs from the added keys
		// (a non-nil list, so "keyids":[] when there are none).
		if e.threshold < 1 {
			return &InvalidRoleError{Role: role, Reason: "a new delegation needs a threshold of at least 1"}
		}
		dr = &tuf.DelegationRole{KeyIDs: addIDs, Name: role, Paths: slices.Clone(e.addPaths), Threshold: e.threshold}
	}
	if len(dr.Paths) > tuf.MaxDelegationPaths {
		// clients and servers refuse such metadata (tuf.MaxDelegationPaths)
		return &InvalidRoleError{Role: role, Reason: fmt.Sprintf("%d paths, more than the %d a delegation may list", len(dr.Paths), tuf.MaxDelegationPaths)}
	}
	for _, id := range addIDs {
		if !slices.Contains(dr.KeyIDs, id) {
			dr.KeyIDs = append(dr.KeyIDs, id)
		}
	}
	// One key under two IDs (a plain key and a certificate for it) would
	// count once toward the threshold while looking like two (issue 18).
	// Checked when keys are added, so that a role already holding such a
	// pair can still be edited (and the pair removed).
	if len(e.addKeys) > 0 {
		known := make(map[string]keys.PublicKey, len(e.addKeys))
		if ok {
			maps.Copy(known, pr.t.Delegations.Keys)
		}
		for _, k := range e.addKeys {
			known[k.ID()] = k
		}
		if err := tuf.CheckDistinctKeys(role, known, dr.KeyIDs); err != nil {
			return err
		}
	}
	if len(dr.KeyIDs) < dr.Threshold {
		c.warn(&UnderThresholdWarning{Role: role, Threshold: dr.Threshold})
	}

	// Commit.
	if !ok {
		pr = &targetsRole{t: newTargets(), dirty: true}
		c.targets[parent] = pr
	}
	if pr.t.Delegations.Keys == nil {
		pr.t.Delegations.Keys = map[string]keys.PublicKey{}
	}
	for _, k := range e.addKeys {
		pr.t.Delegations.Keys[k.ID()] = k
	}
	if existing >= 0 {
		pr.t.Delegations.Roles[existing] = dr
	} else {
		pr.t.Delegations.Roles = append(pr.t.Delegations.Roles, dr)
	}
	pr.dirty = true
	removeUnusedKeys(pr.t)
	return nil
}

// DeleteDelegation removes delegation role, as v1's Repo.DeleteDelegation:
// one of the parent's signing keys must be available; the role's metadata
// and its snapshot entry are dropped; the parent stops listing it and
// drops keys no other delegation uses. Deleting a delegation the parent
// does not list is not an error. The role's own delegations are left in
// place (as in v1), unreachable.
func (c *Collection) DeleteDelegation(ctx context.Context, role string) error {
	if !tuf.IsDelegationName(role) {
		return &InvalidRoleError{Role: role, Reason: "not a valid delegated role"}
	}
	parent := path.Dir(role)
	if err := c.verifyCanSign(ctx, parent); err != nil {
		return err
	}
	delete(c.targets, role)
	delete(c.invalid, role)
	if c.snapshot != nil {
		delete(c.snapshot.Meta, role)
	}
	pr, ok := c.targets[parent]
	if !ok {
		return nil
	}
	i := slices.IndexFunc(pr.t.Delegations.Roles, func(r *tuf.DelegationRole) bool { return r != nil && r.Name == role })
	if i < 0 {
		return nil
	}
	// v1 rebuilds the list from nil, so deleting the last delegation
	// writes "roles":null.
	var roles []*tuf.DelegationRole
	roles = append(roles, pr.t.Delegations.Roles[:i]...)
	roles = append(roles, pr.t.Delegations.Roles[i+1:]...)
	pr.t.Delegations.Roles = roles
	removeUnusedKeys(pr.t)
	pr.dirty = true
	return nil
}

// PurgeDelegationKeys removes the keys with the given canonical IDs from
// every delegation in the subtree wildcard names ("targets/*" for all
// delegations, "targets/a/*" for those below targets/a), as v1's
// Repo.PurgeDelegationKeys. Each targets role at or below the wildcard's
// parent that lists such a key in its delegations is edited if one of its
// signing keys is available; otherwise it is skipped with a warning (v1
// logs it and goes on).
func (c *Collection) PurgeDelegationKeys(ctx context.Context, wildcard string, canonicalIDs []string) error {
	if !tuf.IsWildcardName(wildcard) {
		return &InvalidRoleError{Role: wildcard, Reason: "only wildcard roles can be used in a purge"}
	}
	purge := make(map[string]bool, len(canonicalIDs))
	for _, id := range canonicalIDs {
		purge[id] = true
	}
	// Work on a copy so that an error half way changes nothing.
	n := c.clone()
	if err := n.purge(ctx, path.Dir(wildcard), purge); err != nil {
		return err
	}
	*c = *n
	return nil
}

func (c *Collection) purge(ctx context.Context, start string, purge map[string]bool) error {
	return c.walk(start, func(d tuf.Delegation, r *targetsRole) error {
		var doomed []string
		for id, k := range r.t.Delegations.Keys {
			cid, err := c.kc.canonicalID(id, k)
			if err != nil {
				return &InvalidRoleError{Role: d.Name, Reason: "delegation key " + id, Err: err}
			}
			if purge[cid] {
				doomed = append(doomed, id)
			}
		}
		if len(doomed) == 0 {
			return nil
		}
		if err := c.verifyCanSign(ctx, d.Name); err != nil {
			c.warn(&PurgeSkippedWarning{Role: d.Name, Err: err})
			return nil
		}
		for _, id := range doomed {
			delete(r.t.Delegations.Keys, id)
		}
		for _, dr := range r.t.Delegations.Roles {
			if dr == nil {
				continue
			}
			dr.KeyIDs = subtract(dr.KeyIDs, doomed)
			if len(dr.KeyIDs) < dr.Threshold {
				c.warn(&UnderThresholdWarning{Role: dr.Name, Threshold: dr.Threshold})
			}
		}
		r.dirty = true
		return nil
	})
}

// removeUnusedKeys is v1's utils.RemoveUnusedKeys: drop delegation keys
// no delegation role lists.
func removeUnusedKeys(t *tuf.Targets) {
	used := map[string]bool{}
	for _, r := range t.Delegations.Roles {
		if r == nil {
			continue
		}
		for _, id := range r.KeyIDs {
			used[id] = true
		}
	}
	for id := range t.Delegations.Keys {
		if !used[id] {
			delete(t.Delegations.Keys, id)
		}
	}
}

// subtract is v1's subtractStrSlices: the result is nil when nothing is
// left, which v1 writes as "keyids":null.
func subtract(orig, remove []string) []string {
	kill := make(map[string]bool, len(remove))
	for _, e := range remove {
		kill[e] = true
	}
	var keep []string
	for _, e := range orig {
		if !kill[e] {
			keep = append(keep, e)
		}
	}
	return keep
}

// merge is v1's mergeStrSlices behind Role.AddPaths: nothing to add leaves
// the list as it is.
func merge(orig, add []string) []string {
	if len(add) == 0 {
		return orig
	}
	have := make(map[string]bool, len(orig))
	for _, e := range orig {
		have[e] = true
	}
	out := make([]string, len(orig), len(orig)+len(add))
	copy(out, orig)
	for _, e := range add {
		if !have[e] { // v1 does not dedupe within add
			out = append(out, e)
		}
	}
	return out
}
