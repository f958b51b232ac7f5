//! `lantian simulate-logger`: replays a station's real hours from a store as
//! HJ 212-2017 uploads (CN=2061 hourly, or CN=2051 minute with `--minute`),
//! the way a logger does: Flag=5 (acknowledgement asked), a window of
//! packets in flight, unacknowledged packets sent again after a reconnect or
//! a timeout — for tests, demos and load.

use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::civil::Date;
use lantian_app::Ctx;
use lantian_core::Pollutant;
use lantian_core::time::{date_of, day_number};
use lantian_hj212::{Deframer, encode, parse_segment};
use lantian_store::Kind;
use lantian_store::query::Reader;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Gateway address.
    #[arg(long)]
    pub gateway: String,
    #[arg(long)]
    pub mn: String,
    /// Station whose hours (from --data) are replayed.
    #[arg(long)]
    pub station: String,
    #[arg(long, default_value = "123456")]
    pub password: String,
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// 0: as fast as acknowledgements come; N: N times real time.
    #[arg(long, default_value_t = 0.0)]
    pub speed: f64,
    /// Minute data (CN=2051, 60 packets an hour, each the hour's value) instead of hourly (CN=2061).
    #[arg(long)]
    pub minute: bool,
    /// Packets in flight before waiting for acknowledgements.
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Send particulates in ng/m³ (a logger registered with --pm-unit ng).
    #[arg(long)]
    pub pm_ng: bool,
    /// Give up after this many seconds without an acknowledgement.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
}

/// One upload: its QN, the frame, its data time in seconds (for pacing).
struct Upload {
    qn: String,
    frame: String,
    at: i64,
}

const CODES: [(Pollutant, &str); 6] = [
    (Pollutant::Pm25, "a34004"),
    (Pollutant::Pm10, "a34002"),
    (Pollutant::So2, "a21026"),
    (Pollutant::No2, "a21004"),
    (Pollutant::Co, "a21005"),
    (Pollutant::O3, "a05024"),
];

/// `YYYYMMDDhhmmss` of seconds since 1970-01-01T00:00+08:00.
fn stamp(sec: i64) -> Option<String> {
    let d = date_of(sec.div_euclid(86_400))?;
    let s = sec.rem_euclid(86_400);
    Some(format!("{:04}{:02}{:02}{:02}{:02}{:02}", d.year(), d.month(), d.day(), s / 3600, s / 60 % 60, s % 60))
}

fn uploads(ctx: &Ctx, a: &SimulateArgs) -> Result<Vec<Upload>> {
    let store = ctx.store()?;
    let kinds: Vec<Kind> = CODES.iter().map(|(p, _)| Kind::measured(*p)).collect();
    let mut reader = Reader::new(&store, &kinds, Some(std::slice::from_ref(&a.station)));
    // The hours printed on the dates from..to, as in the CNEMC files.
    let (first, last) = (day_number(a.from) * 24, day_number(a.to) * 24 + 23);
    let dense = reader.range(first, last)?;
    let Some(i) = dense.stations.iter().position(|s| *s == a.station) else {
        bail!("station {} has no data in {} … {}", a.station, a.from, a.to);
    };
    let mut out = Vec::new();
    for l in first..=last {
        let off = (l - dense.start) as usize;
        let mut cp = String::new();
        for (p, code) in CODES {
            let v = dense.series(i, Kind::measured(p))[off];
            if v.is_nan() {
                continue;
            }
            let v = if a.pm_ng && matches!(p, Pollutant::Pm25 | Pollutant::Pm10) { v * 1000.0 } else { v };
            cp.push_str(&format!(";{code}-Avg={v},{code}-Flag=N"));
        }
        if cp.is_empty() {
            continue;
        }
        // HJ 212 stamps the period's start; the store's label is its end.
        let start = (l - 1) * 3600;
        let (cn, steps) = if a.minute { ("2051", 60) } else { ("2061", 1) };
        for m in 0..steps {
            let at = start + 60 * m;
            let t = stamp(at).context("date out of range")?;
            let qn = format!("{t}000");
            let seg = format!("QN={qn};ST=22;CN={cn};PW={};MN={};Flag=5;CP=&&DataTime={t}{cp}&&", a.password, a.mn);
            out.push(Upload { qn, frame: encode(&seg), at });
        }
    }
    Ok(out)
}

