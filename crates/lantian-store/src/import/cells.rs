//! A CNEMC cell with a decimal point (CO is published as "0.4", "1.2"),
//! read eight bytes at a time (SWAR: plain 64-bit integer arithmetic, no
//! `unsafe`, no CPU features) with no branch on its content. A national
//! year has 28 M of them, two rows of fifteen; `parse_value`'s byte loop
//! was a fifth of the time spent reading cells.
//!
//! A cell is read here only when `parse_value` reads it the same way: one
//! to eight bytes of digits with at most one '.' between two digits, at
//! most 100000. Anything else is left to `parse_value`.

use super::rows::code;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;
const LOW7: u64 = ONES * 0x7F;

/// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact: no carry
/// crosses a byte).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !((((x & LOW7) + LOW7) | x) | LOW7)
}

/// Ones in the low `n` bytes (`n` ≤ 8).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    ((1u128 << (8 * n)) - 1) as u64
}

/// The code (`rows::code`) of a cell of `len` bytes (1..=8) whose bytes are the low ones
/// of `word` (little-endian; what lies above them does not matter), if it
/// is one read here (see the module docs). Everything is computed, then
/// checked once at the end.
#[inline(always)]
pub(crate) fn decimal(word: u64, len: usize) -> Option<u32> {
    let l = len.min(8);
    let field = low_bytes(l);
    // A byte is a digit when its high nibble is 3 and its low one below 10.
    let not_digit = ((word & (ONES * 0xF0)) ^ (ONES * 0x30)) | (((word & (ONES * 0x0F)) + ONES * 6) & (ONES * 0xF0));
    let not_digit = ((((not_digit & LOW7) + LOW7) | not_digit) & HIGH) & field;
    let dots = zero_bytes(word ^ (ONES * u64::from(b'.'))) & field;
    // At most one dot, not first or last (".5" and "5." go the general way).
    let q = (dots.trailing_zeros() / 8) as usize; // 8: none
    let dot_ok = dots & dots.wrapping_sub(1) == 0 && (dots == 0 || (q > 0 && q + 1 < l));
    let has_dot = usize::from(dots != 0);
    // The digits' values with the dot taken out, then right-aligned (leading
    // zeros in the low bytes) and combined pairwise three times.
    let nibbles = word & (ONES * 0x0F);
    let below = low_bytes(q.min(8));
    let digits = l - has_dot;
    let packed = ((nibbles & below) | ((nibbles >> 8) & !below)) & low_bytes(digits);
    let v = ((u128::from(packed) << (8 * (8 - digits))) & u128::from(u64::MAX)) as u64;
    let v = ((v & (ONES * 0x0F)).wrapping_mul(2561) >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(6_553_601) >> 16) & 0x0000_FFFF_0000_FFFF;
    let n = v.wrapping_mul(42_949_672_960_001) >> 32;
    let frac = l.saturating_sub(q + 1) * has_dot;
    // At most 100000 (`n / 10^frac` rounds to above it exactly when `n` is
    // above: frac ≤ 6 leaves f64 digits to spare).
    const LIMIT: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    let ok = (1..=8).contains(&len) && (not_digit & !dots) == 0 && dot_ok && n <= 100_000 * LIMIT[frac.min(7)];
    if ok { code::decimal(n, frac) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_value;

    fn word(cell: &[u8]) -> u64 {
        let mut w = [b'7'; 8]; // what follows the cell must not matter
        w[..cell.len()].copy_from_slice(cell);
        u64::from_le_bytes(w)
    }

    /// Every cell read here reads as `parse_value` reads it, and every
    /// usual one is read here.
    #[test]
    fn decimals_read_as_parse_value_reads_them() {
        let cells: &[&str] = &[
            "0", "7", "35", "0035", "9999", "10000", "99999", "100000", "100001", "12345678", "0.4", "1.2", "12.5",
            "0.725", "00.4", "100000.0", "100000.1", "99999.9", ".4", "4.", ".", "1.2.3", "-3", " 35", "3 ", "/", ":",
            "3:", "/9", "NA", "1e2", "+5", "0.0", "0000000", "1.", "0.00001", "\u{2014}",
        ];
        for c in cells {
            let b = c.as_bytes();
            if b.len() > 8 {
                continue;
            }
            let expect = parse_value(b).ok().flatten();
            let usual = b.iter().filter(|&&x| x == b'.').count() <= 1
                && b.iter().all(|x| x.is_ascii_digit() || *x == b'.')
                && !c.starts_with('.')
                && !c.ends_with('.');
            match decimal(word(b), b.len()).map(|c| code::decode(c, &[])) {
                Some(v) => assert_eq!(Some(v.to_bits()), expect.map(f64::to_bits), "{c:?}"),
                None => assert!(!usual || expect.is_none(), "{c:?} should be read here"),
            }
        }
        // Every decimal of up to eight bytes, exhaustively for short ones.
        for n in 0..100_000u32 {
            for f in [
                format!("{}.{}", n / 10, n % 10),
                format!("{}.{:02}", n / 100, n % 100),
                format!("{}.{:03}", n / 1000, n % 1000),
            ] {
                let v = decimal(word(f.as_bytes()), f.len()).map(|c| code::decode(c, &[]).to_bits());
                assert_eq!(v, parse_value(f.as_bytes()).ok().flatten().map(f64::to_bits), "{f}");
            }
        }
    }
}
