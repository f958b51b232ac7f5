//! Deduction events as people handle them: import a file of them, add one,
//! list them, withdraw one with a reason, accept a detected candidate; and
//! `detect`, which proposes sand-dust periods from the data for a person to
//! accept or withdraw (a candidate never applies by itself).

use crate::table::{Cell, Col, Table};
use crate::{Ctx, View};
use anyhow::{Context, Result};
use lantian_core::Pollutant;
use lantian_core::aqi::{HourlyInput, hourly_aqi};
use lantian_core::time::{DayNumber, HourLabel, format_label};
use lantian_store::events::{self, Event, EventKind, NewEvent, show_range};
use lantian_store::query::{Reader, city_stations, month_chunks};
use lantian_store::{Kind, Store};
use std::collections::BTreeMap;
use std::path::Path;

/// The canonical name of a city the store knows (its stations or its
/// published city values), for checking an event's city.
pub fn known_city(store: &Store) -> Result<impl Fn(&str) -> Option<String> + use<>> {
    let mut known: std::collections::BTreeSet<String> = city_stations(store).into_keys().collect();
    known.extend(store.city_daily()?.into_iter().map(|r| r.city));
    known.extend(store.stations().iter().map(|s| s.city.clone()));
    Ok(move |name: &str| {
        let c = lantian_store::canonical_city(name);
        known.contains(&c).then_some(c)
    })
}

/// Import an event file (all or none); the new ids.
pub fn import_file(ctx: &Ctx, path: &Path, who: &str) -> Result<Vec<i64>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let known = known_city(&ctx.store()?)?;
    let list = events::read_csv(&path.display().to_string(), &text, &known)?;
    let mut ledger = ctx.ledger()?;
    Ok(events::add(ledger.db(), &list, who)?)
}

/// Add one event; its id.
pub fn add(ctx: &Ctx, e: NewEvent, who: &str) -> Result<i64> {
    let known = known_city(&ctx.store()?)?;
    let city = known(&e.city).ok_or_else(|| anyhow::anyhow!("city: unknown city {:?}", e.city))?;
    if e.end < e.start {
        anyhow::bail!("end: before the start");
    }
    let mut ledger = ctx.ledger()?;
    Ok(events::add(ledger.db(), &[NewEvent { city, ..e }], who)?.first().copied().unwrap_or_default())
}

/// Events as a table.
pub fn events_table(list: &[Event], view: View) -> Table {
    let mut t = Table::new(vec![
        Col("id", "编号", "ID"),
        Col("city", "城市", "City"),
        Col("start", "开始", "Start"),
        Col("end", "结束", "End"),
        Col("kind", "类型", "Kind"),
        Col("status", "状态", "Status"),
        Col("reference", "依据", "Reference"),
        Col("note", "说明", "Note"),
        Col("created_by", "录入人", "Entered by"),
        Col("reason", "撤销原因", "Withdrawal reason"),
    ]);
    for e in list {
        let (a, b) = show_range(e.start, e.end);
        let status = match (view.words(), e.status.as_str()) {
            (true, "active") => "生效",
            (true, "candidate") => "待确认",
            (true, "withdrawn") => "已撤销",
            (_, s) => s,
        };
        t.push(vec![
            Cell::Int(e.id),
            Cell::text(&e.city),
            Cell::text(a),
            Cell::text(b),
            Cell::text(if view.words() { e.kind.zh() } else { e.kind.key() }),
            Cell::text(status),
            Cell::text(&e.reference),
            Cell::text(&e.note),
            Cell::text(&e.created_by),
            Cell::text(e.reason.clone().unwrap_or_default()),
        ]);
    }
    t
}

