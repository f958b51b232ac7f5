//! Each check on hand-made series: a signature put in is found where it was
//! put, and the same series without it gives nothing.

// Hour arithmetic reads clearer as index ranges than as iterator chains.
#![allow(clippy::needless_range_loop)]

use super::checks;
use super::stats::Baseline;
use super::*;
use crate::time::{HourLabel, day_number};

fn start() -> HourLabel {
    day_number(jiff::civil::date(2019, 1, 1)) * 24 + 1
}

/// A deterministic noise source (xorshift), values in 0..1.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `days` of a neighbourhood median with weather-like swings, and a station
/// that reads 0.9 of it with ±10 % hourly noise.
fn world(days: usize) -> (Vec<f64>, Vec<f64>) {
    let mut n = Noise(7);
    let (mut st, mut rf) = (Vec::new(), Vec::new());
    for h in 0..days * 24 {
        let t = h as f64;
        let r = 45.0 + 25.0 * (t / 24.0 / 9.0).sin() + 10.0 * (t / 24.0 * std::f64::consts::TAU).sin();
        rf.push(r);
        st.push((r * 0.9 * (0.9 + 0.2 * n.next())).round());
    }
    (st, rf)
}

fn base<'a>(st: &'a [f64], rf: &'a [f64]) -> Baseline<'a> {
    Baseline::new(start(), st, rf, &NeighbourParams::default())
}

fn day_label(d: i64) -> HourLabel {
    start() + 24 * d
}

#[test]
fn scores_share_one_scale() {
    assert_eq!(score(1.0), 50.0);
    assert_eq!(score(2.0), 75.0);
    assert_eq!(score(0.0), 0.0);
    assert_eq!(score(f64::NAN), 0.0);
    assert!(score(40.0) <= 100.0);
}

#[test]
fn divergence_finds_a_cut_and_not_the_usual_ratio() {
    let (mut st, rf) = world(150);
    assert!(
        divergence(&base(&st, &rf), "pm25", &DivergenceParams::default()).is_empty(),
        "0.9 of the neighbours is this station's usual"
    );
    for h in 60 * 24..65 * 24 {
        st[h] = (st[h] * 0.5).round();
    }
    let hits = divergence(&base(&st, &rf), "pm25", &DivergenceParams::default());
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].from, hits[0].to), (day_label(60), day_label(65) - 1));
    assert_eq!(hits[0].number("days"), Some(5.0));
    let share = hits[0].number("share").unwrap();
    assert!((0.45..0.56).contains(&share), "{share}");
    // One day is not enough.
    let (mut st, rf) = world(150);
    for h in 60 * 24..61 * 24 {
        st[h] *= 0.5;
    }
    assert!(divergence(&base(&st, &rf), "pm25", &DivergenceParams::default()).is_empty());
}

#[test]
fn short_drops_need_several_that_recover() {
    // Drops in days 68–75, when the neighbours read 60–80 µg/m³ (worth spraying).
    let (mut st, rf) = world(120);
    let p = ShortDropParams::default();
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    for d in [68, 71, 75] {
        for h in d * 24 + 9..d * 24 + 12 {
            st[h] = (st[h] * 0.2).round();
        }
    }
    let hits = short_drops(&base(&st, &rf), "pm25", &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("drops"), Some(3.0));
    assert_eq!(hits[0].number("hours"), Some(9.0));
    assert_eq!((hits[0].from, hits[0].to), (day_label(68) + 9, day_label(75) + 11));
    // A single drop is an instrument's hiccup, not a pattern.
    let (mut st, rf) = world(120);
    for h in 68 * 24 + 9..68 * 24 + 12 {
        st[h] *= 0.2;
    }
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    // A drop that never recovers is divergence's, not this check's.
    let (mut st, rf) = world(120);
    for h in 68 * 24 + 9..120 * 24 {
        st[h] *= 0.2;
    }
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    // The ratio dips just as deep when the neighbours jump (a fire, dust)
    // and the station does not: not a drop of the station's.
    let (st, mut rf) = world(120);
    for d in [68, 71, 75] {
        for h in d * 24 + 9..d * 24 + 12 {
            rf[h] *= 5.0;
        }
    }
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    // A missing hour inside a drop does not end it.
    let (mut st, rf) = world(120);
    for d in [68, 71, 75] {
        for h in d * 24 + 9..d * 24 + 13 {
            st[h] = (st[h] * 0.2).round();
        }
        st[d * 24 + 10] = f64::NAN;
    }
    let hits = short_drops(&base(&st, &rf), "pm25", &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("hours"), Some(12.0));
}

