//! A month file's column chunks, encoded straight from the month's series
//! into standard Parquet pages (a PLAIN dictionary page, then
//! RLE_DICTIONARY data pages of format v1), without Arrow arrays in between.
//!
//! Why not the Parquet writer: its dictionary encoder hashes every value
//! through a general interner, and the Arrow path first copies each series
//! into arrays with a validity bitmap; on the national year that was half of
//! the import's CPU time for 180 M values of a few hundred distinct
//! readings. Here a value's dictionary index comes from a direct table for
//! whole readings (most of them) and a small open-addressing table keyed by
//! the bits for the rest; station and time are dictionaries known in advance
//! (the row group's stations, the month's hours). Indices and definition
//! levels go straight into the RLE/bit-packed hybrid. What is written is
//! ordinary Parquet: any reader (the store's own, pyarrow, Spark) reads it,
//! and the round-trip test in `partition.rs` reads it back bit for bit
//! through the standard reader.

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, EncodingMask, PageType, ZstdLevel};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::file::metadata::{ColumnChunkMetaData, PageEncodingStats};
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

/// Rows per data page: small pages keep a reader's buffers small.
const PAGE_ROWS: usize = 32_768;

/// Reusable buffers of the encoder (one per writer thread).
pub(crate) struct Encoder {
    /// The in-memory marker of an auditor's invalidation, stored as a
    /// present NaN (a missing value is a NaN in memory and a null on disk).
    marked: f64,
    columns: Vec<Column>,
    /// Per hour of the station being added: its indices ANDed (`add`).
    none: Vec<u32>,
    keys: Vec<u32>,
    levels: Vec<u32>,
    present: Vec<u32>,
}

/// A column chunk being gathered.
#[derive(Default)]
struct Column {
    dict: Dictionary,
    /// Per row: the value's dictionary index, or `NULL` when it is missing.
    indices: Vec<u32>,
}

const NULL: u32 = u32::MAX;

impl Encoder {
    pub(crate) fn new(marked: f64) -> Encoder {
        Encoder {
            marked,
            columns: Vec::new(),
            none: Vec::new(),
            keys: Vec::new(),
            levels: Vec::new(),
            present: Vec::new(),
        }
    }

    /// Start a row group of `n` columns.
    pub(crate) fn begin(&mut self, n: usize) {
        self.columns.resize_with(n, Column::default);
        for c in &mut self.columns {
            c.dict.clear();
            c.indices.clear();
        }
    }

    /// A station's block (the columns' series of `len` hours in turn): its
    /// rows are the hours where any column has a value, returned as hour
    /// offsets (`None`: every hour, the usual case). Station by station, a
    /// block is read front to back in one stream, once (column by column
    /// across stations, each 6 KB series started a fresh stream and the
    /// encoding waited on memory; a separate pass for the rows read the
    /// month twice).
    pub(crate) fn add(&mut self, block: &[f64], len: usize) -> Option<Vec<u32>> {
        let start = self.columns.first().map_or(0, |c| c.indices.len());
        let marked = self.marked;
        for (c, series) in self.columns.iter_mut().zip(block.chunks_exact(len)) {
            let dict = &mut c.dict;
            dict.indices(series, marked, &mut c.indices);
        }
        // An hour's indices ANDed over the columns are NULL (all ones) only
        // when every column is missing there: an index is below the row
        // group's rows (`GROUP_ROWS`), far from 2^31.
        // (Plain `u32` lanes: encode_month 87 -> 84 ms against a `bool` per hour.)
        self.none.clear();
        self.none.resize(len, NULL);
        for c in &self.columns {
            for (a, &i) in self.none.iter_mut().zip(&c.indices[start..]) {
                *a &= i;
            }
        }
        if !self.none.contains(&NULL) {
            return None;
        }
        // Hours without any value are not rows: drop them from every column.
        let rows: Vec<u32> = (0..len as u32).filter(|&o| self.none[o as usize] != NULL).collect();
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx512() {
            // The hours kept, 16 to a mask (bit h of mask g: hour 16g + h).
            let keep: Vec<u16> = self
                .none
                .chunks(16)
                .map(|g| g.iter().enumerate().fold(0, |m, (h, &i)| m | (u16::from(i != NULL) << h)))
                .collect();
            for c in &mut self.columns {
                // SAFETY: `avx512` checked the features `keep_avx512` is compiled for.
                unsafe { x86::keep_avx512(&mut c.indices, start, &keep) };
                debug_assert_eq!(c.indices.len(), start + rows.len());
            }
            return Some(rows);
        }
        for c in &mut self.columns {
            for (k, &o) in rows.iter().enumerate() {
                c.indices[start + k] = c.indices[start + o as usize];
            }
            c.indices.truncate(start + rows.len());
        }
        Some(rows)
    }

