//! The monthly notice (各市（州）环境空气质量通报), composed from the
//! assessed statistics. Every sentence is built from a number; where a
//! comparison baseline is missing the sentence says so and names what is
//! missing instead of printing a change.
//!
//! Province figures (one reading, stated in docs/STANDARDS.md): PM2.5 and
//! PM10 = arithmetic mean of the cities' period means as reported
//! (integers), rounded per GB/T 8170; good-day ratio = all cities' good days
//! over all their valid days; heavy-pollution days counted in 天次 (one per
//! city and day). A province figure needs every city; a change needs every
//! city in both periods.

use crate::chart;
use crate::doc::{Block, Cell, Doc, Table};
use crate::text::{conc, count_change, join, ordinal, pct, pp, ratio};
use lantian_core::period::{PeriodStats, change_pct, change_pp, competition_rank};
use lantian_core::round::round_half_even;

/// One area (city or region) in the notice.
#[derive(Clone, Debug)]
pub struct AreaRow {
    pub name: String,
    pub cur: PeriodStats,
    /// The same period a year earlier.
    pub prev: Option<PeriodStats>,
    /// PM2.5 of the same period in each of the three previous years
    /// (oldest first), `None` where missing.
    pub pm25_3y: [Option<f64>; 3],
}

/// An action the policy run recorded for the period.
#[derive(Clone, Debug)]
pub struct ActionLine {
    pub area: String,
    /// Chinese name of the kind (约谈, 提醒函 …).
    pub kind: String,
    pub rule_name: String,
    pub amount: Option<f64>,
    pub status: String,
}

#[derive(Clone, Debug)]
pub struct NoticeData {
    /// 四川省
    pub province: String,
    /// 四川省生态环境厅
    pub issuer: String,
    /// 2019年7月 / 2019年1—7月
    pub period_label: String,
    /// 2018年7月
    pub prev_label: String,
    pub cities: Vec<AreaRow>,
    pub regions: Vec<AreaRow>,
    /// Named groups of cities (e.g. 重点城市) with their members, if configured.
    pub key_groups: Vec<(String, Vec<String>)>,
    /// Sichuan reports non-attainment and attainment cities apart: the
    /// previous year's annual attainment of each city, when every city's
    /// is decidable (year label, non-attaining, attaining) …
    pub attainment: Option<(String, Vec<String>, Vec<String>)>,
    /// … or why the split is not made.
    pub attainment_note: Option<String>,
    /// Cities of the province with no data at all in the period.
    pub no_data: Vec<String>,
    pub actions: Vec<ActionLine>,
    /// Province PM2.5 by month: (label, 12 slots).
    pub trend: Vec<(String, Vec<Option<f64>>)>,
    /// Daily AQI levels per city for the calendar, and the day labels.
    pub calendar: Vec<(String, Vec<Option<u8>>)>,
    pub calendar_days: Vec<String>,
    pub calendar_label: String,
    /// Method line: editions, data source, date of generation.
    pub basis: String,
    /// How many cities/regions to name as most improved / rebounded.
    pub top_n: usize,
}

/// A province (or group) figure from its members.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregate {
    pub members: usize,
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub good_ratio: Option<f64>,
    pub good_days: u32,
    pub valid_days: u32,
    pub heavy_days: u32,
}

/// Aggregate the members' statistics (see the module docs).
pub fn aggregate<'a>(stats: impl IntoIterator<Item = &'a PeriodStats>) -> Aggregate {
    let mut a = Aggregate::default();
    let (mut pm25, mut pm10) = (Some(0.0), Some(0.0));
    for s in stats {
        a.members += 1;
        pm25 = pm25.zip(s.pm25).map(|(x, v)| x + round_half_even(v, 0));
        pm10 = pm10.zip(s.pm10).map(|(x, v)| x + round_half_even(v, 0));
        a.good_days += s.good_days;
        a.valid_days += s.valid_days;
        a.heavy_days += s.heavy_days;
    }
    if a.members == 0 {
        return a;
    }
    let n = a.members as f64;
    a.pm25 = pm25.map(|s| round_half_even(s / n, 0));
    a.pm10 = pm10.map(|s| round_half_even(s / n, 0));
    a.good_ratio =
        (a.valid_days > 0).then(|| round_half_even(100.0 * f64::from(a.good_days) / f64::from(a.valid_days), 1));
    a
}

