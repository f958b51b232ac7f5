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
pub fn round_half_even(value: f64, decimals: u32) -> f64 {
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
