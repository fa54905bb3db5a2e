// Package trustpin decides whether a root can be trusted for a GUN: the
// certificate rules every root key must pass (v1 §3.5) and the trust
// pinning that bootstraps trust in a first root (v1 §4.8): pinned
// certificate IDs, a pinned CA, or trust on first use. It does no I/O of
// its own (a CA bundle path is read through Config.ReadFile) and never
// reads the clock.
package trustpin

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Config is the client's "trust_pinning" configuration (v1 TrustPinConfig).
// Exactly one mechanism applies per GUN, in this order: Certs, CA, TOFU.
type Config struct {
	// Certs maps a GUN to the TUF IDs of root certificates it must use. An
	// exact GUN wins; otherwise a key ending in "*" is a prefix wildcard,
	// and the longest matching one wins.
	Certs map[string][]string `json:"certs,omitempty"`
	// CA maps a GUN prefix to the path of a PEM CA bundle; the longest
	// matching prefix wins. Paths are read with ReadFile.
	CA map[string]string `json:"ca,omitempty"`
	// CAPEM maps a GUN prefix to an already loaded PEM CA bundle. It joins
	// CA in the longest-prefix choice and wins over CA for the same prefix.
	CAPEM map[string][]byte `json:"-"`
	// DisableTOFU refuses a first root that neither Certs nor CA covers.
	DisableTOFU bool `json:"disable_tofu,omitempty"`
	// ReadFile reads a CA bundle path (cmd passes os.ReadFile). When nil,
	// a GUN whose CA entry is a path fails with ErrCALoad.
	ReadFile func(name string) ([]byte, error) `json:"-"`
}

// Mode names the pinning mechanism a Checker applies.
type Mode string

// Pinning mechanisms, in precedence order (v1 §4.8).
const (
	ModeCerts Mode = "certs"
	ModeCA    Mode = "ca"
	ModeTOFU  Mode = "tofu"
)

// A Checker applies a Config to one GUN. It is immutable and safe for
// concurrent use.
type Checker struct {
	gun         string
	mode        Mode
	pinnedIDs   []string
	caCerts     []*x509.Certificate
	disableTOFU bool
}

// Checker selects the mechanism for gun (v1 NewTrustPinChecker) and, for
// a CA pin, loads and parses the bundle. Which CA certificates are valid
// is decided at check time, against the time given there. A bundle that
// cannot be read or parsed is an error wrapping ErrCALoad.
func (c Config) Checker(gun string) (*Checker, error) {
	ch := &Checker{gun: gun, disableTOFU: c.DisableTOFU}
	if ids, ok := c.Certs[gun]; ok {
		ch.mode, ch.pinnedIDs = ModeCerts, ids
		return ch, nil
	}
	if ids, ok := wildcardMatch(gun, c.Certs); ok {
		ch.mode, ch.pinnedIDs = ModeCerts, ids
		return ch, nil
	}
	if prefix, ok := longestCAPrefix(gun, c); ok {
		pemBytes, inline := c.CAPEM[prefix]
		if !inline {
			path := c.CA[prefix]
			if c.ReadFile == nil {
				return nil, fmt.Errorf("trustpin: CA for %q at %s: %w: no file reader configured", prefix, path, ErrCALoad)
			}
			b, err := c.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("trustpin: CA for %q at %s: %w: %v", prefix, path, ErrCALoad, err)
			}
			pemBytes = b
		}
		certs, err := ParseBundle(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("trustpin: CA for %q: %w: %v", prefix, ErrCALoad, err)
		}
		ch.mode, ch.caCerts = ModeCA, certs
		return ch, nil
	}
	ch.mode = ModeTOFU
	return ch, nil
}

// GUN is the collection the Checker was made for.
func (c *Checker) GUN() string { return c.gun }

// Mode is the pinning mechanism the Checker applies.
func (c *Checker) Mode() Mode { return c.mode }

// wildcardMatch finds the longest "prefix*" key of certs that gun starts
// with (v1 wildcardMatch).
func wildcardMatch(gun string, certs map[string][]string) ([]string, bool) {
	longest, found := "", false
	var ids []string
	for k, v := range certs {
		if strings.HasSuffix(k, "*") && strings.HasPrefix(gun, k[:len(k)-1]) && (!found || len(k) > len(longest)) {
			longest, ids, found = k, v, true
		}
	}
	return ids, found
}

// longestCAPrefix finds the longest CA (or CAPEM) key that prefixes gun
// (v1 getPinnedCAFilepathByPrefix).
func longestCAPrefix(gun string, c Config) (string, bool) {
	best, found := "", false
	consider := func(p string) {
		if strings.HasPrefix(gun, p) && (!found || len(p) > len(best)) {
			best, found = p, true
		}
	}
	for p := range c.CA {
		consider(p)
	}
	for p := range c.CAPEM {
		consider(p)
	}
	return best, found
}

