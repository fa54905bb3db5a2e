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

command -v go >/dev/null 2>&1 || die "go is not on PATH"

# Never build inside a workspace, never let a build edit go.mod/go.sum.
export GOWORK=off
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
GOVERSION=$(go env GOVERSION) || die "go env failed"
PLATFORM=$(go env GOOS GOARCH CGO_ENABLED | tr '\n' ' ')

# name|tools module dir|package|module|version|extra ldflags
PEERS=(
	"cosign|cosign|github.com/sigstore/cosign/v2/cmd/cosign|github.com/sigstore/cosign/v2|v2.6.5|-X sigs.k8s.io/release-utils/version.gitVersion=v2.6.5"
	"notation|notation|github.com/notaryproject/notation/cmd/notation|github.com/notaryproject/notation|v1.3.2|-X github.com/notaryproject/notation/internal/version.Version=v1.3.2"
)

mkdir -p "$BIN" || die "cannot create $BIN"
for spec in "${PEERS[@]}"; do
	IFS='|' read -r name dir pkg module version ldflags <<<"$spec"
	mod="$REPO/tools/$dir"
	[[ -f "$mod/go.mod" && -f "$mod/go.sum" ]] || die "missing $mod/go.mod or go.sum"
	grep -qx "require $module $version" "$mod/go.mod" || grep -qxF "	$module $version" "$mod/go.mod" ||
		die "$mod/go.mod does not require $module $version"
	# The stamp covers what decides the binary: the module's go.mod and go.sum,
	# this peer's line above, the Go version and the platform.
	stamp=$( (cat "$mod/go.mod" "$mod/go.sum"; echo "$spec") | sha256sum | cut -d' ' -f1)
	stamp="$stamp $GOVERSION $PLATFORM"
	stampFile="$BIN/.stamp-$name"
	if [[ $FORCE == 0 && -x "$BIN/$name" && -f "$stampFile" && "$(cat "$stampFile")" == "$stamp" ]]; then
		echo "install-sig-peers: $name $version up to date" >&2
		continue
	fi
	rm -f "$stampFile"
	echo "install-sig-peers: building $name $version with $GOVERSION" >&2
	start=$SECONDS
	go build -C "$mod" -trimpath -ldflags "-s -w $ldflags" -o "$BIN/$name.tmp" "$pkg" </dev/null ||
		die "building $pkg $version failed (is the module proxy reachable?)"
	mv -f "$BIN/$name.tmp" "$BIN/$name"
	"$BIN/$name" version >/dev/null 2>&1 || die "$BIN/$name does not run"
	echo "$stamp" >"$stampFile"
	echo "install-sig-peers: built $name in $((SECONDS - start))s" >&2
done

echo "NOTARY_SIG_PEERS_BIN=$BIN"
echo "NOTARY_PEER_COSIGN=$BIN/cosign"
echo "NOTARY_PEER_NOTATION=$BIN/notation"
