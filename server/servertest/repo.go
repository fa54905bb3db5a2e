// Package servertest helps test notary-server: Repo builds and signs the
// metadata a v1 client would publish (root with a certificate, targets,
// delegations, and optionally a client-signed snapshot), and Stores lists
// the storage backends every server test runs against.
//
// It is a test helper: nothing in it is meant for production.
package servertest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// A Repo is a publisher's view of one collection: its keys and the
// metadata it signs. It is not safe for concurrent use.
type Repo struct {
	GUN string
	// Now is the clock for expiries and certificates; nil means time.Now.
	Now func() time.Time

	RootKey     *keys.PrivateKey // with its root certificate
	TargetsKey  *keys.PrivateKey
	SnapshotKey *keys.PrivateKey // nil: the server signs the snapshot

	Root    *tuf.Root
	Targets map[string]*tuf.Targets // "targets" and delegations
	// DelegationKeys holds the private keys of delegations, by role.
	DelegationKeys map[string]*keys.PrivateKey

	snapshot *tuf.Snapshot // the last client-signed snapshot body
	// Files are the last signed bytes, by role.
	Files map[string][]byte
}

func (r *Repo) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// NewRepo makes a repository for gun with fresh ecdsa root and targets
// keys, the server's timestamp key tsKey, and either the server's snapshot
// key (serverSnapshot non-zero) or a fresh client snapshot key.
func NewRepo(gun string, tsKey, serverSnapshot keys.PublicKey) (*Repo, error) {
	r := &Repo{GUN: gun, Targets: map[string]*tuf.Targets{}, DelegationKeys: map[string]*keys.PrivateKey{}, Files: map[string][]byte{}}
	rk, err := keys.Generate(keys.ECDSA)
	if err != nil {
		return nil, err
	}
	now := r.now()
	if r.RootKey, err = rk.WithRootCertificate(gun, now, now.Add(keys.RootCertificateValidity)); err != nil {
		return nil, err
	}
	if r.TargetsKey, err = keys.Generate(keys.ECDSA); err != nil {
		return nil, err
	}
	snapPub := serverSnapshot
	if serverSnapshot.Type == "" {
		if r.SnapshotKey, err = keys.Generate(keys.ECDSA); err != nil {
			return nil, err
		}
		snapPub = r.SnapshotKey.Public()
	}
	rootPub, targetsPub := r.RootKey.Public(), r.TargetsKey.Public()
	r.Root = &tuf.Root{
		Type:    tuf.TypeRoot,
		Expires: now.Add(tuf.DefaultRootTTL),
		Keys: map[string]keys.PublicKey{
			rootPub.ID(): rootPub, targetsPub.ID(): targetsPub,
			snapPub.ID(): snapPub, tsKey.ID(): tsKey,
		},
		Roles: map[string]*tuf.RootRole{
			tuf.RoleRoot:      {KeyIDs: []string{rootPub.ID()}, Threshold: 1},
			tuf.RoleTargets:   {KeyIDs: []string{targetsPub.ID()}, Threshold: 1},
			tuf.RoleSnapshot:  {KeyIDs: []string{snapPub.ID()}, Threshold: 1},
			tuf.RoleTimestamp: {KeyIDs: []string{tsKey.ID()}, Threshold: 1},
		},
	}
	r.Targets[tuf.RoleTargets] = &tuf.Targets{
		Type:        tuf.TypeTargets,
		Delegations: tuf.Delegations{Keys: map[string]keys.PublicKey{}, Roles: []*tuf.DelegationRole{}},
		Targets:     map[string]tuf.FileMeta{},
	}
	return r, nil
}

// SignRoot bumps root's version and signs it with the current root key
// and any extra keys (old root keys during a rotation).
func (r *Repo) SignRoot(extra ...*keys.PrivateKey) ([]byte, error) {
	r.Root.Version++
	r.Root.Expires = r.now().Add(tuf.DefaultRootTTL)
	signers := []tuf.Signer{tuf.LocalSigner(r.RootKey)}
	for _, k := range extra {
		signers = append(signers, tuf.LocalSigner(k))
	}
	_, b, err := tuf.Sign(context.Background(), r.Root, signers...)
	if err != nil {
		return nil, err
	}
	r.Files[tuf.RoleRoot] = b
	return b, nil
}

// SignTargets bumps the version of role ("targets" or a delegation) and
// signs it with its key.
func (r *Repo) SignTargets(role string) ([]byte, error) {
	t, ok := r.Targets[role]
	if !ok {
		return nil, fmt.Errorf("servertest: no role %s", role)
	}
	key := r.TargetsKey
	if role != tuf.RoleTargets {
		key = r.DelegationKeys[role]
	}
	t.Version++
	t.Expires = r.now().Add(tuf.DefaultTargetsTTL)
	_, b, err := tuf.Sign(context.Background(), t, tuf.LocalSigner(key))
	if err != nil {
		return nil, err
	}
	r.Files[role] = b
	return b, nil
}