#[test]
fn a_drop_in_pm25_and_another_in_pm10_count_together() {
    // Spraying lowers both; one drop may clear the thresholds in PM2.5 and
    // the next only in PM10. The same drop seen in both counts once.
    let (clean, rf) = world(120);
    let cut = |s: &mut Vec<f64>, d: usize| {
        for h in d * 24 + 9..d * 24 + 12 {
            s[h] = (s[h] * 0.2).round();
        }
    };
    let screen = |pm25: &[f64], pm10: &[f64], p: &Params| {
        let input =
            StationInput { start: start(), pm25, pm10, ref_pm25: Some(&rf), ref_pm10: Some(&rf), control: false };
        screen_station(&input, p, &[Check::ShortDrop]).0
    };
    let (mut pm25, mut pm10) = (clean.clone(), clean.clone());
    cut(&mut pm25, 68);
    cut(&mut pm10, 71);
    let p = Params::default();
    let hits = screen(&pm25, &pm10, &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("drops"), Some(2.0));
    assert_eq!((hits[0].series, hits[0].from, hits[0].to), ("pm25", day_label(68) + 9, day_label(71) + 11));
    let apart = Params { short_drop: ShortDropParams { both_series: false, ..p.short_drop.clone() }, ..p.clone() };
    assert!(screen(&pm25, &pm10, &apart).is_empty(), "each series alone has one drop");
    let mut same = clean.clone();
    cut(&mut same, 68);
    assert!(screen(&pm25, &same, &p).is_empty(), "one drop in both series is one drop");
}

#[test]
fn a_drop_while_the_neighbours_rise_a_little_is_still_a_drop() {
    // Sprayed while the air gets worse: the neighbours rise by a third during
    // each drop, the station falls to a fifth of what it would read.
    let (mut st, mut rf) = world(120);
    for d in [68, 71, 75] {
        for h in d * 24 + 9..d * 24 + 12 {
            rf[h] *= 1.35;
            st[h] = (st[h] * 1.35 * 0.2).round();
        }
    }
    let p = ShortDropParams::default();
    let hits = short_drops(&base(&st, &rf), "pm25", &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("drops"), Some(3.0));
    let strict = ShortDropParams { steady: 1.2, ..p };
    assert!(short_drops(&base(&st, &rf), "pm25", &strict).is_empty(), "a rise of 35 % is over 1.2");
}

#[test]
fn short_drops_are_weighed_against_the_stations_own_hourly_noise() {
    // The same three drops to 0.45 of the level: clear at a quiet station,
    // lost in the noise of one whose ratio swings ±40 % from hour to hour.
    let (quiet, rf) = world(120);
    let mut n = Noise(11);
    let mut noisy: Vec<f64> = rf.iter().map(|r| (r * 0.9 * (0.6 + 0.8 * n.next())).round()).collect();
    let mut quiet = quiet;
    for d in [68, 71, 75] {
        for h in d * 24 + 9..d * 24 + 12 {
            quiet[h] = (quiet[h] * 0.3).round();
            noisy[h] = (noisy[h] * 0.3).round();
        }
    }
    let p = ShortDropParams::default();
    let noise = |st: &[f64]| {
        let x: Vec<f64> = st.iter().zip(&rf).map(|(s, r)| ((s + 5.0) / (r + 5.0)).ln()).collect();
        checks::step_noise(start(), &x)[68 * 24]
    };
    assert!(noise(&noisy) > 2.0 * noise(&quiet), "{} {}", noise(&noisy), noise(&quiet));
    assert_eq!(short_drops(&base(&quiet, &rf), "pm25", &p).len(), 1);
    assert!(short_drops(&base(&noisy, &rf), "pm25", &p).is_empty());
}

