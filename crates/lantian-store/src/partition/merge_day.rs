//! A day block's station day merged into a month's station block: the
//! merge of a CNEMC import, once per station and day (590 K times a
//! national year), so it has an AVX-512 twin (`crate::simd`) that gives
//! the same values and counts (a test holds them equal).

use super::MergeCounts;
use crate::cell_code as code;
use crate::kinds::N_KINDS;
use lantian_core::time::HourLabel;

const _: () = assert!(code::INVALIDATED_VALUE.to_bits() == super::INVALIDATED.to_bits());

/// `Partition::merge_day` on a bare station block (`N_KINDS` series of the
/// month's `len` labels from `start`): a day block's station `codes`
/// (hour-major, see `import::rows::DayBlock`) and the block's `extras`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn merge_day_into(
    values: &mut [f64],
    start: HourLabel,
    len: usize,
    day_start: HourLabel,
    codes: &[u32],
    extras: &[f64],
    counts: &mut MergeCounts,
) {
    let off = day_start - start;
    let Ok(codes) = <&[u32; N_KINDS * 24]>::try_from(codes) else { return };
    if off < 0 || off as usize + 24 > len || values.len() != N_KINDS * len {
        return;
    }
    for k in 0..N_KINDS {
        let at = k * len + off as usize;
        let cells: &mut [f64; 24] = (&mut values[at..at + 24]).try_into().expect("24 hours");
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx512() {
            // SAFETY: `avx512` checked the features `kind_avx512` is compiled for.
            if unsafe { x86::kind_avx512(cells, codes, k, counts) } {
                continue;
            }
        }
        merge_kind(cells, codes, k, extras, counts);
    }
}

/// Kind `k`'s 24 hours of `codes` merged into `cells`: a value replaces
/// the old one (counted as imported, unchanged or revised), no value keeps
/// it.
fn merge_kind(cells: &mut [f64; 24], codes: &[u32; N_KINDS * 24], k: usize, extras: &[f64], counts: &mut MergeCounts) {
    // Decoded first (in L1), then merged as one contiguous run the compiler
    // vectorises, branch-free: which cells are missing follows no pattern.
    let day: [f64; 24] = std::array::from_fn(|h| code::decode(codes[h * N_KINDS + k], extras));
    let (mut imported, mut unchanged, mut revised) = (0u64, 0u64, 0u64);
    for (cell, &v) in cells.iter_mut().zip(&day) {
        let (new, old) = (!v.is_nan(), *cell);
        let had = !old.is_nan();
        imported += u64::from(new & !had);
        unchanged += u64::from(new & had & (old == v));
        revised += u64::from(new & had & (old != v));
        *cell = if new { v } else { old };
    }
    counts.imported += imported;
    counts.unchanged += unchanged;
    counts.revised += revised;
}

