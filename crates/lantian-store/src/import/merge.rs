//! The merging side of an import: months opened from the store (or this
//! import's staged files), files' values merged in path order with revision
//! counting, idle months handed to the Parquet writer, the commit.

use super::rows::{Blocks, Cell, FileResult, Format, HourlyCells, InFlight, Parsed, Reject};
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
    fn flush_month(&mut self, key: MonthKey, writer: &mpsc::SyncSender<(Partition, PathBuf)>) -> Result<()> {
        let Some(mut month) = self.open.remove(&key) else { return Ok(()) };
        month.settle(&self.blocks);
        self.summary.hourly += month.counts;
        if month.counts.imported + month.counts.revised == 0 {
            return Ok(());
        }
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
        match self.layer {
            Layer::Raw => self.tx.next.hourly.insert(key.name(), rel),
            Layer::Audited => self.tx.next.audited.insert(key.name(), rel),
        };
        self.staged.insert(key, abs.clone());
        self.in_flight.sent(&abs);
        writer.send((month.part, abs)).map_err(|_| Error::Store("the Parquet writer stopped".into()))
    }

    pub(crate) fn flush_all(&mut self, writer: &mpsc::SyncSender<(Partition, PathBuf)>) -> Result<()> {
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
    pub(crate) fn finish(self, data_dir: &Path, outcome: Result<()>) -> Result<ImportSummary> {
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
