package keys

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	certStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	certEnd   = certStart.Add(RootCertificateValidity)
)

// v1RootCertExtensions returns the extensions of the root certificate v1
// made (testdata/v1oracle/root_cert.pem).
func v1RootCertExtensions(t *testing.T) []pkix.Extension {
	t.Helper()
	block, _ := pem.Decode(readFile(t, "testdata/v1oracle/root_cert.pem"))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.Extensions
}

func TestNewRootCertificate(t *testing.T) {
	wantExt := v1RootCertExtensions(t)
	for _, tt := range []struct {
		typ     string
		wantAlg x509.SignatureAlgorithm
	}{
		{ECDSA, x509.ECDSAWithSHA256},
		{RSA, x509.SHA256WithRSA},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			key := testKeys(t)[tt.typ]
			cert, err := NewRootCertificate(key, "example.com/app", certStart, certEnd)
			if err != nil {
				t.Fatal(err)
			}
			wantName, _ := asn1.Marshal(pkix.Name{CommonName: "example.com/app"}.ToRDNSequence())
			if !bytes.Equal(cert.RawSubject, wantName) || !bytes.Equal(cert.RawIssuer, wantName) {
				t.Errorf("subject %v issuer %v, want CN=example.com/app only", cert.Subject, cert.Issuer)
			}
			if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 {
				t.Errorf("serial %v not in [1, 2^128)", cert.SerialNumber)
			}
			if !cert.NotBefore.Equal(certStart) || !cert.NotAfter.Equal(certEnd) {
				t.Errorf("validity %v–%v, want %v–%v", cert.NotBefore, cert.NotAfter, certStart, certEnd)
			}
			if cert.SignatureAlgorithm != tt.wantAlg {
				t.Errorf("signature algorithm %v, want %v", cert.SignatureAlgorithm, tt.wantAlg)
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Errorf("self-signature: %v", err)
			}
			if cert.IsCA || len(cert.SubjectKeyId) != 0 || len(cert.AuthorityKeyId) != 0 || len(cert.DNSNames) != 0 {
				t.Errorf("IsCA %v SKI %x AKI %x SAN %v, want none", cert.IsCA, cert.SubjectKeyId, cert.AuthorityKeyId, cert.DNSNames)
			}
			// Exactly v1's extensions, in its order, with its values.
			if len(cert.Extensions) != len(wantExt) {
				t.Fatalf("%d extensions, want %d (%v)", len(cert.Extensions), len(wantExt), wantExt)
			}
			for i, e := range cert.Extensions {
				w := wantExt[i]
				if !e.Id.Equal(w.Id) || e.Critical != w.Critical || !bytes.Equal(e.Value, w.Value) {
					t.Errorf("extension %d = %v critical=%v %x, want %v critical=%v %x", i, e.Id, e.Critical, e.Value, w.Id, w.Critical, w.Value)
				}
			}
			pub, err := X509PublicKey(cert)
			if err != nil {
				t.Fatal(err)
			}
			if canon, _ := pub.CanonicalID(); canon != key.ID() {
				t.Errorf("certificate key's canonical ID %s, want %s", canon, key.ID())
			}
		})
	}
}

func TestNewRootCertificateRefuses(t *testing.T) {
	tests := []struct {
		name      string
		key       *PrivateKey
		gun       string
		from, end time.Time
	}{
		{name: "ed25519", key: testKeys(t)[ED25519], gun: "g", from: certStart, end: certEnd},
		{name: "nil key", gun: "g", from: certStart, end: certEnd},
		{name: "no gun", key: testKeys(t)[ECDSA], from: certStart, end: certEnd},
		{name: "ends before start", key: testKeys(t)[ECDSA], gun: "g", from: certEnd, end: certStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewRootCertificate(tt.key, tt.gun, tt.from, tt.end); err == nil {
				t.Error("NewRootCertificate succeeded")
			}
		})
	}
}