/// The three-year mean of the same period, when all three years are there.
fn three_year(values: &[Option<f64>; 3]) -> Option<f64> {
    lantian_core::rank::multi_year_mean(values, 0)
}

/// Names for a sentence: all of them up to five, else the first three and
/// the count ("乐山、内江、凉山州等20个市（州）").
fn some_names(names: &[String]) -> String {
    if names.len() <= 5 { join(names) } else { format!("{}等{}个市（州）", join(&names[..3]), names.len()) }
}

/// Sentences on one aggregate and its baseline. Changes are printed only
/// where the baseline exists; otherwise one closing sentence says which
/// comparison is not made and why.
fn overview_sentence(
    who: &str,
    cur: &Aggregate,
    prev: Option<&Aggregate>,
    pm25_3y: Option<f64>,
    prev_label: &str,
    missing_prev: &[String],
) -> String {
    // One area counts days (天); several count area-days (天次).
    let unit = if cur.members > 1 { "天次" } else { "天" };
    let mut parts = Vec::new();
    match cur.good_ratio {
        Some(r) => {
            let change = prev.and_then(|p| p.good_ratio).map(|p| format!("，同比{}", pp(r - p))).unwrap_or_default();
            parts.push(format!(
                "优良天数率为{}%（优良{}{unit}/有效{}{unit}）{change}",
                ratio(r),
                cur.good_days,
                cur.valid_days
            ));
        }
        None => parts.push("无有效日数据，优良天数率无法计算".into()),
    }
    match cur.pm25 {
        Some(v) => {
            let yoy = prev
                .and_then(|p| p.pm25)
                .map(|p| format!("，同比{}", pct(change_pct(Some(v), Some(p)).unwrap_or(0.0))))
                .unwrap_or_default();
            let three = pm25_3y
                .map(|m| format!("，较近三年同期均值（{}微克/立方米）{}", conc(m), pct(100.0 * (v - m) / m)))
                .unwrap_or_default();
            parts.push(format!("PM2.5平均浓度为{}微克/立方米{yoy}{three}", conc(v)));
        }
        None => parts.push("PM2.5平均浓度因部分地区无数据而无法计算".into()),
    }
    if let Some(v) = cur.pm10 {
        let yoy = prev
            .and_then(|p| p.pm10)
            .map(|p| format!("，同比{}", pct(change_pct(Some(v), Some(p)).unwrap_or(0.0))))
            .unwrap_or_default();
        parts.push(format!("PM10平均浓度为{}微克/立方米{yoy}", conc(v)));
    }
    let heavy = prev.map(|p| format!("，同比{}", count_change(cur.heavy_days, p.heavy_days, unit))).unwrap_or_default();
    parts.push(if cur.heavy_days == 0 {
        format!("未出现重度及以上污染{heavy}")
    } else {
        format!("出现重度及以上污染{}{unit}{heavy}", cur.heavy_days)
    });
    let mut s = format!("{who}{}。", parts.join("；"));
    if prev.is_none() {
        if missing_prev.is_empty() {
            s.push_str(&format!("因无{prev_label}可比数据，不作同比分析"));
        } else {
            s.push_str(&format!("因{}无{prev_label}数据，不作同比分析", some_names(missing_prev)));
        }
        s.push_str(if pm25_3y.is_none() { "，也不与近三年同期均值比较。" } else { "。" });
    } else if pm25_3y.is_none() && cur.pm25.is_some() {
        s.push_str("近三年同期数据不全，不与三年均值比较。");
    }
    s
}

fn missing_prev(rows: &[&AreaRow]) -> Vec<String> {
    rows.iter().filter(|r| r.prev.as_ref().is_none_or(|p| p.pm25.is_none())).map(|r| r.name.clone()).collect()
}

/// Baseline aggregate only when every member has it.
fn prev_aggregate(rows: &[&AreaRow]) -> Option<Aggregate> {
    let prev: Option<Vec<&PeriodStats>> = rows.iter().map(|r| r.prev.as_ref()).collect();
    prev.map(aggregate).filter(|a| a.pm25.is_some())
}

