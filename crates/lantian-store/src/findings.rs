//! A person's decisions on integrity findings (`lantian screen review`).
//! Findings are recomputed from the store on every run and named by a stable
//! id (station, check, series and first hour); only the decisions are kept,
//! here in the ledger (SQLite or PostgreSQL over the SQL seam), each with who,
//! when and why, and each audited. A later decision on the same finding
//! replaces the earlier one as the current state; the earlier stays in the
//! history.

use crate::sql::{Db, Val};
use crate::{Error, Result};
use lantian_core::time::HourLabel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The data are wrong (tampered or faulty): an inspection confirmed it.
    Confirmed,
    /// Looked at and not a problem (weather, a real local source, …).
    Dismissed,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "confirmed" => Some(Decision::Confirmed),
            "dismissed" => Some(Decision::Dismissed),
            _ => None,
        }
    }
}

/// A decision as a person makes it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewReview {
    pub finding: String,
    pub station: String,
    pub city: String,
    pub check: String,
    pub start: HourLabel,
    pub end: HourLabel,
    pub decision: Decision,
    pub note: String,
}

/// A recorded decision.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Review {
    pub id: i64,
    pub finding: String,
    pub station: String,
    pub city: String,
    pub check: String,
    pub start: HourLabel,
    pub end: HourLabel,
    pub decision: Decision,
    pub note: String,
    pub who: String,
    pub at: String,
}

const COLUMNS: &str = "id, finding, station, city, check_key, start_label, end_label, decision, note, who, at";

fn row(r: &[Val]) -> Result<Review> {
    let decision = Decision::parse(r[7].text().unwrap_or_default())
        .ok_or_else(|| Error::Store(format!("finding review {}: unknown decision", r[0].int().unwrap_or_default())))?;
    Ok(Review {
        id: r[0].int().unwrap_or_default(),
        finding: r[1].string(),
        station: r[2].string(),
        city: r[3].string(),
        check: r[4].string(),
        start: r[5].int().unwrap_or_default(),
        end: r[6].int().unwrap_or_default(),
        decision,
        note: r[8].string(),
        who: r[9].string(),
        at: r[10].string(),
    })
}

/// Record a decision (a note is required: the reason is the record).
pub fn record(db: &mut dyn Db, r: &NewReview, who: &str) -> Result<i64> {
    let note = r.note.trim();
    if note.is_empty() {
        return Err(Error::Input(format!(
            "finding {}: a decision needs a note (what was checked, what was seen)",
            r.finding
        )));
    }
    if who.trim().is_empty() {
        return Err(Error::Input("a decision needs the name of who made it".into()));
    }
    let mut id = 0;
    db.transaction(&mut |tx| {
        let at = jiff::Timestamp::now().to_string();
        let rows = tx.rows(
            "INSERT INTO finding_review (finding, station, city, check_key, start_label, end_label, decision, note, who, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                r.finding.as_str().into(),
                r.station.as_str().into(),
                r.city.as_str().into(),
                r.check.as_str().into(),
                r.start.into(),
                r.end.into(),
                r.decision.key().into(),
                note.into(),
                who.into(),
                at.as_str().into(),
            ],
        )?;
        id = rows.first().and_then(|r| r[0].int()).unwrap_or_default();
        tx.exec(
            "INSERT INTO audit (at, who, finding, change) VALUES ($1, $2, $3, $4)",
            &[at.into(), who.into(), r.finding.as_str().into(), format!("finding {} {}: {note}", r.finding, r.decision.key()).into()],
        )?;
        Ok(())
    })?;
    Ok(id)
}

/// Every decision, oldest first.
pub fn all(db: &mut dyn Db) -> Result<Vec<Review>> {
    let mut rows = Vec::new();
    db.transaction(&mut |tx| {
        rows = tx.rows(&format!("SELECT {COLUMNS} FROM finding_review ORDER BY id"), &[])?;
        Ok(())
    })?;
    rows.iter().map(|r| row(r)).collect()
}

/// The current decision of each finding (the latest), by finding id.
pub fn current(db: &mut dyn Db) -> Result<std::collections::BTreeMap<String, Review>> {
    Ok(all(db)?.into_iter().map(|r| (r.finding.clone(), r)).collect())
}

/// The decisions on one finding, oldest first.
pub fn history(db: &mut dyn Db, finding: &str) -> Result<Vec<Review>> {
    Ok(all(db)?.into_iter().filter(|r| r.finding == finding).collect())
}

/// Findings whose current decision is `confirmed`.
pub fn confirmed(db: &mut dyn Db) -> Result<Vec<Review>> {
    Ok(current(db)?.into_values().filter(|r| r.decision == Decision::Confirmed).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(finding: &str, decision: Decision, note: &str) -> NewReview {
        NewReview {
            finding: finding.into(),
            station: "1431A".into(),
            city: "成都".into(),
            check: "divergence".into(),
            start: 100,
            end: 200,
            decision,
            note: note.into(),
        }
    }

    fn suite(db: &mut dyn Db) {
        assert!(record(db, &review("1431A-divergence-pm25-2019070101", Decision::Confirmed, " "), "省站").is_err());
        let a = record(db, &review("1431A-divergence-pm25-2019070101", Decision::Dismissed, "fog"), "省站").unwrap();
        let b =
            record(db, &review("1431A-divergence-pm25-2019070101", Decision::Confirmed, "gauze found on site"), "稽查")
                .unwrap();
        record(db, &review("1432A-stuck-co-2019070101", Decision::Dismissed, "analyser fault, repaired"), "省站")
            .unwrap();
        assert!(b > a);
        let cur = current(db).unwrap();
        assert_eq!(cur.len(), 2);
        let r = &cur["1431A-divergence-pm25-2019070101"];
        assert_eq!((r.decision, r.who.as_str(), r.note.as_str()), (Decision::Confirmed, "稽查", "gauze found on site"));
        assert_eq!(history(db, "1431A-divergence-pm25-2019070101").unwrap().len(), 2);
        assert_eq!(confirmed(db).unwrap().len(), 1);
        let mut n = 0;
        db.transaction(&mut |tx| {
            n = tx.rows("SELECT count(*) FROM audit WHERE finding IS NOT NULL", &[])?[0][0].int().unwrap_or_default();
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 3, "every decision audited");
    }

    #[test]
    fn sqlite_reviews() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = crate::ledger::SqliteLedger::open(dir.path()).unwrap();
        suite(crate::ledger::Ledger::db(&mut l));
    }

    #[test]
    fn postgres_reviews() {
        let Some(url) = crate::ledger::test_pg("findings") else {
            eprintln!("LANTIAN_TEST_PG not set: PostgreSQL finding review test skipped");
            return;
        };
        let mut l = crate::ledger::PgLedger::open(&url).unwrap();
        suite(crate::ledger::Ledger::db(&mut l));
    }
}
