#!/usr/bin/env bash
# Install what the browser test drives: Debian's Chromium and, for the test
# script, playwright-core from the npm registry (no browser download).
# `browser.sh install`: only install (.ci/provision.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2
fi
# `npm ls` fails when the lock file's packages are not the ones installed.
(cd crates/lantian/tests/browser && { npm ls --all >/dev/null 2>&1 || npm ci --no-audit --no-fund; }) >&2
[ "${1:-}" = install ] && exit 0
/usr/bin/chromium --version >&2
