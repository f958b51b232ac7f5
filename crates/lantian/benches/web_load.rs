//! The dashboard under a burst of users, as users use it: the real
//! `lantian serve` on the demo data (release build, loopback, sharing the
//! machine's two cores with this client), `LOAD_CLIENTS` clients (default
//! 200) logged in and all starting at once, each requesting pages at random
//! from a mix of every city's page for several years, the overview for
//! months, quarters and years, the task and action lists, for `LOAD_SECS`
//! seconds (default 60). Nothing is cached when the burst starts. Requests
//! accept gzip, as browsers do.
//!
//! Prints, for the requests that found their page not yet computed (cold:
//! the first request for its URL and those arriving while it computed) and
//! for the rest (warm): count, errors, p50 / p99 / max; the server's peak
//! memory and threads; and how long it took to exit after SIGTERM sent
//! in the middle of the load (docs/PERFORMANCE.md).
//!
//!     cargo bench -p lantian --bench web_load
//!
//! `LOAD_DATA=DIR` serves an existing data directory instead of the demo;
//! `LOAD_BIN=PATH` serves with another build of lantian (an older one, to compare).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Every URL a user of the demo may open.
fn urls() -> Vec<String> {
    let cities = [
        "成都",
        "自贡",
        "攀枝花",
        "泸州",
        "德阳",
        "绵阳",
        "广元",
        "遂宁",
        "内江",
        "乐山",
        "南充",
        "眉山",
        "宜宾",
        "广安",
        "达州",
        "雅安",
        "巴中",
        "资阳",
        "阿坝州",
        "甘孜州",
        "凉山州",
    ];
    let mut out = vec!["/api/me".to_string(), "/api/tasks".into(), "/api/tasks/46".into(), "/api/actions".into()];
    for c in cities {
        for y in [2015, 2016, 2019] {
            out.push(format!("/api/cities/{}?year={y}", urlencode(c)));
        }
    }
    for y in [2014, 2015, 2016, 2019] {
        out.push(format!("/api/overview?from={y}-01-01&to={y}-12-31"));
    }
    for (a, b) in [("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31")] {
        out.push(format!("/api/overview?from=2019-{a}&to=2019-{b}"));
    }
    for y in [2016, 2019] {
        for m in 1..=12 {
            let last = match m {
                2 if y % 4 == 0 => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            out.push(format!("/api/overview?from={y}-{m:02}-01&to={y}-{m:02}-{last}"));
        }
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// One request on a keep-alive connection; the status, or `None` on a broken connection.
async fn get(conn: &mut TcpStream, buf: &mut Vec<u8>, path: &str, cookie: &str) -> Option<u16> {
    // As a browser asks: gzip accepted.
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
    conn.write_all(req.as_bytes()).await.ok()?;
    buf.clear();
    let mut chunk = [0u8; 65536];
    // Head, then a body of Content-Length bytes.
    let (head_end, length) = loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())?;
            break (i + 4, len);
        }
    };
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

#[derive(Default)]
struct Tally {
    cold: Mutex<Vec<u64>>,
    warm: Mutex<Vec<u64>>,
    errors: AtomicU64,
    statuses: Mutex<HashMap<u16, u64>>,
}

/// URLs answered at least once (a request sent after that is warm).
type Answered = Arc<Mutex<HashMap<String, bool>>>;

/// What the clients of one run share.
#[derive(Clone)]
struct Load {
    addr: String,
    cookie: String,
    urls: Arc<Vec<String>>,
    answered: Answered,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
}

async fn client(load: Load, seed: u64, until: Instant) {
    let Load { addr, cookie, urls, answered, tally, stop } = load;
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut conn: Option<TcpStream> = None;
    let mut buf = Vec::new();
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let url = &urls[next() % urls.len()];
        let warm = answered.lock().unwrap().get(url).copied().unwrap_or(false);
        if conn.is_none() {
            match TcpStream::connect(&addr).await {
                Ok(c) => {
                    let _ = c.set_nodelay(true);
                    conn = Some(c);
                }
                Err(_) => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let t = Instant::now();
        let status = get(conn.as_mut().expect("connected"), &mut buf, url, &cookie).await;
        let us = t.elapsed().as_micros() as u64;
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match status {
            Some(s) => {
                *tally.statuses.lock().unwrap().entry(s).or_default() += 1;
                if s != 200 {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                }
                if s == 200 {
                    answered.lock().unwrap().insert(url.clone(), true);
                }
                (if warm { &tally.warm } else { &tally.cold }).lock().unwrap().push(us);
            }
            None => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

/// Resident memory (VmRSS) and threads of a process, from /proc.
fn rss_threads(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        s.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

fn login(addr: &str) -> String {
    let body = r#"{"name":"load","password":"load-password"}"#;
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "POST /api/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    let line = out.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("logged in");
    line.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_string()
}

fn lantian(data: &std::path::Path, args: &[&str]) {
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_lantian"))
        .arg("--data")
        .arg(data)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "lantian {args:?}");
}

fn main() {
    let clients = env("LOAD_CLIENTS", 200);
    let secs = env("LOAD_SECS", 60);
    let dir = tempfile::tempdir().unwrap();
    let data = match std::env::var_os("LOAD_DATA") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            let data = dir.path().join("lantian-demo-data");
            let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample");
            let st = std::process::Command::new(env!("CARGO_BIN_EXE_lantian"))
                .current_dir(dir.path())
                .args(["demo", "--no-serve", "--sample"])
                .arg(&sample)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(st.success(), "demo");
            lantian(&data, &["policy", "run", "--period", "month:2019-07"]);
            data
        }
    };
    lantian(&data, &["user", "add", "load", "--role", "viewer", "--password", "load-password"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let bin = std::env::var_os("LOAD_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_lantian").into());
    let mut server = std::process::Command::new(bin)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", &addr])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(&addr).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let cookie = login(&addr);
    let urls = Arc::new(urls());
    let pid = server.id();
    // Peak memory and threads, sampled every 100 ms.
    let peak = Arc::new(Mutex::new((0u64, 0u64)));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                let (r, t) = rss_threads(pid);
                let mut p = peak.lock().unwrap();
                *p = (p.0.max(r), p.1.max(t));
                drop(p);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let tally = Arc::new(Tally::default());
    let answered: Answered = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(secs);
    let load =
        Load { addr: addr.clone(), cookie, urls: urls.clone(), answered, tally: tally.clone(), stop: stop.clone() };
    rt.block_on(async {
        let tasks: Vec<_> = (0..clients).map(|i| tokio::spawn(client(load.clone(), i + 1, until))).collect();
        for t in tasks {
            let _ = t.await;
        }
    });
    let elapsed = t0.elapsed().as_secs_f64();
    // SIGTERM under load: the clients go on for a second batch until the server is gone.
    let term = {
        let load = Load { answered: Arc::default(), tally: Arc::default(), ..load };
        let handle = rt.spawn(async move {
            let later = Instant::now() + Duration::from_secs(120);
            let tasks: Vec<_> = (0..clients).map(|i| tokio::spawn(client(load.clone(), 1000 + i, later))).collect();
            for t in tasks {
                let _ = t.await;
            }
        });
        std::thread::sleep(Duration::from_secs(2));
        let t = Instant::now();
        let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        let _ = server.wait();
        let took = t.elapsed();
        stop.store(true, Ordering::Relaxed);
        let _ = rt.block_on(handle);
        took
    };
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let (rss, threads) = *peak.lock().unwrap();
    let mut cold = tally.cold.lock().unwrap().clone();
    let mut warm = tally.warm.lock().unwrap().clone();
    let total = cold.len() + warm.len();
    println!(
        "web load: {clients} clients, {} URLs, {secs} s (run {elapsed:.1} s): {total} answers, {:.0}/s; statuses {:?}",
        urls.len(),
        total as f64 / elapsed,
        tally.statuses.lock().unwrap()
    );
    println!("| requests | count | errors | p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|---:|");
    let errors = tally.errors.load(Ordering::Relaxed);
    for (name, v) in [("cold (page not yet computed)", &mut cold), ("warm", &mut warm)] {
        let max = v.iter().max().copied().unwrap_or(0) as f64 / 1000.0;
        println!("| {name} | {} | — | {:.2} | {:.2} | {max:.2} |", v.len(), pct(v, 0.50), pct(v, 0.99));
    }
    println!("errors (non-200 answers or broken connections): {errors}");
    println!("server peak: {} MB resident, {threads} threads", rss / 1024);
    println!("exit after SIGTERM under load: {:.2} s", term.as_secs_f64());
}
