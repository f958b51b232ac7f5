//! A city's (or any area's) daily values from its stations' daily values
//! (HJ 663 §7: assessment stations only; control stations 对照点 excluded by
//! the caller).

use crate::pollutant::Pollutant;
use crate::series::DailyValues;

/// How station daily values are averaged into an area value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AreaMethod {
    /// Mean of the stations' daily values each first rounded to reporting
    /// precision (GB/T 8170). Measured on Chengdu 2019 against the published
    /// city values: PM2.5 67/67, PM10 58/58, SO2 64/64, NO2 49/49, O3 MDA8
    /// 50/51, CO 60/62 on the days the files fully determine.
    #[default]
    MeanOfReportedStationValues,
    /// Mean of the unrounded station daily values.
    MeanOfUnroundedStationValues,
}

/// Area daily values (unrounded: the caller reports them with
/// `Pollutant::report`). A pollutant is valid when at least
/// `min_stations` stations have a valid value for it.
pub fn area_day<'a>(
    stations: impl IntoIterator<Item = &'a DailyValues>,
    method: AreaMethod,
    min_stations: usize,
) -> DailyValues {
    let mut sums = [0.0f64; 7];
    let mut counts = [0usize; 7];
    let mut hours = [0u32; 6];
    let mut n_stations = 0u32;
    // Deducted PM10 / PM2.5: (sum, count) over the stations, each taking its
    // deducted value when it has one and its own value otherwise.
    let mut any_deducted = false;
    let mut own: [(f64, usize); 2] = [(0.0, 0); 2];
    let rep = |p: Pollutant, v: f64| match method {
        AreaMethod::MeanOfReportedStationValues => p.report(v),
        AreaMethod::MeanOfUnroundedStationValues => v,
    };
    for s in stations {
        any_deducted |= s.deducted.is_some();
        for (k, (p, v)) in [(Pollutant::Pm10, s.pm10), (Pollutant::Pm25, s.pm25)].into_iter().enumerate() {
            let d = s.deducted.map_or(v, |d| if k == 0 { d.pm10 } else { d.pm25 });
            if let Some(d) = d {
                own[k] = (own[k].0 + rep(p, d), own[k].1 + 1);
            }
        }
        n_stations += 1;
        let vals = [s.so2, s.no2, s.pm10, s.co, s.o3_8h, s.pm25, s.o3_1h_max];
        for (k, v) in vals.into_iter().enumerate() {
            if let Some(v) = v {
                let p = if k == 6 { Pollutant::O3 } else { Pollutant::ALL[k] };
                sums[k] += match method {
                    AreaMethod::MeanOfReportedStationValues => p.report(v),
                    AreaMethod::MeanOfUnroundedStationValues => v,
                };
                counts[k] += 1;
            }
        }
        for (h, sh) in hours.iter_mut().zip(s.hours) {
            *h += u32::from(sh);
        }
    }
    let get = |k: usize| (counts[k] >= min_stations.max(1)).then(|| sums[k] / counts[k] as f64);
    let ded = |k: usize| (own[k].1 >= min_stations.max(1)).then(|| own[k].0 / own[k].1 as f64);
    DailyValues {
        so2: get(0),
        no2: get(1),
        pm10: get(2),
        co: get(3),
        o3_8h: get(4),
        pm25: get(5),
        o3_1h_max: get(6),
        // Mean valid hours per station, for display.
        hours: hours.map(|h| h.checked_div(n_stations).unwrap_or(0) as u8),
        deducted: any_deducted.then(|| crate::deduct::Deducted { pm10: ded(0), pm25: ded(1) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_station_values_first() {
        // Stations 30.5 and 31.5 report as 30 and 32 (half to even) → 31;
        // unrounded they average 31 as well, but 30.4 / 31.4 differ:
        let a = DailyValues { pm25: Some(30.4), ..Default::default() };
        let b = DailyValues { pm25: Some(31.4), ..Default::default() };
        let c = DailyValues { pm25: Some(31.6), ..Default::default() };
        let r = area_day([&a, &b, &c], AreaMethod::MeanOfReportedStationValues, 1);
        assert_eq!(r.pm25, Some((30.0 + 31.0 + 32.0) / 3.0));
        let u = area_day([&a, &b, &c], AreaMethod::MeanOfUnroundedStationValues, 1);
        assert!((u.pm25.unwrap() - 31.133333).abs() < 1e-5);
        assert_eq!(r.so2, None);
        assert_eq!(r.deducted, None, "no event, no deduction");
    }

    #[test]
    fn deducted_values_average_like_the_others() {
        use crate::deduct::Deducted;
        // One station with its PM2.5 deducted whole, one with hours removed
        // (33.4 → reported 33), one untouched (40): the area's deducted
        // PM2.5 is the mean of 33 and 40; its own value keeps all three.
        let a =
            DailyValues { pm25: Some(50.0), deducted: Some(Deducted { pm10: None, pm25: None }), ..Default::default() };
        let b = DailyValues {
            pm25: Some(45.0),
            deducted: Some(Deducted { pm10: None, pm25: Some(33.4) }),
            ..Default::default()
        };
        let c = DailyValues { pm25: Some(40.0), ..Default::default() };
        let r = area_day([&a, &b, &c], AreaMethod::MeanOfReportedStationValues, 1);
        assert_eq!(r.pm25, Some(45.0));
        assert_eq!(r.deducted.unwrap().pm25, Some(36.5));
        assert_eq!(r.deducted.unwrap().pm10, None);
    }

    #[test]
    fn missing_stations_are_skipped() {
        let a = DailyValues { co: Some(0.84), ..Default::default() };
        let b = DailyValues::default();
        let r = area_day([&a, &b], AreaMethod::default(), 1);
        assert_eq!(r.co, Some(0.8));
        assert_eq!(area_day([&a, &b], AreaMethod::default(), 2).co, None);
    }
}
