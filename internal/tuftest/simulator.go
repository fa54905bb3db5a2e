// Package tuftest is a test-only, in-memory Notary repository: a
// Simulator that publishes a collection's metadata as notary-server would
// (root, targets and delegations signed by their keys, then a fresh
// snapshot and timestamp on every publish) and serves it as an
// update.Remote, with a fake clock, fixture builders, and helpers that stage
// the attacks a TUF client must refuse: rollback, freeze, mix-and-match,
// arbitrary targets, endless data, fast-forward, malicious mirrors, key
// compromise and recovery through root rotation (DESIGN habit 11, after
// go-tuf's RepositorySimulator and sumdb's TestClientFork).
package tuftest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing/fstest"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// ErrUnreachable is what a Simulator set offline answers: not a
// not-found, so clients treat it as a network failure.
var ErrUnreachable = errors.New("tuftest: connection refused")

// A Simulator is one collection on an in-memory notary server. Its
// methods stage changes (AddTarget, AddDelegation, RotateKeys, Expire,
// SetThreshold) that Publish signs and serves, and attacks that change
// what is served at once. Keys are generated once per Simulator: root keys
// are ecdsa-x509 self-signed certificates with CN = GUN (v1 §3.5), targets
// and snapshot keys ecdsa, timestamp and delegation keys ed25519. A
// Simulator is safe for concurrent use; the methods panic on failures
// that can only be bugs (signing with a key it made).
type Simulator struct {
	// Clock is the time metadata is signed at; tests advance it to expire
	// things and pass Clock.Now() to the client.
	Clock *Clock
	gun   string

	mu        sync.Mutex
	root      *tuf.Root
	targets   map[string]*tuf.Targets // "targets" and delegations (legitimate state)
	snapshot  *tuf.Snapshot
	timestamp *tuf.Timestamp

	signers        map[string][]*keys.PrivateKey
	oldRootSigners []*keys.PrivateKey // also sign the next root (rotation)
	expiry         map[string]time.Time
	dirty          map[string]bool
	unpublished    map[string]bool // delegated, but no metadata published

	current map[string][]byte           // role → bytes served as <role>.json
	files   map[string][]byte           // hash-addressed and versioned files, kept forever
	history map[string]map[int64][]byte // role → version → bytes

	overrides    map[string][]byte // file name → bytes served instead
	endless      map[string]bool
	ignoreLimits bool
	frozen       map[string][]byte // when set, plain names are served from here
	offline      bool
	deleted      bool
	fetches      []string
}

var _ update.Remote = (*Simulator)(nil)

// New returns a Simulator for gun whose clock starts at Epoch, with
// version 1 of root, targets (empty), snapshot and timestamp published.
func New(gun string) *Simulator {
	s := &Simulator{
		Clock:       NewClock(Epoch),
		gun:         gun,
		targets:     map[string]*tuf.Targets{},
		signers:     map[string][]*keys.PrivateKey{},
		expiry:      map[string]time.Time{},
		dirty:       map[string]bool{},
		unpublished: map[string]bool{},
		current:     map[string][]byte{},
		files:       map[string][]byte{},
		history:     map[string]map[int64][]byte{},
		overrides:   map[string][]byte{},
		endless:     map[string]bool{},
	}
	s.root = &tuf.Root{Type: tuf.TypeRoot, Keys: map[string]keys.PublicKey{}, Roles: map[string]*tuf.RootRole{}}
	s.signers[tuf.RoleRoot] = []*keys.PrivateKey{s.newRootKey()}
	s.signers[tuf.RoleTargets] = []*keys.PrivateKey{mustGenerate(keys.ECDSA)}
	s.signers[tuf.RoleSnapshot] = []*keys.PrivateKey{mustGenerate(keys.ECDSA)}
	s.signers[tuf.RoleTimestamp] = []*keys.PrivateKey{mustGenerate(keys.ED25519)}
	for _, role := range tuf.BaseRoles {
		k := s.signers[role][0]
		s.root.Keys[k.ID()] = k.Public()
		s.root.Roles[role] = &tuf.RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
	}
	s.targets[tuf.RoleTargets] = newTargets()
	s.snapshot = &tuf.Snapshot{Type: tuf.TypeSnapshot}
	s.timestamp = &tuf.Timestamp{Type: tuf.TypeTimestamp}
	s.dirty[tuf.RoleRoot] = true
	s.dirty[tuf.RoleTargets] = true
	s.publishLocked()
	return s
}

