//! The assessment as steps over plain rows, for engines that partition and
//! move the data themselves (the Python binding, the Spark job): station
//! hours → station days → city days → the rows of `lantian assess`. Each
//! step gives what the store path gives for the same input, by the same
//! functions (`lantian_core::series::station_day`,
//! `lantian_store::query::assemble_city_days`, `assess::stats_from_days`),
//! so a cluster's numbers equal the binary's byte for byte.
//!
//! A step needs all the rows of its key (a station's hours, a city's
//! station days) in one call; which rows go together is the caller's part.

use crate::Table;
use crate::assess::{CityPeriod, stats_from_days, table_of_periods};
use anyhow::Result;
use jiff::civil::Date;
use lantian_core::Edition;
use lantian_core::series::{CaptureRules, DailyValues, station_day};
use lantian_core::time::{DayNumber, HourLabel};
use lantian_store::Station;
use lantian_store::query::{AreaDay, AreaOptions, SourcePreference, assemble_city_days, wanted_cities};
use std::collections::{BTreeMap, HashMap};

/// A station-hour and its place in the input (`seq`: a later row revises
/// an earlier one, value by value, as a later file does in an import).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeqHour {
    pub station: u32,
    pub label: HourLabel,
    pub seq: u64,
    /// The measured 1-hour values in `Pollutant::ALL` order, NaN = none.
    pub values: [f64; 6],
}

/// Daily values of every station in `hours` for days `from..=to` (a day's
/// labels are `day × 24 + 1 ..= day × 24 + 24`), by the default capture
/// rules: each station, hour and pollutant takes its last value by `seq`;
/// days without any value are left out, as the store path leaves them.
/// Sorted by station then day.
pub fn station_days(hours: &mut [SeqHour], from: DayNumber, to: DayNumber) -> Vec<(u32, DayNumber, DailyValues)> {
    let rules = CaptureRules::default();
    let (first, last) = (from * 24 + 1, to * 24 + 24);
    hours.sort_unstable_by_key(|h| (h.station, h.label, h.seq));
    let mut out = Vec::new();
    for run in hours.chunk_by(|a, b| a.station == b.station) {
        let mut days: BTreeMap<DayNumber, [[f64; 24]; 6]> = BTreeMap::new();
        for h in run.iter().filter(|h| h.label >= first && h.label <= last) {
            let day = (h.label - 1).div_euclid(24);
            let slot = (h.label - 1 - day * 24) as usize;
            let block = days.entry(day).or_insert([[f64::NAN; 24]; 6]);
            for (k, v) in h.values.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
                block[k][slot] = *v;
            }
        }
        for (day, block) in days {
            if block.iter().any(|s| s.iter().any(|v| !v.is_nan())) {
                out.push((run[0].station, day, station_day(&block, &rules)));
            }
        }
    }
    out
}

/// Days of each city in `cities` (every city with assessment stations in
/// `stations` when empty) for `from..=to` from its assessment stations'
/// days (control stations excluded), as `lantian_store::query::city_days`
/// forms them from station hours alone.
pub fn city_days(
    stations: &[Station],
    days: &[(String, DayNumber, DailyValues)],
    cities: &[String],
    from: DayNumber,
    to: DayNumber,
) -> BTreeMap<String, Vec<AreaDay>> {
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in stations.iter().filter(|s| !s.control) {
        members.entry(s.city.clone()).or_default().push(s.code.clone());
    }
    let wanted = wanted_cities(cities, &members, &[]);
    let mut station_city: HashMap<&str, usize> = HashMap::new();
    for (ci, c) in wanted.iter().enumerate() {
        for s in members.get(c).into_iter().flatten() {
            station_city.insert(s, ci);
        }
    }
    // The store delivers a month's stations in code order, each station's
    // days in order; a city's day then averages its stations in that order.
    let mut order: Vec<&(String, DayNumber, DailyValues)> =
        days.iter().filter(|(st, d, _)| *d >= from && *d <= to && station_city.contains_key(st.as_str())).collect();
    order.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut per_city: Vec<Vec<(DayNumber, DailyValues)>> = vec![Vec::new(); wanted.len()];
    for (st, day, v) in order {
        per_city[station_city[st.as_str()]].push((*day, *v));
    }
    let opts = AreaOptions { source: SourcePreference::Stations, ..AreaOptions::default() };
    assemble_city_days(&wanted, per_city, &[], from, to, &opts)
}

/// The rows of `lantian assess` (cities, `from..=to`, each day by the
/// edition in force or the forced one) from the cities' days, and the
/// previous year's when compared.
pub fn assess(
    days: &BTreeMap<String, Vec<AreaDay>>,
    previous_year: Option<&BTreeMap<String, Vec<AreaDay>>>,
    from: Date,
    to: Date,
    edition: Option<Edition>,
) -> Result<Table> {
    let periods = |days: &BTreeMap<String, Vec<AreaDay>>, from: Date, to: Date| -> Vec<CityPeriod> {
        days.iter().map(|(c, l)| CityPeriod { city: c.clone(), stats: stats_from_days(l, from, to, edition) }).collect()
    };
    let prev = previous_year.map(|p| {
        let (f, t) = (crate::shift_year(from, 1), crate::shift_year(to, 1));
        periods(p, f, t).into_iter().map(|c| (c.city, c.stats)).collect()
    });
    table_of_periods(&periods(days, from, to), prev.as_ref(), from, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantian_core::Pollutant;
    use lantian_core::time::day_number;

    fn station(code: &str, city: &str, control: bool) -> Station {
        Station {
            code: code.into(),
            name: code.into(),
            city: city.into(),
            city_raw: city.into(),
            lon: None,
            lat: None,
            control,
        }
    }

    #[test]
    fn later_rows_revise_value_by_value_and_days_close_at_hour_zero() {
        let d = day_number(jiff::civil::date(2019, 3, 1));
        let pm = Pollutant::ALL.iter().position(|p| *p == Pollutant::Pm25).unwrap();
        let mut hours: Vec<SeqHour> = (1..=24)
            .map(|h| {
                let mut values = [f64::NAN; 6];
                values[pm] = 10.0;
                SeqHour { station: 0, label: d * 24 + h, seq: 0, values }
            })
            .collect();
        // A revision of hour 5 (seq 1) and a blank one after it (seq 2): the blank keeps 34.
        let mut v = [f64::NAN; 6];
        v[pm] = 34.0;
        hours.push(SeqHour { station: 0, label: d * 24 + 5, seq: 1, values: v });
        hours.push(SeqHour { station: 0, label: d * 24 + 5, seq: 2, values: [f64::NAN; 6] });
        hours.reverse();
        let days = station_days(&mut hours, d, d);
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].2.pm25, Some(11.0)); // (23 × 10 + 34) / 24
        assert_eq!(days[0].2.hours[pm], 24);
        // Outside the period: nothing.
        assert!(station_days(&mut hours, d + 1, d + 1).is_empty());
    }

    #[test]
    fn city_days_leave_control_stations_out() {
        let d = day_number(jiff::civil::date(2019, 3, 1));
        let day = |pm25: f64| DailyValues { pm25: Some(pm25), ..DailyValues::default() };
        let stations = [station("1A", "甲", false), station("2A", "甲", false), station("3A", "甲", true)];
        let days = vec![("2A".to_string(), d, day(21.0)), ("1A".into(), d, day(10.0)), ("3A".into(), d, day(99.0))];
        let c = city_days(&stations, &days, &[], d, d);
        assert_eq!(c["甲"].len(), 1);
        assert_eq!(c["甲"][0].values.pm25, Some(15.5));
    }
}
