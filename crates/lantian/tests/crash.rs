//! Crash consistency: SIGKILL the real `lantian` process at random moments of
//! an import, a policy run and a ledger write, then check the data directory:
//! it holds either the whole operation or none of it, and rerunning the
//! operation completes it with the same result as an uninterrupted run.
//!
//! Each operation is killed at least `LANTIAN_CRASH_KILLS` times (default
//! 200; a kill counts only when it hit a running process). Half of the kill
//! moments are uniform over the operation's measured duration, half are
//! drawn around the moment its commit was seen to happen, so many kills land
//! inside the write itself. `LANTIAN_CRASH_SEED` replays a run; the counts
//! are printed (`cargo test crash -- --nocapture`).

use crate::common::sample;
use crate::real_data::copy_dir;
use serde_json::Value;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_lantian");

/// xorshift64*: deterministic kill moments from a printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn seed() -> u64 {
    std::env::var("LANTIAN_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
    })
}

fn kills_wanted() -> usize {
    std::env::var("LANTIAN_CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

fn run(args: &[String]) -> std::process::Output {
    Command::new(EXE).args(args).output().expect("lantian runs")
}

/// Replace RFC 3339 timestamps (when something was written) so two runs
/// at different moments compare equal.
fn without_times(v: Value) -> Value {
    match v {
        Value::String(s) if s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && s.ends_with('Z') => {
            Value::String("<time>".into())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(without_times).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, without_times(v))).collect()),
        other => other,
    }
}

fn json_of(args: &[String]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "lantian {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    without_times(serde_json::from_slice(&out.stdout).expect("json"))
}

/// What one operation is: how to prepare its data directory, the command
/// that is killed, and what a reader sees afterwards.
struct Operation {
    name: &'static str,
    base: PathBuf,
    args: Vec<String>,
    /// Running it twice gives the same result (import, policy run). A
    /// progress entry is not: after a kill that left it whole, it is not
    /// run again (a person would see it recorded).
    idempotent: bool,
    fingerprint: Box<dyn Fn(&Path) -> String>,
}

#[derive(Default, Debug)]
struct Counts {
    kills: usize,
    left_none: usize,
    left_whole: usize,
    finished_first: usize,
}