func newTargets() *tuf.Targets {
	return &tuf.Targets{
		Type:        tuf.TypeTargets,
		Targets:     map[string]tuf.FileMeta{},
		Delegations: tuf.Delegations{Keys: map[string]keys.PublicKey{}, Roles: []*tuf.DelegationRole{}},
	}
}

func mustGenerate(typ string) *keys.PrivateKey {
	k, err := keys.Generate(typ)
	if err != nil {
		panic(fmt.Sprintf("tuftest: generating %s key: %v", typ, err))
	}
	return k
}

func (s *Simulator) newRootKey() *keys.PrivateKey {
	k := mustGenerate(keys.ECDSA)
	now := s.Clock.Now()
	ck, err := k.WithRootCertificate(s.gun, now.Add(-time.Hour), now.Add(keys.RootCertificateValidity))
	if err != nil {
		panic(fmt.Sprintf("tuftest: root certificate: %v", err))
	}
	return ck
}

// NewRootKey returns a fresh ecdsa-x509 key with a certificate for the
// GUN, which the Simulator does not use: for forging roots.
func (s *Simulator) NewRootKey() *keys.PrivateKey { return s.newRootKey() }

// NewKey returns a fresh ecdsa key the Simulator does not use: an
// attacker's key.
func NewKey() *keys.PrivateKey { return mustGenerate(keys.ECDSA) }

// GUN is the collection's name.
func (s *Simulator) GUN() string { return s.gun }

// Keys returns the private keys that currently sign role: what a thief
// of those keys holds.
func (s *Simulator) Keys(role string) []*keys.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.signers[role])
}

// RootCertIDs returns the TUF IDs of the current root certificates, for
// trust pinning by certificate ID.
func (s *Simulator) RootCertIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.root.Roles[tuf.RoleRoot].KeyIDs)
}

// Bytes returns the file currently served as <role>.json (nil if none).
func (s *Simulator) Bytes(role string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.current[role])
}

// History returns the bytes of every published version of role, by
// version, including forged ones.
func (s *Simulator) History(role string) map[int64][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.history[role])
}

// Version returns the version of role in the legitimate state (the last
// one Publish signed).
func (s *Simulator) Version(role string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch role {
	case tuf.RoleRoot:
		return s.root.Version
	case tuf.RoleSnapshot:
		return s.snapshot.Version
	case tuf.RoleTimestamp:
		return s.timestamp.Version
	}
	if t := s.targets[role]; t != nil {
		return t.Version
	}
	return 0
}

// --- fixture builders (staged until Publish) ---

// AddTarget adds (or replaces) target name with data's length and sha256
// and sha512 hashes in role, which must exist.
func (s *Simulator) AddTarget(role, name string, data []byte) {
	fm, err := tuf.NewFileMeta(data)
	if err != nil {
		panic(err)
	}
	s.AddTargetMeta(role, name, fm)
}

// AddTargetMeta adds (or replaces) target name with the given FileMeta.
func (s *Simulator) AddTargetMeta(role, name string, fm tuf.FileMeta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.role(role).Targets[name] = fm
	s.dirty[role] = true
}

// RemoveTarget removes target name from role.
func (s *Simulator) RemoveTarget(role, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.role(role).Targets, name)
	s.dirty[role] = true
}

func (s *Simulator) role(name string) *tuf.Targets {
	t := s.targets[name]
	if t == nil {
		panic(fmt.Sprintf("tuftest: no targets role %s", name))
	}
	return t
}

// AddDelegation delegates name (a direct child of parent) to a new
// ed25519 key with threshold 1 and the given path prefixes ("" for all),
// appended after parent's existing delegations, and stages empty metadata
// for it.
func (s *Simulator) AddDelegation(parent, name string, paths ...string) {
	s.delegate(parent, name, paths, true)
}

// DelegateOnly is AddDelegation without metadata for name: the snapshot
// will not list it until something is published into it (AddTarget).
func (s *Simulator) DelegateOnly(parent, name string, paths ...string) {
	s.delegate(parent, name, paths, false)
}

func (s *Simulator) delegate(parent, name string, paths []string, publish bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !tuf.IsDirectChild(parent, name) {
		panic(fmt.Sprintf("tuftest: %s is not a direct child of %s", name, parent))
	}
	p := s.role(parent)
	k := mustGenerate(keys.ED25519)
	s.signers[name] = []*keys.PrivateKey{k}
	p.Delegations.Keys[k.ID()] = k.Public()
	p.Delegations.Roles = append(p.Delegations.Roles, &tuf.DelegationRole{
		Name: name, KeyIDs: []string{k.ID()}, Threshold: 1, Paths: slices.Clone(paths),
	})
	s.targets[name] = newTargets()
	s.dirty[parent] = true
	if publish {
		s.dirty[name] = true
	} else {
		s.unpublished[name] = true
	}
}

