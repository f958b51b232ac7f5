//! The daily briefing (每日空气质量会商简报) analysts prepare for the
//! morning consultation meeting, composed from the numbers: the reported
//! day's AQI, level and primary pollutant per city; month-to-date and
//! year-to-date PM2.5, PM10 and good-day ratio with the year-on-year change
//! and the rank among the cities; where each target stands; the cities that
//! got worse; the latest live hour where the gateway runs.
//!
//! Layout as official tables print numbers: concentrations as integers,
//! ratios to one decimal with %, changes with their sign ("+5.3%", "−"
//! written as "-"), "无可比数据" where last year's span has no data. Chinese
//! by default; English when asked (city names stay as the data has them).

use crate::doc::{Block, Cell, Doc, Table};
use crate::notice::aggregate;
use crate::text::{conc, join, ordinal, ratio};
use jiff::civil::Date;
use lantian_core::Level;
use lantian_core::period::{PeriodStats, change_pct, change_pp};
use lantian_core::round::round_half_even;
use lantian_core::target::Status;

/// A city's daily AQI as the engine computed it.
#[derive(Clone, Debug, PartialEq)]
pub struct DayAqi {
    pub aqi: u16,
    pub level: Level,
    /// "PM2.5", "O3_8h,PM10" …; empty when the AQI is 50 or below.
    pub primary: String,
}

/// One city's reported day and the day before.
#[derive(Clone, Debug)]
pub struct CityDay {
    pub city: String,
    pub day: Option<DayAqi>,
    pub previous: Option<DayAqi>,
}

/// One city over a span (month or year to date) and the same span a year earlier.
#[derive(Clone, Debug)]
pub struct SpanRow {
    pub city: String,
    pub cur: PeriodStats,
    /// `None` when last year's span has no data for the city.
    pub prev: Option<PeriodStats>,
    /// Ranks among the cities with a value (competition ranking, as
    /// `lantian rank`): PM2.5 and PM10 smallest first, good-day ratio largest first.
    pub rank_pm25: Option<u32>,
    pub rank_pm10: Option<u32>,
    pub rank_good: Option<u32>,
}

/// Month to date or year to date.
#[derive(Clone, Debug)]
pub struct Span {
    pub from: Date,
    pub to: Date,
    pub rows: Vec<SpanRow>,
}

/// One target judged on the reported day (`lantian target check`).
#[derive(Clone, Debug)]
pub struct TargetLine {
    pub area: String,
    pub year: i16,
    /// good_ratio, pm25, pm10, heavy_days, pm25_ytd.
    pub indicator: String,
    pub so_far: Option<f64>,
    pub target: f64,
    pub status: Status,
    pub budget: Option<f64>,
    pub remaining_days: u32,
}

/// Why a city is listed as worse (see [`DailyData::worsened`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Worsened {
    pub city: String,
    /// The day's level and the previous day's, when the level rose.
    pub level: Option<(Level, Level)>,
    /// Year-to-date PM2.5 now and a year earlier, when it rose.
    pub ytd_pm25: Option<(f64, f64)>,
}

/// A city's latest hour from the gateway.
#[derive(Clone, Debug)]
pub struct LiveCity {
    pub city: String,
    /// "2019-07-16 09:00" (hour-end label).
    pub time: String,
    /// PM2.5, PM10, SO2, NO2, CO, O3 (1-hour), as reported.
    pub values: [Option<f64>; 6],
    pub aqi: Option<u16>,
    pub primary: String,
}

#[derive(Clone, Debug)]
pub struct DailyData {
    pub issuer: String,
    /// The reported day (the day before the meeting).
    pub date: Date,
    /// Every city of the province, in its order.
    pub cities: Vec<CityDay>,
    pub month: Span,
    pub year: Span,
    /// `None` when no targets are installed.
    pub targets: Option<Vec<TargetLine>>,
    /// Cities whose day AQI level is worse than the previous day's (both
    /// days valid), or whose year-to-date PM2.5 is above the same span last
    /// year (change rounded to 0.1 % above zero).
    pub worsened: Vec<Worsened>,
    /// `None` where no gateway runs on this data directory; the latest hour
    /// of each city otherwise (empty: the gateway has received nothing).
    pub live: Option<Vec<LiveCity>>,
    /// What the numbers stand on (values, deduction), one sentence.
    pub basis: String,
}

