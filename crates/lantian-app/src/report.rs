//! The numbers documents are made of: the monthly notice's data and a
//! rectification task's completion data (composed into documents by
//! `lantian-report`), and any table as a document.

use crate::assess::{CityPeriod, Source, assess_period, region_period};
use crate::days::Days;
use crate::table::{Cell as OutCell, Table as OutTable};
use crate::targets::check_targets;
use crate::{Ctx, Lang, shift_year};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::aqi::daily_aqi;
use lantian_core::period::PeriodStats;
use lantian_core::target::Status;
use lantian_core::time::{date_of, day_number};
use lantian_core::{Edition, Level};
use lantian_report::completion::{AreaResult, CompletionData, ProgressLine, TargetResult, YearResult};
use lantian_report::notice::{ActionLine, AreaRow, NoticeData, aggregate};
use lantian_report::{Block, Cell, Doc, Table};
use lantian_store::query::AreaOptions;
use std::collections::BTreeMap;

/// A table as a document table: headers in the chosen language, yes/no
/// in words, a units note when it carries concentrations.
pub fn table_doc(t: &OutTable, lang: Lang, title: &str) -> Doc {
    let zh = lang == Lang::Zh;
    let rows = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    OutCell::Empty => Cell::Empty,
                    OutCell::Text(s) => Cell::Text(s.clone()),
                    OutCell::Int(i) => Cell::Int(*i),
                    OutCell::Num(v, d) => Cell::Num(*v, *d),
                    OutCell::Capture(list) => Cell::text(crate::capture::note(list, lang)),
                    OutCell::Bool(b) => Cell::text(match (zh, b) {
                        (true, true) => "是",
                        (true, false) => "否",
                        (false, true) => "yes",
                        (false, false) => "no",
                    }),
                })
                .collect()
        })
        .collect();
    let mut notes = Vec::new();
    if t.cols.iter().any(|c| c.0.starts_with("pm") || c.0.starts_with("so2") || c.0.starts_with("o3")) {
        notes.push(if zh {
            "注：浓度单位为微克/立方米（CO为毫克/立方米）；比例单位为%；按GB/T 8170修约。".to_string()
        } else {
            "Concentrations in μg/m³ (CO in mg/m³); ratios in %; rounded per GB/T 8170.".to_string()
        });
    }
    let table = Table {
        caption: title.to_string(),
        // "lantian-assess-2019-01-01_2019-12-31" → sheet "assess".
        sheet: title.split('-').nth(1).unwrap_or(title).chars().take(28).collect(),
        header: t.cols.iter().map(|c| (if zh { c.1 } else { c.2 }).to_string()).collect(),
        rows,
        notes,
        label_column: false,
        fills: Vec::new(),
    };
    Doc { title: title.to_string(), blocks: vec![Block::Table(table)], landscape: true, ..Default::default() }
}

/// "2019年7月", "2019年1—7月", "2019年", or "2019年7月1日—7月7日".
pub fn period_label(from: Date, to: Date) -> String {
    if from == to {
        return format!("{}年{}月{}日", from.year(), from.month(), from.day());
    }
    let whole_month = from.day() == 1 && to == to.last_of_month();
    if from.year() == to.year() && whole_month {
        if from.month() == 1 && to.month() == 12 {
            return format!("{}年", from.year());
        }
        if from.month() == to.month() {
            return format!("{}年{}月", from.year(), from.month());
        }
        return format!("{}年{}—{}月", from.year(), from.month(), to.month());
    }
    format!("{}年{}月{}日—{}年{}月{}日", from.year(), from.month(), from.day(), to.year(), to.month(), to.day())
        .replacen(&format!("—{}年", from.year()), "—", usize::from(from.year() == to.year()))
}

/// The days the notice's level calendar shows and their labels: the whole
/// period when it is a month or shorter (a week across two months keeps
/// all seven days), else the period's last month.
pub fn calendar_window(from: Date, to: Date) -> (Date, Vec<String>) {
    let first = if day_number(to) - day_number(from) < 31 { from } else { from.max(to.first_of_month()) };
    let labels = (day_number(first)..=day_number(to))
        .map(|d| date_of(d).map_or_else(String::new, |x| x.day().to_string()))
        .collect();
    (first, labels)
}

