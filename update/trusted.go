package update

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// A TrustedSet is the metadata of one collection that has been verified so
// far, grown one role at a time in the TUF order: root (and its rotations),
// timestamp, snapshot, targets, then delegations parent first (TUF 5.3-5.6,
// v1 tuf/builder.go). Each Update method takes the bytes of a file,
// verifies them against what is already trusted and returns the verified
// object; a call made out of order is an *OrderError, and a failed call
// leaves the set unchanged. It does no I/O and never reads the clock: the
// time to check expiry against is fixed when the set is made (go-tuf
// TrustedMetadata.RefTime).
//
// Besides the loaded roles, a TrustedSet keeps version floors: the
// versions of copies trusted earlier (the cache) that later updates of the
// same role must not go below (v1 §4.7, see SetCached).
//
// A TrustedSet is not safe for concurrent use.
type TrustedSet struct {
	gun string
	now time.Time
	pin *trustpin.Checker

	root      *tuf.Root
	rootBytes []byte

	timestamp      *tuf.Timestamp
	timestampBytes []byte
	snapshot       *tuf.Snapshot
	snapshotBytes  []byte

	roles  map[string]*trustedTargets // "targets" and delegations, once verified
	order  []string                   // roles in load order
	floors map[string]floor
	// dropped lists the targets roles that the trusted (cached) snapshot
	// listed and the loaded one does not; see CheckUnlisted.
	dropped map[string]int64
}

type trustedTargets struct {
	meta  *tuf.Targets
	deleg tuf.Delegation // keys as used to verify; paths effective (restricted by ancestors)
	data  []byte
	// Prepared once at load, since every walk, lookup and listing asks
	// them again (quadratic path checks: docs/security.md).
	allowed  tuf.PathSet      // deleg.Paths
	children []tuf.Delegation // meta.Children(deleg)
}

type floor struct {
	version int64
	keys    tuf.RoleKeys // the keys the cached copy was verified with
	// listed is, for snapshot, the targets roles the cached copy lists:
	// a new snapshot may not silently drop one (TUF 5.5.5).
	listed []string
}

// NewTrustedSet starts a TrustedSet from rootBytes, a root that nothing
// trusted yet vouches for (the first root.json downloaded for gun). The
// root must be well-formed and pass pin as a first root (v1 §4.8: valid
// leaf certificates for gun, the pinned certificates or CA, or trust on
// first use, and self-signed meeting its root threshold). pin also checks
// every root passed to UpdateRoot later; nil means trust on first use
// with no pins. Expiry is not checked here: a root may be rotated away
// from while expired, and UpdateTimestamp refuses to go on with an expired
// root (TUF 5.3.10).
func NewTrustedSet(rootBytes []byte, now time.Time, pin *trustpin.Checker, gun string) (*TrustedSet, error) {
	return newTrustedSet(rootBytes, now, pin, gun, pin, true)
}

// NewTrustedSetFromCache is NewTrustedSet for a root trusted before, the
// cached root.json: it is the pin itself, so the pinning configuration is
// not applied to it, only the trust-on-first-use rules (valid leaf
// certificates for gun, self-signed meeting its threshold), as v1 does
// (v1 §4.4 step 1). Nor is the expiry of its certificates: they were
// checked when the root was first trusted, and a root that is trusted
// already is not refused for them (v1 §3.5: "expiry is not checked for the
// previously trusted root"), so a client whose root certificate outlived
// its ten years can still read, and follow a renewed root. Its structure,
// the other certificate rules and its self-signatures are checked. pin
// applies to every root passed to UpdateRoot.
func NewTrustedSetFromCache(rootBytes []byte, now time.Time, pin *trustpin.Checker, gun string) (*TrustedSet, error) {
	tofu, err := trustpin.Config{}.Checker(gun)
	if err != nil {
		return nil, err
	}
	return newTrustedSet(rootBytes, now, pin, gun, tofu, false)
}

func newTrustedSet(rootBytes []byte, now time.Time, pin *trustpin.Checker, gun string, first *trustpin.Checker, checkCertExpiry bool) (*TrustedSet, error) {
	if pin == nil {
		tofu, err := trustpin.Config{}.Checker(gun)
		if err != nil {
			return nil, err
		}
		pin = tofu
	}
	if pin.GUN() != gun {
		return nil, fmt.Errorf("update: trust pinning checker is for %q, not %q", pin.GUN(), gun)
	}
	if first == nil {
		first = pin
	}
	root, env, err := tuf.ParseRoot(rootBytes)
	if err != nil {
		return nil, err
	}
	// v1 loadRoot: self-signatures meeting root's own threshold...
	rk, err := root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	if err := rk.Verify(env); err != nil {
		return nil, err
	}
	// ...and trustpinning.ValidateRoot with no previous root.
	validate := first.ValidateRoot
	if !checkCertExpiry {
		validate = first.ValidateRootExpiredCertsOK
	}
	if err := validate(nil, root, env, now); err != nil {
		return nil, err
	}
	return &TrustedSet{
		gun:       gun,
		now:       now,
		pin:       pin,
		root:      root,
		rootBytes: bytes.Clone(rootBytes),
		roles:     map[string]*trustedTargets{},
		floors:    map[string]floor{},
	}, nil
}

