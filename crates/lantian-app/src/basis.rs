//! Which data a computation stands on (口径): the values (audited where the
//! audited layer covers a station-hour, or raw only) and whether the data
//! of sand-dust and exceptional events is deducted from PM10 and PM2.5.
//! The official basis, the one cities are ranked and judged by since 2017,
//! is audited values with the events deducted: the default everywhere.

use crate::Ctx;
use anyhow::Result;
use lantian_core::time::HourLabel;
use lantian_store::query::Deduction;
use lantian_store::{Values, ValuesUsed};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Whether the data of deduction events is set aside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dust {
    /// PM10 and PM2.5 statistics without the events' data (扣沙).
    #[default]
    Deducted,
    /// Every hour counts (不扣沙).
    Included,
}

impl std::str::FromStr for Dust {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Dust, String> {
        match s {
            "deducted" => Ok(Dust::Deducted),
            "included" => Ok(Dust::Included),
            _ => Err(format!("'{s}': deducted or included")),
        }
    }
}

impl Dust {
    pub fn key(self) -> &'static str {
        match self {
            Dust::Deducted => "deducted",
            Dust::Included => "included",
        }
    }
}

/// The basis of a computation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Basis {
    pub values: Values,
    pub dust: Dust,
}

impl Basis {
    /// Audited values, events deducted: what rankings and targets are judged on.
    pub const OFFICIAL: Basis = Basis { values: Values::Best, dust: Dust::Deducted };
    /// The network's real-time data, every hour counted.
    pub const RAW: Basis = Basis { values: Values::Raw, dust: Dust::Included };

    pub fn is_official(self) -> bool {
        self == Basis::OFFICIAL
    }

    /// What the basis is, said to people.
    pub fn describe(self, used: ValuesUsed, zh: bool) -> String {
        let total = used.audited + used.raw;
        let pct = |n: u64| if total == 0 { 0.0 } else { 100.0 * n as f64 / total as f64 };
        let values = match (self.values, zh) {
            _ if total == 0 && zh => "数值：城市发布日值（无站点小时数据）".to_string(),
            _ if total == 0 => "values: published city daily values (no station hours)".to_string(),
            (Values::Best, true) => format!(
                "数值：审核数据优先（审核 {} 站时，{:.1}%；原始 {} 站时）",
                used.audited,
                pct(used.audited),
                used.raw
            ),
            (Values::Best, false) => format!(
                "values: audited where audited ({} station-hours audited, {:.1}%; {} raw)",
                used.audited,
                pct(used.audited),
                used.raw
            ),
            (Values::Raw, true) => format!("数值：原始（实时）数据 {} 站时", used.raw + used.audited),
            (Values::Raw, false) => format!("values: raw (real-time) only, {} station-hours", used.raw + used.audited),
        };
        let dust = match (self.dust, zh) {
            (Dust::Deducted, true) => "PM10、PM2.5 扣除沙尘及例外事件影响",
            (Dust::Deducted, false) => "PM10 and PM2.5 without sand-dust and exceptional-event data",
            (Dust::Included, true) => "未扣除沙尘及例外事件影响",
            (Dust::Included, false) => "sand-dust and exceptional-event data included",
        };
        format!("{values}; {dust}")
    }
}

/// Inclusive hour-ending label ranges by city.
pub type EventHours = BTreeMap<String, Vec<(HourLabel, HourLabel)>>;

/// The deduction of `basis`: the hours of every active event by city
/// (`None` when the basis keeps every hour or no event applies).
pub fn deduction(ctx: &Ctx, basis: Basis) -> Result<Option<Arc<Deduction>>> {
    if basis.dust == Dust::Included {
        return Ok(None);
    }
    let mut ledger = ctx.ledger()?;
    let events = lantian_store::events::list(ledger.db(), None, None, false)?;
    Ok(deduction_of(events.iter().filter(|e| e.status == "active").map(|e| (e.city.clone(), e.start, e.end))))
}

/// A deduction from (city, first label, last label) ranges.
pub fn deduction_of(ranges: impl IntoIterator<Item = (String, HourLabel, HourLabel)>) -> Option<Arc<Deduction>> {
    let mut by_city: EventHours = BTreeMap::new();
    for (city, a, b) in ranges {
        by_city.entry(city).or_default().push((a, b));
    }
    (!by_city.is_empty()).then(|| {
        Arc::new(Deduction {
            by_city: by_city.into_iter().map(|(c, r)| (c, lantian_core::deduct::Intervals::new(r))).collect(),
        })
    })
}
