//! `lantian target import|check`.

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;
use jiff::civil::Date;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum TargetCommand {
    /// Check a targets file (TOML, or CSV by its .csv name) and install it in the data directory.
    Import { file: PathBuf },
    /// Status of every target on a date, what the rest of the year must achieve, and the chance of it.
    Check {
        #[arg(long)]
        as_of: Date,
        /// Targets file (default: the one installed in the data directory).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

pub fn target(ctx: &Ctx, cmd: &TargetCommand) -> Result<()> {
    match cmd {
        TargetCommand::Import { file } => {
            let t = lantian_store::targets::Targets::import(file, &ctx.app.data)?;
            eprintln!("{} {}", if ctx.zh() { "已导入目标:" } else { "targets imported:" }, t.target.len());
            Ok(())
        }
        TargetCommand::Check { as_of, file } => {
            let days = ctx.days()?;
            let t = lantian_app::targets::targets_table(&ctx.app, &days, *as_of, file.as_deref(), ctx.view())?;
            ctx.say_basis(&days);
            ctx.print(&t)
        }
    }
}