/// Kill `op` at random moments until `kills_wanted()` kills hit a running
/// process; check every outcome and every rerun.
fn storm(op: &Operation, rng: &mut Rng) -> Counts {
    let scratch = tempfile::tempdir().unwrap();
    let args_in = |d: &Path| -> Vec<String> {
        op.args.iter().map(|a| if a == "{DATA}" { d.to_str().unwrap().to_string() } else { a.clone() }).collect()
    };
    let before = (op.fingerprint)(&op.base);
    // The uninterrupted run: the result every rerun must reach, and its duration.
    let reference = scratch.path().join("reference");
    copy_dir(&op.base, &reference);
    let t0 = Instant::now();
    let out = run(&args_in(&reference));
    let took = t0.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}: {}", op.name, String::from_utf8_lossy(&out.stderr));
    let after = (op.fingerprint)(&reference);
    assert_ne!(before, after, "{}: the operation must change something", op.name);

    let wanted = kills_wanted();
    let mut c = Counts::default();
    // The latest kill that left nothing and the earliest that left it whole
    // bracket the commit; later kills concentrate there.
    let (mut last_none, mut first_whole) = (0.0f64, took);
    let mut attempt = 0;
    // Kills after the commit are rare (the window between the commit and
    // the exit is a few ms): keep going a while until one is seen.
    while c.kills < wanted || (c.left_whole == 0 && attempt < wanted * 3) {
        attempt += 1;
        assert!(attempt < wanted * 4, "{}: too few kills hit a running process: {c:?}", op.name);
        let work = scratch.path().join(format!("run{attempt}"));
        copy_dir(&op.base, &work);
        let delay = if attempt % 2 == 1 {
            rng.between(0.0, took * 1.1)
        } else {
            let (lo, hi) = (last_none.min(first_whole), last_none.max(first_whole));
            rng.between((lo - 0.01).max(0.0), hi + 0.01)
        };
        let mut child =
            Command::new(EXE).args(args_in(&work)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_secs_f64(delay));
        let running = child.try_wait().unwrap().is_none();
        child.kill().ok(); // SIGKILL
        let status = child.wait().unwrap();
        let seen = (op.fingerprint)(&work);
        if running && !status.success() {
            c.kills += 1;
            if seen == before {
                c.left_none += 1;
                last_none = last_none.max(delay);
            } else {
                assert!(seen == after, "{}: kill at {delay:.4}s left a partial state:\n{seen}", op.name);
                c.left_whole += 1;
                first_whole = first_whole.min(delay);
            }
        } else {
            c.finished_first += 1;
            assert_eq!(seen, after, "{}: a run that finished differs", op.name);
        }
        // Rerunning completes it with the uninterrupted run's result.
        if !op.idempotent && seen == after {
            std::fs::remove_dir_all(&work).ok();
            continue;
        }
        let out = run(&args_in(&work));
        assert!(out.status.success(), "{}: rerun after a kill at {delay:.4}s failed: {}", op.name, {
            String::from_utf8_lossy(&out.stderr)
        });
        assert_eq!((op.fingerprint)(&work), after, "{}: rerun after a kill at {delay:.4}s", op.name);
        std::fs::remove_dir_all(&work).ok();
    }
    println!(
        "crash {}: {} SIGKILLs on a running process ({} left none of it, {} all of it), {} runs finished first; \
         uninterrupted {:.0} ms",
        op.name,
        c.kills,
        c.left_none,
        c.left_whole,
        c.finished_first,
        took * 1000.0
    );
    // Every outcome was checked above; this only says the kills reached
    // into the operation (a machine too loaded to land one after the
    // commit is not a failure of the store).
    assert!(c.left_none > 0, "{}: no kill landed before the commit: {c:?}", op.name);
    c
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

fn copy_files(from: &Path, names: impl Fn(&str) -> bool, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().to_string();
        if names(&n) {
            std::fs::copy(e.path(), to.join(&n)).unwrap();
        }
    }
}

/// Everything a reader of the store can see: stations, every month's
/// values of every kind, the published city values.
fn store_fingerprint(data: &Path) -> String {
    let store = lantian_store::Store::open(data).expect("the store opens after any kill");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(store.stations()).unwrap().hash(&mut h);
    let mut values = 0usize;
    for m in store.months() {
        let p = store.read_month(m, &lantian_store::Kind::ALL, None).expect("month readable").unwrap();
        m.name().hash(&mut h);
        for s in p.stations() {
            s.hash(&mut h);
            for k in lantian_store::Kind::ALL {
                for v in p.series(s, k).unwrap_or(&[]) {
                    v.to_bits().hash(&mut h);
                    values += usize::from(!v.is_nan());
                }
            }
        }
    }
    let daily = store.city_daily().expect("city daily readable").len();
    format!("{} months, {values} values, {daily} city days, hash {:016x}", store.months().len(), h.finish())
}

#[test]
fn import_killed_anywhere_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let days = sample().join("cnemc_sichuan_2019");
    // The store holds 20 Jan – 5 Feb; the import brings 31 Jan – 9 Feb (new
    // days, unchanged days) and a long CSV revising three January hours.
    let first = dir.path().join("first");
    copy_files(&days, |n| ("china_sites_20190120".."china_sites_20190206").contains(&n), &first);
    copy_files(&sample(), |n| n.starts_with("sichuan_stations"), &first);
    let second = dir.path().join("second");
    copy_files(&days, |n| ("china_sites_20190131".."china_sites_20190210").contains(&n), &second);
    std::fs::write(
        second.join("revisions.csv"),
        "station,time,pollutant,value\n1431A,2019-01-25T10:00,pm25,77\n1431A,2019-01-25T11:00,pm25,78\n\
         1432A,2019-01-25T10:00,no2,41\n",
    )
    .unwrap();
    let base = dir.path().join("base");
    let s = lantian_store::import(&base, &[first], None).unwrap();
    assert!(s.unreadable.is_empty() && s.rejected == 0);
    let op = Operation {
        name: "import",
        base,
        idempotent: true,
        args: vec!["--data".into(), "{DATA}".into(), "import".into(), second.to_str().unwrap().into()],
        fingerprint: Box::new(store_fingerprint),
    };
    storm(&op, &mut Rng(seed()));
}

