package trustpin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/tuf"
)

func wantRule(t *testing.T, err, rule error) {
	t.Helper()
	if rule == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, rule) {
		t.Fatalf("err = %v, want a ValidationError for %v", err, rule)
	}
}

// TestMatchCN: v1 MatchCNToGun.
func TestMatchCN(t *testing.T) {
	tests := []struct {
		cn, gun string
		want    bool
	}{
		{"example.com/app", "example.com/app", true},
		{"example.com/app", "example.com/app2", false},
		{"example.com/*", "example.com/app", true},
		{"example.com/**", "example.com/app", true},
		{"example.com/app*", "example.com/app/sub", true},
		{"*", "anything", true},
		{"example.org/*", "example.com/app", false},
		{"Example.com/app", "example.com/app", false},
		{"", "example.com/app", false},
	}
	for _, tc := range tests {
		if got := MatchCN(tc.cn, tc.gun); got != tc.want {
			t.Errorf("MatchCN(%q, %q) = %v, want %v", tc.cn, tc.gun, got, tc.want)
		}
	}
}

// TestValidateCertificate: v1 utils.ValidateCertificate.
func TestValidateCertificate(t *testing.T) {
	good := selfSigned(t, certSpec{}).cert
	sha1 := *good
	sha1.SignatureAlgorithm = x509.ECDSAWithSHA1
	sha1rsa := *good
	sha1rsa.SignatureAlgorithm = x509.SHA1WithRSA
	inverted := *good
	inverted.NotBefore, inverted.NotAfter = good.NotAfter, good.NotBefore
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	short := selfSigned(t, certSpec{key: small}).cert
	tests := []struct {
		name        string
		cert        *x509.Certificate
		now         time.Time
		checkExpiry bool
		want        error
	}{
		{name: "Valid", cert: good, now: testNow, checkExpiry: true},
		{name: "ValidityWindow", cert: &inverted, now: testNow, want: ErrValidityWindow},
		{name: "SHA1/ECDSA", cert: &sha1, now: testNow, want: ErrSHA1},
		{name: "SHA1/RSA", cert: &sha1rsa, now: testNow, want: ErrSHA1},
		{name: "RSATooShort", cert: short, now: testNow, want: ErrRSATooShort},
		{name: "Expired", cert: good, now: good.NotAfter.Add(time.Second), checkExpiry: true, want: ErrCertExpired},
		{name: "ExpiredNotChecked", cert: good, now: good.NotAfter.Add(time.Second)},
		{name: "NotYetValidWithinADay", cert: good, now: good.NotBefore.Add(-23 * time.Hour), checkExpiry: true},
		{name: "NotYetValidBeyondADay", cert: good, now: good.NotBefore.Add(-25 * time.Hour), checkExpiry: true, want: ErrCertExpired},
		{name: "ExpiresExactlyNow", cert: good, now: good.NotAfter, checkExpiry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCertificate(tc.cert, tc.now, tc.checkExpiry)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRootKeysMustBeX509: v1 §1.3, §4.8: a root whose root keys are not
// certificates cannot be trusted.
func TestRootKeysMustBeX509(t *testing.T) {
	plain := plainKey(t)
	root, env := makeRoot(t, 1, []signingKey{plain}, 1, plain)
	err := mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true)
	wantRule(t, err, ErrNoValidLeaf)
	if !errors.Is(err, ErrNotX509) {
		t.Fatalf("err = %v, want it to name ErrNotX509", err)
	}
}

// TestLeafCommonNameMustMatchGUN: v1 §3.5.
func TestLeafCommonNameMustMatchGUN(t *testing.T) {
	for _, tc := range []struct {
		cn   string
		want error
	}{
		{testGUN, nil},
		{"example.com/*", nil},
		{"example.com/other", ErrNoValidLeaf},
		{"example.com/app/", ErrNoValidLeaf},
	} {
		t.Run(tc.cn, func(t *testing.T) {
			k := rootKey(t, selfSigned(t, certSpec{cn: tc.cn}))
			root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
			err := mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true)
			wantRule(t, err, tc.want)
			if tc.want != nil && !errors.Is(err, ErrCommonName) {
				t.Fatalf("err = %v, want ErrCommonName named", err)
			}
		})
	}
}

// TestNewRootCertificatesMustBeCurrent: expiry is checked for new roots
// (v1 validRootLeafCerts with checkExpiry).
func TestNewRootCertificatesMustBeCurrent(t *testing.T) {
	tests := []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		want      error
	}{
		{"Current", testNow.Add(-time.Hour), testNow.AddDate(1, 0, 0), nil},
		{"Expired", testNow.AddDate(-2, 0, 0), testNow.Add(-time.Second), ErrCertExpired},
		{"StartsInAnHour", testNow.Add(time.Hour), testNow.AddDate(1, 0, 0), nil},
		{"StartsInTwoDays", testNow.Add(48 * time.Hour), testNow.AddDate(1, 0, 0), ErrCertExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := rootKey(t, selfSigned(t, certSpec{notBefore: tc.notBefore, notAfter: tc.notAfter}))
			root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
			err := mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true)
			if tc.want == nil {
				wantRule(t, err, nil)
				return
			}
			wantRule(t, err, ErrNoValidLeaf)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCertificateBundleShape: exactly one leaf, first, then CA
// certificates only (v1 parseAllCerts, LoadCertBundleFromPEM).
func TestCertificateBundleShape(t *testing.T) {
	ca := makeCert(t, certSpec{cn: "CA", isCA: true})
	inter := makeCert(t, certSpec{cn: "Intermediate", isCA: true, parent: ca.cert, parentKey: ca.key})
	leaf := makeCert(t, certSpec{parent: inter.cert, parentKey: inter.key})
	other := selfSigned(t, certSpec{})
	tests := []struct {
		name string
		pem  []byte
		want error
	}{
		{"LeafThenIntermediates", pemOf(leaf.cert, inter.cert, ca.cert), nil},
		{"LeafNotFirst", pemOf(inter.cert, leaf.cert), ErrCertBundle},
		{"TwoLeaves", pemOf(leaf.cert, other.cert), ErrCertBundle},
		{"OnlyCA", pemOf(ca.cert), ErrCertBundle},
		{"ForeignPEMBlock", append(pemOf(leaf.cert), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")...), ErrCertBundle},
		{"Garbage", []byte("not pem"), ErrCertBundle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := rootKeyPEM(t, leaf, tc.pem)
			root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
			err := mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true)
			if tc.want == nil {
				wantRule(t, err, nil)
				return
			}
			wantRule(t, err, ErrNoValidLeaf)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCertsPinning: v1 §4.8 certs mode.
func TestCertsPinning(t *testing.T) {
	a, b := rootKey(t, selfSigned(t, certSpec{})), rootKey(t, selfSigned(t, certSpec{}))
	root, env := makeRoot(t, 1, []signingKey{a, b}, 1, a, b)
	tests := []struct {
		name  string
		certs map[string][]string
		gun   string
		want  error
	}{
		{"ExactPinned", map[string][]string{testGUN: {a.ID()}}, testGUN, nil},
		{"ExactNotPinned", map[string][]string{testGUN: {"00"}}, testGUN, ErrNotPinned},
		{"ExactEmptyList", map[string][]string{testGUN: {}}, testGUN, ErrNotPinned},
		{"ExactWinsOverWildcard", map[string][]string{testGUN: {"00"}, "example.com/*": {a.ID()}}, testGUN, ErrNotPinned},
		{"Wildcard", map[string][]string{"example.com/*": {b.ID()}}, testGUN, nil},
		{"LongestWildcardWins", map[string][]string{"example.com/*": {a.ID()}, "example.com/ap*": {"00"}}, testGUN, ErrNotPinned},
		{"LongestWildcardWins2", map[string][]string{"example.com/*": {"00"}, "example.com/ap*": {a.ID()}}, testGUN, nil},
		{"NoMatchFallsBackToTOFU", map[string][]string{"other.com/app": {"00"}}, testGUN, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mustChecker(t, Config{Certs: tc.certs}, tc.gun).CheckRoot(root, env, testNow, true)
			wantRule(t, err, tc.want)
		})
	}
}

// TestOnlyPinnedCertsCountTowardThreshold: v1 ValidateRoot counts only
// certificates that pass the pinning toward root's own threshold.
func TestOnlyPinnedCertsCountTowardThreshold(t *testing.T) {
	a, b := rootKey(t, selfSigned(t, certSpec{})), rootKey(t, selfSigned(t, certSpec{}))
	root, env := makeRoot(t, 1, []signingKey{a, b}, 2, a, b)
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true), nil)
	wantRule(t, mustChecker(t, Config{Certs: map[string][]string{testGUN: {a.ID(), b.ID()}}}, testGUN).CheckRoot(root, env, testNow, true), nil)
	err := mustChecker(t, Config{Certs: map[string][]string{testGUN: {a.ID()}}}, testGUN).CheckRoot(root, env, testNow, true)
	wantRule(t, err, ErrRootSignatures)
	if !errors.Is(err, tuf.ErrThreshold) {
		t.Fatalf("err = %v, want tuf.ErrThreshold", err)
	}
}

// TestRootSelfSignatureThreshold: the root must be signed by its own root
// keys meeting its threshold (v1 "failed to validate integrity of roots").
func TestRootSelfSignatureThreshold(t *testing.T) {
	a, b := rootKey(t, selfSigned(t, certSpec{})), rootKey(t, selfSigned(t, certSpec{}))
	stranger := plainKey(t)
	root, env := makeRoot(t, 1, []signingKey{a, b}, 2, a, stranger)
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true), ErrRootSignatures)
}

// TestCAPinning: v1 §4.8 ca mode.
func TestCAPinning(t *testing.T) {
	ca := makeCert(t, certSpec{cn: "Root CA", isCA: true})
	inter := makeCert(t, certSpec{cn: "Intermediate", isCA: true, parent: ca.cert, parentKey: ca.key})
	direct := makeCert(t, certSpec{parent: ca.cert, parentKey: ca.key})
	viaInter := makeCert(t, certSpec{parent: inter.cert, parentKey: inter.key})
	codeSigning := makeCert(t, certSpec{parent: ca.cert, parentKey: ca.key, extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
	expiredCA := makeCert(t, certSpec{cn: "Old CA", isCA: true, notBefore: testNow.AddDate(-3, 0, 0), notAfter: testNow.AddDate(-1, 0, 0)})
	caPEM := pemOf(ca.cert)
	tests := []struct {
		name string
		leaf signingKey
		cfg  Config
		want error
	}{
		{"DirectLeaf", rootKey(t, direct), Config{CAPEM: map[string][]byte{"example.com/": caPEM}}, nil},
		{"ViaBundledIntermediate", rootKey(t, viaInter, inter.cert), Config{CAPEM: map[string][]byte{"example.com/": caPEM}}, nil},
		{"IntermediateMissing", rootKey(t, viaInter), Config{CAPEM: map[string][]byte{"example.com/": caPEM}}, ErrNotPinned},
		{"SelfSigned", rootKey(t, selfSigned(t, certSpec{})), Config{CAPEM: map[string][]byte{"example.com/": caPEM}}, ErrNotPinned},
		// v1 verifies the chain with Go's default key usage (server
		// authentication), so a codeSigning-only leaf does not chain.
		{"CodeSigningLeafV1Quirk", rootKey(t, codeSigning), Config{CAPEM: map[string][]byte{"example.com/": caPEM}}, ErrNotPinned},
		{"ExpiredCAIgnored", rootKey(t, direct), Config{CAPEM: map[string][]byte{"example.com/": append(pemOf(expiredCA.cert), caPEM...)}}, nil},
		{"OnlyExpiredCA", rootKey(t, direct), Config{CAPEM: map[string][]byte{"example.com/": pemOf(expiredCA.cert)}}, ErrNoValidCA},
		{"LongestPrefixWins", rootKey(t, direct), Config{CAPEM: map[string][]byte{"example.com/": caPEM, "example.com/a": pemOf(expiredCA.cert)}}, ErrNoValidCA},
		{"CertsWinOverCA", rootKey(t, direct), Config{Certs: map[string][]string{testGUN: {"00"}}, CAPEM: map[string][]byte{"": caPEM}}, ErrNotPinned},
		{"ReadFile", rootKey(t, direct), Config{CA: map[string]string{"example.com": "/etc/ca.pem"}, ReadFile: func(p string) ([]byte, error) {
			if p != "/etc/ca.pem" {
				return nil, os.ErrNotExist
			}
			return caPEM, nil
		}}, nil},
		{"CAPEMWinsForSamePrefix", rootKey(t, direct), Config{CA: map[string]string{"example.com": "/missing"}, CAPEM: map[string][]byte{"example.com": caPEM}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, env := makeRoot(t, 1, []signingKey{tc.leaf}, 1, tc.leaf)
			ch := mustChecker(t, tc.cfg, testGUN)
			wantRule(t, ch.CheckRoot(root, env, testNow, true), tc.want)
		})
	}
	t.Run("Mode", func(t *testing.T) {
		if m := mustChecker(t, Config{CAPEM: map[string][]byte{"": caPEM}}, testGUN).Mode(); m != ModeCA {
			t.Fatalf("mode %s", m)
		}
	})
}

func TestCALoadErrors(t *testing.T) {
	tests := map[string]Config{
		"NoReader":  {CA: map[string]string{"example.com": "/ca.pem"}},
		"ReadFails": {CA: map[string]string{"example.com": "/ca.pem"}, ReadFile: func(string) ([]byte, error) { return nil, os.ErrPermission }},
		"NotPEM":    {CAPEM: map[string][]byte{"example.com": []byte("junk")}},
		"KeyPEM":    {CAPEM: map[string][]byte{"example.com": []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")}},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := cfg.Checker(testGUN); !errors.Is(err, ErrCALoad) {
				t.Fatalf("err = %v, want ErrCALoad", err)
			}
		})
	}
}

// TestTOFU: v1 §4.8 trust on first use and disable_tofu.
func TestTOFU(t *testing.T) {
	k := rootKey(t, selfSigned(t, certSpec{}))
	root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true), nil)
	wantRule(t, mustChecker(t, Config{DisableTOFU: true}, testGUN).CheckRoot(root, env, testNow, true), ErrTOFUDisabled)
	wantRule(t, mustChecker(t, Config{DisableTOFU: true}, testGUN).CheckRoot(root, env, testNow, false), nil)
	wantRule(t, mustChecker(t, Config{DisableTOFU: true, Certs: map[string][]string{testGUN: {k.ID()}}}, testGUN).CheckRoot(root, env, testNow, true), nil)
	if m := mustChecker(t, Config{}, testGUN).Mode(); m != ModeTOFU {
		t.Fatalf("mode %s", m)
	}
}

