//go:build tools

// Package tools pins github.com/olareg/olareg/cmd/olareg v0.2.2, an interop peer of the
// image tests (test/interop/registry_*_test.go), built by
// scripts/install-registry-peers.sh. Nothing imports this module.
package tools

import _ "github.com/olareg/olareg/cmd/olareg"
