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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Gateway {
    child: Child,
    log: Arc<Mutex<String>>,
    /// The stderr reader: joined on stop so the last lines are in the log.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    fn start(data: &Path, port: u16) -> Gateway {
        Gateway::start_with(data, port, &[])
    }

    fn start_with(data: &Path, port: u16, extra: &[&str]) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lantian"))
            .args(["--data", s(data), "gateway", "--listen", &format!("127.0.0.1:{port}"), "--flush-secs", "2"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (l, err) = (log.clone(), child.stderr.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let t = Instant::now();
        while !log.lock().unwrap().contains("listening on") {
            assert!(t.elapsed() < Duration::from_secs(60), "gateway did not start: {}", log.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        Gateway { child, log, reader: Some(reader) }
    }

    /// SIGTERM: the gateway flushes its log into the store and exits.
    fn stop(mut self) -> String {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = self.child.wait().unwrap();
        // The process has exited; its stderr reaches EOF once read to the end.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let log = self.log.lock().unwrap().clone();
        assert!(status.success(), "gateway exit {status}: {log}");
        log
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub(crate) fn register(data: &Path, code: &str, pm_unit: &str) {
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

/// GET a JSON array over plain HTTP/1.1.
fn http_get(port: u16, path: &str) -> Vec<serde_json::Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A raw TCP client for protocol tests.
pub(crate) struct Client(std::net::TcpStream, lantian_hj212::Deframer);

impl Client {
    pub(crate) fn connect(port: u16) -> Client {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
        Client(s, lantian_hj212::Deframer::new(4096))
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.0.write_all(bytes).unwrap();
    }

    /// QNs of the 9014 replies: waits (up to 10 s, the machine may be busy)
    /// for `expected` of them, then a moment more for any that should not come.
    pub(crate) fn acks(&mut self, expected: usize) -> Vec<String> {
        use std::io::Read;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        loop {
            while let Some(f) = self.1.next_frame() {
                let f = f.unwrap();
                let p = lantian_hj212::parse_segment(&f.segment).unwrap();
                assert_eq!(p.cn, "9014");
                assert_eq!(p.st.as_deref(), Some("91"));
                out.push(p.qn.unwrap());
            }
            match self.0.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => self.1.push(&buf[..n]),
                Err(_) if out.len() < expected && start.elapsed() < Duration::from_secs(10) => {}
                Err(_) => return out,
            }
        }
    }

    /// Whether the server closes the connection within 10 s.
    fn closed(&mut self) -> bool {
        use std::io::Read;
        let mut buf = [0u8; 16];
        let start = Instant::now();
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => return false,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) if start.elapsed() < Duration::from_secs(10) => {}
                Err(_) => return false,
            }
        }
    }
}

pub(crate) fn hourly_seg(qn: &str, mn: &str, pw: &str, flag: &str, cp: &str) -> String {
    format!("QN={qn};ST=22;CN=2061;PW={pw};MN={mn};Flag={flag};CP=&&{cp}&&")
}

/// Protocol behaviour over a socket: what is acknowledged, refused and stored.
#[test]
fn protocol_acks_refusals_and_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    lantian_store::import(&live, &[sample().join("sichuan_stations_2022.02.13.csv")], None).unwrap();
    register(&live, "1431A", "ng");
    let mut lenient = lantian_store::ledger::SqliteLedger::open(&live).unwrap();
    let l = lantian_store::loggers::Logger {
        mn: "LT1432A".into(),
        station: "1432A".into(),
        password: "pw1432A".into(),
        pm_unit: "ug".into(),
        gas_unit: "mg".into(),
        crc: "lenient".into(),
        enabled: true,
    };
    lantian_store::loggers::add(&mut lenient, &l, "test").unwrap();
    drop(lenient);
    let port = free_port();
    let http = free_port();
    let gw = Gateway::start_with(&live, port, &["--http", &format!("127.0.0.1:{http}")]);
    let mut c = Client::connect(port);
    let (mn, pw) = ("LT1431A", "pw1431A");
    let enc = lantian_hj212::encode;
    // 10:00 start → label 11:00. PM2.5 in ng/m³ (registered so): 35,000 → 35.
    let ok = hourly_seg("20190701100000001", mn, pw, "5", "DataTime=20190701100000;a34004-Avg=35000,a34004-Flag=N");
    // Garbage before it, and a packet with a bad CRC after it: only the good one is acknowledged.
    let wrong = hourly_seg("20190701110000001", mn, pw, "5", "DataTime=20190701110000;a34004-Avg=1,a34004-Flag=N");
    let crc = lantian_hj212::hj212_crc(wrong.as_bytes()) ^ 0x0101;
    let bad_crc = format!("##{:04}{wrong}{crc:04X}\r\n", wrong.len());
    c.send(format!("garbage##xx{}{}", enc(&ok), bad_crc).as_bytes());
    assert_eq!(c.acks(1), vec!["20190701100000001"]);
    // Lower-case CRC hex is accepted.
    // A QN whose CRC has hex letters, so that lower case shows.
    let (qn, seg) = (1..100)
        .map(|k| {
            let qn = format!("201907011200000{k:02}");
            let seg = hourly_seg(&qn, mn, pw, "5", "DataTime=20190701120000;a34004-Avg=40000,a34004-Flag=N");
            (qn, seg)
        })
        .find(|(_, seg)| format!("{:04x}", lantian_hj212::hj212_crc(seg.as_bytes())).contains(char::is_alphabetic))
        .unwrap();
    let lower = format!("##{:04}{seg}{:04x}\r\n", seg.len(), lantian_hj212::hj212_crc(seg.as_bytes()));
    c.send(lower.as_bytes());
    assert_eq!(c.acks(1), vec![qn]);

    // Split packets (Flag=7), parts out of order: each part acknowledged and stored.
    let p2 = "QN=20190701130000002;ST=22;CN=2061;PW=pw1431A;MN=LT1431A;Flag=7;PNUM=2;PNO=2;CP=&&DataTime=20190701130000;a21005-Avg=1.2,a21005-Flag=N&&";
    let p1 = "QN=20190701130000001;ST=22;CN=2061;PW=pw1431A;MN=LT1431A;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20190701130000;a34004-Avg=50000,a34004-Flag=N&&";
    c.send(format!("{}{}", enc(p2), enc(p1)).as_bytes());
    let mut got = c.acks(2);
    got.sort();
    assert_eq!(got, vec!["20190701130000001", "20190701130000002"]);
    // Wrong password, unknown MN: refused, no reply. A value flagged D is acknowledged but not valid data.
    c.send(enc(&hourly_seg("20190701140000001", mn, "nope", "5", "DataTime=20190701140000;a34004-Avg=1")).as_bytes());
    c.send(
        enc(&hourly_seg("20190701140000002", "LTNOBODY", pw, "5", "DataTime=20190701140000;a34004-Avg=1")).as_bytes(),
    );
    c.send(
        enc(&hourly_seg("20190701140000003", mn, pw, "5", "DataTime=20190701140000;a34004-Avg=999000,a34004-Flag=D"))
            .as_bytes(),
    );
    assert_eq!(c.acks(1), vec!["20190701140000003"]);
    // Flag=4: stored, no acknowledgement asked.
    c.send(
        enc(&hourly_seg("20190701150000001", mn, pw, "4", "DataTime=20190701150000;a34004-Avg=20000,a34004-Flag=N"))
            .as_bytes(),
    );
    assert!(c.acks(0).is_empty());
    // The lenient logger's byte-swapped Modbus CRC, gases in mg/m³ (NO2 0.045 → 45 μg/m³).
    let seg = "QN=20190701100000009;ST=22;CN=2061;PW=pw1432A;MN=LT1432A;Flag=5;CP=&&DataTime=20190701100000;a21004-Avg=0.045,a21004-Flag=N&&";
    let modbus = format!("##{:04}{seg}{:04X}\r\n", seg.len(), lantian_hj212::modbus_crc_swapped(seg.as_bytes()));
    c.send(modbus.as_bytes());
    assert_eq!(c.acks(1), vec!["20190701100000009"]);
    // The latest hour over HTTP, whether folded into the store or still in the log (16:00, Flag=4 packet).
    let now = http_get(http, "/api/now?city=%E6%88%90%E9%83%BD");
    let station = now.iter().find(|r| r["area"] == "1431A").expect("1431A in /api/now");
    assert_eq!(station["time"], "2019-07-01T16:00+08:00");
    assert_eq!(station["pm25"], 20.0);
    assert!(station["age_hours"].as_i64().unwrap() > 0);
    let log = gw.stop();
    assert!(log.contains("wrong password for MN LT1431A") && log.contains("MN \"LTNOBODY\""), "{log}");
    assert!(log.contains("Modbus CRC accepted"), "{log}");
    assert!(log.contains("does not match"), "bad CRC logged: {log}");
    let hourly = |station: &str| {
        lantian_json(&[
            "--data",
            s(&live),
            "hourly",
            "--station",
            station,
            "--from",
            "2019-07-01",
            "--to",
            "2019-07-01",
        ])
    };
    let rows = hourly("1431A");
    let at = |t: &str| rows.iter().find(|r| r["time"] == t).cloned();
    assert_eq!(at("2019-07-01T11:00+08:00").unwrap()["pm25"], 35.0);
    assert_eq!(at("2019-07-01T13:00+08:00").unwrap()["pm25"], 40.0);
    let split = at("2019-07-01T14:00+08:00").unwrap();
    assert_eq!((split["pm25"].clone(), split["co"].clone()), (50.0.into(), 1.2.into()));
    assert!(at("2019-07-01T15:00+08:00").is_none(), "the flagged value is not valid data");
    assert_eq!(at("2019-07-01T16:00+08:00").unwrap()["pm25"], 20.0);
    assert!(at("2019-07-01T12:00+08:00").is_none(), "the bad-CRC packet was not stored");
    assert_eq!(hourly("1432A")[0]["no2"], 45.0);
    // The same packet again changes nothing; a newer value for the hour revises.
    let gw = Gateway::start(&live, port);
    let mut c = Client::connect(port);
    c.send(enc(&ok).as_bytes());
    let newer = hourly_seg("20190701100000099", mn, pw, "5", "DataTime=20190701100000;a34004-Avg=36000,a34004-Flag=N");
    assert_eq!(c.acks(1), vec!["20190701100000001"]);
    let log = gw.stop();
    assert!(log.contains("0 new, 0 revised, 1 unchanged"), "{log}");
    let gw = Gateway::start(&live, port);
    let mut c = Client::connect(port);
    c.send(enc(&newer).as_bytes());
    assert_eq!(c.acks(1), vec!["20190701100000099"]);
    let log = gw.stop();
    assert!(log.contains("0 new, 1 revised, 0 unchanged"), "{log}");
}

/// Limits: an idle connection is closed; connections over the cap are
/// closed at once; an over-long packet is skipped without losing the next.
#[test]
fn limits_protect_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    register(&live, "1431A", "ug");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args([
            "--data",
            s(&live),
            "gateway",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--idle-secs",
            "1",
            "--max-connections",
            "2",
            "--max-packet",
            "512",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut a = Client::connect(port);
    let mut b = Client::connect(port);
    std::thread::sleep(Duration::from_millis(100));
    let mut third = Client::connect(port);
    assert!(third.closed(), "a third connection is over the cap");
    // Over-long declared length, then a valid packet on the same connection.
    let long = format!("##0600{}", "x".repeat(600));
    let seg = hourly_seg(
        "20190701100000001",
        "LT1431A",
        "pw1431A",
        "5",
        "DataTime=20190701100000;a34004-Avg=35,a34004-Flag=N",
    );
    a.send(format!("{long}{}", lantian_hj212::encode(&seg)).as_bytes());
    assert_eq!(a.acks(1), vec!["20190701100000001"]);
    // Idle for more than a second: closed.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(b.closed(), "idle connection closed");
    child.kill().unwrap();
    child.wait().unwrap();
}