/// A kind's 24 codes gathered from the hour-major day (the strided,
/// dependent loads of the scalar twin were most of the merge's time),
/// decoded eight at a time (decimals by a division, exact as the scalar
/// one), merged under masks.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MergeCounts, N_KINDS, code};
    use std::arch::x86_64::*;

    const POW10: [f64; 8] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7];

    /// `merge_kind` without extras and invalidations: false (nothing done)
    /// when any of the kind's codes is one, for the scalar twin to do.
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) fn kind_avx512(
        cells: &mut [f64; 24],
        codes: &[u32; N_KINDS * 24],
        k: usize,
        counts: &mut MergeCounts,
    ) -> bool {
        let stride = _mm512_setr_epi32(0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180, 195, 210, 225);
        let k32 = _mm512_set1_epi32(k as i32);
        // SAFETY: the indices are k + 15·h for h < 24, below 360 = codes.len()
        // (k < 15: the caller's loop).
        let (first, last) = unsafe {
            let first = _mm512_i32gather_epi32::<4>(_mm512_add_epi32(stride, k32), codes.as_ptr().cast());
            let idx = _mm256_add_epi32(_mm512_castsi512_si256(stride), _mm256_set1_epi32(k as i32 + 240));
            (first, _mm256_mmask_i32gather_epi32::<4>(_mm256_setzero_si256(), 0xFF, idx, codes.as_ptr().cast()))
        };
        let parts = [_mm512_castsi512_si256(first), _mm512_extracti64x4_epi64::<1>(first), last];
        let empty32 = _mm256_set1_epi32(code::EMPTY as i32);
        let extra = _mm256_set1_epi32(code::EXTRA as i32);
        let decimal = _mm256_set1_epi32(code::DECIMAL as i32);
        // Extras and invalidations (codes from EXTRA on, but for EMPTY): the scalar twin's.
        for &q in &parts {
            if _mm256_cmpge_epu32_mask(q, extra) & !_mm256_cmpeq_epi32_mask(q, empty32) != 0 {
                return false;
            }
        }
        // SAFETY: POW10 is 8 f64.
        let pow10 = unsafe { _mm512_loadu_pd(POW10.as_ptr()) };
        let nan = _mm512_set1_pd(f64::NAN);
        let (mut imported, mut unchanged, mut revised) = (0u32, 0u32, 0u32);
        for (j, &q) in parts.iter().enumerate() {
            let present = !_mm256_cmpeq_epi32_mask(q, empty32);
            let mut v = _mm512_cvtepu32_pd(_mm256_and_si256(q, _mm256_set1_epi32(code::DECIMAL as i32 - 1)));
            let dec = _mm256_cmpge_epu32_mask(q, decimal) & present;
            if dec != 0 {
                let frac = _mm512_cvtepu32_epi64(_mm256_srli_epi32::<27>(q));
                v = _mm512_mask_div_pd(v, dec, v, _mm512_permutexvar_pd(frac, pow10));
            }
            let v = _mm512_mask_blend_pd(present, nan, v);
            // SAFETY: lanes 8j..8j+8 of the 24 cells.
            let old = unsafe { _mm512_loadu_pd(cells.as_ptr().add(8 * j)) };
            let had = _mm512_cmp_pd_mask::<_CMP_ORD_Q>(old, old);
            let same = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(old, v);
            imported += (present & !had).count_ones();
            unchanged += (present & had & same).count_ones();
            revised += (present & had & !same).count_ones();
            // SAFETY: as the load.
            unsafe { _mm512_mask_storeu_pd(cells.as_mut_ptr().add(8 * j), present, v) };
        }
        counts.imported += u64::from(imported);
        counts.unchanged += u64::from(unchanged);
        counts.revised += u64::from(revised);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX-512 path and the scalar one give the same month and counts
    /// on days of every kind of code (whole, decimal, empty, extras,
    /// invalidated), over months with old values, missing ones and
    /// invalidations.
    #[test]
    fn both_paths_merge_alike() {
        let mut x = 3u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        let len = 48;
        for round in 0..400 {
            let mut extras = vec![f64::NAN];
            let codes: Vec<u32> = (0..N_KINDS * 24)
                .map(|_| match next() % 20 {
                    0..=7 => next() % 600,
                    8..=10 => code::EMPTY,
                    11..=15 => code::decimal(u64::from(next() % 100_000), (next() % 7) as usize).unwrap(),
                    16 if round % 3 == 0 => code::INVALIDATED,
                    17 if round % 3 == 1 => code::value(f64::from(next() % 1000) + 0.5, &mut extras),
                    18 => code::decimal(u64::from(next() % 10), 0).unwrap(),
                    _ => next() % 10,
                })
                .collect();
            let month: Vec<f64> = (0..N_KINDS * len)
                .map(|_| match next() % 6 {
                    0 | 1 => f64::NAN,
                    2 => crate::partition::INVALIDATED,
                    _ => f64::from(next() % 10),
                })
                .collect();
            let start = 1000;
            let day = start + (round % 25) as i64;
            let (mut a, mut b) = (month.clone(), month);
            let (mut ca, mut cb) = (MergeCounts::default(), MergeCounts::default());
            let codes: &[u32; N_KINDS * 24] = codes.as_slice().try_into().unwrap();
            let off = (day - start) as usize;
            for k in 0..N_KINDS {
                let at = k * len + off;
                merge_kind((&mut a[at..at + 24]).try_into().unwrap(), codes, k, &extras, &mut ca);
                let cells: &mut [f64; 24] = (&mut b[at..at + 24]).try_into().unwrap();
                #[cfg(target_arch = "x86_64")]
                if crate::simd::avx512() && unsafe { x86::kind_avx512(cells, codes, k, &mut cb) } {
                    continue;
                }
                merge_kind(cells, codes, k, &extras, &mut cb);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "round {round}");
            assert_eq!(ca, cb, "round {round}");
            // And through the entry point, which picks the path itself.
            let mut c = vec![f64::NAN; N_KINDS * len];
            let mut cc = MergeCounts::default();
            merge_day_into(&mut c, start, len, day, codes, &extras, &mut cc);
            assert_eq!(cc.imported as usize, (0..N_KINDS * 24).filter(|&i| codes[i] != code::EMPTY).count());
        }
    }
}
