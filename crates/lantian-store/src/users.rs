//! Accounts of the web dashboard: a name, an argon2 password hash (PHC
//! string, salt from the OS), a role and, for a city officer, the city.
//! Written over the SQL seam like the tasks, every change audited.
//!
//! Roles: `admin` (province administrator), `analyst` (province analyst),
//! `city` (city officer: the public tables, and writes only for its city),
//! `viewer` (read-only).

use crate::sql::{Db, Tx, Val};
use crate::{Error, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub const ROLES: [&str; 4] = ["admin", "analyst", "city", "viewer"];

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub name: String,
    pub role: String,
    /// The city a `city` officer answers for.
    pub city: Option<String>,
    pub enabled: bool,
}

fn hash(password: &str) -> Result<String> {
    if password.chars().count() < 8 {
        return Err(Error::Input("a password needs at least 8 characters".into()));
    }
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Store(format!("password hash: {e}")))
}

/// A random token (sessions, CSRF, demo passwords): 32 bytes from the OS, hex.
pub fn random_token() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn audit(tx: &mut dyn crate::sql::Tx, who: &str, change: String) -> Result<()> {
    tx.exec("INSERT INTO audit (at, who, change) VALUES ($1, $2, $3)", &[now().into(), who.into(), change.into()])?;
    Ok(())
}

fn validate(name: &str, role: &str, city: Option<&str>) -> Result<()> {
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::Input(format!("user name {name:?}: 1–64 characters")));
    }
    if !ROLES.contains(&role) {
        return Err(Error::Input(format!("role {role:?}: one of {}", ROLES.join(", "))));
    }
    match (role, city) {
        ("city", None) => Err(Error::Input("a city officer needs --city".into())),
        ("city", Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(Error::Input(format!("only a city officer has a city, not a {role}"))),
    }
}

pub fn add(db: &mut dyn Db, name: &str, password: &str, role: &str, city: Option<&str>, who: &str) -> Result<()> {
    validate(name, role, city)?;
    let h = hash(password)?;
    db.transaction(&mut |tx| {
        if !tx.rows("SELECT id FROM app_user WHERE name = $1", &[name.into()])?.is_empty() {
            return Err(Error::Input(format!("user {name} exists already")));
        }
        tx.exec(
            "INSERT INTO app_user (name, hash, role, city, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                name.into(),
                h.as_str().into(),
                role.into(),
                city.map(str::to_string).into(),
                Val::Int(Some(1)),
                now().into(),
            ],
        )?;
        audit(tx, who, format!("user {name} added ({role}{})", city.map(|c| format!(", {c}")).unwrap_or_default()))
    })
}

pub fn set_password(db: &mut dyn Db, name: &str, password: &str, who: &str) -> Result<()> {
    let h = hash(password)?;
    db.transaction(&mut |tx| {
        if tx.exec("UPDATE app_user SET hash = $1 WHERE name = $2", &[h.as_str().into(), name.into()])? == 0 {
            return Err(Error::Input(format!("no user {name}")));
        }
        // A new password is often a suspected leak: whoever is logged in logs in again.
        end_sessions(tx, name)?;
        audit(tx, who, format!("password of {name} changed"))
    })
}

pub fn set_enabled(db: &mut dyn Db, name: &str, enabled: bool, who: &str) -> Result<()> {
    db.transaction(&mut |tx| {
        let n = tx.exec(
            "UPDATE app_user SET enabled = $1 WHERE name = $2",
            &[Val::Int(Some(i64::from(enabled))), name.into()],
        )?;
        if n == 0 {
            return Err(Error::Input(format!("no user {name}")));
        }
        if !enabled {
            // Every server sharing the ledger refuses them from its next check.
            end_sessions(tx, name)?;
        }
        audit(tx, who, format!("user {name} {}", if enabled { "enabled" } else { "disabled" }))
    })
}

pub fn list(db: &mut dyn Db) -> Result<Vec<User>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = tx
            .rows("SELECT name, role, city, enabled FROM app_user ORDER BY name", &[])?
            .into_iter()
            .map(|r| User {
                name: r[0].string(),
                role: r[1].string(),
                city: r[2].text().map(str::to_string),
                enabled: r[3].int() == Some(1),
            })
            .collect();
        Ok(())
    })?;
    Ok(out)
}

/// The user, if the name exists, is enabled and the password matches.
/// Unknown names cost a hash check too, so timing does not tell which part failed.
pub fn verify(db: &mut dyn Db, name: &str, password: &str) -> Result<Option<User>> {
    let mut row = None;
    db.transaction(&mut |tx| {
        row = tx
            .rows("SELECT name, role, city, enabled, hash FROM app_user WHERE name = $1", &[name.into()])?
            .into_iter()
            .next();
        Ok(())
    })?;
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = || DUMMY.get_or_init(|| hash("not a password of anyone").unwrap_or_default()).clone();
    let stored = row.as_ref().map_or_else(dummy, |r| r[4].string());
    let ok = PasswordHash::new(&stored)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    Ok(row.filter(|r| ok && r[3].int() == Some(1)).map(|r| User {
        name: r[0].string(),
        role: r[1].string(),
        city: r[2].text().map(str::to_string),
        enabled: true,
    }))
}

/// End every session of `user`, inside the caller's transaction (an account
/// disabled or given a new password); the number ended.
pub(crate) fn end_sessions(tx: &mut dyn Tx, user: &str) -> Result<u64> {
    tx.exec("DELETE FROM app_session WHERE user_id = (SELECT id FROM app_user WHERE name = $1)", &[user.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(db: &mut dyn Db) {
        add(db, "省厅管理员", "correct horse", "admin", None, "setup").unwrap();
        add(db, "chengdu", "chengdu-pass", "city", Some("成都"), "setup").unwrap();
        assert!(add(db, "x", "short", "viewer", None, "setup").unwrap_err().to_string().contains("8 characters"));
        assert!(add(db, "y", "long enough", "city", None, "setup").is_err(), "a city officer needs a city");
        assert!(add(db, "z", "long enough", "analyst", Some("成都"), "setup").is_err());
        assert!(add(db, "w", "long enough", "root", None, "setup").is_err());
        assert!(add(db, "chengdu", "whatever1", "viewer", None, "setup").unwrap_err().to_string().contains("exists"));
        let u = verify(db, "chengdu", "chengdu-pass").unwrap().unwrap();
        assert_eq!((u.role.as_str(), u.city.as_deref()), ("city", Some("成都")));
        assert!(verify(db, "chengdu", "wrong-pass").unwrap().is_none());
        assert!(verify(db, "nobody", "chengdu-pass").unwrap().is_none());
        set_password(db, "chengdu", "new-password", "admin").unwrap();
        assert!(verify(db, "chengdu", "chengdu-pass").unwrap().is_none());
        assert!(verify(db, "chengdu", "new-password").unwrap().is_some());
        set_enabled(db, "chengdu", false, "admin").unwrap();
        assert!(verify(db, "chengdu", "new-password").unwrap().is_none(), "disabled");
        assert_eq!(list(db).unwrap().len(), 2);
    }

    #[test]
    fn sqlite_users() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = crate::ledger::SqliteLedger::open(dir.path()).unwrap();
        suite(&mut l);
        let probe = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
        let h: String = probe.query_row("SELECT hash FROM app_user WHERE name = 'chengdu'", [], |r| r.get(0)).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
    }

    #[test]
    fn postgres_users() {
        let Some(url) = crate::ledger::test_pg("users") else { return };
        suite(&mut crate::ledger::PgLedger::open(&url).unwrap());
    }
}
