//! Which edition of the standards governs a period, and the GB 3095 limits.
//!
//! GB 3095-2026, HJ 633-2026 and HJ 663-2026 replaced the 2012/2013 editions
//! on 2026-03-01. Data are computed by the rules in force on their own date;
//! `Edition` can be forced to compare two periods on one basis (可比口径).

use crate::pollutant::Pollutant;
use jiff::civil::{Date, date};
use std::fmt;
use std::str::FromStr;

/// Date from which the 2026 editions apply.
pub const EDITION_2026_FROM: Date = date(2026, 3, 1);
/// Date from which GB 3095-2026's final (non-transitional) limits apply.
pub const GB3095_2026_FINAL_FROM: Date = date(2031, 1, 1);

/// A set of the three standards that are applied together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edition {
    /// GB 3095-2012 (with the 2018 amendment), HJ 633-2012, HJ 663-2013.
    E2012,
    /// GB 3095-2026, HJ 633-2026, HJ 663-2026.
    E2026,
}

impl Edition {
    /// The edition in force on `day`.
    pub fn for_date(day: Date) -> Edition {
        if day >= EDITION_2026_FROM { Edition::E2026 } else { Edition::E2012 }
    }

    pub fn year(self) -> u16 {
        match self {
            Edition::E2012 => 2012,
            Edition::E2026 => 2026,
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.year())
    }
}

impl FromStr for Edition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "2012" | "2013" => Ok(Edition::E2012),
            "2026" => Ok(Edition::E2026),
            other => Err(format!("unknown edition '{other}': use 2012 or 2026")),
        }
    }
}

/// Which column of GB 3095 Table 1 applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitSet {
    /// GB 3095-2012 Table 1.
    Gb2012,
    /// GB 3095-2026 Table 1, transitional stage (2026-03-01 … 2030-12-31).
    Gb2026Transitional,
    /// GB 3095-2026 Table 1, final limits (from 2031-01-01).
    Gb2026Final,
}

impl LimitSet {
    pub fn for_date(day: Date) -> LimitSet {
        if day >= GB3095_2026_FINAL_FROM {
            LimitSet::Gb2026Final
        } else if day >= EDITION_2026_FROM {
            LimitSet::Gb2026Transitional
        } else {
            LimitSet::Gb2012
        }
    }

    /// The limit set an edition uses when the edition is forced for a
    /// comparison (the 2026 edition's transitional limits until 2030).
    pub fn for_edition(edition: Edition, day: Date) -> LimitSet {
        match edition {
            Edition::E2012 => LimitSet::Gb2012,
            Edition::E2026 if day >= GB3095_2026_FINAL_FROM => LimitSet::Gb2026Final,
            Edition::E2026 => LimitSet::Gb2026Transitional,
        }
    }

    /// Grade II limits (二级浓度限值), used for city assessment.
    pub fn grade2(self) -> Limits {
        use LimitSet::*;
        match self {
            Gb2012 => Limits {
                so2_annual: 60.0,
                so2_daily: 150.0,
                no2_annual: 40.0,
                no2_daily: 80.0,
                pm10_annual: 70.0,
                pm10_daily: 150.0,
                pm25_annual: 35.0,
                pm25_daily: 75.0,
                co_daily: 4.0,
                o3_8h: 160.0,
                o3_1h: 200.0,
            },
            Gb2026Transitional => Limits {
                so2_annual: 60.0,
                so2_daily: 150.0,
                no2_annual: 40.0,
                no2_daily: 80.0,
                pm10_annual: 60.0,
                pm10_daily: 120.0,
                pm25_annual: 30.0,
                pm25_daily: 60.0,
                co_daily: 4.0,
                o3_8h: 160.0,
                o3_1h: 200.0,
            },
            Gb2026Final => Limits {
                so2_annual: 20.0,
                so2_daily: 50.0,
                no2_annual: 30.0,
                no2_daily: 50.0,
                pm10_annual: 50.0,
                pm10_daily: 100.0,
                pm25_annual: 25.0,
                pm25_daily: 50.0,
                co_daily: 4.0,
                o3_8h: 160.0,
                o3_1h: 200.0,
            },
        }
    }
}

/// Grade II concentration limits of one limit set (μg/m³; CO mg/m³).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub so2_annual: f64,
    pub so2_daily: f64,
    pub no2_annual: f64,
    pub no2_daily: f64,
    pub pm10_annual: f64,
    pub pm10_daily: f64,
    pub pm25_annual: f64,
    pub pm25_daily: f64,
    pub co_daily: f64,
    pub o3_8h: f64,
    pub o3_1h: f64,
}

impl Limits {
    /// The daily (24-hour) limit; for O3 the daily-maximum 8-hour limit.
    pub fn daily(&self, p: Pollutant) -> f64 {
        match p {
            Pollutant::So2 => self.so2_daily,
            Pollutant::No2 => self.no2_daily,
            Pollutant::Pm10 => self.pm10_daily,
            Pollutant::Pm25 => self.pm25_daily,
            Pollutant::Co => self.co_daily,
            Pollutant::O3 => self.o3_8h,
        }
    }

    /// The annual limit, where GB 3095 has one.
    pub fn annual(&self, p: Pollutant) -> Option<f64> {
        match p {
            Pollutant::So2 => Some(self.so2_annual),
            Pollutant::No2 => Some(self.no2_annual),
            Pollutant::Pm10 => Some(self.pm10_annual),
            Pollutant::Pm25 => Some(self.pm25_annual),
            Pollutant::Co | Pollutant::O3 => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edition_switches_on_2026_03_01() {
        assert_eq!(Edition::for_date(date(2026, 2, 28)), Edition::E2012);
        assert_eq!(Edition::for_date(date(2026, 3, 1)), Edition::E2026);
        assert_eq!(Edition::for_date(date(2019, 7, 1)), Edition::E2012);
        assert_eq!("2026".parse::<Edition>(), Ok(Edition::E2026));
        assert!("2020".parse::<Edition>().is_err());
    }

    #[test]
    fn gb3095_tables() {
        let l12 = LimitSet::for_date(date(2025, 12, 31)).grade2();
        assert_eq!((l12.pm25_annual, l12.pm25_daily, l12.pm10_annual, l12.pm10_daily), (35.0, 75.0, 70.0, 150.0));
        assert_eq!((l12.so2_annual, l12.so2_daily, l12.no2_annual, l12.no2_daily), (60.0, 150.0, 40.0, 80.0));
        assert_eq!((l12.co_daily, l12.o3_8h, l12.o3_1h), (4.0, 160.0, 200.0));
        let tr = LimitSet::for_date(date(2026, 3, 1)).grade2();
        assert_eq!((tr.pm25_annual, tr.pm25_daily, tr.pm10_annual, tr.pm10_daily), (30.0, 60.0, 60.0, 120.0));
        assert_eq!((tr.so2_annual, tr.no2_annual), (60.0, 40.0));
        let fin = LimitSet::for_date(date(2031, 1, 1)).grade2();
        assert_eq!((fin.pm25_annual, fin.pm25_daily, fin.pm10_annual, fin.pm10_daily), (25.0, 50.0, 50.0, 100.0));
        assert_eq!((fin.so2_annual, fin.so2_daily, fin.no2_annual, fin.no2_daily), (20.0, 50.0, 30.0, 50.0));
        assert_eq!(LimitSet::for_date(date(2030, 12, 31)), LimitSet::Gb2026Transitional);
        assert_eq!(LimitSet::for_edition(Edition::E2012, date(2027, 1, 1)), LimitSet::Gb2012);
    }
}
