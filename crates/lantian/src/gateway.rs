//! `lantian gateway`: the TCP server station data loggers push HJ 212-2017
//! packets to. One task per connection (tokio); packets are reassembled
//! across reads, checked (registered MN, password, CRC), their values
//! appended to the write-ahead log by one writer thread that fsyncs a whole
//! batch at a time (group commit), and only then acknowledged (CN=9014).
//! A flusher folds sealed log segments into the store every `--flush-secs`.
//!
//! Why tokio: thousands of mostly idle connections on two cores; the
//! protocol itself lives in `lantian-hj212` (pure) and the log in
//! `lantian-store::live`.

use anyhow::{Context, Result};
use clap::Args;
use lantian_app::Ctx;
use lantian_hj212::{CrcCheck, CrcMode, Deframer, Packet, check_crc, parse_segment};
use lantian_store::Kind;
use lantian_store::live::{self, LiveRecord, Source, Wal};
use lantian_store::loggers::Logger;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};

#[derive(Args, Debug, Clone)]
pub struct GatewayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9212")]
    pub listen: String,
    /// Longest data segment accepted (the standard's limit is 1024; real loggers exceed it).
    #[arg(long, default_value_t = 4096)]
    pub max_packet: usize,
    /// Close a connection silent for this long (seconds).
    #[arg(long, default_value_t = 600)]
    pub idle_secs: u64,
    /// Most simultaneous connections; more are closed at once.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
    /// Packets per second one connection may send before it is slowed down.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u32,
    /// Fold the log into the store this often (seconds).
    #[arg(long, default_value_t = 60)]
    pub flush_secs: u64,
    /// Also serve `GET /api/now[?city=NAME]` (the latest hour, JSON) on this address.
    #[arg(long)]
    pub http: Option<String>,
}

/// Counters printed at each flush.
#[derive(Default)]
struct Stats {
    packets: AtomicU64,
    acked: AtomicU64,
    records: AtomicU64,
    refused: AtomicU64,
    bad_crc: AtomicU64,
    bad_packets: AtomicU64,
    framing: AtomicU64,
}

enum WriterMsg {
    Append(Vec<LiveRecord>, oneshot::Sender<Result<(), String>>),
    Rotate(oneshot::Sender<Result<u64, String>>),
}

struct State {
    loggers: RwLock<HashMap<String, Logger>>,
    writer: std::sync::mpsc::Sender<WriterMsg>,
    stats: Stats,
    args: GatewayArgs,
}

/// The writer thread: appends every message waiting, fsyncs once, then
/// answers them all — acknowledgements wait for durability, not for each other.
fn writer(mut wal: Wal, rx: std::sync::mpsc::Receiver<WriterMsg>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut records = Vec::new();
        let mut waiting = Vec::new();
        let mut rotations = Vec::new();
        for m in batch {
            match m {
                WriterMsg::Append(r, done) => {
                    records.extend(r);
                    waiting.push(done);
                }
                WriterMsg::Rotate(done) => rotations.push(done),
            }
        }
        let result = if records.is_empty() { Ok(()) } else { wal.append(&records).map_err(|e| e.to_string()) };
        for done in waiting {
            let _ = done.send(result.clone());
        }
        // Rotation after the appends of the same batch: they belong to the sealed segment.
        for done in rotations {
            let _ = done.send(wal.rotate().map_err(|e| e.to_string()));
        }
    }
}

/// HJ 212 factor code → the store's series (standards/hj212-2017.md §9).
fn factor(code: &str) -> Option<Kind> {
    Some(match code {
        "a34004" => Kind::Pm25,
        "a34002" => Kind::Pm10,
        "a21026" => Kind::So2,
        "a21004" => Kind::No2,
        "a21005" => Kind::Co,
        "a05024" => Kind::O3,
        _ => return None,
    })
}

