//! Data integrity screening: the signatures of tampered and faulty
//! monitoring data (docs/INTEGRITY.md, `standards/data-integrity.md`).
//!
//! Pure functions over one station's hourly series and, where a check needs
//! them, the median of its neighbours at each hour (the edge chooses the
//! neighbours and reads the store). A [`Hit`] is evidence for a person, never
//! a verdict: the station, the check, the period, a score and the numbers
//! behind it. Scores share one scale: a strength of 1 means "just at every
//! threshold" and maps to 50, 2 to 75, 3 to 87.5 ([`score`]).

mod checks;
mod drift;
mod stats;
#[cfg(test)]
mod tests;

pub use checks::{bunching, control, divergence, pm25_above_pm10, selective_gaps, short_drops, stuck};
pub use drift::{drift, drift_both};
pub use stats::{median, median_of_present};

use crate::time::HourLabel;
use serde::Deserialize;

/// What a finding says is wrong. The keys are stable (ids, files, the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// Well below the neighbours for days, against the station's own usual ratio.
    Divergence,
    /// Deep drops of a few hours that recover, the neighbours unchanged (spraying).
    ShortDrop,
    /// Hours missing mostly when the neighbours read high (highs withheld).
    SelectiveGaps,
    /// Daily values piled up just under a grade boundary, a deficit just above.
    Bunching,
    /// The same value hour after hour.
    Stuck,
    /// PM2.5 above PM10 beyond instrument tolerance.
    Pm25AbovePm10,
    /// The ratio to the neighbours falling week after week.
    Drift,
    /// A control station (对照点) no longer behaving like one.
    Control,
}

impl Check {
    pub const ALL: [Check; 8] = [
        Check::Divergence,
        Check::ShortDrop,
        Check::SelectiveGaps,
        Check::Bunching,
        Check::Stuck,
        Check::Pm25AbovePm10,
        Check::Drift,
        Check::Control,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Check::Divergence => "divergence",
            Check::ShortDrop => "short_drop",
            Check::SelectiveGaps => "selective_gaps",
            Check::Bunching => "bunching",
            Check::Stuck => "stuck",
            Check::Pm25AbovePm10 => "pm25_above_pm10",
            Check::Drift => "drift",
            Check::Control => "control",
        }
    }

    pub fn parse(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.key() == s)
    }

    /// Whether the check compares the station with its neighbours.
    pub fn needs_neighbours(self) -> bool {
        matches!(self, Check::Divergence | Check::ShortDrop | Check::SelectiveGaps | Check::Drift | Check::Control)
    }
}

/// The checks' parameters (DATA/integrity.toml; every field has the default
/// documented in docs/INTEGRITY.md).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub neighbours: NeighbourParams,
    pub divergence: DivergenceParams,
    pub short_drop: ShortDropParams,
    pub selective_gaps: GapParams,
    pub bunching: BunchingParams,
    pub stuck: StuckParams,
    pub pm25_above_pm10: PmRatioParams,
    pub drift: DriftParams,
    pub control: ControlParams,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NeighbourParams {
    /// Stations within this distance (km) are neighbours, besides the same city's.
    pub radius_km: f64,
    /// Added to both sides of a ratio (µg/m³) so clean hours do not make ratios explode.
    pub offset: f64,
    /// Days around a day whose median ratio is the station's own baseline.
    pub baseline_days: usize,
    /// Fewest days with a ratio in that window for a baseline.
    pub min_baseline_days: usize,
}

