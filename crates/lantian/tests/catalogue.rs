//! The bad-input catalogue: malformed inputs, each with the exact words the
//! user sees, and proof that nothing else was lost (the good rows of the same
//! file are stored; a refused file or setting changes nothing).

use crate::common::lantian;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const HEAD: &str = "station,time,pollutant,value\n";
/// A good row imported beside each bad one.
const GOOD: &str = "1431A,2019-07-01T01:00,pm25,35\n";

/// (name, bad row, column, reason the rejects file gives)
const LONG_CSV: &[(&str, &str, &str, &str)] = &[
    ("non-numeric cell", "1431A,2019-07-01T02:00,pm25,abc", "value", "not a number"),
    ("negative value", "1431A,2019-07-01T02:00,pm25,-5", "value", "negative concentration"),
    ("absurd value", "1431A,2019-07-01T02:00,pm25,1000000", "value", "implausibly large"),
    ("infinite value", "1431A,2019-07-01T02:00,pm25,inf", "value", "not a"),
    ("NaN value", "1431A,2019-07-01T02:00,pm25,NaN", "value", "not a"),
    ("hour out of range", "1431A,2019-07-01T25:00,pm25,35", "time", "hour must be 0..24"),
    ("minutes in an hourly time", "1431A,2019-07-01T02:30,pm25,35", "time", "on the hour"),
    ("invalid date", "1431A,2019-02-30T02:00,pm25,35", "time", "invalid date"),
    ("month 13", "1431A,2019-13-01T02:00,pm25,35", "time", "invalid date"),
    ("UTC time", "1431A,2019-07-01T02:00Z,pm25,35", "time", "China time"),
    ("other offset", "1431A,2019-07-01T02:00+09:00,pm25,35", "time", "China time"),
    ("no time part", "1431A,2019-07-01,pm25,35", "time", "expected YYYY-MM-DDTHH:00"),
    ("unknown pollutant", "1431A,2019-07-01T02:00,benzene,35", "pollutant", "unknown pollutant"),
    ("empty station", ",2019-07-01T02:00,pm25,35", "station", "empty station"),
    ("truncated row", "1431A,2019-07-01T02:00,pm25", "", "expected 4 fields, found 3"),
    ("extra field", "1431A,2019-07-01T02:00,pm25,35,7", "", "expected 4 fields, found 5"),
    (
        "SQL meta-characters",
        "1431A'; DROP TABLE action;--,2019-07-01T02:00,benzene,1",
        "pollutant",
        "unknown pollutant",
    ),
];

fn rejects_of(data: &Path) -> Vec<csv::StringRecord> {
    let dir = data.join("rejects");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let mut r = csv::Reader::from_path(e.path()).unwrap();
        out.extend(r.records().map(Result::unwrap));
    }
    out
}

fn stored(data: &Path) -> serde_json::Value {
    let out = lantian(&[
        "--data",
        s(data),
        "hourly",
        "--station",
        "1431A",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-01",
        "--format",
        "json",
    ]);
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
fn long_csv_rows() {
    assert!(LONG_CSV.len() >= 17);
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, row, column, reason)) in LONG_CSV.iter().enumerate() {
        let data = dir.path().join(format!("d{i}"));
        let file = dir.path().join(format!("case{i}.csv"));
        std::fs::write(&file, format!("{HEAD}{GOOD}{row}\n")).unwrap();
        let out = lantian(&["--data", s(&data), "import", s(&file)]);
        assert!(out.status.success(), "{name}: a bad row never fails the import");
        let rejects = rejects_of(&data);
        assert_eq!(rejects.len(), 1, "{name}: {rejects:?}");
        let r = &rejects[0];
        let find = |k: &str| r.iter().any(|f| f.contains(k));
        assert!(find(&format!("case{i}.csv")), "{name}: the file is named: {r:?}");
        assert!(r.iter().any(|f| f == "3"), "{name}: line 3 is named: {r:?}");
        assert!(column.is_empty() || find(column), "{name}: column {column}: {r:?}");
        assert!(find(reason), "{name}: reason «{reason}»: {r:?}");
        // Nothing else lost: the good row of the same file is stored.
        let rows = stored(&data);
        let at1 = rows.as_array().and_then(|a| a.iter().find(|x| x["time"] == "2019-07-01T01:00+08:00").cloned());
        assert_eq!(at1.map(|x| x["pm25"].clone()), Some(35.0.into()), "{name}: the good row was lost");
    }
}

