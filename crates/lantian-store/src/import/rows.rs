//! What the parsers produce (hourly cells, rejects) and the helpers they
//! share: CSV records with true line numbers, rejected cells as the rejects
//! file shows them, concentration values, dates and hour labels.

use crate::city_daily::CityDay;
use crate::kinds::Kind;
use crate::stations::Station;
use jiff::civil::Date;
use lantian_core::time::{HourLabel, day_number};
use std::path::PathBuf;

/// The formats recognised from a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `china_sites_YYYYMMDD.csv`: date,hour,type + one column per station.
    CnemcSites,
    /// `china_cities_YYYYMMDD.csv`: same shape, one column per city.
    CnemcCities,
    /// 监测点编码,监测点名称,城市,经度,纬度,对照点
    StationList,
    /// station,time,pollutant,value
    Long,
    /// aqistudy city daily with header (aqi,co,no2,o3,pm10,pm2_5,…,time_point).
    CityDailyHeader,
    /// aqistudy city daily without header (city,date,aqi,range,quality,pm25,pm10,so2,co,no2,o3,rank).
    CityDailyPlain,
    /// Parquet: long (station,time,pollutant,value) or lantian's own month
    /// files (station,time + one column per series), e.g. from another store.
    Parquet,
}

impl Format {
    pub fn label_zh(self) -> &'static str {
        match self {
            Format::CnemcSites => "CNEMC 站点小时文件",
            Format::CnemcCities => "CNEMC 城市小时文件",
            Format::StationList => "站点列表",
            Format::Long => "长表 CSV",
            Format::CityDailyHeader => "城市日数据（有表头）",
            Format::CityDailyPlain => "城市日数据（无表头）",
            Format::Parquet => "Parquet 小时数据",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::CnemcSites => "CNEMC site file",
            Format::CnemcCities => "CNEMC city file",
            Format::StationList => "station list",
            Format::Long => "long CSV",
            Format::CityDailyHeader => "city daily (with header)",
            Format::CityDailyPlain => "city daily (no header)",
            Format::Parquet => "Parquet hourly data",
        }
    }
}

/// A rejected row or cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub reason: String,
    pub value: String,
}

pub(crate) struct HourlyCells {
    pub stations: Vec<String>,
    pub cells: Vec<Cell>,
    /// A CNEMC file's own date, dense: the label of its hour 0 and its
    /// block.
    /// Merged block by block; rows of any other date are in `cells`.
    pub day: Option<(HourLabel, DayBlock)>,
    /// Per station of `stations`: whether its part of `day` has any value
    /// (found on the parsing threads, while the block is warm).
    pub has: Vec<bool>,
}

/// A CNEMC file's own date, dense: a code per cell (`code`), at
/// `[(station * 24 + hour) * N_KINDS + kind]`, and the values no code
/// holds. Codes are half an f64: the day blocks are most of the import's
/// memory traffic (written by the parsers, faulted in, read by the merge).
#[derive(Default)]
pub(crate) struct DayBlock {
    pub codes: Vec<u32>,
    /// The values of `code::EXTRA` codes, by their index.
    pub extras: Vec<f64>,
}

impl DayBlock {
    /// The value of cell `at` (NaN: none).
    pub(crate) fn get(&self, at: usize) -> f64 {
        self.codes.get(at).map_or(f64::NAN, |&c| code::decode(c, &self.extras))
    }

    /// Every cell's value, in order.
    #[cfg(test)]
    pub(crate) fn values(&self) -> Vec<f64> {
        self.codes.iter().map(|&c| code::decode(c, &self.extras)).collect()
    }
}

pub(crate) use crate::cell_code as code;
// The wide reader's empty cell is its own code.
const _: () = assert!(code::EMPTY == super::wide::EMPTY);

/// Day blocks' codes recycled within one import. A national file's block
/// is 2.3 MB: allocated afresh it is a new mapping whose pages the kernel
/// faults in and clears, 364 times a year (a sixth of the import's system
/// time). Blocks come back once merged (on the writer threads, with their
/// month); at most `KEEP` wait, more than the months in flight hold (a month
/// of days and the writers' two: ~100 blocks nationally),
/// so that after the first months no block is a fresh mapping.
#[derive(Default)]
pub(crate) struct Blocks(std::sync::Mutex<Vec<Vec<u32>>>);

impl Blocks {
    const KEEP: usize = 192;

    /// A block of `len` codes: `EMPTY` when new, a recycled block's old
    /// codes otherwise (the caller writes or clears every cell: see
    /// `CnemcRows::seen`; filling each file's block first was 3 % of the
    /// import's CPU). A recycled block of another length is resized in
    /// place: the national files' station lists differ from day to day.
    pub(crate) fn take_unfilled(&self, len: usize) -> DayBlock {
        let mut codes = self.0.lock().ok().and_then(|mut b| b.pop()).unwrap_or_default();
        codes.resize(len, code::EMPTY);
        DayBlock { codes, extras: Vec::new() }
    }

