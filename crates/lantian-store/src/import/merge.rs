//! The merging side of an import: months opened from the store (or this
//! import's staged files), files' values merged in path order with revision
//! counting, idle months handed to the Parquet writer, the commit. A month
//! new to the store goes to the writer as its files' day blocks, merged
//! there station by station as each is encoded (`MonthJob::Days`); the
//! writers' counts join the merger's at the commit.

use super::rows::{Blocks, Cell, DayBlock, FileResult, Format, HourlyCells, InFlight, Parsed, Reject};
use crate::city_daily::{self, CityDay};
use crate::kinds::{Kind, N_KINDS};
use crate::partition::{MergeCounts, MonthKey, Partition};
use crate::stations::Station;
use crate::store::{Layer, Transaction};
use crate::{Error, Result};
use lantian_core::time::HourLabel;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

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

/// The merging side of an import: open months, staged files, counts.
pub(crate) struct Merger {
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
    /// The layer the hourly values go to.
    layer: Layer,
    /// Where merged day blocks go back to the parsers.
    blocks: std::sync::Arc<Blocks>,
    /// Staged months the writers have not finished.
    in_flight: std::sync::Arc<InFlight>,
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
pub(crate) struct PendingDay {
    start: HourLabel,
    stations: std::sync::Arc<Vec<String>>,
    block: DayBlock,
    /// Per station: whether it has any value that day.
    has: Vec<bool>,
}

/// A month for a writer thread, its file, and its station days' file.
pub(crate) type WriteJob = (MonthJob, PathBuf, Option<PathBuf>);

/// A month for a writer thread: merged already, or (new to the store) its
/// days still to merge, which the writer does station by station as it
/// encodes them (`write_days`).
pub(crate) enum MonthJob {
    Merged(Box<Partition>),
    Days(MonthKey, Vec<PendingDay>),
}

impl MonthJob {
    /// Write the month to `path` (its station days to `days`, a raw
    /// month's); the counts of the merge done here.
    pub(crate) fn write(self, path: &Path, days: Option<&Path>, blocks: &Blocks) -> Result<MergeCounts> {
        match self {
            MonthJob::Merged(part) => part.write_with_days(path, days).map(|()| MergeCounts::default()),
            MonthJob::Days(key, pending) => write_days(key, pending, path, days, blocks),
        }
    }
}

/// Merge a new month's days into each station's block just before it is
/// encoded, so the month never exists whole: the block stays in cache from
/// merge to encoding, where merging first wrote a 143 MB national month to
/// memory for the encoder to read back (and kept the merge on the merging
/// thread). The stations, their order and their blocks are those `settle`
/// and `Partition::write` give, so the file is the same.
fn write_days(
    key: MonthKey,
    days: Vec<PendingDay>,
    path: &Path,
    stored: Option<&Path>,
    blocks: &Blocks,
) -> Result<MergeCounts> {
    let (start, len) = key.label_range();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    // (station, day, station index in that day's file), as `settle` has them.
    let mut work: Vec<(usize, usize, usize)> = Vec::new();
    let mut ids: Vec<usize> = Vec::new();
    for (d, day) in days.iter().enumerate() {
        if d == 0 || !std::sync::Arc::ptr_eq(&day.stations, &days[d - 1].stations) {
            ids = day
                .stations
                .iter()
                .map(|name| {
                    *index.entry(name.as_str()).or_insert_with(|| {
                        names.push(name.as_str());
                        names.len() - 1
                    })
                })
                .collect();
        }
        work.extend(day.has.iter().enumerate().filter(|(_, h)| **h).map(|(st, _)| (ids[st], d, st)));
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].cmp(names[b]));
    let mut rank = vec![0; names.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    for w in &mut work {
        w.0 = rank[w.0];
    }
    // Stable: one station twice in a file's list merges in column order.
    work.sort_by_key(|&(r, d, _)| (r, d));
    let sorted: Vec<&str> = order.iter().map(|&i| names[i]).collect();
    let mut source = DaySource {
        days: &days,
        work: &work,
        next: 0,
        start,
        len,
        block: Vec::new(),
        merged: Vec::new(),
        counts: MergeCounts::default(),
    };
    crate::partition::write_blocks(path, stored, start, len, &sorted, &mut source)?;
    let counts = source.counts;
    for day in days {
        blocks.give(day.block);
    }
    Ok(counts)
}

/// The blocks `write_days` gives the encoder: each station's days merged
/// into one reused block.
struct DaySource<'a> {
    days: &'a [PendingDay],
    /// (station by name, day, station index in that day's file), sorted.
    work: &'a [(usize, usize, usize)],
    next: usize,
    start: HourLabel,
    len: usize,
    block: Vec<f64>,
    /// Where the last station's days went (hour offsets in the month).
    merged: Vec<usize>,
    counts: MergeCounts,
}

