//! The station list (监测点编码,监测点名称,城市,经度,纬度,对照点) and city names.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub code: String,
    pub name: String,
    /// Canonical city name (see [`canonical_city`]).
    pub city: String,
    /// The city as written in the list.
    pub city_raw: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Control / background station (对照点): excluded from city values.
    pub control: bool,
}

/// One canonical name per city, whatever edition of a list or file wrote:
/// "成都市" → "成都", "阿坝藏族羌族自治州" → "阿坝州". Autonomous
/// prefectures keep the short form Sichuan's notices use (first two
/// characters + 州); the three in Sichuan are covered, and the rule holds for
/// most others (exceptions such as 黔东南 need an alias when other provinces
/// are loaded).
pub fn canonical_city(raw: &str) -> String {
    let name = raw.trim();
    if let Some(stem) = name.strip_suffix("自治州") {
        let head: String = stem.chars().take(2).collect();
        return format!("{head}州");
    }
    if let Some(stem) = name.strip_suffix('市')
        && stem.chars().count() >= 2
    {
        return stem.to_string();
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sichuan_names() {
        assert_eq!(canonical_city("成都"), "成都");
        assert_eq!(canonical_city("成都市"), "成都");
        assert_eq!(canonical_city("阿坝藏族羌族自治州"), "阿坝州");
        assert_eq!(canonical_city("甘孜藏族自治州"), "甘孜州");
        assert_eq!(canonical_city("甘孜州"), "甘孜州");
        assert_eq!(canonical_city("凉山彝族自治州"), "凉山州");
        assert_eq!(canonical_city("凉山州"), "凉山州");
    }
}
