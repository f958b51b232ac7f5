#!/usr/bin/env bash
# The Python package and the Spark job, as CI runs them (.ci/run): build the
# wheel from this checkout with the dev profile (sharing `cargo test`'s
# artifacts), install it in a fresh virtualenv with its test dependencies,
# then pytest: the binding against the core's unit vectors and the CLI, and
# the Spark job on a standalone master with two workers on loopback.
# `ci.sh setup`: only make the virtualenv and install the test dependencies
# into $LANTIAN_VENV (.ci/provision.sh does it while Rust compiles). With
# LANTIAN_BIN set (to a CLI already built, as .ci/run does with the one
# `cargo test` built), the CLI is not built again: `cargo build -p lantian`
# alone resolves other features than the workspace's test build and
# recompiled half the dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LANTIAN_VENV:-$(mktemp -d)/venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# pandas < 3: pyspark 4 warns on pandas 3 and does not support it fully yet.
"$VENV/bin/pip" install -q --disable-pip-version-check maturin 'pyarrow>=14' 'numpy>=1.22' 'pandas>=1.5,<3' pytest 'pyspark>=4,<5'
[ "${1:-}" = setup ] && exit 0
[ -n "${LANTIAN_BIN:-}" ] || cargo build --locked -p lantian
"$VENV/bin/maturin" build --locked --profile dev -m python/Cargo.toml -o "$VENV/wheels"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$VENV"/wheels/lantian-*.whl
PATH="$VENV/bin:$PATH" LANTIAN_TEST_SPARK=1 "$VENV/bin/python" -m pytest -q python/tests
