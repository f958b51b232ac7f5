//! The assessment's steps over Arrow tables (IPC streams in and out), as
//! `lantian_app::pipeline` defines them. A station's hours, and a city's
//! station days, must come in one call: the Spark job partitions by them.
//!
//! Tables:
//! - hours: `station` utf8, `label` int64 (hours from 1970-01-01T00:00+08:00
//!   to the hour's end) or `time` timestamp (the hour's end), optional
//!   `seq` int64 (later revises earlier), `so2 no2 pm10 co o3 pm25` float64
//!   (null or NaN = missing; absent columns are all missing);
//! - station days: `station` utf8, `day` date32, the daily values
//!   (`so2 no2 pm10 co o3_8h pm25 o3_1h_max`, float64, null = not valid)
//!   and each pollutant's valid hours (`hours_<key>` int32);
//! - city days: `city` instead of `station`, and `stations` int32.

use crate::{aerr, date, err};
use arrow_array::builder::{Date32Builder, Float64Builder, Int32Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use lantian_app::pipeline;
use lantian_core::series::DailyValues;
use lantian_core::time::{DayNumber, day_number};
use lantian_core::{Pollutant, time::HourLabel};
use lantian_store::query::{AreaDay, DaySource};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(station_days, m)?)?;
    m.add_function(wrap_pyfunction!(city_days, m)?)?;
    m.add_function(wrap_pyfunction!(assess_city_days, m)?)?;
    Ok(())
}

/// The record batches of an IPC stream.
pub fn read_ipc(bytes: &[u8]) -> PyResult<Vec<RecordBatch>> {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| err(format!("not an Arrow IPC stream: {e}")))?;
    reader.collect::<Result<Vec<_>, _>>().map_err(|e| err(format!("Arrow IPC stream: {e}")))
}

/// One batch as an IPC stream.
pub fn write_ipc(batch: &RecordBatch) -> PyResult<Vec<u8>> {
    let mut w = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema()).map_err(err)?;
    w.write(batch).map_err(err)?;
    w.into_inner().map_err(err)
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    b.schema().index_of(name).ok().map(|i| b.column(i))
}

fn wrong(name: &str, t: &DataType, want: &str) -> PyErr {
    err(format!("column {name}: {t} where {want} is needed"))
}

/// A column of strings.
fn strings(b: &RecordBatch, name: &str) -> PyResult<Vec<String>> {
    let c = column(b, name).ok_or_else(|| err(format!("no column {name}")))?;
    match c.data_type() {
        DataType::Utf8 => Ok(c.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()).collect()),
        DataType::LargeUtf8 => Ok(c.as_string::<i64>().iter().map(|s| s.unwrap_or_default().to_string()).collect()),
        t => Err(wrong(name, t, "utf8")),
    }
}

/// A float64 column, NaN for null; all NaN when absent.
fn floats(b: &RecordBatch, name: &str) -> PyResult<Vec<f64>> {
    let Some(c) = column(b, name) else { return Ok(vec![f64::NAN; b.num_rows()]) };
    match c.data_type() {
        DataType::Float64 => Ok(c.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(f64::NAN)).collect()),
        DataType::Null => Ok(vec![f64::NAN; b.num_rows()]),
        t => Err(wrong(name, t, "float64")),
    }
}

fn ints(b: &RecordBatch, name: &str) -> PyResult<Option<Vec<i64>>> {
    let Some(c) = column(b, name) else { return Ok(None) };
    match c.data_type() {
        DataType::Int64 => Ok(Some(c.as_primitive::<Int64Type>().iter().map(|v| v.unwrap_or(0)).collect())),
        DataType::Int32 => Ok(Some(c.as_primitive::<Int32Type>().iter().map(|v| i64::from(v.unwrap_or(0))).collect())),
        t => Err(wrong(name, t, "int64")),
    }
}

/// Hour labels from `label`, or from `time` (the hour's end, any unit).
fn labels(b: &RecordBatch) -> PyResult<Vec<HourLabel>> {
    if let Some(l) = ints(b, "label")? {
        return Ok(l);
    }
    let c = column(b, "time").ok_or_else(|| err("no column label or time"))?;
    let per_hour: i64 = match c.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => 3_600,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 3_600_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 3_600_000_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 3_600_000_000_000,
        t => return Err(wrong("time", t, "timestamp")),
    };
    let raw = c.to_data();
    let values = raw.buffers()[0].typed_data::<i64>();
    let values = &values[raw.offset()..raw.offset() + raw.len()];
    Ok(values.iter().map(|v| v.div_euclid(per_hour) + 8).collect())
}

