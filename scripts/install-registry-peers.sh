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

command -v go >/dev/null 2>&1 || die "go is not on PATH"

# Never build inside a workspace, never let a build edit go.mod/go.sum.
export GOWORK=off
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
GOVERSION=$(go env GOVERSION) || die "go env failed"
PLATFORM=$(go env GOOS GOARCH CGO_ENABLED | tr '\n' ' ')

# name|tools module dir|package|version|extra ldflags
PEERS=(
	"registry|registry|github.com/distribution/distribution/v3/cmd/registry|v3.1.2|-X github.com/distribution/distribution/v3/version.version=v3.1.2"
	"crane|crane|github.com/google/go-containerregistry/cmd/crane|v0.22.1|-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=v0.22.1"
	"regctl|regctl|github.com/regclient/regclient/cmd/regctl|v0.11.7|"
	"olareg|olareg|github.com/olareg/olareg/cmd/olareg|v0.2.2|"
)

mkdir -p "$BIN" || die "cannot create $BIN"
for spec in "${PEERS[@]}"; do
	IFS='|' read -r name dir pkg version ldflags <<<"$spec"
	mod="$REPO/tools/$dir"
	[[ -f "$mod/go.mod" && -f "$mod/go.sum" ]] || die "missing $mod/go.mod or go.sum"
	grep -q " $version\$" <(grep -F "${pkg%%/cmd/*} " "$mod/go.mod") ||
		die "$mod/go.mod does not require ${pkg%%/cmd/*} $version"
	# The stamp covers what decides the binary: the module's go.mod and
	# go.sum, this peer's line above (package, version, ldflags), the Go
	# version and the platform. Editing anything else here rebuilds nothing.
	stamp=$( (cat "$mod/go.mod" "$mod/go.sum"; echo "$spec") | sha256sum | cut -d' ' -f1)
	stamp="$stamp $GOVERSION $PLATFORM"
	stampFile="$BIN/.stamp-$name"
	if [[ $FORCE == 0 && -x "$BIN/$name" && -f "$stampFile" && "$(cat "$stampFile")" == "$stamp" ]]; then
		echo "install-registry-peers: $name $version up to date" >&2
		continue
	fi
	rm -f "$stampFile"
	echo "install-registry-peers: building $name $version with $GOVERSION" >&2
	start=$SECONDS
	go build -C "$mod" -trimpath -ldflags "-s -w $ldflags" -o "$BIN/$name.tmp" "$pkg" </dev/null ||
		die "building $pkg $version failed (is the module proxy reachable?)"
	mv -f "$BIN/$name.tmp" "$BIN/$name"
	"$BIN/$name" --help >/dev/null 2>&1 || die "$BIN/$name does not run"
	echo "$stamp" >"$stampFile"
	echo "install-registry-peers: built $name in $((SECONDS - start))s" >&2
done

echo "NOTARY_REGISTRY_PEERS_BIN=$BIN"
for spec in "${PEERS[@]}"; do
	name=${spec%%|*}
	echo "NOTARY_PEER_$(echo "$name" | tr a-z A-Z)=$BIN/$name"
done
