//! Reading the store for the core: dense hour ranges, station days and area
//! days, streamed a month at a time so a national year fits in memory.

use crate::Result;
use crate::city_daily::CityDay;
use crate::kinds::Kind;
use crate::partition::days;
use crate::partition::{MonthKey, Partition, ValuesUsed};
use crate::store::Store;
use lantian_core::Pollutant;
use lantian_core::city::{AreaMethod, area_day};
use lantian_core::deduct::Intervals;
use lantian_core::series::{CaptureRules, DailyValues, station_day_deducted_refs, station_day_refs};
use lantian_core::time::{DayNumber, HourLabel, date_of};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

mod ahead;
pub(crate) use ahead::DaysAhead;

/// Values of some stations and kinds over a contiguous label range.
pub struct Dense {
    pub start: HourLabel,
    pub len: usize,
    pub stations: Vec<String>,
    kinds: Vec<Kind>,
    /// One block per station (see `Partition`).
    values: Vec<Vec<f64>>,
}

impl Dense {
    /// The series of station `i` for `kind` (all `NaN` if the kind was not read).
    pub fn series(&self, i: usize, kind: Kind) -> &[f64] {
        let k = self.kinds.iter().position(|&x| x == kind).expect("kind was requested");
        &self.values[i][k * self.len..(k + 1) * self.len]
    }
}

/// Months decoded ahead of the one being used.
const PREFETCH_MONTHS: usize = 2;

/// Reads label ranges month by month, keeping the last month read so that
/// consecutive ranges sharing a month read it once.
pub struct Reader<'a> {
    store: &'a Store,
    kinds: Vec<Kind>,
    wanted: Option<Arc<HashSet<String>>>,
    cache: Vec<(MonthKey, Option<Partition>)>,
    /// The next months, being decoded on other threads while this one is used.
    prefetch: Vec<(MonthKey, std::thread::JoinHandle<Result<Option<Partition>>>)>,
    /// The only labels that will be used (`labels`): a month is read for
    /// those alone, and months after them are not decoded ahead.
    window: Option<(HourLabel, HourLabel)>,
}

/// A reader done with its months gives their blocks to the next reader (a
/// server answers one request after another: fresh blocks for each month
/// read were most of a short query's time, in page faults).
impl Drop for Reader<'_> {
    fn drop(&mut self) {
        for (_, month) in self.cache.drain(..) {
            if let Some(month) = month {
                month.recycle();
            }
        }
    }
}

