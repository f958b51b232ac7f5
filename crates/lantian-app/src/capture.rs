//! Why a period's data capture is not met (GB 3095 Table 4, HJ 663): the
//! core's shortfalls as the JSON outputs carry them, and said compactly in
//! either language for tables and documents.

use crate::Lang;
use lantian_core::Pollutant;
use lantian_core::period::{CaptureFailure, CaptureScope};
use serde::Serialize;

/// One capture minimum a period misses. JSON:
/// `{"scope":"month","year":2019,"month":8,"pollutant":"pm25","present":20,"needed":27}`
/// (`month` is null for the whole-year minimum).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptureShortfall {
    /// `month` (a full calendar month inside the period: ≥ 27 valid days,
    /// February ≥ 25) or `year` (a whole-year period: ≥ 324).
    pub scope: &'static str,
    pub year: i16,
    pub month: Option<i8>,
    /// so2, no2, pm10, co, o3 (its daily MDA8), pm25.
    pub pollutant: &'static str,
    /// Valid daily values in the month or year.
    pub present: u32,
    /// The minimum.
    pub needed: u32,
}

impl CaptureShortfall {
    pub fn from_core(failures: &[CaptureFailure]) -> Vec<CaptureShortfall> {
        failures
            .iter()
            .map(|f| {
                let (scope, year, month) = match f.scope {
                    CaptureScope::Month { year, month } => ("month", year, Some(month)),
                    CaptureScope::Year { year } => ("year", year, None),
                };
                CaptureShortfall {
                    scope,
                    year,
                    month,
                    pollutant: f.pollutant.key(),
                    present: f.present,
                    needed: f.needed,
                }
            })
            .collect()
    }

    fn label(&self) -> &'static str {
        match Pollutant::parse(self.pollutant) {
            Some(Pollutant::O3) => "O3-8h",
            Some(p) => p.label(),
            None => self.pollutant,
        }
    }
}

/// For CSV: `2019-08:pm25:20/27;2019:pm25:300/324` (period, pollutant,
/// present/needed; `;` between shortfalls).
pub fn plain(list: &[CaptureShortfall]) -> String {
    let one = |s: &CaptureShortfall| match s.month {
        Some(m) => format!("{}-{m:02}:{}:{}/{}", s.year, s.pollutant, s.present, s.needed),
        None => format!("{}:{}:{}/{}", s.year, s.pollutant, s.present, s.needed),
    };
    list.iter().map(one).collect::<Vec<_>>().join(";")
}

/// For people: one clause per month (or the year), pollutants with the same
/// count together, the largest such group of a month where all six fail
/// said as "the other N":
/// `8月 六项污染物有效 25 天 < 27 天；9月 O3-8h 有效 23 天，其余五项 25 天 < 27 天`,
/// `Aug: all six 25 valid days < 27; Sep: O3-8h 23, the other five 25 valid days < 27`.
pub fn note(list: &[CaptureShortfall], lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    // The year is named only when the shortfalls span more than one.
    let multi = list.iter().map(|s| s.year).collect::<std::collections::BTreeSet<_>>().len() > 1;
    // Scopes in order of first appearance, each with its counts' groups.
    type Groups<'a> = Vec<(u32, Vec<&'a CaptureShortfall>)>;
    let mut scopes: Vec<(&CaptureShortfall, Groups<'_>)> = Vec::new();
    for s in list {
        let i = match scopes.iter().position(|(k, _)| (k.year, k.month, k.needed) == (s.year, s.month, s.needed)) {
            Some(i) => i,
            None => {
                scopes.push((s, Vec::new()));
                scopes.len() - 1
            }
        };
        let groups = &mut scopes[i].1;
        match groups.iter_mut().find(|(n, _)| *n == s.present) {
            Some((_, g)) => g.push(s),
            None => groups.push((s.present, vec![s])),
        }
    }
    let count_zh = ["", "一", "两", "三", "四", "五", "六"];
    let count_en = ["", "one", "two", "three", "four", "five", "six"];
    let clauses: Vec<String> = scopes
        .into_iter()
        .map(|(k, mut groups)| {
            let when = when(k, zh, multi);
            let total: usize = groups.iter().map(|(_, g)| g.len()).sum();
            if groups.len() == 1 && total == Pollutant::ALL.len() {
                let n = groups[0].0;
                return if zh {
                    format!("{when} 六项污染物有效 {n} 天 < {} 天", k.needed)
                } else {
                    format!("{when}: all six {n} valid days < {}", k.needed)
                };
            }
            // All six short but by different counts: the largest group last, as "the other N".
            let others = (total == Pollutant::ALL.len())
                .then(|| (0..groups.len()).max_by_key(|&i| (groups[i].1.len(), std::cmp::Reverse(i))))
                .flatten()
                .filter(|&i| groups[i].1.len() >= 2);
            let last = others.map(|i| groups.remove(i));
            let mut parts: Vec<String> = groups
                .iter()
                .map(|(n, g)| {
                    let names: Vec<&str> = g.iter().map(|s| s.label()).collect();
                    if zh { format!("{} {n} 天", names.join("、")) } else { format!("{} {n}", names.join(", ")) }
                })
                .collect();
            if let Some((n, g)) = last {
                parts.push(if zh {
                    format!("其余{}项 {n} 天", count_zh[g.len()])
                } else {
                    format!("the other {} {n}", count_en[g.len()])
                });
            }
            if zh {
                // "有效" once, after the first pollutant.
                let first = parts[0].replacen(' ', " 有效 ", 1);
                parts[0] = first;
                format!("{when} {} < {} 天", parts.join("，"), k.needed)
            } else {
                format!("{when}: {} valid days < {}", parts.join(", "), k.needed)
            }
        })
        .collect();
    clauses.join(if zh { "；" } else { "; " })
}

