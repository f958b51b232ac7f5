//! Slow drift against the neighbours: the station's weekly ratio to them
//! falling steadily and put right at a service, one series at a time or
//! PM2.5 and PM10 together (docs/INTEGRITY.md, `drift`).

use super::stats::{Baseline, median_of_present, robust_spread, slope, spearman_vs_time};
use super::{Check, DriftParams, Hit, score};

/// Weekly log ratio of the station's and the neighbours' means over the
/// days both have (at least 4 a week). A week's mean is steady enough for a
/// 1 µg/m³ offset: the hourly 5 would flatten a summer drift from 15 to 9
/// µg/m³ into a 30 % fall.
fn weekly_ratios(base: &Baseline<'_>) -> Vec<f64> {
    (0..base.days() / 7)
        .map(|w| {
            let days = (w * 7..w * 7 + 7).filter(|&d| !base.ratio[d].is_nan());
            let (n, s, r) =
                days.fold((0, 0.0, 0.0), |(n, s, r), d| (n + 1, s + base.day_station[d], r + base.day_reference[d]));
            if n >= 4 { ((s / n as f64 + 1.0) / (r / n as f64 + 1.0)).ln() } else { f64::NAN }
        })
        .collect()
}

/// Level (median) and robust spread (at least 0.04) of the weeks in `r`
/// with a ratio; `None` under 3 of them.
fn weeks_level(weekly: &[f64], r: std::ops::Range<usize>, buf: &mut Vec<f64>) -> Option<(f64, f64)> {
    let m = median_of_present(weekly[r].iter().copied(), buf);
    if buf.len() < 3 {
        return None;
    }
    for x in buf.iter_mut() {
        *x = (*x - m).abs();
    }
    Some((m, (1.4826 * super::stats::median(buf)).max(0.04)))
}

/// One window of the weekly ratios, seen from the rules.
struct Window {
    rho: f64,
    /// The fitted ratio at the window's last week.
    end: f64,
    /// The level it is judged against (the weeks before; the weeks after
    /// at the start of the data) and whether that is the weeks after.
    level: (f64, f64),
    after: bool,
    /// Reset: the best of the four weeks after the window back near the
    /// level (a season's slow change of a station's mix does not jump back;
    /// the window may end a week early); not asked where the data end.
    reset: bool,
    /// The better of the two weeks after the window (`NaN`: none).
    first: f64,
    /// The level and spread of the `before_weeks` weeks after the window.
    level_after: Option<(f64, f64)>,
}

impl Window {
    fn new(weekly: &[f64], w: usize, len: usize, p: &DriftParams, buf: &mut Vec<f64>) -> Option<Window> {
        let weeks = weekly.len();
        let points: Vec<(f64, f64)> =
            (w..w + len).filter(|&k| !weekly[k].is_nan()).map(|k| (k as f64, weekly[k])).collect();
        if points.len() * 4 < len * 3 || weekly[w + len - 1].is_nan() {
            return None;
        }
        let level_after = weeks_level(weekly, w + len..(w + len + p.before_weeks).min(weeks), buf);
        let (after, level) = match weeks_level(weekly, w.saturating_sub(p.before_weeks)..w, buf) {
            Some(l) => (false, l),
            None => (true, level_after?),
        };
        let rho = spearman_vs_time(&points);
        let np = points.len() as f64;
        let (mx, my) = (points.iter().map(|q| q.0).sum::<f64>() / np, points.iter().map(|q| q.1).sum::<f64>() / np);
        let end = my + slope(&points) * ((w + len - 1) as f64 - mx);
        let next =
            |n: usize| weekly[(w + len).min(weeks)..(w + len + n).min(weeks)].iter().copied().filter(|x| !x.is_nan());
        let back = next(4).fold(f64::NAN, f64::max);
        let reset = next(4).count() < 2 || after || (back - level.0).exp() >= p.reset;
        Some(Window { rho, end, level, after, reset, first: next(2).fold(f64::NAN, f64::max), level_after })
    }

    /// The fall against the level before (with the reset), else against the
    /// level of the `before_weeks` weeks after: (decline, z, after), the
    /// first that holds at `ratio` and `z`.
    fn fall(&self, ratio: f64, z: f64) -> Option<(f64, f64, bool)> {
        let (decline, zz) = ((self.end - self.level.0).exp(), (self.level.0 - self.end) / self.level.1);
        if decline <= ratio && zz >= z && self.reset {
            return Some((decline, zz, self.after));
        }
        let (la, sa) = self.level_after?;
        let (decline, zz) = ((self.end - la).exp(), (la - self.end) / sa);
        (decline <= ratio && zz >= z).then_some((decline, zz, true))
    }
}

/// The station's week-to-week noise: robust spread of the steps between
/// consecutive weeks (1/√2 of it: a step holds two weeks' noise), at least 0.03.
fn step_noise_of(weekly: &[f64], buf: &mut Vec<f64>) -> f64 {
    buf.clear();
    buf.extend(weekly.windows(2).map(|x| x[1] - x[0]).filter(|x| !x.is_nan()));
    (robust_spread(buf) / std::f64::consts::SQRT_2).max(0.03)
}

