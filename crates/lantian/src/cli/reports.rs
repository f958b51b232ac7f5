//! `lantian report notice|completion|daily`: documents as .docx, .xlsx or .md.

use super::Ctx;
use crate::output::{Format, write_doc};
use anyhow::{Context, Result};
use clap::Subcommand;
use jiff::civil::Date;
use lantian_app::parse_period;
use lantian_app::report::{completion_data, notice_data};

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The monthly notice (环境空气质量通报): overview, improvement and rebound,
    /// ranking, regions, actions, charts. --format docx (default), xlsx or md.
    Notice {
        /// month:YYYY-MM (also week:YYYY-Www, year:YYYY).
        #[arg(long)]
        period: String,
        /// From January 1 of the year to the period's end (1—N月累计).
        #[arg(long)]
        cumulative: bool,
        /// Issuer printed under the title.
        #[arg(long, default_value = "四川省生态环境厅")]
        issuer: String,
        /// How many cities to name as most improved and most rebounded.
        #[arg(long, default_value_t = 3)]
        top: usize,
    },
    /// A rectification task's completion table (完成情况表). --format docx (default), xlsx or md.
    Completion {
        #[arg(long)]
        task: i64,
    },
    /// The daily briefing for the consultation meeting (每日空气质量会商简报): the day's AQI, level
    /// and primary pollutant per city, month- and year-to-date PM2.5, PM10 and good-day ratio with
    /// year-on-year changes and ranks, targets, cities that got worse, the latest live hour.
    /// --format xlsx (default), docx or md; --lang en for English.
    Daily {
        /// The day reported (usually yesterday), YYYY-MM-DD.
        #[arg(long)]
        date: Date,
        /// Issuer printed under the title.
        #[arg(long, default_value = "四川省生态环境厅")]
        issuer: String,
    },
}

pub fn report(ctx: &Ctx, cmd: &ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::Notice { period, cumulative, issuer, top } => {
            let (mut from, to) = parse_period(period).with_context(|| format!("--period {period}"))?;
            if *cumulative {
                from = Date::new(to.year(), 1, 1)?;
            }
            let days = ctx.days()?;
            let data = notice_data(&ctx.app, &days, period, from, to, issuer, *top)?;
            ctx.say_basis(&days);
            let doc = lantian_report::notice::compose(&data)?;
            let stem = format!("通报-{}{}", period.replace(':', "-"), if *cumulative { "-累计" } else { "" });
            write_doc(&doc, ctx.format, ctx.lang, ctx.output.as_deref(), &stem)?;
        }
        ReportCommand::Completion { task } => {
            let days = ctx.days()?;
            let data = completion_data(&ctx.app, &days, *task)?;
            let doc = lantian_report::completion::compose(&data);
            write_doc(&doc, ctx.format, ctx.lang, ctx.output.as_deref(), &format!("整改任务{task}-完成情况表"))?;
        }
        ReportCommand::Daily { date, issuer } => {
            let days = ctx.days()?;
            let en = !ctx.zh();
            let data = lantian_app::daily::daily_data(&ctx.app, &days, *date, issuer, ctx.basis, en)?;
            ctx.say_basis(&days);
            let doc = lantian_report::daily::compose(&data, en);
            // A workbook is what the meeting uses; the text formats on request.
            let format = if ctx.format == Format::Table { Format::Xlsx } else { ctx.format };
            let stem = if en { format!("daily-briefing-{date}") } else { format!("会商简报-{date}") };
            write_doc(&doc, format, ctx.lang, ctx.output.as_deref(), &stem)?;
        }
    }
    Ok(())
}
