package jwe

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// defaultIV is the RFC 3394 §2.2.3.1 initial value A6A6A6A6A6A6A6A6.
var defaultIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// errUnwrap reports a key-wrap integrity check failure: a wrong KEK (so a
// wrong passphrase) or a tampered wrapped key.
var errUnwrap = errors.New("aes key unwrap: integrity check failed")

// wrapKey wraps plaintext (n 64-bit blocks, n >= 2) with kek as in RFC 3394
// §2.2.1 (index-based form). The result is 8 bytes longer than plaintext.
func wrapKey(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, fmt.Errorf("aes key wrap: key data is %d bytes, want a multiple of 8 and at least 16", len(plaintext))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("aes key wrap: %w", err)
	}
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[:8], defaultIV[:])
	copy(out[8:], plaintext)
	var buf [16]byte
	defer clear(buf[:])
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			// B = AES(K, A | R[i]); A = MSB(64, B) ^ t; R[i] = LSB(64, B)
			copy(buf[:8], out[:8])
			copy(buf[8:], out[8*i:8*i+8])
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:8*i+8], buf[8:])
		}
	}
	return out, nil
}

// unwrapKey reverses wrapKey (RFC 3394 §2.2.2) and checks the initial value
// in constant time. It returns errUnwrap when the check fails.
func unwrapKey(kek, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < 24 || len(ciphertext)%8 != 0 {
		return nil, fmt.Errorf("aes key unwrap: wrapped key is %d bytes, want a multiple of 8 and at least 24", len(ciphertext))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("aes key unwrap: %w", err)
	}
	n := len(ciphertext)/8 - 1
	var a [8]byte
	copy(a[:], ciphertext[:8])
	r := make([]byte, 8*n)
	copy(r, ciphertext[8:])
	var buf [16]byte
	defer clear(buf[:])
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			// B = AES-1(K, (A ^ t) | R[i]); A = MSB(64, B); R[i] = LSB(64, B)
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(buf[8:], r[8*(i-1):8*i])
			block.Decrypt(buf[:], buf[:])
			copy(a[:], buf[:8])
			copy(r[8*(i-1):8*i], buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], defaultIV[:]) != 1 {
		clear(r)
		return nil, errUnwrap
	}
	return r, nil
}
