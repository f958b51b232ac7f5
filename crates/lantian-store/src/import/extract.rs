//! One input file as plain rows, without a store: the importer's own
//! detection and parsers, for front ends that bring their own storage and
//! scheduling (the Python binding, the Spark job). What an import would
//! merge into the store is here in the order the merge applies it, so a
//! caller that keeps the last value of each cell in (file, row) order gets
//! the store's values.

use super::rows::{Format, Parsed, Reject};
use crate::kinds::Kind;
use crate::stations::Station;
use lantian_core::Pollutant;
use lantian_core::time::HourLabel;
use std::path::Path;

/// The measured kinds, in `Pollutant::ALL` order (what the rules read).
fn measured() -> [Kind; 6] {
    Pollutant::ALL.map(Kind::measured)
}

/// One station-hour of a file: the six measured 1-hour values in
/// `Pollutant::ALL` order, NaN where the file has none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HourRow {
    /// Index into `Extracted::stations`.
    pub station: u32,
    pub label: HourLabel,
    pub values: [f64; 6],
}

/// What one file holds.
#[derive(Debug, Default)]
pub struct Extracted {
    pub format: Option<Format>,
    /// Station codes the rows refer to.
    pub stations: Vec<String>,
    /// Station-hours in the order the import merges them (a later row of
    /// the same station, hour and pollutant revises an earlier one).
    pub hours: Vec<HourRow>,
    /// A station list's stations.
    pub station_list: Vec<Station>,
    /// Why the file was recognised but not used (e.g. a city hourly file).
    pub skipped: Option<String>,
    /// Rows and cells rejected, with file, line, column and reason.
    pub rejects: Vec<Reject>,
}

/// Detect and parse one file's bytes (gzipped or not) named `name` as
/// `lantian import` would. `Err` is the reason the CLI reports the file as
/// unreadable. City daily files are recognised but give no rows here.
pub fn extract(name: &str, content: Vec<u8>) -> Result<Extracted, String> {
    let content = super::inflate(content)?;
    let res =
        super::parse_content(Path::new(name), &content, crate::store::Layer::Raw, &super::rows::Blocks::default());
    let mut out = Extracted { format: res.format, rejects: res.rejects, ..Extracted::default() };
    match res.parsed? {
        Parsed::Hourly(h) => {
            let kinds = measured();
            if let Some((start, block)) = &h.day {
                // `[(station × 24 + hour) × N_KINDS + kind]`: merged before the cells.
                for (st, _) in h.stations.iter().enumerate() {
                    for hour in 0..24 {
                        let at = (st * 24 + hour) * crate::kinds::N_KINDS;
                        let values = kinds.map(|k| block.get(at + k.idx()));
                        if values.iter().any(|v| !v.is_nan()) {
                            out.hours.push(HourRow { station: st as u32, label: start + hour as i64, values });
                        }
                    }
                }
            }
            for c in &h.cells {
                if let Some(k) = kinds.iter().position(|&k| k == c.kind) {
                    let mut values = [f64::NAN; 6];
                    values[k] = c.value;
                    out.hours.push(HourRow { station: c.station, label: c.label, values });
                }
            }
            out.stations = h.stations;
        }
        Parsed::Stations(list) => out.station_list = list,
        Parsed::CityDaily(_) => {}
        Parsed::Skipped(why) => out.skipped = Some(why),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantian_core::time::{day_number, label};

    const SITES: &str = "date,hour,type,1001A,1002A\r\n\
        20190301,0,PM2.5,30,\r\n\
        20190301,0,PM10,50,60\r\n\
        20190301,1,CO,0.8,x\r\n\
        20190301,1,AQI,42,43\r\n";

    #[test]
    fn site_file_rows_and_rejects() {
        let e = extract("china_sites_20190301.csv", SITES.as_bytes().to_vec()).unwrap();
        assert_eq!(e.format, Some(Format::CnemcSites));
        assert_eq!(e.stations, ["1001A", "1002A"]);
        let d = jiff::civil::date(2019, 3, 1);
        assert_eq!(label(d, 0), day_number(d) * 24);
        let row = |st: u32, hour: i64| e.hours.iter().find(|r| r.station == st && r.label == label(d, hour)).copied();
        let pm = Pollutant::ALL.iter().position(|p| *p == Pollutant::Pm25).unwrap();
        let pm10 = Pollutant::ALL.iter().position(|p| *p == Pollutant::Pm10).unwrap();
        let co = Pollutant::ALL.iter().position(|p| *p == Pollutant::Co).unwrap();
        let r = row(0, 0).expect("1001A hour 0");
        assert_eq!((r.values[pm], r.values[pm10]), (30.0, 50.0));
        assert!(row(1, 0).unwrap().values[pm].is_nan());
        assert_eq!(row(0, 1).unwrap().values[co], 0.8);
        // The AQI row is the network's, not a measured value: no row of its own.
        assert!(row(1, 1).is_none());
        assert_eq!(e.rejects.len(), 1);
        assert_eq!((e.rejects[0].line, e.rejects[0].column.as_str()), (4, "1002A"));
    }

    #[test]
    fn gzip_station_list_and_unreadable() {
        use std::io::Write;
        let list = "监测点编码,监测点名称,城市,经度,纬度,对照点\n1001A,万寿西宫,北京,116.366,39.8673,N\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(list.as_bytes()).unwrap();
        let e = extract("stations.csv.gz", gz.finish().unwrap()).unwrap();
        assert_eq!(e.format, Some(Format::StationList));
        assert_eq!(e.station_list.len(), 1);
        assert_eq!(e.station_list[0].city, "北京");
        let why = extract("notes.csv", b"hello,world\n".to_vec()).unwrap_err();
        assert!(why.starts_with("format not recognised"), "{why}");
        assert!(extract("bad.csv.gz", vec![0x1f, 0x8b, 1, 2, 3]).unwrap_err().contains("gzip"));
    }
}
