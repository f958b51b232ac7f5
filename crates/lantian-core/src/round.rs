//! Rounding rules: GB/T 8170 (round half to even, 四舍六入五成双) for reported
//! concentrations and statistics, and the ceiling rule of HJ 633 for IAQI.
//!
//! Floating point cannot represent most decimal halves exactly (a mean of CO
//! values such as 1.2 may come out as 12.499999999999 tenths), so a scaled
//! value within 1e-9 (or 1e-12 relative, for large values) of a half is
//! treated as the half. Reported statistics here have a few significant
//! digits, far coarser than that tolerance.

/// Absolute tolerance on scaled values.
const ABS_EPS: f64 = 1e-9;
/// Relative tolerance for large scaled values (accumulated summation error).
const REL_EPS: f64 = 1e-12;

fn tolerance(scaled: f64) -> f64 {
    ABS_EPS.max(REL_EPS * scaled.abs())
}

/// GB/T 8170-2008 §3.3 rounding to `decimals` places: round half to even,
/// applied once to the unrounded value. Non-finite input is returned as is.
#[inline]
pub fn round_half_even(value: f64, decimals: u32) -> f64 {
    if !value.is_finite() {
        return value;
    }
    // The same numbers as `powi`, `floor` and `% 2.0`, without their
    // library calls (the target has no rounding instruction; these were a
    // twentieth of a year's assessment): small powers of ten are exact, a
    // non-negative value below 2^52 floors by truncation, and anything
    // from 2^52 up is already a whole (and even) number.
    let scale = match decimals {
        0 => 1.0,
        1 => 10.0,
        2 => 100.0,
        _ => 10f64.powi(decimals as i32),
    };
    let scaled = value.abs() * scale;
    const WHOLE: f64 = 4_503_599_627_370_496.0; // 2^52
    // (i64: one instruction; u64 is a branchy sequence without AVX-512.)
    let floor = if scaled < WHOLE { (scaled as i64) as f64 } else { scaled };
    let frac = scaled - floor;
    let tol = tolerance(scaled);
    let rounded = if (frac - 0.5).abs() <= tol {
        // Whole numbers from 2^63 up are all even (the cast would saturate).
        let even = floor >= 9_223_372_036_854_775_808.0 || (floor as i64) & 1 == 0;
        if even { floor } else { floor + 1.0 }
    } else if frac < 0.5 {
        floor
    } else {
        floor + 1.0
    };
    // x / 1 is x: no division for whole-number precision.
    let res = if decimals == 0 { rounded } else { rounded / scale };
    if value < 0.0 && res != 0.0 { -res } else { res }
}

/// Ceiling that does not turn 100.00000000000001 into 101 (HJ 633-2012 §6.2,
/// HJ 633-2026 §4.2.6 "全部向上进位取整数").
pub fn ceil_tolerant(value: f64) -> f64 {
    let nearest = value.round();
    if (value - nearest).abs() <= tolerance(value) { nearest } else { value.ceil() }
}

/// Integer ceiling division for non-negative numerator and positive
/// denominator; the exact arithmetic behind every IAQI.
pub(crate) fn ceil_div(numerator: i64, denominator: i64) -> i64 {
    debug_assert!(denominator > 0);
    numerator.div_euclid(denominator) + i64::from(numerator.rem_euclid(denominator) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `round_half_even` as first written, with the library's `powi`,
    /// `floor` and `%`: the rewrite must give the same bits.
    fn reference(value: f64, decimals: u32) -> f64 {
        if !value.is_finite() {
            return value;
        }
        let scale = 10f64.powi(decimals as i32);
        let scaled = value.abs() * scale;
        let floor = scaled.floor();
        let frac = scaled - floor;
        let tol = tolerance(scaled);
        let rounded = if (frac - 0.5).abs() <= tol {
            if floor % 2.0 == 0.0 { floor } else { floor + 1.0 }
        } else if frac < 0.5 {
            floor
        } else {
            floor + 1.0
        };
        let res = rounded / scale;
        if value < 0.0 && res != 0.0 { -res } else { res }
    }

    #[test]
    fn same_bits_as_the_library_rounding() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -3.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_497.0,
            9_007_199_254_740_993.0,
            9.3e18,
            1.8e19,
            1e300,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut x = 12345u64;
        for i in 0..200_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            values.push(match i % 4 {
                0 => u * 1000.0,
                1 => (u * 2000.0).round() / 20.0, // near halves at one and two decimals
                2 => f64::from_bits(x),
                _ => (u - 0.5) * 1e6,
            });
        }
        for v in values {
            for d in [0, 1, 2, 3, 6] {
                let (a, b) = (round_half_even(v, d), reference(v, d));
                assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{v:e} at {d}: {a:e} vs {b:e}");
            }
        }
    }

    #[test]
    fn halves_go_to_even() {
        assert_eq!(round_half_even(0.5, 0), 0.0);
        assert_eq!(round_half_even(1.5, 0), 2.0);
        assert_eq!(round_half_even(2.5, 0), 2.0);
        assert_eq!(round_half_even(3.5, 0), 4.0);
        assert_eq!(round_half_even(52.5, 0), 52.0);
        assert_eq!(round_half_even(53.5, 0), 54.0);
        assert_eq!(round_half_even(-2.5, 0), -2.0);
    }

    #[test]
    fn gbt8170_examples() {
        // GB/T 8170-2008 examples: 12.1498 → 12.1; 1268 → 1.27e3 style cases
        // are covered by decimals; 10.502 → 11 (above half); 0.35 → 0.4,
        // 0.45 → 0.4 (half to even at one decimal).
        assert_eq!(round_half_even(12.1498, 1), 12.1);
        assert_eq!(round_half_even(10.502, 0), 11.0);
        assert_eq!(round_half_even(0.35, 1), 0.4);
        assert_eq!(round_half_even(0.45, 1), 0.4);
        assert_eq!(round_half_even(1.25, 1), 1.2);
        assert_eq!(round_half_even(1.35, 1), 1.4);
    }

    #[test]
    fn float_noise_is_not_a_half_miss() {
        // 24 CO values of 1.2, 1.3 alternating: mean 1.25 exactly in decimal.
        let v: Vec<f64> = (0..24).map(|i| if i % 2 == 0 { 1.2 } else { 1.3 }).collect();
        let mean = v.iter().sum::<f64>() / 24.0;
        assert_eq!(round_half_even(mean, 1), 1.2);
        assert_eq!(round_half_even(2.675, 2), 2.68);
    }

    #[test]
    fn ceiling_is_tolerant() {
        assert_eq!(ceil_tolerant(100.00000000000001), 100.0);
        assert_eq!(ceil_tolerant(100.2), 101.0);
        assert_eq!(ceil_tolerant(91.25), 92.0);
        assert_eq!(ceil_div(7, 2), 4);
        assert_eq!(ceil_div(8, 2), 4);
        assert_eq!(ceil_div(0, 5), 0);
    }
}
