//! The numbers of the daily briefing (每日空气质量会商简报, `lantian report
//! daily`, composed by `lantian_report::daily`): each city's AQI of the
//! reported day and the day before, month-to-date and year-to-date
//! statistics against the same span last year with ranks, the targets as of
//! the day, the cities that got worse, and the latest live hour. Every
//! number comes from the use cases `lantian daily`, `assess`, `rank`,
//! `target check` and `now` use; nothing is computed differently here.

use crate::assess::{Source, assess_period};
use crate::basis::Basis;
use crate::days::Days;
use crate::targets::check_targets;
use crate::{Ctx, edition_for, shift_year};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::Level;
use lantian_core::aqi::daily_aqi;
use lantian_core::period::{PeriodStats, change_pct};
use lantian_core::rank::{RankBy, rank};
use lantian_core::time::{day_number, format_label};
use lantian_report::daily::{CityDay, DailyData, DayAqi, LiveCity, Span, SpanRow, TargetLine, Worsened};
use std::collections::BTreeMap;

/// Statistics of the cities with data over `from..=to` (as `lantian rank`
/// keeps them: a city with no value at all is left out).
fn span_stats(days: &dyn Days, from: Date, to: Date) -> Result<BTreeMap<String, PeriodStats>> {
    Ok(assess_period(days, &[], from, to, None, Source::Auto)?
        .into_iter()
        .filter(|c| c.stats.valid_days > 0 || c.stats.n_values.iter().any(|&n| n > 0))
        .map(|c| (c.city, c.stats))
        .collect())
}

/// A span's rows in `order`, with last year's same dates and the ranks.
fn span(days: &dyn Days, from: Date, to: Date, order: &[String]) -> Result<Span> {
    let cur = span_stats(days, from, to)?;
    let prev = span_stats(days, shift_year(from, 1), shift_year(to, 1))?;
    let names: Vec<&String> = cur.keys().collect();
    // PM10 has no `RankBy` of its own: smallest first, like PM2.5.
    let ranks = |by: RankBy, f: fn(&PeriodStats) -> Option<f64>| -> BTreeMap<String, u32> {
        let r = rank(by, &names.iter().map(|n| f(&cur[*n])).collect::<Vec<_>>());
        names.iter().zip(r).filter_map(|(n, r)| r.map(|r| ((*n).clone(), r))).collect()
    };
    let (r25, r10, rg) =
        (ranks(RankBy::Pm25, |s| s.pm25), ranks(RankBy::Pm25, |s| s.pm10), ranks(RankBy::GoodRatio, |s| s.good_ratio));
    let mut rows: Vec<SpanRow> = cur
        .iter()
        .map(|(city, s)| SpanRow {
            city: city.clone(),
            cur: s.clone(),
            prev: prev.get(city).filter(|p| p.valid_days > 0 || p.pm25.is_some()).cloned(),
            rank_pm25: r25.get(city).copied(),
            rank_pm10: r10.get(city).copied(),
            rank_good: rg.get(city).copied(),
        })
        .collect();
    sort_like(&mut rows, order, |r| &r.city);
    Ok(Span { from, to, rows })
}

/// The province's own order; cities it does not list follow by name.
fn sort_like<T>(list: &mut [T], order: &[String], name: impl Fn(&T) -> &String) {
    list.sort_by_key(|x| (order.iter().position(|c| c == name(x)).unwrap_or(usize::MAX), name(x).clone()));
}

