//! CNEMC site files (`china_sites_YYYYMMDD.csv`): `date,hour,type` and one
//! column per station, 15 types per hour. The file's own date goes to a
//! dense day block; rows of other dates become cells.

use super::rows::{
    Blocks, Cell, DayBlock, HourlyCells, Reject, code, each_record, group_by_station, parse_date, parse_value, reader,
    reject,
};
use super::{cells, wide};
use crate::kinds::{Kind, N_KINDS};
use crate::partition::INVALIDATED;
use jiff::civil::Date;
use lantian_core::time::label;

/// `audited`: the file is an auditor's; a blank cell of a row present
/// invalidates that station-hour (`INVALIDATED`) instead of saying nothing.
pub(crate) fn parse_cnemc(
    file: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
    audited: bool,
    blocks: &Blocks,
) -> std::result::Result<HourlyCells, String> {
    let mut rows;
    if !body.contains(&b'"') {
        // The archive's files never quote a field: split on newlines and
        // commas directly (a third of the parse time went to the general
        // CSV reader). Any quote takes the csv crate below.
        let mut lines = Vec::new();
        let mut at = 0;
        for nl in memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len())) {
            if at <= body.len() {
                lines.push(&body[at..nl]);
            }
            at = nl + 1;
        }
        let mut header = Vec::new();
        split_commas(lines.first().map(|l| crlf(l)).unwrap_or_default(), &mut header);
        rows = CnemcRows::new(file, header, audited, blocks);
        for (i, raw) in lines.iter().enumerate().skip(1) {
            let raw = crlf(raw);
            if !raw.is_empty() {
                rows.plain_row(raw, i as u64 + 1, rejects);
            }
        }
    } else {
        let mut rdr = reader(body, true);
        let header = rdr.byte_headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
        rows = CnemcRows::new(file, header.iter().collect(), audited, blocks);
        each_record(&mut rdr, body, file, rejects, |record, line, rejects| {
            let fields: Vec<&[u8]> = record.iter().collect();
            rows.row(&fields, record.as_slice(), line, rejects);
        });
    }
    Ok(rows.finish())
}

/// Commas in a line, counted in blocks the compiler vectorises.
fn count_commas(line: &[u8]) -> usize {
    line.chunks(255).map(|c| usize::from(c.iter().map(|&b| u8::from(b == b',')).sum::<u8>())).sum()
}

/// A cell read in the same pass that finds its end: the usual CNEMC cell
/// (empty, one to four digits, or CO's decimal) needs nothing more; any
/// other goes through `parse_value`.
#[derive(Clone, Copy)]
enum Field<'a> {
    Empty,
    Short(u32),
    /// Read by `cells::decimal` (as `parse_value` reads it), as its code.
    Decimal(u32),
    Other(&'a [u8]),
}

/// A cell that is neither empty nor one to four digits: a decimal read
/// here, or left to `parse_value`.
#[inline(always)]
fn other(cell: &[u8]) -> Field<'_> {
    let decimal = match cell.first_chunk::<8>() {
        Some(w) => cells::decimal(u64::from_le_bytes(*w), cell.len()),
        None if !cell.is_empty() => {
            let mut w = [0u8; 8];
            w[..cell.len()].copy_from_slice(cell);
            cells::decimal(u64::from_le_bytes(w), cell.len())
        }
        None => None,
    };
    decimal.map_or(Field::Other(cell), Field::Decimal)
}

impl<'a> Field<'a> {
    fn value(self) -> std::result::Result<Option<f64>, &'static str> {
        match self {
            Field::Empty => Ok(None),
            Field::Short(n) => Ok(Some(f64::from(n))),
            Field::Decimal(c) => Ok(Some(code::decode(c, &[]))),
            Field::Other(b) => parse_value(b),
        }
    }

    fn bytes(self) -> &'a [u8] {
        match self {
            Field::Other(b) => b,
            // Only `Other` cells can be rejected.
            Field::Empty | Field::Short(_) | Field::Decimal(_) => b"",
        }
    }
}

