#!/usr/bin/env bash
# Everything the test suites fetch from the network, in one go: the Debian
# packages of postgres.sh, office.sh and browser.sh, the browser test's npm
# packages, and the Python test environment of python/ci.sh (into
# $LANTIAN_VENV). .ci/run starts it in the background while the Rust code is
# checked and built: downloading and unpacking hundreds of MB (LibreOffice,
# Chromium, PySpark) then overlaps the compiling instead of following it.
# Each script installs only what is missing, so this is a no-op on a
# machine that has it all, and the scripts still work alone.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LANTIAN_VENV:?the virtualenv to make (python/ci.sh setup)}"
# pip beside apt-get; the apt-get scripts one at a time (dpkg's lock).
bash python/ci.sh setup &
python=$!
bash .ci/postgres.sh install
bash .ci/office.sh install
bash .ci/browser.sh install
wait "$python"
