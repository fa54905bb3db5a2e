package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// A Target is a named file a collection vouches for: its length, its
// hashes (sha256 and/or sha512, raw digests) and optional custom JSON.
type Target struct {
	Name   string
	Length int64
	Hashes tuf.Hashes
	// Custom is arbitrary JSON attached to the target; nil for none.
	Custom json.RawMessage
}

// TargetWithRole is a Target and the role that signed it.
type TargetWithRole struct {
	Target
	Role string
}

// NewTarget describes the content read from r as target name, hashed with
// sha256 and sha512 as `notary add` does, streaming (the content is never
// held in memory). custom, if not nil, must be JSON; it is stored in
// canonical form (sorted keys, no whitespace), the only form v1 verifiers
// accept (§1.7).
func NewTarget(name string, r io.Reader, custom []byte) (Target, error) {
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), r)
	if err != nil {
		return Target{}, err
	}
	t := Target{Name: name, Length: n, Hashes: tuf.Hashes{tuf.SHA256: h256.Sum(nil), tuf.SHA512: h512.Sum(nil)}}
	if custom != nil {
		if t.Custom, err = CanonicalCustom(custom); err != nil {
			return Target{}, err
		}
	}
	return t, nil
}

// NewTargetFromFile is NewTarget for the file at path.
func NewTargetFromFile(name, path string, custom []byte) (Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return Target{}, err
	}
	defer f.Close()
	return NewTarget(name, f, custom)
}

// CanonicalCustom checks that custom is one JSON value and returns its
// canonical form. v1 signs custom data as it is written, so only
// canonical custom data verifies with v1 clients and servers (§1.7).
func CanonicalCustom(custom []byte) (json.RawMessage, error) {
	v, err := canonicaljson.ParseStrict(custom)
	if err != nil {
		return nil, fmt.Errorf("custom data is not valid JSON: %w", err)
	}
	var buf bytes.Buffer
	if err := canonicaljson.EncodeValue(&buf, v); err != nil {
		return nil, fmt.Errorf("custom data cannot be signed: %w", err)
	}
	return json.RawMessage(buf.Bytes()), nil
}

func (t Target) fileMeta() tuf.FileMeta {
	m := tuf.FileMeta{Length: t.Length, Hashes: t.Hashes}
	if t.Custom != nil {
		c := json.RawMessage(t.Custom)
		m.Custom = &c
	}
	return m
}

func targetFromMeta(name string, m tuf.FileMeta) Target {
	t := Target{Name: name, Length: m.Length, Hashes: m.Hashes}
	if m.Custom != nil {
		t.Custom = *m.Custom
	}
	return t
}

// scopes returns the roles a target change applies to: "targets" when
// none are given.
func scopes(roles []string) []string {
	if len(roles) == 0 {
		return []string{tuf.RoleTargets}
	}
	return roles
}

