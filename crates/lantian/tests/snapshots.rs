//! The CLI's outputs on the bundled data, pinned byte for byte (insta
//! snapshots in `tests/snapshots/`). They prove that moving code between
//! floors changes nothing a user sees. A deliberate change of output is
//! accepted with `INSTA_UPDATE=always cargo test -p lantian --test integration snapshots`
//! and reviewed in the diff.

use crate::common::{sample, sample_store};
use std::path::Path;
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run lantian on `data` and return stdout (the command must succeed).
fn run(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["--data", s(data)];
    all.extend(args);
    // Documents and overdue flags are dated "today": fix it (2026-01-01 UTC).
    let out = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args(&all)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .expect("lantian runs");
    assert!(out.status.success(), "lantian {all:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Write times of ledger records change from run to run: mask them.
fn mask_times(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let digit = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
    while i < b.len() {
        // YYYY-MM-DD[T ]HH:MM:SS
        let stamp = (0..4).all(|k| digit(i + k))
            && b.get(i + 4) == Some(&b'-')
            && digit(i + 5)
            && digit(i + 6)
            && b.get(i + 7) == Some(&b'-')
            && digit(i + 8)
            && digit(i + 9)
            && matches!(b.get(i + 10), Some(b'T' | b' '))
            && digit(i + 11)
            && digit(i + 12)
            && b.get(i + 13) == Some(&b':');
        if stamp {
            let mut j = i + 14;
            while j < b.len() && (b[j].is_ascii_digit() || b":.+-Z".contains(&b[j])) {
                j += 1;
            }
            out.push_str("<time>");
            i = j;
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn snap(name: &str, text: &str) {
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Read-only commands on the shared sample store.
#[test]
fn read_commands() {
    let d = sample_store();
    let cases: &[(&str, &[&str])] = &[
        ("stations", &["stations", "--format", "csv"]),
        (
            "aqi-2026",
            &[
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
                "--format",
                "json",
            ],
        ),
        (
            "aqi-2012",
            &[
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
                "--o3",
                "230",
                "--edition",
                "2012",
                "--format",
                "json",
            ],
        ),
        (
            "aqi-hourly",
            &[
                "aqi",
                "--hourly",
                "--pm25",
                "160",
                "--pm10",
                "90",
                "--o3",
                "250",
                "--edition",
                "2012",
                "--format",
                "csv",
            ],
        ),
        (
            "hourly-station",
            &["hourly", "--station", "1431A", "--from", "2019-07-01", "--to", "2019-07-02", "--format", "csv"],
        ),
        ("hourly-city", &["hourly", "--city", "成都", "--from", "2019-01-01", "--to", "2019-01-02", "--format", "csv"]),
        (
            "daily-station-2019",
            &["daily", "--station", "1431A", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "csv"],
        ),
        (
            "daily-city-2019",
            &["daily", "--city", "宜宾", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "csv"],
        ),
        (
            "daily-city-published-2016",
            &[
                "daily",
                "--city",
                "成都",
                "--from",
                "2016-01-01",
                "--to",
                "2016-12-31",
                "--source",
                "published",
                "--format",
                "csv",
            ],
        ),
        (
            "assess-2019-compare",
            &["assess", "--from", "2019-01-01", "--to", "2019-12-31", "--compare", "previous-year", "--format", "json"],
        ),
        ("assess-2019-07", &["assess", "--from", "2019-07-01", "--to", "2019-07-31", "--format", "csv"]),
        (
            "assess-2019-07-e2026",
            &["assess", "--from", "2019-07-01", "--to", "2019-07-31", "--edition", "2026", "--format", "csv"],
        ),
        (
            "assess-2019-07-table-en",
            &[
                "--lang",
                "en",
                "assess",
                "--from",
                "2019-07-01",
                "--to",
                "2019-07-31",
                "--city",
                "成都",
                "--format",
                "table",
            ],
        ),
        (
            "assess-2016-compare",
            &["assess", "--from", "2016-01-01", "--to", "2016-12-31", "--compare", "previous-year", "--format", "csv"],
        ),
        (
            "assess-region-2019",
            &["assess", "--from", "2019-01-01", "--to", "2019-12-31", "--level", "region", "--format", "csv"],
        ),
        ("rank-2019", &["rank", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "csv"]),
        ("rank-2019-pm25", &["rank", "--from", "2019-01-01", "--to", "2019-12-31", "--by", "pm25", "--format", "csv"]),
        (
            "rank-2019-good",
            &["rank", "--from", "2019-01-01", "--to", "2019-12-31", "--by", "good_ratio", "--format", "csv"],
        ),
        (
            "rank-2016-improvement",
            &["rank", "--from", "2016-01-01", "--to", "2016-12-31", "--by", "improvement", "--format", "csv"],
        ),
        (
            "rank-2019-07-weighted",
            &["rank", "--from", "2019-07-01", "--to", "2019-07-31", "--weights", "weighted", "--format", "csv"],
        ),
        (
            "rank-2019-region",
            &["rank", "--from", "2019-01-01", "--to", "2019-12-31", "--level", "region", "--format", "json"],
        ),
        ("verify-2019-q3", &["verify", "--from", "2019-07-01", "--to", "2019-09-30", "--format", "csv"]),
    ];
    for (name, args) in cases {
        snap(name, &run(d, args));
    }
}

/// Commands that write the ledger, on a private copy.
#[test]
fn ledger_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::real_data::copy_dir(sample_store(), &data);
    let sample = sample();
    let d = &data;
    run(d, &["target", "import", s(&sample.join("targets-2019.toml"))]);
    run(d, &["task", "import", s(&sample.join("tasks/task-46.json"))]);
    let out = dir.path().join("out");
    let cases: &[(&str, Vec<&str>)] = &[
        ("target-check-2019-07-31", vec!["target", "check", "--as-of", "2019-07-31", "--format", "json"]),
        ("target-check-2019-12-31", vec!["target", "check", "--as-of", "2019-12-31", "--format", "csv"]),
        ("policy-run-2019-07", vec!["policy", "run", "--period", "month:2019-07", "--format", "json"]),
        ("policy-run-2019-07-again", vec!["policy", "run", "--period", "month:2019-07", "--format", "csv"]),
        ("action-list", vec!["action", "list", "--format", "csv"]),
        ("task-show-46", vec!["task", "show", "46", "--format", "json"]),
        ("task-list", vec!["task", "list", "--format", "csv"]),
    ];
    for (name, args) in cases {
        snap(name, &mask_times(&run(d, args)));
    }
    // Documents, as Markdown (charts are written beside them as PNG).
    std::fs::create_dir_all(&out).unwrap();
    let notice = out.join("notice.md");
    run(d, &["report", "notice", "--period", "month:2019-07", "--format", "md", "--output", s(&notice)]);
    snap("report-notice-2019-07", &mask_times(&std::fs::read_to_string(&notice).unwrap()));
    let completion = out.join("completion.md");
    run(d, &["report", "completion", "--task", "46", "--format", "md", "--output", s(&completion)]);
    snap("report-completion-46", &mask_times(&std::fs::read_to_string(&completion).unwrap()));
}

/// The dashboard's computed pages (every city's 2019 page, a 2016 page, the
/// overview of a month and of a year) as the API answers them.
#[test]
fn api_pages() {
    let srv = crate::web::server();
    let (cookie, _) = crate::web::login(srv.port, "viewer", "viewer-password");
    let with = [("Cookie", cookie.as_str())];
    let get = |path: &str| {
        let r = crate::web::request(srv.port, "GET", path, &with, None);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        serde_json::to_string_pretty(&r.body).unwrap()
    };
    let overview = get("/api/overview?from=2019-01-01&to=2019-12-31");
    snap("api-overview-2019", &overview);
    snap("api-overview-2016-07", &get("/api/overview?from=2016-07-01&to=2016-07-31"));
    let v: serde_json::Value = serde_json::from_str(&overview).unwrap();
    let mut pages = String::new();
    for c in v["cities"].as_array().unwrap() {
        let city = c["city"].as_str().unwrap();
        let enc: String = city.bytes().map(|b| format!("%{b:02X}")).collect();
        pages.push_str(&format!("== {city}\n{}\n", get(&format!("/api/cities/{enc}?year=2019"))));
    }
    snap("api-cities-2019", &pages);
    snap("api-city-chengdu-2016", &get("/api/cities/%E6%88%90%E9%83%BD?year=2016"));
}
