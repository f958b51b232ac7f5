//! Deduction events (sand-dust 沙尘 and exceptional 例外事件): which city's
//! data the assessment sets aside for PM10 and PM2.5, from when to when
//! (inclusive hour-ending labels), on what authority. Kept in the ledger
//! (SQLite or PostgreSQL, over the SQL seam), every change audited;
//! withdrawn events stay in the history. Candidates (`lantian event detect`)
//! are proposals and apply only once a person accepts them.

use crate::sql::{Db, Tx, Val};
use crate::{Error, Result};
use lantian_core::time::{DayNumber, HourLabel, date_of, day_number, format_label};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SandDust,
    Exceptional,
}

impl EventKind {
    pub fn key(self) -> &'static str {
        match self {
            EventKind::SandDust => "sand_dust",
            EventKind::Exceptional => "exceptional",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            EventKind::SandDust => "沙尘",
            EventKind::Exceptional => "例外事件",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        match s.trim() {
            "sand_dust" | "沙尘" => Some(EventKind::SandDust),
            "exceptional" | "例外事件" => Some(EventKind::Exceptional),
            _ => None,
        }
    }
}

/// An event as a person enters it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub city: String,
    pub start: HourLabel,
    pub end: HourLabel,
    pub kind: EventKind,
    pub reference: String,
    pub note: String,
}

/// An event in the ledger.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Event {
    pub id: i64,
    pub city: String,
    /// Inclusive hour-ending labels.
    pub start: HourLabel,
    pub end: HourLabel,
    pub kind: EventKind,
    pub reference: String,
    pub note: String,
    /// `active`, `candidate` or `withdrawn`.
    pub status: String,
    /// For a candidate: what the detection saw (JSON).
    pub evidence: String,
    pub created_by: String,
    pub created_at: String,
    pub changed_at: Option<String>,
    pub reason: Option<String>,
}

/// `2019-05-04` (the whole day: labels 1..=24) or `2019-05-04T13:00` (the
/// hour ending then) → the first label; `end` gives the last.
pub fn parse_time(s: &str, end: bool) -> std::result::Result<HourLabel, String> {
    let s = s.trim();
    if s.contains(['T', ' ']) {
        return crate::import::parse_hour_label(s).map_err(str::to_string);
    }
    let d: jiff::civil::Date =
        s.parse().map_err(|_| format!("{s:?}: a date YYYY-MM-DD or an hour YYYY-MM-DDTHH:00"))?;
    let day = day_number(d);
    Ok(if end { day * 24 + 24 } else { day * 24 + 1 })
}

/// A time range as people write it: whole days as dates, else labels.
pub fn show_range(start: HourLabel, end: HourLabel) -> (String, String) {
    let whole = (start - 1).rem_euclid(24) == 0 && end.rem_euclid(24) == 0;
    let date = |d: DayNumber| date_of(d).map(|d| d.to_string()).unwrap_or_default();
    if whole {
        (date((start - 1).div_euclid(24)), date((end - 1).div_euclid(24)))
    } else {
        (format_label(start), format_label(end))
    }
}

/// An event file's row that cannot be imported: line, field, reason.
fn bad(file: &str, line: usize, field: &str, why: impl std::fmt::Display) -> Error {
    Error::Input(format!("{file}: line {line}, {field}: {why}"))
}

