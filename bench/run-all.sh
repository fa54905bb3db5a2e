#!/usr/bin/env bash
# bench/run-all.sh: GET throughput of our notary-server (memory and
# SQLite) against nginx serving the very same metadata bytes as static
# files, and against Notary v0.7.0's notary-server, with wrk -t2 -c32.
# Writes bench/reads.md (medians of several runs, machine load, ratios).
#
#   bench/run-all.sh                      # RUNS=5 DURATION=5s
#   RUNS=3 DURATION=5s BEFORE=main bench/run-all.sh
#
# Environment: RUNS, DURATION (wrk -d), NOTARY_V1_BIN (directory with the
# v0.7.0 notary-server; skipped when absent), BEFORE (a git revision whose
# notary-server is also measured, e.g. "main"), OUT (default
# bench/reads.md). Installs nginx and wrk from Debian when missing.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
V1BIN=${NOTARY_V1_BIN:-.tools/bin}
OUT=${OUT:-bench/reads.md}
GUN=example.com/bench/reads
NTARGETS=1000

need() {
	command -v nginx >/dev/null && command -v wrk >/dev/null && return
	apt-get install -y nginx wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y nginx wrk >/dev/null; }
}
need
NGINX=$(command -v nginx)

tmp=$(mktemp -d /tmp/notary-reads.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

echo "building" >&2
go build -o "$tmp/notary" ./cmd/notary
go build -o "$tmp/ours-server" ./cmd/notary-server
if [ -n "${BEFORE:-}" ]; then
	mkdir -p "$tmp/before-src"
	git archive "$BEFORE" | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/before-server" ./cmd/notary-server)
fi

# start NAME BIN STORAGE: runs a server, sets URL_<NAME>.
declare -A URL
start() {
	local name=$1 bin=$2 storage=$3 dir="$tmp/$1" port
	mkdir -p "$dir"
	port=$(freeport)
	local st="{\"backend\":\"memory\"}"
	[ "$storage" = sqlite3 ] && st="{\"backend\":\"sqlite3\",\"db_url\":\"$dir/server.db\"}"
	cat >"$dir/config.json" <<J
{"server":{"http_addr":"127.0.0.1:$port"},"trust_service":{"type":"local","key_algorithm":"ecdsa"},"storage":$st,"logging":{"level":"error"}}
J
	(cd "$dir" && NOTARY_SERVER_KEY_PASSPHRASE=bench exec "$bin" -config "$dir/config.json" >"$dir/log" 2>&1) &
	pids+=($!)
	URL[$name]="http://127.0.0.1:$port"
	for _ in $(seq 200); do
		curl -sf "${URL[$name]}/_notary_server/health" >/dev/null && return
		sleep 0.1
	done
	echo "$name did not start:" >&2; cat "$dir/log" >&2; exit 1
}

# seed NAME: one collection with NTARGETS targets, published by our CLI.
python3 -c "
import hashlib
for i in range($NTARGETS): print('releases/%04d/app.tar.gz %d %s' % (i, 1000+i, hashlib.sha256(str(i).encode()).hexdigest()))" >"$tmp/targets.txt"
seed() {
	local name=$1
	local env=(HOME="$tmp/$name" NOTARY_ROOT_PASSPHRASE=bench-root NOTARY_TARGETS_PASSPHRASE=bench-targets NOTARY_SNAPSHOT_PASSPHRASE=bench-snapshot)
	local cli=("$tmp/notary" -d "$tmp/$name/trust" -s "${URL[$name]}")
	env "${env[@]}" "${cli[@]}" init -p "$GUN" >/dev/null
	env "${env[@]}" "${cli[@]}" addhash "$GUN" --from-file "$tmp/targets.txt" -p >/dev/null
}

servers=(ours-memory ours-sqlite)
start ours-memory "$tmp/ours-server" memory
start ours-sqlite "$tmp/ours-server" sqlite3
if [ -n "${BEFORE:-}" ]; then
	start before-sqlite "$tmp/before-server" sqlite3
	servers+=(before-sqlite)
fi
if [ -x "$V1BIN/notary-server" ]; then
	start v0.7.0-memory "$(cd "$V1BIN" && pwd)/notary-server" memory
	servers+=(v0.7.0-memory)
fi
for s in "${servers[@]}"; do seed "$s"; done

# nginx serves the bytes ours (SQLite) serves, at the same paths.
meta=/v2/$GUN/_trust/tuf
mkdir -p "$tmp/www$meta" "$tmp/nginx/logs"
for f in timestamp targets; do
	curl -sf "${URL[ours-sqlite]}$meta/$f.json" -o "$tmp/www$meta/$f.json"
done
chmod -R a+rX "$tmp/www"
nport=$(freeport)
cat >"$tmp/nginx/nginx.conf" <<N
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$nport; root $tmp/www; }
}
N
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
URL[nginx]="http://127.0.0.1:$nport"
for _ in $(seq 100); do curl -sf "${URL[nginx]}$meta/timestamp.json" >/dev/null && break; sleep 0.1; done
servers+=(nginx)

tsize=$(stat -c %s "$tmp/www$meta/timestamp.json")
gsize=$(stat -c %s "$tmp/www$meta/targets.json")
plain=$(curl -s -o /dev/null -w '%{size_download}' "${URL[ours-sqlite]}$meta/targets.json")
gz=$(curl -s --compressed -o /dev/null -w '%{size_download}' "${URL[ours-sqlite]}$meta/targets.json")