#[test]
fn a_short_run_of_days_needs_deeper_days() {
    // Days at 0.82 of the station's usual ratio: two of them are weather, six a pattern.
    let p = DivergenceParams { ratio: 0.9, z: 2.0, z_run: 5.0, ..DivergenceParams::default() };
    let cut = |days: std::ops::Range<usize>| {
        let (mut st, rf) = world(150);
        for h in days.start * 24..days.end * 24 {
            st[h] = (st[h] * 0.8).round();
        }
        divergence(&base(&st, &rf), "pm25", &p)
    };
    assert!(cut(60..62).is_empty());
    let hits = cut(60..66);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("days"), Some(6.0));
}

#[test]
fn a_noisy_station_s_weeks_well_under_its_ratio_are_found_as_a_long_run() {
    // A station whose daily ratio to the neighbours swings by ±35 % day to
    // day (robust spread ≈ 0.5): four weeks at half of it are no day two
    // spreads down, but together far beyond chance.
    let (mut st, rf) = world(200);
    let swing = [0.35, -0.35, 0.0];
    for h in 0..st.len() {
        st[h] = (st[h] * f64::exp(swing[(h / 24) % 3])).round();
    }
    let clean = st.clone();
    for h in 100 * 24..128 * 24 {
        st[h] = (st[h] * 0.5).round();
    }
    let p = DivergenceParams::default();
    let off = DivergenceParams { long_days: 0, ..p.clone() };
    assert!(divergence(&base(&st, &rf), "pm25", &off).is_empty(), "not day by day");
    let hits = divergence(&base(&st, &rf), "pm25", &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].from >= day_label(99) && hits[0].to <= day_label(129), "{hits:?}");
    assert!(hits[0].number("days").unwrap() >= 7.0, "{hits:?}");
    assert!(divergence(&base(&clean, &rf), "pm25", &p).is_empty(), "its usual swings are nothing");
}

#[test]
fn gaps_at_high_readings_are_selective_and_random_ones_are_not() {
    let p = GapParams::default();
    let (mut st, rf) = world(59);
    // February (days 31..59): drop the hours whose neighbours read in the top 15 %.
    let mut feb: Vec<f64> = rf[31 * 24..59 * 24].to_vec();
    feb.sort_by(f64::total_cmp);
    let cut = feb[feb.len() * 85 / 100];
    let mut random = st.clone();
    let mut n = Noise(3);
    for h in 31 * 24..59 * 24 {
        if rf[h] >= cut {
            st[h] = f64::NAN;
        }
        if n.next() < 0.15 {
            random[h] = f64::NAN;
        }
    }
    let hits = selective_gaps(start(), &st, &rf, &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].from, hits[0].to), (day_label(31), day_label(59) - 1), "the calendar month");
    assert!(hits[0].number("rank").unwrap() > 0.85);
    assert!(selective_gaps(start(), &random, &rf, &p).is_empty());
}

#[test]
fn gaps_that_cut_out_the_stations_own_highs_are_selective() {
    // The station's own local source: twelve 8-hour bursts in February the
    // neighbours do not see; the middle six hours of each are withheld,
    // leaving a high hour at each edge of every gap.
    let (mut st, rf) = world(59);
    for k in 0..12 {
        let a = (32 + 2 * k) * 24 + (k * 5) % 16;
        for h in a..a + 8 {
            st[h] += 80.0;
        }
        for h in a + 1..a + 7 {
            st[h] = f64::NAN;
        }
    }
    let p = GapParams::default();
    let hits = selective_gaps(start(), &st, &rf, &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("gaps"), Some(12.0));
    // The neighbours alone cannot tell.
    assert!(selective_gaps(start(), &st, &rf, &GapParams { edge_weight: 0.0, ..p }).is_empty());
}

/// Daily means of `days` days, each day flat at its value.
fn flat_days(values: &[f64]) -> Vec<f64> {
    values.iter().flat_map(|&v| std::iter::repeat_n(v, 24)).collect()
}

