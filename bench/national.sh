#!/usr/bin/env bash
# Whole-program benchmark on the REAL national 2019 year: lantian and the
# pandas peer on the same files in one run, and the ratio between them (a
# ratio from one run is the only figure that survives this shared
# machine's noise). Figures go to docs/PERFORMANCE.md.
#
#   bench/national.sh SITES_DIR [STATION_LIST]
#
# SITES_DIR: the 364 china_sites_2019*.csv files (../shared/tools/national2019.sh
# makes them); STATION_LIST defaults to ../shared/data/national_stations_2022.02.13.csv.
# Env: BENCH_DIR (work folder, default /tmp/lantian-national), RUNS (lantian
# runs of each job, default 3: the median is reported), SKIP_PEER=1,
# PEERS (default ../shared/peers). Needs python3 (+ pandas, numpy for the
# peer) and GNU time (/usr/bin/time).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SITES=$(cd "${1:?SITES_DIR with the national china_sites_2019*.csv files}" && pwd)
STATIONS=${2:-$ROOT/../shared/data/national_stations_2022.02.13.csv}
WORK=${BENCH_DIR:-/tmp/lantian-national}
PEERS=${PEERS:-$ROOT/../shared/peers}
RUNS=${RUNS:-3}
mkdir -p "$WORK/in"
ln -sfn "$SITES" "$WORK/in/sites"
cp "$STATIONS" "$WORK/in/stations.csv"
(cd "$ROOT" && cargo build --release --locked -p lantian)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"
RES="$WORK/results.tsv"
printf 'job\trun\tseconds\tuser_s\tpeak_mb\n' > "$RES"

# measure JOB RUN command... : wall, user CPU and peak RSS into results.tsv
measure() {
  local job=$1 run=$2; shift 2
  /usr/bin/time -f '%e %U %M' -o "$WORK/last.time" "$@" || { echo "$job failed" >&2; return 1; }
  read -r secs user kb < "$WORK/last.time"
  printf '%s\t%s\t%s\t%s\t%d\n' "$job" "$run" "$secs" "$user" $((kb / 1024)) | tee -a "$RES"
}
median() { # job -> median wall seconds
  awk -F'\t' -v j="$1" '$1==j {print $3}' "$RES" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
peak() { # job -> largest peak MB
  awk -F'\t' -v j="$1" '$1==j && $5>m {m=$5} END {print m}' "$RES"
}

echo "input: $(ls "$SITES" | wc -l) files, $(du -shL "$SITES" | cut -f1), station list $(($(wc -l < "$STATIONS") - 1)) stations"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)"
cat "$SITES"/* > /dev/null # both tools start from the page cache
sync # and from a quiet disk (the build's writes would land in the first run)
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/data"
  measure import "$run" sh -c "'$BIN' --data '$WORK/data' import '$WORK/in' > '$WORK/import.log' 2>&1"
  measure assess-year "$run" sh -c "'$BIN' --data '$WORK/data' assess --from 2019-01-01 --to 2019-12-31 --format csv > '$WORK/lantian_year.csv' 2> /dev/null"
  measure assess-month "$run" sh -c "'$BIN' --data '$WORK/data' assess --from 2019-03-01 --to 2019-03-31 --format csv > '$WORK/lantian_month.csv' 2> /dev/null"
done
measure reimport 1 sh -c "'$BIN' --data '$WORK/data' import '$WORK/in' > '$WORK/reimport.log' 2>&1"
echo "store: $(du -sh "$WORK/data/hourly" | cut -f1) of Parquet"
lantian=$(echo "$(median import) + $(median assess-year)" | bc -l)
printf 'lantian import + year assess (medians of %s runs): %.2f s, peak %s MB (import), %s MB (assess)\n' \
  "$RUNS" "$lantian" "$(peak import)" "$(peak assess-year)"
printf 'lantian month assess (median): %s s\n' "$(median assess-month)"
if [ -z "${SKIP_PEER:-}" ] && python3 -c "import pandas" 2>/dev/null; then
  measure pandas-peer 1 python3 "$PEERS/pandas_cnemc.py" "$SITES" "$STATIONS" "$WORK/pandas_year.csv"
  peer=$(median pandas-peer)
  printf 'pandas peer, read + assess: %s s, peak %s MB\n' "$peer" "$(peak pandas-peer)"
  printf 'ratio (end to end, same run): %.0fx faster, %.0fx less memory\n' \
    "$(echo "$peer / $lantian" | bc -l)" "$(echo "$(peak pandas-peer) / $(peak import)" | bc -l)"
else
  echo "pandas peer skipped (SKIP_PEER set or pandas missing: pip install pandas numpy)"
fi