// TestValidateRootRotation: v1 §4.5: a new root must be signed by the
// previous root's certificate keys meeting the previous threshold; the
// previous certificates' expiry is not checked.
func TestValidateRootRotation(t *testing.T) {
	oldCert := selfSigned(t, certSpec{notBefore: testNow.AddDate(-11, 0, 0), notAfter: testNow.AddDate(-1, 0, 0)})
	old := rootKey(t, oldCert)
	prev, _ := makeRoot(t, 1, []signingKey{old}, 1, old)
	next := rootKey(t, selfSigned(t, certSpec{}))
	tests := []struct {
		name    string
		signers []signingKey
		cfg     Config
		want    error
	}{
		{"SignedByOldAndNew", []signingKey{old, next}, Config{}, nil},
		{"DisableTOFUDoesNotApply", []signingKey{old, next}, Config{DisableTOFU: true}, nil},
		{"CertsPinStillApplies", []signingKey{old, next}, Config{Certs: map[string][]string{testGUN: {"00"}}}, ErrNotPinned},
		{"NotSignedByOld", []signingKey{next}, Config{}, ErrRootRotation},
		{"NotSignedByNew", []signingKey{old}, Config{}, ErrRootSignatures},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, env := makeRoot(t, 2, []signingKey{next}, 1, tc.signers...)
			err := mustChecker(t, tc.cfg, testGUN).ValidateRoot(prev, root, env, testNow)
			wantRule(t, err, tc.want)
			if tc.want == ErrRootRotation && !errors.Is(err, tuf.ErrRootRotation) {
				t.Fatalf("err = %v, want tuf.ErrRootRotation too", err)
			}
		})
	}
	t.Run("NewRootCertExpired", func(t *testing.T) {
		root, env := makeRoot(t, 2, []signingKey{old}, 1, old)
		wantRule(t, mustChecker(t, Config{}, testGUN).ValidateRoot(prev, root, env, testNow), ErrNoValidLeaf)
	})
}

