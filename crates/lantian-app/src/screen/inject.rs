//! The injector: puts the signatures of real tampering and faults into real
//! data at chosen stations and periods, with random strengths and durations
//! like the real cases, screens, and counts what was found. It measures the
//! checks; it is also what the tests assert on (docs/INTEGRITY.md has the
//! figures and the command).

use super::panel::{self, Panel};
use super::{data_days, finding_id, load_range, screen_panel, screen_store, station_months};
use crate::{Cell, Col, Table};
use anyhow::{Result, bail};
use lantian_core::Edition;
use lantian_core::aqi::Indicator;
use lantian_core::integrity::{Check, Params};
use lantian_core::time::{DayNumber, HourLabel, date_of, day_of_label};
use lantian_store::Store;
use std::collections::HashSet;

/// A signature, after the cases in `standards/data-integrity.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Samplers stuffed (Xi'an 2016): PM cut to 50–70 % for 3–30 days.
    Gauze,
    /// Water spraying or fog cannons: 3–8 drops to 20–40 % of 2–6 hours within
    /// 2–4 weeks, on days the station reads high (daytime PM2.5 ≥ [`SPRAY_LEVEL`]).
    Spraying,
    /// The month's highest 10–20 % of hours deleted.
    WithheldHighs,
    /// Days 1–30 µg/m³ over the IAQI-100 boundary reported just under it, for 3 months.
    PushedUnder,
    /// One PM analyser repeating its value for 12–72 hours.
    Stuck,
    /// The PM10 sampler alone obstructed (30–50 %) for 3–10 days.
    Pm25OverPm10,
    /// Calibration let slide: the ratio falls linearly to 50–65 % over 8–16 weeks, then is reset.
    Drift,
    /// A control station reporting its city's level (×0.9–1.1) for a month.
    ControlLikeCity,
}

impl Pattern {
    pub const ALL: [Pattern; 8] = [
        Pattern::Gauze,
        Pattern::Spraying,
        Pattern::WithheldHighs,
        Pattern::PushedUnder,
        Pattern::Stuck,
        Pattern::Pm25OverPm10,
        Pattern::Drift,
        Pattern::ControlLikeCity,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Pattern::Gauze => "gauze",
            Pattern::Spraying => "spraying",
            Pattern::WithheldHighs => "withheld_highs",
            Pattern::PushedUnder => "pushed_under",
            Pattern::Stuck => "stuck",
            Pattern::Pm25OverPm10 => "pm25_over_pm10",
            Pattern::Drift => "drift",
            Pattern::ControlLikeCity => "control_like_city",
        }
    }

    pub fn parse(s: &str) -> Option<Pattern> {
        Pattern::ALL.into_iter().find(|p| p.key() == s)
    }

    /// The checks whose finding counts as finding this pattern.
    pub fn found_by(self) -> &'static [Check] {
        match self {
            Pattern::Gauze => &[Check::Divergence, Check::Drift],
            Pattern::Spraying => &[Check::ShortDrop, Check::Divergence],
            Pattern::WithheldHighs => &[Check::SelectiveGaps],
            Pattern::PushedUnder => &[Check::Bunching],
            Pattern::Stuck => &[Check::Stuck],
            Pattern::Pm25OverPm10 => &[Check::Pm25AbovePm10, Check::Divergence],
            Pattern::Drift => &[Check::Drift, Check::Divergence],
            Pattern::ControlLikeCity => &[Check::Control],
        }
    }
}

/// SplitMix64: small, seedable, the same stream on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `a..b`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `a..=b`.
    pub fn int(&mut self, a: usize, b: usize) -> usize {
        a + (self.next_u64() % (b - a + 1) as u64) as usize
    }
}

/// Daytime PM2.5 (µg/m³) from which a day is worth spraying: above the
/// IAQI-50 boundary. A drop from 8 to 3 µg/m³ changes no ranking, and it
/// is no more visible than the hourly noise at that level.
pub const SPRAY_LEVEL: f64 = 35.0;

