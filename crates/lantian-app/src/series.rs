//! The AQI calculator, the station list, and a station's or a city's
//! hourly and daily values (`lantian aqi`, `stations`, `hourly`, `daily`).

use crate::assess::Source;
use crate::days::Days;
use crate::table::{Cell, Col, Table};
use crate::{View, edition_for};
use anyhow::{Result, bail};
use jiff::civil::Date;
use lantian_core::aqi::{DailyInput, HourlyInput, Indicator, SpecialCase, daily_aqi, hourly_aqi};
use lantian_core::series::{CaptureRules, o3_8h_windows};
use lantian_core::time::{date_of, day_number, format_label};
use lantian_core::{AqiReport, Edition, Pollutant};
use lantian_store::query::{AreaDay, DaySource, Reader, city_stations, month_chunks};
use lantian_store::{Kind, Store};

/// Concentrations for the AQI calculator.
#[derive(Clone, Copy, Debug, Default)]
pub struct AqiRequest {
    pub pm25: Option<f64>,
    pub pm10: Option<f64>,
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub co: Option<f64>,
    /// Daily maximum 8-hour O3 (daily report).
    pub o3_8h: Option<f64>,
    /// 1-hour O3: the daily maximum (2012 daily report) or the hour's value (hourly).
    pub o3: Option<f64>,
    /// Trailing 24-hour SO2, used by the 2012 rule when 1-hour SO2 exceeds 800.
    pub so2_24h: Option<f64>,
    /// Real-time (hourly) AQI from 1-hour values instead of the daily AQI.
    pub hourly: bool,
    /// Edition of HJ 633 (default: the one in force today).
    pub edition: Option<Edition>,
}

/// The calculator's answer: for people, the sub-indices table and the
/// summary lines under it; for programs, one row with everything.
pub struct AqiAnswer {
    /// Said before the answer (an input the edition does not use).
    pub note: Option<String>,
    pub table: Table,
    pub summary: Vec<String>,
    pub row: Table,
}

pub fn aqi(a: &AqiRequest, view: View) -> Result<AqiAnswer> {
    let mut note = None;
    let edition = a.edition.unwrap_or_else(|| edition_for(None, crate::today()));
    let r = if a.hourly {
        hourly_aqi(
            edition,
            &HourlyInput { so2: a.so2, no2: a.no2, pm10: a.pm10, pm25: a.pm25, co: a.co, o3: a.o3, so2_24h: a.so2_24h },
        )
    } else {
        if a.o3.is_some() && edition == Edition::E2026 {
            note = Some(
                if view.zh() {
                    "注意: HJ 633-2026 日报不含 O3 1 小时值, --o3 未使用"
                } else {
                    "note: the HJ 633-2026 daily report has no 1-hour O3 indicator; --o3 ignored"
                }
                .to_string(),
            );
        }
        daily_aqi(
            edition,
            &DailyInput {
                so2: a.so2,
                no2: a.no2,
                pm10: a.pm10,
                pm25: a.pm25,
                co: a.co,
                o3_8h: a.o3_8h,
                o3_1h_max: a.o3,
            },
        )
    };
    if r.sub_indices.is_empty() {
        bail!("give at least one concentration (--pm25, --pm10, --so2, --no2, --co, --o3-8h, --o3)");
    }
    let mut t = Table::new(vec![
        Col("indicator", "指标", "Indicator"),
        Col("concentration", "浓度", "Concentration"),
        Col("iaqi", "分指数", "IAQI"),
        Col("note", "说明", "Note"),
    ]);
    for s in &r.sub_indices {
        let p = s.indicator.pollutant();
        let note = s.special.map(|x| special_text(view, x)).unwrap_or_default();
        t.push(vec![
            Cell::text(format!("{} {}", indicator_text(view, s.indicator, a.hourly), p.unit())),
            Cell::Num(s.concentration, p.decimals()),
            Cell::Int(i64::from(s.iaqi)),
            Cell::text(note),
        ]);
    }
    let (level, category, colour) = level_cells(view, &r);
    t.push(vec![
        Cell::text("AQI"),
        Cell::Empty,
        r.aqi.map_or(Cell::Empty, |v| Cell::Int(i64::from(v))),
        Cell::text(if view.zh() { format!("HJ 633-{edition}") } else { format!("HJ 633-{edition} edition") }),
    ]);
    let zh = view.zh();
    let mut summary = vec![format!(
        "{} {}  {} {}  {} {}  {} {}",
        if zh { "级别" } else { "Level" },
        cell_str(&level),
        if zh { "类别" } else { "Category" },
        cell_str(&category),
        if zh { "颜色" } else { "Colour" },
        cell_str(&colour),
        if zh { "首要污染物" } else { "Primary" },
        if r.primary.is_empty() { "—".to_string() } else { r.primary_label() }
    )];
    if !r.missing.is_empty() {
        let m: Vec<String> = r.missing.iter().map(|i| indicator_text(view, *i, a.hourly)).collect();
        summary.push(format!("{} {}", if zh { "缺测指标" } else { "Missing" }, m.join(if zh { "、" } else { ", " })));
    }
    // Programs get one object: the sub-indices as columns.
    let mut cols = vec![Col("edition", "标准版本", "Edition")];
    let mut row = vec![Cell::Int(i64::from(edition.year()))];
    for s in &r.sub_indices {
        cols.push(Col(leak(format!("iaqi_{}", s.indicator.key())), "", ""));
        row.push(Cell::Int(i64::from(s.iaqi)));
    }
    cols.extend([
        Col("aqi", "AQI", "AQI"),
        Col("level", "级别", "Level"),
        Col("category", "类别", "Category"),
        Col("colour", "颜色", "Colour"),
        Col("primary", "首要污染物", "Primary"),
    ]);
    row.extend([
        r.aqi.map_or(Cell::Empty, |v| Cell::Int(i64::from(v))),
        level,
        category,
        colour,
        Cell::text(r.primary_label()),
    ]);
    let mut one = Table::new(cols);
    one.push(row);
    Ok(AqiAnswer { note, table: t, summary, row: one })
}