fn stats_by_area(list: Vec<CityPeriod>) -> BTreeMap<String, PeriodStats> {
    list.into_iter().map(|c| (c.city, c.stats)).collect()
}

/// Rows of areas with their baseline and three previous years' PM2.5.
fn area_rows(
    cur: Vec<CityPeriod>,
    mut period_of: impl FnMut(Date, Date) -> Result<BTreeMap<String, PeriodStats>>,
    from: Date,
    to: Date,
) -> Result<Vec<AreaRow>> {
    let years: Vec<BTreeMap<String, PeriodStats>> =
        (1..=3).map(|k| period_of(shift_year(from, k), shift_year(to, k))).collect::<Result<_>>()?;
    Ok(cur
        .into_iter()
        .filter(|c| c.stats.valid_days > 0 || c.stats.n_values.iter().any(|&n| n > 0))
        .map(|c| {
            let has = |s: &&PeriodStats| s.valid_days > 0 || s.pm25.is_some();
            AreaRow {
                prev: years[0].get(&c.city).filter(has).cloned(),
                pm25_3y: [2, 1, 0].map(|k| years[k].get(&c.city).and_then(|s| s.pm25)),
                name: c.city,
                cur: c.stats,
            }
        })
        .collect())
}

/// Gather everything the notice states for `from..=to`.
pub fn notice_data(
    ctx: &Ctx,
    store: &dyn Days,
    period: &str,
    from: Date,
    to: Date,
    issuer: &str,
    top: usize,
) -> Result<NoticeData> {
    let city_period = |a: Date, b: Date| assess_period(store, &[], a, b, None, Source::Auto);
    let mut cities = area_rows(city_period(from, to)?, |a, b| city_period(a, b).map(stats_by_area), from, to)?;
    if cities.is_empty() {
        bail!("no data for {} … {}: import data first", from, to);
    }
    let areas = ctx.areas()?;
    // The province's own order; cities it does not list follow by name.
    cities.sort_by_key(|c| (areas.cities.iter().position(|x| *x == c.name).unwrap_or(usize::MAX), c.name.clone()));
    let region_of = |a: Date, b: Date| region_period(store, &areas, a, b, None, Source::Auto);
    let mut regions = area_rows(region_of(from, to)?, |a, b| region_of(a, b).map(stats_by_area), from, to)?;
    // The order areas.toml gives, as notices list them.
    regions.sort_by_key(|r| areas.region.iter().position(|x| x.name == r.name));

    // Non-attainment and attainment cities, by the previous year's annual assessment.
    let last_year = to.year() - 1;
    let (y0, y1) = (Date::new(last_year, 1, 1)?, Date::new(last_year, 12, 31)?);
    let limits = lantian_core::LimitSet::for_date(y1).grade2();
    let judged: BTreeMap<String, Option<bool>> = city_period(y0, y1)?
        .into_iter()
        .map(|c| {
            let a = lantian_core::period::attains(&c.stats, &limits);
            (c.city, a)
        })
        .collect();
    let verdict = |name: &str| judged.get(name).copied().flatten();
    let undecided: Vec<String> = cities.iter().filter(|c| verdict(&c.name).is_none()).map(|c| c.name.clone()).collect();
    let (attainment, attainment_note) = if undecided.is_empty() {
        let (ok, non): (Vec<&AreaRow>, Vec<&AreaRow>) = cities.iter().partition(|c| verdict(&c.name) == Some(true));
        let names = |v: Vec<&AreaRow>| v.into_iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        (Some((last_year.to_string(), names(non), names(ok))), None)
    } else {
        let who = if undecided.len() == cities.len() {
            "各市（州）".to_string()
        } else if undecided.len() > 5 {
            format!("{}等{}个市（州）", undecided[..3].join("、"), undecided.len())
        } else {
            undecided.join("、")
        };
        (None, Some(format!("因{who}{last_year}年度六项污染物评价数据不全，本期不分未达标城市和达标城市统计。")))
    };

    // Province PM2.5 by month, this year (up to the period's end) and last year.
    let mut trend = Vec::new();
    for (k, label) in [(0i16, format!("{}年", to.year())), (1, format!("{}年", to.year() - 1))] {
        let mut months = vec![None; 12];
        for m in 1..=12i8 {
            let first = Date::new(to.year() - k, m, 1)?;
            if k == 0 && first > to {
                break;
            }
            let last = if k == 0 { first.last_of_month().min(to) } else { first.last_of_month() };
            let list = city_period(first, last)?;
            let with: Vec<&PeriodStats> = list.iter().map(|c| &c.stats).filter(|s| s.valid_days > 0).collect();
            // The province value of a month needs every city of the period.
            if with.len() == cities.len() {
                months[(m - 1) as usize] = aggregate(with).pm25;
            }
        }
        trend.push((label, months));
    }

    let (cal_from, calendar_days) = calendar_window(from, to);
    let days = store.city_days(&[], day_number(cal_from), day_number(to), &AreaOptions::default())?;
    let n_days = calendar_days.len();
    let calendar: Vec<(String, Vec<Option<u8>>)> = cities
        .iter()
        .map(|c| {
            let mut levels = vec![None; n_days];
            for d in days.get(&c.name).into_iter().flatten() {
                let edition = date_of(d.day).map_or(Edition::E2026, Edition::for_date);
                if let Some(aqi) = daily_aqi(edition, &d.values.aqi_input()).aqi {
                    levels[(d.day - day_number(cal_from)) as usize] = Some(Level::from_aqi(aqi).number());
                }
            }
            (c.name.clone(), levels)
        })
        .collect();

    // Actions the policy recorded for this period.
    let mut ledger = ctx.ledger()?;
    let actions = ledger
        .list(None, None)?
        .into_iter()
        .filter(|a| a.period == period)
        .map(|a| ActionLine {
            kind: lantian_core::policy::ActionKind::ALL
                .into_iter()
                .find(|k| k.key() == a.kind)
                .map_or(a.kind.clone(), |k| k.zh().to_string()),
            area: a.area,
            rule_name: a.rule_name,
            amount: a.amount,
            status: match a.status.as_str() {
                "open" => "执行中".to_string(),
                "acknowledged" => "已签收".to_string(),
                "lifted" => "已解除".to_string(),
                s => s.to_string(),
            },
        })
        .collect();
    let editions = if to < Date::new(2026, 3, 1)? {
        "GB 3095-2012、HJ 633-2012、HJ 663-2013"
    } else if from >= Date::new(2026, 3, 1)? {
        "GB 3095-2026、HJ 633-2026、HJ 663-2026"
    } else {
        "2026年3月1日前按GB 3095-2012、HJ 633-2012、HJ 663-2013，此后按2026年版"
    };
    let no_data: Vec<String> = areas.cities.iter().filter(|c| !cities.iter().any(|r| &r.name == *c)).cloned().collect();
    let generated = crate::today_date();
    let generated = format!("{}年{}月{}日", generated.year(), generated.month(), generated.day());
    Ok(NoticeData {
        province: "四川省".into(),
        issuer: issuer.into(),
        period_label: period_label(from, to),
        prev_label: period_label(shift_year(from, 1), shift_year(to, 1)),
        cities,
        regions,
        key_groups: areas.group.iter().map(|g| (g.name.clone(), g.cities.clone())).collect(),
        attainment,
        attainment_note,
        no_data,
        actions,
        trend,
        calendar,
        calendar_days,
        calendar_label: period_label(cal_from, to),
        basis: format!(
            "说明：数据来源为国家环境空气质量监测网城市站点监测数据{audited}；评价依据{editions}；城市日值为其国控站点日值的算术平均；综合指数以{}所执行标准的二级浓度限值计算。本通报由lantian于{}根据监测数据自动生成，所有数字均可复核。",
            period_label(to, to),
            generated,
            audited = {
                let u = store.used();
                if u.audited > 0 {
                    format!(
                        "（审核数据，审核站时占{:.1}%，其余为实时数据）",
                        100.0 * u.audited as f64 / (u.audited + u.raw) as f64
                    )
                } else {
                    String::new()
                }
            }
        ),
        top_n: top,
    })
}

