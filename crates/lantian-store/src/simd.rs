//! Whether the hot loops' AVX-512 paths run (`import::wide`'s cell reader,
//! `value_chunk`'s dictionary indices): on x86-64 CPUs with AVX-512 F, BW,
//! VL, VBMI and VBMI2 (Intel since Ice Lake, AMD since Zen 4), checked once
//! at run time. Each path has a scalar twin that gives the same results
//! (tests hold them equal), used everywhere else. `LANTIAN_SCALAR=1` turns
//! the AVX-512 paths off, for comparisons.

/// See the module docs.
pub(crate) fn avx512() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LANTIAN_SCALAR").is_none_or(|v| v.is_empty() || v == "0") && detect())
}

#[cfg(target_arch = "x86_64")]
fn detect() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512vbmi")
        && std::arch::is_x86_feature_detected!("avx512vbmi2")
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> bool {
    false
}
