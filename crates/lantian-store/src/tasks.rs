//! The rectification ledger (整改台账): tasks with their responsible units,
//! goal, numbered measures, dated progress entries with quantitative
//! indicators and evidence files, and the status workflow of
//! `lantian_core::task`.
//!
//! Written once over [`crate::sql::Db`], so it runs on the SQLite and the
//! PostgreSQL ledger alike. Every write is one transaction and leaves an
//! entry in the append-only audit log. Evidence files are stored in the data
//! directory under their SHA-256 (`evidence/ab/abcdef…`), written to a
//! temporary name and renamed, and never overwritten.

use crate::sql::{Db, Tx, Val};
use crate::{Error, Result};
use jiff::civil::Date;
use lantian_core::task::{TaskStatus, check_move};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The fields of a task a person writes (the JSON import/export form adds
/// `status`, `progress` and `history`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskFields {
    /// 整改任务编号, e.g. 46.
    pub number: i64,
    /// Title as documents head it.
    pub title: String,
    /// Where the task comes from: inspection round and feedback item.
    pub source: String,
    /// 问题描述.
    pub problem: String,
    /// 整改责任单位.
    pub units: Vec<String>,
    /// The cities the task concerns (whose officers may write to it).
    #[serde(default)]
    pub cities: Vec<String>,
    /// 整改目标, as written.
    pub goal: String,
    /// The goal as targets lantian can check: these areas meet their annual
    /// targets of these years.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goal_targets: Vec<GoalTargets>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub deadline: Option<Date>,
    /// 整改措施, numbered from 1 in this order.
    pub measures: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoalTargets {
    pub year: i16,
    pub areas: Vec<String>,
}

/// A quantity achieved, e.g. 510 万千瓦 of coal units retrofitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

/// An evidence file: kept under its hash, listed under its original name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub name: String,
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub bytes: u64,
    /// Import only: a file to store (relative to the JSON file).
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub path: Option<PathBuf>,
}

/// 工作及成效: one dated progress entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// Assigned by the ledger; ignored on import.
    #[serde(default)]
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub author: String,
    /// The measure (1-based) it reports on; none for the task as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<i64>,
    pub text: String,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// One status move: who, when, from what to what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub at: String,
    pub who: String,
    pub from: Option<String>,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A task as stored, with its progress and status history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    #[serde(flatten)]
    pub fields: TaskFields,
    /// `not_started`, `in_progress`, `completed` or `closed`.
    #[serde(with = "status_key")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: TaskStatus,
    #[serde(default)]
    pub progress: Vec<Progress>,
    #[serde(default)]
    pub history: Vec<StatusChange>,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
}

mod status_key {
    use lantian_core::task::TaskStatus;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &TaskStatus, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.key())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<TaskStatus, D::Error> {
        let s = String::deserialize(de)?;
        TaskStatus::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown status {s:?}")))
    }
}

impl TaskFields {
    /// What a task must have to be recorded.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Input(format!("task {}: {m}", self.number)));
        if self.number <= 0 {
            return bad("the number must be a positive integer".into());
        }
        for (name, v) in [("title", &self.title), ("problem", &self.problem), ("goal", &self.goal)] {
            if v.trim().is_empty() {
                return bad(format!("{name} is empty"));
            }
        }
        if self.units.iter().all(|u| u.trim().is_empty()) {
            return bad("no responsible unit (units)".into());
        }
        if self.measures.is_empty() || self.measures.iter().any(|m| m.trim().is_empty()) {
            return bad("measures must be a list of non-empty texts".into());
        }
        Ok(())
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_json<T: for<'de> Deserialize<'de>>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("ledger: stored {what} unreadable: {e}")))
}

fn log(tx: &mut dyn Tx, at: &str, who: &str, task_id: i64, change: String) -> Result<()> {
    tx.exec(
        "INSERT INTO audit (at, who, task_id, change) VALUES ($1, $2, $3, $4)",
        &[at.into(), who.into(), task_id.into(), change.into()],
    )?;
    Ok(())
}

