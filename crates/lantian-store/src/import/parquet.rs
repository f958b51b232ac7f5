//! Parquet input: hourly station data in long form (`station`, `time`,
//! `pollutant`, `value`) or in lantian's own month layout (`station`, `time`
//! and one column per series, as in `hourly/*.parquet` of a data directory).
//! `time` is the end of the hour: a timestamp (any unit; the instant) or text
//! `YYYY-MM-DDTHH:00[+08:00]`. Rows are numbered from 1 in rejects.

use super::rows::{Cell, HourlyCells, Reject, check_value, group_by_station, parse_label, reject};
use crate::kinds::Kind;
use crate::partition::INVALIDATED;
use crate::partition::millis_to_label;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use lantian_core::time::HourLabel;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;

/// `audited`: a null value of the long form, or a NaN, invalidates the station-hour.
pub(crate) fn parse(
    file: &str,
    content: &[u8],
    rejects: &mut Vec<Reject>,
    audited: bool,
) -> Result<HourlyCells, String> {
    let bytes = bytes::Bytes::copy_from_slice(content);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.with_batch_size(65_536).build())
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let mut stations: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut cells = Vec::new();
    let mut row0 = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| format!("unreadable row group: {e}"))?;
        let long = batch.schema().index_of("pollutant").is_ok() && batch.schema().index_of("value").is_ok();
        let station = text_column(&batch, "station")?;
        let times = time_column(&batch)?;
        let mut station_id = |name: &str| {
            *index.entry(name.to_string()).or_insert_with(|| {
                stations.push(name.to_string());
                (stations.len() - 1) as u32
            })
        };
        let series: Vec<(Kind, Vec<Option<f64>>)> = if long {
            Vec::new()
        } else {
            Kind::ALL
                .iter()
                .filter_map(|k| number_column(&batch, k.column()).transpose().map(|c| c.map(|c| (*k, c))))
                .collect::<Result<_, _>>()?
        };
        let (pollutant, value) = if long {
            (Some(text_column(&batch, "pollutant")?), Some(number_column(&batch, "value")?.ok_or("no value column")?))
        } else {
            (None, None)
        };
        for row in 0..batch.num_rows() {
            let line = row0 + row as u64 + 1;
            let Some(name) = station[row].as_deref().filter(|s| !s.trim().is_empty()) else {
                reject(rejects, file, line, "station", "empty station", b"");
                continue;
            };
            let label = match &times[row] {
                Ok(l) => *l,
                Err(reason) => {
                    reject(rejects, file, line, "time", reason.clone(), b"");
                    continue;
                }
            };
            let id = station_id(name.trim());
            let mut push = |kind: Kind, v: Option<f64>, column: &str| match v.map(check_value) {
                Some(Ok(value)) => cells.push(Cell { station: id, kind, label, value }),
                Some(Err(_)) if audited && v.is_some_and(f64::is_nan) => {
                    cells.push(Cell { station: id, kind, label, value: INVALIDATED })
                }
                Some(Err(reason)) => {
                    reject(rejects, file, line, column, reason, v.unwrap_or_default().to_string().as_bytes())
                }
                None => {}
            };
            if let (Some(pollutant), Some(value)) = (&pollutant, &value) {
                match pollutant[row].as_deref().and_then(Kind::parse) {
                    // A long row without a value says "invalid" in an audited file.
                    Some(kind) => push(kind, if audited { value[row].or(Some(f64::NAN)) } else { value[row] }, "value"),
                    None => reject(
                        rejects,
                        file,
                        line,
                        "pollutant",
                        "unknown pollutant",
                        pollutant[row].as_deref().unwrap_or("").as_bytes(),
                    ),
                }
            } else {
                for (kind, col) in &series {
                    push(*kind, col[row], kind.column());
                }
            }
        }
        row0 += batch.num_rows() as u64;
    }
    let n = stations.len();
    Ok(HourlyCells { cells: group_by_station(cells, n), stations, day: None, has: Vec::new() })
}