#[test]
fn bunching_under_a_boundary() {
    let p = BunchingParams::default();
    // 90 days spread evenly over 40..130: as many days at 71–75 as at 76–80.
    let even: Vec<f64> = (0..90).map(|d| 40.0 + d as f64).collect();
    assert!(bunching(start(), "pm25", &flat_days(&even), &p).is_empty());
    // Days that would have been 76–95 reported as 71–75.
    let pushed: Vec<f64> =
        even.iter().map(|&v| if (76.0..=95.0).contains(&v) { 71.0 + (v - 76.0) % 5.0 } else { v }).collect();
    let hits = bunching(start(), "pm25", &flat_days(&pushed), &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].number("boundary"), hits[0].number("under"), hits[0].number("over")),
        (Some(75.0), Some(25.0), Some(0.0))
    );
    // PM10's IAQI-100 boundary is 150 (HJ 633-2012).
    let pm10: Vec<f64> = (0..90).map(|d| if d < 30 { 146.0 + (d % 5) as f64 } else { 100.0 }).collect();
    let hits = bunching(start(), "pm10", &flat_days(&pm10), &p);
    assert_eq!(hits.iter().map(|h| h.number("boundary")).collect::<Vec<_>>(), vec![Some(150.0)]);
    // Under the IAQI-50 boundary (PM2.5 35) only when asked: a day at 36
    // is still a good day, and clean seasons pile up there by themselves.
    let clean: Vec<f64> = (0..90).map(|d| if d < 30 { 31.0 + (d % 5) as f64 } else { 20.0 }).collect();
    assert!(bunching(start(), "pm25", &flat_days(&clean), &p).is_empty());
    let both = BunchingParams { levels: vec![50, 100], ..p };
    let hits = bunching(start(), "pm25", &flat_days(&clean), &both);
    assert_eq!(hits.iter().map(|h| h.number("boundary")).collect::<Vec<_>>(), vec![Some(35.0)]);
}

#[test]
fn bunching_uses_the_2026_boundary_from_march_2026() {
    let s = day_number(jiff::civil::date(2026, 3, 1)) * 24 + 1;
    let days: Vec<f64> = (0..90).map(|d| if d < 30 { 56.0 + (d % 5) as f64 } else { 30.0 }).collect();
    let hits = bunching(s, "pm25", &flat_days(&days), &BunchingParams::default());
    assert_eq!(hits.iter().map(|h| h.number("boundary")).collect::<Vec<_>>(), vec![Some(60.0)]);
}

#[test]
fn stuck_values() {
    let p = StuckParams::default();
    let mut v: Vec<f64> = (0..96).map(|h| 20.0 + (h % 7) as f64).collect();
    assert!(stuck(start(), "no2", &v, &p).is_empty());
    v[10..26].fill(35.0);
    v[40..53].fill(36.0);
    let hits = stuck(start(), "no2", &v, &p);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].from, hits[0].to, hits[0].number("hours")), (start() + 10, start() + 25, Some(16.0)));
    // A low gas value repeating is common at the detection limit: four days are needed.
    let mut low = vec![f64::NAN; 240];
    low[0..40].fill(3.0);
    low[50..150].fill(3.0);
    let hits = stuck(start(), "so2", &low, &p);
    assert_eq!(hits.iter().map(|h| h.number("hours")).collect::<Vec<_>>(), vec![Some(100.0)]);
    // PM at the analysers' floor (under 6 µg/m³) also needs four days…
    assert_eq!(stuck(start(), "pm25", &low, &p).len(), 1);
    // …above it, sixteen hours (twelve in a quiet series: below; these runs end in gaps).
    let mut pm = vec![f64::NAN; 96];
    pm[0..16].fill(12.0);
    pm[30..45].fill(12.0);
    let hits = stuck(start(), "pm25", &pm, &p);
    assert_eq!(hits.iter().map(|h| h.number("hours")).collect::<Vec<_>>(), vec![Some(16.0)]);
    // CO's resolution is 0.1 mg/m³: 2.0 is twenty steps.
    let mut co = vec![f64::NAN; 48];
    co[0..16].fill(2.0);
    co[20..36].fill(1.9);
    assert_eq!(stuck(start(), "co", &co, &p).len(), 1);
}

