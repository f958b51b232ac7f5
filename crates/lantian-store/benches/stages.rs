//! The import's and the assessment's stages one at a time, on one thread
//! (`cargo bench -p lantian-store --bench stages`): parsing a month of
//! CNEMC site files, encoding that month as the store's Parquet, reading
//! it back, and its station days (from the stored days, and from the hours). An import runs these on two cores at once, where the machine's
//! noise and the threads' sharing hide changes of a few per cent; a stage
//! alone, fastest of many samples, shows them (`perf record` on this
//! binary with `--bench NAME` profiles one stage).
//!
//! Input: the CNEMC site files in `LANTIAN_BENCH_SITES` (e.g. the national
//! 2019 year, `../shared/tools/national2019.sh`), else the bundled sample's;
//! the month is March 2019 (`LANTIAN_BENCH_MONTH=YYYYMM` for another).

use divan::{Bencher, black_box};
use lantian_store::{Kind, Layer, MonthKey, Partition, Store};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn main() {
    divan::main();
}

/// The assessed kinds (what a year's assessment reads of each month).
const ASSESSED: [Kind; 6] = [Kind::Pm25, Kind::Pm10, Kind::So2, Kind::No2, Kind::O3, Kind::Co];

struct Month {
    /// The month's files, read and inflated.
    contents: Vec<Vec<u8>>,
    key: MonthKey,
    part: Partition,
    /// The store it was imported into, and the month written again there
    /// (what `read_month_assessed_kinds` reads).
    _store: tempfile::TempDir,
    store: Store,
    file: PathBuf,
}

fn month() -> &'static Month {
    static MONTH: OnceLock<Month> = OnceLock::new();
    MONTH.get_or_init(|| {
        let dir = std::env::var_os("LANTIAN_BENCH_SITES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample/cnemc_sichuan_2019"));
        let ym = std::env::var("LANTIAN_BENCH_MONTH").unwrap_or_else(|_| "201903".into());
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(&format!("_{ym}"))))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no china_sites_{ym}*.csv in {}", dir.display());
        let contents: Vec<Vec<u8>> = paths.iter().map(|p| lantian_store::import::read_input(p).unwrap()).collect();
        let key = MonthKey::parse(&format!("{}-{}", &ym[..4], &ym[4..])).expect("YYYYMM");
        let store_dir = tempfile::tempdir().unwrap();
        lantian_store::import(store_dir.path(), &paths, None).unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let part = store.read_layer(Layer::Raw, key, &Kind::ALL, None).unwrap().expect("the month imported");
        let file = store_dir.path().join("bench-month.parquet");
        part.clone().write(&file).unwrap();
        eprintln!(
            "{}: {} files of {ym}, {} MB, {} stations",
            dir.display(),
            paths.len(),
            contents.iter().map(Vec::len).sum::<usize>() >> 20,
            part.stations().len()
        );
        Month { contents, key, part, _store: store_dir, store, file }
    })
}

/// Every file of the month parsed (text → day blocks), as one parser does.
#[divan::bench(sample_count = 15, sample_size = 1)]
fn parse_month_files(b: Bencher) {
    let m = month();
    b.bench(|| lantian_store::import::bench_parse(black_box(&m.contents)));
}

/// The month's stations encoded and written as the store's Parquet file.
#[divan::bench(sample_count = 15, sample_size = 1)]
fn encode_month(b: Bencher) {
    let m = month();
    let out = tempfile::tempdir().unwrap();
    let path: &Path = &out.path().join("month.parquet");
    b.with_inputs(|| m.part.clone()).bench_values(|part| part.write(path).unwrap());
}

/// The month's file read back, the six assessed kinds (a year's
/// assessment reads twelve of these).
#[divan::bench(sample_count = 15, sample_size = 1)]
fn read_month_assessed_kinds(b: Bencher) {
    let m = month();
    b.bench(|| Partition::read(m.key, &m.file, &ASSESSED, None).unwrap().stations().len());
}

/// The month's station days as a year's assessment reads them: from the
/// days stored beside the month (the file read and checked on a thread
/// ahead, each day decoded as it is given).
#[divan::bench(sample_count = 15, sample_size = 1)]
fn station_days_stored(b: Bencher) {
    let m = month();
    b.bench(|| station_days(&m.store, m.key));
}

/// The same station days computed from the month's hours (decoding the six
/// assessed kinds and applying the capture rules): what the stored days spare.
#[divan::bench(sample_count = 15, sample_size = 1)]
fn station_days_from_hours(b: Bencher) {
    let m = month();
    let hours = m.store.clone().hours_only();
    b.bench(|| station_days(&hours, m.key));
}

fn station_days(store: &Store, key: MonthKey) -> usize {
    let first = lantian_core::time::day_number(key.first_day());
    let last = lantian_core::time::day_number(key.first_day().last_of_month());
    let mut n = 0;
    let rules = lantian_core::series::CaptureRules::default();
    lantian_store::query::station_days_with(store, None, first, last, &rules, None, |_, _, v, _| {
        n += usize::from(black_box(v).pm25.is_some());
    })
    .unwrap();
    n
}
