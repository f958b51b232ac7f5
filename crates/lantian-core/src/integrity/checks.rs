//! The checks. Each takes whole days of one series (and, where it compares,
//! the neighbours' median or the station's [`Baseline`]) and returns hits;
//! thresholds come from [`super::Params`] (documented in docs/INTEGRITY.md).

use super::stats::{Baseline, binomial_tail, median_of_present, pearson, robust_spread};
use super::{
    BunchingParams, Check, ControlParams, DivergenceParams, GapParams, Hit, PmRatioParams, ShortDropParams,
    StuckParams, score,
};
use crate::aqi::Indicator;
use crate::edition::Edition;
use crate::time::{HourLabel, date_of, day_of_label};

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (mut n, mut s) = (0usize, 0.0);
    for x in v.filter(|x| !x.is_nan()) {
        n += 1;
        s += x;
    }
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Hour-index ranges of the calendar months covered by `len` hours from
/// `start` (the first hour of a day).
pub(super) fn month_spans(start: HourLabel, len: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let first_day = day_of_label(start);
    let mut last_month = None;
    for d in 0..len / 24 {
        let m = date_of(first_day + d as i64).map(|x| (x.year(), x.month()));
        if m != last_month {
            out.push((d * 24, d * 24 + 24));
            last_month = m;
        } else if let Some(last) = out.last_mut() {
            last.1 = d * 24 + 24;
        }
    }
    out
}

/// Runs of days for which `flag` holds, one ordinary day allowed inside a
/// run: (first day, last day, flagged days).
fn runs(days: usize, flag: impl Fn(usize) -> bool) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut d = 0;
    while d < days {
        if !flag(d) {
            d += 1;
            continue;
        }
        let (a, mut b, mut n) = (d, d, 1);
        let mut e = d + 1;
        while e < days {
            if flag(e) {
                b = e;
                n += 1;
                e += 1;
            } else if e + 1 < days && flag(e + 1) {
                e += 1;
            } else {
                break;
            }
        }
        out.push((a, b, n));
        d = b + 1;
    }
    out
}

/// Days well below the neighbours, against the station's own usual ratio:
/// runs of days each `z` deviations below it, or (`long_days`) long runs of
/// days each `long_z` below it; the run's deviations together reach `z_run`.
pub fn divergence(base: &Baseline<'_>, series: &'static str, p: &DivergenceParams) -> Vec<Hit> {
    let mut hits = divergent_runs(base, series, p, p.z, p.min_days);
    if p.long_days > 0 && p.long_z < p.z {
        hits.extend(divergent_runs(base, series, p, p.long_z, p.long_days.max(p.min_days)));
    }
    hits
}

fn divergent_runs(
    base: &Baseline<'_>,
    series: &'static str,
    p: &DivergenceParams,
    z: f64,
    min_days: usize,
) -> Vec<Hit> {
    let flag = |d: usize| {
        let (x, b, s) = (base.ratio[d], base.base[d], base.scale[d]);
        !x.is_nan()
            && !b.is_nan()
            && (x - b).exp() <= p.ratio
            && (x - b) / s <= -z
            && base.day_reference[d] >= p.min_reference
    };
    let mut hits = Vec::new();
    for (a, b, n) in runs(base.days(), flag) {
        if n < min_days {
            continue;
        }
        let days: Vec<usize> = (a..=b).filter(|&d| flag(d)).collect();
        // The run's days together: a short run needs deeper days than a long one.
        let combined =
            days.iter().map(|&d| (base.base[d] - base.ratio[d]) / base.scale[d]).sum::<f64>() / (n as f64).sqrt();
        if combined < p.z_run {
            continue;
        }
        let share = mean(days.iter().map(|&d| (base.ratio[d] - base.base[d]).exp()));
        let strength = (1.0 - share) / (1.0 - p.ratio) * (n as f64 / p.min_days as f64).sqrt();
        hits.push(Hit {
            check: Check::Divergence,
            series,
            from: base.day_labels(a).0,
            to: base.day_labels(b).1,
            score: score(strength),
            numbers: vec![
                ("days", n as f64),
                ("share", share),
                ("station", mean(days.iter().map(|&d| base.day_station[d]))),
                ("reference", mean(days.iter().map(|&d| base.day_reference[d]))),
                ("usual", mean(days.iter().map(|&d| base.base[d].exp()))),
            ],
        });
    }
    hits
}

