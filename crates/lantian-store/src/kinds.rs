//! The fifteen hourly series of a CNEMC site file, in file order: the six
//! measured 1-hour values and the network's own derived rows, kept apart so
//! lantian's results can be compared with what the network published.

use lantian_core::Pollutant;

// Variant names mirror the CNEMC `type` names (PM2.5_24h, O3_8h_24h).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Aqi,
    Pm25,
    Pm25_24h,
    Pm10,
    Pm10_24h,
    So2,
    So2_24h,
    No2,
    No2_24h,
    O3,
    O3_24h,
    O3_8h,
    O3_8h_24h,
    Co,
    Co_24h,
}

pub const N_KINDS: usize = 15;

impl Kind {
    pub const ALL: [Kind; N_KINDS] = [
        Kind::Aqi,
        Kind::Pm25,
        Kind::Pm25_24h,
        Kind::Pm10,
        Kind::Pm10_24h,
        Kind::So2,
        Kind::So2_24h,
        Kind::No2,
        Kind::No2_24h,
        Kind::O3,
        Kind::O3_24h,
        Kind::O3_8h,
        Kind::O3_8h_24h,
        Kind::Co,
        Kind::Co_24h,
    ];

    pub fn idx(self) -> usize {
        self as usize
    }

    /// The `type` cell of a CNEMC file.
    pub fn cnemc_name(self) -> &'static str {
        [
            "AQI",
            "PM2.5",
            "PM2.5_24h",
            "PM10",
            "PM10_24h",
            "SO2",
            "SO2_24h",
            "NO2",
            "NO2_24h",
            "O3",
            "O3_24h",
            "O3_8h",
            "O3_8h_24h",
            "CO",
            "CO_24h",
        ][self.idx()]
    }

    /// Column name in the store and in long CSV input.
    pub fn column(self) -> &'static str {
        [
            "aqi",
            "pm25",
            "pm25_24h",
            "pm10",
            "pm10_24h",
            "so2",
            "so2_24h",
            "no2",
            "no2_24h",
            "o3",
            "o3_24h",
            "o3_8h",
            "o3_8h_24h",
            "co",
            "co_24h",
        ][self.idx()]
    }

    pub fn parse(name: &str) -> Option<Kind> {
        let t = name.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.cnemc_name() == t || k.column().eq_ignore_ascii_case(t))
            .or_else(|| Pollutant::parse(t).map(Kind::measured))
    }

    /// The measured 1-hour series of a pollutant.
    pub fn measured(p: Pollutant) -> Kind {
        match p {
            Pollutant::So2 => Kind::So2,
            Pollutant::No2 => Kind::No2,
            Pollutant::Pm10 => Kind::Pm10,
            Pollutant::Co => Kind::Co,
            Pollutant::O3 => Kind::O3,
            Pollutant::Pm25 => Kind::Pm25,
        }
    }

    /// Published by the network rather than measured.
    pub fn is_published(self) -> bool {
        !matches!(self, Kind::Pm25 | Kind::Pm10 | Kind::So2 | Kind::No2 | Kind::O3 | Kind::Co)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.cnemc_name()), Some(k));
            assert_eq!(Kind::parse(k.column()), Some(k));
        }
        assert_eq!(Kind::parse("pm2_5"), Some(Kind::Pm25));
        assert_eq!(Kind::parse("NOx"), None);
        assert_eq!(Kind::ALL.iter().filter(|k| !k.is_published()).count(), 6);
    }
}
