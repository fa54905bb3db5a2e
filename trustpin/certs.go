package trustpin

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// MatchCN reports whether a leaf certificate's common name is valid for
// gun (v1 MatchCNToGun): equal to it, or, when cn ends in "*", a prefix of
// it once every trailing "*" is removed.
func MatchCN(cn, gun string) bool {
	if strings.HasSuffix(cn, "*") {
		return strings.HasPrefix(gun, strings.TrimRight(cn, "*"))
	}
	return cn == gun
}

// ValidateCertificate applies v1's certificate rules (utils.ValidateCertificate):
// NotBefore must not be after NotAfter (ErrValidityWindow), no SHA-1
// signature (ErrSHA1), RSA keys of at least 2048 bits (ErrRSATooShort),
// and, when checkExpiry is set, now must be within [NotBefore − 1 day,
// NotAfter] (ErrCertExpired): a day of leeway for clock skew at creation.
func ValidateCertificate(c *x509.Certificate, now time.Time, checkExpiry bool) error {
	if c.NotBefore.After(c.NotAfter) {
		return ErrValidityWindow
	}
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return ErrSHA1
	}
	if c.PublicKeyAlgorithm == x509.RSA {
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: unreadable RSA key", ErrRSATooShort)
		}
		if k.N.BitLen() < keys.MinRSABits {
			return fmt.Errorf("%w: %d bits", ErrRSATooShort, k.N.BitLen())
		}
	}
	if checkExpiry {
		if now.AddDate(0, 0, 1).Before(c.NotBefore) {
			return fmt.Errorf("%w: not valid before %s", ErrCertExpired, c.NotBefore.UTC().Format(time.RFC3339))
		}
		if now.After(c.NotAfter) {
			return fmt.Errorf("%w: expired at %s", ErrCertExpired, c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// ParseBundle parses PEM text holding only CERTIFICATE blocks (v1
// LoadCertBundleFromPEM): any other block type, an unparsable certificate
// or no certificate at all is an error.
func ParseBundle(pemBytes []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("invalid pem block type: %s", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no valid certificates found")
	}
	return certs, nil
}

// SplitBundle returns the leaf and intermediate certificates of an x509
// root key (v1 parseAllCerts): the key must be ecdsa-x509 or rsa-x509
// (ErrNotX509), and its PEM must parse and hold exactly one non-CA
// certificate, first; the CA certificates are the intermediates
// (ErrCertBundle).
func SplitBundle(k keys.PublicKey) (*x509.Certificate, []*x509.Certificate, error) {
	if !k.IsX509() {
		return nil, nil, fmt.Errorf("%w: key type %s", ErrNotX509, k.Type)
	}
	certs, err := ParseBundle(k.Public)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrCertBundle, err)
	}
	var leaves, ints []*x509.Certificate
	for _, c := range certs {
		if c.IsCA {
			ints = append(ints, c)
		} else {
			leaves = append(leaves, c)
		}
	}
	if len(leaves) != 1 {
		return nil, nil, fmt.Errorf("%w: %d leaf certificates, want exactly 1", ErrCertBundle, len(leaves))
	}
	if certs[0].IsCA {
		return nil, nil, fmt.Errorf("%w: the leaf certificate is not first", ErrCertBundle)
	}
	return leaves[0], ints, nil
}

// BundleKey rebuilds the TUF key of a leaf and its intermediates as v1
// does (utils.CertBundleToKey): the certificates PEM-encoded in order,
// typed by the leaf's key algorithm (ecdsa-x509 or rsa-x509). Its ID is
// what certs pinning matches and what root signatures must name.
func BundleKey(leaf *x509.Certificate, ints []*x509.Certificate) (keys.PublicKey, error) {
	var typ string
	switch leaf.PublicKeyAlgorithm {
	case x509.ECDSA:
		typ = keys.ECDSAx509
	case x509.RSA:
		typ = keys.RSAx509
	default:
		return keys.PublicKey{}, fmt.Errorf("%w: %v", ErrUnsupportedCertKey, leaf.PublicKeyAlgorithm)
	}
	var buf bytes.Buffer
	for _, c := range append([]*x509.Certificate{leaf}, ints...) {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // writes to a buffer cannot fail
	}
	return keys.PublicKey{Type: typ, Public: buf.Bytes()}, nil
}

// A RootCert is one certificate of a root role: the TUF key ID it is
// listed under and its leaf certificate.
type RootCert struct {
	KeyID string
	Leaf  *x509.Certificate
}

// RootCerts returns the leaf certificates of the keys of root's root role,
// in key ID order. Keys that are not x509, or whose bundle does not parse,
// are left out: callers that must validate them use ValidateRoot.
func RootCerts(root *tuf.Root) ([]RootCert, error) {
	rk, err := root.RoleKeys(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	var out []RootCert
	for _, id := range rk.KeyIDs {
		k, ok := rk.Keys[id]
		if !ok || !k.IsX509() {
			continue
		}
		leaf, _, err := SplitBundle(k)
		if err != nil {
			continue
		}
		out = append(out, RootCert{KeyID: id, Leaf: leaf})
	}
	return out, nil
}
