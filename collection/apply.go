package collection

import (
	"context"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/tuf"
)

// ApplyChanges applies a changelist in order, as v1's publish does
// (client/helpers.go applyChangelist):
//
//   - scope "targets", a delegation or a wildcard delegation:
//   - type "target": create adds the target (AddTarget), delete removes
//     it (RemoveTarget);
//   - type "delegation": create adds keys (creating the delegation with
//     the change's threshold) and then paths (UpdateDelegationKeys,
//     UpdateDelegationPaths); update on a wildcard purges the listed
//     canonical key IDs from the subtree (PurgeDelegationKeys), and
//     otherwise removes keys (given by canonical ID), adds keys, and
//     removes, clears and adds paths; delete removes the delegation
//     (DeleteDelegation);
//   - type "witness": Witness, whatever the action;
//   - scope "root", type "role", action create: ReplaceBaseKeys.
//
// Anything else is an *UnsupportedChangeError, and undecodable data an
// error wrapping changelist.ErrInvalidChange. As in v1, the first change
// that fails stops everything: the publish must not go ahead, since the
// changelist would be cleared after it. Unlike v1, which leaves its Repo
// half edited, ApplyChanges then leaves the collection unchanged. The
// error is a *ChangeError naming the change.
//
// One deliberate difference: v1 ignores a delegation change's new_name
// (no v1 code renames a delegation, and no v1 client writes it); it is
// refused here rather than silently dropped.
func (c *Collection) ApplyChanges(ctx context.Context, changes []changelist.Change) error {
	if len(changes) == 0 {
		return nil
	}
	n := c.clone()
	for i, ch := range changes {
		if err := n.apply(ctx, ch); err != nil {
			return &ChangeError{Index: i, Change: ch, Err: err}
		}
	}
	*c = *n
	return nil
}

func (c *Collection) apply(ctx context.Context, ch changelist.Change) error {
	switch {
	case ch.Scope == changelist.ScopeTargets || tuf.IsDelegationName(ch.Scope) || tuf.IsWildcardName(ch.Scope):
		switch ch.Type {
		case changelist.TypeTarget:
			return c.applyTarget(ctx, ch)
		case changelist.TypeDelegation:
			return c.applyDelegation(ctx, ch)
		case changelist.TypeWitness:
			return c.Witness(ch.Scope)
		}
		return &UnsupportedChangeError{Field: "type", Value: ch.Type}
	case ch.Scope == changelist.ScopeRoot:
		if ch.Type != changelist.TypeBaseRole {
			return &UnsupportedChangeError{Field: "type", Value: ch.Type}
		}
		if ch.Action != changelist.ActionCreate {
			return &UnsupportedChangeError{Field: "action", Value: ch.Action}
		}
		d, err := ch.RootRole()
		if err != nil {
			return err
		}
		return c.ReplaceBaseKeys(d.RoleName, d.Keys...)
	}
	return &UnsupportedChangeError{Field: "role", Value: ch.Scope}
}

func (c *Collection) applyTarget(ctx context.Context, ch changelist.Change) error {
	switch ch.Action {
	case changelist.ActionCreate:
		meta, err := ch.TargetMeta()
		if err != nil {
			return err
		}
		return c.AddTarget(ctx, ch.Scope, ch.Path, meta)
	case changelist.ActionDelete:
		return c.RemoveTarget(ctx, ch.Scope, ch.Path)
	}
	return &UnsupportedChangeError{Field: "action", Value: ch.Action}
}

func (c *Collection) applyDelegation(ctx context.Context, ch changelist.Change) error {
	switch ch.Action {
	case changelist.ActionCreate:
		td, err := ch.Delegation()
		if err != nil {
			return err
		}
		if td.NewName != "" {
			return &UnsupportedChangeError{Field: "new_name", Value: td.NewName}
		}
		if err := c.UpdateDelegationKeys(ctx, ch.Scope, td.AddKeys, nil, td.NewThreshold); err != nil {
			return err
		}
		return c.UpdateDelegationPaths(ctx, ch.Scope, td.AddPaths, nil, false)
	case changelist.ActionUpdate:
		td, err := ch.Delegation()
		if err != nil {
			return err
		}
		if td.NewName != "" {
			return &UnsupportedChangeError{Field: "new_name", Value: td.NewName}
		}
		if tuf.IsWildcardName(ch.Scope) {
			return c.PurgeDelegationKeys(ctx, ch.Scope, td.RemoveKeys)
		}
		d, err := c.delegation(ch.Scope)
		if err != nil {
			return err
		}
		// Removals name canonical IDs; the delegation lists TUF IDs. An
		// ID the role does not have removes nothing.
		byCanonical := make(map[string]string, len(d.Keys))
		for id, k := range d.Keys {
			cid, err := c.kc.canonicalID(id, k)
			if err != nil {
				return &InvalidRoleError{Role: ch.Scope, Reason: "delegation key " + id, Err: err}
			}
			byCanonical[cid] = id
		}
		remove := make([]string, 0, len(td.RemoveKeys))
		for _, cid := range td.RemoveKeys {
			if id, ok := byCanonical[cid]; ok {
				remove = append(remove, id)
			}
		}
		if err := c.UpdateDelegationKeys(ctx, ch.Scope, td.AddKeys, remove, td.NewThreshold); err != nil {
			return err
		}
		return c.UpdateDelegationPaths(ctx, ch.Scope, td.AddPaths, td.RemovePaths, td.ClearAllPaths)
	case changelist.ActionDelete:
		return c.DeleteDelegation(ctx, ch.Scope)
	}
	return &UnsupportedChangeError{Field: "action", Value: ch.Action}
}

// Witness marks targets role role to be re-signed unchanged on the next
// Sign, as v1's witness change does (client/witness.go witnessTargets):
// a role the collection holds is marked dirty; a delegation that failed
// verification (Trusted.Invalid) and that now has at least as many keys
// as its threshold is revived and marked dirty; anything else is an
// *InvalidRoleError.
func (c *Collection) Witness(role string) error {
	if r, ok := c.targets[role]; ok {
		r.dirty = true
		return nil
	}
	if d, err := c.delegation(role); err == nil {
		if d.Threshold > len(d.Keys) {
			return &InvalidRoleError{Role: role, Reason: "role does not specify enough valid signing keys to meet its required threshold"}
		}
		if r, ok := c.invalid[role]; ok {
			delete(c.invalid, role)
			r.dirty = true
			c.targets[role] = r
			return nil
		}
	}
	return &InvalidRoleError{Role: role, Reason: "this role is not known"}
}

// MarkDirty makes the next Sign re-sign role ("root", or a targets role
// the collection holds) even if it did not change. v1 has no such edit for
// root; Witness is the v1 changelist's way for targets roles.
func (c *Collection) MarkDirty(role string) error {
	if role == tuf.RoleRoot {
		c.rootDirty = true
		return nil
	}
	if r, ok := c.targets[role]; ok {
		r.dirty = true
		return nil
	}
	return &InvalidRoleError{Role: role, Reason: "no metadata held for this role"}
}
