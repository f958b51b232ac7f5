//! `lantian task …`: the rectification ledger on the command line.

use super::Ctx;
use crate::output::Format;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use lantian_app::tasks::{ProgressReport, audit_table, detail_table, list_table, progress_table, select};
use lantian_core::task::TaskStatus;
use lantian_store::tasks::{self, GoalTargets, TaskFields};
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

pub fn task(ctx: &Ctx, cmd: &TaskCommand) -> Result<()> {
    let mut ledger = ctx.app.ledger()?;
    let db = ledger.db();
    let zh = ctx.zh();
    // Chinese words in people's tables; machine keys in CSV/JSON.
    let words = ctx.view().words();
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
            let mut files = Vec::new();
            for p in evidence {
                let bytes = std::fs::read(p).with_context(|| format!("reading evidence {}", p.display()))?;
                files.push((p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), bytes));
            }
            let report = ProgressReport {
                date: *date,
                author: author.clone(),
                measure: *measure,
                text: text.clone(),
                indicators: indicators.clone(),
                files,
            };
            drop(ledger);
            let id = lantian_app::tasks::record_progress(&ctx.app, *number, &report, by)?;
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
            let today = lantian_app::today_date();
            let list = select(tasks::list(db)?, status.as_deref(), *overdue, city.as_deref(), today)?;
            ctx.print(&list_table(&list, today, words))?;
        }
        TaskCommand::Show { number } => {
            let t = tasks::get(db, *number)?;
            let log = tasks::audit(db, *number)?;
            if ctx.format == Format::Json {
                let mut v = serde_json::to_value(&t)?;
                v["audit"] =
                    log.iter().map(|e| serde_json::json!({"at": e.at, "who": e.who, "change": e.change})).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                ctx.print(&detail_table(&t, lantian_app::today_date(), words))?;
                ctx.print(&progress_table(&t))?;
                ctx.print(&audit_table(log))?;
            }
        }
        TaskCommand::Import { file, by } => {
            let list = tasks::read_import(&ctx.app.data, file)?;
            let n = tasks::import(db, &list, by)?;
            eprintln!("{} {n}", if zh { "已导入整改任务" } else { "tasks imported:" });
        }
        TaskCommand::Export => {
            let list = tasks::list(db)?;
            let json = serde_json::to_string_pretty(&list)? + "\n";
            match &ctx.output {
                Some(p) => {
                    crate::output::write_atomic(p, json.as_bytes())?;
                    println!("{}", p.display());
                }
                None => print!("{json}"),
            }
        }
    }
    Ok(())
}