impl<'a> Reader<'a> {
    pub fn new(store: &'a Store, kinds: &[Kind], stations: Option<&[String]>) -> Reader<'a> {
        Reader {
            store,
            kinds: kinds.to_vec(),
            wanted: stations.map(|s| Arc::new(s.iter().cloned().collect())),
            cache: Vec::new(),
            prefetch: Vec::new(),
            window: None,
        }
    }

    /// Labels `from..=to` are all that will be used: each month is read for
    /// those of its labels alone (the month after whole days for its first
    /// label, which closes the last day; a day's briefing one day of its
    /// month), and nothing after `to` is decoded ahead.
    pub fn labels(mut self, from: HourLabel, to: HourLabel) -> Self {
        self.window = Some((from, to));
        self
    }

    fn load(
        store: &Store,
        key: MonthKey,
        kinds: &[Kind],
        wanted: Option<Arc<HashSet<String>>>,
        window: Option<(HourLabel, HourLabel)>,
    ) -> Result<Option<Partition>> {
        let filter = move |s: &str| wanted.as_ref().is_none_or(|w| w.contains(s));
        let (start, len) = key.label_range();
        match window {
            Some((from, to)) if from > start || to < start + len as i64 - 1 => {
                let (lo, hi) = (from.max(start), to.min(start + len as i64 - 1));
                if lo > hi {
                    return Ok(None);
                }
                store.read_month_labels(key, kinds, Some(&filter), lo, (hi - lo + 1) as usize)
            }
            _ => store.read_month(key, kinds, Some(&filter)),
        }
    }

    fn month(&mut self, key: MonthKey) -> Result<&Option<Partition>> {
        if let Some(pos) = self.cache.iter().position(|(k, _)| *k == key) {
            return Ok(&self.cache[pos].1);
        }
        // The oldest month makes room first: its blocks go to the pool
        // before the months decoded ahead take theirs (after, they took
        // fresh memory, a page fault per 4 KB).
        if self.cache.len() >= 2 {
            let (_, done) = self.cache.remove(0);
            if let Some(done) = done {
                done.recycle();
            }
        }
        // Readers go month by month: decode the next two months meanwhile
        // (decoding, not the rules, is the long pole of a year's assessment),
        // started before this one is read so that they overlap it too.
        self.prefetch.retain(|(k, _)| *k >= key);
        let months = self.store.months();
        let mut next = key.next();
        let window = self.window;
        for _ in 0..PREFETCH_MONTHS {
            let needed = window.is_none_or(|(_, to)| next.label_range().0 <= to);
            if needed && months.contains(&next) && !self.prefetch.iter().any(|(k, _)| *k == next) {
                let (store, kinds, wanted) = (self.store.clone(), self.kinds.clone(), self.wanted.clone());
                let month = next;
                let load = move || Self::load(&store, month, &kinds, wanted, window);
                self.prefetch.push((month, std::thread::spawn(load)));
            }
            next = next.next();
        }
        let part = match self.prefetch.iter().position(|(k, _)| *k == key) {
            Some(pos) => {
                let (_, handle) = self.prefetch.remove(pos);
                handle.join().unwrap_or_else(|_| Err(crate::Error::Store("month reader thread panicked".into())))?
            }
            None => Self::load(self.store, key, &self.kinds, self.wanted.clone(), self.window)?,
        };
        self.cache.push((key, part));
        Ok(&self.cache.last().expect("pushed").1)
    }

    /// The month `key` and the next one (whose first label closes `key`'s
    /// last day), both read and kept; no copy is made.
    fn month_pair(&mut self, key: MonthKey) -> Result<(Option<&Partition>, Option<&Partition>)> {
        self.month(key)?;
        self.month(key.next())?;
        let find = |k: MonthKey| self.cache.iter().find(|(c, _)| *c == k).and_then(|(_, p)| p.as_ref());
        Ok((find(key), find(key.next())))
    }

    /// Labels `from..=to`.
    pub fn range(&mut self, from: HourLabel, to: HourLabel) -> Result<Dense> {
        let len = (to - from + 1).max(0) as usize;
        let n_kinds = self.kinds.len();
        let kinds = self.kinds.clone();
        let mut out = Dense { start: from, len, stations: Vec::new(), kinds: kinds.clone(), values: Vec::new() };
        let mut index: HashMap<String, usize> = HashMap::new();
        let (Some(mut key), Some(last)) = (MonthKey::of_label(from), MonthKey::of_label(to)) else {
            return Ok(out);
        };
        loop {
            if let Some(part) = self.month(key)? {
                let lo = from.max(part.start);
                let hi = to.min(part.start + part.len as i64 - 1);
                let stations: &[String] = if lo <= hi { part.stations() } else { &[] };
                for st in stations {
                    let i = *index.entry(st.clone()).or_insert_with(|| {
                        out.stations.push(st.clone());
                        out.values.push(vec![f64::NAN; n_kinds * len]);
                        out.stations.len() - 1
                    });
                    for (k, kind) in kinds.iter().enumerate() {
                        let Some(src) = part.series(st, *kind) else {
                            continue;
                        };
                        let dst = &mut out.values[i][k * len..(k + 1) * len];
                        let (a, b) = ((lo - part.start) as usize, (hi - part.start) as usize);
                        dst[(lo - from) as usize..=(hi - from) as usize].copy_from_slice(&src[a..=b]);
                    }
                }
            }
            if key == last {
                break;
            }
            key = key.next();
        }
        Ok(out)
    }
}

/// Month-aligned chunks of days covering `from..=to`.
pub fn month_chunks(from: DayNumber, to: DayNumber) -> Vec<(DayNumber, DayNumber)> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let Some(date) = date_of(d) else { break };
        let end = (d + i64::from(date.days_in_month() - date.day())).min(to);
        out.push((d, end));
        d = end + 1;
    }
    out
}

