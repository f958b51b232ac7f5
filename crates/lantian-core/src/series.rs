//! From hourly values to daily statistics for one monitoring station:
//! daily means with the data-capture rule, 8-hour O3 moving means, the daily
//! maximum 8-hour mean (MDA8) and the daily maximum 1-hour O3.
//!
//! A day is passed as its 24 hour-ending slots (labels 1..=24, the last being
//! label 0 of the next date), `f64::NAN` marking a missing hour.

use crate::pollutant::Pollutant;

/// Data-capture and window rules (GB 3095 Table 4, HJ 663 §6). Every field is
/// a named setting so a stricter or looser provincial rule can be applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CaptureRules {
    /// Minimum valid hours for a daily mean (≥ 20).
    pub daily_min_hours: usize,
    /// Minimum valid hours in an 8-hour O3 window (≥ 6 of 8).
    pub o3_window_min_hours: usize,
    /// Minimum valid 8-hour windows among the 17 of a day for MDA8 (≥ 14).
    pub mda8_min_windows: usize,
    /// MDA8 exception: with fewer windows, a maximum above this limit is
    /// still valid (the Grade II 8-hour limit, 160 μg/m³, in both editions).
    pub mda8_exception_limit: f64,
    /// Minimum valid hours for the daily maximum 1-hour O3 (2012 daily
    /// indicator). HJ 663 gives none; the daily-mean minimum is used.
    pub o3_1h_max_min_hours: usize,
}

impl Default for CaptureRules {
    fn default() -> Self {
        CaptureRules {
            daily_min_hours: 20,
            o3_window_min_hours: 6,
            mda8_min_windows: 14,
            mda8_exception_limit: 160.0,
            o3_1h_max_min_hours: 20,
        }
    }
}

/// Mean of the valid values and how many there were.
pub fn mean_count(values: &[f64]) -> (f64, usize) {
    let mut sum = 0.0;
    let mut n = 0;
    for &v in values {
        if !v.is_nan() {
            sum += v;
            n += 1;
        }
    }
    (if n == 0 { f64::NAN } else { sum / n as f64 }, n)
}

/// Daily (24-hour) mean: mean of the valid hours, valid with at least
/// `rules.daily_min_hours` of them (GB 3095 Table 4). Unrounded.
pub fn daily_mean(day: &[f64; 24], rules: &CaptureRules) -> Option<f64> {
    let (m, n) = mean_count(day);
    (n >= rules.daily_min_hours).then_some(m)
}

/// 8-hour O3 moving means at labels 1..=24 of a day, as the network
/// publishes `O3_8h`: the window ending at label h covers labels
/// max(1, h−7)..=h of the same day (shortened early in the day rather than
/// reaching into the previous one; measured, `docs/STANDARDS.md`). A full
/// window needs `o3_window_min_hours` valid hours; a shortened one of length
/// L needs L − (8 − `o3_window_min_hours`).
pub fn o3_8h_windows(day: &[f64; 24], rules: &CaptureRules) -> [f64; 24] {
    let mut out = [f64::NAN; 24];
    let allowed_missing = 8usize.saturating_sub(rules.o3_window_min_hours);
    for end in 0..24usize {
        let start = end.saturating_sub(7usize);
        let window = &day[start..=end];
        let (m, n) = mean_count(window);
        if n > 0 && n + allowed_missing >= window.len() {
            out[end] = m;
        }
    }
    out
}

