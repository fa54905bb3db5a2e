package passphrase

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestAudit_NCC2015_5_PromptCacheWiped: NCC 2015 finding 5, inside the
// prompt: the cache never shares memory with what callers are handed (they
// wipe theirs), and a cached passphrase that proves wrong is zeroed before
// it is dropped. Listed in docs/security.md with test/audit's
// TestAudit_NCC2015_5_PassphrasesWipedAfterUse.
func TestAudit_NCC2015_5_PromptCacheWiped(t *testing.T) {
	// The prompter Prompt builds for a non-terminal reader.
	pr := &prompter{fd: -1, reader: bufio.NewReader(strings.NewReader("first secret\nsecond secret\n")), out: io.Discard, cache: map[string][]byte{}}
	p, _, err := pr.retrieve("id", "targets", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	cached := pr.cache["targets"]
	if string(cached) != "first secret" || string(p) != "first secret" {
		t.Fatalf("handed %q, cached %q", p, cached)
	}
	if &cached[0] == &p[0] {
		t.Fatal("the caller was handed the cache's own memory")
	}
	clear(p)
	if again, _, _ := pr.retrieve("id2", "targets", false, 0); string(again) != "first secret" {
		t.Fatalf("wiping the caller's copy changed the cache: %q", again)
	}
	// attempt 1: the cached passphrase was wrong; it must be wiped.
	p2, _, err := pr.retrieve("id", "targets", false, 1)
	if err != nil || string(p2) != "second secret" {
		t.Fatalf("retry: %q %v", p2, err)
	}
	if bytes.ContainsFunc(cached, func(c rune) bool { return c != 0 }) {
		t.Fatalf("the wrong cached passphrase is still in memory: %q", cached)
	}
	clear(p2)
}
