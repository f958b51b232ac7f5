//! Sessions of the web dashboard, kept in the ledger (schema v7) so that a
//! restart keeps people logged in and every process sharing the ledger
//! sees a session ended or an account disabled.
//!
//! Only the SHA-256 of a session token is stored, never the token: whoever
//! reads the database (a backup, say) cannot log in with it. The token is
//! 256 random bits, so a fast hash is enough (there is no dictionary to
//! try), and a check costs microseconds where argon2 would cost tens of
//! milliseconds per request. The CSRF token is stored as is: it is useless
//! without the cookie, and the page reads it back from `/api/me`.
//!
//! Times are Unix seconds (BIGINT), so expiry compares as numbers on both
//! backends. A session's user is joined on every check: a disabled account's
//! sessions are refused even before their rows are deleted.

use crate::sql::{Db, Val};
use crate::users::User;
use crate::{Error, Result};
use sha2::{Digest, Sha256};

/// `last_seen` is written at most this often (seconds) per session, so that
/// reading pages does not turn every request into a write.
pub const TOUCH_EVERY: i64 = 60;

/// A user agent longer than this is cut (it is shown, never parsed).
const AGENT_MAX: usize = 200;

/// A session as the ledger holds it (the token itself is not there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session's public id (what a user names to end it; not the token).
    pub id: i64,
    pub user: User,
    pub csrf: String,
    /// Unix seconds.
    pub created: i64,
    pub last_seen: i64,
    pub expires: i64,
    pub agent: Option<String>,
    pub address: Option<String>,
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// What the ledger stores for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

fn session(r: &[Val]) -> Session {
    Session {
        id: r[0].int().unwrap_or_default(),
        user: User { name: r[1].string(), role: r[2].string(), city: r[3].text().map(str::to_string), enabled: true },
        csrf: r[4].string(),
        created: r[5].int().unwrap_or_default(),
        last_seen: r[6].int().unwrap_or_default(),
        expires: r[7].int().unwrap_or_default(),
        agent: r[8].text().map(str::to_string),
        address: r[9].text().map(str::to_string),
    }
}

/// Start a session of `user` (an enabled account) lasting `ttl` seconds from
/// `now`; returns the token for the cookie (the ledger keeps only its hash)
/// and the session. Expired sessions of everyone are purged on the way.
pub fn create(
    db: &mut dyn Db,
    user: &str,
    now: i64,
    ttl: i64,
    agent: Option<&str>,
    address: Option<&str>,
) -> Result<(String, Session)> {
    let token = crate::users::random_token();
    let (hash, csrf) = (token_hash(&token), crate::users::random_token());
    let agent: Option<String> = agent.map(|a| a.chars().filter(|c| !c.is_control()).take(AGENT_MAX).collect());
    let mut out = None;
    db.transaction(&mut |tx| {
        tx.exec("DELETE FROM app_session WHERE expires <= $1", &[now.into()])?;
        let row = tx.rows("SELECT id FROM app_user WHERE name = $1 AND enabled = 1", &[user.into()])?;
        let Some(user_id) = row.first().and_then(|r| r[0].int()) else {
            return Err(Error::Input(format!("no enabled user {user}")));
        };
        let id = tx.rows(
            "INSERT INTO app_session (token_hash, user_id, csrf, created, last_seen, expires, agent, address)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
            &[
                hash.as_str().into(),
                user_id.into(),
                csrf.as_str().into(),
                now.into(),
                (now + ttl).into(),
                agent.clone().into(),
                address.map(str::to_string).into(),
            ],
        )?;
        let id = id.first().and_then(|r| r[0].int()).unwrap_or_default();
        out = tx.rows(&format!("{SELECT} WHERE s.id = $1"), &[id.into()])?.first().map(|r| session(r));
        Ok(())
    })?;
    let s = out.ok_or_else(|| Error::Store("the new session was not found".into()))?;
    Ok((token, s))
}

const SELECT: &str =
    "SELECT s.id, u.name, u.role, u.city, s.csrf, s.created, s.last_seen, s.expires, s.agent, s.address
     FROM app_session s JOIN app_user u ON u.id = s.user_id";

/// The live session of `token` at `now`: known, not expired, its account
/// enabled. Its `last_seen` is moved to `now` when older than `TOUCH_EVERY`.
pub fn check(db: &mut dyn Db, token: &str, now: i64) -> Result<Option<Session>> {
    let hash = token_hash(token);
    let mut found = None;
    db.transaction(&mut |tx| {
        found = tx
            .rows(
                &format!("{SELECT} WHERE s.token_hash = $1 AND s.expires > $2 AND u.enabled = 1"),
                &[hash.as_str().into(), now.into()],
            )?
            .first()
            .map(|r| session(r));
        Ok(())
    })?;
    // A separate write, only now and then: a read that upgrades to a write
    // in one SQLite transaction can fail at once when another writer got in.
    if let Some(s) = &mut found
        && s.last_seen <= now - TOUCH_EVERY
    {
        db.transaction(&mut |tx| {
            tx.exec("UPDATE app_session SET last_seen = $1 WHERE id = $2", &[now.into(), s.id.into()])?;
            Ok(())
        })?;
        s.last_seen = now;
    }
    Ok(found)
}

