//! Import and full-year assess of the bundled real sample
//! (`cargo bench -p lantian`). The national-size run is `bench/run.sh`.

use divan::Bencher;
use jiff::civil::date;
use std::path::PathBuf;

fn main() {
    divan::main();
}

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample")
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn import_sample_year(b: Bencher) {
    b.with_inputs(|| tempfile::tempdir().unwrap()).bench_values(|dir| {
        lantian_store::import(dir.path(), &[sample()], None).unwrap();
        dir
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn assess_sample_year(b: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    lantian_store::import(dir.path(), &[sample()], None).unwrap();
    let store = lantian_store::Store::open(dir.path()).unwrap();
    b.bench(|| {
        lantian_app::assess::assess_period(
            &store,
            &[],
            date(2019, 1, 1),
            date(2019, 12, 31),
            None,
            lantian_app::assess::Source::Auto,
        )
        .unwrap()
        .len()
    });
}
