#!/usr/bin/env bash
# install-sig-peers.sh: build the signature verifiers of the bridge interop tests
# (test/interop/bridges_*_test.go) from the Go module proxy into $REPO/.tools/bin,
# each from its own pinned tools module:
#
#   cosign    github.com/sigstore/cosign/v2/cmd/cosign         v2.6.5 (tools/cosign)
#   notation  github.com/notaryproject/notation/cmd/notation   v1.3.2 (tools/notation)
#
# One module per verifier: their dependency graphs are large and unrelated. A plain
# `go install github.com/notaryproject/notation/cmd/notation@v1.3.2` is refused
# (its go.mod has replace directives); building from a module that requires that
# exact version works. cosign's build takes minutes on a small machine.
#
# Usage: scripts/install-sig-peers.sh [-f]   (-f: rebuild even if up to date)
#
# Output (stdout, one per line, eval-able):
#   NOTARY_SIG_PEERS_BIN=<dir>
#   NOTARY_PEER_COSIGN=<dir>/cosign
#   NOTARY_PEER_NOTATION=<dir>/notation
# Progress and errors go to stderr; exit status is non-zero on any failure.
# A warm run (stamps match) builds nothing.
#
# Environment: NOTARY_SIG_PEERS_BIN overrides the output directory.
set -euo pipefail

die() { echo "install-sig-peers: error: $*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || die "cannot locate repository root"
BIN=${NOTARY_SIG_PEERS_BIN:-$REPO/.tools/bin}
FORCE=0
[[ "${1:-}" == "-f" ]] && FORCE=1

# name|tools module dir|package|module|version|extra ldflags|run check
PEERS=(
	"cosign|cosign|github.com/sigstore/cosign/v2/cmd/cosign|github.com/sigstore/cosign/v2|v2.6.5|-X sigs.k8s.io/release-utils/version.gitVersion=v2.6.5|version"
	"notation|notation|github.com/notaryproject/notation/cmd/notation|github.com/notaryproject/notation|v1.3.2|-X github.com/notaryproject/notation/internal/version.Version=v1.3.2|version"
)

. "$REPO/scripts/peers-lib.sh"
build_peers install-sig-peers "$BIN" "$FORCE" "${PEERS[@]}" || exit 1

echo "NOTARY_SIG_PEERS_BIN=$BIN"
echo "NOTARY_PEER_COSIGN=$BIN/cosign"
echo "NOTARY_PEER_NOTATION=$BIN/notation"