/// `user`'s live sessions at `now`, the newest first.
pub fn list(db: &mut dyn Db, user: &str, now: i64) -> Result<Vec<Session>> {
    let mut out = Vec::new();
    db.transaction(&mut |tx| {
        out = tx
            .rows(
                &format!("{SELECT} WHERE u.name = $1 AND s.expires > $2 ORDER BY s.created DESC, s.id DESC"),
                &[user.into(), now.into()],
            )?
            .iter()
            .map(|r| session(r))
            .collect();
        Ok(())
    })?;
    Ok(out)
}

/// End `user`'s session `id` (logging out, or ending it from the list);
/// false when `user` has no such session (someone else's is not touched).
/// With `audit`, the end is written to the audit log as `who`'s.
pub fn end(db: &mut dyn Db, user: &str, id: i64, audit: bool) -> Result<bool> {
    let mut ended = false;
    db.transaction(&mut |tx| {
        ended = tx.exec(
            "DELETE FROM app_session WHERE id = $1 AND user_id = (SELECT id FROM app_user WHERE name = $2)",
            &[id.into(), user.into()],
        )? > 0;
        if ended && audit {
            tx.exec(
                "INSERT INTO audit (at, who, change) VALUES ($1, $2, $3)",
                &[
                    jiff::Timestamp::now().to_string().into(),
                    user.into(),
                    format!("session {id} of {user} ended").into(),
                ],
            )?;
        }
        Ok(())
    })?;
    Ok(ended)
}

