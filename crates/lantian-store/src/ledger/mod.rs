//! The action ledger: every accountability action taken, with its evidence,
//! and an append-only audit log of who changed what and when.
//!
//! SQLite in the data directory (`ledger.sqlite`, no server to run);
//! versioned migrations through `PRAGMA user_version`. A policy run is one
//! transaction: killed half-way, it leaves none of its actions. The
//! [`Ledger`] trait is the seam for the PostgreSQL backend.

use crate::sql::{Db, PgTx, SqliteTx, Tx, Val};
use crate::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// An action to record (from a policy run).
#[derive(Clone, Debug, PartialEq)]
pub struct NewAction {
    pub rule: String,
    pub rule_name: String,
    pub area: String,
    pub period: String,
    pub kind: String,
    pub amount: Option<f64>,
    /// JSON: the facts and reasons that triggered it, the policy file's hash.
    pub evidence: String,
    pub edition: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionRecord {
    pub id: i64,
    pub run_id: i64,
    pub rule: String,
    pub rule_name: String,
    pub area: String,
    pub period: String,
    pub kind: String,
    /// open | acknowledged | lifted
    pub status: String,
    pub amount: Option<f64>,
    pub evidence: String,
    pub edition: String,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub who: String,
    pub action_id: Option<i64>,
    pub change: String,
}

/// What a run recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutcome {
    pub run_id: i64,
    pub inserted: Vec<i64>,
    /// Actions the same rule had already taken for that area and period.
    pub already: usize,
    pub lifted: Vec<i64>,
}

pub trait Ledger {
    /// Record a run's new actions and lifts atomically; an action whose
    /// (rule, area, period) exists is not recorded again.
    fn record_run(
        &mut self,
        period: &str,
        who: &str,
        actions: &[NewAction],
        lifts: &[(i64, String)],
    ) -> Result<RunOutcome>;
    // Reads take `&mut self` too: a PostgreSQL client needs it to query.
    fn list(&mut self, status: Option<&str>, area: Option<&str>) -> Result<Vec<ActionRecord>>;
    fn get(&mut self, id: i64) -> Result<Option<ActionRecord>>;
    fn set_status(&mut self, id: i64, status: &str, who: &str, reason: Option<&str>) -> Result<()>;
    fn audit(&mut self, id: Option<i64>) -> Result<Vec<AuditEntry>>;
    /// The same database for code written once for both backends (tasks).
    fn db(&mut self) -> &mut dyn Db;
}

/// SQLite ledger.
pub struct SqliteLedger {
    conn: Connection,
}

/// Schema version 1, shared by both backends: `{id}`, `{bigint}` and
/// `{real}` become each dialect's types, `{append_only}` its triggers.
const SCHEMA_V1: &str = "CREATE TABLE run (
        id {id},
        period TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE action (
        id {id},
        run_id {bigint} NOT NULL REFERENCES run(id),
        rule TEXT NOT NULL,
        rule_name TEXT NOT NULL,
        area TEXT NOT NULL,
        period TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'lifted')),
        amount {real},
        evidence TEXT NOT NULL,
        edition TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT,
        close_reason TEXT,
        UNIQUE (rule, area, period)
    );
    CREATE TABLE audit (
        id {id},
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        action_id {bigint} REFERENCES action(id),
        change TEXT NOT NULL
    );
    {append_only}";

/// Schema version 2: rectification tasks (`crate::tasks`). The task's
/// fields are one JSON document; progress entries and status moves are rows
/// of their own; the audit log gains the task a change belongs to.
const SCHEMA_V2: &str = "CREATE TABLE task (
        id {id},
        number {bigint} NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed', 'closed')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE task_progress (
        id {id},
        task_id {bigint} NOT NULL REFERENCES task(id),
        date TEXT NOT NULL,
        author TEXT NOT NULL,
        measure {bigint},
        text TEXT NOT NULL,
        indicators TEXT NOT NULL,
        evidence TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE task_status (
        id {id},
        task_id {bigint} NOT NULL REFERENCES task(id),
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        note TEXT
    );
    ALTER TABLE audit ADD COLUMN task_id {bigint} REFERENCES task(id);";

/// Schema version 3: data loggers registered for the HJ 212 gateway
/// (`crate::loggers`).
const SCHEMA_V3: &str = "CREATE TABLE logger (
        id {id},
        mn TEXT NOT NULL UNIQUE,
        station TEXT NOT NULL,
        password TEXT NOT NULL,
        pm_unit TEXT NOT NULL CHECK (pm_unit IN ('ug', 'ng')),
        gas_unit TEXT NOT NULL CHECK (gas_unit IN ('ug', 'mg')),
        crc TEXT NOT NULL CHECK (crc IN ('strict', 'lenient')),
        enabled {bigint} NOT NULL,
        created_at TEXT NOT NULL
    );";

