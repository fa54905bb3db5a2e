// Package collection is an editable trust collection: the publisher's
// in-memory copy of a repository's verified metadata, which takes edits
// (targets, delegations, key rotations, witnesses, or a whole changelist)
// and then signs every changed role into the files v1 would upload
// (Notary v1 tuf/tuf.go Repo and client/helpers.go applyChangelist).
//
// It does no I/O and never reads the clock: the update workflow verifies
// the metadata and hands it over (FromTrusted), or Init starts a new
// repository; Sign takes the time its expiries count from. Private keys
// are reached only through the KeyLookup the caller supplies.
//
// A Collection is not safe for concurrent use.
package collection

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// KeyLookup gives the collection the signers for a role's keys. The client
// backs it with its key store; the collection never sees private keys.
//
// Signers returns a signer for each of pubs whose private key it holds, in
// any order, and leaves the others out: a key it does not hold is not an
// error. pubs are keys as they appear in metadata (x509 certificates for
// root keys). A signer is matched to a pub by canonical key ID
// (keys.PublicKey.CanonicalID), so it may present either the plain key or
// the certificate; the collection signs under the pub's TUF key ID. role
// names the role being changed or signed, e.g. for a passphrase prompt.
// An error means the lookup itself failed (a key store error, a refused
// passphrase) and stops the operation.
//
// The collection asks about each key at most once in its lifetime and
// remembers the answer, so a lookup may prompt for each key once.
type KeyLookup interface {
	Signers(ctx context.Context, role string, pubs []keys.PublicKey) ([]tuf.Signer, error)
}

// Collection is an editable trust collection. Build one with Init or
// FromTrusted; edit it; then Sign.
//
// Edits follow v1's rules and errors. Each edit either applies completely
// or returns an error and changes nothing; ApplyChanges applies a whole
// changelist or nothing.
type Collection struct {
	lookup KeyLookup
	kc     *keyCache

	root      *tuf.Root
	rootFile  []byte
	rootDirty bool
	// signedRootRole is the root role (keys, threshold) of the root as
	// loaded or last signed; a root whose root role differs must also be
	// signed by these keys (v1 originalRootRole, §4.5).
	signedRootRole tuf.RoleKeys

	targets map[string]*targetsRole
	// invalid holds delegations the update workflow found but could not
	// verify (expired, under-signed); only Witness uses them (v1's
	// "invalid" Repo).
	invalid map[string]*targetsRole

	snapshot     *tuf.Snapshot
	snapshotFile []byte
	timestamp    *tuf.Timestamp
	tsFile       []byte

	dropped  []keys.PublicKey
	warnings []error
}

// targetsRole is the metadata of "targets" or a delegated role.
type targetsRole struct {
	t     *tuf.Targets
	file  []byte // the file as loaded or last signed; nil if never signed
	dirty bool
}

// InitOptions describes a new repository (v1 Repository.Initialize).
type InitOptions struct {
	// GUN is the collection's name; every root certificate's common name
	// must match it (v1 §3.5).
	GUN string
	// RootKeys are the root keys as ecdsa-x509 or rsa-x509 certificates
	// (see RootCertificateKey for the certificate v1 makes).
	RootKeys []keys.PublicKey
	// Targets, Snapshot and Timestamp are the other base roles' keys.
	// v1 always lists a snapshot key: the publisher's own, or the
	// server's (GET snapshot.key) when the server manages the snapshot.
	// Which it is only shows when signing: Sign signs the snapshot if the
	// KeyLookup holds its key, and leaves it to the server otherwise.
	Targets   keys.PublicKey
	Snapshot  keys.PublicKey
	Timestamp keys.PublicKey
}

// Init builds a new repository as v1 does (InitRoot, InitTargets,
// InitSnapshot): a root listing the given keys, every role with
// threshold 1, consistent_snapshot false, and an empty targets role. Root
// and targets are at version 0 and dirty, so the first Sign writes
// version 1 of each (and of the snapshot, if the publisher holds its key).
// Expiries are set by Sign.
func Init(opts InitOptions, lookup KeyLookup) (*Collection, error) {
	if opts.GUN == "" {
		return nil, errors.New("collection: Init needs a GUN")
	}
	if len(opts.RootKeys) == 0 {
		return nil, errors.New("collection: Init needs at least one root key")
	}
	for _, k := range opts.RootKeys {
		if err := checkRootKey(k, opts.GUN); err != nil {
			return nil, err
		}
	}
	root := &tuf.Root{
		Type:  tuf.TypeRoot,
		Keys:  map[string]keys.PublicKey{},
		Roles: map[string]*tuf.RootRole{},
	}
	add := func(role string, ks ...keys.PublicKey) error {
		rr := &tuf.RootRole{Threshold: 1}
		for _, k := range ks {
			if k.Type == "" || len(k.Public) == 0 {
				return fmt.Errorf("collection: Init: no %s key", role)
			}
			id := k.ID()
			root.Keys[id] = k
			if !slices.Contains(rr.KeyIDs, id) {
				rr.KeyIDs = append(rr.KeyIDs, id)
			}
		}
		root.Roles[role] = rr
		return nil
	}
	for _, err := range []error{
		add(tuf.RoleRoot, opts.RootKeys...),
		add(tuf.RoleTargets, opts.Targets),
		add(tuf.RoleSnapshot, opts.Snapshot),
		add(tuf.RoleTimestamp, opts.Timestamp),
	} {
		if err != nil {
			return nil, err
		}
	}
	c := &Collection{
		lookup:    lookup,
		kc:        newKeyCache(),
		root:      root,
		rootDirty: true,
		targets:   map[string]*targetsRole{tuf.RoleTargets: {t: newTargets(), dirty: true}},
		invalid:   map[string]*targetsRole{},
	}
	rk, err := root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	c.signedRootRole = rk
	return c, nil
}

