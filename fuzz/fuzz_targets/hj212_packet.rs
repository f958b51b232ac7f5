//! The HJ 212 deframer, CRC check, segment parser and measurement reader
//! on arbitrary bytes, split at an arbitrary point as TCP would.
#![no_main]

use lantian_hj212::{CrcMode, Deframer, check_crc, parse_segment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut d = Deframer::new(4096);
    for part in [&data[..cut], &data[cut..]] {
        d.push(part);
        while let Some(f) = d.next_frame() {
            if let Ok(f) = f {
                let _ = check_crc(&f.segment, &f.crc, CrcMode::Lenient);
                if let Ok(p) = parse_segment(&f.segment) {
                    let _ = p.measurements();
                    let _ = p.ack();
                }
            }
        }
    }
    if let Ok(p) = parse_segment(data) {
        let _ = p.measurements();
    }
});