// GUN is the collection the set is for.
func (s *TrustedSet) GUN() string { return s.gun }

// Now is the time expiry is checked against.
func (s *TrustedSet) Now() time.Time { return s.now }

// Root returns the trusted root. It may be expired until UpdateTimestamp
// has succeeded.
func (s *TrustedSet) Root() *tuf.Root { return s.root }

// Timestamp returns the verified timestamp, or nil.
func (s *TrustedSet) Timestamp() *tuf.Timestamp { return s.timestamp }

// Snapshot returns the verified snapshot, or nil.
func (s *TrustedSet) Snapshot() *tuf.Snapshot { return s.snapshot }

// Targets returns the verified metadata of role ("targets" or a
// delegation), or nil if it has not been loaded.
func (s *TrustedSet) Targets(role string) *tuf.Targets {
	if t := s.roles[role]; t != nil {
		return t.meta
	}
	return nil
}

// Delegation returns the keys role was verified with and its effective
// paths (restricted by its ancestors' paths; [""] for targets), if role
// has been loaded.
func (s *TrustedSet) Delegation(role string) (tuf.Delegation, bool) {
	t := s.roles[role]
	if t == nil {
		return tuf.Delegation{}, false
	}
	return t.deleg, true
}

// Children returns the delegations that loaded role makes, in array
// order, with paths restricted by role's effective paths (v1
// GetValidDelegations). It returns nil if role is not loaded.
func (s *TrustedSet) Children(role string) []tuf.Delegation {
	t := s.roles[role]
	if t == nil {
		return nil
	}
	return slices.Clone(t.children)
}

// Allows reports whether loaded role's effective paths allow target name
// (false if role is not loaded), in O(log n) for n paths.
func (s *TrustedSet) Allows(role, name string) bool {
	t := s.roles[role]
	return t != nil && t.allowed.Allows(name)
}

// Bytes returns the verified file of role as it was given (root,
// timestamp, snapshot, targets or a loaded delegation), or nil. The
// slice must not be modified.
func (s *TrustedSet) Bytes(role string) []byte {
	switch role {
	case tuf.RoleRoot:
		return s.rootBytes
	case tuf.RoleTimestamp:
		return s.timestampBytes
	case tuf.RoleSnapshot:
		return s.snapshotBytes
	}
	if t := s.roles[role]; t != nil {
		return t.data
	}
	return nil
}

// Loaded lists "targets" and the delegations loaded so far, in load order.
func (s *TrustedSet) Loaded() []string { return slices.Clone(s.order) }

// Floor returns the version floor set for role by SetCached, if any.
func (s *TrustedSet) Floor(role string) (int64, bool) {
	f, ok := s.floors[role]
	return f.version, ok
}

// SetCached records data, a copy of role trusted earlier (from the cache),
// as role's version floor: a later Update of role with a lower version is
// a *tuf.LowVersionError (v1 §4.7 rollback protection; equal versions are
// allowed). The copy counts only if it is well-formed and signed by role's
// current keys meeting the threshold: root's for timestamp, snapshot and
// targets, the loaded parent's for a delegation (so a delegation's floor
// can be set only once its parent is loaded). Its expiry and hashes are
// not checked. A copy that does not verify sets no floor and its error is
// returned; the caller should discard it. It returns the floor version.
//
// When a later UpdateRoot changes the keys or threshold of timestamp,
// snapshot or targets, their floors are dropped (TUF 5.3.11): copies
// signed by rotated keys, possibly with a huge version from a compromised
// key (fast-forward), must not lock the client out.
func (s *TrustedSet) SetCached(role string, data []byte) (int64, error) {
	if role == tuf.RoleRoot {
		return 0, &OrderError{Op: "SetCached(root)", Reason: "the trusted root is the starting point, not a floor"}
	}
	if s.loaded(role) {
		return 0, &OrderError{Op: "SetCached(" + role + ")", Reason: role + " is already loaded"}
	}
	rk, err := s.keysFor("SetCached", role)
	if err != nil {
		return 0, err
	}
	m, env, err := tuf.ParseRole(role, data)
	if err != nil {
		return 0, err
	}
	if err := rk.Verify(env); err != nil {
		return 0, err
	}
	v := m.Common().Version
	f := floor{version: v, keys: rk}
	if old, ok := s.floors[role]; ok && old.version > v {
		f = old
	}
	if sn, ok := m.(*tuf.Snapshot); ok && f.version == sn.Version {
		f.listed = listedTargetsRoles(sn)
	}
	s.floors[role] = f
	return f.version, nil
}