// ValidateRoot is v1's trustpinning.ValidateRoot: it decides whether root
// (parsed from env) can be trusted for the Checker's GUN at time now.
//
//  1. root's root keys must hold valid leaf certificates for the GUN
//     (CertificateRules with expiry checked), else ErrNoValidLeaf;
//  2. with a previously trusted root prev, root must be signed by prev's
//     certificate keys (CN matching, expiry not checked) meeting prev's
//     root threshold, else ErrRootRotation (v1 §4.5);
//  3. the pinning applies (CheckRoot with firstBoot = prev == nil).
//
// Expiry and version of the root itself are the caller's to check.
func (c *Checker) ValidateRoot(prev *tuf.Root, root *tuf.Root, env *tuf.Envelope, now time.Time) error {
	return c.validateRoot(prev, root, env, now, true)
}

// ValidateRootExpiredCertsOK is ValidateRoot without the certificate
// expiry rule (ErrCertExpired) for root's own certificates and
// intermediates: every other certificate rule, the pinning and the
// signatures still apply. It is for a root that is already trusted (the
// cached root, v1 §3.5: "expiry is not checked for the previously trusted
// root") and for the intermediate roots of a rotation chain (v1 §4.5:
// "expired intermediates allowed"); the final root of a chain must pass
// ValidateRoot. With a CA pin, the chain to the CA is verified as of a
// moment within the leaf's validity window.
func (c *Checker) ValidateRootExpiredCertsOK(prev *tuf.Root, root *tuf.Root, env *tuf.Envelope, now time.Time) error {
	return c.validateRoot(prev, root, env, now, false)
}

func (c *Checker) validateRoot(prev *tuf.Root, root *tuf.Root, env *tuf.Envelope, now time.Time, checkExpiry bool) error {
	if root == nil || env == nil {
		return &ValidationError{GUN: c.gun, Rule: ErrNoValidLeaf, Err: errors.New("no root")}
	}
	if _, _, err := c.validLeaves(root, now, checkExpiry); err != nil {
		return err
	}
	if prev != nil {
		if err := c.checkRotation(prev, env); err != nil {
			return err
		}
	}
	return c.checkRoot(root, env, now, prev == nil, checkExpiry)
}

// CheckRoot applies the pinning to root, parsed from env, at time now
// (v1 §4.8). firstBoot is true when no root is trusted yet for the GUN;
// then DisableTOFU without a Certs or CA match refuses with
// ErrTOFUDisabled. Only root keys whose certificates pass
// CertificateRules (expiry checked against now) and the pinning (Certs:
// TUF ID of the rebuilt leaf+valid-intermediates bundle is pinned; CA: the
// leaf chains to a valid pinned CA through the bundle's valid
// intermediates; TOFU: any) count, and their signatures must meet root's
// own root threshold (ErrRootSignatures). Errors are *ValidationError.
func (c *Checker) CheckRoot(root *tuf.Root, env *tuf.Envelope, now time.Time, firstBoot bool) error {
	return c.checkRoot(root, env, now, firstBoot, true)
}

func (c *Checker) checkRoot(root *tuf.Root, env *tuf.Envelope, now time.Time, firstBoot, checkExpiry bool) error {
	if root == nil || env == nil {
		return &ValidationError{GUN: c.gun, Rule: ErrNoValidLeaf, Err: errors.New("no root")}
	}
	if c.mode == ModeTOFU && c.disableTOFU && firstBoot {
		return &ValidationError{GUN: c.gun, Rule: ErrTOFUDisabled}
	}
	var pool *x509.CertPool
	if c.mode == ModeCA {
		pool = x509.NewCertPool()
		n := 0
		for _, ca := range c.caCerts {
			if ValidateCertificate(ca, now, checkExpiry) == nil { // v1: invalid CA certs are ignored
				pool.AddCert(ca)
				n++
			}
		}
		if n == 0 {
			return &ValidationError{GUN: c.gun, Rule: ErrNoValidCA}
		}
	}
	leaves, refused, err := c.validLeaves(root, now, checkExpiry)
	if err != nil {
		return err
	}
	trusted := map[string]keys.PublicKey{}
	for _, l := range leaves {
		ints := validIntermediates(l.intermediates, now, checkExpiry)
		k, err := BundleKey(l.leaf, ints)
		if err != nil {
			refused = append(refused, &CertError{KeyID: l.keyID, CN: l.leaf.Subject.CommonName, Err: err})
			continue
		}
		switch c.mode {
		case ModeCerts:
			if !slices.Contains(c.pinnedIDs, k.ID()) {
				refused = append(refused, &CertError{KeyID: l.keyID, CN: l.leaf.Subject.CommonName, Err: fmt.Errorf("%w: certificate ID %s is not pinned", ErrNotPinned, k.ID())})
				continue
			}
		case ModeCA:
			inter := x509.NewCertPool()
			for _, i := range ints {
				inter.AddCert(i)
			}
			// v1 calls Verify with default options: KeyUsages defaults to
			// server authentication there too.
			at := now
			if !checkExpiry {
				at = withinValidity(l.leaf, now)
			}
			if _, err := l.leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: at}); err != nil {
				refused = append(refused, &CertError{KeyID: l.keyID, CN: l.leaf.Subject.CommonName, Err: fmt.Errorf("%w: no chain to the pinned CA: %v", ErrNotPinned, err)})
				continue
			}
		}
		trusted[k.ID()] = k
	}
	if len(trusted) == 0 {
		return &ValidationError{GUN: c.gun, Rule: ErrNotPinned, Certs: refused}
	}
	rr := root.Roles[tuf.RoleRoot]
	if rr == nil {
		return &ValidationError{GUN: c.gun, Rule: ErrRootSignatures, Err: &tuf.NoSuchRoleError{Role: tuf.RoleRoot, Parent: tuf.RoleRoot}}
	}
	if err := tuf.VerifySignatures(env, tuf.RoleRoot, trusted, mapKeys(trusted), rr.Threshold); err != nil {
		return &ValidationError{GUN: c.gun, Rule: ErrRootSignatures, Err: err}
	}
	return nil
}

