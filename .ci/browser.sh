#!/usr/bin/env bash
# Install what the browser test drives: Debian's Chromium and, for the test
# script, playwright-core from the npm registry (no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2
fi
(cd crates/lantian/tests/browser && npm ci --no-audit --no-fund) >&2
/usr/bin/chromium --version >&2
