//go:build tools

// Package tools pins github.com/google/go-containerregistry/cmd/crane v0.22.1, an interop peer of the
// image tests (test/interop/registry_*_test.go), built by
// scripts/install-registry-peers.sh. Nothing imports this module.
package tools

import _ "github.com/google/go-containerregistry/cmd/crane"
