// Package changelist holds a publisher's staged, not yet published edits to
// a trust collection: the Change record, the List interface, and two
// Lists: FileList, the on-disk format Notary v1 keeps in
// <trust_dir>/tuf/<gun>/changelist (v1 §7.3), and Memory.
//
// A Change is only a record: the collection package decides what it means
// when a publish applies the list in order.
package changelist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Actions (v1 changelist.ActionCreate, ...).
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Scopes that are not role names of targets roles. A change's scope is
// otherwise "targets", a delegation name ("targets/releases") or a wildcard
// delegation name ("targets/*", only for key purges).
const (
	ScopeRoot    = "root"
	ScopeTargets = "targets"
)

// Types (v1 changelist.TypeTargetsTarget, ...).
const (
	TypeTarget     = "target"     // add or remove one target; Path is its name
	TypeDelegation = "delegation" // create, edit or delete a delegation; data is a TUFDelegation
	TypeBaseRole   = "role"       // replace a base role's keys in root; data is a TUFRootData
	TypeWitness    = "witness"    // re-sign a targets role unchanged
)

// Change is one staged edit, exactly as v1 stores it: on disk it is the
// encoding/json form of this struct (field order action, role, type, path,
// data; HTML-escaped; Data as base64, or null when nil), for example
//
//	{"action":"create","role":"targets","type":"target","path":"v1.0","data":"eyJsZW5ndGgiOjIw..."}
type Change struct {
	// ID identifies the change inside the List that returned it (for a
	// FileList, its file name). It is not part of the stored form and is
	// empty for a change not read from a List.
	ID string `json:"-"`

	Action string `json:"action"`
	// Scope is the role the change applies to. v1 names the JSON field
	// "role".
	Scope string `json:"role"`
	Type  string `json:"type"`
	// Path is the target name for target changes, the role name for base
	// role changes, and empty otherwise.
	Path string `json:"path"`
	// Data is the change's payload, decoded by TargetMeta, Delegation or
	// RootRole according to Type; nil for deletions and witnesses.
	Data []byte `json:"data"`
}

// ErrInvalidChange is wrapped by every error about a change that cannot be
// staged or applied because of its shape or its data.
var ErrInvalidChange = errors.New("invalid change")

// InvalidChangeError says which field of a change is unacceptable and why.
type InvalidChangeError struct {
	Field  string // "action", "role", "type", "path" or "data"
	Value  string
	Reason string
	Err    error // the decoding error, for Field "data"; may be nil
}

func (e *InvalidChangeError) Error() string {
	s := fmt.Sprintf("changelist: invalid change %s %q: %s", e.Field, e.Value, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInvalidChange and the decoding error, if any.
func (e *InvalidChangeError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidChange}
	}
	return []error{ErrInvalidChange, e.Err}
}

// Marshal returns the stored form of c, byte for byte what v1 writes:
// compact encoding/json, no trailing newline.
func Marshal(c Change) ([]byte, error) { return json.Marshal(c) }

// Unmarshal decodes a stored change as v1 does (encoding/json: unknown
// fields ignored, field names matched case-insensitively). It checks
// nothing else: Validate and the collection judge the content.
func Unmarshal(b []byte) (Change, error) {
	var c Change
	if err := json.Unmarshal(b, &c); err != nil {
		return Change{}, err
	}
	return c, nil
}

// Validate checks the shape of a change against the combinations v1's
// publish can apply (client/helpers.go applyChangelist), without decoding
// Data:
//
//   - scope "root": type "role", action "create";
//   - scope "targets" or a delegation name: type "target" (create or
//     delete), "delegation" (create, update, delete; never on "targets"
//     itself) or "witness" (any action; v1 ignores it);
//   - a wildcard scope ("targets/*", "targets/a/*"): only a delegation
//     update, which purges keys from the subtree.
//
// Lists refuse to store a change that fails Validate.
func (c Change) Validate() error {
	switch c.Action {
	case ActionCreate, ActionUpdate, ActionDelete:
	default:
		return &InvalidChangeError{Field: "action", Value: c.Action, Reason: "want create, update or delete"}
	}
	switch {
	case c.Scope == ScopeRoot:
		if c.Type != TypeBaseRole {
			return &InvalidChangeError{Field: "type", Value: c.Type, Reason: "root changes must have type role"}
		}
		if c.Action != ActionCreate {
			return &InvalidChangeError{Field: "action", Value: c.Action, Reason: "base role key changes are create only"}
		}
	case tuf.IsWildcardName(c.Scope):
		if c.Type != TypeDelegation || c.Action != ActionUpdate {
			return &InvalidChangeError{Field: "role", Value: c.Scope, Reason: "wildcard roles only take delegation updates (key purges)"}
		}
	case tuf.IsTargetsRole(c.Scope):
		switch c.Type {
		case TypeTarget:
			if c.Action == ActionUpdate {
				return &InvalidChangeError{Field: "action", Value: c.Action, Reason: "target changes are create or delete"}
			}
		case TypeDelegation:
			if c.Scope == ScopeTargets {
				return &InvalidChangeError{Field: "role", Value: c.Scope, Reason: "delegation changes need a delegation name"}
			}
		case TypeWitness:
		default:
			return &InvalidChangeError{Field: "type", Value: c.Type, Reason: "targets roles take target, delegation or witness changes"}
		}
	default:
		return &InvalidChangeError{Field: "role", Value: c.Scope, Reason: "not root, targets, a delegation or a wildcard delegation name"}
	}
	return nil
}

