package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// v1PEMCase is one entry of testdata/v1/pems.json, produced by the real
// v0.7.0 (tools/cmd/goldens).
type v1PEMCase struct {
	File            string            `json:"file"`
	KeyType         string            `json:"keytype"`
	Format          string            `json:"format"`
	Passphrase      string            `json:"passphrase"`
	PEMType         string            `json:"pem_type"`
	Headers         map[string]string `json:"headers"`
	ParsedKeyID     string            `json:"parsed_key_id"`
	ParsedAlgorithm string            `json:"parsed_algorithm"`
	ExtractRole     string            `json:"extract_role"`
	ExtractGUN      string            `json:"extract_gun"`
}

func loadV1PEMCases(t *testing.T) []v1PEMCase {
	t.Helper()
	b, err := os.ReadFile("testdata/v1/pems.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): testdata/v1/pems.json not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []v1PEMCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases in pems.json")
	}
	return doc.Cases
}

// oracleCase is one entry of testdata/v1oracle/expect.json, written by
// tools/cmd/v1oracle gen (v0.7.0's tuf/utils run as a library).
type oracleCase struct {
	File        string `json:"file"`
	Passphrase  string `json:"passphrase"`
	KeyType     string `json:"keytype"`
	ID          string `json:"id"`
	PrivateHex  string `json:"private_hex"`
	Role        string `json:"role"`
	GUN         string `json:"gun"`
	CanonicalID string `json:"canonical_id"`
}

func loadOracleCases(t *testing.T) []oracleCase {
	t.Helper()
	b, err := os.ReadFile("testdata/v1oracle/expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []oracleCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParsePEMV1Goldens decodes every key v0.7.0 wrote and checks the
// results v0.7.0 reported for it.
func TestParsePEMV1Goldens(t *testing.T) {
	for _, c := range loadV1PEMCases(t) {
		t.Run(c.File, func(t *testing.T) {
			data := readFile(t, filepath.Join("testdata/v1", c.File))
			info, err := ReadPEMInfo(data)
			if err != nil {
				t.Fatalf("ReadPEMInfo: %v", err)
			}
			wantEncrypted := c.Format == "pkcs8-encrypted" || c.Format == "legacy-rfc1423"
			want := PEMInfo{Role: c.ExtractRole, GUN: c.ExtractGUN, Encrypted: wantEncrypted, BlockType: c.PEMType}
			if info != want {
				t.Errorf("ReadPEMInfo = %+v, want %+v", info, want)
			}
			if got := IsEncryptedPEM(data); got != wantEncrypted {
				t.Errorf("IsEncryptedPEM = %v, want %v", got, wantEncrypted)
			}
			key, pinfo, err := ParsePEM(data, []byte(c.Passphrase))
			if err != nil {
				t.Fatalf("ParsePEM: %v", err)
			}
			if pinfo != want {
				t.Errorf("ParsePEM info = %+v, want %+v", pinfo, want)
			}
			if got := key.ID(); got != c.ParsedKeyID {
				t.Errorf("ID = %s, want %s", got, c.ParsedKeyID)
			}
			if got := key.Type(); got != c.ParsedAlgorithm {
				t.Errorf("Type = %s, want %s", got, c.ParsedAlgorithm)
			}
			checkSigns(t, key)
			if wantEncrypted {
				_, _, err := ParsePEM(data, []byte("not the passphrase"))
				if !errors.Is(err, ErrWrongPassphrase) {
					t.Errorf("wrong passphrase: err = %v, want ErrWrongPassphrase", err)
				}
				_, _, err = ParsePEM(data, nil)
				if !errors.Is(err, ErrPassphraseRequired) {
					t.Errorf("no passphrase: err = %v, want ErrPassphraseRequired", err)
				}
			} else {
				// Unencrypted keys ignore a passphrase (v1's key store
				// first tries them without one).
				if _, _, err := ParsePEM(data, []byte("whatever")); err != nil {
					t.Errorf("unencrypted with a passphrase: %v", err)
				}
			}
		})
	}
}

// TestEncodeMatchesV1Goldens re-encodes each PKCS#8 golden and compares
// bytes: unencrypted directly, encrypted with the golden's own salt and IV.
func TestEncodeMatchesV1Goldens(t *testing.T) {
	type golden struct{ file, pass, role, gun string }
	var goldens []golden
	for _, c := range loadV1PEMCases(t) {
		if strings.HasPrefix(c.Format, "pkcs8") {
			goldens = append(goldens, golden{"testdata/v1/" + c.File, c.Passphrase, c.ExtractRole, c.ExtractGUN})
		}
	}
	for _, c := range loadOracleCases(t) {
		if c.PrivateHex != "" {
			goldens = append(goldens, golden{"testdata/v1oracle/" + c.File, c.Passphrase, c.Role, c.GUN})
		}
	}
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			data := readFile(t, g.file)
			key, _, err := ParsePEM(data, []byte(g.pass))
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			if g.pass == "" {
				got, err = UnencryptedPEM(key, g.role, g.gun)
			} else {
				salt, iv := saltAndIV(t, data)
				got, err = encryptPEM(bytes.NewReader(append(salt, iv...)), key, g.role, g.gun, []byte(g.pass))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("re-encoded PEM differs\n got: %s\nwant: %s", got, data)
			}
		})
	}
}

