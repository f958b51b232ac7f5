#!/usr/bin/env bash
# Load on the dashboard's overview API: 200 concurrent clients for 60 s
# (wrk, Debian package) against `lantian serve` on the demo data, release
# build, same machine. Figures go to docs/PERFORMANCE.md.
#   bench/web-load.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-60}
CONNS=${2:-200}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
(cd "$ROOT" && cargo build --release --locked -p lantian)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"
WORK=$(mktemp -d)
cd "$WORK"
"$BIN" demo --no-serve --sample "$ROOT/sample" >/dev/null 2>&1
"$BIN" --data lantian-demo-data user add load --role viewer --password load-password >/dev/null 2>&1
"$BIN" --data lantian-demo-data serve --addr 127.0.0.1:18090 2>/dev/null &
PID=$!
trap 'kill $PID; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18090/ && break; sleep 0.1; done
COOKIE=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"load","password":"load-password"}' http://127.0.0.1:18090/api/login \
  | grep -i '^set-cookie' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Cookie: $COOKIE" \
  "http://127.0.0.1:18090/api/overview?from=2019-07-01&to=2019-07-31"
