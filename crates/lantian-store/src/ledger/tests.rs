//! The ledger's tests: one suite on SQLite and, where `LANTIAN_TEST_PG`
//! names a database (CI starts one), on PostgreSQL.

use super::*;

/// Processes (here threads, each its own connection) opening one new
/// ledger at the same moment all get it, migrated once.
#[test]
fn a_new_ledger_opened_at_once_by_many() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let start = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            let opened: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        SqliteLedger::open(dir.path()).map(|_| ())
                    })
                })
                .collect();
            for o in opened {
                o.join().unwrap().unwrap();
            }
        });
        let l = SqliteLedger::open(dir.path()).unwrap();
        let version: i64 = l.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, sqlite_migrations().len());
    }
}

fn action(rule: &str, area: &str) -> NewAction {
    NewAction {
        rule: rule.into(),
        rule_name: "test".into(),
        area: area.into(),
        period: "month:2019-07".into(),
        kind: "warning_letter".into(),
        amount: None,
        evidence: "{}".into(),
        edition: "2012".into(),
    }
}

/// The ledger suite, run on every backend.
pub(crate) fn suite(l: &mut dyn Ledger, tamper: &mut dyn FnMut() -> bool) {
    let r1 = l.record_run("month:2019-07", "tester", &[action("r1", "宜宾"), action("r1", "成都")], &[]).unwrap();
    assert_eq!((r1.inserted.len(), r1.already), (2, 0));
    let r2 = l.record_run("month:2019-07", "tester", &[action("r1", "宜宾")], &[]).unwrap();
    assert_eq!((r2.inserted.len(), r2.already), (0, 1));
    let id = r1.inserted[0];
    l.set_status(id, "acknowledged", "宜宾市生态环境局", None).unwrap();
    assert!(l.set_status(id, "acknowledged", "x", None).is_err());
    assert!(l.set_status(9_999_999, "acknowledged", "x", None).is_err());
    let r3 = l.record_run("month:2019-08", "tester", &[], &[(id, "PM2.5 down".into())]).unwrap();
    assert_eq!(r3.lifted, vec![id]);
    assert_eq!(l.get(id).unwrap().unwrap().status, "lifted");
    assert!(l.set_status(id, "lifted", "x", Some("again")).is_err());
    let log = l.audit(Some(id)).unwrap();
    assert_eq!(
        log.iter().map(|e| e.change.as_str()).collect::<Vec<_>>(),
        vec!["created warning_letter for 宜宾 (month:2019-07) by rule r1", "acknowledged", "lifted: PM2.5 down"]
    );
    assert_eq!(log[1].who, "宜宾市生态环境局");
    assert!(tamper(), "the audit log could be rewritten");
    assert_eq!(l.list(Some("open"), None).unwrap().len(), 1);
    assert_eq!(l.list(None, Some("成都")).unwrap().len(), 1);
}

#[test]
fn sqlite_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = SqliteLedger::open(dir.path()).unwrap();
    let probe = Connection::open(dir.path().join("ledger.sqlite")).unwrap();
    suite(&mut l, &mut || probe.execute("DELETE FROM audit", []).is_err());
    // Reopening runs no migration twice.
    drop(l);
    let mut l = SqliteLedger::open(dir.path()).unwrap();
    assert_eq!(l.list(None, None).unwrap().len(), 2);
}

/// Runs when `LANTIAN_TEST_PG` names a PostgreSQL database (CI starts one).
#[test]
fn postgres_ledger() {
    let Some(url) = test_pg("ledger") else {
        eprintln!("LANTIAN_TEST_PG not set: PostgreSQL ledger test skipped");
        return;
    };
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut l = PgLedger::open(&url).unwrap();
    suite(&mut l, &mut || admin.execute("DELETE FROM audit", &[]).is_err());
    drop(l);
    let mut l = PgLedger::open(&url).unwrap();
    assert_eq!(l.list(None, None).unwrap().len(), 2);
}
