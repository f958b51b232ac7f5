//! `lantian task …`: the rectification ledger on the command line.

use crate::commands::Ctx;
use crate::output::{Cell, Col, Table};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use lantian_core::task::{TaskStatus, is_overdue};
use lantian_store::tasks::{self, GoalTargets, Indicator, Progress, Task, TaskFields};
use std::path::PathBuf;

#[derive(Args, Debug, Default)]
pub struct FieldArgs {
    #[arg(long)]
    title: Option<String>,
    /// Inspection round and feedback item.
    #[arg(long)]
    source: Option<String>,
    /// The problem, as the feedback states it.
    #[arg(long)]
    problem: Option<String>,
    /// A responsible unit (repeat for several; replaces the list on edit).
    #[arg(long = "unit")]
    units: Vec<String>,
    /// A city the task concerns (repeat; replaces the list on edit).
    #[arg(long = "city")]
    cities: Vec<String>,
    #[arg(long)]
    goal: Option<String>,
    /// Link the goal to targets: year whose targets the --goal-area areas must meet.
    #[arg(long)]
    goal_year: Option<i16>,
    /// Area whose targets of --goal-year make the goal (repeat).
    #[arg(long = "goal-area")]
    goal_areas: Vec<String>,
    #[arg(long)]
    deadline: Option<Date>,
    /// A measure, numbered in order (repeat; replaces the list on edit).
    #[arg(long = "measure")]
    measures: Vec<String>,
}

