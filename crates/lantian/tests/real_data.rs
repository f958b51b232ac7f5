//! Correctness against the network's own published values in the bundled
//! real data (see sample/README.md and docs/STANDARDS.md).

use crate::common::{lantian_json, round_even, sample, sample_store};
use jiff::civil::date;
use lantian_app::verify::{VERIFY_KINDS, verify_store};
use lantian_core::Pollutant;
use lantian_core::city::{AreaMethod, area_day};
use lantian_core::series::{CaptureRules, DailyValues};
use lantian_core::time::{date_of, day_number};
use lantian_store::Store;
use lantian_store::query::station_days;
use std::collections::{BTreeMap, HashMap};

fn kind_index(key: &str) -> usize {
    VERIFY_KINDS.iter().position(|(k, _)| *k == key).unwrap()
}

/// Every station-hour with all six 1-hour values: hourly AQI equals the
/// network's; every station-day with 24 hours: daily means equal the
/// network's 24-hour values (CO halves undecidable; days whose archive hours
/// the network itself later revised are counted apart and must be rare).
#[test]
fn verify_agrees_with_the_network() {
    let store = Store::open(sample_store()).unwrap();
    let acc = verify_store(&store, None, None).unwrap();
    let aqi = &acc[kind_index("hourly_aqi")];
    assert!(aqi.checked > 700_000, "checked {}", aqi.checked);
    assert_eq!(aqi.agree, aqi.checked, "hourly AQI mismatches: {:?}", aqi.mismatches);
    for key in ["daily_pm25", "daily_pm10", "daily_so2", "daily_no2", "daily_co"] {
        let a = &acc[kind_index(key)];
        assert!(a.checked > 18_000, "{key}: checked {}", a.checked);
        assert!(a.mismatches.is_empty(), "{key}: {:?}", a.mismatches);
        assert_eq!(a.agree + a.explained, a.checked, "{key}");
        assert!(a.explained <= 1, "{key}: {} source-revised days", a.explained);
    }
    // City daily values against the published city file on the days the
    // archive determines (Chengdu: 67, 58, 64, 49 days).
    for (key, min) in [("city_pm25", 67), ("city_pm10", 58), ("city_so2", 64), ("city_no2", 49)] {
        let a = &acc[kind_index(key)];
        assert!(a.checked >= min, "{key}: checked {}", a.checked);
        assert_eq!(a.agree, a.checked, "{key}: {:?}", a.mismatches);
    }
    // Informative kinds are still overwhelmingly in agreement.
    for key in ["o3_8h", "o3_mda8", "o3_1h_max"] {
        let a = &acc[kind_index(key)];
        assert!(a.agree as f64 >= 0.999 * a.checked as f64, "{key}: {}/{}", a.agree, a.checked);
    }
}

/// Published Chengdu city daily values (city_daily/aqistudy_2014-01_2022-05_chengdu),
/// read here straight from the CSV.
fn published_chengdu() -> HashMap<i64, HashMap<String, f64>> {
    let path = sample().join("city_daily/aqistudy_2014-01_2022-05_chengdu/成都.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let mut out = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let mut row = HashMap::new();
        let mut day = 0;
        for (h, v) in headers.iter().zip(rec.iter()) {
            if h == "time_point" {
                day = day_number(v.parse().unwrap());
            } else if let Ok(x) = v.parse::<f64>() {
                row.insert(h.to_string(), x);
            }
        }
        out.insert(day, row);
    }
    out
}

