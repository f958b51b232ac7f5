//! `lantian`: the command-line edge. Parses flags and hands each command to
//! its module in `lantian::cli` (an adapter over `lantian_app`). No rule of
//! the standards lives here.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jiff::civil::Date;
use lantian::cli::{
    self, admin, assess, boundaries, events, import, live, policy, query, reports, screen, targets, tasks,
};
use lantian::output::Format;
use lantian_app::Lang;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "lantian",
    version,
    about = "蓝天 lantian — air-quality assessment by GB 3095 / HJ 633 / HJ 663 (2012 and 2026 editions)"
)]
struct Cli {
    /// Data directory holding the store.
    #[arg(long, global = true, env = "LANTIAN_DATA", default_value = "./lantian-data")]
    data: PathBuf,
    /// Ledger database: a PostgreSQL URL (postgres://… or key=value form); default SQLite in the data directory.
    #[arg(long, global = true, env = "LANTIAN_DATABASE")]
    database: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: Format,
    /// Language of table headers and messages: zh or en.
    #[arg(long, global = true, default_value = "zh")]
    lang: Lang,
    /// Values behind the numbers: best (audited where the audited layer covers an hour, raw elsewhere) or raw.
    #[arg(long, global = true, env = "LANTIAN_VALUES", default_value = "best")]
    values: lantian_store::Values,
    /// Sand-dust and exceptional-event data in PM10/PM2.5 statistics: deducted (the official basis) or included.
    #[arg(long, global = true, env = "LANTIAN_DUST", default_value = "deducted")]
    dust: lantian_app::basis::Dust,
    /// File to write for xlsx/docx/md output and reports (default: a descriptive name in the current directory).
    #[arg(long, short, global = true)]
    output: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Import files or folders (.csv, .csv.gz): CNEMC site files, station lists, long CSV, city daily files.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The files are audited data (审核数据): they decide every station-hour they cover (a value
        /// replaces the raw one, a blank cell invalidates it); the raw layer is kept.
        #[arg(long)]
        audited: bool,
    },
    /// AQI calculator: IAQI per pollutant, AQI, level, category, colour, primary pollutant.
    Aqi(query::AqiArgs),
    /// List stations.
    Stations {
        #[arg(long)]
        city: Option<String>,
    },
    /// Hourly concentrations, 8-hour O3, AQI, level and primary pollutant.
    Hourly(query::SeriesArgs),
    /// Daily values: means, MDA8, AQI, level, primary pollutant, valid hours.
    Daily(query::SeriesArgs),
    /// Per-city statistics for a period, ranked, optionally with the year-on-year comparison.
    Assess(assess::AssessArgs),
    /// Annual targets: import a targets file, check where each area stands.
    #[command(subcommand)]
    Target(targets::TargetCommand),
    /// City outlines for the dashboard's map (GeoJSON, matched by GB/T 2260 code or name).
    #[command(subcommand)]
    Boundaries(boundaries::BoundariesCommand),
    /// Sand-dust and exceptional events whose data PM10/PM2.5 statistics deduct (import, add, list, withdraw, accept, detect).
    #[command(subcommand)]
    Event(events::EventCommand),
    /// Data integrity screening: findings of tampered or faulty data for a person to review.
    Screen(screen::ScreenArgs),
    /// The accountability policy: run it for a period, or install a policy file.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The action ledger: list, show, acknowledge, lift.
    #[command(subcommand)]
    Action(policy::ActionCommand),
    /// The rectification ledger (整改台账): tasks, progress with evidence, status workflow.
    #[command(subcommand)]
    Task(tasks::TaskCommand),
    /// Documents: the monthly notice (通报), a task's completion table (完成情况表), the daily briefing (会商简报).
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// The web dashboard and its JSON API (log in with an account from `lantian user add`).
    Serve(lantian::serve::ServeArgs),
    /// Accounts of the web dashboard.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Copy the data directory consistently while lantian runs (the store under its lock, the ledger by VACUUM INTO).
    Backup {
        /// A new directory to write the copy to.
        #[arg(long)]
        to: PathBuf,
    },
    /// The ledger database: move it from SQLite to PostgreSQL.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// HJ 212-2017 gateway: station data loggers connect and push hourly, minute and real-time data.
    Gateway(lantian::gateway::GatewayArgs),
    /// Registered data loggers (MN → station, password, units, CRC mode).
    #[command(subcommand)]
    Logger(live::LoggerCommand),
    /// Replay a station's hours from --data to a gateway as HJ 212 packets (tests, demos, load).
    SimulateLogger(lantian::simulate::SimulateArgs),
    /// The latest hour's values and AQI per station and city, with the data's age.
    Now {
        #[arg(long)]
        city: Option<String>,
    },
    /// Rank cities or regions by composite index, PM2.5, good-day ratio or improvement.
    Rank(assess::RankArgs),
    /// Recompute hourly AQI and daily values and compare them with the network's published rows.
    Verify {
        #[arg(long)]
        from: Option<Date>,
        #[arg(long)]
        to: Option<Date>,
    },
    /// Import the bundled real 2019 Sichuan sample into a fresh data directory and print the 2019 assessment.
    Demo {
        /// Folder of the sample (default: the repository's `sample/`).
        #[arg(long, env = "LANTIAN_SAMPLE")]
        sample: Option<PathBuf>,
        /// Where the dashboard listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Import and print only; do not serve the dashboard.
        #[arg(long)]
        no_serve: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LedgerCommand {
    /// Copy DATA/ledger.sqlite into an empty PostgreSQL database (ids kept, one transaction);
    /// then run lantian with --database URL.
    Migrate {
        /// PostgreSQL connection string.
        #[arg(long)]
        to: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`lantian daily … | head`) is not an error.
            let broken = |c: &(dyn std::error::Error + 'static)| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    || c.downcast_ref::<csv::Error>().is_some_and(
                        |e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe),
                    )
            };
            if e.chain().any(broken) {
                return ExitCode::SUCCESS;
            }
            eprintln!("lantian: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = cli::Ctx {
        app: lantian_app::Ctx::new(cli.data.clone(), cli.database.clone()),
        format: cli.format,
        lang: cli.lang,
        output: cli.output.clone(),
        stem: stem(&cli.command),
        basis: lantian_app::basis::Basis { values: cli.values, dust: cli.dust },
    };
    let done = |r: Result<()>| r.map(|_| ExitCode::SUCCESS);
    match cli.command {
        Command::Import { paths, audited } => import::import(&ctx, &paths, audited),
        Command::Aqi(a) => done(query::aqi(&ctx, &a)),
        Command::Stations { city } => done(query::stations(&ctx, city.as_deref())),
        Command::Hourly(a) => {
            check_range(a.from, a.to)?;
            done(query::hourly(&ctx, &a))
        }
        Command::Daily(a) => {
            check_range(a.from, a.to)?;
            done(query::daily(&ctx, &a))
        }
        Command::Assess(a) => {
            check_range(a.from, a.to)?;
            done(assess::assess(&ctx, &a))
        }
        Command::Rank(a) => {
            check_range(a.from, a.to)?;
            done(assess::rank(&ctx, &a))
        }
        Command::Target(t) => done(targets::target(&ctx, &t)),
        Command::Boundaries(b) => done(boundaries::boundaries(&ctx, &b)),
        Command::Event(e) => done(events::event(&ctx, &e)),
        Command::Screen(s) => done(screen::screen(&ctx, &s)),
        Command::Policy(p) => done(policy::policy(&ctx, &p)),
        Command::Action(a) => done(policy::action(&ctx, &a)),
        Command::Serve(a) => done(lantian::serve::serve(&ctx.app, &a)),
        Command::User(u) => done(admin::user(&ctx, &u)),
        Command::Backup { to } => admin::backup(&ctx, &to),
        Command::Ledger(LedgerCommand::Migrate { to }) => admin::migrate_ledger(&ctx, &to),
        Command::Gateway(g) => done(lantian::gateway::gateway(&ctx.app, &g)),
        Command::Logger(l) => done(live::logger(&ctx, &l)),
        Command::SimulateLogger(a) => done(lantian::simulate::simulate(&ctx.app, &a)),
        Command::Now { city } => done(live::now(&ctx, city.as_deref())),
        Command::Task(t) => done(tasks::task(&ctx, &t)),
        Command::Report(r) => done(reports::report(&ctx, &r)),
        Command::Verify { from, to } => admin::verify(&ctx, from, to),
        Command::Demo { sample, addr, no_serve } => {
            let sample = sample.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample"));
            if !sample.is_dir() {
                bail!("sample folder {} not found; pass --sample DIR", sample.display());
            }
            let code = admin::demo(&ctx, &sample).context("demo")?;
            if no_serve {
                return Ok(code);
            }
            // The dashboard on the demo data, with an account made for it.
            let demo = lantian_app::Ctx::new(PathBuf::from(admin::DEMO_DIR), None);
            let password = lantian_store::users::random_token()[..16].to_string();
            let mut ledger = lantian_store::ledger::SqliteLedger::open(&demo.data)?;
            lantian_store::users::add(&mut ledger, "demo", &password, "admin", None, "lantian demo")?;
            drop(ledger);
            eprintln!(
                "\n仪表盘 dashboard: http://{addr}   用户 user: demo   密码 password: {password}   (Ctrl-C 退出 to stop)"
            );
            done(lantian::serve::serve(&demo, &lantian::serve::ServeArgs { addr, gateway: None }))
        }
    }
}

/// A descriptive file name for exports: the command and its period.
fn stem(c: &Command) -> String {
    let range = |name: &str, from: Date, to: Date| format!("lantian-{name}-{from}_{to}");
    match c {
        Command::Assess(a) => range("assess", a.from, a.to),
        Command::Rank(a) => range("rank", a.from, a.to),
        Command::Daily(a) => range("daily", a.from, a.to),
        Command::Hourly(a) => range("hourly", a.from, a.to),
        Command::Verify { .. } => "lantian-verify".into(),
        Command::Stations { .. } => "lantian-stations".into(),
        Command::Target(_) => "lantian-targets".into(),
        Command::Event(_) => "lantian-events".into(),
        Command::Screen(_) => "lantian-screen".into(),
        Command::Policy(_) => "lantian-policy".into(),
        Command::Action(_) => "lantian-actions".into(),
        Command::Task(_) => "lantian-tasks".into(),
        Command::Now { .. } => "lantian-now".into(),
        Command::Logger(_) => "lantian-loggers".into(),
        Command::User(_) => "lantian-users".into(),
        _ => "lantian".into(),
    }
}

fn check_range(from: Date, to: Date) -> Result<()> {
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    Ok(())
}
