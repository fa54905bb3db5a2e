//go:build tools

// Package tools pins the upstream Notary v0.7.0 binaries used as interop peers and
// as the oracle for golden test vectors. Keeping them in this separate module means
// upstream's old dependency graph never enters the root go.mod.
package tools

import (
	_ "github.com/theupdateframework/notary/cmd/notary"
	_ "github.com/theupdateframework/notary/cmd/notary-server"
	_ "github.com/theupdateframework/notary/cmd/notary-signer"
)
