//! One month of station hourly data: in memory a dense block per station
//! (15 series × the month's hour labels, `NaN` = missing), on disk one
//! Parquet file sorted by station and time.
//!
//! A month holds the labels printed on its dates (hour 0..23 of each day),
//! so label 0 of the 1st, which closes the last day of the previous month,
//! lives here. Readers that need whole days look one month ahead.

use crate::kinds::{Kind, N_KINDS};
use crate::{Error, Result};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use jiff::civil::Date;
use lantian_core::time::{HourLabel, day_number};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

pub mod days;
mod merge_day;
mod read;

pub(crate) use merge_day::merge_day_into;

/// An auditor's invalidation in an audited month: the hour is covered by
/// the audited layer and has no valid value (a blank cell in an audited
/// file). In memory `-inf` (never a measured value: imports refuse
/// non-finite and negative values); on disk a non-null `NaN`, where a null
/// means "not covered".
pub const INVALIDATED: f64 = f64::NEG_INFINITY;

/// How many station-hours behind a computation came from each layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ValuesUsed {
    /// Station-hours with a value the audited layer decided.
    pub audited: u64,
    /// Station-hours with a value from the raw (real-time) layer only.
    pub raw: u64,
}

impl std::ops::AddAssign for ValuesUsed {
    fn add_assign(&mut self, o: Self) {
        self.audited += o.audited;
        self.raw += o.raw;
    }
}

/// Station blocks of months a reader is done with (`Partition::recycle`),
/// and their bytes. A year's assessment reads a month after another: fresh
/// blocks for each cost a page fault per 4 KB and a fifth of its CPU time
/// (the allocator gives a dropped month's memory back to the kernel).
static BLOCK_POOL: std::sync::Mutex<(Vec<Vec<f64>>, usize)> = std::sync::Mutex::new((Vec::new(), 0));

/// At most this much memory waits in the pool: one national month of six
/// kinds (57 MB), which is what a reader going month after month gives back
/// before it takes again; a long-running server keeps no more than this.
const POOL_BYTES: usize = 64 << 20;

/// A block of `n` missing values, from the pool if it has one big enough;
/// a fresh one has room for `cap` (a month's blocks are made for the
/// longest month, so that a February's serve a March: growing one was a
/// copy of the whole block and fresh pages).
///
/// Unless `fill`, a block from the pool keeps what it held (a reader that
/// writes every label itself: filling a national month's blocks first was
/// 57 MB written for nothing).
fn pooled_block(n: usize, cap: usize, fill: bool) -> Vec<f64> {
    let reused = {
        let mut pool = BLOCK_POOL.lock().unwrap_or_else(|e| e.into_inner());
        let block = pool.0.pop();
        if let Some(b) = &block {
            pool.1 -= b.capacity() * 8;
        }
        block
    };
    let mut b = match reused {
        // Too small: dropped, not grown (growing copies the stale values).
        Some(b) if b.capacity() >= n => b,
        _ => Vec::with_capacity(cap.max(n)),
    };
    if fill {
        b.clear();
    }
    b.truncate(n);
    b.resize(n, f64::NAN);
    b
}

/// Labels of the longest month.
const MAX_MONTH_LABELS: usize = 31 * 24;

/// Year and month of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonthKey {
    pub year: i16,
    pub month: i8,
}

impl MonthKey {
    pub fn of_label(l: HourLabel) -> Option<MonthKey> {
        let d = lantian_core::time::date_of(l.div_euclid(24))?;
        Some(MonthKey { year: d.year(), month: d.month() })
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).expect("valid month key")
    }

    /// First label (hour 0 of the 1st) and the number of labels.
    pub fn label_range(self) -> (HourLabel, usize) {
        let first = self.first_day();
        (day_number(first) * 24, first.days_in_month() as usize * 24)
    }

    pub fn next(self) -> MonthKey {
        if self.month == 12 {
            MonthKey { year: self.year + 1, month: 1 }
        } else {
            MonthKey { year: self.year, month: self.month + 1 }
        }
    }

    pub fn name(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn parse(s: &str) -> Option<MonthKey> {
        let (y, m) = s.split_once('-')?;
        let key = MonthKey { year: y.parse().ok()?, month: m.parse().ok()? };
        ((1..=12).contains(&key.month) && (1..=9998).contains(&key.year)).then_some(key)
    }
}