/// Thresholds of `detect` (a TOML file may set any of them). Defaults from
/// the literature collected in the standards notes: PM10 the only primary
/// pollutant with a low PM2.5/PM10 ratio (Shaanxi centre with CNEMC, MDPI
/// Atmosphere 13:1720, 2022), at the values of a 2024 clustering study
/// (气候与环境研究 29(2):178: PM2.5/PM10 under 0.435 with PM10 above 228),
/// in at least three cities within 500 km at once. On the national 2019
/// year they find every independently dated episode (docs/STANDARDS.md).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// A station-hour is dusty with at least this PM10 (μg/m³)…
    pub pm10_min: f64,
    /// …a PM2.5/PM10 ratio at most this…
    pub ratio_max: f64,
    /// …and PM10 the only primary pollutant of its hourly AQI.
    pub pm10_sole_primary: bool,
    /// A city-hour is dusty when at least this share of its reporting stations are…
    pub station_share: f64,
    /// …and at least this many of them.
    pub min_stations: usize,
    /// Dusty city-hours join into one period across gaps up to this many hours.
    pub gap_hours: i64,
    /// A period needs at least this many dusty hours.
    pub min_hours: usize,
    /// A period needs at least this many cities (itself included) with an
    /// overlapping period within `radius_km`: dust travels over regions.
    pub min_cities: usize,
    pub radius_km: f64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            pm10_min: 228.0,
            ratio_max: 0.435,
            pm10_sole_primary: true,
            station_share: 0.5,
            min_stations: 1,
            gap_hours: 3,
            min_hours: 3,
            min_cities: 3,
            radius_km: 500.0,
        }
    }
}

impl DetectConfig {
    /// `file`, else DATA/dust-detect.toml, else the defaults.
    pub fn load(ctx: &Ctx, file: Option<&Path>) -> Result<DetectConfig> {
        let path = file.map(Path::to_path_buf).unwrap_or_else(|| ctx.data.join("dust-detect.toml"));
        if file.is_none() && !path.exists() {
            return Ok(DetectConfig::default());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))
    }
}

/// A proposed sand-dust period of a city.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub city: String,
    pub start: HourLabel,
    pub end: HourLabel,
    /// Dusty hours in the period.
    pub hours: usize,
    /// Highest city-hour PM10 (mean of the dusty stations).
    pub pm10_max: f64,
    /// Mean PM2.5/PM10 ratio of the dusty station-hours.
    pub ratio_mean: f64,
    /// Largest share of the city's reporting stations dusty at once.
    pub station_share_max: f64,
    /// Other cities with an overlapping period nearby.
    pub with: Vec<String>,
}

