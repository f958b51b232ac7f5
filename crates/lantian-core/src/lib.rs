//! lantian-core: the air-quality standards as pure functions over plain data.
//!
//! This crate does no IO (architecture invariant, `ARCHITECTURE.md`). It
//! implements GB 3095 limits ([`edition`]), HJ 633 AQI ([`aqi`]), the HJ 663
//! daily rules ([`series`]), area aggregation ([`city`]) and period
//! statistics, composite index and ranking ([`period`]), with GB/T 8170
//! rounding ([`round`]). Every function cites the clause it implements;
//! `docs/STANDARDS.md` lists the open points and the reading chosen.

pub mod aqi;
pub mod city;
pub mod deduct;
pub mod edition;
pub mod integrity;
pub mod period;
pub mod policy;
pub mod pollutant;
pub mod rank;
pub mod round;
pub mod series;
pub mod target;
pub mod task;
pub mod time;

pub use aqi::{AqiReport, DailyInput, HourlyInput, Indicator, Level, daily_aqi, hourly_aqi};
pub use edition::{Edition, LimitSet, Limits};
pub use pollutant::Pollutant;
pub use series::{CaptureRules, DailyValues};
