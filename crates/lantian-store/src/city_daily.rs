//! Published city daily values (the `city_daily` files: aqistudy mirrors of
//! CNEMC city daily data), stored apart from the station hours.

use crate::partition::write_parquet;
use crate::{Error, Result};
use arrow_array::builder::{Date32Builder, Float64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use lantian_core::time::DayNumber;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// One published city-day. Concentrations as published (possibly
/// unrounded); `o3_8h` only when the source carries MDA8, `o3_1h_max` when it
/// carries the daily maximum 1-hour value.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CityDay {
    pub city: String,
    pub day: DayNumber,
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub co: Option<f64>,
    pub o3_8h: Option<f64>,
    pub o3_1h_max: Option<f64>,
    /// The AQI the source printed (kept for comparison, never trusted).
    pub aqi_published: Option<f64>,
    /// Which format the row came from.
    pub source: String,
}

impl CityDay {
    pub(crate) const VALUE_COLUMNS: [&'static str; 8] =
        ["pm25", "pm10", "so2", "no2", "co", "o3_8h", "o3_1h_max", "aqi_published"];

    pub(crate) fn values(&self) -> [Option<f64>; 8] {
        [self.pm25, self.pm10, self.so2, self.no2, self.co, self.o3_8h, self.o3_1h_max, self.aqi_published]
    }

    fn set_values(&mut self, v: [Option<f64>; 8]) {
        [self.pm25, self.pm10, self.so2, self.no2, self.co, self.o3_8h, self.o3_1h_max, self.aqi_published] = v;
    }
}

fn schema() -> Arc<Schema> {
    let mut fields = vec![Field::new("city", DataType::Utf8, false), Field::new("date", DataType::Date32, false)];
    fields.extend(CityDay::VALUE_COLUMNS.iter().map(|c| Field::new(*c, DataType::Float64, true)));
    fields.push(Field::new("source", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

pub(crate) fn write(path: &Path, rows: &[CityDay]) -> Result<()> {
    let mut city = StringBuilder::new();
    let mut date = Date32Builder::new();
    let mut cols: Vec<Float64Builder> = (0..8).map(|_| Float64Builder::new()).collect();
    let mut source = StringBuilder::new();
    for r in rows {
        city.append_value(&r.city);
        date.append_value(r.day as i32);
        for (c, v) in cols.iter_mut().zip(r.values()) {
            c.append_option(v);
        }
        source.append_value(&r.source);
    }
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(city.finish()), Arc::new(date.finish())];
    arrays.extend(cols.iter_mut().map(|c| Arc::new(c.finish()) as ArrayRef));
    arrays.push(Arc::new(source.finish()));
    let batch = RecordBatch::try_new(schema(), arrays).map_err(|e| Error::parquet(path, e))?;
    write_parquet(path, &batch)
}

pub(crate) fn read(path: &Path) -> Result<Vec<CityDay>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(|e| Error::parquet(path, e))?;
    let mut out = Vec::new();
    let bad = || Error::Store(format!("{}: unexpected column types", path.display()));
    for batch in reader {
        let batch = batch.map_err(|e| Error::parquet(path, e))?;
        let city = batch.column(0).as_any().downcast_ref::<StringArray>().ok_or_else(bad)?;
        let date = batch.column(1).as_any().downcast_ref::<Date32Array>().ok_or_else(bad)?;
        let vals: Vec<&Float64Array> = (0..8)
            .map(|i| batch.column(2 + i).as_any().downcast_ref::<Float64Array>().ok_or_else(bad))
            .collect::<Result<_>>()?;
        let source = batch.column(10).as_any().downcast_ref::<StringArray>().ok_or_else(bad)?;
        for row in 0..batch.num_rows() {
            let mut d = CityDay {
                city: city.value(row).to_string(),
                day: i64::from(date.value(row)),
                source: source.value(row).to_string(),
                ..Default::default()
            };
            d.set_values(std::array::from_fn(|i| vals[i].is_valid(row).then(|| vals[i].value(row))));
            out.push(d);
        }
    }
    Ok(out)
}