/// Propose sand-dust periods over days `from..=to` from the hourly data:
/// pure over the store's hours, nothing written.
pub fn detect(store: &Store, from: DayNumber, to: DayNumber, cfg: &DetectConfig) -> Result<Vec<Candidate>> {
    let members = city_stations(store);
    let city_of: BTreeMap<&str, &str> =
        members.iter().flat_map(|(c, ss)| ss.iter().map(move |s| (s.as_str(), c.as_str()))).collect();
    // Each city's place: the mean of its stations' coordinates.
    let place: BTreeMap<&str, (f64, f64)> = members
        .iter()
        .filter_map(|(c, ss)| {
            let pts: Vec<(f64, f64)> =
                ss.iter().filter_map(|s| store.station(s)).filter_map(|s| Some((s.lon?, s.lat?))).collect();
            (!pts.is_empty()).then(|| {
                let n = pts.len() as f64;
                (c.as_str(), (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n))
            })
        })
        .collect();
    let kinds: Vec<Kind> = Pollutant::ALL.iter().map(|p| Kind::measured(*p)).collect();
    let k = |p: Pollutant| Pollutant::ALL.iter().position(|x| *x == p).expect("pollutant");
    let (i10, i25) = (k(Pollutant::Pm10), k(Pollutant::Pm25));
    let mut reader = Reader::new(store, &kinds, None);
    // Per city: (label, dusty station-hours, reporting station-hours, PM10 sum, ratio sum).
    type Tally = (u32, u32, f64, f64);
    let mut per_city: BTreeMap<&str, BTreeMap<HourLabel, Tally>> = BTreeMap::new();
    for (d0, d1) in month_chunks(from, to) {
        let dense = reader.range(d0 * 24 + 1, d1 * 24 + 24)?;
        for (i, st) in dense.stations.iter().enumerate() {
            let Some(city) = city_of.get(st.as_str()).copied() else { continue };
            let series: Vec<&[f64]> = kinds.iter().map(|kind| dense.series(i, *kind)).collect();
            for off in (0..dense.len).filter(|&o| !series[i10][o].is_nan()) {
                let v = |j: usize| Some(series[j][off]).filter(|x| !x.is_nan());
                let (Some(pm10), Some(pm25)) = (v(i10), v(i25)) else { continue };
                let label = dense.start + off as i64;
                let e = per_city.entry(city).or_default().entry(label).or_default();
                e.1 += 1;
                if pm10 < cfg.pm10_min || pm25 / pm10 > cfg.ratio_max {
                    continue;
                }
                if cfg.pm10_sole_primary {
                    let input = HourlyInput {
                        so2: v(k(Pollutant::So2)),
                        no2: v(k(Pollutant::No2)),
                        pm10: Some(pm10),
                        co: v(k(Pollutant::Co)),
                        o3: v(k(Pollutant::O3)),
                        pm25: Some(pm25),
                        so2_24h: None,
                    };
                    let day = lantian_core::time::day_of_label(label);
                    let r = hourly_aqi(crate::edition_for(None, day), &input);
                    if r.primary_label() != "PM10" {
                        continue;
                    }
                }
                e.0 += 1;
                e.2 += pm10;
                e.3 += pm25 / pm10;
            }
        }
    }
    // Dusty city-hours joined into periods.
    let mut periods: Vec<Candidate> = Vec::new();
    for (city, hours) in &per_city {
        let mut run: Option<Candidate> = None;
        let mut ratio_sum = 0.0;
        let mut dusty_station_hours = 0u32;
        let mut close = |run: &mut Option<Candidate>, ratio_sum: &mut f64, n: &mut u32| {
            if let Some(mut c) = run.take()
                && c.hours >= cfg.min_hours
            {
                c.ratio_mean = *ratio_sum / f64::from((*n).max(1));
                periods.push(c);
            }
            (*ratio_sum, *n) = (0.0, 0);
        };
        for (&label, &(dusty, reporting, pm10_sum, ratios)) in hours {
            let share = f64::from(dusty) / f64::from(reporting.max(1));
            let is_dusty = dusty as usize >= cfg.min_stations && share >= cfg.station_share;
            if !is_dusty {
                continue;
            }
            if run.as_ref().is_some_and(|r| label - r.end > cfg.gap_hours + 1) {
                close(&mut run, &mut ratio_sum, &mut dusty_station_hours);
            }
            let pm10 = pm10_sum / f64::from(dusty);
            let r = run.get_or_insert_with(|| Candidate {
                city: city.to_string(),
                start: label,
                end: label,
                hours: 0,
                pm10_max: 0.0,
                ratio_mean: 0.0,
                station_share_max: 0.0,
                with: Vec::new(),
            });
            r.end = label;
            r.hours += 1;
            r.pm10_max = r.pm10_max.max(pm10);
            r.station_share_max = r.station_share_max.max(share);
            ratio_sum += ratios;
            dusty_station_hours += dusty;
        }
        close(&mut run, &mut ratio_sum, &mut dusty_station_hours);
    }
    // Dust is regional: keep periods another city nearby shares.
    let near = |a: &str, b: &str| match (place.get(a), place.get(b)) {
        (Some(p), Some(q)) => distance_km(*p, *q) <= cfg.radius_km,
        _ => false,
    };
    let snapshot = periods.clone();
    for p in &mut periods {
        p.with = snapshot
            .iter()
            .filter(|o| o.city != p.city && o.start <= p.end && p.start <= o.end && near(&o.city, &p.city))
            .map(|o| o.city.clone())
            .collect();
        p.with.sort();
        p.with.dedup();
    }
    periods.retain(|p| p.with.len() + 1 >= cfg.min_cities);
    periods.sort_by(|a, b| (a.start, &a.city).cmp(&(b.start, &b.city)));
    Ok(periods)
}

