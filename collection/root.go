package collection

import (
	"fmt"
	"slices"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// RootCertificateKey makes the certificate v1 wraps a root key in (client
// rootCertKey: CN=gun, valid from now for keys.RootCertificateValidity,
// ten 365-day years) and returns it as the root's TUF public key
// (ecdsa-x509 or rsa-x509). Key stores keep the key under its canonical
// ID, which the certificate does not change.
func RootCertificateKey(key *keys.PrivateKey, gun string, now time.Time) (keys.PublicKey, error) {
	k, err := key.WithRootCertificate(gun, now, now.Add(keys.RootCertificateValidity))
	if err != nil {
		return keys.PublicKey{}, err
	}
	return k.Public(), nil
}

// checkRootKey refuses a root key clients would not accept (v1 §3.5): not
// an x509 certificate, an unparsable one, or (when gun is known) one whose
// common name does not match the GUN (trustpin.MatchCN).
func checkRootKey(k keys.PublicKey, gun string) error {
	if !k.IsX509() {
		return &InvalidRoleError{Role: tuf.RoleRoot, Reason: fmt.Sprintf("root keys must be x509 certificates (ecdsa-x509 or rsa-x509), got %q", k.Type)}
	}
	leaf, err := k.Leaf()
	if err != nil {
		return &InvalidRoleError{Role: tuf.RoleRoot, Reason: "unusable root certificate", Err: err}
	}
	if gun != "" && !trustpin.MatchCN(leaf.Subject.CommonName, gun) {
		return &InvalidRoleError{Role: tuf.RoleRoot, Reason: fmt.Sprintf("root certificate common name %q does not match %q", leaf.Subject.CommonName, gun)}
	}
	return nil
}

// ReplaceBaseKeys replaces every key of base role role in root with pubs,
// as v1's key rotation does (Repo.ReplaceBaseKeys, applied from a "root"
// scope "role" change):
//
//   - root is marked dirty, and so is targets when its keys change; the
//     snapshot is re-signed anyway when its key is held, and the timestamp
//     is the server's;
//   - keys no other role uses are removed from root's "keys", except root
//     certificates, which v1 keeps (v1 §1.3); the removed keys are
//     reported by DroppedKeys;
//   - when root's own keys change, the next Sign signs the new root with
//     the old root keys too (v1 §4.5).
//
// Root keys must be x509 certificates. Unlike v1, an empty key list is
// refused: it would leave a role no one can sign.
func (c *Collection) ReplaceBaseKeys(role string, pubs ...keys.PublicKey) error {
	if !tuf.IsBaseRole(role) {
		return &InvalidRoleError{Role: role, Reason: "not a base role"}
	}
	rr := c.root.Roles[role]
	if rr == nil {
		return &InvalidRoleError{Role: role, Reason: "role not found in root file"}
	}
	if len(pubs) == 0 {
		return &InvalidRoleError{Role: role, Reason: "no keys given"}
	}
	for _, k := range pubs {
		if k.Type == "" || len(k.Public) == 0 {
			return &InvalidRoleError{Role: role, Reason: "empty key"}
		}
		if role == tuf.RoleRoot {
			if err := checkRootKey(k, ""); err != nil {
				return err
			}
		}
	}

	// One key under two IDs would count once toward the threshold while
	// looking like two (issue 18).
	given := make(map[string]keys.PublicKey, len(pubs))
	ids := make([]string, 0, len(pubs))
	for _, k := range pubs {
		id := k.ID()
		if _, dup := given[id]; !dup {
			given[id] = k
			ids = append(ids, id)
		}
	}
	if err := tuf.CheckDistinctKeys(role, given, ids); err != nil {
		return err
	}

	// v1 RemoveBaseKeys: drop the role's keys, and from "keys" those no
	// other role lists (root certificates stay).
	old := rr.KeyIDs
	rr.KeyIDs = nil
	if role != tuf.RoleRoot {
		inUse := map[string]bool{}
		for name, other := range c.root.Roles {
			if name == role || other == nil {
				continue
			}
			for _, id := range other.KeyIDs {
				inUse[id] = true
			}
		}
		for _, id := range old {
			if k, ok := c.root.Keys[id]; ok && !inUse[id] {
				delete(c.root.Keys, id)
				c.dropped = append(c.dropped, k)
			}
		}
	}
	// v1 AddBaseKeys.
	for _, k := range pubs {
		id := k.ID()
		c.root.Keys[id] = k
		if !slices.Contains(rr.KeyIDs, id) {
			rr.KeyIDs = append(rr.KeyIDs, id)
		}
		c.dropped = slices.DeleteFunc(c.dropped, func(d keys.PublicKey) bool { return d.ID() == id })
	}
	c.rootDirty = true
	if role == tuf.RoleTargets {
		if t, ok := c.targets[tuf.RoleTargets]; ok {
			t.dirty = true
		}
	}
	return nil
}