/// The values of a data upload as records in the store's units.
pub fn records(p: &Packet, l: &Logger) -> Result<Vec<LiveRecord>, String> {
    let (source, want) = match p.cn.as_str() {
        "2061" => (Source::Hourly, "Avg"),
        "2051" => (Source::Minute, "Avg"),
        "2011" => (Source::Realtime, "Rtd"),
        _ => return Ok(Vec::new()),
    };
    let t = p.data_time.ok_or("a data upload without DataTime")?;
    let start = live::seconds(t);
    let mut out = Vec::new();
    for m in p.measurements().map_err(|e| e.0)? {
        let Some(kind) = factor(&m.code) else { continue };
        if m.kind != want {
            continue;
        }
        let value = match kind {
            Kind::Pm25 | Kind::Pm10 if l.pm_unit == "ng" => m.value / 1000.0,
            Kind::So2 | Kind::No2 | Kind::O3 if l.gas_unit == "mg" => m.value * 1000.0,
            _ => m.value,
        };
        // A value without a flag is taken as normal (many loggers omit it).
        out.push(LiveRecord { source, station: l.station.clone(), kind, start, value, flag: m.flag.unwrap_or('N') });
    }
    Ok(out)
}

/// Upload commands answered with 9014 when their Flag asks (§10).
fn is_upload(cn: &str) -> bool {
    matches!(cn, "2011" | "2021" | "2031" | "2041" | "2051" | "2061" | "2081" | "1011")
}

/// One frame checked: the records to make durable and the reply owed once
/// they are. `None` when the packet is refused or not understood.
fn check(state: &State, frame: &lantian_hj212::RawFrame, peer: &str) -> Option<(Vec<LiveRecord>, Option<String>)> {
    state.stats.packets.fetch_add(1, Ordering::Relaxed);
    let p = match parse_segment(&frame.segment) {
        Ok(p) => p,
        Err(e) => {
            state.stats.bad_packets.fetch_add(1, Ordering::Relaxed);
            eprintln!("gateway: {peer}: bad packet: {e}");
            return None;
        }
    };
    let mn = p.mn.clone().unwrap_or_default();
    let logger = state.loggers.read().ok().and_then(|m| m.get(&mn).cloned());
    let Some(logger) = logger.filter(|l| l.enabled) else {
        state.stats.refused.fetch_add(1, Ordering::Relaxed);
        eprintln!("gateway: {peer}: refused: MN {mn:?} is not a registered, enabled logger");
        return None;
    };
    if p.pw.as_deref() != Some(logger.password.as_str()) {
        state.stats.refused.fetch_add(1, Ordering::Relaxed);
        eprintln!("gateway: {peer}: refused: wrong password for MN {mn}");
        return None;
    }
    let mode = if logger.crc == "lenient" { CrcMode::Lenient } else { CrcMode::Strict };
    match check_crc(&frame.segment, &frame.crc, mode) {
        Ok(CrcCheck::Ok) => {}
        Ok(CrcCheck::ModbusSwapped) => eprintln!("gateway: MN {mn}: warning: Modbus CRC accepted (lenient)"),
        Err(e) => {
            // The standard: processing stops on a CRC error; the logger's retry covers it.
            state.stats.bad_crc.fetch_add(1, Ordering::Relaxed);
            eprintln!("gateway: MN {mn}: {e}");
            return None;
        }
    }
    let recs = match records(&p, &logger) {
        Ok(r) => r,
        Err(e) => {
            state.stats.bad_packets.fetch_add(1, Ordering::Relaxed);
            eprintln!("gateway: MN {mn}: CN {}: {e}", p.cn);
            return None;
        }
    };
    if recs.is_empty() && !is_upload(&p.cn) {
        if !matches!(p.cn.as_str(), "9011" | "9012" | "9013" | "9014") {
            eprintln!("gateway: MN {mn}: CN {} not handled, skipped", p.cn);
        }
        return None;
    }
    Some((recs, p.wants_ack().then(|| p.ack())))
}

/// Make `records` durable (one group-committed append).
async fn durable(state: &State, records: Vec<LiveRecord>) -> bool {
    if records.is_empty() {
        return true;
    }
    let n = records.len() as u64;
    let (tx, rx) = oneshot::channel();
    if state.writer.send(WriterMsg::Append(records, tx)).is_err() {
        return false;
    }
    match rx.await {
        Ok(Ok(())) => {
            state.stats.records.fetch_add(n, Ordering::Relaxed);
            true
        }
        Ok(Err(e)) => {
            eprintln!("gateway: write-ahead log: {e}");
            false
        }
        Err(_) => false,
    }
}