/// Great-circle distance between (longitude, latitude) points, km.
pub(crate) fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dl = (b.0 - a.0).to_radians();
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Record the candidates of `detect` (those an existing event does not
/// already cover); their ids.
pub fn propose(ctx: &Ctx, found: &[Candidate], who: &str) -> Result<Vec<i64>> {
    let list: Vec<(NewEvent, String)> = found
        .iter()
        .map(|c| {
            let e = NewEvent {
                city: c.city.clone(),
                start: c.start,
                end: c.end,
                kind: EventKind::SandDust,
                reference: "lantian event detect".into(),
                note: format!(
                    "PM10 max {:.0}, PM2.5/PM10 {:.2}, {} dusty hours, with {}",
                    c.pm10_max,
                    c.ratio_mean,
                    c.hours,
                    c.with.join("、")
                ),
            };
            (e, serde_json::to_string(c).unwrap_or_default())
        })
        .collect();
    let mut ledger = ctx.ledger()?;
    Ok(events::propose(ledger.db(), &list, who)?)
}

/// Candidates as a table.
pub fn candidates_table(found: &[Candidate]) -> Table {
    let mut t = Table::new(vec![
        Col("city", "城市", "City"),
        Col("start", "开始", "Start"),
        Col("end", "结束", "End"),
        Col("hours", "沙尘小时数", "Dusty hours"),
        Col("pm10_max", "PM10最高", "PM10 max"),
        Col("ratio_mean", "PM2.5/PM10均值", "PM2.5/PM10 mean"),
        Col("station_share_max", "站点比例最高", "Station share max"),
        Col("with", "同期城市", "Cities at the same time"),
    ]);
    for c in found {
        t.push(vec![
            Cell::text(&c.city),
            Cell::text(format_label(c.start)),
            Cell::text(format_label(c.end)),
            Cell::Int(c.hours as i64),
            Cell::Num(c.pm10_max, 0),
            Cell::Num(c.ratio_mean, 2),
            Cell::Num(c.station_share_max, 2),
            Cell::text(c.with.join("、")),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four cities: three within 300 km under a dust process (PM10 400,
    /// PM2.5 80), one 1,500 km away with the same readings at the same time
    /// (alone: not regional), and a haze day (PM2.5/PM10 0.8) in all four.
    #[test]
    fn dust_is_regional_coarse_and_pm10_led() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        let mut list = String::from("监测点编码,监测点名称,城市,经度,纬度,对照点\n");
        let cities = [("A", 103.0, 36.0), ("B", 104.0, 36.5), ("C", 105.0, 37.0), ("D", 120.0, 30.0)];
        for (i, (c, lon, lat)) in cities.iter().enumerate() {
            list.push_str(&format!("{i}001A,s,{c},{lon},{lat},N\n"));
        }
        std::fs::write(input.join("stations.csv"), list).unwrap();
        let mut long = String::from("station,time,pollutant,value\n");
        for (i, _) in cities.iter().enumerate() {
            for h in 1..=24 {
                // 2019-04-10: dust from 08:00 to 14:00; 2019-04-12: haze all day.
                let dust = (8..=14).contains(&h);
                let (pm10, pm25) = if dust { (400, 80) } else { (60, 30) };
                for (p, v) in [("pm10", pm10), ("pm25", pm25), ("so2", 10), ("no2", 30), ("co", 1), ("o3", 60)] {
                    long.push_str(&format!("{i}001A,2019-04-10T{h:02}:00,{p},{v}\n"));
                }
                for (p, v) in [("pm10", 250), ("pm25", 200), ("so2", 10), ("no2", 30), ("co", 1), ("o3", 60)] {
                    long.push_str(&format!("{i}001A,2019-04-12T{h:02}:00,{p},{v}\n"));
                }
            }
        }
        std::fs::write(input.join("hours.csv"), long).unwrap();
        let data = dir.path().join("data");
        lantian_store::import(&data, &[input], None).unwrap();
        let store = Store::open(&data).unwrap();
        let d = |day: i8| lantian_core::time::day_number(jiff::civil::date(2019, 4, day));
        let found = detect(&store, d(9), d(13), &DetectConfig::default()).unwrap();
        let names: Vec<&str> = found.iter().map(|c| c.city.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"], "{found:?}");
        let a = &found[0];
        // Labels 08:00..14:00 of April 10.
        assert_eq!((a.start, a.end, a.hours), (d(10) * 24 + 8, d(10) * 24 + 14, 7));
        assert_eq!(a.pm10_max, 400.0);
        assert!((a.ratio_mean - 0.2).abs() < 1e-9);
        assert_eq!(a.with, ["B", "C"]);
        // Two cities are not enough for three; a wide radius brings D in.
        let strict = DetectConfig { min_cities: 4, ..DetectConfig::default() };
        assert!(detect(&store, d(9), d(13), &strict).unwrap().is_empty());
        let wide = DetectConfig { radius_km: 3000.0, ..DetectConfig::default() };
        assert_eq!(detect(&store, d(9), d(13), &wide).unwrap().len(), 4);
    }
}