    /// Encode column `k` of the row group. Returns the chunk's bytes (pages
    /// with their headers, offsets from 0) and the metadata a row group
    /// writer splices it in with.
    pub(crate) fn finish(&mut self, k: usize, descr: ColumnDescPtr) -> parquet::errors::Result<Chunk> {
        let column = std::mem::take(&mut self.columns[k]);
        let mut dict = Vec::with_capacity(column.dict.values.len() * 8);
        for v in &column.dict.values {
            dict.extend_from_slice(&v.to_le_bytes());
        }
        let spec = ChunkSpec {
            descr,
            dict,
            n_dict: column.dict.values.len(),
            indices: &column.indices,
            zstd: false,
            statistics: None,
        };
        let chunk = self.write_chunk(spec);
        self.columns[k] = column;
        chunk
    }

    /// The station and time columns of a row group: `stations` are the
    /// group's stations with rows, in order, with their rows as hour
    /// offsets (`None`: all `len` hours of the month). The station column is
    /// a dictionary of the group's names, one RLE run each; time a
    /// dictionary of the month's hours indexed by the offset (no hashing
    /// either), zstd-compressed as before. `start` is the instant of the
    /// month's first hour (UTC milliseconds); hours are an hour apart.
    pub(crate) fn key_columns(
        &mut self,
        descrs: [ColumnDescPtr; 2],
        stations: &[(&str, Option<&[u32]>)],
        len: usize,
        start: i64,
    ) -> parquet::errors::Result<[Chunk; 2]> {
        let [station, time] = descrs;
        let mut keys = std::mem::take(&mut self.keys);
        keys.clear();
        let mut names = Vec::new();
        for (k, (name, rows)) in stations.iter().enumerate() {
            let n = rows.map_or(len, <[u32]>::len);
            keys.extend(std::iter::repeat_n(k as u32, n));
            names.extend_from_slice(&(name.len() as u32).to_le_bytes());
            names.extend_from_slice(name.as_bytes());
        }
        let first = stations.first().map_or("", |s| s.0);
        let last = stations.last().map_or("", |s| s.0);
        let statistics =
            Statistics::new(Some(ByteArray::from(first)), Some(ByteArray::from(last)), None, Some(0), false);
        let spec = ChunkSpec {
            descr: station,
            dict: names,
            n_dict: stations.len(),
            indices: &keys,
            zstd: false,
            statistics: Some(statistics),
        };
        let station = self.write_chunk(spec)?;
        keys.clear();
        let (mut lo, mut hi) = (u32::MAX, 0);
        for (_, rows) in stations {
            match rows {
                Some(r) => keys.extend_from_slice(r),
                None => keys.extend(0..len as u32),
            }
            let (a, b) = match rows {
                Some(r) => (r.first().copied().unwrap_or(u32::MAX), r.last().copied().unwrap_or(0)),
                None => (0, len as u32 - 1),
            };
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        let millis = |o: u32| start + i64::from(o) * 3_600_000;
        let mut hours = Vec::with_capacity(len * 8);
        for o in 0..len as u32 {
            hours.extend_from_slice(&millis(o).to_le_bytes());
        }
        let (lo, hi) = (lo.min(hi), hi); // no rows at all: both the first hour
        let statistics = Statistics::from(
            ValueStatistics::new(Some(millis(lo)), Some(millis(hi)), None, Some(0), false)
                .with_backwards_compatible_min_max(true),
        );
        let spec = ChunkSpec {
            descr: time,
            dict: hours,
            n_dict: len,
            indices: &keys,
            zstd: true,
            statistics: Some(statistics),
        };
        let time = self.write_chunk(spec);
        self.keys = keys;
        Ok([station, time?])
    }

    /// A dictionary-coded column chunk: the dictionary page (PLAIN values),
    /// then data pages of format v1 (definition levels when the column is
    /// nullable, then the indices' bit width and hybrid).
    fn write_chunk(&mut self, spec: ChunkSpec<'_>) -> parquet::errors::Result<Chunk> {
        let rows = spec.indices.len();
        let width = bit_width(spec.n_dict);
        let nullable = spec.descr.max_def_level() > 0;
        let mut compressor = if spec.zstd { Some(zstd::bulk::Compressor::new(1)?) } else { None };
        let mut sink = TrackedWrite::new(Vec::with_capacity(rows * width as usize / 8 + rows / 8 + 1024));
        let mut stats = Vec::new();
        let (mut uncompressed, mut data_offset) = (0i64, None);
        let dictionary_offset;
        {
            let mut pages = SerializedPageWriter::new(&mut sink);
            let mut page = |buf: Vec<u8>, make: &dyn Fn(Bytes) -> Page| -> parquet::errors::Result<_> {
                let len = buf.len();
                let buf = match &mut compressor {
                    Some(c) => c.compress(&buf)?,
                    None => buf,
                };
                pages.write_page(CompressedPage::new(make(Bytes::from(buf)), len))
            };
            let n_dict = spec.n_dict as u32;
            let written = page(spec.dict, &|buf| Page::DictionaryPage {
                buf,
                num_values: n_dict,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            })?;
            dictionary_offset = written.offset as i64;
            uncompressed += written.uncompressed_size as i64;
            stats.push(PageEncodingStats { page_type: PageType::DICTIONARY_PAGE, encoding: Encoding::PLAIN, count: 1 });
            let mut n_pages = 0;
            for chunk in spec.indices.chunks(PAGE_ROWS) {
                let mut buf = Vec::with_capacity(chunk.len() * width as usize / 8 + 64);
                let has_null = nullable && chunk.contains(&NULL);
                if nullable {
                    // Definition levels (v1): a 4-byte length, then the hybrid at width 1.
                    buf.extend_from_slice(&[0; 4]);
                    if has_null {
                        self.levels.clear();
                        self.levels.extend(chunk.iter().map(|&i| u32::from(i != NULL)));
                        hybrid(&self.levels, 1, &mut buf);
                    } else {
                        // Every value present (the usual page): one run of 1s.
                        varint((chunk.len() as u64) << 1, &mut buf);
                        buf.push(1);
                    }
                    let levels_len = (buf.len() - 4) as u32;
                    buf[..4].copy_from_slice(&levels_len.to_le_bytes());
                }
                // The present values' indices: the bit width, then the hybrid.
                buf.push(width as u8);
                if has_null {
                    present(chunk, &mut self.present);
                    hybrid(&self.present, width, &mut buf);
                } else {
                    hybrid(chunk, width, &mut buf);
                }
                let n = chunk.len() as u32;
                let written = page(buf, &|buf| Page::DataPage {
                    buf,
                    num_values: n,
                    encoding: Encoding::RLE_DICTIONARY,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                })?;
                data_offset.get_or_insert(written.offset as i64);
                uncompressed += written.uncompressed_size as i64;
                n_pages += 1;
            }
            stats.push(PageEncodingStats {
                page_type: PageType::DATA_PAGE,
                encoding: Encoding::RLE_DICTIONARY,
                count: n_pages,
            });
            pages.close()?;
        }
        let bytes = sink.into_inner()?;
        let encodings = [Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY];
        let codec = if spec.zstd { Compression::ZSTD(ZstdLevel::try_new(1)?) } else { Compression::UNCOMPRESSED };
        let mut metadata = ColumnChunkMetaData::builder(spec.descr)
            .set_compression(codec)
            .set_encodings_mask(EncodingMask::new_from_encodings(encodings.iter()))
            .set_page_encoding_stats(stats)
            .set_total_compressed_size(bytes.len() as i64)
            .set_total_uncompressed_size(uncompressed)
            .set_num_values(rows as i64)
            .set_data_page_offset(data_offset.unwrap_or(0))
            .set_dictionary_page_offset(Some(dictionary_offset));
        if let Some(s) = spec.statistics {
            metadata = metadata.set_statistics(s);
        }
        let close = ColumnCloseResult {
            bytes_written: bytes.len() as u64,
            rows_written: rows as u64,
            metadata: metadata.build()?,
            bloom_filter: None,
            column_index: None,
            offset_index: None,
        };
        Ok((Bytes::from(bytes), close))
    }
}

/// An encoded column chunk and what its row group needs to splice it in.
pub(crate) type Chunk = (Bytes, ColumnCloseResult);

/// What `write_chunk` writes.
struct ChunkSpec<'a> {
    descr: ColumnDescPtr,
    /// The dictionary page's values, PLAIN-encoded.
    dict: Vec<u8>,
    n_dict: usize,
    /// Per row: the index into the dictionary, `NULL` for a missing value.
    indices: &'a [u32],
    zstd: bool,
    statistics: Option<Statistics>,
}

