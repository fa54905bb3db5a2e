package audit

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
)

// recorder is a passphrase.Retriever answering from a script and keeping
// every slice it hands out, to check that the caller wiped it.
type recorder struct {
	mu      sync.Mutex
	answers []string
	handed  [][]byte
}

func (r *recorder) retrieve(_, _ string, _ bool, _ int) ([]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.answers) == 0 {
		return nil, true, passphrase.ErrTooManyAttempts
	}
	p := []byte(r.answers[0])
	r.answers = r.answers[1:]
	r.handed = append(r.handed, p)
	return p, false, nil
}

// wiped fails unless every slice handed out so far is all zeros.
func (r *recorder) wiped(t *testing.T, op string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.handed) == 0 {
		t.Fatalf("%s asked for no passphrase", op)
	}
	for i, p := range r.handed {
		if bytes.ContainsFunc(p, func(c rune) bool { return c != 0 }) {
			t.Errorf("%s: passphrase %d still readable after use: %q", op, i, p)
		}
	}
	r.handed = nil
}

// TestAudit_NCC2015_5_PassphrasesWipedAfterUse: NCC 2015 finding 5
// (passphrases stayed in memory, in Go strings, for the life of the
// process). Passphrases travel as byte slices (passphrase.Retriever) and
// the key store wipes every one it was handed once it has encrypted or
// decrypted with it: on creating a key, reading it back (after a wrong
// passphrase), changing its passphrase and importing it; the notary CLI's
// own callers do the same (cmd/notary generateKeyToFile, importKeyFile).
// A prompt hands out copies, so wiping one does not lose the passphrase it
// caches for the next key of the role (passphrase's
// TestAudit_NCC2015_5_PromptCacheWiped checks a cached passphrase found
// wrong is wiped). What Go cannot wipe is listed in docs/security.md.
func TestAudit_NCC2015_5_PassphrasesWipedAfterUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const good, other = "correct horse battery", "another good passphrase"

	r := &recorder{answers: []string{good}}
	ks, err := keystore.OpenFile(dir, r.retrieve)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ks.Create(ctx, "targets", gun, keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	r.wiped(t, "Create")
	id, err := pub.CanonicalID()
	if err != nil {
		t.Fatal(err)
	}

	r = &recorder{answers: []string{"wrong passphrase", good}}
	fresh, err := keystore.OpenFile(dir, r.retrieve)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fresh.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	r.wiped(t, "Get after a wrong passphrase")

	newPass := &recorder{answers: []string{other}}
	if err := fresh.ChangePassphrase(ctx, id, newPass.retrieve); err != nil {
		t.Fatal(err)
	}
	newPass.wiped(t, "ChangePassphrase")

	pemData, err := os.ReadFile(filepath.Join(dir, keystore.PrivateDir, id+keystore.KeyFileExt))
	if err != nil {
		t.Fatal(err)
	}
	r = &recorder{answers: []string{other}}
	into, err := keystore.OpenFile(t.TempDir(), r.retrieve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := into.Import(ctx, pemData, keystore.ImportOptions{Name: "exported.pem"}); err != nil {
		t.Fatal(err)
	}
	r.wiped(t, "Import")

	r = &recorder{answers: []string{other, good}}
	into, err = keystore.OpenFile(into.TrustDir(), r.retrieve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := into.Import(ctx, pemData, keystore.ImportOptions{Name: "again.pem", NewPassphrase: true}); err == nil {
		t.Fatal("a second import of one key succeeded")
	}
	r.wiped(t, "Import refused as a duplicate")

	// A prompt's answers are copies: wiping one keeps the cached one.
	prompt := passphrase.Prompt(strings.NewReader("typed passphrase\n"), io.Discard, nil)
	p1, _, err := prompt("id", "targets", false, 0)
	if err != nil || string(p1) != "typed passphrase" {
		t.Fatalf("prompt: %q %v", p1, err)
	}
	clear(p1)
	p2, _, err := prompt("id2", "targets", false, 0)
	if err != nil || string(p2) != "typed passphrase" {
		t.Fatalf("cached answer after the first was wiped: %q %v", p2, err)
	}
	clear(p2)
}
