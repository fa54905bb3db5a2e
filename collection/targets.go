package collection

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/notary-go/notary/tuf"
)

// delegation resolves a delegated role as v1's Repo.GetDelegationRole
// does: walking down from targets through the metadata the collection
// holds, each step through the parent's delegation entry, so the role
// exists only if every ancestor's metadata is loaded and delegates the
// next one. The returned paths are the role's effective paths: its own,
// narrowed by every ancestor's (v1 §1.4). x509 delegation keys must pass
// v1's certificate checks (keyCache.certCheck).
func (c *Collection) delegation(name string) (tuf.Delegation, error) {
	if !tuf.IsDelegationName(name) {
		return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "invalid delegation name"}
	}
	top, err := c.root.RoleKeys(tuf.RoleTargets)
	if err != nil {
		return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "root does not define targets", Err: err}
	}
	cur := tuf.Delegation{RoleKeys: top, Paths: []string{""}}
	segs := strings.Split(strings.TrimPrefix(name, tuf.RoleTargets+"/"), "/")
	for i := range segs {
		child := tuf.RoleTargets + "/" + strings.Join(segs[:i+1], "/")
		parent, ok := c.targets[cur.Name]
		if !ok {
			return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "delegation does not exist"}
		}
		d, err := parent.t.DelegatedRole(child)
		if err != nil {
			if errors.Is(err, tuf.ErrNoSuchRole) {
				return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "delegation does not exist"}
			}
			return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "delegation is unusable", Err: err}
		}
		cur, _ = cur.Restrict(d)
	}
	for _, id := range cur.KeyIDs {
		if err := c.kc.certCheck(id, cur.Keys[id]); err != nil {
			return tuf.Delegation{}, &InvalidRoleError{Role: name, Reason: "delegation key " + id, Err: err}
		}
	}
	return cur, nil
}

// roleKeys returns the keys and threshold that sign role: root's entry for
// a base role, the parent's delegation entry for a delegated role.
func (c *Collection) roleKeys(role string) (tuf.RoleKeys, error) {
	if tuf.IsDelegationName(role) {
		d, err := c.delegation(role)
		return d.RoleKeys, err
	}
	if !tuf.IsBaseRole(role) {
		return tuf.RoleKeys{}, &InvalidRoleError{Role: role, Reason: "not a base role or a delegation name"}
	}
	rk, err := c.root.RoleKeys(role)
	if err != nil {
		return tuf.RoleKeys{}, &InvalidRoleError{Role: role, Reason: "does not exist", Err: err}
	}
	return rk, nil
}

// verifyCanSign is v1's Repo.VerifyCanSign: role must exist (else an
// *InvalidRoleError) and at least one of its keys must be available (else
// a *NoSigningKeysError); the threshold is not checked here, to allow
// roles signed by several parties.
func (c *Collection) verifyCanSign(ctx context.Context, role string) error {
	rk, err := c.roleKeys(role)
	if err != nil {
		return err
	}
	held, missing, err := c.signers(ctx, role, rk)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		return &NoSigningKeysError{Role: role, KeyIDs: missing}
	}
	return nil
}

// AddTarget adds or replaces target name in role ("targets" or a
// delegation); see AddTargets.
func (c *Collection) AddTarget(ctx context.Context, role, name string, meta tuf.FileMeta) error {
	return c.AddTargets(ctx, role, map[string]tuf.FileMeta{name: meta})
}

