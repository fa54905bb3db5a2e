package archive

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
)

func newKey(t *testing.T) *keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func col(g string, files map[string]string) Collection {
	c := Collection{GUN: g, Versions: map[string]int64{"root": 1}}
	for n, d := range files {
		c.Files = append(c.Files, File{Name: n, Data: []byte(d)})
	}
	return c
}

func TestWriteVerify(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := &Writer{Dir: dir, Key: key, Now: func() time.Time { return clock }}
	res, err := w.Add(col("example.com/a", map[string]string{"root.json": "r1", "targets/releases.json": "d1"}))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Written != 2 || res[0].Unchanged != 0 {
		t.Errorf("first write: %+v", res[0])
	}
	pub := key.Public()
	m, _, err := Verify(dir, &pub)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || !m.Collections["example.com/a"].Archived.Equal(clock) {
		t.Errorf("manifest: %+v", m)
	}

	t.Run("rerun writes only what changed, keeps old files listed", func(t *testing.T) {
		res, err := w.Add(col("example.com/a", map[string]string{"root.json": "r1", "timestamp.json": "t2"}))
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Written != 1 || res[0].Unchanged != 1 {
			t.Errorf("rerun: %+v", res[0])
		}
		m, _, err := Verify(dir, &pub)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != 2 || len(m.Collections["example.com/a"].Files) != 3 {
			t.Errorf("manifest after rerun: %+v", m)
		}
	})
	t.Run("another key cannot extend or verify", func(t *testing.T) {
		other := newKey(t)
		if _, err := (&Writer{Dir: dir, Key: other}).Add(); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Add with another key: %v", err)
		}
		op := other.Public()
		if _, _, err := Verify(dir, &op); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Verify with another key: %v", err)
		}
	})
	t.Run("missing and altered files", func(t *testing.T) {
		d := t.TempDir()
		w := &Writer{Dir: d, Key: key}
		if _, err := w.Add(col("example.com/a", map[string]string{"root.json": "r1", "targets.json": "t1"})); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(filepath.Join(d, TreePath("example.com/a", "root.json")))
		_ = os.WriteFile(filepath.Join(d, TreePath("example.com/a", "targets.json")), []byte("t2"), 0o644)
		_, _, err := Verify(d, &pub)
		var fe *FileError
		if !errors.Is(err, ErrFileMismatch) || !errors.As(err, &fe) {
			t.Fatalf("Verify = %v", err)
		}
		for _, want := range []string{"root.json", "targets.json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %s: %v", want, err)
			}
		}
	})
	t.Run("no manifest", func(t *testing.T) {
		if _, _, err := Verify(t.TempDir(), &pub); !errors.Is(err, ErrNoManifest) {
			t.Errorf("Verify = %v", err)
		}
	})
}

// TestManifestPathsConfined: a signed manifest that lists a file outside
// its collection's tree is refused, so Verify never reads outside DIR.
func TestManifestPathsConfined(t *testing.T) {
	key := newKey(t)
	for name, p := range map[string]string{
		"parent":         "../secret",
		"other gun":      "v2/example.com/b/_trust/tuf/root.json",
		"dotdot in tree": "v2/example.com/a/_trust/tuf/../../../../etc/passwd",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			m := &Manifest{Type: ManifestType, Version: 1, Collections: map[string]CollectionEntry{
				"example.com/a": {Files: map[string]FileHash{p: {Length: 1, SHA256: "00"}}},
			}}
			data, err := signManifest(m, key)
			if err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644)
			pub := key.Public()
			if _, _, err := ReadManifest(dir, &pub); err == nil || !strings.Contains(err.Error(), "outside") {
				t.Errorf("ReadManifest = %v, want refusal", err)
			}
		})
	}
}

func TestWriteRefusesBadNames(t *testing.T) {
	w := &Writer{Dir: t.TempDir(), Key: newKey(t)}
	for name, c := range map[string]Collection{
		"gun with ..":  col("a/../../b", map[string]string{"root.json": "x"}),
		"absolute gun": col("/etc", map[string]string{"root.json": "x"}),
		"file name ..": col("example.com/a", map[string]string{"../../../x.json": "x"}),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := w.Add(c); err == nil {
				t.Error("Add succeeded")
			}
		})
	}
}

func TestPublicKeyFile(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	if _, err := (&Writer{Dir: dir, Key: key}).Add(col("example.com/a", map[string]string{"root.json": "r"})); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, PublicKeyName))
	if err != nil {
		t.Fatal(err)
	}
	var k keys.PublicKey
	if err := json.Unmarshal(data, &k); err != nil || k.ID() != key.ID() {
		t.Errorf("%s: %v, ID %s want %s", PublicKeyName, err, k.ID(), key.ID())
	}
	if _, got, err := Verify(dir, nil); err != nil || got.ID() != key.ID() {
		t.Errorf("Verify(nil key) = %v, key %s", err, got.ID())
	}
}
