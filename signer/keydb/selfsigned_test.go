package keydb

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
)

// selfSignedCert returns k's public key as an ecdsa-x509 key.
func selfSignedCert(t *testing.T, k *keys.PrivateKey) keys.PublicKey {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gun"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(0, 0).Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.CryptoSigner().Public(), k.CryptoSigner())
	if err != nil {
		t.Fatal(err)
	}
	return keys.NewPublicKey(keys.ECDSAx509, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