# Runs: every run measures every server and file, in rotating order.
results="$tmp/results.tsv"
: >"$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
	n=${#servers[@]}
	for i in $(seq 0 $((n - 1))); do
		s=${servers[$(((i + run) % n))]}
		for f in timestamp targets; do
			out=$(wrk -t2 -c32 -d"$DURATION" --latency "${URL[$s]}$meta/$f.json")
			rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
			p99=$(awk '$1=="99%" {print $2}' <<<"$out")
			errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
			load=$(cut -d' ' -f1 /proc/loadavg)
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$s" "$f" "$rps" "$p99" "$load" "$errs" >>"$results"
			printf 'run %s %-14s %-9s %10s req/s  p99 %8s  load %s %s\n' "$run" "$s" "$f" "$rps" "$p99" "$load" "$errs" >&2
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$results" "$OUT" "$RUNS" "$DURATION" "$tsize" "$gsize" "$plain" "$gz" "$load_before" "$load_after" "$(nproc)" "$(date -u +%Y-%m-%d)" "${BEFORE:-}" "$(nginx -v 2>&1 | sed 's/.*: //')" <<'PY'
import sys, statistics, collections
(res, out, runs, dur, tsize, gsize, plain, gz, lb, la, ncpu, day, before, ngv) = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(res)]
def ms(s):
    for suf, f in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if s.endswith(suf):
            return float(s[: -len(suf)]) * f
    return float("nan")
rps = collections.defaultdict(list); p99 = collections.defaultdict(list); loads = []
errors = [r for r in rows if r[6].strip()]
for r in rows:
    rps[(r[1], r[2])].append(float(r[3])); p99[(r[1], r[2])].append(ms(r[4])); loads.append(float(r[5]))
servers = []
for r in rows:
    if r[1] not in servers: servers.append(r[1])
med = lambda xs: statistics.median(xs)
names = {"ours-memory": "ours (memory)", "ours-sqlite": "ours (SQLite, default)", "before-sqlite": f"before: {before} (SQLite)", "v0.7.0-memory": "v0.7.0 (memory)", "nginx": "nginx (static files)"}
files = {"timestamp": f"timestamp.json ({tsize} B)", "targets": f"targets.json, 1,000 targets ({int(gsize):,} B)"}
L = []
L.append("# Reads: ours vs nginx (static files) vs Notary v0.7.0\n")
L.append("One command measures it all (installs nginx and wrk from Debian if missing, builds our")
L.append("server and CLI, seeds one collection of 1,000 targets on every server with our CLI, has")
L.append("nginx serve the bytes our SQLite server serves as static files at the same URLs, then")
L.append("runs `wrk -t2 -c32 --latency` against each server and file, in rotating order):\n")
L.append("```sh\nRUNS=%s DURATION=%s%s bench/run-all.sh\n```\n" % (runs, dur, f" BEFORE={before}" if before else ""))
L.append(f"Median of {runs} runs of {dur} each; {day}; {ncpu} CPUs; nginx {ngv} (worker_processes auto,")
L.append(f"sendfile on, keepalive_requests 1000000, gzip off). wrk sends no Accept-Encoding, so every")
L.append(f"server answers with the plain bytes. Machine load (1-minute average) during the runs:")
L.append(f"{min(loads):.1f} to {max(loads):.1f} (before: {lb}; after: {la}); the machine is shared, so single runs vary.\n")
L.append("| GET | " + " | ".join(names.get(s, s) + " req/s (p99)" for s in servers) + " |")
L.append("|---|" + "---:|" * len(servers))
for f in ("timestamp", "targets"):
    cells = ["%s (%.1f ms)" % (f"{med(rps[(s,f)]):,.0f}", med(p99[(s,f)])) for s in servers]
    L.append(f"| {files[f]} | " + " | ".join(cells) + " |")
L.append("")
L.append("| ratio (medians) | " + " | ".join(files[f] for f in ("timestamp", "targets")) + " |")
L.append("|---|---:|---:|")
def ratio(a, b, f):
    return med(rps[(a,f)]) / med(rps[(b,f)]) if (a,f) in rps and (b,f) in rps else None
pairs = [("ours-memory","nginx"),("ours-sqlite","nginx"),("ours-memory","v0.7.0-memory"),("ours-sqlite","v0.7.0-memory"),("ours-sqlite","before-sqlite")]
for a, b in pairs:
    rs = [ratio(a, b, f) for f in ("timestamp","targets")]
    if None in rs: continue
    L.append(f"| {names[a]} ÷ {names[b]} | " + " | ".join(f"{r:.2f}" for r in rs) + " |")
L.append("")
L.append(f"Compressed responses (`curl --compressed`, targets.json of 1,000 targets from ours): {int(plain):,} B")
L.append(f"plain, {int(gz):,} B gzipped ({100*int(gz)/int(plain):.0f}%). Go's HTTP client, hence both notary")
L.append("clients and Docker, asks for gzip by default; wrk and nginx above do not use it.\n")
if errors:
    L.append("Errors reported by wrk: " + "; ".join(f"run {r[0]} {r[1]} {r[2]}: {r[6]}" for r in errors) + "\n")
L.append("Per-run figures (run, server, file, req/s, p99, load):\n")
L.append("```")
for r in rows: L.append("\t".join(r[:6]))
L.append("```")
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L[:0]))
PY
echo "wrote $OUT" >&2
