//! Area days and period statistics: cities (their assessment stations, or
//! the published city values), counties (sets of stations) and regions
//! (sets of cities), for any period, by the edition in force on each day
//! or a forced one (可比口径).

use crate::capture::CaptureShortfall;
use crate::days::Days;
use crate::table::{Cell, Col, Table};
use crate::{Ctx, edition_for, shift_year};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::aqi::daily_aqi;
use lantian_core::period::{
    DayRecord, PeriodCapture, PeriodStats, change_pct, change_pp, competition_rank, period_stats,
};
use lantian_core::round::round_half_even;
use lantian_core::time::{DayNumber, day_number};
use lantian_core::{Edition, LimitSet};
use lantian_store::query::{AreaDay, AreaOptions, DaySource, SourcePreference};
use std::collections::BTreeMap;

/// Which data a city's days come from (`--source`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// Station hours where the store has them, published city values otherwise.
    #[default]
    Auto,
    /// Only station hours.
    Stations,
    /// Only published city daily values.
    Published,
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Source, String> {
        match s {
            "auto" => Ok(Source::Auto),
            "stations" => Ok(Source::Stations),
            "published" => Ok(Source::Published),
            _ => Err(format!("'{s}': auto, stations or published")),
        }
    }
}

impl Source {
    pub fn options(self) -> AreaOptions {
        let source = match self {
            Source::Auto => SourcePreference::Auto,
            Source::Stations => SourcePreference::Stations,
            Source::Published => SourcePreference::Published,
        };
        AreaOptions { source, ..AreaOptions::default() }
    }
}

/// Cities, or the counties or regions of areas.toml.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AreaLevel {
    #[default]
    City,
    County,
    Region,
}

impl std::str::FromStr for AreaLevel {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<AreaLevel, String> {
        match s {
            "city" => Ok(AreaLevel::City),
            "county" => Ok(AreaLevel::County),
            "region" => Ok(AreaLevel::Region),
            _ => Err(format!("'{s}': city, county or region")),
        }
    }
}

/// One city's statistics over one period.
pub struct CityPeriod {
    pub city: String,
    pub stats: PeriodStats,
}

/// Statistics of every city for `from..=to`.
pub fn assess_period(
    days: &dyn Days,
    cities: &[String],
    from: Date,
    to: Date,
    edition: Option<Edition>,
    source: Source,
) -> Result<Vec<CityPeriod>> {
    let days = days.city_days(cities, day_number(from), day_number(to), &source.options())?;
    Ok(period_of_areas(days, from, to, edition))
}

/// Period statistics of each area from its days.
fn period_of_areas(
    days: BTreeMap<String, Vec<AreaDay>>,
    from: Date,
    to: Date,
    edition: Option<Edition>,
) -> Vec<CityPeriod> {
    let (d0, d1) = (day_number(from), day_number(to));
    // Composite-index S_i: the limit set of the period's end date (or the forced edition).
    let limits = period_limits(to, edition);
    // Areas are independent: split them over the cores (a national year's
    // 364 cities took a tenth of a second on one).
    let days: Vec<(String, Vec<AreaDay>)> = days.into_iter().collect();
    lantian_store::par::map_ranges(days.len(), |r| {
        days[r]
            .iter()
            .map(|(city, list)| CityPeriod { stats: area_stats(list, d0, d1, edition, &limits), city: city.clone() })
            .collect()
    })
}

/// The days' records as the period statistics take them: each day's AQI by
/// the edition in force on it (or the forced one).
pub fn day_records(list: &[AreaDay], edition: Option<Edition>) -> Vec<DayRecord> {
    list.iter()
        .map(|d| DayRecord {
            day: d.day,
            values: d.values,
            aqi: daily_aqi(edition_for(edition, d.day), &d.values.aqi_input()).aqi,
        })
        .collect()
}

/// One area's statistics over days `d0..=d1` of `list` (which may hold more days).
fn area_stats(
    list: &[AreaDay],
    d0: DayNumber,
    d1: DayNumber,
    edition: Option<Edition>,
    limits: &lantian_core::edition::Limits,
) -> PeriodStats {
    let lo = list.partition_point(|d| d.day < d0);
    let hi = list.partition_point(|d| d.day <= d1);
    period_stats(&day_records(&list[lo..hi], edition), d0, d1, limits, &PeriodCapture::default())
}