/// On every day when each of Chengdu's seven non-control stations has all
/// 24 hours of a pollutant, lantian's city daily value equals the published.
#[test]
fn chengdu_city_daily_equals_published() {
    let store = Store::open(sample_store()).unwrap();
    let stations: Vec<String> =
        ["1431A", "1432A", "1433A", "1434A", "1437A", "2880A", "3136A"].iter().map(|s| s.to_string()).collect();
    let mut by_day: BTreeMap<i64, Vec<DailyValues>> = BTreeMap::new();
    let (d0, d1) = (day_number(date(2019, 1, 1)), day_number(date(2019, 12, 31)));
    station_days(&store, Some(&stations), d0, d1, &CaptureRules::default(), |_, d, v| {
        by_day.entry(d).or_default().push(*v)
    })
    .unwrap();
    let published = published_chengdu();
    // What the command prints: `lantian daily --city 成都` for 2019.
    let data = sample_store().to_str().unwrap();
    let cli: HashMap<String, serde_json::Value> =
        lantian_json(&["--data", data, "daily", "--city", "成都", "--from", "2019-01-01", "--to", "2019-12-31"])
            .into_iter()
            .map(|r| (r["date"].as_str().unwrap().to_string(), r))
            .collect();
    let checks = [
        (Pollutant::Pm25, "pm2_5", "pm25", 60),
        (Pollutant::Pm10, "pm10", "pm10", 50),
        (Pollutant::So2, "so2", "so2", 60),
        (Pollutant::No2, "no2", "no2", 45),
    ];
    for (p, col, key, min_days) in checks {
        let k = Pollutant::ALL.iter().position(|x| *x == p).unwrap();
        let (mut n, mut agree) = (0, 0);
        for (day, vals) in &by_day {
            // Days the files fully determine: all seven stations with 24 hours.
            if vals.len() != 7 || vals.iter().any(|v| v.hours[k] != 24) {
                continue;
            }
            let city = area_day(vals, AreaMethod::default(), 1);
            let ours = p.report(city.get(p).unwrap());
            let printed = cli[&date_of(*day).unwrap().to_string()][key].as_f64().unwrap();
            assert_eq!(printed, ours, "{p} {day}: the command prints what the rules give");
            let theirs = published[day][col];
            n += 1;
            if ours == theirs {
                agree += 1;
            } else {
                eprintln!("{p} {:?}: ours {ours}, published {theirs}", date_of(*day));
            }
        }
        assert!(n >= min_days, "{p}: only {n} fully determined days");
        assert_eq!(agree, n, "{p}: {agree}/{n}");
    }
}

#[test]
fn assess_2019_gives_all_21_cities() {
    let data = sample_store().to_str().unwrap();
    let rows = lantian_json(&["--data", data, "assess", "--from", "2019-01-01", "--to", "2019-12-31"]);
    assert_eq!(rows.len(), 21);
    for r in &rows {
        for key in [
            "valid_days",
            "pm25",
            "pm10",
            "so2",
            "no2",
            "co_p95",
            "o3_8h_p90",
            "good_days",
            "good_ratio",
            "heavy_days",
            "composite_index",
            "rank",
        ] {
            assert!(!r[key].is_null(), "{} has no {key}", r["city"]);
        }
    }
    let chengdu = rows.iter().find(|r| r["city"] == "成都").unwrap();
    // Chengdu's official 2019 PM2.5 annual mean was 43 μg/m³.
    assert_eq!(chengdu["pm25"], 43.0);
    // Ranks are 1..=21 in order of composite index, ties sharing a rank.
    let mut ci: Vec<(f64, u64)> =
        rows.iter().map(|r| (r["composite_index"].as_f64().unwrap(), r["rank"].as_u64().unwrap())).collect();
    ci.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (i, (v, rank)) in ci.iter().enumerate() {
        let expected = 1 + ci.iter().filter(|(w, _)| w < v).count() as u64;
        assert_eq!(*rank, expected, "row {i}");
    }
}

/// Mean of one column of a published file for one year, computed here.
fn published_mean(file: &str, has_header: bool, col: usize, year: i16) -> (f64, usize) {
    let text = std::fs::read_to_string(sample().join("city_daily").join(file)).unwrap();
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(has_header).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let (mut sum, mut n) = (0.0, 0);
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let date_field = if has_header { &rec[9] } else { &rec[1] };
        let d: jiff::civil::Date = date_field.parse().unwrap();
        if d.year() == year {
            sum += rec[col].parse::<f64>().unwrap();
            n += 1;
        }
    }
    (sum / n as f64, n)
}