/// The 24 slots of day `day` for one series of a dense range that covers it.
pub fn day_slots(dense: &Dense, i: usize, kind: Kind, day: DayNumber) -> [f64; 24] {
    let s = dense.series(i, kind);
    let first = (day * 24 + 1 - dense.start) as usize;
    std::array::from_fn(|k| s.get(first + k).copied().unwrap_or(f64::NAN))
}

/// Daily values of every station (or of `stations`) for days `from..=to`,
/// passed to `each` in day order per month.
///
/// Days are computed straight from the month partitions (a day's 24 labels
/// lie in its month but for the last, which opens the next month's file):
/// copying each month into one dense range first cost a fifth of a national
/// year's assessment in copies and fresh pages.
pub fn station_days(
    store: &Store,
    stations: Option<&[String]>,
    from: DayNumber,
    to: DayNumber,
    rules: &CaptureRules,
    mut each: impl FnMut(&str, DayNumber, &DailyValues),
) -> Result<ValuesUsed> {
    station_days_with(store, stations, from, to, rules, None, |st, day, v, _| each(st, day, v))
}

/// The hours deduction events affected, by city (canonical names):
/// `station_days_with` removes them from the stations' PM10 and PM2.5 for
/// the deducted values, `assemble_city_days` from published city days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Deduction {
    pub by_city: BTreeMap<String, Intervals>,
}

impl Deduction {
    /// The affected hours of a city's day, if any.
    pub fn day_mask(&self, city: &str, day: DayNumber) -> Option<[bool; 24]> {
        self.by_city.get(city)?.day_mask(day)
    }

    /// The part that touches labels `from..=to` (a cached month's key).
    pub fn within(&self, from: HourLabel, to: HourLabel) -> Vec<(String, Vec<(HourLabel, HourLabel)>)> {
        self.by_city.iter().map(|(c, iv)| (c.clone(), iv.within(from, to))).filter(|(_, r)| !r.is_empty()).collect()
    }
}

