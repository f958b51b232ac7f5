//! The dashboard's computed pages: the province overview of a period and
//! a city's year, as typed results (the API's schemas are generated from
//! them). Computed from the same functions as the CLI (`assess`, `rank`,
//! `target check`), so the pages and the CLI agree by construction.
//! `check` is called between steps: it fails when nobody waits for the
//! page any more.

use crate::Ctx;
use crate::assess::{AreaRow, Source, assess_period, assess_rows, region_period, stats_from_days};
use crate::basis::Basis;
use crate::capture::CaptureShortfall;
use crate::days::Days;
use crate::shift_year;
use anyhow::Result;
use jiff::civil::Date;
use lantian_core::period::PeriodStats;
use lantian_core::round::round_half_even;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A page that was not found (a city without data): the message for people.
pub struct NotFound(pub String);

/// The basis a page stands on, with the station-hours behind it by layer.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BasisNote {
    /// `best` or `raw`.
    pub values: &'static str,
    /// `deducted` or `included`.
    pub dust: &'static str,
    pub audited_hours: u64,
    pub raw_hours: u64,
    pub zh: String,
    pub en: String,
}

/// The note of `basis` with the station-hours behind the page's own period.
pub fn basis_note(basis: Basis, used: lantian_store::ValuesUsed) -> BasisNote {
    BasisNote {
        values: basis.values.key(),
        dust: basis.dust.key(),
        audited_hours: used.audited,
        raw_hours: used.raw,
        zh: basis.describe(used, true),
        en: basis.describe(used, false),
    }
}

/// A city's main figures on the other basis (official beside raw, or the
/// reverse), for the page to mark where the two differ.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtherBasis {
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub good_ratio: Option<f64>,
    pub composite_index: Option<f64>,
}

/// How the overview's numbers are computed, in both languages.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Method {
    pub zh: &'static str,
    pub en: &'static str,
}

/// A city's row of the overview: its `lantian assess --compare
/// previous-year` row, the main pollutant and the comparison with the mean
/// of the three previous years (as `lantian rank`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverviewRow {
    #[serde(flatten)]
    pub row: AreaRow,
    /// The largest single index's pollutant, where all six are known.
    pub main_pollutant: Option<&'static str>,
    pub composite_3y: Option<f64>,
    pub composite_change_3y: Option<f64>,
    pub pm25_3y: Option<f64>,
    pub pm25_change_3y: Option<f64>,
    /// The same on the other basis, when the page asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<OtherBasis>,
}

/// The province overview of a period.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overview {
    pub from: String,
    pub to: String,
    /// The edition in force at the period's end (`E2012`, `E2026`).
    pub edition: String,
    pub method: Method,
    pub cities: Vec<OverviewRow>,
    /// The province's regions, in its own order.
    pub regions: Vec<AreaRow>,
    /// Each city's place: the mean longitude and latitude of its stations.
    pub places: BTreeMap<String, [f64; 2]>,
    /// Each city's assessment stations.
    pub stations: BTreeMap<String, Vec<String>>,
    pub basis: BasisNote,
    /// The map's level classes: for `pm25` and `pm10`, the upper
    /// concentrations of the six AQI levels as a 24-hour mean in the edition
    /// in force (HJ 633 Table 1), so the map colours a period mean with the
    /// level colours without a second copy of the table.
    pub map_levels: BTreeMap<String, Vec<f64>>,
}

