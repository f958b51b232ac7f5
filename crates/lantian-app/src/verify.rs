//! Recompute hourly AQI, daily values, 8-hour O3 and city daily values
//! from the store's hours and compare them with the network's own published
//! values (`lantian verify`).

use crate::edition_for;
use crate::table::{Cell, Col, Table};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::Pollutant;
use lantian_core::aqi::{HourlyInput, hourly_aqi};
use lantian_core::series::{CaptureRules, o3_8h_windows};
use lantian_core::time::{DayNumber, date_of, day_number, format_label};
use lantian_store::query::{Reader, city_stations, day_slots, month_chunks, station_days};
use lantian_store::{Kind, Store};
use std::collections::BTreeMap;

/// Agreement of one kind of recomputed value with the published one.
#[derive(Default, Clone)]
pub struct Agreement {
    pub checked: u64,
    pub agree: u64,
    /// Not decidable from the files (CO daily means exactly on a half).
    pub undecidable: u64,
    /// Mismatches where the network's own trailing 24-hour values for that
    /// day contradict the archive's hours: the network used hours the
    /// archive does not have (later corrections), so the archive cannot
    /// determine the day.
    pub explained: u64,
    pub mismatches: Vec<String>,
}

impl Agreement {
    fn record(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if ok {
            self.agree += 1;
        } else if self.mismatches.len() < 5 {
            self.mismatches.push(what());
        }
    }
}

pub const VERIFY_KINDS: [(&str, &str); 16] = [
    ("hourly_aqi", "hourly AQI, station-hours with all six 1-hour values"),
    ("hourly_aqi_incomplete", "hourly AQI, station-hours with some value missing (informative)"),
    ("daily_pm25", "PM2.5 daily mean, station-days with 24 hours"),
    ("daily_pm10", "PM10 daily mean, station-days with 24 hours"),
    ("daily_so2", "SO2 daily mean, station-days with 24 hours"),
    ("daily_no2", "NO2 daily mean, station-days with 24 hours"),
    ("daily_co", "CO daily mean, station-days with 24 hours"),
    ("o3_8h", "O3 8-hour moving mean, windows with all hours (informative)"),
    ("o3_mda8", "O3 MDA8, station-days with 24 hours (informative)"),
    ("o3_1h_max", "O3 daily max 1-hour, station-days with 24 hours (informative)"),
    ("city_pm25", "city PM2.5 daily value vs published city daily, days every station has 24 hours"),
    ("city_pm10", "city PM10 daily value vs published city daily, days every station has 24 hours"),
    ("city_so2", "city SO2 daily value vs published city daily, days every station has 24 hours"),
    ("city_no2", "city NO2 daily value vs published city daily, days every station has 24 hours"),
    ("city_co", "city CO daily value vs published (CO halves undecidable; informative)"),
    ("city_o3_8h", "city O3 MDA8 vs published city daily (informative)"),
];

