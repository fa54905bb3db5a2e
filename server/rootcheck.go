package server

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Messages of v1's trustpinning errors (ErrValidationFail,
// ErrRootRotationFail), kept so v1 clients print what they always printed.
const (
	msgValidationFail = "could not validate the path to a trusted root: "
	msgRotationFail   = "could not rotate trust to a new trusted root: "
)

// checkRoot applies v1's root rules for an upload (§4.1 step 2, §3.5, §4.5;
// trustpinning.ValidateRoot with an empty pinning config, i.e. TOFU with
// the stored root as the pin):
//
//   - the new root's root keys must hold acceptable certificates for gun
//     (one leaf first, CN = gun or a matching wildcard, sane validity, no
//     SHA-1, RSA >= 2048 bits, not expired, NotBefore at most a day ahead);
//   - with a stored root, the new root must be signed by the stored root's
//     certificate keys (expiry not checked) meeting the stored threshold;
//   - it must be signed by its own valid certificate keys meeting its own
//     threshold;
//   - it must not be expired.
//
// The returned error's text becomes the ErrBadRoot message.
func checkRoot(gun string, prev *tuf.Root, env *tuf.Envelope, root *tuf.Root, now time.Time) error {
	valid, validIDs := rootCertKeys(root, gun, now, true)
	if len(valid) == 0 {
		return errors.New(msgValidationFail + "unable to retrieve valid leaf certificates")
	}
	if prev != nil {
		trusted, trustedIDs := rootCertKeys(prev, gun, now, false)
		if len(trusted) == 0 {
			return errors.New(msgValidationFail + "could not retrieve trusted certs from previous root role data")
		}
		if err := tuf.VerifySignatures(env, tuf.RoleRoot, trusted, trustedIDs, prev.Roles[tuf.RoleRoot].Threshold); err != nil {
			return errors.New(msgRotationFail + "failed to validate data with current trusted certificates")
		}
	}
	if err := tuf.VerifySignatures(env, tuf.RoleRoot, valid, validIDs, root.Roles[tuf.RoleRoot].Threshold); err != nil {
		return errors.New(msgValidationFail + "failed to validate integrity of roots")
	}
	return tuf.CheckExpiry(tuf.RoleRoot, root.Expires, now)
}

// rootCertKeys returns the root-role keys of r whose certificate bundle is
// acceptable for gun (v1 parseAllCerts + validRootLeafCerts), by TUF ID,
// and their IDs in a stable order.
func rootCertKeys(r *tuf.Root, gun string, now time.Time, checkExpiry bool) (map[string]keys.PublicKey, []string) {
	out := map[string]keys.PublicKey{}
	rr := r.Roles[tuf.RoleRoot]
	if rr == nil {
		return out, nil
	}
	for _, id := range rr.KeyIDs {
		k, ok := r.Keys[id]
		if !ok || !k.IsX509() {
			continue
		}
		certs, err := k.Certificates()
		if err != nil || len(certs) == 0 {
			continue
		}
		leaves := 0
		for _, c := range certs {
			if !c.IsCA {
				leaves++
			}
		}
		// Exactly one leaf, and it comes first.
		if leaves != 1 || certs[0].IsCA {
			continue
		}
		leaf := certs[0]
		if !matchCN(leaf.Subject.CommonName, gun) {
			continue
		}
		if certProblem(leaf, now, checkExpiry) != nil {
			continue
		}
		out[id] = k
	}
	ids := make([]string, 0, len(out))
	for id := range out {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return out, ids
}

// matchCN is v1 MatchCNToGun: CN equals the GUN, or CN ends in "*" and the
// GUN starts with CN minus its trailing "*"s.
func matchCN(cn, gun string) bool {
	if strings.HasSuffix(cn, "*") {
		return strings.HasPrefix(gun, strings.TrimRight(cn, "*"))
	}
	return cn == gun
}

// certProblem is v1 utils.ValidateCertificate.
func certProblem(c *x509.Certificate, now time.Time, checkExpiry bool) error {
	if c.NotBefore.After(c.NotAfter) {
		return errors.New("certificate validity window is invalid")
	}
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return errors.New("certificate uses a SHA-1 signature algorithm")
	}
	if c.PublicKeyAlgorithm == x509.RSA {
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || k.N.BitLen() < keys.MinRSABits {
			return errors.New("RSA key too short")
		}
	}
	if checkExpiry && (now.AddDate(0, 0, 1).Before(c.NotBefore) || now.After(c.NotAfter)) {
		return errors.New("certificate expired")
	}
	return nil
}
