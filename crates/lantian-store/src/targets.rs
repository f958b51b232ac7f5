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
    /// Normalised-control targets (常态化管控目标): year-to-date PM2.5
    /// (January to the month's end, ≤) by month number "1".."12".
    #[serde(default)]
    pub pm25_ytd: std::collections::BTreeMap<String, f64>,
}

impl Target {
    /// The year-to-date PM2.5 target of a month, if set.
    pub fn pm25_ytd_for(&self, month: i8) -> Option<f64> {
        self.pm25_ytd.get(&month.to_string()).copied()
    }
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
            for (m, v) in &tg.pm25_ytd {
                if !m.parse::<i8>().is_ok_and(|m| (1..=12).contains(&m)) {
                    return Err(bad("pm25_ytd", &format!("month '{m}': expected 1..12")));
                }
                if !(v.is_finite() && *v > 0.0) {
                    return Err(bad("pm25_ytd", "expected a positive concentration"));
                }
            }
            if tg.pm25.is_none()
                && tg.pm10.is_none()
                && tg.good_ratio.is_none()
                && tg.heavy_days.is_none()
                && tg.pm25_ytd.is_empty()
            {
                return Err(bad("pm25", "a target needs at least one of pm25, pm10, good_ratio, heavy_days, pm25_ytd"));
            }
            tg.area = crate::canonical_city(&tg.area);
        }
        Ok(t)
    }

    pub fn load(path: &Path) -> Result<Targets> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Targets::parse_any(path, &text)
    }

    /// TOML, or CSV when the file name ends in `.csv`.
    fn parse_any(path: &Path, text: &str) -> Result<Targets> {
        let origin = path.display().to_string();
        if origin.ends_with(".csv") { Targets::parse_csv(text, &origin) } else { Targets::parse(text, &origin) }
    }

    /// CSV with a header: `area,year` and any of `pm25,pm10,good_ratio,
    /// heavy_days,pm25_ytd_1 … pm25_ytd_12`; empty cells mean no target.
    pub fn parse_csv(text: &str, origin: &str) -> Result<Targets> {
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::Input(format!("{origin}: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for h in &header {
            let known = matches!(h.as_str(), "area" | "year" | "pm25" | "pm10" | "good_ratio" | "heavy_days")
                || h.strip_prefix("pm25_ytd_").is_some_and(|m| m.parse::<i8>().is_ok_and(|m| (1..=12).contains(&m)));
            if !known {
                return Err(Error::Input(format!("{origin} line 1: unknown column '{h}'")));
            }
        }
        let mut toml = String::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::Input(format!("{origin} line {line}: {e}")))?;
            toml.push_str("[[target]]\n");
            let mut ytd = Vec::new();
            for (h, v) in header.iter().zip(rec.iter()) {
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                let number = || {
                    v.parse::<f64>()
                        .map_err(|_| Error::Input(format!("{origin} line {line}, field {h}: '{v}' is not a number")))
                };
                match h.as_str() {
                    "area" => toml.push_str(&format!("area = {}\n", toml_string(v))),
                    "year" | "heavy_days" => toml.push_str(&format!("{h} = {}\n", number()? as i64)),
                    "pm25" | "pm10" | "good_ratio" => toml.push_str(&format!("{h} = {:?}\n", number()?)),
                    ytd_col => ytd.push(format!("\"{}\" = {:?}", &ytd_col[9..], number()?)),
                }
            }
            if !ytd.is_empty() {
                toml.push_str(&format!("pm25_ytd = {{ {} }}\n", ytd.join(", ")));
            }
        }
        Targets::parse(&toml, origin)
    }

    /// Check `src` and install it as `DATA/targets.toml` (atomic rename;
    /// nothing is written when the file is bad).
    pub fn import(src: &Path, data_dir: &Path) -> Result<Targets> {
        let text = std::fs::read_to_string(src).map_err(|e| Error::io(src, e))?;
        let t = Targets::parse_any(src, &text)?;
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        // Installed as TOML whatever the input was.
        let tmp = data_dir.join("targets.toml.tmp");
        let body = if src.display().to_string().ends_with(".csv") { to_toml(&t) } else { text };
        crate::store::write_synced(&tmp, body.as_bytes())?;
        let dst = data_dir.join("targets.toml");
        std::fs::rename(&tmp, &dst).map_err(|e| Error::io(&dst, e))?;
        Ok(t)
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn to_toml(t: &Targets) -> String {
    let mut out = String::new();
    for tg in &t.target {
        out.push_str(&format!("[[target]]\narea = {}\nyear = {}\n", toml_string(&tg.area), tg.year));
        for (k, v) in [("pm25", tg.pm25), ("pm10", tg.pm10), ("good_ratio", tg.good_ratio)] {
            if let Some(v) = v {
                out.push_str(&format!("{k} = {v:?}\n"));
            }
        }
        if let Some(h) = tg.heavy_days {
            out.push_str(&format!("heavy_days = {h}\n"));
        }
        if !tg.pm25_ytd.is_empty() {
            let kv: Vec<String> = tg.pm25_ytd.iter().map(|(m, v)| format!("\"{m}\" = {v:?}")).collect();
            out.push_str(&format!("pm25_ytd = {{ {} }}\n", kv.join(", ")));
        }
        out.push('\n');
    }
    out
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
        let e = Targets::parse("[[target]]\narea = \"成都\"\nyear = 2019\npm25_ytd = { 13 = 40 }\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field pm25_ytd"), "{e}");
    }

    #[test]
    fn csv_targets() {
        let t = Targets::parse_csv(
            "area,year,pm25,good_ratio,heavy_days,pm25_ytd_7\n成都,2019,44,80,5,46\n宜宾,2019,45,,,\n",
            "t.csv",
        )
        .unwrap();
        assert_eq!(t.target.len(), 2);
        assert_eq!(
            (t.target[0].pm25, t.target[0].good_ratio, t.target[0].heavy_days),
            (Some(44.0), Some(80.0), Some(5))
        );
        assert_eq!(t.target[0].pm25_ytd_for(7), Some(46.0));
        assert_eq!(t.target[1].good_ratio, None);
        let back = Targets::parse(&to_toml(&t), "round trip").unwrap();
        assert_eq!(back, t);
        let e = Targets::parse_csv("area,year,pm25\n成都,2019,abc\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("t.csv line 2, field pm25"), "{e}");
        let e = Targets::parse_csv("area,year,pm2.5\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("pm2.5"), "{e}");
    }
}
