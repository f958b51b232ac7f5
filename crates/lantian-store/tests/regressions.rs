//! Inputs the fuzzers found, kept so they never come back.

/// A city daily file with a 17-digit cell: the fast decimal path multiplied
/// past u64 (a panic with overflow checks). Now the cell is read exactly or
/// rejected, and nothing panics.
#[test]
fn import_file_long_number() {
    let bytes = include_bytes!("regressions/import_file-long-number.csv");
    let _ = lantian_store::import::fuzz_parse(bytes);
    assert_eq!(lantian_store::import::parse_value(b"12345678901234567890"), Err("implausibly large (over 100000)"));
    assert_eq!(lantian_store::import::parse_value(b"0000000000000000035"), Ok(Some(35.0)));
    assert_eq!(lantian_store::import::parse_value(b"35.000000000000000"), Ok(Some(35.0)));
}

/// A long CSV whose time cell ends in Chinese characters: the offset check
/// sliced the text six bytes from its end, inside a character.
#[test]
fn import_file_cut_character() {
    let bytes = include_bytes!("regressions/import_file-cut-character.csv");
    let _ = lantian_store::import::fuzz_parse(bytes);
    let file = "station,time,pollutant,value\n1431A,2019-07-01T02:时间,pm25,35\n1431A,2019-07-01T03:00,pm25,35\n";
    // fuzz_parse reads the file as both layers (raw and audited): one rejected row each.
    assert_eq!(lantian_store::import::fuzz_parse(file.as_bytes()), 2, "the bad time is a rejected row in each layer");
}
