//! A raw month's station days, stored beside its Parquet file (`….days`,
//! the same generation-named stem): each station's daily values by the
//! default capture rules for the days the month holds whole, and the
//! hours a reader needs to close the days it does not (the month's first
//! label, which closes the previous month's last day, and the last day's
//! 23 labels, which the next month's first label closes).
//!
//! The writer computes them while each station's merged block is in cache
//! (`write_blocks`); a reader of whole days (`query::station_days_with`)
//! then reads some 60 thousand station-days a month instead of decoding
//! 1.6 million station-hours and applying the rules to them again. It is
//! derived data: the file is written with its month file and only beside
//! it, any month file without one (a store of an earlier version) is read
//! from its hours, and one that cannot be read is ignored the same way.
//! So it is not synced to disk with the month: a file a crash left torn
//! fails its checksum, and the month is read from its hours. Both ways give
//! the same values bit for bit (tested, and on the national year byte for
//! byte).
//!
//! Format (little-endian): magic, first label (i64), labels (u32), stations
//! (u32); per station its name (u16 length, UTF-8), the head (u8 flag, then
//! 6 × f64 if set), the tail (flag, then 6 × 23 × f64 if set), its days
//! (u16 count; each a record of `DAY_BYTES`: day of the month from 0, hours
//! with a value of any kind, valid hours per pollutant (6 × u8), which of
//! the seven values are present (u8 bits), then the seven as f64, zero when
//! absent); the magic again at the end, then the CRC-32 of all before it.
//! Series are in `Pollutant::ALL` order. Records of one size let a reader
//! index a file in one pass and decode each day only when it gives it
//! (`MonthDays`).

use super::*;
use lantian_core::pollutant::Pollutant;
use lantian_core::series::{CaptureRules, DailyValues, station_day_refs};

const MAGIC: &[u8; 8] = b"LTDAYS01";

/// Bytes before the first station: magic, first label, labels, stations.
const HEADER: usize = 8 + 8 + 4 + 4;

/// Labels of a month's last day that the month holds: the 24th (00:00 of
/// the next day) is the next month's first label.
pub const TAIL: usize = 23;

/// The six measured series of a day or part of one, `Pollutant::ALL` order.
pub type Six<const N: usize> = [[f64; N]; 6];

/// Bytes of a day's record.
const DAY_BYTES: usize = 2 + 6 + 1 + 7 * 8;

/// Where one station's parts are in the file.
#[derive(Clone, Debug)]
struct StationAt {
    /// In `MonthDays::names`.
    name: std::ops::Range<usize>,
    head: Option<usize>,
    tail: Option<usize>,
    /// The first day record, and how many.
    days: usize,
    count: usize,
}

/// A month's stored days, stations in the month file's order: the file's
/// bytes, checked and indexed, decoded as they are asked for.
#[derive(Clone, Debug)]
pub struct MonthDays {
    pub start: HourLabel,
    pub len: usize,
    bytes: bytes::Bytes,
    /// The stations' names one after another.
    names: String,
    stations: Vec<StationAt>,
}

impl MonthDays {
    pub fn stations(&self) -> usize {
        self.stations.len()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.names[self.stations[i].name.clone()]
    }

    fn f64_at(&self, at: usize) -> f64 {
        f64::from_bits(u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes")))
    }

    /// The month's first label of the six series (hour 24 of the previous
    /// month's last day), if any has a value.
    pub fn head(&self, i: usize) -> Option<[f64; 6]> {
        let at = self.stations[i].head?;
        Some(std::array::from_fn(|k| self.f64_at(at + 8 * k)))
    }

    /// Hours 1..=23 of the month's last day, if any has a value.
    pub fn tail(&self, i: usize) -> Option<Six<TAIL>> {
        let at = self.stations[i].tail?;
        Some(std::array::from_fn(|k| std::array::from_fn(|h| self.f64_at(at + 8 * (k * TAIL + h)))))
    }

    /// The days the month holds whole that have a value of any kind: day
    /// of the month from 0, the values, and hours with a value of any kind.
    pub fn days(&self, i: usize) -> impl Iterator<Item = (u8, DailyValues, u8)> + '_ {
        let s = &self.stations[i];
        (0..s.count).map(move |d| {
            let at = s.days + d * DAY_BYTES;
            let r = &self.bytes[at..at + DAY_BYTES];
            let mask = r[8];
            let value = |i: usize| (mask & (1 << i) != 0).then(|| self.f64_at(at + 9 + 8 * i));
            let hours: [u8; 6] = r[2..8].try_into().expect("6 bytes");
            let v = DailyValues {
                so2: value(0),
                no2: value(1),
                pm10: value(2),
                pm25: value(3),
                co: value(4),
                o3_8h: value(5),
                o3_1h_max: value(6),
                hours,
                deducted: None,
            };
            (r[0], v, r[1])
        })
    }
}