/// The month or year a shortfall is in, as a clause starts.
fn when(s: &CaptureShortfall, zh: bool, multi: bool) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match (s.month, zh) {
        (Some(m), true) if multi => format!("{}年{m}月", s.year),
        (Some(m), true) => format!("{m}月"),
        (None, true) if multi => format!("{}年全年", s.year),
        (None, true) => "全年".to_string(),
        (Some(m), false) => {
            let name = MONTHS[(m.clamp(1, 12) - 1) as usize];
            if multi { format!("{name} {}", s.year) } else { name.to_string() }
        }
        (None, false) => format!("year {}", s.year),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(m: i8, p: Pollutant, present: u32) -> CaptureFailure {
        CaptureFailure { scope: CaptureScope::Month { year: 2019, month: m }, pollutant: p, present, needed: 27 }
    }

    #[test]
    fn said_compactly_in_both_languages() {
        let mut f: Vec<CaptureFailure> = Pollutant::ALL.iter().map(|&p| month(8, p, 20)).collect();
        // In the core's order: months, then pollutants as `Pollutant::ALL`.
        f.push(month(9, Pollutant::O3, 25));
        f.push(month(9, Pollutant::Pm25, 25));
        f.push(CaptureFailure {
            scope: CaptureScope::Year { year: 2019 },
            pollutant: Pollutant::Pm25,
            present: 300,
            needed: 324,
        });
        let s = CaptureShortfall::from_core(&f);
        assert_eq!(
            note(&s, Lang::Zh),
            "8月 六项污染物有效 20 天 < 27 天；9月 O3-8h、PM2.5 有效 25 天 < 27 天；全年 PM2.5 有效 300 天 < 324 天"
        );
        assert_eq!(
            note(&s, Lang::En),
            "Aug: all six 20 valid days < 27; Sep: O3-8h, PM2.5 25 valid days < 27; year 2019: PM2.5 300 valid days < 324"
        );
        // All six short by different counts: the largest group is "the other N".
        let mut f: Vec<CaptureFailure> = Pollutant::ALL.iter().map(|&p| month(9, p, 25)).collect();
        f[0].present = 24;
        f[4].present = 22;
        let t = CaptureShortfall::from_core(&f);
        assert_eq!(note(&t, Lang::Zh), "9月 SO2 有效 24 天，O3-8h 22 天，其余四项 25 天 < 27 天");
        assert_eq!(note(&t, Lang::En), "Sep: SO2 24, O3-8h 22, the other four 25 valid days < 27");
        // Shortfalls over two years name the year.
        let mut u = t[..1].to_vec();
        u.push(CaptureShortfall { year: 2020, ..t[0].clone() });
        assert_eq!(note(&u, Lang::Zh), "2019年9月 SO2 有效 24 天 < 27 天；2020年9月 SO2 有效 24 天 < 27 天");
        assert_eq!(plain(&s[6..]), "2019-09:o3:25/27;2019-09:pm25:25/27;2019:pm25:300/324");
        assert_eq!(note(&[], Lang::Zh), "");
        let json = serde_json::to_value(&s[8]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"scope": "year", "year": 2019, "month": null, "pollutant": "pm25", "present": 300, "needed": 324})
        );
    }
}