/// Delete the sessions expired at `now`; the number deleted.
pub fn purge(db: &mut dyn Db, now: i64) -> Result<u64> {
    let mut n = 0;
    db.transaction(&mut |tx| {
        n = tx.exec("DELETE FROM app_session WHERE expires <= $1", &[now.into()])?;
        Ok(())
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Tx;
    use crate::users;

    const T0: i64 = 1_800_000_000;

    fn count(db: &mut dyn Db) -> i64 {
        let mut n = 0;
        db.transaction(&mut |tx| {
            n = tx.rows("SELECT count(*) FROM app_session", &[])?[0][0].int().unwrap();
            Ok(())
        })
        .unwrap();
        n
    }

    /// The sessions suite, run on every backend.
    fn suite(db: &mut dyn Db) {
        users::add(db, "admin", "admin-password", "admin", None, "setup").unwrap();
        users::add(db, "chengdu", "chengdu-password", "city", Some("成都"), "setup").unwrap();
        let agent = format!("Mozilla/5.0 {}\n", "x".repeat(300));
        let (t1, s1) = create(db, "admin", T0, 3600, Some(&agent), Some("127.0.0.1:5000")).unwrap();
        assert_eq!((s1.user.role.as_str(), s1.created, s1.last_seen, s1.expires), ("admin", T0, T0, T0 + 3600));
        assert_eq!(s1.agent.as_ref().unwrap().chars().count(), AGENT_MAX, "cut, control characters dropped");
        assert_eq!(s1.address.as_deref(), Some("127.0.0.1:5000"));
        assert!(create(db, "nobody", T0, 3600, None, None).is_err());
        // Only the hash is stored.
        let mut stored = Vec::new();
        db.transaction(&mut |tx| {
            stored = tx.rows("SELECT token_hash, csrf FROM app_session", &[])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(stored, vec![vec![Val::from(token_hash(&t1)), Val::from(s1.csrf.clone())]]);
        assert_eq!(token_hash(&t1).len(), 64);
        assert_ne!(token_hash(&t1), t1);

        // A check finds it, and moves last_seen only now and then.
        assert_eq!(check(db, &t1, T0 + 10).unwrap().unwrap(), s1);
        assert_eq!(check(db, &t1, T0 + TOUCH_EVERY).unwrap().unwrap().last_seen, T0 + TOUCH_EVERY);
        assert_eq!(check(db, &t1, T0 + TOUCH_EVERY + 1).unwrap().unwrap().last_seen, T0 + TOUCH_EVERY);
        assert!(check(db, "not a token", T0).unwrap().is_none());
        assert!(check(db, &t1, T0 + 3600).unwrap().is_none(), "expired");

        // Own sessions, newest first; ending someone else's does nothing.
        let (t2, s2) = create(db, "admin", T0 + 5, 3600, None, None).unwrap();
        let (t3, s3) = create(db, "chengdu", T0 + 6, 3600, None, None).unwrap();
        let ids = |v: Vec<Session>| v.iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(list(db, "admin", T0 + 7).unwrap()), vec![s2.id, s1.id]);
        assert_eq!(ids(list(db, "chengdu", T0 + 7).unwrap()), vec![s3.id]);
        assert!(!end(db, "chengdu", s1.id, true).unwrap(), "not chengdu's");
        assert!(check(db, &t1, T0 + 7).unwrap().is_some());
        assert!(end(db, "admin", s2.id, true).unwrap());
        assert!(!end(db, "admin", s2.id, true).unwrap(), "already ended");
        assert!(check(db, &t2, T0 + 7).unwrap().is_none());
        let audit = crate::ledger::last_change(db).unwrap();
        assert!(!end(db, "admin", 9_999_999, true).unwrap());
        assert_eq!(crate::ledger::last_change(db).unwrap(), audit, "nothing ended, nothing audited");

        // Disabling an account ends its sessions; a new password too.
        users::set_enabled(db, "chengdu", false, "admin").unwrap();
        assert!(check(db, &t3, T0 + 8).unwrap().is_none());
        assert!(list(db, "chengdu", T0 + 8).unwrap().is_empty());
        assert!(create(db, "chengdu", T0 + 8, 3600, None, None).is_err(), "disabled");
        let (t4, _) = create(db, "admin", T0 + 9, 3600, None, None).unwrap();
        users::set_password(db, "admin", "another-password", "admin").unwrap();
        assert!(check(db, &t1, T0 + 9).unwrap().is_none() && check(db, &t4, T0 + 9).unwrap().is_none());

        // Expired sessions are purged (by a login too).
        create(db, "admin", T0, 10, None, None).unwrap();
        create(db, "admin", T0, 100, None, None).unwrap();
        assert_eq!(purge(db, T0 + 10).unwrap(), 1);
        assert_eq!(count(db), 1);
        create(db, "admin", T0 + 200, 10, None, None).unwrap();
        assert_eq!(count(db), 1, "the login purged the expired one");
    }

    #[test]
    fn sqlite_sessions() {
        let dir = tempfile::tempdir().unwrap();
        suite(&mut crate::ledger::SqliteLedger::open(dir.path()).unwrap());
    }

    #[test]
    fn postgres_sessions() {
        let Some(url) = crate::ledger::test_pg("sessions") else { return };
        suite(&mut crate::ledger::PgLedger::open(&url).unwrap());
    }

    /// A ledger of schema v6 (before sessions) opens, migrates to v7 and
    /// keeps its accounts, which can then log in.
    fn after_migration(db: &mut dyn Db) {
        assert!(users::verify(db, "old", "old-password").unwrap().is_some());
        let (t, s) = create(db, "old", T0, 60, None, None).unwrap();
        assert_eq!(check(db, &t, T0 + 1).unwrap().unwrap().id, s.id);
    }

    #[test]
    fn sqlite_v6_migrates() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
            let tx = conn.transaction().unwrap();
            for m in &crate::ledger::sqlite_migrations()[..6] {
                tx.execute_batch(m).unwrap();
            }
            tx.pragma_update(None, "user_version", 6).unwrap();
            tx.commit().unwrap();
            users::add(&mut Raw(conn), "old", "old-password", "viewer", None, "setup").unwrap();
        }
        let mut l = crate::ledger::SqliteLedger::open(dir.path()).unwrap();
        after_migration(&mut l);
        let probe = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
        let v: i64 = probe.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, 7);
    }

    /// A bare SQLite connection at an old schema, for writing its rows.
    struct Raw(rusqlite::Connection);

    impl Db for Raw {
        fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
            let tx = self.0.transaction().unwrap();
            f(&mut crate::sql::SqliteTx(&tx))?;
            tx.commit().map_err(|e| Error::Store(e.to_string()))
        }
    }

    /// A bare PostgreSQL connection at an old schema.
    struct RawPg(postgres::Client);

    impl Db for RawPg {
        fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
            let mut tx = self.0.transaction().unwrap();
            f(&mut crate::sql::PgTx(&mut tx))?;
            tx.commit().map_err(|e| Error::Store(e.to_string()))
        }
    }

    #[test]
    fn postgres_v6_migrates() {
        let Some(url) = crate::ledger::test_pg("sessions_v6") else { return };
        {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let mut tx = c.transaction().unwrap();
            tx.batch_execute("CREATE TABLE lantian_schema (version INTEGER NOT NULL)").unwrap();
            for m in &crate::ledger::pg_migrations()[..6] {
                tx.batch_execute(m).unwrap();
            }
            tx.execute("INSERT INTO lantian_schema (version) VALUES (6)", &[]).unwrap();
            tx.commit().unwrap();
        }
        let c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        users::add(&mut RawPg(c), "old", "old-password", "viewer", None, "setup").unwrap();
        let mut l = crate::ledger::PgLedger::open(&url).unwrap();
        after_migration(&mut l);
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let v: i32 = c.query_one("SELECT version FROM lantian_schema", &[]).unwrap().get(0);
        assert_eq!(v, 7);
    }
}