/// The days file beside month file `parquet`.
pub fn days_path(parquet: &Path) -> std::path::PathBuf {
    parquet.with_extension("days")
}

/// Hours with a value of any of the six series.
pub fn hours_with_value<const N: usize>(hours: [&[f64; N]; 6]) -> usize {
    (0..N).filter(|&h| hours.iter().any(|s| !s[h].is_nan())).count()
}

/// Builds a month's days file from the station blocks `write_blocks` sees.
pub(crate) struct DaysWriter {
    buf: Vec<u8>,
    len: usize,
    stations: u32,
    /// False once a block was not a month's: no file is written then.
    ok: bool,
}

impl DaysWriter {
    /// A writer into `buf` (cleared first; a writer thread's buffer from
    /// month to month: a fresh one was a page fault per 4 KB of every month).
    pub(crate) fn new(start: HourLabel, len: usize, stations: usize, mut buf: Vec<u8>) -> DaysWriter {
        buf.clear();
        // Room for every station with every part and day (growing copied).
        buf.reserve(HEADER + 8 + 4 + stations * (2 + 16 + 2 + 8 * 6 * (1 + TAIL) + 2 + (len / 24) * DAY_BYTES));
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&start.to_le_bytes());
        buf.extend_from_slice(&(len as u32).to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes()); // stations, set in `finish`
        DaysWriter { buf, len, stations: 0, ok: true }
    }

    /// Add a station from its block (`N_KINDS` series of the month's labels).
    pub(crate) fn station(&mut self, name: &str, block: &[f64]) {
        let len = self.len;
        if block.len() != N_KINDS * len || len < 24 || !len.is_multiple_of(24) || name.len() > u16::MAX as usize {
            self.ok = false;
            return;
        }
        let series: [&[f64]; 6] = Pollutant::ALL.map(|p| &block[Kind::measured(p).idx() * len..][..len]);
        let b = &mut self.buf;
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        let head: [f64; 6] = series.map(|s| s[0]);
        put_optional(b, &head);
        let mut tail = [0.0; 6 * TAIL];
        for (t, s) in tail.chunks_exact_mut(TAIL).zip(series) {
            t.copy_from_slice(&s[len - TAIL..]);
        }
        put_optional(b, &tail);
        let count_at = b.len();
        b.extend_from_slice(&0u16.to_le_bytes());
        let rules = CaptureRules::default();
        let mut count = 0u16;
        for day in 0..len / 24 - 1 {
            let at = day * 24 + 1;
            let hours: [&[f64; 24]; 6] = series.map(|s| s[at..at + 24].try_into().expect("24 labels"));
            let with_value = hours_with_value(hours);
            if with_value == 0 {
                continue;
            }
            let v = station_day_refs(hours, &rules);
            b.extend_from_slice(&[day as u8, with_value as u8]);
            b.extend_from_slice(&v.hours);
            let values = values_of(&v);
            let mask = values.iter().enumerate().fold(0u8, |m, (i, x)| m | (u8::from(x.is_some()) << i));
            b.push(mask);
            for x in values {
                b.extend_from_slice(&x.map_or(0, f64::to_bits).to_le_bytes());
            }
            count += 1;
        }
        b[count_at..count_at + 2].copy_from_slice(&count.to_le_bytes());
        self.stations += 1;
    }

    /// The file's bytes, unless a station's block was not a month's.
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        self.buf[HEADER - 4..HEADER].copy_from_slice(&self.stations.to_le_bytes());
        self.buf.extend_from_slice(MAGIC);
        let crc = crc32fast::hash(&self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.ok.then_some(self.buf)
    }
}