#[test]
fn stuck_short_runs_in_quiet_series() {
    let p = StuckParams::default();
    let hours = |h: &[Hit]| h.iter().map(|h| h.number("hours")).collect::<Vec<_>>();
    // 200 days of PM moving every hour (30–40 µg/m³); a 12-hour repeat at 40 on day 100.
    let moving: Vec<f64> = (0..200 * 24).map(|h| 30.0 + (h * 7 % 11) as f64).collect();
    let mut pm = moving.clone();
    let at = 100 * 24 + 5;
    pm[at..at + 12].fill(40.0);
    let hits = stuck(start(), "pm25", &pm, &p);
    assert_eq!(hours(&hits), vec![Some(12.0)]);
    assert_eq!((hits[0].from, hits[0].number("quiet_days")), (start() + at as i64, Some(90.0)));
    assert!((hits[0].score - 50.0).abs() < 1e-9);
    // The rule alone finds it.
    assert!(stuck(start(), "pm25", &pm, &StuckParams { short_hours: 0, ..p.clone() }).is_empty());
    // Eleven hours are not enough; a gas is not judged this way.
    assert!(stuck(start(), "no2", &pm, &p).is_empty());
    let mut eleven = moving.clone();
    eleven[at..at + 11].fill(40.0);
    assert!(stuck(start(), "pm25", &eleven, &p).is_empty());
    // A run ending in a gap is the start of an outage, not a frozen reading.
    let mut gap = pm.clone();
    gap[at + 12] = f64::NAN;
    assert!(stuck(start(), "pm25", &gap, &p).is_empty());
    // Another 6-hour repeat 60 days away at a like level makes the station's repeats ordinary…
    let mut noisy = pm.clone();
    noisy[40 * 24..40 * 24 + 6].fill(35.0);
    assert!(stuck(start(), "pm25", &noisy, &p).is_empty());
    // …not one of 5 hours, nor one further than 90 days, nor one under half the level…
    for (day, len, v) in [(40, 5, 35.0), (5, 6, 35.0), (40, 6, 15.0)] {
        let mut other = pm.clone();
        other[day * 24..day * 24 + len].fill(v);
        assert_eq!(hours(&stuck(start(), "pm25", &other, &p)), vec![Some(12.0)], "{day} {len} {v}");
    }
    // …unless every level counts.
    let mut low = pm.clone();
    low[40 * 24..40 * 24 + 6].fill(15.0);
    assert!(stuck(start(), "pm25", &low, &StuckParams { quiet_share: 0.0, ..p.clone() }).is_empty());
    // A long run in a quiet series is judged against twelve hours.
    let mut long = moving.clone();
    long[at..at + 24].fill(40.0);
    let hits = stuck(start(), "pm25", &long, &p);
    assert!((hits[0].score - score(2.0)).abs() < 1e-9);
    let hits = stuck(start(), "pm25", &long, &StuckParams { short_hours: 0, ..p });
    assert!((hits[0].score - score(1.5)).abs() < 1e-9);
}

#[test]
fn pm25_above_pm10_beyond_tolerance() {
    let p = PmRatioParams::default();
    let mut pm25 = vec![40.0; 96];
    let pm10 = vec![60.0; 96];
    assert!(pm25_above_pm10(start(), &pm25, &pm10, &p).is_empty());
    pm25[24..32].fill(90.0);
    assert!(pm25_above_pm10(start(), &pm25, &pm10, &p).is_empty(), "one day is within the rule");
    pm25[48..55].fill(90.0);
    pm25[55] = 76.0; // 76 < 60 × 1.2 + 5 = 77: tolerated
    assert!(pm25_above_pm10(start(), &pm25, &pm10, &p).is_empty(), "7 hours on the second day");
    pm25[55] = 78.0;
    let hits = pm25_above_pm10(start(), &pm25, &pm10, &p);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].from, hits[0].to, hits[0].number("hours")), (day_label(1), day_label(3) - 1, Some(16.0)));
}

/// A world whose station loses ground linearly from day `a` to day `b`
/// down to `end` of its reading, then stays there (`reset: false`) or is
/// put right (`reset: true`).
fn drifting(days: usize, a: usize, b: usize, end: f64, reset: bool) -> (Vec<f64>, Vec<f64>) {
    let (mut st, rf) = world(days);
    for h in a * 24..days * 24 {
        if h < b * 24 {
            st[h] *= 1.0 - (1.0 - end) * (h - a * 24) as f64 / ((b - a) * 24) as f64;
        } else if !reset {
            st[h] *= end;
        }
    }
    (st, rf)
}