/// Whole files that cannot be read: the import says why (file, line), stores
/// nothing of them, and goes on with the other files given with them.
#[test]
fn unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, format!("{HEAD}{GOOD}")).unwrap();
    let gbk = {
        // "监测点编码,…" in GBK: the station list as some tools save it.
        let utf8 = "监测点编码,监测点名称,城市,经度,纬度,对照点\n1431A,金泉两河,成都市,104.0,30.7,N\n";
        let mut out = Vec::new();
        for c in utf8.chars() {
            if c.is_ascii() {
                out.push(c as u8);
            } else {
                // Any two high bytes that are not UTF-8 stand for a GBK character here.
                out.extend([0xC4, 0xE3]);
            }
        }
        out
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("GBK text", gbk, "not UTF-8 text (a GBK file?"),
        ("unknown format", b"foo,bar\n1,2\n".to_vec(), "format not recognised"),
        ("empty file", Vec::new(), "format not recognised"),
        ("binary garbage", vec![0u8, 159, 146, 150, 1, 2, 3], "not UTF-8"),
        ("truncated gzip", vec![0x1f, 0x8b, 0x08, 0x00, 0x00], "gzip"),
        ("duplicate header only", b"station,time,pollutant,value\nstation,time,pollutant,value\n".to_vec(), ""),
    ];
    for (i, (name, bytes, message)) in cases.iter().enumerate() {
        let data = dir.path().join(format!("u{i}"));
        let ext = if name.contains("gzip") { "csv.gz" } else { "csv" };
        let bad = dir.path().join(format!("bad{i}.{ext}"));
        std::fs::write(&bad, bytes).unwrap();
        let out = lantian(&["--data", s(&data), "import", s(&bad), s(&good)]);
        let err = String::from_utf8_lossy(&out.stderr);
        if message.is_empty() {
            // A repeated header line is a row like any other: rejected, the rest imported.
            assert!(out.status.success(), "{name}: {err}");
            assert_eq!(rejects_of(&data).len(), 1, "{name}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}: exit 1 when a file could not be read: {err}");
            assert!(err.contains(&format!("bad{i}")) && err.contains(message), "{name}: «{message}» in {err}");
        }
        let rows = stored(&data);
        assert!(rows.as_array().is_some_and(|a| a.iter().any(|x| x["pm25"] == 35.0)), "{name}: the good file was lost");
    }
}

