//! `lantian._lantian`: the Rust side of the `lantian` Python package.
//!
//! Thin on purpose: every rule is lantian-core's, every read lantian-store's,
//! every use case lantian-app's; this crate only converts. Arrays cross as
//! little-endian `float64` bytes (NaN = missing), tables as Arrow IPC
//! streams; the Python package (`python/lantian`) wraps them in numpy and
//! pyarrow. Errors are `lantian.LantianError` with the CLI's messages.
//!
//! - `aqi`: IAQI/AQI of arrays, daily values of hourly arrays, 8-hour O3;
//! - `frames`: the assessment's steps over Arrow tables (station hours →
//!   station days → city days → assess rows), what the Spark job runs;
//! - `store`: a data directory (read it, assess it) and files as rows.

mod aqi;
mod frames;
mod store;

use pyo3::create_exception;
use pyo3::prelude::*;

create_exception!(_lantian, LantianError, pyo3::exceptions::PyException);

/// An error as the CLI words it (the whole chain of causes).
pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    LantianError::new_err(format!("{e:#}"))
}

/// `anyhow` errors keep their chain in `{:#}`.
pub(crate) fn aerr(e: anyhow::Error) -> PyErr {
    LantianError::new_err(format!("{e:#}"))
}

/// Little-endian `float64` bytes as values.
pub(crate) fn f64s(b: &[u8], what: &str) -> PyResult<Vec<f64>> {
    if !b.len().is_multiple_of(8) {
        return Err(err(format!("{what}: {} bytes is not a whole number of float64 values", b.len())));
    }
    Ok(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// Values as little-endian `float64` bytes.
pub(crate) fn f64_bytes(v: impl IntoIterator<Item = f64>) -> Vec<u8> {
    v.into_iter().flat_map(f64::to_le_bytes).collect()
}

pub(crate) fn date(s: &str) -> PyResult<jiff::civil::Date> {
    s.parse().map_err(|e| err(format!("'{s}': not a date YYYY-MM-DD ({e})")))
}

pub(crate) fn edition(s: Option<&str>) -> PyResult<Option<lantian_core::Edition>> {
    s.map(|e| e.parse().map_err(err)).transpose()
}

#[pymodule]
fn _lantian(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LantianError", m.py().get_type::<LantianError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    aqi::register(m)?;
    frames::register(m)?;
    store::register(m)?;
    Ok(())
}
