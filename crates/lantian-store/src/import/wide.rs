//! CNEMC cells read 64 bytes at a time with AVX-512 (VBMI2's byte
//! compress, VBMI's byte permute), on CPUs that have them; the scalar
//! reader (`cnemc::Fields`) reads everything else, and everything where
//! this one stops.
//!
//! Why: the scalar reader spends ~40 instructions a cell (find the comma,
//! check the digits, combine them, store), and a national year has 211 M
//! cells; the scalar variants tried (bitmask commas, branch-free selects,
//! written-out dispatch: docs/PERFORMANCE.md) all landed there. Here a
//! window's commas become a byte vector of their positions (compress), the
//! four bytes before each comma are gathered into a 32-bit lane (permute),
//! and sixteen cells' values come out of two multiply-adds: a few
//! instructions a cell.
//!
//! Only what the scalar reader reads as `Field::Empty` or `Field::Short`
//! (empty, or one to four ASCII digits) is read here. At the first window
//! holding anything else (CO's decimals, a long or odd cell) the reader
//! stops and says where, so the scalar reader goes on from a cell boundary
//! with the same results; a test holds the two equal on random lines.

/// A cell with no value, in `read`'s output.
pub(crate) const EMPTY: u32 = u32::MAX;

/// Reads the leading cells of `cells` (a row's station cells, comma
/// separated) while they are empty or one to four digits, pushing each
/// one's value (`EMPTY` for an empty cell) to `out`. Returns how many bytes
/// were read: each read cell with its comma, so the rest starts a cell. The
/// line's last cell is never read here (it has no comma), nor the cells
/// after the last whole window of 64 bytes. Reads nothing unless
/// `crate::simd::avx512()`.
pub(crate) fn read(cells: &[u8], out: &mut Vec<u32>) -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx512() {
        // SAFETY: `avx512` checked the features `read_avx512` is compiled for.
        return unsafe { x86::read_avx512(cells, out) };
    }
    let _ = (cells, out);
    0
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::EMPTY;
    use std::arch::x86_64::*;

    /// Byte `i` is `i`: compressed by the comma mask, the commas' positions.
    const IOTA: [u8; 64] = {
        let mut a = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            a[i] = i as u8;
            i += 1;
        }
        a
    };

    /// Byte `i` is `i - 1` (byte 0: 63, then replaced): a vector of
    /// positions shifted up one lane, the previous comma of each.
    const PREV: [u8; 64] = {
        let mut a = [0u8; 64];
        let mut i = 1;
        while i < 64 {
            a[i] = (i - 1) as u8;
            i += 1;
        }
        a[0] = 63;
        a
    };

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2")]
    pub(super) fn read_avx512(cells: &[u8], out: &mut Vec<u32>) -> usize {
        let iota = load(&IOTA);
        let prev = load(&PREV);
        let comma = _mm512_set1_epi8(b',' as i8);
        let zero = _mm512_set1_epi8(b'0' as i8);
        let nine = _mm512_set1_epi8(9);
        let four = _mm512_set1_epi8(4);
        // Each 32-bit lane's low byte, to all four of its bytes.
        let spread = _mm512_set4_epi32(0x0c0c_0c0c, 0x0808_0808, 0x0404_0404, 0);
        let byte_in_lane = _mm512_set1_epi32(0x0302_0100);
        let weights = _mm512_set1_epi32(0x010a_010a); // 10, 1, 10, 1 (i8)
        let hundreds = _mm512_set1_epi32(0x0001_0064); // 100, 1 (i16)
        let ones = _mm512_set1_epi32(-1);
        let empty = _mm512_set1_epi32(EMPTY as i32);
        let mut pos = 0;
        while let Some(window) = cells.get(pos..pos + 64) {
            let v = load(window.try_into().expect("64 bytes"));
            let commas = _mm512_cmpeq_epi8_mask(v, comma);
            let digits = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, zero), nine);
            if commas == 0 {
                break;
            }
            // Up to and with the window's last comma: only commas and digits.
            let last = 63 - commas.leading_zeros() as usize;
            let span = u64::MAX >> (63 - last);
            if !(commas | digits) & span != 0 {
                break;
            }
            let n = commas.count_ones() as usize;
            // Where each cell's comma is, and the comma before it (-1 for
            // the window's first cell): its length between them.
            let at = _mm512_maskz_compress_epi8(commas, iota);
            let before = _mm512_mask_blend_epi8(1, _mm512_permutexvar_epi8(prev, at), _mm512_set1_epi8(-1));
            let len = _mm512_sub_epi8(_mm512_sub_epi8(at, before), _mm512_set1_epi8(1));
            let cells_mask = u64::MAX >> (64 - n);
            if _mm512_cmpgt_epu8_mask(len, four) & cells_mask != 0 {
                break;
            }
            let mut g = 0;
            while g < n {
                // Sixteen cells: their comma positions and lengths as 32-bit lanes.
                let at32 = _mm512_cvtepu8_epi32(lane16(at, g));
                let len32 = _mm512_cvtepu8_epi32(lane16(len, g));
                // The four bytes before each comma (positions below the window
                // wrap around; their bytes are dropped below with the ones
                // before the cell), digits' values in place.
                let idx = _mm512_sub_epi8(_mm512_add_epi8(_mm512_shuffle_epi8(at32, spread), byte_in_lane), four);
                let bytes = _mm512_sub_epi8(_mm512_permutexvar_epi8(idx, v), zero);
                let keep = _mm512_sllv_epi32(ones, _mm512_slli_epi32(_mm512_sub_epi32(_mm512_set1_epi32(4), len32), 3));
                let d = _mm512_and_si512(bytes, keep);
                // (d0·10 + d1)·100 + (d2·10 + d3), leading positions zero.
                let value = _mm512_madd_epi16(_mm512_maddubs_epi16(d, weights), hundreds);
                let none = _mm512_cmpeq_epi32_mask(len32, _mm512_setzero_si512());
                let value = _mm512_mask_blend_epi32(none, value, empty);
                // Straight into `out` (a copy through an array was a
                // `memmove` call per group).
                out.reserve(16);
                let len = out.len();
                // SAFETY: `reserve` made room for 16 more `u32` (64 bytes)
                // after `len`; the first `min(n - g, 16)` are now written.
                unsafe {
                    _mm512_storeu_si512(out.as_mut_ptr().add(len).cast(), value);
                    out.set_len(len + (n - g).min(16));
                }
                g += 16;
            }
            pos += last + 1;
        }
        pos
    }

    /// 64 bytes as a vector.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(bytes: &[u8; 64]) -> __m512i {
        // SAFETY: the reference is 64 readable bytes; the load is unaligned.
        unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) }
    }

    /// Bytes `g..g + 16` of `v` (`g` a multiple of 16, below 64).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn lane16(v: __m512i, g: usize) -> __m128i {
        match g {
            0 => _mm512_extracti32x4_epi32::<0>(v),
            16 => _mm512_extracti32x4_epi32::<1>(v),
            32 => _mm512_extracti32x4_epi32::<2>(v),
            _ => _mm512_extracti32x4_epi32::<3>(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the scalar reader makes of the cells `read` read: empty or one
    /// to four digits, each with its comma.
    fn reference(cells: &[u8], consumed: usize) -> Vec<u32> {
        assert!(consumed == 0 || cells[consumed - 1] == b',', "stops after a comma");
        cells[..consumed.saturating_sub(1)]
            .split(|&b| b == b',')
            .take(if consumed == 0 { 0 } else { usize::MAX })
            .map(|f| {
                assert!(f.len() <= 4 && f.iter().all(u8::is_ascii_digit), "{f:?} is not for the wide reader");
                if f.is_empty() { EMPTY } else { std::str::from_utf8(f).unwrap().parse().unwrap() }
            })
            .collect()
    }

    /// On random lines of the cells a CNEMC file has (and odd ones), the
    /// wide reader reads what a plain split reads, stops at a cell
    /// boundary, and reads most of a line of usual cells.
    #[test]
    fn wide_reader_agrees_with_a_plain_split() {
        if !crate::simd::avx512() {
            eprintln!("no AVX-512 VBMI2 here: the wide reader is not used");
            return;
        }
        let usual: &[&[u8]] = &[b"", b"0", b"7", b"35", b"0035", b"999", b"9999", b"123", b"", b"42"];
        let odd: &[&[u8]] = &[b"10000", b"0.4", b"1.25", b"-3", b" 35", b"/", b":", b"NA", b"\xe2\x80\x94", b"\r"];
        let mut x = 2026u64;
        let mut rng = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let mut out = Vec::new();
        for round in 0..20_000 {
            let n = 1 + rng() % 200;
            let mut line = Vec::new();
            let odd_at = if round % 3 == 0 { rng() % n } else { usize::MAX };
            for i in 0..n {
                if i > 0 {
                    line.push(b',');
                }
                let piece = if i == odd_at { odd[rng() % odd.len()] } else { usual[rng() % usual.len()] };
                line.extend_from_slice(piece);
            }
            out.clear();
            let consumed = read(&line, &mut out);
            assert_eq!(out, reference(&line, consumed), "{:?}", String::from_utf8_lossy(&line));
            if odd_at == usize::MAX {
                assert!(consumed + 64 + 5 >= line.len(), "stopped early: {consumed} of {}", line.len());
            }
        }
        // Every value of up to four digits at a few offsets; every 97th at
        // every offset in and across a window (a prefix of `pad` bytes).
        for n in 0..10_000u32 {
            let every = n % 97 == 0;
            for s in [format!("{n},"), format!("{n:04},"), format!("{n:03},")] {
                for pad in (0..140).filter(|p| every || [0, 61, 62, 63, 64].contains(p)) {
                    let prefix = format!("{}{}", ",".repeat(pad % 2), "1,".repeat(pad / 2));
                    let line = format!("{prefix}{s}{}", "2,".repeat(40));
                    out.clear();
                    let consumed = read(line.as_bytes(), &mut out);
                    assert_eq!(out, reference(line.as_bytes(), consumed), "{line}");
                    assert!(out.len() > pad / 2 + pad % 2, "{line}");
                }
            }
        }
    }
}