/// The province overview: every city's assessment with the year-on-year
/// change (the rows of `lantian assess --compare previous-year`), the main
/// pollutant and the change against the three previous years' mean (as
/// `lantian rank`), its place (mean of its stations' coordinates), and the regions.
pub fn overview_page(
    ctx: &Ctx,
    days: &dyn Days,
    basis: Basis,
    other: Option<&dyn Days>,
    from: Date,
    to: Date,
    check: &dyn Fn() -> Result<()>,
) -> Result<Overview> {
    let before = days.used();
    let cur = assess_period(days, &[], from, to, None, Source::Auto)?;
    let after = days.used();
    let read = lantian_store::ValuesUsed { audited: after.audited - before.audited, raw: after.raw - before.raw };
    check()?;
    let prev = assess_period(days, &[], shift_year(from, 1), shift_year(to, 1), None, Source::Auto)?;
    let prev: BTreeMap<String, PeriodStats> = prev.into_iter().map(|c| (c.city, c.stats)).collect();
    // Against the mean of the same period in the three previous years (as `lantian rank`).
    // The first of the three previous years is `prev`, computed once.
    let mut earlier: Vec<BTreeMap<String, PeriodStats>> = vec![prev.clone()];
    for k in 2..=3 {
        check()?;
        let list = assess_period(days, &[], shift_year(from, k), shift_year(to, k), None, Source::Auto)?;
        earlier.push(list.into_iter().map(|c| (c.city, c.stats)).collect());
    }
    let mean3 = |city: &str, f: fn(&PeriodStats) -> Option<f64>, d: u32| {
        lantian_core::rank::multi_year_mean(&earlier.iter().map(|m| m.get(city).and_then(f)).collect::<Vec<_>>(), d)
    };
    let r = |v: Option<f64>, d: u32| v.map(|x| round_half_even(x, d));
    let stats: HashMap<&str, &PeriodStats> = cur.iter().map(|c| (c.city.as_str(), &c.stats)).collect();
    let others: BTreeMap<String, PeriodStats> = match other {
        Some(o) => {
            check()?;
            assess_period(o, &[], from, to, None, Source::Auto)?.into_iter().map(|c| (c.city, c.stats)).collect()
        }
        None => BTreeMap::new(),
    };
    let cities = assess_rows(&cur, Some(&prev), from, to)
        .into_iter()
        .map(|row| {
            let now = stats.get(row.city.as_str()).copied().cloned().unwrap_or_default();
            let (c3, p3) = (mean3(&row.city, |s| s.composite_index, 2), mean3(&row.city, |s| s.pm25, 0));
            OverviewRow {
                main_pollutant: now.composite_index.and(now.main_pollutant).map(|p| p.label()),
                composite_3y: r(c3, 2),
                composite_change_3y: r(lantian_core::period::change_pct(now.composite_index, c3), 1),
                pm25_3y: r(p3, 0),
                pm25_change_3y: r(lantian_core::period::change_pct(now.pm25, p3), 1),
                other: others.get(&row.city).map(|s| OtherBasis {
                    pm25: s.pm25,
                    pm10: s.pm10,
                    good_ratio: s.good_ratio,
                    composite_index: s.composite_index,
                }),
                row,
            }
        })
        .collect();
    let areas = ctx.areas()?;
    let mut regions = assess_rows(&region_period(days, &areas, from, to, None, Source::Auto)?, None, from, to);
    // In the order the province lists its regions.
    regions.sort_by_key(|r| areas.region.iter().position(|x| r.city == x.name));
    let mut places = BTreeMap::new();
    let mut used = BTreeMap::new();
    let store = days.store();
    for (city, stations) in lantian_store::query::city_stations(store) {
        let pts: Vec<(f64, f64)> =
            stations.iter().filter_map(|c| store.station(c)).filter_map(|s| Some((s.lon?, s.lat?))).collect();
        if !pts.is_empty() {
            let n = pts.len() as f64;
            let (x, y) = pts.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            places.insert(city.clone(), [x / n, y / n]);
        }
        used.insert(city, stations);
    }
    let edition = lantian_core::Edition::for_date(to);
    Ok(Overview {
        from: from.to_string(),
        to: to.to_string(),
        edition: format!("{edition:?}"),
        method: Method {
            zh: "按HJ 663：时段均值为日均值（≥20小时）的算术平均，CO取第95百分位数，O3取日最大8小时平均第90百分位数；综合指数按环办监测〔2018〕19号；城市日值为其国控站点日值（先修约）的算术平均；同比为上年同期。",
            en: "HJ 663: period means of daily values (≥ 20 h), CO p95, O3-8h p90; composite index per 环办监测〔2018〕19号; a city's day is the mean of its stations' reported daily values; year on year = same period last year.",
        },
        cities,
        regions,
        places,
        stations: used,
        basis: basis_note(basis, read),
        map_levels: [
            ("pm25", lantian_core::aqi::Indicator::Pm25Daily),
            ("pm10", lantian_core::aqi::Indicator::Pm10Daily),
        ]
        .into_iter()
        .map(|(k, ind)| (k.to_string(), ind.breakpoints(edition)[1..7].iter().map(|&b| b as f64 / 1000.0).collect()))
        .collect(),
    })
}

