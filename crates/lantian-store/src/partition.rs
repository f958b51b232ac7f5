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

/// A block of `n` missing values, from the pool if it has one.
fn pooled_block(n: usize) -> Vec<f64> {
    let reused = {
        let mut pool = BLOCK_POOL.lock().unwrap_or_else(|e| e.into_inner());
        let block = pool.0.pop();
        if let Some(b) = &block {
            pool.1 -= b.capacity() * 8;
        }
        block
    };
    match reused {
        Some(mut b) => {
            b.clear();
            b.resize(n, f64::NAN);
            b
        }
        None => vec![f64::NAN; n],
    }
}

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
        if let Some(&i) = self.index.get(station) {
            return i;
        }
        let i = self.stations.len();
        self.stations.push(station.to_string());
        self.index.insert(station.to_string(), i);
        self.values.push(pooled_block(self.n_kinds * self.len));
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

    /// Merge one day of a station: `block` holds its 24 hours starting at
    /// label `day_start`, each hour the `N_KINDS` kinds in turn (NaN = no
    /// value, keeps the old).
    pub fn merge_day(&mut self, slot: usize, day_start: HourLabel, block: &[f64], counts: &mut MergeCounts) {
        debug_assert_eq!(self.n_kinds, N_KINDS, "merging needs a full partition");
        merge_day_into(&mut self.values[slot], self.start, self.len, day_start, block, counts);
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
    pub fn write(mut self, path: &Path) -> Result<()> {
        if self.n_kinds != N_KINDS {
            return Err(Error::Store(format!("{}: a partially read month cannot be written", path.display())));
        }
        let mut order: Vec<usize> = (0..self.stations.len()).collect();
        order.sort_by(|&a, &b| self.stations[a].cmp(&self.stations[b]));
        let names: Vec<&str> = order.iter().map(|&i| self.stations[i].as_str()).collect();
        write_blocks(path, self.start, self.len, &names, &mut Held { values: &mut self.values, order: &order })
    }

    /// Read a partition file, optionally only some kinds and stations.
    pub fn read(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Partition> {
        Partition::read_rows(key, path, kinds, stations, None)
    }

    /// Only the month's first label (hour 0 of the 1st, which closes the
    /// previous month's last day): what a reader of whole days needs from
    /// the month after its period. Value columns are decoded for those rows
    /// only, and the month returned holds that label alone (`len` 1: a
    /// month-long block per station for one hour was most of a month's
    /// assessment in page faults).
    pub fn read_first_hour(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Partition> {
        Partition::read_labels(key, path, kinds, stations, key.label_range().0, 1)
    }

    /// Only labels `from..from + len` of the month (clamped to it): the
    /// month returned holds those alone (`start` and `len` say which), for
    /// readers of a few days (a day's briefing, a week's notice).
    pub fn read_labels(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
        from: HourLabel,
        len: usize,
    ) -> Result<Partition> {
        let (start, month_len) = key.label_range();
        let lo = from.max(start);
        let hi = (from + len as i64).min(start + month_len as i64);
        let len = usize::try_from(hi - lo).unwrap_or(0);
        Partition::read_rows(key, path, kinds, stations, Some((lo, len)))
    }

    /// `window`: labels `(from, len)` within the month, or all of it. One
    /// label is read through Arrow's row filter (decoding the month's pages
    /// for one hour costs more); anything longer straight from the pages.
    fn read_rows(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
        window: Option<(HourLabel, usize)>,
    ) -> Result<Partition> {
        if window.is_none_or(|(_, len)| len > 1)
            && let Some(part) = Partition::read_pages(key, path, kinds, stations, window)?
        {
            return Ok(part);
        }
        Partition::read_arrow(key, path, kinds, stations, window)
    }

    /// An empty month of `kinds` covering labels `window` of it (all if `None`).
    fn windowed(key: MonthKey, kinds: &[Kind], window: Option<(HourLabel, usize)>) -> Partition {
        let mut part = Partition::with_kinds(key, kinds);
        if let Some((from, len)) = window {
            (part.start, part.len) = (from, len);
        }
        part
    }

    /// `read_rows` through the Arrow reader: any Parquet file with the columns.
    fn read_arrow(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
        window: Option<(HourLabel, usize)>,
    ) -> Result<Partition> {
        use arrow_array::{DictionaryArray, types::Int32Type};
        use parquet::arrow::arrow_reader::{ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, RowFilter};
        let mut part = Partition::windowed(key, kinds, window);
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // The station column is read as a dictionary: a row group's names
        // are resolved once, rows carry integer keys (no string per row).
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| Error::parquet(path, e))?;
        let fields: Vec<Field> = meta
            .schema()
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "station" => Field::new(
                    "station",
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                    f.is_nullable(),
                ),
                _ => f.as_ref().clone(),
            })
            .collect();
        let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
        let meta =
            ArrowReaderMetadata::try_new(meta.metadata().clone(), options).map_err(|e| Error::parquet(path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta);
        let schema = builder.schema().clone();
        let index = |name: &str| schema.index_of(name).map_err(|e| Error::Store(format!("{}: {e}", path.display())));
        let mut wanted: Vec<usize> = vec![index("station")?, index("time")?];
        for k in kinds {
            wanted.push(index(k.column())?);
        }
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), wanted);
        let mut builder = builder.with_projection(mask).with_batch_size(65_536);
        if window.is_some() {
            let (first, last) = (label_to_millis(part.start), label_to_millis(part.start + part.len as i64 - 1));
            let time = index("time")?;
            let only_time = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), [time]);
            let keep = ArrowPredicateFn::new(only_time, move |batch: RecordBatch| {
                let tm = batch.column(0).as_any().downcast_ref::<TimestampMillisecondArray>().ok_or_else(|| {
                    arrow_schema::ArrowError::SchemaError("time column has an unexpected type".into())
                })?;
                Ok(arrow_array::BooleanArray::from_iter(
                    tm.iter().map(|t| Some(t.is_some_and(|t| (first..=last).contains(&t)))),
                ))
            });
            builder = builder.with_row_filter(RowFilter::new(vec![Box::new(keep)]));
        }
        let reader = builder.build().map_err(|e| Error::parquet(path, e))?;
        let positions: Vec<usize> = kinds.iter().map(|k| part.kind_pos[k.idx()].expect("requested kind")).collect();
        let (mut slots, mut runs): (Vec<Option<usize>>, Vec<Run>) = (Vec::new(), Vec::new());
        // The valid stretches (rows `a..b`) of a column of the batch.
        let mut valid: Vec<(usize, usize)> = Vec::new();
        let mut dictionary: Option<ArrayRef> = None;
        for batch in reader {
            let batch = batch.map_err(|e| Error::Store(format!("reading {}: {e}", path.display())))?;
            // A projection keeps the file's column order: look columns up by name.
            let col = |name: &str| {
                batch.schema().index_of(name).map_err(|e| Error::Store(format!("{}: {e}", path.display())))
            };
            let st = downcast::<DictionaryArray<Int32Type>>(&batch, col("station")?, path)?;
            let tm = downcast::<TimestampMillisecondArray>(&batch, col("time")?, path)?;
            // Names of this row group's dictionary → slots (once per dictionary).
            if dictionary.as_ref().is_none_or(|d| !Arc::ptr_eq(d, st.values())) {
                let names = st.values().as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                    Error::Store(format!("{}: station names have an unexpected type", path.display()))
                })?;
                slots = names
                    .iter()
                    .map(|name| {
                        let name = name.unwrap_or_default();
                        stations.is_none_or(|f| f(name)).then(|| part.station_slot(name))
                    })
                    .collect();
                dictionary = Some(st.values().clone());
            }
            // Runs of rows bound for consecutive hours of one wanted
            // station (a file is sorted by station and time, and most
            // stations report every hour: a month's station is one run).
            runs.clear();
            for (row, (k, t)) in st.keys().values().iter().zip(tm.values().iter()).enumerate() {
                let Some(Some(slot)) = slots.get(*k as usize) else { continue };
                let off = millis_to_label(*t) - part.start;
                if off < 0 || off as usize >= part.len || st.is_null(row) || tm.is_null(row) {
                    return Err(Error::Store(format!(
                        "{}: row {row} has no station or time, or lies outside month {}",
                        path.display(),
                        key.name()
                    )));
                }
                let off = off as usize;
                Run::add(&mut runs, *slot, off, row);
            }
            // Column by column, a run at a time: the month holds NaN where
            // nothing was read (a null), the valid stretches are copied in,
            // and a non-null NaN (an auditor's invalidation, audited months
            // only) is marked.
            for (k, &pos) in kinds.iter().zip(&positions) {
                let values = downcast::<Float64Array>(&batch, col(k.column())?, path)?;
                let base = pos * part.len;
                let all = values.values();
                let marked = all.iter().any(|v| v.is_nan());
                valid.clear();
                match values.nulls().filter(|n| n.null_count() > 0) {
                    Some(n) => valid.extend(n.inner().set_slices()),
                    None => valid.push((0, all.len())),
                }
                let mut v = 0;
                for r in &runs {
                    let dst = &mut part.values[r.slot][base + r.off..base + r.off + r.len];
                    let (lo, hi) = (r.row, r.row + r.len);
                    if v > 0 && valid[v - 1].1 > lo {
                        v -= 1; // a valid stretch spanning two runs
                    }
                    while v < valid.len() && valid[v].0 < hi {
                        let (a, b) = (valid[v].0.max(lo), valid[v].1.min(hi));
                        if a < b {
                            dst[a - lo..b - lo].copy_from_slice(&all[a..b]);
                        }
                        v += 1;
                    }
                    if marked {
                        for x in dst.iter_mut().filter(|x| x.is_nan()) {
                            *x = INVALIDATED;
                        }
                        // Nulls stay NaN: put them back.
                        if let Some(n) = values.nulls() {
                            for (i, x) in dst.iter_mut().enumerate() {
                                if n.is_null(lo + i) {
                                    *x = f64::NAN;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(part)
    }
}

impl Partition {
    /// `read` straight from the column pages (`value_pages`), for files as
    /// the store writes them; `None` for anything else (then the Arrow
    /// reader reads it). The result is the same month, bit for bit.
    fn read_pages(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
        window: Option<(HourLabel, usize)>,
    ) -> Result<Option<Partition>> {
        use parquet::basic::{LogicalType, TimeUnit, Type};
        use parquet::file::reader::{FileReader, SerializedFileReader};
        // Pages are read as they are decoded (only the wanted columns'),
        // not the whole file into one fresh buffer.
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let Ok(reader) = SerializedFileReader::new(file) else { return Ok(None) };
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let column = |name: &str, physical: Type, max_def: i16| {
            (0..schema.num_columns()).find(|&i| {
                let c = schema.column(i);
                c.name() == name
                    && c.physical_type() == physical
                    && c.max_def_level() == max_def
                    && c.max_rep_level() == 0
            })
        };
        let (Some(station), Some(time)) = (column("station", Type::BYTE_ARRAY, 0), column("time", Type::INT64, 0))
        else {
            return Ok(None);
        };
        let millis = matches!(
            schema.column(time).logical_type_ref(),
            Some(LogicalType::Timestamp(t)) if matches!(t.unit, TimeUnit::MILLIS)
        );
        let values: Option<Vec<usize>> = kinds.iter().map(|k| column(k.column(), Type::DOUBLE, 1)).collect();
        let (true, Some(values)) = (millis, values) else { return Ok(None) };
        let (month_start, month_len) = key.label_range();
        let mut part = Partition::windowed(key, kinds, window);
        let positions: Vec<usize> = kinds.iter().map(|k| part.kind_pos[k.idx()].expect("requested kind")).collect();
        let mut decoder = crate::value_pages::Decoder::default();
        let (mut names, mut keys, mut times) = (Vec::new(), Vec::new(), Vec::new());
        let mut runs: Vec<Run> = Vec::new();
        for g in 0..reader.num_row_groups() {
            let Ok(group) = reader.get_row_group(g) else { return Ok(None) };
            let rows = usize::try_from(group.metadata().num_rows()).unwrap_or(usize::MAX);
            let pages = |c: usize| group.get_column_page_reader(c).ok();
            keys.clear();
            times.clear();
            let read = pages(station).and_then(|mut p| decoder.names(&mut *p, &mut names, &mut keys));
            let read = read.and_then(|()| pages(time)).and_then(|mut p| decoder.int64s(&mut *p, &mut times));
            if read.is_none() || keys.len() != rows || times.len() != rows {
                return Ok(None);
            }
            let slots: Vec<Option<usize>> =
                names.iter().map(|name| stations.is_none_or(|f| f(name)).then(|| part.station_slot(name))).collect();
            // Runs of rows bound for consecutive hours of one wanted station
            // (a month's station is usually one run).
            runs.clear();
            for (row, (&k, &t)) in keys.iter().zip(&times).enumerate() {
                let Some(slot) = slots[k as usize] else { continue };
                let label = millis_to_label(t);
                if !(0..month_len as i64).contains(&(label - month_start)) {
                    return Err(Error::Store(format!(
                        "{}: row {row} lies outside month {}",
                        path.display(),
                        key.name()
                    )));
                }
                let off = label - part.start;
                if off < 0 || off as usize >= part.len {
                    continue; // outside the window read
                }
                let off = off as usize;
                Run::add(&mut runs, slot, off, row);
            }
            for (&c, &pos) in values.iter().zip(&positions) {
                let base = pos * part.len;
                // A page's rows go to the runs they overlap (runs are in row order).
                let mut first_run = 0;
                let mut copy = |page_row: usize, page: &[f64]| {
                    let end = page_row + page.len();
                    while first_run < runs.len() && runs[first_run].row + runs[first_run].len <= page_row {
                        first_run += 1;
                    }
                    for r in runs[first_run..].iter().take_while(|r| r.row < end) {
                        let (a, b) = (r.row.max(page_row), (r.row + r.len).min(end));
                        let at = base + r.off + (a - r.row);
                        part.values[r.slot][at..at + (b - a)].copy_from_slice(&page[a - page_row..b - page_row]);
                    }
                };
                let read = pages(c).and_then(|mut p| decoder.values(&mut *p, INVALIDATED, &mut copy));
                if read != Some(rows) {
                    return Ok(None);
                }
            }
        }
        Ok(Some(part))
    }
}

/// Rows `row..row + len` of a row group go to hours `off..off + len` of `slot`.
struct Run {
    slot: usize,
    off: usize,
    row: usize,
    len: usize,
}

impl Run {
    /// Row `row` goes to hour `off` of `slot`: the last run grows when it
    /// is the next row and the next hour of the same station.
    fn add(runs: &mut Vec<Run>, slot: usize, off: usize, row: usize) {
        match runs.last_mut() {
            Some(r) if r.slot == slot && r.off + r.len == off && r.row + r.len == row => r.len += 1,
            _ => runs.push(Run { slot, off, row, len: 1 }),
        }
    }
}

fn downcast<'a, T: 'static>(batch: &'a RecordBatch, col: usize, path: &Path) -> Result<&'a T> {
    batch
        .column(col)
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Store(format!("{}: column {col} has an unexpected type", path.display())))
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

/// `Partition::merge_day` on a bare station block (`N_KINDS` series of the
/// month's `len` labels from `start`).
pub(crate) fn merge_day_into(
    values: &mut [f64],
    start: HourLabel,
    len: usize,
    day_start: HourLabel,
    block: &[f64],
    counts: &mut MergeCounts,
) {
    let off = day_start - start;
    if off < 0 || off as usize + 24 > len || block.len() != N_KINDS * 24 || values.len() != N_KINDS * len {
        return;
    }
    // The block is hour-major, the month kind-major: the day is turned
    // round first (in L1), so that each kind's 24 hours merge as one
    // contiguous run the compiler vectorises (a strided read per cell
    // was a seventh of the import's CPU time).
    let mut day = [[0.0f64; 24]; N_KINDS];
    for (h, hour) in block.chunks_exact(N_KINDS).enumerate() {
        for (k, &v) in hour.iter().enumerate() {
            day[k][h] = v;
        }
    }
    for (k, src) in day.iter().enumerate() {
        let at = k * len + off as usize;
        // Branch-free: which cells are missing follows no pattern a
        // branch predictor could learn.
        let (mut imported, mut unchanged, mut revised) = (0u64, 0u64, 0u64);
        for (cell, &v) in values[at..at + 24].iter_mut().zip(src) {
            let (new, old) = (!v.is_nan(), *cell);
            let had = !old.is_nan();
            imported += u64::from(new & !had);
            unchanged += u64::from(new & had & (old == v));
            revised += u64::from(new & had & (old != v));
            *cell = if new { v } else { old };
        }
        counts.imported += imported;
        counts.unchanged += unchanged;
        counts.revised += revised;
    }
}

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
/// stations `names` (sorted) that `blocks` gives.
pub(crate) fn write_blocks(
    path: &Path,
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
    let mut encoder = crate::value_chunk::Encoder::new(INVALIDATED);
    let mut next = 0;
    while next < names.len() {
        // Whole stations, at most GROUP_ROWS rows (at least one station).
        let these = next..next + (GROUP_ROWS / len).clamp(1, names.len() - next);
        next = these.end;
        // The values first: they say which hours are rows.
        encoder.begin(N_KINDS);
        let rows: Vec<Option<Vec<u32>>> = these.clone().map(|i| encoder.add(blocks.block(i), len)).collect();
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
mod tests {
    use super::*;
    use lantian_core::time::label;

    /// Every series comes back bit for bit: nulls inside a station's run of
    /// hours, hours no series has (a new run), an auditor's invalidations,
    /// stations spanning row groups, and a station filter.
    #[test]
    fn read_restores_every_series_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let key = MonthKey { year: 2019, month: 3 };
        let mut p = Partition::empty(key);
        let mut c = MergeCounts::default();
        let mut x = 7u64;
        for st in 0..400 {
            let name = format!("{:04}A", 1000 + st);
            let slot = p.station_slot(&name);
            for (k, kind) in Kind::ALL.iter().enumerate() {
                for off in 0..p.len {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let r = (x >> 33) % 100;
                    // Station 3 has no hours 100..200 at all; others lose a
                    // few cells; the first 360 stations have no last kind (a
                    // row group whose column is all null).
                    if (st == 3 && (100..200).contains(&off)) || r < 5 || (st < 360 && k == Kind::ALL.len() - 1) {
                        continue;
                    }
                    let v =
                        if r == 5 && st % 7 == 0 { INVALIDATED } else { ((x >> 40) % 5000) as f64 / 10.0 + k as f64 };
                    p.merge_at(slot, p.start + off as i64, *kind, v, &mut c);
                }
            }
        }
        let path = dir.path().join("m.parquet");
        p.clone().write(&path).unwrap();
        let q = Partition::read(key, &path, &Kind::ALL, None).unwrap();
        let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for name in p.stations() {
            for kind in Kind::ALL {
                assert_eq!(bits(p.series(name, kind).unwrap()), bits(q.series(name, kind).unwrap()), "{name} {kind:?}");
            }
        }
        // Read straight from the pages, the same month as through Arrow.
        let direct = Partition::read_pages(key, &path, &Kind::ALL, None, None).unwrap().expect("the store's own pages");
        let arrow = Partition::read_arrow(key, &path, &Kind::ALL, None, None).unwrap();
        assert_eq!(direct.stations(), arrow.stations());
        for name in p.stations() {
            for kind in Kind::ALL {
                assert_eq!(bits(direct.series(name, kind).unwrap()), bits(arrow.series(name, kind).unwrap()));
            }
        }
        // A window of labels: those alone, the same through either reader;
        // clamped to the month.
        for (from, len) in [(p.start + 100, 48), (p.start, 1), (p.start + 3, 1), (p.start + p.len as i64 - 5, 30)] {
            let w = Partition::read_labels(key, &path, &Kind::ALL, None, from, len).unwrap();
            let arrow = Partition::read_arrow(key, &path, &Kind::ALL, None, Some((w.start, w.len))).unwrap();
            let len = len.min((p.start + p.len as i64 - from) as usize);
            assert_eq!((w.start, w.len), (from, len));
            let at = (from - p.start) as usize;
            for name in p.stations() {
                for kind in Kind::ALL {
                    let want = bits(&p.series(name, kind).unwrap()[at..at + len]);
                    assert_eq!(bits(w.series(name, kind).unwrap()), want, "{name} {kind:?} {from} {len}");
                    // Arrow's row filter leaves out a station without rows there: all missing.
                    let nan = vec![f64::NAN; len];
                    let got = arrow.series(name, kind).unwrap_or(&nan);
                    assert_eq!(bits(got), want, "{name} {kind:?} {from} {len}");
                }
            }
        }
        // A file of the general writer (what other tools write: PLAIN
        // fallback pages, its own page sizes) reads the same either way.
        let general = dir.path().join("general.parquet");
        write_parquet(&general, &batch_of(&p)).unwrap();
        let arrow = Partition::read_arrow(key, &general, &Kind::ALL, None, None).unwrap();
        let direct =
            Partition::read_pages(key, &general, &Kind::ALL, None, None).unwrap().expect("v1 dictionary pages");
        for name in p.stations() {
            for kind in Kind::ALL {
                assert_eq!(bits(p.series(name, kind).unwrap()), bits(arrow.series(name, kind).unwrap()));
                assert_eq!(bits(p.series(name, kind).unwrap()), bits(direct.series(name, kind).unwrap()));
            }
        }
        // PLAIN pages (no dictionary) are read straight too; v2 pages go
        // through Arrow.
        for v2 in [false, true] {
            let plain = dir.path().join(format!("plain{v2}.parquet"));
            let version = if v2 {
                parquet::file::properties::WriterVersion::PARQUET_2_0
            } else {
                parquet::file::properties::WriterVersion::PARQUET_1_0
            };
            let props = WriterProperties::builder().set_dictionary_enabled(false).set_writer_version(version).build();
            let mut w = ArrowWriter::try_new(File::create(&plain).unwrap(), Partition::schema(), Some(props)).unwrap();
            w.write(&batch_of(&p)).unwrap();
            w.close().unwrap();
            assert_eq!(Partition::read_pages(key, &plain, &Kind::ALL, None, None).unwrap().is_some(), !v2);
            let back = Partition::read(key, &plain, &Kind::ALL, None).unwrap();
            for name in p.stations() {
                for kind in Kind::ALL {
                    assert_eq!(bits(p.series(name, kind).unwrap()), bits(back.series(name, kind).unwrap()));
                }
            }
        }
        let odd = |s: &str| s.ends_with("1A") || s == "1003A";
        let r = Partition::read(key, &path, &[Kind::Pm25, Kind::Co], Some(&odd)).unwrap();
        assert_eq!(r.stations().len(), 41);
        for name in r.stations() {
            for kind in [Kind::Pm25, Kind::Co] {
                assert_eq!(bits(p.series(name, kind).unwrap()), bits(r.series(name, kind).unwrap()), "{name} {kind:?}");
            }
        }
    }

    /// A month as one Arrow batch, every station-hour a row (the general
    /// writer's input): a missing value null, an invalidation a present NaN.
    fn batch_of(p: &Partition) -> RecordBatch {
        let (mut names, mut times) = (Vec::new(), Vec::new());
        let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); N_KINDS];
        for (slot, name) in p.stations.iter().enumerate() {
            for off in 0..p.len {
                names.push(name.as_str());
                times.push(label_to_millis(p.start + off as i64));
                for (k, column) in columns.iter_mut().enumerate() {
                    let v = p.values[slot][k * p.len + off];
                    column.push(if v == INVALIDATED { Some(f64::NAN) } else { (!v.is_nan()).then_some(v) });
                }
            }
        }
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(names)),
            Arc::new(TimestampMillisecondArray::from(times).with_timezone("+08:00")),
        ];
        arrays.extend(columns.into_iter().map(|c| Arc::new(Float64Array::from(c)) as ArrayRef));
        RecordBatch::try_new(Partition::schema(), arrays).unwrap()
    }

    /// Damaged pages (bytes changed anywhere between the magic and the
    /// footer) are never a panic: the pages reader gives up (then the Arrow
    /// reader decides), or reads what the bytes say.
    #[test]
    fn damaged_pages_are_no_panic() {
        let dir = tempfile::tempdir().unwrap();
        let key = MonthKey { year: 2019, month: 4 };
        let mut p = Partition::empty(key);
        let mut c = MergeCounts::default();
        for st in 0..30 {
            let slot = p.station_slot(&format!("{:04}A", 2000 + st));
            for off in (0..p.len).filter(|o| (o + st) % 11 != 0) {
                let v = ((off * 7 + st * 13) % 300) as f64 / if st % 3 == 0 { 10.0 } else { 1.0 };
                p.merge_at(slot, p.start + off as i64, Kind::ALL[(off + st) % N_KINDS], v, &mut c);
            }
        }
        let path = dir.path().join("m.parquet");
        p.write(&path).unwrap();
        let good = std::fs::read(&path).unwrap();
        let footer = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize;
        let body = 4..good.len() - 8 - footer;
        let mut x = 77u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let bad = dir.path().join("bad.parquet");
        for round in 0..1500 {
            let mut bytes = good.clone();
            for _ in 0..1 + next() % 6 {
                let at = body.start + next() % body.len();
                bytes[at] = match next() % 3 {
                    0 => bytes[at] ^ (1 << (next() % 8)),
                    1 => 0xff,
                    _ => next() as u8,
                };
            }
            std::fs::write(&bad, &bytes).unwrap();
            let read = std::panic::catch_unwind(|| Partition::read_pages(key, &bad, &Kind::ALL, None, None));
            assert!(read.is_ok(), "round {round}: the pages reader panicked");
        }
    }

    #[test]
    fn write_read_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = MonthKey { year: 2019, month: 2 };
        let mut p = Partition::empty(key);
        let mut c = MergeCounts::default();
        let d = jiff::civil::date(2019, 2, 28);
        p.merge("1431A", label(d, 23), Kind::Pm25, 35.0, &mut c);
        p.merge("1431A", label(d, 23), Kind::Co, 1.2, &mut c);
        p.merge("0001A", label(jiff::civil::date(2019, 2, 1), 0), Kind::Aqi, 50.0, &mut c);
        p.merge("1431A", label(d, 23), Kind::Pm25, 36.0, &mut c);
        p.merge("1431A", label(d, 23), Kind::Co, 1.2, &mut c);
        assert_eq!(c, MergeCounts { imported: 3, revised: 1, unchanged: 1 });
        let path = dir.path().join("p.parquet");
        p.write(&path).unwrap();
        let q = Partition::read(key, &path, &Kind::ALL, None).unwrap();
        assert_eq!(q.series("1431A", Kind::Pm25).unwrap()[(label(d, 23) - q.start) as usize], 36.0);
        assert_eq!(q.series("1431A", Kind::Co).unwrap()[(label(d, 23) - q.start) as usize], 1.2);
        assert_eq!(q.series("0001A", Kind::Aqi).unwrap()[0], 50.0);
        assert_eq!(q.n_values(), 3);
        // Kinds requested out of file order come back under the right names.
        let sub = Partition::read(key, &path, &[Kind::Co, Kind::Pm25], None).unwrap();
        assert_eq!(sub.series("1431A", Kind::Pm25).unwrap()[(label(d, 23) - q.start) as usize], 36.0);
        assert_eq!(sub.series("1431A", Kind::Co).unwrap()[(label(d, 23) - q.start) as usize], 1.2);
        let only = |s: &str| s == "0001A";
        let r = Partition::read(key, &path, &[Kind::Aqi], Some(&only)).unwrap();
        assert_eq!(r.stations(), ["0001A".to_string()]);
        assert_eq!(MonthKey::parse("2019-02"), Some(key));
        assert_eq!(key.next().next().name(), "2019-04");
        // The first hour alone: only label `start` of each station, nothing else.
        let head = Partition::read_first_hour(key, &path, &[Kind::Aqi, Kind::Pm25], None).unwrap();
        assert_eq!(head.series("0001A", Kind::Aqi).unwrap()[0], 50.0);
        assert!(head.series("1431A", Kind::Pm25).unwrap().iter().all(|v| v.is_nan()));
        assert_eq!(head.n_values(), 1);
        assert_eq!((head.start, head.len), (q.start, 1));
    }
}
