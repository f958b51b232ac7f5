//! Words for findings: the evidence sentence (Chinese or English) made of a
//! hit's numbers, check names, the findings and not-run tables.

use super::{Finding, Skipped};
use crate::{Cell, Col, Table, View};
use lantian_core::integrity::{Check, Hit, NotRun};
use lantian_core::time::{date_of, day_of_label};

pub fn check_name(c: Check, zh: bool) -> &'static str {
    match (c, zh) {
        (Check::Divergence, true) => "与周边站点背离",
        (Check::Divergence, false) => "divergence from neighbours",
        (Check::ShortDrop, true) => "短时骤降",
        (Check::ShortDrop, false) => "short deep drops",
        (Check::SelectiveGaps, true) => "选择性缺测",
        (Check::SelectiveGaps, false) => "selective gaps",
        (Check::Bunching, true) => "分级限值下方聚集",
        (Check::Bunching, false) => "bunching under a grade boundary",
        (Check::Stuck, true) => "数值恒定",
        (Check::Stuck, false) => "stuck values",
        (Check::Pm25AbovePm10, true) => "PM2.5高于PM10",
        (Check::Pm25AbovePm10, false) => "PM2.5 above PM10",
        (Check::Drift, true) => "缓慢漂移",
        (Check::Drift, false) => "slow drift",
        (Check::Control, true) => "对照点异常",
        (Check::Control, false) => "control station anomaly",
    }
}

pub fn series_name(s: &str) -> &'static str {
    match s {
        "pm25" => "PM2.5",
        "pm10" => "PM10",
        "so2" => "SO2",
        "no2" => "NO2",
        "co" => "CO",
        "o3" => "O3",
        _ => "?",
    }
}

/// One sentence with the numbers behind a hit.
pub fn sentence(h: &Hit, zh: bool) -> String {
    let text = words(h, zh);
    if zh { full_width(&text) } else { text }
}

/// Chinese text takes full-width punctuation (GB/T 15834); the sentences
/// are written with ASCII marks, which no number here contains (no digit
/// grouping, exponents as `e-5`).
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ',' => '，',
            ':' => '：',
            ';' => '；',
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

