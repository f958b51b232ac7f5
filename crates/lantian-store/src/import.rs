//! `lantian import`: files or folders, `.csv` or `.csv.gz`, each file's
//! format recognised from its content. Bad rows and cells never stop an
//! import: each goes to the rejects file with file, line, column and reason.
//! A file that cannot be read at all is reported and makes the command fail,
//! but the other files are still imported. Everything is committed at once
//! (see the crate docs), so a killed import changes nothing.

use crate::city_daily::{self, CityDay};
use crate::kinds::{Kind, N_KINDS};
use crate::partition::{MergeCounts, MonthKey, Partition};
use crate::stations::{Station, canonical_city};
use crate::store::Transaction;
use crate::{Error, Result};
use jiff::civil::Date;
use lantian_core::time::{HourLabel, day_number, label};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

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

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportSummary {
    pub files: BTreeMap<Format, usize>,
    pub hourly: MergeCounts,
    pub city_days: MergeCounts,
    pub stations: usize,
    pub rejected: u64,
    pub rejects_file: Option<PathBuf>,
    /// Files that could not be read at all, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Files recognised but not stored by this version, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Whether a new generation was committed (false when nothing changed).
    pub committed: bool,
    pub generation: u64,
}

/// Progress callback: (files done, files total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

pub(crate) struct HourlyCells {
    pub stations: Vec<String>,
    pub cells: Vec<Cell>,
    /// A CNEMC file's own date, dense: the label of its hour 0 and the
    /// values `[(station * N_KINDS + kind) * 24 + hour]`, NaN where absent.
    /// Merged block by block; rows of any other date are in `cells`.
    pub day: Option<(HourLabel, Vec<f64>)>,
}

#[derive(Clone, Copy)]
pub(crate) struct Cell {
    pub station: u32,
    pub kind: Kind,
    pub label: HourLabel,
    pub value: f64,
}

enum Parsed {
    Hourly(HourlyCells),
    Stations(Vec<Station>),
    CityDaily(Vec<CityDay>),
    Skipped(String),
}

struct FileResult {
    path: PathBuf,
    format: Option<Format>,
    parsed: Result<Parsed, String>,
    rejects: Vec<Reject>,
}

