#!/usr/bin/env bash
# The dashboard under a burst of users, on the demo data, release build,
# client and server on the same two cores (docs/PERFORMANCE.md):
#  1. `cargo bench --bench web_load`: 200 clients start at once on a fresh
#     server and open pages at random for 60 s (every city's page for three
#     years, the overview of months, quarters and years, tasks, actions):
#     latency of the cold requests (page not yet computed) and of the warm
#     ones, errors, the server's peak memory and threads, exit after SIGTERM.
#  2. wrk (Debian package) on the same mix once warm, 200 connections, 60 s,
#     for its latency distribution.
#   bench/web-load.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-60}
CONNS=${2:-200}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
(cd "$ROOT" && LOAD_SECS=$SECS LOAD_CLIENTS=$CONNS cargo bench --locked -p lantian --bench web_load)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"
WORK=$(mktemp -d)
cd "$WORK"
"$BIN" demo --no-serve --sample "$ROOT/sample" >/dev/null 2>&1
"$BIN" --data lantian-demo-data policy run --period month:2019-07 >/dev/null 2>&1
"$BIN" --data lantian-demo-data user add load --role viewer --password load-password >/dev/null 2>&1
"$BIN" --data lantian-demo-data serve --addr 127.0.0.1:18090 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18090/ && break; sleep 0.1; done
COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"load","password":"load-password"}' http://127.0.0.1:18090/api/login \
  | grep -i '^set-cookie' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
export COOKIE URLS="$WORK/urls.txt"
python3 "$ROOT/bench/web_urls.py" > "$URLS"
# Warm every page once, then measure.
while read -r u; do curl -s -o /dev/null -H "Cookie: $COOKIE" "http://127.0.0.1:18090$u"; done < "$URLS"
wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$ROOT/bench/web-mixed.lua" http://127.0.0.1:18090
