//! The completion table (整改任务完成情况表) in the seed's layout: 整改任务 /
//! 整改责任单位 / 整改目标 / 整改措施 / 整改主要工作及成效, from the ledger. The
//! results sentence that opens 工作及成效 is computed from the assessment
//! and the targets, never typed.

use crate::doc::{Block, Cell, Doc, Table};
use crate::text::join;

/// One target of one area in one year, judged at the year's end.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetResult {
    /// 优良天数率 / PM2.5年均浓度 …
    pub what: String,
    /// `Some(true)` met, `Some(false)` missed, `None` undecidable (no data).
    pub met: Option<bool>,
    /// "79.2%（目标≥80.0%）"
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AreaResult {
    pub area: String,
    /// Empty: no targets known for the area and year.
    pub targets: Vec<TargetResult>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct YearResult {
    pub year: i16,
    pub areas: Vec<AreaResult>,
}

#[derive(Clone, Debug)]
pub struct ProgressLine {
    pub measure: Option<i64>,
    pub date: String,
    pub author: String,
    pub text: String,
    /// "超低排放改造510万千瓦"
    pub indicators: Vec<String>,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CompletionData {
    /// "第一轮中央生态环境保护督察“回头看”第四十六项整改任务"
    pub title: String,
    pub source: String,
    pub problem: String,
    pub units: Vec<String>,
    pub goal: String,
    pub measures: Vec<String>,
    pub status: String,
    pub deadline: Option<String>,
    pub overdue: bool,
    pub progress: Vec<ProgressLine>,
    pub results: Vec<YearResult>,
}

/// The results sentence of one year, in the seed's words: who met all
/// their targets, who missed which, who cannot be judged.
pub fn results_sentence(r: &YearResult) -> String {
    let mut met = Vec::new();
    let mut missed = Vec::new();
    let mut unknown = Vec::new();
    let mut no_target = Vec::new();
    for a in &r.areas {
        if a.targets.is_empty() {
            no_target.push(a.area.clone());
            continue;
        }
        let failed: Vec<&TargetResult> = a.targets.iter().filter(|t| t.met == Some(false)).collect();
        let open: Vec<&TargetResult> = a.targets.iter().filter(|t| t.met.is_none()).collect();
        if !failed.is_empty() {
            let what: Vec<String> = failed.iter().map(|t| format!("{}（{}）", t.what, t.detail)).collect();
            missed.push(format!("{}未完成{}目标任务", city(&a.area), what.join("、")));
        } else if !open.is_empty() {
            unknown.push(a.area.clone());
        } else {
            met.push(a.area.clone());
        }
    }
    let mut parts = Vec::new();
    match met.len() {
        0 => {}
        1 => parts.push(format!("{}完成环境空气质量目标任务", city(&met[0]))),
        _ => parts.push(format!("{}均完成环境空气质量目标任务", city(&join(&met)))),
    }
    parts.extend(missed);
    if !unknown.is_empty() {
        parts.push(format!("{}数据不足，目标完成情况无法判定", join(&unknown)));
    }
    if !no_target.is_empty() {
        parts.push(format!("{}无{}年目标数据，未作判定", join(&no_target), r.year));
    }
    if parts.is_empty() {
        return format!("{}年无可判定的目标。", r.year);
    }
    format!("{}年，{}。", r.year, parts.join("，"))
}

/// "宜宾" → "宜宾市", "达州" → "达州市"; autonomous prefectures (阿坝州,
/// three characters or more ending in 州) and names ending in 市 stay.
fn city(name: &str) -> String {
    let last = name.rsplit('、').next().unwrap_or(name);
    if last.ends_with('市') || (last.ends_with('州') && last.chars().count() >= 3) {
        name.to_string()
    } else {
        format!("{name}市")
    }
}

/// Compose the completion table.
pub fn compose(d: &CompletionData) -> Doc {
    let measures: Vec<String> = d.measures.iter().enumerate().map(|(i, m)| format!("{}.{m}", i + 1)).collect();
    let mut work: Vec<String> = d.results.iter().map(results_sentence).collect();
    // Progress: the task as a whole first, then by measure in order.
    let mut by_measure: Vec<(Option<i64>, Vec<&ProgressLine>)> = Vec::new();
    for p in &d.progress {
        match by_measure.iter_mut().find(|(m, _)| *m == p.measure) {
            Some((_, v)) => v.push(p),
            None => by_measure.push((p.measure, vec![p])),
        }
    }
    by_measure.sort_by_key(|(m, _)| m.unwrap_or(0));
    for (m, entries) in by_measure {
        let texts: Vec<String> = entries.iter().map(|p| p.text.clone()).collect();
        let head = match m {
            Some(m) => format!("整改措施{m}："),
            None => String::new(),
        };
        work.push(format!("{head}{}", texts.join("\n")));
        let quantities: Vec<String> = entries.iter().flat_map(|p| p.indicators.iter().cloned()).collect();
        if !quantities.is_empty() {
            work.push(format!("主要量化指标：{}。", quantities.join("；")));
        }
    }
    if work.is_empty() {
        work.push("尚无工作进展记录。".into());
    }
    let mut status = d.status.clone();
    if let Some(deadline) = &d.deadline {
        status.push_str(&format!("（整改时限：{deadline}{}）", if d.overdue { "，已逾期" } else { "" }));
    }
    let rows = vec![
        vec![Cell::text("整改任务"), Cell::text(format!("{}：{}", d.title, d.problem))],
        vec![Cell::text("整改责任单位"), Cell::text(join(&d.units))],
        vec![Cell::text("整改目标"), Cell::text(d.goal.clone())],
        vec![Cell::text("整改措施"), Cell::text(measures.join("\n"))],
        vec![Cell::text("整改主要工作及成效"), Cell::text(work.join("\n"))],
        vec![Cell::text("整改状态"), Cell::text(status)],
    ];
    let evidence: Vec<String> = d
        .progress
        .iter()
        .flat_map(|p| p.evidence.iter().map(move |e| format!("{}（{}，{}）", e, p.author, p.date)))
        .collect();
    let mut notes = vec![format!("任务来源：{}。", d.source)];
    if !evidence.is_empty() {
        notes.push(format!("佐证材料：{}。", evidence.join("；")));
    }
    notes.push("注：目标完成情况由lantian依据监测数据和年度目标计算。".into());
    let table = Table {
        caption: String::new(),
        sheet: "完成情况表".into(),
        header: Vec::new(),
        rows,
        notes,
        label_column: true,
        fills: Vec::new(),
    };
    Doc {
        title: format!("{}完成情况表", d.title),
        subtitle: Vec::new(),
        blocks: vec![Block::Table(table)],
        landscape: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(what: &str, met: Option<bool>) -> TargetResult {
        TargetResult { what: what.into(), met, detail: "x".into() }
    }

    #[test]
    fn sentence_in_the_seed_register() {
        let r = YearResult {
            year: 2020,
            areas: vec![
                AreaResult { area: "自贡".into(), targets: vec![t("PM2.5年均浓度", Some(true))] },
                AreaResult { area: "攀枝花".into(), targets: vec![t("优良天数率", Some(true))] },
                AreaResult {
                    area: "宜宾".into(),
                    targets: vec![t("PM2.5年均浓度", Some(true)), t("优良天数率", Some(false))],
                },
                AreaResult { area: "资阳".into(), targets: vec![] },
                AreaResult { area: "达州".into(), targets: vec![t("PM2.5年均浓度", Some(false))] },
                AreaResult { area: "阿坝州".into(), targets: vec![t("优良天数率", None)] },
            ],
        };
        assert_eq!(
            results_sentence(&r),
            "2020年，自贡、攀枝花市均完成环境空气质量目标任务，宜宾市未完成优良天数率（x）目标任务，达州市未完成PM2.5年均浓度（x）目标任务，阿坝州数据不足，目标完成情况无法判定，资阳无2020年目标数据，未作判定。"
        );
    }
}
