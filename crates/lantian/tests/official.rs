//! The official basis on the bundled real data: audited values over raw
//! ones, sand-dust and exceptional events deducted from PM10 and PM2.5, the
//! three-year assessment. Every expected number is computed here from the
//! CLI's other outputs, independently of the code under test.

use crate::common::{lantian, lantian_json, round_even, sample, sample_store};
use std::io::Read;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = lantian(args);
    assert!(out.status.success(), "lantian {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Audited versions of the first week of July 2019: about one measured
/// cell in twenty blanked (the auditor invalidated it) and one in twenty
/// corrected (+7), chosen by a fixed hash of the cell's place.
fn audited_week(dir: &Path) -> (PathBuf, PathBuf) {
    let (raw, audited) = (dir.join("raw"), dir.join("audited"));
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::create_dir_all(&audited).unwrap();
    let src = sample().join("cnemc_sichuan_2019");
    std::fs::copy(sample().join("sichuan_stations_2022.02.13.csv"), raw.join("stations.csv")).unwrap();
    for d in 1..=7 {
        let name = format!("china_sites_201907{d:02}.csv.gz");
        std::fs::copy(src.join(&name), raw.join(&name)).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(src.join(&name)).unwrap()).read_to_string(&mut text).unwrap();
        let mut out = String::new();
        for (i, line) in text.split("\r\n").enumerate() {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            let measured = cells.len() > 3 && ["PM2.5", "PM10", "SO2", "NO2", "O3", "CO"].contains(&cells[2].as_str());
            if i > 0 && measured {
                for (j, c) in cells.iter_mut().enumerate().skip(3) {
                    let h = (i * 7919 + j * 104729 + d * 31) % 20;
                    if c.is_empty() {
                        continue;
                    }
                    if h == 0 {
                        c.clear();
                    } else if h == 1 {
                        let v: f64 = c.parse().unwrap();
                        *c = if c.contains('.') { format!("{:.1}", v + 0.7) } else { format!("{}", v + 7.0) };
                    }
                }
            }
            if i > 0 {
                out.push_str("\r\n");
            }
            out.push_str(&cells.join(","));
        }
        std::fs::write(audited.join(format!("china_sites_201907{d:02}.csv")), out).unwrap();
    }
    (raw, audited)
}

/// `--values raw` on a store with both layers is the store that never saw
/// the audited files; `--values best` is the store built from the audited
/// files alone (they cover every hour they have).
#[test]
fn audited_layer_over_raw() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, audited) = audited_week(dir.path());
    let (both, raw_only, audited_only) =
        (dir.path().join("both"), dir.path().join("raw-only"), dir.path().join("aud-only"));
    ok(&["--data", s(&both), "import", s(&raw)]);
    let out = lantian(&["--data", s(&both), "import", "--audited", s(&audited)]);
    assert!(out.status.success());
    ok(&["--data", s(&raw_only), "import", s(&raw)]);
    ok(&["--data", s(&audited_only), "import", s(&audited), s(&raw.join("stations.csv"))]);
    // Re-importing either layer changes nothing.
    let again = lantian(&["--data", s(&both), "import", "--audited", s(&audited)]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("新增 0, 修订 0"), "{stderr}");
    let cmds: Vec<Vec<&str>> = vec![
        vec!["assess", "--from", "2019-07-01", "--to", "2019-07-06", "--format", "csv"],
        vec!["daily", "--city", "成都", "--from", "2019-07-01", "--to", "2019-07-06", "--format", "csv"],
        vec!["daily", "--city", "宜宾", "--from", "2019-07-01", "--to", "2019-07-06", "--format", "csv"],
        vec!["hourly", "--station", "1431A", "--from", "2019-07-01", "--to", "2019-07-06", "--format", "csv"],
    ];
    let mut differ = 0;
    for c in &cmds {
        let run = |data: &Path, values: &str| {
            let mut a = vec!["--data", s(data), "--values", values];
            a.extend(c.iter());
            ok(&a)
        };
        let raw_view = run(&both, "raw");
        assert_eq!(raw_view, run(&raw_only, "best"), "{c:?}: --values raw is the raw store");
        let best_view = run(&both, "best");
        assert_eq!(best_view, run(&audited_only, "best"), "{c:?}: --values best is the audited store");
        differ += usize::from(raw_view != best_view);
    }
    assert_eq!(differ, cmds.len(), "the audit changed every output");
    // The run says which values it used.
    let out = lantian(&["--data", s(&both), "assess", "--from", "2019-07-01", "--to", "2019-07-06", "--format", "csv"]);
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("审核数据优先") && note.contains("原始 0 站时"), "{note}");
}

