//! The subcommands: glue between the store and the core.

use crate::output::{Cell, Col, Format, Lang, Table};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::civil::Date;
use lantian_core::aqi::{DailyInput, HourlyInput, Indicator, SpecialCase, daily_aqi, hourly_aqi};
use lantian_core::period::{
    DayRecord, PeriodCapture, PeriodStats, change_pct, change_pp, competition_rank, period_stats,
};
use lantian_core::policy::{Facts, amount as policy_amount, evaluate};
use lantian_core::rank::{RankBy, Weights, improvement, multi_year_mean, weighted_composite};
use lantian_core::round::round_half_even;
use lantian_core::series::{CaptureRules, o3_8h_windows};
use lantian_core::target::{
    Status, highest_remaining_mean, historical_probability, non_good_days_affordable, status as target_status,
};
use lantian_core::time::{DayNumber, date_of, day_number, format_label};
use lantian_core::{AqiReport, Edition, LimitSet, Pollutant};
use lantian_store::Kind;
use lantian_store::query::{
    AreaDay, AreaOptions, DaySource, Reader, SourcePreference, city_days, city_stations, day_slots, month_chunks,
    station_days,
};
use lantian_store::{Store, import::ImportSummary};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Debug)]
pub struct Ctx {
    pub data: PathBuf,
    /// PostgreSQL URL for the ledger; SQLite in the data directory when absent.
    pub database: Option<String>,
    pub format: Format,
    pub lang: Lang,
    /// `--output FILE` for documents and table exports (xlsx, docx, md).
    pub output: Option<PathBuf>,
    /// Descriptive file name (without extension) for exports without `--output`.
    pub stem: String,
}

impl Ctx {
    /// The same data and ledger, answering in JSON with no file output
    /// (the web API, the gateway's endpoint and its registry refresh).
    pub fn for_api(&self) -> Ctx {
        Ctx { format: Format::Json, output: None, stem: String::new(), ..self.clone() }
    }

    fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    pub(crate) fn print(&self, t: &Table) -> Result<()> {
        if matches!(self.format, Format::Xlsx | Format::Docx | Format::Md) {
            let doc = crate::report::table_doc(t, self.lang, &self.stem);
            crate::report::write_doc(self, &doc, &self.stem)?;
            return Ok(());
        }
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        t.render(self.format, self.lang, &mut lock)?;
        lock.flush()?;
        Ok(())
    }

    pub(crate) fn ledger(&self) -> Result<Box<dyn lantian_store::ledger::Ledger>> {
        Ok(match &self.database {
            Some(url) => Box::new(lantian_store::ledger::PgLedger::open(url)?),
            None => Box::new(lantian_store::ledger::SqliteLedger::open(&self.data)?),
        })
    }

    pub(crate) fn store(&self) -> Result<Store> {
        Store::open(&self.data).with_context(|| format!("opening the store in {}", self.data.display()))
    }
}

/// Today's day number in China time. `SOURCE_DATE_EPOCH` (the
/// reproducible-builds convention, seconds since 1970) fixes it, so a
/// document generated twice is the same file.
fn today() -> DayNumber {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    (now + 8 * 3600).div_euclid(86_400)
}

/// Today's date in China time.
pub(crate) fn today_date() -> Date {
    date_of(today()).unwrap_or(jiff::civil::date(2026, 1, 1))
}

fn edition_for(forced: Option<Edition>, day: DayNumber) -> Edition {
    forced.unwrap_or_else(|| date_of(day).map_or(Edition::E2026, Edition::for_date))
}

// ---------------------------------------------------------------- import

pub fn import(ctx: &Ctx, paths: &[PathBuf]) -> Result<ExitCode> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} files ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(if ctx.zh() { "导入" } else { "importing" });
    let cb = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let summary = lantian_store::import(&ctx.data, paths, Some(&cb));
    bar.finish_and_clear();
    let summary = summary?;
    print_import_summary(ctx, &summary);
    Ok(if summary.unreadable.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_import_summary(ctx: &Ctx, s: &ImportSummary) {
    let zh = ctx.zh();
    let files: Vec<String> =
        s.files.iter().map(|(f, n)| format!("{n} × {}", if zh { f.label_zh() } else { f.label() })).collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} {}",
        if zh { "文件:" } else { "files:" },
        if files.is_empty() { "0".to_string() } else { files.join(", ") }
    );
    let counts = |label_zh: &str, label_en: &str, m: lantian_store::partition::MergeCounts| {
        if zh {
            format!("{label_zh}: 新增 {}, 修订 {}, 未变 {}", m.imported, m.revised, m.unchanged)
        } else {
            format!("{label_en}: imported {}, revised {}, unchanged {}", m.imported, m.revised, m.unchanged)
        }
    };
    let _ = writeln!(err, "{}", counts("小时值", "hourly values", s.hourly));
    let c = s.city_days;
    if c.imported + c.revised + c.unchanged > 0 {
        let _ = writeln!(err, "{}", counts("城市日值", "city daily values", c));
    }
    if s.stations > 0 {
        let _ = writeln!(err, "{} {}", if zh { "站点:" } else { "stations:" }, s.stations);
    }
    let _ = writeln!(err, "{} {}", if zh { "拒收:" } else { "rejected:" }, s.rejected);
    if let Some(p) = &s.rejects_file {
        let _ = writeln!(
            err,
            "  {} {}",
            if zh { "拒收明细 (文件、行、列、原因):" } else { "rejects (file, line, column, reason):" },
            p.display()
        );
    }
    for (p, why) in &s.skipped {
        let _ = writeln!(err, "{} {}: {why}", if zh { "跳过" } else { "skipped" }, p.display());
    }
    for (p, why) in &s.unreadable {
        let _ = writeln!(err, "{} {}: {why}", if zh { "无法读取" } else { "unreadable" }, p.display());
    }
    let _ = writeln!(err, "{} {}", if zh { "存储版本:" } else { "store generation:" }, s.generation);
}

// ---------------------------------------------------------------- aqi

#[derive(Args, Debug)]
pub struct AqiArgs {
    #[arg(long)]
    pm25: Option<f64>,
    #[arg(long)]
    pm10: Option<f64>,
    #[arg(long)]
    so2: Option<f64>,
    #[arg(long)]
    no2: Option<f64>,
    #[arg(long)]
    co: Option<f64>,
    /// Daily maximum 8-hour O3 (daily report).
    #[arg(long = "o3-8h")]
    o3_8h: Option<f64>,
    /// 1-hour O3: the daily maximum (2012 daily report) or the hour's value (--hourly).
    #[arg(long)]
    o3: Option<f64>,
    /// Trailing 24-hour SO2, used by the 2012 rule when 1-hour SO2 exceeds 800.
    #[arg(long = "so2-24h")]
    so2_24h: Option<f64>,
    /// Real-time (hourly) AQI from 1-hour values instead of the daily AQI.
    #[arg(long)]
    hourly: bool,
    /// Edition of HJ 633 (default: 2026, the one in force today).
    #[arg(long)]
    edition: Option<Edition>,
}

