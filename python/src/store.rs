//! A data directory from Python (read it, assess it, its station list) and
//! single files as rows (what the Spark job's executors parse).

use crate::frames::write_ipc;
use crate::{aerr, date, err};
use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use lantian_app::assess::{AreaLevel, AssessRequest, Source};
use lantian_app::basis::{Basis, Dust};
use lantian_core::Pollutant;
use lantian_core::time::{HourLabel, day_number};
use lantian_store::partition::label_to_millis;
use lantian_store::{Kind, MonthKey, Partition, Store, Values};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;
use std::sync::Arc;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_store, m)?)?;
    m.add_function(wrap_pyfunction!(assess, m)?)?;
    m.add_function(wrap_pyfunction!(store_stations, m)?)?;
    m.add_function(wrap_pyfunction!(extract_file, m)?)?;
    m.add_function(wrap_pyfunction!(store_month, m)?)?;
    Ok(())
}

fn open(dir: &str, values: &str) -> PyResult<Store> {
    let values: Values = values.parse().map_err(err)?;
    let path = PathBuf::from(dir);
    if !path.join("manifest.json").is_file() {
        return Err(err(format!("{dir}: not a lantian data directory (no manifest.json; run `lantian import` first)")));
    }
    Ok(Store::open(&path).map_err(err)?.with_values(values))
}

