package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Signature methods as they appear in a signature's "method" field.
const (
	MethodEdDSA       = "eddsa"
	MethodECDSA       = "ecdsa"
	MethodRSAPSS      = "rsapss"
	MethodRSAPKCS1v15 = "rsapkcs1v15"
	MethodPyCryptoPSS = "pycrypto-pkcs#1 pss"
)

// MinRSABits is the smallest RSA modulus v1 accepts.
const MinRSABits = 2048

// ErrInvalidSignature is wrapped by every signature that does not verify.
var ErrInvalidSignature = errors.New("invalid signature")

// MethodMismatchError reports a signature method that does not belong to the
// key's type, such as "eddsa" claimed for an ecdsa key.
type MethodMismatchError struct{ Method, KeyType string }

func (e *MethodMismatchError) Error() string {
	return fmt.Sprintf("keys: signature method %q cannot be used with a %s key", e.Method, e.KeyType)
}

// methodsFor lists the methods each key type may verify with.
var methodsFor = map[string][]string{
	ED25519:   {MethodEdDSA},
	ECDSA:     {MethodECDSA},
	ECDSAx509: {MethodECDSA},
	RSA:       {MethodRSAPSS, MethodRSAPKCS1v15, MethodPyCryptoPSS},
	RSAx509:   {MethodRSAPSS, MethodRSAPKCS1v15},
}

// MethodAllowed reports whether method (compared case-insensitively, as v1
// lowercases it) may verify signatures of a key of type keyType.
func MethodAllowed(keyType, method string) bool {
	method = strings.ToLower(method)
	for _, m := range methodsFor[keyType] {
		if m == method {
			return true
		}
	}
	return false
}

// Verify checks sig over msg (the canonical bytes of a role's "signed"
// value) with this key and method. It returns nil only for a valid
// signature; a method foreign to the key's type is a *MethodMismatchError.
func (k PublicKey) Verify(method string, msg, sig []byte) error {
	method = strings.ToLower(method)
	if _, known := methodsFor[k.Type]; !known {
		return &UnknownKeyTypeError{Type: k.Type}
	}
	if !MethodAllowed(k.Type, method) {
		return &MethodMismatchError{Method: method, KeyType: k.Type}
	}
	if err := checkRSAEncoding(k, method); err != nil {
		return err
	}
	pub, err := k.CryptoPublicKey()
	if err != nil {
		return err
	}
	if err := verifyWith(pub, method, msg, sig); err != nil {
		return fmt.Errorf("%w: %s key %.12s…: %v", ErrInvalidSignature, k.Type, k.ID(), err)
	}
	return nil
}

func verifyWith(pub crypto.PublicKey, method string, msg, sig []byte) error {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("ed25519 signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
		}
		if !ed25519.Verify(p, msg, sig) {
			return errors.New("ed25519 verification failed")
		}
		return nil
	case *ecdsa.PublicKey:
		return verifyECDSA(p, msg, sig)
	case *rsa.PublicKey:
		return verifyRSA(p, method, msg, sig)
	}
	return fmt.Errorf("unsupported public key %T", pub)
}

// verifyECDSA takes v1's raw r||s form, each half padded to the curve size,
// and always hashes with SHA-256 whatever the curve.
func verifyECDSA(p *ecdsa.PublicKey, msg, sig []byte) error {
	size := (p.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return fmt.Errorf("ecdsa signature is %d bytes, want %d", len(sig), 2*size)
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	digest := sha256.Sum256(msg)
	if !ecdsa.Verify(p, digest[:], r, s) {
		return errors.New("ecdsa verification failed")
	}
	return nil
}

func verifyRSA(p *rsa.PublicKey, method string, msg, sig []byte) error {
	if p.N.BitLen() < MinRSABits {
		return fmt.Errorf("rsa key of %d bits is below the %d-bit minimum", p.N.BitLen(), MinRSABits)
	}
	if len(sig) < MinRSABits/8 {
		return fmt.Errorf("rsa signature is %d bytes, want at least %d", len(sig), MinRSABits/8)
	}
	digest := sha256.Sum256(msg)
	if method == MethodRSAPKCS1v15 {
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig)
	}
	return rsa.VerifyPSS(p, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: sha256.Size, Hash: crypto.SHA256})
}

// checkRSAEncoding applies v1's rule on how a plain rsa key's public bytes
// are encoded (v1 tuf/signed/verifiers.go): "pycrypto-pkcs#1 pss" needs PEM,
// while rsapss and rsapkcs1v15 parse DER only.
func checkRSAEncoding(k PublicKey, method string) error {
	if k.Type != RSA {
		return nil
	}
	isPEM := bytes.HasPrefix(bytes.TrimLeft(k.Public, " \t\r\n"), []byte("-----BEGIN"))
	switch {
	case method == MethodPyCryptoPSS && !isPEM:
		return fmt.Errorf("%w: method %q needs a PEM-encoded rsa key", ErrInvalidSignature, method)
	case method != MethodPyCryptoPSS && isPEM:
		return fmt.Errorf("%w: method %q needs a DER-encoded rsa key", ErrInvalidSignature, method)
	}
	return nil
}