/// A private copy of the sample store.
pub(crate) fn private_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::real_data::copy_dir(sample_store(), &data);
    (dir, data)
}

/// Whole-day events: the period's PM2.5 and PM10 are the GB/T 8170 mean of
/// the city's daily values on the other days; good days, their ratio and
/// heavy days keep the dust days; the composite index follows.
#[test]
fn whole_day_events_leave_the_pm_means() {
    let (dir, data) = private_store();
    let d = s(&data);
    let events = dir.path().join("events.csv");
    std::fs::write(
        &events,
        "city,start,end,kind,reference,note\n成都,2019-07-10,2019-07-10,sand_dust,test,\n成都,2019-07-20,2019-07-21,exceptional,test,\n",
    )
    .unwrap();
    ok(&["--data", d, "event", "import", s(&events)]);
    let days = lantian_json(&[
        "--data",
        d,
        "--dust",
        "included",
        "daily",
        "--city",
        "成都",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-31",
    ]);
    // A city's day is the mean of its stations' reported daily values
    // (unrounded); the period mean is the mean of those days, rounded once.
    let stations: Vec<String> = lantian_json(&["--data", d, "stations", "--city", "成都"])
        .iter()
        .filter(|s| s["control"] == "N")
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect();
    let station_days: Vec<Vec<serde_json::Value>> = stations
        .iter()
        .map(|st| lantian_json(&["--data", d, "daily", "--station", st, "--from", "2019-07-01", "--to", "2019-07-31"]))
        .collect();
    let kept = |key: &str| {
        let mut city_days = Vec::new();
        for day in 1..=31 {
            let date = format!("2019-07-{day:02}");
            if ["2019-07-10", "2019-07-20", "2019-07-21"].contains(&date.as_str()) {
                continue;
            }
            let v: Vec<f64> = station_days
                .iter()
                .filter_map(|rows| rows.iter().find(|r| r["date"] == date.as_str()).and_then(|r| r[key].as_f64()))
                .collect();
            if !v.is_empty() {
                city_days.push(v.iter().sum::<f64>() / v.len() as f64);
            }
        }
        round_even(city_days.iter().sum::<f64>() / city_days.len() as f64, 0)
    };
    let assess = |dust: &str| {
        lantian_json(&[
            "--data",
            d,
            "--dust",
            dust,
            "assess",
            "--from",
            "2019-07-01",
            "--to",
            "2019-07-31",
            "--city",
            "成都",
        ])
        .remove(0)
    };
    let (official, included) = (assess("deducted"), assess("included"));
    assert_eq!(f(&official["pm25"]), kept("pm25"));
    assert_eq!(f(&official["pm10"]), kept("pm10"));
    assert_ne!(official["pm25"], included["pm25"], "the deduction changes July's PM2.5");
    for k in ["good_days", "good_ratio", "heavy_days", "valid_days", "so2", "no2", "co_p95", "o3_8h_p90"] {
        assert_eq!(official[k], included[k], "{k} keeps the event days");
    }
    // The composite index from its single indexes (2012 limits: PM2.5 35,
    // PM10 70, SO2 60, NO2 40, CO 4, O3-8h 160), each to 0.01 first.
    let single = |k: &str, limit: f64| round_even(f(&official[k]) / limit, 2);
    let ci = single("pm25", 35.0)
        + single("pm10", 70.0)
        + single("so2", 60.0)
        + single("no2", 40.0)
        + single("co_p95", 4.0)
        + single("o3_8h_p90", 160.0);
    assert_eq!(f(&official["composite_index"]), round_even(ci, 2));
    // The events' days are marked in the daily table; the AQI stays.
    let marked = lantian_json(&["--data", d, "daily", "--city", "成都", "--from", "2019-07-09", "--to", "2019-07-11"]);
    assert_eq!(marked[1]["deducted"], true);
    assert!(marked[1]["pm25_deducted"].is_null(), "a whole day is deducted whole");
    assert_eq!(marked[1]["aqi"], days.iter().find(|r| r["date"] == "2019-07-10").unwrap()["aqi"]);
    assert_eq!(marked[0]["deducted"], false);
    // Without events (withdrawn) the official basis is the plain one again.
    for id in ["1", "2"] {
        ok(&["--data", d, "event", "withdraw", id, "--reason", "test over"]);
    }
    assert_eq!(assess("deducted")["pm25"], included["pm25"]);
}