impl FieldArgs {
    fn apply(&self, f: &mut TaskFields) {
        let set = |dst: &mut String, src: &Option<String>| {
            if let Some(s) = src {
                *dst = s.clone();
            }
        };
        set(&mut f.title, &self.title);
        set(&mut f.source, &self.source);
        set(&mut f.problem, &self.problem);
        set(&mut f.goal, &self.goal);
        for (dst, src) in
            [(&mut f.units, &self.units), (&mut f.cities, &self.cities), (&mut f.measures, &self.measures)]
        {
            if !src.is_empty() {
                *dst = src.clone();
            }
        }
        if let Some(d) = self.deadline {
            f.deadline = Some(d);
        }
        if let Some(year) = self.goal_year {
            let areas = if self.goal_areas.is_empty() { f.cities.clone() } else { self.goal_areas.clone() };
            f.goal_targets = vec![GoalTargets { year, areas }];
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Add a task (status 未启动).
    Add {
        #[arg(long)]
        number: i64,
        #[command(flatten)]
        fields: FieldArgs,
        /// Who records it (audit log).
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Change a task's fields; only the flags given change.
    Edit {
        number: i64,
        #[command(flatten)]
        fields: FieldArgs,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Record a dated progress entry (工作及成效) with indicators and evidence files.
    Progress {
        number: i64,
        #[arg(long)]
        date: Date,
        /// Who reports it (a unit or person).
        #[arg(long)]
        author: String,
        #[arg(long)]
        text: String,
        /// The measure (1-based) it reports on.
        #[arg(long)]
        measure: Option<i64>,
        /// A quantity achieved: "NAME=VALUE UNIT", e.g. "超低排放改造=510 万千瓦" (repeat).
        #[arg(long = "indicator")]
        indicators: Vec<String>,
        /// An evidence file, stored under its SHA-256 in the data directory (repeat).
        #[arg(long = "evidence")]
        evidence: Vec<PathBuf>,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Move a task along 未启动 → 推进中 → 已完成 → 已销号 (keys: not_started, in_progress, completed, closed).
    Status {
        number: i64,
        status: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// List tasks with their status and whether they are overdue.
    List {
        /// Only tasks in this status.
        #[arg(long)]
        status: Option<String>,
        /// Only overdue tasks.
        #[arg(long)]
        overdue: bool,
        /// Only tasks concerning this city.
        #[arg(long)]
        city: Option<String>,
    },
    /// One task with its measures, progress and status history.
    Show { number: i64 },
    /// Import tasks from JSON (the export form; one task or a list), all or none.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Export every task as JSON (to --output, else standard output).
    Export,
}

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

fn today() -> Date {
    crate::commands::today_date()
}

pub fn task(ctx: &Ctx, cmd: &TaskCommand) -> Result<()> {
    let mut ledger = ctx.ledger()?;
    let db = ledger.db();
    let zh = ctx.lang == crate::output::Lang::Zh;
    // Chinese words in people's tables; machine keys in CSV/JSON.
    let words = zh && ctx.format == crate::output::Format::Table;
    match cmd {
        TaskCommand::Add { number, fields, by } => {
            let mut f = TaskFields { number: *number, ..Default::default() };
            fields.apply(&mut f);
            tasks::add(db, &f, by)?;
            eprintln!("{} {number}", if zh { "已添加整改任务" } else { "task added:" });
        }
        TaskCommand::Edit { number, fields, by } => {
            let mut f = tasks::get(db, *number)?.fields;
            fields.apply(&mut f);
            tasks::edit(db, &f, by)?;
            eprintln!("{} {number}", if zh { "已修改整改任务" } else { "task edited:" });
        }
        TaskCommand::Progress { number, date, author, text, measure, indicators, evidence, by } => {
            let indicators = indicators.iter().map(|s| parse_indicator(s)).collect::<Result<Vec<_>>>()?;
            let mut files = Vec::new();
            for p in evidence {
                let bytes = std::fs::read(p).with_context(|| format!("reading evidence {}", p.display()))?;
                files.push((p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), bytes));
            }
            // Files first: content-addressed, so a failed entry leaves only unreferenced copies.
            let stored = tasks::store_evidence(&ctx.data, &files)?;
            let entry = Progress {
                id: 0,
                date: *date,
                author: author.clone(),
                measure: *measure,
                text: text.clone(),
                indicators,
                evidence: stored,
            };
            let id = tasks::progress(db, *number, &entry, by)?;
            eprintln!("{} {id}", if zh { "已记录工作进展" } else { "progress recorded:" });
        }
        TaskCommand::Status { number, status, note, by } => {
            let to = TaskStatus::parse(status).with_context(|| {
                format!("unknown status {status:?}: one of not_started, in_progress, completed, closed (未启动, 推进中, 已完成, 已销号)")
            })?;
            tasks::set_status(db, *number, to, by, note.as_deref())?;
            eprintln!(
                "{} {number} → {}",
                if zh { "任务状态" } else { "task status" },
                if zh { to.zh() } else { to.key() }
            );
        }
        TaskCommand::List { status, overdue, city } => {
            let want = match status {
                Some(s) => Some(TaskStatus::parse(s).with_context(|| format!("unknown status {s:?}"))?),
                None => None,
            };
            let today = today();
            let list: Vec<Task> = tasks::list(db)?
                .into_iter()
                .filter(|t| want.is_none_or(|w| t.status == w))
                .filter(|t| !overdue || is_overdue(t.status, t.fields.deadline, today))
                .filter(|t| city.as_ref().is_none_or(|c| t.fields.cities.contains(c)))
                .collect();
            ctx.print(&list_table(&list, today, words))?;
        }
        TaskCommand::Show { number } => {
            let t = tasks::get(db, *number)?;
            let log = tasks::audit(db, *number)?;
            if ctx.format == crate::output::Format::Json {
                let mut v = serde_json::to_value(&t)?;
                v["audit"] =
                    log.iter().map(|e| serde_json::json!({"at": e.at, "who": e.who, "change": e.change})).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                ctx.print(&detail_table(&t, today(), words))?;
                ctx.print(&progress_table(&t))?;
                let mut a = Table::new(vec![
                    Col("at", "时间", "At"),
                    Col("who", "操作人", "Who"),
                    Col("change", "变更", "Change"),
                ]);
                for e in log {
                    a.push(vec![Cell::text(e.at), Cell::text(e.who), Cell::text(e.change)]);
                }
                ctx.print(&a)?;
            }
        }
        TaskCommand::Import { file, by } => {
            let list = tasks::read_import(&ctx.data, file)?;
            let n = tasks::import(db, &list, by)?;
            eprintln!("{} {n}", if zh { "已导入整改任务" } else { "tasks imported:" });
        }
        TaskCommand::Export => {
            let list = tasks::list(db)?;
            let json = serde_json::to_string_pretty(&list)? + "\n";
            match &ctx.output {
                Some(p) => {
                    crate::report::write_atomic(p, json.as_bytes())?;
                    println!("{}", p.display());
                }
                None => print!("{json}"),
            }
        }
    }
    Ok(())
}

fn list_table(list: &[Task], today: Date, zh: bool) -> Table {
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

fn detail_table(task: &Task, today: Date, zh: bool) -> Table {
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

fn progress_table(task: &Task) -> Table {
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
