#!/usr/bin/env bash
# install-peers.sh: build the upstream Notary v0.7.0 binaries (our interop peers and
# golden-vector oracle) from the pinned tools module into $REPO/.tools/bin.
#
# Usage: scripts/install-peers.sh [-f]      (-f: rebuild even if up to date)
#
# Output (stdout, one per line, eval-able):
#   NOTARY_PEERS_BIN=<dir>
#   NOTARY_V070_CLIENT=<dir>/notary
#   NOTARY_V070_SERVER=<dir>/notary-server
#   NOTARY_V070_SIGNER=<dir>/notary-signer
# Progress and errors go to stderr. Exit status is non-zero on any failure.
#
# Known upstream bug: v0.7.0's server built with Go >= 1.17 rejects every delegation
# upload with 400 INVALID_ROLE (docs/upstream-notes.md); interop tests against it skip
# those steps and say why.
#
# Environment: NOTARY_PEERS_BIN overrides the output directory.
set -euo pipefail

die() { echo "install-peers: error: $*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || die "cannot locate repository root"
TOOLS="$REPO/tools"
BIN=${NOTARY_PEERS_BIN:-$REPO/.tools/bin}
UPSTREAM=github.com/theupdateframework/notary
VERSION=0.7.0
FORCE=0
[[ "${1:-}" == "-f" ]] && FORCE=1

command -v go >/dev/null 2>&1 || die "go is not on PATH"
[[ -f "$TOOLS/go.mod" && -f "$TOOLS/go.sum" ]] || die "missing $TOOLS/go.mod or go.sum"

# The tools module must never be built as part of a workspace, and must not
# silently change its requirements.
export GOWORK=off
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

LDFLAGS="-X $UPSTREAM/version.NotaryVersion=$VERSION"
GOVERSION=$(go env GOVERSION) || die "go env failed"
STAMP_INPUT=$(cat "$TOOLS/go.mod" "$TOOLS/go.sum" "$TOOLS/cmd/v1oracle/main.go" "${BASH_SOURCE[0]}"; echo "$GOVERSION $(go env GOOS GOARCH CGO_ENABLED)")
STAMP=$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -d' ' -f1)
NAMES=(notary notary-server notary-signer v1oracle)

print_paths() {
	echo "NOTARY_PEERS_BIN=$BIN"
	echo "NOTARY_V070_CLIENT=$BIN/notary"
	echo "NOTARY_V070_SERVER=$BIN/notary-server"
	echo "NOTARY_V070_SIGNER=$BIN/notary-signer"
}

up_to_date() {
	[[ $FORCE == 0 && -f "$BIN/.stamp" && "$(cat "$BIN/.stamp")" == "$STAMP" ]] || return 1
	local n
	for n in "${NAMES[@]}"; do [[ -x "$BIN/$n" ]] || return 1; done
}

if up_to_date; then
	echo "install-peers: up to date in $BIN" >&2
	print_paths
	exit 0
fi

mkdir -p "$BIN" || die "cannot create $BIN"
rm -f "$BIN/.stamp"
echo "install-peers: building notary v$VERSION peers with $GOVERSION into $BIN" >&2

GOBIN="$BIN" go install -C "$TOOLS" -ldflags "$LDFLAGS" \
	"$UPSTREAM/cmd/notary" "$UPSTREAM/cmd/notary-server" "$UPSTREAM/cmd/notary-signer" \
	|| die "go install of $UPSTREAM v$VERSION failed (is the module proxy reachable?)"

# Our own oracle: runs v0.7.0's key code on files we write (keys tests).
GOBIN="$BIN" go install -C "$TOOLS" ./cmd/v1oracle || die "building tools/cmd/v1oracle failed"

for n in "${NAMES[@]}"; do [[ -x "$BIN/$n" ]] || die "$BIN/$n missing after build"; done
"$BIN/notary" version >/dev/null 2>&1 || die "$BIN/notary does not run"
echo "$STAMP" > "$BIN/.stamp"
echo "install-peers: done" >&2
print_paths