/// Deep drops of a few hours that recover, the neighbours unchanged
/// (spraying, fog cannons). Judged on the hourly log ratio to the neighbours
/// against its level in the hours just before and just after, not against a
/// daily baseline: a drop is a step down and a step back up that the
/// neighbours do not make. Its depth is weighed against the station's own
/// hour-to-hour noise in that calendar month (the robust spread of the
/// ratio's hourly steps), so a noisy station needs a deeper drop. A finding
/// needs `count` drops no more than `window_days` apart.
pub fn short_drops(base: &Baseline<'_>, series: &'static str, p: &ShortDropParams) -> Vec<Hit> {
    group_drops(base.start, drops(base, series, p), p)
}

/// One short drop: first and last hour (panel-relative), its depth (share
/// of the level around it), the neighbours' mean during it, the series.
#[derive(Clone, Debug)]
pub struct Drop {
    pub from: usize,
    pub to: usize,
    pub share: f64,
    pub reference: f64,
    pub series: &'static str,
}

/// The short drops of one series (see [`short_drops`]), not yet grouped.
pub fn drops(base: &Baseline<'_>, series: &'static str, p: &ShortDropParams) -> Vec<Drop> {
    let n = base.values.len();
    let off = base.offset;
    let x: Vec<f64> = (0..n).map(|h| ((base.values[h] + off) / (base.reference[h] + off)).ln()).collect();
    let noise = step_noise(base.start, &x);
    // Mean of the present hours among `r` (at least two of them).
    let level = |r: std::ops::Range<usize>| {
        let (k, s) = r.filter(|&h| !x[h].is_nan()).fold((0usize, 0.0), |(k, s), h| (k + 1, s + x[h]));
        if k >= 2 { s / k as f64 } else { f64::NAN }
    };
    let (deep, hour_low) = (p.ratio.ln(), 0.5 * p.ratio.ln());
    let mut drops: Vec<Drop> = Vec::new();
    let mut h = 1;
    while h < n {
        let pre = level(h.saturating_sub(3)..h);
        if x[h].is_nan() || pre.is_nan() || x[h] - pre > hour_low {
            h += 1;
            continue;
        }
        // Every hour of the drop well under the level before it (a missing
        // hour inside it does not end it).
        let low = |k: usize| k < n && !x[k].is_nan() && x[k] - pre <= hour_low;
        let mut k = h;
        while k < n && k - h <= p.max_hours && (low(k) || (x[k].is_nan() && low(k + 1))) {
            k += 1;
        }
        let len = k - h;
        if len < p.min_hours || len > p.max_hours {
            h += 1;
            continue;
        }
        let post = level(k..(k + 3).min(n));
        let inside = mean(x[h..k].iter().copied());
        let depth = (inside - pre).max(inside - post);
        let sigma = noise[h] * (1.0 / len as f64 + 0.4).sqrt();
        let reference = mean(base.reference[h..k].iter().copied());
        // The station fell, not the neighbours rose: a burst at the
        // neighbours (a fire, dust) leaves the same dip in the ratio.
        let around =
            mean(base.reference[h.saturating_sub(3)..h].iter().chain(&base.reference[k..(k + 3).min(n)]).copied());
        let rise = (reference + off) / (around + off);
        if !post.is_nan()
            && rise <= p.steady
            && depth <= deep
            && -depth / sigma >= p.z
            && post - pre >= p.recover.ln()
            && reference >= p.min_reference
        {
            drops.push(Drop { from: h, to: k - 1, share: depth.exp(), reference, series });
            h = k;
        } else {
            h += 1;
        }
    }
    drops
}

/// Drops of PM2.5 and PM10 counted together: spraying lowers both, and one
/// drop may clear the thresholds in one series and the next in the other.
/// A PM10 drop overlapping a PM2.5 drop is the same drop and counts once.
pub fn group_both(start: HourLabel, mut pm25: Vec<Drop>, pm10: Vec<Drop>, p: &ShortDropParams) -> Vec<Hit> {
    let other: Vec<Drop> =
        pm10.into_iter().filter(|d| !pm25.iter().any(|e| d.from <= e.to && e.from <= d.to)).collect();
    pm25.extend(other);
    pm25.sort_by_key(|d| d.from);
    group_drops(start, pm25, p)
}