/// The fields of a quote-free line, split and classified by one byte loop:
/// CNEMC cells are a few bytes long, shorter than a vectorised search pays for.
struct Fields<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// The next field as raw bytes (the row's date, hour and type).
    fn raw(&mut self) -> &'a [u8] {
        let Some(rest) = self.rest else { return b"" };
        let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
        self.rest = rest.get(end + 1..);
        &rest[..end]
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;
    // Called once per cell (200 M times a national year): inlined into the row loop.
    #[inline(always)]
    fn next(&mut self) -> Option<Field<'a>> {
        let rest = self.rest?;
        if let Some(word) = rest.first_chunk::<8>() {
            return Some(self.next_in_word(rest, u64::from_le_bytes(*word)));
        }
        // The line's last few bytes: one at a time.
        let mut n = 0u32;
        for (i, &c) in rest.iter().enumerate() {
            if c == b',' {
                self.rest = Some(&rest[i + 1..]);
                return Some(if i == 0 { Field::Empty } else { Field::Short(n) });
            }
            let d = c.wrapping_sub(b'0');
            if d > 9 || i == 4 {
                let end = i + rest[i..].iter().position(|&b| b == b',').unwrap_or(rest.len() - i);
                self.rest = rest.get(end + 1..);
                return Some(other(&rest[..end]));
            }
            n = n * 10 + u32::from(d);
        }
        self.rest = None;
        Some(if rest.is_empty() { Field::Empty } else { Field::Short(n) })
    }
}

impl<'a> Fields<'a> {
    /// The next field when at least 8 bytes are left (`word`: the first 8,
    /// little-endian), eight bytes at a time (SWAR): where the first comma
    /// is, whether the bytes before it are all digits, and their value, each
    /// computed without a branch per byte (the byte loop's branches, on
    /// cells of one to four digits in no pattern, were mispredicted).
    #[inline(always)]
    fn next_in_word(&mut self, rest: &'a [u8], word: u64) -> Field<'a> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let y = word ^ (ONES * u64::from(b','));
        // The lowest flagged byte is the first comma (flags above it may be false).
        let commas = y.wrapping_sub(ONES) & !y & (ONES * 0x80);
        let p = (commas.trailing_zeros() / 8) as usize; // 8: none in the word
        if p == 8 {
            let end = 8 + rest[8..].iter().position(|&b| b == b',').unwrap_or(rest.len() - 8);
            self.rest = rest.get(end + 1..);
            return other(&rest[..end]);
        }
        self.rest = Some(&rest[p + 1..]);
        if p == 0 {
            return Field::Empty;
        }
        // Digits are 0x30..0x39: minus '0', each of the `p` bytes is below
        // 10 (a smaller byte borrows, and then fails itself).
        let mask = (1u64 << (8 * p)) - 1;
        let d = word.wrapping_sub(ONES * u64::from(b'0')) & mask;
        let digits = d & (ONES * 0xF0) == 0 && d.wrapping_add(ONES * 6) & (ONES * 0xF0) & mask == 0;
        if p > 4 || !digits {
            // The cell's bytes are the word's low `p`: no second load.
            return cells::decimal(word, p).map_or(Field::Other(&rest[..p]), Field::Decimal);
        }
        // Right-aligned as four digits (leading zero bytes), then combined
        // pairwise: (d0·10 + d1)·100 + (d2·10 + d3).
        let v = (d << (8 * (4 - p))) as u32;
        let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF;
        Field::Short((v & 0xFF) * 100 + (v >> 16))
    }
}

/// The fields of a quote-free CSV line.
fn split_commas<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) {
    let mut at = 0;
    for comma in memchr::memchr_iter(b',', line) {
        out.push(&line[at..comma]);
        at = comma + 1;
    }
    out.push(&line[at..]);
}

