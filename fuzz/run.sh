#!/usr/bin/env bash
# Run every fuzz target (or the targets named after the budget) for a fixed
# time (seconds, default 60) from its seed corpus; findings land in
# fuzz/artifacts/<target>/. FUZZ_RUNS=N runs each target N executions
# instead (the budget recorded in docs/RELIABILITY.md: 1000000 for the
# parsers, 100000 for api_request). Needs `cargo install cargo-fuzz`; on a
# stable toolchain RUSTC_BOOTSTRAP=1 lets it use -Z flags.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=${*:-$(cargo fuzz list)}
for t in $targets; do
  work=$(mktemp -d)
  cp corpus/"$t"/* "$work"/
  if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS"); else budget=(-max_total_time="$secs"); fi
  start=$(date +%s)
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "$work" -- "${budget[@]}" 2>&1 | grep -E "^#[0-9]+ +DONE|Done|crash|ERROR" || true
  echo "$t: $(( $(date +%s) - start )) s"
  rm -rf "$work"
done