func saltAndIV(t *testing.T, data []byte) (salt, iv []byte) {
	t.Helper()
	block, _ := pem.Decode(data)
	var epki v1EncryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(block.Bytes, &epki); err != nil {
		t.Fatal(err)
	}
	p := epki.EncryptionAlgorithm.Params
	if p.KeyDerivationFunc.Params.IterationCount != 2048 {
		t.Errorf("iterations = %d, want 2048", p.KeyDerivationFunc.Params.IterationCount)
	}
	return p.KeyDerivationFunc.Params.Salt, p.EncryptionScheme.IV
}

// TestParsePEMV1Oracle checks the private bytes v1 reported for each key.
func TestParsePEMV1Oracle(t *testing.T) {
	for _, c := range loadOracleCases(t) {
		if c.PrivateHex == "" {
			continue
		}
		t.Run(c.File, func(t *testing.T) {
			key, info, err := ParsePEM(readFile(t, "testdata/v1oracle/"+c.File), []byte(c.Passphrase))
			if err != nil {
				t.Fatal(err)
			}
			if key.ID() != c.ID || key.Type() != c.KeyType {
				t.Errorf("key = %s %s, want %s %s", key.Type(), key.ID(), c.KeyType, c.ID)
			}
			priv, _ := key.Bytes()
			if got := hex.EncodeToString(priv); got != c.PrivateHex {
				t.Errorf("Bytes = %s, want %s", got, c.PrivateHex)
			}
			if info.Role != c.Role || info.GUN != c.GUN {
				t.Errorf("headers = %q %q, want %q %q", info.Role, info.GUN, c.Role, c.GUN)
			}
		})
	}
}

// TestParseLegacyFixtures reads keys written by Notary 0.1 and 0.3 (copies
// of cmd/notary/testdata/notary-compat). The 0.1 keys use "randompass";
// the 0.3 keys use "password" (as upstream's Test0Dot3RepoFormat says; the
// fixtures README is wrong about 0.3).
func TestParseLegacyFixtures(t *testing.T) {
	tests := []struct {
		file, pass, id, typ, role string
	}{
		{file: "notary0.1_ec_root.key", pass: "randompass", id: "d0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68", typ: ECDSA},
		{file: "notary0.3_ec_targets.key", pass: "password", id: "041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02", typ: ECDSA, role: "targets"},
		{file: "notary0.3_rsa_delegation.key", pass: "password", id: "fa842f66cac2dc898677a8660789dcff0e3b0b93b73f8952491f6493199936d3", typ: RSA, role: "targets/releases"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readFile(t, "testdata/legacy/"+tt.file)
			key, info, err := ParsePEM(data, []byte(tt.pass))
			if err != nil {
				t.Fatal(err)
			}
			if key.ID() != tt.id || key.Type() != tt.typ {
				t.Errorf("key = %s %s, want %s %s", key.Type(), key.ID(), tt.typ, tt.id)
			}
			if info.Role != tt.role || !info.Encrypted || !info.Legacy() || info.KeyType() != tt.typ {
				t.Errorf("info = %+v (legacy %v, type %q)", info, info.Legacy(), info.KeyType())
			}
			if _, _, err := ParsePEM(data, []byte(tt.pass+"x")); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("wrong passphrase: err = %v, want ErrWrongPassphrase", err)
			}
			checkSigns(t, key)
		})
	}
}

