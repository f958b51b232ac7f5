//! The latest hour per station and city, with the data's age (`lantian
//! now`, the gateway's `/api/now`): the store's last months and the hourly
//! values still in the gateway's log.

use crate::Ctx;
use crate::table::{Cell, Col, Table};
use anyhow::{Result, bail};
use lantian_core::aqi::{HourlyInput, hourly_aqi};
use lantian_core::time::{HourLabel, day_of_label, format_label};
use lantian_core::{Edition, Pollutant};
use lantian_store::Kind;
use lantian_store::live::{LiveRecord, Source};
use std::collections::BTreeMap;

const POLLUTANTS: [Pollutant; 6] =
    [Pollutant::Pm25, Pollutant::Pm10, Pollutant::So2, Pollutant::No2, Pollutant::Co, Pollutant::O3];

/// An hour's six values (`POLLUTANTS` order) at its label.
type Hour = (HourLabel, [Option<f64>; 6]);

/// The newest hour of each station: from the store's last months and the
/// hourly values still in the gateway's log.
fn latest(ctx: &Ctx) -> Result<BTreeMap<String, Hour>> {
    let store = ctx.store()?;
    let mut out: BTreeMap<String, Hour> = BTreeMap::new();
    let kinds: Vec<Kind> = POLLUTANTS.iter().map(|p| Kind::measured(*p)).collect();
    let months = store.months();
    // The last two months hold every station's newest hour unless it stopped long ago.
    if let (Some(first), Some(last)) = (months.iter().rev().nth(1).or(months.last()), months.last()) {
        let (from, _) = first.label_range();
        let (start, n) = last.label_range();
        let mut reader = lantian_store::query::Reader::new(&store, &kinds, None);
        let dense = reader.range(from, start + n as i64 - 1)?;
        for (i, code) in dense.stations.iter().enumerate() {
            for off in (0..dense.len).rev() {
                let vals: [Option<f64>; 6] = std::array::from_fn(|k| {
                    let v = dense.series(i, kinds[k])[off];
                    (!v.is_nan()).then_some(v)
                });
                if vals.iter().any(Option::is_some) {
                    out.insert(code.clone(), (dense.start + off as i64, vals));
                    break;
                }
            }
        }
    }
    // Hourly values not yet folded into the store.
    for (_, path) in lantian_store::live::segments(&ctx.data)? {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for r in text.lines().filter_map(LiveRecord::parse) {
            if r.source != Source::Hourly || r.flag != 'N' {
                continue;
            }
            let Some(k) = POLLUTANTS.iter().position(|p| Kind::measured(*p) == r.kind) else { continue };
            let e = out.entry(r.station.clone()).or_insert((r.label(), [None; 6]));
            if r.label() > e.0 {
                *e = (r.label(), [None; 6]);
            }
            if r.label() == e.0 {
                e.1[k] = Some(r.value);
            }
        }
    }
    Ok(out)
}

fn aqi_row(label: HourLabel, v: &[Option<f64>; 6]) -> lantian_core::AqiReport {
    let r = |k: usize| v[k].map(|x| POLLUTANTS[k].report(x));
    let input = HourlyInput { pm25: r(0), pm10: r(1), so2: r(2), no2: r(3), co: r(4), o3: r(5), so2_24h: None };
    let edition = lantian_core::time::date_of(day_of_label(label)).map_or(Edition::E2026, Edition::for_date);
    hourly_aqi(edition, &input)
}

/// A city's latest hour: the newest hour any of its stations has, the mean
/// of the stations reporting it (values as reported, like a city day).
#[derive(Clone, Debug)]
pub struct CityHour {
    pub city: String,
    pub label: HourLabel,
    /// PM2.5, PM10, SO2, NO2, CO, O3 as reported.
    pub values: [Option<f64>; 6],
    pub aqi: lantian_core::AqiReport,
}

/// Each station's latest hour (control stations left out), with its name
/// and city, and each city's (see [`CityHour`]).
type Latest = (Vec<(String, String, String, Hour)>, Vec<CityHour>);

