//! Micro-benchmarks of the hot rules (`cargo bench -p lantian-core`).
//! Whole-program timings are in `bench/run.sh` and docs/PERFORMANCE.md.

use divan::{Bencher, black_box};
use lantian_core::aqi::{DailyInput, HourlyInput, Indicator, daily_aqi, hourly_aqi, iaqi_lookup};
use lantian_core::period::{DayRecord, PeriodCapture, percentile, period_stats};
use lantian_core::series::{CaptureRules, DailyValues, mda8, station_day};
use lantian_core::{Edition, LimitSet};

fn main() {
    divan::main();
}

/// A deterministic day shaped like real data: diurnal O3, two gaps.
fn day(base: f64, seed: u64) -> [f64; 24] {
    std::array::from_fn(|h| {
        if (h as u64 + seed).is_multiple_of(17) {
            f64::NAN
        } else {
            (base * (1.0 + 0.5 * ((h as f64 - 15.0) / 24.0 * std::f64::consts::TAU).cos())).round()
        }
    })
}

#[divan::bench]
fn iaqi_pm25(b: Bencher) {
    b.bench(|| iaqi_lookup(Indicator::Pm25Daily, Edition::E2012, black_box(68.0)));
}

#[divan::bench]
fn hourly_aqi_six(b: Bencher) {
    let input = HourlyInput {
        so2: Some(8.0),
        no2: Some(40.0),
        pm10: Some(58.0),
        pm25: Some(46.0),
        co: Some(1.4),
        o3: Some(2.0),
        so2_24h: None,
    };
    b.bench(|| hourly_aqi(Edition::E2012, black_box(&input)));
}

#[divan::bench]
fn daily_aqi_seven(b: Bencher) {
    let input = DailyInput {
        so2: Some(20.0),
        no2: Some(95.0),
        pm10: Some(135.0),
        pm25: Some(68.0),
        co: Some(1.3),
        o3_8h: Some(180.0),
        o3_1h_max: Some(210.0),
    };
    b.bench(|| daily_aqi(Edition::E2012, black_box(&input)));
}

#[divan::bench]
fn mda8_one_day(b: Bencher) {
    let d = day(90.0, 3);
    let r = CaptureRules::default();
    b.bench(|| mda8(black_box(&d), &r));
}

#[divan::bench]
fn station_day_six_pollutants(b: Bencher) {
    let hours = [day(8.0, 1), day(40.0, 2), day(60.0, 3), day(1.0, 4), day(90.0, 5), day(45.0, 6)];
    let r = CaptureRules::default();
    b.bench(|| station_day(black_box(&hours), &r));
}

#[divan::bench]
fn percentile_365(b: Bencher) {
    let v: Vec<f64> = (0..365).map(|i| ((i * 7919) % 365) as f64).collect();
    b.bench(|| percentile(&mut v.clone(), 95.0));
}

#[divan::bench]
fn period_stats_year(b: Bencher) {
    let recs: Vec<DayRecord> = (0..365)
        .map(|i| DayRecord {
            day: 17_897 + i,
            values: DailyValues {
                so2: Some(8.0),
                no2: Some(30.0 + (i % 20) as f64),
                pm10: Some(60.0 + (i % 50) as f64),
                pm25: Some(40.0 + (i % 40) as f64),
                co: Some(1.0),
                o3_8h: Some(100.0 + (i % 90) as f64),
                ..Default::default()
            },
            aqi: Some(60 + (i % 100) as u16),
        })
        .collect();
    let limits = LimitSet::Gb2012.grade2();
    let cap = PeriodCapture::default();
    b.bench(|| period_stats(black_box(&recs), 17_897, 17_897 + 364, &limits, &cap));
}