impl crate::partition::StationBlocks for DaySource<'_> {
    fn block(&mut self, i: usize) -> &[f64] {
        let per_station = N_KINDS * 24;
        if self.block.len() == N_KINDS * self.len {
            // Only the last station's days are cleared: the rest is still
            // missing (a whole 89 KB fill per station was 2 % of the import).
            for &off in &self.merged {
                for k in 0..N_KINDS {
                    if let Some(hours) = self.block.get_mut(k * self.len + off..k * self.len + off + 24) {
                        hours.fill(f64::NAN);
                    }
                }
            }
        } else {
            self.block.clear();
            self.block.resize(N_KINDS * self.len, f64::NAN);
        }
        self.merged.clear();
        while let Some(&(r, d, st)) = self.work.get(self.next)
            && r == i
        {
            // The day after next is in another block (2.3 MB apart): asked
            // for now, its codes arrive while these days merge (the merge
            // waited on each day's loads).
            if let Some(&(_, d, st)) = self.work.get(self.next + 2) {
                prefetch(self.days[d].block.codes.get(st * per_station..(st + 1) * per_station).unwrap_or_default());
            }
            let day = &self.days[d];
            // Where `merge_day_into` writes (a day outside the month it skips).
            if let Ok(off) = usize::try_from(day.start - self.start)
                && off + 24 <= self.len
            {
                self.merged.push(off);
            }
            let codes = &day.block.codes[st * per_station..(st + 1) * per_station];
            crate::partition::merge_day_into(
                &mut self.block,
                self.start,
                self.len,
                day.start,
                codes,
                &day.block.extras,
                &mut self.counts,
            );
            self.next += 1;
        }
        &self.block
    }
}

/// Ask the CPU to bring `codes` into its caches (a hint: nothing waits).
fn prefetch(codes: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    for line in codes.chunks(16) {
        // SAFETY: a prefetch changes nothing a program sees and cannot
        // fault; SSE is part of x86-64.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = codes;
}

impl OpenMonth {
    /// Merge the pending day blocks station by station: a station's month
    /// (15 series, 89 KB) stays in cache while its days are copied in, where
    /// merging file by file touched the whole month (150 MB nationally) each
    /// day, a cache and TLB miss per series (a fifth of the import's time).
    /// Days are applied in file order, so a later file still wins.
    fn settle(&mut self, blocks: &Blocks) {
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
            // A station without a value that day changes nothing.
            work.extend(day.has.iter().enumerate().filter(|(_, h)| **h).map(|(st, _)| (slots[st], d, st)));
        }
        work.sort_by_key(|&(slot, d, _)| (slot, d));
        for (slot, d, st) in work {
            let day = &days[d];
            self.part.merge_day(
                slot,
                day.start,
                &day.block.codes[st * per_station..(st + 1) * per_station],
                &day.block.extras,
                &mut self.counts,
            );
        }
        for day in days {
            blocks.give(day.block);
        }
    }
}

/// A month untouched by this many consecutive files is written out (staged)
/// to bound memory; touched again later, it is read back from its staged file.
const IDLE_FILES: usize = 4;