fn by_city(ctx: &Ctx, latest: BTreeMap<String, Hour>, city: Option<&str>) -> Result<Latest> {
    let store = ctx.store()?;
    let mut stations = Vec::new();
    let mut cities: BTreeMap<String, Vec<Hour>> = BTreeMap::new();
    for (code, hour) in latest {
        let st = store.station(&code);
        let c = st.map(|s| s.city.clone()).unwrap_or_default();
        if city.is_some_and(|x| lantian_store::canonical_city(x) != c) {
            continue;
        }
        if st.is_some_and(|s| s.control) {
            continue;
        }
        cities.entry(c.clone()).or_default().push(hour);
        stations.push((code, st.map(|s| s.name.clone()).unwrap_or_default(), c, hour));
    }
    let mut out = Vec::new();
    for (c, list) in cities {
        let Some(l) = list.iter().map(|(l, _)| *l).max() else { continue };
        let mut v = [None; 6];
        for (k, p) in POLLUTANTS.iter().enumerate() {
            let xs: Vec<f64> =
                list.iter().filter(|(x, _)| *x == l).filter_map(|(_, vals)| vals[k]).map(|x| p.report(x)).collect();
            if !xs.is_empty() {
                v[k] = Some(xs.iter().sum::<f64>() / xs.len() as f64);
            }
        }
        out.push(CityHour { city: c, label: l, values: v, aqi: aqi_row(l, &v) });
    }
    Ok((stations, out))
}

/// Whether a gateway writes live data into this data directory (its log
/// directory exists: segments, or compacted ones in the archive).
pub fn gateway_present(ctx: &Ctx) -> bool {
    lantian_store::live::present(&ctx.data)
}

/// Each city's latest hour, where a gateway runs on this data directory
/// (`None` otherwise: the store's last hour is then not live data).
pub fn live_city_hours(ctx: &Ctx) -> Result<Option<Vec<CityHour>>> {
    if !gateway_present(ctx) {
        return Ok(None);
    }
    Ok(Some(by_city(ctx, latest(ctx)?, None)?.1))
}

/// The rows of `lantian now` (also served by the gateway at `/api/now`).
pub fn now_table(ctx: &Ctx, city: Option<&str>) -> Result<Table> {
    let latest = latest(ctx)?;
    if latest.is_empty() {
        bail!("no hourly data in {}", ctx.data.display());
    }
    let (stations, cities) = by_city(ctx, latest, city)?;
    let now_label = (jiff::Timestamp::now().as_second() + 8 * 3600).div_euclid(3600);
    let mut t = Table::new(vec![
        Col("area", "站点/城市", "Station/city"),
        Col("name", "名称", "Name"),
        Col("city", "城市", "City"),
        Col("time", "时间", "Time"),
        Col("age_hours", "数据时效(小时)", "Age (hours)"),
        Col("pm25", "PM2.5", "PM2.5"),
        Col("pm10", "PM10", "PM10"),
        Col("so2", "SO2", "SO2"),
        Col("no2", "NO2", "NO2"),
        Col("co", "CO", "CO"),
        Col("o3", "O3", "O3"),
        Col("aqi", "AQI", "AQI"),
        Col("level", "级别", "Level"),
        Col("primary", "首要污染物", "Primary"),
    ]);
    let push = |t: &mut Table, area: String, name: String, c: String, l: HourLabel, v: &[Option<f64>; 6]| {
        let r = aqi_row(l, v);
        let mut row = vec![Cell::text(area), Cell::text(name), Cell::text(c), Cell::text(format_label(l))];
        row.push(Cell::Int(now_label - l));
        for (k, p) in POLLUTANTS.iter().enumerate() {
            row.push(Cell::opt(v[k].map(|x| p.report(x)), p.decimals()));
        }
        row.push(r.aqi.map_or(Cell::Empty, |a| Cell::Int(i64::from(a))));
        row.push(Cell::text(r.level().map(|l| l.category_zh()).unwrap_or_default()));
        row.push(Cell::text(r.primary_label()));
        t.push(row);
    };
    for (code, name, c, (l, v)) in stations {
        push(&mut t, code, name, c, l, &v);
    }
    for h in cities {
        push(&mut t, h.city.clone(), String::new(), h.city, h.label, &h.values);
    }
    Ok(t)
}