fn task_id(tx: &mut dyn Tx, number: i64) -> Result<(i64, TaskStatus, TaskFields)> {
    let rows = tx.rows("SELECT id, status, doc FROM task WHERE number = $1", &[number.into()])?;
    let Some(r) = rows.first() else {
        return Err(Error::Input(format!("no task {number}")));
    };
    let status = TaskStatus::parse(r[1].text().unwrap_or_default())
        .ok_or_else(|| Error::Store(format!("task {number}: unknown stored status")))?;
    Ok((r[0].int().unwrap_or_default(), status, parse_json("task", r[2].text().unwrap_or_default())?))
}

/// Add a task (status 未启动). Refused if the number exists.
pub fn add(db: &mut dyn Db, fields: &TaskFields, who: &str) -> Result<()> {
    fields.validate()?;
    db.transaction(&mut |tx| insert(tx, fields, TaskStatus::NotStarted, who))
}

fn insert(tx: &mut dyn Tx, fields: &TaskFields, status: TaskStatus, who: &str) -> Result<()> {
    let at = now();
    if !tx.rows("SELECT id FROM task WHERE number = $1", &[fields.number.into()])?.is_empty() {
        return Err(Error::Input(format!("task {} exists already (use `task edit`)", fields.number)));
    }
    let rows = tx.rows(
        "INSERT INTO task (number, doc, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        &[fields.number.into(), json(fields).into(), status.key().into(), at.as_str().into()],
    )?;
    let id = rows.first().and_then(|r| r[0].int()).ok_or_else(|| Error::Store("ledger: no id returned".into()))?;
    tx.exec(
        "INSERT INTO task_status (task_id, at, who, from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6)",
        &[id.into(), at.as_str().into(), who.into(), Val::Text(None), status.key().into(), Val::Text(None)],
    )?;
    log(tx, &at, who, id, format!("created task {} ({})", fields.number, status.zh()))
}

/// Replace a task's fields (not its number, status or progress).
pub fn edit(db: &mut dyn Db, fields: &TaskFields, who: &str) -> Result<()> {
    fields.validate()?;
    db.transaction(&mut |tx| {
        let (id, _, old) = task_id(tx, fields.number)?;
        if old == *fields {
            return Err(Error::Input(format!("task {}: nothing changed", fields.number)));
        }
        let at = now();
        tx.exec(
            "UPDATE task SET doc = $1, updated_at = $2 WHERE id = $3",
            &[json(fields).into(), at.as_str().into(), id.into()],
        )?;
        let changed = changed_fields(&old, fields);
        log(tx, &at, who, id, format!("edited task {}: {}", fields.number, changed.join(", ")))
    })
}

fn changed_fields(a: &TaskFields, b: &TaskFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("title", a.title == b.title);
    check("source", a.source == b.source);
    check("problem", a.problem == b.problem);
    check("units", a.units == b.units);
    check("cities", a.cities == b.cities);
    check("goal", a.goal == b.goal);
    check("goal_targets", a.goal_targets == b.goal_targets);
    check("deadline", a.deadline == b.deadline);
    check("measures", a.measures == b.measures);
    out
}

/// Store evidence files under their SHA-256 in `DATA/evidence`; returns
/// the records. An existing file with that hash is kept as it is.
pub fn store_evidence(data_dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<Evidence>> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        let name = safe_name(name)?;
        let hash = format!("{:x}", Sha256::digest(bytes));
        let path = evidence_path(data_dir, &hash);
        if !path.exists() {
            let dir = path.parent().unwrap_or(data_dir);
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            // A writer killed mid-copy leaves `.HASH.tmpPID`: the same
            // content arriving again sweeps it.
            let stale = format!(".{hash}.tmp");
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().starts_with(&stale) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
            let tmp = dir.join(format!(".{hash}.tmp{}", std::process::id()));
            let write = || -> std::io::Result<()> {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
            };
            write().map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(&path, e)
            })?;
        }
        out.push(Evidence { name, sha256: hash, bytes: bytes.len() as u64, path: None });
    }
    Ok(out)
}

/// Where the evidence file with this hash is kept.
pub fn evidence_path(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("evidence").join(sha256.get(..2).unwrap_or("00")).join(sha256)
}

