//go:build tools

// Package tools pins cosign, a real verifier for the signatures `notary image convert`
// writes. A module of its own so sigstore's dependency graph never enters the root
// go.mod or the Notary v0.7.0 tools module.
package tools

import _ "github.com/sigstore/cosign/v2/cmd/cosign"
