//! Data integrity screening (`lantian screen`, the dashboard's 数据筛查 page):
//! run the core's checks (`lantian_core::integrity`) over every station of
//! the store, name each finding by a stable id, and keep a person's decision
//! on it in the ledger. A finding is evidence, never a verdict.
//!
//! - `panel`: the stations' data, neighbours and neighbour medians;
//! - `evidence`: sentences, tables and the reasons a check did not run;
//! - `inject`: the injector that measures the checks on real data.

pub mod evidence;
pub mod inject;
pub mod panel;

use crate::Ctx;
use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use lantian_core::integrity::{self, Check, Hit, NotRun, Params, StationInput};
use lantian_core::time::{DayNumber, HourLabel, date_of, day_number, day_of_label, slot_of_label};
use lantian_store::findings::{self, Decision, NewReview, Review};
use lantian_store::{Store, Values};
use std::collections::BTreeMap;
use std::path::Path;

/// Days read before and after the period for the stations' own baselines.
pub const CONTEXT_DAYS: i64 = 60;

/// The checks' parameters: `path`, else DATA/integrity.toml, else the defaults.
pub fn load_params(ctx: &Ctx, path: Option<&Path>) -> Result<Params> {
    let default = ctx.data.join("integrity.toml");
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if default.exists() => default,
        None => return Ok(Params::default()),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not a valid integrity configuration", path.display()))
}

#[derive(Clone, Debug, Default)]
pub struct ScreenRequest {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub city: Option<String>,
    pub station: Option<String>,
    /// Empty: every check.
    pub checks: Vec<Check>,
    pub min_score: f64,
    /// Dismissed findings too (they are hidden once a person dismissed them).
    pub dismissed: bool,
}

/// One finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub id: String,
    pub station: String,
    pub station_name: String,
    pub city: String,
    pub hit: Hit,
    /// The current decision, if a person made one.
    pub review: Option<Review>,
}

impl Finding {
    pub fn status(&self) -> Option<Decision> {
        self.review.as_ref().map(|r| r.decision)
    }
}

/// A check that could not run on a station.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub station: String,
    pub city: String,
    pub check: Check,
    pub why: NotRun,
    /// More about why (no coordinates, not in the station list, …).
    pub detail: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Screen {
    pub from: DayNumber,
    pub to: DayNumber,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// Stations screened, and station-months with data in the period.
    pub stations: usize,
    pub station_months: usize,
}

/// `1431A-divergence-pm25-2019070213`: station, check, series and the first
/// hour (date and hour-ending label as the files print it). The same data
/// give the same id on every run, whatever period was asked for.
pub fn finding_id(station: &str, hit: &Hit) -> String {
    let day = day_of_label(hit.from);
    let date = date_of(day).map(|d| d.strftime("%Y%m%d").to_string()).unwrap_or_default();
    format!("{station}-{}-{}-{date}{:02}", hit.check.key(), hit.series, slot_of_label(hit.from))
}

/// The parts of an id: station, check, series, first hour.
pub fn parse_id(id: &str) -> Option<(String, Check, String, HourLabel)> {
    let mut parts = id.rsplitn(4, '-');
    let (when, series, check, station) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if when.len() != 10 || !when.bytes().all(|b| b.is_ascii_digit()) || station.is_empty() {
        return None;
    }
    let date = Date::strptime("%Y%m%d", &when[..8]).ok()?;
    let slot: i64 = when[8..].parse().ok()?;
    if !(1..=24).contains(&slot) {
        return None;
    }
    Some((station.to_string(), Check::parse(check)?, series.to_string(), day_number(date) * 24 + slot))
}

/// The days the store has hourly data for, first and last.
fn data_days(store: &Store) -> Option<(DayNumber, DayNumber)> {
    let months = store.months();
    let (first, last) = (months.first()?, months.last()?);
    Some((day_number(first.first_day()), day_number(last.first_day().last_of_month())))
}

