//! `lantian screen …`: data integrity screening — findings for a period,
//! a person's decision on one (review), one finding in full (show), and
//! the injector's measurement of the checks (evaluate).

use super::Ctx;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use lantian_app::screen::{self, ReviewRequest, ScreenRequest, evidence, inject};
use lantian_app::{Cell, Col, Table};
use lantian_core::integrity::Check;
use lantian_core::time::day_number;
use lantian_store::findings::Decision;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScreenArgs {
    #[command(subcommand)]
    pub cmd: Option<ScreenCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// First day (default: the store's first).
    #[arg(long)]
    pub from: Option<Date>,
    /// Last day (default: the store's last).
    #[arg(long)]
    pub to: Option<Date>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub station: Option<String>,
    /// Only these checks (divergence, short_drop, selective_gaps, bunching, stuck, pm25_above_pm10, drift, control).
    #[arg(long, value_delimiter = ',')]
    pub check: Vec<String>,
    /// Only findings scoring at least this (0–100).
    #[arg(long, default_value_t = 0.0)]
    pub min_score: f64,
    /// Dismissed findings too.
    #[arg(long)]
    pub all: bool,
    /// Also list, per station, the checks that could not run and why.
    #[arg(long)]
    pub not_run: bool,
    /// Parameters (TOML; default DATA/integrity.toml, else the documented defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ScreenCommand {
    /// Record a decision on a finding (who, when, why; audited). Dismissed findings stay dismissed.
    Review {
        id: String,
        #[arg(long, conflicts_with = "dismiss", required_unless_present = "dismiss")]
        confirm: bool,
        #[arg(long)]
        dismiss: bool,
        /// What was checked and what was seen (required).
        #[arg(long)]
        note: String,
        /// With --confirm: blank the finding's hours in the audited layer, so --values best leaves them out.
        #[arg(long)]
        invalidate: bool,
        #[arg(long, default_value = "lantian")]
        by: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// One finding in full, with its decisions.
    Show {
        id: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Measure the checks: inject tampering signatures into the stored data at random stations
    /// and periods, screen, and report per pattern the share found and the untouched rate.
    Evaluate {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        seeds: Vec<u64>,
        /// Episodes per pattern and seed.
        #[arg(long, default_value_t = 10)]
        episodes: usize,
        /// Only these patterns (gauze, spraying, withheld_highs, pushed_under, stuck, pm25_over_pm10, drift, control_like_city).
        #[arg(long, value_delimiter = ',')]
        pattern: Vec<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also list the episodes not found (station, period, strength, the station's findings then).
        #[arg(long)]
        misses: bool,
    },
}

fn checks(keys: &[String]) -> Result<Vec<Check>> {
    keys.iter()
        .map(|k| {
            Check::parse(k).ok_or_else(|| {
                anyhow::anyhow!(
                    "--check {k:?}: one of {}",
                    Check::ALL.iter().map(|c| c.key()).collect::<Vec<_>>().join(", ")
                )
            })
        })
        .collect()
}

pub fn screen(ctx: &Ctx, args: &ScreenArgs) -> Result<()> {
    let zh = ctx.zh();
    match &args.cmd {
        None => {
            let a = &args.run;
            let params = screen::load_params(&ctx.app, a.config.as_deref())?;
            let req = ScreenRequest {
                from: a.from,
                to: a.to,
                city: a.city.clone(),
                station: a.station.clone(),
                checks: checks(&a.check)?,
                min_score: a.min_score,
                dismissed: a.all,
            };
            let s = screen::screen(&ctx.app, &req, &params)?;
            eprintln!(
                "{}",
                if zh {
                    format!(
                        "筛查原始数据:{} 个站点、{} 个站点月,发现 {} 条线索(线索是核查依据,不是结论)",
                        s.stations,
                        s.station_months,
                        s.findings.len()
                    )
                } else {
                    format!(
                        "screened the raw data: {} stations, {} station-months, {} findings (evidence to check, not verdicts)",
                        s.stations,
                        s.station_months,
                        s.findings.len()
                    )
                }
            );
            ctx.print(&evidence::findings_table(&s.findings, ctx.view()))?;
            if a.not_run {
                ctx.print(&evidence::skipped_table(&s.skipped, ctx.view()))?;
            } else if !s.skipped.is_empty() {
                let stations: std::collections::BTreeSet<&str> = s.skipped.iter().map(|x| x.station.as_str()).collect();
                eprintln!(
                    "{}",
                    if zh {
                        format!("{} 个站点有筛查项未能运行(--not-run 列出原因)", stations.len())
                    } else {
                        format!("{} stations had checks that could not run (--not-run lists why)", stations.len())
                    }
                );
            }
            Ok(())
        }
        Some(ScreenCommand::Review { id, confirm, dismiss: _, note, invalidate, by, config }) => {
            let params = screen::load_params(&ctx.app, config.as_deref())?;
            let decision = if *confirm { Decision::Confirmed } else { Decision::Dismissed };
            let req =
                ReviewRequest { id: id.clone(), decision, note: note.clone(), by: by.clone(), invalidate: *invalidate };
            screen::review(&ctx.app, &req, &params)?;
            eprintln!(
                "{} {id}{}",
                match (zh, decision) {
                    (true, Decision::Confirmed) => "已确认线索",
                    (true, Decision::Dismissed) => "已排除线索",
                    (false, Decision::Confirmed) => "finding confirmed:",
                    (false, Decision::Dismissed) => "finding dismissed:",
                },
                match (*invalidate, zh) {
                    (false, _) => "",
                    (true, true) => "(相应小时数据已在审核层置为无效)",
                    (true, false) => " (its hours invalidated in the audited layer)",
                }
            );
            Ok(())
        }
        Some(ScreenCommand::Show { id, config }) => {
            let params = screen::load_params(&ctx.app, config.as_deref())?;
            let f = screen::find(&ctx.app, id, &params)?;
            ctx.print(&evidence::findings_table(std::slice::from_ref(&f), ctx.view()))?;
            let mut ledger = ctx.app.ledger()?;
            let mut t = Table::new(vec![
                Col("at", "时间", "At"),
                Col("who", "操作人", "Who"),
                Col("decision", "结论", "Decision"),
                Col("note", "说明", "Note"),
            ]);
            for r in lantian_store::findings::history(ledger.db(), id)? {
                t.push(vec![Cell::text(r.at), Cell::text(r.who), Cell::text(r.decision.key()), Cell::text(r.note)]);
            }
            ctx.print(&t)
        }
        Some(ScreenCommand::Evaluate { from, to, seeds, episodes, pattern, config, misses }) => {
            if from > to {
                bail!("--to is before --from");
            }
            let params = screen::load_params(&ctx.app, config.as_deref())?;
            let patterns = if pattern.is_empty() {
                inject::Pattern::ALL.to_vec()
            } else {
                pattern
                    .iter()
                    .map(|k| inject::Pattern::parse(k).ok_or_else(|| anyhow::anyhow!("--pattern {k:?}: unknown")))
                    .collect::<Result<_>>()?
            };
            let store = ctx.app.store()?.with_values(lantian_store::Values::Raw);
            let req = inject::EvaluateRequest {
                from: day_number(*from),
                to: day_number(*to),
                seeds: seeds.clone(),
                episodes: *episodes,
                patterns,
            };
            let e = inject::evaluate(&store, &params, &req)?;
            ctx.print(&inject::table(&e))?;
            let mut t = Table::new(vec![
                Col("check", "筛查项", "Check"),
                Col("untouched_findings", "未注入数据中的线索", "Findings in untouched data"),
            ]);
            for (c, n) in &e.by_check {
                t.push(vec![Cell::text(c.key()), Cell::Int(*n as i64)]);
            }
            ctx.print(&t)?;
            if *misses {
                ctx.print(&inject::misses_table(&e))?;
            }
            Ok(())
        }
    }
}
