//! The accountability policy as data: rules of the form "when these facts
//! hold for an area in a period, take this action", evaluated as pure
//! functions over facts the edges compute (standards/accountability-sichuan.md).

use serde::{Deserialize, Serialize};

/// What a rule does (提醒函, 警示函, 约谈, 扣缴, 区域限批 …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// 通报
    Notice,
    /// 提醒函
    ReminderLetter,
    /// 警示函
    WarningLetter,
    /// 约谈
    Interview,
    /// 扣缴/扣罚资金
    FundDeduction,
    /// 环评区域限批 (stays in force until its lifting condition holds)
    ApprovalRestriction,
    /// 数据核查: on-site verification of a station's data (after confirmed integrity findings)
    DataVerification,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Notice,
        ActionKind::ReminderLetter,
        ActionKind::WarningLetter,
        ActionKind::Interview,
        ActionKind::FundDeduction,
        ActionKind::ApprovalRestriction,
        ActionKind::DataVerification,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Notice => "notice",
            ActionKind::ReminderLetter => "reminder_letter",
            ActionKind::WarningLetter => "warning_letter",
            ActionKind::Interview => "interview",
            ActionKind::FundDeduction => "fund_deduction",
            ActionKind::ApprovalRestriction => "approval_restriction",
            ActionKind::DataVerification => "data_verification",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ActionKind::Notice => "通报",
            ActionKind::ReminderLetter => "提醒函",
            ActionKind::WarningLetter => "警示函",
            ActionKind::Interview => "约谈",
            ActionKind::FundDeduction => "扣缴资金",
            ActionKind::ApprovalRestriction => "区域限批",
            ActionKind::DataVerification => "数据核查",
        }
    }
}

/// Conditions; every one given must hold (AND). Empty = always.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Among the worst N by composite index of the period.
    pub rank_worst: Option<u32>,
    /// Period PM2.5 above the same period last year (不降反升).
    pub pm25_up_yoy: Option<bool>,
    /// Year-to-date PM2.5 above the same part of last year.
    pub pm25_up_ytd: Option<bool>,
    /// Period PM2.5 below the same period last year.
    pub pm25_down_yoy: Option<bool>,
    /// Good-day ratio below the same period last year.
    pub good_ratio_down_yoy: Option<bool>,
    /// Monthly PM2.5 up year on year for this many consecutive months
    /// ending with the period's last month.
    pub pm25_up_consecutive_months: Option<u32>,
    /// An annual target (pm25, pm10, good_ratio, heavy_days) missed or no
    /// longer reachable as of the period's end.
    pub target_missed: Option<String>,
    /// An annual target met as of the year's end (for lifting).
    pub target_met: Option<String>,
    /// At least this many integrity findings at the area's stations,
    /// overlapping the period, confirmed by a person (`lantian screen review`).
    pub confirmed_findings: Option<u32>,
}

/// Money for a fund deduction: fixed, plus per μg/m³ of PM2.5 rise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    #[serde(default)]
    pub fixed: f64,
    #[serde(default)]
    pub per_ug_rise: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub when: Condition,
    pub action: ActionKind,
    pub amount: Option<Amount>,
    /// For restrictions: lifted when this holds in a later run.
    pub lift_when: Option<Condition>,
    /// Periods ending on or after this date (ISO).
    pub effective_from: Option<String>,
    /// Periods ending on or before this date (ISO).
    pub effective_to: Option<String>,
    /// The values the rule judges on: `best` (audited where audited) or
    /// `raw`; default: the run's (the official basis).
    pub values: Option<String>,
    /// `deducted` or `included`: sand-dust and exceptional-event data in
    /// PM10 and PM2.5; default: the run's (deducted).
    pub dust: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// What is known of one area in one period; `None` = not computable.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Facts {
    pub area: String,
    pub composite_index: Option<f64>,
    pub rank: Option<u32>,
    pub n_ranked: u32,
    pub pm25: Option<f64>,
    pub pm25_prev: Option<f64>,
    pub pm25_ytd: Option<f64>,
    pub pm25_ytd_prev: Option<f64>,
    pub good_ratio: Option<f64>,
    pub good_ratio_prev: Option<f64>,
    /// Consecutive months (ending with the period's) of PM2.5 up YoY.
    pub pm25_up_months: Option<u32>,
    /// Targets missed (or unreachable) as of the period's end.
    pub targets_missed: Vec<String>,
    /// Targets met at the end of their year.
    pub targets_met: Vec<String>,
    /// Ids of confirmed integrity findings overlapping the period.
    pub confirmed_findings: Vec<String>,
}

fn gt(a: Option<f64>, b: Option<f64>) -> Option<bool> {
    Some(a? > b?)
}

