"""The Spark job on a real standalone cluster (a master and two workers on
the loopback interface): its output equals `lantian assess`, bad input
fails with the CLI's message and leaves no output behind.

Runs when pyspark and Java are present; LANTIAN_TEST_SPARK=1 (CI) makes
their absence a failure instead of a skip."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, SAMPLE, cli

REQUIRED = os.environ.get("LANTIAN_TEST_SPARK") == "1"
try:
    import pyspark  # noqa: F401

    HAVE = shutil.which("java") is not None
except ImportError:
    HAVE = False
if not HAVE and not REQUIRED:
    pytest.skip("pyspark or Java not installed (LANTIAN_TEST_SPARK=1 requires them)", allow_module_level=True)

SCRIPT = REPO / "python" / "scripts" / "spark-cluster.sh"
STATIONS = SAMPLE / "sichuan_stations_2022.02.13.csv"


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    env = dict(os.environ, LANTIAN_SPARK_DIR=str(tmp_path_factory.mktemp("spark")))
    r = subprocess.run(["bash", str(SCRIPT), "start", "2", "1", "1g"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    yield r.stdout.strip()
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env)


def job(master: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lantian.spark", "assess", "--master", master, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_cnemc_files_on_the_cluster_equal_the_cli(master, sample_store, tmp_path):
    out = tmp_path / "out"
    r = job(master, "--input", str(SAMPLE / "cnemc_sichuan_2019"), "--stations", str(STATIONS),
            "--from", "2019-01-01", "--to", "2019-12-31", "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    period = ["--from", "2019-01-01", "--to", "2019-12-31"]
    want_csv = cli("--data", str(sample_store), "--format", "csv", "assess", *period).stdout
    want_json = cli("--data", str(sample_store), "--format", "json", "assess", *period).stdout
    assert (out / "assess.csv").read_text() == want_csv
    assert (out / "assess.json").read_text() == want_json
    import pyarrow.parquet as pq

    assert pq.read_table(out / "city_days").num_rows >= 21 * 300
    assert pq.read_table(out / "assess").num_rows == 21
    assert not (out / "rejects.csv").exists()


def test_a_store_on_the_cluster_equals_the_cli(master, sample_store, tmp_path):
    out = tmp_path / "out"
    r = job(master, "--input", str(sample_store), "--from", "2019-07-01", "--to", "2019-07-31", "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    want = cli("--data", str(sample_store), "--format", "csv", "assess", "--from", "2019-07-01", "--to", "2019-07-31")
    assert (out / "assess.csv").read_text() == want.stdout


def test_bad_input_fails_with_the_clis_message_and_leaves_nothing(master, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLE / "cnemc_sichuan_2019" / "china_sites_20190301.csv.gz", src)
    (src / "notes.csv").write_text("hello,world\n")
    out = tmp_path / "out"
    r = job(master, "--input", str(src), "--stations", str(STATIONS), "--from", "2019-03-01", "--to", "2019-03-01",
            "--out", str(out))
    assert r.returncode == 1
    imp = cli("--lang", "en", "--data", str(tmp_path / "d"), "import", str(src / "notes.csv"), check=False)
    message = next(line for line in imp.stderr.splitlines() if line.startswith("unreadable"))
    assert f"lantian: error: {message}" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "in"]
    # Missing input, and an output that already exists: refused before any work.
    r = job(master, "--input", str(tmp_path / "none"), "--stations", str(STATIONS), "--from", "2019-03-01",
            "--to", "2019-03-01", "--out", str(out))
    assert r.returncode == 1 and "none: No such file or directory" in r.stderr
    r = job(master, "--input", str(src), "--stations", str(STATIONS), "--from", "2019-03-01", "--to", "2019-03-01",
            "--out", str(src))
    assert r.returncode == 1 and "already exists" in r.stderr
    assert not pathlib.Path(str(src) + ".partial").exists()