/// `station_days` with the deduction events' hours removed from PM10 and
/// PM2.5 for the deducted values (`DailyValues::deducted`), and each
/// station-day's hours by layer passed along. The total by layer is
/// returned and added to the store's count. A month's stored days
/// (`partition::days`) stand for its hours wherever they say the same, bit
/// for bit and in the same order (`Store::hours_only` reads the hours).
pub fn station_days_with(
    store: &Store,
    stations: Option<&[String]>,
    from: DayNumber,
    to: DayNumber,
    rules: &CaptureRules,
    deduct: Option<&Deduction>,
    mut each: impl FnMut(&str, DayNumber, &DailyValues, ValuesUsed),
) -> Result<ValuesUsed> {
    let mut used = ValuesUsed::default();
    // Station → its city's affected hours.
    let affected = |st: &str| -> Option<&Intervals> { deduct?.by_city.get(&store.station(st)?.city) };
    let kinds: Vec<Kind> = Pollutant::ALL.iter().map(|p| Kind::measured(*p)).collect();
    // Day D is labels D·24 + 1 ..= D·24 + 24 (the last closes it at 00:00).
    let mut reader = Reader::new(store, &kinds, stations).labels(from * 24 + 1, to * 24 + 24);
    // Each core's station days of a month, the memory kept month to month.
    let mut results: Vec<Vec<(usize, DayNumber, DailyValues, ValuesUsed)>> = Vec::new();
    // Months' stored days (`partition::days`, computed by the default rules
    // without deductions) stand for their hours where they say the same.
    let stored_ok = store.reads_stored_days() && *rules == CaptureRules::default();
    let wanted: Option<HashSet<&str>> = stations.map(|s| s.iter().map(String::as_str).collect());
    let keep = |s: &str| wanted.as_ref().is_none_or(|w| w.contains(s));
    let chunks = month_chunks(from, to);
    let key_of = |d0: DayNumber| date_of(d0).map(|d| MonthKey { year: d.year(), month: d.month() });
    let mut ahead = stored_ok.then(|| {
        // The chunks' months, and the one after the last (it closes its last day).
        let mut keys: Vec<MonthKey> = chunks.iter().filter_map(|&(d0, _)| key_of(d0)).collect();
        keys.extend(keys.last().map(|k| k.next()));
        DaysAhead::start(store, keys)
    });
    for (d0, d1) in chunks {
        let Some(key) = key_of(d0) else { continue };
        if let Some(ahead) = &mut ahead
            && deduct.is_none_or(|d| d.within(d0 * 24 + 1, d1 * 24 + 24).is_empty())
            && let Some((cur, next)) = ahead.pair(key, d1)
        {
            used += days::emit(&cur, next.as_deref(), (d0, d1), &keep, &mut each);
            continue;
        }
        let (cur, next) = reader.month_pair(key)?;
        // Stations of this month, then those only in the next one (they
        // can have the closing hour of the month's last day).
        let mut list: Vec<(&str, Option<usize>, Option<usize>)> = Vec::new();
        if let Some(c) = cur {
            list.extend(
                c.stations().iter().enumerate().map(|(i, s)| (s.as_str(), Some(i), next.and_then(|n| n.slot_of(s)))),
            );
        }
        if let Some(n) = next {
            list.extend(
                n.stations()
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| cur.is_none_or(|c| c.slot_of(s).is_none()))
                    .map(|(i, s)| (s.as_str(), None, Some(i))),
            );
        }
        // A station's series of one kind in this month and the next.
        type Series<'p> = [Option<(HourLabel, &'p [f64])>; 2];
        let series = |ci: Option<usize>, ni: Option<usize>, kind: Kind| -> Series<'_> {
            [
                cur.zip(ci).and_then(|(p, i)| Some((p.start, p.series_at(i, kind)?))),
                next.zip(ni).and_then(|(p, i)| Some((p.start, p.series_at(i, kind)?))),
            ]
        };
        // A day's 24 slots of one series, written in place (building the
        // arrays by value cost a memmove per series and day).
        let fill = |s: &Series, day: DayNumber, out: &mut [f64; 24]| {
            let first = day * 24 + 1;
            // The usual case: the whole day inside this month's series.
            if let Some((start, v)) = s[0]
                && let Some(day) = usize::try_from(first - start).ok().and_then(|o| v.get(o..o + 24))
            {
                out.copy_from_slice(day);
                return;
            }
            for (k, slot) in out.iter_mut().enumerate() {
                let l = first + k as i64;
                *slot = s
                    .iter()
                    .flatten()
                    .find_map(|(start, v)| usize::try_from(l - start).ok().and_then(|o| v.get(o).copied()))
                    .unwrap_or(f64::NAN);
            }
        };
        // A day's 24 slots of one series where this month holds them all.
        fn in_place<'p>(s: &Series<'p>, day: DayNumber) -> Option<&'p [f64; 24]> {
            let (start, v) = s[0]?;
            let o = usize::try_from(day * 24 + 1 - start).ok()?;
            v.get(o..o + 24)?.try_into().ok()
        }
        // Without an audited layer every hour is the raw layer's.
        let any_audited = cur.is_some_and(Partition::has_audited) || next.is_some_and(Partition::has_audited);
        // The rules are pure and per station: split the stations over the cores.
        // Whether the audited layer decided label `l` of a station.
        let audited = |ci: Option<usize>, ni: Option<usize>, l: HourLabel| -> bool {
            [(cur, ci), (next, ni)].iter().any(|(p, i)| {
                p.zip(*i)
                    .is_some_and(|(p, i)| usize::try_from(l - p.start).is_ok_and(|o| o < p.len && p.audited_at(i, o)))
            })
        };
        let compute = |stations: std::ops::Range<usize>, out: &mut Vec<(usize, DayNumber, DailyValues, ValuesUsed)>| {
            out.reserve(stations.len() * (d1 - d0 + 1) as usize);
            for i in stations {
                let (name, ci, ni) = list[i];
                let s: [Series; 6] = std::array::from_fn(|k| series(ci, ni, kinds[k]));
                let events = affected(name);
                let mut hours = [[f64::NAN; 24]; 6];
                for day in d0..=d1 {
                    // A series' day is read in place when this month holds
                    // all of it (copying every day out was a tenth of the
                    // rules' time), else gathered from both months.
                    let mut whole: [Option<&[f64; 24]>; 6] = [None; 6];
                    for (k, out) in hours.iter_mut().enumerate() {
                        whole[k] = in_place(&s[k], day);
                        if whole[k].is_none() {
                            fill(&s[k], day, out);
                        }
                    }
                    let day_hours: [&[f64; 24]; 6] = std::array::from_fn(|k| whole[k].unwrap_or(&hours[k]));
                    // Hours with a value of any kind.
                    let mut any = [false; 24];
                    for series in day_hours {
                        for (a, v) in any.iter_mut().zip(series) {
                            *a |= !v.is_nan();
                        }
                    }
                    let with_value = any.iter().filter(|&&a| a).count();
                    if with_value == 0 {
                        continue;
                    }
                    // Hours with a value, by the layer that decided them.
                    let mut day_used = ValuesUsed { audited: 0, raw: with_value as u64 };
                    if any_audited {
                        for h in (0..24).filter(|&h| any[h]) {
                            if audited(ci, ni, day * 24 + 1 + h as i64) {
                                day_used.audited += 1;
                                day_used.raw -= 1;
                            }
                        }
                    }
                    let v = match events.and_then(|e| e.day_mask(day)) {
                        Some(mask) => station_day_deducted_refs(day_hours, &mask, rules),
                        None => station_day_refs(day_hours, rules),
                    };
                    out.push((i, day, v, day_used));
                }
            }
        };
        crate::par::fill_ranges(list.len(), &mut results, compute);
        for &(i, day, ref v, u) in results.iter().flatten() {
            used += u;
            each(list[i].0, day, v, u);
        }
    }
    store.count(used);
    Ok(used)
}

