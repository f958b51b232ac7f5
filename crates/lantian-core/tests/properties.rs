//! Property tests: invariants the standards imply for every input.

use lantian_core::aqi::{DailyInput, Indicator, Lookup, daily_aqi, iaqi_lookup};
use lantian_core::period::percentile;
use lantian_core::round::round_half_even;
use lantian_core::series::{CaptureRules, daily_mean, mda8};
use lantian_core::{Edition, Pollutant};
use proptest::prelude::*;

const INDICATORS: [Indicator; 10] = [
    Indicator::So2Daily,
    Indicator::So2Hour,
    Indicator::No2Daily,
    Indicator::No2Hour,
    Indicator::Pm10Daily,
    Indicator::Pm25Daily,
    Indicator::CoDaily,
    Indicator::CoHour,
    Indicator::O3Hour,
    Indicator::O3EightHour,
];

fn value(l: Option<Lookup>) -> u16 {
    match l {
        Some(Lookup::Iaqi(v)) => v,
        Some(Lookup::AboveTable) => u16::MAX,
        None => 0,
    }
}

proptest! {
    #[test]
    fn iaqi_is_monotone(i in 0usize..10, e in prop::bool::ANY, a in 0.0f64..4000.0, b in 0.0f64..4000.0) {
        let ind = INDICATORS[i];
        let ed = if e { Edition::E2026 } else { Edition::E2012 };
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(value(iaqi_lookup(ind, ed, lo)) <= value(iaqi_lookup(ind, ed, hi)));
    }

    #[test]
    fn iaqi_is_within_its_segment(i in 0usize..10, e in prop::bool::ANY, c in 0.0f64..4000.0) {
        let ind = INDICATORS[i];
        let ed = if e { Edition::E2026 } else { Edition::E2012 };
        if let Some(Lookup::Iaqi(v)) = iaqi_lookup(ind, ed, c) {
            prop_assert!(v <= 500);
            // 2026 is never more lenient than 2012 (lower PM breakpoints).
            if let Some(Lookup::Iaqi(old)) = iaqi_lookup(ind, Edition::E2012, c) {
                prop_assert!(value(iaqi_lookup(ind, Edition::E2026, c)) >= old);
            }
        }
    }

    #[test]
    fn aqi_is_the_max_iaqi(pm25 in proptest::option::of(0.0f64..600.0), pm10 in proptest::option::of(0.0f64..700.0), so2 in proptest::option::of(0.0f64..700.0), no2 in proptest::option::of(0.0f64..500.0), co in proptest::option::of(0.0f64..40.0), o3 in proptest::option::of(0.0f64..700.0), o3h in proptest::option::of(0.0f64..900.0), e in prop::bool::ANY) {
        let ed = if e { Edition::E2026 } else { Edition::E2012 };
        let r = daily_aqi(ed, &DailyInput { pm25, pm10, so2, no2, co, o3_8h: o3, o3_1h_max: o3h });
        let max = r.sub_indices.iter().map(|s| s.iaqi).max();
        if let Some(aqi) = r.aqi {
            prop_assert_eq!(Some(aqi), max);
            for p in &r.primary {
                prop_assert!(r.sub_indices.iter().any(|s| s.indicator.pollutant() == *p && s.iaqi == aqi));
            }
            prop_assert_eq!(r.primary.is_empty(), aqi <= 50);
        }
    }

    #[test]
    fn rounding_is_idempotent(x in -1.0e6f64..1.0e6, d in 0u32..4) {
        let once = round_half_even(x, d);
        prop_assert_eq!(round_half_even(once, d), once);
        prop_assert!((once - x).abs() <= 0.5 * 10f64.powi(-(d as i32)) + 1e-9 + 1e-12 * x.abs());
    }

    #[test]
    fn percentile_is_bounded_and_monotone(mut v in prop::collection::vec(0.0f64..1000.0, 1..200), p in 0.0f64..100.0, q in 0.0f64..100.0) {
        let (lo, hi) = if p <= q { (p, q) } else { (q, p) };
        let a = percentile(&mut v, lo).unwrap();
        let b = percentile(&mut v, hi).unwrap();
        prop_assert!(a <= b + 1e-9);
        prop_assert!(a >= v[0] - 1e-9 && b <= v[v.len() - 1] + 1e-9);
    }

    #[test]
    fn too_few_hours_is_never_a_valid_day(present in prop::collection::vec(prop::bool::ANY, 24), level in 1.0f64..300.0) {
        let day: [f64; 24] = std::array::from_fn(|i| if present[i] { level } else { f64::NAN });
        let n = present.iter().filter(|b| **b).count();
        let r = CaptureRules::default();
        prop_assert_eq!(daily_mean(&day, &r).is_some(), n >= 20);
        // MDA8 below the limit needs 14 valid windows; with under 14 hours it can never have them.
        if n < 13 && level <= 160.0 {
            prop_assert!(mda8(&day, &r).0.is_none());
        }
    }

    #[test]
    fn reported_concentration_keeps_precision(x in 0.0f64..1000.0) {
        let co = Pollutant::Co.report(x);
        prop_assert!(((co * 10.0).round() - co * 10.0).abs() < 1e-9);
        prop_assert_eq!(Pollutant::Pm25.report(x).fract(), 0.0);
    }
}
