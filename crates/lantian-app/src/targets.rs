//! Where each annual target stands on a date: the value so far, the status,
//! what the rest of the year may still have, and the chance of making it
//! from the area's own history.

use crate::days::Days;
use crate::table::{Cell, Col, Table};
use crate::{Ctx, View, edition_for, shift_year};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::Pollutant;
use lantian_core::aqi::daily_aqi;
use lantian_core::round::round_half_even;
use lantian_core::target::{
    Status, highest_remaining_mean, historical_probability, non_good_days_affordable, status as target_status,
};
use lantian_core::time::{DayNumber, date_of, day_number};
use lantian_store::query::{AreaDay, AreaOptions};
use std::path::Path;

/// One target of one area, judged on a date.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetCheck {
    pub area: String,
    pub year: i16,
    pub indicator: &'static str,
    pub so_far: Option<f64>,
    pub target: f64,
    pub status: Status,
    /// Good ratio: non-good days the rest of the year can still have;
    /// PM2.5/PM10: the highest mean the remaining days may have; heavy days:
    /// heavy days left.
    pub budget: Option<f64>,
    pub remaining_days: u32,
    pub probability: Option<f64>,
    pub history_years: usize,
}

/// What an area's days add up to over a window.
#[derive(Default, Clone, Copy)]
struct Tally {
    valid: u32,
    good: u32,
    heavy: u32,
    pm25: (f64, u32),
    pm10: (f64, u32),
}

/// Tally of days `from..=to` of `list` (sorted by day).
fn tally(list: &[AreaDay], from: DayNumber, to: DayNumber) -> Tally {
    let mut t = Tally::default();
    if from > to {
        return t;
    }
    let (lo, hi) = (list.partition_point(|d| d.day < from), list.partition_point(|d| d.day <= to));
    for d in &list[lo..hi] {
        if let Some(aqi) = daily_aqi(edition_for(None, d.day), &d.values.aqi_input()).aqi {
            t.valid += 1;
            t.good += u32::from(aqi <= 100);
            t.heavy += u32::from(aqi > 200);
        }
        if let Some(v) = d.values.pm25 {
            t.pm25 = (t.pm25.0 + v, t.pm25.1 + 1);
        }
        if let Some(v) = d.values.pm10 {
            t.pm10 = (t.pm10.0 + v, t.pm10.1 + 1);
        }
    }
    t
}

/// Years of history used for the probability, and the minimum needed.
const HISTORY_YEARS: i16 = 10;
const MIN_HISTORY_YEARS: usize = 3;

/// Judge every target on `as_of` (see `lantian_core::target`). The
/// probability is the share of the area's earlier years in which the same
/// remaining part of the year (same calendar dates) did what is now needed;
/// a year counts when its data cover at least 90 % of those dates.
pub fn check_targets(
    days: &dyn Days,
    targets: &lantian_store::targets::Targets,
    as_of: Date,
) -> Result<Vec<TargetCheck>> {
    let mut out = Vec::new();
    for t in &targets.target {
        let (start, end) = (Date::new(t.year, 1, 1)?, Date::new(t.year, 12, 31)?);
        let (s, e, a) = (day_number(start), day_number(end), day_number(as_of));
        let last = a.min(e);
        let remaining = (e - last.max(s - 1)).max(0) as u32;
        let year_over = remaining == 0;
        // The same remaining dates in earlier years.
        let first_remaining = date_of(last.max(s - 1) + 1).unwrap_or(end);
        // The area's days, read once for the year and its history.
        let earliest = day_number(shift_year(first_remaining, HISTORY_YEARS)).min(s);
        let list = days
            .city_days(std::slice::from_ref(&t.area), earliest, e, &AreaOptions::default())?
            .remove(&t.area)
            .unwrap_or_default();
        let so_far = tally(&list, s, last);
        let mut history: Vec<Tally> = Vec::new();
        for k in 1..=HISTORY_YEARS {
            let (hf, ht) = (shift_year(first_remaining, k), shift_year(end, k));
            let h = tally(&list, day_number(hf), day_number(ht));
            if remaining > 0 && f64::from(h.valid) >= 0.9 * f64::from(remaining) {
                history.push(h);
            }
        }
        let mut push = |indicator: &'static str,
                        so: Option<f64>,
                        target: f64,
                        budget: Option<f64>,
                        secured: bool,
                        met_now: bool,
                        ok: Vec<bool>| {
            let probability = if year_over { None } else { historical_probability(&ok, MIN_HISTORY_YEARS) };
            let status = target_status(year_over, met_now, budget.is_some(), secured, probability);
            out.push(TargetCheck {
                area: t.area.clone(),
                year: t.year,
                indicator,
                so_far: so,
                target,
                status,
                budget,
                remaining_days: remaining,
                probability,
                history_years: if year_over { 0 } else { ok.len() },
            });
        };
        if let Some(g) = t.good_ratio {
            let ratio = (so_far.valid > 0)
                .then(|| round_half_even(100.0 * f64::from(so_far.good) / f64::from(so_far.valid), 1));
            let afford = non_good_days_affordable(so_far.good, so_far.valid, remaining, g);
            // Earlier years' non-good days on those dates, scaled to the days to come.
            let ok = history
                .iter()
                .map(|h| {
                    f64::from(h.valid - h.good) * f64::from(remaining) / f64::from(h.valid)
                        <= f64::from(afford.unwrap_or(0))
                })
                .collect();
            push(
                "good_ratio",
                ratio,
                g,
                afford.map(f64::from),
                afford == Some(remaining),
                ratio.is_some_and(|r| r >= g),
                ok,
            );
        }
        for (indicator, limit, sum_n, pick) in [
            ("pm25", t.pm25, so_far.pm25, (|h: &Tally| h.pm25) as fn(&Tally) -> (f64, u32)),
            ("pm10", t.pm10, so_far.pm10, |h: &Tally| h.pm10),
        ] {
            let Some(limit) = limit else { continue };
            let mean = (sum_n.1 > 0).then(|| Pollutant::Pm25.report(sum_n.0 / f64::from(sum_n.1)));
            let budget = highest_remaining_mean(sum_n.0, sum_n.1, remaining, limit);
            let ok = history
                .iter()
                .map(|h| {
                    let (s, n) = pick(h);
                    n > 0 && s / f64::from(n) <= budget.unwrap_or(-1.0)
                })
                .collect();
            push(indicator, mean, limit, budget, year_over && budget.is_some(), mean.is_some_and(|m| m <= limit), ok);
        }
        if let Some(limit) = t.heavy_days {
            let left = limit.checked_sub(so_far.heavy);
            let ok = history.iter().map(|h| left.is_some_and(|l| h.heavy <= l)).collect();
            push(
                "heavy_days",
                Some(f64::from(so_far.heavy)),
                f64::from(limit),
                left.map(f64::from),
                left.is_some_and(|l| l >= remaining),
                left.is_some(),
                ok,
            );
        }
        // Normalised-control target of the month: year-to-date PM2.5 at the month's end.
        let month = if a > e { 12 } else { as_of.month() };
        if let (true, Some(limit)) = (a >= s, t.pm25_ytd_for(month)) {
            let month_end = day_number(Date::new(t.year, month, 1)?.last_of_month());
            let left = (month_end - last).max(0) as u32;
            let (sum, n) = so_far.pm25;
            let mean = (n > 0).then(|| Pollutant::Pm25.report(sum / f64::from(n)));
            let budget = highest_remaining_mean(sum, n, left, limit);
            let met_now = mean.is_some_and(|m| m <= limit);
            out.push(TargetCheck {
                area: t.area.clone(),
                year: t.year,
                indicator: "pm25_ytd",
                so_far: mean,
                target: limit,
                status: target_status(left == 0, met_now, budget.is_some(), left == 0 && met_now, None),
                budget,
                remaining_days: left,
                probability: None,
                history_years: 0,
            });
        }
    }
    Ok(out)
}