/// Schema version 4: accounts of the web dashboard (`crate::users`).
const SCHEMA_V4: &str = "CREATE TABLE app_user (
        id {id},
        name TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'city', 'viewer')),
        city TEXT,
        enabled {bigint} NOT NULL,
        created_at TEXT NOT NULL
    );";

/// Schema version 5: sand-dust and exceptional events whose data the
/// assessment deducts (`crate::events`), their changes audited.
const SCHEMA_V5: &str = "CREATE TABLE event (
        id {id},
        city TEXT NOT NULL,
        start_label {bigint} NOT NULL,
        end_label {bigint} NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('sand_dust', 'exceptional')),
        reference TEXT NOT NULL,
        note TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'candidate', 'withdrawn')),
        evidence TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        changed_at TEXT,
        reason TEXT,
        CHECK (start_label <= end_label)
    );
    ALTER TABLE audit ADD COLUMN event_id {bigint} REFERENCES event(id);";

/// Schema version 6: decisions on integrity findings (`crate::findings`).
/// A finding is computed, never stored; a person's decision on it is, by the
/// finding's stable id. Decisions are rows, the latest one counts, and each
/// is audited.
const SCHEMA_V6: &str = "CREATE TABLE finding_review (
        id {id},
        finding TEXT NOT NULL,
        station TEXT NOT NULL,
        city TEXT NOT NULL,
        check_key TEXT NOT NULL,
        start_label {bigint} NOT NULL,
        end_label {bigint} NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'dismissed')),
        note TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL
    );
    ALTER TABLE audit ADD COLUMN finding TEXT;";

/// Schema version 7: the dashboard's sessions (`crate::sessions`; only the
/// token's SHA-256 is kept).
const SCHEMA_V7: &str = "CREATE TABLE app_session (
        id {id},
        token_hash TEXT NOT NULL UNIQUE,
        user_id {bigint} NOT NULL REFERENCES app_user(id),
        csrf TEXT NOT NULL,
        created {bigint} NOT NULL,
        last_seen {bigint} NOT NULL,
        expires {bigint} NOT NULL,
        agent TEXT,
        address TEXT
    );
    CREATE INDEX app_session_user ON app_session (user_id);
    CREATE INDEX app_session_expires ON app_session (expires);";

/// The migrations of one dialect, in order (index + 1 = schema version).
fn migrations(id: &str, bigint: &str, real: &str, append_only: &str) -> Vec<String> {
    let dialect = |s: &str| {
        s.replace("{id}", id).replace("{bigint}", bigint).replace("{real}", real).replace("{append_only}", append_only)
    };
    vec![
        dialect(SCHEMA_V1),
        dialect(SCHEMA_V2),
        dialect(SCHEMA_V3),
        dialect(SCHEMA_V4),
        dialect(SCHEMA_V5),
        dialect(SCHEMA_V6),
        dialect(SCHEMA_V7),
    ]
}

pub(crate) fn sqlite_migrations() -> Vec<String> {
    migrations(
        "INTEGER PRIMARY KEY",
        "INTEGER",
        "REAL",
        "CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    )
}

/// Audit text of a recorded action.
fn created_change(a: &NewAction) -> String {
    format!("created {} for {} ({}) by rule {}", a.kind, a.area, a.period, a.rule)
}

/// Audit text of a status change.
fn status_change(status: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{status}: {r}"),
        None => status.to_string(),
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn sql(e: rusqlite::Error) -> Error {
    Error::Store(format!("ledger: {e}"))
}

/// Whether action `id`, now `current` (`None`: no such action), may become
/// `status`; its closing time if that lifts it. Both backends ask this.
fn transition(id: i64, current: Option<&str>, status: &str, at: &str) -> Result<Option<String>> {
    match current {
        None => Err(Error::Input(format!("no action {id}"))),
        Some("lifted") => Err(Error::Input(format!("action {id} is already lifted"))),
        Some(s) if s == status => Err(Error::Input(format!("action {id} is already {status}"))),
        _ => Ok((status == "lifted").then(|| at.to_string())),
    }
}

/// SQLite's "busy" or "locked".
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

impl SqliteLedger {
    /// Open (creating and migrating) `DATA/ledger.sqlite`.
    pub fn open(data_dir: &Path) -> Result<SqliteLedger> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let path = data_dir.join("ledger.sqlite");
        // Processes opening one new ledger at once: SQLite answers "busy"
        // at once to some of its steps (turning on WAL), whatever the busy
        // timeout; the open is tried again for as long.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Self::open_once(&path) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                r => return r.map_err(|e| Error::Store(format!("ledger: {}: {e}", path.display()))),
            }
        }
    }

    fn open_once(path: &Path) -> rusqlite::Result<SqliteLedger> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut ledger = SqliteLedger { conn };
        ledger.migrate()?;
        Ok(ledger)
    }

    fn migrate(&mut self) -> rusqlite::Result<()> {
        let migrations = sqlite_migrations();
        let version = |c: &Connection| -> rusqlite::Result<usize> {
            let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            match usize::try_from(v) {
                Ok(v) if v <= migrations.len() => Ok(v),
                _ => {
                    let msg = format!("ledger schema {v} is newer than this lantian ({})", migrations.len());
                    Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                        Some(msg),
                    ))
                }
            }
        };
        // The usual open reads the version and takes no lock; a migration
        // reads it again under the write lock: two processes opening a new
        // ledger together both saw version 0 and both created its tables
        // ("table run already exists" for the second).
        while version(&self.conn)? < migrations.len() {
            let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let v = version(&tx)?;
            if let Some(m) = migrations.get(v) {
                tx.execute_batch(m)?;
                tx.pragma_update(None, "user_version", (v + 1) as i64)?;
            }
            tx.commit()?;
        }
        Ok(())
    }
}

