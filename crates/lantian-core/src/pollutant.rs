//! The six basic pollutants of GB 3095 and their reporting conventions.

use std::fmt;

/// A basic pollutant (基本项目) of GB 3095. Order is the order of HJ 633's
/// tables and of the `daily`/`hourly` output columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pollutant {
    So2,
    No2,
    Pm10,
    Co,
    O3,
    Pm25,
}

impl Pollutant {
    pub const ALL: [Pollutant; 6] =
        [Pollutant::So2, Pollutant::No2, Pollutant::Pm10, Pollutant::Co, Pollutant::O3, Pollutant::Pm25];

    /// Decimal places of a reported concentration (HJ 663 §6, HJ 633-2026
    /// §4.2.2): integers in μg/m³, CO one decimal in mg/m³.
    pub fn decimals(self) -> u32 {
        match self {
            Pollutant::Co => 1,
            _ => 0,
        }
    }

    /// Round a concentration to its reporting precision (GB/T 8170).
    #[inline]
    pub fn report(self, value: f64) -> f64 {
        crate::round::round_half_even(value, self.decimals())
    }

    /// Machine key used in CSV/JSON output and long-format input.
    pub fn key(self) -> &'static str {
        match self {
            Pollutant::So2 => "so2",
            Pollutant::No2 => "no2",
            Pollutant::Pm10 => "pm10",
            Pollutant::Co => "co",
            Pollutant::O3 => "o3",
            Pollutant::Pm25 => "pm25",
        }
    }

    /// Display name as the standards print it.
    pub fn label(self) -> &'static str {
        match self {
            Pollutant::So2 => "SO2",
            Pollutant::No2 => "NO2",
            Pollutant::Pm10 => "PM10",
            Pollutant::Co => "CO",
            Pollutant::O3 => "O3",
            Pollutant::Pm25 => "PM2.5",
        }
    }

    /// Parse the names found in real files: `pm25`, `PM2.5`, `pm2_5`, `SO2`…
    pub fn parse(name: &str) -> Option<Pollutant> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "so2" => Pollutant::So2,
            "no2" => Pollutant::No2,
            "pm10" => Pollutant::Pm10,
            "co" => Pollutant::Co,
            "o3" => Pollutant::O3,
            "pm25" | "pm2.5" | "pm2_5" => Pollutant::Pm25,
            _ => return None,
        })
    }

    pub fn unit(self) -> &'static str {
        match self {
            Pollutant::Co => "mg/m³",
            _ => "μg/m³",
        }
    }
}

impl fmt::Display for Pollutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_from_files() {
        assert_eq!(Pollutant::parse("PM2.5"), Some(Pollutant::Pm25));
        assert_eq!(Pollutant::parse("pm2_5"), Some(Pollutant::Pm25));
        assert_eq!(Pollutant::parse(" SO2 "), Some(Pollutant::So2));
        assert_eq!(Pollutant::parse("NOx"), None);
        for p in Pollutant::ALL {
            assert_eq!(Pollutant::parse(p.key()), Some(p));
            assert_eq!(Pollutant::parse(p.label()), Some(p));
        }
    }

    #[test]
    fn reporting_precision() {
        assert_eq!(Pollutant::Pm25.report(52.5), 52.0);
        assert_eq!(Pollutant::Co.report(1.25), 1.2);
        assert_eq!(Pollutant::Co.report(1.251), 1.3);
    }
}
