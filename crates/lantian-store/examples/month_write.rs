use lantian_store::kinds::Kind;
use lantian_store::partition::{MonthKey, Partition};
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let key = MonthKey { year: 2019, month: 3 };
    let t = Instant::now();
    let p = Partition::read(key, path.as_ref(), &Kind::ALL, None).unwrap();
    eprintln!("read {:?}", t.elapsed());
    for i in 0..5 {
        let q = p.clone();
        let t = Instant::now();
        q.write(format!("/tmp/mw/w{i}.parquet").as_ref()).unwrap();
        eprintln!("write {:?}", t.elapsed());
    }
}