// AddTargets adds or replaces targets in role, as v1's Repo.AddTargets:
//
//   - role must exist: "targets", or a delegation reachable through loaded
//     metadata (else *InvalidRoleError);
//   - every name must fall under the role's effective paths (else
//     *PathNotAllowedError; v1 fails with "Could not add all targets");
//   - a target already present with equal metadata is left alone and needs
//     no key; any other change needs one of the role's signing keys (else
//     *NoSigningKeysError);
//   - a delegated role without metadata yet gets a new, empty one (version
//     0, dirty); one whose current file failed verification
//     (Trusted.Invalid) starts over empty above that file's version (see
//     startRole).
//
// Beyond v1, metadata that neither v1 nor this implementation could
// verify later is refused: no hashes, a sha256/sha512 digest of the wrong
// size, or a negative length.
func (c *Collection) AddTargets(ctx context.Context, role string, files map[string]tuf.FileMeta) error {
	if !tuf.IsTargetsRole(role) {
		return &InvalidRoleError{Role: role, Reason: "not a targets role"}
	}
	var eff []string
	if role == tuf.RoleTargets {
		if _, err := c.roleKeys(role); err != nil {
			return err
		}
		eff = []string{""}
	} else {
		d, err := c.delegation(role)
		if err != nil {
			return err
		}
		eff = d.Paths
	}
	names := slices.Sorted(maps.Keys(files))
	allowed := tuf.NewPathSet(eff) // once for every name (bulk adds)
	for _, name := range names {
		if err := checkFileMeta(files[name]); err != nil {
			return fmt.Errorf("collection: target %q: %w", name, err)
		}
		if !allowed.Allows(name) {
			return &PathNotAllowedError{Role: role, Target: name, Paths: slices.Clone(eff)}
		}
	}
	r := c.targets[role]
	changed := false
	for _, name := range names {
		if r == nil {
			changed = true
			break
		}
		if old, ok := r.t.Targets[name]; !ok || !old.Equal(files[name]) {
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	if err := c.verifyCanSign(ctx, role); err != nil {
		return err
	}
	if r == nil {
		r = c.startRole(role)
	}
	if r.t.Targets == nil {
		r.t.Targets = make(map[string]tuf.FileMeta, len(files))
	}
	for _, name := range names {
		m := files[name]
		if old, ok := r.t.Targets[name]; ok && old.Equal(m) {
			continue
		}
		r.t.Targets[name] = m
		r.dirty = true
	}
	return nil
}

// RemoveTarget removes target name from role, as v1's Repo.RemoveTargets:
// role must exist; removing a name that is not there (or from a role with
// no metadata yet) does nothing and needs no key. The role's paths are
// not checked, as in v1: a target outside them can always be removed.
func (c *Collection) RemoveTarget(ctx context.Context, role, name string) error {
	if !tuf.IsTargetsRole(role) {
		return &InvalidRoleError{Role: role, Reason: "not a targets role"}
	}
	if _, err := c.roleKeys(role); err != nil {
		return err
	}
	r, ok := c.targets[role]
	if !ok {
		return nil
	}
	if _, ok := r.t.Targets[name]; !ok {
		return nil
	}
	if err := c.verifyCanSign(ctx, role); err != nil {
		return err
	}
	delete(r.t.Targets, name)
	r.dirty = true
	return nil
}

// checkFileMeta refuses target metadata that could not be verified later.
func checkFileMeta(m tuf.FileMeta) error {
	if len(m.Hashes) == 0 {
		return errors.New("no hashes")
	}
	for alg, h := range m.Hashes {
		want := map[string]int{tuf.SHA256: 32, tuf.SHA512: 64}[alg]
		if want != 0 && len(h) != want {
			return fmt.Errorf("%s digest is %d bytes, want %d", alg, len(h), want)
		}
	}
	if m.Length < 0 {
		return fmt.Errorf("negative length %d", m.Length)
	}
	return nil
}

// walk visits, in v1's WalkTargets order (breadth first from targets,
// children in array order with paths narrowed by their parent), every
// role at or below start whose metadata the collection holds. visit runs
// before the role's children are read, so it may edit them.
func (c *Collection) walk(start string, visit func(d tuf.Delegation, r *targetsRole) error) error {
	top, err := c.root.RoleKeys(tuf.RoleTargets)
	if err != nil {
		return &InvalidRoleError{Role: tuf.RoleTargets, Reason: "root does not define targets", Err: err}
	}
	queue := []tuf.Delegation{{RoleKeys: top, Paths: []string{""}}}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		r, ok := c.targets[d.Name]
		if !ok {
			continue
		}
		if strings.HasPrefix(start, d.Name+"/") {
			queue = append(queue, r.t.Children(d)...)
			continue
		}
		if d.Name != start && !strings.HasPrefix(d.Name, start+"/") {
			continue
		}
		if err := visit(d, r); err != nil {
			return err
		}
		queue = append(queue, r.t.Children(d)...)
	}
	return nil
}

// startRole gives role new, empty metadata. When the role's current file
// failed verification (Trusted.Invalid: signed by keys its parent no
// longer lists, as after a lost delegation key was replaced), the new
// metadata continues above its version, since the server refuses a
// version it already holds (docs/protocol.md §4.3); its targets are not
// carried over, because the keys that signed them are no longer trusted.
func (c *Collection) startRole(role string) *targetsRole {
	r := &targetsRole{t: newTargets(), dirty: true}
	if old, ok := c.invalid[role]; ok {
		r.t.Version = old.t.Version
		delete(c.invalid, role)
	}
	c.targets[role] = r
	return r
}