/// One injected episode.
#[derive(Clone, Debug)]
pub struct Episode {
    pub pattern: Pattern,
    pub station: usize,
    pub from: HourLabel,
    pub to: HourLabel,
    /// What was drawn (factor, hours, series), for the list of misses.
    pub strength: String,
}

/// Hour indexes of the panel for days `a..b` (panel-relative day numbers).
fn hours(a: usize, b: usize) -> std::ops::Range<usize> {
    a * 24..b * 24
}

/// Put `pattern` into station `i` of the panel, in `days` (panel-relative
/// day range where it may go). `None` when it cannot go there (too little
/// data, no neighbours, nothing to push under a boundary).
fn inject(
    panel: &mut Panel,
    near: &[Vec<usize>],
    pattern: Pattern,
    i: usize,
    days: (usize, usize),
    rng: &mut Rng,
) -> Option<Episode> {
    let span = days.1 - days.0;
    let pick =
        |rng: &mut Rng, len: usize| -> Option<usize> { (span > len).then(|| days.0 + rng.int(0, span - len - 1)) };
    let start0 = panel.start;
    let label = move |h: usize| start0 + h as i64;
    let ep = |a: usize, b: usize, strength: String| {
        Some(Episode { pattern, station: i, from: label(a), to: label(b - 1), strength })
    };
    let scale = |p: &mut Panel, r: std::ops::Range<usize>, f: &dyn Fn(usize) -> f64| {
        for h in r {
            p.pm25[i][h] = (p.pm25[i][h] * f(h)).round();
            p.pm10[i][h] = (p.pm10[i][h] * f(h)).round();
        }
    };
    match pattern {
        Pattern::Gauze => {
            let len = rng.int(3, 30);
            let a = pick(rng, len)?;
            let f = rng.uniform(0.5, 0.7);
            scale(panel, hours(a, a + len), &|_| f);
            ep(a * 24, (a + len) * 24, format!("x{f:.2}"))
        }
        Pattern::Spraying => {
            let len = rng.int(14, 28);
            let a = pick(rng, len)?;
            // Spraying is worth it only when the station reads high: the
            // drops go on days whose daytime PM2.5 is at least SPRAY_LEVEL.
            let mut worth: Vec<usize> = (a..a + len)
                .filter(|&d| {
                    let day = &panel.pm25[i][d * 24 + 8..d * 24 + 24];
                    let v: Vec<f64> = day.iter().copied().filter(|x| !x.is_nan()).collect();
                    v.len() >= 8 && v.iter().sum::<f64>() / v.len() as f64 >= SPRAY_LEVEL
                })
                .collect();
            if worth.len() < 3 {
                return None;
            }
            let n = rng.int(3, 8).min(worth.len());
            for k in 0..n {
                let j = rng.int(k, worth.len() - 1);
                worth.swap(k, j);
            }
            let mut days = worth[..n].to_vec();
            days.sort_unstable();
            let (mut first, mut last, mut sum) = (usize::MAX, 0, 0.0);
            for d in days {
                let (start, dur) = (d * 24 + rng.int(8, 18), rng.int(2, 6));
                let f = rng.uniform(0.2, 0.4);
                scale(panel, start..start + dur, &|_| f);
                first = first.min(start);
                last = last.max(start + dur);
                sum += f;
            }
            ep(first, last, format!("{n} drops x{:.2}", sum / n as f64))
        }
        Pattern::WithheldHighs => {
            let month = months(panel, days);
            let (a, b) = month[rng.int(0, month.len().checked_sub(1)?)];
            let mut vals: Vec<f64> = panel.pm25[i][a..b].iter().copied().filter(|v| !v.is_nan()).collect();
            if vals.len() < 24 * 14 {
                return None;
            }
            vals.sort_by(f64::total_cmp);
            let cut = vals[((vals.len() as f64) * rng.uniform(0.8, 0.9)) as usize];
            for h in a..b {
                if panel.pm25[i][h] >= cut {
                    panel.pm25[i][h] = f64::NAN;
                    panel.pm10[i][h] = f64::NAN;
                }
            }
            ep(a, b, format!(">= {cut}"))
        }
        Pattern::PushedUnder => {
            let a = pick(rng, 91)?;
            let edition = date_of(day_of_label(label(a * 24))).map_or(Edition::E2026, Edition::for_date);
            let bound = Indicator::Pm25Daily.breakpoints(edition)[2] as f64 / 1000.0;
            let reach = rng.uniform(15.0, 30.0);
            let mut moved = Vec::new();
            for d in a..a + 91 {
                let day = &panel.pm25[i][d * 24..d * 24 + 24];
                let valid: Vec<f64> = day.iter().copied().filter(|v| !v.is_nan()).collect();
                if valid.len() < 20 {
                    continue;
                }
                let mean = valid.iter().sum::<f64>() / valid.len() as f64;
                if mean.round() > bound && mean <= bound + reach {
                    let target = bound - rng.uniform(0.0, 4.4);
                    for h in d * 24..d * 24 + 24 {
                        panel.pm25[i][h] *= target / mean;
                    }
                    moved.push(d);
                }
            }
            // Fewer than 6 days moved is no manipulation worth the name.
            if moved.len() < 6 {
                return None;
            }
            ep(moved[0] * 24, moved[moved.len() - 1] * 24 + 24, format!("{} days", moved.len()))
        }
        Pattern::Stuck => {
            let len = rng.int(12, 72);
            let a = pick(rng, len / 24 + 2)? * 24 + rng.int(0, 23);
            let pm25 = rng.next_u64().is_multiple_of(2);
            let series = if pm25 { &mut panel.pm25[i] } else { &mut panel.pm10[i] };
            let v = if series[a].is_nan() { 30.0 } else { series[a] };
            series[a..a + len].fill(v);
            ep(a, a + len, format!("{} = {v} for {len} h", if pm25 { "pm25" } else { "pm10" }))
        }
        Pattern::Pm25OverPm10 => {
            let len = rng.int(3, 10);
            let a = pick(rng, len)?;
            let f = rng.uniform(0.3, 0.5);
            for h in hours(a, a + len) {
                panel.pm10[i][h] = (panel.pm10[i][h] * f).round();
            }
            ep(a * 24, (a + len) * 24, format!("pm10 x{f:.2}"))
        }
        Pattern::Drift => {
            let len = 7 * rng.int(8, 16);
            let a = pick(rng, len)?;
            let end = rng.uniform(0.5, 0.65);
            let r = hours(a, a + len);
            let (s, n) = (r.start, r.len() as f64);
            scale(panel, r, &|h| 1.0 - (1.0 - end) * (h - s) as f64 / n);
            ep(a * 24, (a + len) * 24, format!("to x{end:.2}"))
        }
        Pattern::ControlLikeCity => {
            if !panel.stations[i].control || near[i].is_empty() {
                return None;
            }
            let month = months(panel, days);
            let (a, b) = month[rng.int(0, month.len().checked_sub(1)?)];
            let r25 = panel::reference(&panel.pm25, &near[i], panel.len)?;
            let r10 = panel::reference(&panel.pm10, &near[i], panel.len)?;
            let f = rng.uniform(0.9, 1.1);
            for h in a..b {
                let noise = 1.0 + rng.uniform(-0.08, 0.08);
                panel.pm25[i][h] = (r25[h] * f * noise).round();
                panel.pm10[i][h] = (r10[h] * f * noise).round();
            }
            ep(a, b, format!("city x{f:.2}"))
        }
    }
}

