//! City ranking (城市环境空气质量排名, 环办监测〔2018〕19号 and the 2017
//! change-ranking scheme): what is ranked, in which direction, with which
//! weights, and how ties share a rank.

use crate::period::{PeriodStats, change_pct, competition_rank};
use crate::pollutant::Pollutant;
use crate::round::round_half_even;
use std::fmt;
use std::str::FromStr;

/// What a ranking orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBy {
    /// Composite index, smallest (cleanest) first.
    Composite,
    /// PM2.5 period mean, smallest first.
    Pm25,
    /// Good-day ratio, largest first.
    GoodRatio,
    /// Year-on-year change of the composite index, most negative first.
    Improvement,
}

impl FromStr for RankBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "composite" => RankBy::Composite,
            "pm25" => RankBy::Pm25,
            "good_ratio" | "good-ratio" => RankBy::GoodRatio,
            "improvement" => RankBy::Improvement,
            other => return Err(format!("unknown ranking '{other}': composite, pm25, good_ratio or improvement")),
        })
    }
}

/// Weights of the single indexes in the composite index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// All six 1 (环办监测〔2018〕19号): the default.
    Equal,
    /// PM2.5 ×3, NO2 ×2, O3 ×2, others ×1: seen only in an unofficial
    /// implementation attributed to HJ 663-2026 (standards/ranking.md §5).
    Weighted,
}

impl Weights {
    pub fn weight(self, p: Pollutant) -> f64 {
        match (self, p) {
            (Weights::Equal, _) => 1.0,
            (Weights::Weighted, Pollutant::Pm25) => 3.0,
            (Weights::Weighted, Pollutant::No2 | Pollutant::O3) => 2.0,
            (Weights::Weighted, _) => 1.0,
        }
    }
}

impl FromStr for Weights {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "equal" => Ok(Weights::Equal),
            "weighted" => Ok(Weights::Weighted),
            other => Err(format!("unknown weights '{other}': equal or weighted")),
        }
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Weights::Equal => "equal",
            Weights::Weighted => "weighted",
        })
    }
}

/// Σ w_i·I_i over the six single indexes (each already rounded to 0.01),
/// to 2 decimals; `None` unless all six exist.
pub fn weighted_composite(stats: &PeriodStats, weights: Weights) -> Option<f64> {
    let mut sum = 0.0;
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        sum += weights.weight(p) * stats.single_index[k]?;
    }
    Some(round_half_even(sum, 2))
}

/// Mean of the same period's statistic over earlier years (三年均值), at the
/// statistic's own precision; `None` unless every year has it.
pub fn multi_year_mean(values: &[Option<f64>], decimals: u32) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    for v in values {
        sum += (*v)?;
    }
    Some(round_half_even(sum / values.len() as f64, decimals))
}

/// Ranks for `values` under `by` (competition ranking, ties share a rank;
/// values compared at their printed precision).
pub fn rank(by: RankBy, values: &[Option<f64>]) -> Vec<Option<u32>> {
    match by {
        RankBy::GoodRatio => competition_rank(&values.iter().map(|v| v.map(|x| -x)).collect::<Vec<_>>()),
        _ => competition_rank(values),
    }
}

/// Improvement (change of the composite index in %, 1 decimal).
pub fn improvement(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    change_pct(current, previous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edition::LimitSet;
    use crate::period::composite_index;

    fn stats(pm25: f64, pm10: f64, so2: f64, no2: f64, co: f64, o3: f64) -> PeriodStats {
        let mut s = PeriodStats {
            pm25: Some(pm25),
            pm10: Some(pm10),
            so2: Some(so2),
            no2: Some(no2),
            co_p95: Some(co),
            o3_8h_p90: Some(o3),
            ..Default::default()
        };
        let (single, ci, main) = composite_index(&s, &LimitSet::Gb2012.grade2());
        (s.single_index, s.composite_index, s.main_pollutant) = (single, ci, main);
        s
    }

    #[test]
    fn composite_both_weightings_by_hand() {
        // Single indexes: SO2 9/60 = 0.15, NO2 33/40 = 0.825 → 0.82, PM10 70/70 = 1,
        // CO 1.3/4 = 0.325 → 0.32, O3 150/160 = 0.9375 → 0.94, PM2.5 40/35 → 1.14.
        let s = stats(40.0, 70.0, 9.0, 33.0, 1.3, 150.0);
        assert_eq!(s.composite_index, Some(4.37));
        assert_eq!(weighted_composite(&s, Weights::Equal), Some(4.37));
        // 0.15 + 2·0.82 + 1 + 0.32 + 2·0.94 + 3·1.14 = 8.41
        assert_eq!(weighted_composite(&s, Weights::Weighted), Some(8.41));
        let mut partial = s.clone();
        partial.single_index[0] = None;
        assert_eq!(weighted_composite(&partial, Weights::Weighted), None);
    }

    #[test]
    fn directions_and_ties() {
        let v = [Some(4.37), Some(3.10), Some(4.37), Some(5.02)];
        assert_eq!(rank(RankBy::Composite, &v), vec![Some(2), Some(1), Some(2), Some(4)]);
        let g = [Some(80.3), Some(91.2), None, Some(91.2)];
        assert_eq!(rank(RankBy::GoodRatio, &g), vec![Some(3), Some(1), None, Some(1)]);
        let imp =
            [improvement(Some(4.0), Some(5.0)), improvement(Some(5.5), Some(5.0)), improvement(Some(4.5), Some(5.0))];
        assert_eq!(imp, [Some(-20.0), Some(10.0), Some(-10.0)]);
        assert_eq!(rank(RankBy::Improvement, &imp), vec![Some(1), Some(3), Some(2)]);
    }

    #[test]
    fn three_year_mean() {
        assert_eq!(multi_year_mean(&[Some(40.0), Some(43.0), Some(45.0)], 0), Some(43.0));
        assert_eq!(multi_year_mean(&[Some(40.0), Some(41.0)], 0), Some(40.0)); // 40.5 → 40
        assert_eq!(multi_year_mean(&[Some(4.37), None, Some(4.1)], 2), None);
        assert_eq!("weighted".parse::<Weights>(), Ok(Weights::Weighted));
        assert!("x".parse::<RankBy>().is_err());
    }
}