impl Default for NeighbourParams {
    fn default() -> Self {
        NeighbourParams { radius_km: 20.0, offset: 5.0, baseline_days: 121, min_baseline_days: 30 }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DivergenceParams {
    /// A day counts when the station reads at most this share of its usual ratio to the neighbours…
    pub ratio: f64,
    /// …and that is at least this many robust standard deviations below its baseline…
    pub z: f64,
    /// …with the neighbours' daily mean at least this (µg/m³).
    pub min_reference: f64,
    /// Fewest such days in a row (one missing or ordinary day may break a run).
    pub min_days: usize,
    /// The run's deviations together (their sum over √days) must reach this
    /// many robust deviations: two days need more than each `z`, a week less.
    pub z_run: f64,
    /// A long run counts too with days only `long_z` deviations below the
    /// baseline (each still at most `ratio` of it), when it holds at least
    /// `long_days` such days and reaches `z_run` together: a noisy station's
    /// weeks at 60 % of its usual ratio are each within two of its spreads,
    /// but not together (0: rule off).
    pub long_days: usize,
    pub long_z: f64,
}

impl Default for DivergenceParams {
    fn default() -> Self {
        DivergenceParams {
            ratio: 0.75,
            z: 2.0,
            min_reference: 20.0,
            min_days: 2,
            z_run: 5.0,
            long_days: 7,
            long_z: 1.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ShortDropParams {
    /// A drop's mean ratio to the neighbours is at most this share of the
    /// three hours before it and of the three after…
    pub ratio: f64,
    /// …that many times the station's own hourly noise (robust spread of
    /// its hour-to-hour steps against the neighbours' that month)…
    pub z: f64,
    /// …the neighbours reading at least this (µg/m³).
    pub min_reference: f64,
    /// A drop lasts this many hours at least and at most.
    pub min_hours: usize,
    pub max_hours: usize,
    /// The hours after read at least this share of the hours before (the drop recovers).
    pub recover: f64,
    /// The neighbours during the drop read at most this factor of their
    /// hours around it (the station fell; the neighbours did not jump).
    pub steady: f64,
    /// Fewest drops within `window_days` for a finding.
    pub count: usize,
    pub window_days: i64,
    /// Count the drops of PM2.5 and PM10 together (a drop in both counts once).
    pub both_series: bool,
}

impl Default for ShortDropParams {
    fn default() -> Self {
        ShortDropParams {
            ratio: 0.45,
            z: 7.5,
            min_reference: 35.0,
            min_hours: 2,
            max_hours: 8,
            recover: 0.7,
            steady: 1.4,
            count: 2,
            window_days: 14,
            both_series: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GapParams {
    /// Gaps longer than this (hours) are outages, not withheld hours.
    pub max_run_hours: usize,
    /// Fewest gaps in a calendar month, and fewest missing hours in them.
    pub min_runs: usize,
    pub min_hours: usize,
    /// The gaps' mean rank among the month's neighbour readings (0–1) must reach this…
    pub mean_rank: f64,
    /// …and be this many standard errors above 0.5.
    pub z: f64,
    /// Weight (0–1) of the station's own readings just before and after a
    /// gap (their rank in its month) in the gap's rank; the rest is the
    /// neighbours' rank during the gap.
    pub edge_weight: f64,
}

impl Default for GapParams {
    fn default() -> Self {
        GapParams { max_run_hours: 72, min_runs: 3, min_hours: 12, mean_rank: 0.65, z: 2.5, edge_weight: 0.5 }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BunchingParams {
    /// Width (µg/m³) of the bands just under and just above a boundary.
    pub width: f64,
    /// Fewest days in the band under the boundary.
    pub min_count: usize,
    /// A window is a finding when the binomial tail of so few days above is below this.
    pub p: f64,
    /// Window length and step (days).
    pub window_days: i64,
    pub step_days: i64,
    /// The IAQI levels whose boundaries are watched (50 and/or 100). 100 is
    /// the one that counts: a day over it is no "good" day and the good-days
    /// ratio is ranked (Beijing 2006, Ghanem & Zhang 2014).
    pub levels: Vec<u32>,
}

impl Default for BunchingParams {
    fn default() -> Self {
        BunchingParams { width: 5.0, min_count: 6, p: 0.01, window_days: 91, step_days: 7, levels: vec![100] }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StuckParams {
    /// The same value for this many hours: PM at any level, a gas when it is
    /// at least `level_steps` steps of its resolution (1 µg/m³; CO 0.1 mg/m³)…
    pub hours: usize,
    pub level_steps: f64,
    /// PM below this (µg/m³) needs `hours_any`: the analysers' floor.
    pub pm_level_steps: f64,
    /// …or for this many hours whatever the value (low values at the
    /// detection limit repeat for a day without anything being wrong).
    pub hours_any: usize,
    /// PM (at `pm_level_steps` or more) repeating this many hours counts too
    /// (0: rule off) where the station's own series is quiet otherwise: no
    /// other repeat of `quiet_hours` at `quiet_share` of the value or more
    /// within `quiet_days` days either side, and the hour after the run
    /// reported.
    pub short_hours: usize,
    pub quiet_hours: usize,
    pub quiet_days: usize,
    pub quiet_share: f64,
}

impl Default for StuckParams {
    fn default() -> Self {
        StuckParams {
            hours: 16,
            level_steps: 20.0,
            pm_level_steps: 6.0,
            hours_any: 96,
            short_hours: 12,
            quiet_hours: 6,
            quiet_days: 90,
            quiet_share: 0.5,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PmRatioParams {
    /// An hour counts when PM2.5 > PM10 × factor + margin…
    pub factor: f64,
    pub margin: f64,
    /// …a day when it has this many such hours…
    pub hours_per_day: usize,
    /// …and a finding when this many such days follow each other.
    pub min_days: usize,
}

impl Default for PmRatioParams {
    fn default() -> Self {
        PmRatioParams { factor: 1.2, margin: 5.0, hours_per_day: 8, min_days: 2 }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DriftParams {
    /// Windows (weeks) over which the weekly ratio to the neighbours is
    /// followed: from `min_weeks` to `weeks` long (steps of two).
    pub weeks: usize,
    pub min_weeks: usize,
    /// Weeks before a window whose median is the level it is judged against
    /// (the weeks after it when fewer than three before have a ratio).
    pub before_weeks: usize,
    /// The fitted ratio at the window's end over that level must be at most this…
    pub ratio: f64,
    /// …with a Spearman rank correlation against time at most this…
    pub rho: f64,
    /// …and a fall of this many robust spreads of the reference weeks…
    pub z: f64,
    /// …after which the best of the four weeks after the window is back to at least
    /// this share of the level (a reset: the instrument serviced, the
    /// calibration put right). 0 accepts a drift that never comes back.
    pub reset: f64,
    /// A window also counts when its reset is a **jump**: the better of the
    /// two weeks after it at least `jump` robust spreads of the station's
    /// week-to-week steps above the window's fitted end (0 turns this off)…
    pub jump: f64,
    /// …the fitted end at most this share of the level of the
    /// `before_weeks` weeks after the window (and `z` of their spreads
    /// below it), judged against where the station comes back to rather
    /// than where it was…
    pub jump_ratio: f64,
    /// …with a rank correlation with time at most this.
    pub jump_rho: f64,
    /// PM2.5 and PM10 falling together in one window, both jumping back by
    /// `jump` step spreads after it: each series' fitted end at most this
    /// share of its level (before, with the reset, or after; 0 turns the
    /// rule off)…
    pub both_ratio: f64,
    /// …`both_z` robust spreads below it…
    pub both_z: f64,
    /// …with a rank correlation with time at most this, in each series.
    pub both_rho: f64,
}

impl Default for DriftParams {
    fn default() -> Self {
        DriftParams {
            weeks: 16,
            min_weeks: 6,
            before_weeks: 8,
            ratio: 0.7,
            rho: -0.9,
            z: 4.0,
            reset: 0.85,
            jump: 5.0,
            jump_ratio: 0.68,
            jump_rho: -0.85,
            both_ratio: 0.75,
            both_z: 3.0,
            both_rho: -0.8,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ControlParams {
    /// A month whose ratio to the city moves this factor from the station's usual one…
    pub jump: f64,
    /// …or whose hourly correlation with the city reaches this, rising by `correlation_rise`.
    pub correlation: f64,
    pub correlation_rise: f64,
    /// Fewest other months for the usual ratio.
    pub min_months: usize,
    /// …or whose hours track the city's median this closely: the robust
    /// spread of the hourly log ratio at most `tracking` (0 turns it off)…
    pub tracking: f64,
    /// …and at most this share of the station's usual spread.
    pub tracking_share: f64,
    /// A month with fewer than `min_months` others (no usual) is flagged
    /// when its spread is at most this (0 turns it off).
    pub tracking_alone: f64,
}

impl Default for ControlParams {
    fn default() -> Self {
        ControlParams {
            jump: 1.4,
            correlation: 0.95,
            correlation_rise: 0.05,
            min_months: 3,
            tracking: 0.08,
            tracking_share: 0.5,
            tracking_alone: 0.07,
        }
    }
}

/// One station's series over whole days. `start` is the first hour of a
/// day (`24·d + 1`); every slice has the same length, a multiple of 24;
/// `NaN` is a missing hour.
#[derive(Clone, Copy, Debug)]
pub struct StationInput<'a> {
    pub start: HourLabel,
    pub pm25: &'a [f64],
    pub pm10: &'a [f64],
    /// The neighbours' median at each hour (`None`: no neighbours).
    pub ref_pm25: Option<&'a [f64]>,
    pub ref_pm10: Option<&'a [f64]>,
    /// A control station (its neighbours are then the city's other stations).
    pub control: bool,
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub check: Check,
    /// `pm25`, `pm10`, `so2`, `no2`, `co` or `o3`.
    pub series: &'static str,
    /// First and last hour-ending label of the period.
    pub from: HourLabel,
    pub to: HourLabel,
    /// 0–100 ([`score`]).
    pub score: f64,
    /// The numbers behind it, by name (the evidence sentence is made of them).
    pub numbers: Vec<(&'static str, f64)>,
}

impl Hit {
    pub fn number(&self, key: &str) -> Option<f64> {
        self.numbers.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Why a check could not run on a station.
#[derive(Clone, Debug, PartialEq)]
pub enum NotRun {
    /// No neighbour has data (no coordinates and alone in its city, say).
    NoNeighbours,
    /// Too few hours with data in the period (`have` of `need`).
    TooFewHours { have: usize, need: usize },
    /// Too little data for the station's own baseline.
    NoBaseline,
}

/// Strength → score: 1 (every threshold just met) → 50, 2 → 75, 3 → 87.5.
pub fn score(strength: f64) -> f64 {
    if strength.is_nan() { 0.0 } else { (100.0 * (1.0 - 0.5f64.powf(strength.max(0.0)))).clamp(0.0, 100.0) }
}

/// Least share of hours with data for a check to run on a series.
pub const MIN_COVERAGE: f64 = 0.05;

/// Run the PM checks of `checks` on one station; hits merged per check and
/// series, and what could not run, with why.
pub fn screen_station(input: &StationInput<'_>, p: &Params, checks: &[Check]) -> (Vec<Hit>, Vec<(Check, NotRun)>) {
    let mut hits = Vec::new();
    let mut not_run = Vec::new();
    let want = |c: Check| checks.contains(&c);
    let series = [("pm25", input.pm25, input.ref_pm25), ("pm10", input.pm10, input.ref_pm10)];
    let have = input.pm25.iter().filter(|v| !v.is_nan()).count();
    let need = (input.pm25.len() as f64 * MIN_COVERAGE).ceil() as usize;
    if have < need.max(24) {
        for c in checks.iter().filter(|&&c| c != Check::Stuck) {
            not_run.push((*c, NotRun::TooFewHours { have, need: need.max(24) }));
        }
        return (hits, not_run);
    }
    let mut drops = Vec::new();
    // Each series' baseline when usable, for the drift of both together.
    let mut usable = Vec::new();
    for (key, values, reference) in series {
        match reference {
            Some(r) => {
                let base = stats::Baseline::new(input.start, values, r, &p.neighbours);
                // A control station is cleaner than its city by design: the
                // baseline absorbs that, so the other checks still apply.
                if input.control && want(Check::Control) && key == "pm25" {
                    hits.extend(control(input.start, values, r, p.neighbours.offset, &p.control));
                }
                if !base.usable() {
                    for c in [Check::Divergence, Check::ShortDrop, Check::Drift] {
                        if want(c) && key == "pm25" {
                            not_run.push((c, NotRun::NoBaseline));
                        }
                    }
                } else {
                    if want(Check::Divergence) {
                        hits.extend(divergence(&base, key, &p.divergence));
                    }
                    if want(Check::ShortDrop) {
                        if p.short_drop.both_series {
                            drops.push(checks::drops(&base, key, &p.short_drop));
                        } else {
                            hits.extend(short_drops(&base, key, &p.short_drop));
                        }
                    }
                    if want(Check::Drift) {
                        hits.extend(drift(&base, key, &p.drift));
                    }
                    usable.push((key, base));
                }
                if want(Check::SelectiveGaps) && key == "pm25" {
                    hits.extend(selective_gaps(input.start, values, r, &p.selective_gaps));
                }
            }
            None => {
                if key == "pm25" {
                    for c in Check::ALL.into_iter().filter(|c| c.needs_neighbours() && want(*c)) {
                        if c != Check::Control || input.control {
                            not_run.push((c, NotRun::NoNeighbours));
                        }
                    }
                }
            }
        }
        if want(Check::Bunching) {
            hits.extend(bunching(input.start, key, values, &p.bunching));
        }
        if want(Check::Stuck) {
            hits.extend(stuck(input.start, key, values, &p.stuck));
        }
    }
    if want(Check::Drift)
        && let [("pm25", pm25), ("pm10", pm10)] = usable.as_slice()
    {
        hits.extend(drift_both(pm25, pm10, &p.drift));
    }
    if !drops.is_empty() {
        let pm10 = if drops.len() > 1 { drops.pop().unwrap_or_default() } else { Vec::new() };
        let pm25 = drops.pop().unwrap_or_default();
        hits.extend(checks::group_both(input.start, pm25, pm10, &p.short_drop));
    }
    if want(Check::Pm25AbovePm10) {
        hits.extend(pm25_above_pm10(input.start, input.pm25, input.pm10, &p.pm25_above_pm10));
    }
    (merge(hits), not_run)
}

/// Merge hits of one check and series whose periods touch (or overlap) into
/// one: the period spans them, the score is the highest, the numbers are the
/// strongest hit's.
pub fn merge(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| (a.check, a.series, a.from).cmp(&(b.check, b.series, b.from)));
    let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits {
        if let Some(last) = out.last_mut()
            && last.check == h.check
            && last.series == h.series
            && h.from <= last.to + 1
        {
            last.to = last.to.max(h.to);
            if h.score > last.score {
                last.score = h.score;
                last.numbers = h.numbers;
            }
            if h.check == Check::Stuck {
                // The merged run's length is the period's.
                let hours = (last.to - last.from + 1) as f64;
                if let Some(n) = last.numbers.iter_mut().find(|(k, _)| *k == "hours") {
                    n.1 = hours;
                }
            }
            continue;
        }
        out.push(h);
    }
    out
}
