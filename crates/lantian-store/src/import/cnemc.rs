//! CNEMC site files (`china_sites_YYYYMMDD.csv`): `date,hour,type` and one
//! column per station, 15 types per hour. The file's own date goes to a
//! dense day block; rows of other dates become cells.

use super::rows::{Cell, HourlyCells, Reject, each_record, group_by_station, parse_date, parse_value, reader, reject};
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
        rows = CnemcRows::new(file, header, audited);
        let mut fields: Vec<&[u8]> = Vec::with_capacity(rows.n_fields);
        for (i, raw) in lines.iter().enumerate().skip(1) {
            let raw = crlf(raw);
            if raw.is_empty() {
                continue;
            }
            fields.clear();
            split_commas(raw, &mut fields);
            rows.row(&fields, raw, i as u64 + 1, rejects);
        }
    } else {
        let mut rdr = reader(body, true);
        let header = rdr.byte_headers().map_err(|e| format!("unreadable header: {e}"))?.clone();
        rows = CnemcRows::new(file, header.iter().collect(), audited);
        each_record(&mut rdr, body, file, rejects, |record, line, rejects| {
            let fields: Vec<&[u8]> = record.iter().collect();
            rows.row(&fields, record.as_slice(), line, rejects);
        });
    }
    Ok(rows.finish())
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
    /// archive): its values go to a dense block in file order,
    /// `[(kind * 24 + hour) * stations + station]`, written row by row.
    day: Option<(Date, Vec<f64>)>,
    /// Values of any other date.
    cells: Vec<Cell>,
    /// An audited file: blank cells are invalidations.
    audited: bool,
}

impl<'a> CnemcRows<'a> {
    fn new(file: &'a str, header: Vec<&[u8]>, audited: bool) -> CnemcRows<'a> {
        let stations = header.iter().skip(3).map(|h| String::from_utf8_lossy(h).trim().to_string()).collect();
        CnemcRows { file, n_fields: header.len(), stations, day: None, cells: Vec::new(), audited }
    }

    fn row(&mut self, record: &[&[u8]], raw: &[u8], line: u64, rejects: &mut Vec<Reject>) {
        let file = self.file;
        if record.len() != self.n_fields {
            let reason = format!("expected {} fields, found {}", self.n_fields, record.len());
            reject(rejects, file, line, "", reason, raw);
            return;
        }
        let date = std::str::from_utf8(record[0]).ok().and_then(parse_date);
        let hour = std::str::from_utf8(record[1])
            .ok()
            .and_then(|h| h.trim().parse::<i64>().ok())
            .filter(|h| (0..24).contains(h));
        let kind = std::str::from_utf8(record[2]).ok().and_then(Kind::parse);
        let (Some(date), Some(hour), Some(kind)) = (date, hour, kind) else {
            let what = if date.is_none() {
                ("date", "invalid date", record[0])
            } else if hour.is_none() {
                ("hour", "hour must be 0..23", record[1])
            } else {
                ("type", "unknown type", record[2])
            };
            reject(rejects, file, line, what.0, what.1, what.2);
            return;
        };
        let n = self.stations.len();
        let (d0, block) = self.day.get_or_insert_with(|| (date, vec![f64::NAN; n * N_KINDS * 24]));
        let values = record[3..].iter().enumerate();
        if *d0 == date {
            let row = &mut block[(kind.idx() * 24 + hour as usize) * n..][..n];
            for (i, v) in values {
                match parse_value(v) {
                    Ok(Some(value)) => row[i] = value,
                    Ok(None) if self.audited => row[i] = INVALIDATED,
                    Ok(None) => {}
                    Err(reason) => reject(rejects, file, line, &self.stations[i], reason, v),
                }
            }
        } else {
            let l = label(date, hour);
            for (i, v) in values {
                match parse_value(v) {
                    Ok(Some(value)) => self.cells.push(Cell { station: i as u32, kind, label: l, value }),
                    Ok(None) if self.audited => {
                        self.cells.push(Cell { station: i as u32, kind, label: l, value: INVALIDATED })
                    }
                    Ok(None) => {}
                    Err(reason) => reject(rejects, file, line, &self.stations[i], reason, v),
                }
            }
        }
    }

    /// Station-major order makes the merge write each station's block in
    /// turn (cache-friendly); done here, on the parsing threads.
    fn finish(self) -> HourlyCells {
        let n = self.stations.len();
        let day = self.day.map(|(d, rows)| (label(d, 0), transpose(&rows, N_KINDS * 24, n)));
        HourlyCells { cells: group_by_station(self.cells, n), stations: self.stations, day }
    }
}

/// `rows × cols` row-major → column-major, in tiles that stay in cache.
fn transpose(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    const TILE: usize = 32;
    let mut out = vec![f64::NAN; m.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for c in c0..(c0 + TILE).min(cols) {
                for r in r0..(r0 + TILE).min(rows) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    out
}