/// A day of the city's AQI calendar.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    pub date: String,
    pub aqi: u16,
    pub level: Option<u8>,
    pub category: Option<&'static str>,
    /// Primary pollutant(s), empty when the AQI is 50 or less.
    pub primary: String,
}

/// PM2.5 of each month (January first) of the year and of the year before.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthlyPm25 {
    pub this_year: Vec<Option<f64>>,
    pub last_year: Vec<Option<f64>>,
}

/// The year's main statistics.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearStats {
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub good_ratio: Option<f64>,
    pub good_days: u32,
    pub valid_days: u32,
    pub heavy_days: u32,
    pub composite_index: Option<f64>,
    /// Every month (and the year, once complete) meets the capture minimum.
    pub capture_ok: bool,
    /// Each minimum missed (empty when `capture_ok`).
    pub capture_failures: Vec<CaptureShortfall>,
}

/// One pollutant's statistic and single index.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    pub pollutant: &'static str,
    pub statistic: Option<f64>,
    pub single_index: Option<f64>,
}

/// One target's standing (see `lantian target check`).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetRow {
    /// `good_ratio`, `pm25`, `pm10`, `heavy_days`, `pm25_ytd`.
    pub indicator: &'static str,
    pub so_far: Option<f64>,
    pub target: f64,
    /// `met`, `secured`, `on_track`, `at_risk`, `missed`.
    pub status: &'static str,
    pub status_zh: &'static str,
    pub budget: Option<f64>,
    pub remaining_days: u32,
    pub probability: Option<f64>,
    pub history_years: usize,
}

/// A station's data capture over the year (hours with PM2.5).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationCapture {
    pub station: String,
    pub name: Option<String>,
    pub hours: usize,
    pub of: i64,
    pub capture_pct: f64,
    /// Where it stands (the station list's coordinates), for the map.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// A city's year.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityPage {
    pub city: String,
    pub year: i16,
    /// The date the targets are judged on.
    pub as_of: String,
    pub calendar: Vec<CalendarDay>,
    pub pm25_by_month: MonthlyPm25,
    pub year_stats: YearStats,
    pub breakdown: Vec<Breakdown>,
    pub targets: Vec<TargetRow>,
    pub stations: Vec<StationCapture>,
    pub basis: BasisNote,
}

