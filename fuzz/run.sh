#!/usr/bin/env bash
# Run every fuzz target for a fixed time (seconds, default 60) from its seed
# corpus; findings land in fuzz/artifacts/<target>/. Needs `cargo install
# cargo-fuzz`; on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use -Z flags.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
for t in $(cargo fuzz list); do
  work=$(mktemp -d)
  cp corpus/"$t"/* "$work"/
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "$work" -- -max_total_time="$secs" 2>&1 | grep -E "^#[0-9]+ +DONE|Done|crash|ERROR" || true
  rm -rf "$work"
done