/// Files below `paths` (folders are walked; hidden files skipped), sorted so
/// that a later file (by name) revises an earlier one.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else if name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// Import `paths` into the store in `data_dir`.
///
/// A pipeline on all cores: worker threads parse files (taking them in path
/// order from a shared counter), this thread merges their results strictly in
/// path order (so a later file revises an earlier one deterministically), and
/// a writer thread encodes finished months to Parquet meanwhile.
pub fn import(data_dir: &Path, paths: &[PathBuf], progress: Option<Progress>) -> Result<ImportSummary> {
    let files = collect_files(paths)?;
    let tx = Transaction::begin(data_dir)?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 16);
    let next_file = AtomicUsize::new(0);
    let mut merger = Merger::new(tx);
    let outcome: Result<()> = std::thread::scope(|scope| {
        let (parsed_tx, parsed_rx) = mpsc::sync_channel::<(usize, FileResult)>(workers);
        for _ in 0..workers {
            let parsed_tx = parsed_tx.clone();
            let (files, next_file) = (&files, &next_file);
            scope.spawn(move || {
                loop {
                    let i = next_file.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if parsed_tx.send((i, parse_file(path))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(parsed_tx);
        let (write_tx, write_rx) = mpsc::sync_channel::<(Partition, PathBuf)>(1);
        let write_rx = std::sync::Arc::new(std::sync::Mutex::new(write_rx));
        let writers: Vec<_> = (0..workers.min(2))
            .map(|_| {
                let write_rx = write_rx.clone();
                scope.spawn(move || -> Result<()> {
                    loop {
                        let next = write_rx.lock().map_err(|_| Error::Store("a Parquet writer failed".into()))?.recv();
                        let Ok((part, path)) = next else { return Ok(()) };
                        part.write(&path)?;
                    }
                })
            })
            .collect();
        let mut pending: BTreeMap<usize, FileResult> = BTreeMap::new();
        let mut next = 0;
        let mut result = Ok(());
        for (i, parsed) in parsed_rx {
            pending.insert(i, parsed);
            while let Some(r) = pending.remove(&next) {
                if result.is_ok() {
                    result = merger.merge_file(r, next, &write_tx);
                }
                next += 1;
                if let Some(cb) = progress {
                    cb(next, files.len());
                }
            }
            if result.is_err() {
                // Stop the workers early: nothing more will be merged.
                next_file.store(files.len(), Ordering::Relaxed);
            }
        }
        if result.is_ok() {
            result = merger.flush_all(&write_tx);
        }
        drop(write_tx);
        let mut written = Ok(());
        for w in writers {
            let r = w.join().unwrap_or_else(|_| Err(Error::Store("the Parquet writer thread panicked".into())));
            written = written.and(r);
        }
        result.and(written)
    });
    merger.finish(data_dir, outcome)
}

/// The merging side of an import: open months, staged files, counts.
struct Merger {
    tx: Transaction,
    summary: ImportSummary,
    rejects: Vec<Reject>,
    open: BTreeMap<MonthKey, OpenMonth>,
    staged: HashMap<MonthKey, PathBuf>,
    stations: Vec<Station>,
    stations_changed: bool,
    city_days: Option<Vec<CityDay>>,
    /// The station list of the last CNEMC file, shared by the day blocks.
    last_stations: Option<std::sync::Arc<Vec<String>>>,
}

struct OpenMonth {
    part: Partition,
    counts: MergeCounts,
    /// Index of the last file that touched the month.
    last_file: usize,
    /// CNEMC day blocks not merged yet, in file order (see `settle`).
    days: Vec<PendingDay>,
}

/// One file's date, dense, waiting to be merged into its month.
struct PendingDay {
    start: HourLabel,
    stations: std::sync::Arc<Vec<String>>,
    block: Vec<f64>,
}

impl OpenMonth {
    /// Merge the pending day blocks station by station: a station's month
    /// (15 series, 89 KB) stays in cache while its days are copied in, where
    /// merging file by file touched the whole month (150 MB nationally) each
    /// day, a cache and TLB miss per series (a fifth of the import's time).
    /// Days are applied in file order, so a later file still wins.
    fn settle(&mut self) {
        let days = std::mem::take(&mut self.days);
        if days.is_empty() {
            return;
        }
        let per_station = N_KINDS * 24;
        // (slot, day, station index in that day's file), grouped by slot.
        let mut work: Vec<(usize, usize, usize)> = Vec::new();
        let mut slots: Vec<usize> = Vec::new();
        for (d, day) in days.iter().enumerate() {
            // Files of one archive share their station list: resolve it once.
            if d == 0 || !std::sync::Arc::ptr_eq(&day.stations, &days[d - 1].stations) {
                slots = day.stations.iter().map(|name| self.part.station_slot(name)).collect();
            }
            for (st, values) in day.block.chunks_exact(per_station).enumerate() {
                // A station without a value that day changes nothing.
                if !values.iter().all(|v| v.is_nan()) {
                    work.push((slots[st], d, st));
                }
            }
        }
        work.sort_by_key(|&(slot, d, _)| (slot, d));
        for (slot, d, st) in work {
            let day = &days[d];
            self.part.merge_day(
                slot,
                day.start,
                &day.block[st * per_station..(st + 1) * per_station],
                &mut self.counts,
            );
        }
    }
}

/// A month untouched by this many consecutive files is written out (staged)
/// to bound memory; touched again later, it is read back from its staged file.
const IDLE_FILES: usize = 4;

impl Merger {
    fn new(tx: Transaction) -> Merger {
        let stations = tx.base.stations().to_vec();
        Merger {
            tx,
            summary: ImportSummary::default(),
            rejects: Vec::new(),
            open: BTreeMap::new(),
            staged: HashMap::new(),
            stations,
            stations_changed: false,
            city_days: None,
            last_stations: None,
        }
    }

    fn merge_file(
        &mut self,
        r: FileResult,
        file_idx: usize,
        writer: &mpsc::SyncSender<(Partition, PathBuf)>,
    ) -> Result<()> {
        self.rejects.extend(r.rejects);
        if let Some(f) = r.format {
            *self.summary.files.entry(f).or_default() += 1;
        }
        match r.parsed {
            Err(reason) => self.summary.unreadable.push((r.path, reason)),
            Ok(Parsed::Skipped(reason)) => self.summary.skipped.push((r.path, reason)),
            Ok(Parsed::Hourly(h)) => self.merge_hourly(h, file_idx)?,
            Ok(Parsed::Stations(list)) => {
                for s in list {
                    self.summary.stations += 1;
                    match self.stations.iter_mut().find(|o| o.code == s.code) {
                        Some(o) if *o == s => {}
                        Some(o) => {
                            *o = s;
                            self.stations_changed = true;
                        }
                        None => {
                            self.stations.push(s);
                            self.stations_changed = true;
                        }
                    }
                }
            }
            Ok(Parsed::CityDaily(rows)) => {
                let all = match &mut self.city_days {
                    Some(v) => v,
                    None => self.city_days.insert(self.tx.base.city_daily()?),
                };
                merge_city_days(all, rows, &mut self.summary.city_days);
            }
        }
        let idle: Vec<MonthKey> =
            self.open.iter().filter(|(_, m)| m.last_file + IDLE_FILES <= file_idx).map(|(k, _)| *k).collect();
        for key in idle {
            self.flush_month(key, writer)?;
        }
        Ok(())
    }

    /// Cells come in runs of one month (a CNEMC file is one date): the
    /// partition is looked up once per run, station slots once per month.
    fn merge_hourly(&mut self, mut h: HourlyCells, file_idx: usize) -> Result<()> {
        if let Some((start, block)) = h.day.take()
            && let Some(key) = MonthKey::of_label(start)
        {
            // The same list as the previous file's: share it (see `settle`).
            let stations = match &self.last_stations {
                Some(prev) if **prev == h.stations => prev.clone(),
                _ => std::sync::Arc::new(h.stations.clone()),
            };
            self.last_stations = Some(stations.clone());
            let month = self.open_month(key, file_idx)?;
            month.days.push(PendingDay { start, stations, block });
        }
        let mut slots: BTreeMap<MonthKey, Vec<usize>> = BTreeMap::new();
        let mut rest: &[Cell] = &h.cells;
        while let Some(first) = rest.first() {
            let Some(key) = MonthKey::of_label(first.label) else {
                rest = &rest[1..];
                continue;
            };
            let (start, len) = key.label_range();
            let end = start + len as i64;
            let run = rest.iter().position(|c| c.label < start || c.label >= end).unwrap_or(rest.len());
            let month = self.open_month(key, file_idx)?;
            month.settle(); // earlier files' days first: a later file wins
            let slots = slots.entry(key).or_insert_with(|| vec![usize::MAX; h.stations.len()]);
            for c in &rest[..run] {
                let st = c.station as usize;
                if slots[st] == usize::MAX {
                    slots[st] = month.part.station_slot(&h.stations[st]);
                }
                month.part.merge_at(slots[st], c.label, c.kind, c.value, &mut month.counts);
            }
            rest = &rest[run..];
        }
        Ok(())
    }

    /// The month in memory, read from this import's staged file or the
    /// store when it is not open yet.
    fn open_month(&mut self, key: MonthKey, file_idx: usize) -> Result<&mut OpenMonth> {
        let month = match self.open.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let part = match self.staged.get(&key) {
                    Some(p) => Partition::read(key, p, &Kind::ALL, None)?,
                    None => self.tx.base.read_month(key, &Kind::ALL, None)?.unwrap_or_else(|| Partition::empty(key)),
                };
                e.insert(OpenMonth { part, counts: MergeCounts::default(), last_file: file_idx, days: Vec::new() })
            }
        };
        month.last_file = file_idx;
        Ok(month)
    }

    /// Hand a month to the writer if anything in it changed.
    fn flush_month(&mut self, key: MonthKey, writer: &mpsc::SyncSender<(Partition, PathBuf)>) -> Result<()> {
        let Some(mut month) = self.open.remove(&key) else { return Ok(()) };
        month.settle();
        self.summary.hourly += month.counts;
        if month.counts.imported + month.counts.revised == 0 {
            return Ok(());
        }
        // A month flushed before and touched again is rewritten to a new name.
        let stem = match self.staged.get(&key) {
            Some(_) => format!("hourly/{}.{}", key.name(), self.staged.len()),
            None => format!("hourly/{}", key.name()),
        };
        let (rel, abs) = self.tx.stage_path(&stem, "parquet");
        self.tx.next.hourly.insert(key.name(), rel);
        self.staged.insert(key, abs.clone());
        writer.send((month.part, abs)).map_err(|_| Error::Store("the Parquet writer stopped".into()))
    }

    fn flush_all(&mut self, writer: &mpsc::SyncSender<(Partition, PathBuf)>) -> Result<()> {
        let keys: Vec<MonthKey> = self.open.keys().copied().collect();
        for key in keys {
            self.flush_month(key, writer)?;
        }
        if self.stations_changed {
            self.stations.sort_by(|a, b| a.code.cmp(&b.code));
            let stations = std::mem::take(&mut self.stations);
            self.tx.write_stations(&stations)?;
        }
        if let Some(rows) = &mut self.city_days
            && self.summary.city_days.imported + self.summary.city_days.revised > 0
        {
            rows.sort_by(|a, b| (&a.city, a.day, &a.source).cmp(&(&b.city, b.day, &b.source)));
            let (rel, abs) = self.tx.stage_path("city_daily", "parquet");
            city_daily::write(&abs, rows)?;
            self.tx.next.city_daily = Some(rel);
        }
        Ok(())
    }

    /// Commit (or roll back) and report.
    fn finish(self, data_dir: &Path, outcome: Result<()>) -> Result<ImportSummary> {
        let Merger { tx, mut summary, rejects, staged, stations_changed, .. } = self;
        summary.rejected = rejects.len() as u64;
        if let Err(e) = outcome {
            tx.rollback();
            return Err(e);
        }
        let changed = !staged.is_empty() || stations_changed || tx.next.city_daily != tx.base.manifest.city_daily;
        summary.generation = if changed { tx.next.generation } else { tx.base.generation() };
        if !rejects.is_empty() {
            summary.rejects_file = Some(write_rejects(data_dir, summary.generation, &rejects)?);
        }
        if changed {
            tx.commit()?;
            summary.committed = true;
        } else {
            tx.rollback();
        }
        Ok(summary)
    }
}

/// Merge published city days, row by row, keyed by city, day and source
/// format (two sources of one city-day are both kept; readers choose, see
/// `query::city_days`): a new row is imported; an existing one whose values
/// differ is revised (newer wins); else unchanged.
fn merge_city_days(all: &mut Vec<CityDay>, rows: Vec<CityDay>, counts: &mut MergeCounts) {
    let mut index: HashMap<(String, i64, String), usize> =
        all.iter().enumerate().map(|(i, r)| ((r.city.clone(), r.day, r.source.clone()), i)).collect();
    for row in rows {
        let key = (row.city.clone(), row.day, row.source.clone());
        let Some(&i) = index.get(&key) else {
            counts.imported += 1;
            index.insert(key, all.len());
            all.push(row);
            continue;
        };
        let old = &mut all[i];
        if old.values() == row.values() {
            counts.unchanged += 1;
        } else {
            counts.revised += 1;
            *old = row;
        }
    }
}

fn write_rejects(data_dir: &Path, generation: u64, rejects: &[Reject]) -> Result<PathBuf> {
    let dir = data_dir.join("rejects");
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S");
    let path = dir.join(format!("import-{stamp}-g{generation}.csv"));
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let werr = |e: csv::Error| Error::Input(format!("{}: {e}", path.display()));
    w.write_record(["file", "line", "column", "reason", "value"]).map_err(werr)?;
    for r in rejects {
        w.write_record([r.file.as_str(), &r.line.to_string(), &r.column, &r.reason, &r.value]).map_err(werr)?;
    }
    w.flush().map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// The largest file (after gunzip) one import reads into memory: 4 GiB by
/// default (a national year as long CSV is ~2.5 GB), `LANTIAN_MAX_FILE_MB`
/// to change it. Larger files are refused before they are read, and a gzip
/// file stops being inflated at the limit (a "zip bomb" costs nothing).
pub fn max_file_bytes() -> u64 {
    std::env::var("LANTIAN_MAX_FILE_MB").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(4096) << 20
}

fn too_large(limit: u64) -> String {
    format!("larger than the {} MB a file may have (split it, e.g. by month, or set LANTIAN_MAX_FILE_MB)", limit >> 20)
}

/// Read a file, gunzipping when it starts with the gzip magic.
pub fn read_input(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let limit = max_file_bytes();
    let size = fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > limit {
        return Err(format!("{:.1} MB: {}", size as f64 / 1048576.0, too_large(limit)));
    }
    let raw = fs::read(path).map_err(|e| e.to_string())?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity((raw.len() * 4).min(limit as usize));
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a valid gzip file: {e}"))?;
        if out.len() as u64 > limit {
            return Err(format!("gzip file that inflates {}", too_large(limit)));
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(b)
}

/// Recognise the format from the first line.
pub fn detect(content: &[u8]) -> Option<Format> {
    if content.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    let body = strip_bom(content);
    let first = body.split(|&b| b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?.trim_end_matches('\r');
    let fields: Vec<&str> = first.split(',').map(str::trim).collect();
    let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    if lower.len() >= 3 && lower[0] == "date" && lower[1] == "hour" && lower[2] == "type" {
        let codes = fields[3..].iter().filter(|f| looks_like_station_code(f)).count();
        return Some(if codes * 2 >= fields.len().saturating_sub(3) {
            Format::CnemcSites
        } else {
            Format::CnemcCities
        });
    }
    if fields.first() == Some(&"监测点编码") {
        return Some(Format::StationList);
    }
    if lower == ["station", "time", "pollutant", "value"] {
        return Some(Format::Long);
    }
    if lower.iter().any(|f| f == "time_point") && lower.iter().any(|f| f == "pm2_5") {
        return Some(Format::CityDailyHeader);
    }
    if fields.len() == 12 && parse_date(fields[1]).is_some() && fields[5].parse::<f64>().is_ok() {
        return Some(Format::CityDailyPlain);
    }
    None
}

fn looks_like_station_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4].is_ascii_uppercase()
}

fn parse_file(path: &Path) -> FileResult {
    match read_input(path) {
        Ok(content) => parse_content(path, &content),
        Err(e) => FileResult { path: path.to_path_buf(), format: None, parsed: Err(e), rejects: Vec::new() },
    }
}

/// For fuzzing: detect and parse `content` as a file named `fuzz.csv`;
/// returns how many rows or cells were rejected. Never panics.
#[doc(hidden)]
pub fn fuzz_parse(content: &[u8]) -> usize {
    parse_content(Path::new("fuzz.csv"), content).rejects.len()
}

fn parse_content(path: &Path, content: &[u8]) -> FileResult {
    let name = path.display().to_string();
    let mut res =
        FileResult { path: path.to_path_buf(), format: None, parsed: Err(String::new()), rejects: Vec::new() };
    // Text must be UTF-8: a GBK file would otherwise import garbled names (or not be recognised).
    if !content.starts_with(b"PAR1")
        && let Err(e) = std::str::from_utf8(content)
    {
        let line = 1 + content[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        res.parsed = Err(format!("line {line}: not UTF-8 text (a GBK file? save it as UTF-8 and import again)"));
        return res;
    }
    let Some(format) = detect(content) else {
        res.parsed = Err("format not recognised (expected a CNEMC site file, a station list, a long CSV station,time,pollutant,value, or a city daily file)".into());
        return res;
    };
    res.format = Some(format);
    let body = strip_bom(content);
    res.parsed = match format {
        Format::CnemcSites => parse_cnemc(&name, body, &mut res.rejects).map(Parsed::Hourly),
        Format::CnemcCities => Ok(Parsed::Skipped(
            "city hourly files are recognised but not stored by this version; import the site files instead".into(),
        )),
        Format::StationList => parse_station_list(&name, body, &mut res.rejects).map(Parsed::Stations),
        Format::Long => parse_long(&name, body, &mut res.rejects).map(Parsed::Hourly),
        Format::CityDailyHeader => {
            let city = path
                .file_name()
                .map(|n| n.to_string_lossy().replace(".csv.gz", "").replace(".csv", ""))
                .unwrap_or_default();
            parse_city_daily_header(&name, &canonical_city(&city), body, &mut res.rejects).map(Parsed::CityDaily)
        }
        Format::CityDailyPlain => parse_city_daily_plain(&name, body, &mut res.rejects).map(Parsed::CityDaily),
        Format::Parquet => crate::parquet_input::parse(&name, content, &mut res.rejects).map(Parsed::Hourly),
    };
    res
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

fn reader(body: &[u8], has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(has_headers).flexible(true).from_reader(body)
}

/// Run `row` on every record with its line number; an unreadable record is
/// rejected with its line (the csv crate's own line count is off on CRLF).
fn each_record(
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
fn shown_value(value: &[u8]) -> String {
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
const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Parse a concentration cell: `Ok(None)` when empty, `Err(reason)` when bad.
/// Plain decimals take a fast exact path (one correctly rounded division).
pub fn parse_value(b: &[u8]) -> std::result::Result<Option<f64>, &'static str> {
    // The usual cell: one to four digits and nothing else (always plausible).
    if (1..=4).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
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

fn parse_date(s: &str) -> Option<Date> {
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

fn parse_cnemc(file: &str, body: &[u8], rejects: &mut Vec<Reject>) -> std::result::Result<HourlyCells, String> {
    let mut rows;
    if !body.contains(&b'"') {
        // The archive's files never quote a field: split on newlines and
        // commas directly (a third of the parse time went to the general
        // CSV reader). Any quote takes the csv crate below.
        let mut lines = Vec::new();
        let mut at = 0;
        for nl in memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len())) {
            if at <= body.len() {
                lines.push(&body[at..nl]);
            }
            at = nl + 1;
        }
        let mut header = Vec::new();
        split_commas(lines.first().map(|l| crlf(l)).unwrap_or_default(), &mut header);
        rows = CnemcRows::new(file, header);
        let mut fields: Vec<&[u8]> = Vec::with_capacity(rows.n_fields);
        for (i, raw) in lines.iter().enumerate().skip(1) {
            let raw = crlf(raw);
            if raw.is_empty() {
                continue;
            }
            fields.clear();
            split_commas(raw, &mut fields);
            rows.row(&fields, raw, i as u64 + 1, rejects);
        }
    } else {
        let mut rdr = reader(body, true);
        let header = rdr.byte_headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
        rows = CnemcRows::new(file, header.iter().collect());
        each_record(&mut rdr, body, file, rejects, |record, line, rejects| {
            let fields: Vec<&[u8]> = record.iter().collect();
            rows.row(&fields, record.as_slice(), line, rejects);
        });
    }
    Ok(rows.finish())
}

/// The fields of a quote-free CSV line.
fn split_commas<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) {
    let mut at = 0;
    for comma in memchr::memchr_iter(b',', line) {
        out.push(&line[at..comma]);
        at = comma + 1;
    }
    out.push(&line[at..]);
}

fn crlf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The rows of a CNEMC site file as they are read.
struct CnemcRows<'a> {
    file: &'a str,
    n_fields: usize,
    stations: Vec<String>,
    /// The first row's date is the file's own (one date per file in the
    /// archive): its values go to a dense block in file order,
    /// `[(kind * 24 + hour) * stations + station]`, written row by row.
    day: Option<(Date, Vec<f64>)>,
    /// Values of any other date.
    cells: Vec<Cell>,
}

impl<'a> CnemcRows<'a> {
    fn new(file: &'a str, header: Vec<&[u8]>) -> CnemcRows<'a> {
        let stations = header.iter().skip(3).map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
        CnemcRows { file, n_fields: header.len(), stations, day: None, cells: Vec::new() }
    }

    fn row(&mut self, record: &[&[u8]], raw: &[u8], line: u64, rejects: &mut Vec<Reject>) {
        let file = self.file;
        if record.len() != self.n_fields {
            let reason = format!("expected {} fields, found {}", self.n_fields, record.len());
            reject(rejects, file, line, "", reason, raw);
            return;
        }
        let date = std::str::from_utf8(record[0]).ok().and_then(parse_date);
        let hour = std::str::from_utf8(record[1])
            .ok()
            .and_then(|h| h.trim().parse::<i64>().ok())
            .filter(|h| (0..24).contains(h));
        let kind = std::str::from_utf8(record[2]).ok().and_then(Kind::parse);
        let (Some(date), Some(hour), Some(kind)) = (date, hour, kind) else {
            let what = if date.is_none() {
                ("date", "invalid date", record[0])
            } else if hour.is_none() {
                ("hour", "hour must be 0..23", record[1])
            } else {
                ("type", "unknown type", record[2])
            };
            reject(rejects, file, line, what.0, what.1, what.2);
            return;
        };
        let n = self.stations.len();
        let (d0, block) = self.day.get_or_insert_with(|| (date, vec![f64::NAN; n * N_KINDS * 24]));
        let values = record[3..].iter().enumerate();
        if *d0 == date {
            let row = &mut block[(kind.idx() * 24 + hour as usize) * n..][..n];
            for (i, v) in values {
                match parse_value(v) {
                    Ok(Some(value)) => row[i] = value,
                    Ok(None) => {}
                    Err(reason) => reject(rejects, file, line, &self.stations[i], reason, v),
                }
            }
        } else {
            let l = label(date, hour);
            for (i, v) in values {
                match parse_value(v) {
                    Ok(Some(value)) => self.cells.push(Cell { station: i as u32, kind, label: l, value }),
                    Ok(None) => {}
                    Err(reason) => reject(rejects, file, line, &self.stations[i], reason, v),
                }
            }
        }
    }

    /// Station-major order makes the merge write each station's block in
    /// turn (cache-friendly); done here, on the parsing threads.
    fn finish(self) -> HourlyCells {
        let n = self.stations.len();
        let day = self.day.map(|(d, rows)| (label(d, 0), transpose(&rows, N_KINDS * 24, n)));
        HourlyCells { cells: group_by_station(self.cells, n), stations: self.stations, day }
    }
}

/// `rows × cols` row-major → column-major, in tiles that stay in cache.
fn transpose(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    const TILE: usize = 32;
    let mut out = vec![f64::NAN; m.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for c in c0..(c0 + TILE).min(cols) {
                for r in r0..(r0 + TILE).min(rows) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    out
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

fn parse_long(file: &str, body: &[u8], rejects: &mut Vec<Reject>) -> std::result::Result<HourlyCells, String> {
    let mut rdr = reader(body, true);
    let mut stations: Vec<String> = Vec::new();
    let mut index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut cells = Vec::new();
    each_record(&mut rdr, body, file, rejects, |record, line, rejects| {
        if record.len() != 4 {
            reject(rejects, file, line, "", format!("expected 4 fields, found {}", record.len()), record.as_slice());
            return;
        }
        let station = record[0].trim_ascii();
        if station.is_empty() {
            reject(rejects, file, line, "station", "empty station", b"");
            return;
        }
        let l = match std::str::from_utf8(&record[1]).map_err(|_| "not UTF-8").and_then(parse_label) {
            Ok(l) => l,
            Err(reason) => {
                reject(rejects, file, line, "time", reason, &record[1]);
                return;
            }
        };
        let Some(kind) = std::str::from_utf8(&record[2]).ok().and_then(Kind::parse) else {
            reject(rejects, file, line, "pollutant", "unknown pollutant", &record[2]);
            return;
        };
        let value = match parse_value(&record[3]) {
            Ok(Some(v)) => v,
            Ok(None) => return,
            Err(reason) => {
                reject(rejects, file, line, "value", reason, &record[3]);
                return;
            }
        };
        let id = *index.entry(station.to_vec()).or_insert_with(|| {
            stations.push(String::from_utf8_lossy(station).into_owned());
            (stations.len() - 1) as u32
        });
        cells.push(Cell { station: id, kind, label: l, value });
    });
    Ok(HourlyCells { stations, cells, day: None })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

fn parse_station_list(file: &str, body: &[u8], rejects: &mut Vec<Reject>) -> std::result::Result<Vec<Station>, String> {
    let mut rdr = reader(body, true);
    let mut out = Vec::new();
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        if rec.len() < 6 {
            reject(rejects, file, line, "", format!("expected 6 fields, found {}", rec.len()), rec.as_slice());
            return;
        }
        let code = text(&rec[0]);
        if code.is_empty() {
            reject(rejects, file, line, "监测点编码", "empty station code", b"");
            return;
        }
        let coord = |b: &[u8]| std::str::from_utf8(b).ok().and_then(|s| s.trim().parse::<f64>().ok());
        let control = match text(&rec[5]).as_str() {
            "Y" | "y" | "是" => true,
            "N" | "n" | "否" | "" => false,
            _ => {
                reject(rejects, file, line, "对照点", "expected Y or N", &rec[5]);
                return;
            }
        };
        let city_raw = text(&rec[2]);
        out.push(Station {
            code,
            name: text(&rec[1]),
            city: canonical_city(&city_raw),
            city_raw,
            lon: coord(&rec[3]),
            lat: coord(&rec[4]),
            control,
        });
    });
    Ok(out)
}

fn cell_value(rejects: &mut Vec<Reject>, file: &str, line: u64, column: &str, b: &[u8]) -> Option<f64> {
    match parse_value(b) {
        Ok(v) => v,
        Err(reason) => {
            reject(rejects, file, line, column, reason, b);
            None
        }
    }
}

fn parse_city_daily_header(
    file: &str,
    city: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
) -> std::result::Result<Vec<CityDay>, String> {
    let mut rdr = reader(body, true);
    let header: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| format!("unreadable header: {e}"))?
        .iter()
        .map(|h| text(h).to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let date_col = col("time_point").ok_or("no time_point column")?;
    let cols: Vec<(&str, Option<usize>)> =
        ["pm2_5", "pm10", "so2", "no2", "co", "o3", "aqi"].iter().map(|n| (*n, col(n))).collect();
    let mut out = Vec::new();
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        let Some(date) = rec.get(date_col).and_then(|b| std::str::from_utf8(b).ok()).and_then(parse_date) else {
            reject(rejects, file, line, "time_point", "invalid date", rec.get(date_col).unwrap_or_default());
            return;
        };
        let mut v = [None; 7];
        for (k, (name, c)) in cols.iter().enumerate() {
            if let Some(b) = c.and_then(|c| rec.get(c)) {
                v[k] = cell_value(rejects, file, line, name, b);
            }
        }
        // This source's `o3` is the daily maximum 8-hour mean (city_daily/README.md).
        out.push(CityDay {
            city: city.to_string(),
            day: day_number(date),
            pm25: v[0],
            pm10: v[1],
            so2: v[2],
            no2: v[3],
            co: v[4],
            o3_8h: v[5],
            o3_1h_max: None,
            aqi_published: v[6],
            source: "aqistudy-daily".into(),
        });
    });
    Ok(out)
}

fn parse_city_daily_plain(
    file: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
) -> std::result::Result<Vec<CityDay>, String> {
    let mut rdr = reader(body, false);
    let mut out = Vec::new();
    const NAMES: [&str; 12] =
        ["city", "date", "aqi", "aqi_range", "quality", "pm25", "pm10", "so2", "co", "no2", "o3", "rank"];
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        if rec.len() != 12 {
            reject(rejects, file, line, "", format!("expected 12 fields, found {}", rec.len()), rec.as_slice());
            return;
        }
        let Some(date) = std::str::from_utf8(&rec[1]).ok().and_then(parse_date) else {
            reject(rejects, file, line, "date", "invalid date", &rec[1]);
            return;
        };
        let mut val = |i: usize| cell_value(rejects, file, line, NAMES[i], &rec[i]);
        let (aqi, pm25, pm10, so2, co, no2, o3) = (val(2), val(5), val(6), val(7), val(8), val(9), val(10));
        // This source's `o3` is the daily maximum 1-hour value, not MDA8.
        out.push(CityDay {
            city: canonical_city(&text(&rec[0])),
            day: day_number(date),
            pm25,
            pm10,
            so2,
            no2,
            co,
            o3_8h: None,
            o3_1h_max: o3,
            aqi_published: aqi,
            source: "aqistudy-plain".into(),
        });
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value(b""), Ok(None));
        assert_eq!(parse_value(b"  "), Ok(None));
        assert_eq!(parse_value(b"35"), Ok(Some(35.0)));
        assert_eq!(parse_value(b"1.2"), Ok(Some(1.2)));
        assert_eq!(parse_value(b"0.125"), Ok(Some(0.125)));
        assert_eq!(parse_value(b"1e2"), Ok(Some(100.0)));
        assert!(parse_value(b"-3").is_err());
        assert!(parse_value(b"abc").is_err());
        assert!(parse_value(b"NaN").is_err());
        assert!(parse_value(b".").is_err());
        for s in ["0.1", "0.3", "2.675", "115.8", "1.022", "999.9", "12345.678"] {
            assert_eq!(parse_value(s.as_bytes()), Ok(Some(s.parse::<f64>().unwrap())), "{s}");
        }
        // The short-integer path agrees with the standard library everywhere,
        // with and without leading zeros and surrounding blanks.
        for n in 0..10_000u32 {
            for s in [format!("{n}"), format!("{n:04}"), format!(" {n} "), format!("{n}.0")] {
                assert_eq!(parse_value(s.as_bytes()), Ok(Some(f64::from(n))), "{s:?}");
            }
        }
        assert_eq!(parse_value(b"99999"), Ok(Some(99999.0)));
        assert!(parse_value(b"100001").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(detect(b"date,hour,type,1001A,1002A\r\n"), Some(Format::CnemcSites));
        assert_eq!(detect("date,hour,type,北京,天津\n".as_bytes()), Some(Format::CnemcCities));
        assert_eq!(
            detect("\u{feff}监测点编码,监测点名称,城市,经度,纬度,对照点\n".as_bytes()),
            Some(Format::StationList)
        );
        assert_eq!(detect(b"station,time,pollutant,value\n"), Some(Format::Long));
        assert_eq!(
            detect("\u{feff}aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point\n".as_bytes()),
            Some(Format::CityDailyHeader)
        );
        assert_eq!(
            detect("\u{feff}成都,2013-12-02,236,216~256,重度污染,215.1,311.4,39.4,1.95,117.8,68,92\n".as_bytes()),
            Some(Format::CityDailyPlain)
        );
        assert_eq!(detect(b"hello,world\n"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(&[0xff, 0xfe, 0x00]), None);
    }

    #[test]
    fn labels() {
        let d = day_number(jiff::civil::date(2019, 1, 1));
        assert_eq!(parse_label("2019-01-01T16:00"), Ok(d * 24 + 16));
        assert_eq!(parse_label("2019-01-01 16:00:00+08:00"), Ok(d * 24 + 16));
        assert_eq!(parse_label("2019-01-01T24:00"), Ok(d * 24 + 24));
        assert!(parse_label("2019-01-01T16:30").is_err());
        assert!(parse_label("2019-01-01T16:00Z").is_err());
        assert!(parse_label("2019-01-01T16:00+09:00").is_err());
        assert!(parse_label("2019-02-30T01:00").is_err());
        assert!(parse_label("x").is_err());
        assert!(parse_label("").is_err());
    }

    /// Day blocks wait to be merged station by station: a later file of the
    /// same date still revises an earlier one, rows of another date and long
    /// CSV rows in between keep file order.
    #[test]
    fn day_blocks_keep_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let head = "date,hour,type,1001A,1002A\r\n";
        let a = dir.path().join("a_china_sites_20190105.csv");
        std::fs::write(&a, format!("{head}20190105,1,PM2.5,35,40\r\n20190106,1,PM2.5,7,8\r\n")).unwrap();
        let b = dir.path().join("b_long.csv");
        std::fs::write(&b, "station,time,pollutant,value\n1001A,2019-01-05T01:00,pm25,36\n").unwrap();
        let c = dir.path().join("c_china_sites_20190105.csv");
        std::fs::write(&c, format!("{head}20190105,1,PM2.5,,41\r\n20190105,2,PM2.5,50,\r\n")).unwrap();
        let data = dir.path().join("data");
        let s = import(&data, &[dir.path().to_path_buf()], None).unwrap();
        // a: 4 new; b: 1001A revised (35 → 36); c: 1002A revised (40 → 41), 1 new.
        assert_eq!((s.hourly.imported, s.hourly.revised, s.hourly.unchanged), (5, 2, 0));
        let store = crate::Store::open(&data).unwrap();
        let p = store.read_month(MonthKey { year: 2019, month: 1 }, &[Kind::Pm25], None).unwrap().unwrap();
        let at = |st: &str, d: i8, h: i64| {
            p.series(st, Kind::Pm25).unwrap()[(label(jiff::civil::date(2019, 1, d), h) - p.start) as usize]
        };
        assert_eq!((at("1001A", 5, 1), at("1002A", 5, 1), at("1001A", 5, 2)), (36.0, 41.0, 50.0));
        assert_eq!((at("1001A", 6, 1), at("1002A", 6, 1)), (7.0, 8.0));
        assert!(at("1002A", 5, 2).is_nan());
    }

    /// A quoted file (some tools quote every field) takes the csv crate;
    /// it must read exactly as the plain file does.
    #[test]
    fn quoted_and_plain_cnemc_files_agree() {
        let plain = "date,hour,type,1001A,1002A\r\n20190101,0,PM2.5,35,\r\n20190101,1,PM2.5,x,-1\r\n\r\n20190101,2,O3,7.5,8\r\n20190102,3,PM2.5,1,2\r\n20190101,4,PM10,1\r\n";
        let quoted: String = plain
            .split("\r\n")
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    l.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",")
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let (mut r1, mut r2) = (Vec::new(), Vec::new());
        let a = parse_cnemc("f.csv", plain.as_bytes(), &mut r1).unwrap();
        let b = parse_cnemc("f.csv", quoted.as_bytes(), &mut r2).unwrap();
        let key = |r: &Reject| (r.line, r.column.clone(), r.reason.clone());
        assert_eq!(r1.iter().map(key).collect::<Vec<_>>(), r2.iter().map(key).collect::<Vec<_>>());
        assert_eq!(r1.len(), 3, "{r1:?}");
        let bits = |h: &HourlyCells| {
            let (s, d) = h.day.as_ref().unwrap();
            (
                *s,
                d.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                h.cells.iter().map(|c| (c.station, c.label, c.value.to_bits())).collect::<Vec<_>>(),
            )
        };
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.cells.len(), 2, "the 2 January row kept as cells");
        assert_eq!(a.day.as_ref().unwrap().1.iter().filter(|v| !v.is_nan()).count(), 3);
    }

    #[test]
    fn cnemc_rejects_are_located() {
        let body = b"date,hour,type,1001A,1002A\r\n20190101,0,PM2.5,35,\r\n20190101,1,PM2.5,x,-1\r\n20190101,2,FOO,1,2\r\n20190101,3,PM2.5,1\r\n20190132,0,PM2.5,1,2\r\n";
        let mut rejects = Vec::new();
        let h = parse_cnemc("f.csv", body, &mut rejects).unwrap();
        // The one good value lands in the file's dense day block.
        assert!(h.cells.is_empty());
        let (start, block) = h.day.unwrap();
        assert_eq!(start, label(jiff::civil::date(2019, 1, 1), 0));
        let found: Vec<(usize, f64)> =
            block.iter().enumerate().filter(|(_, v)| !v.is_nan()).map(|(i, v)| (i, *v)).collect();
        assert_eq!(found, vec![(Kind::Pm25.idx() * 24, 35.0)], "station 1001A, PM2.5, hour 0");
        let summary: Vec<(u64, &str, &str)> =
            rejects.iter().map(|r| (r.line, r.column.as_str(), r.reason.as_str())).collect();
        let expected = vec![
            (3, "1001A", "not a number"),
            (3, "1002A", "negative concentration"),
            (4, "type", "unknown type"),
            (5, "", "expected 5 fields, found 4"),
            (6, "date", "invalid date"),
        ];
        assert_eq!(summary, expected);
        // Same lines with LF endings.
        let lf: Vec<u8> = body.iter().copied().filter(|&b| b != b'\r').collect();
        let mut rejects = Vec::new();
        parse_cnemc("f.csv", &lf, &mut rejects).unwrap();
        let summary: Vec<(u64, &str, &str)> =
            rejects.iter().map(|r| (r.line, r.column.as_str(), r.reason.as_str())).collect();
        assert_eq!(summary, expected);
    }
}
