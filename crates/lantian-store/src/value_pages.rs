//! A month file's column chunks decoded straight from their pages: the
//! reading counterpart of `value_chunk`.
//!
//! Why not the Arrow reader: for a month's dictionary-coded values it
//! decodes the indices, gathers the values into an array, pads the nulls
//! into place and builds a validity bitmap, and the month then copies the
//! valid stretches out again; with the station names and the times that
//! was ~35 % of a year's assessment. Here a chunk becomes one value per row
//! in a single pass through a small table (the dictionary, with a slot for
//! null), and the month copies whole runs of rows.
//!
//! Only what the store writes is handled: PLAIN dictionary pages, and v1
//! data pages whose values are dictionary indices (or PLAIN), with RLE
//! definition levels. Anything else (another writer's v2 pages, other
//! encodings, a malformed page) gives `None`, and the caller reads the file
//! through the Arrow reader, which reads any Parquet and reports errors.

use bytes::Bytes;
use parquet::basic::Encoding;
use parquet::column::page::{Page, PageReader};

/// A v1 data page.
struct DataPage {
    buf: Bytes,
    rows: usize,
    encoding: Encoding,
}

enum Part {
    /// The dictionary page: its PLAIN values and their number.
    Dictionary(Bytes, usize),
    Data(DataPage),
}

fn walk(pages: &mut dyn PageReader, mut on: impl FnMut(Part) -> Option<()>) -> Option<()> {
    while let Some(page) = pages.get_next_page().ok()? {
        match page {
            Page::DictionaryPage {
                buf, num_values, encoding: Encoding::PLAIN | Encoding::PLAIN_DICTIONARY, ..
            } => on(Part::Dictionary(buf, num_values as usize))?,
            Page::DataPage { buf, num_values, encoding, def_level_encoding: Encoding::RLE, .. } => {
                on(Part::Data(DataPage { buf, rows: num_values as usize, encoding }))?
            }
            _ => return None,
        }
    }
    Some(())
}

/// Reusable buffers of a reader.
#[derive(Default)]
pub(crate) struct Decoder {
    levels: Vec<u32>,
    indices: Vec<u32>,
    /// A page's indices with nulls (the null slot) put in.
    rows: Vec<u32>,
    /// The chunk's dictionary as values, null last.
    table: Vec<f64>,
    /// A data page's values (PLAIN pages).
    page_values: Vec<f64>,
}

/// A data page's values, one per row: dictionary indices into a table (the
/// usual case), or the values themselves.
pub(crate) enum PageRows<'a> {
    Indexed { indices: &'a [u32], table: &'a [f64] },
    Values(&'a [f64]),
}

impl PageRows<'_> {
    /// Rows `from..from + dst.len()` of the page written to `dst`: the
    /// indices are looked up straight into the destination (a page's values
    /// gathered into a buffer first, then copied on, were a tenth of a
    /// year's assessment in copies).
    pub(crate) fn write(&self, from: usize, dst: &mut [f64]) {
        match self {
            PageRows::Indexed { indices, table } => {
                let n = dst.len();
                for (d, &i) in dst.iter_mut().zip(&indices[from..from + n]) {
                    *d = table[i as usize];
                }
            }
            PageRows::Values(v) => dst.copy_from_slice(&v[from..from + dst.len()]),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            PageRows::Indexed { indices, .. } => indices.len(),
            PageRows::Values(v) => v.len(),
        }
    }
}