fn three_year_aggregate(rows: &[&AreaRow]) -> Option<f64> {
    let mut years = [Some(0.0); 3];
    for r in rows {
        for (y, v) in years.iter_mut().zip(r.pm25_3y) {
            *y = y.zip(v).map(|(s, v)| s + round_half_even(v, 0));
        }
    }
    let n = rows.len() as f64;
    if rows.is_empty() {
        return None;
    }
    three_year(&years.map(|y| y.map(|s| round_half_even(s / n, 0))))
}

/// Compose the notice.
pub fn compose(d: &NoticeData) -> crate::Result<Doc> {
    let mut blocks = Vec::new();
    let all: Vec<&AreaRow> = d.cities.iter().collect();
    let n = all.len();
    let cur = aggregate(all.iter().map(|r| &r.cur));
    let prev = prev_aggregate(&all);
    let missing = missing_prev(&all);
    blocks.push(Block::Para(format!(
        "根据国家环境空气质量监测网数据，按照《环境空气质量标准》《环境空气质量评价技术规范》等有关规定，现将{}全省{n}个市（州）环境空气质量状况通报如下。",
        d.period_label
    )));

    if !d.no_data.is_empty() {
        blocks.push(Block::Para(format!(
            "{}本期无监测数据，以下全省统计仅含有数据的{n}个市（州）。",
            some_names(&d.no_data)
        )));
    }

    // (1) Overview: province, key cities, regions.
    blocks.push(Block::Heading(1, format!("{}、全省环境空气质量总体情况", ordinal(1))));
    // Cities whose PM10/PM2.5 days a sand-dust or exceptional event touched,
    // said the way official notices say it (扣除沙尘影响后…).
    let dusty: Vec<String> = d
        .cities
        .iter()
        .filter(|r| r.cur.deducted_days > 0)
        .map(|r| format!("{}{}天", r.name, r.cur.deducted_days))
        .collect();
    if !dusty.is_empty() {
        blocks.push(Block::Para(format!(
            "本期{}个市（州）受沙尘天气等影响，扣除天数分别为：{}。以下PM10、PM2.5浓度及综合指数均为扣除沙尘影响后数据，优良天数比例和重污染天数未扣除沙尘影响。",
            dusty.len(),
            dusty.join("，")
        )));
    }
    let lead = if dusty.is_empty() { String::new() } else { "扣除沙尘影响后，".to_string() };
    blocks.push(Block::Para(overview_sentence(
        &format!("{}，{lead}全省{n}个市（州）", d.period_label),
        &cur,
        prev.as_ref(),
        three_year_aggregate(&all),
        &d.prev_label,
        if prev.is_none() && missing.len() < n { &missing } else { &[] },
    )));
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    if let Some((year, non, ok)) = &d.attainment {
        groups.push((format!("{year}年度未达标城市"), non.clone()));
        groups.push((format!("{year}年度达标城市"), ok.clone()));
    }
    if let Some(note) = &d.attainment_note {
        blocks.push(Block::Para(note.clone()));
    }
    groups.extend(d.key_groups.iter().cloned());
    for (group, members) in &groups {
        let rows: Vec<&AreaRow> = d.cities.iter().filter(|r| members.contains(&r.name)).collect();
        if !rows.is_empty() {
            let agg = aggregate(rows.iter().map(|r| &r.cur));
            let miss = missing_prev(&rows);
            blocks.push(Block::Para(overview_sentence(
                &format!("{group}（{}个）", rows.len()),
                &agg,
                prev_aggregate(&rows).as_ref(),
                three_year_aggregate(&rows),
                &d.prev_label,
                if miss.len() < rows.len() { &miss } else { &[] },
            )));
        }
    }
    for r in &d.regions {
        let agg = aggregate([&r.cur]);
        let p = r.prev.as_ref().map(|p| aggregate([p])).filter(|a| a.pm25.is_some());
        blocks.push(Block::Para(overview_sentence(
            &r.name,
            &agg,
            p.as_ref(),
            three_year(&r.pm25_3y),
            &d.prev_label,
            &[],
        )));
    }

    // (2) Most improved and most rebounded.
    blocks.push(Block::Heading(1, format!("{}、各市（州）改善和反弹情况", ordinal(2))));
    blocks.extend(improvement_paragraphs(d));

    // (3) Ranking table.
    blocks.push(Block::Heading(1, format!("{}、各市（州）环境空气质量综合指数排名", ordinal(3))));
    let ranked = ranking(&d.cities);
    blocks.push(Block::Para(ranking_sentence(&ranked)));
    blocks.push(Block::Table(ranking_table(&ranked, &d.period_label)));

    // (4) Regions.
    if !d.regions.is_empty() {
        blocks.push(Block::Heading(1, format!("{}、各区域环境空气质量状况", ordinal(4))));
        blocks.push(Block::Table(region_table(&d.regions, &d.period_label)));
    }

    // (5) Actions.
    let h = if d.regions.is_empty() { 4 } else { 5 };
    blocks.push(Block::Heading(1, format!("{}、考核问责措施", ordinal(h))));
    blocks.extend(action_paragraphs(d));

    // (6) Charts.
    blocks.push(Block::Heading(1, format!("{}、图表", ordinal(h + 1))));
    // The ranking as bars; without a ranking, PM2.5 from low to high.
    let image = if ranked.iter().all(|(_, k)| k.is_some()) {
        let labels: Vec<String> = ranked.iter().map(|(r, _)| r.name.clone()).collect();
        let values: Vec<Option<f64>> = ranked.iter().map(|(r, _)| r.cur.composite_index).collect();
        chart::bars("ranking", &format!("图1 {}各市（州）环境空气质量综合指数", d.period_label), &labels, &values, 2)?
    } else {
        let mut by: Vec<&AreaRow> = d.cities.iter().collect();
        by.sort_by(|a, b| a.cur.pm25.unwrap_or(f64::MAX).total_cmp(&b.cur.pm25.unwrap_or(f64::MAX)));
        let labels: Vec<String> = by.iter().map(|r| r.name.clone()).collect();
        let values: Vec<Option<f64>> = by.iter().map(|r| r.cur.pm25.map(|v| round_half_even(v, 0))).collect();
        chart::bars(
            "ranking",
            &format!("图1 {}各市（州）PM2.5平均浓度（微克/立方米）", d.period_label),
            &labels,
            &values,
            0,
        )?
    };
    blocks.push(Block::Image(image));
    blocks.push(Block::Image(chart::monthly_trend(
        "pm25_trend",
        &format!("图2 全省PM2.5月均浓度变化（{}）", d.province),
        "微克/立方米",
        &d.trend,
    )?));
    if !d.calendar.is_empty() {
        blocks.push(Block::Image(chart::level_calendar(
            "aqi_calendar",
            &format!("图3 {}各市（州）逐日空气质量级别", d.calendar_label),
            &d.calendar,
            &d.calendar_days,
        )?));
    }
    blocks.push(Block::Para(d.basis.clone()));
    Ok(Doc {
        title: format!("{}环境空气质量状况通报", d.period_label),
        subtitle: vec![d.issuer.clone()],
        blocks,
        landscape: false,
    })
}