/// Chinese or English words.
#[derive(Clone, Copy)]
struct W(bool);

impl W {
    fn s(self, zh: &str, en: &str) -> String {
        if self.0 { en.to_string() } else { zh.to_string() }
    }

    fn date(self, d: Date) -> String {
        if self.0 { d.to_string() } else { format!("{}年{}月{}日", d.year(), d.month(), d.day()) }
    }

    /// "7月1日—15日" / "1月1日—7月15日" / "2019-07-01 to 2019-07-15".
    fn span(self, from: Date, to: Date) -> String {
        if self.0 {
            format!("{from} to {to}")
        } else if from.month() == to.month() {
            format!("{}月{}日—{}日", from.month(), from.day(), to.day())
        } else {
            format!("{}月{}日—{}月{}日", from.month(), from.day(), to.month(), to.day())
        }
    }

    fn category(self, l: Level) -> &'static str {
        if self.0 { l.category_en() } else { l.category_zh() }
    }

    fn no_baseline(self) -> String {
        self.s("无可比数据", "no baseline")
    }

    fn status(self, s: Status) -> &'static str {
        match (self.0, s) {
            (false, s) => s.zh(),
            (true, Status::Met) => "met",
            (true, Status::Secured) => "secured",
            (true, Status::OnTrack) => "on track",
            (true, Status::AtRisk) => "at risk",
            (true, Status::Missed) => "missed",
        }
    }
}

/// "+5.3" / "-2.0" / "0.0": a change printed to one decimal with its sign.
pub fn signed(v: f64) -> String {
    let c = round_half_even(v, 1);
    if c > 0.0 {
        format!("+{c:.1}")
    } else if c < 0.0 {
        format!("{c:.1}")
    } else {
        "0.0".into()
    }
}

/// "96.8%".
fn pct_cell(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, |v| Cell::text(format!("{}%", ratio(v))))
}

fn change_cell(w: W, c: Option<f64>, unit: &str) -> Cell {
    c.map_or_else(|| Cell::text(w.no_baseline()), |c| Cell::text(format!("{}{unit}", signed(c))))
}

fn rank_cell(r: Option<u32>) -> Cell {
    r.map_or(Cell::Empty, |r| Cell::Int(i64::from(r)))
}