/// Daily maximum 8-hour mean (HJ 663 §6.1.2): the largest valid 8-hour mean
/// among the 17 windows ending at labels 8..=24, valid with at least
/// `mda8_min_windows` valid windows, or with fewer when the largest already
/// exceeds `mda8_exception_limit`. Returns the unrounded value and the count
/// of valid windows.
pub fn mda8(day: &[f64; 24], rules: &CaptureRules) -> (Option<f64>, usize) {
    // Only the 17 full windows (ending at labels 8..=24) count: the same
    // means as `o3_8h_windows` gives there, without the seven shortened ones.
    // The windows are summed side by side, hour k of every window in turn
    // (independent sums the compiler can run together; one after another
    // each was a chain of dependent additions): each window still adds its
    // valid hours in order from 0.0, as `mean_count` does. A missing hour
    // adds +0.0, which leaves such a sum unchanged (it is never -0.0).
    let allowed_missing = 8usize.saturating_sub(rules.o3_window_min_hours);
    let (mut sums, mut counts) = ([0.0f64; 17], [0usize; 17]);
    for k in 0..8 {
        for (w, (sum, count)) in sums.iter_mut().zip(counts.iter_mut()).enumerate() {
            let v = day[w + k];
            let valid = !v.is_nan();
            *sum += if valid { v } else { 0.0 };
            *count += usize::from(valid);
        }
    }
    let (mut max, mut n) = (f64::NEG_INFINITY, 0usize);
    for (&sum, &k) in sums.iter().zip(&counts) {
        if k > 0 && k + allowed_missing >= 8 {
            n += 1;
            max = max.max(sum / k as f64);
        }
    }
    let valid = n >= rules.mda8_min_windows || (n > 0 && Pollutant::O3.report(max) > rules.mda8_exception_limit);
    (valid.then_some(max), n)
}

/// Daily maximum 1-hour O3 (a daily indicator under HJ 633-2012 only).
pub fn o3_1h_max(day: &[f64; 24], rules: &CaptureRules) -> Option<f64> {
    let (mut max, mut n) = (f64::NEG_INFINITY, 0usize);
    for &v in day {
        if !v.is_nan() {
            n += 1;
            max = max.max(v);
        }
    }
    (n >= rules.o3_1h_max_min_hours).then_some(max)
}

/// One station's (or area's) statistics for one day, unrounded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DailyValues {
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub pm10: Option<f64>,
    pub pm25: Option<f64>,
    pub co: Option<f64>,
    pub o3_8h: Option<f64>,
    pub o3_1h_max: Option<f64>,
    /// Valid hours of the day per pollutant, in `Pollutant::ALL` order.
    pub hours: [u8; 6],
    /// PM10 and PM2.5 without the hours a deduction event affected, when
    /// one touched the day (`crate::deduct`); the values above keep them.
    pub deducted: Option<crate::deduct::Deducted>,
}

impl DailyValues {
    /// The daily statistic used for `p` (O3: MDA8).
    pub fn get(&self, p: Pollutant) -> Option<f64> {
        match p {
            Pollutant::So2 => self.so2,
            Pollutant::No2 => self.no2,
            Pollutant::Pm10 => self.pm10,
            Pollutant::Pm25 => self.pm25,
            Pollutant::Co => self.co,
            Pollutant::O3 => self.o3_8h,
        }
    }

    pub fn set(&mut self, p: Pollutant, v: Option<f64>) {
        match p {
            Pollutant::So2 => self.so2 = v,
            Pollutant::No2 => self.no2 = v,
            Pollutant::Pm10 => self.pm10 = v,
            Pollutant::Pm25 => self.pm25 = v,
            Pollutant::Co => self.co = v,
            Pollutant::O3 => self.o3_8h = v,
        }
    }

    /// Daily AQI input with every concentration at reporting precision.
    pub fn aqi_input(&self) -> crate::aqi::DailyInput {
        let r = |p: Pollutant, v: Option<f64>| v.map(|x| p.report(x));
        crate::aqi::DailyInput {
            so2: r(Pollutant::So2, self.so2),
            no2: r(Pollutant::No2, self.no2),
            pm10: r(Pollutant::Pm10, self.pm10),
            pm25: r(Pollutant::Pm25, self.pm25),
            co: r(Pollutant::Co, self.co),
            o3_8h: r(Pollutant::O3, self.o3_8h),
            o3_1h_max: r(Pollutant::O3, self.o3_1h_max),
        }
    }
}

/// All daily statistics of one station-day from its six hourly series
/// (in `Pollutant::ALL` order).
/// `station_day` with the hours `affected` removed from PM10 and PM2.5 for
/// the deducted values (the day's own values keep every hour).
pub fn station_day_deducted(hours: &[[f64; 24]; 6], affected: &[bool; 24], rules: &CaptureRules) -> DailyValues {
    station_day_deducted_refs(hours.each_ref(), affected, rules)
}