// stage adds changes to the changelist, all validated first so that an
// invalid role stages nothing.
func (r *Repository) stage(changes ...changelist.Change) error {
	for _, c := range changes {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	cl, err := r.GetChangelist()
	if err != nil {
		return err
	}
	_, err = changelist.AddAll(cl, changes)
	return err
}

// AddTarget stages adding (or replacing) target t in each of roles
// ("targets" when none are given) for the next Publish (v1 AddTarget).
// Roles must be "targets" or delegation names; whether the delegation
// exists and allows the name is checked when publishing.
func (r *Repository) AddTarget(ctx context.Context, t Target, roles ...string) error {
	if len(t.Hashes) == 0 {
		return fmt.Errorf("no hashes specified for target \"%s\"", t.Name)
	}
	if err := t.fileMeta().Hashes.CheckHashStructure(); err != nil {
		return fmt.Errorf("target %q: %w", t.Name, err)
	}
	var changes []changelist.Change
	for _, role := range scopes(roles) {
		if err := checkTargetsScope(role); err != nil {
			return err
		}
		c, err := changelist.NewTarget(role, t.Name, t.fileMeta())
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	return r.stage(changes...)
}

// AddTargets stages adding every target of ts in each of roles, as
// AddTarget does for one, in one changelist batch: all are checked first
// and none is staged if any is refused. The error for a refused target
// wraps a *TargetError giving its index in ts.
func (r *Repository) AddTargets(ctx context.Context, ts []Target, roles ...string) error {
	changes, err := targetChanges(ts, roles)
	if err != nil {
		return err
	}
	return r.stage(changes...)
}

// targetChanges returns the changes adding every target of ts to each
// of roles, or a *TargetError for the first target refused.
func targetChanges(ts []Target, roles []string) ([]changelist.Change, error) {
	for _, role := range scopes(roles) {
		if err := checkTargetsScope(role); err != nil {
			return nil, err
		}
	}
	changes := make([]changelist.Change, 0, len(ts)*len(scopes(roles)))
	for i, t := range ts {
		if len(t.Hashes) == 0 {
			return nil, &TargetError{Index: i, Name: t.Name, Err: fmt.Errorf("no hashes specified for target \"%s\"", t.Name)}
		}
		if err := t.fileMeta().Hashes.CheckHashStructure(); err != nil {
			return nil, &TargetError{Index: i, Name: t.Name, Err: err}
		}
		for _, role := range scopes(roles) {
			c, err := changelist.NewTarget(role, t.Name, t.fileMeta())
			if err == nil {
				err = c.Validate()
			}
			if err != nil {
				return nil, &TargetError{Index: i, Name: t.Name, Err: err}
			}
			changes = append(changes, c)
		}
	}
	return changes, nil
}

// TargetError is a target AddTargets refused: ts[Index].
type TargetError struct {
	Index int
	Name  string
	Err   error
}

func (e *TargetError) Error() string { return fmt.Sprintf("target %q: %v", e.Name, e.Err) }

// Unwrap returns the reason.
func (e *TargetError) Unwrap() error { return e.Err }

// RemoveTarget stages removing target name from each of roles ("targets"
// when none are given).
func (r *Repository) RemoveTarget(ctx context.Context, name string, roles ...string) error {
	var changes []changelist.Change
	for _, role := range scopes(roles) {
		if err := checkTargetsScope(role); err != nil {
			return err
		}
		c, err := changelist.RemoveTarget(role, name)
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	return r.stage(changes...)
}

func checkTargetsScope(role string) error {
	if role != tuf.RoleTargets && !tuf.IsDelegationName(role) && !tuf.IsWildcardName(role) {
		return &InvalidRoleError{Role: role, Reason: "cannot add targets to this role"}
	}
	return nil
}

// InvalidRoleError reports a role name an operation cannot use (v1
// data.ErrInvalidRole).
type InvalidRoleError struct {
	Role   string
	Reason string
}

func (e *InvalidRoleError) Error() string {
	return fmt.Sprintf("tuf: invalid role %s. %s", e.Role, e.Reason)
}

func checkDelegation(name string) error {
	if !tuf.IsDelegationName(name) {
		return &InvalidRoleError{Role: name, Reason: "invalid delegation role name"}
	}
	return nil
}

// AddDelegation stages creating delegation name, or adding keys and paths
// to it: AddDelegationRoleAndKeys when keys are given, then
// AddDelegationPaths when paths are given (v1 AddDelegation).
func (r *Repository) AddDelegation(ctx context.Context, name string, delegationKeys []keys.PublicKey, paths []string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	var changes []changelist.Change
	if len(delegationKeys) > 0 {
		c, err := changelist.NewDelegation(changelist.ActionCreate, name, changelist.TUFDelegation{NewThreshold: 1, AddKeys: delegationKeys})
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	if len(paths) > 0 {
		c, err := changelist.NewDelegation(changelist.ActionCreate, name, changelist.TUFDelegation{AddPaths: paths})
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	return r.stage(changes...)
}

// AddDelegationRoleAndKeys stages creating delegation name with the given
// keys and threshold 1, or adding the keys to it.
func (r *Repository) AddDelegationRoleAndKeys(ctx context.Context, name string, delegationKeys []keys.PublicKey) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	c, err := changelist.NewDelegation(changelist.ActionCreate, name, changelist.TUFDelegation{NewThreshold: 1, AddKeys: delegationKeys})
	if err != nil {
		return err
	}
	return r.stage(c)
}

// AddDelegationPaths stages adding paths (target name prefixes; "" means
// every name) to delegation name.
func (r *Repository) AddDelegationPaths(ctx context.Context, name string, paths []string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	c, err := changelist.NewDelegation(changelist.ActionCreate, name, changelist.TUFDelegation{AddPaths: paths})
	if err != nil {
		return err
	}
	return r.stage(c)
}

// RemoveDelegationKeysAndPaths stages removing paths and then keys (given
// by canonical key ID) from delegation name.
func (r *Repository) RemoveDelegationKeysAndPaths(ctx context.Context, name string, keyIDs, paths []string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	var changes []changelist.Change
	if len(paths) > 0 {
		c, err := changelist.NewDelegation(changelist.ActionUpdate, name, changelist.TUFDelegation{RemovePaths: paths})
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	if len(keyIDs) > 0 {
		c, err := changelist.NewDelegation(changelist.ActionUpdate, name, changelist.TUFDelegation{RemoveKeys: keyIDs})
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	return r.stage(changes...)
}

// RemoveDelegationKeys stages removing keys (canonical IDs) from
// delegation name, or, for a wildcard name ("targets/*"), from every
// delegation below it (v1 purge).
func (r *Repository) RemoveDelegationKeys(ctx context.Context, name string, keyIDs []string) error {
	if !tuf.IsDelegationName(name) && !tuf.IsWildcardName(name) {
		return &InvalidRoleError{Role: name, Reason: "invalid delegation role name"}
	}
	c, err := changelist.NewDelegation(changelist.ActionUpdate, name, changelist.TUFDelegation{RemoveKeys: keyIDs})
	if err != nil {
		return err
	}
	return r.stage(c)
}

// RemoveDelegationPaths stages removing paths from delegation name.
func (r *Repository) RemoveDelegationPaths(ctx context.Context, name string, paths []string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	c, err := changelist.NewDelegation(changelist.ActionUpdate, name, changelist.TUFDelegation{RemovePaths: paths})
	if err != nil {
		return err
	}
	return r.stage(c)
}

// ClearDelegationPaths stages removing every path of delegation name.
func (r *Repository) ClearDelegationPaths(ctx context.Context, name string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	c, err := changelist.NewDelegation(changelist.ActionUpdate, name, changelist.TUFDelegation{ClearAllPaths: true})
	if err != nil {
		return err
	}
	return r.stage(c)
}

// RemoveDelegationRole stages deleting delegation name with all its keys
// and paths.
func (r *Repository) RemoveDelegationRole(ctx context.Context, name string) error {
	if err := checkDelegation(name); err != nil {
		return err
	}
	c, err := changelist.DeleteDelegation(name)
	if err != nil {
		return err
	}
	return r.stage(c)
}

// Witness stages re-signing each role unchanged on the next publish (v1
// witness): useful to renew a role's expiry, or to make a delegation valid
// again after keys were added to it. It returns the roles staged, in
// order, up to the first that could not be.
func (r *Repository) Witness(ctx context.Context, roles ...string) ([]string, error) {
	done := make([]string, 0, len(roles))
	for _, role := range roles {
		c, err := changelist.NewWitness(role)
		if err == nil {
			err = r.stage(c)
		}
		if err != nil {
			return done, err
		}
		done = append(done, role)
	}
	return done, nil
}