/// Compose the briefing; `en` for English words.
pub fn compose(d: &DailyData, en: bool) -> Doc {
    let w = W(en);
    let mut blocks = Vec::new();
    let mut section = 0;
    let mut heading = |blocks: &mut Vec<Block>, zh: &str, english: &str| {
        section += 1;
        let h = if en { format!("{section}. {english}") } else { format!("{}、{zh}", ordinal(section)) };
        blocks.push(Block::Heading(1, h));
    };

    heading(&mut blocks, "当日空气质量", "Air quality of the day");
    blocks.push(Block::Para(day_sentence(d, w)));
    blocks.push(Block::Table(day_table(d, w)));

    for (span, zh, english, sheet) in [
        (&d.month, "本月累计", "Month to date", ("本月累计", "Month to date")),
        (&d.year, "本年累计", "Year to date", ("本年累计", "Year to date")),
    ] {
        heading(&mut blocks, zh, english);
        blocks.push(Block::Para(span_sentence(span, w, zh, english)));
        if !span.rows.is_empty() {
            let n = 1 + blocks.iter().filter(|b| matches!(b, Block::Table(_))).count();
            blocks.push(Block::Table(span_table(span, w, n, if en { sheet.1 } else { sheet.0 })));
        }
    }

    heading(&mut blocks, "目标完成情况", "Targets");
    match &d.targets {
        None => blocks.push(Block::Para(w.s(
            "未安装年度考核目标（lantian target import），本节从略。",
            "No annual targets are installed (lantian target import); section omitted.",
        ))),
        Some(list) => {
            blocks.push(Block::Para(target_sentence(list, d.date, w)));
            if !list.is_empty() {
                let n = 1 + blocks.iter().filter(|b| matches!(b, Block::Table(_))).count();
                blocks.push(Block::Table(target_table(list, d.date, w, n)));
            }
        }
    }

    heading(&mut blocks, "变差城市", "Cities that got worse");
    blocks.push(Block::Para(w.s(
        "判定规则：当日AQI级别高于前一日（两日均有有效日值），或本年累计PM2.5平均浓度同比上升（按一位小数修约后大于0）。",
        "Rule: the day's AQI level is worse than the previous day's (both days valid), or the year-to-date PM2.5 mean is above the same span last year (change rounded to 0.1 % above zero).",
    )));
    if d.worsened.is_empty() {
        blocks.push(Block::Para(w.s("无变差城市。", "No city got worse.")));
    } else {
        let n = 1 + blocks.iter().filter(|b| matches!(b, Block::Table(_))).count();
        blocks.push(Block::Table(worsened_table(d, w, n)));
    }

    heading(&mut blocks, "最新实时数据", "Latest live hour");
    match &d.live {
        None => blocks.push(Block::Para(
            w.s("本数据目录未运行数据采集网关，无实时数据。", "No gateway runs on this data directory: no live data."),
        )),
        Some(list) if list.is_empty() => blocks
            .push(Block::Para(w.s("数据采集网关尚未收到小时数据。", "The gateway has received no hourly data yet."))),
        Some(list) => {
            let n = 1 + blocks.iter().filter(|b| matches!(b, Block::Table(_))).count();
            blocks.push(Block::Table(live_table(list, w, n)));
        }
    }

    blocks.push(Block::Para(d.basis.clone()));
    Doc {
        title: w.s("每日空气质量会商简报", "Daily air-quality briefing"),
        subtitle: vec![
            d.issuer.clone(),
            if en { format!("Data of {}", d.date) } else { format!("数据日期：{}", w.date(d.date)) },
        ],
        blocks,
        landscape: true,
    }
}

fn day_sentence(d: &DailyData, w: W) -> String {
    let with: Vec<&CityDay> = d.cities.iter().filter(|c| c.day.is_some()).collect();
    let date = w.date(d.date);
    if with.is_empty() {
        return w
            .s(&format!("{date}各市（州）均无有效日数据。"), &format!("No city has a valid daily value on {date}."));
    }
    let mut counts = [0usize; 6];
    for c in &with {
        if let Some(a) = &c.day {
            counts[usize::from(a.level.number() - 1)] += 1;
        }
    }
    let parts: Vec<String> = (1..=6u8)
        .filter_map(|n| {
            let k = counts[usize::from(n - 1)];
            let l = level_number(n);
            (k > 0).then(|| if w.0 { format!("{} {k}", w.category(l)) } else { format!("{}{k}个", w.category(l)) })
        })
        .collect();
    let good = counts[0] + counts[1];
    let missing: Vec<String> = d.cities.iter().filter(|c| c.day.is_none()).map(|c| c.city.clone()).collect();
    let mut s = if w.0 {
        format!(
            "On {date}, {} cities had a valid daily AQI: {}; {good} good or excellent ({}%).",
            with.len(),
            parts.join(", "),
            ratio(100.0 * good as f64 / with.len() as f64)
        )
    } else {
        format!(
            "{date}，全省{}个市（州）有有效日数据，其中{}；优良{good}个，占{}%。",
            with.len(),
            parts.join("、"),
            ratio(100.0 * good as f64 / with.len() as f64)
        )
    };
    if !missing.is_empty() {
        s.push_str(&if w.0 {
            format!(" No valid daily value: {}.", missing.join(", "))
        } else {
            format!("{}当日无有效日数据。", join(&missing))
        });
    }
    s
}

