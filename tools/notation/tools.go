//go:build tools

// Package tools pins notation v1.3.2, a real verifier for the Notation signatures
// `notary image convert` writes. `go install ...@v1.3.2` is refused for this module
// (replace directives), so it is built from this module, which requires that version.
package tools

import _ "github.com/notaryproject/notation/cmd/notation"
