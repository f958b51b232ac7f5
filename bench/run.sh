#!/usr/bin/env bash
# Whole-program benchmark: lantian against the pandas peer on the same
# national-size CNEMC input (the real 2019 Sichuan sample scaled up by
# bench/scale_sample.py). Figures go to docs/PERFORMANCE.md.
#
#   bench/run.sh [COPIES]        default 16 copies: ~1,700 stations x 364 days
#
# Env: BENCH_DIR (work folder, default /tmp/lantian-bench), PEERS (the peers
# folder with pandas_cnemc.py, default ../shared/peers), SKIP_PEER=1.
# Needs: python3 (+ pandas, numpy for the peer), GNU time (/usr/bin/time).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/lantian-bench}
PEERS=${PEERS:-$ROOT/../shared/peers}
COPIES=${1:-16}
mkdir -p "$WORK"
if [ ! -f "$WORK/national-$COPIES/stations.csv" ]; then
  python3 "$ROOT/bench/scale_sample.py" "$ROOT/sample" "$WORK/national-$COPIES" --copies "$COPIES"
fi
IN="$WORK/national-$COPIES"
(cd "$ROOT" && cargo build --release --locked -p lantian)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@"
  printf '%-22s wall %-9s max RSS %6d MB\n' "$name" \
    "$(grep 'Elapsed (wall' "$WORK/$name.time" | awk '{print $NF}')" \
    "$(( $(grep 'Maximum resident' "$WORK/$name.time" | awk '{print $NF}') / 1024 ))"
}

echo "input: $(ls "$IN/sites" | wc -l) files, $(head -1 "$IN/sites/$(ls "$IN/sites" | head -1)" | tr ',' '\n' | tail -n +4 | wc -l) stations, $(du -sh "$IN/sites" | cut -f1)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)"
rm -rf "$WORK/data"
measure lantian-import "$BIN" --data "$WORK/data" import "$IN" 2> "$WORK/import.log"
measure lantian-assess sh -c "'$BIN' --data '$WORK/data' assess --from 2019-01-01 --to 2019-12-31 --format csv > '$WORK/lantian_assess.csv'"
measure lantian-reimport "$BIN" --data "$WORK/data" import "$IN" 2> "$WORK/reimport.log"
if [ -z "${SKIP_PEER:-}" ] && python3 -c "import pandas" 2>/dev/null; then
  measure pandas-peer python3 "$PEERS/pandas_cnemc.py" "$IN/sites" "$IN/stations.csv" "$WORK/pandas_assess.csv"
else
  echo "pandas peer skipped (SKIP_PEER set or pandas missing: pip install pandas numpy)"
fi