#[test]
fn policy_run_killed_anywhere_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let july = dir.path().join("july");
    copy_files(&sample().join("cnemc_sichuan_2019"), |n| n.starts_with("china_sites_201907"), &july);
    copy_files(&sample(), |n| n.starts_with("sichuan_stations"), &july);
    let base = dir.path().join("base");
    lantian_store::import(&base, &[july], None).unwrap();
    let op = Operation {
        name: "policy run",
        base,
        idempotent: true,
        args: ["--data", "{DATA}", "policy", "run", "--period", "month:2019-07"].map(String::from).to_vec(),
        fingerprint: Box::new(|d: &Path| {
            let args = ["--data", d.to_str().unwrap(), "action", "list", "--format", "json"].map(String::from);
            let actions = json_of(&args);
            format!("{} actions: {actions}", actions.as_array().map_or(0, Vec::len))
        }),
    };
    storm(&op, &mut Rng(seed()));
}

#[test]
fn ledger_write_killed_anywhere_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(&base).unwrap();
    let b = base.to_str().unwrap().to_string();
    let out = run(&["--data".into(), b, "task".into(), "import".into(), {
        sample().join("tasks/task-46.json").to_str().unwrap().into()
    }]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Two evidence files of 4 MB each: the write has a body to be killed in.
    let mut evidence = Vec::new();
    for (i, name) in ["现场检查记录.pdf", "监测报告.xlsx"].iter().enumerate() {
        let p = dir.path().join(name);
        let body: Vec<u8> = (0..4 << 20).map(|j: u32| (j.wrapping_mul(2654435761) >> (8 + i)) as u8).collect();
        std::fs::write(&p, body).unwrap();
        evidence.push(p.to_str().unwrap().to_string());
    }
    let mut args: Vec<String> = [
        "--data",
        "{DATA}",
        "task",
        "progress",
        "46",
        "--date",
        "2019-12-20",
        "--author",
        "宜宾市生态环境局",
        "--measure",
        "1",
        "--text",
        "完成燃煤锅炉淘汰12台",
        "--indicator",
        "燃煤锅炉淘汰=12 台",
    ]
    .map(String::from)
    .to_vec();
    for e in &evidence {
        args.extend(["--evidence".to_string(), e.clone()]);
    }
    let op = Operation {
        name: "ledger write (task progress with evidence)",
        base,
        idempotent: false,
        args,
        fingerprint: Box::new(|d: &Path| {
            let args = ["--data", d.to_str().unwrap(), "task", "show", "46", "--format", "json"].map(String::from);
            let task = json_of(&args);
            // Every evidence file the ledger names is there, whole.
            let mut files = 0;
            for p in task["progress"].as_array().into_iter().flatten() {
                for e in p["evidence"].as_array().into_iter().flatten() {
                    let sha = e["sha256"].as_str().unwrap();
                    let path = lantian_store::tasks::evidence_path(d, sha);
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    assert_eq!(bytes.len() as u64, e["bytes"].as_u64().unwrap(), "evidence {sha} whole");
                    files += 1;
                }
            }
            let n = task["progress"].as_array().map_or(0, Vec::len);
            if files > 0 {
                let left = walk(&d.join("evidence")).into_iter().filter(|p| p.contains(".tmp")).count();
                assert_eq!(left, 0, "a half-written evidence file was left behind");
            }
            format!("{n} progress entries, {files} evidence files: {task}")
        }),
    };
    storm(&op, &mut Rng(seed()));
}