// Expire makes the next signature of role (at the next Publish, or the
// regeneration of snapshot and timestamp) carry expiry t instead of the
// default lifetime (v1 §1.9), and stages role.
func (s *Simulator) Expire(role string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiry[role] = t
	s.dirty[role] = true
}

// SetThreshold sets the threshold of a base role in root, generating keys
// for it until it has at least n. It stages root (and targets, to be
// signed by the new keys).
func (s *Simulator) SetThreshold(role string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rr := s.root.Roles[role]
	if role == tuf.RoleRoot {
		s.oldRootSigners = append(s.oldRootSigners, s.signers[role]...)
	}
	for len(s.signers[role]) < n {
		var k *keys.PrivateKey
		if role == tuf.RoleRoot {
			k = s.newRootKey()
		} else {
			k = mustGenerate(keys.ECDSA)
		}
		s.signers[role] = append(s.signers[role], k)
		s.root.Keys[k.ID()] = k.Public()
		rr.KeyIDs = append(rr.KeyIDs, k.ID())
	}
	rr.Threshold = n
	s.dirty[tuf.RoleRoot] = true
	if tuf.IsTargetsRole(role) {
		s.dirty[role] = true
	}
}

// RotateKeys replaces the keys of role with one new key and stages the
// change (v1 `notary key rotate`): for root, a new certificate key, with
// the next root signed by the old and the new root keys (the old
// certificates stay in root.keys, as v1 keeps them); for timestamp,
// snapshot and targets, a new key in root (old ones removed from keys);
// for a delegation, a new key in its parent.
func (s *Simulator) RotateKeys(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case role == tuf.RoleRoot:
		k := s.newRootKey()
		s.oldRootSigners = append(s.oldRootSigners, s.signers[role]...)
		s.signers[role] = []*keys.PrivateKey{k}
		s.root.Keys[k.ID()] = k.Public()
		s.root.Roles[role] = &tuf.RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
		s.dirty[tuf.RoleRoot] = true
	case tuf.IsBaseRole(role):
		typ := keys.ECDSA
		if role == tuf.RoleTimestamp {
			typ = keys.ED25519
		}
		k := mustGenerate(typ)
		for _, old := range s.signers[role] {
			delete(s.root.Keys, old.ID())
		}
		s.signers[role] = []*keys.PrivateKey{k}
		s.root.Keys[k.ID()] = k.Public()
		s.root.Roles[role] = &tuf.RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
		s.dirty[tuf.RoleRoot] = true
		if role == tuf.RoleTargets {
			s.dirty[role] = true
		}
	case tuf.IsDelegationName(role):
		parent := s.role(tuf.ParentRole(role))
		k := mustGenerate(keys.ED25519)
		for _, old := range s.signers[role] {
			delete(parent.Delegations.Keys, old.ID())
		}
		s.signers[role] = []*keys.PrivateKey{k}
		parent.Delegations.Keys[k.ID()] = k.Public()
		for _, d := range parent.Delegations.Roles {
			if d.Name == role {
				d.KeyIDs, d.Threshold = []string{k.ID()}, 1
			}
		}
		s.dirty[tuf.ParentRole(role)] = true
		s.dirty[role] = true
	default:
		panic("tuftest: cannot rotate keys of " + role)
	}
}

// BumpRoot stages a new root version with no other change.
func (s *Simulator) BumpRoot() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty[tuf.RoleRoot] = true
}

// Publish signs every staged role with a bumped version and serves it,
// then, as notary-server does on every update, a new snapshot listing the
// current root, targets and delegations, and a new timestamp (v1 §4.2).
// Attacks staged with Forge or Rollback stay served for roles Publish does
// not re-sign.
func (s *Simulator) Publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishLocked()
}

// RefreshTimestamp signs a new timestamp over the current snapshot, as
// the server does when its timestamp expires (v1 §4.2).
func (s *Simulator) RefreshTimestamp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishTimestamp()
}