/// `station_day_deducted` of six series held anywhere.
pub fn station_day_deducted_refs(hours: [&[f64; 24]; 6], affected: &[bool; 24], rules: &CaptureRules) -> DailyValues {
    let mut out = station_day_refs(hours, rules);
    let without = |p: Pollutant| {
        let k = Pollutant::ALL.iter().position(|x| *x == p).expect("pollutant");
        let day: [f64; 24] = std::array::from_fn(|h| if affected[h] { f64::NAN } else { hours[k][h] });
        daily_mean(&day, rules)
    };
    out.deducted = Some(crate::deduct::Deducted { pm10: without(Pollutant::Pm10), pm25: without(Pollutant::Pm25) });
    out
}

pub fn station_day(hours: &[[f64; 24]; 6], rules: &CaptureRules) -> DailyValues {
    station_day_refs(hours.each_ref(), rules)
}

/// `station_day` of six series held anywhere (a caller reading them in
/// place need not copy each day out first).
pub fn station_day_refs(hours: [&[f64; 24]; 6], rules: &CaptureRules) -> DailyValues {
    let mut out = DailyValues::default();
    // The six series' sums side by side, hour by hour (six independent
    // chains of additions rather than one after another), each adding its
    // valid hours in order from 0.0 as `mean_count` does; a missing hour
    // adds +0.0, which leaves such a sum unchanged (it is never -0.0).
    let (mut sums, mut counts) = ([0.0f64; 6], [0usize; 6]);
    for h in 0..24 {
        let hour = hours.map(|s| s[h]);
        for ((sum, count), v) in sums.iter_mut().zip(counts.iter_mut()).zip(hour) {
            let valid = !v.is_nan();
            *sum += if valid { v } else { 0.0 };
            *count += usize::from(valid);
        }
    }
    for (k, p) in Pollutant::ALL.into_iter().enumerate() {
        let n = counts[k];
        out.hours[k] = n as u8;
        if p == Pollutant::O3 {
            out.o3_8h = mda8(hours[k], rules).0;
            out.o3_1h_max = o3_1h_max(hours[k], rules);
        } else {
            let m = if n == 0 { f64::NAN } else { sums[k] / n as f64 };
            out.set(p, (n >= rules.daily_min_hours).then_some(m));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    const N: f64 = f64::NAN;

    fn day_from(f: impl Fn(usize) -> f64) -> [f64; 24] {
        std::array::from_fn(f)
    }

    #[test]
    fn daily_mean_needs_20_hours() {
        let r = CaptureRules::default();
        let full = day_from(|i| i as f64);
        assert_eq!(daily_mean(&full, &r), Some(11.5));
        let twenty = day_from(|i| if i < 4 { N } else { 10.0 });
        assert_eq!(daily_mean(&twenty, &r), Some(10.0));
        let nineteen = day_from(|i| if i < 5 { N } else { 10.0 });
        assert_eq!(daily_mean(&nineteen, &r), None);
    }

    #[test]
    fn eight_hour_windows() {
        let r = CaptureRules::default();
        let day = day_from(|i| (i + 1) as f64);
        let w = o3_8h_windows(&day, &r);
        assert_eq!(w[0], 1.0); // shortened: label 1 alone
        assert_eq!(w[3], 2.5); // labels 1..4
        assert_eq!(w[7], 4.5); // labels 1..8
        assert_eq!(w[23], 20.5); // labels 17..24
        // Two missing of eight is still valid, three is not.
        let mut d2 = day;
        d2[16] = N;
        d2[17] = N;
        assert!(!o3_8h_windows(&d2, &r)[23].is_nan());
        d2[18] = N;
        assert!(o3_8h_windows(&d2, &r)[23].is_nan());
    }

    #[test]
    fn mda8_takes_windows_ending_8_to_24() {
        let r = CaptureRules::default();
        // A high value at label 2 only affects windows ending 2..9.
        let mut day = [50.0; 24];
        day[1] = 450.0;
        let (v, n) = mda8(&day, &r);
        assert_eq!(n, 17);
        assert_eq!(v, Some(100.0)); // window 1..8 = (7·50 + 450)/8
    }

    #[test]
    fn mda8_14_of_17_rule_and_exception() {
        let r = CaptureRules::default();
        // Labels 17..=24 missing: windows ending 19..=24 keep ≤ 5 hours.
        let low = day_from(|i| if i >= 16 { N } else { 100.0 });
        let (v, n) = mda8(&low, &r);
        // Windows ending 8..18 have ≥ 6 valid hours: 11 windows < 14 → invalid.
        assert_eq!(n, 11);
        assert_eq!(v, None);
        // Same gap but high ozone above 160: the exception keeps it valid.
        let high = day_from(|i| if i >= 16 { N } else { 200.0 });
        assert_eq!(mda8(&high, &r), (Some(200.0), 11));
        // Exactly 160 is not above the limit.
        let edge = day_from(|i| if i >= 16 { N } else { 160.0 });
        assert_eq!(mda8(&edge, &r).0, None);
        // Labels 1..=20 valid: windows ending 8..=22 keep ≥ 6 hours → 15.
        let ok = day_from(|i| if i >= 20 { N } else { 100.0 });
        assert_eq!(mda8(&ok, &r), (Some(100.0), 15));
        let fourteen = day_from(|i| if i >= 19 { N } else { 100.0 });
        assert_eq!(mda8(&fourteen, &r), (Some(100.0), 14));
        let thirteen = day_from(|i| if i >= 18 { N } else { 100.0 });
        assert_eq!(mda8(&thirteen, &r), (None, 13));
    }

    #[test]
    fn mda8_is_the_best_of_the_full_windows() {
        // The windows `o3_8h_windows` gives, ending at labels 8..=24.
        let reference = |day: &[f64; 24], r: &CaptureRules| {
            let windows = o3_8h_windows(day, r);
            let (mut max, mut n) = (f64::NEG_INFINITY, 0usize);
            for &w in &windows[7..] {
                if !w.is_nan() {
                    n += 1;
                    max = max.max(w);
                }
            }
            let valid = n >= r.mda8_min_windows || (n > 0 && Pollutant::O3.report(max) > r.mda8_exception_limit);
            (valid.then_some(max), n)
        };
        let mut x = 7u64;
        for i in 0..20_000 {
            let r = CaptureRules { o3_window_min_hours: 4 + i % 5, ..CaptureRules::default() };
            let day: [f64; 24] = std::array::from_fn(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if (x >> 60) < 2 + (i % 7) as u64 { N } else { (x >> 33) as f64 / 1e7 }
            });
            let (a, b) = (mda8(&day, &r), reference(&day, &r));
            assert_eq!(a.1, b.1);
            assert_eq!(a.0.map(f64::to_bits), b.0.map(f64::to_bits));
        }
    }

    #[test]
    fn station_day_is_the_per_series_rules() {
        // Each statistic as the single-series functions give it, bit for bit.
        let mut x = 11u64;
        for i in 0..5_000 {
            let r = CaptureRules { daily_min_hours: 18 + i % 5, ..CaptureRules::default() };
            let hours: [[f64; 24]; 6] = std::array::from_fn(|_| {
                std::array::from_fn(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if (x >> 60) < (i % 9) as u64 { N } else { (x >> 33) as f64 / 1e6 }
                })
            });
            let d = station_day(&hours, &r);
            for (k, p) in Pollutant::ALL.into_iter().enumerate() {
                assert_eq!(d.hours[k] as usize, mean_count(&hours[k]).1);
                let want = if p == Pollutant::O3 { mda8(&hours[k], &r).0 } else { daily_mean(&hours[k], &r) };
                assert_eq!(d.get(p).map(f64::to_bits), want.map(f64::to_bits), "{p:?}");
            }
            assert_eq!(d.o3_1h_max, o3_1h_max(&hours[4], &r));
        }
    }

    #[test]
    fn station_day_fills_everything() {
        let r = CaptureRules::default();
        let hours = [
            [5.0; 24],
            [30.0; 24],
            [80.0; 24],
            [0.8; 24],
            day_from(|i| if i == 14 { 220.0 } else { 90.0 }),
            [40.0; 24],
        ];
        let d = station_day(&hours, &r);
        assert_eq!(d.so2, Some(5.0));
        assert_eq!(d.pm25, Some(40.0));
        assert_eq!(d.o3_1h_max, Some(220.0));
        assert_eq!(d.o3_8h, Some(106.25));
        assert_eq!(d.hours, [24; 6]);
    }
}
