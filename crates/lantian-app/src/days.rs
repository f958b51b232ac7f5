//! Where the use cases get station and city days, on a basis (`Basis`:
//! audited or raw values, events deducted or not): straight from the store
//! (`StoreDays`; the CLI: one question per process), or from `DayCache`,
//! which keeps every station's days of whole months once computed, for one
//! store generation and values (the server: many pages over the same months).
//!
//! Both give the same days: a month's station days do not depend on the
//! range they are read for (a day's last hour, label 0 of the next day, is
//! read from the next month either way), and city days are assembled from
//! them by the same function (`lantian_store::query::assemble_city_days`).

use anyhow::Result;
use lantian_core::series::{CaptureRules, DailyValues};
use lantian_core::time::{DayNumber, date_of};
use lantian_store::city_daily::CityDay;
use lantian_store::query::{
    AreaDay, AreaOptions, Deduction, SourcePreference, assemble_city_days, city_stations, month_chunks, station_days,
    station_days_with, wanted_cities,
};
use lantian_store::{MonthKey, Store, ValuesUsed};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// Station and city days for the use cases.
pub trait Days: Sync {
    fn store(&self) -> &Store;

    /// Days of each city in `cities` (all known cities when empty), as
    /// `lantian_store::query::city_days` gives them.
    fn city_days(
        &self,
        cities: &[String],
        from: DayNumber,
        to: DayNumber,
        opts: &AreaOptions,
    ) -> Result<BTreeMap<String, Vec<AreaDay>>>;

    /// Every station's (or `stations`') days by the default capture rules,
    /// passed to `each` station by station, in day order per station.
    fn station_days(
        &self,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        each: &mut dyn FnMut(&str, DayNumber, &DailyValues),
    ) -> Result<()>;

    /// The station-hours behind the days read through this handle, by layer.
    fn used(&self) -> ValuesUsed;
}

/// The store as opened (its values), every hour kept.
impl Days for Store {
    fn store(&self) -> &Store {
        self
    }

    fn city_days(
        &self,
        cities: &[String],
        from: DayNumber,
        to: DayNumber,
        opts: &AreaOptions,
    ) -> Result<BTreeMap<String, Vec<AreaDay>>> {
        Ok(lantian_store::query::city_days(self, cities, from, to, opts)?)
    }

    fn station_days(
        &self,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        each: &mut dyn FnMut(&str, DayNumber, &DailyValues),
    ) -> Result<()> {
        station_days(self, stations, from, to, &CaptureRules::default(), each)?;
        Ok(())
    }

    fn used(&self) -> ValuesUsed {
        Store::used(self)
    }
}

/// The store read on a basis: its values, and the hours of the events it
/// deducts from PM10 and PM2.5.
pub struct StoreDays {
    store: Store,
    deduct: Option<Arc<Deduction>>,
}

impl StoreDays {
    pub fn new(store: Store, deduct: Option<Arc<Deduction>>) -> StoreDays {
        StoreDays { store, deduct }
    }

    /// The store of `ctx` on `basis` (the events from the ledger when deducted).
    pub fn open(ctx: &crate::Ctx, basis: crate::basis::Basis) -> Result<StoreDays> {
        Ok(StoreDays::new(ctx.store()?.with_values(basis.values), crate::basis::deduction(ctx, basis)?))
    }
}

impl Days for StoreDays {
    fn store(&self) -> &Store {
        &self.store
    }

    fn city_days(
        &self,
        cities: &[String],
        from: DayNumber,
        to: DayNumber,
        opts: &AreaOptions,
    ) -> Result<BTreeMap<String, Vec<AreaDay>>> {
        let opts = AreaOptions { deduct: self.deduct.clone(), ..opts.clone() };
        Ok(lantian_store::query::city_days(&self.store, cities, from, to, &opts)?)
    }