#[test]
fn drift_is_a_steady_fall_from_the_weeks_before() {
    let p = DriftParams::default();
    let (st, rf) = world(196);
    assert!(drift(&base(&st, &rf), "pm25", &p).is_empty());
    // Six weeks down to 55 %, then the calibration put right.
    let (st, rf) = drifting(196, 70, 112, 0.55, true);
    let merged = merge(drift(&base(&st, &rf), "pm25", &p));
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].from >= day_label(35) && merged[0].from <= day_label(77), "{merged:?}");
    assert!(merged[0].to <= day_label(119), "{merged:?}");
    assert!(merged[0].number("decline").unwrap() <= 0.7, "{merged:?}");
    assert_eq!(merged[0].number("after"), Some(0.0), "judged against the weeks before");
    // A fall that stays (a station's mix changing with the season) is not
    // a drift that was put right; with `reset = 0` it is one.
    let (st, rf) = drifting(196, 70, 112, 0.55, false);
    assert!(drift(&base(&st, &rf), "pm25", &p).is_empty());
    assert!(!drift(&base(&st, &rf), "pm25", &DriftParams { reset: 0.0, ..p.clone() }).is_empty());
    // At the start of the data there are no weeks before: the weeks after it stand in.
    let (st, rf) = drifting(196, 0, 56, 0.55, true);
    let merged = merge(drift(&base(&st, &rf), "pm25", &p));
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0].number("after"), Some(1.0));
}

/// The station's reading scaled by `f(day)`.
fn scaled(days: usize, f: impl Fn(usize) -> f64) -> (Vec<f64>, Vec<f64>) {
    let (mut st, rf) = world(days);
    for h in 0..days * 24 {
        st[h] *= f(h / 24);
    }
    (st, rf)
}

#[test]
fn drift_reset_judged_as_a_jump() {
    let p = DriftParams::default();
    // Low (× 0.5) until day 70, back to its usual, then six weeks down to
    // 55 % and put right on day 112: the weeks before the window read as
    // low as its end, so only the jump back tells the drift.
    let low_then_drift = |d: usize| match d {
        0..70 => 0.5,
        70..112 => 1.0 - 0.45 * (d - 70) as f64 / 42.0,
        _ => 1.0,
    };
    let (st, rf) = scaled(196, low_then_drift);
    let b = base(&st, &rf);
    assert!(drift(&b, "pm25", &DriftParams { jump: 0.0, ..p.clone() }).is_empty(), "not a fall from the weeks before");
    let merged = merge(drift(&b, "pm25", &p));
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].from >= day_label(70) && merged[0].to <= day_label(119), "{merged:?}");
    assert_eq!(merged[0].number("after"), Some(1.0), "judged against the weeks after");
    assert!(merged[0].number("decline").unwrap() <= 0.68, "{merged:?}");
    assert!(merged[0].number("jump").unwrap() >= 5.0, "{merged:?}");
    // The same fall turning round slowly (sixteen weeks back up): a season,
    // not a reset. It is a drift without the reset rule, none with it.
    let glide = |d: usize| match d {
        0..70 => 1.0,
        70..112 => 1.0 - 0.45 * (d - 70) as f64 / 42.0,
        112..224 => 0.55 + 0.45 * (d - 112) as f64 / 112.0,
        _ => 1.0,
    };
    let (st, rf) = scaled(280, glide);
    let b = base(&st, &rf);
    assert!(!drift(&b, "pm25", &DriftParams { reset: 0.0, ..p.clone() }).is_empty());
    assert!(drift(&b, "pm25", &p).is_empty(), "{:?}", drift(&b, "pm25", &p));
}

