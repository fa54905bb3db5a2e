#!/usr/bin/env bash
# gen-goldens.sh: regenerate every golden vector produced by upstream Notary v0.7.0.
#
#   scripts/gen-goldens.sh            # everything
#   KEEP_WORK=1 scripts/gen-goldens.sh  # keep the temp dir (servers' logs, trust dirs)
#
# What it does, end to end:
#   1. scripts/install-peers.sh (upstream binaries into .tools/bin) and builds the tools
#      module helpers (goldens, httplog, freeport) into the temp dir.
#   2. tools/cmd/goldens: static vectors from upstream's Go packages
#      -> canonicaljson/testdata/{cases,envelope,structs}.json,
#         keys/testdata/v1/{keyids,pems,signatures}.json, keys/testdata/v1/pem/
#   3. Scenario "golden": a server that accepts delegation uploads (ours, from
#      cmd/notary-server, memory storage, TLS) behind
#      the httplog recording proxy, driven by the upstream notary CLI; then curl probes
#      for error shapes. Metadata -> tuf/testdata/v1/golden/, keys -> keys/testdata/v1/golden/.
#   4. Scenario "remote-signer": unpatched notary-server + notary-signer over mutual TLS.
#      -> tuf/testdata/v1/remote-signer/, keys/testdata/v1/remote-signer/.
#   5. Scenario "token-auth": unpatched notary-server with auth.type=token (challenges only).
#   6. Transcript -> test/interop/testdata/http-transcript.md (+ http-exchanges.jsonl.gz).
#
# Everything runs on 127.0.0.1 in a fresh temp dir; every process started is killed on
# exit. Keys, signatures, timestamps and expiries change on every run (only the fixed
# inputs in tools/cmd/goldens/inputs are stable).
set -euo pipefail