/// Preference among published sources of one city-day: the official daily
/// file (integers, real MDA8) before the unrounded mirror (no MDA8).
fn source_rank(source: &str) -> u8 {
    match source {
        "aqistudy-daily" => 0,
        _ => 1,
    }
}

/// Where an area-day's values came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaySource {
    /// Computed from this many assessment stations' hourly data.
    Stations(u16),
    /// Published city daily values (city_daily files).
    Published,
}

/// Which data an area's days are built from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourcePreference {
    /// Station hours where the store has them, published values otherwise.
    #[default]
    Auto,
    Stations,
    Published,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AreaDay {
    pub day: DayNumber,
    /// Unrounded area values.
    pub values: DailyValues,
    pub source: DaySource,
}

/// Options for building area days.
#[derive(Clone, Debug, Default)]
pub struct AreaOptions {
    pub rules: CaptureRules,
    pub method: AreaMethod,
    pub source: SourcePreference,
    /// Deduction events' hours (none: every hour kept).
    pub deduct: Option<std::sync::Arc<Deduction>>,
}

/// Assessment stations of each city: the store's station list, control
/// stations (对照点) excluded.
pub fn city_stations(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in store.stations().iter().filter(|s| !s.control) {
        out.entry(s.city.clone()).or_default().push(s.code.clone());
    }
    out
}

/// The cities `cities` names (canonical), or, when empty, every city with
/// assessment stations or published values; sorted.
pub fn wanted_cities(cities: &[String], members: &BTreeMap<String, Vec<String>>, published: &[CityDay]) -> Vec<String> {
    let mut wanted: Vec<String> = if cities.is_empty() {
        // Published rows come in runs of one city: one insert per run.
        let mut all: std::collections::BTreeSet<&str> = members.keys().map(String::as_str).collect();
        let mut last = "";
        for r in published {
            if r.city != last {
                last = &r.city;
                all.insert(last);
            }
        }
        all.into_iter().map(String::from).collect()
    } else {
        cities.iter().map(|c| crate::canonical_city(c)).collect()
    };
    wanted.sort();
    wanted.dedup();
    wanted
}