pub fn aqi(ctx: &Ctx, a: &AqiArgs) -> Result<()> {
    let edition = a.edition.unwrap_or_else(|| edition_for(None, today()));
    let r = if a.hourly {
        hourly_aqi(
            edition,
            &HourlyInput { so2: a.so2, no2: a.no2, pm10: a.pm10, pm25: a.pm25, co: a.co, o3: a.o3, so2_24h: a.so2_24h },
        )
    } else {
        if a.o3.is_some() && edition == Edition::E2026 {
            eprintln!(
                "{}",
                if ctx.zh() {
                    "注意: HJ 633-2026 日报不含 O3 1 小时值, --o3 未使用"
                } else {
                    "note: the HJ 633-2026 daily report has no 1-hour O3 indicator; --o3 ignored"
                }
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
        let note = s.special.map(|x| special_text(ctx, x)).unwrap_or_default();
        t.push(vec![
            Cell::text(format!("{} {}", indicator_text(ctx, s.indicator, a.hourly), p.unit())),
            Cell::Num(s.concentration, p.decimals()),
            Cell::Int(i64::from(s.iaqi)),
            Cell::text(note),
        ]);
    }
    let (level, category, colour) = level_cells(ctx, &r);
    t.push(vec![
        Cell::text("AQI"),
        Cell::Empty,
        r.aqi.map_or(Cell::Empty, |v| Cell::Int(i64::from(v))),
        Cell::text(if ctx.zh() { format!("HJ 633-{edition}") } else { format!("HJ 633-{edition} edition") }),
    ]);
    if ctx.format == Format::Table {
        ctx.print(&t)?;
        let zh = ctx.zh();
        println!(
            "{} {}  {} {}  {} {}  {} {}",
            if zh { "级别" } else { "Level" },
            cell_str(&level),
            if zh { "类别" } else { "Category" },
            cell_str(&category),
            if zh { "颜色" } else { "Colour" },
            cell_str(&colour),
            if zh { "首要污染物" } else { "Primary" },
            if r.primary.is_empty() { "—".to_string() } else { r.primary_label() }
        );
        if !r.missing.is_empty() {
            let m: Vec<String> = r.missing.iter().map(|i| indicator_text(ctx, *i, a.hourly)).collect();
            println!("{} {}", if zh { "缺测指标" } else { "Missing" }, m.join(if zh { "、" } else { ", " }));
        }
    } else {
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
        ctx.print(&one)?;
    }
    Ok(())
}

/// What an indicator is, as a report would name it.
fn indicator_text(ctx: &Ctx, i: Indicator, hourly: bool) -> String {
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
    match (ctx.zh(), o3_max) {
        (true, true) => format!("{p} 日最大1小时平均"),
        (false, true) => format!("{p} daily max 1-hour mean"),
        (true, false) => format!("{p} {zh}"),
        (false, false) => format!("{p} {en}"),
    }
}

fn special_text(ctx: &Ctx, s: SpecialCase) -> String {
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
    (if ctx.zh() { zh } else { en }).to_string()
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

fn level_cells(ctx: &Ctx, r: &AqiReport) -> (Cell, Cell, Cell) {
    match r.level() {
        Some(l) => (
            Cell::Int(i64::from(l.number())),
            Cell::text(if ctx.zh() { l.category_zh() } else { l.category_en() }),
            Cell::text(if ctx.format == Format::Table && ctx.zh() {
                format!("{} {}", l.colour_zh(), l.colour_hex())
            } else {
                l.colour_hex().to_string()
            }),
        ),
        None => (Cell::Empty, Cell::Empty, Cell::Empty),
    }
}

// ---------------------------------------------------------------- stations

pub fn stations(ctx: &Ctx, city: Option<&str>) -> Result<()> {
    let store = ctx.store()?;
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
    ctx.print(&t)
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

// ---------------------------------------------------------------- hourly

/// Which data a city's days come from (`--source`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// Station hours where the store has them, published city values otherwise.
    #[default]
    Auto,
    /// Only station hours.
    Stations,
    /// Only published city daily values.
    Published,
}

impl Source {
    fn options(self) -> AreaOptions {
        let source = match self {
            Source::Auto => SourcePreference::Auto,
            Source::Stations => SourcePreference::Stations,
            Source::Published => SourcePreference::Published,
        };
        AreaOptions { source, ..AreaOptions::default() }
    }
}

/// A station or a city over a date range (`hourly`, `daily`).
#[derive(Args, Debug)]
pub struct SeriesArgs {
    #[arg(long, conflicts_with = "city", required_unless_present = "city")]
    pub station: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// Force an edition of the standards (default: the one in force on each date).
    #[arg(long)]
    pub edition: Option<Edition>,
    /// Data behind a city's days.
    #[arg(long, value_enum, default_value = "auto")]
    pub source: Source,
}

pub fn hourly(ctx: &Ctx, a: &SeriesArgs) -> Result<()> {
    let (station, city, from, to, edition) = (a.station.as_deref(), a.city.as_deref(), a.from, a.to, a.edition);
    let store = ctx.store()?;
    let (name, members) = selection(&store, station, city)?;
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
    let mut reader = Reader::new(&store, &kinds, Some(&members));
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
            let (level, _, _) = level_cells(ctx, &r);
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
    ctx.print(&t)
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

// ---------------------------------------------------------------- daily

pub fn daily(ctx: &Ctx, a: &SeriesArgs) -> Result<()> {
    let (station, city, from, to, edition) = (a.station.as_deref(), a.city.as_deref(), a.from, a.to, a.edition);
    let store = ctx.store()?;
    let (name, members) = selection(&store, station, city)?;
    let (d0, d1) = (day_number(from), day_number(to));
    let any_2012 = (d0..=d1).any(|d| edition_for(edition, d) == Edition::E2012);
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
    let mut t = Table::new(cols);
    let mut days: Vec<AreaDay> = Vec::new();
    if city.is_some() {
        days = city_days(&store, std::slice::from_ref(&name), d0, d1, &a.source.options())?
            .remove(&name)
            .unwrap_or_default();
    } else {
        station_days(&store, Some(&members), d0, d1, &CaptureRules::default(), |_, day, v| {
            days.push(AreaDay { day, values: *v, source: DaySource::Stations(1) })
        })?;
    }
    for d in &days {
        let ed = edition_for(edition, d.day);
        let input = d.values.aqi_input();
        let r = daily_aqi(ed, &input);
        let (level, _, _) = level_cells(ctx, &r);
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
        t.push(row);
    }
    ctx.print(&t)
}

// ---------------------------------------------------------------- assess

#[derive(Args, Debug)]
pub struct AssessArgs {
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// Cities to assess (default: all).
    #[arg(long)]
    city: Vec<String>,
    /// Add the same period of the previous year and the changes.
    #[arg(long, value_parser = ["previous-year"])]
    compare: Option<String>,
    /// Compute every period by one edition (可比口径); default: each day by the rules in force on it.
    #[arg(long)]
    edition: Option<Edition>,
    /// Data behind the cities' days.
    #[arg(long, value_enum, default_value = "auto")]
    source: Source,
    /// Cities (default), or the counties or regions of areas.toml; rows keep the `city` key.
    #[arg(long, value_enum, default_value = "city")]
    level: RankLevel,
}

/// One city's statistics over one period.
pub struct CityPeriod {
    pub city: String,
    pub stats: PeriodStats,
}

/// Statistics of every city for `from..=to`.
pub fn assess_period(
    store: &Store,
    cities: &[String],
    from: Date,
    to: Date,
    edition: Option<Edition>,
    source: Source,
) -> Result<Vec<CityPeriod>> {
    let days = city_days(store, cities, day_number(from), day_number(to), &source.options())?;
    Ok(period_of_areas(days, from, to, edition))
}

/// Period statistics of each area from its days.
fn period_of_areas(
    days: BTreeMap<String, Vec<AreaDay>>,
    from: Date,
    to: Date,
    edition: Option<Edition>,
) -> Vec<CityPeriod> {
    let (d0, d1) = (day_number(from), day_number(to));
    // Composite-index S_i: the limit set of the period's end date (or the forced edition).
    let limits = period_limits(to, edition);
    days.into_iter()
        .map(|(city, list)| CityPeriod { stats: area_stats(&list, d0, d1, edition, &limits), city })
        .collect()
}

/// The days' records as the period statistics take them: each day's AQI by
/// the edition in force on it (or the forced one).
pub fn day_records(list: &[AreaDay], edition: Option<Edition>) -> Vec<DayRecord> {
    list.iter()
        .map(|d| DayRecord {
            day: d.day,
            values: d.values,
            aqi: daily_aqi(edition_for(edition, d.day), &d.values.aqi_input()).aqi,
        })
        .collect()
}

/// One area's statistics over days `d0..=d1` of `list` (which may hold more days).
fn area_stats(
    list: &[AreaDay],
    d0: DayNumber,
    d1: DayNumber,
    edition: Option<Edition>,
    limits: &lantian_core::edition::Limits,
) -> PeriodStats {
    let lo = list.partition_point(|d| d.day < d0);
    let hi = list.partition_point(|d| d.day <= d1);
    period_stats(&day_records(&list[lo..hi], edition), d0, d1, limits, &PeriodCapture::default())
}

/// The composite-index limits of a period ending `to` (or of the forced edition).
pub fn period_limits(to: Date, edition: Option<Edition>) -> lantian_core::edition::Limits {
    match edition {
        Some(e) => LimitSet::for_edition(e, to),
        None => LimitSet::for_date(to),
    }
    .grade2()
}

/// Statistics of one area over `from..=to` from days already read (sorted
/// by day, covering at least the period): what `assess_period` gives for
/// that area, without reading the store again.
pub fn stats_from_days(list: &[AreaDay], from: Date, to: Date, edition: Option<Edition>) -> PeriodStats {
    area_stats(list, day_number(from), day_number(to), edition, &period_limits(to, edition))
}

/// Statistics of each county (areas.toml: a set of stations) for
/// `from..=to`, its days formed from its stations as a city's are.
pub fn county_period(
    store: &Store,
    areas: &lantian_store::areas::Areas,
    from: Date,
    to: Date,
    edition: Option<Edition>,
) -> Result<Vec<CityPeriod>> {
    let (d0, d1) = (day_number(from), day_number(to));
    let mut owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &areas.county {
        for s in &c.stations {
            owner.entry(s.clone()).or_default().push(c.name.clone());
        }
    }
    let codes: Vec<String> = owner.keys().cloned().collect();
    let mut per: BTreeMap<(String, DayNumber), Vec<lantian_core::DailyValues>> = BTreeMap::new();
    station_days(store, Some(&codes), d0, d1, &CaptureRules::default(), |st, day, v| {
        for county in owner.get(st).into_iter().flatten() {
            per.entry((county.clone(), day)).or_default().push(*v);
        }
    })?;
    let mut days: BTreeMap<String, Vec<AreaDay>> = areas.county.iter().map(|c| (c.name.clone(), Vec::new())).collect();
    for ((county, day), vals) in per {
        let values = lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), 1);
        days.entry(county).or_default().push(AreaDay { day, values, source: DaySource::Stations(vals.len() as u16) });
    }
    Ok(period_of_areas(days, from, to, edition))
}

/// Statistics of each region (areas.toml) for `from..=to`: a region's day is
/// the mean of its cities' daily values, each at reporting precision, as a
/// city's day is of its stations'; a value needs every member city.
pub fn region_period(
    store: &Store,
    areas: &lantian_store::areas::Areas,
    from: Date,
    to: Date,
    edition: Option<Edition>,
    source: Source,
) -> Result<Vec<CityPeriod>> {
    let cities = city_days(store, &[], day_number(from), day_number(to), &source.options())?;
    let mut regions: BTreeMap<String, Vec<AreaDay>> = BTreeMap::new();
    for r in &areas.region {
        let mut by_day: BTreeMap<DayNumber, Vec<lantian_core::DailyValues>> = BTreeMap::new();
        for c in &r.cities {
            for d in cities.get(c).into_iter().flatten() {
                by_day.entry(d.day).or_default().push(d.values);
            }
        }
        let days = by_day
            .into_iter()
            .map(|(day, vals)| AreaDay {
                day,
                // Every member city must have the value, or the region's day
                // would silently stand for only some of it.
                values: lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), r.cities.len()),
                source: DaySource::Stations(vals.len() as u16),
            })
            .collect();
        regions.insert(r.name.clone(), days);
    }
    Ok(period_of_areas(regions, from, to, edition))
}