func testKeys(t *testing.T) map[string]*PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		testKeysVal = map[string]*PrivateKey{}
		for _, typ := range []string{ECDSA, ED25519} {
			k, err := Generate(typ)
			if err != nil {
				panic(err)
			}
			testKeysVal[typ] = k
		}
		r, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKeysVal[RSA], _ = FromCrypto(r)
		p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		testKeysVal["ecdsa-p384"], _ = FromCrypto(p384)
	})
	return testKeysVal
}

var (
	testKeysOnce sync.Once
	testKeysVal  map[string]*PrivateKey
)

func checkSigns(t *testing.T, k *PrivateKey) {
	t.Helper()
	msg := []byte(`{"signed":"for test"}`)
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if err := k.Public().Verify(k.Method(), msg, sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	for typ, key := range testKeys(t) {
		for _, pass := range []string{"", "correct horse", "ünïcødé pass"} {
			t.Run(typ+"/"+map[bool]string{true: "plain", false: "encrypted"}[pass == ""], func(t *testing.T) {
				var data []byte
				var err error
				if pass == "" {
					data, err = UnencryptedPEM(key, "targets", "example.com/app")
				} else {
					data, err = EncryptPEM(key, "targets", "example.com/app", []byte(pass))
				}
				if err != nil {
					t.Fatal(err)
				}
				got, info, err := ParsePEM(data, []byte(pass))
				if err != nil {
					t.Fatal(err)
				}
				if got.ID() != key.ID() {
					t.Errorf("ID = %s, want %s", got.ID(), key.ID())
				}
				want := PEMInfo{Role: "targets", GUN: "example.com/app", Encrypted: pass != "", BlockType: PEMTypePKCS8}
				if pass != "" {
					want.BlockType = PEMTypeEncryptedPKCS8
				}
				if info != want {
					t.Errorf("info = %+v, want %+v", info, want)
				}
				checkSigns(t, got)
			})
		}
	}
}

func TestPEMHeaders(t *testing.T) {
	key := testKeys(t)[ECDSA]
	tests := []struct {
		role, gun  string
		wantHeader string // the header lines as written
	}{
		{role: "root", gun: "example.com/app", wantHeader: "role: root\n"},
		{role: "targets", gun: "example.com/app", wantHeader: "gun: example.com/app\nrole: targets\n"},
		{role: "snapshot", gun: "example.com/app", wantHeader: "gun: example.com/app\nrole: snapshot\n"},
		{role: "timestamp", gun: "example.com/app", wantHeader: "gun: example.com/app\nrole: timestamp\n"},
		{role: "targets/releases", gun: "example.com/app", wantHeader: "role: targets/releases\n"},
		{role: "delegation", gun: "example.com/app", wantHeader: "role: delegation\n"},
		{role: "targets", gun: "", wantHeader: "role: targets\n"},
		{role: "", gun: "example.com/app", wantHeader: ""},
	}
	for _, tt := range tests {
		t.Run(tt.role+"/"+tt.gun, func(t *testing.T) {
			data, err := EncryptPEM(key, tt.role, tt.gun, []byte("passphrase"))
			if err != nil {
				t.Fatal(err)
			}
			prefix := "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + tt.wantHeader
			if tt.wantHeader != "" {
				prefix += "\n"
			}
			if !bytes.HasPrefix(data, []byte(prefix)) {
				t.Errorf("PEM starts\n%s\nwant\n%s", data[:len(prefix)+5], prefix)
			}
		})
	}
}

func TestPEMGUN(t *testing.T) {
	tests := []struct{ role, want string }{
		{"root", ""}, {"targets", "g"}, {"snapshot", "g"}, {"timestamp", "g"},
		{"targets/a", ""}, {"targets/*", ""}, {"delegation", ""}, {"", ""}, {"Targets", ""},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			if got := PEMGUN(tt.role, "g"); got != tt.want {
				t.Errorf("PEMGUN(%q) = %q, want %q", tt.role, got, tt.want)
			}
		})
	}
}

func TestEncryptPEMEmptyPassphrase(t *testing.T) {
	if _, err := EncryptPEM(testKeys(t)[ECDSA], "root", "", nil); err == nil {
		t.Fatal("EncryptPEM with an empty passphrase succeeded")
	}
}

