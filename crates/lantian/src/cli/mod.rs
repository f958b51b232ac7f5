//! The command line as an adapter over `lantian_app`: each module turns one
//! family of subcommands' flags into requests and prints the results.
//!
//! - `import`: `import`;
//! - `query`: `aqi`, `stations`, `hourly`, `daily`;
//! - `assess`: `assess`, `rank`;
//! - `targets`: `target import|check`;
//! - `boundaries`: `boundaries import` (outlines for the map);
//! - `events`: `event import|add|list|show|withdraw|accept|detect`;
//! - `policy`: `policy run|import`, `action …`;
//! - `tasks`: `task …`;
//! - `reports`: `report notice|completion|daily`;
//! - `live`: `logger …`, `now`;
//! - `admin`: `user …`, `backup`, `ledger migrate`, `verify`, `demo`.
//!
//! To add a flag: the `Args`/`Subcommand` struct in the family's module and
//! the request field it fills; to add a command: a variant in `main.rs`'s
//! `Command` and a function here.

pub mod admin;
pub mod assess;
pub mod boundaries;
pub mod events;
pub mod import;
pub mod live;
pub mod policy;
pub mod query;
pub mod reports;
pub mod screen;
pub mod targets;
pub mod tasks;

use crate::output::{Format, render, write_doc};
use anyhow::Result;
use lantian_app::basis::Basis;
use lantian_app::days::{Days, StoreDays};
use lantian_app::{Lang, Table, View};
use std::io::Write;
use std::path::PathBuf;

/// What a command needs besides its flags: the application's context and
/// how to answer (format, language, file).
#[derive(Clone, Debug)]
pub struct Ctx {
    pub app: lantian_app::Ctx,
    pub format: Format,
    pub lang: Lang,
    /// `--output FILE` for documents and table exports (xlsx, docx, md).
    pub output: Option<PathBuf>,
    /// Descriptive file name (without extension) for exports without `--output`.
    pub stem: String,
    /// `--values` and `--dust`: the data the numbers stand on.
    pub basis: Basis,
}

impl Ctx {
    pub fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// Who reads the answer: people read text tables (and documents),
    /// programs read csv and json.
    pub fn view(&self) -> View {
        View { lang: self.lang, people: self.format == Format::Table }
    }

    /// The store on the command's basis (events read from the ledger when deducted).
    pub fn days(&self) -> Result<StoreDays> {
        StoreDays::open(&self.app, self.basis)
    }

    /// Say on standard error which values and deduction the numbers stand on.
    pub fn say_basis(&self, days: &dyn Days) {
        eprintln!("{}", self.basis.describe(days.used(), self.zh()));
    }

    /// Print a table, or write it as a document (xlsx, docx, md).
    pub fn print(&self, t: &Table) -> Result<()> {
        if matches!(self.format, Format::Xlsx | Format::Docx | Format::Md) {
            let doc = lantian_app::report::table_doc(t, self.lang, &self.stem);
            write_doc(&doc, self.format, self.lang, self.output.as_deref(), &self.stem)?;
            return Ok(());
        }
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        render(t, self.format, self.lang, &mut lock)?;
        lock.flush()?;
        Ok(())
    }
}
