//go:build tools

// Package tools pins github.com/distribution/distribution/v3/cmd/registry v3.1.2, an interop peer of the
// image tests (test/interop/registry_*_test.go), built by
// scripts/install-registry-peers.sh. Nothing imports this module.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
