//! The dashboard's computed pages: the province overview of a period and
//! a city's year. Computed from the same functions as the CLI (`assess`,
//! `rank`, `target check`), so the pages and the CLI agree by construction.
//! `check` is called between steps: it fails when nobody waits for the
//! page any more.

use crate::Ctx;
use crate::assess::{Source, assess_period, assess_table, region_period, stats_from_days};
use crate::days::Days;
use crate::shift_year;
use anyhow::Result;
use jiff::civil::Date;
use std::collections::HashMap;

/// A page that was not found (a city without data): the message for people.
pub struct NotFound(pub String);

/// The province overview: every city's assessment with the year-on-year
/// change (the rows of `lantian assess --compare previous-year`), the main
/// pollutant and the change against the three previous years' mean (as
/// `lantian rank`), its place (mean of its stations' coordinates), and the regions.
pub fn overview_page(
    ctx: &Ctx,
    days: &dyn Days,
    from: Date,
    to: Date,
    check: &dyn Fn() -> Result<()>,
) -> Result<serde_json::Value> {
    struct Period {
        from: Date,
        to: Date,
    }
    let p = Period { from, to };
    let store = days;
    {
        let cur = assess_period(store, &[], p.from, p.to, None, Source::Auto)?;
        check()?;
        let prev = assess_period(store, &[], shift_year(p.from, 1), shift_year(p.to, 1), None, Source::Auto)?;
        let prev: std::collections::BTreeMap<String, lantian_core::period::PeriodStats> =
            prev.into_iter().map(|c| (c.city, c.stats)).collect();
        let mut cities = assess_table(&cur, Some(&prev), p.from, p.to).to_json();
        // The main pollutant (largest single index) where all six are known.
        let main: HashMap<&str, &str> = cur
            .iter()
            .filter_map(|c| Some((c.city.as_str(), c.stats.composite_index.and(c.stats.main_pollutant)?.label())))
            .collect();
        // Against the mean of the same period in the three previous years (as `lantian rank`).
        // The first of the three previous years is `prev`, computed once.
        let mut earlier: Vec<std::collections::BTreeMap<String, lantian_core::period::PeriodStats>> =
            vec![prev.clone()];
        for k in 2..=3 {
            check()?;
            let list = assess_period(store, &[], shift_year(p.from, k), shift_year(p.to, k), None, Source::Auto)?;
            earlier.push(list.into_iter().map(|c| (c.city, c.stats)).collect());
        }
        let mean3 = |city: &str, f: fn(&lantian_core::period::PeriodStats) -> Option<f64>, d: u32| {
            lantian_core::rank::multi_year_mean(&earlier.iter().map(|m| m.get(city).and_then(f)).collect::<Vec<_>>(), d)
        };
        let num = |v: Option<f64>, d: u32| {
            v.map_or(serde_json::Value::Null, |x| lantian_core::round::round_half_even(x, d).into())
        };
        for row in cities.as_array_mut().into_iter().flatten() {
            let city = row["city"].as_str().unwrap_or_default().to_string();
            let m = main.get(city.as_str()).copied();
            row["main_pollutant"] = m.map_or(serde_json::Value::Null, Into::into);
            let now = cur.iter().find(|c| c.city == city).map(|c| c.stats.clone()).unwrap_or_default();
            let (c3, p3) = (mean3(&city, |s| s.composite_index, 2), mean3(&city, |s| s.pm25, 0));
            row["composite_3y"] = num(c3, 2);
            row["composite_change_3y"] = num(lantian_core::period::change_pct(now.composite_index, c3), 1);
            row["pm25_3y"] = num(p3, 0);
            row["pm25_change_3y"] = num(lantian_core::period::change_pct(now.pm25, p3), 1);
        }
        let areas = ctx.areas()?;
        let regions = region_period(store, &areas, p.from, p.to, None, Source::Auto)?;
        let mut regions = assess_table(&regions, None, p.from, p.to).to_json();
        // In the order the province lists its regions.
        if let Some(list) = regions.as_array_mut() {
            list.sort_by_key(|r| areas.region.iter().position(|x| r["city"] == x.name.as_str()));
        }
        let mut places = serde_json::Map::new();
        let mut used = serde_json::Map::new();
        for (city, stations) in lantian_store::query::city_stations(store.store()) {
            used.insert(city.clone(), stations.clone().into());
            let pts: Vec<(f64, f64)> = stations
                .iter()
                .filter_map(|c| store.store().station(c))
                .filter_map(|s| Some((s.lon?, s.lat?)))
                .collect();
            if !pts.is_empty() {
                let n = pts.len() as f64;
                let (x, y) = pts.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
                places.insert(city, serde_json::json!([x / n, y / n]));
            }
        }
        let edition = lantian_core::Edition::for_date(p.to);
        Ok(serde_json::json!({
            "from": p.from.to_string(),
            "to": p.to.to_string(),
            "edition": format!("{edition:?}"),
            "method": {
                "zh": "按HJ 663：时段均值为日均值（≥20小时）的算术平均，CO取第95百分位数，O3取日最大8小时平均第90百分位数；综合指数按环办监测〔2018〕19号；城市日值为其国控站点日值（先修约）的算术平均；同比为上年同期。",
                "en": "HJ 663: period means of daily values (≥ 20 h), CO p95, O3-8h p90; composite index per 环办监测〔2018〕19号; a city's day is the mean of its stations' reported daily values; year on year = same period last year."
            },
            "cities": cities,
            "regions": regions,
            "places": places,
            "stations": used,
        }))
    }
}