/// Whether the series a pattern alters had data in at least half of the
/// episode's hours before it was put in: cutting or scaling hours that
/// were never reported changes nothing, and such an episode would count
/// as missed (the national year has stations with PM2.5 and no PM10 for
/// weeks). Patterns that make or remove data themselves need nothing.
fn had_data(pattern: Pattern, start: HourLabel, e: &Episode, pm25: &[f64], pm10: &[f64]) -> bool {
    let series: &[&[f64]] = match pattern {
        Pattern::Gauze | Pattern::Drift | Pattern::Spraying | Pattern::Pm25OverPm10 => &[pm25, pm10],
        Pattern::WithheldHighs | Pattern::PushedUnder | Pattern::Stuck | Pattern::ControlLikeCity => return true,
    };
    let (a, b) = ((e.from - start) as usize, (e.to - start) as usize + 1);
    series.iter().all(|v| v[a..b.min(v.len())].iter().filter(|x| !x.is_nan()).count() * 2 >= b - a)
}

/// Share of an episode's hours with data at the station's neighbours that
/// the patterns compared with them need.
pub const NEIGHBOUR_COVER: f64 = 0.75;

/// Whether the station's neighbours (as the checks define them) give a
/// reference, their median, in at least [`NEIGHBOUR_COVER`] of the
/// episode's hours, PM2.5 and PM10 alike, for the patterns found by
/// comparing with them. A station whose neighbours have no data then
/// (巴中's stations before June 2019) can hide nothing from them, and no
/// check can find what was put there. Patterns judged on the station
/// alone (stuck values, bunching, PM10 under PM2.5) need nothing.
pub fn neighbours_cover(pattern: Pattern, panel: &Panel, near: &[usize], e: &Episode) -> bool {
    match pattern {
        Pattern::Gauze | Pattern::Spraying | Pattern::Drift | Pattern::WithheldHighs | Pattern::ControlLikeCity => {}
        Pattern::PushedUnder | Pattern::Stuck | Pattern::Pm25OverPm10 => return true,
    }
    if near.is_empty() {
        return false;
    }
    let (a, b) = ((e.from - panel.start) as usize, ((e.to - panel.start) as usize + 1).min(panel.len));
    let need = near.len().div_ceil(2);
    [&panel.pm25, &panel.pm10].iter().all(|series| {
        let covered = (a..b).filter(|&h| near.iter().filter(|&&j| !series[j][h].is_nan()).count() >= need).count();
        covered as f64 >= NEIGHBOUR_COVER * (b - a) as f64
    })
}