/// An uploaded file's name without any directory part; refused when
/// nothing is left or it hides a path.
pub fn safe_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." || base.chars().any(char::is_control) {
        return Err(Error::Input(format!("evidence file name {name:?} is not a file name")));
    }
    Ok(base.to_string())
}

/// Record a progress entry. Its evidence must already be stored
/// ([`store_evidence`]); the measure, if given, must exist.
pub fn progress(db: &mut dyn Db, number: i64, entry: &Progress, who: &str) -> Result<i64> {
    let mut new_id = 0;
    db.transaction(&mut |tx| {
        new_id = insert_progress(tx, number, entry, who, false)?;
        Ok(())
    })?;
    Ok(new_id)
}

fn insert_progress(tx: &mut dyn Tx, number: i64, entry: &Progress, who: &str, importing: bool) -> Result<i64> {
    let (id, status, fields) = task_id(tx, number)?;
    if status == TaskStatus::Closed && !importing {
        return Err(Error::Input(format!("task {number} is closed (已销号): no further progress")));
    }
    if let Some(m) = entry.measure
        && (m < 1 || m as usize > fields.measures.len())
    {
        return Err(Error::Input(format!("task {number} has measures 1..{}, not {m}", fields.measures.len())));
    }
    if entry.text.trim().is_empty() {
        return Err(Error::Input(format!("task {number}: the progress text is empty")));
    }
    if let Some(i) = entry.indicators.iter().find(|i| !i.value.is_finite() || i.name.trim().is_empty()) {
        return Err(Error::Input(format!("task {number}: indicator {:?} needs a name and a finite value", i.name)));
    }
    let at = now();
    let rows = tx.rows(
        "INSERT INTO task_progress (task_id, date, author, measure, text, indicators, evidence, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            id.into(),
            entry.date.to_string().into(),
            entry.author.as_str().into(),
            entry.measure.into(),
            entry.text.as_str().into(),
            json(&entry.indicators).into(),
            json(&entry.evidence).into(),
            at.as_str().into(),
        ],
    )?;
    let pid = rows.first().and_then(|r| r[0].int()).unwrap_or_default();
    tx.exec("UPDATE task SET updated_at = $1 WHERE id = $2", &[at.as_str().into(), id.into()])?;
    let files = entry.evidence.iter().map(|e| e.sha256.get(..12).unwrap_or_default()).collect::<Vec<_>>().join(" ");
    log(
        tx,
        &at,
        who,
        id,
        format!(
            "progress {pid} on task {number} ({}{}, {} indicators, evidence [{files}])",
            entry.date,
            entry.measure.map(|m| format!(", measure {m}")).unwrap_or_default(),
            entry.indicators.len()
        ),
    )?;
    Ok(pid)
}

/// Move a task along the workflow; refused moves name the allowed ones.
pub fn set_status(db: &mut dyn Db, number: i64, to: TaskStatus, who: &str, note: Option<&str>) -> Result<()> {
    db.transaction(&mut |tx| {
        let (id, from, _) = task_id(tx, number)?;
        check_move(from, to).map_err(|m| Error::Input(format!("task {number}: {m}")))?;
        let at = now();
        tx.exec(
            "UPDATE task SET status = $1, updated_at = $2 WHERE id = $3",
            &[to.key().into(), at.as_str().into(), id.into()],
        )?;
        tx.exec(
            "INSERT INTO task_status (task_id, at, who, from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                id.into(),
                at.as_str().into(),
                who.into(),
                from.key().into(),
                to.key().into(),
                note.map(str::to_string).into(),
            ],
        )?;
        let note = note.map(|n| format!(": {n}")).unwrap_or_default();
        log(tx, &at, who, id, format!("task {number} {} → {}{note}", from.zh(), to.zh()))
    })
}

