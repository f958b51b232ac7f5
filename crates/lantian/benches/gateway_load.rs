//! Load on the HJ 212 gateway (the real binary, on loopback, sharing the
//! machine's cores with this client): `LOAD_LOGGERS` connections (default
//! 2,000), each sending one real-time packet at a random moment of every
//! minute, plus `LOAD_REPLAYS` loggers (default 1) sending hourly packets as
//! fast as acknowledgements allow, for `LOAD_SECS` seconds (default 60).
//! Prints packets sent/acknowledged/lost, acknowledgement latency p50/p99
//! and the replay's packets per second (docs/PERFORMANCE.md).
//!
//!     cargo bench -p lantian --bench gateway_load
//!
//! Needs `ulimit -n` above twice the connections.

use lantian_hj212::{Deframer, encode, parse_segment};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    acked: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

fn segment(qn: u64, mn: &str, cn: &str, when: &str, v: u64) -> String {
    let key = if cn == "2011" { "Rtd" } else { "Avg" };
    format!(
        "QN={qn:017};ST=22;CN={cn};PW=123456;MN={mn};Flag=5;CP=&&DataTime={when};a34004-{key}={v},a34004-Flag=N;a34002-{key}={},a34002-Flag=N;a21004-{key}=30,a21004-Flag=N&&",
        v * 2
    )
}

/// Read acknowledgements, matching them to the send times of their QNs.
async fn read_acks(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    pending: Arc<Mutex<HashMap<u64, Instant>>>,
    tally: Arc<Tally>,
) {
    let mut d = Deframer::new(1024);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        d.push(&buf[..n]);
        let mut lat = Vec::new();
        {
            let mut p = pending.lock().await;
            while let Some(f) = d.next_frame() {
                let Ok(f) = f else { continue };
                let Ok(pk) = parse_segment(&f.segment) else { continue };
                if let Some(t) = pk.qn.and_then(|q| q.parse::<u64>().ok()).and_then(|q| p.remove(&q)) {
                    lat.push(t.elapsed().as_micros() as u64);
                }
            }
        }
        tally.acked.fetch_add(lat.len() as u64, Ordering::Relaxed);
        tally.latencies_us.lock().await.extend(lat);
    }
}

async fn realtime_logger(addr: String, id: u64, secs: u64, tally: Arc<Tally>) {
    let Ok(stream) = TcpStream::connect(&addr).await else { return };
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let pending = Arc::new(Mutex::new(HashMap::new()));
    let reader = tokio::spawn(read_acks(rd, pending.clone(), tally.clone()));
    let mn = format!("RT{id:05}");
    // One packet a minute at this logger's own second of the minute.
    let offset = Duration::from_millis((id * 7919) % 60_000);
    let start = Instant::now();
    let mut k = 0u64;
    loop {
        let due = offset + Duration::from_secs(60 * k);
        if due >= Duration::from_secs(secs) {
            break;
        }
        tokio::time::sleep_until((start + due).into()).await;
        let qn = id * 1_000_000 + k;
        let frame = encode(&segment(qn, &mn, "2011", "20190701100000", 35));
        pending.lock().await.insert(qn, Instant::now());
        tally.sent.fetch_add(1, Ordering::Relaxed);
        if wr.write_all(frame.as_bytes()).await.is_err() {
            return;
        }
        k += 1;
    }
    tokio::time::sleep_until((start + Duration::from_secs(secs + 5)).into()).await;
    reader.abort();
}

async fn replay_logger(addr: String, id: u64, secs: u64, window: usize, tally: Arc<Tally>) {
    let Ok(stream) = TcpStream::connect(&addr).await else { return };
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let pending = Arc::new(Mutex::new(HashMap::new()));
    let reader = tokio::spawn(read_acks(rd, pending.clone(), tally.clone()));
    let mn = format!("RP{id:05}");
    let start = Instant::now();
    let mut hour = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        if pending.lock().await.len() >= window {
            tokio::time::sleep(Duration::from_micros(200)).await;
            continue;
        }
        let mut out = String::new();
        {
            let mut p = pending.lock().await;
            while p.len() < window {
                // Hours from 2019-01-01 on: distinct DataTimes, distinct QNs.
                let day = 1 + (hour / 24) % 28;
                let month = 1 + (hour / (24 * 28)) % 12;
                let when = format!("2019{month:02}{day:02}{:02}0000", hour % 24);
                let qn = 90_000_000_000 + id * 100_000_000 + hour;
                out.push_str(&encode(&segment(qn, &mn, "2061", &when, 20 + hour % 50)));
                p.insert(qn, Instant::now());
                hour += 1;
            }
        }
        let n = out.matches("##").count() as u64;
        tally.sent.fetch_add(n, Ordering::Relaxed);
        if wr.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    reader.abort();
}

fn percentile(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

fn main() {
    let loggers = env("LOAD_LOGGERS", 2000);
    let replays = env("LOAD_REPLAYS", 1);
    let secs = env("LOAD_SECS", 60);
    let window = env("LOAD_WINDOW", 256) as usize;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let mut l = lantian_store::ledger::SqliteLedger::open(&data).unwrap();
        let ids = (0..loggers).map(|i| format!("RT{i:05}")).chain((0..replays).map(|i| format!("RP{i:05}")));
        for mn in ids {
            let logger = lantian_store::loggers::Logger {
                mn: mn.clone(),
                station: format!("S{mn}"),
                password: "123456".into(),
                pm_unit: "ug".into(),
                gas_unit: "ug".into(),
                crc: "strict".into(),
                enabled: true,
            };
            lantian_store::loggers::add(&mut l, &logger, "bench").unwrap();
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut gw = std::process::Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "gateway",
            "--listen",
            &addr,
            "--flush-secs",
            "10",
            "--rate",
            "100000",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(&addr).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (rt_tally, rp_tally) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let t0 = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..loggers {
            tasks.push(tokio::spawn(realtime_logger(addr.clone(), i, secs, rt_tally.clone())));
        }
        for i in 0..replays {
            tasks.push(tokio::spawn(replay_logger(addr.clone(), i, secs, window, rp_tally.clone())));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    let elapsed = t0.elapsed().as_secs_f64();
    let _ = std::process::Command::new("kill").args(["-TERM", &gw.id().to_string()]).status();
    let _ = gw.wait();
    let report = |name: &str, t: &Tally, per_sec: bool| {
        let mut l = rt.block_on(t.latencies_us.lock()).clone();
        let (sent, acked) = (t.sent.load(Ordering::Relaxed), t.acked.load(Ordering::Relaxed));
        println!(
            "| {name} | {sent} | {acked} | {} | {:.2} | {:.2} | {} |",
            sent - acked.min(sent),
            percentile(&mut l, 0.50),
            percentile(&mut l, 0.99),
            if per_sec { format!("{:.0}", acked as f64 / secs as f64) } else { "—".into() }
        );
    };
    println!("gateway load: {loggers} real-time loggers + {replays} replays, {secs} s (run {elapsed:.0} s)");
    println!("| stream | sent | acknowledged | lost | ack p50 (ms) | ack p99 (ms) | packets/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    report("real-time, 1 a minute each", &rt_tally, false);
    report("full-speed replay", &rp_tally, true);
}