// TestMarshalPKCS8Quirks pins the v1 forms of the inner PrivateKeyInfo.
func TestMarshalPKCS8Quirks(t *testing.T) {
	tests := []struct {
		typ         string
		wantVersion int
		wantAlgo    []asn1.ObjectIdentifier
	}{
		{ECDSA, 1, []asn1.ObjectIdentifier{oidPublicKeyECDSA, oidNamedCurveP256}},
		{"ecdsa-p384", 1, []asn1.ObjectIdentifier{oidPublicKeyECDSA, oidNamedCurveP384}},
		{RSA, 0, []asn1.ObjectIdentifier{oidPublicKeyRSA}},
		{ED25519, 0, []asn1.ObjectIdentifier{oidPublicKeyED25519}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			key := testKeys(t)[tt.typ]
			der, err := MarshalPKCS8(key)
			if err != nil {
				t.Fatal(err)
			}
			var info v1PrivateKeyInfo
			if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
				t.Fatalf("unmarshal: %v (%d trailing)", err, len(rest))
			}
			if info.Version != tt.wantVersion {
				t.Errorf("version = %d, want %d", info.Version, tt.wantVersion)
			}
			if len(info.PrivateKeyAlgorithm) != len(tt.wantAlgo) {
				t.Fatalf("algorithm = %v, want %v", info.PrivateKeyAlgorithm, tt.wantAlgo)
			}
			for i := range tt.wantAlgo {
				if !info.PrivateKeyAlgorithm[i].Equal(tt.wantAlgo[i]) {
					t.Errorf("algorithm = %v, want %v", info.PrivateKeyAlgorithm, tt.wantAlgo)
				}
			}
			priv, _ := key.Bytes()
			if !bytes.Equal(info.PrivateKey, priv) {
				t.Error("privateKey is not the v1 internal form")
			}
		})
	}
}