/// `count` drops or more no more than `window_days` apart make a finding
/// (of PM2.5 when any of its drops is PM2.5's).
fn group_drops(start: HourLabel, drops: Vec<Drop>, p: &ShortDropParams) -> Vec<Hit> {
    let gap = p.window_days.max(1) as usize * 24;
    let mut hits = Vec::new();
    let mut i = 0;
    while i < drops.len() {
        let mut j = i;
        while j + 1 < drops.len() && drops[j + 1].from - drops[j].from <= gap {
            j += 1;
        }
        let count = j - i + 1;
        if count >= p.count {
            let group = &drops[i..=j];
            let depth = mean(group.iter().map(|d| d.share));
            let hours: usize = group.iter().map(|d| d.to - d.from + 1).sum();
            let strength = (count as f64 / p.count as f64).sqrt() * (1.0 - depth) / (1.0 - p.ratio);
            let series = if group.iter().any(|d| d.series == "pm25") { "pm25" } else { group[0].series };
            hits.push(Hit {
                check: Check::ShortDrop,
                series,
                from: start + group[0].from as i64,
                to: start + group.iter().map(|d| d.to).max().unwrap_or(group[0].to) as i64,
                score: score(strength),
                numbers: vec![
                    ("drops", count as f64),
                    ("hours", hours as f64),
                    ("share", depth),
                    ("reference", mean(group.iter().map(|d| d.reference))),
                ],
            });
        }
        i = j + 1;
    }
    hits
}

/// Per hour, the robust spread (1.4826 × MAD / √2, at least 0.03) of a
/// ratio series' hour-to-hour steps over its calendar month: the station's
/// own hourly noise against its neighbours.
pub(super) fn step_noise(start: HourLabel, x: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut buf = Vec::new();
    for (a, b) in month_spans(start, x.len()) {
        buf.clear();
        buf.extend((a.max(1)..b).map(|h| x[h] - x[h - 1]).filter(|d| !d.is_nan()));
        let m = super::stats::median(&mut buf);
        for d in buf.iter_mut() {
            *d = (*d - m).abs();
        }
        let s = 1.4826 * super::stats::median(&mut buf) / std::f64::consts::SQRT_2;
        out[a..b].fill(if s.is_nan() { f64::INFINITY } else { s.max(0.03) });
    }
    out
}

