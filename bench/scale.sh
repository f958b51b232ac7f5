#!/usr/bin/env bash
# Scale benchmark: how import, assess, rank and the overview API grow with
# the number of stations (1, 4, 8, 16 copies of the real Sichuan 2019 files:
# ~105 to ~1,700 stations, one year) and with the years kept (1 to 10 years
# of the national-size input, imported year by year into one store). The
# pandas peer is run on the same inputs up to PEER_MAX_COPIES. Writes
# $BENCH_DIR/scale.tsv and docs/img/scale.svg (bench/scale_plot.py); the
# figures go to docs/PERFORMANCE.md.
#
#   bench/scale.sh            env: BENCH_DIR (default /tmp/lantian-bench),
#                             PARTS (default "stations years peer-years"),
#                             YEARS (default 10), PEER_MAX_COPIES (default 16;
#                             the peer takes ~6 min and 11 GB at 16),
#                             SKIP_PEER=1, PEERS (default ../shared/peers)
# Needs python3, GNU time (/usr/bin/time), curl; the 10-year input takes
# ~6 GB of disk under BENCH_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/lantian-bench}
PEERS=${PEERS:-$ROOT/../shared/peers}
YEARS=${YEARS:-10}
PEER_MAX_COPIES=${PEER_MAX_COPIES:-16}
mkdir -p "$WORK"
(cd "$ROOT" && cargo build --release --locked -p lantian)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/lantian"
OUT="$WORK/scale.tsv"
PARTS=${PARTS:-stations years peer-years}
# Rows of a part are replaced when it is run again.
if [ -f "$OUT" ]; then
  for part in $PARTS; do grep -v "^$part	" "$OUT" > "$OUT.tmp" || true; mv "$OUT.tmp" "$OUT"; done
else
  printf 'series\tx\tjob\ttool\tseconds\tpeak_mb\n' > "$OUT"
fi

# measure SERIES X JOB TOOL command... : wall seconds and peak RSS into scale.tsv
measure() {
  local series=$1 x=$2 job=$3 tool=$4; shift 4
  /usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" > /dev/null 2> "$WORK/last.err" || {
    cat "$WORK/last.err" >&2
    return 1
  }
  read -r secs kb < "$WORK/last.time"
  printf '%s\t%s\t%s\t%s\t%s\t%d\n' "$series" "$x" "$job" "$tool" "$secs" $((kb / 1024)) | tee -a "$OUT"
}

input() { # copies -> folder with sites/ and stations.csv
  local dir="$WORK/national-$1"
  [ -f "$dir/stations.csv" ] || python3 "$ROOT/bench/scale_sample.py" "$ROOT/sample" "$dir" --copies "$1" >&2
  echo "$dir"
}

