package collection

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// SignOptions adjusts Sign for two v1 publish cases.
type SignOptions struct {
	// InitialPublish is set for the first publish of a repository (the
	// server does not know it yet, v1 publish's initialPublish): root is
	// uploaded even when unchanged (as is, not re-signed), and targets is
	// re-signed even when unchanged. v1's "notary init" signs version 1 of
	// root, targets and snapshot into the cache and its first publish then
	// re-signs targets and snapshot, so the server's first files are root
	// 1, targets 2 and snapshot 2 (observed).
	InitialPublish bool
	// ExtraRootKeys are root keys of older root versions that should also
	// sign a new root, if available, for old clients (v1 LegacyVersions).
	// Giving any forces root to be re-signed; unavailable ones are skipped.
	ExtraRootKeys []keys.PublicKey
}

// Sign signs every changed role and returns the files to upload, by role
// name, byte for byte as v1 writes them (tuf.Sign: canonical body, v1's
// envelope encoding). Following v1's publish:
//
//   - root is signed when it changed, when it expires within six months of
//     now (now.AddDate(0, 6, 0)), or when ExtraRootKeys are given; a root
//     whose root role changed is signed by the previous root's keys too,
//     each role meeting its own threshold (v1 §4.5);
//   - every changed targets or delegated role is signed with its keys
//     (delegations with the keys and threshold their parent lists);
//   - the snapshot is signed whenever the snapshot key is available, with
//     meta (sha256, sha512, length) over the exact file of root and of
//     every targets role held, new or unchanged; with no snapshot key at
//     all it is left out, for the server to make (v1 §4.9);
//   - the timestamp is never signed: the server always makes it.
//
// Each signed role gets version+1 and expires at now plus its default
// lifetime (tuf.DefaultTTL; delegations use the targets lifetime). Every
// available key of a role signs; fewer than the threshold is an
// *InsufficientSignaturesError naming the role.
//
// Sign is all or nothing: on error the collection is unchanged. On success
// the collection holds the new versions and nothing is dirty; the result
// may be empty.
func (c *Collection) Sign(ctx context.Context, now time.Time, opts SignOptions) (map[string][]byte, error) {
	out := map[string][]byte{}
	root, err := c.signRoot(ctx, now, opts, out)
	if err != nil {
		return nil, err
	}
	signed, files, err := c.signTargets(ctx, now, opts, root.root, out)
	if err != nil {
		return nil, err
	}
	snap, snapFile, err := c.signSnapshot(ctx, now, root, files, out)
	if err != nil {
		return nil, err
	}

	// Commit.
	c.root, c.rootFile, c.signedRootRole, c.rootDirty = root.root, root.file, root.role, false
	for _, s := range signed {
		s.r.t, s.r.file, s.r.dirty = s.t, s.file, false
	}
	if snap != nil {
		c.snapshot, c.snapshotFile = snap, snapFile
	}
	return out, nil
}

// signedRootState is the root Sign continues with: re-signed or as held.
type signedRootState struct {
	root *tuf.Root
	file []byte
	role tuf.RoleKeys // the root role that signed file
}

// signRoot is Sign's root stage: it re-signs root when due (changed,
// expiring within six months, or ExtraRootKeys given), with the previous
// root's keys too when the root role changed, and adds root to out when
// it is re-signed or InitialPublish uploads it as is.
func (c *Collection) signRoot(ctx context.Context, now time.Time, opts SignOptions, out map[string][]byte) (signedRootState, error) {
	st := signedRootState{root: c.root, file: c.rootFile, role: c.signedRootRole}
	if c.rootDirty || len(opts.ExtraRootKeys) > 0 || c.root.Expires.Before(now.AddDate(0, 6, 0)) {
		nr := *c.root
		nr.Version++
		nr.Expires = now.Add(tuf.DefaultTTL(tuf.RoleRoot))
		cur, err := nr.RoleKeys(tuf.RoleRoot)
		if err != nil {
			return st, err
		}
		sets := []keySet{{rk: cur}}
		if !c.signedRootRole.Equal(cur) {
			sets = append(sets, keySet{rk: c.signedRootRole, previous: true})
		}
		file, err := c.signBody(ctx, tuf.RoleRoot, &nr, sets, opts.ExtraRootKeys)
		if err != nil {
			return st, err
		}
		st = signedRootState{root: &nr, file: file, role: cur}
		out[tuf.RoleRoot] = file
	} else if opts.InitialPublish {
		if c.rootFile == nil {
			return st, fmt.Errorf("collection: no root file to publish")
		}
		out[tuf.RoleRoot] = c.rootFile
	}
	return st, nil
}

