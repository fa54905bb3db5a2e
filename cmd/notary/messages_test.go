package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadAfterRemoteDelete: after `delete --remote`, a consumer with a
// cache is told that the server answered and the data is gone, not that
// the server is unreachable, in words that keep v0.7.0's phrase.
func TestReadAfterRemoteDelete(t *testing.T) {
	srv := newTestServer(t)
	pub := newCLI(t, srv.URL)
	pub.ok("init", "-p", gun)
	consumer := newCLI(t, srv.URL)
	consumer.ok("list", gun)
	pub.ok("delete", gun, "--remote")
	r := consumer.ok("-v", "list", gun)
	mustContain(t, "list after delete", r.err,
		srv.URL+" was reached, but no longer has trust data for "+gun,
		"Error while downloading remote metadata, using cached timestamp")
	mustNotContain(t, "list after delete", r.err, "unreachable")
}

// TestInitExistingKeepsV1Phrase: `init` of a GUN the server holds with
// another root says so clearly, and keeps v0.7.0's words beside it.
func TestInitExistingKeepsV1Phrase(t *testing.T) {
	srv := newTestServer(t)
	newCLI(t, srv.URL).ok("init", "-p", gun)
	r := newCLI(t, srv.URL).fail("init", "-p", gun)
	mustContain(t, "second init", r.err, "already has trust data for "+gun,
		"could not rotate trust to a new trusted root: failed to validate data with current trusted certificates")
}

// TestVerifyTamperedSaysWhat: issue 19. A tampered `verify` names the
// target, the hash (or length), and what was expected and got, after
// v0.7.0's words.
func TestVerifyTamperedSaysWhat(t *testing.T) {
	srv := newTestServer(t)
	pub := newCLI(t, srv.URL)
	pub.ok("init", "-p", gun)
	content := filepath.Join(t.TempDir(), "hello")
	writeFile(t, content, "hello world\n")
	pub.ok("add", "-p", gun, "hello", content)
	consumer := newCLI(t, srv.URL)
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"same length", "HELLO WORLD\n", []string{`target "hello" (signed by targets): sha`, " mismatch: expected "}},
		{"other length", "tampered\n", []string{`target "hello" (signed by targets): length mismatch: expected 12 bytes, got 9`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := consumer.runIn(tc.content, "verify", gun, "hello")
			if r.code == 0 {
				t.Fatalf("verify of other content succeeded: %s", r)
			}
			mustContain(t, "verify", r.err, append(tc.want, "data not present in the trusted collection, ")...)
			mustNotContain(t, "verify", r.err, "unknown role")
		})
	}
	// The hashes are the trusted one and the content's.
	r := consumer.runIn("HELLO WORLD\n", "verify", gun, "hello")
	sum256, sum512 := sha256.Sum256([]byte("hello world\n")), sha512.Sum512([]byte("hello world\n"))
	got256, got512 := sha256.Sum256([]byte("HELLO WORLD\n")), sha512.Sum512([]byte("HELLO WORLD\n"))
	if !strings.Contains(r.err, "sha256 mismatch: expected "+hex.EncodeToString(sum256[:])+", got "+hex.EncodeToString(got256[:])) &&
		!strings.Contains(r.err, "sha512 mismatch: expected "+hex.EncodeToString(sum512[:])+", got "+hex.EncodeToString(got512[:])) {
		t.Errorf("verify does not give the expected and actual hash: %s", r.err)
	}
}