// targetMetaJSON is v1's data.FileMeta in its field order, so that target
// data is written byte for byte as v1 writes it:
// {"length":..,"hashes":{..},"custom":..}.
type targetMetaJSON struct {
	Length int64            `json:"length"`
	Hashes tuf.Hashes       `json:"hashes"`
	Custom *json.RawMessage `json:"custom,omitempty"`
}

// NewTarget stages adding (or replacing) target name in scope ("targets"
// or a delegation name) with the given length, hashes and custom data.
// Like v1's AddTarget it refuses a target without hashes.
func NewTarget(scope, name string, meta tuf.FileMeta) (Change, error) {
	if len(meta.Hashes) == 0 {
		return Change{}, &InvalidChangeError{Field: "data", Value: name, Reason: "target has no hashes"}
	}
	data, err := json.Marshal(targetMetaJSON{Length: meta.Length, Hashes: meta.Hashes, Custom: meta.Custom})
	if err != nil {
		return Change{}, &InvalidChangeError{Field: "data", Value: name, Reason: "cannot encode target", Err: err}
	}
	return checked(Change{Action: ActionCreate, Scope: scope, Type: TypeTarget, Path: name, Data: data})
}

// RemoveTarget stages removing target name from scope.
func RemoveTarget(scope, name string) (Change, error) {
	return checked(Change{Action: ActionDelete, Scope: scope, Type: TypeTarget, Path: name})
}

// TargetMeta decodes the data of a target creation, as v1 does
// (encoding/json into data.FileMeta).
func (c Change) TargetMeta() (tuf.FileMeta, error) {
	var m targetMetaJSON
	if err := decodeData(c.Data, &m); err != nil {
		return tuf.FileMeta{}, &InvalidChangeError{Field: "data", Value: c.Path, Reason: "not target metadata", Err: err}
	}
	return tuf.FileMeta{Length: m.Length, Hashes: m.Hashes, Custom: m.Custom}, nil
}

// TUFDelegation is the data of a delegation change (v1
// changelist.TUFDelegation), with v1's JSON names, all omitted when empty.
// v1 writes a key creation as {"threshold":1,"add_keys":[..]}, a path
// addition as another create {"add_paths":[..]}, and removals as updates.
type TUFDelegation struct {
	// NewName is part of v1's format but no v1 code applies it; the
	// collection refuses a change that sets it rather than ignore a rename.
	NewName string `json:"new_name,omitempty"`
	// NewThreshold is the threshold of a delegation the change creates;
	// v1 ignores it for an existing delegation.
	NewThreshold int              `json:"threshold,omitempty"`
	AddKeys      []keys.PublicKey `json:"add_keys,omitempty"`
	// RemoveKeys are canonical key IDs (keys.PublicKey.CanonicalID).
	RemoveKeys    []string `json:"remove_keys,omitempty"`
	AddPaths      []string `json:"add_paths,omitempty"`
	RemovePaths   []string `json:"remove_paths,omitempty"`
	ClearAllPaths bool     `json:"clear_paths,omitempty"`
}

// tufDelegationJSON is TUFDelegation as v1 encodes it: key objects in
// v1's field order.
type tufDelegationJSON struct {
	NewName       string    `json:"new_name,omitempty"`
	NewThreshold  int       `json:"threshold,omitempty"`
	AddKeys       v1KeyList `json:"add_keys,omitempty"`
	RemoveKeys    []string  `json:"remove_keys,omitempty"`
	AddPaths      []string  `json:"add_paths,omitempty"`
	RemovePaths   []string  `json:"remove_paths,omitempty"`
	ClearAllPaths bool      `json:"clear_paths,omitempty"`
}

// MarshalJSON writes the delegation data byte for byte as v1 does: key
// objects as {"keytype":..,"keyval":{"public":..,"private":null}}.
func (d TUFDelegation) MarshalJSON() ([]byte, error) {
	return json.Marshal(tufDelegationJSON{
		NewName: d.NewName, NewThreshold: d.NewThreshold, AddKeys: v1KeyList(d.AddKeys),
		RemoveKeys: d.RemoveKeys, AddPaths: d.AddPaths, RemovePaths: d.RemovePaths, ClearAllPaths: d.ClearAllPaths,
	})
}

// UnmarshalJSON reads delegation data; key objects must not carry private
// material.
func (d *TUFDelegation) UnmarshalJSON(b []byte) error {
	var v tufDelegationJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = TUFDelegation{
		NewName: v.NewName, NewThreshold: v.NewThreshold, AddKeys: []keys.PublicKey(v.AddKeys),
		RemoveKeys: v.RemoveKeys, AddPaths: v.AddPaths, RemovePaths: v.RemovePaths, ClearAllPaths: v.ClearAllPaths,
	}
	return nil
}