func (s *Simulator) publishLocked() {
	if s.dirty[tuf.RoleRoot] {
		s.root.Version++
		s.root.Expires = s.expires(tuf.RoleRoot)
		signers := append(slices.Clone(s.signers[tuf.RoleRoot]), s.oldRootSigners...)
		s.setCurrent(tuf.RoleRoot, s.root.Version, s.sign(s.root, signers))
		s.oldRootSigners = nil
	}
	names := make([]string, 0, len(s.dirty))
	for name := range s.dirty {
		if tuf.IsTargetsRole(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		t := s.targets[name]
		if t == nil {
			continue
		}
		delete(s.unpublished, name)
		t.Version++
		t.Expires = s.expires(name)
		s.setCurrent(name, t.Version, s.sign(t, s.signers[name]))
	}
	clear(s.dirty)
	s.publishSnapshot()
	s.publishTimestamp()
}

// publishSnapshot and publishTimestamp build the next bodies with the
// builders the server uses (tuf.NextSnapshot, tuf.NextTimestamp).
func (s *Simulator) publishSnapshot() {
	meta := map[string]tuf.FileMeta{}
	for role, b := range s.current {
		if role == tuf.RoleRoot || tuf.IsTargetsRole(role) {
			meta[role] = fileMeta(b)
		}
	}
	s.snapshot = tuf.NextSnapshot(s.snapshot, meta, s.expires(tuf.RoleSnapshot))
	s.setCurrent(tuf.RoleSnapshot, s.snapshot.Version, s.sign(s.snapshot, s.signers[tuf.RoleSnapshot]))
}

func (s *Simulator) publishTimestamp() {
	ts, err := tuf.NextTimestamp(s.timestamp, s.current[tuf.RoleSnapshot], s.expires(tuf.RoleTimestamp))
	if err != nil {
		panic(err)
	}
	s.timestamp = ts
	s.setCurrent(tuf.RoleTimestamp, s.timestamp.Version, s.sign(s.timestamp, s.signers[tuf.RoleTimestamp]))
}

func fileMeta(b []byte) tuf.FileMeta {
	fm, err := tuf.NewFileMeta(b)
	if err != nil {
		panic(err)
	}
	return fm
}

// expires returns role's staged expiry, or now plus its default lifetime.
func (s *Simulator) expires(role string) time.Time {
	if t, ok := s.expiry[role]; ok {
		delete(s.expiry, role)
		return t
	}
	return s.Clock.Now().Add(tuf.DefaultTTL(role))
}

func (s *Simulator) sign(body any, signers []*keys.PrivateKey) []byte {
	ss := make([]tuf.Signer, len(signers))
	for i, k := range signers {
		ss[i] = tuf.LocalSigner(k)
	}
	_, b, err := tuf.Sign(context.Background(), body, ss...)
	if err != nil {
		panic(fmt.Sprintf("tuftest: signing: %v", err))
	}
	return b
}

func (s *Simulator) setCurrent(role string, version int64, b []byte) {
	s.current[role] = b
	s.files[update.FileName(role, sha256Hex(b))] = b
	if role == tuf.RoleRoot {
		s.files[update.VersionedRootName(version)] = b
	}
	if s.history[role] == nil {
		s.history[role] = map[int64][]byte{}
	}
	s.history[role][version] = b
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// --- update.Remote ---

// GetMeta implements update.Remote, serving the current file or the one
// with the given hash, with the staged attacks applied. Every request is
// logged (see Fetches).
func (s *Simulator) GetMeta(ctx context.Context, role, sha256hex string, maxSize int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := update.FileName(role, sha256hex)
	s.fetches = append(s.fetches, name)
	var data []byte
	if sha256hex == "" {
		data = s.current[role]
		if s.frozen != nil {
			data = s.frozen[role]
		}
	} else {
		data = s.files[name]
	}
	return s.serve(ctx, name, data, maxSize)
}

// GetVersionedRoot implements update.Remote.
func (s *Simulator) GetVersionedRoot(ctx context.Context, version int64, maxSize int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := update.VersionedRootName(version)
	s.fetches = append(s.fetches, name)
	return s.serve(ctx, name, s.files[name], maxSize)
}

func (s *Simulator) serve(ctx context.Context, name string, data []byte, maxSize int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.offline {
		return nil, fmt.Errorf("tuftest: GET %s: %w", name, ErrUnreachable)
	}
	if s.deleted {
		return nil, fmt.Errorf("tuftest: %s: %w", name, update.ErrNotFound)
	}
	if s.endless[name] {
		if s.ignoreLimits {
			return bytes.Repeat([]byte{' '}, int(maxSize)+1), nil
		}
		return update.ReadLimited(endlessReader{}, name, maxSize)
	}
	if o, ok := s.overrides[name]; ok {
		data = o
	}
	if data == nil {
		return nil, fmt.Errorf("tuftest: %s: %w", name, update.ErrNotFound)
	}
	if int64(len(data)) > maxSize && !s.ignoreLimits {
		return nil, &update.TooLargeError{File: name, Limit: maxSize}
	}
	return bytes.Clone(data), nil
}

type endlessReader struct{}

func (endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '{'
	}
	return len(p), nil
}

// Fetches returns the names of the files requested so far, in order.
func (s *Simulator) Fetches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fetches)
}