// newTargets is v1's data.NewTargets: empty targets and delegations
// ({"keys":{},"roles":[]}), version 0. Callers mark it dirty.
func newTargets() *tuf.Targets {
	return &tuf.Targets{
		Type:        tuf.TypeTargets,
		Delegations: tuf.Delegations{Keys: map[string]keys.PublicKey{}, Roles: []*tuf.DelegationRole{}},
		Targets:     map[string]tuf.FileMeta{},
	}
}

// Trusted is metadata the caller has verified (the update workflow, or a
// local cache it trusts), each role with the exact bytes of its file. The
// collection copies what it is given.
type Trusted struct {
	Root     *tuf.Root
	RootFile []byte
	// Targets holds "targets" (required) and every delegated role that
	// verified, by role name.
	Targets map[string]TargetsFile
	// Invalid holds delegated roles that were listed but failed
	// verification (expired, under-signed); Witness can revive them.
	Invalid map[string]TargetsFile
	// Snapshot is nil when there is none yet (a server-managed snapshot
	// before the first publish).
	Snapshot     *tuf.Snapshot
	SnapshotFile []byte
	// Timestamp is optional; the publisher never signs it.
	Timestamp     *tuf.Timestamp
	TimestampFile []byte
}

// TargetsFile is a verified targets or delegated role and its file bytes.
type TargetsFile struct {
	Targets *tuf.Targets
	File    []byte
}

// FromTrusted builds a collection from verified metadata. Nothing is dirty:
// Sign uploads only what later edits change. The file bytes are what the
// snapshot records for roles that are not re-signed.
func FromTrusted(t Trusted, lookup KeyLookup) (*Collection, error) {
	if t.Root == nil || len(t.RootFile) == 0 {
		return nil, errors.New("collection: FromTrusted needs root and its file")
	}
	if _, ok := t.Targets[tuf.RoleTargets]; !ok {
		return nil, errors.New("collection: FromTrusted needs the targets role")
	}
	c := &Collection{
		lookup:   lookup,
		kc:       newKeyCache(),
		root:     cloneRoot(t.Root),
		rootFile: slices.Clone(t.RootFile),
		targets:  make(map[string]*targetsRole, len(t.Targets)),
		invalid:  make(map[string]*targetsRole, len(t.Invalid)),
	}
	for _, set := range []struct {
		in  map[string]TargetsFile
		out map[string]*targetsRole
	}{{t.Targets, c.targets}, {t.Invalid, c.invalid}} {
		for name, tf := range set.in {
			if !tuf.IsTargetsRole(name) {
				return nil, &InvalidRoleError{Role: name, Reason: "not targets or a delegation name"}
			}
			if tf.Targets == nil || len(tf.File) == 0 {
				return nil, fmt.Errorf("collection: FromTrusted: %s has no metadata or no file", name)
			}
			set.out[name] = &targetsRole{t: cloneTargets(tf.Targets), file: slices.Clone(tf.File)}
		}
	}
	if t.Snapshot != nil {
		if len(t.SnapshotFile) == 0 {
			return nil, errors.New("collection: FromTrusted: snapshot without its file")
		}
		c.snapshot = cloneSnapshot(t.Snapshot)
		c.snapshotFile = slices.Clone(t.SnapshotFile)
	}
	if t.Timestamp != nil {
		ts := *t.Timestamp
		ts.Meta = cloneMeta(ts.Meta)
		c.timestamp = &ts
		c.tsFile = slices.Clone(t.TimestampFile)
	}
	rk, err := c.root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	c.signedRootRole = rk
	return c, nil
}

// Root returns a copy of the current root body (with pending edits).
func (c *Collection) Root() *tuf.Root { return cloneRoot(c.root) }

// Targets returns a copy of a targets role's current body, or false if
// the collection holds no metadata for it.
func (c *Collection) Targets(role string) (*tuf.Targets, bool) {
	r, ok := c.targets[role]
	if !ok {
		return nil, false
	}
	return cloneTargets(r.t), true
}