/// The composite-index limits of a period ending `to` (or of the forced edition).
pub fn period_limits(to: Date, edition: Option<Edition>) -> lantian_core::edition::Limits {
    match edition {
        Some(e) => LimitSet::for_edition(e, to),
        None => LimitSet::for_date(to),
    }
    .grade2()
}

/// Statistics of one area over `from..=to` from days already read (sorted
/// by day, covering at least the period): what `assess_period` gives for
/// that area, without reading the store again.
pub fn stats_from_days(list: &[AreaDay], from: Date, to: Date, edition: Option<Edition>) -> PeriodStats {
    area_stats(list, day_number(from), day_number(to), edition, &period_limits(to, edition))
}

/// Statistics of each county (areas.toml: a set of stations) for
/// `from..=to`, its days formed from its stations as a city's are.
pub fn county_period(
    days: &dyn Days,
    areas: &lantian_store::areas::Areas,
    from: Date,
    to: Date,
    edition: Option<Edition>,
) -> Result<Vec<CityPeriod>> {
    let (d0, d1) = (day_number(from), day_number(to));
    let mut owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &areas.county {
        for s in &c.stations {
            owner.entry(s.clone()).or_default().push(c.name.clone());
        }
    }
    let codes: Vec<String> = owner.keys().cloned().collect();
    let mut per: BTreeMap<(String, DayNumber), Vec<lantian_core::DailyValues>> = BTreeMap::new();
    days.station_days(Some(&codes), d0, d1, &mut |st, day, v| {
        for county in owner.get(st).into_iter().flatten() {
            per.entry((county.clone(), day)).or_default().push(*v);
        }
    })?;
    let mut days: BTreeMap<String, Vec<AreaDay>> = areas.county.iter().map(|c| (c.name.clone(), Vec::new())).collect();
    for ((county, day), vals) in per {
        let values = lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), 1);
        days.entry(county).or_default().push(AreaDay { day, values, source: DaySource::Stations(vals.len() as u16) });
    }
    Ok(period_of_areas(days, from, to, edition))
}

/// Statistics of each region (areas.toml) for `from..=to`: a region's day is
/// the mean of its cities' daily values, each at reporting precision, as a
/// city's day is of its stations'; a value needs every member city.
pub fn region_period(
    days: &dyn Days,
    areas: &lantian_store::areas::Areas,
    from: Date,
    to: Date,
    edition: Option<Edition>,
    source: Source,
) -> Result<Vec<CityPeriod>> {
    let cities = days.city_days(&[], day_number(from), day_number(to), &source.options())?;
    let mut regions: BTreeMap<String, Vec<AreaDay>> = BTreeMap::new();
    for r in &areas.region {
        let mut by_day: BTreeMap<DayNumber, Vec<lantian_core::DailyValues>> = BTreeMap::new();
        for c in &r.cities {
            for d in cities.get(c).into_iter().flatten() {
                by_day.entry(d.day).or_default().push(d.values);
            }
        }
        let days = by_day
            .into_iter()
            .map(|(day, vals)| AreaDay {
                day,
                // Every member city must have the value, or the region's day
                // would silently stand for only some of it.
                values: lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), r.cities.len()),
                source: DaySource::Stations(vals.len() as u16),
            })
            .collect();
        regions.insert(r.name.clone(), days);
    }
    Ok(period_of_areas(regions, from, to, edition))
}

/// `lantian assess`: every area's statistics for a period, optionally with
/// the same period of the previous year and the changes.
#[derive(Clone, Debug, Default)]
pub struct AssessRequest {
    pub from: Date,
    pub to: Date,
    /// Areas to show (default: all).
    pub cities: Vec<String>,
    pub compare_previous_year: bool,
    pub edition: Option<Edition>,
    pub source: Source,
    pub level: AreaLevel,
    /// HJ 663-2026 three-year assessment of the years ending with `to`'s year.
    pub three_year: bool,
}