const COLUMNS: &str = "id, run_id, rule, rule_name, area, period, kind, status, amount, evidence, edition, created_at, closed_at, close_reason";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionRecord> {
    Ok(ActionRecord {
        id: r.get(0)?,
        run_id: r.get(1)?,
        rule: r.get(2)?,
        rule_name: r.get(3)?,
        area: r.get(4)?,
        period: r.get(5)?,
        kind: r.get(6)?,
        status: r.get(7)?,
        amount: r.get(8)?,
        evidence: r.get(9)?,
        edition: r.get(10)?,
        created_at: r.get(11)?,
        closed_at: r.get(12)?,
        close_reason: r.get(13)?,
    })
}

impl Ledger for SqliteLedger {
    fn record_run(
        &mut self,
        period: &str,
        who: &str,
        actions: &[NewAction],
        lifts: &[(i64, String)],
    ) -> Result<RunOutcome> {
        let at = now();
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("INSERT INTO run (period, who, at) VALUES (?1, ?2, ?3)", params![period, who, at]).map_err(sql)?;
        let run_id = tx.last_insert_rowid();
        let mut out = RunOutcome { run_id, ..Default::default() };
        for a in actions {
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO action (run_id, rule, rule_name, area, period, kind, amount, evidence, edition, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![run_id, a.rule, a.rule_name, a.area, a.period, a.kind, a.amount, a.evidence, a.edition, at],
                )
                .map_err(sql)?;
            if n == 0 {
                out.already += 1;
                continue;
            }
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO audit (at, who, action_id, change) VALUES (?1, ?2, ?3, ?4)",
                params![at, who, id, created_change(a)],
            )
            .map_err(sql)?;
            out.inserted.push(id);
        }
        for (id, reason) in lifts {
            let n = tx
                .execute(
                    "UPDATE action SET status = 'lifted', closed_at = ?1, close_reason = ?2 WHERE id = ?3 AND status != 'lifted'",
                    params![at, reason, id],
                )
                .map_err(sql)?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO audit (at, who, action_id, change) VALUES (?1, ?2, ?3, ?4)",
                    params![at, who, id, format!("lifted: {reason}")],
                )
                .map_err(sql)?;
                out.lifted.push(*id);
            }
        }
        tx.commit().map_err(sql)?;
        Ok(out)
    }

    fn list(&mut self, status: Option<&str>, area: Option<&str>) -> Result<Vec<ActionRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM action WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR area = ?2) ORDER BY id"
            ))
            .map_err(sql)?;
        let rows = stmt.query_map(params![status, area], row).map_err(sql)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
    }

    fn get(&mut self, id: i64) -> Result<Option<ActionRecord>> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM action WHERE id = ?1"), params![id], row)
            .optional()
            .map_err(sql)
    }

    fn set_status(&mut self, id: i64, status: &str, who: &str, reason: Option<&str>) -> Result<()> {
        let at = now();
        let tx = self.conn.transaction().map_err(sql)?;
        let current: Option<String> = tx
            .query_row("SELECT status FROM action WHERE id = ?1", params![id], |r| r.get(0))
            .optional()
            .map_err(sql)?;
        let closed = transition(id, current.as_deref(), status, &at)?;
        tx.execute(
            "UPDATE action SET status = ?1, closed_at = COALESCE(?2, closed_at), close_reason = COALESCE(?3, close_reason) WHERE id = ?4",
            params![status, closed, reason, id],
        )
        .map_err(sql)?;
        let change = status_change(status, reason);
        tx.execute(
            "INSERT INTO audit (at, who, action_id, change) VALUES (?1, ?2, ?3, ?4)",
            params![at, who, id, change],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }

    fn audit(&mut self, id: Option<i64>) -> Result<Vec<AuditEntry>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, who, action_id, change FROM audit WHERE (?1 IS NULL OR action_id = ?1) ORDER BY id")
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(AuditEntry { at: r.get(0)?, who: r.get(1)?, action_id: r.get(2)?, change: r.get(3)? })
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
    }

    fn db(&mut self) -> &mut dyn Db {
        self
    }
}

