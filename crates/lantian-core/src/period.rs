//! Period statistics of an area (HJ 663 §4–§8, ranking rules §2): period
//! means, percentiles, good-day ratio, heavy-pollution days, composite index,
//! ranks and year-on-year changes.

use crate::edition::Limits;
use crate::pollutant::Pollutant;
use crate::round::round_half_even;
use crate::series::DailyValues;
use crate::time::{DayNumber, date_of};

/// HJ 663 §3 percentile: linear interpolation between closest ranks,
/// k = 1 + (n − 1)·p/100 (identical to Excel PERCENTILE.INC). Sorts `values`
/// in place; `None` when empty.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let k = 1.0 + (n - 1) as f64 * p / 100.0;
    let s = k.floor() as usize; // 1-based rank
    if s >= n {
        return Some(values[n - 1]);
    }
    let (lo, hi) = (values[s - 1], values[s]);
    Some(lo + (hi - lo) * (k - s as f64))
}

/// One area-day: unrounded daily values and the day's AQI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DayRecord {
    pub day: DayNumber,
    pub values: DailyValues,
    pub aqi: Option<u16>,
}

/// Minimum valid daily values per calendar month for period statistics
/// (GB 3095 Table 4: ≥ 27 per month, ≥ 25 in February; ≥ 324 per year).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodCapture {
    pub per_month: u32,
    pub per_february: u32,
    pub per_year: u32,
}

impl Default for PeriodCapture {
    fn default() -> Self {
        PeriodCapture { per_month: 27, per_february: 25, per_year: 324 }
    }
}

/// Statistics of one area over one period, at reporting precision.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeriodStats {
    /// Calendar days in the period.
    pub days: u32,
    /// Days with a daily AQI (the denominator of the good-day ratio).
    pub valid_days: u32,
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    /// 95th percentile of daily CO (mg/m³, 1 decimal).
    pub co_p95: Option<f64>,
    /// 90th percentile of daily O3 MDA8.
    pub o3_8h_p90: Option<f64>,
    /// Valid daily values per pollutant (`Pollutant::ALL` order).
    pub n_values: [u32; 6],
    pub good_days: u32,
    /// 优良天数比例, % to 1 decimal.
    pub good_ratio: Option<f64>,
    pub heavy_days: u32,
    /// Single-item indexes I_i = C_i/S_i, each to 2 decimals.
    pub single_index: [Option<f64>; 6],
    /// Σ I_i to 2 decimals; `None` unless all six statistics exist.
    pub composite_index: Option<f64>,
    /// Largest single index (主要污染物).
    pub main_pollutant: Option<Pollutant>,
    /// Percentile of the daily values used for annual attainment (HJ 663):
    /// SO2 and NO2 98th, PM10 and PM2.5 95th, CO 95th, O3-8h 90th, as
    /// reported (`Pollutant::ALL` order).
    pub daily_percentile: [Option<f64>; 6],
    /// Whether every full calendar month in the period (and the year, for a
    /// whole-year period) meets the capture minimum for every pollutant
    /// (judged on the data before any deduction: deducted days are set
    /// aside by rule, not missing).
    pub capture_ok: bool,
    /// Why `capture_ok` is false: each minimum missed, with the count.
    pub capture_failures: Vec<CaptureFailure>,
    /// Days whose PM10 / PM2.5 a deduction event touched (扣除沙尘天数).
    pub deducted_days: u32,
}

impl PeriodStats {
    /// The period statistic used for `p` in the composite index.
    pub fn statistic(&self, p: Pollutant) -> Option<f64> {
        match p {
            Pollutant::So2 => self.so2,
            Pollutant::No2 => self.no2,
            Pollutant::Pm10 => self.pm10,
            Pollutant::Pm25 => self.pm25,
            Pollutant::Co => self.co_p95,
            Pollutant::O3 => self.o3_8h_p90,
        }
    }
}