fn load(tx: &mut dyn Tx, number: Option<i64>) -> Result<Vec<Task>> {
    let rows = match number {
        Some(n) => {
            tx.rows("SELECT id, doc, status, created_at, updated_at FROM task WHERE number = $1", &[n.into()])?
        }
        None => tx.rows("SELECT id, doc, status, created_at, updated_at FROM task ORDER BY number", &[])?,
    };
    let mut out = Vec::new();
    for r in rows {
        let id = r[0].int().unwrap_or_default();
        let fields: TaskFields = parse_json("task", r[1].text().unwrap_or_default())?;
        let status = TaskStatus::parse(r[2].text().unwrap_or_default())
            .ok_or_else(|| Error::Store(format!("task {}: unknown stored status", fields.number)))?;
        let mut progress = Vec::new();
        for p in tx.rows(
            "SELECT id, date, author, measure, text, indicators, evidence FROM task_progress WHERE task_id = $1 ORDER BY date, id",
            &[id.into()],
        )? {
            let date: Date = p[1]
                .text()
                .unwrap_or_default()
                .parse()
                .map_err(|e| Error::Store(format!("task {}: stored progress date: {e}", fields.number)))?;
            progress.push(Progress {
                id: p[0].int().unwrap_or_default(),
                date,
                author: p[2].string(),
                measure: p[3].int(),
                text: p[4].string(),
                indicators: parse_json("indicators", p[5].text().unwrap_or("[]"))?,
                evidence: parse_json("evidence", p[6].text().unwrap_or("[]"))?,
            });
        }
        let history = tx
            .rows(
                "SELECT at, who, from_status, to_status, note FROM task_status WHERE task_id = $1 ORDER BY id",
                &[id.into()],
            )?
            .into_iter()
            .map(|h| StatusChange {
                at: h[0].string(),
                who: h[1].string(),
                from: h[2].text().map(str::to_string),
                to: h[3].string(),
                note: h[4].text().map(str::to_string),
            })
            .collect();
        out.push(Task { fields, status, progress, history, created_at: r[3].string(), updated_at: r[4].string() });
    }
    Ok(out)
}

/// The audit log of task `number`: (at, who, change), oldest first.
pub fn audit(db: &mut dyn Db, number: i64) -> Result<Vec<crate::ledger::AuditEntry>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        let (id, _, _) = task_id(tx, number)?;
        out = tx
            .rows("SELECT at, who, change FROM audit WHERE task_id = $1 ORDER BY id", &[id.into()])?
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

/// Every task, by number, with progress and history.
pub fn list(db: &mut dyn Db) -> Result<Vec<Task>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = load(tx, None)?;
        Ok(())
    })?;
    Ok(out)
}

pub fn get(db: &mut dyn Db, number: i64) -> Result<Task> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = load(tx, Some(number))?;
        Ok(())
    })?;
    out.pop().ok_or_else(|| Error::Input(format!("no task {number}")))
}

/// Import tasks (the export's JSON form) in one transaction: all or none.
/// A task keeps the status it is given (recorded as set by the import);
/// its progress entries are recorded with their evidence, which must be
/// stored before (see [`store_evidence`]).
pub fn import(db: &mut dyn Db, tasks: &[ImportTask], who: &str) -> Result<usize> {
    for t in tasks {
        t.fields.validate()?;
    }
    db.transaction(&mut |tx| {
        for t in tasks {
            let status = t.status.unwrap_or(TaskStatus::NotStarted);
            insert(tx, &t.fields, status, who)?;
            for p in &t.progress {
                insert_progress(tx, t.fields.number, p, who, true)?;
            }
        }
        Ok(())
    })?;
    Ok(tasks.len())
}

/// A task as read from an import file.
#[derive(Clone, Debug, Deserialize)]
pub struct ImportTask {
    #[serde(flatten)]
    pub fields: TaskFields,
    #[serde(default, with = "opt_status")]
    pub status: Option<TaskStatus>,
    #[serde(default)]
    pub progress: Vec<Progress>,
}

