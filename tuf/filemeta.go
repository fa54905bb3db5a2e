package tuf

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Hash algorithm names recognised in FileMeta.hashes (v1 §1.7).
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// hashSizes maps each known algorithm to its digest size; other names are
// carried but ignored (v1 §1.7).
var hashSizes = map[string]int{SHA256: sha256.Size, SHA512: sha512.Size}

// DefaultHashes are the algorithms v1 writes for metadata and for targets
// added with "notary add".
var DefaultHashes = []string{SHA256, SHA512}

// NewFileMeta describes data by length and by the given algorithms
// (DefaultHashes when none are given). Unknown algorithm names are an error.
func NewFileMeta(data []byte, algs ...string) (FileMeta, error) {
	if len(algs) == 0 {
		algs = DefaultHashes
	}
	h := make(Hashes, len(algs))
	for _, alg := range algs {
		switch alg {
		case SHA256:
			s := sha256.Sum256(data)
			h[alg] = s[:]
		case SHA512:
			s := sha512.Sum512(data)
			h[alg] = s[:]
		default:
			return FileMeta{}, fmt.Errorf("tuf: unsupported hash algorithm %q (want sha256 or sha512)", alg)
		}
	}
	return FileMeta{Hashes: h, Length: int64(len(data))}, nil
}

// Check verifies data against the FileMeta: its length must equal Length,
// at least one known algorithm (sha256, sha512) must be present, and every
// known algorithm present must match, compared in constant time (v1
// CheckHashes, TUF 5.3.x/5.4.x hash checks). Errors are *HashMismatchError
// or wrap ErrNoKnownHash; they name no role (see CheckFileMeta).
func (m FileMeta) Check(data []byte) error { return CheckFileMeta("", m, data) }

// CheckFileMeta is FileMeta.Check with the role named in errors.
func CheckFileMeta(role string, m FileMeta, data []byte) error {
	known := 0
	for alg, want := range m.Hashes {
		var sum []byte
		switch alg {
		case SHA256:
			s := sha256.Sum256(data)
			sum = s[:]
		case SHA512:
			s := sha512.Sum512(data)
			sum = s[:]
		default:
			continue
		}
		known++
		if subtle.ConstantTimeCompare(sum, want) != 1 {
			return &HashMismatchError{Role: role, Algorithm: alg, Want: hex.EncodeToString(want), Got: hex.EncodeToString(sum)}
		}
	}
	if known == 0 {
		return fmt.Errorf("tuf: %s: %w", roleLabel(role), ErrNoKnownHash)
	}
	if int64(len(data)) != m.Length {
		return &HashMismatchError{Role: role, Algorithm: "length", Want: strconv.FormatInt(m.Length, 10), Got: strconv.Itoa(len(data))}
	}
	return nil
}

// SHA256Hex returns the hex sha256 from the FileMeta, as used in
// hash-addressed file names ("<role>.<hex>.json", v1 §9), or "" when it
// has none of the right size.
func (m FileMeta) SHA256Hex() string {
	h := m.Hashes[SHA256]
	if len(h) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(h)
}

// CheckHashStructure reports whether Hashes carries at least one known
// algorithm and every known one has the right digest size (v1
// CheckValidHashStructures).
func (h Hashes) CheckHashStructure() error {
	known := 0
	for alg, v := range h {
		if want, ok := hashSizes[alg]; ok {
			if len(v) != want {
				return fmt.Errorf("tuf: %s digest is %d bytes, want %d", alg, len(v), want)
			}
			known++
		}
	}
	if known == 0 {
		return ErrNoKnownHash
	}
	return nil
}

// Equal reports whether m and other describe the same file the same way
// (v1 FileMeta.Equals): same length, the same hashes under the same
// algorithm names, and custom data both absent or byte-identical. custom
// counts because, for a target, it is part of what the publisher signed
// (Docker ignores it; our image targets record platforms in it), so a
// target whose custom changed has changed. Hashes are compared in
// constant time.
func (m FileMeta) Equal(other FileMeta) bool {
	if m.Length != other.Length || len(m.Hashes) != len(other.Hashes) {
		return false
	}
	if (m.Custom == nil) != (other.Custom == nil) {
		return false
	}
	for alg, h := range m.Hashes {
		w, ok := other.Hashes[alg]
		if !ok || subtle.ConstantTimeCompare(h, w) != 1 {
			return false
		}
	}
	return m.Custom == nil || string(*m.Custom) == string(*other.Custom)
}
