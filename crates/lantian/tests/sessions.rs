//! Dashboard sessions kept in the ledger: they survive the server being
//! killed and started again, a user lists and ends their own (never
//! another's), logging out deletes the row, and `lantian user disable` run
//! in another process while the server runs ends an account's sessions;
//! two servers sharing one PostgreSQL ledger see each other's sessions.

use crate::common::lantian;
use crate::web::{Reply, conforms, login, request, server, spawn};
use lantian_store::ledger::{Ledger, SqliteLedger};
use lantian_store::sql::Val;
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows of the server's SQLite ledger, read by another connection.
fn rows(data: &Path, sql: &str) -> Vec<Vec<Val>> {
    let mut l = SqliteLedger::open(data).unwrap();
    let mut out = Vec::new();
    l.db()
        .transaction(&mut |tx| {
            out = tx.rows(sql, &[])?;
            Ok(())
        })
        .unwrap();
    out
}

fn sessions_of(data: &Path, user: &str) -> usize {
    rows(data, &format!("SELECT s.id FROM app_session s JOIN app_user u ON u.id = s.user_id WHERE u.name = '{user}'"))
        .len()
}

fn token(cookie: &str) -> &str {
    cookie.strip_prefix("lantian_session=").unwrap()
}

fn post(port: u16, path: &str, cookie: &str, csrf: &str, body: Option<&str>) -> Reply {
    request(port, "POST", path, &[("Cookie", cookie), ("X-CSRF-Token", csrf)], body)
}

