#!/usr/bin/env bash
# bench/bulk.sh: wall time of staging and publishing many targets in one
# process ("notary addhash GUN --from-file LIST -p") against our server
# (memory storage, local signer, plain HTTP on loopback), and of staging
# to disk then publishing separately, RUNS times each; prints the times
# and their medians.
#
#   N=10000 RUNS=5 bench/bulk.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
N=${N:-10000}
RUNS=${RUNS:-5}
tmp=$(mktemp -d /tmp/notary-bulk.XXXXXX)
spid=
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/notary" ./cmd/notary
go build -o "$tmp/notary-server" ./cmd/notary-server
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$tmp/cfg.json" <<J
{"server":{"http_addr":"127.0.0.1:$port"},"trust_service":{"type":"local","key_algorithm":"ecdsa"},"storage":{"backend":"memory"},"logging":{"level":"error"}}
J
NOTARY_SERVER_KEY_PASSPHRASE=bench "$tmp/notary-server" -config "$tmp/cfg.json" >"$tmp/srv.log" 2>&1 &
spid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_notary_server/health" >/dev/null && break; sleep 0.1; done
python3 -c "
import hashlib
for i in range($N): print('releases/%d/app.tar.gz %d %s' % (i, i, hashlib.sha256(str(i).encode()).hexdigest()))" >"$tmp/list.txt"
export HOME=$tmp NOTARY_ROOT_PASSPHRASE=bench-root NOTARY_TARGETS_PASSPHRASE=bench-targets NOTARY_SNAPSHOT_PASSPHRASE=bench-snapshot
now() { date +%s.%N; }
for run in $(seq "$RUNS"); do
	gun=example.com/bulk/$run
	cli=("$tmp/notary" -d "$tmp/trust" -s "http://127.0.0.1:$port")
	"${cli[@]}" init -p "$gun" >/dev/null
	sync
	s=$(now); "${cli[@]}" addhash "$gun" --from-file "$tmp/list.txt" -p >/dev/null; e=$(now)
	echo "together $(python3 -c "print(f'{$e-$s:.3f}')")"
	gun=$gun-staged
	"${cli[@]}" init -p "$gun" >/dev/null
	sync
	s=$(now); "${cli[@]}" addhash "$gun" --from-file "$tmp/list.txt" >/dev/null; m=$(now)
	"${cli[@]}" publish "$gun" >/dev/null; e=$(now)
	echo "stage $(python3 -c "print(f'{$m-$s:.3f}')")"
	echo "publish $(python3 -c "print(f'{$e-$m:.3f}')")"
done | tee "$tmp/times"
python3 - "$tmp/times" "$N" "$RUNS" <<'PY'
import sys, statistics, collections
d = collections.defaultdict(list)
for l in open(sys.argv[1]):
    k, v = l.split(); d[k].append(float(v))
print(f"{sys.argv[2]} targets, median of {sys.argv[3]} runs, load {open('/proc/loadavg').read().split()[0]}:")
print(f"  addhash --from-file -p (stage and publish, one process): {statistics.median(d['together']):.2f} s")
print(f"  addhash --from-file (stage to the trust directory):       {statistics.median(d['stage']):.2f} s")
print(f"  publish of those staged targets:                          {statistics.median(d['publish']):.2f} s")
PY