impl Merger {
    pub(crate) fn new(
        tx: Transaction,
        layer: Layer,
        blocks: std::sync::Arc<Blocks>,
        in_flight: std::sync::Arc<InFlight>,
    ) -> Merger {
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
            layer,
            blocks,
            in_flight,
        }
    }

    pub(crate) fn merge_file(
        &mut self,
        r: FileResult,
        file_idx: usize,
        writer: &mpsc::SyncSender<WriteJob>,
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
            month.days.push(PendingDay { start, stations, block, has: std::mem::take(&mut h.has) });
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
            let blocks = self.blocks.clone();
            let month = self.open_month(key, file_idx)?;
            month.settle(&blocks); // earlier files' days first: a later file wins
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
                    Some(p) => {
                        self.in_flight.wait(p);
                        Partition::read(key, p, &Kind::ALL, None)?
                    }
                    None => self
                        .tx
                        .base
                        .read_layer(self.layer, key, &Kind::ALL, None)?
                        .unwrap_or_else(|| Partition::empty(key)),
                };
                e.insert(OpenMonth { part, counts: MergeCounts::default(), last_file: file_idx, days: Vec::new() })
            }
        };
        month.last_file = file_idx;
        Ok(month)
    }

    /// Hand a month to the writer if anything in it changed.
    fn flush_month(&mut self, key: MonthKey, writer: &mpsc::SyncSender<WriteJob>) -> Result<()> {
        let Some(mut month) = self.open.remove(&key) else { return Ok(()) };
        // Nothing merged yet: the month is new, and its days, merged on a
        // writer thread, change it if any has a value (the writer counts).
        let job = if month.part.stations().is_empty() && !month.days.is_empty() {
            if !month.days.iter().any(|d| d.has.contains(&true)) {
                for day in month.days {
                    self.blocks.give(day.block);
                }
                return Ok(());
            }
            MonthJob::Days(key, month.days)
        } else {
            month.settle(&self.blocks);
            self.summary.hourly += month.counts;
            if month.counts.imported + month.counts.revised == 0 {
                return Ok(());
            }
            MonthJob::Merged(Box::new(month.part))
        };
        // A month flushed before and touched again is rewritten to a new name.
        let dir = match self.layer {
            Layer::Raw => "hourly",
            Layer::Audited => "audited",
        };
        let stem = match self.staged.get(&key) {
            Some(_) => format!("{dir}/{}.{}", key.name(), self.staged.len()),
            None => format!("{dir}/{}", key.name()),
        };
        let (rel, abs) = self.tx.stage_path(&stem, "parquet");
        // A raw month's station days go beside it (`partition::days`).
        let days = match self.layer {
            Layer::Raw => Some(self.tx.stage_path(&stem, "days").1),
            Layer::Audited => None,
        };
        match self.layer {
            Layer::Raw => self.tx.next.hourly.insert(key.name(), rel),
            Layer::Audited => self.tx.next.audited.insert(key.name(), rel),
        };
        self.staged.insert(key, abs.clone());
        self.in_flight.sent(&abs);
        writer.send((job, abs, days)).map_err(|_| Error::Store("the Parquet writer stopped".into()))
    }

    pub(crate) fn flush_all(&mut self, writer: &mpsc::SyncSender<WriteJob>) -> Result<()> {
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
    /// `written`: the counts of the merges the writer threads did.
    pub(crate) fn finish(self, data_dir: &Path, outcome: Result<()>, written: MergeCounts) -> Result<ImportSummary> {
        let Merger { tx, mut summary, rejects, staged, stations_changed, .. } = self;
        summary.hourly += written;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A day block of `stations` where `f(station, hour, kind)` gives the values.
    fn day(start: HourLabel, stations: &Arc<Vec<String>>, f: impl Fn(usize, usize, usize) -> f64) -> PendingDay {
        let n = stations.len();
        let mut block = vec![f64::NAN; n * 24 * N_KINDS];
        for st in 0..n {
            for h in 0..24 {
                for k in 0..N_KINDS {
                    block[(st * 24 + h) * N_KINDS + k] = f(st, h, k);
                }
            }
        }
        let has = block.chunks_exact(24 * N_KINDS).map(|b| b.iter().any(|v| !v.is_nan())).collect();
        let mut extras = Vec::new();
        let codes = block.iter().map(|&v| super::super::rows::code::value(v, &mut extras)).collect();
        PendingDay { start, stations: stations.clone(), block: DayBlock { codes, extras }, has }
    }

    /// A new month merged station by station on the writer gives the file
    /// and the counts that merging it whole and writing it gives: stations
    /// in name order, a station with no value at all, a station twice in one
    /// file's list (its columns merge in order), a later file revising an
    /// earlier one's day and leaving other hours as they were.
    #[test]
    fn days_merged_on_the_writer_make_the_same_file() {
        let key = MonthKey { year: 2019, month: 3 };
        let (start, _) = key.label_range();
        let first: Arc<Vec<String>> = Arc::new(["2000B", "1999A", "3000C"].map(String::from).to_vec());
        let other: Arc<Vec<String>> = Arc::new(["1999A", "0500D", "1999A"].map(String::from).to_vec());
        let days = || {
            vec![
                day(
                    start,
                    &first,
                    |st, h, k| if st == 2 || (h + k) % 5 == 0 { f64::NAN } else { (st * 100 + h + k) as f64 },
                ),
                day(
                    start + 24,
                    &first,
                    |st, h, k| if st == 2 || h == 3 { f64::NAN } else { (st + h * k) as f64 / 10.0 },
                ),
                // The first day again, from a later file: revisions, repeats, blanks.
                day(start, &other, |st, h, k| match (st, h % 3) {
                    (1, _) => (h * k) as f64,
                    (_, 0) => f64::NAN,
                    (_, 1) => (h + k + 7 * st) as f64,
                    _ => 42.0,
                }),
            ]
        };
        let dir = tempfile::tempdir().unwrap();
        let blocks = Blocks::default();

        let mut month =
            OpenMonth { part: Partition::empty(key), counts: MergeCounts::default(), last_file: 0, days: days() };
        month.settle(&blocks);
        let whole = dir.path().join("whole.parquet");
        month.part.write(&whole).unwrap();

        let fused = dir.path().join("fused.parquet");
        let counts = MonthJob::Days(key, days()).write(&fused, None, &blocks).unwrap();

        assert_eq!(counts, month.counts);
        assert!(counts.imported > 0 && counts.revised > 0 && counts.unchanged > 0, "{counts:?}");
        assert_eq!(fs::read(&fused).unwrap(), fs::read(&whole).unwrap());
        let back = Partition::read(key, &fused, &Kind::ALL, None).unwrap();
        let mut names = back.stations().to_vec();
        names.sort();
        // 3000C has no value: no rows.
        assert_eq!(names, ["0500D", "1999A", "2000B"]);
    }
}
