//! Robust statistics the checks share, and the station's own baseline
//! against its neighbours.

use super::NeighbourParams;
use crate::time::HourLabel;

/// Median of a slice (reordered in place); `NaN` when empty.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if v.len() % 2 == 1 {
        m
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + m) / 2.0
    }
}

/// Median of the values present (not `NaN`) among `v`, using `buf`.
pub fn median_of_present(v: impl Iterator<Item = f64>, buf: &mut Vec<f64>) -> f64 {
    buf.clear();
    buf.extend(v.filter(|x| !x.is_nan()));
    median(buf)
}

/// Spearman rank correlation of `y` against its index (no ties in x; ties in
/// y get mean ranks). `NaN` for fewer than 3 points.
pub fn spearman_vs_time(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    if n < 3 {
        return f64::NAN;
    }
    let rank = |vals: Vec<f64>| {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let mut r = vec![0.0; n];
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && vals[idx[j + 1]] == vals[idx[i]] {
                j += 1;
            }
            for &k in &idx[i..=j] {
                r[k] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    };
    let rx = rank(points.iter().map(|p| p.0).collect());
    let ry = rank(points.iter().map(|p| p.1).collect());
    pearson(rx.iter().copied().zip(ry.iter().copied()))
}

/// Pearson correlation of pairs (both present); `NaN` for fewer than 3.
pub fn pearson(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in pairs.filter(|(x, y)| !x.is_nan() && !y.is_nan()) {
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    if n < 3.0 {
        return f64::NAN;
    }
    let cov = sxy - sx * sy / n;
    let (vx, vy) = (sxx - sx * sx / n, syy - sy * sy / n);
    if vx <= 0.0 || vy <= 0.0 { f64::NAN } else { cov / (vx * vy).sqrt() }
}

/// Least-squares slope of y on x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx > 0.0 { sxy / sxx } else { f64::NAN }
}

/// Upper tail of the binomial distribution, P(X ≥ k) for X ~ B(n, p).
pub fn binomial_tail(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let ln_choose =
        |n: usize, i: usize| -> f64 { (1..=i).map(|j| ((n - i + j) as f64).ln() - (j as f64).ln()).sum::<f64>() };
    (k..=n).map(|i| (ln_choose(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp()).sum::<f64>().min(1.0)
}

/// Least hours with both the station and its neighbours for a daily ratio.
const MIN_PAIRED_HOURS: usize = 12;
/// Floor of the robust spread of daily log ratios (a very steady station
/// would otherwise make any small change many deviations).
const MIN_SCALE: f64 = 0.08;

/// A station against its neighbours: daily log ratios and, around each day,
/// the station's own usual ratio (median) and spread (MAD), so a station that
/// always reads 20 % under its neighbours is not "divergent" for it.
pub struct Baseline<'a> {
    pub start: HourLabel,
    pub values: &'a [f64],
    pub reference: &'a [f64],
    pub offset: f64,
    /// Per day: station mean and neighbour mean over the hours both have.
    pub day_station: Vec<f64>,
    pub day_reference: Vec<f64>,
    /// Per day: ln((station + offset) / (reference + offset)).
    pub ratio: Vec<f64>,
    /// Per day: the usual log ratio and its robust spread (`NaN`: no baseline).
    pub base: Vec<f64>,
    pub scale: Vec<f64>,
}

impl<'a> Baseline<'a> {
    pub fn new(start: HourLabel, values: &'a [f64], reference: &'a [f64], p: &NeighbourParams) -> Baseline<'a> {
        let days = values.len() / 24;
        let off = p.offset;
        let (mut ds, mut dr, mut ratio) = (vec![f64::NAN; days], vec![f64::NAN; days], vec![f64::NAN; days]);
        for d in 0..days {
            let (mut n, mut s, mut r) = (0usize, 0.0, 0.0);
            for h in d * 24..d * 24 + 24 {
                let (a, b) = (values[h], reference[h]);
                if !a.is_nan() && !b.is_nan() {
                    n += 1;
                    s += a;
                    r += b;
                }
            }
            if n >= MIN_PAIRED_HOURS {
                ds[d] = s / n as f64;
                dr[d] = r / n as f64;
                ratio[d] = ((ds[d] + off) / (dr[d] + off)).ln();
            }
        }
        // The baseline moves in weekly steps: each week's is the median of the
        // window centred on it (a day-by-day window costs 7× for nothing).
        let (mut base, mut scale) = (vec![f64::NAN; days], vec![f64::NAN; days]);
        let half = p.baseline_days / 2;
        let mut buf = Vec::with_capacity(p.baseline_days);
        for w in (0..days).step_by(7) {
            let centre = (w + 3).min(days - 1);
            let (lo, hi) = (centre.saturating_sub(half), (centre + half).min(days - 1));
            let m = median_of_present(ratio[lo..=hi].iter().copied(), &mut buf);
            if buf.len() < p.min_baseline_days {
                continue;
            }
            for x in buf.iter_mut() {
                *x = (*x - m).abs();
            }
            let s = (1.4826 * median(&mut buf)).max(MIN_SCALE);
            for d in w..(w + 7).min(days) {
                base[d] = m;
                scale[d] = s;
            }
        }
        Baseline { start, values, reference, offset: off, day_station: ds, day_reference: dr, ratio, base, scale }
    }

    pub fn days(&self) -> usize {
        self.ratio.len()
    }

    pub fn usable(&self) -> bool {
        self.base.iter().any(|b| !b.is_nan())
    }

    /// Hour `h`'s ratio to the neighbours as a share of the usual one
    /// (1 = as usual), `NaN` when either side is missing or no baseline.
    pub fn hour_share(&self, h: usize) -> f64 {
        let (a, b) = (self.values[h], self.reference[h]);
        let base = self.base[h / 24];
        ((((a + self.offset) / (b + self.offset)).ln()) - base).exp()
    }

    /// Label of the first hour of day `d`, and of its last.
    pub fn day_labels(&self, d: usize) -> (HourLabel, HourLabel) {
        (self.start + 24 * d as i64, self.start + 24 * d as i64 + 23)
    }
}

/// Robust spread of `v`: 1.4826 × its median absolute deviation (the
/// standard deviation for normal data); reorders `v`. NaN when empty.
pub fn robust_spread(v: &mut [f64]) -> f64 {
    let m = median(v);
    for x in v.iter_mut() {
        *x = (*x - m).abs();
    }
    1.4826 * median(v)
}