fn day_table(d: &DailyData, w: W) -> Table {
    let mut fills = Vec::new();
    let rows = d
        .cities
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cells = |a: &Option<DayAqi>| match a {
                Some(a) => (Cell::Int(i64::from(a.aqi)), Cell::text(w.category(a.level))),
                None => (Cell::Empty, Cell::text(w.s("无数据", "no data"))),
            };
            let (aqi, cat) = cells(&c.day);
            let (paqi, pcat) = cells(&c.previous);
            for (cols, a) in [([1, 2], &c.day), ([5, 6], &c.previous)] {
                if let Some(a) = a {
                    fills.extend(cols.map(|col| (i, col, a.level.colour_hex().to_string())));
                }
            }
            let primary = |a: &DayAqi| if a.primary.is_empty() { "—".to_string() } else { a.primary.clone() };
            vec![
                Cell::text(c.city.clone()),
                aqi,
                cat,
                c.day.as_ref().map_or(Cell::Empty, |a| Cell::text(level_name(w, a.level))),
                c.day.as_ref().map_or(Cell::Empty, |a| Cell::text(primary(a))),
                paqi,
                pcat,
            ]
        })
        .collect();
    let prev = d.date.yesterday().unwrap_or(d.date);
    Table {
        caption: w.s(
            &format!("表1 {}各市（州）空气质量", w.date(d.date)),
            &format!("Table 1 Air quality of the cities on {}", d.date),
        ),
        sheet: w.s("当日", "Day"),
        header: if w.0 {
            vec!["City".into(), "AQI".into(), "Category".into(), "Level".into(), "Primary pollutant".into(), format!("AQI {prev}"), format!("Category {prev}")]
        } else {
            let p = format!("{}月{}日", prev.month(), prev.day());
            vec!["城市".into(), "AQI".into(), "类别".into(), "级别".into(), "首要污染物".into(), format!("前一日AQI（{p}）"), "前一日类别".into()]
        },
        rows,
        notes: vec![w.s(
            "注：城市日AQI按HJ 633计算，日值取城市国控站点日均值的算术平均；AQI不大于50时无首要污染物（—）。",
            "Note: city daily AQI by HJ 633 from the mean of the city's assessment stations; no primary pollutant when the AQI is 50 or below (—).",
        )],
        label_column: false,
        fills,
    }
}

/// Level `n` (1 … 6).
fn level_number(n: u8) -> Level {
    Level::from_aqi([50, 100, 150, 200, 300, 500][usize::from(n.clamp(1, 6) - 1)])
}

fn level_name(w: W, l: Level) -> String {
    if w.0 { format!("Level {}", l.number()) } else { l.name_zh().to_string() }
}

