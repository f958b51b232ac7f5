//! Live data from the HJ 212 gateway: a write-ahead log that makes a value
//! durable before the logger is acknowledged, and the compaction that turns
//! it into the store's hourly values through the ordinary import (atomic
//! commit, revisions counted, the same merge as files).
//!
//! Layout under `DATA/live/`:
//!
//! ```text
//! wal-000007.log          segments: one record per line, fsynced before each ack
//! minutes/2019-07-01.log  minute and real-time values by day, kept to form hours
//! archive/wal-000006.log  compacted segments, kept (values with their flags)
//! ```
//!
//! One convention in the store: hour-end labels. HJ 212 stamps minute and
//! hourly data with the period's **start**; the conversion happens here
//! (label = start hour + 1). Values flagged other than `N` are kept in the
//! log with their flag and never become valid data. Minute and real-time
//! values form an hour when they cover at least 45 minutes of it (HJ 663's
//! capture rule for a 1-hour value); an hourly (2061) value of the same hour
//! takes precedence. Compaction is idempotent: killed at any point, running
//! it again gives the same store.

use crate::{Error, Kind, Result};
use lantian_core::time::{HourLabel, date_of, format_label};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Where a value came from (its HJ 212 command).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// CN=2061, hourly.
    Hourly,
    /// CN=2051, minute.
    Minute,
    /// CN=2011, real-time.
    Realtime,
}

impl Source {
    fn tag(self) -> char {
        match self {
            Source::Hourly => 'H',
            Source::Minute => 'M',
            Source::Realtime => 'R',
        }
    }
}

/// One value as received.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveRecord {
    pub source: Source,
    pub station: String,
    pub kind: Kind,
    /// Start of the period (real-time: the sampling instant), seconds since
    /// 1970-01-01T00:00+08:00.
    pub start: i64,
    /// In the store's unit (μg/m³, CO mg/m³).
    pub value: f64,
    /// HJ 212 data flag (`N` = normal).
    pub flag: char,
}

impl LiveRecord {
    pub fn line(&self) -> String {
        format!(
            "{},{},{},{},{},{}\n",
            self.source.tag(),
            self.station,
            self.kind.column(),
            self.start,
            self.value,
            self.flag
        )
    }

    pub fn parse(line: &str) -> Option<LiveRecord> {
        let mut f = line.trim_end().split(',');
        let source = match f.next()? {
            "H" => Source::Hourly,
            "M" => Source::Minute,
            "R" => Source::Realtime,
            _ => return None,
        };
        let station = f.next()?.to_string();
        let kind = Kind::parse(f.next()?)?;
        let start = f.next()?.parse().ok()?;
        let value: f64 = f.next()?.parse().ok()?;
        let mut flag = f.next()?.chars();
        let (Some(flag), None, None) = (flag.next(), flag.next(), f.next()) else { return None };
        (!station.is_empty() && value.is_finite()).then_some(LiveRecord { source, station, kind, start, value, flag })
    }

    /// The hour-end label of the hour the value belongs to.
    pub fn label(&self) -> HourLabel {
        self.start.div_euclid(3600) + 1
    }
}

/// Seconds since 1970-01-01T00:00+08:00 of a China civil time.
pub fn seconds(t: jiff::civil::DateTime) -> i64 {
    let day = lantian_core::time::day_number(t.date());
    day * 86_400 + i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

fn live_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("live")
}

fn segment_path(data_dir: &Path, seq: u64) -> PathBuf {
    live_dir(data_dir).join(format!("wal-{seq:06}.log"))
}

/// Whether a gateway keeps its log in `data_dir` (`live/` exists).
pub fn present(data_dir: &Path) -> bool {
    live_dir(data_dir).is_dir()
}

