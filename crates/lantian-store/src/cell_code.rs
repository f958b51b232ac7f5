//! A day block's cell in 32 bits, exactly the value read: a whole number
//! below 2^27 is itself (as `wide::read` gives them); a decimal is its
//! digits and its count of fractional digits (`frac << 27 | digits`, as
//! `cells::decimal` reads CO); anything else an index into the block's
//! extras. Decoded as the parsers read the text (`digits / 10^frac`), so
//! the merged values are bit for bit those of parsing to f64 directly.
//! (Its own module: the parsers write codes, `partition::merge_day` reads them.)

/// 10^frac for a decimal's digits (exact in f64), as the parsers divide.
const POW10: [f64; 8] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7];

/// Codes below are whole numbers.
pub(crate) const DECIMAL: u32 = 1 << 27;
/// Codes from here (below `INVALIDATED`) index the block's extras.
pub(crate) const EXTRA: u32 = 1 << 30;
/// A blank cell of an auditor's file, whose value is `INVALIDATED_VALUE`.
pub(crate) const INVALIDATED: u32 = u32::MAX - 1;
/// `partition::INVALIDATED` (held equal there).
pub(crate) const INVALIDATED_VALUE: f64 = f64::NEG_INFINITY;
/// No value (NaN).
pub(crate) const EMPTY: u32 = u32::MAX;

/// A whole number or a decimal: `digits / 10^frac`, if a code holds it.
#[inline(always)]
pub(crate) fn decimal(digits: u64, frac: usize) -> Option<u32> {
    (digits < u64::from(DECIMAL) && frac < 8).then_some(((frac as u32) << 27) | digits as u32)
}

/// Any value: its extras index when no code holds it (whole, in range).
pub(crate) fn value(v: f64, extras: &mut Vec<f64>) -> u32 {
    if v.is_nan() {
        return EMPTY;
    }
    if v == INVALIDATED_VALUE {
        return INVALIDATED;
    }
    if v >= 0.0 && v < f64::from(DECIMAL) && v.fract() == 0.0 && v.to_bits() != (-0.0f64).to_bits() {
        return v as u32;
    }
    // A block has far fewer cells than 2^30 (a file is at most 4 GiB).
    let at = u32::try_from(extras.len()).ok().filter(|&i| i < INVALIDATED - EXTRA);
    extras.push(v);
    at.map_or(EMPTY, |i| EXTRA + i)
}

/// The value of `c` (NaN: none).
#[inline(always)]
pub(crate) fn decode(c: u32, extras: &[f64]) -> f64 {
    // Whole numbers and empty cells by an integer blend, not a branch:
    // which cells are empty follows no pattern (as a branch, a tenth
    // of the merge's time went to mispredictions).
    let empty = u64::from(c == EMPTY).wrapping_neg();
    let v = f64::from_bits((f64::from(c).to_bits() & !empty) | (f64::NAN.to_bits() & empty));
    // Decimals by a branch, taken by CO's kinds in turn (a pattern).
    if c.wrapping_sub(DECIMAL) < EMPTY - DECIMAL {
        if c < EXTRA {
            return f64::from(c & (DECIMAL - 1)) / POW10[(c >> 27) as usize];
        }
        return rare(c, extras);
    }
    v
}

#[cold]
fn rare(c: u32, extras: &[f64]) -> f64 {
    match c {
        INVALIDATED => INVALIDATED_VALUE,
        _ => extras.get((c - EXTRA) as usize).copied().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use crate::cell_code as code;

    /// Every value comes back bit for bit: whole numbers and decimals as
    /// codes, anything else (large, negative, signed zero, long decimals)
    /// through the extras; no value and an invalidation as themselves.
    #[test]
    fn codes_keep_every_value() {
        let mut extras = Vec::new();
        let values = [
            0.0,
            7.0,
            9999.0,
            134_217_727.0,
            134_217_728.0,
            1e12,
            -3.0,
            -0.0,
            0.4,
            12.5,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            code::INVALIDATED_VALUE,
        ];
        let codes: Vec<u32> = values.iter().map(|&v| code::value(v, &mut extras)).collect();
        for (v, &c) in values.iter().zip(&codes) {
            assert_eq!(code::decode(c, &extras).to_bits(), v.to_bits(), "{v}");
        }
        assert_eq!(codes[..4], [0, 7, 9999, 134_217_727], "whole numbers are themselves");
        assert_eq!(codes[12], code::INVALIDATED);
        assert_eq!(extras.len(), 8, "{extras:?}");
        assert!(code::decode(code::value(f64::NAN, &mut extras), &extras).is_nan());
        assert_eq!(code::value(f64::NAN, &mut extras), code::EMPTY);
        // Decimals as the parsers read them: digits over a power of ten.
        for (digits, frac, v) in
            [(4, 1, 0.4), (725, 3, 0.725), (1_000_000, 1, 100_000.0), (99_999_999, 6, 99.999999f64)]
        {
            let c = code::decimal(digits, frac).unwrap();
            assert_eq!(code::decode(c, &[]).to_bits(), v.to_bits(), "{digits} / 10^{frac}");
        }
        assert_eq!(code::decimal(1 << 27, 1), None, "too many digits for a code");
        // An extras index past the block's extras reads as no value.
        assert!(code::decode(code::EXTRA + 1000, &extras).is_nan());
    }
}