// signedTargets is a targets role signed by Sign, committed at its end.
type signedTargets struct {
	r    *targetsRole
	t    *tuf.Targets
	file []byte
}

// signTargets is Sign's targets stage: every changed targets or delegated
// role (and targets on an InitialPublish) is signed with the keys root
// (under root) or its parent delegation assigns it, and added to out. It
// returns what to commit and the file of every targets role held, new or
// unchanged, for the snapshot.
func (c *Collection) signTargets(ctx context.Context, now time.Time, opts SignOptions, root *tuf.Root, out map[string][]byte) ([]signedTargets, map[string][]byte, error) {
	var signed []signedTargets
	files := make(map[string][]byte, len(c.targets))
	for _, name := range slices.Sorted(maps.Keys(c.targets)) {
		r := c.targets[name]
		files[name] = r.file
		if !r.dirty && !(name == tuf.RoleTargets && opts.InitialPublish) {
			continue
		}
		var rk tuf.RoleKeys
		if name == tuf.RoleTargets {
			k, err := root.RoleKeys(tuf.RoleTargets)
			if err != nil {
				return nil, nil, &InvalidRoleError{Role: name, Reason: "root does not define targets", Err: err}
			}
			rk = k
		} else {
			d, err := c.delegation(name)
			if err != nil {
				return nil, nil, err
			}
			rk = d.RoleKeys
		}
		nt := *r.t
		nt.Version++
		nt.Expires = now.Add(tuf.DefaultTTL(tuf.RoleTargets))
		file, err := c.signBody(ctx, name, &nt, []keySet{{rk: rk}}, nil)
		if err != nil {
			return nil, nil, err
		}
		signed = append(signed, signedTargets{r: r, t: &nt, file: file})
		files[name] = file
		out[name] = file
	}
	return signed, files, nil
}

// signSnapshot is Sign's snapshot stage: when a snapshot key is held, the
// next snapshot (tuf.NextSnapshot) over the exact files of root and of
// every targets role is signed and added to out; with no snapshot key it
// returns nil, for the server to make the snapshot (v1 §4.9).
func (c *Collection) signSnapshot(ctx context.Context, now time.Time, root signedRootState, files map[string][]byte, out map[string][]byte) (*tuf.Snapshot, []byte, error) {
	srk, err := root.root.RoleKeys(tuf.RoleSnapshot)
	if err != nil {
		return nil, nil, &InvalidRoleError{Role: tuf.RoleSnapshot, Reason: "root does not define snapshot", Err: err}
	}
	held, _, err := c.signers(ctx, tuf.RoleSnapshot, srk)
	if err != nil || len(held) == 0 {
		return nil, nil, err
	}
	changes := make(map[string]tuf.FileMeta, len(files)+1)
	if err := setMeta(changes, tuf.RoleRoot, root.file); err != nil {
		return nil, nil, err
	}
	for name, f := range files {
		if err := setMeta(changes, name, f); err != nil {
			return nil, nil, err
		}
	}
	ns := tuf.NextSnapshot(c.snapshot, changes, now.Add(tuf.DefaultTTL(tuf.RoleSnapshot)))
	file, err := c.signBody(ctx, tuf.RoleSnapshot, ns, []keySet{{rk: srk}}, nil)
	if err != nil {
		return nil, nil, err
	}
	out[tuf.RoleSnapshot] = file
	return ns, file, nil
}

func setMeta(meta map[string]tuf.FileMeta, role string, file []byte) error {
	if len(file) == 0 {
		return fmt.Errorf("collection: no file for %s to record in the snapshot", role)
	}
	m, err := tuf.NewFileMeta(file, tuf.DefaultHashes...)
	if err != nil {
		return err
	}
	meta[role] = m
	return nil
}

// keySet is a set of keys that must meet its threshold.
type keySet struct {
	rk       tuf.RoleKeys
	previous bool // the previous root's root role
}

