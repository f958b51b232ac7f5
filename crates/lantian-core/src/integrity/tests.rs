//! Each check on hand-made series: a signature put in is found where it was
//! put, and the same series without it gives nothing.

// Hour arithmetic reads clearer as index ranges than as iterator chains.
#![allow(clippy::needless_range_loop)]

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
    let (mut st, rf) = world(120);
    let p = ShortDropParams::default();
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    for d in [50, 53, 57] {
        for h in d * 24 + 9..d * 24 + 12 {
            st[h] = (st[h] * 0.2).round();
        }
    }
    let hits = short_drops(&base(&st, &rf), "pm25", &p);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].number("drops"), Some(3.0));
    assert_eq!(hits[0].number("hours"), Some(9.0));
    assert_eq!((hits[0].from, hits[0].to), (day_label(50) + 9, day_label(57) + 11));
    // A single drop is an instrument's hiccup, not a pattern.
    let (mut st, rf) = world(120);
    for h in 50 * 24 + 9..50 * 24 + 12 {
        st[h] *= 0.2;
    }
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
    // A drop that never recovers is divergence's, not this check's.
    let (mut st, rf) = world(120);
    for h in 50 * 24 + 9..120 * 24 {
        st[h] *= 0.2;
    }
    assert!(short_drops(&base(&st, &rf), "pm25", &p).is_empty());
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
    // PM at any level: fourteen hours.
    assert_eq!(stuck(start(), "pm25", &low, &p).len(), 2);
    // CO's resolution is 0.1 mg/m³: 2.0 is twenty steps.
    let mut co = vec![f64::NAN; 48];
    co[0..15].fill(2.0);
    co[20..35].fill(1.9);
    assert_eq!(stuck(start(), "co", &co, &p).len(), 1);
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

#[test]
fn drift_is_a_steady_fall() {
    let p = DriftParams::default();
    let (mut st, rf) = world(140);
    assert!(drift(&base(&st, &rf), "pm25", &p).is_empty());
    // From day 40 on, the station loses ground steadily: 45 % down over 70 days.
    for h in 40 * 24..110 * 24 {
        st[h] *= 1.0 - 0.55 * (h - 40 * 24) as f64 / (70.0 * 24.0);
    }
    for h in 110 * 24..140 * 24 {
        st[h] *= 0.45;
    }
    let hits = drift(&base(&st, &rf), "pm25", &p);
    assert!(!hits.is_empty());
    let merged = merge(hits);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].from >= day_label(28) && merged[0].from <= day_label(60), "{merged:?}");
    assert!(merged[0].number("decline").unwrap() <= 0.65, "{merged:?}");
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
