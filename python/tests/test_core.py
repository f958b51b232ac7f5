"""The binding against the core's own unit vectors and the CLI's output."""

import json

import numpy as np
import pytest

import lantian
from conftest import SAMPLE, cli

N = np.nan


def test_iaqi_worked_examples_of_hj633():
    # The vectors of lantian-core's aqi tests, through the binding.
    assert list(lantian.iaqi("pm25_24h", [68, 60, 75.4, 75.5, 74.5], edition=2012)) == [92, 82, 100, 102, 99]
    assert list(lantian.iaqi("pm25_24h", [68, 60, 61], edition=2026)) == [108, 100, 101]
    assert list(lantian.iaqi("pm10_24h", [135], edition=2012)) == [93]
    assert list(lantian.iaqi("pm10_24h", [135], edition=2026)) == [106]
    assert list(lantian.iaqi("co_24h", [2.2], edition=2012)) == [55]
    assert np.isnan(lantian.iaqi("pm25_24h", [N, -1], edition=2012)).all()
    with pytest.raises(lantian.LantianError, match="unknown indicator"):
        lantian.iaqi("pm1", [1], edition=2012)


def test_whole_day_example_both_editions():
    day = dict(so2=[20], no2=[95], co=[1.3], o3_8h=[180], pm10=[135], pm25=[68])
    r = lantian.aqi_daily(edition=2026, **day)
    assert (r["aqi"][0], r["level"][0], r["primary"]) == (119, 3, ["o3"])
    keys = ["so2_24h", "no2_24h", "co_24h", "o3_8h", "pm10_24h", "pm25_24h"]
    assert [r[f"iaqi_{k}"][0] for k in keys] == [20, 108, 33, 119, 106, 108]
    r12 = lantian.aqi_daily(edition=2012, o3_1h_max=[190], **day)
    assert [r12[f"iaqi_{k}"][0] for k in keys] == [20, 108, 33, 119, 93, 92]
    assert r12["aqi"][0] == 119


def test_incomplete_day_under_2026_withholds_low_aqi():
    r = lantian.aqi_daily(edition=2026, pm25=[30, 100])
    assert np.isnan(r["aqi"][0]) and r["aqi"][1] == 137
    assert lantian.aqi_daily(edition=2012, pm25=[30])["aqi"][0] == 43


def test_hourly_special_case_so2_above_800():
    r = lantian.aqi_hourly(edition=2012, so2=[900, 900], so2_24h=[120, N])
    assert r["iaqi_so2_1h"][0] == 85 and np.isnan(r["iaqi_so2_1h"][1])
    with pytest.raises(lantian.LantianError, match="unknown edition '2015'"):
        lantian.aqi_hourly(edition=2015, so2=[1])


def test_daily_rules():
    full = np.arange(24, dtype=float)
    assert lantian.daily_mean(full)[0] == 11.5
    twenty = np.r_[[N] * 4, [10.0] * 20]
    nineteen = np.r_[[N] * 5, [10.0] * 19]
    assert list(lantian.daily_mean(np.vstack([twenty, nineteen]), "pm10")[:1]) == [10.0]
    assert np.isnan(lantian.daily_mean(nineteen, "pm10")[0])
    w = lantian.o3_8h(np.arange(1, 25, dtype=float))
    assert (w[0], w[3], w[7], w[23]) == (1.0, 2.5, 4.5, 20.5)
    day = np.full(24, 50.0)
    day[1] = 450.0
    low = np.r_[[100.0] * 16, [N] * 8]
    high = np.r_[[200.0] * 16, [N] * 8]
    edge = np.r_[[160.0] * 16, [N] * 8]
    m = lantian.mda8(np.vstack([day, low, high, edge]))
    assert m[0] == 100.0 and np.isnan(m[1]) and m[2] == 200.0 and np.isnan(m[3])
    with pytest.raises(lantian.LantianError, match="whole number of days"):
        lantian.mda8(np.ones(25))


def test_assess_equals_cli_on_the_bundled_year(sample_store):
    for args, kw in [
        (["--from", "2019-01-01", "--to", "2019-12-31"], {}),
        (["--from", "2019-07-01", "--to", "2019-07-31", "--edition", "2026"], {"edition": 2026}),
        (["--from", "2019-01-01", "--to", "2019-06-30", "--city", "成都", "--city", "自贡"], {"cities": ["成都", "自贡"]}),
    ]:
        want = json.loads(cli("--data", str(sample_store), "--format", "json", "assess", *args).stdout)
        got = lantian.assess(sample_store, args[1], args[3], **kw)
        assert got == want, args
    df = lantian.assess_frame(sample_store, "2019-01-01", "2019-12-31")
    assert len(df) == 21 and df["rank"].min() == 1


def test_pipeline_steps_equal_the_store_path(sample_store):
    # station hours → station days → city days → assess, outside the store,
    # gives what `lantian assess` gives on the raw values (nothing deducted).
    hours = lantian.read_store(sample_store, "2019-01-01", "2019-12-31")
    assert hours.num_rows > 600_000 and "pm25_24h" in hours.column_names
    sd = lantian.station_days(hours, "2019-01-01", "2019-12-31")
    cd = lantian.city_days(sd, lantian.store_stations(sample_store), "2019-01-01", "2019-12-31")
    got = lantian.assess_days(cd, "2019-01-01", "2019-12-31")
    want = lantian.assess(sample_store, "2019-01-01", "2019-12-31", values="raw", dust="included")
    assert got == want
    # The same steps from the files themselves, a station list's path for the cities.
    f = lantian.read_file(SAMPLE / "cnemc_sichuan_2019" / "china_sites_20190301.csv.gz")
    assert f["format"] and f["rejects"] == [] and f["hours"].num_rows > 2_000
    daily = json.loads(
        cli("--data", str(sample_store), "--format", "json", "daily", "--station", "1431A",
            "--from", "2019-03-01", "--to", "2019-03-01").stdout
    )
    import pyarrow as pa
    import pyarrow.compute as pc

    one = f["hours"].filter(pc.equal(f["hours"]["station"], "1431A"))
    nxt = lantian.read_file(SAMPLE / "cnemc_sichuan_2019" / "china_sites_20190302.csv.gz")["hours"]
    both = pa.concat_tables([one, nxt.filter(pc.equal(nxt["station"], "1431A"))])
    sd1 = lantian.station_days(both, "2019-03-01", "2019-03-01").to_pylist()[0]
    assert round(sd1["pm25"]) == daily[0]["pm25"]


def test_errors_are_the_clis(sample_store, tmp_path):
    r = cli("--data", str(sample_store), "assess", "--from", "2030-01-01", "--to", "2030-12-31", check=False)
    with pytest.raises(lantian.LantianError) as e:
        lantian.assess(sample_store, "2030-01-01", "2030-12-31")
    assert str(e.value) in r.stderr and r.returncode != 0
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n")
    r = cli("--lang", "en", "--data", str(tmp_path / "d"), "import", str(bad), check=False)
    with pytest.raises(lantian.LantianError) as e:
        lantian.read_file(bad)
    assert str(e.value) in r.stderr
    with pytest.raises(lantian.LantianError, match="not a date"):
        lantian.assess(sample_store, "2019-13-01", "2019-12-31")
    with pytest.raises(lantian.LantianError, match="not a lantian data directory"):
        lantian.read_store(tmp_path / "nothing")