// ResetFetches clears the request log.
func (s *Simulator) ResetFetches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches = nil
}

// MapFS returns the files the Simulator serves, as a static mirror of the
// collection would hold them: <role>.json, <role>.<sha256>.json and
// <version>.root.json (attacks not applied). Use with update.DirRemote.
func (s *Simulator) MapFS() fstest.MapFS {
	s.mu.Lock()
	defer s.mu.Unlock()
	fsys := fstest.MapFS{}
	for name, b := range s.files {
		fsys[name] = &fstest.MapFile{Data: bytes.Clone(b)}
	}
	for role, b := range s.current {
		fsys[update.FileName(role, "")] = &fstest.MapFile{Data: bytes.Clone(b)}
	}
	return fsys
}

// SetOffline makes every request fail as if the server were unreachable
// (on true) or serve again (on false).
func (s *Simulator) SetOffline(offline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offline = offline
}

// Delete makes the server answer 404 for everything, as after
// `notary delete --remote`.
func (s *Simulator) Delete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = true
}

// Fork returns an independent copy of the Simulator, with the same keys,
// history and clock, whose later publishes diverge from this one's: a
// server showing different clients different histories (sumdb
// TestClientFork). Staged attacks are not copied.
func (s *Simulator) Fork() *Simulator {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &Simulator{
		Clock:          s.Clock,
		gun:            s.gun,
		root:           copyBody(tuf.RoleRoot, s.root).(*tuf.Root),
		targets:        map[string]*tuf.Targets{},
		snapshot:       copyBody(tuf.RoleSnapshot, s.snapshot).(*tuf.Snapshot),
		timestamp:      copyBody(tuf.RoleTimestamp, s.timestamp).(*tuf.Timestamp),
		signers:        map[string][]*keys.PrivateKey{},
		oldRootSigners: slices.Clone(s.oldRootSigners),
		expiry:         maps.Clone(s.expiry),
		dirty:          maps.Clone(s.dirty),
		unpublished:    maps.Clone(s.unpublished),
		current:        maps.Clone(s.current),
		files:          maps.Clone(s.files),
		history:        map[string]map[int64][]byte{},
		overrides:      map[string][]byte{},
		endless:        map[string]bool{},
	}
	for name, t := range s.targets {
		f.targets[name] = copyBody(name, t).(*tuf.Targets)
	}
	for role, ks := range s.signers {
		f.signers[role] = slices.Clone(ks)
	}
	for role, h := range s.history {
		f.history[role] = maps.Clone(h)
	}
	return f
}

// copyBody deep-copies the body of role through its canonical encoding.
func copyBody(role string, body tuf.Metadata) tuf.Metadata {
	c, err := tuf.CanonicalSigned(body)
	if err != nil {
		panic(err)
	}
	var out tuf.Metadata
	switch body.(type) {
	case *tuf.Root:
		out, err = tuf.DecodeRoot(c)
	case *tuf.Snapshot:
		out, err = tuf.DecodeSnapshot(c)
	case *tuf.Timestamp:
		out, err = tuf.DecodeTimestamp(c)
	case *tuf.Targets:
		var t *tuf.Targets
		if t, err = tuf.DecodeTargets(c, role); err == nil {
			if t.Targets == nil {
				t.Targets = map[string]tuf.FileMeta{}
			}
			if t.Delegations.Keys == nil {
				t.Delegations.Keys = map[string]keys.PublicKey{}
			}
			if t.Delegations.Roles == nil {
				t.Delegations.Roles = []*tuf.DelegationRole{}
			}
		}
		out = t
	default:
		panic(fmt.Sprintf("tuftest: cannot copy %T", body))
	}
	if err != nil {
		panic(fmt.Sprintf("tuftest: copying %s: %v", role, err))
	}
	return out
}