impl Decoder {
    /// A nullable DOUBLE column chunk, one value per row: a null is `NaN`,
    /// a present `NaN` (an auditor's invalidation) is `marked`. Each data
    /// page's rows go to `sink` with the chunk row they start at (a page
    /// stays in cache until it is written on); returns the chunk's rows.
    pub(crate) fn values(
        &mut self,
        pages: &mut dyn PageReader,
        marked: f64,
        mut sink: impl FnMut(usize, &PageRows),
    ) -> Option<usize> {
        let Decoder { levels, indices, rows: with_nulls, table, page_values: out } = self;
        let mut row = 0;
        let value = |b: &[u8]| {
            let v = f64::from_le_bytes(b.try_into().expect("8 bytes"));
            if v.is_nan() { marked } else { v }
        };
        table.clear();
        table.push(f64::NAN); // no dictionary yet: the null slot only
        walk(pages, |part| {
            let page = match part {
                Part::Dictionary(buf, n) => {
                    let bytes = buf.get(..n.checked_mul(8)?)?;
                    table.clear();
                    table.extend(bytes.chunks_exact(8).map(value));
                    table.push(f64::NAN);
                    return Some(());
                }
                Part::Data(page) => page,
            };
            let rows = page.rows;
            // `levels` is left empty when every row is present.
            let rest = definition_levels(&page.buf, rows, levels)?;
            let present = if levels.is_empty() {
                rows
            } else {
                let (present, above) = levels.iter().fold((0, 0), |(p, a), &l| (p + usize::from(l == 1), a | (l >> 1)));
                if above != 0 {
                    return None;
                }
                present
            };
            match page.encoding {
                Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                    let (&width, rest) = rest.split_first()?;
                    indices.clear();
                    unhybrid(rest, u32::from(width), present, indices)?;
                    let null = table.len() as u32 - 1;
                    // Every index within the dictionary (the null slot is not one).
                    if indices.iter().any(|&i| i >= null) {
                        return None;
                    }
                    let indices = if present == rows {
                        &indices[..]
                    } else {
                        // Stretch by stretch (nulls come in runs: a
                        // station's missing hours): the present rows' indices
                        // copied as a slice, the null slot for the others
                        // (levels are 0 or 1, checked above).
                        with_nulls.clear();
                        let (mut r, mut j) = (0, 0);
                        while r < rows {
                            let run = levels[r..].iter().position(|&l| l != 1).unwrap_or(rows - r);
                            with_nulls.extend_from_slice(indices.get(j..j + run)?);
                            (r, j) = (r + run, j + run);
                            let gap = levels[r..].iter().position(|&l| l == 1).unwrap_or(rows - r);
                            with_nulls.resize(with_nulls.len() + gap, null);
                            r += gap;
                        }
                        &with_nulls[..]
                    };
                    sink(row, &PageRows::Indexed { indices, table });
                }
                Encoding::PLAIN => {
                    let bytes = rest.get(..present.checked_mul(8)?)?;
                    let mut next = bytes.chunks_exact(8).map(value);
                    out.clear();
                    if levels.is_empty() {
                        out.extend(next);
                    } else {
                        out.extend(
                            levels.iter().map(|&l| if l == 1 { next.next().expect("counted") } else { f64::NAN }),
                        );
                    }
                    sink(row, &PageRows::Values(out));
                }
                _ => return None,
            }
            row += rows;
            Some(())
        })?;
        Some(row)
    }

    /// A required INT64 column chunk (the times), one value per row.
    pub(crate) fn int64s(&mut self, pages: &mut dyn PageReader, out: &mut Vec<i64>) -> Option<()> {
        let int = |b: &[u8]| i64::from_le_bytes(b.try_into().expect("8 bytes"));
        let mut dict: Vec<i64> = Vec::new();
        let indices = &mut self.indices;
        walk(pages, |part| {
            match part {
                Part::Dictionary(buf, n) => dict = buf.get(..n.checked_mul(8)?)?.chunks_exact(8).map(int).collect(),
                Part::Data(page) => match page.encoding {
                    Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                        let (&width, rest) = page.buf.split_first()?;
                        indices.clear();
                        unhybrid(rest, u32::from(width), page.rows, indices)?;
                        if indices.iter().any(|&i| i as usize >= dict.len()) {
                            return None;
                        }
                        out.extend(indices.iter().map(|&i| dict[i as usize]));
                    }
                    Encoding::PLAIN => out.extend(page.buf.get(..page.rows.checked_mul(8)?)?.chunks_exact(8).map(int)),
                    _ => return None,
                },
            }
            Some(())
        })
    }

    /// A required BYTE_ARRAY column chunk (the station names): the distinct
    /// names, and per row its index into them. One dictionary per chunk (a
    /// second dictionary page is refused); PLAIN pages add their names.
    pub(crate) fn names(
        &mut self,
        pages: &mut dyn PageReader,
        names: &mut Vec<String>,
        out: &mut Vec<u32>,
    ) -> Option<()> {
        names.clear();
        let (mut dictionary, mut plain) = (0, std::collections::HashMap::<String, u32>::new());
        walk(pages, |part| match part {
            Part::Dictionary(buf, n) => {
                if dictionary > 0 || !names.is_empty() {
                    return None;
                }
                let mut b: &[u8] = &buf;
                for _ in 0..n {
                    names.push(byte_array(&mut b)?.to_string());
                }
                dictionary = n;
                Some(())
            }
            Part::Data(page) => match page.encoding {
                Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                    let (&width, rest) = page.buf.split_first()?;
                    let from = out.len();
                    unhybrid(rest, u32::from(width), page.rows, out)?;
                    // Every index names a dictionary entry.
                    out[from..].iter().all(|&i| (i as usize) < dictionary).then_some(())
                }
                Encoding::PLAIN => {
                    let mut b: &[u8] = &page.buf;
                    for _ in 0..page.rows {
                        let name = byte_array(&mut b)?;
                        let i = match plain.get(name) {
                            Some(&i) => i,
                            None => {
                                let i = names.len() as u32;
                                names.push(name.to_string());
                                plain.insert(name.to_string(), i);
                                i
                            }
                        };
                        out.push(i);
                    }
                    Some(())
                }
                _ => None,
            },
        })
    }
}