    fn station_days(
        &self,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        each: &mut dyn FnMut(&str, DayNumber, &DailyValues),
    ) -> Result<()> {
        let rules = CaptureRules::default();
        station_days_with(&self.store, stations, from, to, &rules, self.deduct.as_deref(), |s, d, v, _| each(s, d, v))?;
        Ok(())
    }

    fn used(&self) -> ValuesUsed {
        self.store.used()
    }
}

/// Every station's days of one month (by the default capture rules, with
/// one deduction's events removed).
struct MonthDays {
    stations: Vec<String>,
    /// (station index, day, values, hours by layer), by station then day.
    days: Vec<(u32, DayNumber, DailyValues, ValuesUsed)>,
}

/// A month's days once computed (or why they could not be), shared by the
/// requests that wait for it.
type MonthCell = Arc<OnceLock<Result<Arc<MonthDays>, String>>>;

/// Months kept at most (a national month of days is ~4 MB).
const MAX_MONTHS: usize = 120;

/// A month and the part of a deduction that touches it.
type MonthId = (MonthKey, u64);

/// Station days of whole months computed once and kept, for one store
/// generation and values (open a new cache for a new generation); a month
/// is kept per the deduction events that touch it (most touch none).
pub struct DayCache {
    store: Store,
    members: BTreeMap<String, Vec<String>>,
    published: OnceLock<Result<Arc<Vec<CityDay>>, String>>,
    /// The months computed, and the order they were first asked for (the oldest go first).
    months: Mutex<(HashMap<MonthId, MonthCell>, VecDeque<MonthId>)>,
}

impl DayCache {
    pub fn new(store: Store) -> DayCache {
        DayCache {
            members: city_stations(&store),
            store,
            published: OnceLock::new(),
            months: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    fn published(&self) -> Result<Arc<Vec<CityDay>>> {
        let r = self.published.get_or_init(|| {
            let mut rows = self.store.city_daily().map_err(|e| e.to_string())?;
            // In the order city days are assembled in (then found by binary search).
            rows.sort_by_cached_key(|r| (r.city.clone(), r.day, r.source != "aqistudy-daily"));
            Ok(Arc::new(rows))
        });
        r.clone().map_err(anyhow::Error::msg)
    }

    /// The month's days with `deduct`'s events removed, computed by the
    /// first caller (others wait for it).
    fn month(&self, key: MonthKey, deduct: Option<&Deduction>) -> Result<Arc<MonthDays>> {
        let first = key.first_day();
        let (d0, d1) = (lantian_core::time::day_number(first), lantian_core::time::day_number(first.last_of_month()));
        // Only the events that touch the month's days make it differ.
        let touching = deduct.map(|d| d.within(d0 * 24 + 1, d1 * 24 + 24)).unwrap_or_default();
        let id = (key, {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            touching.hash(&mut h);
            if touching.is_empty() { 0 } else { h.finish() | 1 }
        });
        let cell = {
            let mut m = self.months.lock().map_err(|_| anyhow::anyhow!("day cache poisoned"))?;
            let (map, order) = &mut *m;
            if !map.contains_key(&id) {
                if order.len() >= MAX_MONTHS
                    && let Some(old) = order.pop_front()
                {
                    map.remove(&old);
                }
                order.push_back(id);
            }
            map.entry(id).or_default().clone()
        };
        let r = cell.get_or_init(|| {
            let mut stations: Vec<String> = Vec::new();
            let mut index: HashMap<String, u32> = HashMap::new();
            let mut days = Vec::new();
            let deduct = if touching.is_empty() { None } else { deduct };
            let rules = CaptureRules::default();
            station_days_with(&self.store, None, d0, d1, &rules, deduct, |st, day, v, used| {
                let i = *index.entry(st.to_string()).or_insert_with(|| {
                    stations.push(st.to_string());
                    (stations.len() - 1) as u32
                });
                days.push((i, day, *v, used));
            })
            .map_err(|e| e.to_string())?;
            days.sort_by_key(|&(i, d, _, _)| (i, d));
            Ok(Arc::new(MonthDays { stations, days }))
        });
        r.clone().map_err(anyhow::Error::msg)
    }

    /// The store (generation and values) this cache holds days of.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The cache read with `deduct`'s events removed; counts what it reads.
    pub fn view(&self, deduct: Option<Arc<Deduction>>) -> CacheView<'_> {
        CacheView { cache: self, deduct, used: Mutex::new(ValuesUsed::default()) }
    }

    /// The months covering `from..=to`.
    fn months_of(from: DayNumber, to: DayNumber) -> Vec<MonthKey> {
        month_chunks(from, to)
            .into_iter()
            .filter_map(|(d, _)| date_of(d).map(|d| MonthKey { year: d.year(), month: d.month() }))
            .collect()
    }
}

/// The days of a `DayCache` on one deduction, counting the station-hours
/// behind what it gives.
pub struct CacheView<'a> {
    cache: &'a DayCache,
    deduct: Option<Arc<Deduction>>,
    used: Mutex<ValuesUsed>,
}