/// Whether `c` holds, with the reasons (each satisfied clause with its
/// numbers). `None` when a clause cannot be decided for lack of data: a rule
/// never fires on missing evidence.
pub fn evaluate(c: &Condition, f: &Facts) -> Option<(bool, Vec<String>)> {
    let mut why = Vec::new();
    let mut all = true;
    let mut check = |ok: bool, text: String| {
        all &= ok;
        if ok {
            why.push(text);
        }
    };
    if let Some(n) = c.rank_worst {
        let rank = f.rank?;
        check(rank + n > f.n_ranked, format!("rank {rank} of {} (worst {n})", f.n_ranked));
    }
    if let Some(want) = c.pm25_up_yoy {
        check(gt(f.pm25, f.pm25_prev)? == want, format!("PM2.5 {:?} vs {:?} last year", f.pm25?, f.pm25_prev?));
    }
    if let Some(want) = c.pm25_down_yoy {
        check(gt(f.pm25_prev, f.pm25)? == want, format!("PM2.5 {:?} vs {:?} last year", f.pm25?, f.pm25_prev?));
    }
    if let Some(want) = c.pm25_up_ytd {
        check(
            gt(f.pm25_ytd, f.pm25_ytd_prev)? == want,
            format!("PM2.5 year to date {:?} vs {:?}", f.pm25_ytd?, f.pm25_ytd_prev?),
        );
    }
    if let Some(want) = c.good_ratio_down_yoy {
        check(
            gt(f.good_ratio_prev, f.good_ratio)? == want,
            format!("good-day ratio {:?}% vs {:?}%", f.good_ratio?, f.good_ratio_prev?),
        );
    }
    if let Some(n) = c.pm25_up_consecutive_months {
        let m = f.pm25_up_months?;
        check(m >= n, format!("PM2.5 up year on year {m} months running (≥ {n})"));
    }
    if let Some(t) = &c.target_missed {
        check(f.targets_missed.contains(t), format!("target {t} missed"));
    }
    if let Some(t) = &c.target_met {
        check(f.targets_met.contains(t), format!("target {t} met"));
    }
    if let Some(n) = c.confirmed_findings {
        let k = f.confirmed_findings.len();
        check(
            k as u32 >= n,
            format!("{k} confirmed integrity finding(s) (≥ {n}): {}", f.confirmed_findings.join(", ")),
        );
    }
    Some((all, why))
}

/// The amount of a deduction for these facts.
pub fn amount(a: &Amount, f: &Facts) -> f64 {
    let rise = match (f.pm25, f.pm25_prev) {
        (Some(c), Some(p)) if c > p => c - p,
        _ => 0.0,
    };
    a.fixed + a.per_ug_rise * rise
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            area: "宜宾".into(),
            rank: Some(19),
            n_ranked: 21,
            pm25: Some(47.0),
            pm25_prev: Some(44.0),
            good_ratio: Some(78.9),
            good_ratio_prev: Some(80.1),
            pm25_up_months: Some(3),
            ..Default::default()
        }
    }

    #[test]
    fn conditions_and_reasons() {
        let f = facts();
        let c = Condition { rank_worst: Some(3), pm25_up_yoy: Some(true), ..Default::default() };
        let (ok, why) = evaluate(&c, &f).unwrap();
        assert!(ok);
        assert_eq!(why, vec!["rank 19 of 21 (worst 3)".to_string(), "PM2.5 47.0 vs 44.0 last year".to_string()]);
        // Rank 18 of 21 is not among the worst 3.
        let f18 = Facts { rank: Some(18), ..facts() };
        assert!(!evaluate(&c, &f18).unwrap().0);
        // Missing last year: undecidable, never fires.
        let nodata = Facts { pm25_prev: None, ..facts() };
        assert_eq!(evaluate(&c, &nodata), None);
        assert!(evaluate(&Condition::default(), &f).unwrap().0);
        let months = Condition { pm25_up_consecutive_months: Some(3), ..Default::default() };
        assert!(evaluate(&months, &f).unwrap().0);
        assert!(!evaluate(&Condition { pm25_up_consecutive_months: Some(4), ..Default::default() }, &f).unwrap().0);
        assert!(evaluate(&Condition { good_ratio_down_yoy: Some(true), ..Default::default() }, &f).unwrap().0);
    }

    #[test]
    fn confirmed_findings_call_for_verification() {
        let c = Condition { confirmed_findings: Some(1), ..Default::default() };
        assert!(!evaluate(&c, &facts()).unwrap().0, "none confirmed");
        let f = Facts { confirmed_findings: vec!["2543A-stuck-pm25-2019010912".into()], ..facts() };
        let (ok, why) = evaluate(&c, &f).unwrap();
        assert!(ok);
        assert_eq!(why, vec!["1 confirmed integrity finding(s) (≥ 1): 2543A-stuck-pm25-2019010912".to_string()]);
        assert!(!evaluate(&Condition { confirmed_findings: Some(2), ..Default::default() }, &f).unwrap().0);
        assert_eq!(
            (ActionKind::DataVerification.key(), ActionKind::DataVerification.zh()),
            ("data_verification", "数据核查")
        );
    }

    #[test]
    fn deduction_amount() {
        let a = Amount { fixed: 250_000.0, per_ug_rise: 100_000.0 };
        assert_eq!(amount(&a, &facts()), 550_000.0);
        assert_eq!(amount(&a, &Facts { pm25: Some(40.0), ..facts() }), 250_000.0);
    }
}