// listedTargetsRoles returns the targets roles ("targets" and
// delegations) a snapshot lists.
func listedTargetsRoles(sn *tuf.Snapshot) []string {
	var out []string
	for role := range sn.Meta {
		if tuf.IsTargetsRole(role) {
			out = append(out, role)
		}
	}
	return out
}

// keysFor returns the keys that sign role now.
func (s *TrustedSet) keysFor(op, role string) (tuf.RoleKeys, error) {
	switch {
	case role == tuf.RoleTimestamp || role == tuf.RoleSnapshot || role == tuf.RoleTargets:
		return s.root.RoleKeys(role)
	case tuf.IsDelegationName(role):
		parent := tuf.ParentRole(role)
		p := s.roles[parent]
		if p == nil {
			return tuf.RoleKeys{}, &OrderError{Op: op + "(" + role + ")", Reason: parent + " is not loaded"}
		}
		d, err := p.meta.DelegatedRole(role)
		if err != nil {
			return tuf.RoleKeys{}, err
		}
		return d.RoleKeys, nil
	}
	return tuf.RoleKeys{}, &tuf.RoleNameError{Name: role, Reason: "not a role with a version floor"}
}

func (s *TrustedSet) loaded(role string) bool {
	switch role {
	case tuf.RoleTimestamp:
		return s.timestamp != nil
	case tuf.RoleSnapshot:
		return s.snapshot != nil
	}
	return s.roles[role] != nil
}

func (s *TrustedSet) checkFloor(role string, version int64) error {
	if f, ok := s.floors[role]; ok {
		return tuf.CheckVersion(role, version, f.version)
	}
	return nil
}

// UpdateRoot verifies data as the next trusted root and makes it the
// trusted root. It is allowed only before the timestamp is loaded. The new
// root must be well-formed; signed by the trusted root's root keys meeting
// the trusted threshold and by its own root keys meeting its own threshold
// (TUF 5.3.4, v1 §4.5); of a version not lower than the trusted one
// (5.3.5; v1 accepts a jump when the old keys sign it); and pass the
// certificate rules and pinning (v1 trustpinning.ValidateRoot with the
// trusted root as predecessor), unexpired certificates included: UpdateRoot
// is for a root that ends a rotation chain (for one in the middle, see
// UpdateIntermediateRoot). The trusted root's certificates may have
// expired (v1 §3.5). Its metadata expiry is not checked: a rotation
// chain may pass through expired roots (5.3.10 checks the final one, see
// UpdateTimestamp). Floors of timestamp, snapshot and targets whose keys
// or threshold changed are dropped (5.3.11).
func (s *TrustedSet) UpdateRoot(data []byte) (*tuf.Root, error) {
	return s.updateRoot(data, true)
}

// UpdateIntermediateRoot is UpdateRoot for a root in the middle of a
// rotation chain (<v>.root.json, v1 §4.5): it is verified the same way
// against the trusted root, but its certificates may have expired ("expired
// intermediates allowed"); their other rules, the pinning and every
// signature still apply. The chain must end with UpdateRoot, whose root
// must have unexpired certificates.
func (s *TrustedSet) UpdateIntermediateRoot(data []byte) (*tuf.Root, error) {
	return s.updateRoot(data, false)
}

func (s *TrustedSet) updateRoot(data []byte, checkCertExpiry bool) (*tuf.Root, error) {
	if s.timestamp != nil {
		return nil, &OrderError{Op: "UpdateRoot", Reason: "timestamp is already loaded"}
	}
	root, env, err := tuf.ParseRoot(data)
	if err != nil {
		return nil, err
	}
	if err := tuf.VerifyRootRotation(s.root, env, root); err != nil {
		return nil, err
	}
	validate := s.pin.ValidateRoot
	if !checkCertExpiry {
		validate = s.pin.ValidateRootExpiredCertsOK
	}
	if err := validate(s.root, root, env, s.now); err != nil {
		return nil, err
	}
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets} {
		f, ok := s.floors[role]
		if !ok {
			continue
		}
		rk, err := root.RoleKeys(role)
		if err != nil || !f.keys.Equal(rk) {
			delete(s.floors, role) // 5.3.11: keys rotated, forget the old floor
		}
	}
	s.root, s.rootBytes = root, bytes.Clone(data)
	return root, nil
}

