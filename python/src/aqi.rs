//! IAQI/AQI of arrays and the daily rules over hourly arrays: loops over
//! lantian-core's functions, element by element.

use crate::{err, f64_bytes, f64s};
use lantian_core::aqi::{AqiReport, DailyInput, HourlyInput, daily_aqi, hourly_aqi};
use lantian_core::series::{CaptureRules, o3_8h_windows, station_day};
use lantian_core::{Edition, Pollutant};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(aqi, m)?)?;
    m.add_function(wrap_pyfunction!(day_values, m)?)?;
    m.add_function(wrap_pyfunction!(o3_8h, m)?)?;
    Ok(())
}

/// The columns of an AQI input: each `float64` bytes of one length (NaN = missing).
fn columns_of(cols: Vec<Option<Vec<u8>>>, names: &[&str]) -> PyResult<(usize, Vec<Vec<f64>>)> {
    let mut n = None;
    let mut out = Vec::new();
    for (c, name) in cols.into_iter().zip(names) {
        let v = match c {
            Some(b) => f64s(&b, name)?,
            None => Vec::new(),
        };
        if !v.is_empty() || n.is_none() {
            match n {
                Some(len) if len != v.len() && !v.is_empty() => {
                    return Err(err(format!("{name}: {} values where the other columns have {len}", v.len())));
                }
                None if !v.is_empty() => n = Some(v.len()),
                _ => {}
            }
        }
        out.push(v);
    }
    Ok((n.unwrap_or(0), out))
}

/// The report's numbers as a dict of arrays: `aqi`, `level` (NaN when no
/// AQI), the IAQI of each indicator (`iaqi_<key>`), and `primary` (a list
/// of `"pm25"`, `"o3"`…, joined with `,` when tied; empty at AQI ≤ 50).
fn reports<'py>(py: Python<'py>, reports: &[AqiReport]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let aqi = |r: &AqiReport| r.aqi.map_or(f64::NAN, f64::from);
    d.set_item("aqi", PyBytes::new(py, &f64_bytes(reports.iter().map(aqi))))?;
    let level = |r: &AqiReport| r.aqi.map_or(f64::NAN, |a| f64::from(lantian_core::aqi::Level::from_aqi(a).number()));
    d.set_item("level", PyBytes::new(py, &f64_bytes(reports.iter().map(level))))?;
    let mut indicators: Vec<lantian_core::aqi::Indicator> = Vec::new();
    for r in reports {
        for s in &r.sub_indices {
            if !indicators.contains(&s.indicator) {
                indicators.push(s.indicator);
            }
        }
    }
    for ind in indicators {
        let v = reports.iter().map(|r| r.iaqi(ind).map_or(f64::NAN, f64::from));
        d.set_item(format!("iaqi_{}", indicator_key(ind)), PyBytes::new(py, &f64_bytes(v)))?;
    }
    let primary: Vec<String> =
        reports.iter().map(|r| r.primary.iter().map(|p| p.key()).collect::<Vec<_>>().join(",")).collect();
    d.set_item("primary", primary)?;
    Ok(d)
}

fn indicator_key(i: lantian_core::aqi::Indicator) -> &'static str {
    use lantian_core::aqi::Indicator::*;
    match i {
        So2Daily => "so2_24h",
        So2Hour => "so2_1h",
        No2Daily => "no2_24h",
        No2Hour => "no2_1h",
        Pm10Daily => "pm10_24h",
        Pm25Daily => "pm25_24h",
        CoDaily => "co_24h",
        CoHour => "co_1h",
        O3Hour => "o3_1h",
        O3EightHour => "o3_8h",
    }
}

fn opt(v: &[f64], i: usize) -> Option<f64> {
    v.get(i).copied().filter(|x| !x.is_nan())
}