/// Daily values of each city in `cities` (all known cities when empty) for
/// days `from..=to`, sorted by day.
pub fn city_days(
    store: &Store,
    cities: &[String],
    from: DayNumber,
    to: DayNumber,
    opts: &AreaOptions,
) -> Result<BTreeMap<String, Vec<AreaDay>>> {
    let members = city_stations(store);
    let published = if opts.source == SourcePreference::Stations { Vec::new() } else { store.city_daily()? };
    let wanted = wanted_cities(cities, &members, &published);
    // Station → index of its city in `wanted`.
    let mut station_city: HashMap<String, usize> = HashMap::new();
    for (ci, c) in wanted.iter().enumerate() {
        for s in members.get(c).into_iter().flatten() {
            station_city.insert(s.clone(), ci);
        }
    }
    let sizes: Vec<usize> = wanted
        .iter()
        .map(|c| if opts.source == SourcePreference::Published { 0 } else { members.get(c).map_or(0, Vec::len) })
        .collect();
    let mut lists: Vec<Vec<AreaDay>> = vec![Vec::new(); wanted.len()];
    if opts.source != SourcePreference::Published && !station_city.is_empty() {
        let codes: Vec<String> = station_city.keys().cloned().collect();
        let collect =
            |from, to, threads| stations_city_days(store, &codes, &station_city, &sizes, from, to, opts, threads);
        // Two halves of the months side by side (each month's days are its
        // own: the halves' lists joined in order are the whole period's).
        let chunks = month_chunks(from, to);
        lists = match chunks.get(chunks.len() / 2) {
            Some(&(mid, _)) if chunks.len() >= 2 => {
                let (first, second) = std::thread::scope(|scope| {
                    let second = scope.spawn(|| collect(mid, to, 1));
                    (collect(from, mid - 1, 1), second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                });
                let mut lists = first?;
                for (list, more) in lists.iter_mut().zip(second?) {
                    list.extend(more);
                }
                lists
            }
            _ => collect(from, to, std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8))?,
        };
    }
    Ok(merge_published(&wanted, lists, &published, from, to, opts))
}

/// Each city's days (of `station_city`'s cities, `sizes` their stations)
/// from its stations' days of `from..=to`, ascending; area days made on up
/// to `threads` threads.
#[allow(clippy::too_many_arguments)]
fn stations_city_days(
    store: &Store,
    codes: &[String],
    station_city: &HashMap<String, usize>,
    sizes: &[usize],
    from: DayNumber,
    to: DayNumber,
    opts: &AreaOptions,
    threads: usize,
) -> Result<Vec<Vec<AreaDay>>> {
    // Per city: (day, station daily values) of one month in station order,
    // each station's days in order (as `station_days` delivers them), made
    // into the city's days when the month is done: the lists' memory is
    // used again month after month (holding a national year's 0.6 M
    // station-days at once was 100 MB of fresh pages). Room for every
    // member's every day of a month up front.
    let mut per_city: Vec<Vec<(DayNumber, DailyValues)>> = sizes.iter().map(|n| Vec::with_capacity(n * 31)).collect();
    // Room for every day up front (growing by doubling copied the lists).
    let n_days = usize::try_from(to - from + 1).unwrap_or(0);
    let mut lists: Vec<Vec<AreaDay>> =
        sizes.iter().map(|&n| Vec::with_capacity(if n > 0 { n_days } else { 0 })).collect();
    let flush = |per_city: &mut Vec<Vec<(DayNumber, DailyValues)>>, lists: &mut Vec<Vec<AreaDay>>| {
        append_area_days(per_city, opts.method, lists, threads);
        per_city.iter_mut().for_each(Vec::clear);
    };
    // Calls come station by station: look the city up once per run.
    let mut last: Option<(String, Option<usize>)> = None;
    // Days come a month at a time, none of a month after the next began.
    let mut month_end: Option<DayNumber> = None;
    station_days_with(store, Some(codes), from, to, &opts.rules, opts.deduct.as_deref(), |st, day, v, _| {
        if month_end.is_none_or(|end| day > end) {
            if month_end.is_some() {
                flush(&mut per_city, &mut lists);
            }
            month_end = date_of(day).map(|d| lantian_core::time::day_number(d.last_of_month()));
        }
        let ci = match &last {
            Some((s, ci)) if s == st => *ci,
            _ => {
                let ci = station_city.get(st).copied();
                last = Some((st.to_string(), ci));
                ci
            }
        };
        if let Some(ci) = ci {
            per_city[ci].push((day, *v));
        }
    })?;
    flush(&mut per_city, &mut lists);
    Ok(lists)
}