/// An hour-level event at the day boundary: the hours it covers leave the
/// day's PM means, which stand when 20 valid hours remain (the 20-hour
/// rule) and are deducted whole otherwise; label 0 of a day is the last
/// hour of the day before.
#[test]
fn hour_events_meet_the_20_hour_rule() {
    let (_dir, data) = private_store();
    let d = s(&data);
    // 2019-07-15: labels 21..=24 of the 15th (20 hours remain); 2019-07-17:
    // labels 20..=24 (19 remain).
    ok(&["--data", d, "event", "add", "--city", "成都", "--start", "2019-07-15T21:00", "--end", "2019-07-16T00:00"]);
    ok(&["--data", d, "event", "add", "--city", "成都", "--start", "2019-07-17T20:00", "--end", "2019-07-18T00:00"]);
    let stations: Vec<String> = lantian_json(&["--data", d, "stations", "--city", "成都"])
        .iter()
        .filter(|s| s["control"] == "N")
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect();
    // A station's PM2.5 over labels 1..=keep of a day, if at least 20 valid.
    let station_mean = |st: &str, date: &str, keep: usize| -> Option<f64> {
        let next = date.parse::<jiff::civil::Date>().unwrap().tomorrow().unwrap().to_string();
        let hours = lantian_json(&["--data", d, "hourly", "--station", st, "--from", date, "--to", &next]);
        // Rows are labelled by the hour's end: label 24 is label 0 of the next day.
        let vals: Vec<f64> = (1..=keep)
            .filter_map(|h| {
                let time = if h == 24 { format!("{next}T00:00") } else { format!("{date}T{h:02}:00") };
                hours.iter().find(|r| r["time"].as_str().unwrap().starts_with(&time)).and_then(|r| r["pm25"].as_f64())
            })
            .collect();
        (vals.len() >= 20).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
    };
    let city_deducted = |date: &str, keep: usize| -> Option<f64> {
        let v: Vec<f64> =
            stations.iter().filter_map(|st| station_mean(st, date, keep)).map(|m| round_even(m, 0)).collect();
        (!v.is_empty()).then(|| round_even(v.iter().sum::<f64>() / v.len() as f64, 0))
    };
    let daily = lantian_json(&["--data", d, "daily", "--city", "成都", "--from", "2019-07-14", "--to", "2019-07-18"]);
    let row = |date: &str| daily.iter().find(|r| r["date"] == date).unwrap().clone();
    assert_eq!(row("2019-07-14")["deducted"], false);
    assert_eq!(row("2019-07-15")["deducted"], true);
    assert_eq!(row("2019-07-15")["pm25_deducted"].as_f64(), city_deducted("2019-07-15", 20));
    assert_eq!(row("2019-07-16")["deducted"], false, "label 0 of the 16th belongs to the 15th");
    assert_eq!(row("2019-07-17")["deducted"], true);
    assert_eq!(row("2019-07-17")["pm25_deducted"].as_f64(), city_deducted("2019-07-17", 19));
}

