//! `lantian import`: files or folders, `.csv` or `.csv.gz`, each file's
//! format recognised from its content. Bad rows and cells never stop an
//! import: each goes to the rejects file with file, line, column and reason.
//! A file that cannot be read at all is reported and makes the command fail,
//! but the other files are still imported. Everything is committed at once
//! (see the crate docs), so a killed import changes nothing.

mod cells;
mod cnemc;
pub mod extract;
mod merge;
mod parquet;
mod rows;
mod text;
mod wide;

pub use merge::ImportSummary;
pub use rows::{Format, Reject, parse_value};

/// `YYYY-MM-DDTHH:MM[:SS][+08:00]` (or a space for `T`) → its hour-ending
/// label (hour 24 allowed), as the long CSV's `time` column is read.
pub fn parse_hour_label(s: &str) -> std::result::Result<lantian_core::time::HourLabel, &'static str> {
    rows::parse_label(s)
}

use crate::partition::MergeCounts;
use crate::stations::canonical_city;
use crate::store::{Layer, Transaction};
use crate::{Error, Result};
use merge::Merger;
use rows::{Blocks, FileResult, InFlight, Parsed};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Progress callback: (files done, files total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Files below `paths` (folders are walked; hidden files skipped), sorted so
/// that a later file (by name) revises an earlier one.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else if name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// Import `paths` into the store in `data_dir`.
///
/// A pipeline on all cores: worker threads parse files (taking them in path
/// order from a shared counter), this thread merges their results strictly in
/// path order (so a later file revises an earlier one deterministically), and
/// a writer thread encodes finished months to Parquet meanwhile.
pub fn import(data_dir: &Path, paths: &[PathBuf], progress: Option<Progress>) -> Result<ImportSummary> {
    import_layer(data_dir, paths, Layer::Raw, progress)
}

/// `import` into one layer: `Layer::Audited` for an auditor's files, which
/// decide every station-hour they cover (a value replaces the raw one, a
/// blank cell invalidates it); the raw layer is kept as it was.
pub fn import_layer(
    data_dir: &Path,
    paths: &[PathBuf],
    layer: Layer,
    progress: Option<Progress>,
) -> Result<ImportSummary> {
    let files = collect_files(paths)?;
    let tx = Transaction::begin(data_dir)?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 16);
    let next_file = AtomicUsize::new(0);
    let blocks = std::sync::Arc::new(Blocks::default());
    let in_flight = std::sync::Arc::new(InFlight::default());
    let mut merger = Merger::new(tx, layer, blocks.clone(), in_flight.clone());
    let outcome: Result<MergeCounts> = std::thread::scope(|scope| {
        let (parsed_tx, parsed_rx) = mpsc::sync_channel::<(usize, FileResult)>(workers);
        for _ in 0..workers {
            let parsed_tx = parsed_tx.clone();
            let (files, next_file, blocks) = (&files, &next_file, &blocks);
            scope.spawn(move || {
                loop {
                    let i = next_file.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if parsed_tx.send((i, parse_file(path, layer, blocks))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(parsed_tx);
        // A month is handed over only to a writer ready for it: one queued
        // would hold a month of day blocks more (72 MB nationally, each page
        // faulted in once), and the writers keep up with the parsers.
        let (write_tx, write_rx) = mpsc::sync_channel::<merge::WriteJob>(0);
        let write_rx = std::sync::Arc::new(std::sync::Mutex::new(write_rx));
        let writers: Vec<_> = (0..workers.min(2))
            .map(|_| {
                let (write_rx, mut writer, blocks) = (write_rx.clone(), in_flight.writer(), &blocks);
                scope.spawn(move || -> Result<MergeCounts> {
                    let mut counts = MergeCounts::default();
                    loop {
                        let next = write_rx.lock().map_err(|_| Error::Store("a Parquet writer failed".into()))?.recv();
                        let Ok((job, path, days)) = next else { return Ok(counts) };
                        writer.writing(&path);
                        counts += job.write(&path, days.as_deref(), blocks)?;
                        writer.written();
                    }
                })
            })
            .collect();
        let mut pending: BTreeMap<usize, FileResult> = BTreeMap::new();
        let mut next = 0;
        let mut result = Ok(());
        for (i, parsed) in parsed_rx {
            pending.insert(i, parsed);
            while let Some(r) = pending.remove(&next) {
                if result.is_ok() {
                    result = merger.merge_file(r, next, &write_tx);
                }
                next += 1;
                if let Some(cb) = progress {
                    cb(next, files.len());
                }
            }
            if result.is_err() {
                // Stop the workers early: nothing more will be merged.
                next_file.store(files.len(), Ordering::Relaxed);
            }
        }
        if result.is_ok() {
            result = merger.flush_all(&write_tx);
        }
        drop(write_tx);
        let mut written = Ok(MergeCounts::default());
        for w in writers {
            let r = w.join().unwrap_or_else(|_| Err(Error::Store("the Parquet writer thread panicked".into())));
            written = written.and_then(|mut total| {
                total += r?;
                Ok(total)
            });
        }
        result.and(written)
    });
    let (outcome, written) = match outcome {
        Ok(counts) => (Ok(()), counts),
        Err(e) => (Err(e), MergeCounts::default()),
    };
    merger.finish(data_dir, outcome, written)
}

/// The largest file (after gunzip) one import reads into memory: 4 GiB by
/// default (a national year as long CSV is ~2.5 GB), `LANTIAN_MAX_FILE_MB`
/// to change it. Larger files are refused before they are read, and a gzip
/// file stops being inflated at the limit (a "zip bomb" costs nothing).
pub fn max_file_bytes() -> u64 {
    std::env::var("LANTIAN_MAX_FILE_MB").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(4096) << 20
}

fn too_large(limit: u64) -> String {
    format!("larger than the {} MB a file may have (split it, e.g. by month, or set LANTIAN_MAX_FILE_MB)", limit >> 20)
}

/// Read a file, gunzipping when it starts with the gzip magic.
pub fn read_input(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let limit = max_file_bytes();
    let size = fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > limit {
        return Err(format!("{:.1} MB: {}", size as f64 / 1048576.0, too_large(limit)));
    }
    inflate(fs::read(path).map_err(|e| e.to_string())?)
}

/// A file's bytes as read, gunzipped when they start with the gzip magic
/// (within the same size limit as `read_input`).
pub fn inflate(raw: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    let limit = max_file_bytes();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity((raw.len() * 4).min(limit as usize));
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a valid gzip file: {e}"))?;
        if out.len() as u64 > limit {
            return Err(format!("gzip file that inflates {}", too_large(limit)));
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(b)
}

/// Recognise the format from the first line.
pub fn detect(content: &[u8]) -> Option<Format> {
    if content.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    let body = strip_bom(content);
    let first = body.split(|&b| b == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?.trim_end_matches('\r');
    let fields: Vec<&str> = first.split(',').map(str::trim).collect();
    let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    if lower.len() >= 3 && lower[0] == "date" && lower[1] == "hour" && lower[2] == "type" {
        let codes = fields[3..].iter().filter(|f| looks_like_station_code(f)).count();
        return Some(if codes * 2 >= fields.len().saturating_sub(3) {
            Format::CnemcSites
        } else {
            Format::CnemcCities
        });
    }
    if fields.first() == Some(&"监测点编码") {
        return Some(Format::StationList);
    }
    if lower == ["station", "time", "pollutant", "value"] {
        return Some(Format::Long);
    }
    if lower.iter().any(|f| f == "time_point") && lower.iter().any(|f| f == "pm2_5") {
        return Some(Format::CityDailyHeader);
    }
    if fields.len() == 12 && rows::parse_date(fields[1]).is_some() && fields[5].parse::<f64>().is_ok() {
        return Some(Format::CityDailyPlain);
    }
    None
}

fn looks_like_station_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4].is_ascii_uppercase()
}

fn parse_file(path: &Path, layer: Layer, blocks: &Blocks) -> FileResult {
    match read_input(path) {
        Ok(content) => parse_content(path, &content, layer, blocks),
        Err(e) => FileResult { path: path.to_path_buf(), format: None, parsed: Err(e), rejects: Vec::new() },
    }
}

/// For fuzzing: detect and parse `content` as a file named `fuzz.csv`;
/// returns how many rows or cells were rejected. Never panics.
#[doc(hidden)]
pub fn fuzz_parse(content: &[u8]) -> usize {
    let blocks = Blocks::default();
    let raw = parse_content(Path::new("fuzz.csv"), content, Layer::Raw, &blocks).rejects.len();
    raw + parse_content(Path::new("fuzz.csv"), content, Layer::Audited, &blocks).rejects.len()
}

/// For the stage benchmarks (`benches/stages.rs`): parse `files` (contents
/// as `read_input` gives them) one after the other on this thread, as an
/// import's parser does (day blocks recycled). Returns the rejects and the
/// cells of other dates, so that nothing is optimised away.
#[doc(hidden)]
pub fn bench_parse(files: &[Vec<u8>]) -> usize {
    let blocks = Blocks::default();
    let mut n = 0;
    for content in files {
        let r = parse_content(Path::new("bench.csv"), content, Layer::Raw, &blocks);
        n += r.rejects.len();
        if let Ok(Parsed::Hourly(h)) = r.parsed {
            n += h.cells.len();
            if let Some((_, block)) = h.day {
                blocks.give(block);
            }
        }
    }
    n
}

fn parse_content(path: &Path, content: &[u8], layer: Layer, blocks: &Blocks) -> FileResult {
    let audited = layer == Layer::Audited;
    let name = path.display().to_string();
    let mut res =
        FileResult { path: path.to_path_buf(), format: None, parsed: Err(String::new()), rejects: Vec::new() };
    // Text must be UTF-8: a GBK file would otherwise import garbled names (or not be recognised).
    if !content.starts_with(b"PAR1")
        && let Err(e) = std::str::from_utf8(content)
    {
        let line = 1 + content[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        res.parsed = Err(format!("line {line}: not UTF-8 text (a GBK file? save it as UTF-8 and import again)"));
        return res;
    }
    let Some(format) = detect(content) else {
        res.parsed = Err("format not recognised (expected a CNEMC site file, a station list, a long CSV station,time,pollutant,value, or a city daily file)".into());
        return res;
    };
    res.format = Some(format);
    let hourly = matches!(format, Format::CnemcSites | Format::Long | Format::Parquet);
    if audited && !hourly {
        res.parsed = Err(format!(
            "{}: only hourly station data can be imported as audited; import it without --audited",
            format.label()
        ));
        return res;
    }
    let body = strip_bom(content);
    res.parsed = match format {
        Format::CnemcSites => cnemc::parse_cnemc(&name, body, &mut res.rejects, audited, blocks).map(Parsed::Hourly),
        Format::CnemcCities => Ok(Parsed::Skipped(
            "city hourly files are recognised but not stored by this version; import the site files instead".into(),
        )),
        Format::StationList => text::parse_station_list(&name, body, &mut res.rejects).map(Parsed::Stations),
        Format::Long => text::parse_long(&name, body, &mut res.rejects, audited).map(Parsed::Hourly),
        Format::CityDailyHeader => {
            let city = path
                .file_name()
                .map(|n| n.to_string_lossy().replace(".csv.gz", "").replace(".csv", ""))
                .unwrap_or_default();
            text::parse_city_daily_header(&name, &canonical_city(&city), body, &mut res.rejects).map(Parsed::CityDaily)
        }
        Format::CityDailyPlain => text::parse_city_daily_plain(&name, body, &mut res.rejects).map(Parsed::CityDaily),
        Format::Parquet => parquet::parse(&name, content, &mut res.rejects, audited).map(Parsed::Hourly),
    };
    res
}

#[cfg(test)]
mod tests {
    use super::cnemc::parse_cnemc;
    use super::rows::*;
    use super::*;
    use crate::kinds::Kind;
    use crate::partition::MonthKey;
    use lantian_core::time::{day_number, label};

    #[test]
    fn values() {
        assert_eq!(parse_value(b""), Ok(None));
        assert_eq!(parse_value(b"  "), Ok(None));
        assert_eq!(parse_value(b"35"), Ok(Some(35.0)));
        assert_eq!(parse_value(b"1.2"), Ok(Some(1.2)));
        assert_eq!(parse_value(b"0.125"), Ok(Some(0.125)));
        assert_eq!(parse_value(b"1e2"), Ok(Some(100.0)));
        assert!(parse_value(b"-3").is_err());
        assert!(parse_value(b"abc").is_err());
        assert!(parse_value(b"NaN").is_err());
        assert!(parse_value(b".").is_err());
        for s in ["0.1", "0.3", "2.675", "115.8", "1.022", "999.9", "12345.678"] {
            assert_eq!(parse_value(s.as_bytes()), Ok(Some(s.parse::<f64>().unwrap())), "{s}");
        }
        // The short-integer path agrees with the standard library everywhere,
        // with and without leading zeros and surrounding blanks.
        for n in 0..10_000u32 {
            for s in [format!("{n}"), format!("{n:04}"), format!(" {n} "), format!("{n}.0")] {
                assert_eq!(parse_value(s.as_bytes()), Ok(Some(f64::from(n))), "{s:?}");
            }
        }
        assert_eq!(parse_value(b"99999"), Ok(Some(99999.0)));
        assert!(parse_value(b"100001").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(detect(b"date,hour,type,1001A,1002A\r\n"), Some(Format::CnemcSites));
        assert_eq!(detect("date,hour,type,北京,天津\n".as_bytes()), Some(Format::CnemcCities));
        assert_eq!(
            detect("\u{feff}监测点编码,监测点名称,城市,经度,纬度,对照点\n".as_bytes()),
            Some(Format::StationList)
        );
        assert_eq!(detect(b"station,time,pollutant,value\n"), Some(Format::Long));
        assert_eq!(
            detect("\u{feff}aqi,co,no2,o3,pm10,pm2_5,quality,rank,so2,time_point\n".as_bytes()),
            Some(Format::CityDailyHeader)
        );
        assert_eq!(
            detect("\u{feff}成都,2013-12-02,236,216~256,重度污染,215.1,311.4,39.4,1.95,117.8,68,92\n".as_bytes()),
            Some(Format::CityDailyPlain)
        );
        assert_eq!(detect(b"hello,world\n"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(&[0xff, 0xfe, 0x00]), None);
    }

    #[test]
    fn labels() {
        let d = day_number(jiff::civil::date(2019, 1, 1));
        assert_eq!(parse_label("2019-01-01T16:00"), Ok(d * 24 + 16));
        assert_eq!(parse_label("2019-01-01 16:00:00+08:00"), Ok(d * 24 + 16));
        assert_eq!(parse_label("2019-01-01T24:00"), Ok(d * 24 + 24));
        assert!(parse_label("2019-01-01T16:30").is_err());
        assert!(parse_label("2019-01-01T16:00Z").is_err());
        assert!(parse_label("2019-01-01T16:00+09:00").is_err());
        assert!(parse_label("2019-02-30T01:00").is_err());
        assert!(parse_label("x").is_err());
        assert!(parse_label("").is_err());
    }

    /// Day blocks wait to be merged station by station: a later file of the
    /// same date still revises an earlier one, rows of another date and long
    /// CSV rows in between keep file order.
    #[test]
    fn day_blocks_keep_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let head = "date,hour,type,1001A,1002A\r\n";
        let a = dir.path().join("a_china_sites_20190105.csv");
        std::fs::write(&a, format!("{head}20190105,1,PM2.5,35,40\r\n20190106,1,PM2.5,7,8\r\n")).unwrap();
        let b = dir.path().join("b_long.csv");
        std::fs::write(&b, "station,time,pollutant,value\n1001A,2019-01-05T01:00,pm25,36\n").unwrap();
        let c = dir.path().join("c_china_sites_20190105.csv");
        std::fs::write(&c, format!("{head}20190105,1,PM2.5,,41\r\n20190105,2,PM2.5,50,\r\n")).unwrap();
        let data = dir.path().join("data");
        let s = import(&data, &[dir.path().to_path_buf()], None).unwrap();
        // a: 4 new; b: 1001A revised (35 → 36); c: 1002A revised (40 → 41), 1 new.
        assert_eq!((s.hourly.imported, s.hourly.revised, s.hourly.unchanged), (5, 2, 0));
        let store = crate::Store::open(&data).unwrap();
        let p = store.read_month(MonthKey { year: 2019, month: 1 }, &[Kind::Pm25], None).unwrap().unwrap();
        let at = |st: &str, d: i8, h: i64| {
            p.series(st, Kind::Pm25).unwrap()[(label(jiff::civil::date(2019, 1, d), h) - p.start) as usize]
        };
        assert_eq!((at("1001A", 5, 1), at("1002A", 5, 1), at("1001A", 5, 2)), (36.0, 41.0, 50.0));
        assert_eq!((at("1001A", 6, 1), at("1002A", 6, 1)), (7.0, 8.0));
        assert!(at("1002A", 5, 2).is_nan());
    }

    /// Rows of many stations with every kind of cell (blanks, CO's
    /// decimals, cells for `parse_value`, rejects near both ends): the
    /// plain reader and the csv crate's agree on values and rejects.
    #[test]
    fn wide_plain_rows_agree_with_the_csv_reader() {
        let n = 60;
        let stations: Vec<String> = (0..n).map(|i| format!("{}A", 1001 + i)).collect();
        let cells = ["35", "", "0.4", "1.25", "7", "x", "-1", "100001", "0035", "12345", ".5"];
        let mut plain = format!("date,hour,type,{}\r\n", stations.join(","));
        for (r, kind) in ["PM2.5", "CO", "O3", "CO_24h"].iter().enumerate() {
            let row: Vec<&str> = (0..n).map(|i| cells[(i * 7 + r * 3) % cells.len()]).collect();
            plain.push_str(&format!("20190101,{r},{kind},{}\r\n", row.join(",")));
        }
        let quoted: String = plain
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",") + "\r\n")
            .collect();
        for audited in [false, true] {
            let (mut r1, mut r2) = (Vec::new(), Vec::new());
            let a = parse_cnemc("f.csv", plain.as_bytes(), &mut r1, audited, &Blocks::default()).unwrap();
            let b = parse_cnemc("f.csv", quoted.as_bytes(), &mut r2, audited, &Blocks::default()).unwrap();
            let key = |r: &Reject| (r.line, r.column.clone(), r.reason.clone(), r.value.clone());
            assert_eq!(r1.iter().map(key).collect::<Vec<_>>(), r2.iter().map(key).collect::<Vec<_>>());
            // "x", "-1" and "100001" are rejected, on both sides of the split.
            assert!(r1.iter().any(|r| r.column == stations[n - 1] || r.column == stations[n - 2]), "{r1:?}");
            assert!(r1.iter().any(|r| r.column == stations[0] || r.column == stations[1]), "{r1:?}");
            let bits =
                |h: &HourlyCells| h.day.as_ref().unwrap().1.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b));
            let block = &a.day.as_ref().unwrap().1;
            // The last station's CO at hour 1 and the first's PM2.5 at hour 0.
            let at =
                |st: usize, hour: usize, kind: Kind| block.get((st * 24 + hour) * crate::kinds::N_KINDS + kind.idx());
            let cell = |st: usize, r: usize| cells[(st * 7 + r * 3) % cells.len()];
            assert_eq!(cell(0, 0), "35");
            assert_eq!(at(0, 0, Kind::Pm25), 35.0);
            for st in 0..n {
                let v = at(st, 1, Kind::Co);
                match parse_value(cell(st, 1).as_bytes()) {
                    Ok(Some(x)) => assert_eq!(v.to_bits(), x.to_bits(), "station {st}"),
                    Ok(None) if audited => assert_eq!(v, crate::partition::INVALIDATED),
                    _ => assert!(v.is_nan(), "station {st}: {v}"),
                }
            }
        }
    }

    /// A quoted file (some tools quote every field) takes the csv crate;
    /// it must read exactly as the plain file does.
    #[test]
    fn quoted_and_plain_cnemc_files_agree() {
        let plain = "date,hour,type,1001A,1002A\r\n20190101,0,PM2.5,35,\r\n20190101,1,PM2.5,x,-1\r\n\r\n20190101,2,O3,7.5,8\r\n20190102,3,PM2.5,1,2\r\n20190101,4,PM10,1\r\n";
        let quoted: String = plain
            .split("\r\n")
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    l.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",")
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let (mut r1, mut r2) = (Vec::new(), Vec::new());
        let a = parse_cnemc("f.csv", plain.as_bytes(), &mut r1, false, &Blocks::default()).unwrap();
        let b = parse_cnemc("f.csv", quoted.as_bytes(), &mut r2, false, &Blocks::default()).unwrap();
        let key = |r: &Reject| (r.line, r.column.clone(), r.reason.clone());
        assert_eq!(r1.iter().map(key).collect::<Vec<_>>(), r2.iter().map(key).collect::<Vec<_>>());
        assert_eq!(r1.len(), 3, "{r1:?}");
        let bits = |h: &HourlyCells| {
            let (s, d) = h.day.as_ref().unwrap();
            (
                *s,
                d.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                h.cells.iter().map(|c| (c.station, c.label, c.value.to_bits())).collect::<Vec<_>>(),
            )
        };
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.cells.len(), 2, "the 2 January row kept as cells");
        assert_eq!(a.day.as_ref().unwrap().1.values().iter().filter(|v| !v.is_nan()).count(), 3);
    }

    /// The one-pass cell reader of quote-free files agrees with the csv
    /// crate and `parse_value` on every kind of cell, at any position.
    #[test]
    fn plain_cells_read_as_parse_value_does() {
        let cells = [
            "", "0", "35", "0123", "9999", "12345", "1.5", " 35", "35 ", "x", "-1", "99999", "1e2", ".", "0.712",
            "100001",
        ];
        let head: Vec<String> = (0..cells.len()).map(|i| format!("{:04}A", 1001 + i)).collect();
        for rot in 0..cells.len() {
            let row: Vec<&str> = cells.iter().cycle().skip(rot).take(cells.len()).copied().collect();
            let plain = format!("date,hour,type,{}\n20190101,0,PM2.5,{}\n", head.join(","), row.join(","));
            let quoted = plain
                .lines()
                .map(|l| l.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(","))
                .collect::<Vec<_>>()
                .join("\n");
            let (mut r1, mut r2) = (Vec::new(), Vec::new());
            let a = parse_cnemc("f.csv", plain.as_bytes(), &mut r1, false, &Blocks::default()).unwrap();
            let b = parse_cnemc("f.csv", quoted.as_bytes(), &mut r2, false, &Blocks::default()).unwrap();
            let key = |r: &Reject| (r.line, r.column.clone(), r.reason.clone(), r.value.clone());
            assert_eq!(r1.iter().map(key).collect::<Vec<_>>(), r2.iter().map(key).collect::<Vec<_>>());
            let bits =
                |h: &HourlyCells| h.day.as_ref().unwrap().1.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "rotation {rot}");
            for (i, cell) in row.iter().enumerate() {
                let got = a.day.as_ref().unwrap().1.get(i * 24 * crate::kinds::N_KINDS + Kind::Pm25.idx());
                match parse_value(cell.as_bytes()) {
                    Ok(Some(v)) => assert_eq!(got, v, "{cell:?}"),
                    _ => assert!(got.is_nan(), "{cell:?}"),
                }
            }
        }
    }

    #[test]
    fn cnemc_rejects_are_located() {
        let body = b"date,hour,type,1001A,1002A\r\n20190101,0,PM2.5,35,\r\n20190101,1,PM2.5,x,-1\r\n20190101,2,FOO,1,2\r\n20190101,3,PM2.5,1\r\n20190132,0,PM2.5,1,2\r\n";
        let mut rejects = Vec::new();
        let h = parse_cnemc("f.csv", body, &mut rejects, false, &Blocks::default()).unwrap();
        // The one good value lands in the file's dense day block.
        assert!(h.cells.is_empty());
        let (start, block) = h.day.unwrap();
        assert_eq!(start, label(jiff::civil::date(2019, 1, 1), 0));
        let found: Vec<(usize, f64)> =
            block.values().iter().enumerate().filter(|(_, v)| !v.is_nan()).map(|(i, v)| (i, *v)).collect();
        assert_eq!(found, vec![(Kind::Pm25.idx(), 35.0)], "station 1001A, hour 0, PM2.5");
        let summary: Vec<(u64, &str, &str)> =
            rejects.iter().map(|r| (r.line, r.column.as_str(), r.reason.as_str())).collect();
        let expected = vec![
            (3, "1001A", "not a number"),
            (3, "1002A", "negative concentration"),
            (4, "type", "unknown type"),
            (5, "", "expected 5 fields, found 4"),
            (6, "date", "invalid date"),
        ];
        assert_eq!(summary, expected);
        // Same lines with LF endings.
        let lf: Vec<u8> = body.iter().copied().filter(|&b| b != b'\r').collect();
        let mut rejects = Vec::new();
        parse_cnemc("f.csv", &lf, &mut rejects, false, &Blocks::default()).unwrap();
        let summary: Vec<(u64, &str, &str)> =
            rejects.iter().map(|r| (r.line, r.column.as_str(), r.reason.as_str())).collect();
        assert_eq!(summary, expected);
    }

    /// A month written out after four files without it and touched again
    /// later is read back from its staged file (the merger waits for the
    /// writer to finish it) and keeps every value, earlier and later.
    #[test]
    fn a_month_flushed_and_touched_again_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (data, input) = (dir.path().join("data"), dir.path().join("in"));
        fs::create_dir_all(&input).unwrap();
        let mut paths = Vec::new();
        for day in ["20190131", "20190201", "20190202", "20190203", "20190204", "20190205"] {
            let p = input.join(format!("china_sites_{day}.csv"));
            fs::write(&p, format!("date,hour,type,1001A\n{day},5,PM2.5,{}\n", &day[6..])).unwrap();
            paths.push(p);
        }
        // Last in path order: one more January value.
        let p = input.join("zz_late.csv");
        fs::write(&p, "station,time,pollutant,value\n1001A,2019-01-15 07:00,PM2.5,77\n").unwrap();
        paths.push(p);
        let summary = import(&data, &paths, None).unwrap();
        assert_eq!(summary.hourly.imported, 7);
        let store = crate::store::Store::open(&data).unwrap();
        let jan = store.read_month(MonthKey { year: 2019, month: 1 }, &[Kind::Pm25], None).unwrap().unwrap();
        let found: Vec<f64> =
            jan.series("1001A", Kind::Pm25).unwrap().iter().copied().filter(|v| !v.is_nan()).collect();
        assert_eq!(found, [77.0, 31.0]);
    }

    #[test]
    fn in_flight_waits_for_the_writer_or_its_end() {
        use std::sync::Arc;
        let in_flight = Arc::new(InFlight::default());
        let path = Path::new("m.parquet");
        // No writer: nothing to wait for.
        in_flight.sent(path);
        in_flight.wait(path);
        // A writer that finishes the file after a while.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut w = in_flight.writer();
        let d = done.clone();
        let t = std::thread::spawn(move || {
            w.writing(Path::new("m.parquet"));
            std::thread::sleep(std::time::Duration::from_millis(30));
            d.store(true, Ordering::SeqCst);
            w.written();
        });
        in_flight.wait(path);
        assert!(done.load(Ordering::SeqCst));
        t.join().unwrap();
        // A writer that stops (an error) without writing it: the wait ends.
        in_flight.sent(path);
        let w = in_flight.writer();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(30));
            drop(w);
        });
        in_flight.wait(path);
        t.join().unwrap();
    }

    /// A recycled day block starts empty: nothing of the file it held before
    /// leaks into the next (same size or not).
    #[test]
    fn recycled_day_blocks_start_empty() {
        let blocks = Blocks::default();
        let full = b"date,hour,type,1001A,1002A\n20190101,0,PM2.5,35,40\n20190101,5,CO,0.8,1.2\n";
        let h = parse_cnemc("a.csv", full, &mut Vec::new(), false, &blocks).unwrap();
        let (_, block) = h.day.unwrap();
        assert_eq!(block.values().iter().filter(|v| !v.is_nan()).count(), 4);
        blocks.give(block);
        for body in
            [&b"date,hour,type,1001A,1002A\n20190102,1,PM10,50,\n"[..], b"date,hour,type,1001A\n20190103,2,O3,7\n"]
        {
            let h = parse_cnemc("b.csv", body, &mut Vec::new(), false, &blocks).unwrap();
            let (_, block) = h.day.unwrap();
            assert_eq!(block.values().iter().filter(|v| !v.is_nan()).count(), 1);
            blocks.give(block);
        }
        // A recycled block of the same size is not cleared first: every
        // cell a file does not set must still come out missing. Fill one
        // with values everywhere, then read rows with blanks, rejects and a
        // repeated row into it (blocks are taken last in, first out).
        let two = |body: &str| format!("date,hour,type,1001A,1002A\n{body}");
        let every: String =
            (0..24).flat_map(|h| Kind::ALL.map(|k| format!("20190101,{h},{},9,9\n", k.cnemc_name()))).collect();
        let h = parse_cnemc("full.csv", two(&every).as_bytes(), &mut Vec::new(), false, &blocks).unwrap();
        let (_, block) = h.day.unwrap();
        assert!(block.values().iter().all(|v| *v == 9.0));
        blocks.give(block);
        let body = two("20190102,0,PM2.5,x,\n20190102,1,PM2.5,35,\n20190102,1,PM2.5,,36\n20190102,2,CO,0.4\n");
        for audited in [false, true] {
            let mut rejects = Vec::new();
            let h = parse_cnemc("c.csv", body.as_bytes(), &mut rejects, audited, &blocks).unwrap();
            let (_, block) = h.day.unwrap();
            let set: Vec<(usize, f64)> =
                block.values().iter().enumerate().filter(|(_, v)| !v.is_nan()).map(|(i, v)| (i, *v)).collect();
            let at = |st: usize, hour: usize, kind: Kind| (st * 24 + hour) * crate::kinds::N_KINDS + kind.idx();
            let inv = crate::partition::INVALIDATED;
            // A repeated row's blank keeps the value before it, except in an
            // audited file, where every blank invalidates; a rejected cell
            // says nothing either way.
            let mut expect = vec![(at(1, 1, Kind::Pm25), 36.0)];
            if audited {
                expect.extend([(at(1, 0, Kind::Pm25), inv), (at(0, 1, Kind::Pm25), inv)]);
            } else {
                expect.push((at(0, 1, Kind::Pm25), 35.0));
            }
            expect.sort_by_key(|e| e.0);
            assert_eq!(set, expect, "audited: {audited}");
            assert_eq!(rejects.len(), 2, "x, and the CO row's missing field: {rejects:?}");
            blocks.give(block);
        }
    }
}