pub(crate) fn shift_year(d: Date, years: i16) -> Date {
    let y = d.year() - years;
    Date::new(y, d.month(), d.day()).unwrap_or_else(|_| Date::new(y, d.month(), 28).expect("valid date"))
}

pub fn assess(ctx: &Ctx, a: &AssessArgs) -> Result<()> {
    let store = ctx.store()?;
    let period = |from: Date, to: Date| -> Result<Vec<CityPeriod>> {
        let areas = || lantian_store::areas::Areas::load(&ctx.data);
        let all = match a.level {
            RankLevel::City => assess_period(&store, &a.city, from, to, a.edition, a.source)?,
            RankLevel::County => county_period(&store, &areas()?, from, to, a.edition)?,
            RankLevel::Region => region_period(&store, &areas()?, from, to, a.edition, a.source)?,
        };
        // --city names the areas to show at any level.
        Ok(all
            .into_iter()
            .filter(|c| a.level == RankLevel::City || a.city.is_empty() || a.city.contains(&c.city))
            .collect())
    };
    let cur = period(a.from, a.to)?;
    let prev: Option<BTreeMap<String, PeriodStats>> = match a.compare {
        Some(_) => {
            Some(period(shift_year(a.from, 1), shift_year(a.to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect())
        }
        None => None,
    };
    let table = assess_table(&cur, prev.as_ref(), a.from, a.to);
    if table.rows.is_empty() {
        bail!("no data for {}..{}", a.from, a.to);
    }
    ctx.print(&table)
}

pub fn assess_table(cur: &[CityPeriod], prev: Option<&BTreeMap<String, PeriodStats>>, from: Date, to: Date) -> Table {
    let mut cols = vec![
        Col("city", "城市", "City"),
        Col("from", "起", "From"),
        Col("to", "止", "To"),
        Col("days", "天数", "Days"),
        Col("valid_days", "有效天数", "Valid days"),
        Col("pm25", "PM2.5", "PM2.5"),
        Col("pm10", "PM10", "PM10"),
        Col("so2", "SO2", "SO2"),
        Col("no2", "NO2", "NO2"),
        Col("co_p95", "CO-95per", "CO p95"),
        Col("o3_8h_p90", "O3-8h-90per", "O3-8h p90"),
        Col("good_days", "优良天数", "Good days"),
        Col("good_ratio", "优良天数比例%", "Good ratio %"),
        Col("heavy_days", "重污染天数", "Heavy days"),
        Col("composite_index", "综合指数", "Composite index"),
        Col("rank", "排名", "Rank"),
    ];
    if prev.is_some() {
        cols.extend([
            Col("pm25_prev", "PM2.5同期", "PM2.5 prev"),
            Col("pm25_change", "PM2.5变化%", "PM2.5 change %"),
            Col("pm10_prev", "PM10同期", "PM10 prev"),
            Col("pm10_change", "PM10变化%", "PM10 change %"),
            Col("good_ratio_prev", "优良比例同期%", "Good ratio prev %"),
            Col("good_ratio_change", "优良比例变化(百分点)", "Good ratio change (pp)"),
            Col("composite_index_prev", "综合指数同期", "Composite prev"),
            Col("composite_index_change", "综合指数变化%", "Composite change %"),
        ]);
    }
    cols.push(Col("capture_ok", "数据有效性达标", "Capture OK"));
    let ranks = competition_rank(&cur.iter().map(|c| c.stats.composite_index).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..cur.len()).collect();
    order.sort_by_key(|&i| (ranks[i].unwrap_or(u32::MAX), cur[i].city.clone()));
    let mut t = Table::new(cols);
    for i in order {
        let (c, s) = (&cur[i].city, &cur[i].stats);
        if s.n_values.iter().all(|&n| n == 0) && s.valid_days == 0 {
            continue;
        }
        let mut row = vec![
            Cell::text(c),
            Cell::text(from.to_string()),
            Cell::text(to.to_string()),
            Cell::Int(i64::from(s.days)),
            Cell::Int(i64::from(s.valid_days)),
            Cell::opt(s.pm25, 0),
            Cell::opt(s.pm10, 0),
            Cell::opt(s.so2, 0),
            Cell::opt(s.no2, 0),
            Cell::opt(s.co_p95, 1),
            Cell::opt(s.o3_8h_p90, 0),
            Cell::Int(i64::from(s.good_days)),
            Cell::opt(s.good_ratio, 1),
            Cell::Int(i64::from(s.heavy_days)),
            Cell::opt(s.composite_index, 2),
            ranks[i].map_or(Cell::Empty, |r| Cell::Int(i64::from(r))),
        ];
        if let Some(prev) = prev {
            let p = prev.get(c);
            let g = |f: fn(&PeriodStats) -> Option<f64>| p.and_then(f);
            row.extend([
                Cell::opt(g(|p| p.pm25), 0),
                Cell::opt(change_pct(s.pm25, g(|p| p.pm25)), 1),
                Cell::opt(g(|p| p.pm10), 0),
                Cell::opt(change_pct(s.pm10, g(|p| p.pm10)), 1),
                Cell::opt(g(|p| p.good_ratio), 1),
                Cell::opt(change_pp(s.good_ratio, g(|p| p.good_ratio)), 1),
                Cell::opt(g(|p| p.composite_index), 2),
                Cell::opt(change_pct(s.composite_index, g(|p| p.composite_index)), 1),
            ]);
        }
        row.push(Cell::Bool(s.capture_ok));
        t.push(row);
    }
    t
}

// ---------------------------------------------------------------- rank

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RankLevel {
    City,
    County,
    Region,
}

#[derive(Args, Debug)]
pub struct RankArgs {
    #[arg(long)]
    pub from: Date,
    #[arg(long)]
    pub to: Date,
    /// Rank cities, or the counties or regions of areas.toml (default: Sichuan's five regions, no counties).
    #[arg(long, value_enum, default_value = "city")]
    pub level: RankLevel,
    /// composite | pm25 | good_ratio | improvement
    #[arg(long, default_value = "composite")]
    pub by: RankBy,
    /// Weights of the composite index: equal (环办监测〔2018〕19号, default) or weighted (PM2.5 ×3, NO2 ×2, O3 ×2).
    #[arg(long, default_value = "equal")]
    pub weights: Weights,
    #[arg(long)]
    pub edition: Option<Edition>,
    #[arg(long, value_enum, default_value = "auto")]
    pub source: Source,
}

/// Statistics of every area of `level` for one period.
fn level_period(ctx: &Ctx, store: &Store, a: &RankArgs, from: Date, to: Date) -> Result<BTreeMap<String, PeriodStats>> {
    let list = match a.level {
        RankLevel::City => assess_period(store, &[], from, to, a.edition, a.source)?,
        RankLevel::Region => {
            let areas = lantian_store::areas::Areas::load(&ctx.data)?;
            region_period(store, &areas, from, to, a.edition, a.source)?
        }
        RankLevel::County => {
            let areas = lantian_store::areas::Areas::load(&ctx.data)?;
            if areas.county.is_empty() {
                bail!(
                    "no counties defined: add [[county]] name/stations entries to {}",
                    ctx.data.join("areas.toml").display()
                );
            }
            county_period(store, &areas, from, to, a.edition)?
        }
    };
    Ok(list
        .into_iter()
        .filter(|c| c.stats.valid_days > 0 || c.stats.n_values.iter().any(|&n| n > 0))
        .map(|c| (c.city, c.stats))
        .collect())
}

pub fn rank(ctx: &Ctx, a: &RankArgs) -> Result<()> {
    let store = ctx.store()?;
    let cur = level_period(ctx, &store, a, a.from, a.to)?;
    if cur.is_empty() {
        bail!("no data for {}..{}", a.from, a.to);
    }
    let prev = level_period(ctx, &store, a, shift_year(a.from, 1), shift_year(a.to, 1))?;
    // The three previous years; the first is `prev`, computed once.
    let mut earlier: Vec<BTreeMap<String, PeriodStats>> = vec![prev.clone()];
    for y in 2..=3 {
        earlier.push(level_period(ctx, &store, a, shift_year(a.from, y), shift_year(a.to, y))?);
    }
    let ci = |s: Option<&PeriodStats>| s.and_then(|s| weighted_composite(s, a.weights));
    let names: Vec<&String> = cur.keys().collect();
    let key_values: Vec<Option<f64>> = names
        .iter()
        .map(|n| match a.by {
            RankBy::Composite => ci(cur.get(*n)),
            RankBy::Pm25 => cur[*n].pm25,
            RankBy::GoodRatio => cur[*n].good_ratio,
            RankBy::Improvement => improvement(ci(cur.get(*n)), ci(prev.get(*n))),
        })
        .collect();
    let ranks = lantian_core::rank::rank(a.by, &key_values);
    let zh = ctx.zh();
    eprintln!(
        "{}",
        match (zh, a.weights) {
            (true, Weights::Equal) => "综合指数: 六项污染物单项指数等权相加（环办监测〔2018〕19号，默认）".to_string(),
            (true, Weights::Weighted) => "综合指数: 加权（PM2.5×3、NO2×2、O3×2，其余×1；非官方口径）".to_string(),
            (false, w) => format!("composite index weights: {w} (equal = 环办监测〔2018〕19号, the default)"),
        }
    );
    let mut t = Table::new(vec![
        Col("rank", "排名", "Rank"),
        match a.level {
            RankLevel::City => Col("city", "城市", "City"),
            RankLevel::County => Col("county", "县（市、区）", "County"),
            RankLevel::Region => Col("region", "区域", "Region"),
        },
        Col("composite_index", "综合指数", "Composite index"),
        Col("main_pollutant", "主要污染物", "Main pollutant"),
        Col("pm25", "PM2.5", "PM2.5"),
        Col("good_ratio", "优良天数比例%", "Good ratio %"),
        Col("composite_prev", "综合指数同期", "Composite prev"),
        Col("composite_change", "综合指数同比%", "Composite YoY %"),
        Col("composite_3y", "综合指数三年均值", "Composite 3-yr mean"),
        Col("composite_change_3y", "较三年均值%", "vs 3-yr mean %"),
        Col("pm25_prev", "PM2.5同期", "PM2.5 prev"),
        Col("pm25_change", "PM2.5同比%", "PM2.5 YoY %"),
        Col("pm25_3y", "PM2.5三年均值", "PM2.5 3-yr mean"),
        Col("pm25_change_3y", "PM2.5较三年均值%", "PM2.5 vs 3-yr %"),
        Col("good_ratio_prev", "优良比例同期%", "Good ratio prev %"),
        Col("good_ratio_change", "优良比例变化(百分点)", "Good ratio change (pp)"),
        Col("weights", "权重", "Weights"),
    ]);
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| (ranks[i].unwrap_or(u32::MAX), names[i].clone()));
    for i in order {
        let n = names[i];
        let s = &cur[n];
        let p = prev.get(n);
        let c_now = ci(Some(s));
        let c_3y = multi_year_mean(&earlier.iter().map(|m| ci(m.get(n))).collect::<Vec<_>>(), 2);
        let pm_3y = multi_year_mean(&earlier.iter().map(|m| m.get(n).and_then(|s| s.pm25)).collect::<Vec<_>>(), 0);
        let main = s.main_pollutant.map(|p| p.label().to_string()).unwrap_or_default();
        t.push(vec![
            ranks[i].map_or(Cell::Empty, |r| Cell::Int(i64::from(r))),
            Cell::text(n),
            Cell::opt(c_now, 2),
            Cell::text(main),
            Cell::opt(s.pm25, 0),
            Cell::opt(s.good_ratio, 1),
            Cell::opt(ci(p), 2),
            Cell::opt(change_pct(c_now, ci(p)), 1),
            Cell::opt(c_3y, 2),
            Cell::opt(change_pct(c_now, c_3y), 1),
            Cell::opt(p.and_then(|p| p.pm25), 0),
            Cell::opt(change_pct(s.pm25, p.and_then(|p| p.pm25)), 1),
            Cell::opt(pm_3y, 0),
            Cell::opt(change_pct(s.pm25, pm_3y), 1),
            Cell::opt(p.and_then(|p| p.good_ratio), 1),
            Cell::opt(change_pp(s.good_ratio, p.and_then(|p| p.good_ratio)), 1),
            Cell::text(a.weights.to_string()),
        ]);
    }
    ctx.print(&t)
}

// ---------------------------------------------------------------- targets

/// One target of one area, judged on a date.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetCheck {
    pub area: String,
    pub year: i16,
    pub indicator: &'static str,
    pub so_far: Option<f64>,
    pub target: f64,
    pub status: Status,
    /// Good ratio: non-good days the rest of the year can still have;
    /// PM2.5/PM10: the highest mean the remaining days may have; heavy days:
    /// heavy days left.
    pub budget: Option<f64>,
    pub remaining_days: u32,
    pub probability: Option<f64>,
    pub history_years: usize,
}

