package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/theupdateframework/notary/cryptoservice"
	"github.com/theupdateframework/notary/tuf/data"
	"github.com/theupdateframework/notary/tuf/utils"
)

// inputs are the fixed keys and certificates every golden is derived from.
type inputs struct {
	ecdsa, rsa, ed25519 data.PrivateKey
	ecdsaCert, rsaCert  []byte // PEM, made by upstream cryptoservice.GenerateCertificate
	chainLeaf, chainCA  []byte // PEM: leaf for the ecdsa key signed by a test CA, and the CA
}

var (
	certStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	certEnd   = certStart.Add(10 * 365 * 24 * time.Hour)
)

// createInputs makes the fixed inputs once. Existing files are kept so that key IDs
// stay stable; delete the directory to start over.
func createInputs(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "ecdsa.key.pem")); err == nil {
		fmt.Fprintln(os.Stderr, "goldens: inputs already exist in", dir)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ekDER, err := x509.MarshalECPrivateKey(ek)
	if err != nil {
		return err
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	seed := sha256.Sum256([]byte("notary-go golden ed25519 seed"))
	files := map[string][]byte{
		"ecdsa.key.pem":    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ekDER}),
		"rsa.key.pem":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}),
		"ed25519.seed.hex": []byte(hex.EncodeToString(seed[:]) + "\n"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return err
		}
	}
	in, err := loadKeys(dir)
	if err != nil {
		return err
	}
	// Root-style certificates exactly as the upstream client makes them.
	for name, k := range map[string]data.PrivateKey{"ecdsa.cert.pem": in.ecdsa, "rsa.cert.pem": in.rsa} {
		c, err := cryptoservice.GenerateCertificate(k, gun, certStart, certEnd)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), utils.CertToPEM(c), 0o644); err != nil {
			return err
		}
	}
	// A two-certificate chain: test CA -> leaf (CN = GUN) over the ecdsa key.
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notary-go golden test CA"},
		NotBefore: certStart, NotAfter: certEnd, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafTmpl, err := utils.NewCertificate(gun, certStart, certEnd)
	if err != nil {
		return err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &ek.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "chain-leaf.cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "chain-ca.cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
}

func loadKeys(dir string) (*inputs, error) {
	var in inputs
	var err error
	read := func(n string) []byte {
		b, e := os.ReadFile(filepath.Join(dir, n))
		if e != nil && err == nil {
			err = e
		}
		return b
	}
	ecPEM, rsaPEM, seedHex := read("ecdsa.key.pem"), read("rsa.key.pem"), read("ed25519.seed.hex")
	if err != nil {
		return nil, fmt.Errorf("reading inputs (run with -init-inputs once): %w", err)
	}
	if in.ecdsa, err = utils.ParsePEMPrivateKey(ecPEM, ""); err != nil {
		return nil, err
	}
	if in.rsa, err = utils.ParsePEMPrivateKey(rsaPEM, ""); err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(seedHex)))
	if err != nil || len(seed) != 32 {
		return nil, errors.New("ed25519.seed.hex must hold 32 hex bytes")
	}
	if in.ed25519, err = ed25519FromSeed(seed); err != nil {
		return nil, err
	}
	return &in, nil
}

func loadInputs(dir string) (*inputs, error) {
	in, err := loadKeys(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst  *[]byte
		name string
	}{{&in.ecdsaCert, "ecdsa.cert.pem"}, {&in.rsaCert, "rsa.cert.pem"}, {&in.chainLeaf, "chain-leaf.cert.pem"}, {&in.chainCA, "chain-ca.cert.pem"}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		*f.dst = b
	}
	return in, nil
}