/// One city's year: the daily AQI calendar, PM2.5 by month against the
/// year before, the year's statistics with their single indexes, each
/// target's status (judged `today` within the year, else at its end), its
/// stations' data capture.
pub fn city_page(
    ctx: &Ctx,
    days: &dyn Days,
    basis: Basis,
    name: &str,
    year: i16,
    today: Date,
    check: &dyn Fn() -> Result<()>,
) -> Result<Result<CityPage, NotFound>> {
    use lantian_core::time::{date_of, day_number};
    let name = lantian_store::canonical_city(name);
    let store = days.store();
    let stations: Vec<String> = lantian_store::query::city_stations(store).remove(&name).unwrap_or_default();
    let (y0, y1) = (Date::new(year, 1, 1)?, Date::new(year, 12, 31)?);
    // The year and the one before, read once (the monthly comparison needs both).
    let all = days
        .city_days(
            std::slice::from_ref(&name),
            day_number(Date::new(year - 1, 1, 1)?),
            day_number(y1),
            &lantian_store::query::AreaOptions::default(),
        )?
        .remove(&name)
        .unwrap_or_default();
    let list = &all[all.partition_point(|d| d.day < day_number(y0))..];
    if list.is_empty() && stations.is_empty() {
        return Ok(Err(NotFound(format!("no data for {name} in {year}"))));
    }
    check()?;
    let calendar: Vec<CalendarDay> = list
        .iter()
        .filter_map(|d| {
            let date = date_of(d.day)?;
            let r = lantian_core::daily_aqi(lantian_core::Edition::for_date(date), &d.values.aqi_input());
            Some(CalendarDay {
                date: date.to_string(),
                aqi: r.aqi?,
                level: r.level().map(|l| l.number()),
                category: r.level().map(|l| l.category_zh()),
                primary: r.primary_label(),
            })
        })
        .collect();
    let month_pm25 = |year: i16| -> Result<Vec<Option<f64>>> {
        (1..=12)
            .map(|m| {
                let first = Date::new(year, m, 1)?;
                Ok(stats_from_days(&all, first, first.last_of_month(), None).pm25)
            })
            .collect()
    };
    let stats = stats_from_days(&all, y0, y1, None);
    let breakdown: Vec<Breakdown> = lantian_core::Pollutant::ALL
        .iter()
        .zip(stats.single_index)
        .map(|(p, i)| Breakdown { pollutant: p.label(), statistic: stats.statistic(*p), single_index: i })
        .collect();
    check()?;
    // Targets, judged today within the year, else at its end.
    let as_of = today.min(y1);
    let path = ctx.data.join("targets.toml");
    let targets = if path.exists() {
        let all = lantian_store::targets::Targets::load(&path)?;
        let mine = lantian_store::targets::Targets {
            target: all.target.into_iter().filter(|t| t.area == name && t.year == year).collect(),
        };
        crate::targets::check_targets(days, &mine, as_of)?
            .into_iter()
            .map(|t| TargetRow {
                indicator: t.indicator,
                so_far: t.so_far,
                target: t.target,
                status: t.status.key(),
                status_zh: t.status.zh(),
                budget: t.budget,
                remaining_days: t.remaining_days,
                probability: t.probability,
                history_years: t.history_years,
            })
            .collect()
    } else {
        Vec::new()
    };
    check()?;
    // Data capture of each station: hours with PM2.5 over the year's hours.
    // Hours with PM2.5 over the year's hours (labels 1..24 of each day:
    // the valid hours its station days counted).
    let (l0, l1) = (day_number(y0) * 24 + 1, day_number(y1) * 24 + 24);
    let pm25 = lantian_core::Pollutant::ALL.iter().position(|p| *p == lantian_core::Pollutant::Pm25).expect("PM2.5");
    let mut hours: HashMap<String, usize> = HashMap::new();
    let before = days.used();
    days.station_days(Some(&stations), day_number(y0), day_number(y1), &mut |st, _, v| {
        *hours.entry(st.to_string()).or_default() += usize::from(v.hours[pm25]);
    })?;
    let after = days.used();
    let used = lantian_store::ValuesUsed { audited: after.audited - before.audited, raw: after.raw - before.raw };
    let capture: Vec<StationCapture> = stations
        .iter()
        .map(|code| {
            let n = hours.get(code).copied().unwrap_or(0);
            StationCapture {
                station: code.clone(),
                name: store.station(code).map(|s| s.name.clone()),
                hours: n,
                of: l1 - l0 + 1,
                capture_pct: round_half_even(100.0 * n as f64 / (l1 - l0 + 1) as f64, 1),
                lon: store.station(code).and_then(|s| s.lon),
                lat: store.station(code).and_then(|s| s.lat),
            }
        })
        .collect();
    Ok(Ok(CityPage {
        city: name,
        year,
        as_of: as_of.to_string(),
        calendar,
        pm25_by_month: MonthlyPm25 { this_year: month_pm25(year)?, last_year: month_pm25(year - 1)? },
        year_stats: YearStats {
            pm25: stats.pm25,
            pm10: stats.pm10,
            good_ratio: stats.good_ratio,
            good_days: stats.good_days,
            valid_days: stats.valid_days,
            heavy_days: stats.heavy_days,
            composite_index: stats.composite_index,
            capture_ok: stats.capture_ok,
            capture_failures: CaptureShortfall::from_core(&stats.capture_failures),
        },
        breakdown,
        targets,
        stations: capture,
        basis: basis_note(basis, used),
    }))
}

/// Install area outlines for the map (`lantian boundaries import`): the
/// province's cities are those of its areas file and of its station list.
pub fn import_boundaries(
    ctx: &crate::Ctx,
    file: &std::path::Path,
    schematic: bool,
) -> Result<lantian_store::boundaries::ImportReport> {
    let areas = ctx.areas()?;
    let mut cities = areas.cities.clone();
    if let Ok(store) = ctx.store() {
        for s in store.stations() {
            if !cities.contains(&s.city) {
                cities.push(s.city.clone());
            }
        }
    }
    Ok(lantian_store::boundaries::import(file, &ctx.data, &cities, &areas.codes, schematic)?)
}
