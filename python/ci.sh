#!/usr/bin/env bash
# The Python package and the Spark job, as CI runs them (.ci/run): build the
# wheel from this checkout with the dev profile (sharing `cargo test`'s
# artifacts), install it in a fresh virtualenv with its test dependencies,
# then pytest: the binding against the core's unit vectors and the CLI, and
# the Spark job on a standalone master with two workers on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LANTIAN_VENV:-$(mktemp -d)/venv}
python3 -m venv "$VENV"
# pandas < 3: pyspark 4 warns on pandas 3 and does not support it fully yet.
"$VENV/bin/pip" install -q --disable-pip-version-check maturin 'pyarrow>=14' 'numpy>=1.22' 'pandas>=1.5,<3' pytest 'pyspark>=4,<5'
cargo build --locked -p lantian
"$VENV/bin/maturin" build --locked --profile dev -m python/Cargo.toml -o "$VENV/wheels"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$VENV"/wheels/lantian-*.whl
PATH="$VENV/bin:$PATH" LANTIAN_TEST_SPARK=1 "$VENV/bin/python" -m pytest -q python/tests