#[test]
fn sessions_in_the_ledger() {
    let mut srv = server();
    let data = srv.data.clone();
    // The admin in two browsers (the first one named), a city officer.
    let agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
    let r = request(
        srv.port,
        "POST",
        "/api/login",
        &[("User-Agent", agent)],
        Some(r#"{"name":"admin","password":"admin-password"}"#),
    );
    assert_eq!(r.status, 200);
    let c1 = r.headers.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap().split(';').next().unwrap();
    let (c1, x1) = (c1.to_string(), r.body["csrf"].as_str().unwrap().to_string());
    let (c2, _x2) = login(srv.port, "admin", "admin-password");
    let (c3, x3) = login(srv.port, "chengdu", "chengdu-password");

    // The ledger holds the tokens' hashes, never the tokens.
    let stored = rows(&data, "SELECT token_hash, csrf, agent FROM app_session ORDER BY id");
    assert_eq!(stored.len(), 3);
    let hashes: Vec<String> = stored.iter().map(|r| r[0].string()).collect();
    for c in [&c1, &c2, &c3] {
        assert!(hashes.contains(&lantian_store::sessions::token_hash(token(c))));
        assert!(!hashes.iter().any(|h| h == token(c)), "a token stored as is");
    }
    assert_eq!(stored[0][1].string(), x1);
    assert_eq!(stored[0][2].string(), agent);

    // Killed and started again: the cookies still work, for reads and writes.
    srv.restart();
    let port = srv.port;
    let me = request(port, "GET", "/api/me", &[("Cookie", &c1)], None);
    assert_eq!(
        (me.status, me.body["name"].as_str(), me.body["csrf"].as_str()),
        (200, Some("admin"), Some(x1.as_str()))
    );
    let open = request(port, "GET", "/api/actions", &[("Cookie", &c1)], None).body;
    let action = open.as_array().unwrap().iter().find(|a| a["status"] == "open").unwrap()["id"].as_i64().unwrap();
    let ack = post(port, &format!("/api/actions/{action}"), &c1, &x1, Some(r#"{"change":"ack"}"#));
    assert_eq!(ack.status, 200, "{:?}", ack.body);
    assert_eq!(post(port, "/api/logout", &c1, &x3, None).status, 403, "another session's CSRF token");

    // The admin's own sessions, the one asking marked.
    let doc = request(port, "GET", "/api/openapi.json", &[], None).body;
    // Documented, so the anonymous-writes test (which walks the document) covers the write.
    assert!(doc["paths"]["/api/sessions/{id}/end"]["post"]["responses"]["404"].is_object());
    let list = request(port, "GET", "/api/sessions", &[("Cookie", &c1)], None);
    assert_eq!(list.status, 200);
    conforms(
        &list.body,
        &doc["paths"]["/api/sessions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        &doc,
        "sessions",
    );
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    let current: Vec<_> = items.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["agent"], agent);
    assert_eq!(current[0]["address"], "127.0.0.1");
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    assert!(!list.body.to_string().contains(token(&c1)) && !list.body.to_string().contains(token(&c2)));
    let mine = request(port, "GET", "/api/sessions", &[("Cookie", &c3)], None).body;
    assert_eq!(mine.as_array().unwrap().len(), 1, "only one's own: {mine}");

    // Someone else's session is 404 and stays; one's own other session ends at once.
    let theirs = post(port, &format!("/api/sessions/{other}/end"), &c3, &x3, None);
    assert_eq!(theirs.status, 404, "{:?}", theirs.body);
    assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c2)], None).status, 200);
    assert_eq!(post(port, &format!("/api/sessions/{other}/end"), &c1, &x1, None).status, 200);
    assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c2)], None).status, 401, "ended at once");
    assert_eq!(post(port, &format!("/api/sessions/{other}/end"), &c1, &x1, None).status, 404, "ended already");
    assert_eq!(request(port, "GET", "/api/sessions", &[("Cookie", &c1)], None).body.as_array().unwrap().len(), 1);
    let audit = rows(&data, &format!("SELECT who FROM audit WHERE change = 'session {other} of admin ended'"));
    assert_eq!(audit, vec![vec![Val::from("admin")]]);

    // Logging out deletes the row.
    assert_eq!(sessions_of(&data, "admin"), 1);
    assert_eq!(post(port, "/api/logout", &c1, &x1, None).status, 200);
    assert_eq!(sessions_of(&data, "admin"), 0);
    assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c1)], None).status, 401);

    // `lantian user disable` in another process while the server runs (and
    // has the session cached): refused within the server's recheck (2 s).
    assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c3)], None).status, 200);
    let out = lantian(&["--data", data.to_str().unwrap(), "user", "disable", "chengdu", "--by", "admin"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = Instant::now();
    while request(port, "GET", "/api/me", &[("Cookie", &c3)], None).status != 401 {
        assert!(t.elapsed() < Duration::from_secs(3), "a disabled account's session still works");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sessions_of(&data, "chengdu"), 0);
    assert_eq!(post(port, "/api/logout", &c3, &x3, None).status, 401);
    assert_eq!(request(port, "GET", "/api/sessions", &[("Cookie", &c3)], None).status, 401);
}

/// A `lantian serve` process, killed when dropped.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Requests with `cookie` to `port` answer 401 within the servers' recheck
/// (2 s) of a session ended elsewhere.
fn refused_soon(port: u16, cookie: &str) {
    let t = Instant::now();
    while request(port, "GET", "/api/me", &[("Cookie", cookie)], None).status != 401 {
        assert!(t.elapsed() < Duration::from_secs(3), "a session ended elsewhere still works on :{port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Two servers on one PostgreSQL ledger (as behind a load balancer): a
/// session made on one works on the other, and ended on one, or by
/// `lantian user disable`, it is refused by both.
#[test]
fn two_servers_share_sessions_in_postgres() {
    let Some(url) = lantian_store::ledger::test_pg("web_sessions") else {
        eprintln!("LANTIAN_TEST_PG not set: sessions on PostgreSQL skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::real_data::copy_dir(crate::common::sample_store(), &data);
    let d = data.to_str().unwrap();
    for name in ["admin", "analyst"] {
        let out = lantian(&[
            "--data",
            d,
            "--database",
            &url,
            "user",
            "add",
            name,
            "--role",
            name,
            "--password",
            "long-password",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (a, pa) = spawn(&data, &["--database", &url]);
    let (b, pb) = spawn(&data, &["--database", &url]);
    let (_a, _b) = (Serving(a), Serving(b));
    let (c1, x1) = login(pa, "admin", "long-password");
    let (c2, _) = login(pa, "admin", "long-password");
    let (c3, _) = login(pb, "analyst", "long-password");
    for port in [pa, pb] {
        assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c1)], None).status, 200);
        assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c2)], None).status, 200);
        assert_eq!(request(port, "GET", "/api/me", &[("Cookie", &c3)], None).status, 200);
    }
    // Ended on b: at once there, within the recheck on a (which has it cached).
    let list = request(pb, "GET", "/api/sessions", &[("Cookie", &c1)], None).body;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    assert_eq!(post(pb, &format!("/api/sessions/{other}/end"), &c1, &x1, None).status, 200);
    assert_eq!(request(pb, "GET", "/api/me", &[("Cookie", &c2)], None).status, 401);
    refused_soon(pa, &c2);
    assert_eq!(request(pa, "GET", "/api/me", &[("Cookie", &c1)], None).status, 200, "the other one lives");
    // Disabled from the command line: both servers refuse it.
    let out = lantian(&["--data", d, "--database", &url, "user", "disable", "analyst"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    refused_soon(pa, &c3);
    refused_soon(pb, &c3);
}