/// Bits for indices below `n` (at least 1: some readers dislike width 0).
fn bit_width(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// A column chunk's dictionary: distinct values by their bits, in order of
/// first appearance.
#[derive(Default)]
struct Dictionary {
    values: Vec<f64>,
    /// Whole numbers below `DIRECT` (most readings): index + 1 by value (0 = new).
    direct: Vec<u32>,
    /// Any other value: open addressing, slot → index + 1 (0 = empty), by bits.
    slots: Vec<u32>,
}

/// Whole readings below this are looked up without hashing.
const DIRECT: usize = 4096;

/// `v` as a table position when it is exactly a whole number below
/// `DIRECT` (bit for bit: -0.0 is not 0).
#[inline(always)]
fn whole(v: f64) -> Option<usize> {
    // In range first (NaN fails): the conversion then needs no saturation.
    if !(0.0..DIRECT as f64).contains(&v) {
        return None;
    }
    // Through i32: x86 converts signed 32-bit integers in one instruction
    // each way (an unsigned 64-bit round trip took a fifth of the encoding).
    let w = v as i32;
    (f64::from(w).to_bits() == v.to_bits()).then_some(w as usize)
}

impl Dictionary {
    fn clear(&mut self) {
        // Only the entries used are reset: a chunk has a few hundred values.
        for v in &self.values {
            if let Some(w) = whole(*v) {
                self.direct[w] = 0;
            }
        }
        self.direct.resize(DIRECT, 0);
        self.values.clear();
        self.slots.clear();
        self.slots.resize(1024, 0);
    }

    /// The index of `v` (added if new); `NULL` for a missing value. An
    /// auditor's invalidation is stored as a present NaN.
    #[inline(always)]
    fn index(&mut self, v: f64, marked: f64) -> u32 {
        if let Some(w) = whole(v) {
            let e = self.direct[w];
            if e != 0 {
                return e - 1;
            }
            let i = self.values.len() as u32;
            self.values.push(v);
            self.direct[w] = i + 1;
            return i;
        }
        if v == marked {
            self.lookup(f64::NAN.to_bits())
        } else if v.is_nan() {
            NULL
        } else {
            self.lookup(v.to_bits())
        }
    }

    /// The index of each of `series`' values, appended to `out` (as
    /// `index` gives them, in order).
    fn indices(&mut self, series: &[f64], marked: f64, out: &mut Vec<u32>) {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx512() && self.direct.len() == DIRECT {
            // SAFETY: `avx512` checked the features `indices_avx512` is
            // compiled for; its gathers stay below DIRECT, the table's length.
            return unsafe { x86::indices_avx512(self, series, marked, out) };
        }
        out.extend(series.iter().map(|&v| self.index(v, marked)));
    }

    /// Fibonacci hashing: the product's top bits depend on every bit of the
    /// value (readings like 35.0 differ only in their top bits).
    #[inline]
    fn slot(bits: u64, size: usize) -> usize {
        (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - size.trailing_zeros())) as usize
    }

    fn lookup(&mut self, bits: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut s = Self::slot(bits, self.slots.len());
        loop {
            match self.slots[s] {
                0 => break,
                i if self.values[i as usize - 1].to_bits() == bits => return i - 1,
                _ => s = (s + 1) & mask,
            }
        }
        let i = self.values.len() as u32;
        self.values.push(f64::from_bits(bits));
        self.slots[s] = i + 1;
        if self.values.len() * 2 > self.slots.len() {
            self.grow();
        }
        i
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots.clear();
        self.slots.resize(size, 0);
        let mask = size - 1;
        for (i, v) in self.values.iter().enumerate() {
            let mut s = Self::slot(v.to_bits(), size);
            while self.slots[s] != 0 {
                s = (s + 1) & mask;
            }
            self.slots[s] = i as u32 + 1;
        }
    }
}