/// Every stored hour of the store in `dir` (or of `from..=to`, of
/// `stations`): `station`, `time` (the hour's end, +08:00) and the fifteen
/// stored series (the six measured ones and the network's own), as an IPC
/// stream of one batch per month.
#[pyfunction]
#[pyo3(signature = (dir, start=None, end=None, stations=None, values="best"))]
fn read_store<'py>(
    py: Python<'py>,
    dir: &str,
    start: Option<&str>,
    end: Option<&str>,
    stations: Option<Vec<String>>,
    values: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let store = open(dir, values)?;
    // Labels of whole days: day d owns 24·d + 1 ..= 24·d + 24.
    let lo = start.map(date).transpose()?.map_or(HourLabel::MIN, |d| day_number(d) * 24 + 1);
    let hi = end.map(date).transpose()?.map_or(HourLabel::MAX, |d| day_number(d) * 24 + 24);
    let mut fields = vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("time", DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())), false),
    ];
    fields.extend(Kind::ALL.iter().map(|k| Field::new(k.column(), DataType::Float64, true)));
    let schema = Arc::new(Schema::new(fields));
    let bytes = py.detach(|| -> PyResult<Vec<u8>> {
        let wanted: Option<std::collections::HashSet<String>> = stations.map(|s| s.into_iter().collect());
        let filter = |s: &str| wanted.as_ref().is_none_or(|w| w.contains(s));
        let mut w = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).map_err(err)?;
        for key in store.months() {
            let (start, len) = key.label_range();
            if start + len as i64 <= lo || start > hi {
                continue;
            }
            let Some(part) = store.read_month(key, &Kind::ALL, Some(&filter)).map_err(err)? else { continue };
            w.write(&month_batch(&part, &Kind::ALL, schema.clone(), lo, hi, true)?).map_err(err)?;
        }
        w.into_inner().map_err(err)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// A month's rows with any value in `lo..=hi`: `station`, then `time` (or
/// `label` when `time` is false), then one column per kind.
fn month_batch(
    part: &Partition,
    kinds: &[Kind],
    schema: Arc<Schema>,
    lo: HourLabel,
    hi: HourLabel,
    time: bool,
) -> PyResult<RecordBatch> {
    let mut st = StringBuilder::new();
    let mut tm = TimestampMillisecondBuilder::new().with_timezone("+08:00");
    let mut lb = Int64Builder::new();
    let mut cols: Vec<Float64Builder> = kinds.iter().map(|_| Float64Builder::new()).collect();
    for (slot, name) in part.stations().iter().enumerate() {
        let series: Vec<Option<&[f64]>> = kinds.iter().map(|k| part.series_at(slot, *k)).collect();
        for off in 0..part.len {
            let l = part.start + off as i64;
            let at = |s: &Option<&[f64]>| s.and_then(|s| s.get(off).copied()).filter(|v| !v.is_nan());
            if l < lo || l > hi || series.iter().all(|s| at(s).is_none()) {
                continue;
            }
            st.append_value(name);
            if time {
                tm.append_value(label_to_millis(l));
            } else {
                lb.append_value(l);
            }
            for (c, s) in cols.iter_mut().zip(&series) {
                c.append_option(at(s));
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(st.finish())];
    arrays.push(if time { Arc::new(tm.finish()) } else { Arc::new(lb.finish()) });
    arrays.extend(cols.into_iter().map(|mut c| Arc::new(c.finish()) as ArrayRef));
    RecordBatch::try_new(schema, arrays).map_err(err)
}

/// The schema of station hours with labels: `station`, `label`, the six
/// measured series under their pollutant keys.
fn hours_schema(extra: Option<Field>) -> Arc<Schema> {
    let mut fields = vec![Field::new("station", DataType::Utf8, false), Field::new("label", DataType::Int64, false)];
    fields.extend(Pollutant::ALL.iter().map(|p| Field::new(p.key(), DataType::Float64, true)));
    fields.extend(extra);
    Arc::new(Schema::new(fields))
}

/// One stored month file's bytes (`hourly/2019-03.g1.parquet` of a data
/// directory, read by the caller from wherever it lies) as station hours
/// with labels (the six measured series): how the Spark job reads a store
/// from any Hadoop filesystem with lantian's own Parquet reader.
#[pyfunction]
fn store_month<'py>(py: Python<'py>, month: &str, content: Vec<u8>) -> PyResult<Bound<'py, PyBytes>> {
    let key = MonthKey::parse(month).ok_or_else(|| err(format!("'{month}': not a month YYYY-MM")))?;
    let bytes = py.detach(|| -> PyResult<Vec<u8>> {
        // The store's reader reads files: hand it a private copy.
        let mut tmp = tempfile::NamedTempFile::new().map_err(err)?;
        std::io::Write::write_all(&mut tmp, &content).map_err(err)?;
        let kinds = Pollutant::ALL.map(Kind::measured);
        let part = Partition::read(key, tmp.path(), &kinds, None).map_err(|e| err(format!("{month}: {e}")))?;
        write_ipc(&month_batch(&part, &kinds, hours_schema(None), HourLabel::MIN, HourLabel::MAX, false)?)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// The station list of the store in `dir` (JSON, the store's own form).
#[pyfunction]
fn store_stations(dir: &str) -> PyResult<String> {
    serde_json::to_string(open(dir, "best")?.stations()).map_err(err)
}

/// `lantian assess --format json` on the store in `dir`.
#[pyfunction]
#[pyo3(signature = (dir, start, end, cities=Vec::new(), compare=false, edition=None, source="auto",
                    level="city", values="best", dust="deducted", three_year=false, database=None))]
#[allow(clippy::too_many_arguments)]
fn assess(
    py: Python<'_>,
    dir: &str,
    start: &str,
    end: &str,
    cities: Vec<String>,
    compare: bool,
    edition: Option<&str>,
    source: &str,
    level: &str,
    values: &str,
    dust: &str,
    three_year: bool,
    database: Option<String>,
) -> PyResult<String> {
    let req = AssessRequest {
        from: date(start)?,
        to: date(end)?,
        cities,
        compare_previous_year: compare,
        edition: crate::edition(edition)?,
        source: source.parse::<Source>().map_err(err)?,
        level: level.parse::<AreaLevel>().map_err(err)?,
        three_year,
    };
    let basis = Basis { values: values.parse().map_err(err)?, dust: dust.parse::<Dust>().map_err(err)? };
    open(dir, values)?;
    let ctx = lantian_app::Ctx::new(PathBuf::from(dir), database);
    py.detach(|| {
        let days = lantian_app::days::StoreDays::open(&ctx, basis)?;
        Ok(lantian_app::assess::assess(&ctx, &days, &req)?.to_json().to_string())
    })
    .map_err(aerr)
}

/// One input file's bytes (gzipped or not) as `lantian import` reads it:
/// `format`, `hours` (IPC: `station`, `label`, the six measured series,
/// `row`: the order the import applies them), `stations` (a station list's,
/// JSON), `skipped` (why a recognised file gives nothing) and `rejects`.
/// An unreadable file raises the reason the CLI gives.
#[pyfunction]
fn extract_file<'py>(py: Python<'py>, name: &str, content: Vec<u8>) -> PyResult<Bound<'py, PyDict>> {
    let e = py
        .detach(|| lantian_store::import::extract::extract(name, content))
        .map_err(|why| err(format!("unreadable {name}: {why}")))?;
    let mut st = StringBuilder::new();
    let mut lb = Int64Builder::new();
    let mut row = Int64Builder::new();
    let mut cols: Vec<Float64Builder> = (0..6).map(|_| Float64Builder::new()).collect();
    for (i, h) in e.hours.iter().enumerate() {
        st.append_value(&e.stations[h.station as usize]);
        lb.append_value(h.label);
        row.append_value(i as i64);
        for (c, v) in cols.iter_mut().zip(h.values) {
            c.append_option(Some(v).filter(|v| !v.is_nan()));
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(st.finish()), Arc::new(lb.finish())];
    arrays.extend(cols.into_iter().map(|mut c| Arc::new(c.finish()) as ArrayRef));
    arrays.push(Arc::new(row.finish()));
    let batch =
        RecordBatch::try_new(hours_schema(Some(Field::new("row", DataType::Int64, false))), arrays).map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("format", e.format.map(|f| f.label()))?;
    d.set_item("hours", PyBytes::new(py, &write_ipc(&batch)?))?;
    d.set_item("stations", serde_json::to_string(&e.station_list).map_err(err)?)?;
    d.set_item("skipped", e.skipped)?;
    let rejects: Vec<(String, u64, String, String, String)> =
        e.rejects.into_iter().map(|r| (r.file, r.line, r.column, r.reason, r.value)).collect();
    d.set_item("rejects", rejects)?;
    Ok(d)
}