fn span_sentence(span: &Span, w: W, zh: &str, en: &str) -> String {
    let label = w.span(span.from, span.to);
    if span.rows.is_empty() {
        return w.s(&format!("{zh}（{label}）无数据。"), &format!("{en} ({label}): no data."));
    }
    let cur = aggregate(span.rows.iter().map(|r| &r.cur));
    let prev: Option<Vec<&PeriodStats>> = span.rows.iter().map(|r| r.prev.as_ref()).collect();
    let prev = prev.map(aggregate).filter(|a| a.pm25.is_some());
    let n = span.rows.len();
    let num = |v: Option<f64>| v.map_or("—".to_string(), conc);
    let mut s = if w.0 {
        format!(
            "{en} ({label}), {n} cities: PM2.5 {} μg/m³, PM10 {} μg/m³, good-day ratio {}",
            num(cur.pm25),
            num(cur.pm10),
            cur.good_ratio.map_or("—".into(), |r| format!("{}%", ratio(r)))
        )
    } else {
        format!(
            "{zh}（{label}），全省{n}个市（州）PM2.5平均浓度为{}微克/立方米，PM10平均浓度为{}微克/立方米，优良天数比例为{}",
            num(cur.pm25),
            num(cur.pm10),
            cur.good_ratio.map_or("—".into(), |r| format!("{}%", ratio(r)))
        )
    };
    match prev {
        Some(p) => {
            let c = |a: Option<f64>, b: Option<f64>| {
                change_pct(a, b).map_or(w.no_baseline(), |c| format!("{}%", signed(c)))
            };
            let g = change_pp(cur.good_ratio, p.good_ratio).map_or(w.no_baseline(), signed);
            s.push_str(&if w.0 {
                format!(
                    "; year on year PM2.5 {}, PM10 {}, good-day ratio {g} points.",
                    c(cur.pm25, p.pm25),
                    c(cur.pm10, p.pm10)
                )
            } else {
                format!("；同比PM2.5{}，PM10{}，优良天数比例{g}个百分点。", c(cur.pm25, p.pm25), c(cur.pm10, p.pm10))
            });
        }
        None => {
            let lacking = span.rows.iter().filter(|r| r.prev.is_none()).count();
            s.push_str(&if w.0 {
                format!("; no year-on-year figure for the province ({lacking} cities have no data a year earlier).")
            } else {
                format!("；{lacking}个市（州）上年同期无数据，全省不作同比（无可比数据）。")
            });
        }
    }
    s
}

fn span_table(span: &Span, w: W, n: usize, sheet: &str) -> Table {
    let rows = span
        .rows
        .iter()
        .map(|r| {
            let p = r.prev.as_ref();
            vec![
                Cell::text(r.city.clone()),
                Cell::opt(r.cur.pm25, 0),
                change_cell(w, change_pct(r.cur.pm25, p.and_then(|p| p.pm25)), "%"),
                rank_cell(r.rank_pm25),
                Cell::opt(r.cur.pm10, 0),
                change_cell(w, change_pct(r.cur.pm10, p.and_then(|p| p.pm10)), "%"),
                rank_cell(r.rank_pm10),
                pct_cell(r.cur.good_ratio),
                change_cell(w, change_pp(r.cur.good_ratio, p.and_then(|p| p.good_ratio)), ""),
                rank_cell(r.rank_good),
            ]
        })
        .collect();
    let label = w.span(span.from, span.to);
    Table {
        caption: if w.0 {
            format!("Table {n} {sheet} ({label})")
        } else {
            format!("表{n} {sheet}（{label}）各市（州）主要指标")
        },
        sheet: sheet.to_string(),
        header: if w.0 {
            ["City", "PM2.5 (μg/m³)", "PM2.5 YoY", "PM2.5 rank", "PM10 (μg/m³)", "PM10 YoY", "PM10 rank", "Good-day ratio", "Good-day ratio YoY (points)", "Good-day rank"]
        } else {
            ["城市", "PM2.5(μg/m³)", "PM2.5同比", "PM2.5排名", "PM10(μg/m³)", "PM10同比", "PM10排名", "优良天数比例", "优良天数比例同比(百分点)", "优良天数比例排名"]
        }
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec![w.s(
            "注：同比为与上年同期（相同日期区间）比较，“+”表示上升；排名为有数据城市间的竞争排名（并列同名次），PM2.5、PM10由低到高，优良天数比例由高到低。",
            "Note: year on year against the same dates last year, + is a rise; ranks among the cities with data (ties share a rank), PM2.5 and PM10 lowest first, good-day ratio highest first.",
        )],
        label_column: false,
        fills: Vec::new(),
    }
}

fn indicator_name(w: W, key: &str) -> String {
    match key {
        "good_ratio" => w.s("优良天数比例", "Good-day ratio"),
        "pm25" => w.s("PM2.5年均浓度", "PM2.5 annual mean"),
        "pm10" => w.s("PM10年均浓度", "PM10 annual mean"),
        "heavy_days" => w.s("重污染天数", "Heavy-pollution days"),
        "pm25_ytd" => w.s("PM2.5累计浓度（常态化管控）", "PM2.5 year to date (monthly control)"),
        other => other.to_string(),
    }
}

