#!/usr/bin/env bash
# Makes a SoftHSM2 token for the PKCS#11 key store (keystore/pkcs11) and
# prints the environment that points the tests and tools at it:
#
#   eval "$(scripts/softhsm.sh /tmp/hsm)"
#   go test -race ./keystore/pkcs11/
#
# DIR gets softhsm2.conf and a tokens/ directory. Idempotent: softhsm2 is
# installed with apt-get only when missing (apt-get update runs only then),
# and a token whose label already exists in DIR is kept as it is.
#
# The token's label and PINs come from NOTARY_PKCS11_TOKEN (default
# notary-test), NOTARY_PKCS11_PIN (default 1234) and NOTARY_PKCS11_SO_PIN
# (default 123456). These are test credentials: a real HSM's PIN belongs in
# the environment of the process that uses it, never in a script.
#
# Standard output is only the eval-able `export NAME=value` lines; progress
# goes to standard error.
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
dir=$1

label=${NOTARY_PKCS11_TOKEN:-notary-test}
pin=${NOTARY_PKCS11_PIN:-1234}
so_pin=${NOTARY_PKCS11_SO_PIN:-123456}

find_module() {
	local m
	for m in /usr/lib/softhsm/libsofthsm2.so \
		/usr/lib/"$(uname -m)"-linux-gnu/softhsm/libsofthsm2.so \
		/usr/local/lib/softhsm/libsofthsm2.so; do
		[ -f "$m" ] && { echo "$m"; return 0; }
	done
	return 1
}

if ! command -v softhsm2-util >/dev/null 2>&1 || ! find_module >/dev/null; then
	echo "softhsm.sh: installing softhsm2" >&2
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >&2
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends softhsm2 >&2
fi
module=$(find_module) || { echo "softhsm.sh: libsofthsm2.so not found after install" >&2; exit 1; }

mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<EOF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
fi
export SOFTHSM2_CONF=$conf

# --show-slots prints "Label:            <label>" for each initialised token.
has_token() {
	softhsm2-util --show-slots 2>/dev/null |
		sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' | sed 's/[[:space:]]*$//' |
		grep -Fxq -- "$label"
}
if has_token; then
	echo "softhsm.sh: token \"$label\" already initialised in $dir" >&2
else
	echo "softhsm.sh: initialising token \"$label\" in $dir" >&2
	softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >&2
fi

printf 'export SOFTHSM2_CONF=%q\n' "$conf"
printf 'export NOTARY_PKCS11_MODULE=%q\n' "$module"
printf 'export NOTARY_PKCS11_TOKEN=%q\n' "$label"
printf 'export NOTARY_PKCS11_PIN=%q\n' "$pin"