/// The AQI of each row: `kind` `daily` (日报; columns so2, no2, pm10, pm25,
/// co, o3_8h, o3_1h_max) or `hourly` (实时报; so2, no2, pm10, pm25, co, o3
/// and the trailing 24-hour SO2, used above 800 μg/m³ under 2012).
#[pyfunction]
fn aqi<'py>(py: Python<'py>, kind: &str, edition: &str, columns: Vec<Option<Vec<u8>>>) -> PyResult<Bound<'py, PyDict>> {
    let names: [&str; 7] = match kind {
        "daily" => ["so2", "no2", "pm10", "pm25", "co", "o3_8h", "o3_1h_max"],
        "hourly" => ["so2", "no2", "pm10", "pm25", "co", "o3", "so2_24h"],
        _ => return Err(err(format!("'{kind}': daily or hourly"))),
    };
    if columns.len() != names.len() {
        return Err(err(format!("{} columns: {}", names.len(), names.join(", "))));
    }
    let (n, c) = columns_of(columns, &names)?;
    let e: Edition = edition.parse().map_err(err)?;
    let out: Vec<AqiReport> = (0..n)
        .map(|i| {
            let v: [Option<f64>; 7] = std::array::from_fn(|k| opt(&c[k], i));
            if kind == "daily" {
                let input =
                    DailyInput { so2: v[0], no2: v[1], pm10: v[2], pm25: v[3], co: v[4], o3_8h: v[5], o3_1h_max: v[6] };
                daily_aqi(e, &input)
            } else {
                let input =
                    HourlyInput { so2: v[0], no2: v[1], pm10: v[2], pm25: v[3], co: v[4], o3: v[5], so2_24h: v[6] };
                hourly_aqi(e, &input)
            }
        })
        .collect();
    reports(py, &out)
}

/// Whole days of hourly values: `n × 24` values of a pollutant, labels 1..=24
/// of each day (hour-ending, label 24 = 00:00 of the next date).
fn days_of(b: &[u8], what: &str) -> PyResult<Vec<[f64; 24]>> {
    let v = f64s(b, what)?;
    if !v.len().is_multiple_of(24) {
        return Err(err(format!("{what}: {} hourly values is not a whole number of days (24 per day)", v.len())));
    }
    Ok(v.chunks_exact(24).map(|c| c.try_into().expect("24 values")).collect())
}

/// Daily values of one station's days (HJ 663: 24-hour means with the
/// 20-hour rule, MDA8 with the 14-of-17 rule and its exception, the daily
/// 1-hour O3 maximum) and each pollutant's valid hours. Columns are
/// `so2, no2, pm10, co, o3, pm25` hourly (`Pollutant::ALL` order).
#[pyfunction]
fn day_values<'py>(py: Python<'py>, hourly: Vec<Option<Vec<u8>>>) -> PyResult<Bound<'py, PyDict>> {
    if hourly.len() != 6 {
        return Err(err("six hourly columns: so2, no2, pm10, co, o3, pm25"));
    }
    let mut cols: Vec<Vec<[f64; 24]>> = Vec::new();
    for (c, p) in hourly.iter().zip(Pollutant::ALL) {
        cols.push(match c {
            Some(b) => days_of(b, p.key())?,
            None => Vec::new(),
        });
    }
    let n = cols.iter().map(Vec::len).max().unwrap_or(0);
    if let Some((c, p)) = cols.iter().zip(Pollutant::ALL).find(|(c, _)| !c.is_empty() && c.len() != n) {
        return Err(err(format!("{}: {} days where another column has {n}", p.key(), c.len())));
    }
    let rules = CaptureRules::default();
    let days: Vec<lantian_core::DailyValues> = (0..n)
        .map(|d| {
            let hours: [[f64; 24]; 6] = std::array::from_fn(|k| cols[k].get(d).copied().unwrap_or([f64::NAN; 24]));
            station_day(&hours, &rules)
        })
        .collect();
    let out = PyDict::new(py);
    let col =
        |f: fn(&lantian_core::DailyValues) -> Option<f64>| f64_bytes(days.iter().map(|d| f(d).unwrap_or(f64::NAN)));
    out.set_item("so2", PyBytes::new(py, &col(|d| d.so2)))?;
    out.set_item("no2", PyBytes::new(py, &col(|d| d.no2)))?;
    out.set_item("pm10", PyBytes::new(py, &col(|d| d.pm10)))?;
    out.set_item("co", PyBytes::new(py, &col(|d| d.co)))?;
    out.set_item("o3_8h", PyBytes::new(py, &col(|d| d.o3_8h)))?;
    out.set_item("pm25", PyBytes::new(py, &col(|d| d.pm25)))?;
    out.set_item("o3_1h_max", PyBytes::new(py, &col(|d| d.o3_1h_max)))?;
    for (k, p) in Pollutant::ALL.iter().enumerate() {
        let h = f64_bytes(days.iter().map(|d| f64::from(d.hours[k])));
        out.set_item(format!("hours_{}", p.key()), PyBytes::new(py, &h))?;
    }
    Ok(out)
}

/// The network's 8-hour O3 moving means at each label of whole days.
#[pyfunction]
fn o3_8h<'py>(py: Python<'py>, hourly: Vec<u8>) -> PyResult<Bound<'py, PyBytes>> {
    let rules = CaptureRules::default();
    let days = days_of(&hourly, "o3")?;
    Ok(PyBytes::new(py, &f64_bytes(days.iter().flat_map(|d| o3_8h_windows(d, &rules)))))
}