fn target_sentence(list: &[TargetLine], date: Date, w: W) -> String {
    if list.is_empty() {
        return w.s(&format!("{}年无考核目标。", date.year()), &format!("No targets for {}.", date.year()));
    }
    let of = |s: Status| -> Vec<String> {
        let mut v: Vec<String> = list.iter().filter(|t| t.status == s).map(|t| t.area.clone()).collect();
        v.dedup();
        v
    };
    let (risk, missed) = (of(Status::AtRisk), of(Status::Missed));
    let mut s = w.s(
        &format!("截至{}，共{}项目标：", w.date(date), list.len()),
        &format!("As of {date}, {} targets: ", list.len()),
    );
    let counts: Vec<String> = [Status::Met, Status::Secured, Status::OnTrack, Status::AtRisk, Status::Missed]
        .into_iter()
        .filter_map(|st| {
            let k = list.iter().filter(|t| t.status == st).count();
            (k > 0).then(|| if w.0 { format!("{} {k}", w.status(st)) } else { format!("{}{k}项", w.status(st)) })
        })
        .collect();
    s.push_str(&counts.join(if w.0 { ", " } else { "、" }));
    s.push_str(if w.0 { "." } else { "。" });
    if !risk.is_empty() {
        s.push_str(&w.s(&format!("有风险：{}。", join(&risk)), &format!(" At risk: {}.", risk.join(", "))));
    }
    if !missed.is_empty() {
        s.push_str(&w.s(&format!("未完成：{}。", join(&missed)), &format!(" Missed: {}.", missed.join(", "))));
    }
    s
}

fn target_table(list: &[TargetLine], date: Date, w: W, n: usize) -> Table {
    let rows = list
        .iter()
        .map(|t| {
            let good = t.indicator == "good_ratio";
            let value = |v: f64| if good { Cell::text(format!("{}%", ratio(v))) } else { Cell::Num(v, 0) };
            let (budget, meaning) = match t.indicator.as_str() {
                "good_ratio" => (
                    t.budget.map(|b| Cell::Num(b, 0)),
                    w.s("剩余时段最多可有非优良天数", "non-good days the rest of the year may have"),
                ),
                "heavy_days" => {
                    (t.budget.map(|b| Cell::Num(b, 0)), w.s("剩余可有重污染天数", "heavy-pollution days left"))
                }
                "pm25_ytd" => (
                    t.budget.map(|b| Cell::Num(b, 1)),
                    w.s("本月剩余天数平均浓度上限", "highest mean for the rest of the month"),
                ),
                _ => (
                    t.budget.map(|b| Cell::Num(b, 1)),
                    w.s("剩余时段平均浓度上限", "highest mean the remaining days may have"),
                ),
            };
            vec![
                Cell::text(t.area.clone()),
                Cell::text(indicator_name(w, &t.indicator)),
                t.so_far.map_or(Cell::Empty, value),
                value(t.target),
                Cell::text(w.status(t.status)),
                budget.unwrap_or_else(|| Cell::text(w.s("无余量", "none"))),
                Cell::text(meaning),
                Cell::Int(i64::from(t.remaining_days)),
            ]
        })
        .collect();
    Table {
        caption: w.s(
            &format!("表{n} 截至{}年度目标完成情况", w.date(date)),
            &format!("Table {n} Annual targets as of {date}"),
        ),
        sheet: w.s("目标", "Targets"),
        header: if w.0 {
            ["Area", "Indicator", "So far", "Target", "Status", "Budget", "Budget meaning", "Days left"]
        } else {
            ["地区", "指标", "截至当日", "目标", "状态", "余量", "余量含义", "剩余天数"]
        }
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec![w.s(
            "注：与 lantian target check 同一口径；余量为剩余时段仍可承受的量。",
            "Note: as lantian target check computes it; the budget is what the rest of the period can still take.",
        )],
        label_column: false,
        fills: Vec::new(),
    }
}

