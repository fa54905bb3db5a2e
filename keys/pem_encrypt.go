package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Parameters of the PBES2 encryption v1 writes (§7.2).
const (
	pbkdf2Iterations = 2048
	pbkdf2SaltSize   = 8
	// maxPBKDF2Iterations bounds the work a crafted file can ask for.
	maxPBKDF2Iterations = 1 << 24
)

// The encrypted PKCS#8 structures exactly as v1 marshals them (hard fork of
// youmark/pkcs8): PBKDF2 parameters are {salt, iterationCount} with no
// keyLength and no prf, so the PRF is the implicit HMAC-SHA1.
type (
	v1PBKDF2Params struct {
		Salt           []byte
		IterationCount int
	}
	v1PBKDF2Algorithm struct {
		ID     asn1.ObjectIdentifier
		Params v1PBKDF2Params
	}
	v1EncryptionScheme struct {
		ID asn1.ObjectIdentifier
		IV []byte
	}
	v1PBES2Params struct {
		KeyDerivationFunc v1PBKDF2Algorithm
		EncryptionScheme  v1EncryptionScheme
	}
	v1PBES2Algorithm struct {
		ID     asn1.ObjectIdentifier
		Params v1PBES2Params
	}
	v1EncryptedPrivateKeyInfo struct {
		EncryptionAlgorithm v1PBES2Algorithm
		EncryptedData       []byte
	}
)

// encryptPKCS8 wraps the PrivateKeyInfo DER plain in v1's
// EncryptedPrivateKeyInfo, reading salt and IV from rnd.
func encryptPKCS8(rnd io.Reader, plain, passphrase []byte) ([]byte, error) {
	salt := make([]byte, pbkdf2SaltSize)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return nil, err
	}
	return encryptPKCS8With(plain, passphrase, salt, iv, pbkdf2Iterations)
}

func encryptPKCS8With(plain, passphrase, salt, iv []byte, iter int) ([]byte, error) {
	key, err := pbkdf2.Key(sha1.New, string(passphrase), salt, iter, 32)
	if err != nil {
		return nil, err
	}
	defer wipe(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	// PKCS#7 padding, always 1–16 bytes.
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	out := make([]byte, len(buf))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, buf)
	wipe(buf)
	return asn1.Marshal(v1EncryptedPrivateKeyInfo{
		EncryptionAlgorithm: v1PBES2Algorithm{
			ID: oidPBES2,
			Params: v1PBES2Params{
				KeyDerivationFunc: v1PBKDF2Algorithm{ID: oidPBKDF2, Params: v1PBKDF2Params{Salt: salt, IterationCount: iter}},
				EncryptionScheme:  v1EncryptionScheme{ID: oidAES256CBC, IV: iv},
			},
		},
		EncryptedData: out,
	})
}

// Lenient reading structures: they also accept what OpenSSL writes
// (explicit keyLength, an hmacWithSHA256 PRF, AES-128/192).
type (
	algorithmIdentifier struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	encryptedPrivateKeyInfo struct {
		Algorithm     algorithmIdentifier
		EncryptedData []byte
	}
	pbes2Params struct {
		KeyDerivationFunc algorithmIdentifier
		EncryptionScheme  algorithmIdentifier
	}
	pbkdf2Params struct {
		Salt           []byte
		IterationCount int
		KeyLength      int                 `asn1:"optional"`
		PRF            algorithmIdentifier `asn1:"optional"`
	}
)

// pbes2 holds the parsed encryption parameters of an encrypted PKCS#8 key.
type pbes2 struct {
	salt, iv   []byte
	iterations int
	keyLen     int
	prf        func() hash.Hash
	data       []byte
}

// ErrUnsupportedEncryption is wrapped when an encrypted key uses a scheme
// other than PBES2/PBKDF2 with AES-CBC (or, for legacy keys, RFC 1423 with
// AES-CBC or DES-EDE3-CBC).
var ErrUnsupportedEncryption = errors.New("unsupported private key encryption")