fn crlf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The rows of a CNEMC site file as they are read.
struct CnemcRows<'a> {
    file: &'a str,
    n_fields: usize,
    stations: Vec<String>,
    /// The first row's date is the file's own (one date per file in the
    /// archive): its values go to a dense block, station-major and then
    /// hour-major (`HourlyCells::day`). A file's rows run hour by hour, the
    /// types of an hour in turn, so the fifteen rows of an hour write
    /// neighbouring cells of each station (2 × 64 bytes): the hour's
    /// working set stays in cache, and no transpose is needed afterwards.
    day: Option<(Date, DayBlock)>,
    /// Per hour and type of the day block: whether a row has set it.
    seen: [bool; N_KINDS * 24],
    /// Values of any other date.
    cells: Vec<Cell>,
    /// An audited file: blank cells are invalidations.
    audited: bool,
    blocks: &'a Blocks,
    /// The row's leading cells as the wide reader read them (`wide::read`).
    wide: Vec<u32>,
}

impl<'a> CnemcRows<'a> {
    fn new(file: &'a str, header: Vec<&[u8]>, audited: bool, blocks: &'a Blocks) -> CnemcRows<'a> {
        let stations = header.iter().skip(3).map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
        CnemcRows {
            file,
            n_fields: header.len(),
            stations,
            day: None,
            seen: [false; N_KINDS * 24],
            cells: Vec::new(),
            audited,
            blocks,
            wide: Vec::new(),
        }
    }

    /// A line of a quote-free file: counted, then split as it is read.
    fn plain_row(&mut self, raw: &[u8], line: u64, rejects: &mut Vec<Reject>) {
        let found = count_commas(raw) + 1;
        if found != self.n_fields {
            let reason = format!("expected {} fields, found {found}", self.n_fields);
            reject(rejects, self.file, line, "", reason, raw);
            return;
        }
        let mut fields = Fields { rest: Some(raw) };
        let head: [&[u8]; 3] = std::array::from_fn(|_| fields.raw());
        // Most of a row's cells are read 64 bytes at a time where the CPU
        // can; `Fields` reads the rest, from a cell boundary.
        let mut wide = std::mem::take(&mut self.wide);
        wide.clear();
        if let Some(rest) = fields.rest {
            let read = wide::read(rest, &mut wide);
            fields.rest = Some(&rest[read..]);
        }
        self.values(head, &wide, fields, line, rejects);
        self.wide = wide;
    }

    /// A record of the csv crate (quoted files).
    fn row(&mut self, record: &[&[u8]], raw: &[u8], line: u64, rejects: &mut Vec<Reject>) {
        if record.len() != self.n_fields {
            let reason = format!("expected {} fields, found {}", self.n_fields, record.len());
            reject(rejects, self.file, line, "", reason, raw);
            return;
        }
        let cells = record[3..].iter().map(|&b| Field::Other(b));
        self.values([record[0], record[1], record[2]], &[], cells, line, rejects);
    }

    /// A row's date, hour and type, then its station cells in order: the
    /// first `read.len()` as `wide::read` gave them, then `cells`.
    fn values<'v>(
        &mut self,
        head: [&[u8]; 3],
        read: &[u32],
        cells: impl Iterator<Item = Field<'v>>,
        line: u64,
        rejects: &mut Vec<Reject>,
    ) {
        let file = self.file;
        let date = std::str::from_utf8(head[0]).ok().and_then(parse_date);
        let hour = std::str::from_utf8(head[1])
            .ok()
            .and_then(|h| h.trim().parse::<i64>().ok())
            .filter(|h| (0..24).contains(h));
        let kind = std::str::from_utf8(head[2]).ok().and_then(Kind::parse);
        let (Some(date), Some(hour), Some(kind)) = (date, hour, kind) else {
            let what = if date.is_none() {
                ("date", "invalid date", head[0])
            } else if hour.is_none() {
                ("hour", "hour must be 0..23", head[1])
            } else {
                ("type", "unknown type", head[2])
            };
            reject(rejects, file, line, what.0, what.1, what.2);
            return;
        };
        let n = self.stations.len();
        let blocks = self.blocks;
        let (d0, block) = self.day.get_or_insert_with(|| (date, blocks.take_unfilled(n * N_KINDS * 24)));
        if *d0 == date {
            let at = hour as usize * N_KINDS + kind.idx();
            // The first row of its hour and type sets every cell (a blank
            // or rejected one to missing: the block may hold another
            // file's values); a repeated row keeps what its blanks leave.
            let first = !std::mem::replace(&mut self.seen[at], true);
            let blank = if self.audited { code::INVALIDATED } else { code::EMPTY };
            // The station of a cell is counted only for a reject: the hot
            // loop is the cell reader and one store. `wide::read`'s values
            // are their own codes.
            let DayBlock { codes, extras } = block;
            let mut slots = codes.chunks_exact_mut(24 * N_KINDS).map(|station| &mut station[at]);
            if first && !self.audited {
                for (&v, cell) in read.iter().zip(&mut slots) {
                    *cell = v;
                }
            } else if self.audited {
                for (&v, cell) in read.iter().zip(&mut slots) {
                    *cell = if v == wide::EMPTY { blank } else { v };
                }
            } else {
                for (&v, cell) in read.iter().zip(&mut slots) {
                    if v != wide::EMPTY {
                        *cell = v;
                    }
                }
            }
            let mut set = read.len().min(n);
            for (i, (v, cell)) in cells.zip(slots).enumerate() {
                let i = i + read.len();
                set = i + 1;
                match v {
                    Field::Short(n) => *cell = n,
                    Field::Decimal(c) => *cell = c,
                    Field::Empty if first || self.audited => *cell = blank,
                    Field::Empty => {}
                    Field::Other(_) => match v.value() {
                        Ok(Some(value)) => *cell = code::value(value, extras),
                        Ok(None) if first || self.audited => *cell = blank,
                        Ok(None) => {}
                        Err(reason) => {
                            reject(rejects, file, line, &self.stations[i], reason, v.bytes());
                            if first {
                                *cell = code::EMPTY;
                            }
                        }
                    },
                }
            }
            // Rows have a cell per station (their field count is checked);
            // were one short, its other stations are still set.
            if first {
                codes.chunks_exact_mut(24 * N_KINDS).skip(set).for_each(|station| station[at] = code::EMPTY);
            }
        } else {
            let leading = read.iter().map(|&v| if v == wide::EMPTY { Field::Empty } else { Field::Short(v) });
            let values = leading.chain(cells).enumerate();
            let l = label(date, hour);
            for (i, v) in values {
                match v.value() {
                    Ok(Some(value)) => self.cells.push(Cell { station: i as u32, kind, label: l, value }),
                    Ok(None) if self.audited => {
                        self.cells.push(Cell { station: i as u32, kind, label: l, value: INVALIDATED })
                    }
                    Ok(None) => {}
                    Err(reason) => reject(rejects, file, line, &self.stations[i], reason, v.bytes()),
                }
            }
        }
    }

    /// Station-major order makes the merge write each station's block in
    /// turn (cache-friendly); done here, on the parsing threads.
    fn finish(mut self) -> HourlyCells {
        let n = self.stations.len();
        // Hours and types no row set: missing (see `Blocks::take_unfilled`).
        if let Some((_, block)) = &mut self.day {
            for (at, _) in self.seen.iter().enumerate().filter(|(_, seen)| !**seen) {
                block.codes.iter_mut().skip(at).step_by(N_KINDS * 24).for_each(|v| *v = code::EMPTY);
            }
        }
        let day = self.day.map(|(d, block)| (label(d, 0), block));
        let has = match &day {
            Some((_, block)) => {
                block.codes.chunks_exact(N_KINDS * 24).map(|b| b.iter().any(|&c| c != code::EMPTY)).collect()
            }
            None => Vec::new(),
        };
        HourlyCells { cells: group_by_station(self.cells, n), stations: self.stations, day, has }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Fields` must yield: split at commas; empty, one to four
    /// digits, or anything else as it is.
    fn reference(line: &[u8]) -> Vec<String> {
        line.split(|&b| b == b',')
            .map(|f| match f {
                [] => "E".to_string(),
                _ if f.len() <= 4 && f.iter().all(u8::is_ascii_digit) => {
                    format!("S{}", std::str::from_utf8(f).unwrap().parse::<u32>().unwrap())
                }
                // Up to eight bytes of digits with one '.' between two of them.
                _ if f.len() <= 8
                    && f.iter().all(|b| b.is_ascii_digit() || *b == b'.')
                    && f.iter().filter(|&&b| b == b'.').count() <= 1
                    && !f.starts_with(b".")
                    && !f.ends_with(b".")
                    && parse_value(f).is_ok() =>
                {
                    format!("D{}", parse_value(f).unwrap().unwrap())
                }
                _ => format!("O{}", String::from_utf8_lossy(f)),
            })
            .collect()
    }

    fn fields(line: &[u8]) -> Vec<String> {
        Fields { rest: Some(line) }
            .map(|f| match f {
                Field::Empty => "E".to_string(),
                Field::Short(n) => format!("S{n}"),
                Field::Decimal(c) => format!("D{}", code::decode(c, &[])),
                Field::Other(b) => format!("O{}", String::from_utf8_lossy(b)),
            })
            .collect()
    }

    /// A line read by the wide reader and then by `Fields` from where it
    /// stopped gives the cells `Fields` alone gives: the hand-over is at a
    /// cell boundary, a trailing comma's empty cell included.
    #[test]
    fn wide_then_fields_read_the_whole_line() {
        let pieces: &[&[u8]] = &[b"", b"7", b"35", b"0035", b"9999", b"123", b"0.4", b"12345", b"NA", b""];
        let mut x = 17u64;
        for round in 0..5_000usize {
            let mut line = Vec::new();
            let n = 1 + round % 120;
            for i in 0..n {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if i > 0 {
                    line.push(b',');
                }
                // Mostly usual cells; now and then an odd one.
                let k = (x >> 33) as usize;
                line.extend_from_slice(if k.is_multiple_of(50) { pieces[6 + k / 50 % 3] } else { pieces[k / 50 % 6] });
            }
            if round.is_multiple_of(4) {
                line.push(b',');
            }
            let mut read = Vec::new();
            let at = wide::read(&line, &mut read);
            let mut got: Vec<String> =
                read.iter().map(|&v| if v == wide::EMPTY { "E".to_string() } else { format!("S{v}") }).collect();
            got.extend(fields(&line[at..]));
            assert_eq!(got, fields(&line), "{}", String::from_utf8_lossy(&line));
        }
    }

    /// The word-at-a-time reader agrees with a plain split on every kind of
    /// field, at every position in a word and at the line's end: digits of
    /// every length, leading zeros, decimals, signs, blanks, bytes just
    /// below '0' and above '9', long fields and empty ones.
    #[test]
    fn fields_agree_with_a_plain_split() {
        let pieces: &[&[u8]] = &[
            b"",
            b"0",
            b"7",
            b"35",
            b"0035",
            b"999",
            b"9999",
            b"10000",
            b"12345678",
            b"123456789012",
            b"0.725",
            b"1.2",
            b"0.4",
            b"12.5",
            b"100000.0",
            b"100000.1",
            b"1.2.3",
            b".4",
            b"4.",
            b"-3",
            b" 35",
            b"3 ",
            b"/",
            b":",
            b"3:",
            b"/9",
            b"NA",
            b"\xe2\x80\x94",
            b"00000",
            b"1e2",
        ];
        let mut x = 2024u64;
        for _ in 0..20_000 {
            let mut line = Vec::new();
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let n = 1 + (x >> 60) as usize;
            for i in 0..n {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if i > 0 {
                    line.push(b',');
                }
                line.extend_from_slice(pieces[(x >> 33) as usize % pieces.len()]);
            }
            assert_eq!(fields(&line), reference(&line), "{:?}", String::from_utf8_lossy(&line));
        }
        for n in 0..10_000u32 {
            for s in [format!("{n},"), format!("{n:04},1,2,3,4"), format!("1,2,3,4,{n},5,6,7,8")] {
                assert_eq!(fields(s.as_bytes()), reference(s.as_bytes()), "{s}");
            }
        }
    }
}