/// Compute the statistics over `records` (one per day, any order, only days
/// within `from..=to` are used). `limits` are the S_i of the composite index.
pub fn period_stats(
    records: &[DayRecord],
    from: DayNumber,
    to: DayNumber,
    limits: &Limits,
    capture: &PeriodCapture,
) -> PeriodStats {
    let in_range: Vec<&DayRecord> = records.iter().filter(|r| r.day >= from && r.day <= to).collect();
    let mut out = PeriodStats { days: (to - from + 1).max(0) as u32, ..Default::default() };
    let mut series: [Vec<f64>; 6] = Default::default();
    for r in &in_range {
        for (k, p) in Pollutant::ALL.into_iter().enumerate() {
            // PM10 and PM2.5 without the data a deduction event affected;
            // the day's AQI (below) keeps them (环办监测〔2016〕120号).
            let v = match (p, r.values.deducted) {
                (Pollutant::Pm10, Some(d)) => d.pm10,
                (Pollutant::Pm25, Some(d)) => d.pm25,
                _ => r.values.get(p),
            };
            if let Some(v) = v {
                series[k].push(v);
            }
        }
        out.deducted_days += u32::from(r.values.deducted.is_some());
        if let Some(aqi) = r.aqi {
            out.valid_days += 1;
            if aqi <= 100 {
                out.good_days += 1;
            }
            if aqi > 200 {
                out.heavy_days += 1;
            }
        }
    }
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        out.n_values[k] = series[k].len() as u32;
        let pct = match p {
            Pollutant::So2 | Pollutant::No2 => 98.0,
            Pollutant::O3 => 90.0,
            _ => 95.0,
        };
        out.daily_percentile[k] = percentile(&mut series[k], pct).map(|v| p.report(v));
        let stat = match p {
            Pollutant::Co => percentile(&mut series[k], 95.0),
            Pollutant::O3 => percentile(&mut series[k], 90.0),
            _ => mean(&series[k]),
        };
        let reported = stat.map(|v| p.report(v));
        match p {
            Pollutant::So2 => out.so2 = reported,
            Pollutant::No2 => out.no2 = reported,
            Pollutant::Pm10 => out.pm10 = reported,
            Pollutant::Pm25 => out.pm25 = reported,
            Pollutant::Co => out.co_p95 = reported,
            Pollutant::O3 => out.o3_8h_p90 = reported,
        }
    }
    if out.valid_days > 0 {
        out.good_ratio = Some(round_half_even(100.0 * f64::from(out.good_days) / f64::from(out.valid_days), 1));
    }
    let (single, composite, main) = composite_index(&out, limits);
    out.single_index = single;
    out.composite_index = composite;
    out.main_pollutant = main;
    match capture_failures(&in_range, from, to, capture) {
        Some(failures) => {
            out.capture_ok = failures.is_empty();
            out.capture_failures = failures;
        }
        None => out.capture_ok = false,
    }
    out
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Composite index (环境空气质量综合指数, 环办监测〔2018〕19号): each
/// single index C_i/S_i from the reported statistic, rounded to 0.01
/// (GB/T 8170), then summed. S_i: annual limits for SO2, NO2, PM10, PM2.5;
/// the daily CO limit; the 8-hour O3 limit.
pub fn composite_index(stats: &PeriodStats, limits: &Limits) -> ([Option<f64>; 6], Option<f64>, Option<Pollutant>) {
    let mut single = [None; 6];
    let mut sum = 0.0;
    let mut complete = true;
    let mut main: Option<(Pollutant, f64)> = None;
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        let s = limits.annual(p).unwrap_or_else(|| limits.daily(p));
        match stats.statistic(p) {
            Some(c) => {
                let i = round_half_even(c / s, 2);
                single[k] = Some(i);
                sum += i;
                if main.is_none_or(|(_, m)| i > m) {
                    main = Some((p, i));
                }
            }
            None => complete = false,
        }
    }
    (single, complete.then(|| round_half_even(sum, 2)), main.map(|(p, _)| p))
}

/// Annual attainment of a city (达标, HJ 663 §5): all six pollutants
/// attain — SO2, NO2, PM10, PM2.5 when the annual mean is within the annual
/// limit **and** the 98th (SO2, NO2) or 95th (PM10, PM2.5) percentile of
/// daily means within the 24-hour limit; CO when its daily 95th percentile,
/// O3 when its MDA8 90th percentile is within the 24-hour / 8-hour limit.
/// Values as reported. `None` when a statistic is missing.
pub fn attains(stats: &PeriodStats, limits: &Limits) -> Option<bool> {
    let mut all = true;
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        let percentile = stats.daily_percentile[k]?;
        all &= percentile <= limits.daily(p);
        if let Some(annual) = limits.annual(p) {
            all &= p.report(stats.statistic(p)?) <= annual;
        }
    }
    Some(all)
}

