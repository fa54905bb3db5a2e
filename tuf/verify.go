package tuf

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/keys"
)

// maxSkipped bounds the reasons a ThresholdError carries.
const maxSkipped = 5

// RoleKeys is the set of keys that may sign a role and how many of them
// must: from root for base roles, from the parent's delegations for
// delegated roles.
type RoleKeys struct {
	Name      string
	KeyIDs    []string                  // as listed, TUF IDs
	Keys      map[string]keys.PublicKey // the listed keys, by TUF ID
	Threshold int
}

// Equal reports whether rk and other name the same set of keys with the
// same threshold (v1 BaseRole.Equals); names and key order do not matter.
func (rk RoleKeys) Equal(other RoleKeys) bool {
	if rk.Threshold != other.Threshold || len(rk.Keys) != len(other.Keys) {
		return false
	}
	for id := range rk.Keys {
		if _, ok := other.Keys[id]; !ok {
			return false
		}
	}
	return true
}

// RoleKeys returns the keys and threshold root assigns to a base role (v1
// root.BuildBaseRole). An absent role is a *NoSuchRoleError; a listed key
// ID without a key is a *MalformedError (ParseRoot refuses both).
func (r *Root) RoleKeys(role string) (RoleKeys, error) {
	rr := r.Roles[role]
	if rr == nil {
		return RoleKeys{}, &NoSuchRoleError{Role: role, Parent: RoleRoot}
	}
	m, err := pickKeys(RoleRoot, "roles."+role, r.Keys, rr.KeyIDs)
	if err != nil {
		return RoleKeys{}, err
	}
	return RoleKeys{Name: role, KeyIDs: rr.KeyIDs, Keys: m, Threshold: rr.Threshold}, nil
}

// Verify checks env's signatures against these keys (see VerifySignatures).
func (rk RoleKeys) Verify(env *Envelope) error {
	return VerifySignatures(env, rk.Name, rk.Keys, rk.KeyIDs, rk.Threshold)
}

func pickKeys(role, field string, all map[string]keys.PublicKey, ids []string) (map[string]keys.PublicKey, error) {
	m := make(map[string]keys.PublicKey, len(ids))
	for _, id := range ids {
		k, ok := all[id]
		if !ok {
			return nil, &MalformedError{Role: role, Field: field, Reason: fmt.Sprintf("key ID %s has no corresponding key", id)}
		}
		m[id] = k
	}
	return m, nil
}

// VerifySignatures checks that env is signed by at least threshold
// distinct keys among keyIDs (each looked up in keyMap), v1 §3.6:
//
//   - the message is the canonical re-encoding of env.Signed (v1 §2.3), so
//     a file whose "signed" bytes are not canonical still verifies, exactly
//     as in v1;
//   - signatures whose keyid is not one of the role's keys are ignored;
//   - a role key whose computed TUF ID differs from the keyid it is listed
//     under is a hard *KeyIDMismatchError (v1 ErrInvalidKeyID);
//   - a signature with an unknown method, a method foreign to the key type
//     (keys.Verify, NCC 2015) or bad bytes is skipped;
//   - keys count by canonical ID (keys.PublicKey.CanonicalID): one key
//     listed as a plain key and as certificates for it counts once, however
//     many key IDs and signatures it has (v1 counted key IDs; issue 18);
//   - bounded work (issue 10): more than MaxSignatures signatures is a
//     *MalformedError, each key ID is verified at most once (its first
//     signature decides), and verification stops once the threshold is met
//     or can no longer be met.
//
// A threshold below 1 or too few valid keys is a *ThresholdError; an
// envelope with no signatures is a *NoSignaturesError. role only labels
// errors.
func VerifySignatures(env *Envelope, role string, keyMap map[string]keys.PublicKey, keyIDs []string, threshold int) error {
	if threshold < 1 {
		return &ThresholdError{Role: role, Threshold: threshold}
	}
	if env == nil || len(env.Signatures) == 0 {
		return &NoSignaturesError{Role: role}
	}
	if len(env.Signatures) > MaxSignatures {
		return tooManySignatures(role)
	}
	// Canonicalising costs a few times the body: not for an envelope
	// that no key of the role signed.
	if !slices.ContainsFunc(env.Signatures, func(s Signature) bool {
		_, ok := keyMap[s.KeyID]
		return ok && slices.Contains(keyIDs, s.KeyID)
	}) {
		return &ThresholdError{Role: role, Threshold: threshold}
	}
	msg, err := canonicaljson.Canonicalize(env.Signed)
	if err != nil {
		return &MalformedError{Role: role, Field: "signed", Reason: err.Error()}
	}
	return VerifyCanonical(msg, env.Signatures, role, keyMap, keyIDs, threshold)
}

func tooManySignatures(role string) error {
	return &MalformedError{Role: role, Field: "signatures", Reason: fmt.Sprintf("more than %d signatures", MaxSignatures)}
}

// verifySignature checks one signature; tests replace it to count calls.
var verifySignature = func(k keys.PublicKey, method string, msg, sig []byte) error {
	return k.Verify(method, msg, sig)
}

// canonicalID is the ID a key counts under toward a threshold. A key
// whose certificate cannot be read counts under its TUF ID: it cannot
// verify anything anyway.
func canonicalID(k keys.PublicKey, id string) string {
	if c, err := k.CanonicalID(); err == nil {
		return c
	}
	return id
}