/// `indices` without the `NULL`s, into `out`.
fn present(indices: &[u32], out: &mut Vec<u32>) {
    out.clear();
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx512() {
        // SAFETY: `avx512` checked the features `present_avx512` is compiled for.
        return unsafe { x86::present_avx512(indices, out) };
    }
    // Branch-free compaction (a filtered push per value was half of
    // `write_chunk`'s time).
    out.resize(indices.len(), 0);
    let mut n = 0;
    for &i in indices {
        out[n] = i;
        n += usize::from(i != NULL);
    }
    out.truncate(n);
}

/// Dictionary indices eight values at a time: whole readings already in
/// the direct table (nearly all of them) and missing ones in vector
/// registers (a gather from the table), any other value through `index`, in
/// order. `index`'s branches on each value were a seventh of the import's
/// CPU time.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{DIRECT, Dictionary, NULL};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) fn indices_avx512(dict: &mut Dictionary, series: &[f64], marked: f64, out: &mut Vec<u32>) {
        // The gathers below rely on it (checked once a series).
        assert_eq!(dict.direct.len(), DIRECT, "a cleared dictionary");
        out.reserve(series.len());
        let limit = _mm256_set1_epi32(DIRECT as i32);
        let one = _mm256_set1_epi32(1);
        let null = _mm256_set1_epi32(NULL as i32);
        let mut groups = series.chunks_exact(8);
        for group in &mut groups {
            // SAFETY: `group` is 8 readable `f64`.
            let v = unsafe { _mm512_loadu_pd(group.as_ptr()) };
            // Whole below DIRECT, bit for bit (-0.0 is not 0): the truncation
            // converts back to the same bits (NaN and large values become
            // i32::MIN, which fails the range).
            let w = _mm512_cvttpd_epi32(v);
            let back = _mm512_cvtepi32_pd(w);
            let whole = _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(back), _mm512_castpd_si512(v))
                & _mm256_cmplt_epu32_mask(w, limit);
            let missing = _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(v, v);
            // SAFETY: only lanes in `whole` are loaded, each below DIRECT,
            // the table's length.
            let entry = unsafe {
                _mm256_mmask_i32gather_epi32::<4>(_mm256_setzero_si256(), whole, w, dict.direct.as_ptr().cast())
            };
            let known = whole & _mm256_cmpneq_epi32_mask(entry, _mm256_setzero_si256());
            let idx = _mm256_mask_blend_epi32(missing, _mm256_sub_epi32(entry, one), null);
            let len = out.len();
            // SAFETY: `reserve` made room for every value of `series`; the
            // eight written here are all set below.
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr().add(len).cast(), idx);
                out.set_len(len + 8);
            }
            // New values and any other (decimals, the marked): in order, so
            // that the dictionary's order of first appearance is kept (lanes
            // found above were in the table before this group).
            let mut rest = !(known | missing);
            while rest != 0 {
                let lane = rest.trailing_zeros() as usize;
                out[len + lane] = dict.index(group[lane], marked);
                rest &= rest - 1;
            }
        }
        for &v in groups.remainder() {
            out.push(dict.index(v, marked));
        }
    }

    /// `indices[start..]` (one per hour) without the hours `keep` does
    /// not hold, in place, sixteen at a time (a compress): the scalar
    /// copy by hour offset was three fifths of `Encoder::add`.
    #[target_feature(enable = "avx512f")]
    pub(super) fn keep_avx512(indices: &mut Vec<u32>, start: usize, keep: &[u16]) {
        let hours = indices.len() - start;
        assert!(keep.len() * 16 >= hours, "a mask for every hour");
        let base = indices[start..].as_mut_ptr();
        let mut n = 0;
        for (g, &mask) in keep.iter().enumerate() {
            let at = 16 * g;
            let lanes = hours.saturating_sub(at).min(16);
            let valid = if lanes == 16 { u16::MAX } else { (1u16 << lanes) - 1 };
            let mask = mask & valid;
            // SAFETY: lanes `at..at + lanes` are within the hours; the store
            // writes `mask`'s count at `n` ≤ `at`, after the load.
            unsafe {
                let v = _mm512_maskz_loadu_epi32(valid, base.add(at).cast());
                let kept = _mm512_maskz_compress_epi32(mask, v);
                let m = mask.count_ones() as usize;
                _mm512_mask_storeu_epi32(base.add(n).cast(), ((1u32 << m) - 1) as u16, kept);
                n += m;
            }
        }
        indices.truncate(start + n);
    }

    /// `super::present` sixteen indices at a time (a compress): the scalar
    /// loop's store address waits on the previous count, two cycles an
    /// index, and a national year has 180 M.
    #[target_feature(enable = "avx512f")]
    pub(super) fn present_avx512(indices: &[u32], out: &mut Vec<u32>) {
        out.reserve(indices.len());
        let null = _mm512_set1_epi32(NULL as i32);
        let base = out.as_mut_ptr();
        let mut n = 0;
        let mut groups = indices.chunks_exact(16);
        for group in &mut groups {
            // SAFETY: `group` is 16 readable `u32`; the store writes 16 at
            // `n` ≤ the indices before this group, within the capacity
            // reserved for all of them.
            unsafe {
                let v = _mm512_loadu_si512(group.as_ptr().cast());
                let keep = _mm512_cmpneq_epi32_mask(v, null);
                _mm512_storeu_si512(base.add(n).cast(), _mm512_maskz_compress_epi32(keep, v));
                n += keep.count_ones() as usize;
            }
        }
        for &i in groups.remainder() {
            // SAFETY: `n` is below the indices seen, within the capacity.
            unsafe { base.add(n).write(i) };
            n += usize::from(i != NULL);
        }
        // SAFETY: the first `n` were written above, the present indices in order.
        unsafe { out.set_len(n) };
    }
}