/// What an indicator is, as a report would name it.
fn indicator_text(view: View, i: Indicator, hourly: bool) -> String {
    use Indicator::*;
    let p = i.pollutant().label();
    let (zh, en) = match i {
        So2Hour | No2Hour | CoHour | O3Hour => ("1小时平均", "1-hour mean"),
        O3EightHour => ("日最大8小时滑动平均", "daily max 8-hour mean"),
        // The real-time AQI evaluates 1-hour PM against the daily breakpoints.
        Pm10Daily | Pm25Daily if hourly => ("1小时平均(按日均断点)", "1-hour mean (daily breakpoints)"),
        _ => ("24小时平均", "24-hour mean"),
    };
    let o3_max = i == O3Hour && !hourly;
    match (view.zh(), o3_max) {
        (true, true) => format!("{p} 日最大1小时平均"),
        (false, true) => format!("{p} daily max 1-hour mean"),
        (true, false) => format!("{p} {zh}"),
        (false, false) => format!("{p} {en}"),
    }
}

fn special_text(view: View, s: SpecialCase) -> String {
    let (zh, en) = match s {
        SpecialCase::So2HourUses24h => {
            ("SO2 1小时浓度>800，按24小时平均计算分指数", "SO2 1-hour > 800: IAQI from the 24-hour mean")
        }
        SpecialCase::So2HourFixed200 => ("SO2 1小时浓度>800，分指数按200计", "SO2 1-hour > 800: IAQI set to 200"),
        SpecialCase::O3EightHourUses1h => {
            ("O3 8小时浓度>800，按1小时平均计算分指数", "O3 8-hour > 800: IAQI from the 1-hour mean")
        }
        SpecialCase::O3EightHourFixed300 => ("O3 8小时浓度>800，分指数按300计", "O3 8-hour > 800: IAQI set to 300"),
        SpecialCase::AboveRange => {
            ("超出分指数500对应浓度(爆表)，按500计", "above the IAQI-500 breakpoint: capped at 500")
        }
    };
    (if view.zh() { zh } else { en }).to_string()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn cell_str(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        _ => "—".into(),
    }
}