/// `days` as a column of dates.
fn day_column(days: impl Iterator<Item = DayNumber>) -> PyResult<ArrayRef> {
    let mut b = Date32Builder::new();
    for d in days {
        b.append_value(i32::try_from(d).map_err(|_| err(format!("day {d} out of range")))?);
    }
    Ok(Arc::new(b.finish()))
}

const VALUE_COLUMNS: [&str; 7] = ["so2", "no2", "pm10", "co", "o3_8h", "pm25", "o3_1h_max"];

fn value_of(v: &DailyValues, k: usize) -> Option<f64> {
    match k {
        0..=5 => v.get(Pollutant::ALL[k]),
        _ => v.o3_1h_max,
    }
}

/// A table of days: its key column, the day, the values and valid hours,
/// and the extra columns given.
fn days_batch<'a>(
    key: &str,
    rows: impl Iterator<Item = (&'a str, DayNumber, &'a DailyValues)> + Clone,
    extra: Vec<(Field, ArrayRef)>,
) -> PyResult<RecordBatch> {
    let mut fields = vec![Field::new(key, DataType::Utf8, false), Field::new("day", DataType::Date32, false)];
    let mut names = StringBuilder::new();
    for (k, _, _) in rows.clone() {
        names.append_value(k);
    }
    let mut cols: Vec<ArrayRef> = vec![Arc::new(names.finish()), day_column(rows.clone().map(|r| r.1))?];
    for (k, name) in VALUE_COLUMNS.iter().enumerate() {
        let mut b = Float64Builder::new();
        for (_, _, v) in rows.clone() {
            b.append_option(value_of(v, k));
        }
        fields.push(Field::new(*name, DataType::Float64, true));
        cols.push(Arc::new(b.finish()));
    }
    for (k, p) in Pollutant::ALL.iter().enumerate() {
        let mut b = Int32Builder::new();
        for (_, _, v) in rows.clone() {
            b.append_value(i32::from(v.hours[k]));
        }
        fields.push(Field::new(format!("hours_{}", p.key()), DataType::Int32, false));
        cols.push(Arc::new(b.finish()));
    }
    for (f, c) in extra {
        fields.push(f);
        cols.push(c);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(err)
}

/// Days read back from a table of days: (key, day, values).
fn read_days(batches: &[RecordBatch], key: &str) -> PyResult<Vec<(String, DayNumber, DailyValues)>> {
    let mut out = Vec::new();
    for b in batches {
        let keys = strings(b, key)?;
        let day = column(b, "day").ok_or_else(|| err("no column day"))?;
        let days: Vec<DayNumber> = match day.data_type() {
            DataType::Date32 => {
                day.as_primitive::<arrow_array::types::Date32Type>().values().iter().map(|d| i64::from(*d)).collect()
            }
            t => return Err(wrong("day", t, "date32")),
        };
        let vals: Vec<Vec<f64>> = VALUE_COLUMNS.iter().map(|c| floats(b, c)).collect::<PyResult<_>>()?;
        let hours: Vec<Vec<i64>> = Pollutant::ALL
            .iter()
            .map(|p| Ok(ints(b, &format!("hours_{}", p.key()))?.unwrap_or_else(|| vec![0; b.num_rows()])))
            .collect::<PyResult<_>>()?;
        for (i, k) in keys.into_iter().enumerate() {
            let get = |c: usize| Some(vals[c][i]).filter(|v| !v.is_nan());
            let mut v = DailyValues { o3_1h_max: get(6), ..DailyValues::default() };
            for (c, p) in Pollutant::ALL.iter().enumerate() {
                v.set(*p, get(c));
                v.hours[c] = u8::try_from(hours[c][i]).unwrap_or(0);
            }
            out.push((k, days[i], v));
        }
    }
    Ok(out)
}

/// Station days (`from..=to`) of the station hours in `hours` (IPC).
#[pyfunction]
fn station_days<'py>(py: Python<'py>, hours: Vec<u8>, from: &str, to: &str) -> PyResult<Bound<'py, PyBytes>> {
    let (d0, d1) = (day_number(date(from)?), day_number(date(to)?));
    let batches = read_ipc(&hours)?;
    let mut names: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut rows: Vec<pipeline::SeqHour> = Vec::new();
    let mut n = 0u64;
    for b in &batches {
        let st = strings(b, "station")?;
        let lab = labels(b)?;
        let seq = ints(b, "seq")?;
        let vals: Vec<Vec<f64>> = Pollutant::ALL.iter().map(|p| floats(b, p.key())).collect::<PyResult<_>>()?;
        for (i, s) in st.into_iter().enumerate() {
            let next = names.len() as u32;
            let station = *index.entry(s.clone()).or_insert_with(|| {
                names.push(s);
                next
            });
            // Without `seq`, the order of the rows decides.
            let seq = seq.as_ref().map_or(n, |q| q[i] as u64);
            rows.push(pipeline::SeqHour { station, label: lab[i], seq, values: std::array::from_fn(|k| vals[k][i]) });
            n += 1;
        }
    }
    let days = py.detach(|| pipeline::station_days(&mut rows, d0, d1));
    let batch = days_batch("station", days.iter().map(|(s, d, v)| (names[*s as usize].as_str(), *d, v)), Vec::new())?;
    Ok(PyBytes::new(py, &write_ipc(&batch)?))
}

