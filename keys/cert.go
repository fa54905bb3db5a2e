package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// RootCertificateValidity is the lifetime v1 gives the root certificates it
// makes: ten 365-day years (client.go: startTime.Add(notary.Year*10)).
const RootCertificateValidity = 10 * 365 * 24 * time.Hour

// NewRootCertificate makes the self-signed certificate v1 makes for a root
// key (§3.5, tuf/utils NewCertificate and cryptoservice
// GenerateCertificate): subject and issuer CN=gun and nothing else, a
// random serial in [1, 2^128), the given validity, KeyUsage
// digitalSignature+keyEncipherment, ExtKeyUsage codeSigning and
// BasicConstraints CA:FALSE (both critical where Go marks them so), no SAN,
// SKI or AKI. It is signed by key itself (ecdsa-with-SHA256 for ecdsa,
// sha256WithRSAEncryption for rsa). Only ecdsa and rsa keys can have
// certificates. The caller picks the times (v1: now and now plus
// RootCertificateValidity).
func NewRootCertificate(key *PrivateKey, gun string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if key == nil || key.signer == nil {
		return nil, errors.New("keys: nil private key")
	}
	switch key.signer.Public().(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
	default:
		return nil, fmt.Errorf("keys: cannot make a certificate for a %s key (want ecdsa or rsa)", key.Plain().Type())
	}
	if gun == "" {
		return nil, errors.New("keys: root certificate needs a GUN")
	}
	if notAfter.Before(notBefore) {
		return nil, errors.New("keys: certificate would expire before it starts")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: gun},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		// IsCA false: Go then adds no SubjectKeyId, and with an empty
		// parent SubjectKeyId no AuthorityKeyId either.
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.signer.Public(), key.signer)
	if err != nil {
		return nil, fmt.Errorf("keys: creating certificate for %s: %w", gun, err)
	}
	return x509.ParseCertificate(der)
}

// randomSerial is v1's rand.Int(2^128), skipping zero, which Go refuses.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("keys: certificate serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// CertificatePEM encodes certificates as consecutive CERTIFICATE blocks,
// each ending in a newline (v1 CertToPEM / CertChainToPEM).
func CertificatePEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// X509PublicKey returns the TUF key for a certificate, with optional
// intermediates after it: ecdsa-x509 or rsa-x509 by the leaf's algorithm,
// whose public value is the PEM of leaf then intermediates (v1 CertToKey,
// CertBundleToKey).
func X509PublicKey(leaf *x509.Certificate, intermediates ...*x509.Certificate) (PublicKey, error) {
	if leaf == nil {
		return PublicKey{}, errors.New("keys: nil certificate")
	}
	var typ string
	switch leaf.PublicKeyAlgorithm {
	case x509.ECDSA:
		typ = ECDSAx509
	case x509.RSA:
		typ = RSAx509
	default:
		return PublicKey{}, fmt.Errorf("keys: certificate holds a %v key (want ECDSA or RSA): %w", leaf.PublicKeyAlgorithm, x509.ErrUnsupportedAlgorithm)
	}
	return PublicKey{Type: typ, Public: CertificatePEM(append([]*x509.Certificate{leaf}, intermediates...)...)}, nil
}

// WithCertificate returns the key presenting cert (with optional
// intermediates) as its TUF public key; cert must hold this key's public
// key. Its ID is the certificate key's TUF ID; its CanonicalID stays the
// plain key's ID.
func (k *PrivateKey) WithCertificate(cert *x509.Certificate, intermediates ...*x509.Certificate) (*PrivateKey, error) {
	pub, err := X509PublicKey(cert, intermediates...)
	if err != nil {
		return nil, err
	}
	return k.WithPublic(pub)
}

// WithRootCertificate makes a root certificate for gun (NewRootCertificate)
// and returns the key presenting it, as `notary init` does for a new root
// key.
func (k *PrivateKey) WithRootCertificate(gun string, notBefore, notAfter time.Time) (*PrivateKey, error) {
	cert, err := NewRootCertificate(k, gun, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return k.WithCertificate(cert)
}