fn worsened_table(d: &DailyData, w: W, n: usize) -> Table {
    let rows = d
        .worsened
        .iter()
        .map(|x| {
            let level = x.level.map_or(Cell::Empty, |(now, before)| {
                Cell::text(format!("{} → {}", w.category(before), w.category(now)))
            });
            let pm = x.ytd_pm25.map_or(Cell::Empty, |(now, before)| {
                Cell::text(format!(
                    "{} → {}（{}%）",
                    conc(before),
                    conc(now),
                    change_pct(Some(now), Some(before)).map_or(String::new(), signed)
                ))
            });
            vec![Cell::text(x.city.clone()), level, pm]
        })
        .collect();
    Table {
        caption: w.s(&format!("表{n} 变差城市"), &format!("Table {n} Cities that got worse")),
        sheet: w.s("变差城市", "Worse"),
        header: if w.0 {
            vec!["City".into(), "Category (previous day → day)".into(), "PM2.5 YTD, μg/m³ (last year → now)".into()]
        } else {
            vec!["城市".into(), "AQI类别（前一日→当日）".into(), "本年累计PM2.5(μg/m³)（上年同期→本年）".into()]
        },
        rows,
        notes: Vec::new(),
        label_column: false,
        fills: Vec::new(),
    }
}

fn live_table(list: &[LiveCity], w: W, n: usize) -> Table {
    let mut fills = Vec::new();
    let rows = list
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![Cell::text(c.city.clone()), Cell::text(c.time.clone())];
            for (k, v) in c.values.iter().enumerate() {
                row.push(Cell::opt(*v, if k == 4 { 1 } else { 0 }));
            }
            row.push(c.aqi.map_or(Cell::Empty, |a| Cell::Int(i64::from(a))));
            let level = c.aqi.map(Level::from_aqi);
            row.push(level.map_or(Cell::Empty, |l| Cell::text(w.category(l))));
            row.push(Cell::text(if c.primary.is_empty() { "—".to_string() } else { c.primary.clone() }));
            if let Some(l) = level {
                fills.push((i, 8, l.colour_hex().to_string()));
                fills.push((i, 9, l.colour_hex().to_string()));
            }
            row
        })
        .collect();
    Table {
        caption: w.s(&format!("表{n} 各市（州）最新小时实时数据"), &format!("Table {n} Latest live hour of the cities")),
        sheet: w.s("实时", "Live"),
        header: if w.0 {
            ["City", "Hour", "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "AQI", "Category", "Primary pollutant"]
        } else {
            ["城市", "时间", "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "AQI", "类别", "首要污染物"]
        }
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec![w.s(
            "注：实时数据未经审核，仅供会商参考；城市值为该小时有数据站点的算术平均；浓度单位微克/立方米（CO为毫克/立方米）。",
            "Note: live data are not audited; a city's value is the mean of its stations reporting that hour; μg/m³ (CO mg/m³).",
        )],
        label_column: false,
        fills,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn stats(pm25: f64, pm10: f64, good: u32, valid: u32) -> PeriodStats {
        PeriodStats {
            days: valid,
            valid_days: valid,
            pm25: Some(pm25),
            pm10: Some(pm10),
            good_days: good,
            good_ratio: Some(round_half_even(100.0 * f64::from(good) / f64::from(valid), 1)),
            ..Default::default()
        }
    }

    fn day(aqi: u16, primary: &str) -> Option<DayAqi> {
        Some(DayAqi { aqi, level: Level::from_aqi(aqi), primary: primary.into() })
    }

    fn data() -> DailyData {
        let row = |city: &str, cur: PeriodStats, prev: Option<PeriodStats>, r: u32| SpanRow {
            city: city.into(),
            cur,
            prev,
            rank_pm25: Some(r),
            rank_pm10: Some(r),
            rank_good: Some(r),
        };
        DailyData {
            issuer: "四川省生态环境厅".into(),
            date: date(2019, 7, 15),
            cities: vec![
                CityDay { city: "成都".into(), day: day(112, "O3_8h"), previous: day(88, "O3_8h") },
                CityDay { city: "自贡".into(), day: day(45, ""), previous: None },
                CityDay { city: "攀枝花".into(), day: None, previous: day(60, "PM10") },
            ],
            month: Span {
                from: date(2019, 7, 1),
                to: date(2019, 7, 15),
                rows: vec![
                    row("成都", stats(30.0, 50.0, 12, 15), Some(stats(32.0, 55.0, 10, 15)), 2),
                    row("自贡", stats(25.0, 40.0, 15, 15), None, 1),
                ],
            },
            year: Span { from: date(2019, 1, 1), to: date(2019, 7, 15), rows: Vec::new() },
            targets: None,
            worsened: vec![Worsened {
                city: "成都".into(),
                level: Some((Level::from_aqi(112), Level::from_aqi(88))),
                ytd_pm25: Some((45.0, 40.0)),
            }],
            live: None,
            basis: "数值：审核数据优先。".into(),
        }
    }

    #[test]
    fn signs_and_words() {
        assert_eq!(signed(5.25), "+5.2", "half-even");
        assert_eq!(signed(-2.0), "-2.0");
        assert_eq!(signed(0.04), "0.0");
        let doc = compose(&data(), false);
        let text = doc.text();
        assert_eq!(doc.title, "每日空气质量会商简报");
        assert!(text.contains("2019年7月15日，全省2个市（州）有有效日数据，其中优1个、轻度污染1个；优良1个，占50.0%。攀枝花当日无有效日数据。"), "{text}");
        // Month to date: Chengdu with its change and rank, Zigong without a baseline.
        assert!(text.contains("成都\t30\t-6.2%\t2\t50\t-9.1%\t2\t80.0%\t+13.3\t2"), "{text}");
        assert!(text.contains("自贡\t25\t无可比数据\t1"), "{text}");
        assert!(text.contains("1个市（州）上年同期无数据，全省不作同比（无可比数据）"), "{text}");
        assert!(text.contains("本年累计（1月1日—7月15日）无数据。"), "{text}");
        assert!(text.contains("未安装年度考核目标"), "{text}");
        assert!(text.contains("成都\t良 → 轻度污染\t40 → 45（+12.5%）"), "{text}");
        assert!(text.contains("本数据目录未运行数据采集网关，无实时数据。"), "{text}");
        // The day's level colours on AQI and category, today's and the day before.
        let day = doc.tables().next().unwrap();
        assert!(day.fills.contains(&(0, 1, "#ff7e00".into())) && day.fills.contains(&(0, 5, "#ffff00".into())));
        assert!(!day.fills.iter().any(|(r, c, _)| *r == 2 && *c == 1), "no colour without a value");
        assert_eq!(day.rows[1][4], Cell::text("—"), "no primary pollutant at AQI ≤ 50");
    }

    #[test]
    fn english_and_live_hour() {
        let mut d = data();
        d.live = Some(vec![LiveCity {
            city: "成都".into(),
            time: "2019-07-16 09:00".into(),
            values: [Some(35.0), Some(60.0), Some(5.0), Some(30.0), Some(0.8), Some(120.0)],
            aqi: Some(55),
            primary: "PM10".into(),
        }]);
        let doc = compose(&d, true);
        let text = doc.text();
        assert_eq!(doc.title, "Daily air-quality briefing");
        assert!(text.contains("Month to date (2019-07-01 to 2019-07-15), 2 cities: PM2.5 28 μg/m³"), "{text}");
        assert!(text.contains("成都\t2019-07-16 09:00\t35\t60\t5\t30\t0.8\t120\t55\tGood\tPM10"), "{text}");
        let live = doc.tables().last().unwrap();
        assert_eq!(live.sheet, "Live");
        assert!(live.fills.contains(&(0, 8, "#ffff00".into())));
    }
}
