//! Integrity screening end to end on the bundled real year: the findings'
//! shape, the injector's figures, a person's decisions and what they change,
//! and the checks that cannot run saying why.

use crate::common::{lantian, lantian_json, sample, sample_store};
use crate::official::private_store;
use lantian_app::screen::inject::{Episode, EvaluateRequest, Pattern, evaluate, neighbours_cover};
use lantian_app::screen::panel;
use lantian_core::integrity::{Check, Params};
use lantian_core::time::day_number;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = lantian(args);
    assert!(out.status.success(), "lantian {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn findings_of_the_sample_year() {
    let data = s(sample_store());
    let rows = lantian_json(&["--data", data, "screen", "--from", "2019-01-01", "--to", "2019-12-31"]);
    assert!(rows.len() > 20, "{}", rows.len());
    let mut last = f64::INFINITY;
    let mut ids = std::collections::HashSet::new();
    for r in &rows {
        for k in ["id", "station", "city", "from", "to", "check", "score", "evidence"] {
            assert!(r.get(k).is_some_and(|v| !v.is_null()), "{k} missing in {r}");
        }
        let score = r["score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&score) && score <= last, "sorted by score: {r}");
        last = score;
        assert!(Check::parse(r["check"].as_str().unwrap()).is_some(), "{r}");
        let (from, to) = (r["from"].as_str().unwrap(), r["to"].as_str().unwrap());
        assert!(from.len() == 10 && from <= to, "{r}");
        assert!(ids.insert(r["id"].as_str().unwrap().to_string()), "ids are unique: {r}");
    }
    // The same data give the same ids, whatever period is asked for.
    let july = lantian_json(&["--data", data, "screen", "--from", "2019-07-01", "--to", "2019-07-31"]);
    assert!(!july.is_empty());
    for r in &july {
        assert!(ids.contains(r["id"].as_str().unwrap()), "a July finding has its year id: {r}");
    }
    // A real fault in the sample: station 2543A's PM2.5 read 41 for 29 hours in January.
    let stuck = rows.iter().find(|r| r["id"] == "2543A-stuck-pm25-2019010912").expect("2543A's stuck PM2.5");
    assert!(stuck["evidence"].as_str().unwrap().contains("29小时恒为41"), "{stuck}");
    let en = lantian_json(&["--data", data, "--lang", "en", "screen", "--station", "2543A", "--check", "stuck"]);
    assert!(en.iter().any(|r| r["evidence"] == "PM2.5 read 41 for 29 hours in a row"), "{en:?}");
    let csv = ok(&["--data", data, "--format", "csv", "screen", "--from", "2019-01-01", "--to", "2019-12-31"]);
    assert!(csv.starts_with("id,station,station_name,city,from,to,check,series,score,status,evidence\n"));
    assert_eq!(csv.lines().count(), rows.len() + 1);
}

/// The injector on the real year: the figures docs/INTEGRITY.md reports
/// (seeds 1–3, ten episodes per pattern and seed) hold.
#[test]
fn the_injector_finds_what_it_put_in() {
    let store = lantian_store::Store::open(sample_store()).unwrap().with_values(lantian_store::Values::Raw);
    let d = |m, day| day_number(jiff::civil::date(2019, m, day));
    let req = EvaluateRequest {
        from: d(1, 1),
        to: d(12, 31),
        seeds: vec![1, 2, 3],
        episodes: 10,
        patterns: Pattern::ALL.to_vec(),
    };
    let e = evaluate(&store, &Params::default(), &req).unwrap();
    let share = |p: Pattern| {
        let r = &e.patterns.iter().find(|x| x.0 == p).unwrap().1;
        assert!(r.injected >= 20, "{p:?}: {r:?}");
        r.found as f64 / r.injected as f64
    };
    for p in [Pattern::Gauze, Pattern::Stuck, Pattern::Pm25OverPm10, Pattern::ControlLikeCity] {
        assert!(share(p) >= 0.9, "{p:?} found {:.2}", share(p));
    }
    // Below the 90 % aim (docs/INTEGRITY.md says so); a floor so a regression shows.
    for p in [Pattern::Spraying, Pattern::WithheldHighs, Pattern::PushedUnder, Pattern::Drift] {
        assert!(share(p) >= 0.5, "{p:?} found {:.2}", share(p));
    }
    assert!(e.station_months > 1000, "{}", e.station_months);
    assert!(e.per_station_month() < 0.11, "untouched station-months: {:.3}", e.per_station_month());
}

/// Episodes found by comparing with the neighbours go only where the
/// neighbours have data: 巴中's stations (2914A, 2915A) had none before
/// June 2019, and a drift put there could not be found by any check.
#[test]
fn the_injector_needs_the_neighbours_data() {
    let store = lantian_store::Store::open(sample_store()).unwrap().with_values(lantian_store::Values::Raw);
    let d = |m, day| day_number(jiff::civil::date(2019, m, day));
    let p = panel::load(&store, d(1, 1), d(12, 31)).unwrap();
    let near = panel::neighbours(&p.stations, Params::default().neighbours.radius_km);
    let i = p.stations.iter().position(|m| m.code == "2914A").unwrap();
    let ep = |pattern, a: (i8, i8), b: (i8, i8)| Episode {
        pattern,
        station: i,
        from: d(a.0, a.1) * 24 + 1,
        to: d(b.0, b.1) * 24 + 24,
        strength: String::new(),
    };
    assert!(!neighbours_cover(Pattern::Drift, &p, &near[i], &ep(Pattern::Drift, (2, 1), (4, 30))));
    assert!(!neighbours_cover(Pattern::Gauze, &p, &near[i], &ep(Pattern::Gauze, (3, 1), (3, 20))));
    assert!(neighbours_cover(Pattern::Drift, &p, &near[i], &ep(Pattern::Drift, (9, 1), (11, 30))));
    // Judged on the station alone: no neighbours needed.
    assert!(neighbours_cover(Pattern::Stuck, &p, &near[i], &ep(Pattern::Stuck, (2, 1), (2, 3))));
    // The seeds that put drift there before (4–6: 2914A, 7–9: 2915A) now pick other stations or periods.
    let req = EvaluateRequest {
        from: d(1, 1),
        to: d(12, 31),
        seeds: (4..=9).collect(),
        episodes: 10,
        patterns: vec![Pattern::Drift],
    };
    let e = evaluate(&store, &Params::default(), &req).unwrap();
    assert!(
        e.misses.iter().all(|m| !["2914A", "2915A"].contains(&m.station.as_str()) || m.episode.from > d(6, 1) * 24),
        "{:?}",
        e.misses
    );
}

#[test]
fn decisions_hide_dismissed_findings_and_invalidate_confirmed_hours() {
    let (_dir, data) = private_store();
    let data = s(&data);
    let all = lantian_json(&["--data", data, "screen", "--check", "stuck,divergence"]);
    let stuck = "2543A-stuck-pm25-2019010912";
    let other = all.iter().find(|r| r["check"] == "divergence").unwrap()["id"].as_str().unwrap().to_string();
    // A decision needs a note, and a finding that exists.
    let out = lantian(&["--data", data, "screen", "review", &other, "--dismiss", "--note", " "]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("needs a note"));
    let out = lantian(&["--data", data, "screen", "review", "2543A-stuck-pm25-2019010913", "--dismiss", "--note", "x"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no finding"));
    let out = lantian(&["--data", data, "screen", "review", "not-an-id", "--dismiss", "--note", "x"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a finding id"));
    ok(&[
        "--data",
        data,
        "screen",
        "review",
        &other,
        "--dismiss",
        "--note",
        "weather: valley fog on site",
        "--by",
        "省站",
    ]);
    let after = lantian_json(&["--data", data, "screen", "--check", "stuck,divergence"]);
    assert_eq!(after.len(), all.len() - 1, "dismissed stays dismissed");
    assert!(after.iter().all(|r| r["id"] != other.as_str()));
    let with = lantian_json(&["--data", data, "screen", "--check", "stuck,divergence", "--all"]);
    let r = with.iter().find(|r| r["id"] == other.as_str()).unwrap();
    assert_eq!(r["status"], "dismissed");
    // Confirmed with --invalidate: the hours leave the best values, the raw layer keeps them.
    let hour = |values: &str| {
        let rows = lantian_json(&[
            "--data",
            data,
            "hourly",
            "--station",
            "2543A",
            "--from",
            "2019-01-10",
            "--to",
            "2019-01-10",
            "--values",
            values,
        ]);
        rows.iter().find(|r| r["time"] == "2019-01-10T05:00+08:00").unwrap()["pm25"].clone()
    };
    assert_eq!(hour("best"), serde_json::json!(41.0));
    ok(&[
        "--data",
        data,
        "screen",
        "review",
        stuck,
        "--confirm",
        "--invalidate",
        "--note",
        "analyser frozen, log seen on site",
        "--by",
        "稽查",
    ]);
    assert_eq!(hour("raw"), serde_json::json!(41.0));
    assert!(hour("best").is_null(), "invalidated in the audited layer");
    assert!(Path::new(data).join("invalidations").join(format!("{stuck}.csv")).exists());
    let show = ok(&["--data", data, "--format", "csv", "screen", "show", stuck]);
    assert!(
        show.contains("confirmed,\"analyser frozen, log seen on site\"") || show.contains("confirmed,analyser frozen"),
        "{show}"
    );
    assert!(show.contains("稽查"), "{show}");
    // A policy rule on confirmed findings: on-site data verification (数据核查) for the station's city.
    let policy = Path::new(data).join("verify-policy.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"verify\"\nname = \"数据核查\"\nwhen = { confirmed_findings = 1 }\naction = \"data_verification\"\n",
    )
    .unwrap();
    let acts = lantian_json(&["--data", data, "policy", "run", "--period", "month:2019-01", "--policy", s(&policy)]);
    assert_eq!(acts.len(), 1, "{acts:?}");
    let text = acts[0].to_string();
    assert!(text.contains("广安") && text.contains("data_verification"), "{text}");
    let acts = lantian_json(&["--data", data, "policy", "run", "--period", "month:2019-02", "--policy", s(&policy)]);
    assert!(acts.is_empty(), "the finding is January's: {acts:?}");
    // Only confirmed findings invalidate.
    let out = lantian(&["--data", data, "screen", "review", &other, "--dismiss", "--invalidate", "--note", "x"]);
    assert!(!out.status.success());
}

/// A station list without coordinates, a city with one station, a month of
/// data: the checks that cannot run say so and why, and nothing panics.
#[test]
fn checks_that_cannot_run_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    let list = std::fs::read_to_string(sample().join("sichuan_stations_2022.02.13.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in list.lines().enumerate() {
        let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
        if i > 0 {
            // No coordinates anywhere; 1431A alone in a city of its own.
            f[3].clear();
            f[4].clear();
            if f[0] == "1431A" {
                f[2] = "孤城".into();
            }
        }
        out.push_str(&f.join(","));
        out.push('\n');
    }
    std::fs::write(raw.join("stations.csv"), out).unwrap();
    for day in 1..=20 {
        let name = format!("china_sites_201901{day:02}.csv.gz");
        std::fs::copy(sample().join("cnemc_sichuan_2019").join(&name), raw.join(&name)).unwrap();
    }
    let data = dir.path().join("data");
    ok(&["--data", s(&data), "import", s(&raw)]);
    let text =
        ok(&["--data", s(&data), "--lang", "en", "--format", "csv", "screen", "--not-run", "--station", "1431A"]);
    assert!(
        text.contains("1431A,孤城,divergence,no neighbour with data (no coordinates and no other station in its city)"),
        "{text}"
    );
    // Twenty days are too few for any station's own baseline.
    let text = ok(&[
        "--data",
        s(&data),
        "--lang",
        "en",
        "--format",
        "csv",
        "screen",
        "--not-run",
        "--city",
        "成都",
        "--check",
        "divergence",
    ]);
    assert!(text.contains("too few days beside the neighbours"), "{text}");
    let zh = ok(&["--data", s(&data), "--format", "csv", "screen", "--not-run", "--station", "1431A"]);
    assert!(zh.contains("站点无坐标且同城无其他站点"), "{zh}");
}
