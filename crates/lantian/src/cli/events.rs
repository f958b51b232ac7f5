//! `lantian event …`: sand-dust and exceptional events whose data the
//! assessment deducts (import, add, list, show, withdraw, accept, detect).

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;
use jiff::civil::Date;
use lantian_app::events::{DetectConfig, candidates_table, events_table};
use lantian_app::{Cell, Col, Table};
use lantian_core::time::day_number;
use lantian_store::events::{self, EventKind, NewEvent, parse_time};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum EventCommand {
    /// Import events from CSV `city,start,end,kind,reference,note` (all or none). start/end:
    /// YYYY-MM-DD for whole days or YYYY-MM-DDTHH:00 hour-ending labels, inclusive; kind sand_dust or exceptional.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Add one event.
    Add {
        #[arg(long)]
        city: String,
        /// YYYY-MM-DD (the whole day) or YYYY-MM-DDTHH:00 (the hour ending then).
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        /// sand_dust or exceptional.
        #[arg(long, default_value = "sand_dust")]
        kind: String,
        /// The document or bulletin it rests on.
        #[arg(long, default_value = "")]
        reference: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// List events (withdrawn ones too with --all).
    List {
        #[arg(long)]
        city: Option<String>,
        #[arg(long)]
        from: Option<Date>,
        #[arg(long)]
        to: Option<Date>,
        #[arg(long)]
        all: bool,
    },
    /// One event and its history (who entered, accepted, withdrew it, when, why).
    Show { id: i64 },
    /// Withdraw an event (it stops applying and stays in the history).
    Withdraw {
        id: i64,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Accept a detected candidate: from now on it applies.
    Accept {
        id: i64,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Propose sand-dust periods from the hourly data (PM10, PM2.5/PM10, PM10 the sole primary
    /// pollutant, several stations and nearby cities at once) as candidates for a person to accept.
    Detect {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
        /// Thresholds (TOML; default DATA/dust-detect.toml, else the built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only show what would be proposed.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "lantian event detect")]
        by: String,
    },
}

pub fn event(ctx: &Ctx, cmd: &EventCommand) -> Result<()> {
    let zh = ctx.zh();
    match cmd {
        EventCommand::Import { file, by } => {
            let ids = lantian_app::events::import_file(&ctx.app, file, by)?;
            eprintln!("{} {}", if zh { "已导入扣除事件:" } else { "events imported:" }, ids.len());
            Ok(())
        }
        EventCommand::Add { city, start, end, kind, reference, note, by } => {
            let e = NewEvent {
                city: city.clone(),
                start: parse_time(start, false).map_err(|e| anyhow::anyhow!("--start: {e}"))?,
                end: parse_time(end, true).map_err(|e| anyhow::anyhow!("--end: {e}"))?,
                kind: EventKind::parse(kind)
                    .ok_or_else(|| anyhow::anyhow!("--kind {kind:?}: sand_dust or exceptional"))?,
                reference: reference.clone(),
                note: note.clone(),
            };
            let id = lantian_app::events::add(&ctx.app, e, by)?;
            eprintln!("{} {id}", if zh { "已添加扣除事件" } else { "event added:" });
            Ok(())
        }
        EventCommand::List { city, from, to, all } => {
            let mut ledger = ctx.app.ledger()?;
            let range = match (from, to) {
                (None, None) => None,
                _ => Some((
                    from.map_or(i64::MIN, |d| day_number(d) * 24 + 1),
                    to.map_or(i64::MAX, |d| day_number(d) * 24 + 24),
                )),
            };
            let city = city.as_deref().map(lantian_store::canonical_city);
            let list = events::list(ledger.db(), city.as_deref(), range, *all)?;
            ctx.print(&events_table(&list, ctx.view()))
        }
        EventCommand::Show { id } => {
            let mut ledger = ctx.app.ledger()?;
            let e = events::get(ledger.db(), *id)?;
            ctx.print(&events_table(std::slice::from_ref(&e), ctx.view()))?;
            let mut t =
                Table::new(vec![Col("at", "时间", "At"), Col("who", "操作人", "Who"), Col("change", "变更", "Change")]);
            for a in events::history(ledger.db(), *id)? {
                t.push(vec![Cell::text(a.at), Cell::text(a.who), Cell::text(a.change)]);
            }
            ctx.print(&t)
        }
        EventCommand::Withdraw { id, reason, by } => {
            let mut ledger = ctx.app.ledger()?;
            events::withdraw(ledger.db(), *id, reason, by)?;
            eprintln!("{} {id}", if zh { "已撤销扣除事件" } else { "event withdrawn:" });
            Ok(())
        }
        EventCommand::Accept { id, by } => {
            let mut ledger = ctx.app.ledger()?;
            events::accept(ledger.db(), *id, by)?;
            eprintln!("{} {id}", if zh { "已确认扣除事件" } else { "event accepted:" });
            Ok(())
        }
        EventCommand::Detect { from, to, config, dry_run, by } => {
            let cfg = DetectConfig::load(&ctx.app, config.as_deref())?;
            let store = ctx.app.store()?.with_values(ctx.basis.values);
            let found = lantian_app::events::detect(&store, day_number(*from), day_number(*to), &cfg)?;
            if !*dry_run {
                let ids = lantian_app::events::propose(&ctx.app, &found, by)?;
                eprintln!(
                    "{}",
                    if zh {
                        format!(
                            "发现 {} 段，新增待确认 {} 段（lantian event accept ID 确认后生效）",
                            found.len(),
                            ids.len()
                        )
                    } else {
                        format!(
                            "{} periods found, {} new candidates (they apply once accepted: lantian event accept ID)",
                            found.len(),
                            ids.len()
                        )
                    }
                );
            }
            ctx.print(&candidates_table(&found))
        }
    }
}