#[test]
fn assess_2016_with_2015_baseline() {
    let data = sample_store().to_str().unwrap();
    let rows = lantian_json(&[
        "--data",
        data,
        "assess",
        "--from",
        "2016-01-01",
        "--to",
        "2016-12-31",
        "--compare",
        "previous-year",
    ]);
    assert_eq!(rows.len(), 21);
    for r in &rows {
        for key in
            ["pm25", "pm25_prev", "pm25_change", "pm10_prev", "pm10_change", "good_ratio_prev", "good_ratio_change"]
        {
            assert!(!r[key].is_null(), "{} has no {key}", r["city"]);
        }
        assert_eq!(r["days"], 366);
    }
    // Independent figures for three cities from the raw files (PM2.5 column 6, PM10 column 7).
    for city in ["自贡", "宜宾", "南充"] {
        let file = format!("aqistudy_2013-12_2017-01_sichuan21/{city}.csv");
        let r = rows.iter().find(|r| r["city"] == city).unwrap();
        let (cur, n) = published_mean(&file, false, 5, 2016);
        let (prev, _) = published_mean(&file, false, 5, 2015);
        assert_eq!(n, 366);
        assert_eq!(r["pm25"].as_f64().unwrap(), round_even(cur, 0), "{city} pm25");
        assert_eq!(r["pm25_prev"].as_f64().unwrap(), round_even(prev, 0), "{city} pm25_prev");
        let change = round_even((round_even(cur, 0) - round_even(prev, 0)) / round_even(prev, 0) * 100.0, 1);
        assert_eq!(r["pm25_change"].as_f64().unwrap(), change, "{city} pm25_change");
        let (pm10, _) = published_mean(&file, false, 6, 2016);
        assert_eq!(r["pm10"].as_f64().unwrap(), round_even(pm10, 0), "{city} pm10");
    }
}

#[test]
fn chengdu_annual_figures_2014_to_2021() {
    let data = sample_store().to_str().unwrap();
    // Official file: pm2_5 is column 5, pm10 column 4, no2 column 2, so2 column 8.
    for year in 2014..=2021i16 {
        let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
        let rows = lantian_json(&["--data", data, "assess", "--from", &from, "--to", &to, "--city", "成都"]);
        assert_eq!(rows.len(), 1, "{year}");
        let r = &rows[0];
        let file = "aqistudy_2014-01_2022-05_chengdu/成都.csv";
        for (key, col) in [("pm25", 5), ("pm10", 4), ("no2", 2), ("so2", 8)] {
            let (mean, n) = published_mean(file, true, col, year);
            assert!(n >= 365, "{year}: {n} days");
            if year == 2019 {
                continue; // 2019 is computed from station hours (the archive has gaps)
            }
            assert_eq!(r[key].as_f64().unwrap(), round_even(mean, 0), "{year} {key}");
        }
        assert!(!r["o3_8h_p90"].is_null(), "{year} o3");
    }
}