/// Per calendar month: gaps (runs of missing hours, outages excluded) that
/// fall when the neighbours read high. Under no selection a gap's mean rank
/// among the month's neighbour readings is uniform on 0–1 (mean 0.5,
/// variance 1/12); averaging within a gap only narrows it, so the z-score
/// below errs towards silence. The station's own readings at the hours just
/// before and after a gap (their rank among its month) weigh in by
/// `edge_weight`: withheld highs leave the edges of a gap high too, which
/// the neighbours, read elsewhere, show only in part.
pub fn selective_gaps(start: HourLabel, values: &[f64], reference: &[f64], p: &GapParams) -> Vec<Hit> {
    let mut hits = Vec::new();
    let (mut sorted, mut own) = (Vec::new(), Vec::new());
    // Mid-rank of `x` among `sorted` (0–1).
    fn rank_in(sorted: &[f64], x: f64) -> f64 {
        let below = sorted.partition_point(|&v| v < x);
        let upto = sorted.partition_point(|&v| v <= x);
        (below + upto) as f64 / 2.0 / sorted.len() as f64
    }
    for (a, b) in month_spans(start, values.len()) {
        sorted.clear();
        sorted.extend(reference[a..b].iter().copied().filter(|x| !x.is_nan()));
        own.clear();
        own.extend(values[a..b].iter().copied().filter(|x| !x.is_nan()));
        if sorted.len() < 24 * 7 || own.len() < 24 * 7 {
            continue;
        }
        sorted.sort_by(f64::total_cmp);
        own.sort_by(f64::total_cmp);
        let rank = |x: f64| rank_in(&sorted, x);
        let edge = |h: usize| if h >= a && h < b && !values[h].is_nan() { rank_in(&own, values[h]) } else { f64::NAN };
        let (mut ranks, mut hours, mut during) = (Vec::new(), 0usize, Vec::new());
        let mut h = a;
        while h < b {
            if !values[h].is_nan() {
                h += 1;
                continue;
            }
            let g = h;
            while h < b && values[h].is_nan() {
                h += 1;
            }
            if h - g > p.max_run_hours {
                continue;
            }
            let r = mean((g..h).map(|k| if reference[k].is_nan() { f64::NAN } else { rank(reference[k]) }));
            let e = mean([g.wrapping_sub(1), h].into_iter().map(edge));
            let r = if e.is_nan() || r.is_nan() { r } else { (1.0 - p.edge_weight) * r + p.edge_weight * e };
            if !r.is_nan() {
                ranks.push(r);
                hours += h - g;
                during.extend(reference[g..h].iter().copied());
            }
        }
        let n = ranks.len();
        if n < p.min_runs || hours < p.min_hours {
            continue;
        }
        let m = mean(ranks.iter().copied());
        let z = (m - 0.5) / (1.0 / (12.0 * n as f64)).sqrt();
        if m >= p.mean_rank && z >= p.z {
            hits.push(Hit {
                check: Check::SelectiveGaps,
                series: "pm25",
                from: start + a as i64,
                to: start + b as i64 - 1,
                score: score(z / p.z),
                numbers: vec![
                    ("gaps", n as f64),
                    ("hours", hours as f64),
                    ("rank", m),
                    ("z", z),
                    ("reference_gaps", mean(during.iter().copied())),
                    ("reference_month", mean(reference[a..b].iter().copied())),
                ],
            });
        }
    }
    hits
}

/// Daily values (20 hours or more, rounded as published) piling up just
/// under the IAQI 50 and 100 boundaries of the edition in force, a deficit
/// just above, in sliding windows.
pub fn bunching(start: HourLabel, series: &'static str, values: &[f64], p: &BunchingParams) -> Vec<Hit> {
    let indicator = match series {
        "pm25" => Indicator::Pm25Daily,
        "pm10" => Indicator::Pm10Daily,
        _ => return Vec::new(),
    };
    let first_day = day_of_label(start);
    let days = values.len() / 24;
    let daily: Vec<f64> = (0..days)
        .map(|d| {
            let day = &values[d * 24..d * 24 + 24];
            let n = day.iter().filter(|v| !v.is_nan()).count();
            if n >= 20 { crate::round::round_half_even(mean(day.iter().copied()), 0) } else { f64::NAN }
        })
        .collect();
    let mut hits = Vec::new();
    let (len, step) = (p.window_days.max(1) as usize, p.step_days.max(1) as usize);
    let mut w = 0;
    while w < days {
        let end = (w + len).min(days);
        let edition = date_of(first_day + w as i64).map_or(Edition::E2026, Edition::for_date);
        let breakpoints = indicator.breakpoints(edition);
        // IAQI 50 is breakpoint 1, IAQI 100 breakpoint 2.
        for level in p.levels.iter().filter_map(|&l| match l {
            50 => Some(1),
            100 => Some(2),
            _ => None,
        }) {
            let bound = breakpoints[level] as f64 / 1000.0;
            let under: Vec<usize> = (w..end).filter(|&d| daily[d] > bound - p.width && daily[d] <= bound).collect();
            let over = (w..end).filter(|&d| daily[d] > bound && daily[d] <= bound + p.width).count();
            if under.len() < p.min_count {
                continue;
            }
            let tail = binomial_tail(under.len(), under.len() + over, 0.5);
            if tail < p.p {
                hits.push(Hit {
                    check: Check::Bunching,
                    series,
                    from: start + 24 * under[0] as i64,
                    to: start + 24 * under[under.len() - 1] as i64 + 23,
                    score: score(tail.log10() / p.p.log10()),
                    numbers: vec![
                        ("boundary", bound),
                        ("under", under.len() as f64),
                        ("over", over as f64),
                        ("width", p.width),
                        ("p", tail),
                    ],
                });
            }
        }
        if end == days {
            break;
        }
        w += step;
    }
    hits
}