/// Counts from merging new values into a partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub imported: u64,
    pub revised: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for MergeCounts {
    fn add_assign(&mut self, o: Self) {
        self.imported += o.imported;
        self.revised += o.revised;
        self.unchanged += o.unchanged;
    }
}

/// Dense in-memory month.
#[derive(Clone, Debug)]
pub struct Partition {
    pub key: MonthKey,
    pub start: HourLabel,
    pub len: usize,
    stations: Vec<String>,
    index: HashMap<String, usize>,
    /// Which kinds are held and at which position (a read of a few kinds
    /// allocates only those).
    kind_pos: [Option<usize>; N_KINDS],
    n_kinds: usize,
    /// One block per station (`n_kinds` series of `len`): small allocations
    /// that the allocator recycles month after month, unlike one huge buffer.
    values: Vec<Vec<f64>>,
    /// After `overlay`: per station, the labels the audited layer decided.
    audited: Vec<Vec<bool>>,
}

impl Partition {
    pub fn empty(key: MonthKey) -> Partition {
        Partition::with_kinds(key, &Kind::ALL)
    }

    /// An empty month holding only `kinds` over the labels of `like` (an
    /// overlay's base when the raw layer has none).
    pub fn empty_like(like: &Partition, kinds: &[Kind]) -> Partition {
        Partition::windowed(like.key, kinds, Some((like.start, like.len)))
    }

    fn with_kinds(key: MonthKey, kinds: &[Kind]) -> Partition {
        let (start, len) = key.label_range();
        let mut kind_pos = [None; N_KINDS];
        let mut n_kinds = 0;
        for k in kinds {
            if kind_pos[k.idx()].is_none() {
                kind_pos[k.idx()] = Some(n_kinds);
                n_kinds += 1;
            }
        }
        Partition {
            key,
            start,
            len,
            stations: Vec::new(),
            index: HashMap::new(),
            kind_pos,
            n_kinds,
            values: Vec::new(),
            audited: Vec::new(),
        }
    }

    pub fn stations(&self) -> &[String] {
        &self.stations
    }

    /// The slot of a station, added if new (callers cache it per file).
    pub fn station_slot(&mut self, station: &str) -> usize {
        self.slot_with(station, true)
    }

    /// `station_slot` whose new block holds any values: the caller writes
    /// every label of it.
    pub(super) fn station_slot_unfilled(&mut self, station: &str) -> usize {
        self.slot_with(station, false)
    }

    fn slot_with(&mut self, station: &str, fill: bool) -> usize {
        if let Some(&i) = self.index.get(station) {
            return i;
        }
        let i = self.stations.len();
        self.stations.push(station.to_string());
        self.index.insert(station.to_string(), i);
        // Whole months get blocks any month can reuse; a few labels (a
        // window) only what they need.
        let cap = if self.len > 27 * 24 { self.n_kinds * MAX_MONTH_LABELS } else { self.n_kinds * self.len };
        self.values.push(pooled_block(self.n_kinds * self.len, cap, fill));
        i
    }

    /// Give the month's station blocks to the next month read (see
    /// `pooled_block`): for readers that go month after month.
    pub fn recycle(self) {
        let mut pool = BLOCK_POOL.lock().unwrap_or_else(|e| e.into_inner());
        for block in self.values {
            let bytes = block.capacity() * 8;
            if pool.1 + bytes > POOL_BYTES {
                break;
            }
            pool.1 += bytes;
            pool.0.push(block);
        }
    }

    /// The slot of a station, if present.
    pub fn slot_of(&self, station: &str) -> Option<usize> {
        self.index.get(station).copied()
    }