/// What an area's days add up to over a window.
#[derive(Default, Clone, Copy)]
struct Tally {
    valid: u32,
    good: u32,
    heavy: u32,
    pm25: (f64, u32),
    pm10: (f64, u32),
}

/// Tally of days `from..=to` of `list` (sorted by day).
fn tally(list: &[AreaDay], from: DayNumber, to: DayNumber) -> Tally {
    let mut t = Tally::default();
    if from > to {
        return t;
    }
    let (lo, hi) = (list.partition_point(|d| d.day < from), list.partition_point(|d| d.day <= to));
    for d in &list[lo..hi] {
        if let Some(aqi) = daily_aqi(edition_for(None, d.day), &d.values.aqi_input()).aqi {
            t.valid += 1;
            t.good += u32::from(aqi <= 100);
            t.heavy += u32::from(aqi > 200);
        }
        if let Some(v) = d.values.pm25 {
            t.pm25 = (t.pm25.0 + v, t.pm25.1 + 1);
        }
        if let Some(v) = d.values.pm10 {
            t.pm10 = (t.pm10.0 + v, t.pm10.1 + 1);
        }
    }
    t
}

/// Years of history used for the probability, and the minimum needed.
const HISTORY_YEARS: i16 = 10;
const MIN_HISTORY_YEARS: usize = 3;

