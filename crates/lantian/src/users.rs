//! `lantian user …`: accounts of the web dashboard.

use crate::commands::Ctx;
use crate::output::{Cell, Col, Table};
use anyhow::{Context, Result, bail};
use clap::Subcommand;

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
    let mut ledger = ctx.ledger()?;
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