/// Recompute and compare over `from..=to` (default: every month in the store).
pub fn verify_store(store: &Store, from: Option<Date>, to: Option<Date>) -> Result<Vec<Agreement>> {
    let months = store.months();
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        bail!("the store has no hourly data; run lantian import first")
    };
    let d0 = from.map_or_else(|| day_number(first.first_day()), day_number);
    let d1 = to.map_or_else(|| day_number(last.first_day().last_of_month()), day_number);
    let rules = CaptureRules::default();
    let mut acc: Vec<Agreement> = vec![Agreement::default(); VERIFY_KINDS.len()];
    let mut reader = Reader::new(store, &Kind::ALL, None);
    let daily_kinds = [
        (Pollutant::Pm25, Kind::Pm25_24h),
        (Pollutant::Pm10, Kind::Pm10_24h),
        (Pollutant::So2, Kind::So2_24h),
        (Pollutant::No2, Kind::No2_24h),
        (Pollutant::Co, Kind::Co_24h),
    ];
    for (c0, c1) in month_chunks(d0, d1) {
        // One day before the chunk too, for trailing 24-hour windows.
        let dense = reader.range(c0 * 24 - 23, c1 * 24 + 24)?;
        for (i, st) in dense.stations.iter().enumerate() {
            // Hourly AQI.
            let aqi_pub = dense.series(i, Kind::Aqi);
            let m: Vec<&[f64]> = Pollutant::ALL.iter().map(|p| dense.series(i, Kind::measured(*p))).collect();
            for off in 24..dense.len {
                let published = aqi_pub[off];
                if published.is_nan() {
                    continue;
                }
                let g = |k: usize| Some(m[k][off]).filter(|v| !v.is_nan());
                let input =
                    HourlyInput { so2: g(0), no2: g(1), pm10: g(2), co: g(3), o3: g(4), pm25: g(5), so2_24h: None };
                let l = dense.start + off as i64;
                let r = hourly_aqi(edition_for(None, lantian_core::time::day_of_label(l)), &input);
                let slot = if r.is_complete() { 0 } else { 1 };
                acc[slot].record(r.aqi.map(f64::from) == Some(published), || {
                    format!("{st} {}: published {published}, computed {:?}", format_label(l), r.aqi)
                });
            }
            for day in c0..=c1 {
                let close = (day * 24 + 24 - dense.start) as usize;
                for (k, (p, kind)) in daily_kinds.iter().enumerate() {
                    let published = dense.series(i, *kind)[close];
                    let hours = day_slots(&dense, i, Kind::measured(*p), day);
                    if published.is_nan() || hours.iter().any(|v| v.is_nan()) {
                        continue;
                    }
                    let mean = hours.iter().sum::<f64>() / 24.0;
                    let scaled = mean * 10f64.powi(p.decimals() as i32);
                    if *p == Pollutant::Co && ((scaled - scaled.floor()) - 0.5).abs() < 1e-9 {
                        acc[2 + k].undecidable += 1;
                        continue;
                    }
                    let computed = p.report(mean);
                    if computed != published && !rolling_consistent(&dense, i, *p, *kind, day) {
                        acc[2 + k].checked += 1;
                        acc[2 + k].explained += 1;
                        continue;
                    }
                    acc[2 + k].record(computed == published, || {
                        format!(
                            "{st} {}: published {published}, computed {computed} (mean {mean:.4})",
                            date_of(day).map(|d| d.to_string()).unwrap_or_default()
                        )
                    });
                }
                let o3 = day_slots(&dense, i, Kind::O3, day);
                let windows = o3_8h_windows(&o3, &rules);
                let pub8 = day_slots(&dense, i, Kind::O3_8h, day);
                for h in 0..24usize {
                    let start = h.saturating_sub(7);
                    if pub8[h].is_nan() || o3[start..=h].iter().any(|v| v.is_nan()) {
                        continue;
                    }
                    let computed = Pollutant::O3.report(windows[h]);
                    acc[7].record(computed == pub8[h], || {
                        format!(
                            "{st} {} label {}: published {}, computed {computed}",
                            date_of(day).map(|d| d.to_string()).unwrap_or_default(),
                            h + 1,
                            pub8[h]
                        )
                    });
                }
                if o3.iter().all(|v| !v.is_nan()) {
                    let date = date_of(day).map(|d| d.to_string()).unwrap_or_default();
                    let pub_mda8 = dense.series(i, Kind::O3_8h_24h)[close];
                    if !pub_mda8.is_nan() {
                        let computed = lantian_core::series::mda8(&o3, &rules).0.map(|v| Pollutant::O3.report(v));
                        acc[8].record(computed == Some(pub_mda8), || {
                            format!("{st} {date}: published {pub_mda8}, computed {computed:?}")
                        });
                    }
                    let pub_max = dense.series(i, Kind::O3_24h)[close];
                    if !pub_max.is_nan() {
                        let computed = o3.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        acc[9].record(computed == pub_max, || {
                            format!("{st} {date}: published {pub_max}, computed {computed}")
                        });
                    }
                }
            }
        }
    }
    verify_cities(store, d0, d1, &rules, &mut acc[10..])?;
    Ok(acc)
}