/// Reads in flight (logged, not yet acknowledged) per connection.
const IN_FLIGHT: usize = 32;

async fn connection(state: Arc<State>, stream: TcpStream, peer: String) {
    let _ = stream.set_nodelay(true);
    let (mut stream, mut write_half) = stream.into_split();
    // Replies go out from their own task, so reading goes on while earlier
    // reads wait for their fsync (the writer thread commits them together).
    let (reply_tx, mut reply_rx) = tokio::sync::mpsc::channel::<String>(IN_FLIGHT);
    let replier = tokio::spawn(async move {
        while let Some(r) = reply_rx.recv().await {
            if write_half.write_all(r.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut deframer = Deframer::new(state.args.max_packet);
    let mut buf = vec![0u8; 64 * 1024];
    let idle = Duration::from_secs(state.args.idle_secs);
    // Token bucket: `rate` packets per second, bursts up to one second's worth.
    let rate = f64::from(state.args.rate.max(1));
    let (mut tokens, mut last) = (rate, tokio::time::Instant::now());
    loop {
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Err(_) => {
                eprintln!("gateway: {peer}: idle for {} s, closed", state.args.idle_secs);
                break;
            }
            Ok(Ok(n)) => n,
        };
        deframer.push(&buf[..n]);
        // Every packet of this read is logged in one append, then acknowledged.
        let mut records = Vec::new();
        let mut replies = String::new();
        while let Some(f) = deframer.next_frame() {
            let frame = match f {
                Ok(frame) => frame,
                Err(e) => {
                    state.stats.framing.fetch_add(1, Ordering::Relaxed);
                    eprintln!("gateway: {peer}: {e}");
                    continue;
                }
            };
            let now = tokio::time::Instant::now();
            tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(rate);
            last = now;
            if tokens < 1.0 {
                tokio::time::sleep(Duration::from_secs_f64((1.0 - tokens) / rate)).await;
                tokens = 1.0;
            }
            tokens -= 1.0;
            if let Some((recs, reply)) = check(&state, &frame, &peer) {
                records.extend(recs);
                if let Some(r) = reply {
                    replies.push_str(&r);
                }
            }
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
        let (st, tx) = (state.clone(), reply_tx.clone());
        tokio::spawn(async move {
            // Not durable: no acknowledgement; the logger sends again.
            if durable(&st, records).await && !replies.is_empty() {
                st.stats.acked.fetch_add(replies.matches("CN=9014").count() as u64, Ordering::Relaxed);
                let _ = tx.send(replies).await;
            }
            drop(permit);
        });
    }
    // Let the acknowledgements already owed go out before closing.
    drop(reply_tx);
    let _ = in_flight.acquire_many(IN_FLIGHT as u32).await;
    let _ = replier.await;
}

fn load_loggers(ctx: &Ctx) -> Result<HashMap<String, Logger>> {
    let mut ledger = ctx.ledger()?;
    Ok(lantian_store::loggers::list(ledger.db())?.into_iter().map(|l| (l.mn.clone(), l)).collect())
}

fn compact_and_report(data: &std::path::Path, before: u64, stats: &Stats) {
    match live::compact(data, before) {
        Ok(c) if c.segments > 0 => {
            let h = c.import.as_ref().map(|i| i.hourly).unwrap_or_default();
            eprintln!(
                "gateway: flushed {} segment(s): {} records ({} flagged, {} torn) → {} hourly values: {} new, {} revised, {} unchanged; packets {} acked {} refused {} bad CRC {} bad {} framing errors {}",
                c.segments,
                c.records,
                c.flagged,
                c.torn,
                c.hours,
                h.imported,
                h.revised,
                h.unchanged,
                stats.packets.load(Ordering::Relaxed),
                stats.acked.load(Ordering::Relaxed),
                stats.refused.load(Ordering::Relaxed),
                stats.bad_crc.load(Ordering::Relaxed),
                stats.bad_packets.load(Ordering::Relaxed),
                stats.framing.load(Ordering::Relaxed),
            );
        }
        Ok(_) => {}
        // The segments stay; the next flush tries again.
        Err(e) => eprintln!("gateway: flush failed (will retry): {e}"),
    }
}

pub fn gateway(ctx: &Ctx, args: &GatewayArgs) -> Result<()> {
    let data: PathBuf = ctx.data.clone();
    // Recovery: whatever an earlier run logged (acknowledged or not) goes in first.
    let stats = Stats::default();
    compact_and_report(&data, u64::MAX, &stats);
    let wal = Wal::open(&data).context("opening the write-ahead log")?;
    let (wtx, wrx) = std::sync::mpsc::channel();
    std::thread::spawn(move || writer(wal, wrx));
    let state = Arc::new(State { loggers: RwLock::new(load_loggers(ctx)?), writer: wtx, stats, args: args.clone() });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve(ctx, state, data))
}

async fn serve(ctx: &Ctx, state: Arc<State>, data: PathBuf) -> Result<()> {
    let listener =
        TcpListener::bind(&state.args.listen).await.with_context(|| format!("listening on {}", state.args.listen))?;
    eprintln!(
        "gateway: listening on {} ({} loggers registered)",
        listener.local_addr()?,
        state.loggers.read().map(|m| m.len()).unwrap_or(0)
    );
    // Registry refresh: loggers added or disabled while running take effect.
    let reg_ctx = ctx.clone();
    let reg_state = state.clone();
    tokio::spawn(async move {
        let reg_ctx = Arc::new(reg_ctx);
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let c = reg_ctx.clone();
            if let Ok(Ok(m)) = tokio::task::spawn_blocking(move || load_loggers(&c)).await
                && let Ok(mut w) = reg_state.loggers.write()
            {
                *w = m;
            }
        }
    });
    if let Some(addr) = &state.args.http {
        let http = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
        eprintln!("gateway: /api/now on http://{}", http.local_addr()?);
        let api_ctx = Arc::new(ctx.clone());
        let app = axum::Router::new().route("/api/now", axum::routing::get(api_now)).with_state(api_ctx);
        tokio::spawn(async move {
            let _ = axum::serve(http, app).await;
        });
    }
    let flush_state = state.clone();
    let flush_data = data.clone();
    let flusher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(flush_state.args.flush_secs.max(1))).await;
            flush(&flush_state, &flush_data).await;
        }
    });
    let slots = Arc::new(Semaphore::new(state.args.max_connections.max(1)));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, addr)) = accepted else { continue };
                // Over the cap: closed at once, so one flood cannot starve the loggers already in.
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    state.stats.refused.fetch_add(1, Ordering::Relaxed);
                    eprintln!("gateway: {addr}: connection refused: {} connections open", state.args.max_connections);
                    drop(stream);
                    continue;
                };
                let st = state.clone();
                tokio::spawn(async move {
                    connection(st, stream, addr.to_string()).await;
                    drop(permit);
                });
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
    }
    flusher.abort();
    eprintln!("gateway: stopping; final flush");
    flush(&state, &data).await;
    Ok(())
}

async fn flush(state: &Arc<State>, data: &std::path::Path) {
    let (tx, rx) = oneshot::channel();
    if state.writer.send(WriterMsg::Rotate(tx)).is_err() {
        return;
    }
    let sealed = match rx.await {
        Ok(Ok(s)) => s,
        _ => return,
    };
    let st = state.clone();
    let data = data.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || compact_and_report(&data, sealed + 1, &st.stats)).await;
}

#[derive(serde::Deserialize)]
struct NowQuery {
    city: Option<String>,
}

/// `GET /api/now[?city=NAME]`: the rows of `lantian now --format json`.
async fn api_now(
    axum::extract::State(ctx): axum::extract::State<Arc<Ctx>>,
    axum::extract::Query(q): axum::extract::Query<NowQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let rows = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
        let t = lantian_app::live::now_table(&ctx, q.city.as_deref())?;
        let mut out = Vec::new();
        t.write_json(&mut out)?;
        Ok(out)
    })
    .await;
    match rows {
        Ok(Ok(body)) => ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(e)) => (axum::http::StatusCode::NOT_FOUND, axum::Json(serde_json::json!({ "error": format!("{e:#}") })))
            .into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
