//! How long a month takes to write: reads one month file of a store (e.g. the
//! national year's `DATA/hourly/2019-03.g1.parquet`) and writes it five times
//! to a temporary directory, printing each time.
//!
//! `cargo run --release -p lantian-store --example month_write -- FILE`

use lantian_store::kinds::Kind;
use lantian_store::partition::{MonthKey, Partition};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: month_write MONTH_FILE")?;
    let name = std::path::Path::new(&path).file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let key = MonthKey::parse(name.get(..7).unwrap_or_default()).ok_or("file name must start YYYY-MM")?;
    let t = Instant::now();
    let month = Partition::read(key, path.as_ref(), &Kind::ALL, None)?;
    println!("read: {:.0} ms, {} stations", t.elapsed().as_secs_f64() * 1e3, month.stations().len());
    let dir = tempfile::tempdir()?;
    for i in 0..5 {
        let copy = month.clone();
        let t = Instant::now();
        copy.write(&dir.path().join(format!("{i}.parquet")))?;
        println!("write: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}
