//go:build tools

// Package tools pins github.com/regclient/regclient/cmd/regctl v0.11.7, an interop peer of the
// image tests (test/interop/registry_*_test.go), built by
// scripts/install-registry-peers.sh. Nothing imports this module.
package tools

import _ "github.com/regclient/regclient/cmd/regctl"