/// Cities with their composite-index ranks, best first. Ranks only when
/// every city has its index: ranking a subset would misplace the others.
/// Without ranks, the province's own order.
fn ranking(cities: &[AreaRow]) -> Vec<(&AreaRow, Option<u32>)> {
    let complete = cities.iter().all(|c| c.cur.composite_index.is_some());
    let ranks = if complete {
        competition_rank(&cities.iter().map(|c| c.cur.composite_index).collect::<Vec<_>>())
    } else {
        vec![None; cities.len()]
    };
    let mut out: Vec<(usize, &AreaRow, Option<u32>)> =
        cities.iter().zip(ranks).enumerate().map(|(i, (c, r))| (i, c, r)).collect();
    out.sort_by_key(|(i, _, k)| (k.unwrap_or(u32::MAX), *i));
    out.into_iter().map(|(_, c, k)| (c, k)).collect()
}

fn ranking_sentence(ranked: &[(&AreaRow, Option<u32>)]) -> String {
    let with: Vec<&(&AreaRow, Option<u32>)> = ranked.iter().filter(|(_, k)| k.is_some()).collect();
    if with.len() < ranked.len() || with.len() < 2 {
        let lacking: Vec<String> =
            ranked.iter().filter(|(r, _)| r.cur.composite_index.is_none()).map(|(r, _)| r.name.clone()).collect();
        let mut stats: Vec<&str> = Vec::new();
        for (r, _) in ranked {
            for (p, v) in lantian_core::Pollutant::ALL.iter().zip(r.cur.single_index) {
                let name = match p {
                    lantian_core::Pollutant::O3 => "O3日最大8小时平均第90百分位数",
                    lantian_core::Pollutant::Co => "CO日均值第95百分位数",
                    other => other.label(),
                };
                if v.is_none() && !stats.contains(&name) {
                    stats.push(name);
                }
            }
        }
        return format!(
            "本期{}缺少计算综合指数所需的{}，不作综合指数排名，下表按行政区划顺序列出。",
            some_names(&lacking),
            stats.join("、")
        );
    }
    let k = 3.min(with.len() / 2);
    let best: Vec<String> = with[..k].iter().map(|(r, _)| r.name.clone()).collect();
    let worst: Vec<String> = with[with.len() - k..].iter().rev().map(|(r, _)| r.name.clone()).collect();
    format!(
        "按环境空气质量综合指数评价，排名前{}位的城市依次为{}，排名后{}位的城市（由后往前）依次为{}。",
        ordinal(k),
        join(&best),
        ordinal(k),
        join(&worst)
    )
}