/// The same value for many hours.
pub fn stuck(start: HourLabel, series: &'static str, values: &[f64], p: &StuckParams) -> Vec<Hit> {
    // Runs of one value: (first hour, length, value).
    let mut runs = Vec::new();
    let mut h = 0;
    while h < values.len() {
        let v = values[h];
        if v.is_nan() {
            h += 1;
            continue;
        }
        let a = h;
        while h < values.len() && values[h] == v {
            h += 1;
        }
        runs.push((a, h - a, v));
    }
    let pm = series.starts_with("pm");
    // PM analysers' hourly noise makes a long exact repeat implausible
    // except at the bottom of their range (clean air reads 1–5 for a day);
    // gas analysers sit at their detection limit for days.
    let step = if series == "co" { 0.1 } else { 1.0 };
    let level = if pm { p.pm_level_steps } else { p.level_steps };
    let high = |v: f64| v / step >= level - 1e-9;
    let mut hits = Vec::new();
    for (j, &(a, len, v)) in runs.iter().enumerate() {
        let usual = if high(v) { p.hours.min(p.hours_any) } else { p.hours_any };
        let short = pm
            && high(v)
            && p.short_hours > 0
            && p.short_hours < usual
            && len >= p.short_hours
            && quiet(&runs, j, values, p, &high);
        let need = if short { p.short_hours } else { usual };
        if len >= need {
            let mut numbers = vec![("value", v), ("hours", len as f64)];
            if short {
                numbers.extend([("quiet_hours", p.quiet_hours as f64), ("quiet_days", p.quiet_days as f64)]);
            }
            hits.push(Hit {
                check: Check::Stuck,
                series,
                from: start + a as i64,
                to: start + (a + len) as i64 - 1,
                score: score(len as f64 / need as f64),
                numbers,
            });
        }
    }
    hits
}

/// Whether run `j` stands out in a quiet series, so that a shorter repeat
/// counts: a PM analyser's reading moves with the air and its own noise, so
/// a station that otherwise holds no value for `quiet_hours` (at
/// `quiet_share` of this one's level or more: low levels repeat more, one
/// step being a larger share of them) within `quiet_days` days does not hold
/// one for half a day by chance; a coarse analyser, or a logger resending
/// its last reading, makes such a repeat ordinary. The hour after the run
/// must be reported: a run ending in a gap is the start of an outage (the
/// last reading resent until the link dropped).
fn quiet(runs: &[(usize, usize, f64)], j: usize, values: &[f64], p: &StuckParams, high: &dyn Fn(f64) -> bool) -> bool {
    let (a, len, v) = runs[j];
    if values.get(a + len).is_none_or(|x| x.is_nan()) {
        return false;
    }
    let (lo, hi) = (a.saturating_sub(24 * p.quiet_days), a + len + 24 * p.quiet_days);
    !runs.iter().enumerate().any(|(k, &(b, n, w))| {
        k != j && n >= p.quiet_hours && high(w) && w >= p.quiet_share * v && b + n > lo && b < hi
    })
}

/// Days with many hours of PM2.5 above PM10 beyond tolerance.
pub fn pm25_above_pm10(start: HourLabel, pm25: &[f64], pm10: &[f64], p: &PmRatioParams) -> Vec<Hit> {
    let days = pm25.len().min(pm10.len()) / 24;
    let bad = |h: usize| !pm25[h].is_nan() && !pm10[h].is_nan() && pm25[h] > pm10[h] * p.factor + p.margin;
    let count: Vec<usize> = (0..days).map(|d| (d * 24..d * 24 + 24).filter(|&h| bad(h)).count()).collect();
    let mut hits = Vec::new();
    let mut d = 0;
    while d < days {
        if count[d] < p.hours_per_day {
            d += 1;
            continue;
        }
        let a = d;
        while d < days && count[d] >= p.hours_per_day {
            d += 1;
        }
        if d - a < p.min_days {
            continue;
        }
        let hours: Vec<usize> = (a * 24..d * 24).filter(|&h| bad(h)).collect();
        hits.push(Hit {
            check: Check::Pm25AbovePm10,
            series: "pm25",
            from: start + 24 * a as i64,
            to: start + 24 * d as i64 - 1,
            score: score(hours.len() as f64 / p.hours_per_day as f64),
            numbers: vec![
                ("days", (d - a) as f64),
                ("hours", hours.len() as f64),
                ("pm25", mean(hours.iter().map(|&h| pm25[h]))),
                ("pm10", mean(hours.iter().map(|&h| pm10[h]))),
            ],
        });
    }
    hits
}