    /// The series of the station in `slot` for `kind`, if that kind was read.
    pub fn series_at(&self, slot: usize, kind: Kind) -> Option<&[f64]> {
        let off = self.kind_pos[kind.idx()]? * self.len;
        self.values.get(slot).map(|b| &b[off..off + self.len])
    }

    /// Whether an audited layer was laid over this month (`overlay`).
    pub fn has_audited(&self) -> bool {
        !self.audited.is_empty()
    }

    /// Whether the audited layer decided label offset `off` of the station in `slot`.
    pub fn audited_at(&self, slot: usize, off: usize) -> bool {
        self.audited.get(slot).and_then(|a| a.get(off)).copied().unwrap_or(false)
    }

    /// Lay an audited month over this (raw) one: wherever the audited layer
    /// covers a station-hour's series it decides it, its value replacing
    /// the raw one and an invalidation removing it; elsewhere the raw value
    /// stays. Both partitions hold the same kinds and the same labels.
    pub fn overlay(&mut self, audited: &Partition) {
        debug_assert_eq!((self.start, self.len), (audited.start, audited.len), "overlay of other labels");
        for (a_slot, name) in audited.stations.iter().enumerate() {
            let slot = self.station_slot(name);
            if self.audited.len() <= slot {
                self.audited.resize(slot + 1, Vec::new());
            }
            let mask = &mut self.audited[slot];
            if mask.is_empty() {
                *mask = vec![false; self.len];
            }
            for (k, pos) in self.kind_pos.iter().enumerate() {
                let (Some(pos), Some(a_pos)) = (pos, audited.kind_pos[k]) else { continue };
                let src = &audited.values[a_slot][a_pos * audited.len..(a_pos + 1) * audited.len];
                let dst = &mut self.values[slot][pos * self.len..(pos + 1) * self.len];
                for (o, &v) in src.iter().enumerate().take(self.len) {
                    if v.is_nan() {
                        continue;
                    }
                    dst[o] = if v == INVALIDATED { f64::NAN } else { v };
                    mask[o] = true;
                }
            }
        }
    }

    /// The series of one station and kind over the month, if present.
    pub fn series(&self, station: &str, kind: Kind) -> Option<&[f64]> {
        self.series_at(self.slot_of(station)?, kind)
    }

    /// Set one value (newer wins) and count what happened.
    pub fn merge(&mut self, station: &str, label: HourLabel, kind: Kind, value: f64, counts: &mut MergeCounts) {
        let slot = self.station_slot(station);
        self.merge_at(slot, label, kind, value, counts);
    }

    /// `merge` for a slot from `station_slot`; labels outside the month are ignored.
    pub fn merge_at(&mut self, slot: usize, label: HourLabel, kind: Kind, value: f64, counts: &mut MergeCounts) {
        let off = label - self.start;
        if off < 0 || off as usize >= self.len {
            return;
        }
        debug_assert_eq!(self.n_kinds, N_KINDS, "merging needs a full partition");
        let cell = &mut self.values[slot][kind.idx() * self.len + off as usize];
        if cell.is_nan() {
            counts.imported += 1;
        } else if *cell == value {
            counts.unchanged += 1;
        } else {
            counts.revised += 1;
        }
        *cell = value;
    }

    /// Merge one day of a station: `codes` hold its 24 hours starting at
    /// label `day_start`, each hour the `N_KINDS` kinds in turn, as a day
    /// block's codes (with its `extras`; no value keeps the old).
    pub(crate) fn merge_day(
        &mut self,
        slot: usize,
        day_start: HourLabel,
        codes: &[u32],
        extras: &[f64],
        counts: &mut MergeCounts,
    ) {
        debug_assert_eq!(self.n_kinds, N_KINDS, "merging needs a full partition");
        merge_day_into(&mut self.values[slot], self.start, self.len, day_start, codes, extras, counts);
    }

    /// Number of non-missing values.
    pub fn n_values(&self) -> usize {
        self.values.iter().flatten().filter(|v| !v.is_nan()).count()
    }