fn indicator_zh(key: &str) -> &'static str {
    match key {
        "good_ratio" => "优良天数率",
        "pm25" => "PM2.5年均浓度",
        "pm10" => "PM10年均浓度",
        "heavy_days" => "重污染天数",
        "pm25_ytd" => "PM2.5常态化管控",
        _ => "目标",
    }
}

/// Completion data of task `number`: the ledger's record, and the goal's
/// targets judged at each goal year's end.
pub fn completion_data(ctx: &Ctx, days: &dyn Days, number: i64) -> Result<CompletionData> {
    let mut ledger = ctx.ledger()?;
    let task = lantian_store::tasks::get(ledger.db(), number)?;
    let f = &task.fields;
    let mut results = Vec::new();
    if !f.goal_targets.is_empty() {
        let path = ctx.data.join("targets.toml");
        let targets = if path.exists() {
            lantian_store::targets::Targets::load(&path)?
        } else {
            lantian_store::targets::Targets::default()
        };
        for g in &f.goal_targets {
            let mine = lantian_store::targets::Targets {
                target: targets
                    .target
                    .iter()
                    .filter(|t| t.year == g.year && g.areas.contains(&t.area))
                    .cloned()
                    .collect(),
            };
            let checks = check_targets(days, &mine, Date::new(g.year, 12, 31)?)?;
            let areas = g
                .areas
                .iter()
                .map(|area| AreaResult {
                    area: area.clone(),
                    targets: checks
                        .iter()
                        // The year-end PM2.5 target stands for the normalised-control one.
                        .filter(|c| &c.area == area && c.indicator != "pm25_ytd")
                        .map(|c| {
                            let pct = c.indicator == "good_ratio";
                            let fmt = |v: f64| if pct { format!("{v:.1}%") } else { format!("{v:.0}") };
                            let cmp = if pct { "≥" } else { "≤" };
                            TargetResult {
                                what: indicator_zh(c.indicator).into(),
                                met: c.so_far.and(match c.status {
                                    Status::Met | Status::Secured => Some(true),
                                    Status::Missed => Some(false),
                                    _ => None,
                                }),
                                detail: match c.so_far {
                                    Some(v) => format!("{}，目标{cmp}{}", fmt(v), fmt(c.target)),
                                    None => format!("无数据，目标{cmp}{}", fmt(c.target)),
                                },
                            }
                        })
                        .collect(),
                })
                .collect();
            results.push(YearResult { year: g.year, areas });
        }
    }
    let today = crate::today_date();
    Ok(CompletionData {
        title: f.title.clone(),
        source: f.source.clone(),
        problem: f.problem.clone(),
        units: f.units.clone(),
        goal: f.goal.clone(),
        measures: f.measures.clone(),
        status: task.status.zh().into(),
        deadline: f.deadline.map(|d| d.to_string()),
        overdue: lantian_core::task::is_overdue(task.status, f.deadline, today),
        progress: task
            .progress
            .iter()
            .map(|p| ProgressLine {
                measure: p.measure,
                date: p.date.to_string(),
                author: p.author.clone(),
                text: p.text.clone(),
                indicators: p.indicators.iter().map(crate::tasks::indicator_text).collect(),
                evidence: p.evidence.iter().map(|e| e.name.clone()).collect(),
            })
            .collect(),
        results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn calendar_of_a_week_across_months_keeps_the_week() {
        let (from, to) = crate::parse_period("week:2019-W31").unwrap();
        assert_eq!((from, to), (date(2019, 7, 29), date(2019, 8, 4)));
        let (first, days) = calendar_window(from, to);
        assert_eq!(first, from);
        assert_eq!(days, ["29", "30", "31", "1", "2", "3", "4"]);
        assert_eq!(period_label(first, to), "2019年7月29日—8月4日");
        // A month: itself; a longer period: its last month.
        assert_eq!(calendar_window(date(2019, 7, 1), date(2019, 7, 31)).1.len(), 31);
        let (first, days) = calendar_window(date(2019, 1, 1), date(2019, 7, 15));
        assert_eq!((first, days.len(), days[0].as_str()), (date(2019, 7, 1), 15, "1"));
    }
}