/// Per calendar month, a control station's ratio to its city, its hourly
/// correlation with it and the spread of its hourly ratio to it, against the
/// same in its other months; without enough other months, only how closely
/// its hours follow the city.
pub fn control(start: HourLabel, values: &[f64], reference: &[f64], offset: f64, p: &ControlParams) -> Vec<Hit> {
    let spans = month_spans(start, values.len());
    let mut logs = Vec::new();
    // (log ratio of the means, hourly correlation, robust spread of the hourly log ratio)
    let months: Vec<(f64, f64, f64)> = spans
        .iter()
        .map(|&(a, b)| {
            let paired: Vec<(f64, f64)> = (a..b)
                .filter(|&h| !values[h].is_nan() && !reference[h].is_nan())
                .map(|h| (values[h], reference[h]))
                .collect();
            if paired.len() < 24 * 7 {
                return (f64::NAN, f64::NAN, f64::NAN);
            }
            let s = mean(paired.iter().map(|x| x.0));
            let r = mean(paired.iter().map(|x| x.1));
            logs.clear();
            logs.extend(paired.iter().map(|(s, r)| ((s + offset) / (r + offset)).ln()));
            (((s + offset) / (r + offset)).ln(), pearson(paired.iter().copied()), robust_spread(&mut logs))
        })
        .collect();
    let mut hits = Vec::new();
    let mut buf = Vec::new();
    for (i, &(a, b)) in spans.iter().enumerate() {
        let (m, c, _) = months[i];
        if m.is_nan() {
            continue;
        }
        let others = || months.iter().enumerate().filter(move |(j, x)| *j != i && !x.0.is_nan()).map(|(_, x)| *x);
        let d = months[i].2;
        if others().count() < p.min_months {
            // No usual to compare with (a station reporting a few months of
            // the year). Real control months hardly ever follow their city
            // this closely (national 2019: 4 of 1,870 within 0.07, none of
            // them without a usual), so the closeness alone is the evidence.
            if p.tracking_alone > 0.0 && d <= p.tracking_alone {
                hits.push(Hit {
                    check: Check::Control,
                    series: "pm25",
                    from: start + a as i64,
                    to: start + b as i64 - 1,
                    score: score(p.tracking_alone / d.max(1e-3)),
                    numbers: vec![("ratio", m.exp()), ("correlation", c), ("spread", d)],
                });
            }
            continue;
        }
        let m0 = median_of_present(others().map(|x| x.0), &mut buf);
        let c0 = median_of_present(others().map(|x| x.1), &mut buf);
        let d0 = median_of_present(others().map(|x| x.2), &mut buf);
        let jump = (m - m0).abs() / p.jump.ln();
        let rise = if c >= p.correlation && !c0.is_nan() { (c - c0) / p.correlation_rise } else { 0.0 };
        // Hours that follow the city's median within a few per cent: what a
        // control station copying its city looks like, whatever the level.
        let tracking =
            if p.tracking > 0.0 && d <= p.tracking && d0 > 0.0 { p.tracking_share * d0 / d.max(1e-3) } else { 0.0 };
        if jump >= 1.0 || rise >= 1.0 || tracking >= 1.0 {
            hits.push(Hit {
                check: Check::Control,
                series: "pm25",
                from: start + a as i64,
                to: start + b as i64 - 1,
                score: score(jump.max(rise).max(tracking)),
                numbers: vec![
                    ("ratio", m.exp()),
                    ("usual", m0.exp()),
                    ("correlation", c),
                    ("usual_correlation", c0),
                    ("spread", d),
                    ("usual_spread", d0),
                ],
            });
        }
    }
    hits
}
