//! The files people write: policy, targets (TOML and CSV) and areas.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = toml::from_str::<lantian_core::policy::Policy>(text);
    let _ = lantian_store::targets::Targets::parse(text, "fuzz.toml");
    let _ = lantian_store::targets::Targets::parse_csv(text, "fuzz.csv");
    let _ = lantian_store::areas::Areas::parse(text, "fuzz.toml");
});