#[test]
fn station_daily_cli_matches_network_day() {
    let data = sample_store().to_str().unwrap();
    let rows =
        lantian_json(&["--data", data, "daily", "--station", "1431A", "--from", "2019-01-02", "--to", "2019-01-02"]);
    assert_eq!(rows.len(), 1);
    // The network's PM2.5_24h for 1431A at label 0 of 2019-01-03, read from the file here.
    let gz = std::fs::read(sample().join("cnemc_sichuan_2019/china_sites_20190103.csv.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "1431A").unwrap();
    let row = lines.find(|l| l.starts_with("20190103,0,PM2.5_24h,")).unwrap();
    let published: f64 = row.split(',').nth(col).unwrap().parse().unwrap();
    assert_eq!(rows[0]["pm25"].as_f64().unwrap(), published);
    // `hours` is the binding (smallest) count over the six pollutants.
    assert!(rows[0]["hours"].as_u64().unwrap() >= 20);
}

#[test]
fn rank_cities_and_regions() {
    let data = sample_store().to_str().unwrap();
    let rows = lantian_json(&["--data", data, "rank", "--from", "2016-01-01", "--to", "2016-12-31", "--by", "pm25"]);
    assert_eq!(rows.len(), 21);
    // Ranks follow PM2.5 ascending; equal values share a rank (1, 2, 2, 4).
    let pm: Vec<(f64, u64)> = rows.iter().map(|r| (r["pm25"].as_f64().unwrap(), r["rank"].as_u64().unwrap())).collect();
    for (v, rank) in &pm {
        assert_eq!(*rank, 1 + pm.iter().filter(|(w, _)| w < v).count() as u64);
    }
    assert!(pm.windows(2).all(|w| w[0].0 <= w[1].0));
    let regions =
        lantian_json(&["--data", data, "rank", "--from", "2019-01-01", "--to", "2019-12-31", "--level", "region"]);
    assert_eq!(regions.len(), 5);
    let assessed =
        lantian_json(&["--data", data, "assess", "--from", "2019-01-01", "--to", "2019-12-31", "--level", "region"]);
    assert_eq!(assessed.len(), 5);
    for r in &regions {
        let a = assessed.iter().find(|x| x["city"] == r["region"]).unwrap();
        assert_eq!(a["composite_index"], r["composite_index"]);
    }
    assert!(regions.iter().all(|r| !r["composite_index"].is_null()), "{regions:?}");
    // Chengdu 2018 against its 2015-2017 mean, weighted composite.
    let rows =
        lantian_json(&["--data", data, "rank", "--from", "2018-01-01", "--to", "2018-12-31", "--weights", "weighted"]);
    let cd = rows.iter().find(|r| r["city"] == "成都").unwrap();
    assert_eq!(cd["weights"], "weighted");
    assert!(!cd["composite_3y"].is_null() && !cd["pm25_change_3y"].is_null());
}

#[test]
fn target_check_on_2019_07_31() {
    let data = sample_store().to_str().unwrap();
    let file = sample().join("targets-2019.toml");
    let rows =
        lantian_json(&["--data", data, "target", "check", "--as-of", "2019-07-31", "--file", file.to_str().unwrap()]);
    let find =
        |area: &str, ind: &str| rows.iter().find(|r| r["area"] == area && r["indicator"] == ind).unwrap().clone();
    // Chengdu's good days so far, counted here from the daily table.
    let days = lantian_json(&["--data", data, "daily", "--city", "成都", "--from", "2019-01-01", "--to", "2019-07-31"]);
    let valid: Vec<u64> = days.iter().filter_map(|d| d["aqi"].as_u64()).collect();
    let (good, n) = (valid.iter().filter(|a| **a <= 100).count() as f64, valid.len() as f64);
    let remaining = 153.0; // Aug 1 … Dec 31
    let affordable = (0..=153)
        .rev()
        .find(|bad| round_even(100.0 * (good + remaining - *bad as f64) / (n + remaining), 1) >= 80.0)
        .unwrap();
    let cd = find("成都", "good_ratio");
    assert_eq!(cd["so_far"].as_f64().unwrap(), round_even(100.0 * good / n, 1));
    assert_eq!(cd["budget"].as_f64().unwrap(), affordable as f64);
    assert_eq!(cd["remaining_days"], 153);
    assert_eq!(cd["history_years"], 5); // 2014-2018 from the published Chengdu file
    assert_eq!(cd["status"], "at_risk");
    assert_eq!(find("成都", "heavy_days")["status"], "on_track");
    assert_eq!(find("绵阳", "good_ratio")["status"], "on_track");
    // Aba has two earlier years (2015, 2016): too little history for a probability.
    let aba = find("阿坝州", "pm25");
    assert!(aba["probability"].is_null());
    assert_eq!(aba["status"], "on_track");
    // Year over: met or missed, nothing left to budget.
    let end =
        lantian_json(&["--data", data, "target", "check", "--as-of", "2019-12-31", "--file", file.to_str().unwrap()]);
    assert!(end.iter().all(|r| r["status"] == "met" || r["status"] == "missed"), "{end:?}");
    assert!(end.iter().all(|r| r["remaining_days"] == 0));
}

#[test]
fn bad_targets_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[target]]\narea = \"成都\"\nyear = 2019\npm2_5 = 40\n").unwrap();
    let data = dir.path().join("data");
    let out = crate::common::lantian(&["--data", data.to_str().unwrap(), "target", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml line 4") && err.contains("pm2_5"), "{err}");
    assert!(!data.join("targets.toml").exists(), "nothing written");
}

/// The sample policy on July 2019: actions match the assessment they stand
/// on, a second run records nothing, and the ledger keeps who did what. On
/// the SQLite ledger, and on PostgreSQL when `LANTIAN_TEST_PG` is set.
#[test]
fn policy_run_month_2019_07() {
    policy_checks(None);
    match lantian_store::ledger::test_pg("policy_cli") {
        Some(url) => policy_checks(Some(&url)),
        None => eprintln!("LANTIAN_TEST_PG not set: PostgreSQL run skipped"),
    }
}

fn policy_checks(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A private copy of the store: the SQLite ledger is written next to it.
    copy_dir(sample_store(), &data);
    let d = data.to_str().unwrap();
    let mut base: Vec<&str> = vec!["--data", d];
    if let Some(url) = database {
        base.extend(["--database", url]);
    }
    let with = |args: &[&str]| -> Vec<String> { base.iter().chain(args).map(|s| s.to_string()).collect() };
    let json = |args: &[&str]| {
        let a = with(args);
        lantian_json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let run = |args: &[&str]| {
        let a = with(args);
        crate::common::lantian(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let july = json(&["assess", "--from", "2019-07-01", "--to", "2019-07-31", "--compare", "previous-year"]);
    let first = json(&["policy", "run", "--period", "month:2019-07"]);
    let kinds = |area: &str| -> Vec<String> {
        first.iter().filter(|a| a["area"] == area).map(|a| a["action"].as_str().unwrap().to_string()).collect()
    };
    // Every city with data gets the monthly notice.
    assert_eq!(first.iter().filter(|a| a["action"] == "notice").count(), july.len());
    // The three worst composite indexes are interviewed.
    let worst: Vec<&str> =
        july.iter().filter(|r| r["rank"].as_u64().unwrap() > 18).map(|r| r["city"].as_str().unwrap()).collect();
    assert_eq!(worst.len(), 3);
    for city in &worst {
        assert!(kinds(city).contains(&"interview".to_string()), "{city}: {:?}", kinds(city));
    }
    // Reminder letters exactly where PM2.5 rose year on year (only Chengdu has 2018 data).
    for r in &july {
        let up = matches!((r["pm25"].as_f64(), r["pm25_prev"].as_f64()), (Some(a), Some(b)) if a > b);
        let city = r["city"].as_str().unwrap();
        assert_eq!(kinds(city).contains(&"reminder_letter".to_string()), up, "{city}");
    }
    let second = json(&["policy", "run", "--period", "month:2019-07"]);
    assert!(second.is_empty(), "{second:?}");
    // Acknowledge and lift by hand; the audit trail records both.
    let id = first[0]["id"].as_i64().unwrap().to_string();
    assert!(run(&["action", "ack", &id, "--by", "乐山市生态环境局"]).status.success());
    assert!(run(&["action", "lift", &id, "--by", "省厅", "--reason", "整改完成"]).status.success());
    assert!(!run(&["action", "lift", &id, "--reason", "again"]).status.success());
    let shown = run(&["action", "show", &id]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("乐山市生态环境局") && text.contains("lifted: 整改完成") && text.contains("\"reasons\""),
        "{text}"
    );
}

pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Counties are sets of stations from the province's areas.toml: a county
/// made of one station ranks exactly as that station's own statistics.
#[test]
fn rank_counties_from_station_sets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(sample_store(), &data);
    std::fs::write(
        data.join("areas.toml"),
        "[[county]]\nname = \"甲\"\nstations = [\"1431A\"]\n\n[[county]]\nname = \"乙\"\nstations = [\"1432A\", \"1433A\"]\n",
    )
    .unwrap();
    let d = data.to_str().unwrap();
    let rows = lantian_json(&[
        "--data",
        d,
        "rank",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-31",
        "--level",
        "county",
        "--by",
        "pm25",
    ]);
    assert_eq!(rows.len(), 2);
    let jia = rows.iter().find(|r| r["county"] == "甲").unwrap();
    let days =
        lantian_json(&["--data", d, "daily", "--station", "1431A", "--from", "2019-07-01", "--to", "2019-07-31"]);
    let pm: Vec<f64> = days.iter().filter_map(|r| r["pm25"].as_f64()).collect();
    // Period mean of the unrounded daily values; the reported daily values are
    // integers, so the mean of those is within 0.5 of it.
    let approx = pm.iter().sum::<f64>() / pm.len() as f64;
    assert!((jia["pm25"].as_f64().unwrap() - approx).abs() <= 1.0, "{jia} vs {approx}");
}

/// A restriction imposed when Chengdu's PM2.5 rose (July 2019: 21 against
/// 20 μg/m³) lifts itself in the run for a month it fell (August: 28 against 31).
#[test]
fn restriction_lifts_itself() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(sample_store(), &data);
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"r\"\nname = \"限批\"\nwhen = { pm25_up_yoy = true }\naction = \"approval_restriction\"\nlift_when = { pm25_down_yoy = true }\n",
    )
    .unwrap();
    let (d, p) = (data.to_str().unwrap(), policy.to_str().unwrap());
    let july = lantian_json(&["--data", d, "policy", "run", "--period", "month:2019-07", "--policy", p]);
    assert_eq!(july.len(), 1, "{july:?}");
    assert_eq!(
        (july[0]["area"].as_str(), july[0]["action"].as_str(), july[0]["event"].as_str()),
        (Some("成都"), Some("approval_restriction"), Some("recorded"))
    );
    let august = lantian_json(&["--data", d, "policy", "run", "--period", "month:2019-08", "--policy", p]);
    assert_eq!(august.len(), 1, "{august:?}");
    assert_eq!((august[0]["id"].clone(), august[0]["event"].as_str()), (july[0]["id"].clone(), Some("lifted")));
    let listed = lantian_json(&["--data", d, "action", "list", "--status", "lifted"]);
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["close_reason"].as_str().unwrap().starts_with("month:2019-08: PM2.5 28.0 vs 31.0"), "{listed:?}");
}

