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
#   NOTARY_V070_SERVER_PATCHED=<dir>/notary-server-patched
#   NOTARY_V070_SIGNER=<dir>/notary-signer
# Progress and errors go to stderr. Exit status is non-zero on any failure.
#
# notary-server-patched is v0.7.0 plus one small patch (tools/patches/rawfilename.go.in):
# it reads the multipart filename raw, as v0.7.0 did when built with Go <= 1.16. The
# unpatched server rejects every delegation upload with 400 INVALID_ROLE when built
# with Go >= 1.17 (see docs/upstream-notes.md).
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
STAMP_INPUT=$(cat "$TOOLS/go.mod" "$TOOLS/go.sum" "$TOOLS/patches/rawfilename.go.in" "${BASH_SOURCE[0]}"; echo "$GOVERSION $(go env GOOS GOARCH CGO_ENABLED)")
STAMP=$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -d' ' -f1)
NAMES=(notary notary-server notary-server-patched notary-signer)

print_paths() {
	echo "NOTARY_PEERS_BIN=$BIN"
	echo "NOTARY_V070_CLIENT=$BIN/notary"
	echo "NOTARY_V070_SERVER=$BIN/notary-server"
	echo "NOTARY_V070_SERVER_PATCHED=$BIN/notary-server-patched"
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

# Patched server: a copy of the upstream module with one added helper file and
# part.FileName() swapped for it in server/handlers/default.go, built through a
# throwaway module that replaces upstream with the copy (same dependency versions,
# pinned by tools/go.sum). The module cache itself is never modified.
MODDIR=$(go list -C "$TOOLS" -m -f '{{.Dir}}' "$UPSTREAM") || die "cannot locate $UPSTREAM in module cache"
[[ -n "$MODDIR" && -f "$MODDIR/server/handlers/default.go" ]] || die "upstream source not found under '$MODDIR'"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/notary-patched.XXXXXX") || die "mktemp failed"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir "$WORK/notary"
tar -C "$MODDIR" --exclude=./vendor --exclude=./fixtures --exclude=./docs -cf - . | tar -C "$WORK/notary" -xf - \
	|| die "copying upstream source failed"
chmod -R u+w "$WORK/notary"
H="$WORK/notary/server/handlers"
sed -i 's/part\.FileName()/notaryGoRawPartFileName(part)/' "$H/default.go"
n=$(grep -c 'notaryGoRawPartFileName(part)' "$H/default.go" || true)
[[ "$n" == 1 ]] || die "patch expected exactly 1 replacement in server/handlers/default.go, got $n"
cp "$TOOLS/patches/rawfilename.go.in" "$H/zz_notarygo_rawfilename.go"
sed -e 's#^module .*#module github.com/notary-go/notary/tools/patchedserver#' "$TOOLS/go.mod" > "$WORK/go.mod"
echo "replace $UPSTREAM => ./notary" >> "$WORK/go.mod"
cp "$TOOLS/go.sum" "$WORK/go.sum"
go build -C "$WORK" -ldflags "$LDFLAGS" -o "$BIN/notary-server-patched" "$UPSTREAM/cmd/notary-server" \
	|| die "build of notary-server-patched failed"

for n in "${NAMES[@]}"; do [[ -x "$BIN/$n" ]] || die "$BIN/$n missing after build"; done
"$BIN/notary" version >/dev/null 2>&1 || die "$BIN/notary does not run"
echo "$STAMP" > "$BIN/.stamp"
echo "install-peers: done" >&2
print_paths