mod opt_status {
    use lantian_core::task::TaskStatus;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<TaskStatus>, D::Error> {
        let s = Option::<String>::deserialize(de)?;
        s.map(|s| TaskStatus::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown status {s:?}"))))
            .transpose()
    }
}

/// Keys of a task in the JSON form (export writes them all).
const TASK_KEYS: [&str; 15] = [
    "number",
    "title",
    "source",
    "problem",
    "units",
    "cities",
    "goal",
    "goal_targets",
    "deadline",
    "measures",
    "status",
    "progress",
    "history",
    "created_at",
    "updated_at",
];

/// Read an import file: one task or a list, in the export's JSON form.
/// Errors name the file, line and column. Evidence given by `path` is read
/// relative to the file and stored; evidence given by `sha256` must exist.
pub fn read_import(data_dir: &Path, file: &Path) -> Result<Vec<ImportTask>> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| Error::Input(format!("{} line {} column {}: {e}", file.display(), e.line(), e.column())))?;
    let list = match value {
        serde_json::Value::Array(a) => a,
        v => vec![v],
    };
    let mut out = Vec::new();
    for (i, v) in list.into_iter().enumerate() {
        // Flattened fields cannot deny unknown keys in serde: check by hand,
        // so a misspelt key is an error, not a silently dropped field.
        if let Some(obj) = v.as_object()
            && let Some(k) = obj.keys().find(|k| !TASK_KEYS.contains(&k.as_str()))
        {
            return Err(Error::Input(format!(
                "{}: task #{} of the file: unknown field `{k}` (known: {})",
                file.display(),
                i + 1,
                TASK_KEYS.join(", ")
            )));
        }
        let mut t: ImportTask = serde_json::from_value(v)
            .map_err(|e| Error::Input(format!("{}: task #{} of the file: {e}", file.display(), i + 1)))?;
        let base = file.parent().unwrap_or(Path::new("."));
        for p in &mut t.progress {
            for e in &mut p.evidence {
                match &e.path {
                    Some(rel) => {
                        let src = base.join(rel);
                        let bytes = std::fs::read(&src).map_err(|err| Error::io(&src, err))?;
                        *e = store_evidence(data_dir, &[(e.name.clone(), bytes)])?.remove(0);
                    }
                    None => {
                        if !evidence_path(data_dir, &e.sha256).is_file() {
                            return Err(Error::Input(format!(
                                "{}: task {}: evidence {:?} ({}) is not in this data directory",
                                file.display(),
                                t.fields.number,
                                e.name,
                                e.sha256
                            )));
                        }
                    }
                }
            }
        }
        out.push(t);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> TaskFields {
        TaskFields {
            number: 46,
            title: "第四十六项整改任务".into(),
            source: "第一轮中央生态环境保护督察“回头看”".into(),
            problem: "大气环境质量不升反降".into(),
            units: vec!["自贡市委、市政府".into()],
            cities: vec!["自贡".into()],
            goal: "完成大气环境质量目标".into(),
            goal_targets: vec![GoalTargets { year: 2019, areas: vec!["自贡".into()] }],
            deadline: Some(jiff::civil::date(2020, 12, 31)),
            measures: vec!["主要负责同志亲自抓".into(), "实施蓝天保卫战".into()],
        }
    }

    /// The task suite, run on every backend.
    pub(crate) fn suite(db: &mut dyn Db, data: &Path) {
        let f = sample();
        add(db, &f, "省厅").unwrap();
        let e = add(db, &f, "省厅").unwrap_err().to_string();
        assert!(e.contains("exists"), "{e}");
        // Workflow: skipping a step is refused, with the allowed moves named.
        let e = set_status(db, 46, TaskStatus::Completed, "x", None).unwrap_err().to_string();
        assert!(e.contains("未启动") && e.contains("推进中 (in_progress)"), "{e}");
        set_status(db, 46, TaskStatus::InProgress, "自贡市生态环境局", None).unwrap();
        let ev = store_evidence(data, &[("../../etc/报告.pdf".into(), b"%PDF-1.4 evidence".to_vec())]).unwrap();
        assert_eq!(ev[0].name, "报告.pdf", "directory parts are dropped");
        let again = store_evidence(data, &[("copy.pdf".into(), b"%PDF-1.4 evidence".to_vec())]).unwrap();
        assert_eq!(again[0].sha256, ev[0].sha256, "content-addressed");
        assert_eq!(std::fs::read(evidence_path(data, &ev[0].sha256)).unwrap(), b"%PDF-1.4 evidence");
        let entry = Progress {
            id: 0,
            date: jiff::civil::date(2020, 6, 30),
            author: "自贡市生态环境局".into(),
            measure: Some(2),
            text: "完成燃煤电厂超低排放改造".into(),
            indicators: vec![Indicator { name: "超低排放改造".into(), value: 510.0, unit: "万千瓦".into() }],
            evidence: ev.clone(),
        };
        progress(db, 46, &entry, "自贡市生态环境局").unwrap();
        let bad = Progress { measure: Some(3), ..entry.clone() };
        assert!(progress(db, 46, &bad, "x").unwrap_err().to_string().contains("measures 1..2"));
        assert!(progress(db, 47, &entry, "x").unwrap_err().to_string().contains("no task 47"));
        let mut g = f.clone();
        g.goal = "推动8市完成大气环境质量目标".into();
        edit(db, &g, "省厅").unwrap();
        assert!(edit(db, &g, "省厅").unwrap_err().to_string().contains("nothing changed"));
        set_status(db, 46, TaskStatus::Completed, "自贡市生态环境局", None).unwrap();
        set_status(db, 46, TaskStatus::Closed, "省厅", Some("现场核查通过")).unwrap();
        assert!(progress(db, 46, &entry, "x").unwrap_err().to_string().contains("closed"));
        assert!(set_status(db, 46, TaskStatus::InProgress, "x", None).unwrap_err().to_string().contains("final"));
        let t = get(db, 46).unwrap();
        assert_eq!(t.status, TaskStatus::Closed);
        assert_eq!(t.fields.goal, g.goal);
        assert_eq!(t.progress.len(), 1);
        assert_eq!(t.progress[0].indicators[0].value, 510.0);
        assert_eq!(t.progress[0].evidence, ev);
        let log = audit(db, 46).unwrap();
        assert_eq!(log.len(), 6, "{log:?}");
        assert_eq!(log[0].change, "created task 46 (未启动)");
        assert_eq!(log[5].change, "task 46 已完成 → 已销号: 现场核查通过");
        let moves: Vec<&str> = t.history.iter().map(|h| h.to.as_str()).collect();
        assert_eq!(moves, ["not_started", "in_progress", "completed", "closed"]);
        assert_eq!(t.history[3].note.as_deref(), Some("现场核查通过"));
        // Export → import into a fresh ledger gives the same task.
        let exported = serde_json::to_string(&t).unwrap();
        let back: ImportTask = serde_json::from_str(&exported).unwrap();
        assert_eq!(back.fields, t.fields);
        assert_eq!(back.status, Some(TaskStatus::Closed));
        // A failing import (second task invalid) leaves nothing.
        let mut other = back.clone();
        other.fields.number = 47;
        let mut broken = back.clone();
        broken.fields.number = 48;
        broken.progress[0].measure = Some(9);
        assert!(import(db, &[other.clone(), broken], "导入").is_err());
        assert!(get(db, 47).is_err(), "a failed import leaves no task behind");
        assert_eq!(import(db, &[other], "导入").unwrap(), 1);
        assert_eq!(list(db).unwrap().len(), 2);
    }

    #[test]
    fn sqlite_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = crate::ledger::SqliteLedger::open(dir.path()).unwrap();
        suite(&mut l, dir.path());
        let probe = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
        let n: i64 = probe.query_row("SELECT count(*) FROM audit WHERE task_id IS NOT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 8, "every write audited");
        assert!(probe.execute("UPDATE audit SET who = 'x'", []).is_err(), "audit log append-only");
    }

    #[test]
    fn postgres_tasks() {
        let Some(url) = crate::ledger::test_pg("tasks") else {
            eprintln!("LANTIAN_TEST_PG not set: PostgreSQL task test skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut l = crate::ledger::PgLedger::open(&url).unwrap();
        suite(&mut l, dir.path());
    }

    #[test]
    fn names() {
        assert_eq!(safe_name("C:\\Users\\x\\a.jpg").unwrap(), "a.jpg");
        assert!(safe_name("../").is_err());
        assert!(safe_name("..").is_err());
        assert!(safe_name("a\nb").is_err());
    }
}