/// 周排名、周扣缴: the worst county of a week has funds docked.
#[test]
fn weekly_county_deduction() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(sample_store(), &data);
    std::fs::write(
        data.join("areas.toml"),
        "[[county]]\nname = \"甲\"\nstations = [\"1905A\", \"1906A\"]\n\n[[county]]\nname = \"乙\"\nstations = [\"1907A\", \"1908A\"]\n\n[[county]]\nname = \"丙\"\nstations = [\"1909A\", \"1910A\"]\n",
    )
    .unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "[[rule]]\nid = \"w\"\nname = \"周扣缴\"\nwhen = { rank_worst = 1 }\naction = \"fund_deduction\"\namount = { fixed = 100000.0 }\n").unwrap();
    let (d, p) = (data.to_str().unwrap(), policy.to_str().unwrap());
    let ranked =
        lantian_json(&["--data", d, "rank", "--level", "county", "--from", "2019-07-01", "--to", "2019-07-07"]);
    let worst: Vec<&str> = ranked
        .iter()
        .filter(|r| r["rank"].as_u64() == ranked.iter().filter_map(|r| r["rank"].as_u64()).max())
        .map(|r| r["county"].as_str().unwrap())
        .collect();
    let run =
        lantian_json(&["--data", d, "policy", "run", "--level", "county", "--period", "week:2019-W27", "--policy", p]);
    let docked: Vec<&str> = run.iter().map(|a| a["area"].as_str().unwrap()).collect();
    assert_eq!(docked, worst, "{run:?}");
    assert!(run.iter().all(|a| a["amount"] == 100000.0 && a["action"] == "fund_deduction"));
}