    pub(crate) fn give(&self, block: DayBlock) {
        if let Ok(mut b) = self.0.lock()
            && b.len() < Self::KEEP
        {
            b.push(block.codes);
        }
    }
}

/// Month files handed to the writer threads and not written yet. A month
/// flushed and then touched again is read back from its staged file, which
/// must be whole by then: the merger waits for it (unless no writer is left,
/// when the read fails and the writer's error is reported).
#[derive(Default)]
pub(crate) struct InFlight {
    state: std::sync::Mutex<(std::collections::HashSet<std::path::PathBuf>, usize)>,
    done: std::sync::Condvar,
}

impl InFlight {
    /// A writer thread starts: while the guard lives it counts as a writer;
    /// dropped (the thread returns, fails or panics), its file in hand
    /// counts as done and the thread as gone, so no waiter is left waiting.
    /// Taken before the thread is spawned, so that a waiter never sees
    /// "no writer" while one is about to start.
    pub(crate) fn writer(self: &std::sync::Arc<Self>) -> Writer {
        if let Ok(mut s) = self.state.lock() {
            s.1 += 1;
        }
        Writer { in_flight: self.clone(), path: None }
    }

    pub(crate) fn sent(&self, path: &std::path::Path) {
        if let Ok(mut s) = self.state.lock() {
            s.0.insert(path.to_path_buf());
        }
    }

    pub(crate) fn written(&self, path: &std::path::Path) {
        if let Ok(mut s) = self.state.lock() {
            s.0.remove(path);
        }
        self.done.notify_all();
    }

    /// Until `path` is written (or no writer is left to write it).
    pub(crate) fn wait(&self, path: &std::path::Path) {
        let Ok(mut s) = self.state.lock() else { return };
        while s.0.contains(path) && s.1 > 0 {
            match self.done.wait(s) {
                Ok(next) => s = next,
                Err(_) => return,
            }
        }
    }
}

/// A writer thread's hold on `InFlight` (see `InFlight::writer`).
pub(crate) struct Writer {
    in_flight: std::sync::Arc<InFlight>,
    path: Option<std::path::PathBuf>,
}

impl Writer {
    pub(crate) fn writing(&mut self, path: &std::path::Path) {
        self.path = Some(path.to_path_buf());
    }

    pub(crate) fn written(&mut self) {
        if let Some(p) = self.path.take() {
            self.in_flight.written(&p);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.written();
        if let Ok(mut s) = self.in_flight.state.lock() {
            s.1 = s.1.saturating_sub(1);
        }
        self.in_flight.done.notify_all();
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Cell {
    pub station: u32,
    pub kind: Kind,
    pub label: HourLabel,
    pub value: f64,
}

pub(crate) enum Parsed {
    Hourly(HourlyCells),
    Stations(Vec<Station>),
    CityDaily(Vec<CityDay>),
    Skipped(String),
}

pub(crate) struct FileResult {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub parsed: Result<Parsed, String>,
    pub rejects: Vec<Reject>,
}

/// Line numbers from byte offsets. The csv crate's own line count is off by
/// one on CRLF files (the CNEMC files are CRLF), so lines are counted here
/// from the record's byte offset; offsets only grow, so this is linear.
struct Lines<'a> {
    body: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(body: &'a [u8]) -> Lines<'a> {
        Lines { body, byte: 0, line: 1 }
    }

    fn of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let mut b = (pos.byte() as usize).min(self.body.len());
        // On CRLF files a record's offset can point at the previous line's `\n`.
        while b < self.body.len() && matches!(self.body[b], b'\r' | b'\n') {
            b += 1;
        }
        if b < self.byte {
            (self.byte, self.line) = (0, 1);
        }
        self.line += self.body[self.byte..b].iter().filter(|&&c| c == b'\n').count() as u64;
        self.byte = b;
        self.line
    }
}

pub(crate) fn reader(body: &[u8], has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(has_headers).flexible(true).from_reader(body)
}

/// Run `row` on every record with its line number; an unreadable record is
/// rejected with its line (the csv crate's own line count is off on CRLF).
pub(crate) fn each_record(
    rdr: &mut csv::Reader<&[u8]>,
    body: &[u8],
    file: &str,
    rejects: &mut Vec<Reject>,
    mut row: impl FnMut(&csv::ByteRecord, u64, &mut Vec<Reject>),
) {
    let mut lines = Lines::new(body);
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.of(record.position());
                row(&record, line, rejects);
            }
            Err(e) => reject(rejects, file, lines.of(e.position()), "", format!("unreadable row: {e}"), b""),
        }
    }
}

pub(crate) fn reject(
    rejects: &mut Vec<Reject>,
    file: &str,
    line: u64,
    column: &str,
    reason: impl Into<String>,
    value: &[u8],
) {
    rejects.push(Reject {
        file: file.to_string(),
        line,
        column: column.to_string(),
        reason: reason.into(),
        value: shown_value(value),
    });
}

