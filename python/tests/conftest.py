"""Shared fixtures: the repository, the lantian binary (the CLI the package
must agree with) and the bundled 2019 Sichuan year imported once."""

import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample"


def lantian_bin() -> pathlib.Path:
    if os.environ.get("LANTIAN_BIN"):
        return pathlib.Path(os.environ["LANTIAN_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "lantian"


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the lantian binary; `check` fails the test on a non-zero exit."""
    exe = lantian_bin()
    if not exe.exists():
        pytest.fail(f"{exe}: build the CLI first (cargo build -p lantian) or set LANTIAN_BIN")
    r = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        pytest.fail(f"lantian {' '.join(args)} failed: {r.stderr}")
    return r


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> pathlib.Path:
    d = tmp_path_factory.mktemp("store") / "data"
    cli("--data", str(d), "import", str(SAMPLE / "sichuan_stations_2022.02.13.csv"), str(SAMPLE / "cnemc_sichuan_2019"))
    return d