/// Read an event file (CSV `city,start,end,kind,reference,note`, a header
/// row first). Every row is checked: the city must be one `known` accepts,
/// `end` not before `start`, the kind `sand_dust` or `exceptional`, and no
/// two events of a city may overlap. The first problem is the error, naming
/// the line and the field; nothing is returned then.
pub fn read_csv(file: &str, text: &str, known: &dyn Fn(&str) -> Option<String>) -> Result<Vec<NewEvent>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(file, 1, "header", e))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let want = ["city", "start", "end", "kind", "reference", "note"];
    if header != want {
        return Err(bad(file, 1, "header", format!("expected {}, found {}", want.join(","), header.join(","))));
    }
    let mut out: Vec<(usize, NewEvent)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| bad(file, line, "row", e))?;
        if rec.len() != 6 {
            return Err(bad(file, line, "row", format!("expected 6 fields, found {}", rec.len())));
        }
        let city =
            known(rec[0].trim()).ok_or_else(|| bad(file, line, "city", format!("unknown city {:?}", &rec[0])))?;
        let start = parse_time(&rec[1], false).map_err(|e| bad(file, line, "start", e))?;
        let end = parse_time(&rec[2], true).map_err(|e| bad(file, line, "end", e))?;
        if end < start {
            return Err(bad(file, line, "end", format!("{} is before the start {}", rec[2].trim(), rec[1].trim())));
        }
        let kind = EventKind::parse(&rec[3])
            .ok_or_else(|| bad(file, line, "kind", format!("{:?}: sand_dust or exceptional", &rec[3])))?;
        let e = NewEvent { city, start, end, kind, reference: rec[4].trim().into(), note: rec[5].trim().into() };
        if let Some((other, _)) = out.iter().find(|(_, o)| o.city == e.city && o.start <= e.end && e.start <= o.end) {
            return Err(bad(file, line, "start", format!("overlaps the event of line {other} for {}", e.city)));
        }
        out.push((line, e));
    }
    Ok(out.into_iter().map(|(_, e)| e).collect())
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn audit(tx: &mut dyn Tx, who: &str, id: i64, change: String) -> Result<()> {
    tx.exec(
        "INSERT INTO audit (at, who, event_id, change) VALUES ($1, $2, $3, $4)",
        &[now().into(), who.into(), id.into(), change.into()],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, city, start_label, end_label, kind, reference, note, status, evidence, created_by, created_at, changed_at, reason";

fn row_event(r: &[Val]) -> Result<Event> {
    let kind = EventKind::parse(r[4].text().unwrap_or_default())
        .ok_or_else(|| Error::Store(format!("event {}: unknown kind", r[0].int().unwrap_or_default())))?;
    Ok(Event {
        id: r[0].int().unwrap_or_default(),
        city: r[1].string(),
        start: r[2].int().unwrap_or_default(),
        end: r[3].int().unwrap_or_default(),
        kind,
        reference: r[5].string(),
        note: r[6].string(),
        status: r[7].string(),
        evidence: r[8].string(),
        created_by: r[9].string(),
        created_at: r[10].string(),
        changed_at: r[11].text().map(str::to_string),
        reason: r[12].text().map(str::to_string),
    })
}

/// An active or candidate event of `city` overlapping `start..=end`.
fn overlapping(tx: &mut dyn Tx, city: &str, start: HourLabel, end: HourLabel) -> Result<Option<Event>> {
    let rows = tx.rows(
        &format!(
            "SELECT {COLUMNS} FROM event WHERE city = $1 AND status <> 'withdrawn' AND start_label <= $2 AND end_label >= $3 ORDER BY id"
        ),
        &[city.into(), end.into(), start.into()],
    )?;
    rows.first().map(|r| row_event(r)).transpose()
}

fn insert(tx: &mut dyn Tx, e: &NewEvent, status: &str, evidence: &str, who: &str) -> Result<i64> {
    if let Some(o) = overlapping(tx, &e.city, e.start, e.end)? {
        let (a, b) = show_range(o.start, o.end);
        return Err(Error::Input(format!(
            "{} {}…{} overlaps event {} ({}, {a}…{b}, {}); withdraw it or change the dates",
            e.city,
            show_range(e.start, e.end).0,
            show_range(e.start, e.end).1,
            o.id,
            o.kind.key(),
            o.status
        )));
    }
    let rows = tx.rows(
        "INSERT INTO event (city, start_label, end_label, kind, reference, note, status, evidence, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        &[
            e.city.as_str().into(),
            e.start.into(),
            e.end.into(),
            e.kind.key().into(),
            e.reference.as_str().into(),
            e.note.as_str().into(),
            status.into(),
            evidence.into(),
            who.into(),
            now().into(),
        ],
    )?;
    let id = rows.first().and_then(|r| r[0].int()).ok_or_else(|| Error::Store("event: no id".into()))?;
    let (a, b) = show_range(e.start, e.end);
    audit(tx, who, id, format!("event {id} {status}: {} {} {a}…{b} ({})", e.city, e.kind.key(), e.reference))?;
    Ok(id)
}

/// Record events (all or none): each refused if it overlaps an active or
/// candidate event of its city. Their ids.
pub fn add(db: &mut dyn Db, events: &[NewEvent], who: &str) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    db.transaction(&mut |tx| {
        ids.clear();
        for e in events {
            ids.push(insert(tx, e, "active", "", who)?);
        }
        Ok(())
    })?;
    Ok(ids)
}