/// A PLAIN BYTE_ARRAY value (4-byte length, then the bytes) as text.
fn byte_array<'a>(b: &mut &'a [u8]) -> Option<&'a str> {
    let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let text = std::str::from_utf8(b.get(4..4usize.checked_add(len)?)?).ok()?;
    *b = &b[4 + len..];
    Some(text)
}

/// A v1 data page of a nullable column (max level 1) starts with its
/// definition levels: a 4-byte length, then the hybrid at width 1. Returns
/// the rest of the page; `levels` is left empty when they are one run of
/// 1 over every row (every row present: most pages, whose levels were a
/// run written out and counted again).
fn definition_levels<'a>(buf: &'a [u8], rows: usize, levels: &mut Vec<u32>) -> Option<&'a [u8]> {
    let len = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let encoded = buf.get(4..4usize.checked_add(len)?)?;
    levels.clear();
    let mut b = encoded;
    let all_present = rows > 0
        && varint(&mut b).is_some_and(|h| h & 1 == 0 && usize::try_from(h >> 1).is_ok_and(|n| n >= rows))
        && b.first() == Some(&1);
    if !all_present {
        unhybrid(encoded, 1, rows, levels)?;
    }
    Some(&buf[4 + len..])
}

/// Append `n` values of the RLE/bit-packed hybrid at `width` bits (Parquet's
/// encoding of levels and dictionary indices) to `out`; `None` when the
/// bytes run out or are malformed.
pub(crate) fn unhybrid(mut b: &[u8], width: u32, n: usize, out: &mut Vec<u32>) -> Option<()> {
    if width > 32 {
        return None;
    }
    let end = out.len() + n;
    let mask = if width == 32 { u64::from(u32::MAX) } else { (1u64 << width) - 1 };
    out.reserve(n);
    while out.len() < end {
        let header = varint(&mut b)?;
        let want = end - out.len();
        if header & 1 == 1 {
            // Bit-packed: groups of 8 values in `width` bytes each.
            let groups = usize::try_from(header >> 1).ok()?;
            let bytes = groups.checked_mul(width as usize)?;
            let data = b.get(..bytes)?;
            b = &b[bytes..];
            let count = groups.saturating_mul(8).min(want);
            let from = out.len();
            out.resize(from + count, 0);
            unpack(data, width, &mut out[from..]);
        } else {
            // A run of one value in width/8 bytes (rounded up).
            let count = usize::try_from(header >> 1).ok()?;
            let nb = width.div_ceil(8) as usize;
            let mut v = [0u8; 4];
            v[..nb].copy_from_slice(b.get(..nb)?);
            b = &b[nb..];
            let v = u32::from_le_bytes(v);
            if u64::from(v) > mask || count == 0 {
                return None;
            }
            out.extend(std::iter::repeat_n(v, count.min(want)));
        }
    }
    Some(())
}