impl CacheView<'_> {
    fn count(&self, u: ValuesUsed) {
        if let Ok(mut t) = self.used.lock() {
            *t += u;
        }
    }
}

impl Days for CacheView<'_> {
    fn store(&self) -> &Store {
        &self.cache.store
    }

    fn city_days(
        &self,
        cities: &[String],
        from: DayNumber,
        to: DayNumber,
        opts: &AreaOptions,
    ) -> Result<BTreeMap<String, Vec<AreaDay>>> {
        let opts = AreaOptions { deduct: self.deduct.clone(), ..opts.clone() };
        // Only the default rules and method are cached.
        let defaults = AreaOptions::default();
        if opts.rules != defaults.rules || opts.method != defaults.method {
            return StoreDays::new(self.cache.store.clone(), self.deduct.clone()).city_days(cities, from, to, &opts);
        }
        let published =
            if opts.source == SourcePreference::Stations { Arc::default() } else { self.cache.published()? };
        let wanted = wanted_cities(cities, &self.cache.members, &published);
        let city_of: HashMap<&str, usize> = wanted
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| self.cache.members.get(c).into_iter().flatten().map(move |s| (s.as_str(), ci)))
            .collect();
        let mut per_city: Vec<Vec<(DayNumber, DailyValues)>> = vec![Vec::new(); wanted.len()];
        if opts.source != SourcePreference::Published && !city_of.is_empty() {
            let mut used = ValuesUsed::default();
            for key in DayCache::months_of(from, to) {
                if !self.cache.store.months().contains(&key) {
                    continue;
                }
                let m = self.cache.month(key, self.deduct.as_deref())?;
                let cities: Vec<Option<usize>> = m.stations.iter().map(|s| city_of.get(s.as_str()).copied()).collect();
                for (i, day, v, u) in &m.days {
                    if let Some(ci) = cities[*i as usize]
                        && (from..=to).contains(day)
                    {
                        per_city[ci].push((*day, *v));
                        used += *u;
                    }
                }
            }
            self.count(used);
        }
        Ok(assemble_city_days(&wanted, per_city, &published, from, to, &opts))
    }

    fn station_days(
        &self,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        each: &mut dyn FnMut(&str, DayNumber, &DailyValues),
    ) -> Result<()> {
        let wanted: Option<std::collections::HashSet<&str>> = stations.map(|s| s.iter().map(String::as_str).collect());
        let mut used = ValuesUsed::default();
        for key in DayCache::months_of(from, to) {
            if !self.cache.store.months().contains(&key) {
                continue;
            }
            let m = self.cache.month(key, self.deduct.as_deref())?;
            for (i, day, v, u) in &m.days {
                let st = m.stations[*i as usize].as_str();
                if (from..=to).contains(day) && wanted.as_ref().is_none_or(|w| w.contains(st)) {
                    each(st, *day, v);
                    used += *u;
                }
            }
        }
        self.count(used);
        Ok(())
    }

    fn used(&self) -> ValuesUsed {
        self.used.lock().map(|u| *u).unwrap_or_default()
    }
}
