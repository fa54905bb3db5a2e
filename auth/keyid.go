package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
)

// LibtrustKeyID is the key ID docker/libtrust gives a public key, which
// docker/distribution v2 token auth (the one Notary v0.7.0 vendors) looks
// up a token's "kid" by: SHA-256 of the PKIX DER of the key, truncated to
// 240 bits, base32 without padding, in 12 colon-separated groups of 4
// ("ABCD:EFGH:...").
func LibtrustKeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("auth: key ID: %w", err)
	}
	sum := sha256.Sum256(der)
	s := strings.TrimRight(base32.StdEncoding.EncodeToString(sum[:30]), "=")
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String(), nil
}

// jwkThumbprints returns the RFC 7638 SHA-256 thumbprints of pub, which
// docker/distribution v3 token auth looks up a "kid" by. distribution
// encodes EC coordinates without their leading zero bytes (not as RFC 7518
// says, padded to the field size); both forms are returned when they
// differ, so either kind of issuer is recognised.
func jwkThumbprints(pub crypto.PublicKey) []string {
	b64 := base64.RawURLEncoding.EncodeToString
	hash := func(s string) string { sum := sha256.Sum256([]byte(s)); return b64(sum[:]) }
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		ecdh, err := k.ECDH()
		if err != nil {
			return nil
		}
		raw := ecdh.Bytes() // 0x04 || X || Y, each padded to size
		x, y := raw[1:1+size], raw[1+size:]
		out := []string{hash(fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, k.Curve.Params().Name, b64(x), b64(y)))}
		xs, ys := new(big.Int).SetBytes(x).Bytes(), new(big.Int).SetBytes(y).Bytes()
		if len(xs) != size || len(ys) != size {
			out = append(out, hash(fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, k.Curve.Params().Name, b64(xs), b64(ys))))
		}
		return out
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return []string{hash(fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64(e), b64(k.N.Bytes())))}
	case ed25519.PublicKey:
		return []string{hash(fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64(k)))}
	}
	return nil
}
