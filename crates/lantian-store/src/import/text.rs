//! The other text formats: long CSV (`station,time,pollutant,value`), the
//! station list (`监测点编码,…,对照点`) and the two city daily layouts.

use super::rows::{
    Cell, HourlyCells, Reject, cell_value, each_record, parse_date, parse_label, parse_value, reader, reject, text,
};
use crate::city_daily::CityDay;
use crate::kinds::Kind;
use crate::partition::INVALIDATED;
use crate::stations::{Station, canonical_city};
use lantian_core::time::day_number;
use std::collections::HashMap;

/// `audited`: an empty value invalidates the station-hour.
pub(crate) fn parse_long(
    file: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
    audited: bool,
) -> std::result::Result<HourlyCells, String> {
    let mut rdr = reader(body, true);
    let mut stations: Vec<String> = Vec::new();
    let mut index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut cells = Vec::new();
    each_record(&mut rdr, body, file, rejects, |record, line, rejects| {
        if record.len() != 4 {
            reject(rejects, file, line, "", format!("expected 4 fields, found {}", record.len()), record.as_slice());
            return;
        }
        let station = record[0].trim_ascii();
        if station.is_empty() {
            reject(rejects, file, line, "station", "empty station", b"");
            return;
        }
        let l = match std::str::from_utf8(&record[1]).map_err(|_| "not UTF-8").and_then(parse_label) {
            Ok(l) => l,
            Err(reason) => {
                reject(rejects, file, line, "time", reason, &record[1]);
                return;
            }
        };
        let Some(kind) = std::str::from_utf8(&record[2]).ok().and_then(Kind::parse) else {
            reject(rejects, file, line, "pollutant", "unknown pollutant", &record[2]);
            return;
        };
        let value = match parse_value(&record[3]) {
            Ok(Some(v)) => v,
            Ok(None) if audited => INVALIDATED,
            Ok(None) => return,
            Err(reason) => {
                reject(rejects, file, line, "value", reason, &record[3]);
                return;
            }
        };
        let id = *index.entry(station.to_vec()).or_insert_with(|| {
            stations.push(String::from_utf8_lossy(station).into_owned());
            (stations.len() - 1) as u32
        });
        cells.push(Cell { station: id, kind, label: l, value });
    });
    Ok(HourlyCells { stations, cells, day: None, has: Vec::new() })
}

pub(crate) fn parse_station_list(
    file: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
) -> std::result::Result<Vec<Station>, String> {
    let mut rdr = reader(body, true);
    let mut out = Vec::new();
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        if rec.len() < 6 {
            reject(rejects, file, line, "", format!("expected 6 fields, found {}", rec.len()), rec.as_slice());
            return;
        }
        let code = text(&rec[0]);
        if code.is_empty() {
            reject(rejects, file, line, "监测点编码", "empty station code", b"");
            return;
        }
        let coord = |b: &[u8]| std::str::from_utf8(b).ok().and_then(|s| s.trim().parse::<f64>().ok());
        let control = match text(&rec[5]).as_str() {
            "Y" | "y" | "是" => true,
            "N" | "n" | "否" | "" => false,
            _ => {
                reject(rejects, file, line, "对照点", "expected Y or N", &rec[5]);
                return;
            }
        };
        let city_raw = text(&rec[2]);
        out.push(Station {
            code,
            name: text(&rec[1]),
            city: canonical_city(&city_raw),
            city_raw,
            lon: coord(&rec[3]),
            lat: coord(&rec[4]),
            control,
        });
    });
    Ok(out)
}

pub(crate) fn parse_city_daily_header(
    file: &str,
    city: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
) -> std::result::Result<Vec<CityDay>, String> {
    let mut rdr = reader(body, true);
    let header: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| format!("unreadable header: {e}"))?
        .iter()
        .map(|h| text(h).to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let date_col = col("time_point").ok_or("no time_point column")?;
    let cols: Vec<(&str, Option<usize>)> =
        ["pm2_5", "pm10", "so2", "no2", "co", "o3", "aqi"].iter().map(|n| (*n, col(n))).collect();
    let mut out = Vec::new();
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        let Some(date) = rec.get(date_col).and_then(|b| std::str::from_utf8(b).ok()).and_then(parse_date) else {
            reject(rejects, file, line, "time_point", "invalid date", rec.get(date_col).unwrap_or_default());
            return;
        };
        let mut v = [None; 7];
        for (k, (name, c)) in cols.iter().enumerate() {
            if let Some(b) = c.and_then(|c| rec.get(c)) {
                v[k] = cell_value(rejects, file, line, name, b);
            }
        }
        // This source's `o3` is the daily maximum 8-hour mean (city_daily/README.md).
        out.push(CityDay {
            city: city.to_string(),
            day: day_number(date),
            pm25: v[0],
            pm10: v[1],
            so2: v[2],
            no2: v[3],
            co: v[4],
            o3_8h: v[5],
            o3_1h_max: None,
            aqi_published: v[6],
            source: "aqistudy-daily".into(),
        });
    });
    Ok(out)
}

pub(crate) fn parse_city_daily_plain(
    file: &str,
    body: &[u8],
    rejects: &mut Vec<Reject>,
) -> std::result::Result<Vec<CityDay>, String> {
    let mut rdr = reader(body, false);
    let mut out = Vec::new();
    const NAMES: [&str; 12] =
        ["city", "date", "aqi", "aqi_range", "quality", "pm25", "pm10", "so2", "co", "no2", "o3", "rank"];
    each_record(&mut rdr, body, file, rejects, |rec, line, rejects| {
        if rec.len() != 12 {
            reject(rejects, file, line, "", format!("expected 12 fields, found {}", rec.len()), rec.as_slice());
            return;
        }
        let Some(date) = std::str::from_utf8(&rec[1]).ok().and_then(parse_date) else {
            reject(rejects, file, line, "date", "invalid date", &rec[1]);
            return;
        };
        let mut val = |i: usize| cell_value(rejects, file, line, NAMES[i], &rec[i]);
        let (aqi, pm25, pm10, so2, co, no2, o3) = (val(2), val(5), val(6), val(7), val(8), val(9), val(10));
        // This source's `o3` is the daily maximum 1-hour value, not MDA8.
        out.push(CityDay {
            city: canonical_city(&text(&rec[0])),
            day: day_number(date),
            pm25,
            pm10,
            so2,
            no2,
            co,
            o3_8h: None,
            o3_1h_max: o3,
            aqi_published: aqi,
            source: "aqistudy-plain".into(),
        });
    });
    Ok(out)
}