/// Settings people write: refused with file, line and field; nothing installed.
#[test]
fn refused_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: &[(&str, &[&str], &str, &str)] = &[
        (
            "targets: misspelt field",
            &["target", "import"],
            "[[target]]\narea = \"成都\"\nyear = 2019\npm2_5 = 40\n",
            "line 4",
        ),
        (
            "targets: text for a number",
            &["target", "import"],
            "[[target]]\narea = \"成都\"\nyear = 2019\npm25 = \"forty\"\n",
            "line 4",
        ),
        ("targets: not TOML", &["target", "import"], "[[target]\narea=", "line 1"),
        (
            "policy: unknown action",
            &["policy", "import"],
            "[[rule]]\nid = \"x\"\nname = \"x\"\naction = \"fine\"\n",
            "line",
        ),
        ("policy: not TOML", &["policy", "import"], "[[rule]\n", "line 1"),
        ("task: misspelt key", &["task", "import"], r#"{"number": 9, "titel": "x"}"#, "unknown field `titel`"),
        ("task: not JSON", &["task", "import"], "{\"number\": 9,", "line 1"),
        (
            "task: empty units",
            &["task", "import"],
            r#"{"number":9,"title":"t","source":"s","problem":"p","units":[],"goal":"g","measures":["m"]}"#,
            "no responsible unit",
        ),
        (
            "task: bad status",
            &["task", "import"],
            r#"{"number":9,"title":"t","source":"s","problem":"p","units":["u"],"goal":"g","measures":["m"],"status":"done"}"#,
            "unknown status",
        ),
        (
            "task: SQL meta-characters kept as text",
            &["task", "import"],
            r#"{"number":10,"title":"x'); DROP TABLE task;--","source":"s","problem":"p","units":["u"],"goal":"g","measures":["m"]}"#,
            "",
        ),
    ];
    for (i, (name, cmd, text, message)) in cases.iter().enumerate() {
        let ext = if cmd[0] == "task" { "json" } else { "toml" };
        let file = dir.path().join(format!("s{i}.{ext}"));
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["--data", s(&data)];
        args.extend(cmd.iter());
        args.push(s(&file));
        let out = lantian(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        if message.is_empty() {
            assert!(out.status.success(), "{name}: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(&format!("s{i}.{ext}")) || cmd[0] == "task" && !message.starts_with("line"),
            "{name}: the file is named: {err}"
        );
        assert!(err.contains(message), "{name}: «{message}» in {err}");
    }
    // Nothing installed by the refused files; the one good task is there, its title intact.
    assert!(!data.join("targets.toml").exists());
    assert!(!data.join("policy.toml").exists());
    let out = lantian(&["--data", s(&data), "task", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], "x'); DROP TABLE task;--");
}

/// CNEMC site files and station lists as they come from the archive, with
/// the defects seen in it (truncated rows) and others: each bad row or cell
/// rejected with file, line, column and reason; the rest of the file stored.
#[test]
fn cnemc_and_station_list_rows() {
    let head = "date,hour,type,1431A,1432A\r\n";
    let good = "20190701,1,PM2.5,35,40\r\n";
    // (name, bad row, line of the reject, column, reason)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("truncated row, as 20190220 in the archive", "20190701,2,PM2.5,3", "3", "", "expected 5 fields, found 4"),
        ("hour 24", "20190701,24,PM2.5,35,40", "3", "hour", "hour must be 0..23"),
        ("invalid date", "20190732,2,PM2.5,35,40", "3", "date", "invalid date"),
        ("unknown type", "20190701,2,PM1,35,40", "3", "type", "unknown type"),
        ("non-numeric cell", "20190701,2,PM2.5,—,40", "3", "1431A", "not a number"),
        ("negative cell", "20190701,2,PM2.5,35,-1", "3", "1432A", "negative concentration"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, row, line, column, reason)) in cases.iter().enumerate() {
        let data = dir.path().join(format!("c{i}"));
        let file = dir.path().join(format!("china_sites_2019070{i}.csv"));
        std::fs::write(&file, format!("{head}{good}{row}\r\n")).unwrap();
        let out = lantian(&["--data", s(&data), "import", s(&file)]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let rejects = rejects_of(&data);
        assert_eq!(rejects.len(), 1, "{name}: {rejects:?}");
        let r = &rejects[0];
        let find = |k: &str| r.iter().any(|f| f.contains(k));
        assert!(find(&format!("china_sites_2019070{i}.csv")) && r.iter().any(|f| f == *line), "{name}: {r:?}");
        assert!(column.is_empty() || find(column), "{name}: column {column}: {r:?}");
        assert!(find(reason), "{name}: «{reason}»: {r:?}");
        let rows = stored(&data);
        assert!(rows.as_array().is_some_and(|a| a.iter().any(|x| x["pm25"] == 35.0)), "{name}: the good row was lost");
    }
    // Station lists.
    let list_head = "监测点编码,监测点名称,城市,经度,纬度,对照点\n";
    let list_good = "1431A,金泉两河,成都市,104.0,30.7,N\n";
    let list_cases: &[(&str, &str, &str, &str)] = &[
        ("empty station code", ",某站,成都市,104.0,30.7,N", "监测点编码", "empty station code"),
        ("control flag not Y/N", "1432A,十里店,成都市,104.1,30.7,maybe", "对照点", "expected Y or N"),
        ("too few fields", "1433A,三瓦窑", "", "expected 6 fields, found 2"),
    ];
    for (i, (name, row, column, reason)) in list_cases.iter().enumerate() {
        let data = dir.path().join(format!("l{i}"));
        let file = dir.path().join(format!("stations{i}.csv"));
        std::fs::write(&file, format!("{list_head}{list_good}{row}\n")).unwrap();
        let out = lantian(&["--data", s(&data), "import", s(&file)]);
        assert!(out.status.success(), "{name}");
        let rejects = rejects_of(&data);
        assert_eq!(rejects.len(), 1, "{name}: {rejects:?}");
        let r = &rejects[0];
        assert!(
            r.iter().any(|f| f.contains(&format!("stations{i}.csv"))) && r.iter().any(|f| f == "3"),
            "{name}: {r:?}"
        );
        assert!(column.is_empty() || r.iter().any(|f| f == *column), "{name}: {r:?}");
        assert!(r.iter().any(|f| f.contains(reason)), "{name}: «{reason}»: {r:?}");
        let out = lantian(&["--data", s(&data), "stations", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v.as_array().unwrap().iter().any(|x| x["code"] == "1431A" || x["station"] == "1431A"),
            "{name}: the good station was lost: {v}"
        );
    }
}

/// Huge inputs: a file over the size limit is refused before it is read, a
/// gzip file stops inflating at the limit, a 64 MB cell is one rejected
/// row shown by its start and size. The other file or rows are stored.
#[test]
fn huge_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, format!("{HEAD}{GOOD}")).unwrap();
    let run = |data: &Path, bad: &Path, limit_mb: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lantian"));
        c.args(["--data", s(data), "import", s(bad), s(&good)]);
        if let Some(mb) = limit_mb {
            c.env("LANTIAN_MAX_FILE_MB", mb);
        }
        c.output().unwrap()
    };
    // 5 GiB (sparse: no disk used), over the default 4,096 MB.
    let sparse = dir.path().join("huge.csv");
    std::fs::File::create(&sparse).unwrap().set_len(5 << 30).unwrap();
    let data = dir.path().join("h1");
    let out = run(&data, &sparse, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("huge.csv")
            && err.contains("5120.0 MB: larger than the 4096 MB a file may have (split it, e.g. by month"),
        "{err}"
    );
    assert!(stored(&data).as_array().is_some_and(|a| a.iter().any(|x| x["pm25"] == 35.0)), "good file lost");
    // A gzip file inflating to 8 MB under a 1 MB limit.
    let bomb = dir.path().join("bomb.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, HEAD.as_bytes()).unwrap();
    std::io::Write::write_all(&mut gz, &vec![b'0'; 8 << 20]).unwrap();
    std::fs::write(&bomb, gz.finish().unwrap()).unwrap();
    let data = dir.path().join("h2");
    let out = run(&data, &bomb, Some("1"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("bomb.csv.gz") && err.contains("gzip file that inflates larger than the 1 MB"), "{err}");
    assert!(stored(&data).as_array().is_some_and(|a| a.iter().any(|x| x["pm25"] == 35.0)), "good file lost");
    // One 64 MB cell.
    let cell = dir.path().join("cell.csv");
    std::fs::write(&cell, format!("{HEAD}{GOOD}1431A,2019-07-01T02:00,pm25,{}\n", "9".repeat(64 << 20))).unwrap();
    let data = dir.path().join("h3");
    let out = run(&data, &cell, None);
    assert!(out.status.success());
    let rejects = rejects_of(&data);
    assert_eq!(rejects.len(), 1);
    let r = &rejects[0];
    assert_eq!((&r[0][r[0].len() - 8..], &r[1], &r[2], &r[3]), ("cell.csv", "3", "value", "not a finite number"));
    assert_eq!(r[4], format!("{}… (67108864 bytes)", "9".repeat(200)), "the rejects file shows the start and size");
    assert!(std::fs::metadata(data.join("rejects")).is_ok());
    assert_eq!(stored(&data).as_array().map(Vec::len), Some(1), "the good row is stored");
}