/// HJ 663-2026 three-year moving average (三年滑动平均) of an area: per
/// pollutant the mean of the three annual statistics ending with a year
/// (the period statistic and the daily-value percentile used for
/// attainment), each year valid by its own capture rules; reported to the
/// pollutant's precision (GB/T 8170, once, on the unrounded mean of the
/// reported annual values). Reading chosen where the text could not be read:
/// docs/STANDARDS.md, "Three-year assessment".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreeYear {
    /// Period statistic (annual mean; CO p95; O3-8h p90), `Pollutant::ALL` order.
    pub statistic: [Option<f64>; 6],
    /// Percentile of daily values (98th SO2/NO2, 95th PM10/PM2.5, 95th CO, 90th O3-8h).
    pub percentile: [Option<f64>; 6],
    /// Years among the three whose capture met the rules.
    pub valid_years: u32,
    /// Per pollutant: attains (`None` without three valid years).
    pub attains: [Option<bool>; 6],
}

impl ThreeYear {
    /// The area attains when all six pollutants do (`None`: not decidable).
    pub fn attains_all(&self) -> Option<bool> {
        self.attains.iter().try_fold(true, |all, a| a.map(|a| all && a))
    }
}

/// The three-year figures from three years' statistics (oldest first),
/// judged against `limits`.
pub fn three_year(years: &[PeriodStats; 3], limits: &Limits) -> ThreeYear {
    let valid: Vec<&PeriodStats> = years.iter().filter(|s| s.capture_ok).collect();
    let mut out = ThreeYear { valid_years: valid.len() as u32, ..Default::default() };
    if valid.len() < 3 {
        return out;
    }
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        let mean = |f: &dyn Fn(&PeriodStats) -> Option<f64>| -> Option<f64> {
            let v: Vec<f64> = valid.iter().map(|s| f(s)).collect::<Option<_>>()?;
            Some(p.report(v.iter().sum::<f64>() / 3.0))
        };
        out.statistic[k] = mean(&|s| s.statistic(p));
        out.percentile[k] = mean(&|s| s.daily_percentile[k]);
        out.attains[k] = match (out.statistic[k], out.percentile[k]) {
            (Some(stat), Some(pct)) => Some(pct <= limits.daily(p) && limits.annual(p).is_none_or(|a| stat <= a)),
            _ => None,
        };
    }
    out
}

/// Where a capture minimum applies (GB 3095 Table 4, HJ 663 §2; the same
/// numbers in both editions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaptureScope {
    /// A full calendar month inside the period.
    Month { year: i16, month: i8 },
    /// A whole-year period.
    Year { year: i16 },
}

/// A capture minimum not met: the valid daily values of `pollutant` (its
/// MDA8 for O3) in `scope`, against the minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureFailure {
    pub scope: CaptureScope,
    pub pollutant: Pollutant,
    pub present: u32,
    pub needed: u32,
}

