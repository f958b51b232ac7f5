//! Operations (docs/OPERATIONS.md): backup and restore of a data directory,
//! and moving the ledger from SQLite to PostgreSQL, end to end.

use crate::common::{lantian, lantian_json, sample, sample_store};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> std::process::Output {
    let out = lantian(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A data directory with everything in it: store, policy actions, task 46
/// with a progress entry and evidence, an account, a logger.
fn populated(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    crate::real_data::copy_dir(sample_store(), &data);
    let d = s(&data);
    ok(&["--data", d, "target", "import", s(&sample().join("targets-2019.toml"))]);
    ok(&["--data", d, "task", "import", s(&sample().join("tasks/task-46.json"))]);
    ok(&["--data", d, "policy", "run", "--period", "month:2019-07"]);
    ok(&["--data", d, "action", "ack", "1", "--by", "乐山市生态环境局"]);
    let evidence = dir.join("照片.jpg");
    std::fs::write(&evidence, b"\xff\xd8\xff photo").unwrap();
    ok(&["--data", d, "task", "status", "46", "in_progress", "--by", "省厅", "--note", "复核"]);
    ok(&[
        "--data",
        d,
        "task",
        "progress",
        "46",
        "--date",
        "2022-03-01",
        "--author",
        "宜宾市",
        "--text",
        "复核通过",
        "--evidence",
        s(&evidence),
    ]);
    ok(&["--data", d, "user", "add", "admin", "--role", "admin", "--password", "admin-password"]);
    ok(&["--data", d, "logger", "add", "--mn", "LT1431A", "--station", "1431A", "--password", "pw1431A"]);
    data
}

fn views(data: &Path, database: Option<&str>) -> Vec<Vec<serde_json::Value>> {
    let mut base = vec!["--data", s(data)];
    if let Some(url) = database {
        base.extend(["--database", url]);
    }
    let run = |args: &[&str]| {
        let mut a = base.clone();
        a.extend(args);
        lantian_json(&a)
    };
    vec![
        run(&["action", "list"]),
        run(&["task", "list"]),
        run(&["user", "list"]),
        run(&["logger", "list"]),
        run(&["assess", "--from", "2019-07-01", "--to", "2019-07-31"]),
    ]
}

#[test]
fn backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = populated(dir.path());
    let backup = dir.path().join("backup");
    ok(&["--data", s(&data), "backup", "--to", s(&backup)]);
    // Refused onto an existing directory.
    assert!(!lantian(&["--data", s(&data), "backup", "--to", s(&backup)]).status.success());
    // Restore: the copy is a data directory that gives the same answers.
    let restored = dir.path().join("restored");
    crate::real_data::copy_dir(&backup, &restored);
    assert_eq!(views(&data, None), views(&restored, None));
    let show = |d: &Path| {
        let out = ok(&["--data", s(d), "task", "show", "46", "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let (a, b) = (show(&data), show(&restored));
    assert_eq!(a, b, "task, progress, history and audit restored");
    let sha = a["progress"].as_array().unwrap().iter().find_map(|p| p["evidence"][0]["sha256"].as_str()).unwrap();
    assert!(restored.join("evidence").join(&sha[..2]).join(sha).is_file(), "evidence files restored");
}

#[test]
fn sqlite_to_postgres() {
    let Some(url) = lantian_store::ledger::test_pg("migrate") else {
        eprintln!("LANTIAN_TEST_PG not set: ledger migration test skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = populated(dir.path());
    let out = ok(&["--data", s(&data), "ledger", "migrate", "--to", &url]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("action: 25") && said.contains("audit:"), "{said}");
    // The same answers from PostgreSQL.
    assert_eq!(views(&data, None), views(&data, Some(&url)));
    let show = |database: Option<&str>| {
        let mut a = vec!["--data", s(&data)];
        if let Some(u) = database {
            a.extend(["--database", u]);
        }
        a.extend(["task", "show", "46", "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&ok(&a).stdout).unwrap()
    };
    assert_eq!(show(None), show(Some(&url)));
    // New writes continue after the copied ids; a second migration is refused.
    ok(&["--data", s(&data), "--database", &url, "action", "ack", "2", "--by", "内江市生态环境局"]);
    let shown = ok(&["--data", s(&data), "--database", &url, "action", "show", "2"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("内江市生态环境局"));
    let again = lantian(&["--data", s(&data), "ledger", "migrate", "--to", &url]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