// Snapshot returns a copy of the snapshot body, or nil if there is none.
func (c *Collection) Snapshot() *tuf.Snapshot {
	if c.snapshot == nil {
		return nil
	}
	return cloneSnapshot(c.snapshot)
}

// File returns the current file of role ("root", "targets", a delegation,
// "snapshot" or "timestamp") as loaded or last signed, or false if there
// is none (for example a role created since and not signed yet).
func (c *Collection) File(role string) ([]byte, bool) {
	var f []byte
	switch role {
	case tuf.RoleRoot:
		f = c.rootFile
	case tuf.RoleSnapshot:
		f = c.snapshotFile
	case tuf.RoleTimestamp:
		f = c.tsFile
	default:
		if r, ok := c.targets[role]; ok {
			f = r.file
		}
	}
	if f == nil {
		return nil, false
	}
	return slices.Clone(f), true
}

// TargetsRoles lists the targets roles the collection holds metadata
// for, sorted.
func (c *Collection) TargetsRoles() []string {
	return slices.Sorted(maps.Keys(c.targets))
}

// Dirty lists the roles the next Sign will re-sign because of edits
// ("root" and targets roles), sorted. Sign may also re-sign root when it
// nears expiry, and always signs the snapshot when it holds its key.
func (c *Collection) Dirty() []string {
	var out []string
	if c.rootDirty {
		out = append(out, tuf.RoleRoot)
	}
	for name, r := range c.targets {
		if r.dirty {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DroppedKeys returns the keys that base role key rotations removed from
// root (root certificates excepted, which v1 keeps). v1 deletes their
// private keys from the key store while applying the rotation; the caller
// can do so once the publish succeeded.
func (c *Collection) DroppedKeys() []keys.PublicKey { return slices.Clone(c.dropped) }

// Warnings returns what v1 would log as warnings while applying edits:
// delegations left with fewer keys than their threshold, key purges
// skipped for lack of a signing key.
// They are typed (*UnderThresholdWarning, *PurgeSkippedWarning).
func (c *Collection) Warnings() []error { return slices.Clone(c.warnings) }

// warn records a warning once (v1 logs some twice, e.g. once per visitor
// of a delegation create).
func (c *Collection) warn(w error) {
	for _, x := range c.warnings {
		if reflect.DeepEqual(x, w) {
			return
		}
	}
	c.warnings = append(c.warnings, w)
}

// clone returns a deep copy of the editable state, sharing the key cache
// and lookup, for all-or-nothing ApplyChanges.
func (c *Collection) clone() *Collection {
	n := *c
	n.root = cloneRoot(c.root)
	n.targets = make(map[string]*targetsRole, len(c.targets))
	for k, r := range c.targets {
		n.targets[k] = &targetsRole{t: cloneTargets(r.t), file: r.file, dirty: r.dirty}
	}
	n.invalid = make(map[string]*targetsRole, len(c.invalid))
	for k, r := range c.invalid {
		n.invalid[k] = &targetsRole{t: cloneTargets(r.t), file: r.file, dirty: r.dirty}
	}
	if c.snapshot != nil {
		n.snapshot = cloneSnapshot(c.snapshot)
	}
	n.dropped = slices.Clone(c.dropped)
	n.warnings = slices.Clone(c.warnings)
	return &n
}

func cloneRoot(r *tuf.Root) *tuf.Root {
	n := *r
	n.Keys = maps.Clone(r.Keys)
	if r.Roles != nil {
		n.Roles = make(map[string]*tuf.RootRole, len(r.Roles))
		for k, v := range r.Roles {
			if v == nil {
				n.Roles[k] = nil
				continue
			}
			rr := *v
			rr.KeyIDs = slices.Clone(v.KeyIDs)
			n.Roles[k] = &rr
		}
	}
	return &n
}

// cloneTargets copies the parts edits change: the targets map, the
// delegation keys and the delegation roles. FileMeta values and keys are
// never modified in place, so they are shared.
func cloneTargets(t *tuf.Targets) *tuf.Targets {
	n := *t
	n.Targets = maps.Clone(t.Targets)
	n.Delegations.Keys = maps.Clone(t.Delegations.Keys)
	if t.Delegations.Roles != nil {
		n.Delegations.Roles = make([]*tuf.DelegationRole, len(t.Delegations.Roles))
		for i, r := range t.Delegations.Roles {
			if r == nil {
				continue
			}
			n.Delegations.Roles[i] = cloneDelegationRole(r)
		}
	}
	return &n
}

func cloneDelegationRole(r *tuf.DelegationRole) *tuf.DelegationRole {
	d := *r
	d.KeyIDs = slices.Clone(r.KeyIDs)
	d.Paths = slices.Clone(r.Paths)
	return &d
}

func cloneSnapshot(s *tuf.Snapshot) *tuf.Snapshot {
	n := *s
	n.Meta = cloneMeta(s.Meta)
	return &n
}

func cloneMeta(m map[string]tuf.FileMeta) map[string]tuf.FileMeta { return maps.Clone(m) }