/// City days (`from..=to`) of the cities in `cities` (all when empty) from
/// station days (IPC) and the station list (JSON, as the store keeps it).
#[pyfunction]
#[pyo3(signature = (station_days, stations_json, from, to, cities=Vec::new()))]
fn city_days<'py>(
    py: Python<'py>,
    station_days: Vec<u8>,
    stations_json: &str,
    from: &str,
    to: &str,
    cities: Vec<String>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (d0, d1) = (day_number(date(from)?), day_number(date(to)?));
    let stations: Vec<lantian_store::Station> =
        serde_json::from_str(stations_json).map_err(|e| err(format!("station list: {e}")))?;
    let days = read_days(&read_ipc(&station_days)?, "station")?;
    let cities = py.detach(|| pipeline::city_days(&stations, &days, &cities, d0, d1));
    Ok(PyBytes::new(py, &write_ipc(&city_batch(&cities)?)?))
}

pub fn city_batch(cities: &BTreeMap<String, Vec<AreaDay>>) -> PyResult<RecordBatch> {
    let rows = cities.iter().flat_map(|(c, l)| l.iter().map(move |d| (c.as_str(), d.day, &d.values)));
    let mut n = Int32Builder::new();
    for d in cities.values().flatten() {
        n.append_option(match d.source {
            DaySource::Stations(k) => Some(i32::from(k)),
            DaySource::Published => None,
        });
    }
    let extra = vec![(Field::new("stations", DataType::Int32, true), Arc::new(n.finish()) as ArrayRef)];
    days_batch("city", rows, extra)
}

fn read_city_days(bytes: &[u8]) -> PyResult<BTreeMap<String, Vec<AreaDay>>> {
    let batches = read_ipc(bytes)?;
    let mut out: BTreeMap<String, Vec<AreaDay>> = BTreeMap::new();
    let mut counts: Vec<Option<i64>> = Vec::new();
    for b in &batches {
        match ints(b, "stations")? {
            Some(v) => {
                let c = column(b, "stations").expect("present");
                counts.extend(v.into_iter().enumerate().map(|(i, n)| Some(n).filter(|_| c.is_valid(i))));
            }
            None => counts.extend(std::iter::repeat_n(Some(1), b.num_rows())),
        }
    }
    for ((city, day, values), n) in read_days(&batches, "city")?.into_iter().zip(counts) {
        let source = n.map_or(DaySource::Published, |n| DaySource::Stations(u16::try_from(n).unwrap_or(u16::MAX)));
        out.entry(city).or_default().push(AreaDay { day, values, source });
    }
    for l in out.values_mut() {
        l.sort_by_key(|d| d.day);
    }
    Ok(out)
}

/// The rows of `lantian assess` from city days (IPC), and the same period
/// of the previous year's city days when compared: `(json, csv, pretty)`,
/// the last two byte for byte what `--format csv` and `--format json` print.
#[pyfunction]
#[pyo3(signature = (city_days, from, to, edition=None, previous_year=None))]
fn assess_city_days(
    city_days: Vec<u8>,
    from: &str,
    to: &str,
    edition: Option<&str>,
    previous_year: Option<Vec<u8>>,
) -> PyResult<(String, String, String)> {
    let days = read_city_days(&city_days)?;
    let prev = previous_year.map(|p| read_city_days(&p)).transpose()?;
    let t = pipeline::assess(&days, prev.as_ref(), date(from)?, date(to)?, crate::edition(edition)?).map_err(aerr)?;
    let (mut csv, mut pretty) = (Vec::new(), Vec::new());
    t.write_csv(&mut csv).map_err(aerr)?;
    t.write_json(&mut pretty).map_err(aerr)?;
    let text = |b: Vec<u8>| String::from_utf8(b).map_err(err);
    Ok((t.to_json().to_string(), text(csv)?, text(pretty)?))
}
