//! lantian-store: the IO edge. Imports monitoring files into a columnar
//! store in the data directory and reads them back for the core.
//!
//! Layout of a data directory (`--data`, default `./lantian-data`):
//!
//! ```text
//! manifest.json              the current generation: which files are live
//! hourly/2019-01.g3.parquet  station hours of one month (measured + published), raw layer
//! hourly/2019-01.g3.days     that month's station days (derived, checked when read;
//!                            `partition::days`)
//! audited/2019-01.g4.parquet the audited layer of that month (same columns; null =
//!                            not covered, NaN = invalidated by the auditor)
//! city_daily.g2.parquet      published city daily values (city_daily files)
//! stations.g1.json           the station list
//! boundaries.geojson         area outlines for the map (`lantian boundaries import`)
//! rejects/<import>.csv       rejected rows/cells of each import: file, line, column, reason
//! lock                       held (flock) by a running import
//! ```
//!
//! **Invariant: an interrupted import leaves the store as it was.** New
//! files are written under new generation names and fsynced (a `.days`
//! file is not: it is checked when read instead); the import
//! commits by atomically renaming a new `manifest.json` into place. Until
//! that rename nothing a reader sees has changed; files left over by a
//! killed import are unreferenced and removed by the next import.
//!
//! Why Parquet (arrow-rs, no query engine): columnar, compressed, readable
//! by every analyst tool (pandas, R arrow, DuckDB), month partitions keep a
//! national year's import and assess within memory, and the statistics are
//! rule-heavy code in `lantian-core` rather than SQL.

pub mod areas;
pub mod boundaries;
mod cell_code;
pub mod city_daily;
pub mod events;
pub mod findings;
pub mod import;
pub mod kinds;
pub mod ledger;
pub mod live;
pub mod loggers;
pub mod ops;
pub mod par;
pub mod partition;
pub mod query;
pub mod sessions;
mod simd;
pub mod sql;
pub mod stations;
mod store;
pub mod targets;
pub mod tasks;
pub mod users;
mod value_chunk;
mod value_pages;

pub use import::{ImportSummary, import};
pub use kinds::Kind;
pub use partition::{MonthKey, Partition, ValuesUsed};
pub use stations::{Station, canonical_city};
pub use store::{Layer, Store, Values};

use std::path::{Path, PathBuf};

/// Errors of the store and import edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Input(String),
    #[error("another lantian process is writing to {0}; try again when it has finished")]
    Locked(PathBuf),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub fn parquet(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Parquet { path: path.to_path_buf(), message: e.to_string() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
