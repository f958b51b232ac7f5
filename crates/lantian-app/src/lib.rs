//! lantian's application layer: one function per use case over the store,
//! the ledger and the pure core, with typed requests and results and no
//! printing, flags or HTTP. The CLI (`lantian`), the web server and other
//! front ends are adapters: they turn their input into a request and the
//! result into their output. No rule of the standards lives here either:
//! the core computes, this layer chooses the edition per date (or the forced
//! one), reads what a use case needs and hands it to the core.
//!
//! Which module owns which use case:
//! - `series`: the AQI calculator, station list, hourly and daily values;
//! - `assess`: area days and period statistics of cities, counties and regions;
//! - `capture`: why a period's data capture is not met, as data and in words;
//! - `rank`: rankings with year-on-year and three-year comparisons;
//! - `targets`: where each target stands, budgets and probabilities;
//! - `policy`: policy facts, a policy run, the action ledger's tables;
//! - `verify`: agreement with the network's published values;
//! - `report`: the numbers documents are composed from;
//! - `daily`: the numbers of the daily briefing (会商简报);
//! - `tasks`: the rectification ledger's tables and progress entries;
//! - `live`: the latest hour per station and city;
//! - `pages`: the dashboard's computed pages;
//! - `pipeline`: the assessment in steps over plain rows (Python, Spark).

pub mod assess;
pub mod basis;
pub mod capture;
pub mod daily;
pub mod days;
pub mod events;
pub mod live;
pub mod pages;
pub mod pipeline;
pub mod policy;
pub mod rank;
pub mod report;
pub mod screen;
pub mod series;
pub mod table;
pub mod targets;
pub mod tasks;
pub mod verify;

use anyhow::{Context, Result};
use jiff::civil::Date;
use lantian_core::Edition;
use lantian_core::time::{DayNumber, date_of};
use lantian_store::Store;
use std::path::PathBuf;

pub use table::{Cell, Col, Table};

/// Where a use case finds its data: the data directory (store, settings,
/// evidence) and the ledger database. Language-free: words are asked for
/// per request (`View`).
#[derive(Clone, Debug)]
pub struct Ctx {
    pub data: PathBuf,
    /// PostgreSQL URL for the ledger; SQLite in the data directory when absent.
    pub database: Option<String>,
}

impl Ctx {
    pub fn new(data: PathBuf, database: Option<String>) -> Ctx {
        Ctx { data, database }
    }

    pub fn ledger(&self) -> Result<Box<dyn lantian_store::ledger::Ledger + Send>> {
        Ok(match &self.database {
            Some(url) => Box::new(lantian_store::ledger::PgLedger::open(url)?),
            None => Box::new(lantian_store::ledger::SqliteLedger::open(&self.data)?),
        })
    }

    pub fn store(&self) -> Result<Store> {
        Store::open(&self.data).with_context(|| format!("opening the store in {}", self.data.display()))
    }

    /// Regions, counties and groups (DATA/areas.toml, else Sichuan's built in).
    pub fn areas(&self) -> Result<lantian_store::areas::Areas> {
        Ok(lantian_store::areas::Areas::load(&self.data)?)
    }

    /// The installed targets (DATA/targets.toml), if any.
    pub fn targets(&self) -> Result<Option<lantian_store::targets::Targets>> {
        let path = self.data.join("targets.toml");
        Ok(if path.exists() { Some(lantian_store::targets::Targets::load(&path)?) } else { None })
    }
}

/// Language of headers and words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Lang, String> {
        match s {
            "zh" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            _ => Err(format!("'{s}': zh or en")),
        }
    }
}

/// Who reads a result: its language, and whether people read it as a table
/// (words such as 已完成) or programs do (stable keys such as `completed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub lang: Lang,
    pub people: bool,
}

impl View {
    pub fn zh(self) -> bool {
        self.lang == Lang::Zh
    }

    /// Chinese words for people, stable keys for programs.
    pub fn words(self) -> bool {
        self.zh() && self.people
    }
}

/// Today's day number in China time. `SOURCE_DATE_EPOCH` (the
/// reproducible-builds convention, seconds since 1970) fixes it, so a
/// document generated twice is the same file.
pub fn today() -> DayNumber {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    (now + 8 * 3600).div_euclid(86_400)
}

/// Today's date in China time.
pub fn today_date() -> Date {
    date_of(today()).unwrap_or(jiff::civil::date(2026, 1, 1))
}

/// The edition in force on `day`, or the forced one.
pub fn edition_for(forced: Option<Edition>, day: DayNumber) -> Edition {
    forced.unwrap_or_else(|| date_of(day).map_or(Edition::E2026, Edition::for_date))
}

/// The same date `years` years earlier (29 February → 28 February).
pub fn shift_year(d: Date, years: i16) -> Date {
    let y = d.year() - years;
    Date::new(y, d.month(), d.day()).unwrap_or_else(|_| Date::new(y, d.month(), 28).expect("valid date"))
}

/// `week:2019-W27`, `month:2019-07` or `year:2019` → first and last day.
pub fn parse_period(s: &str) -> Result<(Date, Date)> {
    let (kind, rest) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("period '{s}': expected week:YYYY-Www, month:YYYY-MM or year:YYYY"))?;
    let bad = || anyhow::anyhow!("period '{s}': expected week:YYYY-Www, month:YYYY-MM or year:YYYY");
    match kind {
        "year" => {
            let y: i16 = rest.parse().map_err(|_| bad())?;
            Ok((Date::new(y, 1, 1)?, Date::new(y, 12, 31)?))
        }
        "month" => {
            let (y, m) = rest.split_once('-').ok_or_else(bad)?;
            let first = Date::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, 1)?;
            Ok((first, first.last_of_month()))
        }
        "week" => {
            let (y, w) = rest.split_once("-W").ok_or_else(bad)?;
            let (y, w): (i16, i8) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
            let monday = |w| jiff::civil::ISOWeekDate::new(y, w, jiff::civil::Weekday::Monday);
            // A year has 52 or 53 ISO weeks; say which, rather than jiff's range 1..=53.
            let wd = monday(w).map_err(|_| {
                let weeks = if monday(53).is_ok() { 53 } else { 52 };
                anyhow::anyhow!("period '{s}': {y} has ISO weeks 1 to {weeks}")
            })?;
            let monday = wd.date();
            Ok((monday, monday.checked_add(jiff::Span::new().days(6))?))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn periods() {
        assert_eq!(parse_period("week:2019-W30").unwrap(), (date(2019, 7, 22), date(2019, 7, 28)));
        // ISO week 1 of 2020 starts in 2019.
        assert_eq!(parse_period("week:2020-W01").unwrap(), (date(2019, 12, 30), date(2020, 1, 5)));
        assert_eq!(parse_period("week:2020-W53").unwrap().1, date(2021, 1, 3));
        let e = parse_period("week:2019-W53").unwrap_err().to_string();
        assert_eq!(e, "period 'week:2019-W53': 2019 has ISO weeks 1 to 52");
        assert!(parse_period("week:2019-W00").unwrap_err().to_string().contains("weeks 1 to 52"));
        assert!(parse_period("week:2019-30").is_err());
        assert_eq!(parse_period("month:2019-02").unwrap().1, date(2019, 2, 28));
    }
}
