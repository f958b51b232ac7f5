//! The rectification ledger's use cases that both the CLI and the web
//! share: a progress entry with its evidence files, indicators as reports
//! print them, and the ledger's tables.

use crate::table::{Cell, Col, Table};
use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use lantian_core::task::{TaskStatus, is_overdue};
use lantian_store::tasks::{self, Indicator, Progress, Task};

/// "超低排放改造=510 万千瓦" → indicator.
pub fn parse_indicator(s: &str) -> Result<Indicator> {
    let Some((name, rest)) = s.split_once('=') else {
        bail!("indicator {s:?}: expected NAME=VALUE UNIT, e.g. 超低排放改造=510 万千瓦");
    };
    let rest = rest.trim();
    let split =
        rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))).unwrap_or(rest.len());
    let value: f64 = rest[..split].parse().with_context(|| format!("indicator {s:?}: value {:?}", &rest[..split]))?;
    if !value.is_finite() || name.trim().is_empty() {
        bail!("indicator {s:?}: needs a name and a finite value");
    }
    Ok(Indicator { name: name.trim().into(), value, unit: rest[split..].trim().into() })
}

/// An indicator as reports print it: "超低排放改造510万千瓦".
pub fn indicator_text(i: &Indicator) -> String {
    let v = if i.value.fract() == 0.0 { format!("{:.0}", i.value) } else { format!("{}", i.value) };
    format!("{}{v}{}", i.name, i.unit)
}

