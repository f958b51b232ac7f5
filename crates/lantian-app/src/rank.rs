//! Rankings of cities, counties or regions by composite index, PM2.5,
//! good-day ratio or improvement, with the year-on-year change and the
//! change against the mean of the three previous years.

use crate::assess::{AreaLevel, Source, assess_period, county_period, region_period};
use crate::capture::CaptureShortfall;
use crate::days::Days;
use crate::table::{Cell, Col, Table};
use crate::{Ctx, View, shift_year};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::Edition;
use lantian_core::period::{PeriodStats, change_pct, change_pp};
use lantian_core::rank::{RankBy, Weights, improvement, multi_year_mean, weighted_composite};
use std::collections::BTreeMap;

/// `lantian rank`.
#[derive(Clone, Copy, Debug)]
pub struct RankRequest {
    pub from: Date,
    pub to: Date,
    pub level: AreaLevel,
    pub by: RankBy,
    pub weights: Weights,
    pub edition: Option<Edition>,
    pub source: Source,
}

/// Statistics of every area of `level` for one period.
fn level_period(
    ctx: &Ctx,
    store: &dyn Days,
    a: &RankRequest,
    from: Date,
    to: Date,
) -> Result<BTreeMap<String, PeriodStats>> {
    let list = match a.level {
        AreaLevel::City => assess_period(store, &[], from, to, a.edition, a.source)?,
        AreaLevel::Region => {
            let areas = ctx.areas()?;
            region_period(store, &areas, from, to, a.edition, a.source)?
        }
        AreaLevel::County => {
            let areas = ctx.areas()?;
            if areas.county.is_empty() {
                bail!(
                    "no counties defined: add [[county]] name/stations entries to {}",
                    ctx.data.join("areas.toml").display()
                );
            }
            county_period(store, &areas, from, to, a.edition)?
        }
    };
    Ok(list
        .into_iter()
        .filter(|c| c.stats.valid_days > 0 || c.stats.n_values.iter().any(|&n| n > 0))
        .map(|c| (c.city, c.stats))
        .collect())
}

/// The ranking table (rows in rank order, ties by name).
pub fn rank(ctx: &Ctx, store: &dyn Days, a: &RankRequest) -> Result<Table> {
    let cur = level_period(ctx, store, a, a.from, a.to)?;
    if cur.is_empty() {
        bail!("no data for {}..{}", a.from, a.to);
    }
    let prev = level_period(ctx, store, a, shift_year(a.from, 1), shift_year(a.to, 1))?;
    // The three previous years; the first is `prev`, computed once.
    let mut earlier: Vec<BTreeMap<String, PeriodStats>> = vec![prev.clone()];
    for y in 2..=3 {
        earlier.push(level_period(ctx, store, a, shift_year(a.from, y), shift_year(a.to, y))?);
    }
    let ci = |s: Option<&PeriodStats>| s.and_then(|s| weighted_composite(s, a.weights));
    let names: Vec<&String> = cur.keys().collect();
    let key_values: Vec<Option<f64>> = names
        .iter()
        .map(|n| match a.by {
            RankBy::Composite => ci(cur.get(*n)),
            RankBy::Pm25 => cur[*n].pm25,
            RankBy::GoodRatio => cur[*n].good_ratio,
            RankBy::Improvement => improvement(ci(cur.get(*n)), ci(prev.get(*n))),
        })
        .collect();
    let ranks = lantian_core::rank::rank(a.by, &key_values);
    let mut t = Table::new(vec![
        Col("rank", "排名", "Rank"),
        match a.level {
            AreaLevel::City => Col("city", "城市", "City"),
            AreaLevel::County => Col("county", "县（市、区）", "County"),
            AreaLevel::Region => Col("region", "区域", "Region"),
        },
        Col("composite_index", "综合指数", "Composite index"),
        Col("main_pollutant", "主要污染物", "Main pollutant"),
        Col("pm25", "PM2.5", "PM2.5"),
        Col("good_ratio", "优良天数比例%", "Good ratio %"),
        Col("composite_prev", "综合指数同期", "Composite prev"),
        Col("composite_change", "综合指数同比%", "Composite YoY %"),
        Col("composite_3y", "综合指数三年均值", "Composite 3-yr mean"),
        Col("composite_change_3y", "较三年均值%", "vs 3-yr mean %"),
        Col("pm25_prev", "PM2.5同期", "PM2.5 prev"),
        Col("pm25_change", "PM2.5同比%", "PM2.5 YoY %"),
        Col("pm25_3y", "PM2.5三年均值", "PM2.5 3-yr mean"),
        Col("pm25_change_3y", "PM2.5较三年均值%", "PM2.5 vs 3-yr %"),
        Col("good_ratio_prev", "优良比例同期%", "Good ratio prev %"),
        Col("good_ratio_change", "优良比例变化(百分点)", "Good ratio change (pp)"),
        Col("weights", "权重", "Weights"),
        Col("capture_ok", "数据有效性达标", "Capture OK"),
        Col("capture_failures", "数据有效性说明", "Capture shortfalls"),
    ]);
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| (ranks[i].unwrap_or(u32::MAX), names[i].clone()));
    for i in order {
        let n = names[i];
        let s = &cur[n];
        let p = prev.get(n);
        let c_now = ci(Some(s));
        let c_3y = multi_year_mean(&earlier.iter().map(|m| ci(m.get(n))).collect::<Vec<_>>(), 2);
        let pm_3y = multi_year_mean(&earlier.iter().map(|m| m.get(n).and_then(|s| s.pm25)).collect::<Vec<_>>(), 0);
        let main = s.main_pollutant.map(|p| p.label().to_string()).unwrap_or_default();
        t.push(vec![
            ranks[i].map_or(Cell::Empty, |r| Cell::Int(i64::from(r))),
            Cell::text(n),
            Cell::opt(c_now, 2),
            Cell::text(main),
            Cell::opt(s.pm25, 0),
            Cell::opt(s.good_ratio, 1),
            Cell::opt(ci(p), 2),
            Cell::opt(change_pct(c_now, ci(p)), 1),
            Cell::opt(c_3y, 2),
            Cell::opt(change_pct(c_now, c_3y), 1),
            Cell::opt(p.and_then(|p| p.pm25), 0),
            Cell::opt(change_pct(s.pm25, p.and_then(|p| p.pm25)), 1),
            Cell::opt(pm_3y, 0),
            Cell::opt(change_pct(s.pm25, pm_3y), 1),
            Cell::opt(p.and_then(|p| p.good_ratio), 1),
            Cell::opt(change_pp(s.good_ratio, p.and_then(|p| p.good_ratio)), 1),
            Cell::text(a.weights.to_string()),
            Cell::Bool(s.capture_ok),
            Cell::Capture(CaptureShortfall::from_core(&s.capture_failures)),
        ]);
    }
    Ok(t)
}

/// What the composite index's weights are, said to the reader.
pub fn weights_note(weights: Weights, view: View) -> String {
    match (view.zh(), weights) {
        (true, Weights::Equal) => "综合指数: 六项污染物单项指数等权相加（环办监测〔2018〕19号，默认）".to_string(),
        (true, Weights::Weighted) => "综合指数: 加权（PM2.5×3、NO2×2、O3×2，其余×1；非官方口径）".to_string(),
        (false, w) => format!("composite index weights: {w} (equal = 环办监测〔2018〕19号, the default)"),
    }
}
