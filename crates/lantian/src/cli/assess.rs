//! `lantian assess`, `lantian rank`.

use super::Ctx;
use anyhow::Result;
use clap::Args;
use jiff::civil::Date;
use lantian_app::assess::{AreaLevel, AssessRequest, Source};
use lantian_app::rank::RankRequest;
use lantian_core::Edition;
use lantian_core::rank::{RankBy, Weights};

#[derive(Args, Debug)]
pub struct AssessArgs {
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// Cities to assess (default: all).
    #[arg(long)]
    city: Vec<String>,
    /// Add the same period of the previous year and the changes.
    #[arg(long, value_parser = ["previous-year"])]
    compare: Option<String>,
    /// Compute every period by one edition (可比口径); default: each day by the rules in force on it.
    #[arg(long)]
    edition: Option<Edition>,
    /// Data behind the cities' days: auto, stations or published.
    #[arg(long, default_value = "auto")]
    source: Source,
    /// city (default), or the county or region areas of areas.toml; rows keep the `city` key.
    #[arg(long, default_value = "city")]
    level: AreaLevel,
    /// HJ 663-2026 three-year assessment: the three years ending with --to's year, their means and
    /// the attainment judgement (each year valid by its own capture rules; events deducted per --dust).
    #[arg(long)]
    three_year: bool,
    /// Also the same period on the other basis, column by column (official beside raw real-time
    /// data with dust included, or the reverse): both bases side by side, e.g. in one Excel sheet.
    #[arg(long, conflicts_with = "three_year")]
    beside: bool,
}

pub fn assess(ctx: &Ctx, a: &AssessArgs) -> Result<()> {
    let req = AssessRequest {
        from: a.from,
        to: a.to,
        cities: a.city.clone(),
        compare_previous_year: a.compare.is_some(),
        edition: a.edition,
        source: a.source,
        level: a.level,
        three_year: a.three_year,
    };
    let days = ctx.days()?;
    let t = if a.beside {
        use lantian_app::basis::Basis;
        let (other, name) = if ctx.basis.is_official() { (Basis::RAW, "raw") } else { (Basis::OFFICIAL, "official") };
        let other_days = lantian_app::days::StoreDays::open(&ctx.app, other)?;
        lantian_app::assess::assess_beside(&ctx.app, &days, &other_days, name, &req)?
    } else {
        lantian_app::assess::assess(&ctx.app, &days, &req)?
    };
    ctx.say_basis(&days);
    ctx.print(&t)
}

#[derive(Args, Debug)]
pub struct RankArgs {
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// city, county or region: rank cities, or the counties or regions of areas.toml (default: Sichuan's five regions, no counties).
    #[arg(long, default_value = "city")]
    pub level: AreaLevel,
    /// composite | pm25 | good_ratio | improvement
    #[arg(long, default_value = "composite")]
    pub by: RankBy,
    /// Weights of the composite index: equal (环办监测〔2018〕19号, default) or weighted (PM2.5 ×3, NO2 ×2, O3 ×2).
    #[arg(long, default_value = "equal")]
    pub weights: Weights,
    #[arg(long)]
    pub edition: Option<Edition>,
    #[arg(long, default_value = "auto")]
    pub source: Source,
}

pub fn rank(ctx: &Ctx, a: &RankArgs) -> Result<()> {
    let req = RankRequest {
        from: a.from,
        to: a.to,
        level: a.level,
        by: a.by,
        weights: a.weights,
        edition: a.edition,
        source: a.source,
    };
    let days = ctx.days()?;
    let t = lantian_app::rank::rank(&ctx.app, &days, &req)?;
    eprintln!("{}", lantian_app::rank::weights_note(a.weights, ctx.view()));
    ctx.say_basis(&days);
    ctx.print(&t)
}