impl Db for SqliteLedger {
    fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let tx = self.conn.transaction().map_err(sql)?;
        f(&mut SqliteTx(&tx))?;
        tx.commit().map_err(sql)
    }
}

/// PostgreSQL ledger (`--database postgres://…`), same schema and rules.
pub struct PgLedger {
    client: postgres::Client,
}

pub(crate) fn pg_migrations() -> Vec<String> {
    migrations(
        "BIGSERIAL PRIMARY KEY",
        "BIGINT",
        "DOUBLE PRECISION",
        "CREATE FUNCTION audit_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
    )
}

fn pg(e: postgres::Error) -> Error {
    Error::Store(format!("ledger (PostgreSQL): {e}"))
}

fn pg_row(r: &postgres::Row) -> ActionRecord {
    ActionRecord {
        id: r.get(0),
        run_id: r.get(1),
        rule: r.get(2),
        rule_name: r.get(3),
        area: r.get(4),
        period: r.get(5),
        kind: r.get(6),
        status: r.get(7),
        amount: r.get(8),
        evidence: r.get(9),
        edition: r.get(10),
        created_at: r.get(11),
        closed_at: r.get(12),
        close_reason: r.get(13),
    }
}

impl PgLedger {
    /// Connect and migrate (schema version kept in `lantian_schema`).
    pub fn open(url: &str) -> Result<PgLedger> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(pg)?;
        let mut l = PgLedger { client };
        l.client.batch_execute("CREATE TABLE IF NOT EXISTS lantian_schema (version INTEGER NOT NULL)").map_err(pg)?;
        let mut tx = l.client.transaction().map_err(pg)?;
        tx.batch_execute("LOCK TABLE lantian_schema IN EXCLUSIVE MODE").map_err(pg)?;
        let version: i32 = tx.query_opt("SELECT version FROM lantian_schema", &[]).map_err(pg)?.map_or(0, |r| r.get(0));
        let version = usize::try_from(version).unwrap_or(0);
        let migrations = pg_migrations();
        if version > migrations.len() {
            return Err(Error::Store(format!(
                "ledger schema {version} is newer than this lantian ({})",
                migrations.len()
            )));
        }
        for m in &migrations[version..] {
            tx.batch_execute(m).map_err(pg)?;
        }
        tx.execute("DELETE FROM lantian_schema", &[]).map_err(pg)?;
        tx.execute("INSERT INTO lantian_schema (version) VALUES ($1)", &[&(migrations.len() as i32)]).map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(l)
    }
}

impl Ledger for PgLedger {
    fn record_run(
        &mut self,
        period: &str,
        who: &str,
        actions: &[NewAction],
        lifts: &[(i64, String)],
    ) -> Result<RunOutcome> {
        let at = now();
        let mut tx = self.client.transaction().map_err(pg)?;
        let run_id: i64 = tx
            .query_one("INSERT INTO run (period, who, at) VALUES ($1, $2, $3) RETURNING id", &[&period, &who, &at])
            .map_err(pg)?
            .get(0);
        let mut out = RunOutcome { run_id, ..Default::default() };
        for a in actions {
            let row = tx
                .query_opt(
                    "INSERT INTO action (run_id, rule, rule_name, area, period, kind, amount, evidence, edition, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (rule, area, period) DO NOTHING RETURNING id",
                    &[&run_id, &a.rule, &a.rule_name, &a.area, &a.period, &a.kind, &a.amount, &a.evidence, &a.edition, &at],
                )
                .map_err(pg)?;
            let Some(row) = row else {
                out.already += 1;
                continue;
            };
            let id: i64 = row.get(0);
            let change = created_change(a);
            tx.execute(
                "INSERT INTO audit (at, who, action_id, change) VALUES ($1, $2, $3, $4)",
                &[&at, &who, &id, &change],
            )
            .map_err(pg)?;
            out.inserted.push(id);
        }
        for (id, reason) in lifts {
            let n = tx
                .execute(
                    "UPDATE action SET status = 'lifted', closed_at = $1, close_reason = $2 WHERE id = $3 AND status != 'lifted'",
                    &[&at, reason, id],
                )
                .map_err(pg)?;
            if n > 0 {
                let change = format!("lifted: {reason}");
                tx.execute(
                    "INSERT INTO audit (at, who, action_id, change) VALUES ($1, $2, $3, $4)",
                    &[&at, &who, id, &change],
                )
                .map_err(pg)?;
                out.lifted.push(*id);
            }
        }
        tx.commit().map_err(pg)?;
        Ok(out)
    }