func parsePBES2(der []byte) (*pbes2, error) {
	var epki encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &epki); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("keys: malformed encrypted pkcs8 key: %v", err)
	}
	if !epki.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("keys: %w: %v (want PBES2)", ErrUnsupportedEncryption, epki.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(epki.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("keys: malformed PBES2 parameters: %v", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("keys: %w: key derivation %v (want PBKDF2)", ErrUnsupportedEncryption, params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("keys: malformed PBKDF2 parameters: %v", err)
	}
	p := &pbes2{salt: kdf.Salt, iterations: kdf.IterationCount, data: epki.EncryptedData}
	switch {
	case len(kdf.PRF.Algorithm) == 0 || kdf.PRF.Algorithm.Equal(oidHMACWithSHA1):
		p.prf = sha1.New
	case kdf.PRF.Algorithm.Equal(oidHMACWithSHA256):
		p.prf = sha256.New
	default:
		return nil, fmt.Errorf("keys: %w: PBKDF2 PRF %v", ErrUnsupportedEncryption, kdf.PRF.Algorithm)
	}
	if p.iterations < 1 || p.iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("keys: PBKDF2 iteration count %d out of range", p.iterations)
	}
	enc := params.EncryptionScheme.Algorithm
	switch {
	case enc.Equal(oidAES256CBC):
		p.keyLen = 32
	case enc.Equal(oidAES192CBC):
		p.keyLen = 24
	case enc.Equal(oidAES128CBC):
		p.keyLen = 16
	default:
		return nil, fmt.Errorf("keys: %w: cipher %v (want AES-CBC)", ErrUnsupportedEncryption, enc)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != p.keyLen {
		return nil, fmt.Errorf("keys: PBKDF2 key length %d does not fit the cipher", kdf.KeyLength)
	}
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &p.iv); err != nil || len(p.iv) != aes.BlockSize {
		return nil, errors.New("keys: malformed AES-CBC IV")
	}
	if len(p.data) == 0 || len(p.data)%aes.BlockSize != 0 {
		return nil, errors.New("keys: encrypted key is not a whole number of blocks")
	}
	return p, nil
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo and returns the
// PrivateKeyInfo DER without padding. Bad padding means a wrong passphrase.
func decryptPKCS8(der, passphrase []byte) ([]byte, error) {
	p, err := parsePBES2(der)
	if err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(p.prf, string(passphrase), p.salt, p.iterations, p.keyLen)
	if err != nil {
		return nil, err
	}
	defer wipe(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(p.data))
	cipher.NewCBCDecrypter(block, p.iv).CryptBlocks(plain, p.data)
	return unpad(plain, aes.BlockSize)
}

// unpad removes PKCS#7 padding in constant time. On failure it wipes buf
// and returns ErrWrongPassphrase.
func unpad(buf []byte, blockSize int) ([]byte, error) {
	n := len(buf)
	if n == 0 || n%blockSize != 0 {
		wipe(buf)
		return nil, fmt.Errorf("keys: %w", ErrWrongPassphrase)
	}
	pad := int(buf[n-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, blockSize)
	for i := 1; i <= blockSize; i++ {
		// Only the last pad bytes must equal pad.
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		eq := subtle.ConstantTimeByteEq(buf[n-i], byte(pad))
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		wipe(buf)
		return nil, fmt.Errorf("keys: %w", ErrWrongPassphrase)
	}
	wipe(buf[n-pad:])
	return buf[:n-pad], nil
}

// decryptRFC1423 decrypts a legacy "Proc-Type: 4,ENCRYPTED" block: the key
// is OpenSSL's EVP_BytesToKey with MD5, one round, salted with the first 8
// bytes of the IV (what x509.DecryptPEMBlock did).
func decryptRFC1423(block *pem.Block, passphrase []byte) ([]byte, error) {
	dek := block.Headers["DEK-Info"]
	name, ivHex, ok := strings.Cut(dek, ",")
	if !ok {
		return nil, errors.New("keys: malformed DEK-Info header")
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch name {
	case "AES-256-CBC":
		keyLen, newCipher = 32, aes.NewCipher
	case "AES-192-CBC":
		keyLen, newCipher = 24, aes.NewCipher
	case "AES-128-CBC":
		keyLen, newCipher = 16, aes.NewCipher
	case "DES-EDE3-CBC":
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("keys: %w: DEK-Info cipher %q", ErrUnsupportedEncryption, name)
	}
	iv, err := hex.DecodeString(ivHex)
	if err != nil || len(iv) < 8 {
		return nil, errors.New("keys: malformed DEK-Info IV")
	}
	key := evpBytesToKey(passphrase, iv[:8], keyLen)
	defer wipe(key)
	c, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != c.BlockSize() {
		return nil, errors.New("keys: DEK-Info IV does not fit the cipher")
	}
	if len(block.Bytes) == 0 || len(block.Bytes)%c.BlockSize() != 0 {
		return nil, errors.New("keys: encrypted key is not a whole number of blocks")
	}
	plain := make([]byte, len(block.Bytes))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(plain, block.Bytes)
	return unpad(plain, c.BlockSize())
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey(MD5, count 1) without IV output.
func evpBytesToKey(pass, salt []byte, keyLen int) []byte {
	h := md5.New()
	out := make([]byte, 0, keyLen+md5.Size)
	var prev []byte
	for len(out) < keyLen {
		h.Reset()
		h.Write(prev)
		h.Write(pass)
		h.Write(salt)
		prev = h.Sum(prev[:0])
		out = append(out, prev...)
	}
	wipe(prev)
	wipe(out[keyLen:])
	return out[:keyLen]
}

// wipe zeroes b. It is best effort: copies made by the runtime or the
// standard library (big.Int internals, strings) are out of reach.
func wipe(b []byte) { clear(b) }