#[test]
fn pm25_and_pm10_drifting_together_and_put_right_together() {
    let p = DriftParams::default();
    // Eight weeks down to 70 % (days 70–126), then put right: the window's
    // fitted end sits at 0.71–0.74 of the level, milder than one series
    // needs (0.7 before, 0.68 after), in PM2.5 and PM10 alike.
    let mild = |d: usize| match d {
        70..126 => 1.0 - 0.3 * (d - 70) as f64 / 56.0,
        _ => 1.0,
    };
    let (st25, rf25) = scaled(196, mild);
    let pm10 = |v: &[f64]| v.iter().map(|x| (x * 1.6).round()).collect::<Vec<f64>>();
    let (st10, rf10) = (pm10(&st25), pm10(&rf25));
    let (b25, b10) = (base(&st25, &rf25), base(&st10, &rf10));
    assert!(drift(&b25, "pm25", &p).is_empty(), "{:?}", drift(&b25, "pm25", &p));
    assert!(drift(&b10, "pm10", &p).is_empty(), "{:?}", drift(&b10, "pm10", &p));
    let merged = merge(drift::drift_both(&b25, &b10, &p));
    assert_eq!(merged.len(), 1, "{merged:?}");
    let h = &merged[0];
    assert_eq!(h.series, "pm25");
    assert!(h.from >= day_label(56) && h.to <= day_label(133), "{merged:?}");
    assert!(h.number("decline").unwrap() > 0.68 && h.number("decline").unwrap() <= 0.75, "{merged:?}");
    assert!(h.number("pm10_decline").unwrap() <= 0.75 && h.number("pm10_jump").unwrap() >= 5.0, "{merged:?}");
    assert!(drift::drift_both(&b25, &b10, &DriftParams { both_ratio: 0.0, ..p.clone() }).is_empty());
    // Through the station: a PM2.5 drift finding.
    let input = StationInput {
        start: start(),
        pm25: &st25,
        pm10: &st10,
        ref_pm25: Some(&rf25),
        ref_pm10: Some(&rf10),
        control: false,
    };
    let (hits, _) = screen_station(&input, &Params::default(), &[Check::Drift]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].check, hits[0].series), (Check::Drift, "pm25"));
    // PM2.5 alone drifting that mildly: nothing.
    let (usual10, ref10) = (pm10(&world(196).0), pm10(&world(196).1));
    assert!(drift::drift_both(&b25, &base(&usual10, &ref10), &p).is_empty());
    // Both falling alike but turning round over twenty-four weeks (a
    // season): no jump back, nothing.
    let glide = |d: usize| match d {
        70..126 => 1.0 - 0.3 * (d - 70) as f64 / 56.0,
        126..294 => 0.7 + 0.3 * (d - 126) as f64 / 168.0,
        _ => 1.0,
    };
    let (st25, rf25) = scaled(336, glide);
    let (st10, rf10) = (pm10(&st25), pm10(&rf25));
    let found = drift::drift_both(&base(&st25, &rf25), &base(&st10, &rf10), &p);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn control_station_that_starts_reading_like_its_city() {
    let p = ControlParams::default();
    let (st, rf) = world(181);
    let mut control_st: Vec<f64> = st.iter().map(|v| (v * 0.6).round()).collect();
    assert!(control(start(), &control_st, &rf, 5.0, &p).is_empty());
    // April 2019 (days 90..120) copied from the city's median.
    for h in 90 * 24..120 * 24 {
        control_st[h] = rf[h].round();
    }
    let hits = control(start(), &control_st, &rf, 5.0, &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].from, hits[0].to), (day_label(90), day_label(120) - 1));
    assert!(hits[0].number("correlation").unwrap() > 0.99);
}

/// The tracking rule alone (the ratio and correlation rules turned off): a
/// month whose hours follow the city's median within ±5 % is found; the
/// same closeness in every month is the station's usual, not a finding.
#[test]
fn control_station_whose_hours_track_its_city() {
    let only_tracking = ControlParams { jump: 100.0, correlation: 1.1, ..ControlParams::default() };
    let (_, rf) = world(181);
    // Usually its own air: ±40 % around 0.6 of the city's hour by hour.
    let frac = |h: usize| (h * 7919 % 101) as f64 / 100.0;
    let mut control_st: Vec<f64> = (0..rf.len()).map(|h| rf[h] * 0.6 * (0.6 + 0.8 * frac(h))).collect();
    let wobble = |h: usize| 1.0 + 0.05 * (2.0 * frac(h) - 1.0);
    for h in 151 * 24..181 * 24 {
        control_st[h] = rf[h] * 0.6 * wobble(h);
    }
    let hits = control(start(), &control_st, &rf, 5.0, &only_tracking);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].from, hits[0].to), (day_label(151), day_label(181) - 1), "June");
    assert!(hits[0].number("spread").unwrap() < 0.06, "{hits:?}");
    assert!(hits[0].number("usual_spread").unwrap() > 0.15, "{hits:?}");
    let off = ControlParams { tracking: 0.0, ..only_tracking.clone() };
    assert!(control(start(), &control_st, &rf, 5.0, &off).is_empty());
    let always: Vec<f64> = (0..rf.len()).map(|h| rf[h] * 0.6 * wobble(h)).collect();
    assert!(control(start(), &always, &rf, 5.0, &only_tracking).is_empty());
}