/// The main pollutant, only when every single index is known (else a
/// missing one could be the largest).
fn main_pollutant(s: &PeriodStats) -> String {
    s.composite_index.and(s.main_pollutant).map(|p| p.label().to_string()).unwrap_or_default()
}

fn ranking_table(ranked: &[(&AreaRow, Option<u32>)], period: &str) -> Table {
    let rows = ranked
        .iter()
        .map(|(r, k)| {
            let p = r.prev.as_ref();
            vec![
                k.map_or(Cell::Empty, |k| Cell::Int(i64::from(k))),
                Cell::text(r.name.clone()),
                Cell::opt(r.cur.composite_index, 2),
                Cell::opt(change_pct(r.cur.composite_index, p.and_then(|p| p.composite_index)), 1),
                Cell::text(main_pollutant(&r.cur)),
                Cell::opt(r.cur.pm25, 0),
                Cell::opt(change_pct(r.cur.pm25, p.and_then(|p| p.pm25)), 1),
                Cell::opt(r.cur.good_ratio, 1),
                Cell::opt(change_pp(r.cur.good_ratio, p.and_then(|p| p.good_ratio)), 1),
                Cell::Int(i64::from(r.cur.heavy_days)),
            ]
        })
        .collect();
    Table {
        caption: format!("表1 {period}各市（州）环境空气质量综合指数排名"),
        sheet: "综合指数排名".into(),
        header: [
            "排名",
            "城市",
            "综合指数",
            "综合指数同比(%)",
            "主要污染物",
            "PM2.5(μg/m³)",
            "PM2.5同比(%)",
            "优良天数率(%)",
            "优良天数率同比(百分点)",
            "重污染天数",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec!["注：综合指数越小排名越靠前；同比为与上年同期比较，负值表示改善；“—”表示无同期可比数据。".into()],
        label_column: false,
        fills: Vec::new(),
    }
}

fn region_table(regions: &[AreaRow], period: &str) -> Table {
    let rows = regions
        .iter()
        .map(|r| {
            let p = r.prev.as_ref();
            vec![
                Cell::text(r.name.clone()),
                Cell::opt(r.cur.pm25, 0),
                Cell::opt(change_pct(r.cur.pm25, p.and_then(|p| p.pm25)), 1),
                Cell::opt(r.cur.good_ratio, 1),
                Cell::opt(change_pp(r.cur.good_ratio, p.and_then(|p| p.good_ratio)), 1),
                Cell::Int(i64::from(r.cur.heavy_days)),
                p.map_or(Cell::Empty, |p| Cell::Int(i64::from(r.cur.heavy_days) - i64::from(p.heavy_days))),
            ]
        })
        .collect();
    Table {
        caption: format!("表2 {period}各区域环境空气质量状况"),
        sheet: "区域".into(),
        header: [
            "区域",
            "PM2.5(μg/m³)",
            "PM2.5同比(%)",
            "优良天数率(%)",
            "优良天数率同比(百分点)",
            "重污染天数",
            "重污染天数同比变化",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec!["注：区域日值为其各市（州）日值的算术平均，须各市（州）均有数据。".into()],
        label_column: false,
        fills: Vec::new(),
    }
}

fn improvement_paragraphs(d: &NoticeData) -> Vec<Block> {
    let mut with: Vec<(&AreaRow, f64)> = d
        .cities
        .iter()
        .filter_map(|r| change_pct(r.cur.pm25, r.prev.as_ref().and_then(|p| p.pm25)).map(|c| (r, c)))
        .collect();
    if with.is_empty() {
        return vec![Block::Para(format!("各市（州）均无{}PM2.5可比数据，本期不作同比改善和反弹排名。", d.prev_label))];
    }
    with.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    let say = |v: &[(&AreaRow, f64)]| -> String {
        join(&v.iter().map(|(r, c)| format!("{}（{}）", r.name, pct(*c))).collect::<Vec<_>>())
    };
    let improved: Vec<(&AreaRow, f64)> =
        with.iter().filter(|(_, c)| round_half_even(*c, 1) < 0.0).take(d.top_n).copied().collect();
    let rebounded: Vec<(&AreaRow, f64)> =
        with.iter().rev().filter(|(_, c)| round_half_even(*c, 1) > 0.0).take(d.top_n).copied().collect();
    let mut s = String::new();
    if improved.is_empty() {
        s.push_str("与上年同期相比，各市（州）PM2.5浓度均未下降");
    } else {
        s.push_str(&format!("PM2.5浓度同比改善幅度较大的城市为{}", say(&improved)));
    }
    if rebounded.is_empty() {
        s.push_str("；没有城市PM2.5浓度同比上升。");
    } else {
        let rising = with.iter().filter(|(_, c)| round_half_even(*c, 1) > 0.0).count();
        s.push_str(&format!("；{rising}个城市PM2.5浓度同比上升，上升幅度较大的为{}。", say(&rebounded)));
    }
    let mut out = vec![Block::Para(s)];
    let lacking: Vec<String> = d
        .cities
        .iter()
        .filter(|r| change_pct(r.cur.pm25, r.prev.as_ref().and_then(|p| p.pm25)).is_none())
        .map(|r| r.name.clone())
        .collect();
    if !lacking.is_empty() {
        out.push(Block::Para(format!("{}无{}PM2.5可比数据，未参与比较。", some_names(&lacking), d.prev_label)));
    }
    // Good-day ratio falls, as the seed's problem statement counts them.
    let fell: Vec<String> = d
        .cities
        .iter()
        .filter(|r| change_pp(r.cur.good_ratio, r.prev.as_ref().and_then(|p| p.good_ratio)).is_some_and(|c| c < 0.0))
        .map(|r| r.name.clone())
        .collect();
    if !fell.is_empty() {
        let who =
            if fell.len() > 5 { some_names(&fell) } else { format!("{}{}个市（州）", join(&fell), fell.len()) };
        out.push(Block::Para(format!("{who}优良天数率同比下降。")));
    }
    out
}

fn action_paragraphs(d: &NoticeData) -> Vec<Block> {
    if d.actions.is_empty() {
        return vec![Block::Para(format!("{}考核问责规则运行后，本期未记录问责措施。", d.period_label))];
    }
    // Grouped by kind, in order of first appearance.
    let mut kinds: Vec<(String, Vec<&ActionLine>)> = Vec::new();
    for a in &d.actions {
        match kinds.iter_mut().find(|(k, _)| *k == a.kind) {
            Some((_, v)) => v.push(a),
            None => kinds.push((a.kind.clone(), vec![a])),
        }
    }
    let n = d.cities.len();
    let everywhere = |list: &Vec<&ActionLine>| list.len() >= n && n > 1;
    let mut parts = Vec::new();
    for (kind, list) in &kinds {
        if everywhere(list) {
            parts.push(format!("对全省{n}个市（州）予以{kind}"));
            continue;
        }
        let names: Vec<String> = list
            .iter()
            .map(|a| match a.amount {
                Some(x) => format!("{}（{}万元）", a.area, trim_amount(x)),
                None => a.area.clone(),
            })
            .collect();
        parts.push(format!("对{}{}个地区实施{kind}", join(&names), list.len()));
    }
    let mut out = vec![Block::Para(format!("根据考核问责规则，{}：{}。", d.period_label, parts.join("；")))];
    let listed: Vec<&ActionLine> =
        kinds.iter().filter(|(_, l)| !everywhere(l)).flat_map(|(_, l)| l.iter().copied()).collect();
    if listed.is_empty() {
        return out;
    }
    let rows = listed
        .iter()
        .map(|a| {
            vec![
                Cell::text(a.area.clone()),
                Cell::text(a.kind.clone()),
                Cell::text(a.rule_name.clone()),
                Cell::opt(a.amount, 2),
                Cell::text(a.status.clone()),
            ]
        })
        .collect();
    out.push(Block::Table(Table {
        caption: format!("表{} {}考核问责措施", if d.regions.is_empty() { 2 } else { 3 }, d.period_label),
        sheet: "问责措施".into(),
        header: ["地区", "措施", "依据规则", "金额(万元)", "状态"].map(String::from).to_vec(),
        rows,
        notes: vec![
            "注：措施由考核问责规则依据本期评价结果自动生成，记录于问责台账；面向全部市（州）的措施不逐一列出。".into(),
        ],
        label_column: false,
        fills: Vec::new(),
    }));
    out
}

fn trim_amount(x: f64) -> String {
    let s = format!("{:.2}", round_half_even(x, 2));
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(pm25: f64, good: u32, valid: u32, heavy: u32) -> PeriodStats {
        PeriodStats {
            days: valid,
            valid_days: valid,
            pm25: Some(pm25),
            pm10: Some(pm25 * 1.5),
            good_days: good,
            good_ratio: Some(round_half_even(100.0 * f64::from(good) / f64::from(valid), 1)),
            heavy_days: heavy,
            ..Default::default()
        }
    }

    #[test]
    fn province_aggregate() {
        let a = aggregate(&[stats(20.0, 30, 31, 0), stats(25.0, 28, 31, 1), stats(27.4, 31, 31, 0)]);
        // (20 + 25 + 27) / 3 = 24; 89 of 93 = 95.7 %.
        assert_eq!(a.pm25, Some(24.0));
        assert_eq!(a.good_ratio, Some(95.7));
        assert_eq!((a.good_days, a.valid_days, a.heavy_days), (89, 93, 1));
        let mut missing = stats(20.0, 30, 31, 0);
        missing.pm25 = None;
        assert_eq!(aggregate(&[missing, stats(25.0, 28, 31, 1)]).pm25, None, "a province figure needs every city");
    }

    #[test]
    fn sentences_say_when_the_baseline_is_missing() {
        let cur = aggregate(&[stats(24.0, 30, 31, 0)]);
        let s = overview_sentence("全省", &cur, None, None, "2018年7月", &[]);
        assert!(s.contains("PM2.5平均浓度为24微克/立方米；"), "{s}");
        assert!(s.ends_with("因无2018年7月可比数据，不作同比分析，也不与近三年同期均值比较。"), "{s}");
        assert!(s.contains("优良30天/有效31天"), "one area counts days: {s}");
        let many: Vec<String> = ["乐山", "内江", "凉山州", "南充", "宜宾", "巴中"].map(String::from).to_vec();
        let s = overview_sentence("全省", &cur, None, None, "2018年7月", &many);
        assert!(s.contains("因乐山、内江、凉山州等6个市（州）无2018年7月数据，不作同比分析"), "{s}");
        let prev = aggregate(&[stats(30.0, 25, 31, 2)]);
        let s = overview_sentence("全省", &cur, Some(&prev), Some(32.0), "2018年7月", &[]);
        assert!(s.contains("同比下降20.0%"), "{s}");
        assert!(s.contains("较近三年同期均值（32微克/立方米）下降25.0%"), "{s}");
        assert!(s.contains("优良天数率为96.8%（优良30天/有效31天），同比上升16.2个百分点"), "{s}");
        assert!(s.contains("未出现重度及以上污染，同比减少2天"), "{s}");
    }
}