/// A flag, then the values if any is not missing.
fn put_optional(b: &mut Vec<u8>, values: &[f64]) {
    let any = values.iter().any(|v| !v.is_nan());
    b.push(u8::from(any));
    if any {
        for v in values {
            b.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

/// The seven values of a day, in the order the file keeps them.
fn values_of(v: &DailyValues) -> [Option<f64>; 7] {
    [v.so2, v.no2, v.pm10, v.pm25, v.co, v.o3_8h, v.o3_1h_max]
}

/// Bytes read from the front, `None` past the end; `at` counts them.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let a = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(a)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    /// A flag, then `n` f64 if it is set: where they start.
    fn optional(&mut self, n: usize) -> Option<Option<usize>> {
        if self.take(1)?[0] == 0 {
            return Some(None);
        }
        let at = self.at;
        self.take(8 * n)?;
        Some(Some(at))
    }
}

/// Check and index a days file of the month `key`; `None` if it is not one
/// (a reader then reads the month's hours).
pub fn parse(key: MonthKey, bytes: impl Into<bytes::Bytes>) -> Option<MonthDays> {
    let (start, len) = key.label_range();
    let mut bytes = bytes.into();
    let crc =
        bytes.len().checked_sub(4).and_then(|at| (*bytes.split_off(at)).try_into().ok()).map(u32::from_le_bytes)?;
    if crc32fast::hash(&bytes) != crc {
        return None;
    }
    let mut c = Cursor { bytes: &bytes, at: 0 };
    if c.take(8)? != MAGIC || i64::from_le_bytes(c.array()?) != start || u32::from_le_bytes(c.array()?) as usize != len
    {
        return None;
    }
    let n = u32::from_le_bytes(c.array()?) as usize;
    let whole_days = len / 24 - 1;
    let mut stations = Vec::with_capacity(n.min(bytes.len() / 8));
    let mut names = String::new();
    for _ in 0..n {
        let name_len = u16::from_le_bytes(c.array()?) as usize;
        let name = names.len()..names.len() + name_len;
        names.push_str(std::str::from_utf8(c.take(name_len)?).ok()?);
        let head = c.optional(6)?;
        let tail = c.optional(6 * TAIL)?;
        let count = u16::from_le_bytes(c.array()?) as usize;
        let days = c.at;
        let records = c.take(count.checked_mul(DAY_BYTES)?)?;
        // Days ascending within the month's whole days.
        let mut last = None;
        for r in records.chunks_exact(DAY_BYTES) {
            if r[0] as usize >= whole_days || last.is_some_and(|d| d >= r[0]) {
                return None;
            }
            last = Some(r[0]);
        }
        stations.push(StationAt { name, head, tail, days, count });
    }
    if c.take(8)? != MAGIC || c.at != bytes.len() {
        return None;
    }
    Some(MonthDays { start, len, bytes, names, stations })
}

/// Station days `d0..=d1` of month `cur` (all within it) as a reader of the
/// hours gives them (`query::station_days_with`), to `each`: its stations
/// (those `keep` keeps) in the file's order, each station's days in order,
/// the last day closed by `next`'s first label (the next month's days, if
/// the store has that month); then the stations only `next` has, whose
/// last day is that closing hour alone. Days without a value of any kind
/// are not given. Returns the hours used (all raw).
pub fn emit(
    cur: &MonthDays,
    next: Option<&MonthDays>,
    (d0, d1): (lantian_core::time::DayNumber, lantian_core::time::DayNumber),
    keep: &dyn Fn(&str) -> bool,
    each: &mut dyn FnMut(&str, lantian_core::time::DayNumber, &DailyValues, ValuesUsed),
) -> ValuesUsed {
    let first = cur.start.div_euclid(24);
    let last_day = first + (cur.len / 24) as i64 - 1;
    let closing = d1 >= last_day;
    let heads: HashMap<&str, [f64; 6]> = match next {
        Some(n) if closing => (0..n.stations()).filter_map(|i| Some((n.name(i), n.head(i)?))).collect(),
        _ => HashMap::new(),
    };
    let rules = CaptureRules::default();
    let mut used = ValuesUsed::default();
    let mut give = |name: &str, day, v: &DailyValues, n: usize| {
        let u = ValuesUsed { audited: 0, raw: n as u64 };
        used += u;
        each(name, day, v, u);
    };
    // The last day from the month's 23 hours and the next month's first.
    let last = |tail: Option<&Six<TAIL>>, head: Option<&[f64; 6]>| -> Option<(DailyValues, usize)> {
        let mut hours = [[f64::NAN; 24]; 6];
        for (k, h) in hours.iter_mut().enumerate() {
            if let Some(t) = tail {
                h[..TAIL].copy_from_slice(&t[k]);
            }
            if let Some(head) = head {
                h[TAIL] = head[k];
            }
        }
        let n = hours_with_value(hours.each_ref());
        (n > 0).then(|| (station_day_refs(hours.each_ref(), &rules), n))
    };
    for i in (0..cur.stations()).filter(|&i| keep(cur.name(i))) {
        let name = cur.name(i);
        for (j, v, n) in cur.days(i) {
            let day = first + i64::from(j);
            if (d0..=d1).contains(&day) {
                give(name, day, &v, usize::from(n));
            }
        }
        if closing && let Some((v, n)) = last(cur.tail(i).as_ref(), heads.get(name)) {
            give(name, last_day, &v, n);
        }
    }
    if closing && let Some(next) = next {
        let in_cur: std::collections::HashSet<&str> = (0..cur.stations()).map(|i| cur.name(i)).collect();
        for i in (0..next.stations()).filter(|&i| keep(next.name(i)) && !in_cur.contains(next.name(i))) {
            if let Some((v, n)) = last(None, next.head(i).as_ref()) {
                give(next.name(i), last_day, &v, n);
            }
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::query::{DaysAhead, station_days_with};
    use lantian_core::time::{DayNumber, day_number};
    use std::fs;

    /// Files of 2019-01-30 .. 2019-02-02: four stations with values (some
    /// cells blank, so that days fall either side of the capture rules),
    /// 9001A only in January, 9002A only in the hour that closes January.
    fn write_days(dir: &Path, seed: u64) {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x >> 33
        };
        let types = ["AQI", "PM2.5", "PM10", "SO2", "NO2", "O3", "CO"];
        for (day, extra) in [("20190130", "9001A"), ("20190131", "9001A"), ("20190201", "9002A"), ("20190202", "")] {
            let mut names = vec!["1001A", "1002A", "1003A", "1004A"];
            if !extra.is_empty() {
                names.push(extra);
            }
            let mut text = format!("date,hour,type,{}\n", names.join(","));
            for hour in 0..24 {
                for t in types {
                    let cells: Vec<String> = names
                        .iter()
                        .map(|&n| {
                            let r = next();
                            let blank = r % 7 == 0 || (n == "9002A" && hour > 0) || (n == "1004A" && hour % 5 < 2);
                            match (blank, t) {
                                (true, _) => String::new(),
                                (_, "CO") => format!("{}.{}", r % 3, r % 10),
                                _ => (r % 300).to_string(),
                            }
                        })
                        .collect();
                    text.push_str(&format!("{day},{hour},{t},{}\n", cells.join(",")));
                }
            }
            fs::write(dir.join(format!("china_sites_{day}.csv")), text).unwrap();
        }
    }

    fn days_of(
        store: &Store,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        stored: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let each = |st: &str, d: DayNumber, v: &DailyValues, u: ValuesUsed| out.push(format!("{st} {d} {v:?} {u:?}"));
        let rules = CaptureRules::default();
        let hours;
        let store = if stored {
            store
        } else {
            hours = store.clone().hours_only();
            &hours
        };
        station_days_with(store, stations, from, to, &rules, None, each).unwrap();
        out
    }

    fn day(m: i8, d: i8) -> DayNumber {
        day_number(jiff::civil::date(2019, m, d))
    }

    /// Every window the stored days serve gives what the hours give, in
    /// the same order, bit for bit.
    fn assert_same(store: &Store) {
        let few = ["1002A".to_string(), "9002A".to_string()];
        for (from, to, stations) in [
            (day(1, 1), day(2, 28), None),
            (day(1, 30), day(1, 31), None),
            (day(1, 31), day(2, 1), None),
            (day(1, 30), day(1, 30), None),
            (day(2, 1), day(2, 2), None),
            (day(1, 1), day(2, 28), Some(&few[..])),
        ] {
            let hours = days_of(store, stations, from, to, false);
            assert!(!hours.is_empty());
            assert_eq!(days_of(store, stations, from, to, true), hours, "{from}..{to} {stations:?}");
        }
    }

    #[test]
    fn stored_days_give_what_the_hours_give() {
        let dir = tempfile::tempdir().unwrap();
        let (data, input) = (dir.path().join("data"), dir.path().join("in"));
        fs::create_dir_all(&input).unwrap();
        write_days(&input, 1);
        crate::import(&data, std::slice::from_ref(&input), None).unwrap();
        let store = Store::open(&data).unwrap();
        let (jan, feb) = (MonthKey { year: 2019, month: 1 }, MonthKey { year: 2019, month: 2 });
        // The stored days are there and are what the reader takes.
        let mut ahead = DaysAhead::start(&store, vec![jan, feb]);
        let (cur, next) = ahead.pair(jan, day(1, 31)).expect("January's days are stored");
        assert!((0..cur.stations()).any(|i| cur.name(i) == "9001A"));
        let next = next.expect("February closes January");
        assert!((0..next.stations()).any(|i| next.name(i) == "9002A"));
        // 9002A's one hour closes January's last day, the only day it has.
        let closing = days_of(&store, None, day(1, 31), day(1, 31), true);
        assert!(closing.last().unwrap().starts_with(&format!("9002A {}", day(1, 31))), "{closing:?}");
        assert_same(&store);

        // A changed month is rewritten with its days; the old ones go.
        let jan_days = |store: &Store| days_path(&store.dir().join(&store.manifest.hourly["2019-01"]));
        let old = jan_days(&store);
        write_days(&input, 2);
        crate::import(&data, &[input.join("china_sites_20190131.csv")], None).unwrap();
        let store = Store::open(&data).unwrap();
        assert_ne!(jan_days(&store), old);
        assert!(jan_days(&store).exists());
        assert_same(&store);
        // The next writer removes the last generation's files.
        crate::import(&data, &[input.join("china_sites_20190131.csv")], None).unwrap();
        assert!(!old.exists());

        // Days files gone or damaged: the hours are read, the same values.
        let store = Store::open(&data).unwrap();
        let bytes = fs::read(jan_days(&store)).unwrap();
        fs::write(jan_days(&store), &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(store.stored_days(jan), crate::store::StoredDays::Hours));
        assert_same(&store);
        let feb_days = days_path(&store.dir().join(&store.manifest.hourly["2019-02"]));
        fs::remove_file(&feb_days).unwrap();
        assert!(matches!(store.stored_days(feb), crate::store::StoredDays::Hours));
        assert_same(&store);
    }

    /// What a writer puts in a days file is what `parse` reads back; any
    /// cut of the file, or another month's key, is refused, not misread.
    #[test]
    fn days_file_round_trip_and_damage() {
        let key = MonthKey { year: 2019, month: 2 };
        let (start, len) = key.label_range();
        let mut w = DaysWriter::new(start, len, 2, Vec::new());
        let mut block = vec![f64::NAN; N_KINDS * len];
        for (i, v) in block.iter_mut().enumerate() {
            if i % 11 != 0 {
                *v = (i % 97) as f64 + 0.5;
            }
        }
        w.station("1001A", &block);
        w.station("1002A", &vec![f64::NAN; N_KINDS * len]);
        let bytes = w.finish().unwrap();
        let days = parse(key, bytes.clone()).unwrap();
        assert_eq!(days.stations(), 2);
        assert_eq!((days.name(0), days.name(1)), ("1001A", "1002A"));
        let stored: Vec<(u8, DailyValues, u8)> = days.days(0).collect();
        assert_eq!(stored.len(), 27, "every whole day of February but the last");
        let pm25 = &block[Kind::Pm25.idx() * len..][..len];
        assert_eq!(days.head(0).unwrap()[5].to_bits(), pm25[0].to_bits());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&days.tail(0).unwrap()[5]), bits(&pm25[len - TAIL..]));
        let hours: [&[f64; 24]; 6] =
            Pollutant::ALL.map(|p| block[Kind::measured(p).idx() * len + 25..][..24].try_into().unwrap());
        assert_eq!(stored[1].0, 1);
        assert_eq!(stored[1].1, station_day_refs(hours, &CaptureRules::default()));
        assert_eq!(days.days(1).count(), 0);
        assert!(days.head(1).is_none() && days.tail(1).is_none());
        for cut in [0, 7, 8, 20, 24, bytes.len() / 2, bytes.len() - 1] {
            assert!(parse(key, bytes[..cut].to_vec()).is_none(), "cut at {cut}");
        }
        // One byte more, or a day out of order: refused.
        assert!(parse(key, [&bytes[..], &[0]].concat()).is_none());
        // The first record: before the 27, 1002A (11 bytes), the magic.
        let first_day = bytes.len() - 4 - 8 - 11 - 27 * DAY_BYTES;
        assert_eq!(bytes[first_day], 0);
        let mut swapped = bytes.clone();
        swapped[first_day] = 5;
        assert!(parse(key, swapped.clone()).is_none(), "the checksum");
        let at = swapped.len() - 4;
        let crc = crc32fast::hash(&swapped[..at]);
        swapped[at..].copy_from_slice(&crc.to_le_bytes());
        assert!(parse(key, swapped).is_none(), "the days' order");
        // A value changed: the checksum.
        let mut changed = bytes.clone();
        changed[first_day + 9] ^= 1;
        assert!(parse(key, changed).is_none());
        assert!(parse(MonthKey { year: 2019, month: 3 }, bytes).is_none());
        // A block that is not a month's: no file at all.
        let mut w = DaysWriter::new(start, len, 2, Vec::new());
        w.station("1001A", &block[1..]);
        assert!(w.finish().is_none());
    }
}