/// Record candidates found in the data (`evidence`: what was seen), each
/// skipped when an event of its city already covers part of it. Their ids.
pub fn propose(db: &mut dyn Db, candidates: &[(NewEvent, String)], who: &str) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    db.transaction(&mut |tx| {
        ids.clear();
        for (e, evidence) in candidates {
            if overlapping(tx, &e.city, e.start, e.end)?.is_none() {
                ids.push(insert(tx, e, "candidate", evidence, who)?);
            }
        }
        Ok(())
    })?;
    Ok(ids)
}

/// Events, oldest first: of one city, touching `from..=to` (labels), and
/// withdrawn ones only when asked.
pub fn list(
    db: &mut dyn Db,
    city: Option<&str>,
    range: Option<(HourLabel, HourLabel)>,
    with_withdrawn: bool,
) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = tx
            .rows(&format!("SELECT {COLUMNS} FROM event ORDER BY id"), &[])?
            .iter()
            .map(|r| row_event(r))
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    })?;
    out.retain(|e| {
        city.is_none_or(|c| e.city == c)
            && range.is_none_or(|(a, b)| e.start <= b && e.end >= a)
            && (with_withdrawn || e.status != "withdrawn")
    });
    Ok(out)
}

/// One event.
pub fn get(db: &mut dyn Db, id: i64) -> Result<Event> {
    let mut found = None;
    db.transaction(&mut |tx| {
        found = tx.rows(&format!("SELECT {COLUMNS} FROM event WHERE id = $1"), &[id.into()])?.first().cloned();
        Ok(())
    })?;
    row_event(&found.ok_or_else(|| Error::Input(format!("no event {id}")))?)
}

fn change_status(db: &mut dyn Db, id: i64, from: &[&str], to: &str, reason: Option<&str>, who: &str) -> Result<()> {
    db.transaction(&mut |tx| {
        let rows = tx.rows("SELECT status FROM event WHERE id = $1", &[id.into()])?;
        let status = rows.first().map(|r| r[0].string()).ok_or_else(|| Error::Input(format!("no event {id}")))?;
        if !from.contains(&status.as_str()) {
            return Err(Error::Input(format!("event {id} is {status}: it cannot become {to}")));
        }
        tx.exec(
            "UPDATE event SET status = $1, changed_at = $2, reason = $3 WHERE id = $4",
            &[to.into(), now().into(), Val::Text(reason.map(str::to_string)), id.into()],
        )?;
        let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
        audit(tx, who, id, format!("event {id} {status} → {to}{why}"))
    })
}

/// Withdraw an event (active or candidate): it stops applying, and stays in
/// the history with the reason.
pub fn withdraw(db: &mut dyn Db, id: i64, reason: &str, who: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(Error::Input("a withdrawal needs a reason".into()));
    }
    change_status(db, id, &["active", "candidate"], "withdrawn", Some(reason.trim()), who)
}

/// Accept a candidate: from now on it applies.
pub fn accept(db: &mut dyn Db, id: i64, who: &str) -> Result<()> {
    change_status(db, id, &["candidate"], "active", None, who)
}