/// One city's year: the daily AQI calendar, PM2.5 by month against the
/// year before, the year's statistics with their single indexes, each
/// target's status (judged `today` within the year, else at its end), its
/// stations' data capture.
pub fn city_page(
    ctx: &Ctx,
    days: &dyn Days,
    name: &str,
    year: i16,
    today: Date,
    check: &dyn Fn() -> Result<()>,
) -> Result<Result<serde_json::Value, NotFound>> {
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
    let calendar: Vec<serde_json::Value> = list
        .iter()
        .filter_map(|d| {
            let date = date_of(d.day)?;
            let r = lantian_core::daily_aqi(lantian_core::Edition::for_date(date), &d.values.aqi_input());
            let aqi = r.aqi?;
            Some(serde_json::json!({
                "date": date.to_string(), "aqi": aqi, "level": r.level().map(|l| l.number()),
                "category": r.level().map(|l| l.category_zh()), "primary": r.primary_label(),
            }))
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
    let breakdown: Vec<serde_json::Value> = lantian_core::Pollutant::ALL
        .iter()
        .zip(stats.single_index)
        .map(
            |(p, i)| serde_json::json!({ "pollutant": p.label(), "statistic": stats.statistic(*p), "single_index": i }),
        )
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
            .map(|t| {
                serde_json::json!({
                    "indicator": t.indicator, "so_far": t.so_far, "target": t.target, "status": t.status.key(),
                    "status_zh": t.status.zh(), "budget": t.budget, "remaining_days": t.remaining_days,
                    "probability": t.probability, "history_years": t.history_years,
                })
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
    days.station_days(Some(&stations), day_number(y0), day_number(y1), &mut |st, _, v| {
        *hours.entry(st.to_string()).or_default() += usize::from(v.hours[pm25]);
    })?;
    let capture: Vec<serde_json::Value> = stations
        .iter()
        .map(|code| {
            let n = hours.get(code).copied().unwrap_or(0);
            let st = store.station(code);
            serde_json::json!({
                "station": code, "name": st.map(|s| s.name.clone()), "hours": n, "of": (l1 - l0 + 1),
                "capture_pct": lantian_core::round::round_half_even(100.0 * n as f64 / (l1 - l0 + 1) as f64, 1),
            })
        })
        .collect();
    Ok(Ok(serde_json::json!({
            "city": name,
            "year": year,
            "as_of": as_of.to_string(),
            "calendar": calendar,
            "pm25_by_month": { "this_year": month_pm25(year)?, "last_year": month_pm25(year - 1)? },
            "year_stats": {
                "pm25": stats.pm25, "pm10": stats.pm10, "good_ratio": stats.good_ratio, "good_days": stats.good_days,
                "valid_days": stats.valid_days, "heavy_days": stats.heavy_days, "composite_index": stats.composite_index,
            },
            "breakdown": breakdown,
            "targets": targets,
            "stations": capture,
    })))
}
