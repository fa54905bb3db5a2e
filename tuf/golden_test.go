package tuf

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// goldenRepos are the collections v0.7.0 published into testdata/v1 (see
// each README): the client against a local-signing server, and against a
// server using notary-signer.
var goldenRepos = []struct {
	dir string
	gun string
}{
	{"testdata/v1/golden", "example.com/golden"},
	{"testdata/v1/remote-signer", "example.com/remote"},
}

// goldenTime is when the goldens were generated: every file is valid then.
var goldenTime = time.Date(2026, 11, 24, 21, 11, 1, 0, time.UTC)

type manifestEntry struct {
	Path     string `json:"path"`
	Role     string `json:"role"`
	Version  int64  `json:"version"`
	Current  bool   `json:"current"`
	Length   int64  `json:"length"`
	SHA256   string `json:"sha256"`
	SHA512   string `json:"sha512"`
	HashName string `json:"hash_name"`
}

type goldenFile struct {
	manifestEntry
	data []byte
	meta Metadata
	env  *Envelope
}

func loadGoldenRepo(t *testing.T, dir string) []*goldenFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("golden data missing (scripts/gen-goldens.sh makes it): %s not generated yet", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	var files []*goldenFile
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, "server", e.Path))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, &goldenFile{manifestEntry: e, data: data})
	}
	return files
}

// TestGoldenV1Metadata decodes every file v0.7.0 produced, checks it
// against the manifest, re-serialises it the way v1's server does
// (struct → canonical body → envelope) and compares byte for byte, and
// verifies its signatures against the keys that were in force.
func TestGoldenV1Metadata(t *testing.T) {
	for _, repo := range goldenRepos {
		t.Run(filepath.Base(repo.dir), func(t *testing.T) {
			files := loadGoldenRepo(t, repo.dir)
			for _, f := range files {
				t.Run(f.Path, func(t *testing.T) {
					if int64(len(f.data)) != f.Length {
						t.Fatalf("length %d, manifest %d", len(f.data), f.Length)
					}
					s256, s512 := sha256.Sum256(f.data), sha512.Sum512(f.data)
					if hex.EncodeToString(s256[:]) != f.SHA256 || hex.EncodeToString(s512[:]) != f.SHA512 {
						t.Fatal("hash differs from manifest")
					}
					m, env, err := ParseRole(f.Role, f.data)
					if err != nil {
						t.Fatalf("ParseRole(%s): %v", f.Role, err)
					}
					f.meta, f.env = m, env
					if got := m.Common().Version; got != f.Version {
						t.Fatalf("version %d, manifest %d", got, f.Version)
					}
					if err := CheckExpiry(f.Role, m.Common().Expires, goldenTime); err != nil {
						t.Fatal(err)
					}
					canonical, err := CanonicalSigned(m)
					if err != nil {
						t.Fatal(err)
					}
					again, err := MarshalEnvelope(&Envelope{Signed: canonical, Signatures: env.Signatures})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(again, f.data) {
						t.Fatalf("re-marshalled bytes differ\n got %s\nwant %s", again, f.data)
					}
					// The file's own "signed" bytes re-marshal to the file too.
					again, err = MarshalEnvelope(env)
					if err != nil || !bytes.Equal(again, f.data) {
						t.Fatalf("MarshalEnvelope(parsed) differs: %v", err)
					}
					fm, err := NewFileMeta(f.data)
					if err != nil {
						t.Fatal(err)
					}
					if err := fm.Check(f.data); err != nil {
						t.Fatal(err)
					}
				})
			}
			t.Run("signatures", func(t *testing.T) { checkGoldenSignatures(t, files) })
		})
	}
}

func checkGoldenSignatures(t *testing.T, files []*goldenFile) {
	var roots []*goldenFile
	for _, f := range files {
		if f.meta == nil {
			t.Skip("a file did not parse")
		}
		if f.Role == RoleRoot && !f.Current {
			roots = append(roots, f)
		}
	}
	// Each root verifies itself and, from version 2 on, its predecessor
	// vouches for it (v1 §4.5).
	for i, r := range roots {
		root := r.meta.(*Root)
		rk, err := root.RoleKeys(RoleRoot)
		if err != nil {
			t.Fatal(err)
		}
		if err := rk.Verify(r.env); err != nil {
			t.Errorf("%s self-signature: %v", r.Path, err)
		}
		if i > 0 {
			if err := VerifyRootRotation(roots[i-1].meta.(*Root), r.env, root); err != nil {
				t.Errorf("%s rotation: %v", r.Path, err)
			}
		}
	}
	// Every other file is signed by its role's keys in some root version;
	// delegations by their entry in some version of the parent.
	for _, f := range files {
		if f.Role == RoleRoot {
			continue
		}
		ok := false
		var lastErr error
		if IsDelegationName(f.Role) {
			for _, p := range files {
				if p.Role != ParentRole(f.Role) {
					continue
				}
				d, err := p.meta.(*Targets).DelegatedRole(f.Role)
				if err != nil {
					lastErr = err
					continue
				}
				if lastErr = d.Verify(f.env); lastErr == nil {
					ok = true
					break
				}
			}
		} else {
			for _, r := range roots {
				rk, err := r.meta.(*Root).RoleKeys(f.Role)
				if err != nil {
					t.Fatal(err)
				}
				if lastErr = rk.Verify(f.env); lastErr == nil {
					ok = true
					break
				}
			}
		}
		if !ok {
			t.Errorf("%s: no root or parent version verifies it: %v", f.Path, lastErr)
		}
	}
}
