// Package testpki makes throwaway certificate authorities and certificates
// (ECDSA P-256) for tests, written as PEM files under t.TempDir().
//
// It is test support: only tests (_test.go files and the interop test
// harness) import it; production code must not.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A CA is a certificate authority made for one test.
type CA struct {
	Cert   *x509.Certificate
	Key    *ecdsa.PrivateKey
	PEM    []byte         // Cert, PEM-encoded
	Pool   *x509.CertPool // holding Cert alone
	Dir    string         // where CAFile and the issued files are written
	CAFile string         // Dir/ca.crt, holding PEM
}

// New makes a CA with the common name name, valid from an hour ago for a
// day, and writes its certificate to CAFile in a fresh t.TempDir().
func New(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &CA{
		Cert:   cert,
		Key:    key,
		PEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Pool:   x509.NewCertPool(),
		Dir:    dir,
		CAFile: filepath.Join(dir, "ca.crt"),
	}
	ca.Pool.AddCert(cert)
	WriteFile(t, ca.CAFile, ca.PEM)
	return ca
}

// Options describe a certificate to issue.
type Options struct {
	DNS        []string // subject alternative DNS names
	IPs        []net.IP // subject alternative IP addresses
	ServerAuth bool     // extended key usage serverAuth
	ClientAuth bool     // extended key usage clientAuth
	// NotBefore and NotAfter bound the validity; zero means an hour ago
	// and a day from now.
	NotBefore, NotAfter time.Time
	// SEC1Key writes the key as "EC PRIVATE KEY" (SEC 1) rather than
	// "PRIVATE KEY" (PKCS #8).
	SEC1Key bool
}

// Loopback is the IP SAN list of a certificate for 127.0.0.1.
func Loopback() []net.IP { return []net.IP{net.ParseIP("127.0.0.1")} }

// A Leaf is an issued certificate and its key, in memory and on disk.
type Leaf struct {
	Cert              *x509.Certificate
	TLS               tls.Certificate // Cert and its key
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string // in the CA's Dir, named after the common name
}

// Issue makes a certificate with the common name name, signed by ca, and
// writes it and its key to ca.Dir as name.crt and name.key ("/" and " " in
// name become "_").
func (ca *CA) Issue(t testing.TB, name string, o Options) *Leaf {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     o.DNS,
		IPAddresses:  o.IPs,
	}
	if o.ServerAuth {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if o.ClientAuth {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyType := "PRIVATE KEY"
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if o.SEC1Key {
		keyType = "EC PRIVATE KEY"
		keyDER, err = x509.MarshalECPrivateKey(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(ca.Dir, strings.NewReplacer("/", "_", " ", "_").Replace(name))
	l := &Leaf{
		Cert:     cert,
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:   pem.EncodeToMemory(&pem.Block{Type: keyType, Bytes: keyDER}),
		CertFile: base + ".crt",
		KeyFile:  base + ".key",
	}
	WriteFile(t, l.CertFile, l.CertPEM)
	WriteFile(t, l.KeyFile, l.KeyPEM)
	return l
}

// Files returns CertFile and KeyFile.
func (l *Leaf) Files() (certFile, keyFile string) { return l.CertFile, l.KeyFile }

// WritePEM writes der as one PEM block of type typ to file (mode 0600).
func WritePEM(t testing.TB, file, typ string, der []byte) {
	t.Helper()
	WriteFile(t, file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// WriteFile writes b to file (mode 0600), failing the test on error.
func WriteFile(t testing.TB, file string, b []byte) {
	t.Helper()
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