/// Segments present, by sequence number.
pub fn segments(data_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let dir = live_dir(data_dir);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    for e in entries {
        let e = e.map_err(|err| Error::io(&dir, err))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(seq) = name.strip_prefix("wal-").and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse().ok()) {
            out.push((seq, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The write-ahead log: appends are durable (fsync) when `append` returns.
pub struct Wal {
    data_dir: PathBuf,
    seq: u64,
    file: std::fs::File,
}

impl Wal {
    /// Open a new segment after any existing ones (those are left for
    /// compaction, e.g. after a crash).
    pub fn open(data_dir: &Path) -> Result<Wal> {
        let dir = live_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let seq = segments(data_dir)?.last().map_or(1, |(s, _)| s + 1);
        let file = Self::create(data_dir, seq)?;
        Ok(Wal { data_dir: data_dir.to_path_buf(), seq, file })
    }

    fn create(data_dir: &Path, seq: u64) -> Result<std::fs::File> {
        let path = segment_path(data_dir, seq);
        let f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| Error::io(&path, e))?;
        // The new name must survive a crash too.
        if let Ok(d) = std::fs::File::open(live_dir(data_dir)) {
            let _ = d.sync_all();
        }
        Ok(f)
    }

    /// Append and fsync. On error nothing may be acknowledged.
    pub fn append(&mut self, records: &[LiveRecord]) -> Result<()> {
        let mut buf = String::with_capacity(records.len() * 48);
        for r in records {
            buf.push_str(&r.line());
        }
        let path = segment_path(&self.data_dir, self.seq);
        self.file.write_all(buf.as_bytes()).map_err(|e| Error::io(&path, e))?;
        self.file.sync_data().map_err(|e| Error::io(&path, e))
    }

    /// Seal the current segment and start the next; returns the sealed one's number.
    pub fn rotate(&mut self) -> Result<u64> {
        let sealed = self.seq;
        self.seq += 1;
        self.file = Self::create(&self.data_dir, self.seq)?;
        Ok(sealed)
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// An hour of one station's pollutant.
type HourKey = (String, Kind, HourLabel);
/// Samples of an hour: start second → (value, flag).
pub type Samples = BTreeMap<i64, (f64, char)>;

/// What a compaction did.
#[derive(Clone, Debug, Default)]
pub struct Compacted {
    pub segments: usize,
    pub records: usize,
    /// Records flagged other than N (kept in the archive, not valid data).
    pub flagged: usize,
    /// Lines that could not be read (a torn last line after a crash).
    pub torn: usize,
    /// Hourly values sent to the store.
    pub hours: usize,
    pub import: Option<crate::ImportSummary>,
}

/// Fold the segments numbered below `before` into the store, then move them
/// to `live/archive/`.
pub fn compact(data_dir: &Path, before: u64) -> Result<Compacted> {
    let mut out = Compacted::default();
    let segs: Vec<(u64, PathBuf)> = segments(data_dir)?.into_iter().filter(|(s, _)| *s < before).collect();
    if segs.is_empty() {
        return Ok(out);
    }
    // Hourly values by (station, kind, label); later lines revise earlier.
    let mut hourly: BTreeMap<HourKey, f64> = BTreeMap::new();
    let mut minute_days: BTreeMap<i64, Vec<LiveRecord>> = BTreeMap::new();
    for (_, path) in &segs {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        for line in std::io::BufReader::new(f).split(b'\n') {
            let line = line.map_err(|e| Error::io(path, e))?;
            let Some(r) = std::str::from_utf8(&line).ok().and_then(LiveRecord::parse) else {
                out.torn += usize::from(!line.is_empty());
                continue;
            };
            out.records += 1;
            if r.flag != 'N' {
                out.flagged += 1;
            }
            match r.source {
                Source::Hourly => {
                    if r.flag == 'N' {
                        hourly.insert((r.station.clone(), r.kind, r.label()), r.value);
                    }
                }
                Source::Minute | Source::Realtime => minute_days.entry(r.start.div_euclid(86_400)).or_default().push(r),
            }
        }
    }
    // Minute values join their day's file; hours they touch are re-formed
    // from everything known of that day.
    let mdir = live_dir(data_dir).join("minutes");
    for (day, records) in &minute_days {
        std::fs::create_dir_all(&mdir).map_err(|e| Error::io(&mdir, e))?;
        let name = date_of(*day).map_or(format!("day-{day}"), |d| d.to_string());
        let path = mdir.join(format!("{name}.log"));
        let mut f =
            std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| Error::io(&path, e))?;
        let text: String = records.iter().map(LiveRecord::line).collect();
        f.write_all(text.as_bytes()).and_then(|_| f.sync_data()).map_err(|e| Error::io(&path, e))?;
        let touched: BTreeSet<HourKey> = records.iter().map(|r| (r.station.clone(), r.kind, r.label())).collect();
        let all = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut samples: BTreeMap<HourKey, Samples> = BTreeMap::new();
        for r in all.lines().filter_map(LiveRecord::parse) {
            let key = (r.station.clone(), r.kind, r.label());
            if touched.contains(&key) {
                // The same instant twice: the later value revises.
                samples.entry(key).or_default().insert(r.start, (r.value, r.flag));
            }
        }
        for (key, s) in samples {
            if hourly.contains_key(&key) {
                continue;
            }
            if let Some(v) = hour_from_samples(&s) {
                hourly.insert(key, v);
            }
        }
    }
    out.hours = hourly.len();
    if !hourly.is_empty() {
        let csv = live_dir(data_dir).join("compaction.csv");
        let mut text = String::from("station,time,pollutant,value\n");
        for ((station, kind, label), v) in &hourly {
            text.push_str(&format!(
                "{station},{},{},{v}\n",
                format_label(*label).trim_end_matches("+08:00"),
                kind.column()
            ));
        }
        std::fs::write(&csv, text).map_err(|e| Error::io(&csv, e))?;
        let summary = crate::import(data_dir, std::slice::from_ref(&csv), None)?;
        let _ = std::fs::remove_file(&csv);
        out.import = Some(summary);
    }
    let archive = live_dir(data_dir).join("archive");
    std::fs::create_dir_all(&archive).map_err(|e| Error::io(&archive, e))?;
    for (_, path) in &segs {
        let to = archive.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &to).map_err(|e| Error::io(path, e))?;
        out.segments += 1;
    }
    Ok(out)
}

/// The hourly mean of an hour's samples (start second → value, flag):
/// normal values only, and only when they cover at least 45 minutes. The
/// sampling interval is the smallest gap between samples (a lone sample
/// counts as one minute). The mean is kept to 3 decimals — finer than any
/// analyser reports, and free of the float noise of summing (60 × 1.2 / 60).
pub fn hour_from_samples(s: &Samples) -> Option<f64> {
    let valid: Vec<(i64, f64)> = s.iter().filter(|(_, (_, f))| *f == 'N').map(|(t, (v, _))| (*t, *v)).collect();
    if valid.is_empty() {
        return None;
    }
    let times: Vec<i64> = s.keys().copied().collect();
    let interval = times.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0).min().unwrap_or(60).min(3600);
    let covered = valid.len() as i64 * interval;
    (covered >= 45 * 60).then(|| {
        lantian_core::round::round_half_even(valid.iter().map(|(_, v)| v).sum::<f64>() / valid.len() as f64, 3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(source: Source, start: i64, value: f64, flag: char) -> LiveRecord {
        LiveRecord { source, station: "1431A".into(), kind: Kind::Pm25, start, value, flag }
    }

    #[test]
    fn lines_round_trip_and_torn_lines_are_refused() {
        let r = rec(Source::Minute, 1_561_939_200, 35.5, 'N');
        assert_eq!(LiveRecord::parse(&r.line()), Some(r.clone()));
        let line = r.line();
        assert_eq!(LiveRecord::parse(&line[..line.len() - 3]), None, "a torn line");
        assert_eq!(LiveRecord::parse("H,,pm25,1,2,N"), None);
        assert_eq!(LiveRecord::parse("H,1431A,pm25,1,NaN,N"), None);
    }

    #[test]
    fn start_of_period_becomes_hour_end_label() {
        // DataTime 2019-07-01 00:00 (start) → the hour 00:00–01:00 → label 01:00 of July 1.
        let t = seconds(jiff::civil::date(2019, 7, 1).at(0, 0, 0, 0));
        let r = rec(Source::Hourly, t, 1.0, 'N');
        assert_eq!(format_label(r.label()), "2019-07-01T01:00+08:00");
        let t = seconds(jiff::civil::date(2019, 7, 1).at(23, 59, 0, 0));
        assert_eq!(format_label(rec(Source::Minute, t, 1.0, 'N').label()), "2019-07-02T00:00+08:00");
    }

    #[test]
    fn capture_rule_for_an_hour() {
        let base = seconds(jiff::civil::date(2019, 7, 1).at(10, 0, 0, 0));
        let minutes =
            |n: i64, flag: char| -> Samples { (0..n).map(|m| (base + 60 * m, (f64::from(m as i32), flag))).collect() };
        assert_eq!(hour_from_samples(&minutes(45, 'N')), Some(22.0), "45 minutes: mean of 0..44");
        assert_eq!(hour_from_samples(&minutes(44, 'N')), None, "44 minutes are not enough");
        let mut m = minutes(60, 'N');
        for t in 0..16 {
            m.insert(base + 60 * t, (1000.0, 'D'));
        }
        assert_eq!(hour_from_samples(&m), None, "16 faulty minutes leave 44 valid");
        // Real-time every 30 s: 90 samples cover 45 minutes.
        let rt: Samples = (0..90).map(|k| (base + 30 * k, (10.0, 'N'))).collect();
        assert_eq!(hour_from_samples(&rt), Some(10.0));
        let co: Samples = (0..60).map(|m| (base + 60 * m, (1.2, 'N'))).collect();
        assert_eq!(hour_from_samples(&co), Some(1.2), "no float noise");
    }

    fn stored(data: &Path, kind: Kind, label: HourLabel) -> Option<f64> {
        let store = crate::Store::open(data).unwrap();
        let mut r = crate::query::Reader::new(&store, &[kind], None);
        let d = r.range(label, label).unwrap();
        let i = d.stations.iter().position(|s| s == "1431A")?;
        let v = d.series(i, kind)[0];
        (!v.is_nan()).then_some(v)
    }

    #[test]
    fn compaction_is_durable_idempotent_and_counts_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        let hour = seconds(jiff::civil::date(2019, 7, 1).at(10, 0, 0, 0));
        let mut wal = Wal::open(data).unwrap();
        let mut recs = vec![rec(Source::Hourly, hour, 35.0, 'N'), rec(Source::Hourly, hour + 3600, 99.0, 'D')];
        // Minutes 11:00–11:59 of another pollutant, only 50 of them.
        recs.extend(
            (0..50).map(|m| LiveRecord { kind: Kind::O3, ..rec(Source::Minute, hour + 3600 + 60 * m, 100.0, 'N') }),
        );
        wal.append(&recs).unwrap();
        // A torn line as a crash would leave it.
        std::fs::OpenOptions::new()
            .append(true)
            .open(segment_path(data, wal.seq()))
            .unwrap()
            .write_all(b"H,1431A,pm2")
            .unwrap();
        let sealed = wal.rotate().unwrap();
        let c = compact(data, sealed + 1).unwrap();
        assert_eq!((c.segments, c.records, c.flagged, c.torn, c.hours), (1, 52, 1, 1, 2));
        let label = hour.div_euclid(3600) + 1;
        assert_eq!(stored(data, Kind::Pm25, label), Some(35.0), "hour 10:00–11:00 is label 11:00");
        assert_eq!(stored(data, Kind::Pm25, label + 1), None, "a value flagged D is not valid data");
        assert_eq!(stored(data, Kind::O3, label + 1), Some(100.0), "50 minutes form the hour");
        assert!(data.join("live/archive").join(format!("wal-{sealed:06}.log")).is_file(), "kept with its flags");
        // The same packet again changes nothing; a newer value revises.
        wal.append(&[rec(Source::Hourly, hour, 35.0, 'N')]).unwrap();
        let s = wal.rotate().unwrap();
        let c = compact(data, s + 1).unwrap();
        assert_eq!(c.import.unwrap().hourly.unchanged, 1);
        wal.append(&[rec(Source::Hourly, hour, 36.0, 'N')]).unwrap();
        let s = wal.rotate().unwrap();
        assert_eq!(compact(data, s + 1).unwrap().import.unwrap().hourly.revised, 1);
        assert_eq!(stored(data, Kind::Pm25, label), Some(36.0));
        // The active segment is never compacted.
        assert_eq!(compact(data, wal.seq()).unwrap().segments, 0);
    }
}