die() { echo "gen-goldens: error: $*" >&2; exit 1; }
log() { echo "gen-goldens: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for t in openssl curl go sed sha256sum sha512sum gzip base64; do command -v $t >/dev/null || die "$t not found"; done

eval "$("$REPO/scripts/install-peers.sh")"
: "${NOTARY_V070_CLIENT:?}" "${NOTARY_V070_SERVER:?}" "${NOTARY_V070_SIGNER:?}"
# v0.7.0's server built with Go >= 1.17 rejects delegation uploads, so the
# scenarios that publish delegations store them with our server; every byte of
# metadata is still made and signed by the upstream client.
GOLDEN_SERVER=${GOLDEN_SERVER:-$REPO/.tools/bin/our-notary-server}
go build -C "$REPO" -o "$GOLDEN_SERVER" ./cmd/notary-server || die "building our notary-server failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/notary-goldens.XXXXXX")
PIDS=()
cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]:-}"; do
		[[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [[ "${KEEP_WORK:-}" == 1 || $rc != 0 ]]; then
		log "work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "gen-goldens: error: line $LINENO: $BASH_COMMAND" >&2' ERR

# ---------------------------------------------------------------- helpers
export GOWORK=off
B="$WORK/bin"
mkdir -p "$B"
go build -C "$REPO/tools" -o "$B/" ./cmd/goldens ./cmd/httplog ./cmd/freeport ./cmd/tokenserver || die "building tools/cmd failed"

start() { # start NAME LOGFILE CMD... ; records the pid
	local name=$1 logf=$2
	shift 2
	"$@" >"$logf" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
}
stop() { # stop NAME
	local v="PID_$1"
	local p=${!v:-}
	[[ -n "$p" ]] || return 0
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	eval "PID_$1="
}
wait_tls() { # wait_tls HOST:PORT
	local i
	for i in $(seq 1 100); do
		if curl -s -o /dev/null --cacert "$PKI/ca.crt" "https://$1/_notary_server/health" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "nothing answering on https://$1"
}
wait_port() { # wait_port PORT
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listening on 127.0.0.1:$1"
}

# ---------------------------------------------------------------- 1. static vectors
log "static vectors from upstream packages"
"$B/goldens" -repo "$REPO"

# ---------------------------------------------------------------- PKI
PKI="$WORK/pki"
mkdir -p "$PKI"
(
	cd "$PKI"
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key
	openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=notary-goldens throwaway CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
	for n in server signer client; do
		openssl ecparam -name prime256v1 -genkey -noout -out $n.key
		openssl req -new -key $n.key -subj "/CN=notary-$n" -out $n.csr
		printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:localhost,DNS:notary-$n,IP:127.0.0.1" >$n.ext
		openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile $n.ext -out $n.crt
	done
) >"$WORK/pki.log" 2>&1 || die "openssl PKI generation failed (see $WORK/pki.log)"

export NOTARY_ROOT_PASSPHRASE=goldenpassphrase NOTARY_TARGETS_PASSPHRASE=goldenpassphrase \
	NOTARY_SNAPSHOT_PASSPHRASE=goldenpassphrase NOTARY_DELEGATION_PASSPHRASE=goldenpassphrase
unset NOTARY_AUTH
XLOG="$WORK/exchanges.jsonl"
: >"$XLOG"

read -r P_SRV P_PROXY P_SIGNER P_SRV2 P_PROXY2 P_SRV3 P_TOKEN <<<"$(echo $("$B/freeport" 7))"

# proxy_start UPSTREAM_PORT PROXY_PORT NAME
proxy_start() {
	start "$3" "$WORK/$3.log" "$B/httplog" proxy -listen "127.0.0.1:$2" -upstream "https://127.0.0.1:$1" \
		-ca "$PKI/ca.crt" -cert "$PKI/server.crt" -key "$PKI/server.key" -log "$XLOG"
	wait_port "$2"
}
URL= # current proxy URL
mark() { curl -s -o /dev/null --cacert "$PKI/ca.crt" -G --data-urlencode "label=$*" "$URL/__httplog/mark"; log "step: $*"; }
# c ARGS...: curl through the proxy; prints nothing (the proxy records the exchange)
c() { curl -s -o /dev/null --cacert "$PKI/ca.crt" "$@" || true; }

# dump_metadata BASEURL GUN OUTDIR ROLES...: every current and versioned file, as served
dump_metadata() {
	local base=$1 gun=$2 out=$3
	shift 3
	rm -rf "$out"
	mkdir -p "$out"
	local role v miss
	for role in "$@"; do
		mkdir -p "$(dirname "$out/$role.json")"
		curl -sf --cacert "$PKI/ca.crt" -o "$out/$role.json" "$base/v2/$gun/_trust/tuf/$role.json" || rm -f "$out/$role.json"
		v=1
		miss=0
		while ((miss < 3)); do
			local name="$v.$role.json"
			mkdir -p "$(dirname "$out/$name")"
			if curl -sf --cacert "$PKI/ca.crt" -o "$out/$name" "$base/v2/$gun/_trust/tuf/$name"; then
				miss=0
			else
				rm -f "$out/$name"
				miss=$((miss + 1))
			fi
			v=$((v + 1))
		done
	done
	find "$out" -type d -empty -delete
}

# ================================================================ 3. scenario "golden"
log "scenario golden: our notary-server on $P_SRV, proxy on $P_PROXY"
GUN=example.com/golden
SRVDIR="$WORK/golden"
mkdir -p "$SRVDIR"
cat >"$SRVDIR/server.json" <<EOF
{
  "server": {"http_addr": "127.0.0.1:$P_SRV", "tls_cert_file": "$PKI/server.crt", "tls_key_file": "$PKI/server.key"},
  "trust_service": {"type": "local", "key_algorithm": "ecdsa"},
  "logging": {"level": "debug"},
  "storage": {"backend": "memory"}
}
EOF
start SRV "$SRVDIR/server.log" "$GOLDEN_SERVER" -config "$SRVDIR/server.json"
wait_tls "127.0.0.1:$P_SRV"
proxy_start "$P_SRV" "$P_PROXY" PROXY
URL="https://127.0.0.1:$P_PROXY"
TRUST="$SRVDIR/trust"
N() { "$NOTARY_V070_CLIENT" -s "$URL" --tlscacert "$PKI/ca.crt" -d "$TRUST" "$@"; }
NC() { "$NOTARY_V070_CLIENT" -s "$URL" --tlscacert "$PKI/ca.crt" -d "$SRVDIR/consumer" "$@"; }
NO() { "$NOTARY_V070_CLIENT" -s "$URL" --tlscacert "$PKI/ca.crt" -d "$SRVDIR/consumer-old" "$@"; }
OUT="$SRVDIR/cli-output.txt"
: >"$OUT"
run() { echo "\$ notary $*" >>"$OUT"; N "$@" >>"$OUT" 2>&1 || die "notary $* failed (see $OUT)"; }
runc() { echo "\$ notary (consumer) $*" >>"$OUT"; NC "$@" >>"$OUT" 2>&1 || die "notary (consumer) $* failed (see $OUT)"; }
runo() { echo "\$ notary (old consumer) $*" >>"$OUT"; NO "$@" >>"$OUT" 2>&1 || die "notary (old consumer) $* failed (see $OUT)"; }
TD="$SRVDIR/targetfiles"
mkdir -p "$TD"
printf 'hello golden\n' >"$TD/hello.txt"
printf 'ampersand and angle brackets\n' >"$TD/amp.txt"
printf 'unicode target\n' >"$TD/uni.txt"
printf 'version 1.0 payload\n' >"$TD/v1.txt"
printf 'release payload\n' >"$TD/release.txt"
printf 'qa payload\n' >"$TD/qa.txt"
printf '' >"$TD/empty.txt"
printf '{"build":7,"note":"x"}' >"$TD/custom.json"
CL_OUT="$REPO/tuf/testdata/v1/golden/changelist"
rm -rf "$CL_OUT"

mark "Before any collection exists: ping, health, 404s, changefeed parameter errors"
c "$URL/v2/"
c "$URL/_notary_server/health"
c "$URL/v2/$GUN/_trust/tuf/root.json"
c "$URL/v2/$GUN/_trust/tuf/timestamp.json"
c "$URL/v2/_trust/changefeed"
c "$URL/v2/_trust/changefeed?records=10"
c "$URL/v2/$GUN/_trust/changefeed?records=10"
c "$URL/nonexistent/path"
c -X PUT "$URL/v2/$GUN/_trust/tuf/root.json"

mark "notary init -p $GUN (new ecdsa root, targets and snapshot keys; timestamp key from the server)"
run init -p "$GUN"
KG="$REPO/keys/testdata/v1/golden"
rm -rf "$KG"
mkdir -p "$KG/private-after-init"
cp "$TRUST/private/"*.key "$KG/private-after-init/"

mark "Stage targets (names with & < > and unicode, --custom, addhash sha256-only) then publish"
run add "$GUN" hello.txt "$TD/hello.txt"
run add "$GUN" 'a&b<c>' "$TD/amp.txt"
run add "$GUN" 'ünïcødé/☃.txt' "$TD/uni.txt"
run add "$GUN" v1.0 "$TD/v1.txt" --custom "$TD/custom.json"
run add "$GUN" empty "$TD/empty.txt"
run addhash "$GUN" by-sha256-only 1234 --sha256 "$(printf 'not really 1234 bytes' | sha256sum | cut -d' ' -f1)"
run addhash "$GUN" by-sha512-only 42 --sha512 "$(printf 'sha512 only' | sha512sum | cut -d' ' -f1)"
mkdir -p "$CL_OUT/add-targets"
cp "$TRUST/tuf/$GUN/changelist/"*.change "$CL_OUT/add-targets/"
run status "$GUN"
run publish "$GUN"

mark "A consumer with an empty trust dir lists targets (cold cache), then again (warm cache)"
runc list "$GUN"
runc list "$GUN"
runo list "$GUN"

mark "Delegations: targets/releases (ecdsa key from 'notary key generate -o') and targets/qa (openssl x509 cert), publish"
KD="$SRVDIR/delegation-keys"
mkdir -p "$KD"
run key generate ecdsa --role targets/releases -o "$KD/releases"
REL_ID=$("$B/goldens" keyid -pass goldenpassphrase "$KD/releases-key.pem")
sed "/^role:/a path: $REL_ID" "$KD/releases-key.pem" >"$KD/releases-key.import.pem"
openssl ecparam -name prime256v1 -genkey -noout -out "$KD/qa.key" 2>>"$WORK/openssl.log"
openssl req -x509 -new -key "$KD/qa.key" -sha256 -days 3650 -subj '/CN=targets\/qa' -out "$KD/qa.crt" 2>>"$WORK/openssl.log"
run delegation add "$GUN" targets/releases "$KD/releases.pem" --all-paths
run delegation add "$GUN" targets/qa "$KD/qa.crt" --paths qa/
mkdir -p "$CL_OUT/add-delegations"
cp "$TRUST/tuf/$GUN/changelist/"*.change "$CL_OUT/add-delegations/"
run key import "$KD/releases-key.import.pem"
run key import "$KD/qa.key" --role targets/qa
run publish "$GUN"
run delegation list "$GUN"

mark "Publish targets into targets/releases and targets/qa (multipart parts named targets/releases, targets/qa)"
run add "$GUN" release-1.0 "$TD/release.txt" -r targets/releases
run add "$GUN" qa/tool "$TD/qa.txt" -r targets/qa
mkdir -p "$CL_OUT/add-delegated-targets"
cp "$TRUST/tuf/$GUN/changelist/"*.change "$CL_OUT/add-delegated-targets/"
run publish "$GUN"
runc list "$GUN"

mark "notary witness targets/releases (re-sign unchanged)"
run witness "$GUN" targets/releases
mkdir -p "$CL_OUT/witness"
cp "$TRUST/tuf/$GUN/changelist/"*.change "$CL_OUT/witness/"
run publish "$GUN"

mark "Rotate the snapshot key to the server (key rotate snapshot -r), then publish a target with a server-signed snapshot"
run key rotate "$GUN" snapshot -r
run add "$GUN" after-server-snapshot "$TD/hello.txt" -p

mark "Rotate the timestamp key (key rotate timestamp -r)"
run key rotate "$GUN" timestamp -r

mark "Rotate the targets key to a fixed ed25519 key (key rotate targets -k keys/testdata/v1/pem/ed25519.targets.enc.pem)"
run key rotate "$GUN" targets -k "$REPO/keys/testdata/v1/pem/ed25519.targets.enc.pem"

mark "Rotate the root key to a fixed RSA key (key rotate root -k keys/testdata/v1/pem/rsa.root.enc.pem)"
echo "\$ notary key rotate $GUN root -k rsa.root.enc.pem  (answering yes)" >>"$OUT"
echo yes | N key rotate "$GUN" root -k "$REPO/keys/testdata/v1/pem/rsa.root.enc.pem" >>"$OUT" 2>&1 || die "root rotation failed (see $OUT)"

mark "Remove a target, remove the targets/qa delegation"
run remove "$GUN" hello.txt
run delegation remove "$GUN" targets/qa -y
mkdir -p "$CL_OUT/remove"
cp "$TRUST/tuf/$GUN/changelist/"*.change "$CL_OUT/remove/"
run publish "$GUN"

mark "The consumer (cached root v1) updates across the root rotation, then lists each role"
runc list "$GUN"
runc list "$GUN" -r targets/releases
runc lookup "$GUN" 'a&b<c>'

mark "Rotate the root key again (new ecdsa key made by the CLI): the new root is signed by the RSA and the new key"
echo "\$ notary key rotate $GUN root  (answering yes)" >>"$OUT"
echo yes | N key rotate "$GUN" root >>"$OUT" 2>&1 || die "second root rotation failed (see $OUT)"

mark "A consumer whose cached root is still v1 walks the root chain (<v>.root.json) to the newest root"
runo list "$GUN"

# Capture the golden collection as served (directly from the server, not recorded).
log "dumping golden metadata"
GOLD="$REPO/tuf/testdata/v1/golden"
dump_metadata "https://127.0.0.1:$P_SRV" "$GUN" "$GOLD/server" root targets snapshot timestamp targets/releases targets/qa
"$B/goldens" summarize -dir "$GOLD/server" -manifest "$GOLD/manifest.json" >"$WORK/golden-summary.md"
mark "Listings used for the READMEs (publisher: key list, delegation list; consumer: list)"
N key list >"$WORK/golden-keylist.txt" 2>&1
N delegation list "$GUN" >"$WORK/golden-delegations.txt" 2>&1
NC list "$GUN" >"$WORK/golden-list.txt" 2>&1
NC list "$GUN" -r targets/releases >"$WORK/golden-list-releases.txt" 2>&1
mkdir -p "$KG/private" "$KG/delegation-inputs"
cp "$TRUST/private/"*.key "$KG/private/"
cp "$KD/releases.pem" "$KD/releases-key.pem" "$KD/qa.crt" "$KD/qa.key" "$KG/delegation-inputs/"

mark "Reads: current vs consistent caching headers, unknown roles and versions, HEAD"
c "$URL/v2/$GUN/_trust/tuf/root.json"
c "$URL/v2/$GUN/_trust/tuf/1.root.json"
c "$URL/v2/$GUN/_trust/tuf/targets/releases.json"
c "$URL/v2/$GUN/_trust/tuf/1.targets/releases.json"
SNAP_SHA=$(curl -s --cacert "$PKI/ca.crt" "https://127.0.0.1:$P_SRV/v2/$GUN/_trust/tuf/snapshot.json" | sha256sum | cut -d' ' -f1)
c "$URL/v2/$GUN/_trust/tuf/snapshot.$SNAP_SHA.json"
c "$URL/v2/$GUN/_trust/tuf/snapshot.$(printf '0%.0s' $(seq 64)).json"
c "$URL/v2/$GUN/_trust/tuf/snapshot.$(printf 'a%.0s' $(seq 128)).json"
c "$URL/v2/$GUN/_trust/tuf/targets/nope.json"
c "$URL/v2/$GUN/_trust/tuf/targets/qa.json"
c "$URL/v2/$GUN/_trust/tuf/99.root.json"
c "$URL/v2/$GUN/_trust/tuf/0.root.json"
c "$URL/v2/$GUN/_trust/tuf/TARGETS.json"
c "$URL/v2/$GUN/_trust/tuf/targets/Upper.json"
c "$URL/v2/$GUN/_trust/tuf/foo.json"
c -I "$URL/v2/$GUN/_trust/tuf/root.json"
c "$URL/v2/$GUN/_trust/tuf/"

mark "Server key endpoints: GET and POST snapshot.key / timestamp.key (existing GUN and a new GUN)"
c "$URL/v2/$GUN/_trust/tuf/timestamp.key"
c "$URL/v2/$GUN/_trust/tuf/snapshot.key"
c "$URL/v2/example.com/nokeys/_trust/tuf/timestamp.key"
c "$URL/v2/example.com/nokeys/_trust/tuf/timestamp.key"
c -X POST "$URL/v2/$GUN/_trust/tuf/snapshot.key"
c -X POST "$URL/v2/$GUN/_trust/tuf/timestamp.key"
c "$URL/v2/$GUN/_trust/tuf/root.key"
c -X POST "$URL/v2/$GUN/_trust/tuf/targets.key"

mark "Changefeed: global and per GUN, paging, parameter errors"
c "$URL/v2/_trust/changefeed?records=100"
c "$URL/v2/_trust/changefeed?records=3&change_id=2"
c "$URL/v2/_trust/changefeed?records=-2&change_id=-1"
c "$URL/v2/_trust/changefeed?records=0"
c "$URL/v2/$GUN/_trust/changefeed?records=2"
c "$URL/v2/example.com/unknown/_trust/changefeed?records=10"
c "$URL/v2/_trust/changefeed?records="
c "$URL/v2/_trust/changefeed?records=abc"
c "$URL/v2/_trust/changefeed?records=10&change_id=abc"
c "$URL/v2/_trust/changefeed?records=99999999999"

mark "Invalid uploads: error codes and INVALID_UPDATE detail shapes"
MD="$SRVDIR/probe"
dump_metadata "https://127.0.0.1:$P_SRV" "$GUN" "$MD" root targets snapshot timestamp
c -X POST -H 'Content-Type: application/json' --data '{}' "$URL/v2/$GUN/_trust/tuf/"
c -F "files=@$MD/targets.json;filename=" "$URL/v2/$GUN/_trust/tuf/"
c -F "files=@$MD/targets.json;filename=notarole" "$URL/v2/$GUN/_trust/tuf/"
printf 'not json' >"$MD/garbage"
c -F "files=@$MD/garbage;filename=targets" "$URL/v2/$GUN/_trust/tuf/"
c -F "files=@$MD/targets.json;filename=targets" "$URL/v2/example.com/noroot/_trust/tuf/"
c -F "files=@$MD/1.root.json;filename=root" "$URL/v2/$GUN/_trust/tuf/"
c -F "files=@$MD/targets.json;filename=targets" "$URL/v2/$GUN/_trust/tuf/"
c -F "files=@$MD/targets.json;filename=targets.json" "$URL/v2/$GUN/_trust/tuf/"
# one base64 character of the first signature changed (same length, still valid JSON)
sed -E 's/"sig":"A/"sig":"B/;t;s/"sig":"./"sig":"A/' "$MD/targets.json" >"$MD/targets.badsig.json"
c -F "files=@$MD/targets.badsig.json;filename=targets" "$URL/v2/$GUN/_trust/tuf/"
# the first snapshot, signed by the client's old snapshot key (rotated to the server since)
c -F "files=@$MD/2.snapshot.json;filename=snapshot" "$URL/v2/$GUN/_trust/tuf/"
# a delegation the parent no longer delegates to (targets/qa was removed)
curl -sf --cacert "$PKI/ca.crt" -o "$MD/qa.json" "https://127.0.0.1:$P_SRV/v2/$GUN/_trust/tuf/targets/qa.json"
c -F "files=@$MD/qa.json;filename=targets/qa" "$URL/v2/$GUN/_trust/tuf/"
# only a timestamp part: the uploaded timestamp is ignored and the server makes new snapshot/timestamp versions
c -F "files=@$MD/timestamp.json;filename=timestamp" "$URL/v2/$GUN/_trust/tuf/"
c "$URL/v2/$GUN/_trust/tuf/timestamp.json"
# ErrBadHierarchy: a second collection whose snapshot key stays with the client.
run init -p example.com/clientsnapshot
HD="$SRVDIR/probe-clientsnapshot"
dump_metadata "https://127.0.0.1:$P_SRV" example.com/clientsnapshot "$HD" root targets
c -F "files=@$HD/targets.json;filename=targets" "$URL/v2/example.com/clientsnapshot/_trust/tuf/"

mark "Client-managed snapshot collection example.com/clientsnapshot: add, use and remove its only delegation"
run delegation add example.com/clientsnapshot targets/tmp "$KD/releases.pem" --all-paths -p
run add example.com/clientsnapshot tmp-target "$TD/hello.txt" -r targets/tmp -p
run delegation remove example.com/clientsnapshot targets/tmp -y -p
CS="$REPO/tuf/testdata/v1/client-snapshot"
dump_metadata "https://127.0.0.1:$P_SRV" example.com/clientsnapshot "$CS/server" root targets snapshot timestamp targets/tmp
"$B/goldens" summarize -dir "$CS/server" -manifest "$CS/manifest.json" >"$WORK/cs-summary.md"
KCS="$REPO/keys/testdata/v1/client-snapshot"
rm -rf "$KCS"
mkdir -p "$KCS/private"
cp "$TRUST/private/"*.key "$KCS/private/"

# Root of another GUN (cert CN mismatch).
c -F "files=@$HD/root.json;filename=root" "$URL/v2/example.com/clientsnapshot2/_trust/tuf/"
# Root-only first upload (local, unpublished 'notary init'): "targets must be loaded first"?
run init example.com/rootonly
c -F "files=@$TRUST/tuf/example.com/rootonly/metadata/root.json;filename=root" "$URL/v2/example.com/rootonly/_trust/tuf/"
# root + targets + snapshot exactly as 'notary init' left them locally (versions 1)
c -F "files=@$TRUST/tuf/example.com/rootonly/metadata/root.json;filename=root" \
	-F "files=@$TRUST/tuf/example.com/rootonly/metadata/targets.json;filename=targets" \
	-F "files=@$TRUST/tuf/example.com/rootonly/metadata/snapshot.json;filename=snapshot" "$URL/v2/example.com/rootonly/_trust/tuf/"

mark "Delete a collection remotely (notary delete --remote), then the changefeed shows a deletion"
run init -p example.com/deleteme
run delete example.com/deleteme --remote
c "$URL/v2/example.com/deleteme/_trust/tuf/root.json"
c -X DELETE "$URL/v2/example.com/never-existed/_trust/tuf/"
c "$URL/v2/_trust/changefeed?records=-3&change_id=-1"
c "$URL/v2/example.com/deleteme/_trust/changefeed?records=10"

mark "Metrics endpoint"
c "$URL/metrics"

sed "s#$WORK#\$WORK#g" "$OUT" >"$GOLD/cli-output.txt"
stop PROXY
stop SRV

# ================================================================ 4. scenario "remote-signer"
log "scenario remote-signer: notary-signer on $P_SIGNER (mTLS), notary-server (unpatched) on $P_SRV2, proxy on $P_PROXY2"
RSDIR="$WORK/remote-signer"
mkdir -p "$RSDIR"
cat >"$RSDIR/signer.json" <<EOF
{
  "server": {"grpc_addr": "127.0.0.1:$P_SIGNER", "tls_cert_file": "$PKI/signer.crt", "tls_key_file": "$PKI/signer.key", "client_ca_file": "$PKI/ca.crt"},
  "logging": {"level": "debug"},
  "storage": {"backend": "memory"}
}
EOF
cat >"$RSDIR/server.json" <<EOF
{
  "server": {"http_addr": "127.0.0.1:$P_SRV2", "tls_cert_file": "$PKI/server.crt", "tls_key_file": "$PKI/server.key"},
  "trust_service": {"type": "remote", "hostname": "127.0.0.1", "port": "$P_SIGNER", "tls_ca_file": "$PKI/ca.crt",
                    "key_algorithm": "ecdsa", "tls_client_cert": "$PKI/client.crt", "tls_client_key": "$PKI/client.key"},
  "logging": {"level": "debug"},
  "storage": {"backend": "memory"}
}
EOF
start SIGNER "$RSDIR/signer.log" "$NOTARY_V070_SIGNER" -config "$RSDIR/signer.json"
wait_port "$P_SIGNER"
start SRV2 "$RSDIR/server.log" "$NOTARY_V070_SERVER" -config "$RSDIR/server.json"
wait_tls "127.0.0.1:$P_SRV2"
proxy_start "$P_SRV2" "$P_PROXY2" PROXY2
URL="https://127.0.0.1:$P_PROXY2"
GUN2=example.com/remote
TRUST="$RSDIR/trust"
OUT="$RSDIR/cli-output.txt"
: >"$OUT"

mark "Remote signer: health, init, server-managed snapshot (DCT-like), sha256-only target, timestamp rotation"
c "$URL/_notary_server/health"
run init -p "$GUN2"
run key rotate "$GUN2" snapshot -r
run addhash "$GUN2" latest 528 --sha256 "$(printf 'a manifest' | sha256sum | cut -d' ' -f1)" -p
run add "$GUN2" 'a&b<c>' "$TD/amp.txt" -p
run key rotate "$GUN2" timestamp -r
c "$URL/v2/$GUN2/_trust/tuf/snapshot.key"
c "$URL/v2/example.com/remote-new/_trust/tuf/snapshot.key"
c "$URL/v2/example.com/remote-new/_trust/tuf/snapshot.key"

mark "Unpatched v0.7.0 server built with Go >= 1.17: a delegation upload is rejected (INVALID_ROLE 'releases')"
run key generate ecdsa --role targets/releases -o "$RSDIR/releases"
REL2_ID=$("$B/goldens" keyid -pass goldenpassphrase "$RSDIR/releases-key.pem")
sed "/^role:/a path: $REL2_ID" "$RSDIR/releases-key.pem" >"$RSDIR/releases-key.import.pem"
run key import "$RSDIR/releases-key.import.pem"
run delegation add "$GUN2" targets/releases "$RSDIR/releases.pem" --all-paths -p
echo "\$ notary add $GUN2 r1 -r targets/releases -p   (expected to fail)" >>"$OUT"
if N add "$GUN2" r1 "$TD/release.txt" -r targets/releases -p >>"$OUT" 2>&1; then
	die "expected the unpatched server to reject the delegation upload"
fi
run reset "$GUN2" --all

log "dumping remote-signer metadata"
RSOUT="$REPO/tuf/testdata/v1/remote-signer"
dump_metadata "https://127.0.0.1:$P_SRV2" "$GUN2" "$RSOUT/server" root targets snapshot timestamp
"$B/goldens" summarize -dir "$RSOUT/server" -manifest "$RSOUT/manifest.json" >"$WORK/remote-summary.md"
N key list >"$WORK/remote-keylist.txt" 2>&1
KR="$REPO/keys/testdata/v1/remote-signer"
rm -rf "$KR"
mkdir -p "$KR/private"
cp "$TRUST/private/"*.key "$KR/private/"

mark "Remote signer stopped: health turns 503 at the next periodic check, and a publish fails"
stop SIGNER
sleep 11
c "$URL/_notary_server/health"
c "$URL/v2/example.com/remote-down/_trust/tuf/timestamp.key"
echo "\$ notary init -p example.com/remote-down   (signer down; expected to fail)" >>"$OUT"
N init -p example.com/remote-down >>"$OUT" 2>&1 && die "expected init to fail with the signer down"
sed "s#$WORK#\$WORK#g" "$OUT" >"$RSOUT/cli-output.txt"
stop PROXY2
stop SRV2

# ================================================================ 5. scenario "token-auth"
log "scenario token-auth: notary-server (unpatched) with auth.type=token on $P_SRV3, token server on $P_TOKEN"
TADIR="$WORK/token-auth"
mkdir -p "$TADIR"
cat >"$TADIR/server.json" <<EOF
{
  "server": {"http_addr": "127.0.0.1:$P_SRV3", "tls_cert_file": "$PKI/server.crt", "tls_key_file": "$PKI/server.key"},
  "trust_service": {"type": "local", "key_algorithm": "ecdsa"},
  "auth": {"type": "token", "options": {"realm": "https://127.0.0.1:$P_TOKEN/token", "service": "notary.example.com",
           "issuer": "auth.example.com", "rootcertbundle": "$PKI/ca.crt"}},
  "logging": {"level": "debug"},
  "storage": {"backend": "memory"}
}
EOF
start TOKEN "$TADIR/token.log" "$B/tokenserver" serve -listen "127.0.0.1:$P_TOKEN" -tls-cert "$PKI/server.crt" -tls-key "$PKI/server.key" \
	-sign-cert "$PKI/ca.crt" -sign-key "$PKI/ca.key" -issuer auth.example.com -log "$XLOG"
wait_port "$P_TOKEN"
start SRV3 "$TADIR/server.log" "$NOTARY_V070_SERVER" -config "$TADIR/server.json"
wait_tls "127.0.0.1:$P_SRV3"
proxy_start "$P_SRV3" "$P_PROXY" PROXY3
URL="https://127.0.0.1:$P_PROXY"
mint() { "$B/tokenserver" mint -sign-cert "$PKI/ca.crt" -sign-key "$PKI/ca.key" -issuer auth.example.com "$@"; }
mark "Token auth: challenges per route (no token)"
c "$URL/v2/"
c "$URL/_notary_server/health"
c "$URL/v2/example.com/foo/_trust/tuf/root.json"
c -F "files=@$MD/targets.json;filename=targets" "$URL/v2/example.com/foo/_trust/tuf/"
c "$URL/v2/example.com/foo/_trust/tuf/timestamp.key"
c -X POST "$URL/v2/example.com/foo/_trust/tuf/timestamp.key"
c -X DELETE "$URL/v2/example.com/foo/_trust/tuf/"
c "$URL/v2/example.com/foo/_trust/changefeed?records=10"
c "$URL/v2/_trust/changefeed?records=10"
c "$URL/metrics"
mark "Token auth: invalid and insufficient tokens (tokens minted by tools/cmd/tokenserver; Authorization values redacted here)"
c -H 'Authorization: Bearer not.a.jwt' "$URL/v2/example.com/foo/_trust/tuf/root.json"
c -H 'Authorization: Basic dXNlcjpwYXNz' "$URL/v2/example.com/foo/_trust/tuf/root.json"
PULL=$(mint -service notary.example.com -scope repository:example.com/foo:pull)
c -H "Authorization: Bearer $PULL" "$URL/v2/example.com/foo/_trust/tuf/root.json"
c -H "Authorization: Bearer $PULL" -F "files=@$MD/targets.json;filename=targets" "$URL/v2/example.com/foo/_trust/tuf/"
c -H "Authorization: Bearer $PULL" "$URL/v2/example.com/other/_trust/tuf/root.json"
c -H "Authorization: Bearer $(mint -service other.example.com -scope repository:example.com/foo:pull)" "$URL/v2/example.com/foo/_trust/tuf/root.json"
c -H "Authorization: Bearer $(mint -service notary.example.com -scope 'registry:catalog:*')" "$URL/v2/_trust/changefeed?records=10"
mark "Token auth: the v0.7.0 CLI publishes and lists through the token server (the token requests are recorded as [token server])"
TRUST="$TADIR/trust"
OUT="$TADIR/cli-output.txt"
: >"$OUT"
export NOTARY_AUTH=$(printf 'golden:notasecret' | base64) # basic credentials the CLI sends to the realm
run init -p example.com/foo
run add example.com/foo hello.txt "$TD/hello.txt" -p
run list example.com/foo
run key rotate example.com/foo snapshot -r
run delete example.com/foo --remote
unset NOTARY_AUTH
stop PROXY3
stop SRV3
stop TOKEN

# ================================================================ 6. transcript and READMEs
log "rendering transcript"
TT="$REPO/test/interop/testdata"
mkdir -p "$TT"
cat >"$WORK/intro.md" <<EOF
Generated by \`scripts/gen-goldens.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ) with upstream Notary v0.7.0
binaries built from \`tools/\` with $(go env GOVERSION) (\`scripts/install-peers.sh\`). Every exchange
went through \`tools/cmd/httplog\`, a recording reverse proxy between the client (upstream
\`notary\` CLI or curl) and the server, on 127.0.0.1 over TLS (throwaway CA).

- Scenario "golden": \`notary-server-patched\` (v0.7.0 + raw multipart filename, see
  docs/upstream-notes.md), \`trust_service.type: local\`, memory storage, no auth.
- Scenario "remote-signer": unpatched \`notary-server\` + \`notary-signer\` (mutual TLS, memory).
- Scenario "token-auth": unpatched \`notary-server\` with \`auth.type: token\` and \`tools/cmd/tokenserver\`
  as the realm (its requests are logged as \`[token server] ...\`; they did not pass through the proxy).

The proxy talks HTTP/1.1 to the server. Request lines starting with \`>\` are what the client
sent (only selected headers), \`<\` is the server's answer. Metadata bodies are abbreviated to
their length, sha256 and first bytes; error, key, changefeed and health bodies are shown in full.
Complete bodies (and all headers) are in \`http-exchanges.jsonl.gz\` next to this file (gzip of
JSON lines, one object per exchange or section marker; \`[]byte\` fields are base64; multipart
requests are split into \`parts\` with their headers, raw filename and body).
EOF
"$B/httplog" render -title "notary-server v0.7.0 HTTP transcript" -intro "$WORK/intro.md" "$XLOG" >"$TT/http-transcript.md"
rm -f "$TT/http-exchanges.jsonl"
gzip -9 -n -c "$XLOG" >"$TT/http-exchanges.jsonl.gz"

GEN_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
GOV=$(go env GOVERSION)
{
	cat <<EOF
# tuf/testdata/v1/golden

Produced by \`scripts/gen-goldens.sh\` on $GEN_DATE: the upstream Notary **v0.7.0** \`notary\` CLI
publishing to \`notary-server-patched\` (v0.7.0 with the raw multipart filename fix, see
docs/upstream-notes.md; \`trust_service.type: local\`, so the timestamp key, and after rotation
the snapshot key, are **ed25519** keys held by the server; memory storage), all built with $GOV from
\`tools/go.mod\`. Do not edit by hand; rerun the script.

- GUN: \`$GUN\`
- Passphrase for every private key (root, targets, snapshot, delegations): \`goldenpassphrase\`
- Private keys of the publisher's trust dir: \`keys/testdata/v1/golden/private/<canonical key ID>.key\`
- Expiries are real: root 10 years, targets/snapshot 3 years, **timestamp 14 days** from
  $GEN_DATE. Verify with an injected clock, e.g. the generation time above.

## Layout

- \`server/\`: every file as served under \`/v2/$GUN/_trust/tuf/\`: the current
  \`<role>.json\` and every stored version \`<version>.<role>.json\` (for a delegation the name
  is \`<version>.targets/releases.json\`, hence the \`1.targets/\` directories). The server also
  serves each of them as \`<role>.<sha256 hex>.json\` (hash-addressed); \`manifest.json\` lists
  every file with role, version, length, sha256, sha512 and that hash-addressed name.
  \`targets/qa\` was deleted as a delegation at the end: its files are still stored and served
  (memory storage serves the highest version), and the server-generated snapshot still lists
  it in \`meta\`; only \`targets.json\` no longer delegates to it.
- \`changelist/<step>/\`: the client's staged changelist files (\`<unix nanos>_<uuid>.change\`)
  copied just before the publish of that step.
- \`cli-output.txt\`: every CLI command run and its output.

## Steps

1. \`notary init -p\` (ecdsa root cert key, ecdsa targets and snapshot keys; timestamp key from the server).
2. Targets \`hello.txt\`, \`a&b<c>\`, \`ünïcødé/☃.txt\`, \`v1.0\` (with \`--custom\` \`{"build":7,"note":"x"}\`),
   \`empty\` (zero bytes), \`by-sha256-only\` (\`addhash\`, length 1234), \`by-sha512-only\` (\`addhash\`, length 42); publish.
3. Delegations \`targets/releases\` (ecdsa key from \`notary key generate ecdsa -o\`, all paths) and
   \`targets/qa\` (openssl self-signed ECDSA cert CN=targets/qa, paths \`qa/\`); publish.
4. \`release-1.0\` into \`targets/releases\`, \`qa/tool\` into \`targets/qa\`; publish.
5. \`notary witness targets/releases\`; publish.
6. \`key rotate snapshot -r\` (server-managed snapshot), then add \`after-server-snapshot\` with \`-p\`.
7. \`key rotate timestamp -r\`.
8. \`key rotate targets -k keys/testdata/v1/pem/ed25519.targets.enc.pem\` (targets now signed with **eddsa**).
9. \`key rotate root -k keys/testdata/v1/pem/rsa.root.enc.pem\` (root now an **rsa-x509** cert key; the old
   ecdsa-x509 root cert stays in \`keys\`; the new root is signed by both).
10. \`remove hello.txt\`, \`delegation remove targets/qa\`; publish.
11. \`key rotate root\` again (new ecdsa root key made by the CLI; signed by the RSA root and the new key).
    A consumer that cached root v1 after step 2 then walks \`2.root.json\` … to the newest root.

Notes: the first \`targets\` and \`snapshot\` the CLI publishes are **version 2** (\`notary init\`
signs version 1 locally, the publish signs again), so there is no \`1.targets.json\` or
\`1.snapshot.json\`. Keys rotated away are deleted from the publisher's trust dir by the CLI; the
original ecdsa root/targets/snapshot keys are in \`keys/testdata/v1/golden/private-after-init/\`.

## Final state (computed from \`server/\` with upstream's tuf/data and tuf/utils)

EOF
	cat "$WORK/golden-summary.md"
	echo "## \`notary list\` by a fresh consumer"
	echo
	echo '```'
	cat "$WORK/golden-list.txt"
	echo
	echo "\$ notary list $GUN -r targets/releases"
	cat "$WORK/golden-list-releases.txt"
	echo '```'
	echo
	echo "## Publisher \`notary key list\` and \`notary delegation list\`"
	echo
	echo '```'
	cat "$WORK/golden-keylist.txt"
	echo
	cat "$WORK/golden-delegations.txt"
	echo '```'
} >"$GOLD/README.md"

{
	cat <<EOF
# tuf/testdata/v1/client-snapshot

Produced by \`scripts/gen-goldens.sh\` on $GEN_DATE with the same binaries and server as
\`tuf/testdata/v1/golden\` (notary-server-patched, local signer, memory storage). GUN
\`example.com/clientsnapshot\`; passphrase \`goldenpassphrase\`; keys in
\`keys/testdata/v1/client-snapshot/private/\`.

Unlike \`golden\`, the **snapshot key stays with the client** (ecdsa, \`method: ecdsa\`), so every
snapshot here was signed by the upstream client. Steps: \`notary init -p\` (the CLI reuses the
trust dir's existing root key, so root.json's cert is over an existing key);
\`delegation add targets/tmp\` (the \`targets/releases\` ecdsa key of the golden scenario, all
paths) \`-p\`; \`add tmp-target -r targets/tmp -p\`; \`delegation remove targets/tmp -y -p\`, which
leaves \`targets.json\` with \`"delegations":{"keys":{},"roles":null}\` (null, not []), and the
client-signed snapshot drops \`targets/tmp\` from \`meta\` (a server-signed one keeps it; see golden).
Timestamp expires 14 days after $GEN_DATE.

## Final state

EOF
	cat "$WORK/cs-summary.md"
} >"$CS/README.md"

{
	cat <<EOF
# tuf/testdata/v1/remote-signer

Produced by \`scripts/gen-goldens.sh\` on $GEN_DATE: upstream Notary **v0.7.0** \`notary\` CLI
publishing to the **unpatched** v0.7.0 \`notary-server\` using a v0.7.0 \`notary-signer\` over mutual
TLS (\`trust_service.type: remote\`, \`key_algorithm: ecdsa\`, memory storage on both), all built
with $GOV from \`tools/go.mod\`. Server timestamp/snapshot keys are therefore **ecdsa**.

- GUN: \`$GUN2\`; passphrase for every client key: \`goldenpassphrase\`
- Client private keys: \`keys/testdata/v1/remote-signer/private/\`
- Timestamp expires 14 days after $GEN_DATE.

Steps: \`init -p\`; \`key rotate snapshot -r\` (DCT-like server-managed snapshot); \`addhash latest 528
--sha256 …\` (sha256-only target, like a DCT push) with \`-p\`; \`add 'a&b<c>'\` with \`-p\`; \`key rotate
timestamp -r\`; a delegation \`targets/releases\` was added and published (parent \`targets\` only),
but publishing a target into it was rejected by the unpatched server (\`400 INVALID_ROLE
"releases"\`), and the change was reset. See \`cli-output.txt\` and docs/upstream-notes.md.

## Final state

EOF
	cat "$WORK/remote-summary.md"
	echo "## Publisher \`notary key list\`"
	echo
	echo '```'
	cat "$WORK/remote-keylist.txt"
	echo '```'
} >"$RSOUT/README.md"

{
	cat <<EOF
# keys/testdata/v1

Private and public key material produced by upstream Notary v0.7.0 code. Passphrase everywhere:
\`goldenpassphrase\`. Regenerate with \`scripts/gen-goldens.sh\` (do not edit by hand).

- \`keyids.json\`: fixed keys (\`tools/cmd/goldens/inputs\`, stable across runs): public key JSON,
  TUF key ID and canonical key ID for ed25519, ecdsa, rsa, ecdsa-x509, rsa-x509, an ecdsa-x509 chain,
  the fact-sheet example and an unknown key type. Computed with upstream \`tuf/data\` + \`tuf/utils\`.
- \`pem/\` + \`pems.json\`: the same fixed keys written by upstream
  \`utils.ConvertPrivateKeyToPKCS8\` (encrypted with role root / role targets+gun / delegation role,
  and unencrypted), plus legacy \`EC/RSA/ED25519 PRIVATE KEY\` blocks (plain and RFC 1423
  AES-256-CBC). \`pems.json\` records what upstream \`utils.ParsePEMPrivateKey\` returns with the
  right, a wrong and an empty passphrase, and \`ExtractPrivateKeyAttributes\`. Encrypted bytes
  change every run (random salt/IV); the key IDs do not.
- \`signatures.json\`: signatures by upstream \`data.PrivateKey.Sign\` for each key type over fixed
  messages, plus negative/edge vectors, each with upstream \`signed.Verifiers[method].Verify\`'s verdict.
- \`golden/private-after-init/\`: the publisher trust dir's keys right after \`notary init -p\` in the
  \`tuf/testdata/v1/golden\` scenario (ecdsa root, targets and snapshot keys; they signed
  \`1.root.json\`, \`2.targets.json\`, \`2.snapshot.json\`), written by the v0.7.0 CLI
  (\`<canonical key ID>.key\`, encrypted PKCS#8 with role/gun headers).
- \`golden/private/\`: the same trust dir at the end of the scenario (the CLI deletes keys it rotated
  away; the current targets key is the fixed ed25519 key and the RSA root key is the fixed rsa key,
  both re-encrypted by the CLI). \`golden/delegation-inputs/\`: the delegation key files given to
  the CLI (\`releases.pem\`/\`releases-key.pem\` from \`notary key generate ecdsa -o\`, \`qa.crt\`/\`qa.key\`
  from openssl).
- \`client-snapshot/private/\`: the same publisher trust dir when \`tuf/testdata/v1/client-snapshot\` was
  captured (it also holds the golden GUN's keys; the collection's own are the \`example.com/clientsnapshot\`
  targets/snapshot keys, the root key the CLI picked, and the \`targets/releases\` key reused as \`targets/tmp\`).
- \`remote-signer/private/\`: the publisher keys of the \`tuf/testdata/v1/remote-signer\` scenario.

Fixed key IDs (TUF = canonical for non-x509):

| key | keytype | TUF ID | canonical ID |
|---|---|---|---|
EOF
	"$B/goldens" keyids-md "$REPO/keys/testdata/v1/keyids.json"
	echo
	for d in golden/private-after-init golden/private client-snapshot/private remote-signer/private; do
		echo "## $d"
		echo
		"$B/goldens" pemlist "$REPO/keys/testdata/v1/$d"
		echo
	done
} >"$REPO/keys/testdata/v1/README.md"

log "done"
log "  tuf/testdata/v1/{golden,remote-signer}, keys/testdata/v1, canonicaljson/testdata, test/interop/testdata"
