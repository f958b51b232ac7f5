//! Every import parser behind format detection (CNEMC site files, station
//! lists, long CSV, city daily files, Parquet) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lantian_store::import::fuzz_parse(data);
});
