//! Reading a month file back: straight from the pages the store writes
//! (`value_pages`), or through the Arrow reader for any other Parquet.

use super::*;

impl Partition {
    /// Read a partition file, optionally only some kinds and stations.
    pub fn read(
        key: MonthKey,
        path: &Path,
        kinds: &[Kind],
        stations: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Partition> {
        Partition::read_rows(key, path, kinds, stations, None)
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
    pub(super) fn windowed(key: MonthKey, kinds: &[Kind], window: Option<(HourLabel, usize)>) -> Partition {
        let mut part = Partition::with_kinds(key, kinds);
        if let Some((from, len)) = window {
            (part.start, part.len) = (from, len);
        }
        part
    }

    /// `read_rows` through the Arrow reader: any Parquet file with the columns.
    pub(super) fn read_arrow(
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
    pub(super) fn read_pages(
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
        // Labels `off..off + len` of `slot` that rows were written to.
        let mut covered: Vec<(usize, usize, usize)> = Vec::new();
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
            // Blocks come unfilled: the labels no run covers are made
            // missing at the end.
            let slots: Vec<Option<usize>> = names
                .iter()
                .map(|name| stations.is_none_or(|f| f(name)).then(|| part.station_slot_unfilled(name)))
                .collect();
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
            covered.extend(runs.iter().map(|r| (r.slot, r.off, r.len)));
            for (&c, &pos) in values.iter().zip(&positions) {
                let base = pos * part.len;
                // A page's rows go to the runs they overlap (runs are in row order).
                let mut first_run = 0;
                let mut copy = |page_row: usize, page: &crate::value_pages::PageRows| {
                    let end = page_row + page.len();
                    while first_run < runs.len() && runs[first_run].row + runs[first_run].len <= page_row {
                        first_run += 1;
                    }
                    for r in runs[first_run..].iter().take_while(|r| r.row < end) {
                        let (a, b) = (r.row.max(page_row), (r.row + r.len).min(end));
                        let at = base + r.off + (a - r.row);
                        page.write(a - page_row, &mut part.values[r.slot][at..at + (b - a)]);
                    }
                };
                let read = pages(c).and_then(|mut p| decoder.values(&mut *p, INVALIDATED, &mut copy));
                if read != Some(rows) {
                    return Ok(None);
                }
            }
        }
        // Every kind of a covered label was written (each column's pages
        // cover all of the group's rows); the rest is missing.
        covered.sort_unstable();
        let mut next = covered.iter().peekable();
        for (slot, block) in part.values.iter_mut().enumerate() {
            let mut gap = |a: usize, b: usize| {
                for pos in 0..part.n_kinds {
                    block[pos * part.len + a..pos * part.len + b].fill(f64::NAN);
                }
            };
            let mut at = 0;
            while let Some(&(_, off, len)) = next.next_if(|c| c.0 == slot) {
                if off > at {
                    gap(at, off);
                }
                at = at.max(off + len);
            }
            if at < part.len {
                gap(at, part.len);
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
