"""lantian (蓝天): the exact air-quality rules of GB 3095, HJ 633 and HJ 663,
computed by lantian's Rust core, for Python.

Nothing here re-implements a rule: every function calls the same Rust code
as the ``lantian`` command line, so the numbers are the CLI's, byte for byte.

Arrays (numpy, lists, pandas Series) are float64 with NaN for a missing
value; tables are pyarrow Tables (``.to_pandas()`` for pandas). Errors raise
:class:`LantianError` with the CLI's messages.

Hour labels follow the network: an hour is labelled by its end, so a day
owns its hours 01:00 … 24:00 (the last is 00:00 of the next date).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import pyarrow as pa

from . import _lantian
from ._lantian import LantianError, __version__

__all__ = [
    "LantianError",
    "__version__",
    "POLLUTANTS",
    "iaqi",
    "aqi_daily",
    "aqi_hourly",
    "daily_values",
    "daily_mean",
    "o3_8h",
    "mda8",
    "station_days",
    "city_days",
    "assess_days",
    "read_store",
    "store_stations",
    "assess",
    "assess_frame",
    "read_file",
]

#: The six pollutants in lantian's order (their keys in every table).
POLLUTANTS = ("so2", "no2", "pm10", "co", "o3", "pm25")

ArrayLike = Union[Sequence[float], np.ndarray, Any]


def _f64(values: Optional[ArrayLike]) -> Optional[bytes]:
    if values is None:
        return None
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1)
    return np.ascontiguousarray(a.ravel(), dtype="<f8").tobytes()


def _arr(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype="<f8").copy()


def _edition(edition: Union[str, int]) -> str:
    return str(edition)


def _report(d: dict) -> dict:
    return {k: (v if k == "primary" else _arr(v)) for k, v in d.items()}


def aqi_daily(
    *,
    edition: Union[str, int],
    so2: Optional[ArrayLike] = None,
    no2: Optional[ArrayLike] = None,
    pm10: Optional[ArrayLike] = None,
    pm25: Optional[ArrayLike] = None,
    co: Optional[ArrayLike] = None,
    o3_8h: Optional[ArrayLike] = None,
    o3_1h_max: Optional[ArrayLike] = None,
) -> dict:
    """Daily AQI (日报) of each element (HJ 633, edition ``2012`` or ``2026``).

    Returns a dict of arrays: ``aqi``, ``level`` (1–6; NaN without an AQI),
    ``iaqi_<indicator>`` for each indicator given (``pm25_24h``, ``o3_8h``…)
    and ``primary`` (a list of ``"pm25"``/``"o3"``… joined by ``,`` when tied;
    ``""`` when the AQI is 50 or less).
    """
    cols = [_f64(x) for x in (so2, no2, pm10, pm25, co, o3_8h, o3_1h_max)]
    return _report(_lantian.aqi("daily", _edition(edition), cols))


def aqi_hourly(
    *,
    edition: Union[str, int],
    so2: Optional[ArrayLike] = None,
    no2: Optional[ArrayLike] = None,
    pm10: Optional[ArrayLike] = None,
    pm25: Optional[ArrayLike] = None,
    co: Optional[ArrayLike] = None,
    o3: Optional[ArrayLike] = None,
    so2_24h: Optional[ArrayLike] = None,
) -> dict:
    """Hourly AQI (实时报) of each element; like :func:`aqi_daily`."""
    cols = [_f64(x) for x in (so2, no2, pm10, pm25, co, o3, so2_24h)]
    return _report(_lantian.aqi("hourly", _edition(edition), cols))


_HOURLY_INDICATORS = {"so2_1h": "so2", "no2_1h": "no2", "co_1h": "co", "o3_1h": "o3"}
_DAILY_INDICATORS = {
    "so2_24h": "so2",
    "no2_24h": "no2",
    "pm10_24h": "pm10",
    "pm25_24h": "pm25",
    "co_24h": "co",
    "o3_8h": "o3_8h",
}


def iaqi(indicator: str, values: ArrayLike, *, edition: Union[str, int]) -> np.ndarray:
    """IAQI of one indicator (``pm25_24h``, ``so2_1h``, ``o3_8h``…) for each
    concentration, rounded to reporting precision first as HJ 633 says."""
    if indicator in _HOURLY_INDICATORS:
        r = aqi_hourly(edition=edition, **{_HOURLY_INDICATORS[indicator]: values})
    elif indicator in _DAILY_INDICATORS:
        r = aqi_daily(edition=edition, **{_DAILY_INDICATORS[indicator]: values})
    else:
        known = ", ".join(list(_DAILY_INDICATORS) + list(_HOURLY_INDICATORS))
        raise LantianError(f"unknown indicator '{indicator}': one of {known}")
    key = f"iaqi_{indicator}"
    return r.get(key, np.full(len(np.atleast_1d(values)), np.nan))


def daily_values(
    *,
    so2: Optional[ArrayLike] = None,
    no2: Optional[ArrayLike] = None,
    pm10: Optional[ArrayLike] = None,
    co: Optional[ArrayLike] = None,
    o3: Optional[ArrayLike] = None,
    pm25: Optional[ArrayLike] = None,
) -> dict:
    """Daily values of one station's whole days of hourly values (24 per
    day, hours 01:00 … 24:00; shape ``(days, 24)`` or flat), by HJ 663: the
    24-hour means with the 20-hour rule, O3's MDA8 (``o3_8h``, 14 of 17
    windows or above 160) and daily 1-hour maximum, each pollutant's valid
    hours (``hours_<key>``). NaN where a value is not valid."""
    cols = [_f64(x) for x in (so2, no2, pm10, co, o3, pm25)]
    return {k: _arr(v) for k, v in _lantian.day_values(cols).items()}


def daily_mean(hourly: ArrayLike, pollutant: str = "pm25") -> np.ndarray:
    """24-hour means of whole days (20 valid hours needed)."""
    if pollutant not in POLLUTANTS or pollutant == "o3":
        raise LantianError(f"'{pollutant}': so2, no2, pm10, co or pm25 (O3: mda8)")
    return daily_values(**{pollutant: hourly})[pollutant]


def o3_8h(hourly: ArrayLike) -> np.ndarray:
    """8-hour O3 moving means at each hour of whole days, as the network
    forms them (windows shortened at the start of a day)."""
    return _arr(_lantian.o3_8h(_f64(hourly)))


def mda8(hourly: ArrayLike) -> np.ndarray:
    """Daily maximum 8-hour O3 of whole days (HJ 663)."""
    return daily_values(o3=hourly)["o3_8h"]


def _table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_arrow") and not hasattr(data, "columns"):
        return data.to_arrow()
    return pa.Table.from_pandas(data, preserve_index=False)


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(b: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(b)).read_all()


def _normalise_hours(t: pa.Table) -> pa.Table:
    """Hours in the types the core reads: utf8 station, int64 label or a
    timestamp, float64 values."""
    cols, names = [], []
    for name in t.column_names:
        c = t.column(name)
        if name == "station":
            c = c.cast(pa.string())
        elif name in POLLUTANTS:
            c = c.cast(pa.float64())
        elif name in ("label", "seq"):
            c = c.cast(pa.int64())
        elif name == "time" and not pa.types.is_timestamp(c.type):
            raise LantianError(f"column time: {c.type} where a timestamp is needed")
        elif name not in ("time",):
            continue
        cols.append(c)
        names.append(name)
    return pa.Table.from_arrays(cols, names=names).combine_chunks()


def station_days(hours: Any, start: str, end: str) -> pa.Table:
    """Daily values of every station for days ``start..end`` from station
    hours (a pyarrow Table or pandas DataFrame with ``station``, ``time``
    (the hour's end) or ``label``, and any of ``so2 no2 pm10 co o3 pm25``;
    optional ``seq``: a later row revises an earlier one value by value).
    A station's hours must all be in the one call."""
    return _from_ipc(_lantian.station_days(_ipc(_normalise_hours(_table(hours))), str(start), str(end)))


def _stations_json(stations: Any) -> str:
    if isinstance(stations, str) and stations.lstrip().startswith("["):
        return stations
    if isinstance(stations, (str, bytes)) or hasattr(stations, "__fspath__"):
        f = read_file(stations)
        if f["format"] is None or not json.loads(f["stations"]):
            raise LantianError(f"{stations}: not a station list (监测点编码,监测点名称,城市,经度,纬度,对照点)")
        return f["stations"]
    return json.dumps(list(stations))


def city_days(
    station_days: Any, stations: Any, start: str, end: str, cities: Optional[Iterable[str]] = None
) -> pa.Table:
    """City days from station days (:func:`station_days`): each city's day
    is its assessment stations' mean (control stations excluded), as the
    network forms it. ``stations``: a station list file's path, its JSON,
    or the list of dicts :func:`store_stations` gives."""
    return _from_ipc(
        _lantian.city_days(
            _ipc(_table(station_days)), _stations_json(stations), str(start), str(end), list(cities or [])
        )
    )


def assess_days(
    city_days: Any,
    start: str,
    end: str,
    edition: Optional[Union[str, int]] = None,
    previous_year: Any = None,
) -> list:
    """Period statistics of each city from its days (:func:`city_days`):
    the rows of ``lantian assess --format json`` (means, percentiles,
    good-day ratio, composite index, rank, capture), each day by the
    edition in force on it or ``edition``; with ``previous_year`` (the same
    period's city days a year earlier) also the year-on-year changes."""
    prev = None if previous_year is None else _ipc(_table(previous_year))
    out, _, _ = _lantian.assess_city_days(
        _ipc(_table(city_days)), str(start), str(end), None if edition is None else str(edition), prev
    )
    return json.loads(out)


def read_store(
    data_dir: Any,
    start: Optional[str] = None,
    end: Optional[str] = None,
    stations: Optional[Iterable[str]] = None,
    values: str = "best",
) -> pa.Table:
    """The station hours of a lantian data directory (``lantian import``):
    ``station``, ``time`` (the hour's end, +08:00) and the fifteen stored
    series (``pm25``… and the network's own ``aqi``, ``pm25_24h``…). With
    ``start``/``end`` (dates) only those days' hours; ``values``: ``best``
    (audited where audited) or ``raw``."""
    b = _lantian.read_store(
        str(data_dir),
        None if start is None else str(start),
        None if end is None else str(end),
        None if stations is None else list(stations),
        values,
    )
    return _from_ipc(b)


def store_stations(data_dir: Any) -> list:
    """The station list of a data directory, as dicts."""
    return json.loads(_lantian.store_stations(str(data_dir)))


def assess(
    data_dir: Any,
    start: str,
    end: str,
    *,
    cities: Optional[Iterable[str]] = None,
    compare: bool = False,
    edition: Optional[Union[str, int]] = None,
    source: str = "auto",
    level: str = "city",
    values: str = "best",
    dust: str = "deducted",
    three_year: bool = False,
    database: Optional[str] = None,
) -> list:
    """``lantian --data DIR assess --from START --to END --format json``:
    the same rows (a list of dicts). ``compare=True`` is
    ``--compare previous-year``; the other arguments are the CLI's flags."""
    out = _lantian.assess(
        str(data_dir),
        str(start),
        str(end),
        list(cities or []),
        compare,
        None if edition is None else str(edition),
        source,
        level,
        values,
        dust,
        three_year,
        database,
    )
    return json.loads(out)


def assess_frame(data_dir: Any, start: str, end: str, **kwargs: Any):
    """:func:`assess` as a pandas DataFrame, one row per city."""
    import pandas as pd

    return pd.DataFrame(assess(data_dir, start, end, **kwargs))


def read_file(path: Any, content: Optional[bytes] = None) -> dict:
    """One input file (CNEMC site file, station list, long CSV; gzipped or
    not) as ``lantian import`` reads it: ``format``, ``hours`` (a Table:
    ``station``, ``label``, the six measured series, ``row``), ``stations``
    (a station list's, JSON), ``skipped`` and ``rejects`` (file, line,
    column, reason, value). An unreadable file raises LantianError."""
    name = str(path)
    if content is None:
        try:
            with open(path, "rb") as f:
                content = f.read()
        except OSError as e:
            raise LantianError(f"{name}: {e.strerror}") from None
    d = _lantian.extract_file(name, content)
    d["hours"] = _from_ipc(d["hours"])
    return d