/// The targets table of `lantian target check` (`file`, else the installed targets).
pub fn targets_table(ctx: &Ctx, days: &dyn Days, as_of: Date, file: Option<&Path>, view: View) -> Result<Table> {
    let path = file.map_or_else(|| ctx.data.join("targets.toml"), Path::to_path_buf);
    if !path.exists() {
        bail!(
            "no targets: `lantian target import FILE` first, or pass --file (sample/targets-2019.toml is an example)"
        );
    }
    let targets = lantian_store::targets::Targets::load(&path)?;
    let rows = check_targets(days, &targets, as_of)?;
    let mut t = Table::new(vec![
        Col("area", "地区", "Area"),
        Col("year", "年度", "Year"),
        Col("indicator", "指标", "Indicator"),
        Col("so_far", "截至当日", "So far"),
        Col("target", "目标", "Target"),
        Col("status", "状态", "Status"),
        Col("budget", "余量", "Budget"),
        Col("budget_meaning", "余量含义", "Budget meaning"),
        Col("remaining_days", "剩余天数", "Days left"),
        Col("probability", "达标概率", "Probability"),
        Col("history_years", "历史年数", "History years"),
    ]);
    for r in rows {
        let (dec, meaning) = match (r.indicator, view.zh()) {
            ("good_ratio", true) => (1, "剩余时段最多可有非优良天数"),
            ("good_ratio", false) => (1, "non-good days the rest of the year may have"),
            ("heavy_days", true) => (0, "剩余可有重污染天数"),
            ("heavy_days", false) => (0, "heavy-pollution days left"),
            ("pm25_ytd", true) => (0, "本月剩余天数平均浓度上限（常态化管控）"),
            ("pm25_ytd", false) => (0, "highest mean for the rest of the month (normalised control)"),
            (_, true) => (0, "剩余时段平均浓度上限"),
            (_, false) => (0, "highest mean the remaining days may have"),
        };
        t.push(vec![
            Cell::text(&r.area),
            Cell::Int(i64::from(r.year)),
            Cell::text(r.indicator),
            Cell::opt(r.so_far, dec),
            Cell::Num(r.target, dec),
            Cell::text(if view.words() { r.status.zh() } else { r.status.key() }),
            Cell::opt(r.budget, if r.indicator.starts_with("pm") { 1 } else { 0 }),
            Cell::text(meaning),
            Cell::Int(i64::from(r.remaining_days)),
            Cell::opt(r.probability.map(|p| 100.0 * p), 0),
            Cell::Int(r.history_years as i64),
        ]);
    }
    Ok(t)
}
