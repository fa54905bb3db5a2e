package trustpin

import (
	"errors"
	"fmt"
	"strings"
)

// Rule sentinels: each names the v1 rule (§3.5, §4.8) a root or one of its
// certificates broke. Test with errors.Is; a *ValidationError wraps the
// rule of the whole check and the *CertError of every refused certificate.
var (
	// ErrNotX509: a root key is not an x509 certificate bundle.
	ErrNotX509 = errors.New("root key is not an x509 certificate")
	// ErrCertBundle: the PEM bundle does not hold exactly one leaf (non-CA)
	// certificate, first, followed by CA certificates only.
	ErrCertBundle = errors.New("invalid certificate bundle")
	// ErrCommonName: the leaf CN is neither the GUN nor a wildcard prefix of it.
	ErrCommonName = errors.New("certificate common name does not match the GUN")
	// ErrValidityWindow: NotBefore is after NotAfter.
	ErrValidityWindow = errors.New("certificate validity window is invalid")
	// ErrSHA1: the certificate is signed with SHA-1.
	ErrSHA1 = errors.New("certificate uses a SHA-1 signature algorithm")
	// ErrRSATooShort: an RSA certificate key below 2048 bits.
	ErrRSATooShort = errors.New("certificate RSA key is shorter than 2048 bits")
	// ErrCertExpired: expired, or NotBefore more than a day in the future.
	ErrCertExpired = errors.New("certificate expired or not yet valid")
	// ErrUnsupportedCertKey: the leaf's key is neither RSA nor ECDSA.
	ErrUnsupportedCertKey = errors.New("certificate key is neither RSA nor ECDSA")
	// ErrNoValidLeaf: no root key holds an acceptable leaf certificate.
	ErrNoValidLeaf = errors.New("no valid leaf certificates found in any of the root keys")
	// ErrNotPinned: no valid leaf matches the trust pinning (certs IDs or CA).
	ErrNotPinned = errors.New("unable to match any certificates to trust_pinning config")
	// ErrTOFUDisabled: disable_tofu is set and neither certs nor ca covers
	// the GUN on first bootstrap (v1 "invalid trust pinning specified").
	ErrTOFUDisabled = errors.New("invalid trust pinning specified: disable_tofu is set and no certs or ca entry matches")
	// ErrCALoad: a pinned CA bundle cannot be read or parsed.
	ErrCALoad = errors.New("could not load root cert from CA path")
	// ErrNoValidCA: a pinned CA bundle holds no currently valid certificate.
	ErrNoValidCA = errors.New("invalid CA certs provided")
	// ErrRootSignatures: the root's pinned certificate keys do not meet its
	// own root threshold ("failed to validate integrity of roots").
	ErrRootSignatures = errors.New("failed to validate integrity of roots")
	// ErrRootRotation: the new root is not signed by the previous root's
	// certificate keys meeting the previous threshold.
	ErrRootRotation = errors.New("failed to validate data with current trusted certificates")
)

// CertError says why the certificate of root key KeyID (TUF ID) was not
// accepted. Err wraps a rule sentinel.
type CertError struct {
	KeyID string
	CN    string
	Err   error
}

func (e *CertError) Error() string {
	if e.CN != "" {
		return fmt.Sprintf("root key %.12s… (CN %q): %v", e.KeyID, e.CN, e.Err)
	}
	return fmt.Sprintf("root key %.12s…: %v", e.KeyID, e.Err)
}

func (e *CertError) Unwrap() error { return e.Err }

// ValidationError reports a root that cannot be trusted for GUN. Rule is
// a sentinel above; Certs lists refused certificates; Err, when set, is
// the underlying error (a tuf threshold or rotation error).
type ValidationError struct {
	GUN   string
	Rule  error
	Certs []*CertError
	Err   error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trustpin: could not validate the path to a trusted root for %s: %v", e.GUN, e.Rule)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	for i, c := range e.Certs {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(c.Error())
	}
	if len(e.Certs) > 0 {
		b.WriteString("]")
	}
	return b.String()
}

func (e *ValidationError) Unwrap() []error {
	out := make([]error, 0, 2+len(e.Certs))
	out = append(out, e.Rule)
	if e.Err != nil {
		out = append(out, e.Err)
	}
	for _, c := range e.Certs {
		out = append(out, c)
	}
	return out
}