/// A progress entry (工作及成效) as a person reports it.
#[derive(Clone, Debug)]
pub struct ProgressReport {
    pub date: Date,
    pub author: String,
    pub measure: Option<i64>,
    pub text: String,
    /// "NAME=VALUE UNIT" each.
    pub indicators: Vec<String>,
    /// Evidence files: name and content.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Record a progress entry on task `number`: evidence files first (stored
/// under their SHA-256, so a failed entry leaves only unreferenced copies),
/// then the entry and its audit row in one transaction. The entry's id.
pub fn record_progress(ctx: &crate::Ctx, number: i64, r: &ProgressReport, by: &str) -> Result<i64> {
    let indicators = r.indicators.iter().map(|s| parse_indicator(s)).collect::<Result<Vec<_>>>()?;
    let evidence = tasks::store_evidence(&ctx.data, &r.files)?;
    let entry = Progress {
        id: 0,
        date: r.date,
        author: r.author.clone(),
        measure: r.measure,
        text: r.text.clone(),
        indicators,
        evidence,
    };
    let mut ledger = ctx.ledger()?;
    Ok(tasks::progress(ledger.db(), number, &entry, by)?)
}

/// The tasks `status`, `overdue` and `city` select, as of `today`.
pub fn select(
    list: Vec<Task>,
    status: Option<&str>,
    overdue: bool,
    city: Option<&str>,
    today: Date,
) -> Result<Vec<Task>> {
    let want = match status {
        Some(s) => Some(TaskStatus::parse(s).with_context(|| format!("unknown status {s:?}"))?),
        None => None,
    };
    Ok(list
        .into_iter()
        .filter(|t| want.is_none_or(|w| t.status == w))
        .filter(|t| !overdue || is_overdue(t.status, t.fields.deadline, today))
        .filter(|t| city.is_none_or(|c| t.fields.cities.iter().any(|x| x == c)))
        .collect())
}

/// The task list.
pub fn list_table(list: &[Task], today: Date, zh: bool) -> Table {
    let mut t = Table::new(vec![
        Col("number", "编号", "No."),
        Col("title", "整改任务", "Task"),
        Col("status", "状态", "Status"),
        Col("deadline", "整改时限", "Deadline"),
        Col("overdue", "逾期", "Overdue"),
        Col("units", "责任单位", "Units"),
        Col("progress", "进展条数", "Progress entries"),
        Col("last_progress", "最近进展", "Last progress"),
    ]);
    for task in list {
        t.push(vec![
            Cell::Int(task.fields.number),
            Cell::text(task.fields.title.clone()),
            Cell::text(if zh { task.status.zh() } else { task.status.key() }),
            Cell::text(task.fields.deadline.map(|d| d.to_string()).unwrap_or_default()),
            Cell::Bool(is_overdue(task.status, task.fields.deadline, today)),
            Cell::text(task.fields.units.join("、")),
            Cell::Int(task.progress.len() as i64),
            Cell::text(task.progress.iter().map(|p| p.date).max().map(|d| d.to_string()).unwrap_or_default()),
        ]);
    }
    t
}

/// One task's fields, status and history.
pub fn detail_table(task: &Task, today: Date, zh: bool) -> Table {
    let f = &task.fields;
    let mut t = Table::new(vec![Col("field", "项目", "Field"), Col("value", "内容", "Value")]);
    let mut row = |k: &str, v: String| t.push(vec![Cell::text(k), Cell::text(v)]);
    row("编号 number", f.number.to_string());
    row("整改任务 title", f.title.clone());
    row("来源 source", f.source.clone());
    row("问题 problem", f.problem.clone());
    row("整改责任单位 units", f.units.join("、"));
    row("涉及城市 cities", f.cities.join("、"));
    row("整改目标 goal", f.goal.clone());
    for g in &f.goal_targets {
        row("目标核算 goal targets", format!("{}: {}", g.year, g.areas.join("、")));
    }
    row("整改时限 deadline", f.deadline.map(|d| d.to_string()).unwrap_or_default());
    for (i, m) in f.measures.iter().enumerate() {
        row(&format!("整改措施 measure {}", i + 1), m.clone());
    }
    let overdue = is_overdue(task.status, f.deadline, today);
    row(
        "状态 status",
        format!(
            "{}{}",
            if zh { task.status.zh() } else { task.status.key() },
            if overdue { if zh { "（已逾期）" } else { " (overdue)" } } else { "" }
        ),
    );
    for h in &task.history {
        let from = h.from.as_deref().and_then(TaskStatus::parse).map(|s| s.zh()).unwrap_or("—");
        let to = TaskStatus::parse(&h.to).map_or(h.to.as_str(), |s| s.zh());
        let note = h.note.as_deref().map(|n| format!("（{n}）")).unwrap_or_default();
        row("状态变更 history", format!("{} {} {from} → {to}{note}", h.at, h.who));
    }
    t
}

/// One task's progress entries.
pub fn progress_table(task: &Task) -> Table {
    let mut t = Table::new(vec![
        Col("id", "序号", "Id"),
        Col("date", "日期", "Date"),
        Col("measure", "措施", "Measure"),
        Col("author", "报送单位", "Author"),
        Col("text", "工作及成效", "Work and results"),
        Col("indicators", "量化指标", "Indicators"),
        Col("evidence", "佐证材料", "Evidence"),
    ]);
    for p in &task.progress {
        t.push(vec![
            Cell::Int(p.id),
            Cell::text(p.date.to_string()),
            p.measure.map_or(Cell::Empty, Cell::Int),
            Cell::text(p.author.clone()),
            Cell::text(p.text.clone()),
            Cell::text(p.indicators.iter().map(indicator_text).collect::<Vec<_>>().join("；")),
            Cell::text(
                p.evidence
                    .iter()
                    .map(|e| format!("{} ({})", e.name, e.sha256.get(..12).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
        ]);
    }
    t
}

/// A task's audit log.
pub fn audit_table(log: Vec<lantian_store::ledger::AuditEntry>) -> Table {
    let mut a = Table::new(vec![Col("at", "时间", "At"), Col("who", "操作人", "Who"), Col("change", "变更", "Change")]);
    for e in log {
        a.push(vec![Cell::text(e.at), Cell::text(e.who), Cell::text(e.change)]);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators() {
        let i = parse_indicator("超低排放改造=510 万千瓦").unwrap();
        assert_eq!((i.name.as_str(), i.value, i.unit.as_str()), ("超低排放改造", 510.0, "万千瓦"));
        assert_eq!(indicator_text(&i), "超低排放改造510万千瓦");
        let i = parse_indicator("非道路移动机械编码登记=2.5万台").unwrap();
        assert_eq!((i.value, i.unit.as_str()), (2.5, "万台"));
        assert!(parse_indicator("x").is_err());
        assert!(parse_indicator("x=abc 台").is_err());
        assert!(parse_indicator("=5 台").is_err());
    }
}