/// City daily values from stations against the published integer city daily
/// values, on the days the archive determines: every assessment station of
/// the city that reports in the period has all 24 hours of the pollutant.
fn verify_cities(
    store: &Store,
    d0: DayNumber,
    d1: DayNumber,
    rules: &CaptureRules,
    acc: &mut [Agreement],
) -> Result<()> {
    let published: BTreeMap<(String, DayNumber), lantian_store::city_daily::CityDay> = store
        .city_daily()?
        .into_iter()
        .filter(|r| r.source == "aqistudy-daily" && r.day >= d0 && r.day <= d1)
        .map(|r| ((r.city.clone(), r.day), r))
        .collect();
    let order = [Pollutant::Pm25, Pollutant::Pm10, Pollutant::So2, Pollutant::No2, Pollutant::Co, Pollutant::O3];
    for (city, members) in city_stations(store) {
        if !published.keys().any(|(c, _)| *c == city) {
            continue;
        }
        let mut by_day: BTreeMap<DayNumber, Vec<lantian_core::DailyValues>> = BTreeMap::new();
        let mut reporting: std::collections::BTreeSet<String> = Default::default();
        station_days(store, Some(&members), d0, d1, rules, |st, day, v| {
            reporting.insert(st.to_string());
            by_day.entry(day).or_default().push(*v);
        })?;
        for (day, vals) in by_day {
            let Some(pubd) = published.get(&(city.clone(), day)) else { continue };
            let area = lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), 1);
            for (slot, p) in order.iter().enumerate() {
                let k = Pollutant::ALL.iter().position(|x| x == p).expect("pollutant");
                if vals.len() != reporting.len() || vals.iter().any(|v| v.hours[k] != 24) {
                    continue;
                }
                let theirs = match p {
                    Pollutant::Pm25 => pubd.pm25,
                    Pollutant::Pm10 => pubd.pm10,
                    Pollutant::So2 => pubd.so2,
                    Pollutant::No2 => pubd.no2,
                    Pollutant::Co => pubd.co,
                    Pollutant::O3 => pubd.o3_8h,
                };
                let (Some(theirs), Some(ours)) = (theirs, area.get(*p)) else { continue };
                let ours = p.report(ours);
                let date = date_of(day).map(|d| d.to_string()).unwrap_or_default();
                acc[slot].record(ours == theirs, || format!("{city} {date}: published {theirs}, computed {ours}"));
            }
        }
    }
    Ok(())
}

/// Whether the network's trailing 24-hour means (`kind`) at the labels of
/// `day` agree with the archive's hours wherever a full window is present.
fn rolling_consistent(dense: &lantian_store::query::Dense, i: usize, p: Pollutant, kind: Kind, day: DayNumber) -> bool {
    let hours = dense.series(i, Kind::measured(p));
    let published = dense.series(i, kind);
    for l in day * 24 + 1..=day * 24 + 24 {
        let end = (l - dense.start) as usize;
        if end < 23 || published[end].is_nan() {
            continue;
        }
        let window = &hours[end - 23..=end];
        if window.iter().any(|v| v.is_nan()) {
            continue;
        }
        if p.report(window.iter().sum::<f64>() / 24.0) != published[end] {
            return false;
        }
    }
    true
}

/// The agreement table over `from..=to` (default: every month in the store).
pub fn verify_table(store: &Store, from: Option<Date>, to: Option<Date>) -> Result<Table> {
    let acc = verify_store(store, from, to)?;
    let mut t = Table::new(vec![
        Col("kind", "项目", "Kind"),
        Col("description", "说明", "Description"),
        Col("checked", "比对数", "Checked"),
        Col("agree", "一致数", "Agree"),
        Col("agree_pct", "一致率%(可判定)", "Agree % (determined)"),
        Col("undecidable", "无法判定", "Undecidable"),
        Col("source_revised", "源数据已修订", "Source revised"),
        Col("first_mismatches", "首批不一致", "First mismatches"),
    ]);
    for ((key, desc), a) in VERIFY_KINDS.iter().zip(&acc) {
        // Over the days the archive determines (source-revised days excluded).
        let determined = a.checked - a.explained;
        let pct = (determined > 0).then(|| 100.0 * a.agree as f64 / determined as f64);
        t.push(vec![
            Cell::text(*key),
            Cell::text(*desc),
            Cell::Int(a.checked as i64),
            Cell::Int(a.agree as i64),
            Cell::opt(pct, 3),
            Cell::Int(a.undecidable as i64),
            Cell::Int(a.explained as i64),
            Cell::text(a.mismatches.join("; ")),
        ]);
    }
    Ok(t)
}