/// The rejected cell as the rejects file shows it: whole up to 200 bytes,
/// else its start and its size (a 64 MB cell must not make a 64 MB report).
pub(crate) fn shown_value(value: &[u8]) -> String {
    const SHOWN: usize = 200;
    if value.len() <= SHOWN {
        return String::from_utf8_lossy(value).into_owned();
    }
    let mut end = SHOWN;
    while end > 0 && (value[end] & 0xC0) == 0x80 {
        end -= 1; // never cut a UTF-8 character
    }
    format!("{}… ({} bytes)", String::from_utf8_lossy(&value[..end]), value.len())
}

/// Exact powers of ten for the fast path (at most 15 digits).
pub(crate) const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Parse a concentration cell: `Ok(None)` when empty, `Err(reason)` when bad.
/// Plain decimals take a fast exact path (one correctly rounded division).
pub fn parse_value(b: &[u8]) -> std::result::Result<Option<f64>, &'static str> {
    // The usual cells: empty, or one to four digits and nothing else (always plausible).
    if b.is_empty() {
        return Ok(None);
    }
    if b.len() <= 4 && b.iter().all(u8::is_ascii_digit) {
        return Ok(Some(f64::from(b.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))));
    }
    let b = b.trim_ascii();
    if b.is_empty() {
        return Ok(None);
    }
    let mut int: u64 = 0;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    // Up to 15 characters the digits fit a u64 exactly; longer cells take the slow path.
    let mut fast = b.len() <= 15;
    for &c in b.iter().take_while(|_| fast) {
        match c {
            b'0'..=b'9' => {
                int = int * 10 + u64::from(c - b'0');
                if seen_dot {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => {
                fast = false;
                break;
            }
        }
    }
    let v = if fast && b != b"." {
        // Most cells are whole numbers: no division for them.
        if frac_digits == 0 { int as f64 } else { int as f64 / POW10[frac_digits as usize] }
    } else {
        let s = std::str::from_utf8(b).map_err(|_| "not a number")?;
        s.parse::<f64>().map_err(|_| "not a number")?
    };
    check_value(v).map(Some)
}

/// The plausibility rules every imported concentration meets.
pub(crate) fn check_value(v: f64) -> std::result::Result<f64, &'static str> {
    if !v.is_finite() {
        Err("not a finite number")
    } else if v < 0.0 {
        Err("negative concentration")
    } else if v > 100_000.0 {
        Err("implausibly large (over 100000)")
    } else {
        Ok(v)
    }
}

pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (s[0..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?)
    } else {
        let mut it = s.split(['-', '/']);
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    Date::new(y, m, d).ok()
}

/// Stable counting sort of cells by station: O(n), and a repeated cell keeps
/// its file order (the later row still wins).
pub(crate) fn group_by_station(cells: Vec<Cell>, n_stations: usize) -> Vec<Cell> {
    let mut start = vec![0usize; n_stations + 1];
    for c in &cells {
        start[c.station as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut out = cells.clone();
    for c in cells {
        let slot = &mut start[c.station as usize];
        out[*slot] = c;
        *slot += 1;
    }
    out
}

/// `YYYY-MM-DDTHH:MM[:SS][+08:00]` (or a space for `T`); hour 24 allowed.
pub(crate) fn parse_label(s: &str) -> std::result::Result<HourLabel, &'static str> {
    let s = s.trim();
    let s = s.strip_suffix("+08:00").unwrap_or(s);
    // Bytes, not a str slice: the last six bytes may cut a multi-byte character.
    if s.ends_with('Z') || s.as_bytes()[s.len().saturating_sub(6)..].contains(&b'+') {
        return Err("only China time (+08:00 or no offset) is accepted");
    }
    let (d, t) = s.split_once(['T', ' ']).ok_or("expected YYYY-MM-DDTHH:00")?;
    let date = parse_date(d).ok_or("invalid date")?;
    let mut parts = t.split(':');
    let h: i64 = parts.next().and_then(|h| h.parse().ok()).ok_or("invalid hour")?;
    let m: i64 = parts.next().and_then(|m| m.parse().ok()).ok_or("invalid minutes")?;
    if let Some(sec) = parts.next()
        && sec.parse::<i64>().ok() != Some(0)
    {
        return Err("hourly data must be on the hour");
    }
    if m != 0 {
        return Err("hourly data must be on the hour");
    }
    if !(0..=24).contains(&h) {
        return Err("hour must be 0..24");
    }
    Ok(day_number(date) * 24 + h)
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

pub(crate) fn cell_value(rejects: &mut Vec<Reject>, file: &str, line: u64, column: &str, b: &[u8]) -> Option<f64> {
    match parse_value(b) {
        Ok(v) => v,
        Err(reason) => {
            reject(rejects, file, line, column, reason, b);
            None
        }
    }
}