/// The statistics of the request's areas over `from..=to`.
fn areas_period(ctx: &Ctx, days: &dyn Days, a: &AssessRequest, from: Date, to: Date) -> Result<Vec<CityPeriod>> {
    let all = match a.level {
        AreaLevel::City => assess_period(days, &a.cities, from, to, a.edition, a.source)?,
        AreaLevel::County => county_period(days, &ctx.areas()?, from, to, a.edition)?,
        AreaLevel::Region => region_period(days, &ctx.areas()?, from, to, a.edition, a.source)?,
    };
    // `cities` names the areas to show at any level.
    Ok(all
        .into_iter()
        .filter(|c| a.level == AreaLevel::City || a.cities.is_empty() || a.cities.contains(&c.city))
        .collect())
}

/// `lantian assess --three-year`: for each area, the three years ending
/// with `to`'s year, each year's six statistics and whether its capture met
/// the rules, the three-year means and the attainment judgement against the
/// limits in force at `to` (HJ 663-2026).
pub fn three_year_table(ctx: &Ctx, days: &dyn Days, a: &AssessRequest) -> Result<Table> {
    let y = a.to.year();
    let mut years: Vec<BTreeMap<String, PeriodStats>> = Vec::new();
    for k in (0..3).rev() {
        let (from, to) = (Date::new(y - k, 1, 1)?, Date::new(y - k, 12, 31)?);
        years.push(areas_period(ctx, days, a, from, to)?.into_iter().map(|c| (c.city, c.stats)).collect());
    }
    let limits = period_limits(a.to, a.edition);
    let names: std::collections::BTreeSet<&String> = years.iter().flat_map(|m| m.keys()).collect();
    let mut cols = vec![Col("city", "城市", "City"), Col("years", "年份", "Years")];
    const STATS: [(&str, &str, &str, u32); 6] = [
        ("so2", "SO2", "SO2", 0),
        ("no2", "NO2", "NO2", 0),
        ("pm10", "PM10", "PM10", 0),
        ("co_p95", "CO-95per", "CO p95", 1),
        ("o3_8h_p90", "O3-8h-90per", "O3-8h p90", 0),
        ("pm25", "PM2.5", "PM2.5", 0),
    ];
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    for (key, zh, en, _) in STATS {
        cols.push(Col(leak(format!("{key}_3y")), leak(format!("{zh}三年均值")), leak(format!("{en} 3-yr"))));
    }
    cols.extend([
        Col("valid_years", "有效年数", "Valid years"),
        Col("attains", "三年达标", "Attains (3 yr)"),
        Col("not_attaining", "超标污染物", "Not attaining"),
    ]);
    for k in 0..3 {
        let yr = y - 2 + k as i16;
        for (key, zh, en, _) in STATS {
            cols.push(Col(leak(format!("{key}_{yr}")), leak(format!("{zh} {yr}")), leak(format!("{en} {yr}"))));
        }
        cols.push(Col(
            leak(format!("capture_ok_{yr}")),
            leak(format!("{yr}数据有效")),
            leak(format!("Capture OK {yr}")),
        ));
    }
    let mut t = Table::new(cols);
    for name in names {
        let stats: [PeriodStats; 3] = std::array::from_fn(|k| years[k].get(name).cloned().unwrap_or_default());
        let three = lantian_core::period::three_year(&stats, &limits);
        let order = |p: lantian_core::Pollutant| lantian_core::Pollutant::ALL.iter().position(|x| *x == p).unwrap_or(0);
        let stat_order = [
            lantian_core::Pollutant::So2,
            lantian_core::Pollutant::No2,
            lantian_core::Pollutant::Pm10,
            lantian_core::Pollutant::Co,
            lantian_core::Pollutant::O3,
            lantian_core::Pollutant::Pm25,
        ];
        let mut row = vec![Cell::text(name), Cell::text(format!("{}–{y}", y - 2))];
        for (p, (_, _, _, d)) in stat_order.iter().zip(STATS) {
            row.push(Cell::opt(three.statistic[order(*p)], d));
        }
        let failing: Vec<&str> =
            stat_order.iter().filter(|p| three.attains[order(**p)] == Some(false)).map(|p| p.label()).collect();
        row.extend([
            Cell::Int(i64::from(three.valid_years)),
            three.attains_all().map_or(Cell::Empty, Cell::Bool),
            Cell::text(failing.join("、")),
        ]);
        for s in &stats {
            for (p, (_, _, _, d)) in stat_order.iter().zip(STATS) {
                row.push(Cell::opt(s.statistic(*p), d));
            }
            row.push(Cell::Bool(s.capture_ok));
        }
        t.push(row);
    }
    if t.rows.is_empty() {
        bail!("no data for {}–{y}", y - 2);
    }
    Ok(t)
}