pub fn simulate(ctx: &Ctx, a: &SimulateArgs) -> Result<()> {
    let list = uploads(ctx, a)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = Instant::now();
    let (sent, resent) = rt.block_on(replay(a, &list))?;
    eprintln!(
        "simulate-logger {}: {} packets acknowledged ({} sent, {} sent again) in {:.1} s",
        a.mn,
        list.len(),
        sent,
        resent,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Send every upload until each is acknowledged; returns (sent, sent again).
async fn replay(a: &SimulateArgs, list: &[Upload]) -> Result<(usize, usize)> {
    let ack_timeout = Duration::from_secs(3);
    let give_up = Duration::from_secs(a.timeout_secs);
    let index: BTreeMap<&str, usize> = list.iter().enumerate().map(|(i, u)| (u.qn.as_str(), i)).collect();
    let mut acked = vec![false; list.len()];
    let mut n_acked = 0;
    let (mut sent, mut resent) = (0usize, 0usize);
    let mut next = 0usize;
    let mut progress = Instant::now();
    let t0 = Instant::now();
    let first_at = list.first().map_or(0, |u| u.at);
    while n_acked < list.len() {
        if progress.elapsed() > give_up {
            bail!("no acknowledgement for {} s ({} of {} acknowledged)", a.timeout_secs, n_acked, list.len());
        }
        let mut stream = match TcpStream::connect(&a.gateway).await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Unacknowledged packets sent before go again, in order.
        let mut in_flight: Vec<(usize, Instant)> = Vec::new();
        let pending: Vec<usize> = (0..next).filter(|&i| !acked[i]).collect();
        let mut out = String::new();
        for i in pending {
            out.push_str(&list[i].frame);
            in_flight.push((i, Instant::now()));
            resent += 1;
        }
        if !out.is_empty() && stream.write_all(out.as_bytes()).await.is_err() {
            continue;
        }
        let mut deframer = Deframer::new(1024);
        let mut buf = vec![0u8; 8192];
        'conn: loop {
            // Fill the window.
            let mut out = String::new();
            while next < list.len() && in_flight.len() < a.window {
                if a.speed > 0.0 {
                    let due = Duration::from_secs_f64((list[next].at - first_at) as f64 / a.speed);
                    if t0.elapsed() < due {
                        break;
                    }
                }
                out.push_str(&list[next].frame);
                in_flight.push((next, Instant::now()));
                next += 1;
                sent += 1;
            }
            if !out.is_empty() && stream.write_all(out.as_bytes()).await.is_err() {
                break 'conn;
            }
            if n_acked == list.len() {
                break;
            }
            let wait = if a.speed > 0.0 && in_flight.is_empty() { Duration::from_millis(20) } else { ack_timeout };
            match tokio::time::timeout(wait, stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break 'conn,
                Ok(Ok(n)) => {
                    deframer.push(&buf[..n]);
                    while let Some(f) = deframer.next_frame() {
                        let Ok(f) = f else { continue };
                        let Ok(p) = parse_segment(&f.segment) else { continue };
                        if p.cn != "9014" {
                            continue;
                        }
                        if let Some(&i) = p.qn.as_deref().and_then(|q| index.get(q))
                            && !acked[i]
                        {
                            acked[i] = true;
                            n_acked += 1;
                            progress = Instant::now();
                        }
                    }
                    in_flight.retain(|(i, _)| !acked[*i]);
                }
                Err(_) => {
                    // Paced and idle: nothing is late. Otherwise resend what is overdue.
                    if in_flight.iter().any(|(_, t)| t.elapsed() >= ack_timeout) {
                        break 'conn;
                    }
                }
            }
        }
    }
    Ok((sent, resent))
}
