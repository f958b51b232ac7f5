//! Properties of the framing and parsing: no input makes them panic, and
//! valid frames survive any split of the stream and any garbage around them.

use lantian_hj212::{CrcMode, Deframer, check_crc, encode, parse_segment};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), cut in 0usize..2048) {
        let mut d = Deframer::new(1200);
        let cut = cut.min(bytes.len());
        d.push(&bytes[..cut]);
        while let Some(f) = d.next_frame() {
            if let Ok(f) = f {
                let _ = check_crc(&f.segment, &f.crc, CrcMode::Lenient);
                if let Ok(p) = parse_segment(&f.segment) {
                    let _ = p.measurements();
                    let _ = p.ack();
                }
            }
        }
        d.push(&bytes[cut..]);
        while d.next_frame().is_some() {}
        let _ = parse_segment(&bytes);
    }

    #[test]
    fn frames_survive_splits_and_garbage(
        values in proptest::collection::vec(0u32..100_000, 1..8),
        noise in "[a-z0-9 ]{0,40}",
        cut in 0usize..4000,
    ) {
        let segs: Vec<String> = values.iter().enumerate().map(|(i, v)| format!(
            "QN=2019010100000{i:04};ST=22;CN=2061;PW=123456;MN=ABC{i};Flag=5;CP=&&DataTime=20190101000000;a34004-Avg={v},a34004-Flag=N&&"
        )).collect();
        let stream: String = segs.iter().map(|s| format!("{noise}{}", encode(s))).collect();
        let bytes = stream.as_bytes();
        let cut = cut.min(bytes.len());
        let mut d = Deframer::new(1024);
        let mut got = Vec::new();
        for part in [&bytes[..cut], &bytes[cut..]] {
            d.push(part);
            while let Some(f) = d.next_frame() {
                if let Ok(f) = f {
                    prop_assert!(check_crc(&f.segment, &f.crc, CrcMode::Strict).is_ok());
                    got.push(String::from_utf8(f.segment).unwrap());
                }
            }
        }
        prop_assert_eq!(got, segs);
    }
}