/// The RLE/bit-packed hybrid of `values` at `width` bits (Parquet's
/// encoding of levels and dictionary indices): a run of 8 or more equal
/// values that starts on a group boundary is one RLE run, everything else is
/// bit-packed in groups of 8 (at most 63 groups a run, one header byte; the
/// last group is padded with zeros, which the value count makes harmless).
pub(crate) fn hybrid(values: &[u32], width: u32, out: &mut Vec<u8>) {
    let n = values.len();
    let (mut lit, mut i) = (0, 0);
    // Groups of 8 from the literal stretch's start: a group of one value
    // starts an RLE run as long as the value repeats.
    while i + 8 <= n {
        let v = values[i];
        // All eight compared at once: an early exit per value was a
        // mispredicted branch per literal group (most of them).
        let group: &[u32; 8] = values[i..i + 8].try_into().expect("8 values");
        if group.iter().fold(0, |d, &x| d | (x ^ v)) == 0 {
            let mut j = i + 8;
            while j < n && values[j] == v {
                j += 1;
            }
            bit_packed(&values[lit..i], width, out);
            varint(((j - i) as u64) << 1, out);
            out.extend_from_slice(&v.to_le_bytes()[..width.div_ceil(8) as usize]);
            (lit, i) = (j, j);
        } else {
            i += 8;
        }
    }
    bit_packed(&values[lit..], width, out);
}

