package tuf

import (
	"crypto/sha256"
	"errors"
	"testing"
)

// TestFileMetaCheck: v1 CheckHashes and §1.7: at least one known
// algorithm, every known one must match, and the length must match.
func TestFileMetaCheck(t *testing.T) {
	data := []byte("metadata bytes")
	both, err := NewFileMeta(data)
	if err != nil {
		t.Fatal(err)
	}
	only256, _ := NewFileMeta(data, SHA256)
	only512, _ := NewFileMeta(data, SHA512)
	other := sha256.Sum256([]byte("other"))
	with := func(m FileMeta, alg string, v []byte) FileMeta {
		h := Hashes{}
		for k, x := range m.Hashes {
			h[k] = x
		}
		if v == nil {
			delete(h, alg)
		} else {
			h[alg] = v
		}
		return FileMeta{Hashes: h, Length: m.Length}
	}
	tests := []struct {
		name string
		meta FileMeta
		data []byte
		want error
	}{
		{name: "Both", meta: both, data: data},
		{name: "OnlySHA256", meta: only256, data: data},
		{name: "OnlySHA512", meta: only512, data: data},
		{name: "UnknownIgnored", meta: with(only256, "md5", []byte{1}), data: data},
		{name: "WrongData", meta: both, data: []byte("metadata bytez"), want: ErrHashMismatch},
		{name: "SHA512MismatchSHA256Match", meta: with(both, SHA512, make([]byte, 64)), data: data, want: ErrHashMismatch},
		{name: "SHA256Mismatch", meta: with(both, SHA256, other[:]), data: data, want: ErrHashMismatch},
		{name: "ShortDigest", meta: with(only256, SHA256, other[:16]), data: data, want: ErrHashMismatch},
		{name: "NoKnownHash", meta: FileMeta{Hashes: Hashes{"md5": {1}}, Length: int64(len(data))}, data: data, want: ErrNoKnownHash},
		{name: "NoHashes", meta: FileMeta{Length: int64(len(data))}, data: data, want: ErrNoKnownHash},
		{name: "LengthLonger", meta: FileMeta{Hashes: both.Hashes, Length: both.Length + 1}, data: data, want: ErrHashMismatch},
		{name: "Truncated", meta: both, data: data[:3], want: ErrHashMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.meta.Check(tc.data)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("RoleNamed", func(t *testing.T) {
		var he *HashMismatchError
		if err := CheckFileMeta(RoleSnapshot, both, nil); !errors.As(err, &he) || he.Role != RoleSnapshot {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewFileMeta(t *testing.T) {
	fm, err := NewFileMeta([]byte("abc"))
	if err != nil || len(fm.Hashes[SHA256]) != 32 || len(fm.Hashes[SHA512]) != 64 || fm.Length != 3 {
		t.Fatalf("got %+v, %v", fm, err)
	}
	if fm.SHA256Hex() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("SHA256Hex = %s", fm.SHA256Hex())
	}
	if _, err := NewFileMeta(nil, "md5"); err == nil {
		t.Fatal("md5 accepted")
	}
	if err := fm.Hashes.CheckHashStructure(); err != nil {
		t.Fatal(err)
	}
	if err := (Hashes{SHA256: []byte{1}}).CheckHashStructure(); err == nil {
		t.Fatal("short digest accepted")
	}
	if err := (Hashes{}).CheckHashStructure(); !errors.Is(err, ErrNoKnownHash) {
		t.Fatalf("err = %v", err)
	}
}
