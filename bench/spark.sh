#!/usr/bin/env bash
# The Spark job against the single binary on the same files (docs/SCALE.md):
# `lantian import` + `lantian assess` of a year, then
# `python -m lantian.spark assess` on a standalone cluster of 1 and of 2
# workers (loopback, python/scripts/spark-cluster.sh), each output compared
# byte for byte with the binary's.
#
#   bench/spark.sh SITES_DIR STATION_LIST FROM TO
#
# e.g. bench/spark.sh /path/to/national2019 ../shared/data/national_stations_2022.02.13.csv 2019-01-01 2019-12-31
# Env: BENCH_DIR (default /tmp/lantian-spark-bench), WORKER_MEMORY (default 4g),
# WORKERS (default "1 2"). Needs the lantian package installed (pip install
# './python[spark]') and GNU time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SITES=$(cd "${1:?SITES_DIR}" && pwd)
STATIONS=$(cd "$(dirname "${2:?STATION_LIST}")" && pwd)/$(basename "$2")
FROM=${3:?FROM} TO=${4:?TO}
WORK=${BENCH_DIR:-/tmp/lantian-spark-bench}
mkdir -p "$WORK"
(cd "$ROOT" && cargo build --release --locked -p lantian)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"
echo "input: $(ls "$SITES" | wc -l) files, $(du -shL "$SITES" | cut -f1); machine: $(nproc) cores"
cat "$SITES"/* > /dev/null
t() { local what=$1; shift; /usr/bin/time -f "$what: %e s wall, %U s user, %M KB peak" "$@"; }
rm -rf "$WORK/data"
echo "== lantian binary: import + assess"
t import sh -c "'$BIN' --data '$WORK/data' import '$STATIONS' '$SITES' > '$WORK/import.log' 2>&1"
t assess sh -c "'$BIN' --data '$WORK/data' --values raw --dust included --format csv assess --from $FROM --to $TO > '$WORK/binary.csv' 2>/dev/null"
for n in ${WORKERS:-1 2}; do
  url=$(bash "$ROOT/python/scripts/spark-cluster.sh" start "$n" 1 "${WORKER_MEMORY:-4g}")
  rm -rf "$WORK/out-$n"
  echo "== Spark, $n worker(s) × 1 core ($url)"
  t spark python3 -m lantian.spark assess --master "$url" --input "$SITES" --stations "$STATIONS" \
    --from "$FROM" --to "$TO" --out "$WORK/out-$n" 2> >(tr '\r' '\n' | grep -v -e WARN -e '^\[Stage' -e '^ *$' >&2)
  bash "$ROOT/python/scripts/spark-cluster.sh" stop
  if cmp -s "$WORK/binary.csv" "$WORK/out-$n/assess.csv"; then
    echo "assess.csv identical to the binary's ($(($(wc -l < "$WORK/binary.csv") - 1)) areas)"
  else
    echo "assess.csv DIFFERS from the binary's"; exit 1
  fi
done
