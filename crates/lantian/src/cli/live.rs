//! `lantian logger …` (the gateway's registry) and `lantian now`.

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;
use lantian_app::{Cell, Col, Table};
use lantian_store::loggers::Logger;

#[derive(Subcommand, Debug)]
pub enum LoggerCommand {
    /// Register a data logger (MN) for a station.
    Add {
        #[arg(long)]
        mn: String,
        #[arg(long)]
        station: String,
        #[arg(long)]
        password: String,
        /// Unit the logger sends PM2.5/PM10 in.
        #[arg(long, value_parser = ["ug", "ng"], default_value = "ug")]
        pm_unit: String,
        /// Unit the logger sends SO2/NO2/O3 in (CO is always mg/m³).
        #[arg(long, value_parser = ["ug", "mg"], default_value = "ug")]
        gas_unit: String,
        /// strict: the HJ 212 CRC only; lenient: also the byte-swapped Modbus CRC (a warning each time).
        #[arg(long, value_parser = ["strict", "lenient"], default_value = "strict")]
        crc: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// The registered loggers (passwords are not shown).
    List,
    /// Refuse a logger's packets from now on.
    Disable {
        mn: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Accept a disabled logger's packets again.
    Enable {
        mn: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
}

pub fn logger(ctx: &Ctx, cmd: &LoggerCommand) -> Result<()> {
    let mut ledger = ctx.app.ledger()?;
    let db = ledger.db();
    match cmd {
        LoggerCommand::Add { mn, station, password, pm_unit, gas_unit, crc, by } => {
            let l = Logger {
                mn: mn.clone(),
                station: station.clone(),
                password: password.clone(),
                pm_unit: pm_unit.clone(),
                gas_unit: gas_unit.clone(),
                crc: crc.clone(),
                enabled: true,
            };
            lantian_store::loggers::add(db, &l, by)?;
            eprintln!("logger {mn} → station {station}");
        }
        LoggerCommand::Disable { mn, by } => lantian_store::loggers::set_enabled(db, mn, false, by)?,
        LoggerCommand::Enable { mn, by } => lantian_store::loggers::set_enabled(db, mn, true, by)?,
        LoggerCommand::List => {
            let mut t = Table::new(vec![
                Col("mn", "MN", "MN"),
                Col("station", "站点", "Station"),
                Col("pm_unit", "颗粒物单位", "PM unit"),
                Col("gas_unit", "气体单位", "Gas unit"),
                Col("crc", "CRC", "CRC"),
                Col("enabled", "启用", "Enabled"),
            ]);
            for l in lantian_store::loggers::list(db)? {
                t.push(vec![
                    Cell::text(l.mn),
                    Cell::text(l.station),
                    Cell::text(l.pm_unit),
                    Cell::text(l.gas_unit),
                    Cell::text(l.crc),
                    Cell::Bool(l.enabled),
                ]);
            }
            ctx.print(&t)?;
        }
    }
    Ok(())
}

pub fn now(ctx: &Ctx, city: Option<&str>) -> Result<()> {
    ctx.print(&lantian_app::live::now_table(&ctx.app, city)?)
}
