//! Areas besides cities: regions (sets of cities) and counties/districts
//! (sets of stations) in a TOML file (`areas.toml` in the data directory,
//! else Sichuan's default regions; county station lists are the province's
//! to supply, the public station list does not carry them).

use crate::{Error, Result};
use serde::Deserialize;
use std::path::Path;

const SICHUAN: &str = include_str!("../config/areas-sichuan.toml");

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub name: String,
    pub cities: Vec<String>,
}

/// A county or district (县、市、区) as a set of monitoring stations.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct County {
    pub name: String,
    /// The city it belongs to, for display.
    pub city: Option<String>,
    pub stations: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Areas {
    /// The province's cities in the order documents list them (others follow by name).
    #[serde(default)]
    pub cities: Vec<String>,
    #[serde(default)]
    pub region: Vec<Region>,
    #[serde(default)]
    pub county: Vec<County>,
    /// Named groups of cities reported together (e.g. 重点城市); none built in.
    #[serde(default)]
    pub group: Vec<Region>,
    /// GB/T 2260 codes of the cities (city → code, e.g. 成都 = "510100"):
    /// how imported outlines are matched when their names differ.
    #[serde(default)]
    pub codes: std::collections::BTreeMap<String, String>,
}

impl Areas {
    /// `DATA/areas.toml` if present, else the Sichuan default.
    pub fn load(data_dir: &Path) -> Result<Areas> {
        let path = data_dir.join("areas.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Areas::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Areas::parse(SICHUAN, "areas-sichuan.toml (built in)")
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Parse, naming the file, line and field of any error.
    pub fn parse(text: &str, origin: &str) -> Result<Areas> {
        let mut areas: Areas = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| 1 + text[..s.start.min(text.len())].matches('\n').count());
            let at = line.map(|l| format!(" line {l}")).unwrap_or_default();
            Error::Input(format!("{origin}{at}: {}", e.message()))
        })?;
        areas.cities = areas.cities.iter().map(|c| crate::canonical_city(c)).collect();
        areas.codes =
            std::mem::take(&mut areas.codes).into_iter().map(|(c, v)| (crate::canonical_city(&c), v)).collect();
        for r in areas.region.iter_mut().chain(areas.group.iter_mut()) {
            r.cities = r.cities.iter().map(|c| crate::canonical_city(c)).collect();
        }
        Ok(areas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sichuan_default_covers_21_cities_once() {
        let a = Areas::parse(SICHUAN, "default").unwrap();
        let mut all: Vec<&String> = a.region.iter().flat_map(|r| &r.cities).collect();
        assert_eq!(all.len(), 21);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 21);
        assert_eq!(a.region[0].name, "成都平原地区");
        // Every city has its GB/T 2260 code, under its canonical name.
        assert_eq!(a.codes.len(), 21);
        assert_eq!(a.codes["阿坝州"], "513200");
        assert!(a.cities.iter().all(|c| a.codes.contains_key(c)));
    }

    #[test]
    fn counties_are_station_sets() {
        let a = Areas::parse(
            "[[county]]\nname = \"锦江区\"\ncity = \"成都\"\nstations = [\"1431A\", \"1432A\"]\n",
            "a.toml",
        )
        .unwrap();
        assert_eq!(a.county[0].stations.len(), 2);
        assert!(a.region.is_empty());
    }

    #[test]
    fn errors_name_line_and_field() {
        let err = Areas::parse("[[region]]\nname = \"x\"\ncitys = [\"成都\"]\n", "areas.toml").unwrap_err().to_string();
        assert!(err.starts_with("areas.toml line 3"), "{err}");
        assert!(err.contains("citys"), "{err}");
    }
}