/// The weekly ratio to the neighbours falling steadily over a window of
/// `min_weeks`–`weeks` weeks, measured against the station's level in the
/// `before_weeks` weeks before the window (the weeks after it when there
/// are too few before: a drift that was reset), not against the whole year:
/// a drift is a departure from where the station just was. The fall is
/// weighed against the week-to-week spread of those reference weeks.
/// A window whose level before is no guide (the station already low, a
/// season moving its ratio) counts too when its reset is a jump: the week
/// after it back up by `jump` spreads of the station's week-to-week steps,
/// the fall then judged against the level it comes back to.
pub fn drift(base: &Baseline<'_>, series: &'static str, p: &DriftParams) -> Vec<Hit> {
    let weekly = weekly_ratios(base);
    let weeks = weekly.len();
    let mut buf = Vec::new();
    let step_noise = step_noise_of(&weekly, &mut buf);
    let mut hits = Vec::new();
    let shortest = p.min_weeks.clamp(3, p.weeks.max(3));
    for len in (shortest..=p.weeks).step_by(2) {
        for w in 0..weeks.saturating_sub(len - 1) {
            let Some(win) = Window::new(&weekly, w, len, p, &mut buf) else {
                continue;
            };
            let (rho, end, level) = (win.rho, win.end, win.level);
            let decline = (end - level.0).exp();
            let z = (level.0 - end) / level.1;
            if rho <= p.rho && decline <= p.ratio && z >= p.z && win.reset {
                hits.push(drift_hit(
                    base,
                    series,
                    w,
                    len,
                    p,
                    decline,
                    z,
                    rho,
                    win.after,
                    (win.first - end) / step_noise,
                ));
                continue;
            }
            // The reset as a jump: a drift put right comes back within a
            // week, against the level it comes back to; a season's glide
            // turns round slowly.
            if p.jump > 0.0 && rho <= p.jump_rho {
                if win.first.is_nan() {
                    continue;
                }
                let Some((la, sa)) = win.level_after else {
                    continue;
                };
                let (fall, jump) = (la - end, win.first - end);
                let (decline, z) = ((-fall).exp(), fall / sa);
                if decline <= p.jump_ratio && z >= p.z && jump >= p.jump * step_noise {
                    hits.push(drift_hit(base, series, w, len, p, decline, z, rho, true, jump / step_noise));
                }
            }
        }
    }
    hits
}

#[allow(clippy::too_many_arguments)]
fn drift_hit(
    base: &Baseline<'_>,
    series: &'static str,
    w: usize,
    len: usize,
    p: &DriftParams,
    decline: f64,
    z: f64,
    rho: f64,
    after: bool,
    jump: f64,
) -> Hit {
    let strength = (decline.ln() / p.ratio.ln()) * (z / p.z).sqrt();
    Hit {
        check: Check::Drift,
        series,
        from: base.day_labels(w * 7).0,
        to: base.day_labels((w + len) * 7 - 1).1,
        score: score(strength),
        numbers: vec![
            ("weeks", len as f64),
            ("decline", decline),
            ("rho", rho),
            ("z", z),
            ("after", if after { 1.0 } else { 0.0 }),
            ("jump", jump),
        ],
    }
}

/// PM2.5 and PM10 drifting **together** and put right together: in the
/// same window both fall (rank correlation ≤ `both_rho`, the fitted end at
/// most `both_ratio` of the level before, with the reset, or of the level
/// after, `both_z` spreads below it) and both jump back (the better of the
/// two weeks after ≥ `jump` spreads of the series' week-to-week steps above
/// the fitted end). A worn pump, a clogging inlet or a flow calibration let
/// slide cut both channels alike and the service restores both at once; a
/// season's change of the local mix moves the coarse and the fine part
/// differently and turns round slowly. Two series agreeing are stronger
/// evidence than either alone, so each may be milder than one series needs.
/// The hit is PM2.5's (merged with its own drift findings), PM10's fall in
/// its numbers. Where the data end no jump can be seen: nothing counts.
pub fn drift_both(pm25: &Baseline<'_>, pm10: &Baseline<'_>, p: &DriftParams) -> Vec<Hit> {
    if p.both_ratio <= 0.0 || p.jump <= 0.0 {
        return Vec::new();
    }
    let (wa, wb) = (weekly_ratios(pm25), weekly_ratios(pm10));
    let weeks = wa.len().min(wb.len());
    let mut buf = Vec::new();
    let (na, nb) = (step_noise_of(&wa, &mut buf), step_noise_of(&wb, &mut buf));
    let mut hits = Vec::new();
    let shortest = p.min_weeks.clamp(3, p.weeks.max(3));
    for len in (shortest..=p.weeks).step_by(2) {
        for w in 0..weeks.saturating_sub(len - 1) {
            let mut seen = [(0.0, 0.0, false, 0.0, 0.0); 2];
            let mut ok = true;
            for (k, (weekly, noise)) in [(&wa, na), (&wb, nb)].into_iter().enumerate() {
                let fall = Window::new(weekly, w, len, p, &mut buf).and_then(|win| {
                    let jump = (win.first - win.end) / noise;
                    if !(win.rho <= p.both_rho && jump >= p.jump) {
                        return None;
                    }
                    let (d, z, after) = win.fall(p.both_ratio, p.both_z)?;
                    Some((d, z, after, win.rho, jump))
                });
                match fall {
                    Some(f) => seen[k] = f,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            let strength =
                |(d, z, ..): (f64, f64, bool, f64, f64)| (d.ln() / p.both_ratio.ln()) * (z / p.both_z).sqrt();
            let (a, b) = (seen[0], seen[1]);
            hits.push(Hit {
                check: Check::Drift,
                series: "pm25",
                from: pm25.day_labels(w * 7).0,
                to: pm25.day_labels((w + len) * 7 - 1).1,
                score: score(strength(a).min(strength(b))),
                numbers: vec![
                    ("weeks", len as f64),
                    ("decline", a.0),
                    ("rho", a.3),
                    ("z", a.1),
                    ("after", if a.2 { 1.0 } else { 0.0 }),
                    ("jump", a.4),
                    ("pm10_decline", b.0),
                    ("pm10_jump", b.4),
                ],
            });
        }
    }
    hits
}