// checkRotation: v1 ValidateRoot's previous-root step.
func (c *Checker) checkRotation(prev *tuf.Root, env *tuf.Envelope) error {
	leaves, refused, err := c.validLeaves(prev, time.Time{}, false)
	if err != nil {
		return &ValidationError{GUN: c.gun, Rule: ErrRootRotation, Certs: refused, Err: errors.New("could not retrieve trusted certs from previous root role data")}
	}
	rr := prev.Roles[tuf.RoleRoot]
	if rr == nil {
		return &ValidationError{GUN: c.gun, Rule: ErrRootRotation, Err: errors.New("could not retrieve previous root role data")}
	}
	old := map[string]keys.PublicKey{}
	for _, l := range leaves {
		// v1 CertsToKeys over all previous intermediates, expired or not.
		if k, err := BundleKey(l.leaf, l.intermediates); err == nil {
			old[k.ID()] = k
		}
	}
	if err := tuf.VerifySignatures(env, tuf.RoleRoot, old, mapKeys(old), rr.Threshold); err != nil {
		return &ValidationError{GUN: c.gun, Rule: ErrRootRotation,
			Err: &tuf.RootRotationError{Trusted: prev.Version, Err: err}}
	}
	return nil
}

type leafCert struct {
	keyID         string
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
}

// validLeaves returns the acceptable leaf certificates of root's root
// keys (v1 parseAllCerts + validRootLeafCerts), sorted by key ID, and why
// the others were refused. None acceptable is a *ValidationError with
// ErrNoValidLeaf.
func (c *Checker) validLeaves(root *tuf.Root, now time.Time, checkExpiry bool) ([]leafCert, []*CertError, error) {
	var (
		out     []leafCert
		refused []*CertError
	)
	var ids []string
	if rr := root.Roles[tuf.RoleRoot]; rr != nil {
		ids = rr.KeyIDs
	}
	seen := map[string]bool{}
	for _, id := range ids {
		k, ok := root.Keys[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		leaf, ints, err := SplitBundle(k)
		if err != nil {
			refused = append(refused, &CertError{KeyID: id, Err: err})
			continue
		}
		if !MatchCN(leaf.Subject.CommonName, c.gun) {
			refused = append(refused, &CertError{KeyID: id, CN: leaf.Subject.CommonName, Err: fmt.Errorf("%w %s", ErrCommonName, c.gun)})
			continue
		}
		if err := ValidateCertificate(leaf, now, checkExpiry); err != nil {
			refused = append(refused, &CertError{KeyID: id, CN: leaf.Subject.CommonName, Err: err})
			continue
		}
		out = append(out, leafCert{keyID: id, leaf: leaf, intermediates: ints})
	}
	if len(out) == 0 {
		return nil, refused, &ValidationError{GUN: c.gun, Rule: ErrNoValidLeaf, Certs: refused}
	}
	slices.SortFunc(out, func(a, b leafCert) int { return strings.Compare(a.keyID, b.keyID) })
	return out, refused, nil
}

func validIntermediates(ints []*x509.Certificate, now time.Time, checkExpiry bool) []*x509.Certificate {
	var out []*x509.Certificate
	for _, i := range ints {
		if ValidateCertificate(i, now, checkExpiry) == nil {
			out = append(out, i)
		}
	}
	return out
}

// withinValidity returns now moved into c's validity window: the time to
// verify a chain as of when the expiry of the leaf is not checked.
func withinValidity(c *x509.Certificate, now time.Time) time.Time {
	switch {
	case now.After(c.NotAfter):
		return c.NotAfter
	case now.Before(c.NotBefore):
		return c.NotBefore
	}
	return now
}

func mapKeys(m map[string]keys.PublicKey) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