/// Bit-packed runs of `values` (a multiple of 8 except at the very end):
/// widths up to 16 (dictionaries of up to 65,536 values: in practice every
/// column of the store) eight values to a word with shifts known at compile
/// time, wider ones through a 64-bit accumulator stored a word at a time.
fn bit_packed(values: &[u32], width: u32, out: &mut Vec<u8>) {
    for run in values.chunks(63 * 8) {
        let groups = run.len().div_ceil(8);
        varint(((groups as u64) << 1) | 1, out);
        macro_rules! by_width {
            ($($w:literal)*) => {
                match width {
                    $($w => pack_groups::<$w>(run, out),)*
                    _ => pack_any(run, width, out),
                }
            };
        }
        by_width!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    }
}

/// `run`'s groups of eight values of `W` bits as `W` bytes each, least
/// significant bit first, the last group padded with zeros (which the value
/// count makes harmless). A group is one word of shifts the compiler knows,
/// stored whole and advanced by `W` bytes (a national month's encoding:
/// 92.7 → 87.0 ms against the per-value accumulator and its branch).
fn pack_groups<const W: usize>(run: &[u32], out: &mut Vec<u8>) {
    let start = out.len();
    let len = run.len().div_ceil(8) * W;
    // Room for the last group's whole word.
    out.resize(start + len + 16, 0);
    let mut at = start;
    let mut put = |g: &[u32]| {
        if W <= 8 {
            let w = g.iter().enumerate().fold(0u64, |w, (i, &v)| w | (u64::from(v) << (i * W)));
            out[at..at + 8].copy_from_slice(&w.to_le_bytes());
        } else {
            let w = g.iter().enumerate().fold(0u128, |w, (i, &v)| w | (u128::from(v) << (i * W)));
            out[at..at + 16].copy_from_slice(&w.to_le_bytes());
        }
        at += W;
    };
    let mut groups = run.chunks_exact(8);
    for g in &mut groups {
        put(g);
    }
    if !groups.remainder().is_empty() {
        let mut g = [0u32; 8];
        g[..groups.remainder().len()].copy_from_slice(groups.remainder());
        put(&g);
    }
    out.truncate(start + len);
}