/// Everything the briefing of `date` states; `basis` is what `days` stand on
/// (said in the closing line, in English with `en`).
pub fn daily_data(ctx: &Ctx, days: &dyn Days, date: Date, issuer: &str, basis: Basis, en: bool) -> Result<DailyData> {
    let order = ctx.areas()?.cities;
    let year_from = Date::new(date.year(), 1, 1)?;
    let year = span(days, year_from, date, &order)?;
    if year.rows.is_empty() {
        bail!("no data for {year_from} … {date}: import data first (a briefing needs the year to its date)");
    }
    let month = span(days, date.first_of_month(), date, &order)?;

    // The day and the day before, each by the edition in force on it (as `lantian daily --city`).
    let before = date.yesterday()?;
    let city_days = days.city_days(&[], day_number(before), day_number(date), &Source::Auto.options())?;
    let aqi_of = |city: &str, d: Date| -> Option<DayAqi> {
        let day = city_days.get(city)?.iter().find(|x| x.day == day_number(d))?;
        let r = daily_aqi(edition_for(None, day.day), &day.values.aqi_input());
        r.aqi.map(|aqi| DayAqi { aqi, level: Level::from_aqi(aqi), primary: r.primary_label() })
    };
    // Every city of the province, and any other city with data this year.
    let mut names: Vec<String> = order.clone();
    names.extend(year.rows.iter().map(|r| r.city.clone()).filter(|c| !order.contains(c)));
    let cities: Vec<CityDay> =
        names.iter().map(|c| CityDay { city: c.clone(), day: aqi_of(c, date), previous: aqi_of(c, before) }).collect();

    // Worse: the level rose from the day before, or YTD PM2.5 rose year on year.
    let mut worsened = Vec::new();
    for c in &cities {
        let level = match (&c.day, &c.previous) {
            (Some(now), Some(prev)) if now.level > prev.level => Some((now.level, prev.level)),
            _ => None,
        };
        let ytd = year.rows.iter().find(|r| r.city == c.city).and_then(|r| {
            let (now, prev) = (r.cur.pm25?, r.prev.as_ref()?.pm25?);
            (change_pct(Some(now), Some(prev))? > 0.0).then_some((now, prev))
        });
        if level.is_some() || ytd.is_some() {
            worsened.push(Worsened { city: c.city.clone(), level, ytd_pm25: ytd });
        }
    }

    let targets = match ctx.targets()? {
        None => None,
        Some(t) => {
            let mine = lantian_store::targets::Targets {
                target: t.target.into_iter().filter(|t| t.year == date.year()).collect(),
            };
            let mut list: Vec<TargetLine> = check_targets(days, &mine, date)?
                .into_iter()
                .map(|c| TargetLine {
                    area: c.area,
                    year: c.year,
                    indicator: c.indicator.to_string(),
                    so_far: c.so_far,
                    target: c.target,
                    status: c.status,
                    budget: c.budget,
                    remaining_days: c.remaining_days,
                })
                .collect();
            sort_like(&mut list, &order, |t| &t.area);
            Some(list)
        }
    };

    let live = crate::live::live_city_hours(ctx)?.map(|hours| {
        let mut list: Vec<LiveCity> = hours
            .into_iter()
            .map(|h| LiveCity {
                // "2019-07-16T09:00+08:00" → "2019-07-16 09:00" (China time, as the tables print it).
                time: format_label(h.label).replace('T', " ").trim_end_matches("+08:00").to_string(),
                values: h.values,
                aqi: h.aqi.aqi,
                primary: h.aqi.primary_label(),
                city: h.city,
            })
            .collect();
        sort_like(&mut list, &order, |c| &c.city);
        list
    });

    // Said after reading: the station-hours behind the numbers are counted as they are read.
    let generated = crate::today_date();
    let basis = if en {
        format!("{}. Generated by lantian on {generated} from the monitoring data.", basis.describe(days.used(), false))
    } else {
        format!(
            "{}；城市日值为其国控站点日值的算术平均，评价依据GB 3095、HJ 633、HJ 663（各日按当日施行版本）。本简报由lantian于{}年{}月{}日根据监测数据自动生成。",
            basis.describe(days.used(), true),
            generated.year(),
            generated.month(),
            generated.day()
        )
    };
    Ok(DailyData { issuer: issuer.to_string(), date, cities, month, year, targets, worsened, live, basis })
}
