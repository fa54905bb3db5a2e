package keystore_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
)

var ctx = context.Background()

const testGUN = "example.com/app"

// script is a passphrase.Retriever that answers from a list and records
// the calls it gets. An answer "giveup" gives up.
type script struct {
	mu      sync.Mutex
	answers []string
	calls   []call
}

type call struct {
	keyName, alias string
	createNew      bool
	attempt        int
}

func (s *script) retrieve(keyName, alias string, createNew bool, attempt int) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call{keyName, alias, createNew, attempt})
	if len(s.answers) == 0 {
		return nil, true, errors.New("script exhausted")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	if a == "giveup" {
		return nil, true, errors.New("user gave up")
	}
	return []byte(a), false, nil
}

func (s *script) Calls() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

func openFile(t *testing.T, dir string, r passphrase.Retriever) *keystore.FileStore {
	t.Helper()
	s, err := keystore.OpenFile(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreate(t *testing.T, s keystore.Service, role, gun string) keys.PublicKey {
	t.Helper()
	pub, err := s.Create(ctx, role, gun, keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func checkSigns(t *testing.T, k *keys.PrivateKey) {
	t.Helper()
	msg := []byte("message")
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Public().Verify(k.Method(), msg, sig); err != nil {
		t.Fatal(err)
	}
}

func TestFileLayout(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("layout passphrase"))
	tests := []struct {
		role, gun  string
		wantHeader string
	}{
		{role: "root", gun: testGUN, wantHeader: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n"},
		{role: "targets", gun: testGUN, wantHeader: "-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example.com/app\nrole: targets\n\n"},
		{role: "snapshot", gun: testGUN, wantHeader: "-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example.com/app\nrole: snapshot\n\n"},
		{role: "targets/releases", gun: testGUN, wantHeader: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: targets/releases\n\n"},
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			pub := mustCreate(t, s, tt.role, tt.gun)
			ids = append(ids, pub.ID()+".key")
			file := filepath.Join(dir, "private", pub.ID()+".key")
			if p, err := s.KeyPath(pub.ID()); err != nil || p != file {
				t.Errorf("KeyPath = %q, %v; want %q", p, err, file)
			}
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte(tt.wantHeader)) {
				t.Errorf("key file starts %q, want %q", data[:len(tt.wantHeader)], tt.wantHeader)
			}
			key, _, err := keys.ParsePEM(data, []byte("layout passphrase"))
			if err != nil || key.ID() != pub.ID() {
				t.Errorf("key file does not decrypt to the key: %v", err)
			}
		})
	}
	fi, err := os.Stat(filepath.Join(dir, "private"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("private dir: %v %v, want mode 0700", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "private"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(ids)
	if strings.Join(names, ",") != strings.Join(ids, ",") {
		t.Errorf("private/ holds %v, want only %v", names, ids)
	}
}

func TestFileEmptyPassphraseWritesUnencrypted(t *testing.T) {
	dir := t.TempDir()
	pub := mustCreate(t, openFile(t, dir, passphrase.Constant("")), "targets", testGUN)
	data, err := os.ReadFile(filepath.Join(dir, "private", pub.ID()+".key"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\ngun: example.com/app\nrole: targets\n\n")) {
		t.Errorf("key file:\n%s", data)
	}
	// Readable with no retriever at all.
	if _, _, err := openFile(t, dir, nil).Get(ctx, pub.ID()); err != nil {
		t.Errorf("Get unencrypted key without retriever: %v", err)
	}
}

func TestFileGetPassphraseAttempts(t *testing.T) {
	dir := t.TempDir()
	pub := mustCreate(t, openFile(t, dir, passphrase.Constant("right passphrase")), "targets", testGUN)
	id := pub.ID()
	tests := []struct {
		name         string
		answers      []string
		wantErr      []error
		wantAttempts int
		wantCalls    int
	}{
		{name: "first try", answers: []string{"right passphrase"}, wantCalls: 1},
		{name: "third try", answers: []string{"wrong", "", "right passphrase"}, wantCalls: 3},
		{name: "gives up at once", answers: []string{"giveup"}, wantErr: []error{keystore.ErrPassphraseGiveUp}, wantCalls: 1},
		{name: "gives up after a wrong one", answers: []string{"wrong", "giveup"},
			wantErr: []error{keystore.ErrPassphraseGiveUp, keystore.ErrBadPassphrase, keys.ErrWrongPassphrase}, wantAttempts: 1, wantCalls: 2},
		{name: "never gives up", answers: strings.Split(strings.Repeat("wrong,", 20), ","),
			wantErr: []error{keystore.ErrPassphraseGiveUp, keystore.ErrBadPassphrase, passphrase.ErrTooManyAttempts}, wantAttempts: 10, wantCalls: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := &script{answers: tt.answers}
			s := openFile(t, dir, sc.retrieve)
			key, info, err := s.Get(ctx, id)
			calls := sc.Calls()
			if len(calls) != tt.wantCalls {
				t.Errorf("%d retriever calls, want %d: %v", len(calls), tt.wantCalls, calls)
			}
			for i, c := range calls {
				if want := (call{id, "targets", false, i}); c != want {
					t.Errorf("call %d = %+v, want %+v", i, c, want)
				}
			}
			if tt.wantErr != nil {
				for _, w := range tt.wantErr {
					if !errors.Is(err, w) {
						t.Errorf("err = %v, want it to match %v", err, w)
					}
				}
				var pe *keystore.PassphraseError
				if !errors.As(err, &pe) || pe.Attempts != tt.wantAttempts || pe.ID != id || pe.Role != "targets" {
					t.Errorf("PassphraseError = %+v, want %d attempts", pe, tt.wantAttempts)
				}
				if strings.Contains(err.Error(), "right passphrase") || strings.Contains(err.Error(), "wrong") && !strings.Contains(err.Error(), "wrong passphrase") {
					t.Errorf("error leaks a passphrase: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info != (keystore.KeyInfo{ID: id, Role: "targets", GUN: testGUN, Type: keys.ECDSA}) {
				t.Errorf("info = %+v", info)
			}
			checkSigns(t, key)
			// Cached: no more questions, and List never asks.
			if _, _, err := s.Get(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.List(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(sc.Calls()); n != tt.wantCalls {
				t.Errorf("cached Get or List asked again: %d calls", n)
			}
		})
	}
}

func TestFileNoPassphraseFromEnv(t *testing.T) {
	dir := t.TempDir()
	pub := mustCreate(t, openFile(t, dir, passphrase.Constant("some passphrase")), "targets", testGUN)
	s := openFile(t, dir, passphrase.New(passphrase.Options{Getenv: func(string) string { return "" }, In: devNull(t)}))
	_, _, err := s.Get(ctx, pub.ID())
	if !errors.Is(err, passphrase.ErrNoPassphrase) || !errors.Is(err, keystore.ErrPassphraseGiveUp) {
		t.Fatalf("err = %v, want ErrNoPassphrase", err)
	}
	if !strings.Contains(err.Error(), "set NOTARY_TARGETS_PASSPHRASE or run on a terminal") {
		t.Errorf("error does not say what to do: %v", err)
	}
	env := map[string]string{"NOTARY_TARGETS_PASSPHRASE": "some passphrase"}
	s = openFile(t, dir, passphrase.New(passphrase.Options{Getenv: func(k string) string { return env[k] }, In: devNull(t)}))
	if _, _, err := s.Get(ctx, pub.ID()); err != nil {
		t.Errorf("Get with NOTARY_TARGETS_PASSPHRASE: %v", err)
	}
}

func devNull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFileAddPassphrase(t *testing.T) {
	t.Run("retries after an error", func(t *testing.T) {
		dir := t.TempDir()
		calls := 0
		r := func(keyName, alias string, createNew bool, attempt int) ([]byte, bool, error) {
			calls++
			if !createNew || alias != "snapshot" || attempt != calls-1 {
				t.Errorf("call %d: %q %v %d", calls, alias, createNew, attempt)
			}
			if attempt == 0 {
				return nil, false, passphrase.ErrTooShort
			}
			return []byte("second choice"), false, nil
		}
		pub := mustCreate(t, openFile(t, dir, r), "snapshot", testGUN)
		if _, _, err := openFile(t, dir, passphrase.Constant("second choice")).Get(ctx, pub.ID()); err != nil {
			t.Errorf("key not under the second passphrase: %v", err)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		dir := t.TempDir()
		sc := &script{answers: []string{"giveup"}}
		_, err := openFile(t, dir, sc.retrieve).Create(ctx, "root", "", keys.ECDSA)
		if !errors.Is(err, keystore.ErrPassphraseGiveUp) {
			t.Errorf("err = %v, want ErrPassphraseGiveUp", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "private")); len(entries) != 0 {
			t.Errorf("files left behind: %v", entries)
		}
	})
	t.Run("no retriever", func(t *testing.T) {
		_, err := openFile(t, t.TempDir(), nil).Create(ctx, "root", "", keys.ECDSA)
		if !errors.Is(err, passphrase.ErrNoPassphrase) {
			t.Errorf("err = %v, want ErrNoPassphrase", err)
		}
	})
	t.Run("exists asks nothing", func(t *testing.T) {
		dir := t.TempDir()
		key, _ := keys.Generate(keys.ECDSA)
		if err := openFile(t, dir, passphrase.Constant("p4ssphrase")).Add(ctx, keystore.KeyInfo{Role: "targets", GUN: testGUN}, key); err != nil {
			t.Fatal(err)
		}
		sc := &script{}
		err := openFile(t, dir, sc.retrieve).Add(ctx, keystore.KeyInfo{Role: "targets", GUN: testGUN}, key)
		if !errors.Is(err, keystore.ErrExists) || len(sc.Calls()) != 0 {
			t.Errorf("err = %v after %d calls, want ErrExists and no call", err, len(sc.Calls()))
		}
	})
}

func TestFileInvalidIDs(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("p"))
	// A file a path-traversing ID would reach.
	victim := filepath.Join(dir, "victim.key")
	if err := os.WriteFile(victim, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../victim", "", "abc", strings.Repeat("A", 64), strings.Repeat("0", 63) + "/", strings.Repeat("0", 65)} {
		t.Run(id, func(t *testing.T) {
			checks := map[string]error{}
			_, _, checks["Get"] = s.Get(ctx, id)
			checks["Remove"] = s.Remove(ctx, id)
			_, checks["Export"] = s.Export(ctx, id)
			checks["ChangePassphrase"] = s.ChangePassphrase(ctx, id, passphrase.Constant("q"))
			_, checks["KeyPath"] = s.KeyPath(id)
			for op, err := range checks {
				if !errors.Is(err, keystore.ErrInvalidID) {
					t.Errorf("%s(%q): err = %v, want ErrInvalidID", op, id, err)
				}
			}
		})
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("victim file touched: %v", err)
	}
}

func TestFileKeyIDMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("p4ssphrase"))
	a := mustCreate(t, s, "targets", testGUN)
	other := strings.Repeat("ab", 32)
	data, _ := s.Export(ctx, a.ID())
	if err := os.WriteFile(filepath.Join(dir, "private", other+".key"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, other); err == nil || !strings.Contains(err.Error(), "holds key "+a.ID()) {
		t.Errorf("Get of a misnamed key file: err = %v", err)
	}
}

func TestFileListIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("p4ssphrase"))
	pub := mustCreate(t, s, "targets", testGUN)
	priv := filepath.Join(dir, "private")
	legacyID := "041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02"
	legacy, err := os.ReadFile("testdata/v1migrated/notary0.3/private/" + legacyID + ".key")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"notes.txt":                      []byte("hello"),
		strings.Repeat("c", 64) + ".key": []byte("not a PEM"),
		strings.Repeat("C", 64) + ".key": legacy,
		".tmp-123":                       []byte("half written"),
		legacyID + ".key":                legacy,
	} {
		if err := os.WriteFile(filepath.Join(priv, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(priv, "sub", strings.Repeat("d", 64)+".key"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(priv, legacyID+".key"), filepath.Join(priv, strings.Repeat("e", 64)+".key")); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []keystore.KeyInfo{
		{ID: legacyID, Role: "targets", GUN: "docker.com/notary0.3/tst", Type: keys.ECDSA}, // legacy block: type known
		{ID: pub.ID(), Role: "targets", GUN: testGUN, Type: keys.ECDSA},                    // cached: type known
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("List = %+v, want %+v", got, want)
	}
	// An encrypted PKCS#8 key not yet decrypted has no type in List.
	got, _ = openFile(t, dir, nil).List(ctx)
	for _, info := range got {
		if info.ID == pub.ID() && info.Type != "" {
			t.Errorf("type of an undecrypted key: %q", info.Type)
		}
	}
}

// copyTree copies testdata trees into a temporary trust directory.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." {
				out[rel+"/"] = ""
			}
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFileMigration opens copies of the Notary 0.1 and 0.3 trust
// directories and compares the result with what v0.7.0 made of them.
func TestFileMigration(t *testing.T) {
	tests := []struct {
		name, pass string
		want       []keystore.KeyInfo
	}{
		{name: "notary0.1", pass: "randompass", want: []keystore.KeyInfo{
			{ID: "7fc757801b9bab4ec9e35bfe7a6b61668ff6f4c81b5632af19e6c728ab799599", Role: "targets", GUN: "docker.com/notary0.1/samplerepo", Type: keys.ECDSA},
			{ID: "a55ccf652b0be4b6c4d356cbb02d9ea432bb84a2571665be3df7c7396af8e8b8", Role: "snapshot", GUN: "docker.com/notary0.1/samplerepo", Type: keys.ECDSA},
			{ID: "d0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68", Role: "root", Type: keys.ECDSA},
		}},
		{name: "notary0.3", pass: "password", want: []keystore.KeyInfo{
			{ID: "041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02", Role: "targets", GUN: "docker.com/notary0.3/tst", Type: keys.ECDSA},
			{ID: "85559599cf3cf681ff193f432a7ca6d128182bd1cfa8ede2c70761deac8bc2dc", Role: "snapshot", GUN: "docker.com/notary0.3/tst", Type: keys.ECDSA},
			{ID: "f4eaf871a74aa3b3a0ff95cef2455a1e4d461639f5625418e76756fc5c948690", Role: "root", Type: keys.ECDSA},
			{ID: "fa842f66cac2dc898677a8660789dcff0e3b0b93b73f8952491f6493199936d3", Role: "targets/releases", Type: keys.RSA},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, filepath.Join("testdata/legacy", tt.name), dir)
			s := openFile(t, dir, passphrase.Constant(tt.pass))
			got := readTree(t, dir)
			want := readTree(t, filepath.Join("testdata/v1migrated", tt.name))
			if len(got) != len(want) {
				t.Errorf("trust dir after migration holds %v, want %v", keysOf(got), keysOf(want))
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("%s after migration:\n%s\nwant (v0.7.0):\n%s", name, got[name], w)
				}
			}
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("List = %+v, want %+v", list, tt.want)
			}
			for i, w := range tt.want {
				if list[i] != w {
					t.Errorf("List[%d] = %+v, want %+v", i, list[i], w)
				}
				key, info, err := s.Get(ctx, w.ID)
				if err != nil {
					t.Fatalf("Get %s: %v", w.ID, err)
				}
				if info != w {
					t.Errorf("Get info = %+v, want %+v", info, w)
				}
				checkSigns(t, key)
			}
			// Opening again changes nothing.
			openFile(t, dir, nil)
			if again := readTree(t, dir); len(again) != len(got) {
				t.Errorf("second open changed the tree: %v", keysOf(again))
			}
		})
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFileMigrationKeepsWhatItCannotMove: files that are not keys named by
// an ID stay, and so do their directories; v1 deleted them.
func TestFileMigrationKeepsWhatItCannotMove(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/legacy/notary0.1", dir)
	junk := map[string]string{
		"private/root_keys/notes.txt":              "keep me",
		"private/root_keys/garbage_root.key":       "not PEM",
		"private/tuf_keys/example.com/bad_id.key":  "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
		"private/tuf_keys/example.com/x/empty.txt": "",
	}
	for name, content := range junk {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := openFile(t, dir, passphrase.Constant("randompass"))
	for name, content := range junk {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != content {
			t.Errorf("%s: %q, %v; want it kept", name, b, err)
		}
	}
	if list, _ := s.List(ctx); len(list) != 3 {
		t.Errorf("List = %+v, want the 3 migrated keys", list)
	}
	if _, err := os.Stat(filepath.Join(dir, "private/tuf_keys/docker.com")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied legacy directory kept: %v", err)
	}
}

// TestFileMigrationDoesNotOverwrite: a key already in the new layout wins
// over its legacy copy.
func TestFileMigrationDoesNotOverwrite(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/legacy/notary0.1", dir)
	id := "d0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68"
	current := filepath.Join(dir, "private", id+".key")
	if err := os.WriteFile(current, []byte("current"), 0o600); err != nil {
		t.Fatal(err)
	}
	openFile(t, dir, nil)
	if b, _ := os.ReadFile(current); string(b) != "current" {
		t.Errorf("migration overwrote %s", current)
	}
	if _, err := os.Stat(filepath.Join(dir, "private/root_keys")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("legacy copy kept: %v", err)
	}
}

func TestFileExport(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("p4ssphrase"))
	pub := mustCreate(t, s, "targets", testGUN)
	got, err := s.Export(ctx, pub.ID())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "private", pub.ID()+".key"))
	if !bytes.Equal(got, want) || !keys.IsEncryptedPEM(got) {
		t.Errorf("Export = %s, want the encrypted file %s", got, want)
	}
	if _, err := s.Export(ctx, strings.Repeat("0", 64)); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Export unknown: err = %v, want ErrNotFound", err)
	}
}

func TestFileImport(t *testing.T) {
	key, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	id := key.CanonicalID()
	plain := func(role, gun string) []byte {
		b, err := keys.UnencryptedPEM(key, role, gun)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	encrypted := func(role, gun, pass string) []byte {
		b, err := keys.EncryptPEM(key, role, gun, []byte(pass))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withHeader := func(data []byte, k, v string) []byte {
		block, _ := pem.Decode(data)
		block.Headers[k] = v
		return pem.EncodeToMemory(block)
	}
	legacy, err := os.ReadFile("testdata/legacy/notary0.3/private/tuf_keys/docker.com/notary0.3/tst/041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02.key")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		opts      keystore.ImportOptions
		answers   []string
		wantInfo  keystore.KeyInfo
		wantCalls []call
		storedAs  string // passphrase that decrypts the stored file
		wantErr   error
		anyErr    bool
	}{
		{
			name: "unencrypted gets a new passphrase", data: plain("targets/x", ""), opts: keystore.ImportOptions{Name: "k.pem"},
			answers:   []string{"new passphrase"},
			wantInfo:  keystore.KeyInfo{ID: id, Role: "targets/x", Type: keys.ECDSA},
			wantCalls: []call{{id, "targets/x", true, 0}}, storedAs: "new passphrase",
		},
		{
			name: "encrypted keeps its passphrase", data: encrypted("targets", testGUN, "old passphrase"), opts: keystore.ImportOptions{Name: "k.pem"},
			answers:   []string{"wrong", "old passphrase"},
			wantInfo:  keystore.KeyInfo{ID: id, Role: "targets", GUN: testGUN, Type: keys.ECDSA},
			wantCalls: []call{{"k.pem", "targets", false, 0}, {"k.pem", "targets", false, 1}}, storedAs: "old passphrase",
		},
		{
			name: "encrypted with NewPassphrase", data: encrypted("snapshot", testGUN, "old passphrase"), opts: keystore.ImportOptions{NewPassphrase: true},
			answers:   []string{"old passphrase", "new passphrase"},
			wantInfo:  keystore.KeyInfo{ID: id, Role: "snapshot", GUN: testGUN, Type: keys.ECDSA},
			wantCalls: []call{{"", "snapshot", false, 0}, {id, "snapshot", true, 0}}, storedAs: "new passphrase",
		},
		{
			name: "legacy RFC 1423 with GUN option", data: legacy, opts: keystore.ImportOptions{GUN: "docker.com/notary0.3/tst"},
			answers:   []string{"password"},
			wantInfo:  keystore.KeyInfo{ID: "041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02", Role: "targets", GUN: "docker.com/notary0.3/tst", Type: keys.ECDSA},
			wantCalls: []call{{"", "targets", false, 0}}, storedAs: "password",
		},
		{
			name: "header wins over options", data: plain("snapshot", "header.example/gun"), opts: keystore.ImportOptions{Role: "targets", GUN: "opt.example/gun"},
			answers:  []string{"new passphrase"},
			wantInfo: keystore.KeyInfo{ID: id, Role: "snapshot", GUN: "header.example/gun", Type: keys.ECDSA}, storedAs: "new passphrase",
		},
		{
			name: "no role at all", data: plain("", ""), answers: []string{"new passphrase"},
			wantInfo: keystore.KeyInfo{ID: id, Role: "delegation", Type: keys.ECDSA}, storedAs: "new passphrase",
		},
		{
			name: "root drops its GUN", data: withHeader(plain("root", ""), "gun", testGUN), answers: []string{"new passphrase"},
			wantInfo: keystore.KeyInfo{ID: id, Role: "root", Type: keys.ECDSA}, storedAs: "new passphrase",
		},
		{
			name: "legacy path header gives the GUN", data: withHeader(plain("targets", ""), "path", "tuf_keys/docker.com/app/"+id), answers: []string{"new passphrase"},
			wantInfo: keystore.KeyInfo{ID: id, Role: "targets", GUN: "docker.com/app", Type: keys.ECDSA}, storedAs: "new passphrase",
		},
		{name: "targets without GUN", data: plain("targets", ""), anyErr: true},
		{name: "wrong passphrase", data: encrypted("targets/x", "", "right"), answers: []string{"wrong", "giveup"}, wantErr: keystore.ErrBadPassphrase},
		{name: "not PEM", data: []byte("hello"), wantErr: keys.ErrNotPrivateKeyPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sc := &script{answers: tt.answers}
			s := openFile(t, dir, sc.retrieve)
			info, err := s.Import(ctx, tt.data, tt.opts)
			if tt.wantErr != nil || tt.anyErr {
				if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if l, _ := s.List(ctx); len(l) != 0 {
					t.Errorf("failed import stored %v", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info != tt.wantInfo {
				t.Errorf("info = %+v, want %+v", info, tt.wantInfo)
			}
			if tt.wantCalls != nil {
				if got := sc.Calls(); len(got) != len(tt.wantCalls) || !equalCalls(got, tt.wantCalls) {
					t.Errorf("calls = %+v, want %+v", got, tt.wantCalls)
				}
			}
			stored, err := s.Export(ctx, info.ID)
			if err != nil {
				t.Fatal(err)
			}
			pinfo, _ := keys.ReadPEMInfo(stored)
			if pinfo.BlockType != keys.PEMTypeEncryptedPKCS8 || pinfo.Role != tt.wantInfo.Role || pinfo.GUN != tt.wantInfo.GUN {
				t.Errorf("stored as %+v", pinfo)
			}
			s2 := openFile(t, dir, passphrase.Constant(tt.storedAs))
			if _, got, err := s2.Get(ctx, info.ID); err != nil || got != tt.wantInfo {
				t.Errorf("stored key: %+v, %v", got, err)
			}
			sc.mu.Lock()
			sc.answers = tt.answers // an encrypted key is decrypted before its ID is known
			sc.mu.Unlock()
			if _, err := s.Import(ctx, tt.data, tt.opts); !errors.Is(err, keystore.ErrExists) {
				t.Errorf("second import: err = %v, want ErrExists", err)
			}
		})
	}
}

func equalCalls(a, b []call) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFileChangePassphrase(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir, passphrase.Constant("old passphrase"))
	pub := mustCreate(t, s, "targets", testGUN)
	before, _ := s.Export(ctx, pub.ID())

	sc := &script{answers: []string{"new passphrase"}}
	if err := s.ChangePassphrase(ctx, pub.ID(), sc.retrieve); err != nil {
		t.Fatal(err)
	}
	if got := sc.Calls(); len(got) != 1 || got[0] != (call{pub.ID(), "targets", true, 0}) {
		t.Errorf("calls = %+v", got)
	}
	after, _ := s.Export(ctx, pub.ID())
	if bytes.Equal(before, after) {
		t.Error("file unchanged")
	}
	hdr := "-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example.com/app\nrole: targets\n\n"
	if !bytes.HasPrefix(after, []byte(hdr)) {
		t.Errorf("headers changed:\n%s", after)
	}
	if _, _, err := openFile(t, dir, passphrase.Constant("new passphrase")).Get(ctx, pub.ID()); err != nil {
		t.Errorf("new passphrase: %v", err)
	}
	if _, _, err := openFile(t, dir, passphrase.Constant("old passphrase")).Get(ctx, pub.ID()); !errors.Is(err, keystore.ErrBadPassphrase) {
		t.Errorf("old passphrase: err = %v, want ErrBadPassphrase", err)
	}
	if err := s.ChangePassphrase(ctx, pub.ID(), nil); err == nil {
		t.Error("ChangePassphrase with nil retriever succeeded")
	}
	if err := s.ChangePassphrase(ctx, strings.Repeat("0", 64), sc.retrieve); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("unknown key: err = %v, want ErrNotFound", err)
	}
}

// TestFileReadsV1Keys puts keys written by v0.7.0 (keys/testdata/v1) in a
// trust directory and reads them.
func TestFileReadsV1Keys(t *testing.T) {
	files, _ := filepath.Glob("../keys/testdata/v1/pem/*.enc.pem")
	if len(files) == 0 {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): no v1 golden keys")
	}
	ids := map[string]string{
		"ecdsa":   "11804a56698be4845b92ebf99b78df8aa4c925f823941779786d75009530391f",
		"ed25519": "caa1bbe5539c216661c45b8937f7508bf84f4f4a8eadbc83c08f4fe59a51396d",
		"rsa":     "02aad598fb9da7794a2d5822a622d200d9fd67d32673c5b56ec3e7fb375d7d22",
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			typ := strings.SplitN(filepath.Base(file), ".", 2)[0]
			dir := t.TempDir()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "private"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "private", ids[typ]+".key"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			pinfo, _ := keys.ReadPEMInfo(data)
			key, info, err := openFile(t, dir, passphrase.Constant("goldenpassphrase")).Get(ctx, ids[typ])
			if err != nil {
				t.Fatal(err)
			}
			if info.Role != pinfo.Role || info.GUN != pinfo.GUN || info.Type != typ {
				t.Errorf("info = %+v, headers %+v", info, pinfo)
			}
			checkSigns(t, key)
		})
	}
}

// TestFileReadsV1TrustDirs opens the private/ folders the v0.7.0 CLI left
// in the keys/testdata/v1 scenarios and decrypts every key in them.
func TestFileReadsV1TrustDirs(t *testing.T) {
	dirs := []string{"golden/private-after-init", "golden/private", "client-snapshot/private", "remote-signer/private"}
	n := 0
	for _, d := range dirs {
		src := filepath.Join("../keys/testdata/v1", d)
		files, _ := filepath.Glob(filepath.Join(src, "*.key"))
		if len(files) == 0 {
			continue
		}
		n++
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, src, filepath.Join(dir, "private"))
			s := openFile(t, dir, passphrase.Constant("goldenpassphrase"))
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(files) {
				t.Errorf("List has %d keys, want %d", len(list), len(files))
			}
			for _, info := range list {
				key, got, err := s.Get(ctx, info.ID)
				if err != nil {
					t.Errorf("Get %s: %v", info.ID, err)
					continue
				}
				if got.Role == "" || got.Role != info.Role || got.GUN != info.GUN || got.GUN != keys.PEMGUN(got.Role, got.GUN) {
					t.Errorf("key %s: Get %+v, List %+v", info.ID, got, info)
				}
				checkSigns(t, key)
			}
		})
	}
	if n == 0 {
		t.Fatal("golden data missing (scripts/gen-goldens.sh makes it): no v1 trust directories in keys/testdata/v1")
	}
}