/// As `pack_groups`, for any width up to 32.
fn pack_any(run: &[u32], width: u32, out: &mut Vec<u8>) {
    let end = out.len() + run.len().div_ceil(8) * width as usize;
    out.reserve(end - out.len() + 8);
    let (mut acc, mut bits) = (0u64, 0u32);
    for &v in run {
        let v = u64::from(v);
        acc |= v << bits;
        bits += width;
        if bits >= 64 {
            out.extend_from_slice(&acc.to_le_bytes());
            bits -= 64;
            // The value's bits that did not fit (none when it ended the word).
            acc = if bits == 0 { 0 } else { v >> (width - bits) };
        }
    }
    out.extend_from_slice(&acc.to_le_bytes()[..bits.div_ceil(8) as usize]);
    // The last group's padding: zeros up to whole groups.
    out.resize(end, 0);
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode the hybrid (a reference decoder, spec-literal).
    fn decode(mut b: &[u8], width: u32, n: usize) -> Vec<u32> {
        let mut out = Vec::new();
        while out.len() < n {
            let (mut h, mut shift) = (0u64, 0);
            loop {
                let byte = b[0];
                b = &b[1..];
                h |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte < 0x80 {
                    break;
                }
            }
            if h & 1 == 1 {
                let count = (h >> 1) as usize * 8;
                let bytes = count * width as usize / 8;
                let (mut acc, mut bits, mut k) = (0u64, 0u32, 0);
                for _ in 0..count {
                    while bits < width {
                        acc |= u64::from(b[k]) << bits;
                        k += 1;
                        bits += 8;
                    }
                    out.push((acc & ((1u64 << width) - 1)) as u32);
                    acc >>= width;
                    bits -= width;
                }
                b = &b[bytes..];
            } else {
                let bytes = width.div_ceil(8) as usize;
                let mut v = [0u8; 4];
                v[..bytes].copy_from_slice(&b[..bytes]);
                b = &b[bytes..];
                out.extend(std::iter::repeat_n(u32::from_le_bytes(v), (h >> 1) as usize));
            }
        }
        out.truncate(n);
        out
    }

    #[test]
    fn hybrid_round_trips_runs_literals_and_widths() {
        let mut x = 12345u64;
        for width in 1u32..=32 {
            for len in [0usize, 1, 7, 8, 9, 100, 1000, 5000] {
                let values: Vec<u32> = (0..len)
                    .map(|i| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        // Stretches of repeats mixed with noise.
                        let mask = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
                        if (i / 37) % 2 == 0 { 5 & mask } else { (x >> 31) as u32 & mask }
                    })
                    .collect();
                let mut out = Vec::new();
                hybrid(&values, width, &mut out);
                assert_eq!(decode(&out, width, len), values, "width {width}, {len} values");
                // The word-per-group packing writes the accumulator's bytes.
                let (mut words, mut acc) = (vec![7], vec![7]);
                bit_packed(&values, width, &mut words);
                for run in values.chunks(63 * 8) {
                    varint(((run.len().div_ceil(8) as u64) << 1) | 1, &mut acc);
                    pack_any(run, width, &mut acc);
                }
                assert_eq!(words, acc, "width {width}, {len} values");
            }
        }
        // A long run is one RLE run: a few bytes, not n / 8.
        let mut out = Vec::new();
        hybrid(&[1; 10_000], 1, &mut out);
        assert!(out.len() <= 4, "{} bytes", out.len());
    }

    #[test]
    fn dictionary_keeps_bits_and_marks_nulls() {
        let mut d = Dictionary::default();
        d.clear();
        let marked = f64::NEG_INFINITY;
        let values = [1.5, f64::NAN, 0.0, -0.0, 1.5, marked, 3.0];
        let idx: Vec<u32> = values.iter().map(|&v| d.index(v, marked)).collect();
        assert_eq!(idx, [0, NULL, 1, 2, 0, 3, 4]);
        assert!(d.values[3].is_nan() && d.values[2].to_bits() == (-0.0f64).to_bits());
        // Growing keeps every index.
        for k in 0..5000 {
            assert_eq!(d.index(k as f64 / 10.0 + 100.0, marked), 5 + k);
        }
        for k in 0..5000 {
            assert_eq!(d.index(k as f64 / 10.0 + 100.0, marked), 5 + k);
        }
        // A new chunk starts afresh, in the table and in the hash alike.
        d.clear();
        assert_eq!(
            (d.index(3.0, marked), d.index(1.5, marked), d.index(3.0, marked), d.index(150.0, marked)),
            (0, 1, 0, 2)
        );
        assert_eq!(d.values, [3.0, 1.5, 150.0]);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(2), 1);
        assert_eq!(bit_width(3), 2);
        assert_eq!(bit_width(1024), 10);
        assert_eq!(bit_width(1025), 11);
    }

    /// `indices` (eight at a time where the CPU can) gives `index`'s
    /// indices and dictionary order on series of every kind of value, at
    /// every length around a group of eight.
    /// The present indices, in order, whatever the pattern of NULLs and
    /// the length (whole groups of 16 and a remainder), reusing the buffer.
    #[test]
    fn present_drops_nulls_in_order() {
        let mut x = 7u64;
        let mut out = vec![5, 6];
        for len in (0..70).chain([1000, 32_768]) {
            for odds in [0, 1, 5, 9, 10] {
                let indices: Vec<u32> = (0..len)
                    .map(|i| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        if (x >> 33) % 10 < odds { NULL } else { i as u32 }
                    })
                    .collect();
                present(&indices, &mut out);
                let expect: Vec<u32> = indices.iter().copied().filter(|&i| i != NULL).collect();
                assert_eq!(out, expect, "len {len}, {odds} in 10 missing");
            }
        }
    }

    /// A station's hours without any value leave every column, on both
    /// paths alike, the other stations' rows untouched.
    #[test]
    fn hours_without_values_leave_every_column() {
        let mut x = 11u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        for len in [1, 15, 16, 17, 33, 744] {
            for odds in [1, 3, 9] {
                let block: Vec<f64> = (0..3 * len)
                    .map(|i| if next() % 10 < odds || i % len == 0 { f64::NAN } else { f64::from(next() % 50) })
                    .collect();
                let mut got = Vec::new();
                for scalar in [false, true] {
                    let mut e = Encoder::new(f64::NEG_INFINITY);
                    e.begin(3);
                    e.add(&[1.0, 2.0, 3.0], 1); // an earlier station's row
                    let rows = if scalar {
                        // The scalar path, as `add` takes it without AVX-512.
                        let mut e2 = Encoder::new(f64::NEG_INFINITY);
                        e2.begin(3);
                        e2.add(&[1.0, 2.0, 3.0], 1);
                        let start = 1;
                        for (c, series) in e2.columns.iter_mut().zip(block.chunks_exact(len)) {
                            c.dict.indices(series, f64::NEG_INFINITY, &mut c.indices);
                        }
                        let rows: Vec<u32> = (0..len as u32)
                            .filter(|&o| block.chunks_exact(len).any(|s| !s[o as usize].is_nan()))
                            .collect();
                        for c in &mut e2.columns {
                            for (k, &o) in rows.iter().enumerate() {
                                c.indices[start + k] = c.indices[start + o as usize];
                            }
                            c.indices.truncate(start + rows.len());
                        }
                        e = e2;
                        Some(rows)
                    } else {
                        e.add(&block, len)
                    };
                    got.push((rows, e.columns.iter().map(|c| c.indices.clone()).collect::<Vec<_>>()));
                }
                assert_eq!(got[0], got[1], "len {len}, {odds} in 10 missing");
                assert!(got[0].0.is_some(), "hour 0 has no value");
            }
        }
    }

    #[test]
    fn indices_agree_with_index() {
        let marked = f64::NEG_INFINITY;
        let kinds = [0.0, -0.0, 1.0, 35.0, 4095.0, 4096.0, 70000.0, 0.4, 1.25, -3.0, f64::NAN, marked, 1e300, 2.5e9];
        let mut x = 99u64;
        for len in (0..40).chain([500, 4000]) {
            for round in 0..50 {
                let series: Vec<f64> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let r = (x >> 33) as usize;
                        // Mostly readings already seen, some new ones, some odd.
                        match r % 10 {
                            0..=5 => (r / 10 % 30) as f64,
                            6 | 7 => (r / 10 % 5000) as f64,
                            _ => kinds[r / 10 % kinds.len()],
                        }
                    })
                    .collect();
                let (mut wide, mut one) = (Dictionary::default(), Dictionary::default());
                wide.clear();
                one.clear();
                // A chunk's earlier series filled the table first.
                if round % 2 == 1 {
                    for v in [7.0, 3.0, 0.4] {
                        one.index(v, marked);
                        wide.index(v, marked);
                    }
                }
                let mut got = vec![42];
                wide.indices(&series, marked, &mut got);
                let expect: Vec<u32> =
                    std::iter::once(42).chain(series.iter().map(|&v| one.index(v, marked))).collect();
                assert_eq!(got, expect, "{series:?}");
                let bits = |d: &Dictionary| d.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&wide), bits(&one));
            }
        }
    }
}
