package trustpin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

var (
	testNow = time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	testGUN = "example.com/app"
)

// certSpec describes a certificate to make; zero values give a v1-style
// root certificate for testGUN valid around testNow (v1 §3.5).
type certSpec struct {
	cn        string
	notBefore time.Time
	notAfter  time.Time
	isCA      bool
	extUsage  []x509.ExtKeyUsage
	key       crypto.Signer // subject key; generated (P-256) when nil
	parent    *x509.Certificate
	parentKey crypto.Signer
}

type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func makeCert(t testing.TB, s certSpec) issued {
	t.Helper()
	if s.cn == "" {
		s.cn = testGUN
	}
	if s.notBefore.IsZero() {
		s.notBefore = testNow.Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = s.notBefore.AddDate(10, 0, 0)
	}
	if s.key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.key = k
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.isCA,
		ExtKeyUsage:           s.extUsage,
	}
	if s.isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	parent, parentKey := tmpl, s.key
	if s.parent != nil {
		parent, parentKey = s.parent, s.parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issued{cert: c, key: s.key}
}

// selfSigned makes a v1-style root certificate (codeSigning EKU).
func selfSigned(t testing.TB, s certSpec) issued {
	if s.extUsage == nil {
		s.extUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	return makeCert(t, s)
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// signingKey signs with a private key while presenting pub (possibly an
// x509 form of it, or a bundle keys.WithPublic would refuse).
type signingKey struct {
	pub  keys.PublicKey
	priv *keys.PrivateKey
}

func (k signingKey) ID() string { return k.pub.ID() }

// rootKey turns a certificate bundle (leaf first) into a signing key whose
// TUF public key is the x509 form.
func rootKey(t testing.TB, leaf issued, chain ...*x509.Certificate) signingKey {
	t.Helper()
	return rootKeyPEM(t, leaf, pemOf(append([]*x509.Certificate{leaf.cert}, chain...)...))
}

func rootKeyPEM(t testing.TB, leaf issued, pemBytes []byte) signingKey {
	t.Helper()
	pk, err := keys.FromCrypto(leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	typ := keys.ECDSAx509
	if _, ok := leaf.key.(*ecdsa.PrivateKey); !ok {
		typ = keys.RSAx509
	}
	return signingKey{pub: keys.PublicKey{Type: typ, Public: pemBytes}, priv: pk}
}

func plainKey(t testing.TB) signingKey {
	t.Helper()
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{pub: k.Public(), priv: k}
}

// makeRoot builds a root whose root role is rootKeys with threshold, and
// signs it with signers (each signature names the signer's presented key).
func makeRoot(t testing.TB, version int64, rootKeys []signingKey, threshold int, signers ...signingKey) (*tuf.Root, *tuf.Envelope) {
	t.Helper()
	other := plainKey(t)
	r := &tuf.Root{Type: tuf.TypeRoot, Version: version, Expires: testNow.AddDate(10, 0, 0),
		Keys: map[string]keys.PublicKey{other.ID(): other.pub}, Roles: map[string]*tuf.RootRole{}}
	r.Roles[tuf.RoleRoot] = &tuf.RootRole{Threshold: threshold}
	for _, k := range rootKeys {
		r.Keys[k.ID()] = k.pub
		r.Roles[tuf.RoleRoot].KeyIDs = append(r.Roles[tuf.RoleRoot].KeyIDs, k.ID())
	}
	for _, role := range []string{tuf.RoleTargets, tuf.RoleSnapshot, tuf.RoleTimestamp} {
		r.Roles[role] = &tuf.RootRole{KeyIDs: []string{other.ID()}, Threshold: 1}
	}
	canonical, err := tuf.CanonicalSigned(r)
	if err != nil {
		t.Fatal(err)
	}
	env := &tuf.Envelope{Signed: canonical}
	for _, k := range signers {
		sig, err := k.priv.Sign(canonical)
		if err != nil {
			t.Fatal(err)
		}
		env.Signatures = append(env.Signatures, tuf.Signature{KeyID: k.ID(), Method: k.priv.Method(), Sig: sig})
	}
	if len(signers) == 0 {
		t.Fatal("makeRoot needs a signer")
	}
	file, err := tuf.MarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	parsed, penv, err := tuf.ParseRoot(file)
	if err != nil {
		t.Fatal(err)
	}
	return parsed, penv
}

func mustChecker(t testing.TB, c Config, gun string) *Checker {
	t.Helper()
	ch, err := c.Checker(gun)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}