func TestParsePEMErrors(t *testing.T) {
	key := testKeys(t)[ECDSA]
	enc, err := EncryptPEM(key, "targets", "g", []byte("passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(enc)
	tamper := func(f func(b []byte)) []byte {
		b := append([]byte(nil), block.Bytes...)
		f(b)
		return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: b})
	}
	tests := []struct {
		name    string
		data    []byte
		pass    string
		wantErr error // nil: any error
	}{
		{name: "empty", data: nil, wantErr: ErrNotPrivateKeyPEM},
		{name: "not PEM", data: []byte("hello"), wantErr: ErrNotPrivateKeyPEM},
		{name: "certificate", data: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), wantErr: ErrNotPrivateKeyPEM},
		{name: "garbage pkcs8", data: pem.EncodeToMemory(&pem.Block{Type: PEMTypePKCS8, Bytes: []byte{1, 2, 3}})},
		{name: "garbage encrypted", data: pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncryptedPKCS8, Bytes: []byte{0x30, 0}}), pass: "x"},
		{name: "last ciphertext byte flipped", data: tamper(func(b []byte) { b[len(b)-1] ^= 1 }), pass: "passphrase", wantErr: ErrWrongPassphrase},
		{name: "wrong passphrase", data: enc, pass: "Passphrase", wantErr: ErrWrongPassphrase},
		{name: "no passphrase", data: enc, wantErr: ErrPassphraseRequired},
		{name: "legacy bad DEK-Info", data: []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC\n\nAAAA\n-----END EC PRIVATE KEY-----\n"), pass: "x"},
		{name: "legacy unknown cipher", data: []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: RC2-CBC,0011223344556677\n\nAAAAAAAAAAA=\n-----END EC PRIVATE KEY-----\n"), pass: "x", wantErr: ErrUnsupportedEncryption},
		{name: "legacy ed25519 short", data: pem.EncodeToMemory(&pem.Block{Type: PEMTypeLegacyED25519, Bytes: make([]byte, 64)})},
		{name: "ed25519 public mismatch", data: pem.EncodeToMemory(&pem.Block{Type: PEMTypeLegacyED25519, Bytes: make([]byte, 96)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParsePEM(tt.data, []byte(tt.pass))
			if err == nil {
				t.Fatal("ParsePEM succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestUnpad(t *testing.T) {
	block := func(tail ...byte) []byte {
		b := bytes.Repeat([]byte{0xAA}, 32-len(tail))
		return append(b, tail...)
	}
	tests := []struct {
		name    string
		in      []byte
		wantLen int // -1: error
	}{
		{"one", block(1), 31},
		{"sixteen", append(bytes.Repeat([]byte{0xAA}, 16), bytes.Repeat([]byte{16}, 16)...), 16},
		{"three", block(3, 3, 3), 29},
		{"zero", block(0), -1},
		{"seventeen", block(17), -1},
		{"inconsistent", block(2, 3, 3), -1},
		{"short inconsistent", block(1, 3, 3), -1},
		{"not a block", []byte{1, 1, 1}, -1},
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unpad(append([]byte(nil), tt.in...), 16)
			if tt.wantLen < 0 {
				if !errors.Is(err, ErrWrongPassphrase) {
					t.Errorf("err = %v, want ErrWrongPassphrase", err)
				}
				return
			}
			if err != nil || len(got) != tt.wantLen {
				t.Errorf("unpad = %d bytes, %v; want %d", len(got), err, tt.wantLen)
			}
		})
	}
}

func TestEVPBytesToKey(t *testing.T) {
	// openssl enc -aes-256-cbc -k password -S 0102030405060708 -P -md md5
	got := hex.EncodeToString(evpBytesToKey([]byte("password"), []byte{1, 2, 3, 4, 5, 6, 7, 8}, 32))
	if want := evpFromOpenSSL(t); want != "" && got != want {
		t.Errorf("evpBytesToKey = %s, want %s", got, want)
	}
}

func evpFromOpenSSL(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	out, err := exec.Command("openssl", "enc", "-aes-256-cbc", "-k", "password", "-S", "0102030405060708", "-P", "-md", "md5").CombinedOutput()
	if err != nil {
		t.Skipf("openssl enc -P: %v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "key="); ok {
			return strings.ToLower(v)
		}
	}
	t.Fatalf("no key= in %s", out)
	return ""
}

// stripHeaders rewrites data without PEM headers: OpenSSL refuses headers
// other than Proc-Type/DEK-Info.
func stripHeaders(data []byte) []byte {
	block, _ := pem.Decode(data)
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
}

func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestOpenSSLDecryptsOurPEM: OpenSSL decrypts what we write, and gets the
// same key (compared as unencrypted PKCS#8 re-read by us).
func TestOpenSSLDecryptsOurPEM(t *testing.T) {
	needOpenSSL(t)
	for _, typ := range []string{ECDSA, RSA} { // OpenSSL does not know v1's ed25519 OID
		t.Run(typ, func(t *testing.T) {
			key := testKeys(t)[typ]
			data, err := EncryptPEM(key, "targets", "example.com/app", []byte("s3cret pass"))
			if err != nil {
				t.Fatal(err)
			}
			out := openssl(t, stripHeaders(data), "pkcs8", "-passin", "pass:s3cret pass")
			got, _, err := ParsePEM(out, nil)
			if err != nil {
				t.Fatalf("parse openssl output: %v\n%s", err, out)
			}
			if got.ID() != key.ID() {
				t.Errorf("openssl decrypted a different key")
			}
			// The ASN.1 structure is exactly v1's (no prf, no keyLength).
			dump := string(openssl(t, stripHeaders(data), "asn1parse"))
			for _, want := range []string{"PBES2", "PBKDF2", "aes-256-cbc", ":0800"} {
				if !strings.Contains(dump, want) {
					t.Errorf("asn1parse lacks %q:\n%s", want, dump)
				}
			}
			if strings.Contains(dump, "hmacWith") {
				t.Errorf("asn1parse shows an explicit PRF:\n%s", dump)
			}
		})
	}
}

// TestParseOpenSSLKeys: keys OpenSSL writes in its default forms can be
// imported.
func TestParseOpenSSLKeys(t *testing.T) {
	needOpenSSL(t)
	ec := openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
	tests := []struct {
		name string
		data []byte
		pass string
	}{
		{name: "pkcs8 ec", data: ec},
		{name: "pkcs8 ed25519 rfc8410", data: openssl(t, nil, "genpkey", "-algorithm", "ED25519")},
		{name: "pkcs8 rsa", data: openssl(t, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")},
		{name: "encrypted pkcs8 hmacWithSHA256", data: openssl(t, ec, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-passout", "pass:openssl-pass"), pass: "openssl-pass"},
		{name: "encrypted pkcs8 aes128 sha1", data: openssl(t, ec, "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-passout", "pass:openssl-pass"), pass: "openssl-pass"},
		{name: "legacy ec aes256", data: openssl(t, ec, "ec", "-aes256", "-passout", "pass:openssl-pass"), pass: "openssl-pass"},
		{name: "legacy ec des3", data: openssl(t, ec, "ec", "-des3", "-passout", "pass:openssl-pass"), pass: "openssl-pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, _, err := ParsePEM(tt.data, []byte(tt.pass))
			if err != nil {
				t.Fatalf("ParsePEM: %v\n%s", err, tt.data)
			}
			checkSigns(t, key)
			if tt.pass != "" {
				if _, _, err := ParsePEM(tt.data, []byte("nope")); !errors.Is(err, ErrWrongPassphrase) {
					t.Errorf("wrong passphrase: %v", err)
				}
			}
		})
	}
}

func FuzzParsePEM(f *testing.F) {
	for _, dir := range []string{"testdata/v1/pem", "testdata/v1oracle", "testdata/legacy"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b, []byte("goldenpassphrase"))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		key, info, err := ParsePEM(data, pass)
		if err == nil {
			checkSigns(t, key)
		}
		if info2, err := ReadPEMInfo(data); err == nil && info2.Encrypted != IsEncryptedPEM(data) {
			t.Errorf("IsEncryptedPEM disagrees with %+v", info)
		}
	})
}

// TestV1OracleReadsOurPEM has v0.7.0's own parser read what we write, through
// tools/cmd/v1oracle (built by scripts/install-peers.sh into $NOTARY_V1_BIN).
func TestV1OracleReadsOurPEM(t *testing.T) {
	oracle := v1Tool(t, "v1oracle")
	dir := t.TempDir()
	for typ, key := range testKeys(t) {
		for _, tc := range []struct{ role, gun, pass string }{
			{"root", "", "oracle pass"},
			{"targets", "example.com/app", "oracle pass"},
			{"targets/releases", "", ""},
		} {
			t.Run(typ+"/"+tc.role, func(t *testing.T) {
				var data []byte
				var err error
				if tc.pass == "" {
					data, err = UnencryptedPEM(key, tc.role, tc.gun)
				} else {
					data, err = EncryptPEM(key, tc.role, tc.gun, []byte(tc.pass))
				}
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(dir, "k.pem")
				if err := os.WriteFile(file, data, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(oracle, "check", file, tc.pass).CombinedOutput()
				if err != nil {
					t.Fatalf("v1 could not read our key: %v: %s", err, out)
				}
				priv, _ := key.Bytes()
				want := key.Type() + " " + key.ID() + " " + hex.EncodeToString(priv) + " role=\"" + tc.role + "\" gun=\"" + tc.gun + "\"\n"
				if string(out) != want {
					t.Errorf("v1 read\n%s\nwant\n%s", out, want)
				}
			})
		}
	}
}

// TestV1DelegationInputs reads the key files the v1 golden scenario gave
// the CLI: `notary key generate ecdsa -o releases` output and an openssl
// key with its certificate.
func TestV1DelegationInputs(t *testing.T) {
	dir := "testdata/v1/golden/delegation-inputs"
	if _, err := os.Stat(dir); err != nil {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): no v1 delegation inputs")
	}
	t.Run("notary key generate", func(t *testing.T) {
		key, info, err := ParsePEM(readFile(t, dir+"/releases-key.pem"), []byte("goldenpassphrase"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Role != "targets/releases" || info.GUN != "" || !info.Encrypted {
			t.Errorf("info = %+v", info)
		}
		block, _ := pem.Decode(readFile(t, dir+"/releases.pem"))
		if block == nil || block.Type != "PUBLIC KEY" || !bytes.Equal(block.Bytes, key.Public().Public) {
			t.Errorf("releases.pem does not hold the public key of releases-key.pem")
		}
	})
	t.Run("openssl key and cert", func(t *testing.T) {
		key, _, err := ParsePEM(readFile(t, dir+"/qa.key"), nil)
		if err != nil {
			t.Fatal(err)
		}
		certs := parseCerts(t, string(readFile(t, dir+"/qa.crt")))
		xk, err := key.WithCertificate(certs[0])
		if err != nil {
			t.Fatal(err)
		}
		checkSigns(t, xk)
	})
}

// v1Tool finds a binary that scripts/install-peers.sh built into
// $NOTARY_V1_BIN. Without it the test skips, except on CI where it fails.
func v1Tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("NOTARY_V1_BIN")
	if dir != "" {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found in NOTARY_V1_BIN=%q: run scripts/install-peers.sh", name, dir)
	}
	t.Skipf("%s not found: run scripts/install-peers.sh and set NOTARY_V1_BIN=.tools/bin", name)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
