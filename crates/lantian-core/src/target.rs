//! Annual targets: how far an area is from them on a date, and what the rest
//! of the year must achieve (the "budget"), with the chance of making it
//! judged from the area's own history.
//!
//! Every statistic is judged as reported: a good-day ratio to 1 decimal,
//! a PM2.5 mean to an integer (GB/T 8170), so a budget is the largest count
//! or level for which the *reported* year-end value still meets the target.
//! The remaining days are assumed to be valid days.

use crate::round::round_half_even;

/// Where an area stands against one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The year is over and the target was met.
    Met,
    /// Already certain to be met whatever the remaining days bring.
    Secured,
    /// Reachable, and the area's history says more likely than not.
    OnTrack,
    /// Reachable, but history says less likely than not (or no history and
    /// the required level is stricter than so far).
    AtRisk,
    /// No longer reachable, or the year ended without meeting it.
    Missed,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Secured => "secured",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::Missed => "missed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Status::Met => "已完成",
            Status::Secured => "已确保",
            Status::OnTrack => "进度正常",
            Status::AtRisk => "有风险",
            Status::Missed => "未完成",
        }
    }
}

/// Good-day ratio budget: with `good` good days out of `valid` so far and
/// `remaining` days to come, the most non-good days the rest of the year can
/// have while the reported ratio stays ≥ `target_pct`. `None` when even a
/// perfect rest of the year falls short.
pub fn non_good_days_affordable(good: u32, valid: u32, remaining: u32, target_pct: f64) -> Option<u32> {
    let total = valid + remaining;
    if total == 0 {
        return None;
    }
    (0..=remaining).rev().find(|&bad| {
        let ratio = 100.0 * f64::from(good + remaining - bad) / f64::from(total);
        round_half_even(ratio, 1) >= target_pct
    })
}

/// PM2.5 (or any integer-reported mean) budget: with `sum` over `n` valid
/// days so far and `remaining` days to come, the highest mean the remaining
/// days may have while the reported annual mean stays ≤ `target`, to 0.1
/// (rounded down, so meeting it is enough). `None` when even zero would not do.
pub fn highest_remaining_mean(sum: f64, n: u32, remaining: u32, target: f64) -> Option<f64> {
    let total = f64::from(n + remaining);
    if remaining == 0 {
        return (n > 0 && round_half_even(sum / total, 0) <= target).then_some(0.0);
    }
    // Reported ≤ target ⟺ mean < target + 0.5 (or = target + 0.5 with target even).
    let edge = target + 0.5;
    let bound = (edge * total - sum) / f64::from(remaining);
    // Step down by 0.1 until the reported mean meets the target.
    let mut m = (bound * 10.0).floor() / 10.0;
    while m >= 0.0 && round_half_even((sum + m * f64::from(remaining)) / total, 0) > target {
        m = ((m - 0.1) * 10.0).round() / 10.0;
    }
    (m >= 0.0).then_some(m)
}

/// Share of earlier years in which the same remaining period met a
/// requirement (`ok` per year); `None` with fewer than `min_years` years.
pub fn historical_probability(ok: &[bool], min_years: usize) -> Option<f64> {
    (ok.len() >= min_years && !ok.is_empty()).then(|| ok.iter().filter(|b| **b).count() as f64 / ok.len() as f64)
}

/// Status from the budget and the history-based probability.
pub fn status(year_over: bool, met_now: bool, reachable: bool, secured: bool, probability: Option<f64>) -> Status {
    match (year_over, reachable, secured) {
        (true, _, _) => {
            if met_now {
                Status::Met
            } else {
                Status::Missed
            }
        }
        (false, false, _) => Status::Missed,
        (false, true, true) => Status::Secured,
        (false, true, false) => match probability {
            Some(p) if p >= 0.5 => Status::OnTrack,
            Some(_) => Status::AtRisk,
            None if met_now => Status::OnTrack,
            None => Status::AtRisk,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_days_budget_at_the_boundaries() {
        // 365-day year, target 80.0 %: at most 73 non-good days in all
        // (292/365 = 80.0 %; 291/365 = 79.7 %).
        // After 200 days with 170 good (30 bad), 165 remain: 43 more bad days.
        assert_eq!(non_good_days_affordable(170, 200, 165, 80.0), Some(43));
        // Already 74 bad days: unreachable.
        assert_eq!(non_good_days_affordable(126, 200, 165, 80.0), None);
        // Exactly 73 bad so far: no bad day left.
        assert_eq!(non_good_days_affordable(127, 200, 165, 80.0), Some(0));
        // Secured: every remaining day may be bad (so far 300 of 300 good, 65 left; 300/365 = 82.2 %).
        assert_eq!(non_good_days_affordable(300, 300, 65, 80.0), Some(65));
        // No days at all: nothing to judge.
        assert_eq!(non_good_days_affordable(0, 0, 0, 80.0), None);
        // The ratio is judged as reported: 1 bad day in 1000 → 99.9 % meets 99.9.
        assert_eq!(non_good_days_affordable(0, 0, 1000, 99.9), Some(1));
    }

    #[test]
    fn pm25_budget_at_the_boundaries() {
        // Target 40 over 365 days; 200 days so far averaging 45 (sum 9000).
        // Year mean must be < 40.5 → remaining mean < (40.5·365 − 9000)/165 = 35.045…
        let m = highest_remaining_mean(9000.0, 200, 165, 40.0).unwrap();
        assert_eq!(m, 35.0);
        assert!(round_half_even((9000.0 + m * 165.0) / 365.0, 0) <= 40.0);
        assert!(round_half_even((9000.0 + 35.1 * 165.0) / 365.0, 0) > 40.0);
        // Unreachable: so far so high that even zero from now on is too much.
        assert_eq!(highest_remaining_mean(365.0 * 90.0, 365 - 10, 10, 40.0), None);
        // Year over: met or not.
        assert_eq!(highest_remaining_mean(40.4 * 365.0, 365, 0, 40.0), Some(0.0));
        assert_eq!(highest_remaining_mean(40.6 * 365.0, 365, 0, 40.0), None);
        // Exact half goes to even: 40.5 reports as 40 (met), 41.5 as 42.
        assert_eq!(highest_remaining_mean(40.5 * 2.0, 2, 0, 40.0), Some(0.0));
        assert_eq!(highest_remaining_mean(41.5 * 2.0, 2, 0, 41.0), None);
    }

    #[test]
    fn probability_and_status() {
        assert_eq!(historical_probability(&[true, false, true, true], 3), Some(0.75));
        assert_eq!(historical_probability(&[true, true], 3), None);
        assert_eq!(status(true, true, true, true, None), Status::Met);
        assert_eq!(status(true, false, false, false, None), Status::Missed);
        assert_eq!(status(false, false, false, false, Some(0.9)), Status::Missed);
        // (year_over, met_now, reachable, secured, probability)
        assert_eq!(status(false, true, true, true, Some(0.1)), Status::Secured);
        assert_eq!(status(false, false, true, false, Some(0.6)), Status::OnTrack);
        assert_eq!(status(false, false, true, false, Some(0.4)), Status::AtRisk);
        assert_eq!(status(false, true, true, false, None), Status::OnTrack);
        assert_eq!(status(false, false, true, false, None), Status::AtRisk);
    }
}