/// Bad event files: a clear error naming the line and the field; nothing written.
#[test]
fn bad_event_files_write_nothing() {
    let (dir, data) = private_store();
    let d = s(&data);
    let head = "city,start,end,kind,reference,note\n";
    for (rows, want) in [
        (
            "成都,2019-07-10,2019-07-10,sand_dust,,\n北京市,2019-07-10,2019-07-10,sand_dust,,\n",
            "line 3, city: unknown city",
        ),
        ("成都,2019-07-10,2019-07-09,sand_dust,,\n", "line 2, end"),
        ("成都,2019-07-10,2019-07-12,sand_dust,,\n成都,2019-07-12,2019-07-13,sand_dust,,\n", "line 3, start: overlaps"),
        ("成都,2019-07-10,2019-07-10,dust,,\n", "line 2, kind"),
    ] {
        let file = dir.path().join("bad.csv");
        std::fs::write(&file, format!("{head}{rows}")).unwrap();
        let out = lantian(&["--data", d, "event", "import", s(&file)]);
        assert_eq!(out.status.code(), Some(2), "{rows}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want) && err.contains("bad.csv"), "{rows}: {err}");
        assert!(lantian_json(&["--data", d, "event", "list", "--all"]).is_empty(), "nothing written");
    }
    // An event overlapping one in the ledger is refused too.
    ok(&["--data", d, "event", "add", "--city", "成都", "--start", "2019-07-10", "--end", "2019-07-11"]);
    let file = dir.path().join("more.csv");
    std::fs::write(
        &file,
        format!("{head}绵阳,2019-07-10,2019-07-10,sand_dust,,\n成都,2019-07-11,2019-07-11,sand_dust,,\n"),
    )
    .unwrap();
    let out = lantian(&["--data", d, "event", "import", s(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overlaps event 1"));
    assert_eq!(lantian_json(&["--data", d, "event", "list", "--all"]).len(), 1, "all or none");
}

/// The July notice with a dust event says which cities had days deducted,
/// the way official notices do.
#[test]
fn the_notice_says_what_was_deducted() {
    let (dir, data) = private_store();
    let d = s(&data);
    ok(&[
        "--data",
        d,
        "event",
        "add",
        "--city",
        "成都",
        "--start",
        "2019-07-10",
        "--end",
        "2019-07-11",
        "--reference",
        "test",
    ]);
    let md = dir.path().join("notice.md");
    ok(&["--data", d, "report", "notice", "--period", "month:2019-07", "--format", "md", "--output", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("扣除天数分别为：成都2天"), "{text}");
    assert!(text.contains("2019年7月，扣除沙尘影响后，全省"), "{text}");
    // Included, the notice is the plain one.
    let plain = dir.path().join("plain.md");
    ok(&[
        "--data",
        d,
        "--dust",
        "included",
        "report",
        "notice",
        "--period",
        "month:2019-07",
        "--format",
        "md",
        "--output",
        s(&plain),
    ]);
    assert!(!std::fs::read_to_string(&plain).unwrap().contains("扣除沙尘"));
}

/// HJ 663-2026 three-year assessment: each three-year figure is the
/// GB/T 8170 mean of the three annual statistics, given three valid years.
#[test]
fn three_year_means() {
    let d = s(sample_store());
    let rows = lantian_json(&["--data", d, "assess", "--three-year", "--from", "2016-01-01", "--to", "2016-12-31"]);
    let mut checked = 0;
    for r in &rows {
        let city = r["city"].as_str().unwrap();
        let years: Vec<serde_json::Value> = (2014..=2016)
            .map(|y| {
                lantian_json(&[
                    "--data",
                    d,
                    "assess",
                    "--from",
                    &format!("{y}-01-01"),
                    "--to",
                    &format!("{y}-12-31"),
                    "--city",
                    city,
                ])
                .remove(0)
            })
            .collect();
        let all_valid = years.iter().all(|y| y["capture_ok"] == true);
        assert_eq!(r["valid_years"], years.iter().filter(|y| y["capture_ok"] == true).count(), "{city}");
        for k in ["pm25", "pm10", "so2", "no2"] {
            let want = all_valid.then(|| round_even(years.iter().map(|y| f(&y[k])).sum::<f64>() / 3.0, 0));
            assert_eq!(r[format!("{k}_3y")].as_f64(), want, "{city} {k}");
            for (i, y) in (2014..=2016).enumerate() {
                assert_eq!(r[format!("{k}_{y}")], years[i][k], "{city} {k} {y}");
            }
        }
        checked += usize::from(all_valid);
    }
    assert!(checked > 0, "some city has three valid years");
}
