//! Shared fixtures: the sample imported once per test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample")
}

/// A store with the whole bundled sample imported, shared by every test.
pub fn sample_store() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let summary = lantian_store::import(dir.path(), &[sample()], None).expect("sample imports");
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
        assert_eq!(summary.rejected, 0);
        dir
    })
    .path()
}

pub fn lantian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lantian")).args(args).output().expect("lantian runs")
}

/// Run and parse `--format json` output.
pub fn lantian_json(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json"]);
    let out = lantian(&all);
    assert!(out.status.success(), "lantian {all:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json array")
}

/// GB/T 8170 half-to-even rounding, written independently of the engine.
pub fn round_even(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let y = x * scale;
    let f = y.floor();
    let diff = y - f;
    let r = if (diff - 0.5).abs() < 1e-9 { if f % 2.0 == 0.0 { f } else { f + 1.0 } } else { y.round() };
    r / scale
}