/// Bit-packed values at `width` bits from `data` into `dst`, a group of 8
/// at a time; one copy of the loop per width, whose shifts and offsets are
/// then constants (the loop for any width was a tenth of a year's
/// assessment).
fn unpack(data: &[u8], width: u32, dst: &mut [u32]) {
    macro_rules! widths {
        ($($w:literal)*) => {
            match width {
                $($w => unpack_at::<$w>(data, dst),)*
                _ => unreachable!("width checked by unhybrid"),
            }
        };
    }
    widths!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
}

/// `unpack` at `W` bits. A group at a time, from a 40-byte window at its
/// first byte: each value's bits lie within 8 bytes from its own first
/// byte (≤ 7 + 32 bits), so the reads need no bounds checks; bytes of the
/// next group in the window are masked off. Near the end the window is a
/// zero-padded copy.
#[inline(always)]
fn unpack_at<const W: usize>(data: &[u8], dst: &mut [u32]) {
    let mask = if W == 32 { u64::from(u32::MAX) } else { (1u64 << W) - 1 };
    let group = |g: usize, dst: &mut [u32]| {
        let at = g * W;
        let mut tail = [0u8; 40];
        let window: &[u8; 40] = match data.get(at..at + 40) {
            Some(s) => s.try_into().expect("40 bytes"),
            None => {
                let rest = data.get(at..).unwrap_or_default();
                tail[..rest.len()].copy_from_slice(rest);
                &tail
            }
        };
        for (j, v) in dst.iter_mut().enumerate() {
            let bit = j * W;
            let word = u64::from_le_bytes(window[bit / 8..bit / 8 + 8].try_into().expect("8 bytes"));
            *v = ((word >> (bit % 8)) & mask) as u32;
        }
    };
    // Whole groups (fixed length: the inner loop unrolls), then the rest.
    let mut groups = dst.chunks_exact_mut(8);
    let mut g = 0;
    for dst in &mut groups {
        group(g, dst);
        g += 1;
    }
    let rest = groups.into_remainder();
    if !rest.is_empty() {
        group(g, rest);
    }
}

/// An unsigned LEB128 varint (a hybrid run's header).
fn varint(b: &mut &[u8]) -> Option<u64> {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        if shift > 63 {
            return None;
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhybrid_reads_the_encoder_and_refuses_short_input() {
        let mut x = 99u64;
        for width in [1u32, 2, 5, 8, 11, 16, 20, 32] {
            for len in [0usize, 1, 7, 8, 9, 100, 1000, 5000] {
                let mask = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
                let values: Vec<u32> = (0..len)
                    .map(|i| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        if (i / 29) % 2 == 0 { 3 & mask } else { (x >> 31) as u32 & mask }
                    })
                    .collect();
                let mut bytes = Vec::new();
                crate::value_chunk::hybrid(&values, width, &mut bytes);
                let mut out = vec![7]; // appended after what is there
                assert_eq!(unhybrid(&bytes, width, len, &mut out), Some(()), "width {width}, {len}");
                assert_eq!(out[1..], values[..], "width {width}, {len}");
                if len > 0 {
                    // Cut short: refused, never a panic.
                    for cut in [0, bytes.len() / 2, bytes.len() - 1] {
                        let mut out = Vec::new();
                        assert_eq!(
                            unhybrid(&bytes[..cut], width, len, &mut out),
                            None,
                            "width {width}, {len}, cut {cut}"
                        );
                    }
                }
            }
        }
        // Garbage: a varint that never ends, a run value wider than the width.
        assert_eq!(unhybrid(&[0xff; 12], 3, 5, &mut Vec::new()), None);
        assert_eq!(unhybrid(&[2 << 1, 9], 3, 2, &mut Vec::new()), None);
        assert_eq!(unhybrid(&[1], 33, 1, &mut Vec::new()), None);
    }
}