// NewDelegation stages a delegation creation or edit (action create or
// update) on scope, a delegation name, or for an update also a wildcard
// name (a key purge). v1's client stages keys as {NewThreshold: 1,
// AddKeys: ...} and paths as a separate create {AddPaths: ...}; removals
// and ClearAllPaths are updates.
func NewDelegation(action, scope string, d TUFDelegation) (Change, error) {
	if action != ActionCreate && action != ActionUpdate {
		return Change{}, &InvalidChangeError{Field: "action", Value: action, Reason: "delegation data goes with create or update"}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Change{}, &InvalidChangeError{Field: "data", Value: scope, Reason: "cannot encode delegation", Err: err}
	}
	return checked(Change{Action: action, Scope: scope, Type: TypeDelegation, Data: data})
}

// DeleteDelegation stages deleting delegation scope from its parent.
func DeleteDelegation(scope string) (Change, error) {
	if !tuf.IsDelegationName(scope) {
		return Change{}, &InvalidChangeError{Field: "role", Value: scope, Reason: "not a delegation name"}
	}
	return checked(Change{Action: ActionDelete, Scope: scope, Type: TypeDelegation})
}

// Delegation decodes the data of a delegation create or update.
func (c Change) Delegation() (TUFDelegation, error) {
	var d TUFDelegation
	if err := decodeData(c.Data, &d); err != nil {
		return TUFDelegation{}, &InvalidChangeError{Field: "data", Value: c.Scope, Reason: "not delegation data", Err: err}
	}
	return d, nil
}

// TUFRootData is the data of a base role key change (v1
// changelist.TUFRootData): the role whose keys are replaced, and the new
// keys (x509 certificates for root).
type TUFRootData struct {
	Keys     []keys.PublicKey `json:"keys"`
	RoleName string           `json:"role"`
}

type tufRootDataJSON struct {
	Keys     v1KeyList `json:"keys"`
	RoleName string    `json:"role"`
}

// MarshalJSON writes {"keys":[..],"role":".."} with key objects in v1's
// field order.
func (d TUFRootData) MarshalJSON() ([]byte, error) {
	return json.Marshal(tufRootDataJSON{Keys: v1KeyList(d.Keys), RoleName: d.RoleName})
}

// UnmarshalJSON reads base role key change data.
func (d *TUFRootData) UnmarshalJSON(b []byte) error {
	var v tufRootDataJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = TUFRootData{Keys: []keys.PublicKey(v.Keys), RoleName: v.RoleName}
	return nil
}

// NewBaseRoleKeys stages replacing every key of base role role in root
// with pubs, as v1's "key rotate" does (it keeps this change in memory
// only; scope root, type role, path = role).
func NewBaseRoleKeys(role string, pubs []keys.PublicKey) (Change, error) {
	if !tuf.IsBaseRole(role) {
		return Change{}, &InvalidChangeError{Field: "path", Value: role, Reason: "not a base role"}
	}
	data, err := json.Marshal(TUFRootData{Keys: pubs, RoleName: role})
	if err != nil {
		return Change{}, &InvalidChangeError{Field: "data", Value: role, Reason: "cannot encode keys", Err: err}
	}
	return checked(Change{Action: ActionCreate, Scope: ScopeRoot, Type: TypeBaseRole, Path: role, Data: data})
}

// RootRole decodes the data of a base role key change.
func (c Change) RootRole() (TUFRootData, error) {
	var d TUFRootData
	if err := decodeData(c.Data, &d); err != nil {
		return TUFRootData{}, &InvalidChangeError{Field: "data", Value: c.Path, Reason: "not base role key data", Err: err}
	}
	return d, nil
}

// NewWitness stages re-signing targets role role unchanged on the next
// publish (v1 Witness: action update, null data).
func NewWitness(role string) (Change, error) {
	return checked(Change{Action: ActionUpdate, Scope: role, Type: TypeWitness})
}

func checked(c Change) (Change, error) {
	if err := c.Validate(); err != nil {
		return Change{}, err
	}
	return c, nil
}

// decodeData is v1's json.Unmarshal(c.Content(), v): empty data is an
// error, as it is there ("unexpected end of JSON input").
func decodeData(data []byte, v any) error {
	return json.Unmarshal(data, v)
}

// v1KeyList encodes keys as v1's data.KeyList does through encoding/json:
// {"keytype":..,"keyval":{"public":<b64>,"private":null}} (TUFKey's field
// order, unlike the canonical order used in metadata).
type v1KeyList []keys.PublicKey

func (l v1KeyList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, k := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		typ, err := json.Marshal(k.Type)
		if err != nil {
			return nil, err
		}
		pub, err := json.Marshal(k.Public)
		if err != nil {
			return nil, err
		}
		b.WriteString(`{"keytype":`)
		b.Write(typ)
		b.WriteString(`,"keyval":{"public":`)
		b.Write(pub)
		b.WriteString(`,"private":null}}`)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func (l *v1KeyList) UnmarshalJSON(b []byte) error {
	var ks []keys.PublicKey
	if err := json.Unmarshal(b, &ks); err != nil {
		return err
	}
	*l = ks
	return nil
}