/// Judge every target on `as_of` (see `lantian_core::target`). The
/// probability is the share of the area's earlier years in which the same
/// remaining part of the year (same calendar dates) did what is now needed;
/// a year counts when its data cover at least 90 % of those dates.
pub fn check_targets(
    store: &Store,
    targets: &lantian_store::targets::Targets,
    as_of: Date,
) -> Result<Vec<TargetCheck>> {
    let mut out = Vec::new();
    for t in &targets.target {
        let (start, end) = (Date::new(t.year, 1, 1)?, Date::new(t.year, 12, 31)?);
        let (s, e, a) = (day_number(start), day_number(end), day_number(as_of));
        let last = a.min(e);
        let remaining = (e - last.max(s - 1)).max(0) as u32;
        let year_over = remaining == 0;
        // The same remaining dates in earlier years.
        let first_remaining = date_of(last.max(s - 1) + 1).unwrap_or(end);
        // The area's days, read once for the year and its history.
        let earliest = day_number(shift_year(first_remaining, HISTORY_YEARS)).min(s);
        let list = city_days(store, std::slice::from_ref(&t.area), earliest, e, &AreaOptions::default())?
            .remove(&t.area)
            .unwrap_or_default();
        let so_far = tally(&list, s, last);
        let mut history: Vec<Tally> = Vec::new();
        for k in 1..=HISTORY_YEARS {
            let (hf, ht) = (shift_year(first_remaining, k), shift_year(end, k));
            let h = tally(&list, day_number(hf), day_number(ht));
            if remaining > 0 && f64::from(h.valid) >= 0.9 * f64::from(remaining) {
                history.push(h);
            }
        }
        let mut push = |indicator: &'static str,
                        so: Option<f64>,
                        target: f64,
                        budget: Option<f64>,
                        secured: bool,
                        met_now: bool,
                        ok: Vec<bool>| {
            let probability = if year_over { None } else { historical_probability(&ok, MIN_HISTORY_YEARS) };
            let status = target_status(year_over, met_now, budget.is_some(), secured, probability);
            out.push(TargetCheck {
                area: t.area.clone(),
                year: t.year,
                indicator,
                so_far: so,
                target,
                status,
                budget,
                remaining_days: remaining,
                probability,
                history_years: if year_over { 0 } else { ok.len() },
            });
        };
        if let Some(g) = t.good_ratio {
            let ratio = (so_far.valid > 0)
                .then(|| round_half_even(100.0 * f64::from(so_far.good) / f64::from(so_far.valid), 1));
            let afford = non_good_days_affordable(so_far.good, so_far.valid, remaining, g);
            // Earlier years' non-good days on those dates, scaled to the days to come.
            let ok = history
                .iter()
                .map(|h| {
                    f64::from(h.valid - h.good) * f64::from(remaining) / f64::from(h.valid)
                        <= f64::from(afford.unwrap_or(0))
                })
                .collect();
            push(
                "good_ratio",
                ratio,
                g,
                afford.map(f64::from),
                afford == Some(remaining),
                ratio.is_some_and(|r| r >= g),
                ok,
            );
        }
        for (indicator, limit, sum_n, pick) in [
            ("pm25", t.pm25, so_far.pm25, (|h: &Tally| h.pm25) as fn(&Tally) -> (f64, u32)),
            ("pm10", t.pm10, so_far.pm10, |h: &Tally| h.pm10),
        ] {
            let Some(limit) = limit else { continue };
            let mean = (sum_n.1 > 0).then(|| Pollutant::Pm25.report(sum_n.0 / f64::from(sum_n.1)));
            let budget = highest_remaining_mean(sum_n.0, sum_n.1, remaining, limit);
            let ok = history
                .iter()
                .map(|h| {
                    let (s, n) = pick(h);
                    n > 0 && s / f64::from(n) <= budget.unwrap_or(-1.0)
                })
                .collect();
            push(indicator, mean, limit, budget, year_over && budget.is_some(), mean.is_some_and(|m| m <= limit), ok);
        }
        if let Some(limit) = t.heavy_days {
            let left = limit.checked_sub(so_far.heavy);
            let ok = history.iter().map(|h| left.is_some_and(|l| h.heavy <= l)).collect();
            push(
                "heavy_days",
                Some(f64::from(so_far.heavy)),
                f64::from(limit),
                left.map(f64::from),
                left.is_some_and(|l| l >= remaining),
                left.is_some(),
                ok,
            );
        }
        // Normalised-control target of the month: year-to-date PM2.5 at the month's end.
        let month = if a > e { 12 } else { as_of.month() };
        if let (true, Some(limit)) = (a >= s, t.pm25_ytd_for(month)) {
            let month_end = day_number(Date::new(t.year, month, 1)?.last_of_month());
            let left = (month_end - last).max(0) as u32;
            let (sum, n) = so_far.pm25;
            let mean = (n > 0).then(|| Pollutant::Pm25.report(sum / f64::from(n)));
            let budget = highest_remaining_mean(sum, n, left, limit);
            let met_now = mean.is_some_and(|m| m <= limit);
            out.push(TargetCheck {
                area: t.area.clone(),
                year: t.year,
                indicator: "pm25_ytd",
                so_far: mean,
                target: limit,
                status: target_status(left == 0, met_now, budget.is_some(), left == 0 && met_now, None),
                budget,
                remaining_days: left,
                probability: None,
                history_years: 0,
            });
        }
    }
    Ok(out)
}

#[derive(Subcommand, Debug)]
pub enum TargetCommand {
    /// Check a targets file (TOML, or CSV by its .csv name) and install it in the data directory.
    Import { file: PathBuf },
    /// Status of every target on a date, what the rest of the year must achieve, and the chance of it.
    Check {
        #[arg(long)]
        as_of: Date,
        /// Targets file (default: the one installed in the data directory).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

pub fn target(ctx: &Ctx, cmd: &TargetCommand) -> Result<()> {
    match cmd {
        TargetCommand::Import { file } => {
            let t = lantian_store::targets::Targets::import(file, &ctx.data)?;
            eprintln!("{} {}", if ctx.zh() { "已导入目标:" } else { "targets imported:" }, t.target.len());
            Ok(())
        }
        TargetCommand::Check { as_of, file } => {
            let path = file.clone().unwrap_or_else(|| ctx.data.join("targets.toml"));
            if !path.exists() {
                bail!(
                    "no targets: `lantian target import FILE` first, or pass --file (sample/targets-2019.toml is an example)"
                );
            }
            let targets = lantian_store::targets::Targets::load(&path)?;
            let store = ctx.store()?;
            let rows = check_targets(&store, &targets, *as_of)?;
            let mut t = Table::new(vec![
                Col("area", "地区", "Area"),
                Col("year", "年度", "Year"),
                Col("indicator", "指标", "Indicator"),
                Col("so_far", "截至当日", "So far"),
                Col("target", "目标", "Target"),
                Col("status", "状态", "Status"),
                Col("budget", "余量", "Budget"),
                Col("budget_meaning", "余量含义", "Budget meaning"),
                Col("remaining_days", "剩余天数", "Days left"),
                Col("probability", "达标概率", "Probability"),
                Col("history_years", "历史年数", "History years"),
            ]);
            for r in rows {
                let (dec, meaning) = match (r.indicator, ctx.zh()) {
                    ("good_ratio", true) => (1, "剩余时段最多可有非优良天数"),
                    ("good_ratio", false) => (1, "non-good days the rest of the year may have"),
                    ("heavy_days", true) => (0, "剩余可有重污染天数"),
                    ("heavy_days", false) => (0, "heavy-pollution days left"),
                    ("pm25_ytd", true) => (0, "本月剩余天数平均浓度上限（常态化管控）"),
                    ("pm25_ytd", false) => (0, "highest mean for the rest of the month (normalised control)"),
                    (_, true) => (0, "剩余时段平均浓度上限"),
                    (_, false) => (0, "highest mean the remaining days may have"),
                };
                t.push(vec![
                    Cell::text(&r.area),
                    Cell::Int(i64::from(r.year)),
                    Cell::text(r.indicator),
                    Cell::opt(r.so_far, dec),
                    Cell::Num(r.target, dec),
                    Cell::text(if ctx.zh() && ctx.format == Format::Table { r.status.zh() } else { r.status.key() }),
                    Cell::opt(r.budget, if r.indicator.starts_with("pm") { 1 } else { 0 }),
                    Cell::text(meaning),
                    Cell::Int(i64::from(r.remaining_days)),
                    Cell::opt(r.probability.map(|p| 100.0 * p), 0),
                    Cell::Int(r.history_years as i64),
                ]);
            }
            ctx.print(&t)
        }
    }
}

// ---------------------------------------------------------------- policy

const SAMPLE_POLICY: &str = include_str!("../../../sample/policy-sichuan.toml");

/// `week:2019-W27`, `month:2019-07` or `year:2019` → first and last day.
pub fn parse_period(s: &str) -> Result<(Date, Date)> {
    let (kind, rest) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("period '{s}': expected week:YYYY-Www, month:YYYY-MM or year:YYYY"))?;
    let bad = || anyhow::anyhow!("period '{s}': expected week:YYYY-Www, month:YYYY-MM or year:YYYY");
    match kind {
        "year" => {
            let y: i16 = rest.parse().map_err(|_| bad())?;
            Ok((Date::new(y, 1, 1)?, Date::new(y, 12, 31)?))
        }
        "month" => {
            let (y, m) = rest.split_once('-').ok_or_else(bad)?;
            let first = Date::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, 1)?;
            Ok((first, first.last_of_month()))
        }
        "week" => {
            let (y, w) = rest.split_once("-W").ok_or_else(bad)?;
            let wd = jiff::civil::ISOWeekDate::new(
                y.parse().map_err(|_| bad())?,
                w.parse().map_err(|_| bad())?,
                jiff::civil::Weekday::Monday,
            )?;
            let monday = wd.date();
            Ok((monday, monday.checked_add(jiff::Span::new().days(6))?))
        }
        _ => Err(bad()),
    }
}

fn load_policy(ctx: &Ctx, file: Option<&Path>) -> Result<(lantian_core::policy::Policy, String)> {
    let installed = ctx.data.join("policy.toml");
    let (text, origin) = match file {
        Some(f) => {
            (std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?, f.display().to_string())
        }
        None if installed.exists() => (std::fs::read_to_string(&installed)?, installed.display().to_string()),
        None => (SAMPLE_POLICY.to_string(), "sample/policy-sichuan.toml (built in)".to_string()),
    };
    let policy: lantian_core::policy::Policy = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(" line {}", 1 + text[..s.start.min(text.len())].matches('\n').count()))
            .unwrap_or_default();
        anyhow::anyhow!("{origin}{line}: {}", e.message())
    })?;
    for r in &policy.rule {
        for d in [&r.effective_from, &r.effective_to].into_iter().flatten() {
            d.parse::<Date>().map_err(|e| anyhow::anyhow!("{origin}: rule {}: date '{d}': {e}", r.id))?;
        }
    }
    Ok((policy, origin))
}

