"""lantian on Apache Spark: the same exact rules on a cluster.

``python -m lantian.spark assess --input PATH --stations FILE --from D --to D --out DIR``

Spark moves the data; lantian's Rust core computes, inside Arrow UDFs
(``mapInArrow``), with the same functions as the ``lantian`` binary:

1. **files → station hours**: CNEMC site files (``.csv``/``.csv.gz``, read as
   bytes by Spark's ``binaryFile`` source from any Hadoop filesystem) are
   parsed by lantian's importer, or the month files of a lantian data
   directory are decoded by its store reader; each row keeps its place
   (``seq``: file order, then row), so a later file revises an earlier one
   value by value exactly as ``lantian import`` does;
2. **station days**: hours partitioned by station, the HJ 663 daily rules;
3. **city days**: station days partitioned by city, the network's city
   values (assessment stations only, control stations left out);
4. **assess**: the city days (small: cities × days) collected and the
   period statistics, composite index and ranks formed by the CLI's own
   function.

The output directory is written beside its final name and renamed into
place only when complete (a failed run leaves nothing that looks done):
``assess.csv`` (byte for byte ``lantian assess --format csv``),
``assess.json`` (``--format json``), ``assess/``, ``city_days/``,
``station_days/`` (Parquet), ``rejects/`` (CSV: file, line, column, reason,
value) when cells were rejected.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
import uuid
from typing import Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from . import LantianError, _from_ipc, _ipc, _lantian

# The station hours every first step produces (labels: hours from
# 1970-01-01T00:00+08:00 to the hour's end; see lantian_core::time).
HOURS_SCHEMA = (
    "station string, label long, so2 double, no2 double, pm10 double, co double, o3 double, pm25 double, "
    "seq long, reject string"
)
_DAY_VALUES = (
    "so2 double, no2 double, pm10 double, co double, o3_8h double, pm25 double, o3_1h_max double, "
    "hours_so2 int, hours_no2 int, hours_pm10 int, hours_co int, hours_o3 int, hours_pm25 int"
)
STATION_DAYS_SCHEMA = "station string not null, day date not null, " + _DAY_VALUES
CITY_DAYS_SCHEMA = "city string not null, day date not null, " + _DAY_VALUES + ", stations int"

_POLLUTANTS = ("so2", "no2", "pm10", "co", "o3", "pm25")
# File order occupies the high bits of `seq`, the row within the file the low ones.
_ROW_BITS = 32


def _day_number(d: str) -> int:
    return (_dt.date.fromisoformat(d) - _dt.date(1970, 1, 1)).days


def _check_date(d: str) -> str:
    try:
        _dt.date.fromisoformat(d)
    except ValueError:
        raise LantianError(f"'{d}': not a date YYYY-MM-DD") from None
    return d


class _Fs:
    """The Hadoop filesystem of a path, through Spark's JVM: what Spark
    reads, lantian checks and writes (local paths, hdfs://, s3a://…)."""

    def __init__(self, spark, path: str):
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.fs = self.path(path).getFileSystem(self.conf)

    def path(self, p: str):
        return self.jvm.org.apache.hadoop.fs.Path(p)

    def exists(self, p: str) -> bool:
        return bool(self.fs.exists(self.path(p)))

    def read(self, p: str) -> bytes:
        stream = self.fs.open(self.path(p))
        try:
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write(self, p: str, data: bytes) -> None:
        stream = self.fs.create(self.path(p), False)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()

    def rename(self, a: str, b: str) -> bool:
        return bool(self.fs.rename(self.path(a), self.path(b)))

    def delete(self, p: str) -> None:
        self.fs.delete(self.path(p), True)

    def qualify(self, p: str) -> str:
        return str(self.fs.makeQualified(self.path(p)))


def _shown(uri: str) -> str:
    """A path as messages and the rejects file name it: local files as the
    CLI names them, other filesystems by their URI."""
    return uri[len("file:"):] if uri.startswith("file:/") else uri


def _parse_files(paths_rank: dict, first: int, last: int):
    """The mapInArrow function of step 1 for input files."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for path, content in zip(b.column("path").to_pylist(), b.column("content").to_pylist()):
                d = _lantian.extract_file(_shown(path), content)
                hours = _from_ipc(d["hours"])
                base = paths_rank[path] << _ROW_BITS
                keep = pc.and_(
                    pc.greater_equal(hours["label"], first), pc.less_equal(hours["label"], last)
                )
                hours = hours.filter(keep)
                n = hours.num_rows
                seq = pc.add(hours["row"], base)
                cols = [hours[c] for c in ("station", "label") + _POLLUTANTS]
                cols += [seq, pa.nulls(n, pa.string())]
                yield from pa.Table.from_arrays(cols, names=_HOURS_NAMES).to_batches()
                if d["rejects"]:
                    rej = [json.dumps(r, ensure_ascii=False) for r in d["rejects"]]
                    k = len(rej)
                    cols = [pa.nulls(k, pa.string()), pa.nulls(k, pa.int64())]
                    cols += [pa.nulls(k, pa.float64()) for _ in _POLLUTANTS]
                    cols += [pa.nulls(k, pa.int64()), pa.array(rej, pa.string())]
                    yield from pa.Table.from_arrays(cols, names=_HOURS_NAMES).to_batches()

    return run


_HOURS_NAMES = ["station", "label", *_POLLUTANTS, "seq", "reject"]


def _decode_months(first: int, last: int):
    """The mapInArrow function of step 1 for a lantian data directory."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for path, content in zip(b.column("path").to_pylist(), b.column("content").to_pylist()):
                month = os.path.basename(path)[:7]
                hours = _from_ipc(_lantian.store_month(month, content))
                keep = pc.and_(
                    pc.greater_equal(hours["label"], first), pc.less_equal(hours["label"], last)
                )
                hours = hours.filter(keep)
                n = hours.num_rows
                cols = [hours[c] for c in ("station", "label") + _POLLUTANTS]
                cols += [pa.array([0] * n, pa.int64()), pa.nulls(n, pa.string())]
                yield from pa.Table.from_arrays(cols, names=_HOURS_NAMES).to_batches()

    return run


def _whole_partition(batches: Iterator[pa.RecordBatch]) -> Optional[bytes]:
    batches = list(batches)
    if not batches or sum(b.num_rows for b in batches) == 0:
        return None
    return _ipc(pa.Table.from_batches(batches))


def _station_days(start: str, end: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ipc = _whole_partition(batches)
        if ipc is not None:
            yield from _from_ipc(_lantian.station_days(ipc, start, end)).to_batches()

    return run


def _city_days(stations_json: str, start: str, end: str, cities: Sequence[str]):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ipc = _whole_partition(batches)
        if ipc is not None:
            yield from _from_ipc(_lantian.city_days(ipc, stations_json, start, end, list(cities))).to_batches()

    return run


def _station_list(spark, fs: _Fs, path: str) -> str:
    if not fs.exists(path):
        raise LantianError(f"{path}: No such file or directory")
    d = _lantian.extract_file(path, fs.read(path))
    if not json.loads(d["stations"]):
        raise LantianError(f"{path}: not a station list (监测点编码,监测点名称,城市,经度,纬度,对照点)")
    return d["stations"]


def _store_input(spark, fs: _Fs, root: str, values: str):
    manifest = json.loads(fs.read(root.rstrip("/") + "/manifest.json"))
    if manifest.get("audited") and values != "raw":
        raise LantianError(
            f"{root}: the store has an audited layer; the Spark job reads the raw layer only (--values raw)"
        )
    months = sorted(manifest.get("hourly", {}).items())
    files = [root.rstrip("/") + "/" + f for _, f in months]
    stations = manifest.get("stations")
    stations_json = fs.read(root.rstrip("/") + "/" + stations).decode() if stations else "[]"
    return files, stations_json


def assess(
    spark,
    input: str,
    start: str,
    end: str,
    stations: Optional[str] = None,
    cities: Sequence[str] = (),
    edition: Optional[str] = None,
    values: str = "raw",
    partitions: Optional[int] = None,
):
    """The assessment of ``start..end`` on Spark. ``input``: a folder (or
    glob) of CNEMC site files, or a lantian data directory; ``stations``: the
    station list (default: the data directory's). Returns a dict: ``rows``
    (the rows of ``lantian assess --format json``), ``csv`` (its CSV),
    ``station_days`` and ``city_days`` (DataFrames), ``rejects`` (DataFrame)."""
    _check_date(start)
    _check_date(end)
    if start > end:
        raise LantianError(f"--from {start} is after --to {end}")
    fs = _Fs(spark, input)
    d0, d1 = _day_number(start), _day_number(end)
    first, last = d0 * 24 + 1, d1 * 24 + 24
    is_store = fs.exists(input.rstrip("/") + "/manifest.json")
    if not is_store and not any(c in input for c in "*?[") and not fs.exists(input):
        raise LantianError(f"{input}: No such file or directory")
    if is_store:
        files, stations_json = _store_input(spark, fs, input, values)
        if stations:
            stations_json = _station_list(spark, fs, stations)
        raw = spark.read.format("binaryFile").load(files) if files else None
        step1 = _decode_months(first, last)
    else:
        if not stations:
            raise LantianError("--stations: the station list is needed with CNEMC files")
        stations_json = _station_list(spark, fs, stations)
        raw = (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(input)
            .filter("path like '%.csv' or path like '%.csv.gz'")
        )
        paths = sorted(r.path for r in raw.select("path").collect())
        if not paths:
            raise LantianError(f"{input}: no .csv or .csv.gz files")
        step1 = _parse_files({p: i for i, p in enumerate(paths)}, first, last)
    if json.loads(stations_json) == []:
        raise LantianError("the station list is empty: import a station list (监测点编码,监测点名称,城市,…)")
    n = partitions or max(2, spark.sparkContext.defaultParallelism)
    if raw is None:
        hours = spark.createDataFrame([], HOURS_SCHEMA)
    else:
        hours = raw.mapInArrow(step1, HOURS_SCHEMA)
    hours = hours.persist()
    rejects = hours.filter("reject is not null").select("reject")
    station_days = (
        hours.filter("reject is null")
        .drop("reject")
        .repartition(n, "station")
        .mapInArrow(_station_days(start, end), STATION_DAYS_SCHEMA)
    )
    members = [(s["code"], s["city"]) for s in json.loads(stations_json) if not s.get("control")]
    if not members:
        raise LantianError("the station list has no assessment stations (every station is a control station)")
    owners = spark.createDataFrame(members, "station string, city string")
    from pyspark.sql.functions import broadcast

    city_days = (
        station_days.join(broadcast(owners), "station")
        .repartition(n, "city")
        .drop("city")
        .mapInArrow(_city_days(stations_json, start, end, list(cities)), CITY_DAYS_SCHEMA)
    )
    js, csv, pretty = _lantian.assess_city_days(_ipc(city_days.toArrow()), start, end, edition, None)
    return {
        "rows": json.loads(js),
        "csv": csv,
        "json": pretty,
        "station_days": station_days,
        "city_days": city_days,
        "rejects": rejects,
        "hours": hours,
    }


def run(spark, input: str, start: str, end: str, out: str, **kwargs) -> dict:
    """:func:`assess`, its results written under ``out`` (see the module
    docs), all or nothing."""
    fs = _Fs(spark, out)
    if fs.exists(out):
        raise LantianError(f"{out}: already exists (remove it or choose another --out)")
    tmp = out.rstrip("/") + f".partial-{uuid.uuid4().hex[:8]}"
    try:
        r = assess(spark, input, start, end, **kwargs)
        r["station_days"].write.parquet(tmp + "/station_days")
        r["city_days"].write.parquet(tmp + "/city_days")
        spark.createDataFrame(pa.Table.from_pylist(r["rows"])).coalesce(1).write.parquet(tmp + "/assess")
        fs.write(tmp + "/assess.csv", r["csv"].encode())
        fs.write(tmp + "/assess.json", r["json"].encode())
        rejects = [json.loads(x.reject) for x in r["rejects"].collect()]
        if rejects:
            fs.write(tmp + "/rejects.csv", _rejects_csv(rejects).encode())
        r["hours"].unpersist()
        if not fs.rename(tmp, out):
            raise LantianError(f"{out}: could not move the finished output into place")
        r["rejects_count"] = len(rejects)
        return r
    except BaseException:
        if fs.exists(tmp):
            fs.delete(tmp)
        raise


def _rejects_csv(rows: list) -> str:
    """Rejected rows and cells as ``lantian import`` writes its rejects file."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "line", "column", "reason", "value"])
    w.writerows(rows)
    return buf.getvalue()


def _unwrap(e: BaseException) -> Optional[str]:
    """The LantianError message inside a failure raised in an executor."""
    text = str(e)
    marker = "LantianError: "
    if marker in text:
        return text.split(marker, 1)[1].splitlines()[0].strip()
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lantian.spark", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="per-city statistics of a period, as `lantian assess`")
    a.add_argument("--input", required=True, help="folder or glob of CNEMC site files, or a lantian data directory")
    a.add_argument("--stations", help="station list (default: the data directory's)")
    a.add_argument("--from", dest="start", required=True)
    a.add_argument("--to", dest="end", required=True)
    a.add_argument("--out", required=True, help="output directory (must not exist)")
    a.add_argument("--city", action="append", default=[], help="cities to assess (default: all)")
    a.add_argument("--edition", choices=["2012", "2026"], help="one edition for every day (可比口径)")
    a.add_argument("--master", help="Spark master URL (default: spark-submit's or local[*])")
    a.add_argument("--partitions", type=int, help="shuffle partitions (default: the cluster's cores)")
    args = p.parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("lantian assess")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    t0 = time.time()
    try:
        r = run(
            spark,
            args.input,
            args.start,
            args.end,
            args.out,
            stations=args.stations,
            cities=args.city,
            edition=args.edition,
            partitions=args.partitions,
        )
    except LantianError as e:
        print(f"lantian: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - an executor's LantianError arrives wrapped
        msg = _unwrap(e)
        if msg is None:
            raise
        print(f"lantian: error: {msg}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(
        f"{len(r['rows'])} areas, {r['rejects_count']} rejected cells, {time.time() - t0:.1f} s → {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