/// The days a run reads for `from..=to`: whole calendar years around the
/// period and `CONTEXT_DAYS` more on each side, within the data. Windows and
/// baselines are then the same whatever period is asked for, so a finding
/// has the same period, score and id in a July run as in the year's.
pub fn load_range(store: &Store, from: DayNumber, to: DayNumber) -> (DayNumber, DayNumber) {
    let (first, last) = data_days(store).unwrap_or((from, to));
    let year = |d: DayNumber, end: bool| {
        date_of(d)
            .and_then(|x| Date::new(x.year(), if end { 12 } else { 1 }, if end { 31 } else { 1 }).ok())
            .map_or(d, day_number)
    };
    ((year(from, false) - CONTEXT_DAYS).max(first), (year(to, true) + CONTEXT_DAYS).min(last))
}

/// Screen the store (raw layer) over the request's period.
pub fn screen(ctx: &Ctx, req: &ScreenRequest, params: &Params) -> Result<Screen> {
    let store = ctx.store()?.with_values(Values::Raw);
    let Some((first, last)) = data_days(&store) else {
        bail!("the store has no hourly data: import some first (lantian import …)");
    };
    let from = req.from.map_or(first, day_number);
    let to = req.to.map_or(last, day_number);
    if to < from {
        bail!("--to is before --from");
    }
    let mut screen = screen_store(&store, from, to, req, params)?;
    let mut ledger = ctx.ledger()?;
    let reviews = findings::current(ledger.db())?;
    for f in &mut screen.findings {
        f.review = reviews.get(&f.id).cloned();
    }
    if !req.dismissed {
        screen.findings.retain(|f| f.status() != Some(Decision::Dismissed));
    }
    Ok(screen)
}

/// The screening itself (no ledger): findings overlapping `from..=to`.
pub fn screen_store(store: &Store, from: DayNumber, to: DayNumber, req: &ScreenRequest, p: &Params) -> Result<Screen> {
    let (lo, hi) = load_range(store, from, to);
    if lo > hi {
        return Ok(Screen { from, to, ..Default::default() });
    }
    let panel = panel::load(store, lo, hi)?;
    let checks = if req.checks.is_empty() { Check::ALL.to_vec() } else { req.checks.clone() };
    let city = req.city.as_deref().map(lantian_store::canonical_city);
    let wanted = |m: &panel::Meta| {
        city.as_ref().is_none_or(|c| &m.city == c) && req.station.as_ref().is_none_or(|s| &m.code == s)
    };
    let selected: Vec<usize> = (0..panel.stations.len()).filter(|&i| wanted(&panel.stations[i])).collect();
    if selected.is_empty() && (req.city.is_some() || req.station.is_some()) {
        bail!("no station with data matches {}", req.station.clone().or(req.city.clone()).unwrap_or_default());
    }
    let (hits, skipped) = screen_panel(&panel, &selected, p, &checks);
    let mut out = Screen { from, to, ..Default::default() };
    let (a, b) = (from * 24 + 1, to * 24 + 24);
    let mut all: Vec<(usize, Hit)> = hits;
    if checks.contains(&Check::Stuck) {
        let codes: std::collections::HashMap<&str, usize> =
            selected.iter().map(|&i| (panel.stations[i].code.as_str(), i)).collect();
        for (code, hit) in panel::stuck_gases(store, from, to, &|c| codes.contains_key(c), &p.stuck)? {
            all.push((codes[code.as_str()], hit));
        }
    }
    for (i, hit) in all {
        if hit.to < a || hit.from > b || hit.score < req.min_score {
            continue;
        }
        let m = &panel.stations[i];
        out.findings.push(Finding {
            id: finding_id(&m.code, &hit),
            station: m.code.clone(),
            station_name: m.name.clone(),
            city: m.city.clone(),
            hit,
            review: None,
        });
    }
    out.findings.sort_by(|x, y| y.hit.score.total_cmp(&x.hit.score).then_with(|| x.id.cmp(&y.id)));
    out.skipped = skipped;
    out.stations = selected.len();
    out.station_months = station_months(&panel, &selected, from, to);
    Ok(out)
}

