// Command goldens writes golden test vectors produced by upstream Notary v0.7.0's own
// Go packages (github.com/theupdateframework/notary and its pinned
// github.com/docker/go/canonical/json). Its outputs are the test oracle for our
// re-implementation; it lives in the tools module so that upstream's dependencies never
// reach the root go.mod.
//
// Usage:
//
//	goldens -repo /path/to/repo              # write all golden files
//	goldens -repo /path/to/repo -init-inputs # (once) create the fixed input keys/certs
//	goldens keyid [-pass P] FILE.pem         # print the canonical key ID of a PEM key
//	goldens summarize -dir D [-manifest F]   # manifest.json + Markdown summary of served metadata
//	goldens keyids-md keyids.json            # Markdown table rows of keyids.json
//	goldens pemlist [-pass P] DIR            # Markdown table of a trust dir's private/*.key
//
// Outputs (relative to -repo):
//
//	canonicaljson/testdata/cases.json     generic JSON -> upstream Unmarshal -> MarshalCanonical
//	canonicaljson/testdata/envelope.json  data.Signed envelope marshalling (HTML escaping)
//	canonicaljson/testdata/structs.json   FileMeta.custom (RawMessage), time.Time, field-cache quirk
//	keys/testdata/v1/keyids.json          public key JSON, TUF ID, canonical ID per fixed key
//	keys/testdata/v1/pem/*.pem            private key PEMs written by upstream (and legacy forms)
//	keys/testdata/v1/pems.json            what upstream's parser makes of each PEM
//	keys/testdata/v1/signatures.json      signatures by upstream signers + upstream verifier verdicts
//
// The inputs (tools/cmd/goldens/inputs) are fixed, so key IDs are stable across runs;
// encrypted PEMs and ECDSA/RSA-PSS signatures are randomised and change every run.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

const (
	passphrase = "goldenpassphrase"
	gun        = "example.com/golden"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "keyid":
			os.Exit(keyidCmd(os.Args[2:]))
		case "summarize":
			os.Exit(summarizeCmd(os.Args[2:]))
		case "keyids-md":
			os.Exit(keyidsMDCmd(os.Args[2:]))
		case "pemlist":
			os.Exit(pemlistCmd(os.Args[2:]))
		}
	}
	repo := flag.String("repo", "", "repository root to write goldens into (required)")
	initInputs := flag.Bool("init-inputs", false, "create the fixed input keys and certificates if missing, then exit")
	flag.Parse()
	if *repo == "" {
		fmt.Fprintln(os.Stderr, "goldens: -repo is required")
		os.Exit(2)
	}
	inputDir := filepath.Join(*repo, "tools", "cmd", "goldens", "inputs")
	if *initInputs {
		if err := createInputs(inputDir); err != nil {
			fatal(err)
		}
		return
	}
	in, err := loadInputs(inputDir)
	if err != nil {
		fatal(err)
	}
	// Order matters: docker/go/canonical/json caches struct field order per type and
	// a non-canonical marshal of a type poisons later canonical marshals of it (see
	// structs.json "field-cache-quirk"). Key IDs and canonical cases run first; the
	// quirk demonstration runs last.
	steps := []struct {
		name string
		fn   func(repo string, in *inputs) error
	}{
		{"keyids", writeKeyIDs},
		{"canonical cases", writeCanonicalCases},
		{"pems", writePEMs},
		{"signatures", writeSignatures},
		{"envelope", writeEnvelope},
		{"structs", writeStructs},
	}
	for _, s := range steps {
		if err := s.fn(*repo, in); err != nil {
			fatal(fmt.Errorf("%s: %w", s.name, err))
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "goldens:", err)
	os.Exit(1)
}

// writeJSON writes v as indented JSON without HTML escaping, with a final newline.
func writeJSON(path string, v interface{}) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "goldens: writing", path)
	return os.WriteFile(path, b, 0o644)
}
