package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// PEM block types of private key files (§7.2).
const (
	PEMTypePKCS8          = "PRIVATE KEY"
	PEMTypeEncryptedPKCS8 = "ENCRYPTED PRIVATE KEY"
	PEMTypeLegacyEC       = "EC PRIVATE KEY"
	PEMTypeLegacyRSA      = "RSA PRIVATE KEY"
	PEMTypeLegacyED25519  = "ED25519 PRIVATE KEY"
)

// PEM headers of private key files. The key ID is the file name, never a
// header.
const (
	PEMHeaderRole = "role"
	PEMHeaderGUN  = "gun"
)

// Errors of the PEM functions, tested with errors.Is.
var (
	// ErrWrongPassphrase: the passphrase did not decrypt the key (or the
	// ciphertext is corrupt; the two cannot be told apart).
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrPassphraseRequired: the key is encrypted and no passphrase was given.
	ErrPassphraseRequired = errors.New("key is encrypted and needs a passphrase")
	// ErrNotPrivateKeyPEM: the data holds no PEM block of a private key type.
	ErrNotPrivateKeyPEM = errors.New("no private key PEM block")
)

// PEMInfo is what a private key PEM says about itself without decrypting.
type PEMInfo struct {
	Role      string // "role" header; empty when absent
	GUN       string // "gun" header; empty when absent
	Encrypted bool   // ENCRYPTED PRIVATE KEY, or a legacy block with a DEK-Info header (RFC 1423)
	BlockType string // PEM block type, one of the PEMType constants
}

// Legacy reports whether the block is one of the pre-PKCS#8 formats
// (EC, RSA or ED25519 PRIVATE KEY) that v1 reads but no longer writes.
func (i PEMInfo) Legacy() bool {
	switch i.BlockType {
	case PEMTypeLegacyEC, PEMTypeLegacyRSA, PEMTypeLegacyED25519:
		return true
	}
	return false
}

// KeyType is the key type the block reveals without decrypting: ecdsa, rsa
// or ed25519 for the legacy formats, empty for PKCS#8.
func (i PEMInfo) KeyType() string {
	switch i.BlockType {
	case PEMTypeLegacyEC:
		return ECDSA
	case PEMTypeLegacyRSA:
		return RSA
	case PEMTypeLegacyED25519:
		return ED25519
	}
	return ""
}

// PEMGUN applies v1's rule for the "gun" header (trustmanager
// GenericKeyStore.AddKey): the GUN is kept only for the non-root base roles
// targets, snapshot and timestamp, and cleared for root, delegation roles and
// any other role name, so such keys can be shared across repositories.
func PEMGUN(role, gun string) string {
	switch role {
	case "targets", "snapshot", "timestamp":
		return gun
	}
	return ""
}

// EncryptPEM encodes key as v1 writes every key it creates: an ENCRYPTED
// PRIVATE KEY (PKCS#8, PBES2 with PBKDF2-HMAC-SHA1, 8-byte salt, 2048
// iterations, AES-256-CBC) with a "role" header (when role is not empty)
// and a "gun" header as PEMGUN decides. The private key is stored in its
// plain form; an x509 public key is not written. passphrase must not be
// empty (v1 writes an unencrypted key for an empty passphrase: callers that
// want that use UnencryptedPEM).
func EncryptPEM(key *PrivateKey, role, gun string, passphrase []byte) ([]byte, error) {
	return encryptPEM(rand.Reader, key, role, gun, passphrase)
}

func encryptPEM(rnd io.Reader, key *PrivateKey, role, gun string, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("keys: empty passphrase: use UnencryptedPEM to write an unencrypted key")
	}
	inner, err := MarshalPKCS8(key)
	if err != nil {
		return nil, err
	}
	defer wipe(inner)
	der, err := encryptPKCS8(rnd, inner, passphrase)
	if err != nil {
		return nil, err
	}
	return encodePEM(PEMTypeEncryptedPKCS8, der, role, gun), nil
}

// UnencryptedPEM encodes key as a PRIVATE KEY (PKCS#8 in v1's form) with the
// same headers as EncryptPEM. The caller should wipe the result after use.
func UnencryptedPEM(key *PrivateKey, role, gun string) ([]byte, error) {
	der, err := MarshalPKCS8(key)
	if err != nil {
		return nil, err
	}
	defer wipe(der)
	return encodePEM(PEMTypePKCS8, der, role, gun), nil
}

