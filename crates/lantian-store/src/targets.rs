//! Annual targets per area (TOML): `DATA/targets.toml`, written by
//! `lantian target import`, read by `lantian target check`.

use crate::{Error, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub area: String,
    pub year: i16,
    /// Annual PM2.5 mean, μg/m³ (≤).
    pub pm25: Option<f64>,
    /// Annual PM10 mean, μg/m³ (≤).
    pub pm10: Option<f64>,
    /// Good-day ratio, % (≥).
    pub good_ratio: Option<f64>,
    /// Heavy-pollution days (≤).
    pub heavy_days: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub target: Vec<Target>,
}

impl Targets {
    /// Parse and check, naming the file, line and field of any error.
    pub fn parse(text: &str, origin: &str) -> Result<Targets> {
        let line_of = |pos: usize| 1 + text[..pos.min(text.len())].matches('\n').count();
        let mut t: Targets = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| format!(" line {}", line_of(s.start))).unwrap_or_default();
            Error::Input(format!("{origin}{at}: {}", e.message()))
        })?;
        for (i, tg) in t.target.iter_mut().enumerate() {
            let bad = |field: &str, why: &str| {
                Error::Input(format!("{origin}: target {} ({}), field {field}: {why}", i + 1, tg.area))
            };
            if !(2000..=2100).contains(&tg.year) {
                return Err(bad("year", "expected a year between 2000 and 2100"));
            }
            for (field, v) in [("pm25", tg.pm25), ("pm10", tg.pm10)] {
                if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                    return Err(bad(field, "expected a positive concentration"));
                }
            }
            if tg.good_ratio.is_some_and(|g| !(0.0..=100.0).contains(&g)) {
                return Err(bad("good_ratio", "expected a percentage 0..100"));
            }
            if tg.pm25.is_none() && tg.pm10.is_none() && tg.good_ratio.is_none() && tg.heavy_days.is_none() {
                return Err(bad("pm25", "a target needs at least one of pm25, pm10, good_ratio, heavy_days"));
            }
            tg.area = crate::canonical_city(&tg.area);
        }
        Ok(t)
    }

    pub fn load(path: &Path) -> Result<Targets> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Targets::parse(&text, &path.display().to_string())
    }

    /// Check `src` and install it as `DATA/targets.toml` (atomic rename;
    /// nothing is written when the file is bad).
    pub fn import(src: &Path, data_dir: &Path) -> Result<Targets> {
        let text = std::fs::read_to_string(src).map_err(|e| Error::io(src, e))?;
        let t = Targets::parse(&text, &src.display().to_string())?;
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let tmp = data_dir.join("targets.toml.tmp");
        crate::store::write_synced(&tmp, text.as_bytes())?;
        let dst = data_dir.join("targets.toml");
        std::fs::rename(&tmp, &dst).map_err(|e| Error::io(&dst, e))?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_errors() {
        let t = Targets::parse("[[target]]\narea = \"成都市\"\nyear = 2019\npm25 = 40\n", "t.toml").unwrap();
        assert_eq!(t.target[0].area, "成都");
        let e =
            Targets::parse("[[target]]\narea = \"成都\"\nyear = 2019\npm2_5 = 40\n", "t.toml").unwrap_err().to_string();
        assert!(e.starts_with("t.toml line 4") && e.contains("pm2_5"), "{e}");
        let e = Targets::parse("[[target]]\narea = \"成都\"\nyear = 2019\ngood_ratio = 180\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field good_ratio"), "{e}");
        let e =
            Targets::parse("[[target]]\narea = \"成都\"\nyear = 19\npm25 = 40\n", "t.toml").unwrap_err().to_string();
        assert!(e.contains("field year"), "{e}");
    }
}