/// Level, category and colour of an AQI (colour in words too for people).
pub fn level_cells(view: View, r: &AqiReport) -> (Cell, Cell, Cell) {
    match r.level() {
        Some(l) => (
            Cell::Int(i64::from(l.number())),
            Cell::text(if view.zh() { l.category_zh() } else { l.category_en() }),
            Cell::text(if view.words() {
                format!("{} {}", l.colour_zh(), l.colour_hex())
            } else {
                l.colour_hex().to_string()
            }),
        ),
        None => (Cell::Empty, Cell::Empty, Cell::Empty),
    }
}

/// The station list (of one city).
pub fn stations_table(store: &Store, city: Option<&str>) -> Result<Table> {
    let want = city.map(lantian_store::canonical_city);
    let mut t = Table::new(vec![
        Col("code", "监测点编码", "Code"),
        Col("name", "监测点名称", "Name"),
        Col("city", "城市", "City"),
        Col("lon", "经度", "Lon"),
        Col("lat", "纬度", "Lat"),
        Col("control", "对照点", "Control"),
    ]);
    for s in store.stations().iter().filter(|s| want.as_ref().is_none_or(|c| &s.city == c)) {
        t.push(vec![
            Cell::text(&s.code),
            Cell::text(&s.name),
            Cell::text(&s.city),
            Cell::opt(s.lon, 4),
            Cell::opt(s.lat, 4),
            Cell::text(if s.control { "Y" } else { "N" }),
        ]);
    }
    if t.rows.is_empty() {
        bail!("no stations{}; import a station list first", city.map(|c| format!(" in {c}")).unwrap_or_default());
    }
    Ok(t)
}

/// The stations a `--station`/`--city` selection stands for.
fn selection(store: &Store, station: Option<&str>, city: Option<&str>) -> Result<(String, Vec<String>)> {
    match (station, city) {
        (Some(s), _) => Ok((s.to_string(), vec![s.to_string()])),
        (None, Some(c)) => {
            let name = lantian_store::canonical_city(c);
            let members = city_stations(store).remove(&name).unwrap_or_default();
            if members.is_empty() && !store.city_daily()?.iter().any(|r| r.city == name) {
                bail!(
                    "no stations or city data for '{c}'; import a station list (lantian stations lists what is known)"
                );
            }
            Ok((name, members))
        }
        (None, None) => bail!("give --station CODE or --city NAME"),
    }
}

/// A station or a city over a date range (`hourly`, `daily`).
#[derive(Clone, Debug)]
pub struct SeriesRequest {
    pub station: Option<String>,
    pub city: Option<String>,
    pub from: Date,
    pub to: Date,
    /// Force an edition of the standards (default: the one in force on each date).
    pub edition: Option<Edition>,
    /// Data behind a city's days.
    pub source: Source,
}