// UpdateTimestamp verifies data as the timestamp and trusts it. It needs a
// trusted root that has not expired (TUF 5.3.10: the final root of a
// rotation must not be expired) and is refused once the snapshot is
// loaded. The timestamp must be well-formed, signed by root's timestamp
// keys meeting the threshold (5.4.2), not below the version floor or the
// timestamp already loaded (5.4.3, v1 §4.7), and not expired (5.4.4).
// Calling it again before the snapshot replaces the loaded timestamp.
func (s *TrustedSet) UpdateTimestamp(data []byte) (*tuf.Timestamp, error) {
	if s.snapshot != nil {
		return nil, &OrderError{Op: "UpdateTimestamp", Reason: "snapshot is already loaded"}
	}
	if err := tuf.CheckExpiry(tuf.RoleRoot, s.root.Expires, s.now); err != nil {
		return nil, err
	}
	ts, env, err := tuf.ParseTimestamp(data)
	if err != nil {
		return nil, err
	}
	rk, err := s.root.RoleKeys(tuf.RoleTimestamp)
	if err != nil {
		return nil, err
	}
	if err := rk.Verify(env); err != nil {
		return nil, err
	}
	if err := s.checkFloor(tuf.RoleTimestamp, ts.Version); err != nil {
		return nil, err
	}
	if s.timestamp != nil {
		if err := tuf.CheckVersion(tuf.RoleTimestamp, ts.Version, s.timestamp.Version); err != nil {
			return nil, err
		}
	}
	if err := tuf.CheckExpiry(tuf.RoleTimestamp, ts.Expires, s.now); err != nil {
		return nil, err
	}
	s.timestamp, s.timestampBytes = ts, bytes.Clone(data)
	return ts, nil
}

// UpdateSnapshot verifies data as the snapshot and trusts it. It needs the
// timestamp and may be called once. data must match the timestamp's
// snapshot length and every known hash (TUF 5.5.2; this is what stops
// mix-and-match), be well-formed, signed by root's snapshot keys meeting
// the threshold (5.5.3), not below the version floor (v1 §4.7) and not
// expired (5.5.6). Its root entry must match the trusted root's bytes, as
// v1's builder requires: a mismatch is a *RootMismatchError, meaning the
// root was rotated and should be updated.
//
// TUF 5.5.5: every targets role the trusted snapshot (the floor, see
// SetCached) listed must still be listed. Top-level targets is required
// of every snapshot (tuf.ParseSnapshot); a dropped delegation is only
// remembered here, since v1 removes a deleted delegation from the
// snapshot too: whether it was deleted or hidden is known once its parent
// is loaded (CheckUnlisted).
// Versions of the listed roles are not compared here, as v1 snapshot
// entries carry none; each role's own version floor catches a rollback.
func (s *TrustedSet) UpdateSnapshot(data []byte) (*tuf.Snapshot, error) {
	if s.timestamp == nil {
		return nil, &OrderError{Op: "UpdateSnapshot", Reason: "timestamp is not loaded"}
	}
	if s.snapshot != nil {
		return nil, &OrderError{Op: "UpdateSnapshot", Reason: "snapshot is already loaded"}
	}
	if err := tuf.CheckFileMeta(tuf.RoleSnapshot, s.timestamp.Meta[tuf.RoleSnapshot], data); err != nil {
		return nil, err
	}
	sn, env, err := tuf.ParseSnapshot(data)
	if err != nil {
		return nil, err
	}
	rk, err := s.root.RoleKeys(tuf.RoleSnapshot)
	if err != nil {
		return nil, err
	}
	if err := rk.Verify(env); err != nil {
		return nil, err
	}
	if err := s.checkFloor(tuf.RoleSnapshot, sn.Version); err != nil {
		return nil, err
	}
	if err := tuf.CheckExpiry(tuf.RoleSnapshot, sn.Expires, s.now); err != nil {
		return nil, err
	}
	if err := tuf.CheckFileMeta(tuf.RoleRoot, sn.Meta[tuf.RoleRoot], s.rootBytes); err != nil {
		return nil, &RootMismatchError{SnapshotVersion: sn.Version, RootVersion: s.root.Version, Err: err}
	}
	dropped := map[string]int64{}
	if f, ok := s.floors[tuf.RoleSnapshot]; ok {
		for _, role := range f.listed {
			if _, still := sn.Meta[role]; !still {
				dropped[role] = f.version
			}
		}
	}
	s.snapshot, s.snapshotBytes, s.dropped = sn, bytes.Clone(data), dropped
	return sn, nil
}