# The overview API: first request (computed) and the next (cached), in seconds.
overview() { # series x data-dir period-from period-to
  local series=$1 x=$2 data=$3 from=$4 to=$5 port=18931
  "$BIN" --data "$data" user add bench --role admin --password bench-password > /dev/null 2>&1 || true
  "$BIN" --data "$data" serve --addr "127.0.0.1:$port" > /dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s "127.0.0.1:$port/" > /dev/null && break; sleep 0.1; done
  local jar="$WORK/cookies"
  curl -s -c "$jar" -H 'Content-Type: application/json' -d '{"name":"bench","password":"bench-password"}' \
    "127.0.0.1:$port/api/login" > /dev/null
  local url="127.0.0.1:$port/api/overview?from=$from&to=$to"
  local cold warm
  cold=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$url")
  warm=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$url")
  local rss
  rss=$(awk '/VmHWM/{print int($2/1024)}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%s\t%s\toverview API (first)\tlantian\t%s\t%s\n' "$series" "$x" "$cold" "$rss" | tee -a "$OUT"
  printf '%s\t%s\toverview API (cached)\tlantian\t%s\t%s\n' "$series" "$x" "$warm" "$rss" | tee -a "$OUT"
}

# redate SRC DST YEAR: the 2019 files of SRC as YEAR's (29 February skipped).
redate() {
  python3 - "$1" "$2" "$3" <<'EOF'
import os, sys
src, dst, year = sys.argv[1], sys.argv[2], sys.argv[3].encode()
for name in sorted(os.listdir(src)):
    if name[12:16] != "2019" or (name[16:20] == "0229"):
        continue
    with open(os.path.join(src, name), "rb") as f:
        body = f.read()
    with open(os.path.join(dst, name.replace("2019", year.decode(), 1)), "wb") as f:
        f.write(body.replace(b"\n2019", b"\n" + year))
EOF
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)"

# 1. Stations: one year, 1..16 copies.
case " $PARTS " in *" stations "*) STATION_COPIES="1 4 8 16" ;; *) STATION_COPIES="" ;; esac
for c in $STATION_COPIES; do
  IN=$(input "$c")
  n=$(head -1 "$IN/sites/$(ls "$IN/sites" | head -1)" | tr ',' '\n' | tail -n +4 | wc -l)
  cat "$IN"/sites/* > /dev/null
  D="$WORK/data-s$c"
  rm -rf "$D"
  measure stations "$n" import lantian "$BIN" --data "$D" import "$IN"
  measure stations "$n" assess lantian "$BIN" --data "$D" assess --from 2019-01-01 --to 2019-12-31 --format csv
  measure stations "$n" rank lantian "$BIN" --data "$D" rank --from 2019-01-01 --to 2019-12-31 --format csv
  overview stations "$n" "$D" 2019-07-01 2019-07-31
  if [ -z "${SKIP_PEER:-}" ] && [ "$c" -le "$PEER_MAX_COPIES" ] && python3 -c "import pandas" 2>/dev/null; then
    measure stations "$n" "read + assess" pandas python3 "$PEERS/pandas_cnemc.py" "$IN/sites" "$IN/stations.csv" "$WORK/pandas-$c.csv"
  fi
done

# 2. Years: the national-size year re-dated to 2020-Y+1 .. 2019, imported one
#    year at a time into one store (the cost of a year's import must not grow
#    with the years already kept), then assessed.
case " $PARTS " in *" years "*) ;; *) YEARS=0 ;; esac
NAT=$(input 16)
D="$WORK/data-years"
rm -rf "$D"
first=$((2020 - YEARS))
for y in $(seq "$first" $((first + YEARS - 1))); do
  H="$WORK/history/$y"
  if [ ! -d "$H" ]; then
    mkdir -p "$H"
    redate "$NAT/sites" "$H" "$y"
    cp "$NAT/stations.csv" "$H/"
  fi
done
# Written files are flushed before anything is timed.
sync
for y in $(seq "$first" $((first + YEARS - 1))); do
  H="$WORK/history/$y"
  k=$((y - first + 1))
  # Inputs read from the page cache, as everywhere in this file (the host
  # reclaims cold pages: a year read from disk adds 1-3 s of waiting).
  cat "$H"/* > /dev/null
  measure years "$k" "import one more year" lantian "$BIN" --data "$D" import "$H"
  case $k in 1|2|5|10)
    measure years "$k" "assess the newest year" lantian "$BIN" --data "$D" assess --from "$y-01-01" --to "$y-12-31" --format csv
    measure years "$k" "assess all years" lantian "$BIN" --data "$D" assess --from "$first-01-01" --to "$y-12-31" --format csv
    measure years "$k" "rank by improvement" lantian "$BIN" --data "$D" rank --by improvement --from "$y-01-01" --to "$y-12-31" --format csv
    overview years "$k" "$D" "$y-07-01" "$y-07-31"
    echo "store after $k years: $(du -sh "$D" | cut -f1)"
    ;;
  esac
done
# 3. Years side by side with the peer, at the size it can hold: the real
#    Sichuan sample (104 stations) over 1, 2 and 5 years, imported and
#    assessed over the whole span by lantian, read and assessed by pandas.
case " $PARTS " in *" peer-years "*) PEER_YEARS="1 2 5" ;; *) PEER_YEARS="" ;; esac
SC=$(input 1)
for n in $PEER_YEARS; do
  P="$WORK/sichuan-years-$n"
  if [ ! -d "$P/sites" ]; then
    mkdir -p "$P/sites"
    for y in $(seq $((2020 - n)) 2019); do redate "$SC/sites" "$P/sites" "$y"; done
    cp "$SC/stations.csv" "$P/"
  fi
  sync
  cat "$P"/sites/* > /dev/null
  rm -rf "$WORK/data-py"
  measure sichuan-years "$n" "import" lantian "$BIN" --data "$WORK/data-py" import "$P"
  measure sichuan-years "$n" "assess all years" lantian "$BIN" --data "$WORK/data-py" assess --from "$((2020 - n))-01-01" --to 2019-12-31 --format csv
  if [ -z "${SKIP_PEER:-}" ] && python3 -c "import pandas" 2>/dev/null; then
    measure sichuan-years "$n" "read + assess all years" pandas python3 "$PEERS/pandas_cnemc.py" "$P/sites" "$P/stations.csv" "$WORK/pandas-years-$n.csv"
  fi
done
python3 "$ROOT/bench/scale_plot.py" "$OUT" "$ROOT/docs/img/scale.svg"
echo "wrote $OUT and docs/img/scale.svg"