    fn schema() -> Arc<Schema> {
        let mut fields = vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("time", DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())), false),
        ];
        fields.extend(Kind::ALL.iter().map(|k| Field::new(k.column(), DataType::Float64, true)));
        Arc::new(Schema::new(fields))
    }

    /// Write as Parquet: one row per station-hour that has any value,
    /// sorted by station then time; `time` is the end of the hour (its
    /// label) as a UTC instant in milliseconds, tagged +08:00. Row groups
    /// hold whole stations, at most `GROUP_ROWS` rows. The columns are
    /// encoded straight from the series (`value_chunk`: the general writer's
    /// dictionary and the Arrow arrays before it were half of the import's
    /// CPU time); the Arrow writer gives the file its schema and footer.
    ///
    /// The month is consumed: each station's memory is given back as soon
    /// as it is encoded (an import's writer threads hold months being
    /// written, and a national month is 143 MB).
    pub fn write(self, path: &Path) -> Result<()> {
        self.write_with_days(path, None)
    }

    /// `write`, and the month's station days to `days` (`days::DaysWriter`).
    pub(crate) fn write_with_days(mut self, path: &Path, days: Option<&Path>) -> Result<()> {
        if self.n_kinds != N_KINDS {
            return Err(Error::Store(format!("{}: a partially read month cannot be written", path.display())));
        }
        let mut order: Vec<usize> = (0..self.stations.len()).collect();
        order.sort_by(|&a, &b| self.stations[a].cmp(&self.stations[b]));
        let names: Vec<&str> = order.iter().map(|&i| self.stations[i].as_str()).collect();
        write_blocks(path, days, self.start, self.len, &names, &mut Held { values: &mut self.values, order: &order })
    }
}

/// Label (hour end, +08:00) → UTC milliseconds.
pub fn label_to_millis(l: HourLabel) -> i64 {
    (l - 8) * 3_600_000
}

pub fn millis_to_label(ms: i64) -> HourLabel {
    ms.div_euclid(3_600_000) + 8
}

fn parquet_writer(path: &Path, schema: Arc<Schema>) -> Result<ArrowWriter<File>> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    ArrowWriter::try_new(file, schema, Some(writer_properties())).map_err(|e| Error::parquet(path, e))
}

/// Rows of a row group at most (a month's write keeps whole stations).
const GROUP_ROWS: usize = 262_144;

/// Where `write_blocks` gets the stations' blocks (`N_KINDS` series of the
/// month's labels each), by position in the names it was given.
pub(crate) trait StationBlocks {
    /// The block of station `i`: asked once per station, in order, and
    /// read through before the next is asked for.
    fn block(&mut self, i: usize) -> &[f64];
}

/// A month's stations' blocks, in name order, freed as they are written.
struct Held<'a> {
    values: &'a mut [Vec<f64>],
    order: &'a [usize],
}

impl StationBlocks for Held<'_> {
    fn block(&mut self, i: usize) -> &[f64] {
        if i > 0 {
            self.values[self.order[i - 1]] = Vec::new();
        }
        &self.values[self.order[i]]
    }
}