/// Facts for every city in `from..=to` (see `lantian_core::policy::Facts`).
fn policy_facts(
    ctx: &Ctx,
    store: &Store,
    policy: &lantian_core::policy::Policy,
    from: Date,
    to: Date,
    level: RankLevel,
) -> Result<BTreeMap<String, Facts>> {
    let areas = if level == RankLevel::City { None } else { Some(lantian_store::areas::Areas::load(&ctx.data)?) };
    let level_period = |from: Date, to: Date| -> Result<Vec<CityPeriod>> {
        match (&areas, level) {
            (Some(a), RankLevel::County) => county_period(store, a, from, to, None),
            (Some(a), RankLevel::Region) => region_period(store, a, from, to, None, Source::Auto),
            _ => assess_period(store, &[], from, to, None, Source::Auto),
        }
    };
    let cur = level_period(from, to)?;
    let prev: BTreeMap<String, PeriodStats> =
        level_period(shift_year(from, 1), shift_year(to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect();
    let jan1 = Date::new(to.year(), 1, 1)?;
    let ytd: BTreeMap<String, PeriodStats> = level_period(jan1, to)?.into_iter().map(|c| (c.city, c.stats)).collect();
    let ytd_prev: BTreeMap<String, PeriodStats> =
        level_period(shift_year(jan1, 1), shift_year(to, 1))?.into_iter().map(|c| (c.city, c.stats)).collect();
    let cur: Vec<CityPeriod> = cur.into_iter().filter(|c| c.stats.valid_days > 0).collect();
    let ranks = competition_rank(&cur.iter().map(|c| c.stats.composite_index).collect::<Vec<_>>());
    let n_ranked = ranks.iter().filter(|r| r.is_some()).count() as u32;
    // Monthly PM2.5 up-streaks, only when a rule asks for them.
    let needs_months = policy.rule.iter().any(|r| r.when.pm25_up_consecutive_months.is_some());
    let mut streaks: BTreeMap<String, u32> = BTreeMap::new();
    let mut broken: std::collections::BTreeSet<String> = Default::default();
    if needs_months {
        let mut month = to.first_of_month();
        for _ in 0..12 {
            let (m0, m1) = (month, month.last_of_month());
            let now: BTreeMap<String, Option<f64>> =
                level_period(m0, m1)?.into_iter().map(|c| (c.city, c.stats.pm25)).collect();
            let then: BTreeMap<String, Option<f64>> = level_period(shift_year(m0, 1), shift_year(m1, 1))?
                .into_iter()
                .map(|c| (c.city, c.stats.pm25))
                .collect();
            for c in &cur {
                if broken.contains(&c.city) {
                    continue;
                }
                match (now.get(&c.city).copied().flatten(), then.get(&c.city).copied().flatten()) {
                    (Some(a), Some(b)) if a > b => *streaks.entry(c.city.clone()).or_default() += 1,
                    (Some(_), Some(_)) => {
                        streaks.entry(c.city.clone()).or_default();
                        broken.insert(c.city.clone());
                    }
                    _ => {
                        broken.insert(c.city.clone());
                    }
                }
            }
            month = month.checked_sub(jiff::Span::new().months(1))?;
        }
    }
    // Targets as of the period's end, when installed.
    let mut missed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut met: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let targets_path = ctx.data.join("targets.toml");
    if targets_path.exists() {
        let targets = lantian_store::targets::Targets::load(&targets_path)?;
        for t in check_targets(store, &targets, to)? {
            match t.status {
                Status::Missed => missed.entry(t.area).or_default().push(t.indicator.to_string()),
                Status::Met => met.entry(t.area).or_default().push(t.indicator.to_string()),
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    for (i, c) in cur.iter().enumerate() {
        let p = prev.get(&c.city);
        out.insert(
            c.city.clone(),
            Facts {
                area: c.city.clone(),
                composite_index: c.stats.composite_index,
                rank: ranks[i],
                n_ranked,
                pm25: c.stats.pm25,
                pm25_prev: p.and_then(|p| p.pm25),
                pm25_ytd: ytd.get(&c.city).and_then(|s| s.pm25),
                pm25_ytd_prev: ytd_prev.get(&c.city).and_then(|s| s.pm25),
                good_ratio: c.stats.good_ratio,
                good_ratio_prev: p.and_then(|p| p.good_ratio),
                pm25_up_months: if needs_months { streaks.get(&c.city).copied() } else { None },
                targets_missed: missed.remove(&c.city).unwrap_or_default(),
                targets_met: met.remove(&c.city).unwrap_or_default(),
            },
        );
    }
    Ok(out)
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Evaluate the policy for a period and record the actions it triggers (idempotent).
    Run {
        /// week:YYYY-Www, month:YYYY-MM or year:YYYY
        #[arg(long)]
        period: String,
        /// Policy file (default: DATA/policy.toml, else the built-in sample).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Who runs it (audit log).
        #[arg(long, default_value = "lantian")]
        by: String,
        /// Apply the rules to cities (default), or to the counties or regions of areas.toml.
        #[arg(long, value_enum, default_value = "city")]
        level: RankLevel,
    },
    /// Check a policy file and install it as DATA/policy.toml.
    Import { file: PathBuf },
}

pub fn policy(ctx: &Ctx, cmd: &PolicyCommand) -> Result<()> {
    use lantian_store::ledger::NewAction;
    match cmd {
        PolicyCommand::Import { file } => {
            let (p, _) = load_policy(ctx, Some(file))?;
            std::fs::create_dir_all(&ctx.data)?;
            let tmp = ctx.data.join("policy.toml.tmp");
            std::fs::write(&tmp, std::fs::read(file)?)?;
            std::fs::rename(&tmp, ctx.data.join("policy.toml"))?;
            eprintln!("{} {}", if ctx.zh() { "已导入规则:" } else { "rules imported:" }, p.rule.len());
            Ok(())
        }
        PolicyCommand::Run { period, policy, by, level } => {
            let (from, to) = parse_period(period)?;
            let (policy, origin) = load_policy(ctx, policy.as_deref())?;
            let store = ctx.store()?;
            let facts = policy_facts(ctx, &store, &policy, from, to, *level)?;
            if facts.is_empty() {
                bail!("no data for {period}");
            }
            let edition = Edition::for_date(to).to_string();
            let mut ledger = ctx.ledger()?;
            let mut actions = Vec::new();
            for rule in &policy.rule {
                let in_force = rule.effective_from.as_ref().is_none_or(|d| d.parse::<Date>().is_ok_and(|d| to >= d))
                    && rule.effective_to.as_ref().is_none_or(|d| d.parse::<Date>().is_ok_and(|d| to <= d));
                if !in_force {
                    continue;
                }
                for f in facts.values() {
                    let Some((true, reasons)) = evaluate(&rule.when, f) else { continue };
                    let amount = rule.amount.as_ref().map(|a| policy_amount(a, f));
                    let evidence = serde_json::json!({
                        "rule": rule.id, "rule_name": rule.name, "policy": origin, "period": period,
                        "from": from.to_string(), "to": to.to_string(), "edition": edition,
                        "reasons": reasons, "facts": f,
                    });
                    actions.push(NewAction {
                        rule: rule.id.clone(),
                        rule_name: rule.name.clone(),
                        area: f.area.clone(),
                        period: period.clone(),
                        kind: rule.action.key().to_string(),
                        amount,
                        evidence: evidence.to_string(),
                        edition: edition.clone(),
                    });
                }
            }
            // Restrictions in force whose lifting condition now holds.
            let mut lifts = Vec::new();
            for a in ledger
                .list(None, None)?
                .into_iter()
                .filter(|a| a.status != "lifted" && a.kind == "approval_restriction")
            {
                let Some(rule) = policy.rule.iter().find(|r| r.id == a.rule) else { continue };
                let (Some(cond), Some(f)) = (&rule.lift_when, facts.get(&a.area)) else { continue };
                if a.period == *period {
                    continue;
                }
                if let Some((true, reasons)) = evaluate(cond, f) {
                    lifts.push((a.id, format!("{period}: {}", reasons.join("; "))));
                }
            }
            let outcome = ledger.record_run(period, by, &actions, &lifts)?;
            let mut t = Table::new(vec![
                Col("id", "编号", "ID"),
                Col("area", "地区", "Area"),
                Col("action", "措施", "Action"),
                Col("rule", "规则", "Rule"),
                Col("amount", "金额(元)", "Amount (CNY)"),
                Col("event", "事件", "Event"),
            ]);
            // Tables for people speak the reader's language; csv/json keep stable keys.
            let people_zh = ctx.zh() && ctx.format == Format::Table;
            for id in outcome.inserted.iter().chain(&outcome.lifted) {
                let Some(a) = ledger.get(*id)? else { continue };
                let kind = lantian_core::policy::ActionKind::ALL.iter().find(|k| k.key() == a.kind);
                let lifted = outcome.lifted.contains(id);
                t.push(vec![
                    Cell::Int(a.id),
                    Cell::text(&a.area),
                    Cell::text(
                        kind.map_or(
                            a.kind.clone(),
                            |k| if people_zh { k.zh().to_string() } else { k.key().to_string() },
                        ),
                    ),
                    Cell::text(&a.rule_name),
                    Cell::opt(a.amount, 0),
                    Cell::text(match (lifted, people_zh) {
                        (true, true) => "解除",
                        (true, false) => "lifted",
                        (false, true) => "新增",
                        (false, false) => "recorded",
                    }),
                ]);
            }
            eprintln!(
                "{}",
                if ctx.zh() {
                    format!(
                        "{period}: 新增 {}，已存在 {}，解除 {}（规则: {origin}）",
                        outcome.inserted.len(),
                        outcome.already,
                        outcome.lifted.len()
                    )
                } else {
                    format!(
                        "{period}: recorded {}, already recorded {}, lifted {} (policy: {origin})",
                        outcome.inserted.len(),
                        outcome.already,
                        outcome.lifted.len()
                    )
                }
            );
            ctx.print(&t)
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ActionCommand {
    /// List actions.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        area: Option<String>,
    },
    /// One action with its evidence and audit trail.
    Show { id: i64 },
    /// Acknowledge an action (received / being handled).
    Ack {
        id: i64,
        #[arg(long, default_value = "lantian")]
        by: String,
    },
    /// Lift an action (for example a regional approval restriction) by hand.
    Lift {
        id: i64,
        #[arg(long, default_value = "lantian")]
        by: String,
        #[arg(long)]
        reason: String,
    },
}

pub fn action(ctx: &Ctx, cmd: &ActionCommand) -> Result<()> {
    let mut ledger = ctx.ledger()?;
    let table_of = |list: &[lantian_store::ledger::ActionRecord]| {
        let mut t = Table::new(vec![
            Col("id", "编号", "ID"),
            Col("period", "时段", "Period"),
            Col("area", "地区", "Area"),
            Col("action", "措施", "Action"),
            Col("rule", "规则", "Rule"),
            Col("amount", "金额(元)", "Amount (CNY)"),
            Col("status", "状态", "Status"),
            Col("created_at", "记录时间", "Recorded"),
            Col("closed_at", "解除时间", "Closed"),
            Col("close_reason", "解除原因", "Reason"),
        ]);
        for a in list {
            t.push(vec![
                Cell::Int(a.id),
                Cell::text(&a.period),
                Cell::text(&a.area),
                Cell::text(&a.kind),
                Cell::text(&a.rule_name),
                Cell::opt(a.amount, 0),
                Cell::text(&a.status),
                Cell::text(&a.created_at),
                Cell::text(a.closed_at.clone().unwrap_or_default()),
                Cell::text(a.close_reason.clone().unwrap_or_default()),
            ]);
        }
        t
    };
    match cmd {
        ActionCommand::List { status, area } => {
            let area = area.as_deref().map(lantian_store::canonical_city);
            ctx.print(&table_of(&ledger.list(status.as_deref(), area.as_deref())?))
        }
        ActionCommand::Show { id } => {
            let a = ledger.get(*id)?.ok_or_else(|| anyhow::anyhow!("no action {id}"))?;
            ctx.print(&table_of(std::slice::from_ref(&a)))?;
            if ctx.format == Format::Table {
                let ev: serde_json::Value =
                    serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::String(a.evidence.clone()));
                println!("{}\n{}", if ctx.zh() { "依据:" } else { "evidence:" }, serde_json::to_string_pretty(&ev)?);
                println!("{}", if ctx.zh() { "操作记录:" } else { "audit:" });
                for e in ledger.audit(Some(*id))? {
                    println!("  {}  {}  {}", e.at, e.who, e.change);
                }
            }
            Ok(())
        }
        ActionCommand::Ack { id, by } => Ok(ledger.set_status(*id, "acknowledged", by, None)?),
        ActionCommand::Lift { id, by, reason } => Ok(ledger.set_status(*id, "lifted", by, Some(reason))?),
    }
}

// ---------------------------------------------------------------- verify

/// Agreement of one kind of recomputed value with the published one.
#[derive(Default, Clone)]
pub struct Agreement {
    pub checked: u64,
    pub agree: u64,
    /// Not decidable from the files (CO daily means exactly on a half).
    pub undecidable: u64,
    /// Mismatches where the network's own trailing 24-hour values for that
    /// day contradict the archive's hours: the network used hours the
    /// archive does not have (later corrections), so the archive cannot
    /// determine the day.
    pub explained: u64,
    pub mismatches: Vec<String>,
}

impl Agreement {
    fn record(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if ok {
            self.agree += 1;
        } else if self.mismatches.len() < 5 {
            self.mismatches.push(what());
        }
    }
}

pub const VERIFY_KINDS: [(&str, &str); 16] = [
    ("hourly_aqi", "hourly AQI, station-hours with all six 1-hour values"),
    ("hourly_aqi_incomplete", "hourly AQI, station-hours with some value missing (informative)"),
    ("daily_pm25", "PM2.5 daily mean, station-days with 24 hours"),
    ("daily_pm10", "PM10 daily mean, station-days with 24 hours"),
    ("daily_so2", "SO2 daily mean, station-days with 24 hours"),
    ("daily_no2", "NO2 daily mean, station-days with 24 hours"),
    ("daily_co", "CO daily mean, station-days with 24 hours"),
    ("o3_8h", "O3 8-hour moving mean, windows with all hours (informative)"),
    ("o3_mda8", "O3 MDA8, station-days with 24 hours (informative)"),
    ("o3_1h_max", "O3 daily max 1-hour, station-days with 24 hours (informative)"),
    ("city_pm25", "city PM2.5 daily value vs published city daily, days every station has 24 hours"),
    ("city_pm10", "city PM10 daily value vs published city daily, days every station has 24 hours"),
    ("city_so2", "city SO2 daily value vs published city daily, days every station has 24 hours"),
    ("city_no2", "city NO2 daily value vs published city daily, days every station has 24 hours"),
    ("city_co", "city CO daily value vs published (CO halves undecidable; informative)"),
    ("city_o3_8h", "city O3 MDA8 vs published city daily (informative)"),
];

/// Recompute and compare over `from..=to` (default: every month in the store).
pub fn verify_store(store: &Store, from: Option<Date>, to: Option<Date>) -> Result<Vec<Agreement>> {
    let months = store.months();
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        bail!("the store has no hourly data; run lantian import first")
    };
    let d0 = from.map_or_else(|| day_number(first.first_day()), day_number);
    let d1 = to.map_or_else(|| day_number(last.first_day().last_of_month()), day_number);
    let rules = CaptureRules::default();
    let mut acc: Vec<Agreement> = vec![Agreement::default(); VERIFY_KINDS.len()];
    let mut reader = Reader::new(store, &Kind::ALL, None);
    let daily_kinds = [
        (Pollutant::Pm25, Kind::Pm25_24h),
        (Pollutant::Pm10, Kind::Pm10_24h),
        (Pollutant::So2, Kind::So2_24h),
        (Pollutant::No2, Kind::No2_24h),
        (Pollutant::Co, Kind::Co_24h),
    ];
    for (c0, c1) in month_chunks(d0, d1) {
        // One day before the chunk too, for trailing 24-hour windows.
        let dense = reader.range(c0 * 24 - 23, c1 * 24 + 24)?;
        for (i, st) in dense.stations.iter().enumerate() {
            // Hourly AQI.
            let aqi_pub = dense.series(i, Kind::Aqi);
            let m: Vec<&[f64]> = Pollutant::ALL.iter().map(|p| dense.series(i, Kind::measured(*p))).collect();
            for off in 24..dense.len {
                let published = aqi_pub[off];
                if published.is_nan() {
                    continue;
                }
                let g = |k: usize| Some(m[k][off]).filter(|v| !v.is_nan());
                let input =
                    HourlyInput { so2: g(0), no2: g(1), pm10: g(2), co: g(3), o3: g(4), pm25: g(5), so2_24h: None };
                let l = dense.start + off as i64;
                let r = hourly_aqi(edition_for(None, lantian_core::time::day_of_label(l)), &input);
                let slot = if r.is_complete() { 0 } else { 1 };
                acc[slot].record(r.aqi.map(f64::from) == Some(published), || {
                    format!("{st} {}: published {published}, computed {:?}", format_label(l), r.aqi)
                });
            }
            for day in c0..=c1 {
                let close = (day * 24 + 24 - dense.start) as usize;
                for (k, (p, kind)) in daily_kinds.iter().enumerate() {
                    let published = dense.series(i, *kind)[close];
                    let hours = day_slots(&dense, i, Kind::measured(*p), day);
                    if published.is_nan() || hours.iter().any(|v| v.is_nan()) {
                        continue;
                    }
                    let mean = hours.iter().sum::<f64>() / 24.0;
                    let scaled = mean * 10f64.powi(p.decimals() as i32);
                    if *p == Pollutant::Co && ((scaled - scaled.floor()) - 0.5).abs() < 1e-9 {
                        acc[2 + k].undecidable += 1;
                        continue;
                    }
                    let computed = p.report(mean);
                    if computed != published && !rolling_consistent(&dense, i, *p, *kind, day) {
                        acc[2 + k].checked += 1;
                        acc[2 + k].explained += 1;
                        continue;
                    }
                    acc[2 + k].record(computed == published, || {
                        format!(
                            "{st} {}: published {published}, computed {computed} (mean {mean:.4})",
                            date_of(day).map(|d| d.to_string()).unwrap_or_default()
                        )
                    });
                }
                let o3 = day_slots(&dense, i, Kind::O3, day);
                let windows = o3_8h_windows(&o3, &rules);
                let pub8 = day_slots(&dense, i, Kind::O3_8h, day);
                for h in 0..24usize {
                    let start = h.saturating_sub(7);
                    if pub8[h].is_nan() || o3[start..=h].iter().any(|v| v.is_nan()) {
                        continue;
                    }
                    let computed = Pollutant::O3.report(windows[h]);
                    acc[7].record(computed == pub8[h], || {
                        format!(
                            "{st} {} label {}: published {}, computed {computed}",
                            date_of(day).map(|d| d.to_string()).unwrap_or_default(),
                            h + 1,
                            pub8[h]
                        )
                    });
                }
                if o3.iter().all(|v| !v.is_nan()) {
                    let date = date_of(day).map(|d| d.to_string()).unwrap_or_default();
                    let pub_mda8 = dense.series(i, Kind::O3_8h_24h)[close];
                    if !pub_mda8.is_nan() {
                        let computed = lantian_core::series::mda8(&o3, &rules).0.map(|v| Pollutant::O3.report(v));
                        acc[8].record(computed == Some(pub_mda8), || {
                            format!("{st} {date}: published {pub_mda8}, computed {computed:?}")
                        });
                    }
                    let pub_max = dense.series(i, Kind::O3_24h)[close];
                    if !pub_max.is_nan() {
                        let computed = o3.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        acc[9].record(computed == pub_max, || {
                            format!("{st} {date}: published {pub_max}, computed {computed}")
                        });
                    }
                }
            }
        }
    }
    verify_cities(store, d0, d1, &rules, &mut acc[10..])?;
    Ok(acc)
}

/// City daily values from stations against the published integer city daily
/// values, on the days the archive determines: every assessment station of
/// the city that reports in the period has all 24 hours of the pollutant.
fn verify_cities(
    store: &Store,
    d0: DayNumber,
    d1: DayNumber,
    rules: &CaptureRules,
    acc: &mut [Agreement],
) -> Result<()> {
    let published: BTreeMap<(String, DayNumber), lantian_store::city_daily::CityDay> = store
        .city_daily()?
        .into_iter()
        .filter(|r| r.source == "aqistudy-daily" && r.day >= d0 && r.day <= d1)
        .map(|r| ((r.city.clone(), r.day), r))
        .collect();
    let order = [Pollutant::Pm25, Pollutant::Pm10, Pollutant::So2, Pollutant::No2, Pollutant::Co, Pollutant::O3];
    for (city, members) in city_stations(store) {
        if !published.keys().any(|(c, _)| *c == city) {
            continue;
        }
        let mut by_day: BTreeMap<DayNumber, Vec<lantian_core::DailyValues>> = BTreeMap::new();
        let mut reporting: std::collections::BTreeSet<String> = Default::default();
        station_days(store, Some(&members), d0, d1, rules, |st, day, v| {
            reporting.insert(st.to_string());
            by_day.entry(day).or_default().push(*v);
        })?;
        for (day, vals) in by_day {
            let Some(pubd) = published.get(&(city.clone(), day)) else { continue };
            let area = lantian_core::city::area_day(&vals, lantian_core::city::AreaMethod::default(), 1);
            for (slot, p) in order.iter().enumerate() {
                let k = Pollutant::ALL.iter().position(|x| x == p).expect("pollutant");
                if vals.len() != reporting.len() || vals.iter().any(|v| v.hours[k] != 24) {
                    continue;
                }
                let theirs = match p {
                    Pollutant::Pm25 => pubd.pm25,
                    Pollutant::Pm10 => pubd.pm10,
                    Pollutant::So2 => pubd.so2,
                    Pollutant::No2 => pubd.no2,
                    Pollutant::Co => pubd.co,
                    Pollutant::O3 => pubd.o3_8h,
                };
                let (Some(theirs), Some(ours)) = (theirs, area.get(*p)) else { continue };
                let ours = p.report(ours);
                let date = date_of(day).map(|d| d.to_string()).unwrap_or_default();
                acc[slot].record(ours == theirs, || format!("{city} {date}: published {theirs}, computed {ours}"));
            }
        }
    }
    Ok(())
}

/// Whether the network's trailing 24-hour means (`kind`) at the labels of
/// `day` agree with the archive's hours wherever a full window is present.
fn rolling_consistent(dense: &lantian_store::query::Dense, i: usize, p: Pollutant, kind: Kind, day: DayNumber) -> bool {
    let hours = dense.series(i, Kind::measured(p));
    let published = dense.series(i, kind);
    for l in day * 24 + 1..=day * 24 + 24 {
        let end = (l - dense.start) as usize;
        if end < 23 || published[end].is_nan() {
            continue;
        }
        let window = &hours[end - 23..=end];
        if window.iter().any(|v| v.is_nan()) {
            continue;
        }
        if p.report(window.iter().sum::<f64>() / 24.0) != published[end] {
            return false;
        }
    }
    true
}

pub fn verify(ctx: &Ctx, from: Option<Date>, to: Option<Date>) -> Result<ExitCode> {
    let store = ctx.store()?;
    let acc = verify_store(&store, from, to)?;
    let mut t = Table::new(vec![
        Col("kind", "项目", "Kind"),
        Col("description", "说明", "Description"),
        Col("checked", "比对数", "Checked"),
        Col("agree", "一致数", "Agree"),
        Col("agree_pct", "一致率%(可判定)", "Agree % (determined)"),
        Col("undecidable", "无法判定", "Undecidable"),
        Col("source_revised", "源数据已修订", "Source revised"),
        Col("first_mismatches", "首批不一致", "First mismatches"),
    ]);
    for ((key, desc), a) in VERIFY_KINDS.iter().zip(&acc) {
        // Over the days the archive determines (source-revised days excluded).
        let determined = a.checked - a.explained;
        let pct = (determined > 0).then(|| 100.0 * a.agree as f64 / determined as f64);
        t.push(vec![
            Cell::text(*key),
            Cell::text(*desc),
            Cell::Int(a.checked as i64),
            Cell::Int(a.agree as i64),
            Cell::opt(pct, 3),
            Cell::Int(a.undecidable as i64),
            Cell::Int(a.explained as i64),
            Cell::text(a.mismatches.join("; ")),
        ]);
    }
    ctx.print(&t)?;
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- demo

/// Where `lantian demo` puts its data directory (relative to the current one).
pub const DEMO_DIR: &str = "lantian-demo-data";

pub fn demo(ctx: &Ctx, sample: &Path) -> Result<ExitCode> {
    let dir = PathBuf::from(DEMO_DIR);
    let marker = dir.join(".lantian-demo");
    if dir.exists() {
        if !marker.exists() {
            bail!("{} exists and was not made by `lantian demo`; move it away first", dir.display());
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing the previous demo in {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&marker, "made by lantian demo\n")?;
    let demo_ctx = Ctx { data: dir.clone(), database: None, ..ctx.clone() };
    eprintln!(
        "{} {} → {}",
        if ctx.zh() { "导入样例数据" } else { "importing the sample" },
        sample.display(),
        dir.display()
    );
    let code = import(&demo_ctx, &[sample.to_path_buf()])?;
    if code != ExitCode::SUCCESS {
        bail!("the sample did not import cleanly");
    }
    // The illustrative targets and the seed's rectification task, so targets,
    // policy and documents can be tried at once.
    lantian_store::targets::Targets::import(&sample.join("targets-2019.toml"), &dir)?;
    let mut ledger = demo_ctx.ledger()?;
    let tasks = lantian_store::tasks::read_import(&dir, &sample.join("tasks/task-46.json"))?;
    lantian_store::tasks::import(ledger.db(), &tasks, "lantian demo")?;
    eprintln!(
        "\n{}",
        if ctx.zh() {
            "2019 年四川 21 市（州）环境空气质量（按综合指数排名），同比 2018 年无数据"
        } else {
            "Sichuan's 21 cities in 2019, ranked by composite index"
        }
    );
    let store = demo_ctx.store()?;
    let (from, to) = (jiff::civil::date(2019, 1, 1), jiff::civil::date(2019, 12, 31));
    let cur = assess_period(&store, &[], from, to, None, Source::Auto)?;
    ctx.print(&assess_table(&cur, None, from, to))?;
    let d = dir.display();
    eprintln!(
        "\n{}\n  lantian --data {d} assess --from 2016-01-01 --to 2016-12-31 --compare previous-year\n  lantian --data {d} policy run --period month:2019-07\n  lantian --data {d} report notice --period month:2019-07          # 通报 (.docx)\n  lantian --data {d} report completion --task 46 --format md       # 完成情况表\n  lantian --data {d} task show 46",
        if ctx.zh() { "接着试试:" } else { "try next:" },
    );
    Ok(ExitCode::SUCCESS)
}