fn words(h: &Hit, zh: bool) -> String {
    let n = |k: &str| h.number(k).unwrap_or(f64::NAN);
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let s = series_name(h.series);
    match (h.check, zh) {
        (Check::Divergence, false) => format!(
            "{s} at {} of its usual ratio to its neighbours on {:.0} days: {:.0} against the neighbours' {:.0} µg/m³ (usually {})",
            pct(n("share")),
            n("days"),
            n("station"),
            n("reference"),
            pct(n("usual"))
        ),
        (Check::Divergence, true) => format!(
            "{:.0}天{s}仅为与周边站点常态比值的{}:本站{:.0}微克/立方米,周边中位数{:.0}微克/立方米(常态为周边的{})",
            n("days"),
            pct(n("share")),
            n("station"),
            n("reference"),
            pct(n("usual"))
        ),
        (Check::ShortDrop, false) => format!(
            "{:.0} short drops of {s} ({:.0} hours in all) to {} of its ratio to the neighbours in the hours either side while the neighbours read {:.0} µg/m³, each recovering",
            n("drops"),
            n("hours"),
            pct(n("share")),
            n("reference")
        ),
        (Check::ShortDrop, true) => format!(
            "{s}出现{:.0}次短时骤降(共{:.0}小时),与周边站点的比值降至前后几小时的{},同期周边中位数{:.0}微克/立方米,随后恢复",
            n("drops"),
            n("hours"),
            pct(n("share")),
            n("reference")
        ),
        (Check::SelectiveGaps, false) => format!(
            "{:.0} gaps ({:.0} hours) fell when the neighbours read high: mean rank {:.2} (0.5 if by chance, z = {:.1}); neighbours {:.0} µg/m³ in the gaps, {:.0} over the month",
            n("gaps"),
            n("hours"),
            n("rank"),
            n("z"),
            n("reference_gaps"),
            n("reference_month")
        ),
        (Check::SelectiveGaps, true) => format!(
            "{:.0}段缺测(共{:.0}小时)集中在周边浓度高的时段:平均分位{:.2}(随机缺测应为0.5,z={:.1});缺测时周边{:.0}微克/立方米,全月{:.0}微克/立方米",
            n("gaps"),
            n("hours"),
            n("rank"),
            n("z"),
            n("reference_gaps"),
            n("reference_month")
        ),
        (Check::Bunching, false) => format!(
            "{:.0} daily {s} values in {:.0}–{:.0} against {:.0} in {:.0}–{:.0} (binomial p = {:.1e})",
            n("under"),
            n("boundary") - n("width") + 1.0,
            n("boundary"),
            n("over"),
            n("boundary") + 1.0,
            n("boundary") + n("width"),
            n("p")
        ),
        (Check::Bunching, true) => format!(
            "{s}日均值落在{:.0}~{:.0}的有{:.0}天,落在{:.0}~{:.0}的仅{:.0}天(二项检验p={:.1e})",
            n("boundary") - n("width") + 1.0,
            n("boundary"),
            n("under"),
            n("boundary") + 1.0,
            n("boundary") + n("width"),
            n("over"),
            n("p")
        ),
        (Check::Stuck, false) => {
            let quiet = h.number("quiet_days").map_or(String::new(), |d| {
                format!(
                    ", while in the {d:.0} days either side it held no other value for {:.0} hours",
                    n("quiet_hours")
                )
            });
            format!("{s} read {} for {:.0} hours in a row{quiet}", n("value"), n("hours"))
        }
        (Check::Stuck, true) => {
            let quiet = h
                .number("quiet_days")
                .map_or(String::new(), |d| format!(",前后{d:.0}天内无其他连续{:.0}小时恒定", n("quiet_hours")));
            format!("{s}连续{:.0}小时恒为{}{quiet}", n("hours"), n("value"))
        }
        (Check::Pm25AbovePm10, false) => format!(
            "PM2.5 above PM10 × 1.2 + 5 in {:.0} hours over {:.0} days (PM2.5 {:.0}, PM10 {:.0} µg/m³)",
            n("hours"),
            n("days"),
            n("pm25"),
            n("pm10")
        ),
        (Check::Pm25AbovePm10, true) => format!(
            "{:.0}天内有{:.0}小时PM2.5高于PM10的1.2倍加5(PM2.5 {:.0}、PM10 {:.0}微克/立方米)",
            n("days"),
            n("hours"),
            n("pm25"),
            n("pm10")
        ),
        (Check::Drift, false) if h.number("pm10_decline").is_some() => format!(
            "{s} and PM10 ratios to the neighbours fell together over {:.0} weeks, to {} and {} of their level in the weeks {} ({:.1} robust deviations; rank correlation with time {:.2}), and both jumped back after it",
            n("weeks"),
            pct(n("decline")),
            pct(n("pm10_decline")),
            if n("after") > 0.5 { "after" } else { "before" },
            n("z"),
            n("rho")
        ),
        (Check::Drift, true) if h.number("pm10_decline").is_some() => format!(
            "{s}与PM10同周边站点的比值在{:.0}周内同时持续下降,分别降至此{}几周水平的{}和{}({:.1}个稳健标准差;与时间的秩相关{:.2}),其后同时跃升回升",
            n("weeks"),
            if n("after") > 0.5 { "后" } else { "前" },
            pct(n("decline")),
            pct(n("pm10_decline")),
            n("z"),
            n("rho")
        ),
        (Check::Drift, false) => format!(
            "{s} ratio to the neighbours fell over {:.0} weeks to {} of its level in the weeks {} ({:.1} robust deviations; rank correlation with time {:.2})",
            n("weeks"),
            pct(n("decline")),
            if n("after") > 0.5 { "after" } else { "before" },
            n("z"),
            n("rho")
        ),
        (Check::Drift, true) => format!(
            "{s}与周边站点的比值在{:.0}周内持续下降至此{}几周水平的{}({:.1}个稳健标准差;与时间的秩相关{:.2})",
            n("weeks"),
            if n("after") > 0.5 { "后" } else { "前" },
            pct(n("decline")),
            n("z"),
            n("rho")
        ),
        (Check::Control, false) if h.number("usual").is_none() => format!(
            "control station at {} of its city's stations this month, hourly correlation {:.2}; its hourly ratio to the city spreads only {:.0} % (too few other months for its usual)",
            pct(n("ratio")),
            n("correlation"),
            100.0 * n("spread").exp_m1()
        ),
        (Check::Control, true) if h.number("usual").is_none() => format!(
            "对照点本月为城区站点的{},逐时相关系数{:.2};与城区逐时比值的离散度仅{:.0}%(其他月份过少,无常态可比)",
            pct(n("ratio")),
            n("correlation"),
            100.0 * n("spread").exp_m1()
        ),
        (Check::Control, false) => format!(
            "control station at {} of its city's stations this month, usually {}; hourly correlation {:.2} (usually {:.2}); its hourly ratio to the city spreads {:.0} % (usually {:.0} %)",
            pct(n("ratio")),
            pct(n("usual")),
            n("correlation"),
            n("usual_correlation"),
            100.0 * n("spread").exp_m1(),
            100.0 * n("usual_spread").exp_m1()
        ),
        (Check::Control, true) => format!(
            "对照点本月为城区站点的{},常态为{};逐时相关系数{:.2}(常态{:.2});与城区逐时比值的离散度{:.0}%(常态{:.0}%)",
            pct(n("ratio")),
            pct(n("usual")),
            n("correlation"),
            n("usual_correlation"),
            100.0 * n("spread").exp_m1(),
            100.0 * n("usual_spread").exp_m1()
        ),
    }
}