/// Write a month as Parquet (see `Partition::write`) from the blocks of the
/// stations `names` (sorted) that `blocks` gives, and its station days to
/// `days` if given (`days::DaysWriter`; a raw month's).
pub(crate) fn write_blocks(
    path: &Path,
    days: Option<&Path>,
    start: HourLabel,
    len: usize,
    names: &[&str],
    blocks: &mut dyn StationBlocks,
) -> Result<()> {
    let pq = |e| Error::parquet(path, e);
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let (mut writer, _) = ArrowWriter::try_new(file, Partition::schema(), Some(writer_properties()))
        .and_then(|w| w.into_serialized_writer())
        .map_err(pq)?;
    let descrs: Vec<_> = (0..2 + N_KINDS).map(|c| writer.schema_descr().column(c)).collect();
    // The thread's encoder from its last month: its buffers (~16 MB for a
    // national month) were fresh pages for every month.
    thread_local! {
        static ENCODER: std::cell::Cell<Option<crate::value_chunk::Encoder>> = const { std::cell::Cell::new(None) };
    }
    let mut encoder = ENCODER.take().unwrap_or_else(|| crate::value_chunk::Encoder::new(INVALIDATED));
    thread_local! {
        static DAYS_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut stored = days.map(|_| days::DaysWriter::new(start, len, names.len(), DAYS_BUF.take()));
    let mut next = 0;
    while next < names.len() {
        // Whole stations, at most GROUP_ROWS rows (at least one station).
        let these = next..next + (GROUP_ROWS / len).clamp(1, names.len() - next);
        next = these.end;
        // The values first: they say which hours are rows.
        encoder.begin(N_KINDS);
        let mut rows: Vec<Option<Vec<u32>>> = Vec::with_capacity(these.len());
        for i in these.clone() {
            let block = blocks.block(i);
            let r = encoder.add(block, len);
            // The stations a reader finds in the file: those with rows.
            if let Some(stored) = &mut stored
                && r.as_ref().is_none_or(|r| !r.is_empty())
            {
                stored.station(names[i], block);
            }
            rows.push(r);
        }
        let keys: Vec<(&str, Option<&[u32]>)> = these
            .zip(&rows)
            .filter(|(_, r)| r.as_ref().is_none_or(|r| !r.is_empty()))
            .map(|(i, r)| (names[i], r.as_deref()))
            .collect();
        if keys.is_empty() {
            continue; // stations without any value have no rows
        }
        let mut rg = writer.next_row_group().map_err(pq)?;
        let key_descrs = [descrs[0].clone(), descrs[1].clone()];
        for (bytes, close) in encoder.key_columns(key_descrs, &keys, len, label_to_millis(start)).map_err(pq)? {
            rg.append_column(&bytes, close).map_err(pq)?;
        }
        for (k, descr) in descrs[2..].iter().enumerate() {
            let (bytes, close) = encoder.finish(k, descr.clone()).map_err(pq)?;
            rg.append_column(&bytes, close).map_err(pq)?;
        }
        rg.close().map_err(pq)?;
    }
    ENCODER.set(Some(encoder));
    // Not synced: checked on reading (see `days`).
    if let (Some(days), Some(bytes)) = (days, stored.and_then(days::DaysWriter::finish)) {
        // In pieces: one 4 MB write cost five times the copying.
        let mut f = File::create(days).map_err(|e| Error::io(days, e))?;
        for c in bytes.chunks(64 << 10) {
            std::io::Write::write_all(&mut f, c).map_err(|e| Error::io(days, e))?;
        }
        DAYS_BUF.set(bytes);
    }
    let file = writer.into_inner().map_err(pq)?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

fn writer_properties() -> WriterProperties {
    // zstd level 1 for station and time (level 3 cost more time than the
    // space it saved), with statistics per chunk (what a reader filters on).
    // A month's value columns are written by `value_chunk` (dictionary-coded,
    // not compressed: zstd squeezed the bit-packed indices by a fifth at a
    // sixth of the import's CPU time and a quarter of a year's read; no
    // statistics: nothing reads them); the settings below keep other files
    // with those columns (`write_parquet`) the same.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid level")))
        .set_max_row_group_row_count(Some(GROUP_ROWS))
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk);
    for k in Kind::ALL {
        let column = parquet::schema::types::ColumnPath::from(k.column());
        props = props
            .set_column_statistics_enabled(column.clone(), parquet::file::properties::EnabledStatistics::None)
            .set_column_compression(column, Compression::UNCOMPRESSED);
    }
    props.build()
}

fn finish_parquet(w: ArrowWriter<File>, path: &Path) -> Result<()> {
    let file = w.into_inner().map_err(|e| Error::parquet(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

pub(crate) fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    let mut w = parquet_writer(path, batch.schema())?;
    w.write(batch).map_err(|e| Error::parquet(path, e))?;
    finish_parquet(w, path)
}

#[cfg(test)]
mod tests;