/// The sample year's stored station days (written by the import beside each
/// month) give what its hours give: the year's assessment, the daily values
/// of every Chengdu station and of two cities, across months and years,
/// byte for byte the same read either way (`LANTIAN_STORED_DAYS=0` reads the
/// hours). Order matters too: a city's value sums its stations in the order
/// they come.
#[test]
fn stored_days_equal_the_hours_on_the_sample_year() {
    let store = Store::open(sample_store()).unwrap();
    let stored = std::fs::read_dir(store.dir().join("hourly"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "days"))
        .count();
    assert_eq!(stored, 12, "a days file beside every month");
    let data = sample_store().to_str().unwrap();
    let run = |hours: bool, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lantian"));
        cmd.args(["--data", data]).args(args).args(["--format", "csv"]);
        if hours {
            cmd.env("LANTIAN_STORED_DAYS", "0");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let year = ["--from", "2019-01-01", "--to", "2019-12-31"];
    let mut cases: Vec<Vec<&str>> = vec![[&["assess"][..], &year].concat()];
    for city in ["成都", "阿坝州"] {
        cases.push([&["daily", "--city", city][..], &year].concat());
    }
    for st in ["1431A", "1432A", "1433A", "1434A", "1437A", "2880A", "3136A"] {
        cases.push(vec!["daily", "--station", st, "--from", "2019-02-10", "--to", "2019-04-30"]);
    }
    cases.push(vec!["daily", "--city", "成都", "--from", "2018-12-31", "--to", "2019-01-01"]);
    for args in &cases {
        let stored = run(false, args);
        assert!(stored.len() > 100, "{args:?}");
        assert!(stored == run(true, args), "{args:?}: the stored days and the hours differ");
    }
}
