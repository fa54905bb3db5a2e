package update

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Verified is a collection's metadata as verified by an Updater: the root,
// timestamp and snapshot, the top-level targets and every delegation that
// could be loaded. It is read-only and safe for concurrent use.
type Verified struct {
	GUN       string
	Root      *tuf.Root
	Timestamp *tuf.Timestamp
	Snapshot  *tuf.Snapshot
	// Offline is set when the remote could not be reached (or had no
	// timestamp) and the still-valid cached timestamp was used instead:
	// the data may not be the newest ("server unreachable, using cached
	// data"). Load always sets it.
	Offline *OfflineError
	// Warnings lists what went wrong without stopping the update: skipped
	// delegations, cache writes refused, cached files ignored or deleted.
	// They are typed (see SkippedDelegationWarning and the other
	// *Warning types): match them with errors.As.
	Warnings []error

	set     *TrustedSet
	invalid map[string]error
}

// Targets returns the verified metadata of a targets role ("targets" or a
// delegation), or nil when the role was not loaded (not published, not
// reachable, or invalid).
func (r *Verified) Targets(role string) *tuf.Targets { return r.set.Targets(role) }

// Bytes returns the verified file of role as fetched or cached (root,
// timestamp, snapshot, targets or a loaded delegation), or nil. The slice
// must not be modified.
func (r *Verified) Bytes(role string) []byte { return r.set.Bytes(role) }

// Roles lists "targets" and the loaded delegations, in the pre-order they
// were loaded in (their priority order).
func (r *Verified) Roles() []string { return r.set.Loaded() }

// Invalid maps each delegation that was skipped to why: expired,
// under-signed or malformed (v1 records these as "invalid" and warns).
func (r *Verified) Invalid() map[string]error { return maps.Clone(r.invalid) }

// A Target is a target name with its FileMeta and the role that signed it.
type Target struct {
	Name string
	Meta tuf.FileMeta
	Role string
}

// Lookup resolves target name through the delegation tree (v1
// GetTargetByName): a pre-order walk from each of roles in turn (default
// "targets"), children in array order, visiting only roles whose
// effective paths allow name; the first role that lists name wins (v1
// §1.4). A walk from one of roles skips the others in the list. Not found
// is a *TargetNotFoundError.
func (r *Verified) Lookup(name string, roles ...string) (Target, error) {
	if len(roles) == 0 {
		roles = []string{tuf.RoleTargets}
	}
	for _, role := range roles {
		var (
			found Target
			ok    bool
		)
		r.walk(name, role, without(roles, role), func(d tuf.Delegation, t *tuf.Targets) bool {
			if fm, has := t.Targets[name]; has {
				found, ok = Target{Name: name, Meta: fm, Role: d.Name}, true
				return true
			}
			return false
		})
		if ok {
			return found, nil
		}
	}
	return Target{}, &TargetNotFoundError{Name: name, Roles: slices.Clone(roles)}
}

// ListTargets returns every target visible from roles (default
// "targets") and their delegations, sorted by name (v1 ListTargets): a
// name that several roles list is reported once, for the role with
// priority (the first in the walk), and a role's targets outside its
// effective paths are not visible.
func (r *Verified) ListTargets(roles ...string) []Target {
	if len(roles) == 0 {
		roles = []string{tuf.RoleTargets}
	}
	seen := map[string]Target{}
	for _, role := range roles {
		r.walk("", role, without(roles, role), func(d tuf.Delegation, t *tuf.Targets) bool {
			for n, fm := range t.Targets {
				if _, dup := seen[n]; dup || !r.set.Allows(d.Name, n) {
					continue
				}
				seen[n] = Target{Name: n, Meta: fm, Role: d.Name}
			}
			return false
		})
	}
	out := make([]Target, 0, len(seen))
	for _, t := range seen {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// walk is v1's Repo.WalkTargets over the loaded roles: pre-order, children
// in array order, starting at "targets" with paths [""]. Roles above
// rolePath are only passed through; a role is visited if it is rolePath
// or below it, its effective paths allow targetPath ("" allows any) and it
// is not in skip. Children of visited roles are walked next. visit
// returns true to stop.
func (r *Verified) walk(targetPath, rolePath string, skip []string, visit func(tuf.Delegation, *tuf.Targets) bool) {
	top, ok := r.set.Delegation(tuf.RoleTargets)
	if !ok {
		return
	}
	queue := []tuf.Delegation{top}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		t := r.set.Targets(d.Name)
		if t == nil {
			continue // not loaded: not published, or invalid
		}
		if strings.HasPrefix(rolePath, d.Name+"/") {
			queue = append(queue, r.set.Children(d.Name)...)
			continue
		}
		if (targetPath == "" || r.set.Allows(d.Name, targetPath)) && underRole(d.Name, rolePath) && !slices.Contains(skip, d.Name) {
			if visit(d, t) {
				return
			}
			queue = append(r.set.Children(d.Name), queue...)
		}
	}
}

// underRole reports whether role is rolePath or below it.
func underRole(role, rolePath string) bool {
	return rolePath == "" || role == rolePath || strings.HasPrefix(role, rolePath+"/")
}

func without(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		if e != s {
			out = append(out, e)
		}
	}
	return out
}

// DelegationStatus says whether a delegation's metadata was loaded.
type DelegationStatus string

// Delegation statuses.
const (
	// DelegationLoaded: verified; its targets are visible.
	DelegationLoaded DelegationStatus = "loaded"
	// DelegationUnpublished: delegated, but the snapshot lists no metadata
	// for it (nothing signed into it yet).
	DelegationUnpublished DelegationStatus = "unpublished"
	// DelegationInvalid: its metadata was skipped (see Err).
	DelegationInvalid DelegationStatus = "invalid"
)

// A DelegationInfo describes one delegation entry of a loaded targets
// role, for listing (v1 GetDelegationRoles).
type DelegationInfo struct {
	Name      string
	Parent    string
	KeyIDs    []string                  // TUF key IDs, as listed
	Keys      map[string]keys.PublicKey // the listed keys, by TUF ID
	Threshold int
	// Paths are as the parent lists them; EffectivePaths are those that
	// fall under the parent's own effective paths (v1 §1.4).
	Paths          []string
	EffectivePaths []string
	Status         DelegationStatus
	Err            error // why it is invalid
}

// Delegations lists the delegation entries of every loaded targets role,
// parents first in pre-order, each role's entries in array order.
func (r *Verified) Delegations() []DelegationInfo {
	var out []DelegationInfo
	for _, role := range r.set.Loaded() {
		t := r.set.Targets(role)
		parent, _ := r.set.Delegation(role)
		for _, dr := range t.Delegations.Roles {
			if dr == nil {
				continue
			}
			info := DelegationInfo{
				Name:      dr.Name,
				Parent:    role,
				KeyIDs:    slices.Clone(dr.KeyIDs),
				Keys:      map[string]keys.PublicKey{},
				Threshold: dr.Threshold,
				Paths:     slices.Clone(dr.Paths),
			}
			for _, id := range dr.KeyIDs {
				if k, ok := t.Delegations.Keys[id]; ok {
					info.Keys[id] = k
				}
			}
			info.EffectivePaths = tuf.RestrictPaths(parent.Paths, dr.Paths)
			switch {
			case r.set.Targets(dr.Name) != nil:
				info.Status = DelegationLoaded
			case r.invalid[dr.Name] != nil:
				info.Status, info.Err = DelegationInvalid, r.invalid[dr.Name]
			default:
				info.Status = DelegationUnpublished
			}
			out = append(out, info)
		}
	}
	return out
}