func TestNewRootCertificateOpenSSL(t *testing.T) {
	needOpenSSL(t)
	cert, err := NewRootCertificate(testKeys(t)[ECDSA], "example.com/app", certStart, certEnd)
	if err != nil {
		t.Fatal(err)
	}
	text := string(openssl(t, CertificatePEM(cert), "x509", "-noout", "-text"))
	for _, want := range []string{
		"Subject: CN = example.com/app\n", "Issuer: CN = example.com/app\n",
		"X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment\n",
		"X509v3 Extended Key Usage: \n                Code Signing\n",
		"X509v3 Basic Constraints: critical\n                CA:FALSE\n",
		"Signature Algorithm: ecdsa-with-SHA256",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl x509 -text lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"Key Identifier", "Alternative Name"} {
		if strings.Contains(text, bad) {
			t.Errorf("openssl x509 -text shows %q:\n%s", bad, text)
		}
	}
}

func parseCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return certs
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
}

// TestX509PublicKeyV1Goldens rebuilds the x509 keys of testdata/v1/keyids.json
// (v0.7.0 CertToKey / CertBundleToKey) from their certificates.
func TestX509PublicKeyV1Goldens(t *testing.T) {
	b, err := os.ReadFile("testdata/v1/keyids.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): testdata/v1/keyids.json not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name        string `json:"name"`
			KeyType     string `json:"keytype"`
			PublicText  string `json:"public_text"`
			TUFID       string `json:"tuf_id"`
			CanonicalID string `json:"canonical_id"`
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range doc.Cases {
		if c.PublicText == "" || !strings.HasSuffix(c.KeyType, "-x509") {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			certs := parseCerts(t, c.PublicText)
			pub, err := X509PublicKey(certs[0], certs[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Type != c.KeyType || string(pub.Public) != c.PublicText {
				t.Errorf("key = %s %q, want %s %q", pub.Type, pub.Public, c.KeyType, c.PublicText)
			}
			if pub.ID() != c.TUFID {
				t.Errorf("ID = %s, want %s", pub.ID(), c.TUFID)
			}
			if got, _ := pub.CanonicalID(); got != c.CanonicalID {
				t.Errorf("CanonicalID = %s, want %s", got, c.CanonicalID)
			}
		})
	}
	if n == 0 {
		t.Fatal("no x509 cases in keyids.json")
	}
}

func TestX509PublicKeyV1Oracle(t *testing.T) {
	for _, c := range loadOracleCases(t) {
		if c.File != "root_cert.pem" {
			continue
		}
		text := readFile(t, "testdata/v1oracle/"+c.File)
		pub, err := X509PublicKey(parseCerts(t, string(text))[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pub.Public, text) || !bytes.HasSuffix(pub.Public, []byte("-----\n")) {
			t.Errorf("PEM = %q, want %q", pub.Public, text)
		}
		if pub.Type != c.KeyType || pub.ID() != c.ID {
			t.Errorf("key = %s %s, want %s %s", pub.Type, pub.ID(), c.KeyType, c.ID)
		}
		if got, _ := pub.CanonicalID(); got != c.CanonicalID {
			t.Errorf("CanonicalID = %s, want %s", got, c.CanonicalID)
		}
		return
	}
	t.Fatal("no root_cert.pem in expect.json")
}

func TestWithRootCertificate(t *testing.T) {
	for _, typ := range []string{ECDSA, RSA} {
		t.Run(typ, func(t *testing.T) {
			key := testKeys(t)[typ]
			rk, err := key.WithRootCertificate("example.com/app", certStart, certEnd)
			if err != nil {
				t.Fatal(err)
			}
			if rk.Type() != typ+"-x509" {
				t.Errorf("Type = %s, want %s-x509", rk.Type(), typ)
			}
			if rk.CanonicalID() != key.ID() || rk.ID() == key.ID() {
				t.Errorf("ID %s canonical %s, plain %s", rk.ID(), rk.CanonicalID(), key.ID())
			}
			checkSigns(t, rk)
			leaf, err := rk.Public().Leaf()
			if err != nil || leaf.Subject.CommonName != "example.com/app" {
				t.Errorf("leaf %v, %v", leaf, err)
			}
		})
	}
	t.Run("foreign certificate", func(t *testing.T) {
		cert, err := NewRootCertificate(testKeys(t)[ECDSA], "g", certStart, certEnd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := testKeys(t)["ecdsa-p384"].WithCertificate(cert); err == nil {
			t.Error("WithCertificate accepted another key's certificate")
		}
	})
}