    fn list(&mut self, status: Option<&str>, area: Option<&str>) -> Result<Vec<ActionRecord>> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM action WHERE ($1::TEXT IS NULL OR status = $1) AND ($2::TEXT IS NULL OR area = $2) ORDER BY id"
                ),
                &[&status, &area],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(pg_row).collect())
    }

    fn get(&mut self, id: i64) -> Result<Option<ActionRecord>> {
        let row = self.client.query_opt(&format!("SELECT {COLUMNS} FROM action WHERE id = $1"), &[&id]).map_err(pg)?;
        Ok(row.as_ref().map(pg_row))
    }

    fn set_status(&mut self, id: i64, status: &str, who: &str, reason: Option<&str>) -> Result<()> {
        let at = now();
        let mut tx = self.client.transaction().map_err(pg)?;
        let current: Option<String> =
            tx.query_opt("SELECT status FROM action WHERE id = $1 FOR UPDATE", &[&id]).map_err(pg)?.map(|r| r.get(0));
        let closed = transition(id, current.as_deref(), status, &at)?;
        tx.execute(
            "UPDATE action SET status = $1, closed_at = COALESCE($2, closed_at), close_reason = COALESCE($3, close_reason) WHERE id = $4",
            &[&status, &closed, &reason, &id],
        )
        .map_err(pg)?;
        let change = status_change(status, reason);
        tx.execute(
            "INSERT INTO audit (at, who, action_id, change) VALUES ($1, $2, $3, $4)",
            &[&at, &who, &id, &change],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)
    }

    fn audit(&mut self, id: Option<i64>) -> Result<Vec<AuditEntry>> {
        let rows = self
            .client
            .query(
                "SELECT at, who, action_id, change FROM audit WHERE ($1::BIGINT IS NULL OR action_id = $1) ORDER BY id",
                &[&id],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry { at: r.get(0), who: r.get(1), action_id: r.get(2), change: r.get(3) })
            .collect())
    }

    fn db(&mut self) -> &mut dyn Db {
        self
    }
}

impl Db for PgLedger {
    fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        f(&mut PgTx(&mut tx))?;
        tx.commit().map_err(pg)
    }
}

/// An entry in the audit log that belongs to no action or task (an import
/// from the dashboard, say).
pub fn note(db: &mut dyn Db, who: &str, change: &str) -> Result<()> {
    db.transaction(&mut |tx| {
        tx.exec("INSERT INTO audit (at, who, change) VALUES ($1, $2, $3)", &[now().into(), who.into(), change.into()])?;
        Ok(())
    })
}

/// The newest audit entry's id. Every write to the ledger adds one (the log
/// is append-only), so a reader that has seen this id has seen every change
/// up to it: a cache of ledger pages is fresh while it does not move.
pub fn last_change(db: &mut dyn Db) -> Result<i64> {
    let mut id = 0;
    db.transaction(&mut |tx| {
        let rows = tx.rows("SELECT COALESCE(MAX(id), 0) FROM audit", &[])?;
        id = rows.first().and_then(|r| r.first()).and_then(Val::int).unwrap_or(0);
        Ok(())
    })?;
    Ok(id)
}

/// For tests: a fresh PostgreSQL schema named after `name` in the database
/// `LANTIAN_TEST_PG` names, and a connection string that uses it, so tests
/// running at the same time do not share tables. `None` when unset.
#[doc(hidden)]
pub fn test_pg(name: &str) -> Option<String> {
    let url = std::env::var("LANTIAN_TEST_PG").ok()?;
    let schema = format!("lt_{name}");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("LANTIAN_TEST_PG connects");
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")).expect("schema");
    Some(if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{schema}")
    } else {
        format!("{url} options='-c search_path={schema}'")
    })
}

#[cfg(test)]
mod tests;
