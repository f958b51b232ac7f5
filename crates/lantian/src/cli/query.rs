//! `lantian aqi`, `stations`, `hourly`, `daily`.

use super::Ctx;
use anyhow::Result;
use clap::Args;
use jiff::civil::Date;
use lantian_app::assess::Source;
use lantian_app::days::Days;
use lantian_app::series::{AqiRequest, SeriesRequest};
use lantian_core::Edition;

#[derive(Args, Debug)]
pub struct AqiArgs {
    #[arg(long)]
    pm25: Option<f64>,
    #[arg(long)]
    pm10: Option<f64>,
    #[arg(long)]
    so2: Option<f64>,
    #[arg(long)]
    no2: Option<f64>,
    #[arg(long)]
    co: Option<f64>,
    /// Daily maximum 8-hour O3 (daily report).
    #[arg(long = "o3-8h")]
    o3_8h: Option<f64>,
    /// 1-hour O3: the daily maximum (2012 daily report) or the hour's value (--hourly).
    #[arg(long)]
    o3: Option<f64>,
    /// Trailing 24-hour SO2, used by the 2012 rule when 1-hour SO2 exceeds 800.
    #[arg(long = "so2-24h")]
    so2_24h: Option<f64>,
    /// Real-time (hourly) AQI from 1-hour values instead of the daily AQI.
    #[arg(long)]
    hourly: bool,
    /// Edition of HJ 633 (default: 2026, the one in force today).
    #[arg(long)]
    edition: Option<Edition>,
}

pub fn aqi(ctx: &Ctx, a: &AqiArgs) -> Result<()> {
    let req = AqiRequest {
        pm25: a.pm25,
        pm10: a.pm10,
        so2: a.so2,
        no2: a.no2,
        co: a.co,
        o3_8h: a.o3_8h,
        o3: a.o3,
        so2_24h: a.so2_24h,
        hourly: a.hourly,
        edition: a.edition,
    };
    let answer = lantian_app::series::aqi(&req, ctx.view())?;
    if let Some(note) = &answer.note {
        eprintln!("{note}");
    }
    if ctx.format == crate::output::Format::Table {
        ctx.print(&answer.table)?;
        for line in &answer.summary {
            println!("{line}");
        }
        Ok(())
    } else {
        ctx.print(&answer.row)
    }
}

pub fn stations(ctx: &Ctx, city: Option<&str>) -> Result<()> {
    ctx.print(&lantian_app::series::stations_table(&ctx.app.store()?, city)?)
}

/// A station or a city over a date range (`hourly`, `daily`).
#[derive(Args, Debug)]
pub struct SeriesArgs {
    #[arg(long, conflicts_with = "city", required_unless_present = "city")]
    pub station: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// Force an edition of the standards (default: the one in force on each date).
    #[arg(long)]
    pub edition: Option<Edition>,
    /// Data behind a city's days: auto, stations or published.
    #[arg(long, default_value = "auto")]
    pub source: Source,
}

impl SeriesArgs {
    fn request(&self) -> SeriesRequest {
        SeriesRequest {
            station: self.station.clone(),
            city: self.city.clone(),
            from: self.from,
            to: self.to,
            edition: self.edition,
            source: self.source,
        }
    }
}

pub fn hourly(ctx: &Ctx, a: &SeriesArgs) -> Result<()> {
    let days = ctx.days()?;
    let t = lantian_app::series::hourly_table(days.store(), &a.request(), ctx.view())?;
    ctx.print(&t)
}

pub fn daily(ctx: &Ctx, a: &SeriesArgs) -> Result<()> {
    let days = ctx.days()?;
    let t = lantian_app::series::daily_table(&days, &a.request(), ctx.view())?;
    ctx.say_basis(&days);
    ctx.print(&t)
}
