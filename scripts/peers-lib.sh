# Sourced by install-registry-peers.sh and install-sig-peers.sh: builds
# peer binaries from their pinned tools modules into a bin directory,
# each with a stamp, so a warm run builds nothing.
#
#   build_peers TAG BIN FORCE SPEC...
#
# TAG prefixes progress lines; FORCE=1 rebuilds everything. Each SPEC is
#   name|tools module dir|package|module|version|extra ldflags|run-check argument
# The tools module must require module at version; the built binary must
# run with the run-check argument (e.g. --help) and exit 0.

build_peers() {
	local tag=$1 bin=$2 force=$3
	shift 3
	local repo
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || { echo "$tag: error: cannot locate repository root" >&2; return 1; }
	command -v go >/dev/null 2>&1 || { echo "$tag: error: go is not on PATH" >&2; return 1; }
	# Never build inside a workspace, never let a build edit go.mod/go.sum.
	export GOWORK=off
	export GOFLAGS="${GOFLAGS:-} -mod=readonly"
	local goversion platform
	goversion=$(go env GOVERSION) || return 1
	platform=$(go env GOOS GOARCH CGO_ENABLED | tr '\n' ' ')
	mkdir -p "$bin" || { echo "$tag: error: cannot create $bin" >&2; return 1; }
	local spec name dir pkg module version ldflags check mod stamp stampFile start
	for spec in "$@"; do
		IFS='|' read -r name dir pkg module version ldflags check <<<"$spec"
		mod="$repo/tools/$dir"
		[[ -f "$mod/go.mod" && -f "$mod/go.sum" ]] || { echo "$tag: error: missing $mod/go.mod or go.sum" >&2; return 1; }
		grep -q " $version\$" <(grep -F "$module " "$mod/go.mod") ||
			{ echo "$tag: error: $mod/go.mod does not require $module $version" >&2; return 1; }
		# The stamp covers what decides the binary: the module's go.mod and
		# go.sum, this peer's spec, the Go version and the platform.
		stamp=$( (cat "$mod/go.mod" "$mod/go.sum"; echo "$spec") | sha256sum | cut -d' ' -f1)
		stamp="$stamp $goversion $platform"
		stampFile="$bin/.stamp-$name"
		if [[ $force == 0 && -x "$bin/$name" && -f "$stampFile" && "$(cat "$stampFile")" == "$stamp" ]]; then
			echo "$tag: $name $version up to date" >&2
			continue
		fi
		rm -f "$stampFile"
		echo "$tag: building $name $version with $goversion" >&2
		start=$SECONDS
		go build -C "$mod" -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg" </dev/null ||
			{ echo "$tag: error: building $pkg $version failed (is the module proxy reachable?)" >&2; return 1; }
		mv -f "$bin/$name.tmp" "$bin/$name"
		"$bin/$name" "$check" >/dev/null 2>&1 </dev/null || { echo "$tag: error: $bin/$name does not run" >&2; return 1; }
		echo "$stamp" >"$stampFile"
		echo "$tag: built $name in $((SECONDS - start))s" >&2
	done
}