/// The days of the cities `wanted` from their stations' days (`per_city`,
/// in `wanted`'s order) and the published rows: a city's day is its
/// stations' day (`opts.method`); published values fill the days without
/// station values (`Auto`), or stand alone (`Published`).
pub fn assemble_city_days(
    wanted: &[String],
    per_city: Vec<Vec<(DayNumber, DailyValues)>>,
    published: &[CityDay],
    from: DayNumber,
    to: DayNumber,
    opts: &AreaOptions,
) -> BTreeMap<String, Vec<AreaDay>> {
    let lists = stations_area_days(&per_city, opts.method);
    merge_published(wanted, lists, published, from, to, opts)
}

/// Each city's days from its stations' days (`per_city`, in `wanted`'s
/// order), ascending: a day's stations in the order they came.
fn stations_area_days(per_city: &[Vec<(DayNumber, DailyValues)>], method: AreaMethod) -> Vec<Vec<AreaDay>> {
    let mut lists = vec![Vec::new(); per_city.len()];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8);
    append_area_days(per_city, method, &mut lists, threads);
    lists
}

/// `stations_area_days` appended to `lists` (of days before these), on up
/// to `threads` threads.
fn append_area_days(
    per_city: &[Vec<(DayNumber, DailyValues)>],
    method: AreaMethod,
    lists: &mut [Vec<AreaDay>],
    threads: usize,
) {
    // A city's station days arrive month by month, station by station: order
    // them by day through an index (a day's stations stay in the order they
    // came), not by moving the 160-byte values; cities split over the cores.
    let area_days = |days: &[(DayNumber, DailyValues)], out: &mut Vec<AreaDay>| {
        let mut order: Vec<(DayNumber, u32)> = days.iter().enumerate().map(|(i, (d, _))| (*d, i as u32)).collect();
        order.sort_by_key(|&(d, _)| d);
        out.extend(order.chunk_by(|a, b| a.0 == b.0).map(|group| {
            let values = area_day(group.iter().map(|&(_, i)| &days[i as usize].1), method, 1);
            AreaDay { day: group[0].0, values, source: DaySource::Stations(group.len() as u16) }
        }));
    };
    if threads <= 1 {
        per_city.iter().zip(lists).for_each(|(d, o)| area_days(d, o));
        return;
    }
    let per = per_city.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (days, out) in per_city.chunks(per).zip(lists.chunks_mut(per)) {
            scope.spawn(move || days.iter().zip(out).for_each(|(d, o)| area_days(d, o)));
        }
    });
}

