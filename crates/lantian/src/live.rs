//! `lantian logger …` (the gateway's registry) and `lantian now` (the
//! latest hour per station and city, with the data's age).

use crate::commands::Ctx;
use crate::output::{Cell, Col, Table};
use anyhow::{Result, bail};
use clap::Subcommand;
use lantian_core::aqi::{HourlyInput, hourly_aqi};
use lantian_core::time::{HourLabel, day_of_label, format_label};
use lantian_core::{Edition, Pollutant};
use lantian_store::Kind;
use lantian_store::live::{LiveRecord, Source};
use lantian_store::loggers::Logger;
use std::collections::BTreeMap;

#[derive(Subcommand, Debug)]
pub enum LoggerCommand {
    /// Register a data logger (MN) for a station.
    Add {
        #[arg(long)]
        mn: String,
        #[arg(long)]
        station: String,
        #[arg(long)]
        password: String,
        /// Unit the logger sends PM2.5/PM10 in.
        #[arg(long, value_parser = ["ug", "ng"], default_value = "ug")]
        pm_unit: String,
        /// Unit the logger sends SO2/NO2/O3 in (CO is always mg/m³).
        #[arg(long, value_parser = ["ug", "mg"], default_value = "ug")]
        gas_unit: String,
        /// strict: the HJ 212 CRC only; lenient: also the byte-swapped Modbus CRC (a warning each time).
        #[arg(long, value_parser = ["strict", "lenient"], default_value = "strict")]
        crc: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// The registered loggers (passwords are not shown).
    List,
    /// Refuse a logger's packets from now on.
    Disable {
        mn: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Accept a disabled logger's packets again.
    Enable {
        mn: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
}

pub fn logger(ctx: &Ctx, cmd: &LoggerCommand) -> Result<()> {
    let mut ledger = ctx.ledger()?;
    let db = ledger.db();
    match cmd {
        LoggerCommand::Add { mn, station, password, pm_unit, gas_unit, crc, by } => {
            let l = Logger {
                mn: mn.clone(),
                station: station.clone(),
                password: password.clone(),
                pm_unit: pm_unit.clone(),
                gas_unit: gas_unit.clone(),
                crc: crc.clone(),
                enabled: true,
            };
            lantian_store::loggers::add(db, &l, by)?;
            eprintln!("logger {mn} → station {station}");
        }
        LoggerCommand::Disable { mn, by } => lantian_store::loggers::set_enabled(db, mn, false, by)?,
        LoggerCommand::Enable { mn, by } => lantian_store::loggers::set_enabled(db, mn, true, by)?,
        LoggerCommand::List => {
            let mut t = Table::new(vec![
                Col("mn", "MN", "MN"),
                Col("station", "站点", "Station"),
                Col("pm_unit", "颗粒物单位", "PM unit"),
                Col("gas_unit", "气体单位", "Gas unit"),
                Col("crc", "CRC", "CRC"),
                Col("enabled", "启用", "Enabled"),
            ]);
            for l in lantian_store::loggers::list(db)? {
                t.push(vec![
                    Cell::text(l.mn),
                    Cell::text(l.station),
                    Cell::text(l.pm_unit),
                    Cell::text(l.gas_unit),
                    Cell::text(l.crc),
                    Cell::Bool(l.enabled),
                ]);
            }
            ctx.print(&t)?;
        }
    }
    Ok(())
}

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

pub fn now(ctx: &Ctx, city: Option<&str>) -> Result<()> {
    ctx.print(&now_table(ctx, city)?)
}

/// The rows of `lantian now` (also served by the gateway at `/api/now`).
pub fn now_table(ctx: &Ctx, city: Option<&str>) -> Result<Table> {
    let store = ctx.store()?;
    let latest = latest(ctx)?;
    if latest.is_empty() {
        bail!("no hourly data in {}", ctx.data.display());
    }
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
    let mut cities: BTreeMap<String, Vec<Hour>> = BTreeMap::new();
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
    for (code, (l, v)) in &latest {
        let st = store.station(code);
        let c = st.map(|s| s.city.clone()).unwrap_or_default();
        if city.is_some_and(|x| lantian_store::canonical_city(x) != c) {
            continue;
        }
        if st.is_some_and(|s| s.control) {
            continue;
        }
        cities.entry(c.clone()).or_default().push((*l, *v));
        push(&mut t, code.clone(), st.map(|s| s.name.clone()).unwrap_or_default(), c, *l, v);
    }
    // A city's latest hour: the newest hour any of its stations has, the
    // mean of the stations reporting it (values as reported, like a city day).
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
        push(&mut t, c.clone(), String::new(), c, l, &v);
    }
    Ok(t)
}