/// Hourly concentrations, 8-hour O3, AQI, level and primary pollutant.
pub fn hourly_table(store: &Store, a: &SeriesRequest, view: View) -> Result<Table> {
    let (station, city, from, to, edition) = (a.station.as_deref(), a.city.as_deref(), a.from, a.to, a.edition);
    let (name, members) = selection(store, station, city)?;
    let key_col = if city.is_some() { Col("city", "城市", "City") } else { Col("station", "站点", "Station") };
    let mut t = Table::new(vec![
        Col("time", "时间", "Time"),
        key_col,
        Col("pm25", "PM2.5", "PM2.5"),
        Col("pm10", "PM10", "PM10"),
        Col("so2", "SO2", "SO2"),
        Col("no2", "NO2", "NO2"),
        Col("co", "CO", "CO"),
        Col("o3", "O3", "O3"),
        Col("o3_8h", "O3_8h", "O3_8h"),
        Col("aqi", "AQI", "AQI"),
        Col("level", "级别", "Level"),
        Col("primary", "首要污染物", "Primary"),
        Col("aqi_published", "发布AQI", "Published AQI"),
    ]);
    let rules = CaptureRules::default();
    let kinds: Vec<Kind> = Pollutant::ALL.iter().map(|p| Kind::measured(*p)).chain([Kind::Aqi]).collect();
    let mut reader = Reader::new(store, &kinds, Some(&members));
    let single = station.is_some();
    for (d0, d1) in month_chunks(day_number(from), day_number(to)) {
        // Labels of the dates printed: hour 0..23 of each date; windows need the whole day.
        let dense = reader.range(d0 * 24 - 23, d1 * 24 + 24)?;
        let idx: Vec<usize> = (0..dense.stations.len()).collect();
        // Per pollutant, the series of the station or the mean of the city's stations.
        let series: Vec<Vec<f64>> = kinds.iter().map(|k| mean_series(&dense, &idx, *k, dense.len)).collect();
        let o3 = &series[Pollutant::ALL.iter().position(|p| *p == Pollutant::O3).expect("O3")];
        for l in d0 * 24..d1 * 24 + 24 {
            let off = (l - dense.start) as usize;
            let v = |k: usize| Some(series[k][off]).filter(|x| !x.is_nan());
            if (0..6).all(|k| v(k).is_none()) {
                continue;
            }
            // 8-hour O3 at this label: network convention, within the label's day.
            let day_first = ((l - 1).div_euclid(24) * 24 + 1 - dense.start) as usize;
            let day: [f64; 24] = std::array::from_fn(|k| o3.get(day_first + k).copied().unwrap_or(f64::NAN));
            let w = o3_8h_windows(&day, &rules)[off - day_first];
            let report = |p: Pollutant, x: Option<f64>| x.map(|x| p.report(x));
            let input = HourlyInput {
                so2: report(Pollutant::So2, v(0)),
                no2: report(Pollutant::No2, v(1)),
                pm10: report(Pollutant::Pm10, v(2)),
                co: report(Pollutant::Co, v(3)),
                o3: report(Pollutant::O3, v(4)),
                pm25: report(Pollutant::Pm25, v(5)),
                so2_24h: None,
            };
            let r = hourly_aqi(edition_for(edition, lantian_core::time::day_of_label(l)), &input);
            let (level, _, _) = level_cells(view, &r);
            let pm25_pm10_so2_no2_co = concentration_cells(input.pm25, input.pm10, input.so2, input.no2, input.co);
            let mut row = vec![Cell::text(format_label(l)), Cell::text(&name)];
            row.extend(pm25_pm10_so2_no2_co);
            row.extend([
                Cell::opt(input.o3, 0),
                Cell::opt((!w.is_nan()).then(|| Pollutant::O3.report(w)), 0),
                r.aqi.map_or(Cell::Empty, |a| Cell::Int(i64::from(a))),
                level,
                Cell::text(r.primary_label()),
                if single { Cell::opt(v(6), 0) } else { Cell::Empty },
            ]);
            t.push(row);
        }
    }
    Ok(t)
}

/// PM2.5, PM10, SO2, NO2 and CO cells at reporting precision.
fn concentration_cells(
    pm25: Option<f64>,
    pm10: Option<f64>,
    so2: Option<f64>,
    no2: Option<f64>,
    co: Option<f64>,
) -> [Cell; 5] {
    [Cell::opt(pm25, 0), Cell::opt(pm10, 0), Cell::opt(so2, 0), Cell::opt(no2, 0), Cell::opt(co, 1)]
}

/// Mean over stations `idx` of one kind, label by label (a city's hourly
/// value, HJ 663 §7); NaN where no station has a value.
fn mean_series(dense: &lantian_store::query::Dense, idx: &[usize], kind: Kind, len: usize) -> Vec<f64> {
    (0..len)
        .map(|off| {
            let (mut s, mut n) = (0.0, 0);
            for &i in idx {
                let v = dense.series(i, kind)[off];
                if !v.is_nan() {
                    s += v;
                    n += 1;
                }
            }
            if n == 0 { f64::NAN } else { s / f64::from(n) }
        })
        .collect()
}