// CheckUnlisted is asked about a delegation that a loaded parent still
// delegates but the loaded snapshot does not list, before treating it as
// never published. It returns a *DroppedRoleError when the trusted
// snapshot did list it: a snapshot key holder is hiding it so that
// lower-priority roles answer for its targets (TUF 5.5.5). A delegation
// its parent deleted is never asked about, so v1's removal of a deleted
// delegation from the snapshot is not mistaken for this.
func (s *TrustedSet) CheckUnlisted(role string) error {
	if s.snapshot == nil {
		return &OrderError{Op: "CheckUnlisted(" + role + ")", Reason: "snapshot is not loaded"}
	}
	if v, ok := s.dropped[role]; ok {
		return &DroppedRoleError{Role: role, TrustedVersion: v, SnapshotVersion: s.snapshot.Version}
	}
	return nil
}

// UpdateTargets verifies data as the top-level targets and trusts it. It
// needs the snapshot and may be called once. data must match the
// snapshot's entry for targets (length and every known hash, TUF 5.6.2),
// be well-formed (including its delegations: valid names, direct children,
// known keys, v1 §1.4), signed by root's targets keys meeting the
// threshold (5.6.3), not below the version floor and not expired (5.6.5).
func (s *TrustedSet) UpdateTargets(data []byte) (*tuf.Targets, error) {
	if s.snapshot == nil {
		return nil, &OrderError{Op: "UpdateTargets", Reason: "snapshot is not loaded"}
	}
	rk, err := s.root.RoleKeys(tuf.RoleTargets)
	if err != nil {
		return nil, err
	}
	return s.updateTargets("UpdateTargets", tuf.Delegation{RoleKeys: rk, Paths: []string{""}}, data)
}

// UpdateDelegation verifies data as the metadata of the delegated role
// name, which parent (a loaded targets role) delegates, and trusts it. It
// needs name to be a direct child listed in parent's delegations (else a
// *tuf.NoSuchRoleError) and listed in the snapshot, and may be called once
// per role. data must match the snapshot's entry (length and hashes), be
// well-formed, signed by the keys parent lists meeting parent's threshold
// for it, not below the version floor and not expired (TUF 5.6). Its
// effective paths are those it lists that fall under parent's effective
// paths (v1 §1.4).
func (s *TrustedSet) UpdateDelegation(name, parent string, data []byte) (*tuf.Targets, error) {
	const op = "UpdateDelegation"
	if s.snapshot == nil {
		return nil, &OrderError{Op: op, Reason: "snapshot is not loaded"}
	}
	if !tuf.IsDirectChild(parent, name) {
		return nil, &tuf.NoSuchRoleError{Role: name, Parent: parent}
	}
	p := s.roles[parent]
	if p == nil {
		return nil, &OrderError{Op: op + "(" + name + ")", Reason: parent + " is not loaded"}
	}
	d, err := p.meta.DelegatedRole(name)
	if err != nil {
		return nil, err
	}
	eff, _ := p.deleg.Restrict(d)
	return s.updateTargets(op, eff, data)
}

func (s *TrustedSet) updateTargets(op string, d tuf.Delegation, data []byte) (*tuf.Targets, error) {
	role := d.Name
	if s.roles[role] != nil {
		return nil, &OrderError{Op: op + "(" + role + ")", Reason: role + " is already loaded"}
	}
	meta, ok := s.snapshot.Meta[role]
	if !ok {
		return nil, &tuf.NoSuchRoleError{Role: role, Parent: tuf.RoleSnapshot}
	}
	if err := tuf.CheckFileMeta(role, meta, data); err != nil {
		return nil, err
	}
	t, env, err := tuf.ParseTargets(data, role)
	if err != nil {
		return nil, err
	}
	if err := d.Verify(env); err != nil {
		return nil, err
	}
	if err := s.checkFloor(role, t.Version); err != nil {
		return nil, err
	}
	if err := tuf.CheckExpiry(role, t.Expires, s.now); err != nil {
		return nil, err
	}
	s.roles[role] = &trustedTargets{
		meta: t, deleg: d, data: bytes.Clone(data),
		allowed: tuf.NewPathSet(d.Paths), children: t.Children(d),
	}
	s.order = append(s.order, role)
	return t, nil
}