/// A control station reporting only two months of its own air has no
/// usual (fewer than `min_months` other months). A month copied from the
/// city's median (× 1.05, ±8 % hourly, rounded to whole µg/m³ at 2–16
/// µg/m³, where the rounding is several per cent) is found by its closeness
/// alone; an ordinary month of its own air in its place is not.
#[test]
fn control_station_without_a_usual_copying_its_city() {
    let p = ControlParams::default();
    let (_, rf) = world(181);
    let rf: Vec<f64> = rf.iter().map(|r| (r * 0.2 * 2.0).round() / 2.0).collect();
    let mut n = Noise(11);
    let own = |h: usize, n: &mut Noise| (rf[h] * 0.6 * (0.6 + 0.8 * n.next())).round();
    let mut st = vec![f64::NAN; rf.len()];
    for h in 0..59 * 24 {
        st[h] = own(h, &mut n);
    }
    // May (days 120..151): its own air, then a copy of the city.
    let mut ordinary = st.clone();
    for h in 120 * 24..151 * 24 {
        ordinary[h] = own(h, &mut n);
        st[h] = (rf[h] * 1.05 * (0.92 + 0.16 * n.next())).round();
    }
    assert!(control(start(), &ordinary, &rf, 5.0, &p).is_empty(), "{:?}", control(start(), &ordinary, &rf, 5.0, &p));
    let hits = control(start(), &st, &rf, 5.0, &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].from, hits[0].to), (day_label(120), day_label(151) - 1), "May");
    assert!(hits[0].number("usual").is_none(), "{hits:?}");
    assert!(hits[0].number("spread").unwrap() <= p.tracking_alone, "{hits:?}");
    let off = ControlParams { tracking_alone: 0.0, ..p.clone() };
    assert!(control(start(), &st, &rf, 5.0, &off).is_empty());
}

#[test]
fn screen_station_says_what_could_not_run() {
    let (st, rf) = world(60);
    let p = Params::default();
    let input = StationInput { start: start(), pm25: &st, pm10: &st, ref_pm25: None, ref_pm10: None, control: false };
    let (hits, not_run) = screen_station(&input, &p, &Check::ALL);
    assert!(hits.is_empty());
    let keys: Vec<Check> = not_run.iter().map(|(c, _)| *c).collect();
    assert_eq!(keys, vec![Check::Divergence, Check::ShortDrop, Check::SelectiveGaps, Check::Drift]);
    assert!(not_run.iter().all(|(_, r)| *r == NotRun::NoNeighbours));
    let empty = vec![f64::NAN; 60 * 24];
    let input = StationInput { pm25: &empty, pm10: &empty, ref_pm25: Some(&rf), ..input };
    let (_, not_run) = screen_station(&input, &p, &Check::ALL);
    assert!(matches!(not_run[0].1, NotRun::TooFewHours { have: 0, .. }), "{not_run:?}");
    // Too short for a baseline: said, not guessed.
    let input = StationInput {
        start: start(),
        pm25: &st[..20 * 24],
        pm10: &st[..20 * 24],
        ref_pm25: Some(&rf[..20 * 24]),
        ref_pm10: None,
        control: false,
    };
    let (_, not_run) = screen_station(&input, &p, &[Check::Divergence]);
    assert_eq!(not_run, vec![(Check::Divergence, NotRun::NoBaseline)]);
}

#[test]
fn touching_hits_merge() {
    let hit =
        |from, to, score| Hit { check: Check::Stuck, series: "co", from, to, score, numbers: vec![("hours", 0.0)] };
    let merged = merge(vec![hit(30, 40, 60.0), hit(10, 29, 55.0), hit(50, 60, 70.0)]);
    assert_eq!(merged.len(), 2);
    assert_eq!((merged[0].from, merged[0].to, merged[0].score, merged[0].number("hours")), (10, 40, 60.0, Some(31.0)));
}