/// The cities' days from their stations (`lists`, ascending, in `wanted`'s
/// order) with the published rows of `from..=to` merged in (`opts.source`).
fn merge_published(
    wanted: &[String],
    lists: Vec<Vec<AreaDay>>,
    published: &[CityDay],
    from: DayNumber,
    to: DayNumber,
    opts: &AreaOptions,
) -> BTreeMap<String, Vec<AreaDay>> {
    let mut out: BTreeMap<String, Vec<AreaDay>> = wanted.iter().map(|c| (c.clone(), Vec::new())).collect();
    for (ci, list) in lists.into_iter().enumerate() {
        *out.get_mut(&wanted[ci]).expect("every wanted city has a list") = list;
    }
    // Published days: one per city-day, the preferred source's values first,
    // gaps filled from the others.
    let key = |r: &CityDay| (r.city.clone(), r.day, source_rank(&r.source));
    let ordered =
        |a: &CityDay, b: &CityDay| (&a.city, a.day, source_rank(&a.source)) <= (&b.city, b.day, source_rank(&b.source));
    let rows: Vec<&CityDay> = if published.is_sorted_by(ordered) {
        // The usual case (the store writes them in this order): each
        // city's days found by binary search.
        let mut rows = Vec::new();
        for city in out.keys() {
            let lo = published.partition_point(|r| r.city.as_str() < city.as_str());
            let hi = lo + published[lo..].partition_point(|r| r.city == *city);
            let block = &published[lo..hi];
            let (a, b) = (block.partition_point(|r| r.day < from), block.partition_point(|r| r.day <= to));
            rows.extend(&block[a..b]);
        }
        rows
    } else {
        let mut rows: Vec<&CityDay> =
            published.iter().filter(|r| r.day >= from && r.day <= to && out.contains_key(&r.city)).collect();
        rows.sort_by_cached_key(|r| key(r));
        rows
    };
    let mut merged: Vec<(String, DayNumber, DailyValues)> = Vec::new();
    for r in rows {
        let v = DailyValues {
            so2: r.so2,
            no2: r.no2,
            pm10: r.pm10,
            pm25: r.pm25,
            co: r.co,
            o3_8h: r.o3_8h,
            o3_1h_max: r.o3_1h_max,
            hours: [0; 6],
            deducted: None,
        };
        match merged.last_mut() {
            Some((c, d, m)) if *c == r.city && *d == r.day => {
                for p in Pollutant::ALL {
                    if m.get(p).is_none() {
                        m.set(p, v.get(p));
                    }
                }
                m.o3_1h_max = m.o3_1h_max.or(v.o3_1h_max);
            }
            _ => merged.push((r.city.clone(), r.day, v)),
        }
    }
    // Station days are sorted and one per day here: look published days up
    // by binary search (a position scan was quadratic over a decade of days).
    let mut extra: BTreeMap<String, Vec<AreaDay>> = BTreeMap::new();
    let mut replaced: BTreeMap<String, Vec<DayNumber>> = BTreeMap::new();
    for (city, day, values) in merged {
        let Some(list) = out.get(&city) else {
            continue;
        };
        if opts.source == SourcePreference::Auto
            && let Ok(pos) = list.binary_search_by_key(&day, |d| d.day)
        {
            // Station hours win when they give the day any valid value (a
            // lone closing label 0 of the next year does not).
            if Pollutant::ALL.iter().any(|p| list[pos].values.get(*p).is_some()) {
                continue;
            }
            replaced.entry(city.clone()).or_default().push(day);
        }
        // A published day has no hours: deducted whole when the event
        // leaves fewer hours than the 20-hour rule needs, else kept.
        let mut values = values;
        if let Some(mask) = opts.deduct.as_ref().and_then(|d| d.day_mask(&city, day)) {
            values.deducted =
                Some(if lantian_core::deduct::published_day_deducted(&mask, opts.rules.daily_min_hours) {
                    lantian_core::deduct::Deducted { pm10: None, pm25: None }
                } else {
                    lantian_core::deduct::Deducted { pm10: values.pm10, pm25: values.pm25 }
                });
        }
        extra.entry(city).or_default().push(AreaDay { day, values, source: DaySource::Published });
    }
    for (city, list) in out.iter_mut() {
        // `merged` is sorted by city and day, so each `replaced` list is sorted.
        if let Some(r) = replaced.get(city) {
            list.retain(|d| r.binary_search(&d.day).is_err());
        }
        if let Some(e) = extra.remove(city) {
            list.extend(e);
        }
        list.sort_by_key(|d| d.day);
    }
    out
}