// TestRebuiltBundleKeyID: v1 re-encodes the leaf and valid intermediates
// before counting signatures, so a key whose PEM is not in Go's encoding
// (here: with a header) gets another ID and its signatures do not count.
func TestRebuiltBundleKeyID(t *testing.T) {
	leaf := selfSigned(t, certSpec{})
	odd := strings.Replace(string(pemOf(leaf.cert)), "-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nComment: x\n\n", 1)
	k := rootKeyPEM(t, leaf, []byte(odd))
	root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true), ErrRootSignatures)

	rebuilt, err := BundleKey(leaf.cert, nil)
	if err != nil || rebuilt.ID() != rootKey(t, leaf).ID() {
		t.Fatalf("BundleKey ID differs from the PEM key's: %v", err)
	}
}

// TestExpiredIntermediateDropped: v1 drops expired intermediates before
// rebuilding the key, which changes its ID (v1 §3.5).
func TestExpiredIntermediateDropped(t *testing.T) {
	ca := makeCert(t, certSpec{cn: "Old CA", isCA: true, notBefore: testNow.AddDate(-3, 0, 0), notAfter: testNow.AddDate(-1, 0, 0)})
	leaf := makeCert(t, certSpec{parent: ca.cert, parentKey: ca.key, notBefore: testNow.AddDate(-2, -6, 0)})
	k := rootKey(t, leaf, ca.cert)
	root, env := makeRoot(t, 1, []signingKey{k}, 1, k)
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow, true), ErrRootSignatures)
	// Before the intermediate expired, the same root is accepted.
	wantRule(t, mustChecker(t, Config{}, testGUN).CheckRoot(root, env, testNow.AddDate(-2, 0, 0), true), nil)
}

func TestValidationErrorMessage(t *testing.T) {
	err := &ValidationError{GUN: testGUN, Rule: ErrNoValidLeaf, Certs: []*CertError{{KeyID: strings.Repeat("a", 64), CN: "x", Err: fmt.Errorf("%w %s", ErrCommonName, testGUN)}}}
	want := `trustpin: could not validate the path to a trusted root for example.com/app: no valid leaf certificates found in any of the root keys [root key aaaaaaaaaaaa… (CN "x"): certificate common name does not match the GUN example.com/app]`
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err.Error(), want)
	}
}