fn text_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, String> {
    let i = batch.schema().index_of(name).map_err(|_| format!("no '{name}' column"))?;
    let col = batch.column(i);
    match col.data_type() {
        DataType::Utf8 => Ok(col.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()),
        DataType::LargeUtf8 => Ok(col.as_string::<i64>().iter().map(|v| v.map(str::to_string)).collect()),
        DataType::Utf8View => Ok(col.as_string_view().iter().map(|v| v.map(str::to_string)).collect()),
        other => Err(format!("column '{name}' is {other}, expected text")),
    }
}

fn number_column(batch: &RecordBatch, name: &str) -> Result<Option<Vec<Option<f64>>>, String> {
    let Ok(i) = batch.schema().index_of(name) else { return Ok(None) };
    let col = batch.column(i);
    let out: Vec<Option<f64>> = match col.data_type() {
        DataType::Float64 => col.as_primitive::<Float64Type>().iter().collect(),
        DataType::Float32 => col.as_primitive::<Float32Type>().iter().map(|v| v.map(f64::from)).collect(),
        DataType::Int64 => col.as_primitive::<Int64Type>().iter().map(|v| v.map(|x| x as f64)).collect(),
        DataType::Int32 => col.as_primitive::<Int32Type>().iter().map(|v| v.map(f64::from)).collect(),
        other => return Err(format!("column '{name}' is {other}, expected numbers")),
    };
    Ok(Some(out))
}

fn time_column(batch: &RecordBatch) -> Result<Vec<Result<HourLabel, String>>, String> {
    let i = batch.schema().index_of("time").map_err(|_| "no 'time' column".to_string())?;
    let col = batch.column(i);
    let from_ms = |ms: Option<i64>| -> Result<HourLabel, String> {
        let ms = ms.ok_or("missing time")?;
        if ms.rem_euclid(3_600_000) != 0 {
            return Err("hourly data must be on the hour".into());
        }
        Ok(millis_to_label(ms))
    };
    Ok(match col.data_type() {
        DataType::Timestamp(unit, _) => {
            let ms: Vec<Option<i64>> = match unit {
                TimeUnit::Second => {
                    col.as_primitive::<TimestampSecondType>().iter().map(|v| v.map(|x| x * 1000)).collect()
                }
                TimeUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().iter().collect(),
                TimeUnit::Microsecond => col
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .map(|v| v.map(|x| x.div_euclid(1000)))
                    .collect(),
                TimeUnit::Nanosecond => col
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .map(|v| v.map(|x| x.div_euclid(1_000_000)))
                    .collect(),
            };
            ms.into_iter().map(from_ms).collect()
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => text_column(batch, "time")?
            .into_iter()
            .map(|t| t.ok_or_else(|| "missing time".to_string()).and_then(|t| parse_label(&t).map_err(str::to_string)))
            .collect(),
        other => return Err(format!("column 'time' is {other}, expected a timestamp or text")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::{MergeCounts, MonthKey, Partition};
    use lantian_core::time::label;

    #[test]
    fn reads_lantians_own_month_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = MonthKey { year: 2019, month: 3 };
        let mut p = Partition::empty(key);
        let d = jiff::civil::date(2019, 3, 2);
        let mut c = MergeCounts::default();
        p.merge("1431A", label(d, 5), Kind::Pm25, 35.0, &mut c);
        p.merge("1431A", label(d, 5), Kind::Co, 1.2, &mut c);
        p.merge("1432A", label(d, 6), Kind::Aqi, 80.0, &mut c);
        let path = dir.path().join("m.parquet");
        p.write(&path).unwrap();
        let mut rejects = Vec::new();
        let h = parse("m.parquet", &std::fs::read(&path).unwrap(), &mut rejects, false).unwrap();
        assert!(rejects.is_empty());
        let mut got: Vec<(String, Kind, i64, f64)> =
            h.cells.iter().map(|c| (h.stations[c.station as usize].clone(), c.kind, c.label, c.value)).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(
            got,
            vec![
                ("1431A".to_string(), Kind::Pm25, label(d, 5), 35.0),
                ("1431A".to_string(), Kind::Co, label(d, 5), 1.2),
                ("1432A".to_string(), Kind::Aqi, label(d, 6), 80.0)
            ]
        );
    }
}
