//! Nothing lost: rejects, idempotent re-import, interrupted imports.

use crate::common::{lantian, lantian_json, sample};
use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn bad_rows_go_to_the_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write(
        &input.join("long.csv"),
        "station,time,pollutant,value\n1001A,2019-01-01T01:00,pm25,35\n1001A,2019-01-01T02:00,pm25,abc\n1001A,2019-01-01T03:30,pm25,40\n1001A,2019-01-01T04:00,nox,40\n1001A,2019-01-01T05:00,pm25\n",
    );
    write(&input.join("junk.csv"), "hello,world\n1,2\n");
    let data = dir.path().join("data");
    let out = lantian(&["--data", data.to_str().unwrap(), "import", input.to_str().unwrap()]);
    // One file could not be read at all: non-zero exit, the rest imported.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("junk.csv"), "{stderr}");
    let rejects_dir = data.join("rejects");
    let file = std::fs::read_dir(&rejects_dir).unwrap().next().unwrap().unwrap().path();
    let mut rdr = csv::Reader::from_path(file).unwrap();
    assert_eq!(rdr.headers().unwrap(), vec!["file", "line", "column", "reason", "value"]);
    let got: Vec<(String, String, String, String)> = rdr
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[1].to_string(), r[2].to_string(), r[3].to_string(), r[4].to_string()))
        .collect();
    let want = [
        ("3", "value", "not a number", "abc"),
        ("4", "time", "hourly data must be on the hour", "2019-01-01T03:30"),
        ("5", "pollutant", "unknown pollutant", "nox"),
        ("6", "", "expected 4 fields, found 3", "1001A2019-01-01T05:00pm25"),
    ];
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(got, want);
    let rows = lantian_json(&[
        "--data",
        data.to_str().unwrap(),
        "hourly",
        "--station",
        "1001A",
        "--from",
        "2019-01-01",
        "--to",
        "2019-01-01",
    ]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["pm25"], 35.0);
}

#[test]
fn reimport_changes_nothing_and_revisions_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = dir.path().join("a.csv");
    write(&a, "station,time,pollutant,value\nS1,2019-03-01T01:00,pm25,35\nS1,2019-03-01T02:00,pm25,36\n");
    let s1 = lantian_store::import(&data, std::slice::from_ref(&a), None).unwrap();
    assert_eq!((s1.hourly.imported, s1.committed), (2, true));
    let manifest = std::fs::read(data.join("manifest.json")).unwrap();
    let s2 = lantian_store::import(&data, std::slice::from_ref(&a), None).unwrap();
    assert_eq!((s2.hourly.imported, s2.hourly.revised, s2.hourly.unchanged, s2.committed), (0, 0, 2, false));
    assert_eq!(std::fs::read(data.join("manifest.json")).unwrap(), manifest);
    let b = dir.path().join("b.csv");
    write(&b, "station,time,pollutant,value\nS1,2019-03-01T02:00,pm25,38\n");
    let s3 = lantian_store::import(&data, &[b], None).unwrap();
    assert_eq!((s3.hourly.imported, s3.hourly.revised), (0, 1));
}

#[test]
fn aqi_calculator() {
    let rows = lantian_json(&[
        "aqi",
        "--pm25",
        "68",
        "--pm10",
        "135",
        "--so2",
        "20",
        "--no2",
        "95",
        "--co",
        "1.3",
        "--o3-8h",
        "180",
        "--edition",
        "2026",
    ]);
    assert_eq!(rows[0]["aqi"], 119);
    assert_eq!(rows[0]["primary"], "O3");
    assert_eq!(rows[0]["iaqi_pm25"], 108);
    assert_eq!(rows[0]["level"], 3);
    let rows = lantian_json(&["aqi", "--pm25", "68", "--edition", "2012", "--no2", "95"]);
    assert_eq!(rows[0]["aqi"], 108);
    assert_eq!(rows[0]["primary"], "NO2");
}

/// A store's own month files import into another store (Parquet input) and
/// give the same assessment.
#[test]
fn parquet_month_files_round_trip() {
    let src = crate::common::sample_store();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("copy");
    let stations = sample().join("sichuan_stations_2022.02.13.csv");
    let s = lantian_store::import(&data, &[src.join("hourly"), stations], None).unwrap();
    assert!(s.unreadable.is_empty(), "{:?}", s.unreadable);
    assert_eq!(s.rejected, 0);
    assert_eq!(s.hourly.imported, 11_473_221);
    let args = ["assess", "--from", "2019-01-01", "--to", "2019-12-31", "--city", "宜宾", "--source", "stations"];
    let a = lantian_json(&[&["--data", src.to_str().unwrap()][..], &args[..]].concat());
    let b = lantian_json(&[&["--data", data.to_str().unwrap()][..], &args[..]].concat());
    assert_eq!(a, b);
}

#[test]
fn bad_policy_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("policy.toml");
    write(&bad, "[[rule]]\nid = \"x\"\nname = \"x\"\nwhen = { pm25_up = true }\naction = \"notice\"\n");
    let data = dir.path().join("data");
    let out = lantian(&["--data", data.to_str().unwrap(), "policy", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("policy.toml line 4") && err.contains("pm25_up"), "{err}");
    assert!(!data.join("policy.toml").exists(), "nothing written");
    write(&bad, "[[rule]]\nid = \"x\"\nname = \"x\"\nwhen = {}\naction = \"sanction\"\n");
    let out = lantian(&["--data", data.to_str().unwrap(), "policy", "import", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5") && err.contains("sanction"), "{err}");
}
