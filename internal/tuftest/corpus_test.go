package tuftest_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
)

var writeCorpus = flag.Bool("write-fuzz-corpus", false, "rewrite update/testdata/fuzz/FuzzTrustedSet from a fresh simulator")

// TestWriteUpdateFuzzCorpus rewrites the seed corpus of update's
// FuzzTrustedSet when run with -write-fuzz-corpus: for each fuzz step, the
// valid file of its role (steps as in update/fuzz_test.go).
func TestWriteUpdateFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-fuzz-corpus to rewrite update/testdata/fuzz/FuzzTrustedSet")
	}
	sim := tuftest.New("docker.io/library/alpine")
	sim.AddTarget(tuf.RoleTargets, "a&b<c>", []byte("html-escaped name"))
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "a/", "")
	sim.AddTarget("targets/a", "a/1", []byte("1"))
	sim.Publish()
	roles := []string{tuf.RoleRoot, tuf.RoleRoot, tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets, "targets/a", tuf.RoleTimestamp}
	dir := filepath.Join("..", "..", "update", "testdata", "fuzz", "FuzzTrustedSet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for step, role := range roles {
		name := filepath.Join(dir, fmt.Sprintf("step%d-%s", step, filepath.Base(role)))
		body := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", byte(step), sim.Bytes(role))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// and a few malformed ones
	for i, b := range [][]byte{[]byte(`{"signed":{},"signatures":[]}`), []byte(`{"signed":{"_type":"Timestamp"},"signatures":[{"keyid":"","method":"eddsa","sig":""}],"x":1}`), []byte("null")} {
		name := filepath.Join(dir, fmt.Sprintf("malformed%d", i))
		body := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", byte(i+2), b)
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
