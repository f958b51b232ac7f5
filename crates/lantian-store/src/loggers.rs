//! Data loggers (数采仪) registered for the HJ 212 gateway: which MN speaks
//! for which station, its password, the units it sends particulates and
//! gases in (HJ 212 Table B.2 prints ng/m³ for particulates and mg/m³ for
//! gases, ambient practice is μg/m³: the unit cannot be read from a packet)
//! and whether its CRC is checked strictly. Written over the same SQL seam
//! as the tasks, audited the same way.

use crate::sql::{Db, Val};
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Logger {
    pub mn: String,
    pub station: String,
    pub password: String,
    /// `ug` or `ng` (per m³) for PM2.5 and PM10.
    pub pm_unit: String,
    /// `ug` or `mg` (per m³) for SO2, NO2, O3 (CO is always mg/m³).
    pub gas_unit: String,
    /// `strict` or `lenient` (also accepts the byte-swapped Modbus CRC).
    pub crc: String,
    pub enabled: bool,
}

impl Logger {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Input(format!("logger {}: {m}", self.mn)));
        if self.mn.is_empty() || self.mn.len() > 24 || !self.mn.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return bad("MN must be 1–24 letters or digits".into());
        }
        if self.station.trim().is_empty() {
            return bad("no station".into());
        }
        if self.password.is_empty() || self.password.len() > 64 || self.password.contains([';', '&', ',', '=']) {
            return bad("password must be 1–64 characters without ; & , =".into());
        }
        if !matches!(self.pm_unit.as_str(), "ug" | "ng") {
            return bad(format!("pm unit {:?}: ug or ng", self.pm_unit));
        }
        if !matches!(self.gas_unit.as_str(), "ug" | "mg") {
            return bad(format!("gas unit {:?}: ug or mg", self.gas_unit));
        }
        if !matches!(self.crc.as_str(), "strict" | "lenient") {
            return bad(format!("crc {:?}: strict or lenient", self.crc));
        }
        Ok(())
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn audit(tx: &mut dyn crate::sql::Tx, who: &str, change: String) -> Result<()> {
    tx.exec("INSERT INTO audit (at, who, change) VALUES ($1, $2, $3)", &[now().into(), who.into(), change.into()])?;
    Ok(())
}

/// Register a logger; refused if its MN is registered.
pub fn add(db: &mut dyn Db, l: &Logger, who: &str) -> Result<()> {
    l.validate()?;
    db.transaction(&mut |tx| {
        if !tx.rows("SELECT id FROM logger WHERE mn = $1", &[l.mn.as_str().into()])?.is_empty() {
            return Err(Error::Input(format!("logger {} is registered already", l.mn)));
        }
        tx.exec(
            "INSERT INTO logger (mn, station, password, pm_unit, gas_unit, crc, enabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                l.mn.as_str().into(),
                l.station.as_str().into(),
                l.password.as_str().into(),
                l.pm_unit.as_str().into(),
                l.gas_unit.as_str().into(),
                l.crc.as_str().into(),
                Val::Int(Some(i64::from(l.enabled))),
                now().into(),
            ],
        )?;
        audit(tx, who, format!("logger {} registered for station {}", l.mn, l.station))
    })
}

/// Disable (or enable) a logger: its packets are refused from then on.
pub fn set_enabled(db: &mut dyn Db, mn: &str, enabled: bool, who: &str) -> Result<()> {
    db.transaction(&mut |tx| {
        let n =
            tx.exec("UPDATE logger SET enabled = $1 WHERE mn = $2", &[Val::Int(Some(i64::from(enabled))), mn.into()])?;
        if n == 0 {
            return Err(Error::Input(format!("no logger {mn}")));
        }
        audit(tx, who, format!("logger {mn} {}", if enabled { "enabled" } else { "disabled" }))
    })
}

pub fn list(db: &mut dyn Db) -> Result<Vec<Logger>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = tx
            .rows("SELECT mn, station, password, pm_unit, gas_unit, crc, enabled FROM logger ORDER BY mn", &[])?
            .into_iter()
            .map(|r| Logger {
                mn: r[0].string(),
                station: r[1].string(),
                password: r[2].string(),
                pm_unit: r[3].string(),
                gas_unit: r[4].string(),
                crc: r[5].string(),
                enabled: r[6].int() == Some(1),
            })
            .collect();
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn logger(mn: &str) -> Logger {
        Logger {
            mn: mn.into(),
            station: "1431A".into(),
            password: "123456".into(),
            pm_unit: "ug".into(),
            gas_unit: "ug".into(),
            crc: "strict".into(),
            enabled: true,
        }
    }

    fn suite(db: &mut dyn Db) {
        add(db, &logger("LT1431A"), "省站").unwrap();
        assert!(add(db, &logger("LT1431A"), "x").unwrap_err().to_string().contains("registered already"));
        assert!(add(db, &Logger { pm_unit: "kg".into(), ..logger("B") }, "x").is_err());
        assert!(add(db, &Logger { password: "a;b".into(), ..logger("C") }, "x").is_err());
        assert!(add(db, &logger("bad mn!"), "x").is_err());
        set_enabled(db, "LT1431A", false, "省站").unwrap();
        assert!(set_enabled(db, "NOPE", false, "x").is_err());
        let l = list(db).unwrap();
        assert_eq!(l.len(), 1);
        assert!(!l[0].enabled);
    }

    #[test]
    fn sqlite_loggers() {
        let dir = tempfile::tempdir().unwrap();
        suite(&mut crate::ledger::SqliteLedger::open(dir.path()).unwrap());
    }

    #[test]
    fn postgres_loggers() {
        let Some(url) = crate::ledger::test_pg("loggers") else { return };
        suite(&mut crate::ledger::PgLedger::open(&url).unwrap());
    }
}