// encodePEM writes the block as v1 does: pem.EncodeToMemory, so headers come
// in sorted order ("gun" before "role").
func encodePEM(typ string, der []byte, role, gun string) []byte {
	headers := map[string]string{}
	if role != "" {
		headers[PEMHeaderRole] = role
	}
	if g := PEMGUN(role, gun); g != "" {
		headers[PEMHeaderGUN] = g
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

// decodeKeyBlock returns the first PEM block of data, which must be of a
// private key type.
func decodeKeyBlock(data []byte) (*pem.Block, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, ErrNotPrivateKeyPEM
	}
	switch block.Type {
	case PEMTypePKCS8, PEMTypeEncryptedPKCS8, PEMTypeLegacyEC, PEMTypeLegacyRSA, PEMTypeLegacyED25519:
		return block, nil
	}
	return nil, fmt.Errorf("%w: unsupported PEM type %q", ErrNotPrivateKeyPEM, block.Type)
}

func infoOf(block *pem.Block) PEMInfo {
	info := PEMInfo{
		Role:      block.Headers[PEMHeaderRole],
		GUN:       block.Headers[PEMHeaderGUN],
		Encrypted: block.Type == PEMTypeEncryptedPKCS8,
		BlockType: block.Type,
	}
	if info.Legacy() {
		// RFC 1423: a DEK-Info header means encrypted (as
		// x509.IsEncryptedPEMBlock, which v1 used, decides).
		_, info.Encrypted = block.Headers["DEK-Info"]
	}
	return info
}

// ReadPEMInfo reads the headers of the first PEM block of a private key
// file without decrypting it (v1 ExtractPrivateKeyAttributes).
func ReadPEMInfo(data []byte) (PEMInfo, error) {
	block, err := decodeKeyBlock(data)
	if err != nil {
		return PEMInfo{}, err
	}
	return infoOf(block), nil
}

// IsEncryptedPEM reports whether data starts with an encrypted private key
// PEM block (PKCS#8 or legacy RFC 1423).
func IsEncryptedPEM(data []byte) bool {
	info, err := ReadPEMInfo(data)
	return err == nil && info.Encrypted
}

// ParsePEM decodes the first PEM block of data, a private key in any form v1
// reads: PRIVATE KEY (PKCS#8 in v1's or the standard form, including RFC
// 8410 ed25519), ENCRYPTED PRIVATE KEY (PBES2), and the legacy EC, RSA and
// ED25519 PRIVATE KEY blocks, plain or RFC 1423 encrypted. passphrase is
// used only for an encrypted block; for one it must not be empty
// (ErrPassphraseRequired). A passphrase that does not decrypt the key gives
// an error wrapping ErrWrongPassphrase. The returned key has its plain
// public key.
func ParsePEM(data, passphrase []byte) (*PrivateKey, PEMInfo, error) {
	block, err := decodeKeyBlock(data)
	if err != nil {
		return nil, PEMInfo{}, err
	}
	info := infoOf(block)
	key, err := parseKeyBlock(block, info, passphrase)
	if err != nil {
		return nil, info, err
	}
	return key, info, nil
}

func parseKeyBlock(block *pem.Block, info PEMInfo, passphrase []byte) (*PrivateKey, error) {
	if info.Encrypted && len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	switch block.Type {
	case PEMTypePKCS8:
		return ParsePKCS8(block.Bytes)
	case PEMTypeEncryptedPKCS8:
		plain, err := decryptPKCS8(block.Bytes, passphrase)
		if err != nil {
			return nil, err
		}
		defer wipe(plain)
		key, err := ParsePKCS8(plain)
		if err != nil {
			// The padding was right by chance (about 1 in 256) but the
			// plaintext is not a key: the passphrase is wrong.
			return nil, fmt.Errorf("keys: %w", ErrWrongPassphrase)
		}
		return key, nil
	}
	// Legacy blocks (v1 parseLegacyPrivateKey).
	der := block.Bytes
	if info.Encrypted {
		plain, err := decryptRFC1423(block, passphrase)
		if err != nil {
			return nil, err
		}
		defer wipe(plain)
		der = plain
	}
	key, err := parseLegacyDER(block.Type, der)
	if err != nil && info.Encrypted {
		return nil, fmt.Errorf("keys: %w", ErrWrongPassphrase)
	}
	return key, err
}

func parseLegacyDER(typ string, der []byte) (*PrivateKey, error) {
	switch typ {
	case PEMTypeLegacyRSA:
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("keys: bad %s: %w", typ, err)
		}
		return FromCrypto(k)
	case PEMTypeLegacyEC:
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("keys: bad %s: %w", typ, err)
		}
		return FromCrypto(k)
	default: // PEMTypeLegacyED25519: raw pub||seed||pub
		return ed25519From96(der)
	}
}

// ed25519From96 reads v1's 96-byte ed25519 private form, checking that the
// public halves match the seed.
func ed25519From96(b []byte) (*PrivateKey, error) {
	if len(b) != 96 {
		return nil, fmt.Errorf("keys: ed25519 private key is %d bytes, want 96", len(b))
	}
	priv := ed25519.NewKeyFromSeed(b[32:64])
	pub := priv.Public().(ed25519.PublicKey)
	if subtle.ConstantTimeCompare(pub, b[:32])&subtle.ConstantTimeCompare(pub, b[64:]) != 1 {
		return nil, errors.New("keys: ed25519 private key does not match its public key")
	}
	return FromCrypto(priv)
}

