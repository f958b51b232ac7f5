//! The dashboard's second round in Chromium (tests/browser/round2.mjs):
//! the map falls back to points without outlines and draws a choropleth from
//! imported ones; a session survives a server restart; a city officer reads
//! the city page and reports progress at phone width (390 px); a user
//! disabled from the command line is thrown out at once.

use crate::common::lantian;
use crate::web::server;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn map_sessions_and_phone_in_chromium() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !(Path::new("/usr/bin/chromium").exists() && dir.join("node_modules/playwright-core").is_dir()) {
        assert!(
            std::env::var_os("LANTIAN_TEST_BROWSER").is_none(),
            "LANTIAN_TEST_BROWSER is set but Chromium is missing"
        );
        eprintln!("Chromium or playwright-core missing: browser test skipped");
        return;
    }
    let mut srv = server();
    let shots = std::env::var_os("LANTIAN_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(|| srv.data.join("shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let mut node = Command::new("node")
        .arg(dir.join("round2.mjs"))
        .args([&format!("http://127.0.0.1:{}", srv.port), s(&shots)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_node = node.stdin.take().unwrap();
    let mut from_node = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut next = |expect: &str| -> Value {
        let line = from_node.next().and_then(|l| l.ok());
        let Some(line) = line else {
            let mut err = String::new();
            std::io::Read::read_to_string(node.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("round2.mjs stopped before step {expect}: {err}");
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(v["step"], expect, "{v}");
        v
    };

    // 1. Without outlines: points on longitude and latitude.
    let v = next("points");
    assert_eq!(v["map"]["kind"], "points", "{v}");
    assert_eq!(v["map"]["series"], "scatter", "{v}");
    // Outlines imported (the demo's schematic file), then a restart.
    let geojson = crate::common::sample().join("boundaries/sichuan_prefectures_schematic.geojson");
    let out = lantian(&["--data", s(&srv.data), "boundaries", "import", s(&geojson), "--schematic"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("21 个要素匹配到城市，0 个未匹配"));
    srv.restart_same_port();
    writeln!(to_node, "go").unwrap();

    // 2–3. Still logged in after the restart; the choropleth of the 21 cities,
    // captioned as a schematic; PM2.5 coloured at the edition's breakpoints.
    let v = next("restarted");
    assert_eq!(v["login_shown"], false, "the session survived the restart: {v}");
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.iter().filter(|x| x["current"] == true).count(), 1, "{v}");
    assert_eq!(v["pm25"]["kind"], "outlines");
    assert_eq!(v["pm25"]["series"], "map");
    assert_eq!(v["pm25"]["data"], 21);
    assert_eq!(v["pm25"]["subtext"], "示意图，不作为权属边界依据");
    assert_eq!(v["pieces"], serde_json::json!([35, 75, 115, 150, 250, 350]), "HJ 633-2012 PM2.5 24-h breakpoints");
    assert_eq!(v["city_map"]["kind"], "outlines");
    assert_eq!(v["city_map"]["geo"], 1);
    assert_eq!(v["city_map"]["data"], 4, "宜宾's four reporting stations: {v}");
    // The phone layout does not overflow the screen; the calendar runs down it.
    assert!(v["phone_width"].as_u64().unwrap() <= 390, "{v}");
    assert!(v["task_width"].as_u64().unwrap() <= 390, "{v}");
    assert_eq!(v["calendar_orient"], "vertical");
    let tasks = crate::common::lantian_json(&["--data", s(&srv.data), "task", "export"]);
    let t46 = tasks.iter().find(|t| t["number"] == 46).unwrap();
    assert!(
        t46["progress"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["text"] == "手机填报：宜宾市完成重点工地扬尘巡查" && p["author"] == "yibin"),
        "progress reported from the phone is in the ledger"
    );
    // 4. Disabled while logged in: thrown out at once.
    let out = lantian(&["--data", s(&srv.data), "user", "disable", "yibin"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    writeln!(to_node, "go").unwrap();
    let v = next("disabled");
    assert_eq!(v["me_status"], 401, "{v}");
    assert_eq!(v["login_shown"], true, "{v}");
    writeln!(to_node, "go").unwrap();
    drop(to_node);
    let status = node.wait().unwrap();
    assert!(status.success());
}
