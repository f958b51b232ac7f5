//! Phrases in the register of a provincial notice: changes said as 上升 /
//! 下降 / 持平 with their unit, lists joined by 顿号, ordinal headings.

use lantian_core::round::round_half_even;

/// "下降5.0%" / "上升3.2%" / "持平" for a percentage change printed to 1 decimal.
pub fn pct(change: f64) -> String {
    let c = round_half_even(change, 1);
    if c > 0.0 {
        format!("上升{c:.1}%")
    } else if c < 0.0 {
        format!("下降{:.1}%", -c)
    } else {
        "持平".into()
    }
}

/// "上升2.3个百分点" / "下降…" / "持平".
pub fn pp(change: f64) -> String {
    let c = round_half_even(change, 1);
    if c > 0.0 {
        format!("上升{c:.1}个百分点")
    } else if c < 0.0 {
        format!("下降{:.1}个百分点", -c)
    } else {
        "持平".into()
    }
}

/// "增加3天次" / "减少2天次" / "持平".
pub fn count_change(now: u32, before: u32, unit: &str) -> String {
    match now.cmp(&before) {
        std::cmp::Ordering::Greater => format!("增加{}{unit}", now - before),
        std::cmp::Ordering::Less => format!("减少{}{unit}", before - now),
        std::cmp::Ordering::Equal => "持平".into(),
    }
}

/// Names joined by 、.
pub fn join(names: &[String]) -> String {
    names.join("、")
}

/// 一 … 二十.
pub fn ordinal(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].into(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[n - 10]),
        20 => "二十".into(),
        _ => n.to_string(),
    }
}

/// A concentration as reports print it: integer μg/m³ (GB/T 8170).
pub fn conc(v: f64) -> String {
    format!("{:.0}", round_half_even(v, 0))
}

/// A percentage to one decimal, without the sign.
pub fn ratio(v: f64) -> String {
    format!("{:.1}", round_half_even(v, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        assert_eq!(pct(-4.95), "下降5.0%");
        assert_eq!(pct(3.24), "上升3.2%");
        assert_eq!(pct(0.04), "持平");
        assert_eq!(pp(-2.25), "下降2.2个百分点", "half-even");
        assert_eq!(pp(1.0), "上升1.0个百分点");
        assert_eq!(count_change(3, 5, "天次"), "减少2天次");
        assert_eq!(count_change(5, 5, "天次"), "持平");
        assert_eq!(join(&["成都".into(), "自贡".into()]), "成都、自贡");
        assert_eq!(ordinal(3), "三");
        assert_eq!(ordinal(12), "十二");
        assert_eq!(conc(24.5), "24");
        assert_eq!(ratio(79.25), "79.2");
    }
}