// ---- PKCS#8 ----

// Object identifiers (v1 tuf/utils/pkcs8.go).
var (
	oidPublicKeyRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidPublicKeyECDSA   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPublicKeyED25519 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 15, 1} // v1's, not RFC 8410's
	oidNamedCurveP224   = asn1.ObjectIdentifier{1, 3, 132, 0, 33}
	oidNamedCurveP256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidNamedCurveP384   = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidNamedCurveP521   = asn1.ObjectIdentifier{1, 3, 132, 0, 35}

	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// v1PrivateKeyInfo is v1's PrivateKeyInfo: the AlgorithmIdentifier is
// written as a SEQUENCE of OIDs, which gives {rsaEncryption} without the
// NULL parameter and {id-ecPublicKey, namedCurve} for ecdsa.
type v1PrivateKeyInfo struct {
	Version             int
	PrivateKeyAlgorithm []asn1.ObjectIdentifier
	PrivateKey          []byte
}

// MarshalPKCS8 returns the unencrypted PKCS#8 DER of key exactly as v1 writes
// it (tuf/utils convertTUFKeyToPKCS8): ecdsa with version 1 and the named
// curve, the SEC1 key inside; rsa with version 0, no NULL parameter, PKCS#1
// inside; ed25519 with version 0, OID 1.3.6.1.4.1.11591.15.1 and the raw 96
// bytes. The caller should wipe the result after use.
func MarshalPKCS8(key *PrivateKey) ([]byte, error) {
	if key == nil || key.signer == nil {
		return nil, errors.New("keys: nil private key")
	}
	var info v1PrivateKeyInfo
	switch s := key.signer.(type) {
	case *rsa.PrivateKey:
		info.Version = 0
		info.PrivateKeyAlgorithm = []asn1.ObjectIdentifier{oidPublicKeyRSA}
	case *ecdsa.PrivateKey:
		curve, ok := oidFromCurve(s.Curve)
		if !ok {
			return nil, errors.New("keys: pkcs8: unknown elliptic curve")
		}
		info.Version = 1 // v1 quirk: openssl-style, though RFC 5958 says 0
		info.PrivateKeyAlgorithm = []asn1.ObjectIdentifier{oidPublicKeyECDSA, curve}
	case ed25519.PrivateKey:
		info.Version = 0
		info.PrivateKeyAlgorithm = []asn1.ObjectIdentifier{oidPublicKeyED25519}
	default:
		return nil, fmt.Errorf("keys: unsupported private key %T", key.signer)
	}
	priv, err := key.Bytes()
	if err != nil {
		return nil, err
	}
	defer wipe(priv)
	info.PrivateKey = priv
	return asn1.Marshal(info)
}

func oidFromCurve(c elliptic.Curve) (asn1.ObjectIdentifier, bool) {
	switch c {
	case elliptic.P224():
		return oidNamedCurveP224, true
	case elliptic.P256():
		return oidNamedCurveP256, true
	case elliptic.P384():
		return oidNamedCurveP384, true
	case elliptic.P521():
		return oidNamedCurveP521, true
	}
	return nil, false
}

// pkcs8Header is enough of a PrivateKeyInfo (or RFC 5958 OneAsymmetricKey)
// to find the algorithm.
type pkcs8Header struct {
	Version    int
	Algo       asn1.RawValue
	PrivateKey []byte
	Rest       []asn1.RawValue `asn1:"optional"`
}

// ParsePKCS8 parses an unencrypted PKCS#8 private key: v1's forms (see
// MarshalPKCS8) and the standard ones, including RFC 8410 ed25519.
func ParsePKCS8(der []byte) (*PrivateKey, error) {
	var hdr pkcs8Header
	rest, err := asn1.Unmarshal(der, &hdr)
	if err != nil {
		return nil, fmt.Errorf("keys: bad pkcs8 private key: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("keys: bad pkcs8 private key: trailing data")
	}
	var oids []asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(hdr.Algo.FullBytes, &oids); err == nil && len(oids) == 1 && oids[0].Equal(oidPublicKeyED25519) {
		return ed25519From96(hdr.PrivateKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: bad pkcs8 private key: %w", err)
	}
	switch s := k.(type) {
	case *rsa.PrivateKey:
		return FromCrypto(s)
	case *ecdsa.PrivateKey:
		return FromCrypto(s)
	case ed25519.PrivateKey:
		return FromCrypto(s)
	}
	return nil, fmt.Errorf("keys: unsupported pkcs8 private key %T", k)
}