// SignSnapshot signs a client snapshot listing the last signed file of
// every role (root, targets, delegations). It needs a client snapshot key.
func (r *Repo) SignSnapshot() ([]byte, error) {
	if r.SnapshotKey == nil {
		return nil, fmt.Errorf("servertest: the server holds the snapshot key")
	}
	meta := map[string]tuf.FileMeta{}
	for role, b := range r.Files {
		if role == tuf.RoleSnapshot || role == tuf.RoleTimestamp {
			continue
		}
		fm, err := tuf.NewFileMeta(b)
		if err != nil {
			return nil, err
		}
		meta[role] = fm
	}
	// Every role's last file is listed, so building on the previous
	// snapshot (tuf.NextSnapshot, as the server does) adds nothing stale.
	s := tuf.NextSnapshot(r.snapshot, meta, r.now().Add(tuf.DefaultSnapshotTTL))
	_, b, err := tuf.Sign(context.Background(), s, tuf.LocalSigner(r.SnapshotKey))
	if err != nil {
		return nil, err
	}
	r.snapshot = s
	r.Files[tuf.RoleSnapshot] = b
	return b, nil
}

// AddTarget adds (or replaces) a target in role's metadata, unsigned.
func (r *Repo) AddTarget(role, name string, content []byte) error {
	t, ok := r.Targets[role]
	if !ok {
		return fmt.Errorf("servertest: no role %s", role)
	}
	fm, err := tuf.NewFileMeta(content)
	if err != nil {
		return err
	}
	t.Targets[name] = fm
	return nil
}

// AddDelegation delegates role (a child of an existing targets role) to a
// fresh ecdsa key with the given paths, unsigned.
func (r *Repo) AddDelegation(role string, paths ...string) error {
	parent, ok := r.Targets[tuf.ParentRole(role)]
	if !ok {
		return fmt.Errorf("servertest: no parent for %s", role)
	}
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		return err
	}
	pub := k.Public()
	parent.Delegations.Keys[pub.ID()] = pub
	parent.Delegations.Roles = append(parent.Delegations.Roles, &tuf.DelegationRole{
		Name: role, KeyIDs: []string{pub.ID()}, Threshold: 1, Paths: paths,
	})
	r.DelegationKeys[role] = k
	r.Targets[role] = &tuf.Targets{
		Type:        tuf.TypeTargets,
		Delegations: tuf.Delegations{Keys: map[string]keys.PublicKey{}, Roles: []*tuf.DelegationRole{}},
		Targets:     map[string]tuf.FileMeta{},
	}
	return nil
}

// RotateRootKey replaces the root key with a fresh one and returns the
// old one, which must also sign the next root.
func (r *Repo) RotateRootKey() (*keys.PrivateKey, error) {
	old := r.RootKey
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		return nil, err
	}
	now := r.now()
	if r.RootKey, err = k.WithRootCertificate(r.GUN, now, now.Add(keys.RootCertificateValidity)); err != nil {
		return nil, err
	}
	pub := r.RootKey.Public()
	r.Root.Keys[pub.ID()] = pub
	r.Root.Roles[tuf.RoleRoot] = &tuf.RootRole{KeyIDs: []string{pub.ID()}, Threshold: 1}
	return old, nil
}

// SetRoleKey makes root list only pub for a base role (a key rotation).
func (r *Repo) SetRoleKey(role string, pub keys.PublicKey) {
	for _, id := range r.Root.Roles[role].KeyIDs {
		delete(r.Root.Keys, id)
	}
	r.Root.Keys[pub.ID()] = pub
	r.Root.Roles[role] = &tuf.RootRole{KeyIDs: []string{pub.ID()}, Threshold: 1}
}

// Parts returns the last signed bytes of the given roles as update parts.
func (r *Repo) Parts(roles ...string) []api.Part {
	out := make([]api.Part, 0, len(roles))
	for _, role := range roles {
		out = append(out, api.Part{Role: role, Data: r.Files[role]})
	}
	return out
}

// Initial signs root (version 1), targets and, with a client snapshot
// key, the snapshot, and returns them as the parts of a first publish.
func (r *Repo) Initial() ([]api.Part, error) {
	if _, err := r.SignRoot(); err != nil {
		return nil, err
	}
	if _, err := r.SignTargets(tuf.RoleTargets); err != nil {
		return nil, err
	}
	roles := []string{tuf.RoleRoot, tuf.RoleTargets}
	if r.SnapshotKey != nil {
		if _, err := r.SignSnapshot(); err != nil {
			return nil, err
		}
		roles = append(roles, tuf.RoleSnapshot)
	}
	return r.Parts(roles...), nil
}

// Publish signs the given targets roles (and the snapshot when the client
// holds its key) and returns the parts.
func (r *Repo) Publish(roles ...string) ([]api.Part, error) {
	for _, role := range roles {
		if _, err := r.SignTargets(role); err != nil {
			return nil, err
		}
	}
	if r.SnapshotKey != nil {
		if _, err := r.SignSnapshot(); err != nil {
			return nil, err
		}
		roles = append(slices.Clone(roles), tuf.RoleSnapshot)
	}
	return r.Parts(roles...), nil
}

// Clone returns a deep enough copy for a second publisher of the same
// collection (shared keys, independent metadata).
func (r *Repo) Clone() *Repo {
	c := *r
	root := *r.Root
	root.Keys = maps.Clone(r.Root.Keys)
	root.Roles = maps.Clone(r.Root.Roles)
	c.Root = &root
	c.Targets = map[string]*tuf.Targets{}
	for role, t := range r.Targets {
		tc := *t
		tc.Targets = maps.Clone(t.Targets)
		tc.Delegations.Keys = maps.Clone(t.Delegations.Keys)
		tc.Delegations.Roles = slices.Clone(t.Delegations.Roles)
		c.Targets[role] = &tc
	}
	c.DelegationKeys = maps.Clone(r.DelegationKeys)
	c.Files = maps.Clone(r.Files)
	return &c
}

// SHA256Hex is the hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:])
}
