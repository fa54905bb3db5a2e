#!/bin/sh
# Installs Debian's chromium for the browser test of the web view
# (test/ui). Idempotent and quiet when chromium is already there; runs
# apt-get update only when the package is not found without it.
set -eu
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
	$SUDO apt-get update -qq >/dev/null
	$SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || {
	echo "install-chromium.sh: chromium still not on PATH after apt-get install" >&2
	exit 1
}