/// Hour ranges of the calendar months inside the panel-relative `days`.
fn months(panel: &Panel, days: (usize, usize)) -> Vec<(usize, usize)> {
    let first = day_of_label(panel.start);
    lantian_store::query::month_chunks(first + days.0 as i64, first + days.1 as i64 - 1)
        .into_iter()
        .filter(|(a, b)| b - a >= 27)
        .map(|(a, b)| (((a - first) * 24) as usize, ((b - first + 1) * 24) as usize))
        .collect()
}

#[derive(Clone, Debug)]
pub struct EvaluateRequest {
    pub from: DayNumber,
    pub to: DayNumber,
    pub seeds: Vec<u64>,
    /// Episodes per pattern and seed (at different stations).
    pub episodes: usize,
    pub patterns: Vec<Pattern>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatternResult {
    pub injected: usize,
    pub found: usize,
    /// Found with a score among the run's top findings (as many as were injected).
    pub top: usize,
    /// Median score of the findings that found an episode.
    pub median_score: f64,
    /// Not found, the station having already had a finding of an accepted
    /// check over the episode's period before it was put in (an inspector
    /// would be there already; a new finding cannot be told from the old).
    pub flagged_before: usize,
}

/// An injected episode no accepted check found, with what the screen said
/// about its station then.
#[derive(Clone, Debug)]
pub struct Miss {
    pub seed: u64,
    pub episode: Episode,
    pub station: String,
    /// Findings at the station overlapping the episode: `check:id`, those of
    /// an accepted check that were there before the injection marked `(before)`.
    pub seen: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Evaluation {
    pub patterns: Vec<(Pattern, PatternResult)>,
    /// The episodes not found, pattern by pattern.
    pub misses: Vec<Miss>,
    pub station_months: usize,
    /// Findings in the untouched data (every check, the gases included).
    pub untouched_findings: usize,
    pub by_check: Vec<(Check, usize)>,
}

impl Evaluation {
    pub fn per_station_month(&self) -> f64 {
        self.untouched_findings as f64 / self.station_months.max(1) as f64
    }
}

/// Inject, screen and count, seed by seed and pattern by pattern.
pub fn evaluate(store: &Store, p: &Params, req: &EvaluateRequest) -> Result<Evaluation> {
    if data_days(store).is_none() {
        bail!("the store has no hourly data");
    }
    let (lo, hi) = load_range(store, req.from, req.to);
    if lo > hi {
        bail!("no data in the period");
    }
    let untouched = screen_store(store, req.from, req.to, &Default::default(), p)?;
    let mut panel = panel::load(store, lo, hi)?;
    let near = panel::neighbours(&panel.stations, p.neighbours.radius_km);
    let everyone: Vec<usize> = (0..panel.stations.len()).collect();
    let (base_hits, _) = screen_panel(&panel, &everyone, p, &Check::ALL);
    let baseline: HashSet<String> = base_hits.iter().map(|(i, h)| finding_id(&panel.stations[*i].code, h)).collect();
    let mut base_scores: Vec<(usize, f64)> = base_hits.iter().map(|(i, h)| (*i, h.score)).collect();
    base_scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let days = ((req.from - lo) as usize, (req.to - lo + 1) as usize);
    let (mut out, mut misses) = (Vec::new(), Vec::new());
    for &pattern in &req.patterns {
        let mut res = PatternResult::default();
        let mut scores = Vec::new();
        for &seed in &req.seeds {
            let mut rng = Rng::new(seed.wrapping_mul(1000).wrapping_add(pattern as u64));
            let mut order: Vec<usize> = (0..panel.stations.len()).filter(|&i| !near[i].is_empty()).collect();
            for k in (1..order.len()).rev() {
                order.swap(k, rng.int(0, k));
            }
            // Stations far enough apart that one's injection does not move another's neighbours.
            let (mut chosen, mut saved, mut episodes) = (Vec::new(), Vec::new(), Vec::new());
            for i in order {
                if episodes.len() == req.episodes {
                    break;
                }
                if chosen.iter().any(|&j: &usize| near[i].contains(&j) || near[j].contains(&i)) {
                    continue;
                }
                saved.push((i, panel.pm25[i].clone(), panel.pm10[i].clone()));
                let injected = inject(&mut panel, &near, pattern, i, days, &mut rng).filter(|e| {
                    let (_, pm25, pm10) = saved.last().expect("pushed");
                    had_data(pattern, panel.start, e, pm25, pm10) && neighbours_cover(pattern, &panel, &near[i], e)
                });
                match injected {
                    Some(e) => {
                        chosen.push(i);
                        episodes.push(e);
                    }
                    None => {
                        let (_, a, b) = saved.pop().expect("pushed");
                        panel.pm25[i] = a;
                        panel.pm10[i] = b;
                    }
                }
            }
            let (hits, _) = screen_panel(&panel, &chosen, p, &Check::ALL);
            // The run's findings: the injected stations' now, everyone else's untouched.
            let mut all: Vec<f64> = base_scores.iter().filter(|(i, _)| !chosen.contains(i)).map(|x| x.1).collect();
            all.extend(hits.iter().map(|(_, h)| h.score));
            all.sort_by(|a, b| b.total_cmp(a));
            let cutoff = all.get(episodes.len().saturating_sub(1)).copied().unwrap_or(f64::INFINITY);
            for e in &episodes {
                res.injected += 1;
                let best = hits
                    .iter()
                    .filter(|(i, h)| {
                        *i == e.station
                            && pattern.found_by().contains(&h.check)
                            && h.to >= e.from
                            && h.from <= e.to
                            && !baseline.contains(&finding_id(&panel.stations[*i].code, h))
                    })
                    .map(|(_, h)| h.score)
                    .fold(f64::NAN, f64::max);
                if !best.is_nan() {
                    res.found += 1;
                    scores.push(best);
                    if best >= cutoff {
                        res.top += 1;
                    }
                } else {
                    if base_hits.iter().any(|(i, h)| {
                        *i == e.station && pattern.found_by().contains(&h.check) && h.to >= e.from && h.from <= e.to
                    }) {
                        res.flagged_before += 1;
                    }
                    let code = &panel.stations[e.station].code;
                    let seen = hits
                        .iter()
                        .filter(|(i, h)| *i == e.station && h.to >= e.from && h.from <= e.to)
                        .map(|(_, h)| {
                            let id = finding_id(code, h);
                            let before = pattern.found_by().contains(&h.check) && baseline.contains(&id);
                            format!("{id} {:.0}{}", h.score, if before { " (before)" } else { "" })
                        })
                        .collect();
                    misses.push(Miss { seed, episode: e.clone(), station: code.clone(), seen });
                }
            }
            for (i, a, b) in saved {
                panel.pm25[i] = a;
                panel.pm10[i] = b;
            }
        }
        res.median_score = lantian_core::integrity::median(&mut scores);
        out.push((pattern, res));
    }
    let mut by_check: Vec<(Check, usize)> = Check::ALL.iter().map(|&c| (c, 0)).collect();
    for f in &untouched.findings {
        if let Some(x) = by_check.iter_mut().find(|x| x.0 == f.hit.check) {
            x.1 += 1;
        }
    }
    Ok(Evaluation {
        patterns: out,
        misses,
        station_months: station_months(&panel, &everyone, req.from, req.to),
        untouched_findings: untouched.findings.len(),
        by_check,
    })
}

/// The missed episodes: pattern, seed, station, period, what was drawn and
/// the findings the station had over the episode.
pub fn misses_table(e: &Evaluation) -> Table {
    let mut t = Table::new(vec![
        Col("pattern", "注入模式", "Pattern"),
        Col("seed", "种子", "Seed"),
        Col("station", "站点", "Station"),
        Col("from", "开始", "From"),
        Col("to", "结束", "To"),
        Col("strength", "强度", "Strength"),
        Col("seen", "期间线索", "Findings then"),
    ]);
    let date = |l: HourLabel| date_of(day_of_label(l)).map(|d| d.to_string()).unwrap_or_default();
    for m in &e.misses {
        t.push(vec![
            Cell::text(m.episode.pattern.key()),
            Cell::Int(m.seed as i64),
            Cell::text(m.station.clone()),
            Cell::text(date(m.episode.from)),
            Cell::text(date(m.episode.to)),
            Cell::text(m.episode.strength.clone()),
            Cell::text(m.seen.join("; ")),
        ]);
    }
    t
}

fn share(a: usize, b: usize) -> Cell {
    if b == 0 { Cell::Empty } else { Cell::Num(100.0 * a as f64 / b as f64, 1) }
}

/// The evaluation as a table: one row per pattern, then the untouched data's rate.
pub fn table(e: &Evaluation) -> Table {
    let mut t = Table::new(vec![
        Col("pattern", "注入模式", "Pattern"),
        Col("injected", "注入次数", "Injected"),
        Col("found", "检出次数", "Found"),
        Col("found_pct", "检出率%", "Found %"),
        Col("top_pct", "位居前列%", "Among top %"),
        Col("median_score", "检出评分中位数", "Median score"),
        Col("missed_flagged_before", "漏检但注入前已有线索", "Missed, flagged before"),
    ]);
    for (p, r) in &e.patterns {
        t.push(vec![
            Cell::text(p.key()),
            Cell::Int(r.injected as i64),
            Cell::Int(r.found as i64),
            share(r.found, r.injected),
            share(r.top, r.injected),
            Cell::opt(Some(r.median_score).filter(|x| !x.is_nan()), 0),
            Cell::Int(r.flagged_before as i64),
        ]);
    }
    t.push(vec![
        Cell::text("untouched"),
        Cell::Int(e.station_months as i64),
        Cell::Int(e.untouched_findings as i64),
        Cell::Num(e.per_station_month(), 3),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]);
    t
}