/// The audit log of one event: (at, who, change), oldest first.
pub fn history(db: &mut dyn Db, id: i64) -> Result<Vec<crate::ledger::AuditEntry>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = tx
            .rows("SELECT at, who, change FROM audit WHERE event_id = $1 ORDER BY id", &[id.into()])?
            .into_iter()
            .map(|r| crate::ledger::AuditEntry {
                at: r[0].string(),
                who: r[1].string(),
                action_id: None,
                change: r[2].string(),
            })
            .collect();
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(c: &str) -> Option<String> {
        ["成都", "绵阳"].contains(&c).then(|| c.to_string())
    }

    fn suite(db: &mut dyn Db) {
        // Whole days and hour labels, inclusive.
        let text = "city,start,end,kind,reference,note\n成都,2019-05-04,2019-05-05,sand_dust,川环监〔2019〕1号,\n绵阳,2019-05-04T13:00,2019-05-05T02:00,exceptional,,fire\n";
        let evs = read_csv("e.csv", text, &known).unwrap();
        let d = lantian_core::time::day_number(jiff::civil::date(2019, 5, 4));
        assert_eq!((evs[0].start, evs[0].end), (d * 24 + 1, d * 24 + 48));
        assert_eq!((evs[1].start, evs[1].end), (d * 24 + 13, d * 24 + 24 + 2));
        assert_eq!(show_range(evs[0].start, evs[0].end), ("2019-05-04".into(), "2019-05-05".into()));
        let ids = add(db, &evs, "auditor").unwrap();
        assert_eq!(ids.len(), 2);
        // An overlapping event is refused, nothing written.
        let again = NewEvent { city: "成都".into(), start: d * 24 + 30, end: d * 24 + 60, ..evs[0].clone() };
        let fresh = NewEvent { city: "绵阳".into(), start: d * 24 + 200, end: d * 24 + 210, ..evs[0].clone() };
        let err = add(db, &[fresh.clone(), again], "auditor").unwrap_err().to_string();
        assert!(err.contains("overlaps event"), "{err}");
        assert_eq!(list_all(db).len(), 2, "all or none");
        // Candidates: one overlapping an event is skipped; accept, withdraw.
        let cand = vec![(fresh.clone(), "{}".to_string()), (evs[0].clone(), "{}".to_string())];
        let c = propose(db, &cand, "detect").unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(get(db, c[0]).unwrap().status, "candidate");
        accept(db, c[0], "auditor").unwrap();
        assert!(accept(db, c[0], "auditor").is_err(), "accepted once");
        assert!(withdraw(db, ids[1], " ", "auditor").is_err(), "a reason is needed");
        withdraw(db, ids[1], "not an exceptional event after review", "auditor").unwrap();
        let e = get(db, ids[1]).unwrap();
        assert_eq!(
            (e.status.as_str(), e.reason.as_deref()),
            ("withdrawn", Some("not an exceptional event after review"))
        );
        assert_eq!(list(db, None, None, false).unwrap().len(), 2, "withdrawn ones only with --all");
        assert_eq!(list(db, Some("绵阳"), None, true).unwrap().len(), 2);
        let h = history(db, ids[1]).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[1].change.contains("active → withdrawn") && h[1].who == "auditor", "{:?}", h[1]);
        assert_eq!(history(db, c[0]).unwrap().len(), 2, "proposed, accepted");
        // The withdrawn event's hours are free again.
        add(db, &[NewEvent { city: "绵阳".into(), ..evs[1].clone() }], "auditor").unwrap();
    }

    fn list_all(db: &mut dyn Db) -> Vec<Event> {
        list(db, None, None, true).unwrap()
    }

    #[test]
    fn bad_files_name_line_and_field() {
        let head = "city,start,end,kind,reference,note\n";
        for (row, want) in [
            ("重庆,2019-05-04,2019-05-04,sand_dust,,", "line 2, city: unknown city"),
            ("成都,2019-05-05,2019-05-04,sand_dust,,", "line 2, end: 2019-05-04 is before the start"),
            ("成都,2019-05-04,2019-05-04,dust,,", "line 2, kind"),
            ("成都,2019-13-04,2019-05-04,sand_dust,,", "line 2, start"),
            ("成都,2019-05-04,2019-05-04T25:00,sand_dust,,", "line 2, end"),
            (
                "成都,2019-05-04,2019-05-05,sand_dust,,\n成都,2019-05-05T12:00,2019-05-06,sand_dust,,",
                "line 3, start: overlaps the event of line 2",
            ),
            ("成都,2019-05-04,2019-05-05,sand_dust", "line 2, row: expected 6 fields"),
        ] {
            let err = read_csv("e.csv", &format!("{head}{row}\n"), &known).unwrap_err().to_string();
            assert!(err.contains(want), "{row}: {err}");
            assert!(err.starts_with("e.csv: "), "{err}");
        }
        let err = read_csv("e.csv", "city,from,to\n", &known).unwrap_err().to_string();
        assert!(err.contains("line 1, header"), "{err}");
    }

    #[test]
    fn sqlite_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = crate::ledger::SqliteLedger::open(dir.path()).unwrap();
        suite(crate::ledger::Ledger::db(&mut l));
        let probe = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
        let n: i64 =
            probe.query_row("SELECT count(*) FROM audit WHERE event_id IS NOT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 6, "every write audited: 2 added, 1 proposed, accepted, withdrawn, 1 added");
    }

    #[test]
    fn postgres_events() {
        let Some(url) = crate::ledger::test_pg("events") else {
            eprintln!("LANTIAN_TEST_PG not set: PostgreSQL event test skipped");
            return;
        };
        let mut l = crate::ledger::PgLedger::open(&url).unwrap();
        suite(crate::ledger::Ledger::db(&mut l));
    }
}