/// `assess` with the same period on another basis beside it (official
/// beside raw, or raw beside official): PM2.5, PM10, good-day ratio,
/// composite index and rank on `other`, whose name (`raw`, `official`)
/// makes the keys (`pm25_raw`, …).
pub fn assess_beside(
    ctx: &Ctx,
    days: &dyn Days,
    other: &dyn Days,
    other_name: &'static str,
    a: &AssessRequest,
) -> Result<Table> {
    let mut t = assess(ctx, days, a)?;
    let rows: BTreeMap<String, AreaRow> = assess_rows(&areas_period(ctx, other, a, a.from, a.to)?, None, a.from, a.to)
        .into_iter()
        .map(|r| (r.city.clone(), r))
        .collect();
    let (zh, en) = match other_name {
        "raw" => ("（原始、不扣沙）", " (raw, dust included)"),
        _ => ("（审核、扣沙）", " (official)"),
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    for (key, head, _) in [
        ("pm25", "PM2.5", 0),
        ("pm10", "PM10", 0),
        ("good_ratio", "优良天数比例%", 1),
        ("composite_index", "综合指数", 2),
        ("rank", "排名", 0),
    ] {
        let en_head = match key {
            "good_ratio" => "Good ratio %",
            "composite_index" => "Composite index",
            "rank" => "Rank",
            _ => head,
        };
        t.cols.push(Col(
            leak(format!("{key}_{other_name}")),
            leak(format!("{head}{zh}")),
            leak(format!("{en_head}{en}")),
        ));
    }
    let city_col = t.cols.iter().position(|c| c.0 == "city").unwrap_or(0);
    for row in &mut t.rows {
        let name = match &row[city_col] {
            Cell::Text(s) => s.clone(),
            _ => String::new(),
        };
        let o = rows.get(&name);
        row.extend([
            Cell::opt(o.and_then(|r| r.pm25), 0),
            Cell::opt(o.and_then(|r| r.pm10), 0),
            Cell::opt(o.and_then(|r| r.good_ratio), 1),
            Cell::opt(o.and_then(|r| r.composite_index), 2),
            o.and_then(|r| r.rank).map_or(Cell::Empty, |r| Cell::Int(i64::from(r))),
        ]);
    }
    Ok(t)
}

pub fn assess(ctx: &Ctx, days: &dyn Days, a: &AssessRequest) -> Result<Table> {
    if a.three_year {
        return three_year_table(ctx, days, a);
    }
    let store = days;
    let period = |from: Date, to: Date| -> Result<Vec<CityPeriod>> {
        let all = match a.level {
            AreaLevel::City => assess_period(store, &a.cities, from, to, a.edition, a.source)?,
            AreaLevel::County => county_period(store, &ctx.areas()?, from, to, a.edition)?,
            AreaLevel::Region => region_period(store, &ctx.areas()?, from, to, a.edition, a.source)?,
        };
        // `cities` names the areas to show at any level.
        Ok(all
            .into_iter()
            .filter(|c| a.level == AreaLevel::City || a.cities.is_empty() || a.cities.contains(&c.city))
            .collect())
    };
    let cur = period(a.from, a.to)?;
    let prev: Option<BTreeMap<String, PeriodStats>> = if a.compare_previous_year {
        Some(period(shift_year(a.from, 1), shift_year(a.to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect())
    } else {
        None
    };
    table_of_periods(&cur, prev.as_ref(), a.from, a.to)
}

/// `assess_table`, an error when no area has data.
pub fn table_of_periods(
    cur: &[CityPeriod],
    prev: Option<&BTreeMap<String, PeriodStats>>,
    from: Date,
    to: Date,
) -> Result<Table> {
    let table = assess_table(cur, prev, from, to);
    if table.rows.is_empty() {
        bail!("no data for {from}..{to}");
    }
    Ok(table)
}

/// One area's row of `lantian assess` (the keys of its JSON output).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AreaRow {
    /// The area (a city, county or region; the key stays `city`).
    pub city: String,
    pub from: String,
    pub to: String,
    /// Calendar days in the period.
    pub days: u32,
    /// Days with a daily AQI.
    pub valid_days: u32,
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    /// 95th percentile of daily CO, mg/m³.
    pub co_p95: Option<f64>,
    /// 90th percentile of daily O3 MDA8.
    pub o3_8h_p90: Option<f64>,
    pub good_days: u32,
    /// 优良天数比例, %.
    pub good_ratio: Option<f64>,
    pub heavy_days: u32,
    pub composite_index: Option<f64>,
    /// Rank by composite index (ties share a rank).
    pub rank: Option<u32>,
    /// The same period of the previous year and the changes, when compared.
    #[serde(flatten)]
    pub compare: Option<Compare>,
    /// Every full month (and a whole year) meets the capture minimum for every pollutant.
    pub capture_ok: bool,
    /// Each minimum missed when `capture_ok` is false (empty when it is true).
    pub capture_failures: Vec<CaptureShortfall>,
}

/// The same period a year earlier and the changes (%, good ratio in percentage points).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Compare {
    pub pm25_prev: Option<f64>,
    pub pm25_change: Option<f64>,
    pub pm10_prev: Option<f64>,
    pub pm10_change: Option<f64>,
    pub good_ratio_prev: Option<f64>,
    pub good_ratio_change: Option<f64>,
    pub composite_index_prev: Option<f64>,
    pub composite_index_change: Option<f64>,
}

/// The rows of `lantian assess`: areas with data, ranked by composite index
/// (ties by name), values at reporting precision.
pub fn assess_rows(
    cur: &[CityPeriod],
    prev: Option<&BTreeMap<String, PeriodStats>>,
    from: Date,
    to: Date,
) -> Vec<AreaRow> {
    let ranks = competition_rank(&cur.iter().map(|c| c.stats.composite_index).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..cur.len()).collect();
    order.sort_by_key(|&i| (ranks[i].unwrap_or(u32::MAX), cur[i].city.clone()));
    let r = |v: Option<f64>, d: u32| v.map(|x| round_half_even(x, d));
    order
        .into_iter()
        .filter(|&i| !(cur[i].stats.n_values.iter().all(|&n| n == 0) && cur[i].stats.valid_days == 0))
        .map(|i| {
            let (c, s) = (&cur[i].city, &cur[i].stats);
            let compare = prev.map(|prev| {
                let p = prev.get(c);
                let g = |f: fn(&PeriodStats) -> Option<f64>| p.and_then(f);
                Compare {
                    pm25_prev: r(g(|p| p.pm25), 0),
                    pm25_change: r(change_pct(s.pm25, g(|p| p.pm25)), 1),
                    pm10_prev: r(g(|p| p.pm10), 0),
                    pm10_change: r(change_pct(s.pm10, g(|p| p.pm10)), 1),
                    good_ratio_prev: r(g(|p| p.good_ratio), 1),
                    good_ratio_change: r(change_pp(s.good_ratio, g(|p| p.good_ratio)), 1),
                    composite_index_prev: r(g(|p| p.composite_index), 2),
                    composite_index_change: r(change_pct(s.composite_index, g(|p| p.composite_index)), 1),
                }
            });
            AreaRow {
                city: c.clone(),
                from: from.to_string(),
                to: to.to_string(),
                days: s.days,
                valid_days: s.valid_days,
                pm25: r(s.pm25, 0),
                pm10: r(s.pm10, 0),
                so2: r(s.so2, 0),
                no2: r(s.no2, 0),
                co_p95: r(s.co_p95, 1),
                o3_8h_p90: r(s.o3_8h_p90, 0),
                good_days: s.good_days,
                good_ratio: r(s.good_ratio, 1),
                heavy_days: s.heavy_days,
                composite_index: r(s.composite_index, 2),
                rank: ranks[i],
                compare,
                capture_ok: s.capture_ok,
                capture_failures: CaptureShortfall::from_core(&s.capture_failures),
            }
        })
        .collect()
}

/// `assess_rows` as a table (comparison columns when compared).
pub fn assess_table(cur: &[CityPeriod], prev: Option<&BTreeMap<String, PeriodStats>>, from: Date, to: Date) -> Table {
    rows_table(&assess_rows(cur, prev, from, to), prev.is_some())
}

/// Rows of `lantian assess` as a table.
pub fn rows_table(rows: &[AreaRow], compared: bool) -> Table {
    let mut cols = vec![
        Col("city", "城市", "City"),
        Col("from", "起", "From"),
        Col("to", "止", "To"),
        Col("days", "天数", "Days"),
        Col("valid_days", "有效天数", "Valid days"),
        Col("pm25", "PM2.5", "PM2.5"),
        Col("pm10", "PM10", "PM10"),
        Col("so2", "SO2", "SO2"),
        Col("no2", "NO2", "NO2"),
        Col("co_p95", "CO-95per", "CO p95"),
        Col("o3_8h_p90", "O3-8h-90per", "O3-8h p90"),
        Col("good_days", "优良天数", "Good days"),
        Col("good_ratio", "优良天数比例%", "Good ratio %"),
        Col("heavy_days", "重污染天数", "Heavy days"),
        Col("composite_index", "综合指数", "Composite index"),
        Col("rank", "排名", "Rank"),
    ];
    if compared {
        cols.extend([
            Col("pm25_prev", "PM2.5同期", "PM2.5 prev"),
            Col("pm25_change", "PM2.5变化%", "PM2.5 change %"),
            Col("pm10_prev", "PM10同期", "PM10 prev"),
            Col("pm10_change", "PM10变化%", "PM10 change %"),
            Col("good_ratio_prev", "优良比例同期%", "Good ratio prev %"),
            Col("good_ratio_change", "优良比例变化(百分点)", "Good ratio change (pp)"),
            Col("composite_index_prev", "综合指数同期", "Composite prev"),
            Col("composite_index_change", "综合指数变化%", "Composite change %"),
        ]);
    }
    cols.push(Col("capture_ok", "数据有效性达标", "Capture OK"));
    cols.push(Col("capture_failures", "数据有效性说明", "Capture shortfalls"));
    let mut t = Table::new(cols);
    for s in rows {
        let mut row = vec![
            Cell::text(&s.city),
            Cell::text(&s.from),
            Cell::text(&s.to),
            Cell::Int(i64::from(s.days)),
            Cell::Int(i64::from(s.valid_days)),
            Cell::opt(s.pm25, 0),
            Cell::opt(s.pm10, 0),
            Cell::opt(s.so2, 0),
            Cell::opt(s.no2, 0),
            Cell::opt(s.co_p95, 1),
            Cell::opt(s.o3_8h_p90, 0),
            Cell::Int(i64::from(s.good_days)),
            Cell::opt(s.good_ratio, 1),
            Cell::Int(i64::from(s.heavy_days)),
            Cell::opt(s.composite_index, 2),
            s.rank.map_or(Cell::Empty, |r| Cell::Int(i64::from(r))),
        ];
        if compared {
            let c = s.compare.as_ref();
            let g = |f: fn(&Compare) -> Option<f64>| c.and_then(f);
            row.extend([
                Cell::opt(g(|c| c.pm25_prev), 0),
                Cell::opt(g(|c| c.pm25_change), 1),
                Cell::opt(g(|c| c.pm10_prev), 0),
                Cell::opt(g(|c| c.pm10_change), 1),
                Cell::opt(g(|c| c.good_ratio_prev), 1),
                Cell::opt(g(|c| c.good_ratio_change), 1),
                Cell::opt(g(|c| c.composite_index_prev), 2),
                Cell::opt(g(|c| c.composite_index_change), 1),
            ]);
        }
        row.push(Cell::Bool(s.capture_ok));
        row.push(Cell::Capture(s.capture_failures.clone()));
        t.push(row);
    }
    t
}
