package update_test

import (
	"bytes"
	"testing"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Fuzz steps: which TrustedSet call the fuzzed bytes go to, after the
// calls before it have been made with valid files. Keep in step with
// internal/tuftest/corpus_test.go.
const (
	stepNewRoot = iota
	stepUpdateRoot
	stepTimestamp
	stepSnapshot
	stepTargets
	stepDelegation
	stepFloor
	numSteps
)

// fuzzRoles is the valid file of each step's role.
var fuzzRoles = [numSteps]string{
	tuf.RoleRoot, tuf.RoleRoot, tuf.RoleTimestamp, tuf.RoleSnapshot, tuf.RoleTargets, "targets/a", tuf.RoleTimestamp,
}

func fuzzSimulator() (*tuftest.Simulator, files) {
	sim := tuftest.New(gun)
	sim.AddTarget(tuf.RoleTargets, "a&b<c>", []byte("html-escaped name"))
	sim.AddDelegation(tuf.RoleTargets, "targets/a", "a/", "")
	sim.AddTarget("targets/a", "a/1", []byte("1"))
	sim.Publish()
	return sim, published(sim, "targets/a")
}

// FuzzTrustedSet feeds arbitrary bytes to each TrustedSet call in turn.
// Nothing may panic, and whatever is accepted must be what the simulator
// signed: hash-bound roles byte for byte, signed-only roles by version.
// The checked-in seeds (testdata/fuzz/FuzzTrustedSet, written by
// internal/tuftest's TestWriteUpdateFuzzCorpus) come from a simulator with
// other keys, so they exercise parsing and refusals; the live simulator's
// valid files are added here.
func FuzzTrustedSet(f *testing.F) {
	sim, fs := fuzzSimulator()
	for step := range uint8(numSteps) {
		valid := fs[fuzzRoles[step]]
		f.Add(step, valid)
		f.Add(step, bytes.Replace(valid, []byte(`"signed":{`), []byte(`"signed": {`), 1))
		f.Add(step, valid[:len(valid)/2])
	}
	now := sim.Clock.Now()
	f.Fuzz(func(t *testing.T, step uint8, data []byte) {
		step %= numSteps
		s, err := update.NewTrustedSet(fs[tuf.RoleRoot], now, nil, gun)
		if err != nil {
			t.Fatal(err)
		}
		prep := func(n uint8) {
			if n > stepTimestamp {
				if _, err := s.UpdateTimestamp(fs[tuf.RoleTimestamp]); err != nil {
					t.Fatal(err)
				}
			}
			if n > stepSnapshot {
				if _, err := s.UpdateSnapshot(fs[tuf.RoleSnapshot]); err != nil {
					t.Fatal(err)
				}
			}
			if n > stepTargets {
				if _, err := s.UpdateTargets(fs[tuf.RoleTargets]); err != nil {
					t.Fatal(err)
				}
			}
		}
		var (
			m   tuf.Metadata
			got error
		)
		switch step {
		case stepNewRoot:
			var ns *update.TrustedSet
			if ns, got = update.NewTrustedSet(data, now, nil, gun); got == nil {
				m = ns.Root()
			}
		case stepUpdateRoot:
			m, got = s.UpdateRoot(data)
		case stepTimestamp:
			m, got = s.UpdateTimestamp(data)
		case stepSnapshot:
			prep(step)
			m, got = s.UpdateSnapshot(data)
		case stepTargets:
			prep(step)
			m, got = s.UpdateTargets(data)
		case stepDelegation:
			prep(step)
			m, got = s.UpdateDelegation("targets/a", tuf.RoleTargets, data)
		case stepFloor:
			var v int64
			if v, got = s.SetCached(tuf.RoleTimestamp, data); got == nil {
				if _, ok := sim.History(tuf.RoleTimestamp)[v]; !ok {
					t.Fatalf("SetCached accepted timestamp version %d, never signed", v)
				}
			}
			return
		}
		if got != nil {
			if got.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		role := fuzzRoles[step]
		switch step {
		case stepSnapshot, stepTargets, stepDelegation:
			if !bytes.Equal(data, fs[role]) {
				t.Fatalf("accepted %s bytes that differ from the hash-bound file", role)
			}
		default:
			if _, ok := sim.History(role)[m.Common().Version]; !ok {
				t.Fatalf("accepted %s version %d, never signed", role, m.Common().Version)
			}
		}
	})
}
