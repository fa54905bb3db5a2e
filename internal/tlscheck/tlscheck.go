// Package tlscheck tests that a TLS configuration refuses TLS 1.1 and
// older and RSA key exchange (no forward secrecy), from either side of the
// handshake, while still completing a modern one. Each check uses an RSA
// certificate, since RSA key exchange needs one: with an ECDSA certificate
// an RSA-key-exchange handshake fails whatever the configuration says.
//
// It is test support, shared by test/audit and the in-package tests of the
// programs (whose TLS setup is unexported): production code must not
// import it.
package tlscheck

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RSAKeyExchange are the TLS 1.2 (and older) suites whose key exchange is
// RSA encryption: no forward secrecy, the attack surface of ROBOT.
var RSAKeyExchange = []uint16{
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// A Cert is a self-signed RSA certificate for 127.0.0.1 / localhost.
type Cert struct {
	TLS      tls.Certificate
	Pool     *x509.CertPool // trusting it
	CertFile string         // PEM files in a t.TempDir()
	KeyFile  string
}

// NewRSACert makes a Cert valid for an hour either side of now.
func NewRSACert(t testing.TB) *Cert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
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
	c := &Cert{
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
		Pool:     x509.NewCertPool(),
		CertFile: filepath.Join(dir, "rsa.crt"),
		KeyFile:  filepath.Join(dir, "rsa.key"),
	}
	c.Pool.AddCert(cert)
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// legacyPeers are the peer configurations the checked side must refuse.
func legacyPeers() map[string]func(*tls.Config) {
	return map[string]func(*tls.Config){
		"TLS 1.1": func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA}
		},
		"TLS 1.0": func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
			c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA}
		},
		"RSA key exchange": func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
			c.CipherSuites = RSAKeyExchange
		},
	}
}

// modernPeers must succeed, so that a refusal above is about the protocol
// and not a broken setup.
func modernPeers() map[string]func(*tls.Config) {
	return map[string]func(*tls.Config){
		"TLS 1.2 ECDHE": func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12 },
		"TLS 1.3":       func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS13 },
	}
}

// ServerRefusesLegacy serves with server (which must hold an RSA
// certificate, e.g. a Cert's files loaded by the code under test) and
// checks that clients speaking only TLS 1.1 or older, or only RSA key
// exchange, fail the handshake while TLS 1.2 ECDHE and TLS 1.3 clients
// succeed. clientCert is presented when not nil (for servers requiring
// client certificates).
func ServerRefusesLegacy(t *testing.T, server *tls.Config, clientCert *tls.Certificate) {
	t.Helper()
	addr := serve(t, server.Clone())
	dial := func(t *testing.T, adjust func(*tls.Config)) error {
		c := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only the protocol is under test
		if clientCert != nil {
			c.Certificates = []tls.Certificate{*clientCert}
		}
		adjust(c)
		return handshake(addr, c)
	}
	check(t, dial)
}

// ClientRefusesLegacy checks client (a configuration made by the code
// under test; its RootCAs and ServerName are replaced to trust the test
// servers) against servers speaking only TLS 1.1 or older, or only RSA key
// exchange: each handshake must fail, while modern servers are accepted.
func ClientRefusesLegacy(t *testing.T, client *tls.Config) {
	t.Helper()
	cert := NewRSACert(t)
	dial := func(t *testing.T, adjust func(*tls.Config)) error {
		sc := &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
		adjust(sc)
		addr := serve(t, sc)
		c := client.Clone()
		c.RootCAs, c.ServerName = cert.Pool, "localhost"
		return handshake(addr, c)
	}
	check(t, dial)
}

func check(t *testing.T, dial func(*testing.T, func(*tls.Config)) error) {
	t.Helper()
	for name, adjust := range legacyPeers() {
		t.Run("refuses "+name, func(t *testing.T) {
			if err := dial(t, adjust); err == nil {
				t.Fatalf("handshake with a peer speaking only %s succeeded", name)
			}
		})
	}
	for name, adjust := range modernPeers() {
		t.Run("accepts "+name, func(t *testing.T) {
			if err := dial(t, adjust); err != nil {
				t.Fatalf("handshake with a %s peer failed: %v", name, err)
			}
		})
	}
}

// serve accepts TLS connections on a loopback port until the test ends;
// each connection is handshaken and closed.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			sc := tls.Server(conn, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = sc.HandshakeContext(ctx)
			cancel()
			sc.Close()
		}
	}()
	return ln.Addr().String()
}

func handshake(addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// TLS 1.3 client certificates are checked after the client's
	// handshake returns: read once so a server-side refusal surfaces.
	tc := conn.(*tls.Conn)
	_ = tc.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer conn.Close()
	buf := make([]byte, 1)
	if _, err := tc.Read(buf); err != nil && !isEOF(err) {
		return err
	}
	return nil
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