/// Every capture minimum the period misses: full months first (in date
/// order, pollutants in `Pollutant::ALL` order), then the year. `None` when
/// the period's dates are out of range (no capture can be judged).
fn capture_failures(
    records: &[&DayRecord],
    from: DayNumber,
    to: DayNumber,
    capture: &PeriodCapture,
) -> Option<Vec<CaptureFailure>> {
    let (start, end) = (date_of(from)?, date_of(to)?);
    let mut out = Vec::new();
    let count = |lo: DayNumber, hi: DayNumber, p: Pollutant| {
        records.iter().filter(|r| r.day >= lo && r.day <= hi && r.values.get(p).is_some()).count() as u32
    };
    // Full calendar months inside the period.
    let mut month = start.first_of_month();
    while month <= end {
        let last = month.last_of_month();
        if month >= start && last <= end {
            let (lo, hi) = (crate::time::day_number(month), crate::time::day_number(last));
            let needed = if month.month() == 2 { capture.per_february } else { capture.per_month };
            let scope = CaptureScope::Month { year: month.year(), month: month.month() };
            for pollutant in Pollutant::ALL {
                let present = count(lo, hi, pollutant);
                if present < needed {
                    out.push(CaptureFailure { scope, pollutant, present, needed });
                }
            }
        }
        match last.tomorrow() {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    let whole_year =
        start.month() == 1 && start.day() == 1 && end.month() == 12 && end.day() == 31 && start.year() == end.year();
    if whole_year {
        let scope = CaptureScope::Year { year: start.year() };
        for pollutant in Pollutant::ALL {
            let present = count(from, to, pollutant);
            if present < capture.per_year {
                out.push(CaptureFailure { scope, pollutant, present, needed: capture.per_year });
            }
        }
    }
    Some(out)
}

/// Competition ranking (1, 2, 2, 4) of values, smallest first; equal values
/// share a rank, `None` is unranked. Values are compared as given, so pass
/// them at reported precision (ties are decided on the printed value).
pub fn competition_rank(values: &[Option<f64>]) -> Vec<Option<u32>> {
    values.iter().map(|v| v.map(|x| 1 + values.iter().filter(|o| o.is_some_and(|y| y < x)).count() as u32)).collect()
}

/// Year-on-year change in % to 1 decimal, from reported values
/// ((current − previous) / previous × 100).
pub fn change_pct(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    match (current, previous) {
        (Some(c), Some(p)) if p != 0.0 => Some(round_half_even((c - p) / p * 100.0, 1)),
        _ => None,
    }
}

/// Change in percentage points to 1 decimal (good-day ratio).
pub fn change_pp(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    match (current, previous) {
        (Some(c), Some(p)) => Some(round_half_even(c - p, 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edition::LimitSet;
    use crate::time::day_number;
    use jiff::civil::{Date, date};

    #[test]
    fn percentile_worked_example() {
        // HJ 663 §3 example: p90 of these ten values is 49.2 → reported 49.
        let mut v = [35., 12., 48., 20., 27., 60., 41., 18., 33., 25.];
        let p = percentile(&mut v, 90.0).unwrap();
        assert!((p - 49.2).abs() < 1e-9);
        assert_eq!(Pollutant::O3.report(p), 49.0);
        assert_eq!(percentile(&mut [7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&mut [], 95.0), None);
        // k integer: n = 11, p = 90 → k = 10 exactly → X(10).
        let mut w: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&mut w, 90.0), Some(10.0));
        assert_eq!(percentile(&mut w, 100.0), Some(11.0));
        assert_eq!(percentile(&mut w, 0.0), Some(1.0));
    }

    #[test]
    fn composite_index_hand_computed() {
        // PM2.5 40/35 = 1.142… → 1.14; PM10 70/70 = 1; SO2 9/60 = 0.15;
        // NO2 33/40 = 0.825 → 0.82 (half to even); CO 1.3/4 = 0.325 → 0.32;
        // O3 150/160 = 0.9375 → 0.94. Sum 4.37.
        let s = PeriodStats {
            pm25: Some(40.0),
            pm10: Some(70.0),
            so2: Some(9.0),
            no2: Some(33.0),
            co_p95: Some(1.3),
            o3_8h_p90: Some(150.0),
            ..Default::default()
        };
        let (single, ci, main) = composite_index(&s, &LimitSet::Gb2012.grade2());
        assert_eq!(single, [Some(0.15), Some(0.82), Some(1.0), Some(0.32), Some(0.94), Some(1.14)]);
        assert_eq!(ci, Some(4.37));
        assert_eq!(main, Some(Pollutant::Pm25));
        // Under the 2026 transitional limits PM2.5 40/30 = 1.33, PM10 70/60 = 1.17.
        let (_, ci26, _) = composite_index(&s, &LimitSet::Gb2026Transitional.grade2());
        assert_eq!(ci26, Some(4.73));
        let partial = PeriodStats { pm25: Some(40.0), ..Default::default() };
        assert_eq!(composite_index(&partial, &LimitSet::Gb2012.grade2()).1, None);
    }

    #[test]
    fn ties_share_a_rank() {
        let r = competition_rank(&[Some(3.1), Some(2.5), Some(3.1), Some(4.0), None, Some(2.0)]);
        assert_eq!(r, vec![Some(3), Some(2), Some(3), Some(5), None, Some(1)]);
    }

    #[test]
    fn changes() {
        assert_eq!(change_pct(Some(44.0), Some(40.0)), Some(10.0));
        assert_eq!(change_pct(Some(38.0), Some(41.0)), Some(-7.3));
        assert_eq!(change_pct(Some(1.0), Some(0.0)), None);
        assert_eq!(change_pp(Some(80.3), Some(82.5)), Some(-2.2));
    }

    #[test]
    fn deducted_days_leave_the_pm_statistics_not_the_day_counts() {
        use crate::deduct::Deducted;
        let limits = crate::edition::LimitSet::Gb2012.grade2();
        let mut days: Vec<DayRecord> = (0..10).map(|d| rec(d, 30.0 + d as f64, 60)).collect();
        // Day 3: a dust day, PM2.5 deducted whole, AQI 180 kept; day 4:
        // hours removed, 20 remained (PM2.5 31.0 instead of 34).
        days[3].values.pm25 = Some(150.0);
        days[3].values.pm10 = Some(400.0);
        days[3].aqi = Some(180);
        days[3].values.deducted = Some(Deducted { pm10: None, pm25: None });
        days[4].values.deducted = Some(Deducted { pm10: Some(50.0), pm25: Some(31.0) });
        let s = period_stats(&days, 0, 9, &limits, &PeriodCapture::default());
        // PM2.5: days 0..9 are 30..39 but day 3 is out and day 4 is 31.
        let kept = [30.0, 31.0, 32.0, 31.0, 35.0, 36.0, 37.0, 38.0, 39.0];
        assert_eq!(s.pm25, Some(Pollutant::Pm25.report(kept.iter().sum::<f64>() / 9.0)));
        assert_eq!(s.n_values[5], 9);
        assert_eq!(s.deducted_days, 2);
        // The dust day stays a valid, non-good day.
        assert_eq!((s.valid_days, s.good_days), (10, 9));
        // Without the deduction the dust day counts.
        let plain: Vec<DayRecord> =
            days.iter().map(|r| DayRecord { values: DailyValues { deducted: None, ..r.values }, ..*r }).collect();
        let p = period_stats(&plain, 0, 9, &limits, &PeriodCapture::default());
        assert!(p.pm25 > s.pm25);
        assert_eq!(p.deducted_days, 0);
    }

    #[test]
    fn three_year_means_of_annual_statistics() {
        let limits = crate::edition::LimitSet::Gb2012.grade2();
        let year = |pm25: f64, p95: f64, ok: bool| {
            let mut s = PeriodStats {
                so2: Some(10.0),
                no2: Some(30.0),
                pm10: Some(60.0),
                pm25: Some(pm25),
                co_p95: Some(1.2),
                o3_8h_p90: Some(150.0),
                capture_ok: ok,
                ..Default::default()
            };
            s.daily_percentile = [Some(20.0), Some(60.0), Some(120.0), Some(1.2), Some(150.0), Some(p95)];
            s
        };
        // PM2.5 36, 35, 34 → 35 (≤ 35: attains), p95 80, 70, 72 → 74 (≤ 75).
        let t = three_year(&[year(36.0, 80.0, true), year(35.0, 70.0, true), year(34.0, 72.0, true)], &limits);
        assert_eq!(t.valid_years, 3);
        let pm25 = 5;
        assert_eq!((t.statistic[pm25], t.percentile[pm25]), (Some(35.0), Some(74.0)));
        assert_eq!(t.attains_all(), Some(true));
        // 36, 36, 35 → 35.67 → 36: PM2.5 does not attain, the area neither.
        let t = three_year(&[year(36.0, 70.0, true), year(36.0, 70.0, true), year(35.0, 70.0, true)], &limits);
        assert_eq!(t.statistic[pm25], Some(36.0));
        assert_eq!((t.attains[pm25], t.attains_all()), (Some(false), Some(false)));
        // A year short of data: no three-year figure.
        let t = three_year(&[year(30.0, 70.0, true), year(30.0, 70.0, false), year(30.0, 70.0, true)], &limits);
        assert_eq!((t.valid_years, t.statistic[pm25], t.attains_all()), (2, None, None));
    }

    fn rec(day: DayNumber, pm25: f64, aqi: u16) -> DayRecord {
        let v = DailyValues {
            so2: Some(10.0),
            no2: Some(30.0),
            pm10: Some(pm25 * 1.5),
            pm25: Some(pm25),
            co: Some(1.0),
            o3_8h: Some(100.0),
            ..Default::default()
        };
        DayRecord { day, values: v, aqi: Some(aqi) }
    }

    #[test]
    fn period_counts_and_capture() {
        let jan1 = day_number(date(2019, 1, 1));
        let recs: Vec<DayRecord> = (0..31)
            .map(|i| {
                rec(
                    jan1 + i,
                    30.0 + i as f64,
                    if i < 20 {
                        80
                    } else if i < 29 {
                        150
                    } else {
                        250
                    },
                )
            })
            .collect();
        let lim = LimitSet::Gb2012.grade2();
        let cap = PeriodCapture::default();
        let s = period_stats(&recs, jan1, jan1 + 30, &lim, &cap);
        assert_eq!((s.days, s.valid_days, s.good_days, s.heavy_days), (31, 31, 20, 2));
        assert_eq!(s.good_ratio, Some(64.5));
        assert_eq!(s.pm25, Some(45.0));
        assert!(s.capture_ok);
        // Drop five days: 26 < 27 for January.
        let fewer: Vec<DayRecord> = recs.iter().copied().filter(|r| r.day - jan1 >= 5).collect();
        let s = period_stats(&fewer, jan1, jan1 + 30, &lim, &cap);
        assert!(!s.capture_ok);
        assert_eq!(s.days, 31);
        assert_eq!(s.valid_days, 26);
        // A part-month period has no full month to check.
        assert!(period_stats(&fewer, jan1 + 10, jan1 + 20, &lim, &cap).capture_ok);
    }

    /// Every day of 2019 from `from` to `to`, except those `keep` rejects.
    fn days_2019(from: (i8, i8), to: (i8, i8), keep: impl Fn(Date) -> bool) -> Vec<DayRecord> {
        let (a, b) = (day_number(date(2019, from.0, from.1)), day_number(date(2019, to.0, to.1)));
        (a..=b).filter(|&d| keep(date_of(d).unwrap())).map(|d| rec(d, 30.0, 60)).collect()
    }

    fn failures(recs: &[DayRecord], from: (i8, i8), to: (i8, i8)) -> (bool, Vec<CaptureFailure>) {
        let lim = LimitSet::Gb2012.grade2();
        let (a, b) = (day_number(date(2019, from.0, from.1)), day_number(date(2019, to.0, to.1)));
        let s = period_stats(recs, a, b, &lim, &PeriodCapture::default());
        (s.capture_ok, s.capture_failures)
    }

    #[test]
    fn capture_failures_say_which_month_pollutant_and_count() {
        let aug = CaptureScope::Month { year: 2019, month: 8 };
        // August 2019 with PM2.5 on 20 days only (a gap 11th–21st), the
        // other five on all 31: one failure, 20 < 27.
        let mut recs = days_2019((8, 1), (8, 31), |_| true);
        for r in &mut recs {
            if (11..=21).contains(&date_of(r.day).unwrap().day()) {
                r.values.pm25 = None;
            }
        }
        let (ok, f) = failures(&recs, (8, 1), (8, 31));
        assert!(!ok);
        assert_eq!(f, [CaptureFailure { scope: aug, pollutant: Pollutant::Pm25, present: 20, needed: 27 }]);
        // A station outage of five days: every pollutant 26 < 27.
        let recs = days_2019((8, 1), (8, 31), |d| d.day() > 5);
        let (_, f) = failures(&recs, (8, 1), (8, 31));
        assert_eq!(f.len(), 6);
        assert!(f.iter().all(|f| (f.scope, f.present, f.needed) == (aug, 26, 27)));
        assert_eq!(f.iter().map(|f| f.pollutant).collect::<Vec<_>>(), Pollutant::ALL);
        // Exactly 27: met.
        let recs = days_2019((8, 1), (8, 31), |d| d.day() > 4);
        assert_eq!(failures(&recs, (8, 1), (8, 31)), (true, vec![]));
    }

    #[test]
    fn february_needs_25_and_part_months_are_not_judged() {
        // February 2019 (28 days): 25 met, 24 not.
        let recs = days_2019((2, 1), (2, 28), |d| d.day() > 3);
        assert_eq!(failures(&recs, (2, 1), (2, 28)), (true, vec![]));
        let recs = days_2019((2, 1), (2, 28), |d| d.day() > 4);
        let (ok, f) = failures(&recs, (2, 1), (2, 28));
        assert!(!ok);
        assert!(f.iter().all(|f| (f.present, f.needed) == (24, 25)), "{f:?}");
        // A week inside the month has no full month to judge.
        assert_eq!(failures(&recs, (2, 10), (2, 16)), (true, vec![]));
        // January–February, January complete: only February fails.
        let recs = days_2019((1, 1), (2, 28), |d| d.month() == 1 || d.day() > 4);
        let (_, f) = failures(&recs, (1, 1), (2, 28));
        assert!(f.iter().all(|f| f.scope == CaptureScope::Month { year: 2019, month: 2 }), "{f:?}");
    }

    #[test]
    fn a_year_of_months_at_their_minimum_misses_324() {
        // Every month at its minimum (27, February 25) leaves 7×27 + 4×27 +
        // 25 = 322 days: no month fails, the year does (322 < 324).
        let recs = days_2019((1, 1), (12, 31), |d| {
            let need = if d.month() == 2 { 25 } else { 27 };
            d.day() <= need
        });
        assert_eq!(recs.len(), 322);
        let (ok, f) = failures(&recs, (1, 1), (12, 31));
        assert!(!ok);
        assert_eq!(f.len(), 6);
        assert!(f.iter().all(|f| (f.scope, f.present, f.needed) == (CaptureScope::Year { year: 2019 }, 322, 324)));
        // Two more days in one month: 324, met.
        let at_minimum = |d: Date| d.day() <= if d.month() == 2 { 25 } else { 27 };
        let recs = days_2019((1, 1), (12, 31), |d| at_minimum(d) || (d.month() == 3 && d.day() <= 29));
        assert_eq!(failures(&recs, (1, 1), (12, 31)), (true, vec![]));
        // Not a whole year (to November): the year minimum does not apply.
        let recs = days_2019((1, 1), (11, 30), at_minimum);
        assert_eq!(failures(&recs, (1, 1), (11, 30)), (true, vec![]));
    }

    #[test]
    fn attainment_needs_all_six_within_grade_ii() {
        let limits = crate::LimitSet::Gb2012.grade2();
        // GB 3095-2012 grade II: annual 60/40/70/35, 24-hour 150/80/150/75, CO 4, O3-8h 160.
        let mut s = PeriodStats {
            so2: Some(60.0),
            no2: Some(40.0),
            pm10: Some(70.0),
            pm25: Some(35.4),
            co_p95: Some(4.0),
            o3_8h_p90: Some(160.0),
            daily_percentile: [Some(150.0), Some(80.0), Some(150.0), Some(4.0), Some(160.0), Some(75.0)],
            ..Default::default()
        };
        // Exactly at every limit (PM2.5 35.4 reports as 35): attains.
        assert_eq!(attains(&s, &limits), Some(true));
        s.pm25 = Some(35.5);
        assert_eq!(attains(&s, &limits), Some(false), "35.5 reports as 36 > 35");
        s.pm25 = Some(30.0);
        s.daily_percentile[5] = Some(76.0);
        assert_eq!(attains(&s, &limits), Some(false), "annual mean within, 95th percentile of days not");
        s.daily_percentile[5] = Some(75.0);
        s.daily_percentile[4] = Some(161.0);
        assert_eq!(attains(&s, &limits), Some(false));
        s.daily_percentile[4] = None;
        assert_eq!(attains(&s, &limits), None, "undecidable without O3");
    }
}
