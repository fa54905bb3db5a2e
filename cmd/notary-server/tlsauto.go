package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/notary-go/notary/internal/fsperm"
)

// -tls-auto: a first run that works with the Docker CLI, which refuses a
// trust server on plain HTTP. The server makes a local CA and a
// certificate for localhost in <data-dir>/tls and keeps them, so a CA the
// user has trusted once stays valid across restarts.
const (
	tlsAutoDir      = "tls"
	tlsAutoCA       = "ca.crt"
	tlsAutoCAKey    = "ca.key"
	tlsAutoCert     = "server.crt"
	tlsAutoKey      = "server.key"
	tlsAutoCALife   = 10 * 365 * 24 * time.Hour
	tlsAutoCertLife = 365 * 24 * time.Hour
	// tlsAutoRenew: a server certificate this close to expiry is
	// replaced at start (by the same CA, so nothing changes for clients).
	tlsAutoRenew = 30 * 24 * time.Hour
)

// tlsAutoNames are the names the server certificate carries.
var (
	tlsAutoDNS = []string{"localhost"}
	tlsAutoIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
)

// autoTLS is where -tls-auto keeps its files.
type autoTLS struct {
	dir                       string
	caFile, certFile, keyFile string
}

// ensureAutoTLS loads the local CA and server certificate from
// <dataDir>/tls, creating what is missing. An existing CA is never
// replaced (clients trust it); a server certificate that is missing,
// unreadable, not from that CA, lacking a name or expiring within 30
// days is issued again.
func ensureAutoTLS(dataDir string, now time.Time) (*autoTLS, error) {
	dir := filepath.Join(dataDir, tlsAutoDir)
	if err := fsperm.MkdirPrivate(dir); err != nil {
		return nil, fmt.Errorf("-tls-auto: creating %s: %w", dir, err)
	}
	a := &autoTLS{
		dir:      dir,
		caFile:   filepath.Join(dir, tlsAutoCA),
		certFile: filepath.Join(dir, tlsAutoCert),
		keyFile:  filepath.Join(dir, tlsAutoKey),
	}
	caKeyFile := filepath.Join(dir, tlsAutoCAKey)
	caCert, caKey, err := loadCertKey(a.caFile, caKeyFile)
	switch {
	case errors.Is(err, os.ErrNotExist) && !exists(a.caFile) && !exists(caKeyFile):
		if caCert, caKey, err = newAutoCA(now); err != nil {
			return nil, err
		}
		if err := writeCertKey(a.caFile, caKeyFile, caCert, caKey); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("-tls-auto: the local CA in %s does not load (%v); remove the folder to make a new one (clients must then trust the new %s)", dir, err, tlsAutoCA)
	case !caCert.IsCA || now.After(caCert.NotAfter):
		return nil, fmt.Errorf("-tls-auto: the local CA %s is expired or not a CA; remove %s to make a new one (clients must then trust the new %s)", a.caFile, dir, tlsAutoCA)
	}
	leaf, _, err := loadCertKey(a.certFile, a.keyFile)
	if err == nil && leafUsable(leaf, caCert, now) {
		return a, nil
	}
	leaf, leafKey, err := newAutoLeaf(caCert, caKey, now)
	if err != nil {
		return nil, err
	}
	if err := writeCertKey(a.certFile, a.keyFile, leaf, leafKey); err != nil {
		return nil, err
	}
	return a, nil
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// leafUsable: signed by ca, for every name, not expiring soon.
func leafUsable(leaf, ca *x509.Certificate, now time.Time) bool {
	if leaf.CheckSignatureFrom(ca) != nil || now.Add(tlsAutoRenew).After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return false
	}
	for _, n := range tlsAutoDNS {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	for _, ip := range tlsAutoIPs {
		if leaf.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return true
}

func newAutoCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "notary-server local CA " + host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(tlsAutoCALife),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// It signs server certificates only, never another CA.
		MaxPathLen:     0,
		MaxPathLenZero: true,
	}
	c, err := sign(tmpl, tmpl, key.Public(), key)
	return c, key, err
}

func newAutoLeaf(ca *x509.Certificate, caKey crypto.Signer, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(tlsAutoCertLife),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     tlsAutoDNS,
		IPAddresses:  tlsAutoIPs,
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	c, err := sign(tmpl, ca, key.Public(), caKey)
	return c, key, err
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// loadCertKey reads a PEM certificate and its PKCS#8 EC key; an error
// wrapping os.ErrNotExist when either file is missing.
func loadCertKey(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("not PEM")
	}
	c, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || !ek.PublicKey.Equal(c.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not hold the key of %s", keyFile, certFile)
	}
	return c, ek, nil
}

// writeCertKey writes the key 0600 (whatever the umask) and the
// certificate 0644, each through a temporary file renamed into place so
// a crash never leaves half a file.
func writeCertKey(certFile, keyFile string, c *x509.Certificate, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	if err := writeAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(b)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// printTrustHelp tells the user how to trust the local CA: the exact
// commands for the notary CLI and for the Docker CLI, for the port the
// server is listening on.
func printTrustHelp(w io.Writer, a *autoTLS, addr net.Addr) {
	port := "4443"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(ta.Port)
	}
	hostport := net.JoinHostPort("localhost", port)
	ca := mustAbs(a.caFile)
	fmt.Fprintf(w, `
notary-server is serving HTTPS at https://%[1]s with a local CA (-tls-auto),
kept in %[2]s. To trust it:

  notary:  notary -s https://%[1]s --tlscacert %[3]s list <gun>
  Docker:  mkdir -p ~/.docker/tls/%[1]s && cp %[3]s ~/.docker/tls/%[1]s/ca.crt
           export DOCKER_CONTENT_TRUST=1 DOCKER_CONTENT_TRUST_SERVER=https://%[1]s

`, hostport, mustAbs(a.dir), ca)
}