// VerifyCanonical is VerifySignatures over a message that is already the
// canonical encoding of the signed body.
func VerifyCanonical(msg []byte, sigs []Signature, role string, keyMap map[string]keys.PublicKey, keyIDs []string, threshold int) error {
	if threshold < 1 {
		return &ThresholdError{Role: role, Threshold: threshold}
	}
	if len(sigs) == 0 {
		return &NoSignaturesError{Role: role}
	}
	if len(sigs) > MaxSignatures {
		return tooManySignatures(role)
	}
	roleKeys := make(map[string]keys.PublicKey, len(keyIDs))
	for _, id := range keyIDs {
		if k, ok := keyMap[id]; ok {
			roleKeys[id] = k
		}
	}
	// v1 checks every signature's key ID before any counts; do the same so
	// the outcome does not depend on signature order. untried counts the
	// role's key IDs that have a signature and are not verified yet.
	untried := make(map[string]bool, len(sigs))
	for _, s := range sigs {
		k, ok := roleKeys[s.KeyID]
		if !ok || untried[s.KeyID] {
			continue
		}
		untried[s.KeyID] = true
		if got := k.ID(); got != s.KeyID {
			return &KeyIDMismatchError{Role: role, KeyID: s.KeyID, Computed: got}
		}
	}
	valid := make(map[string]bool, threshold) // by canonical ID
	var skipped []error
	for _, s := range sigs {
		if len(valid)+len(untried) < threshold {
			break // even if every key left verifies, too few
		}
		if !untried[s.KeyID] {
			continue // not a role key, or already verified once
		}
		delete(untried, s.KeyID)
		k := roleKeys[s.KeyID]
		cid := canonicalID(k, s.KeyID)
		if valid[cid] {
			continue // the same key under another ID counted already
		}
		if err := verifySignature(k, s.Method, msg, s.Sig); err != nil {
			if len(skipped) < maxSkipped {
				skipped = append(skipped, fmt.Errorf("signature by %.12s… (%s): %w", s.KeyID, s.Method, err))
			}
			continue
		}
		valid[cid] = true
		if len(valid) >= threshold {
			return nil
		}
	}
	return &ThresholdError{Role: role, Threshold: threshold, Valid: len(valid), Skipped: skipped}
}

// CheckDistinctKeys refuses a role whose keys include one key under two
// IDs (a plain key and a certificate for it, or two certificates for one
// key): it would count once toward a threshold while looking like two.
// keyIDs are looked up in keyMap; IDs without a key are ignored. The error
// is a *DuplicateKeyError. Callers that add keys to a role (delegation
// add, root rotation) check with it.
func CheckDistinctKeys(role string, keyMap map[string]keys.PublicKey, keyIDs []string) error {
	seen := make(map[string]string, len(keyIDs))
	for _, id := range keyIDs {
		k, ok := keyMap[id]
		if !ok {
			continue
		}
		cid := canonicalID(k, id)
		if other, dup := seen[cid]; dup && other != id {
			return &DuplicateKeyError{Role: role, KeyID: id, Other: other, CanonicalID: cid}
		}
		seen[cid] = id
	}
	return nil
}

// CheckExpiry reports an *ExpiredError when expires is before now; an
// expiry equal to now is still valid (v1 IsExpired: expires.Before(now);
// TUF 5.3.10, 5.4.4, 5.5.6). now is always the caller's: tuf never reads
// the clock.
func CheckExpiry(role string, expires, now time.Time) error {
	if expires.Before(now) {
		return &ExpiredError{Role: role, Expires: expires, Now: now}
	}
	return nil
}

// CheckVersion reports a *LowVersionError when version is below the
// trusted version. An equal version is allowed (v1 §4.7: rollback is a
// lower version).
func CheckVersion(role string, version, trusted int64) error {
	if version < trusted {
		return &LowVersionError{Role: role, Version: version, Trusted: trusted}
	}
	return nil
}

// VerifyRootRotation checks newRoot, parsed from newEnv, against the
// trusted root (v1 §4.5, TUF 5.3.4): it must be signed by the trusted
// root's root keys meeting the trusted threshold (a *RootRotationError
// otherwise), then by its own root keys meeting its own threshold (a
// *ThresholdError otherwise), and its version must not be lower than the
// trusted one (*LowVersionError). Expiry is not checked: an intermediate
// root in a chain may have expired. Certificate rules are trustpin's.
func VerifyRootRotation(trusted *Root, newEnv *Envelope, newRoot *Root) error {
	if trusted == nil || newEnv == nil || newRoot == nil {
		return &RootRotationError{Err: errors.New("missing trusted or new root")}
	}
	if err := CheckVersion(RoleRoot, newRoot.Version, trusted.Version); err != nil {
		return err
	}
	msg, err := canonicaljson.Canonicalize(newEnv.Signed)
	if err != nil {
		return &MalformedError{Role: RoleRoot, Field: "signed", Reason: err.Error()}
	}
	old, err := trusted.RoleKeys(RoleRoot)
	if err != nil {
		return &RootRotationError{Trusted: trusted.Version, Version: newRoot.Version, Err: err}
	}
	if err := VerifyCanonical(msg, newEnv.Signatures, RoleRoot, old.Keys, old.KeyIDs, old.Threshold); err != nil {
		return &RootRotationError{Trusted: trusted.Version, Version: newRoot.Version, Err: err}
	}
	self, err := newRoot.RoleKeys(RoleRoot)
	if err != nil {
		return err
	}
	return VerifyCanonical(msg, newEnv.Signatures, RoleRoot, self.Keys, self.KeyIDs, self.Threshold)
}
