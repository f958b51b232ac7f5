//! The data a screening run works on: every station's PM2.5 and PM10 over
//! whole days (raw layer: screening judges what the stations sent, not what
//! auditors left), who each station's neighbours are, and their median at
//! each hour. The gases are only checked for stuck values and are read a
//! month at a time instead of being held.

use anyhow::Result;
use lantian_core::integrity::{self, Hit, StuckParams, median_of_present};
use lantian_core::time::{DayNumber, HourLabel};
use lantian_store::Store;
use lantian_store::kinds::Kind;
use lantian_store::query::Reader;

/// What screening needs to know of a station.
#[derive(Clone, Debug)]
pub struct Meta {
    pub code: String,
    pub name: String,
    /// Empty when the station is not in the station list.
    pub city: String,
    pub control: bool,
    pub coords: Option<(f64, f64)>,
}

/// PM2.5 and PM10 of every station, hour by hour from `start` (a day's first hour).
#[derive(Clone)]
pub struct Panel {
    pub start: HourLabel,
    pub len: usize,
    pub stations: Vec<Meta>,
    pub pm25: Vec<Vec<f64>>,
    pub pm10: Vec<Vec<f64>>,
}

/// Read `from..=to` (days) of every station with PM data.
pub fn load(store: &Store, from: DayNumber, to: DayNumber) -> Result<Panel> {
    let start = from * 24 + 1;
    let mut reader = Reader::new(store, &[Kind::Pm25, Kind::Pm10], None);
    let dense = reader.range(start, to * 24 + 24)?;
    let mut panel = Panel { start, len: dense.len, stations: Vec::new(), pm25: Vec::new(), pm10: Vec::new() };
    for (i, code) in dense.stations.iter().enumerate() {
        let listed = store.station(code);
        panel.stations.push(Meta {
            code: code.clone(),
            name: listed.map(|s| s.name.clone()).unwrap_or_default(),
            city: listed.map(|s| s.city.clone()).unwrap_or_default(),
            control: listed.is_some_and(|s| s.control),
            coords: listed.and_then(|s| Some((s.lon?, s.lat?))),
        });
        panel.pm25.push(dense.series(i, Kind::Pm25).to_vec());
        panel.pm10.push(dense.series(i, Kind::Pm10).to_vec());
    }
    Ok(panel)
}

/// Each station's neighbours: for a control station the other stations of
/// its city; otherwise the same city's stations and any within `radius_km`,
/// control stations excluded (they read cleaner by design).
pub fn neighbours(stations: &[Meta], radius_km: f64) -> Vec<Vec<usize>> {
    (0..stations.len())
        .map(|i| {
            let me = &stations[i];
            (0..stations.len())
                .filter(|&j| j != i && !stations[j].control)
                .filter(|&j| {
                    let other = &stations[j];
                    let same_city = !me.city.is_empty() && other.city == me.city;
                    if me.control {
                        return same_city;
                    }
                    same_city
                        || matches!((me.coords, other.coords), (Some(a), Some(b)) if crate::events::distance_km(a, b) <= radius_km)
                })
                .collect()
        })
        .collect()
}

/// The neighbours' median at each hour, where at least half of them have a
/// value; `None` without neighbours.
pub fn reference(series: &[Vec<f64>], of: &[usize], len: usize) -> Option<Vec<f64>> {
    if of.is_empty() {
        return None;
    }
    let need = of.len().div_ceil(2);
    let mut buf = Vec::with_capacity(of.len());
    Some(
        (0..len)
            .map(|h| {
                let m = median_of_present(of.iter().map(|&j| series[j][h]), &mut buf);
                if buf.len() >= need { m } else { f64::NAN }
            })
            .collect(),
    )
}

/// Stuck gases (SO2, NO2, CO, O3), a month at a time; a run across months
/// is found in both and merged. Hits by station code.
pub fn stuck_gases(
    store: &Store,
    from: DayNumber,
    to: DayNumber,
    wanted: &dyn Fn(&str) -> bool,
    p: &StuckParams,
) -> Result<Vec<(String, Hit)>> {
    let kinds = [(Kind::So2, "so2"), (Kind::No2, "no2"), (Kind::Co, "co"), (Kind::O3, "o3")];
    let mut reader = Reader::new(store, &kinds.map(|k| k.0), None);
    let mut out: Vec<(String, Hit)> = Vec::new();
    for (a, b) in lantian_store::query::month_chunks(from, to) {
        let dense = reader.range(a * 24 + 1, b * 24 + 24)?;
        for (i, code) in dense.stations.iter().enumerate() {
            if !wanted(code) {
                continue;
            }
            for (kind, key) in kinds {
                for hit in integrity::stuck(dense.start, key, dense.series(i, kind), p) {
                    out.push((code.clone(), hit));
                }
            }
        }
    }
    // Merge per station (the core merges per check and series).
    out.sort_by(|x, y| x.0.cmp(&y.0));
    let mut merged = Vec::new();
    for chunk in out.chunk_by(|x, y| x.0 == y.0) {
        let code = chunk[0].0.clone();
        let hits = integrity::merge(chunk.iter().map(|x| x.1.clone()).collect());
        merged.extend(hits.into_iter().map(|h| (code.clone(), h)));
    }
    Ok(merged)
}
