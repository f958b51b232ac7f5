//! `lantian user …` (dashboard accounts), `backup`, `ledger migrate`,
//! `verify` and `demo`.

use super::Ctx;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use jiff::civil::Date;
use lantian_app::assess::{Source, assess_period, assess_table};
use lantian_app::{Cell, Col, Table};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add an account: role admin (province administrator), analyst, city (city officer; needs --city) or viewer.
    Add {
        name: String,
        #[arg(long, value_parser = ["admin", "analyst", "city", "viewer"])]
        role: String,
        #[arg(long)]
        city: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// The accounts (no passwords).
    List,
    /// Set a new password.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Refuse an account's logins from now on.
    Disable {
        name: String,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct PasswordArgs {
    /// The password (visible to other users of this machine in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    fn get(&self) -> Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password")?;
            return Ok(line.trim_end_matches(['\r', '\n']).to_string());
        }
        bail!("give --password or --password-stdin")
    }
}

pub fn user(ctx: &Ctx, cmd: &UserCommand) -> Result<()> {
    let mut ledger = ctx.app.ledger()?;
    let db = ledger.db();
    match cmd {
        UserCommand::Add { name, role, city, password, by } => {
            let city = city.as_deref().map(lantian_store::canonical_city);
            lantian_store::users::add(db, name, &password.get()?, role, city.as_deref(), by)?;
            eprintln!("user {name} ({role})");
        }
        UserCommand::Passwd { name, password, by } => {
            lantian_store::users::set_password(db, name, &password.get()?, by)?
        }
        UserCommand::Disable { name, by } => lantian_store::users::set_enabled(db, name, false, by)?,
        UserCommand::List => {
            let mut t = Table::new(vec![
                Col("name", "用户名", "Name"),
                Col("role", "角色", "Role"),
                Col("city", "城市", "City"),
                Col("enabled", "启用", "Enabled"),
            ]);
            for u in lantian_store::users::list(db)? {
                t.push(vec![
                    Cell::text(u.name),
                    Cell::text(u.role),
                    Cell::text(u.city.unwrap_or_default()),
                    Cell::Bool(u.enabled),
                ]);
            }
            ctx.print(&t)?;
        }
    }
    Ok(())
}

/// A consistent copy of the data directory while lantian runs.
pub fn backup(ctx: &Ctx, to: &Path) -> Result<ExitCode> {
    let n = lantian_store::ops::backup(&ctx.app.data, to)?;
    eprintln!("{n} files → {}", to.display());
    Ok(ExitCode::SUCCESS)
}

/// The SQLite ledger copied into an empty PostgreSQL database.
pub fn migrate_ledger(ctx: &Ctx, to: &str) -> Result<ExitCode> {
    let mut from = lantian_store::ledger::SqliteLedger::open(&ctx.app.data)?;
    let mut target = lantian_store::ledger::PgLedger::open(to)?;
    for (table, n) in lantian_store::ops::copy_ledger(&mut from, &mut target, true)? {
        eprintln!("{table}: {n}");
    }
    eprintln!("ledger copied; use --database (or LANTIAN_DATABASE) with that connection string from now on");
    Ok(ExitCode::SUCCESS)
}

pub fn verify(ctx: &Ctx, from: Option<Date>, to: Option<Date>) -> Result<ExitCode> {
    let days = ctx.days()?;
    ctx.print(&lantian_app::verify::verify_table(lantian_app::days::Days::store(&days), from, to)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Where `lantian demo` puts its data directory (relative to the current one).
pub const DEMO_DIR: &str = "lantian-demo-data";

pub fn demo(ctx: &Ctx, sample: &Path) -> Result<ExitCode> {
    let dir = PathBuf::from(DEMO_DIR);
    let marker = dir.join(".lantian-demo");
    if dir.exists() {
        if !marker.exists() {
            bail!("{} exists and was not made by `lantian demo`; move it away first", dir.display());
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing the previous demo in {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&marker, "made by lantian demo\n")?;
    let demo_ctx = Ctx { app: lantian_app::Ctx::new(dir.clone(), None), ..ctx.clone() };
    eprintln!(
        "{} {} → {}",
        if ctx.zh() { "导入样例数据" } else { "importing the sample" },
        sample.display(),
        dir.display()
    );
    let code = super::import::import(&demo_ctx, &[sample.to_path_buf()], false)?;
    if code != ExitCode::SUCCESS {
        bail!("the sample did not import cleanly");
    }
    // The illustrative targets and the seed's rectification task, so targets,
    // policy and documents can be tried at once.
    lantian_store::targets::Targets::import(&sample.join("targets-2019.toml"), &dir)?;
    let mut ledger = demo_ctx.app.ledger()?;
    let tasks = lantian_store::tasks::read_import(&dir, &sample.join("tasks/task-46.json"))?;
    lantian_store::tasks::import(ledger.db(), &tasks, "lantian demo")?;
    // The schematic outlines (no 审图号): the map is captioned 示意图.
    let outlines = sample.join("boundaries/sichuan_prefectures_schematic.geojson");
    if outlines.exists() {
        lantian_app::pages::import_boundaries(&demo_ctx.app, &outlines, true)?;
    }
    eprintln!(
        "\n{}",
        if ctx.zh() {
            "2019 年四川 21 市（州）环境空气质量（按综合指数排名），同比 2018 年无数据"
        } else {
            "Sichuan's 21 cities in 2019, ranked by composite index"
        }
    );
    let store = demo_ctx.app.store()?;
    let (from, to) = (jiff::civil::date(2019, 1, 1), jiff::civil::date(2019, 12, 31));
    let cur = assess_period(&store, &[], from, to, None, Source::Auto)?;
    ctx.print(&assess_table(&cur, None, from, to))?;
    let d = dir.display();
    eprintln!(
        "\n{}\n  lantian --data {d} assess --from 2016-01-01 --to 2016-12-31 --compare previous-year\n  lantian --data {d} policy run --period month:2019-07\n  lantian --data {d} report notice --period month:2019-07          # 通报 (.docx)\n  lantian --data {d} report completion --task 46 --format md       # 完成情况表\n  lantian --data {d} report daily --date 2019-07-15                # 会商简报 (.xlsx)\n  lantian --data {d} task show 46\n  lantian --data {d} screen --min-score 75                      # 数据筛查 (integrity findings)",
        if ctx.zh() { "接着试试:" } else { "try next:" },
    );
    Ok(ExitCode::SUCCESS)
}
