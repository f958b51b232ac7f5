//! Where the use cases get station and city days: straight from the store
//! (the CLI: one question per process), or from `DayCache`, which keeps
//! every station's days of whole months once computed, for one store
//! generation (the server: many pages over the same months).
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
    AreaDay, AreaOptions, SourcePreference, assemble_city_days, city_stations, month_chunks, station_days,
    wanted_cities,
};
use lantian_store::{MonthKey, Store};
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
}

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
        Ok(station_days(self, stations, from, to, &CaptureRules::default(), each)?)
    }
}

/// Every station's days of one month (by the default capture rules).
struct MonthDays {
    stations: Vec<String>,
    /// (station index, day, values), by station then day.
    days: Vec<(u32, DayNumber, DailyValues)>,
}

/// A month's days once computed (or why they could not be), shared by the
/// requests that wait for it.
type MonthCell = Arc<OnceLock<Result<Arc<MonthDays>, String>>>;

/// Months kept at most (a national month of days is ~4 MB).
const MAX_MONTHS: usize = 120;

/// Station days of whole months computed once and kept, for one store
/// generation (open a new cache for a new generation).
pub struct DayCache {
    store: Store,
    members: BTreeMap<String, Vec<String>>,
    published: OnceLock<Result<Arc<Vec<CityDay>>, String>>,
    /// The months computed, and the order they were first asked for (the oldest go first).
    months: Mutex<(HashMap<MonthKey, MonthCell>, VecDeque<MonthKey>)>,
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

    /// The month's days, computed by the first caller (others wait for it).
    fn month(&self, key: MonthKey) -> Result<Arc<MonthDays>> {
        let cell = {
            let mut m = self.months.lock().map_err(|_| anyhow::anyhow!("day cache poisoned"))?;
            let (map, order) = &mut *m;
            if !map.contains_key(&key) {
                if order.len() >= MAX_MONTHS
                    && let Some(old) = order.pop_front()
                {
                    map.remove(&old);
                }
                order.push_back(key);
            }
            map.entry(key).or_default().clone()
        };
        let r = cell.get_or_init(|| {
            let first = key.first_day();
            let (d0, d1) =
                (lantian_core::time::day_number(first), lantian_core::time::day_number(first.last_of_month()));
            let mut stations: Vec<String> = Vec::new();
            let mut index: HashMap<String, u32> = HashMap::new();
            let mut days = Vec::new();
            station_days(&self.store, None, d0, d1, &CaptureRules::default(), |st, day, v| {
                let i = *index.entry(st.to_string()).or_insert_with(|| {
                    stations.push(st.to_string());
                    (stations.len() - 1) as u32
                });
                days.push((i, day, *v));
            })
            .map_err(|e| e.to_string())?;
            days.sort_by_key(|&(i, d, _)| (i, d));
            Ok(Arc::new(MonthDays { stations, days }))
        });
        r.clone().map_err(anyhow::Error::msg)
    }

    /// The months covering `from..=to`.
    fn months_of(from: DayNumber, to: DayNumber) -> Vec<MonthKey> {
        month_chunks(from, to)
            .into_iter()
            .filter_map(|(d, _)| date_of(d).map(|d| MonthKey { year: d.year(), month: d.month() }))
            .collect()
    }
}

impl Days for DayCache {
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
        // Only the default rules and method are cached.
        let defaults = AreaOptions { source: opts.source, ..AreaOptions::default() };
        if opts.rules != defaults.rules || opts.method != defaults.method {
            return self.store.city_days(cities, from, to, opts);
        }
        let published = if opts.source == SourcePreference::Stations { Arc::default() } else { self.published()? };
        let wanted = wanted_cities(cities, &self.members, &published);
        let city_of: HashMap<&str, usize> = wanted
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| self.members.get(c).into_iter().flatten().map(move |s| (s.as_str(), ci)))
            .collect();
        let mut per_city: Vec<Vec<(DayNumber, DailyValues)>> = vec![Vec::new(); wanted.len()];
        if opts.source != SourcePreference::Published && !city_of.is_empty() {
            for key in Self::months_of(from, to) {
                if !self.store.months().contains(&key) {
                    continue;
                }
                let m = self.month(key)?;
                let cities: Vec<Option<usize>> = m.stations.iter().map(|s| city_of.get(s.as_str()).copied()).collect();
                for (i, day, v) in &m.days {
                    if let Some(ci) = cities[*i as usize]
                        && (from..=to).contains(day)
                    {
                        per_city[ci].push((*day, *v));
                    }
                }
            }
        }
        Ok(assemble_city_days(&wanted, per_city, &published, from, to, opts))
    }

    fn station_days(
        &self,
        stations: Option<&[String]>,
        from: DayNumber,
        to: DayNumber,
        each: &mut dyn FnMut(&str, DayNumber, &DailyValues),
    ) -> Result<()> {
        let wanted: Option<std::collections::HashSet<&str>> = stations.map(|s| s.iter().map(String::as_str).collect());
        for key in Self::months_of(from, to) {
            if !self.store.months().contains(&key) {
                continue;
            }
            let m = self.month(key)?;
            for (i, day, v) in &m.days {
                let st = m.stations[*i as usize].as_str();
                if (from..=to).contains(day) && wanted.as_ref().is_none_or(|w| w.contains(st)) {
                    each(st, *day, v);
                }
            }
        }
        Ok(())
    }
}