pub fn reason(s: &Skipped, zh: bool) -> String {
    let base = match (&s.why, zh) {
        (NotRun::NoNeighbours, false) => "no neighbour with data".to_string(),
        (NotRun::NoNeighbours, true) => "无可比对的周边站点".to_string(),
        (NotRun::TooFewHours { have, need }, false) => format!("{have} hours of PM2.5, {need} needed"),
        (NotRun::TooFewHours { have, need }, true) => format!("PM2.5仅{have}小时有数据,至少需{need}小时"),
        (NotRun::NoBaseline, false) => "too few days beside the neighbours for the station's own baseline".to_string(),
        (NotRun::NoBaseline, true) => "与周边同步的有效日数不足,无法建立本站常态基线".to_string(),
    };
    let detail = match (s.detail, zh) {
        ("", _) => String::new(),
        (d, false) => format!(" ({d})"),
        ("not in the station list", true) => "(不在站点名录中)".into(),
        ("a control station whose city has no other station", true) => "(对照点所在城市无其他站点)".into(),
        ("no coordinates and no other station in its city", true) => "(站点无坐标且同城无其他站点)".into(),
        (_, true) => "(同城及半径内无其他站点)".into(),
    };
    let text = format!("{base}{detail}");
    if zh { full_width(&text) } else { text }
}

fn status_word(f: &Finding, view: View) -> String {
    match (f.status(), view.words()) {
        (None, true) => "待核查".into(),
        (None, false) => "open".into(),
        (Some(d), false) => d.key().into(),
        (Some(lantian_store::findings::Decision::Confirmed), true) => "已确认".into(),
        (Some(lantian_store::findings::Decision::Dismissed), true) => "已排除".into(),
    }
}

fn date(l: i64) -> String {
    date_of(day_of_label(l)).map(|d| d.to_string()).unwrap_or_default()
}

pub fn findings_table(list: &[Finding], view: View) -> Table {
    let mut t = Table::new(vec![
        Col("id", "编号", "Id"),
        Col("station", "站点编码", "Station"),
        Col("station_name", "站点名称", "Station name"),
        Col("city", "城市", "City"),
        Col("from", "起", "From"),
        Col("to", "止", "To"),
        Col("check", "筛查项", "Check"),
        Col("series", "项目", "Series"),
        Col("score", "评分", "Score"),
        Col("status", "状态", "Status"),
        Col("evidence", "依据", "Evidence"),
    ]);
    for f in list {
        t.push(vec![
            Cell::text(f.id.clone()),
            Cell::text(f.station.clone()),
            Cell::text(f.station_name.clone()),
            Cell::text(f.city.clone()),
            Cell::text(date(f.hit.from)),
            Cell::text(date(f.hit.to)),
            Cell::text(if view.words() { check_name(f.hit.check, true) } else { f.hit.check.key() }),
            Cell::text(series_name(f.hit.series)),
            Cell::Int(f.hit.score.round() as i64),
            Cell::text(status_word(f, view)),
            Cell::text(sentence(&f.hit, view.zh())),
        ]);
    }
    t
}

pub fn skipped_table(list: &[Skipped], view: View) -> Table {
    let mut t = Table::new(vec![
        Col("station", "站点编码", "Station"),
        Col("city", "城市", "City"),
        Col("check", "筛查项", "Check"),
        Col("reason", "未运行原因", "Why it did not run"),
    ]);
    for s in list {
        t.push(vec![
            Cell::text(s.station.clone()),
            Cell::text(s.city.clone()),
            Cell::text(if view.words() { check_name(s.check, true) } else { s.check.key() }),
            Cell::text(reason(s, view.zh())),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinese evidence reads with full-width punctuation; English keeps ASCII.
    #[test]
    fn chinese_sentences_take_full_width_punctuation() {
        let h = Hit {
            check: Check::ShortDrop,
            series: "pm25",
            from: 0,
            to: 23,
            score: 60.0,
            numbers: vec![("drops", 3.0), ("hours", 9.0), ("share", 0.35), ("reference", 80.0)],
        };
        let zh = sentence(&h, true);
        assert!(zh.contains("（共9小时），与周边站点"), "{zh}");
        assert!(!zh.contains([',', '(', ')', ';', ':']), "{zh}");
        let en = sentence(&h, false);
        assert!(en.contains("(9 hours in all)"), "{en}");
    }
}
