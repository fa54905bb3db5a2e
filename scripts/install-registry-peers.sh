#!/usr/bin/env bash
# install-registry-peers.sh: build the container-registry peers of the image
# interop tests (test/interop/registry_*_test.go) from the Go module proxy into
# $REPO/.tools/bin, each from its own pinned tools module:
#
#   registry  github.com/distribution/distribution/v3/cmd/registry v3.1.2  (tools/registry)
#   crane     github.com/google/go-containerregistry/cmd/crane     v0.22.1 (tools/crane)
#   regctl    github.com/regclient/regclient/cmd/regctl            v0.11.7 (tools/regctl)
#   olareg    github.com/olareg/olareg/cmd/olareg                  v0.2.2  (tools/olareg)
#
# One module per peer: their dependency graphs are large and unrelated (the
# distribution registry alone pulls in three cloud SDKs), and a shared module
# would let one peer's requirements move another's dependencies. Building
# from a module that requires the exact version (rather than `go install
# mod@version`) also works where a plain install is refused (olareg).
#
# Usage: scripts/install-registry-peers.sh [-f]   (-f: rebuild even if up to date)
#
# Output (stdout, one per line, eval-able):
#   NOTARY_REGISTRY_PEERS_BIN=<dir>
#   NOTARY_PEER_REGISTRY=<dir>/registry   (likewise _CRANE, _REGCTL, _OLAREG)
# Progress and errors go to stderr; exit status is non-zero on any failure.
# Needs nothing but go and the module proxy; reads no stdin (CI=true safe).
# A warm run (stamps match) builds nothing.
#
# Environment: NOTARY_REGISTRY_PEERS_BIN overrides the output directory.
set -euo pipefail

die() { echo "install-registry-peers: error: $*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || die "cannot locate repository root"
BIN=${NOTARY_REGISTRY_PEERS_BIN:-$REPO/.tools/bin}
FORCE=0
[[ "${1:-}" == "-f" ]] && FORCE=1

# name|tools module dir|package|module|version|extra ldflags|run check
PEERS=(
	"registry|registry|github.com/distribution/distribution/v3/cmd/registry|github.com/distribution/distribution/v3|v3.1.2|-X github.com/distribution/distribution/v3/version.version=v3.1.2|--help"
	"crane|crane|github.com/google/go-containerregistry/cmd/crane|github.com/google/go-containerregistry|v0.22.1|-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=v0.22.1|--help"
	"regctl|regctl|github.com/regclient/regclient/cmd/regctl|github.com/regclient/regclient|v0.11.7||--help"
	"olareg|olareg|github.com/olareg/olareg/cmd/olareg|github.com/olareg/olareg|v0.2.2||--help"
)

. "$REPO/scripts/peers-lib.sh"
build_peers install-registry-peers "$BIN" "$FORCE" "${PEERS[@]}" || exit 1

echo "NOTARY_REGISTRY_PEERS_BIN=$BIN"
for spec in "${PEERS[@]}"; do
	name=${spec%%|*}
	echo "NOTARY_PEER_$(echo "$name" | tr a-z A-Z)=$BIN/$name"
done