// signBody signs body with every available key of each set, each set
// meeting its threshold, plus any available optional key; it returns the
// file bytes.
func (c *Collection) signBody(ctx context.Context, role string, body any, sets []keySet, optional []keys.PublicKey) ([]byte, error) {
	var all []tuf.Signer
	for _, s := range sets {
		held, missing, err := c.signers(ctx, role, s.rk)
		if err != nil {
			return nil, err
		}
		if len(held) < s.rk.Threshold {
			return nil, &InsufficientSignaturesError{Role: role, Threshold: s.rk.Threshold, Found: len(held), Missing: missing, PreviousRoot: s.previous}
		}
		all = append(all, held...)
	}
	if len(optional) > 0 {
		rk := tuf.RoleKeys{Name: role, Keys: map[string]keys.PublicKey{}}
		for _, k := range optional {
			id := k.ID()
			if _, dup := rk.Keys[id]; !dup {
				rk.Keys[id] = k
				rk.KeyIDs = append(rk.KeyIDs, id)
			}
		}
		if held, _, err := c.signers(ctx, role, rk); err == nil { // optional: errors ignored, as in v1
			all = append(all, held...)
		}
	}
	_, file, err := tuf.Sign(ctx, body, all...)
	if err != nil {
		return nil, fmt.Errorf("collection: signing %s: %w", role, err)
	}
	return file, nil
}

// signers returns signers for the available keys of rk, in KeyIDs order
// and each presenting the key as listed (so the signature carries its TUF
// ID), and the canonical IDs of the keys that are not available.
func (c *Collection) signers(ctx context.Context, role string, rk tuf.RoleKeys) ([]tuf.Signer, []string, error) {
	type entry struct {
		id, cid string
		pub     keys.PublicKey
	}
	var (
		list []entry
		ask  []keys.PublicKey
		seen = map[string]bool{}
		asks = map[string]bool{}
	)
	for _, id := range rk.KeyIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		k, ok := rk.Keys[id]
		if !ok {
			continue
		}
		cid, err := c.kc.canonicalID(id, k)
		if err != nil {
			// An unusable certificate signs nothing.
			list = append(list, entry{id: id, cid: id})
			continue
		}
		list = append(list, entry{id: id, cid: cid, pub: k})
		if _, known := c.kc.held[cid]; !known && !asks[cid] {
			asks[cid] = true
			ask = append(ask, k)
		}
	}
	if len(ask) > 0 {
		var got []tuf.Signer
		if c.lookup != nil {
			var err error
			if got, err = c.lookup.Signers(ctx, role, ask); err != nil {
				return nil, nil, fmt.Errorf("collection: looking up %s signing keys: %w", role, err)
			}
		}
		for _, s := range got {
			if s == nil {
				continue
			}
			pub := s.Public()
			cid, err := pub.CanonicalID()
			if err != nil || !asks[cid] {
				continue
			}
			c.kc.held[cid] = s
		}
		for cid := range asks {
			if _, ok := c.kc.held[cid]; !ok {
				c.kc.held[cid] = nil
			}
		}
	}
	var (
		held    []tuf.Signer
		missing []string
	)
	for _, e := range list {
		if s := c.kc.held[e.cid]; s != nil && e.pub.Type != "" {
			held = append(held, presented{Signer: s, pub: e.pub})
		} else {
			missing = append(missing, e.cid)
		}
	}
	return held, missing, nil
}

// presented signs with a looked-up signer under the key as metadata lists
// it (a root certificate rather than the plain key, say).
type presented struct {
	tuf.Signer
	pub keys.PublicKey
}

func (p presented) Public() keys.PublicKey { return p.pub }

// keyCache remembers what the collection learnt about keys: canonical IDs,
// certificate checks and which keys the lookup holds. It is shared by a
// collection and its working copies.
type keyCache struct {
	canon map[string]string     // TUF ID → canonical ID
	certs map[string]error      // TUF ID → certificate check
	held  map[string]tuf.Signer // canonical ID → signer; nil: not held
}

func newKeyCache() *keyCache {
	return &keyCache{canon: map[string]string{}, certs: map[string]error{}, held: map[string]tuf.Signer{}}
}

func (kc *keyCache) canonicalID(id string, k keys.PublicKey) (string, error) {
	if cid, ok := kc.canon[id]; ok {
		return cid, nil
	}
	cid, err := k.CanonicalID()
	if err != nil {
		return "", err
	}
	kc.canon[id] = cid
	return cid, nil
}

// certCheck applies v1's utils.ValidateCertificate(cert, false) to an x509
// delegation key whenever a delegation is looked up (Repo.GetDelegationRole):
// trustpin's certificate rules without expiry. A certificate that does not
// parse is not checked here, as in v1 (it cannot sign anyway).
func (kc *keyCache) certCheck(id string, k keys.PublicKey) error {
	if !k.IsX509() {
		return nil
	}
	if err, ok := kc.certs[id]; ok {
		return err
	}
	var err error
	if leaf, perr := k.Leaf(); perr == nil {
		err = trustpin.ValidateCertificate(leaf, time.Time{}, false)
	}
	kc.certs[id] = err
	return err
}