/// Daily means, MDA8, AQI, level, primary pollutant and valid hours.
pub fn daily_table(source: &dyn Days, a: &SeriesRequest, view: View) -> Result<Table> {
    let store = source.store();
    let (station, city, from, to, edition) = (a.station.as_deref(), a.city.as_deref(), a.from, a.to, a.edition);
    let (name, members) = selection(store, station, city)?;
    let (d0, d1) = (day_number(from), day_number(to));
    let any_2012 = (d0..=d1).any(|d| edition_for(edition, d) == Edition::E2012);
    let mut days: Vec<AreaDay> = Vec::new();
    if city.is_some() {
        days = source
            .city_days(std::slice::from_ref(&name), d0, d1, &a.source.options())?
            .remove(&name)
            .unwrap_or_default();
    } else {
        source.station_days(Some(&members), d0, d1, &mut |_, day, v| {
            days.push(AreaDay { day, values: *v, source: DaySource::Stations(1) })
        })?;
    }
    // The deducted PM10 and PM2.5, when an event touched a day of the range.
    let deducted = days.iter().any(|d| d.values.deducted.is_some());
    let mut cols = vec![
        Col("date", "日期", "Date"),
        if city.is_some() { Col("city", "城市", "City") } else { Col("station", "站点", "Station") },
        Col("pm25", "PM2.5", "PM2.5"),
        Col("pm10", "PM10", "PM10"),
        Col("so2", "SO2", "SO2"),
        Col("no2", "NO2", "NO2"),
        Col("co", "CO", "CO"),
        Col("o3_8h_max", "O3日最大8小时", "O3 MDA8"),
    ];
    if any_2012 {
        cols.push(Col("o3_1h_max", "O3日最大1小时", "O3 max 1h"));
    }
    cols.extend([
        Col("aqi", "AQI", "AQI"),
        Col("level", "级别", "Level"),
        Col("primary", "首要污染物", "Primary"),
        Col("hours", "有效小时", "Hours"),
    ]);
    if city.is_some() {
        cols.push(Col("source", "数据来源", "Source"));
    }
    if deducted {
        cols.extend([
            Col("pm25_deducted", "PM2.5(扣沙)", "PM2.5 deducted"),
            Col("pm10_deducted", "PM10(扣沙)", "PM10 deducted"),
            Col("deducted", "扣除", "Deducted"),
        ]);
    }
    let mut t = Table::new(cols);
    for d in &days {
        let ed = edition_for(edition, d.day);
        let input = d.values.aqi_input();
        let r = daily_aqi(ed, &input);
        let (level, _, _) = level_cells(view, &r);
        let mut row = vec![Cell::text(date_of(d.day).map(|x| x.to_string()).unwrap_or_default()), Cell::text(&name)];
        row.extend(concentration_cells(input.pm25, input.pm10, input.so2, input.no2, input.co));
        row.push(Cell::opt(input.o3_8h, 0));
        if any_2012 {
            row.push(if ed == Edition::E2012 { Cell::opt(input.o3_1h_max, 0) } else { Cell::Empty });
        }
        let hours = match d.source {
            DaySource::Published => Cell::Empty,
            DaySource::Stations(_) => Cell::Int(i64::from(*d.values.hours.iter().min().unwrap_or(&0))),
        };
        row.extend([
            r.aqi.map_or(Cell::Empty, |a| Cell::Int(i64::from(a))),
            level,
            Cell::text(r.primary_label()),
            hours,
        ]);
        if city.is_some() {
            row.push(Cell::text(match d.source {
                DaySource::Stations(n) => format!("stations:{n}"),
                DaySource::Published => "published".into(),
            }));
        }
        if deducted {
            let dd = d.values.deducted;
            let report = |p: Pollutant, v: Option<f64>| v.map(|x| p.report(x));
            row.extend([
                Cell::opt(dd.map_or(input.pm25, |x| report(Pollutant::Pm25, x.pm25)), 0),
                Cell::opt(dd.map_or(input.pm10, |x| report(Pollutant::Pm10, x.pm10)), 0),
                Cell::Bool(dd.is_some()),
            ]);
        }
        t.push(row);
    }
    Ok(t)
}
