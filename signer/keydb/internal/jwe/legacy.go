package jwe

import (
	"crypto/hmac"
	"encoding/binary"
	"hash"
)

// deriveKEKGo115 reproduces the PBKDF2 of jose2go
// v0.0.0-20170216131308-f21a8cedbbae (pinned by Notary v0.7.0) when that
// library is compiled with Go 1.15. jose2go hands crypto/hmac one hash.Hash
// for both the inner and the outer state. Go 1.15's hmac caches the padded
// states on the first Reset by writing ipad, then resetting the shared
// object and writing opad, so the first PRF call of each PBKDF2 block
// hashes opad||salt||INT(i) as its inner step:
//
//	U_1 = H(opad || H(opad || salt || INT(i)))
//
// Every later U_c is a correct HMAC. Go 1.14 and earlier compute the
// standard PBKDF2 (the official v0.7.0 images were built with Go 1.14.1),
// and Go 1.16+ panics in hmac.New, so only signers built from source with
// Go 1.15 wrote such rows. Open falls back to this derivation only when
// the standard one fails; Seal never uses it.
func deriveKEKGo115(prf func() hash.Hash, passphrase string, salt []byte, iterations, keyLen int) []byte {
	key := []byte(passphrase)
	blockSize := prf().BlockSize()
	if len(key) > blockSize {
		h := prf()
		h.Write(key)
		key = h.Sum(nil)
	}
	opad := make([]byte, blockSize)
	copy(opad, key)
	for i := range opad {
		opad[i] ^= 0x5c
	}
	defer clear(opad)

	mac := hmac.New(prf, []byte(passphrase))
	out := make([]byte, 0, keyLen)
	for block := uint32(1); len(out) < keyLen; block++ {
		var ctr [4]byte
		binary.BigEndian.PutUint32(ctr[:], block)
		inner := prf()
		inner.Write(opad)
		inner.Write(salt)
		inner.Write(ctr[:])
		outer := prf()
		outer.Write(opad)
		outer.Write(inner.Sum(nil))
		u := outer.Sum(nil)
		t := append([]byte(nil), u...)
		for c := 2; c <= iterations; c++ {
			mac.Reset()
			mac.Write(u)
			u = mac.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
		clear(t)
	}
	return out[:keyLen]
}
