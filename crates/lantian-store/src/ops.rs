//! Operations on a whole data directory: a consistent backup while lantian
//! runs, and moving the ledger from SQLite to PostgreSQL.

use crate::sql::{Db, Val};
use crate::{Error, Result};
use std::path::Path;

/// Column type of a ledger table, so NULLs bind with the right PostgreSQL type.
#[derive(Clone, Copy)]
enum Ty {
    I,
    R,
    T,
}

/// Every ledger table in foreign-key order, with its columns.
const TABLES: &[(&str, &[(&str, Ty)])] = {
    use Ty::*;
    &[
        ("run", &[("id", I), ("period", T), ("who", T), ("at", T)]),
        (
            "action",
            &[
                ("id", I),
                ("run_id", I),
                ("rule", T),
                ("rule_name", T),
                ("area", T),
                ("period", T),
                ("kind", T),
                ("status", T),
                ("amount", R),
                ("evidence", T),
                ("edition", T),
                ("created_at", T),
                ("closed_at", T),
                ("close_reason", T),
            ],
        ),
        ("task", &[("id", I), ("number", I), ("doc", T), ("status", T), ("created_at", T), ("updated_at", T)]),
        (
            "task_progress",
            &[
                ("id", I),
                ("task_id", I),
                ("date", T),
                ("author", T),
                ("measure", I),
                ("text", T),
                ("indicators", T),
                ("evidence", T),
                ("created_at", T),
            ],
        ),
        (
            "task_status",
            &[("id", I), ("task_id", I), ("at", T), ("who", T), ("from_status", T), ("to_status", T), ("note", T)],
        ),
        (
            "event",
            &[
                ("id", I),
                ("city", T),
                ("start_label", I),
                ("end_label", I),
                ("kind", T),
                ("reference", T),
                ("note", T),
                ("status", T),
                ("evidence", T),
                ("created_by", T),
                ("created_at", T),
                ("changed_at", T),
                ("reason", T),
            ],
        ),
        (
            "audit",
            &[("id", I), ("at", T), ("who", T), ("action_id", I), ("change", T), ("task_id", I), ("event_id", I)],
        ),
        (
            "logger",
            &[
                ("id", I),
                ("mn", T),
                ("station", T),
                ("password", T),
                ("pm_unit", T),
                ("gas_unit", T),
                ("crc", T),
                ("enabled", I),
                ("created_at", T),
            ],
        ),
        (
            "app_user",
            &[("id", I), ("name", T), ("hash", T), ("role", T), ("city", T), ("enabled", I), ("created_at", T)],
        ),
    ]
};

fn typed(v: Val, ty: Ty) -> Val {
    match (v, ty) {
        (Val::Text(None), Ty::I) | (Val::Int(None), Ty::I) => Val::Int(None),
        (Val::Text(None), Ty::R) | (Val::Real(None), Ty::R) => Val::Real(None),
        (Val::Int(Some(i)), Ty::R) => Val::Real(Some(i as f64)),
        (v, _) => v,
    }
}

/// Rows copied per table.
pub type Copied = Vec<(&'static str, usize)>;

/// Copy every ledger table from `from` to `to` (a freshly migrated, empty
/// PostgreSQL ledger) in one transaction of the target, ids kept and the
/// id sequences moved past them. Refused when the target holds any row.
pub fn copy_ledger(from: &mut dyn Db, to: &mut dyn Db, pg_sequences: bool) -> Result<Copied> {
    let mut data: Vec<(&'static str, Vec<Vec<Val>>)> = Vec::new();
    from.transaction(&mut |tx| {
        data.clear();
        for (table, cols) in TABLES {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let rows = tx.rows(&format!("SELECT {} FROM {table} ORDER BY id", names.join(", ")), &[])?;
            data.push((table, rows));
        }
        Ok(())
    })?;
    let mut copied = Vec::new();
    to.transaction(&mut |tx| {
        copied.clear();
        for (table, _) in TABLES {
            let n = tx.rows(&format!("SELECT count(*) FROM {table}"), &[])?;
            if n.first().and_then(|r| r[0].int()).unwrap_or(0) > 0 {
                return Err(Error::Input(format!("the target ledger is not empty (table {table} has rows)")));
            }
        }
        for ((table, cols), (_, rows)) in TABLES.iter().zip(&data) {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let sql = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), marks.join(", "));
            for r in rows {
                let vals: Vec<Val> = r.iter().cloned().zip(cols.iter()).map(|(v, (_, ty))| typed(v, *ty)).collect();
                tx.exec(&sql, &vals)?;
            }
            if pg_sequences && !rows.is_empty() {
                tx.rows(
                    &format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"),
                    &[],
                )?;
            }
            copied.push((*table, rows.len()));
        }
        Ok(())
    })?;
    Ok(copied)
}

/// A consistent copy of the data directory at `dest` (which must not
/// exist): the store's committed generation (taken under the store's write
/// lock, so no import runs meanwhile), the ledger through SQLite's
/// `VACUUM INTO`, and the other files (targets, policy, areas, evidence,
/// the gateway's log). Restoring is copying it back.
pub fn backup(data_dir: &Path, dest: &Path) -> Result<usize> {
    if dest.exists() {
        return Err(Error::Input(format!("{} exists; a backup goes to a new directory", dest.display())));
    }
    // Hold the store's lock: no import commits while the files are copied.
    let tx = crate::store::Transaction::begin(data_dir)?;
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let mut n = 0;
    let skip = |name: &str| name == "lock" || name.starts_with("ledger.sqlite") || name == "uploads";
    copy_tree(data_dir, dest, &skip, &mut n)?;
    let ledger = data_dir.join("ledger.sqlite");
    if ledger.exists() {
        let conn = rusqlite::Connection::open(&ledger).map_err(|e| Error::Store(format!("ledger: {e}")))?;
        let target = dest.join("ledger.sqlite");
        conn.execute("VACUUM INTO ?1", [target.to_string_lossy().as_ref()])
            .map_err(|e| Error::Store(format!("ledger backup: {e}")))?;
        n += 1;
    }
    tx.rollback();
    Ok(n)
}

fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&str) -> bool, n: &mut usize) -> Result<()> {
    for e in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let e = e.map_err(|err| Error::io(from, err))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if skip(&name) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().map_err(|err| Error::io(&src, err))?.is_dir() {
            std::fs::create_dir_all(&dst).map_err(|err| Error::io(&dst, err))?;
            copy_tree(&src, &dst, &|_| false, n)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|err| Error::io(&src, err))?;
            *n += 1;
        }
    }
    Ok(())
}
