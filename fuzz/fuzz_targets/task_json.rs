//! A rectification task import (the export's JSON form).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = serde_json::from_slice::<lantian_store::tasks::ImportTask>(data) {
        let _ = t.fields.validate();
    }
});
