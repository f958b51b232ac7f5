//! The HJ 212 gateway end to end over loopback: July 2019 of every Sichuan
//! station replayed by `simulate-logger` gives exactly what importing the
//! same CNEMC files gives; killed with SIGKILL at random moments, the
//! gateway loses no acknowledged packet and ends with the same store.

use crate::common::{lantian, lantian_json, sample};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A store with the station list and July 2019's CNEMC files.
fn reference_july(dir: &Path) -> PathBuf {
    let data = dir.join("reference");
    let mut paths = vec![sample().join("sichuan_stations_2022.02.13.csv")];
    for d in 1..=31 {
        paths.push(sample().join(format!("cnemc_sichuan_2019/china_sites_201907{d:02}.csv.gz")));
    }
    lantian_store::import(&data, &paths, None).unwrap();
    data
}

/// Stations with any measured value in July 2019.
fn july_stations(data: &Path) -> Vec<String> {
    let store = lantian_store::Store::open(data).unwrap();
    let kinds = [lantian_store::Kind::Pm25, lantian_store::Kind::O3, lantian_store::Kind::Co];
    let mut r = lantian_store::query::Reader::new(&store, &kinds, None);
    let d0 = lantian_core::time::day_number(jiff::civil::date(2019, 7, 1));
    let dense = r.range(d0 * 24, d0 * 24 + 31 * 24 - 1).unwrap();
    (0..dense.stations.len())
        .filter(|&i| kinds.iter().any(|k| dense.series(i, *k).iter().any(|v| !v.is_nan())))
        .map(|i| dense.stations[i].clone())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Gateway {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Gateway {
    fn start(data: &Path, port: u16) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lantian"))
            .args(["--data", s(data), "gateway", "--listen", &format!("127.0.0.1:{port}"), "--flush-secs", "2"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (l, err) = (log.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let t = Instant::now();
        while !log.lock().unwrap().contains("listening on") {
            assert!(t.elapsed() < Duration::from_secs(60), "gateway did not start: {}", log.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        Gateway { child, log }
    }

    /// SIGTERM: the gateway flushes its log into the store and exits.
    fn stop(mut self) -> String {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        let log = self.log.lock().unwrap().clone();
        assert!(status.success(), "gateway exit {status}: {log}");
        log
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn register(data: &Path, code: &str, pm_unit: &str) {
    let mut l = lantian_store::ledger::SqliteLedger::open(data).unwrap();
    let logger = lantian_store::loggers::Logger {
        mn: format!("LT{code}"),
        station: code.into(),
        password: format!("pw{code}"),
        pm_unit: pm_unit.into(),
        gas_unit: "ug".into(),
        crc: "strict".into(),
        enabled: true,
    };
    lantian_store::loggers::add(&mut l, &logger, "test").unwrap();
}

fn simulate(reference: &Path, port: u16, code: &str, extra: &[&str]) -> Child {
    let mn = format!("LT{code}");
    let pw = format!("pw{code}");
    let mut args = vec![
        "--data",
        s(reference),
        "simulate-logger",
        "--gateway",
        "",
        "--mn",
        &mn,
        "--station",
        code,
        "--password",
        &pw,
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-31",
        "--timeout-secs",
        "90",
    ];
    let addr = format!("127.0.0.1:{port}");
    args[4] = &addr;
    args.extend(extra);
    Command::new(env!("CARGO_BIN_EXE_lantian")).args(&args).stderr(Stdio::piped()).spawn().unwrap()
}

fn finish(child: Child) {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "simulator failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn same_assessment(a: &Path, b: &Path) {
    let assess = |d: &Path| lantian_json(&["--data", s(d), "assess", "--from", "2019-07-01", "--to", "2019-07-31"]);
    let (x, y) = (assess(a), assess(b));
    assert_eq!(x.len(), 21);
    assert_eq!(x, y, "assess July 2019 differs");
    for row in &x {
        let city = row["city"].as_str().unwrap();
        let daily = |d: &Path| {
            lantian_json(&["--data", s(d), "daily", "--city", city, "--from", "2019-07-01", "--to", "2019-07-31"])
        };
        assert_eq!(daily(a), daily(b), "daily {city} differs");
    }
}

#[test]
fn replay_of_july_equals_file_import() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_july(dir.path());
    let stations = july_stations(&reference);
    assert!(stations.len() > 90, "{}", stations.len());
    let live = dir.path().join("live");
    lantian_store::import(&live, &[sample().join("sichuan_stations_2022.02.13.csv")], None).unwrap();
    // Two stations send minute data, one sends particulates in ng/m³.
    let (minute, ng) = ("1431A", "1432A");
    for code in &stations {
        register(&live, code, if code == ng { "ng" } else { "ug" });
    }
    let port = free_port();
    let gw = Gateway::start(&live, port);
    for chunk in stations.chunks(16) {
        let children: Vec<Child> = chunk
            .iter()
            .map(|code| match code.as_str() {
                c if c == minute => simulate(&reference, port, c, &["--minute", "--window", "256"]),
                c if c == ng => simulate(&reference, port, c, &["--pm-ng"]),
                c => simulate(&reference, port, c, &[]),
            })
            .collect();
        children.into_iter().for_each(finish);
    }
    // A logger that is not registered is refused and never stored.
    let refused = lantian(&[
        "--data",
        s(&reference),
        "simulate-logger",
        "--gateway",
        &format!("127.0.0.1:{port}"),
        "--mn",
        "LT9999Z",
        "--station",
        "1431A",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-01",
        "--timeout-secs",
        "2",
    ]);
    assert!(!refused.status.success());
    let log = gw.stop();
    assert!(log.contains("refused: MN \"LT9999Z\""), "{log}");
    same_assessment(&reference, &live);
    // Everything logged was archived with its flags; nothing is left unfolded.
    for (_, seg) in lantian_store::live::segments(&live).unwrap() {
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), 0, "{} left unfolded", seg.display());
    }
    assert!(live.join("live/archive").read_dir().unwrap().count() > 0);
    // The latest hour, with its age.
    let now = lantian_json(&["--data", s(&live), "now", "--city", "成都"]);
    assert!(now.iter().all(|r| r["time"] == "2019-07-31T23:00+08:00"), "{now:?}");
    assert!(now.iter().any(|r| r["area"] == "成都" && !r["aqi"].is_null()));
}

/// Kill -9 the gateway at random moments while a logger replays minute data;
/// restart it; the simulator re-sends what was not acknowledged. The final
/// store equals the file import, so no acknowledged packet was lost.
#[test]
fn kill_nine_loses_no_acknowledged_packet() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_july(dir.path());
    let live = dir.path().join("live");
    lantian_store::import(&live, &[sample().join("sichuan_stations_2022.02.13.csv")], None).unwrap();
    let code = "1431A";
    register(&live, code, "ug");
    let port = free_port();
    let sim = simulate(&reference, port, code, &["--minute", "--window", "32"]);
    // A cheap pseudo-random sequence of kill moments (no RNG dependency).
    let mut seed = u64::from(std::process::id()) ^ 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    for _ in 0..12 {
        let gw = Gateway::start(&live, port);
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 400));
        gw.kill9();
        kills += 1;
    }
    let gw = Gateway::start(&live, port);
    finish(sim);
    gw.stop();
    assert_eq!(kills, 12);
    let daily = |d: &Path| {
        lantian_json(&["--data", s(d), "daily", "--station", code, "--from", "2019-07-01", "--to", "2019-07-31"])
    };
    let (a, b) = (daily(&reference), daily(&live));
    assert_eq!(a.len(), 31);
    // The reference also holds the network's published columns; compare what the station measured.
    for (x, y) in a.iter().zip(&b) {
        for key in ["date", "pm25", "pm10", "so2", "no2", "co", "o3_8h_max", "aqi", "hours"] {
            assert_eq!(x[key], y[key], "{key} on {}", x["date"]);
        }
    }
    let out = lantian(&["--data", s(&live), "logger", "list", "--format", "json"]);
    assert!(out.status.success());
}