/// Station-months of `selected` with any PM2.5 in `from..=to`.
pub fn station_months(panel: &panel::Panel, selected: &[usize], from: DayNumber, to: DayNumber) -> usize {
    let chunks = lantian_store::query::month_chunks(from, to);
    let first = day_of_label(panel.start);
    selected
        .iter()
        .map(|&i| {
            chunks
                .iter()
                .filter(|(a, b)| {
                    let (s, e) =
                        (((a - first).max(0) * 24) as usize, (((b - first + 1) * 24).max(0) as usize).min(panel.len));
                    s < e && panel.pm25[i][s..e].iter().any(|v| !v.is_nan())
                })
                .count()
        })
        .sum()
}

/// Run the checks on the `selected` stations of a panel, in parallel.
pub fn screen_panel(
    panel: &panel::Panel,
    selected: &[usize],
    p: &Params,
    checks: &[Check],
) -> (Vec<(usize, Hit)>, Vec<Skipped>) {
    let near = panel::neighbours(&panel.stations, p.neighbours.radius_km);
    let one = |i: usize| {
        let m = &panel.stations[i];
        let (r25, r10) =
            (panel::reference(&panel.pm25, &near[i], panel.len), panel::reference(&panel.pm10, &near[i], panel.len));
        let input = StationInput {
            start: panel.start,
            pm25: &panel.pm25[i],
            pm10: &panel.pm10[i],
            ref_pm25: r25.as_deref(),
            ref_pm10: r10.as_deref(),
            control: m.control,
        };
        let (hits, not_run) = integrity::screen_station(&input, p, checks);
        let detail = if !near[i].is_empty() {
            ""
        } else if m.city.is_empty() {
            "not in the station list"
        } else if m.control {
            "a control station whose city has no other station"
        } else if m.coords.is_none() {
            "no coordinates and no other station in its city"
        } else {
            "no other station in its city or within the radius"
        };
        let skipped = not_run
            .into_iter()
            .map(|(check, why)| Skipped { station: m.code.clone(), city: m.city.clone(), check, why, detail })
            .collect::<Vec<_>>();
        (hits.into_iter().map(|h| (i, h)).collect::<Vec<_>>(), skipped)
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 16);
    let chunk = selected.len().div_ceil(workers).max(1);
    let parts: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> =
            selected.chunks(chunk).map(|c| s.spawn(move || c.iter().map(|&i| one(i)).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let (mut hits, mut skipped) = (Vec::new(), Vec::new());
    for (h, s) in parts {
        hits.extend(h);
        skipped.extend(s);
    }
    (hits, skipped)
}

/// A person's decision on a finding.
#[derive(Clone, Debug)]
pub struct ReviewRequest {
    pub id: String,
    pub decision: Decision,
    pub note: String,
    pub by: String,
    /// For a confirmed finding: lay blanks over its hours in the audited
    /// layer, so `--values best` leaves them out of every statistic.
    pub invalidate: bool,
}

/// Find one finding by id, screening its station around its first hour.
pub fn find(ctx: &Ctx, id: &str, p: &Params) -> Result<Finding> {
    let (station, check, _, start) =
        parse_id(id).ok_or_else(|| anyhow::anyhow!("{id:?} is not a finding id (STATION-check-series-YYYYMMDDHH)"))?;
    let day = day_of_label(start);
    let req = ScreenRequest {
        from: date_of(day),
        to: date_of(day),
        station: Some(station.clone()),
        checks: vec![check],
        dismissed: true,
        ..Default::default()
    };
    let s = screen(ctx, &req, p)?;
    s.findings
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| anyhow::anyhow!("no finding {id} in the data now (run lantian screen for the current ids)"))
}

/// Record a decision; with `invalidate`, also the audited blanks.
pub fn review(ctx: &Ctx, req: &ReviewRequest, p: &Params) -> Result<i64> {
    if req.invalidate && req.decision != Decision::Confirmed {
        bail!("--invalidate goes with --confirm: only confirmed findings invalidate data");
    }
    let f = find(ctx, &req.id, p)?;
    let mut ledger = ctx.ledger()?;
    let id = findings::record(
        ledger.db(),
        &NewReview {
            finding: f.id.clone(),
            station: f.station.clone(),
            city: f.city.clone(),
            check: f.hit.check.key().into(),
            start: f.hit.from,
            end: f.hit.to,
            decision: req.decision,
            note: req.note.clone(),
        },
        &req.by,
    )?;
    if req.invalidate {
        invalidate(ctx, &f)?;
    }
    Ok(id)
}

/// Write DATA/invalidations/ID.csv (a long CSV with a blank value for each
/// hour of the finding's series) and import it into the audited layer.
fn invalidate(ctx: &Ctx, f: &Finding) -> Result<()> {
    let dir = ctx.data.join("invalidations");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.csv", f.id));
    let pollutant = f.hit.series;
    let mut text = String::from("station,time,pollutant,value\n");
    for l in f.hit.from..=f.hit.to {
        let (day, hour) = (l.div_euclid(24), l.rem_euclid(24));
        let d = date_of(day).map(|d| d.to_string()).unwrap_or_default();
        text.push_str(&format!("{},{d}T{hour:02}:00,{pollutant},\n", f.station));
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    lantian_store::import::import_layer(&ctx.data, &[path], lantian_store::Layer::Audited, None)?;
    Ok(())
}

/// Current decisions by finding id.
pub fn decisions(ctx: &Ctx) -> Result<BTreeMap<String, Review>> {
    let mut ledger = ctx.ledger()?;
    Ok(findings::current(ledger.db())?)
}

/// A finding's series beside its neighbours' median, hour by hour, from
/// three days before to three days after (the page's chart).
#[derive(Clone, Debug)]
pub struct Chart {
    pub start: HourLabel,
    pub station: Vec<f64>,
    /// The neighbours' median (`None` for the gases, which are not compared).
    pub reference: Option<Vec<f64>>,
}

pub fn chart(ctx: &Ctx, f: &Finding, p: &Params) -> Result<Chart> {
    let store = ctx.store()?.with_values(Values::Raw);
    let (first, last) = data_days(&store).unwrap_or((0, 0));
    let lo = (day_of_label(f.hit.from) - 3).max(first);
    let hi = (day_of_label(f.hit.to) + 3).min(last).max(lo);
    let kind = match f.hit.series {
        "pm25" | "pm10" => None,
        "so2" => Some(lantian_store::kinds::Kind::So2),
        "no2" => Some(lantian_store::kinds::Kind::No2),
        "co" => Some(lantian_store::kinds::Kind::Co),
        _ => Some(lantian_store::kinds::Kind::O3),
    };
    if let Some(kind) = kind {
        let mut reader = lantian_store::query::Reader::new(&store, &[kind], Some(std::slice::from_ref(&f.station)));
        let dense = reader.range(lo * 24 + 1, hi * 24 + 24)?;
        let station = match dense.stations.iter().position(|s| s == &f.station) {
            Some(i) => dense.series(i, kind).to_vec(),
            None => vec![f64::NAN; dense.len],
        };
        return Ok(Chart { start: dense.start, station, reference: None });
    }
    let panel = panel::load(&store, lo, hi)?;
    let i = panel
        .stations
        .iter()
        .position(|m| m.code == f.station)
        .ok_or_else(|| anyhow::anyhow!("station {} has no data around the finding", f.station))?;
    let near = panel::neighbours(&panel.stations, p.neighbours.radius_km);
    let series = if f.hit.series == "pm25" { &panel.pm25 } else { &panel.pm10 };
    Ok(Chart {
        start: panel.start,
        station: series[i].clone(),
        reference: panel::reference(series, &near[i], panel.len),
    })
}
