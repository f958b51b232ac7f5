//! `lantian policy run|import`, `lantian action …`.

use super::Ctx;
use crate::output::Format;
use anyhow::Result;
use clap::Subcommand;
use lantian_app::assess::AreaLevel;
use lantian_app::policy::PolicyRun;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Evaluate the policy for a period and record the actions it triggers (idempotent).
    Run {
        /// week:YYYY-Www, month:YYYY-MM or year:YYYY
        #[arg(long)]
        period: String,
        /// Policy file (default: DATA/policy.toml, else the built-in sample).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Who runs it (audit log).
        #[arg(long, default_value = "lantian")]
        by: String,
        /// city, county or region: apply the rules to cities (default), or to the counties or regions of areas.toml.
        #[arg(long, default_value = "city")]
        level: AreaLevel,
    },
    /// Check a policy file and install it as DATA/policy.toml.
    Import { file: PathBuf },
}

pub fn policy(ctx: &Ctx, cmd: &PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Import { file } => {
            let n = lantian_app::policy::install_policy(&ctx.app, file)?;
            eprintln!("{} {n}", if ctx.zh() { "已导入规则:" } else { "rules imported:" });
            Ok(())
        }
        PolicyCommand::Run { period, policy, by, level } => {
            let run = PolicyRun {
                basis: ctx.basis,
                period: period.clone(),
                policy: policy.clone(),
                by: by.clone(),
                level: *level,
            };
            let outcome = lantian_app::policy::run_policy(&ctx.app, &run, ctx.view())?;
            eprintln!("{}", outcome.message);
            for (basis, used) in &outcome.bases {
                eprintln!("{}", basis.describe(*used, ctx.zh()));
            }
            ctx.print(&outcome.table)
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ActionCommand {
    /// List actions.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        area: Option<String>,
    },
    /// One action with its evidence and audit trail.
    Show { id: i64 },
    /// Acknowledge an action (received / being handled).
    Ack {
        id: i64,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Lift an action (for example a regional approval restriction) by hand.
    Lift {
        id: i64,
        #[arg(long, default_value = "lantian")]
        by: String,
        #[arg(long)]
        reason: String,
    },
}

pub fn action(ctx: &Ctx, cmd: &ActionCommand) -> Result<()> {
    let mut ledger = ctx.app.ledger()?;
    match cmd {
        ActionCommand::List { status, area } => {
            let area = area.as_deref().map(lantian_store::canonical_city);
            ctx.print(&lantian_app::policy::actions_table(&ledger.list(status.as_deref(), area.as_deref())?))
        }
        ActionCommand::Show { id } => {
            let a = ledger.get(*id)?.ok_or_else(|| anyhow::anyhow!("no action {id}"))?;
            ctx.print(&lantian_app::policy::actions_table(std::slice::from_ref(&a)))?;
            if ctx.format == Format::Table {
                let ev: serde_json::Value =
                    serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::String(a.evidence.clone()));
                println!("{}\n{}", if ctx.zh() { "依据:" } else { "evidence:" }, serde_json::to_string_pretty(&ev)?);
                println!("{}", if ctx.zh() { "操作记录:" } else { "audit:" });
                for e in ledger.audit(Some(*id))? {
                    println!("  {}  {}  {}", e.at, e.who, e.change);
                }
            }
            Ok(())
        }
        ActionCommand::Ack { id, by } => Ok(ledger.set_status(*id, "acknowledged", by, None)?),
        ActionCommand::Lift { id, by, reason } => Ok(ledger.set_status(*id, "lifted", by, Some(reason))?),
    }
}
