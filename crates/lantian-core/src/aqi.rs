//! HJ 633 Air Quality Index: breakpoint tables, IAQI, AQI, level, category,
//! colour and primary pollutant, for both editions.
//!
//! Arithmetic is exact: concentrations are first rounded to their reporting
//! precision (HJ 633-2026 §4.2.2; GB/T 8170), then scaled to integer
//! thousandths, so the segment formula and its ceiling (HJ 633-2012 §6.2,
//! HJ 633-2026 §4.2.6) are evaluated in integers and a concentration on a
//! breakpoint never drifts to the next integer (PM2.5 75 → 100, not 101).

use crate::edition::Edition;
use crate::pollutant::Pollutant;
use crate::round::ceil_div;

/// IAQI values at the breakpoints, HJ 633 Table 1 first column.
const IAQI_STEPS: [i64; 8] = [0, 50, 100, 150, 200, 300, 400, 500];

/// The concentration series a sub-index is computed from (a column of HJ 633
/// Table 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Indicator {
    So2Daily,
    So2Hour,
    No2Daily,
    No2Hour,
    Pm10Daily,
    Pm25Daily,
    CoDaily,
    CoHour,
    O3Hour,
    O3EightHour,
}

impl Indicator {
    pub fn pollutant(self) -> Pollutant {
        use Indicator::*;
        match self {
            So2Daily | So2Hour => Pollutant::So2,
            No2Daily | No2Hour => Pollutant::No2,
            Pm10Daily => Pollutant::Pm10,
            Pm25Daily => Pollutant::Pm25,
            CoDaily | CoHour => Pollutant::Co,
            O3Hour | O3EightHour => Pollutant::O3,
        }
    }

    pub fn key(self) -> &'static str {
        use Indicator::*;
        match self {
            So2Daily => "so2",
            So2Hour => "so2_1h",
            No2Daily => "no2",
            No2Hour => "no2_1h",
            Pm10Daily => "pm10",
            Pm25Daily => "pm25",
            CoDaily => "co",
            CoHour => "co_1h",
            O3Hour => "o3_1h",
            O3EightHour => "o3_8h",
        }
    }

    /// Breakpoint concentrations in thousandths of the unit (HJ 633 Table 1;
    /// the PM columns differ by edition at IAQI 100).
    pub fn breakpoints(self, edition: Edition) -> &'static [i64] {
        use Indicator::*;
        match (self, edition) {
            (So2Daily, _) => &[0, 50_000, 150_000, 475_000, 800_000, 1_600_000, 2_100_000, 2_620_000],
            // 1-hour SO2 stops at 800 (IAQI 200); above it see `special`.
            (So2Hour, _) => &[0, 150_000, 500_000, 650_000, 800_000],
            (No2Daily, _) => &[0, 40_000, 80_000, 180_000, 280_000, 565_000, 750_000, 940_000],
            (No2Hour, _) => &[0, 100_000, 200_000, 700_000, 1_200_000, 2_340_000, 3_090_000, 3_840_000],
            (Pm10Daily, Edition::E2012) => &[0, 50_000, 150_000, 250_000, 350_000, 420_000, 500_000, 600_000],
            (Pm10Daily, Edition::E2026) => &[0, 50_000, 120_000, 250_000, 350_000, 420_000, 500_000, 600_000],
            (Pm25Daily, Edition::E2012) => &[0, 35_000, 75_000, 115_000, 150_000, 250_000, 350_000, 500_000],
            (Pm25Daily, Edition::E2026) => &[0, 35_000, 60_000, 115_000, 150_000, 250_000, 350_000, 500_000],
            (CoDaily, _) => &[0, 2_000, 4_000, 14_000, 24_000, 36_000, 48_000, 60_000],
            (CoHour, _) => &[0, 5_000, 10_000, 35_000, 60_000, 90_000, 120_000, 150_000],
            (O3Hour, _) => &[0, 160_000, 200_000, 300_000, 400_000, 800_000, 1_000_000, 1_200_000],
            // 8-hour O3 stops at 800 (IAQI 300); above it see `special`.
            (O3EightHour, _) => &[0, 100_000, 160_000, 215_000, 265_000, 800_000],
        }
    }
}

/// Why a sub-index is not the plain table value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecialCase {
    /// SO2 1-hour > 800 μg/m³ under HJ 633-2012: the 24-hour SO2 IAQI is used.
    So2HourUses24h,
    /// SO2 1-hour > 800 μg/m³ under HJ 633-2026: IAQI set to 200.
    So2HourFixed200,
    /// O3 8-hour > 800 μg/m³ under HJ 633-2012: the 1-hour O3 IAQI is used.
    O3EightHourUses1h,
    /// O3 8-hour > 800 μg/m³ under HJ 633-2026: IAQI set to 300.
    O3EightHourFixed300,
    /// Above the IAQI-500 breakpoint: the standards are silent; capped at 500
    /// (product decision, `docs/STANDARDS.md`).
    AboveRange,
}

/// Result of the table lookup for one concentration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Iaqi(u16),
    /// Above the last breakpoint of this column.
    AboveTable,
}

/// Plain IAQI from HJ 633 Table 1 and the segment formula (§5.1 of 2012,
/// §4.2 of 2026). `concentration` is rounded to reporting precision first.
/// Returns `None` for negative or non-finite input.
pub fn iaqi_lookup(indicator: Indicator, edition: Edition, concentration: f64) -> Option<Lookup> {
    if !concentration.is_finite() || concentration < 0.0 {
        return None;
    }
    let reported = indicator.pollutant().report(concentration);
    let milli = (reported * 1000.0).round() as i64;
    let bp = indicator.breakpoints(edition);
    for seg in 1..bp.len() {
        if milli <= bp[seg] {
            let (lo, hi) = (bp[seg - 1], bp[seg]);
            let (ilo, ihi) = (IAQI_STEPS[seg - 1], IAQI_STEPS[seg]);
            let value = ilo + ceil_div((ihi - ilo) * (milli - lo), hi - lo);
            return Some(Lookup::Iaqi(value as u16));
        }
    }
    Some(Lookup::AboveTable)
}

/// One pollutant's sub-index within an AQI.
#[derive(Clone, Debug, PartialEq)]
pub struct SubIndex {
    pub indicator: Indicator,
    /// Reported concentration (rounded to reporting precision).
    pub concentration: f64,
    pub iaqi: u16,
    pub special: Option<SpecialCase>,
}

/// An AQI with everything HJ 633 asks to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct AqiReport {
    pub edition: Edition,
    /// Max IAQI over the indicators present; `None` when none is present or
    /// when HJ 633-2026 §8 withholds it (incomplete and ≤ 100).
    pub aqi: Option<u16>,
    pub sub_indices: Vec<SubIndex>,
    /// Indicators expected but missing.
    pub missing: Vec<Indicator>,
    /// Primary pollutant(s) (首要污染物): those whose IAQI equals the AQI,
    /// only when AQI > 50; several when tied.
    pub primary: Vec<Pollutant>,
}

impl AqiReport {
    pub fn level(&self) -> Option<Level> {
        self.aqi.map(Level::from_aqi)
    }

    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    pub fn iaqi(&self, indicator: Indicator) -> Option<u16> {
        self.sub_indices.iter().find(|s| s.indicator == indicator).map(|s| s.iaqi)
    }

    /// Exceeding pollutants (超标污染物, HJ 633-2012 §3.6: IAQI > 100);
    /// the 2026 edition deleted the notion, so this is empty under it.
    pub fn exceeding(&self) -> Vec<Pollutant> {
        if self.edition == Edition::E2026 {
            return Vec::new();
        }
        let mut out: Vec<Pollutant> =
            self.sub_indices.iter().filter(|s| s.iaqi > 100).map(|s| s.indicator.pollutant()).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Primary pollutants joined as official tables print them.
    pub fn primary_label(&self) -> String {
        self.primary.iter().map(|p| p.label()).collect::<Vec<_>>().join(",")
    }
}

/// Daily concentrations of one station or area (HJ 633 §6, daily report).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DailyInput {
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub pm10: Option<f64>,
    pub pm25: Option<f64>,
    pub co: Option<f64>,
    /// Daily maximum 8-hour mean (MDA8).
    pub o3_8h: Option<f64>,
    /// Daily maximum 1-hour mean; a daily indicator only under HJ 633-2012.
    pub o3_1h_max: Option<f64>,
}

/// One hour's 1-hour concentrations (real-time report).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HourlyInput {
    pub so2: Option<f64>,
    pub no2: Option<f64>,
    pub pm10: Option<f64>,
    pub pm25: Option<f64>,
    pub co: Option<f64>,
    pub o3: Option<f64>,
    /// Trailing 24-hour SO2 mean, used only when SO2 1-hour > 800 under 2012.
    pub so2_24h: Option<f64>,
}

/// Daily AQI (日报). 2012: seven indicators (O3 both 1-hour max and MDA8);
/// 2026: six (MDA8 only).
pub fn daily_aqi(edition: Edition, input: &DailyInput) -> AqiReport {
    use Indicator::*;
    let mut items = vec![
        (So2Daily, input.so2),
        (No2Daily, input.no2),
        (Pm10Daily, input.pm10),
        (CoDaily, input.co),
        (O3EightHour, input.o3_8h),
        (Pm25Daily, input.pm25),
    ];
    if edition == Edition::E2012 {
        items.insert(4, (O3Hour, input.o3_1h_max));
    }
    assemble(edition, &items, None)
}

/// Real-time hourly AQI (实时报) as the national network computes it: the six
/// 1-hour values, PM against the daily breakpoints (explicit in HJ 633-2026;
/// measured on the network's 2019 files for 2012, `docs/STANDARDS.md`).
pub fn hourly_aqi(edition: Edition, input: &HourlyInput) -> AqiReport {
    use Indicator::*;
    let items = [
        (So2Hour, input.so2),
        (No2Hour, input.no2),
        (Pm10Daily, input.pm10),
        (CoHour, input.co),
        (O3Hour, input.o3),
        (Pm25Daily, input.pm25),
    ];
    assemble(edition, &items, input.so2_24h)
}

fn assemble(edition: Edition, items: &[(Indicator, Option<f64>)], so2_24h: Option<f64>) -> AqiReport {
    let mut sub_indices = Vec::with_capacity(items.len());
    let mut missing = Vec::new();
    let o3_hour = items.iter().find(|(i, _)| *i == Indicator::O3Hour).and_then(|(_, c)| *c);
    for &(indicator, conc) in items {
        let Some(c) = conc else {
            missing.push(indicator);
            continue;
        };
        let Some(lookup) = iaqi_lookup(indicator, edition, c) else {
            missing.push(indicator);
            continue;
        };
        let (iaqi, special) = match lookup {
            Lookup::Iaqi(v) => (Some(v), None),
            Lookup::AboveTable => special_case(indicator, edition, so2_24h, o3_hour),
        };
        match iaqi {
            Some(iaqi) => {
                sub_indices.push(SubIndex { indicator, concentration: indicator.pollutant().report(c), iaqi, special })
            }
            None => missing.push(indicator),
        }
    }
    let max = sub_indices.iter().map(|s| s.iaqi).max();
    // HJ 633-2026 §8: with a pollutant missing, an AQI ≤ 100 is not published.
    let aqi = match max {
        Some(v) if edition == Edition::E2026 && !missing.is_empty() && v <= 100 => None,
        other => other,
    };
    let mut primary = Vec::new();
    if let Some(a) = aqi.filter(|&a| a > 50) {
        for s in sub_indices.iter().filter(|s| s.iaqi == a) {
            let p = s.indicator.pollutant();
            if !primary.contains(&p) {
                primary.push(p);
            }
        }
    }
    AqiReport { edition, aqi, sub_indices, missing, primary }
}

/// HJ 633 special rules above the last breakpoint of a column (standards §3).
fn special_case(
    indicator: Indicator,
    edition: Edition,
    so2_24h: Option<f64>,
    o3_hour: Option<f64>,
) -> (Option<u16>, Option<SpecialCase>) {
    match (indicator, edition) {
        (Indicator::So2Hour, Edition::E2012) => {
            let v = so2_24h.and_then(|c| iaqi_lookup(Indicator::So2Daily, edition, c)).map(capped);
            (v, Some(SpecialCase::So2HourUses24h))
        }
        (Indicator::So2Hour, Edition::E2026) => (Some(200), Some(SpecialCase::So2HourFixed200)),
        (Indicator::O3EightHour, Edition::E2012) => {
            let v = o3_hour.and_then(|c| iaqi_lookup(Indicator::O3Hour, edition, c)).map(capped);
            (v, Some(SpecialCase::O3EightHourUses1h))
        }
        (Indicator::O3EightHour, Edition::E2026) => (Some(300), Some(SpecialCase::O3EightHourFixed300)),
        _ => (Some(500), Some(SpecialCase::AboveRange)),
    }
}

fn capped(l: Lookup) -> u16 {
    match l {
        Lookup::Iaqi(v) => v,
        Lookup::AboveTable => 500,
    }
}

/// AQI level (HJ 633 Table 2 of 2012 / Table 3 of 2026).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    pub fn from_aqi(aqi: u16) -> Level {
        Level(match aqi {
            0..=50 => 1,
            51..=100 => 2,
            101..=150 => 3,
            151..=200 => 4,
            201..=300 => 5,
            _ => 6,
        })
    }

    /// 1 … 6.
    pub fn number(self) -> u8 {
        self.0
    }

    pub fn name_zh(self) -> &'static str {
        ["一级", "二级", "三级", "四级", "五级", "六级"][self.idx()]
    }

    /// 类别 (优, 良, 轻度污染 …).
    pub fn category_zh(self) -> &'static str {
        ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"][self.idx()]
    }

    pub fn category_en(self) -> &'static str {
        ["Excellent", "Good", "Lightly polluted", "Moderately polluted", "Heavily polluted", "Severely polluted"]
            [self.idx()]
    }

    pub fn colour_zh(self) -> &'static str {
        ["绿色", "黄色", "橙色", "红色", "紫色", "褐红色"][self.idx()]
    }

    /// RGB from the standard's table, as `#rrggbb`.
    pub fn colour_hex(self) -> &'static str {
        ["#00e400", "#ffff00", "#ff7e00", "#ff0000", "#99004c", "#7e0023"][self.idx()]
    }

    /// 优良 (AQI ≤ 100).
    pub fn is_good(self) -> bool {
        self.0 <= 2
    }

    /// 重污染 (AQI > 200).
    pub fn is_heavy(self) -> bool {
        self.0 >= 5
    }

    fn idx(self) -> usize {
        usize::from(self.0 - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Edition::*;
    use Indicator::*;

    fn iaqi(i: Indicator, e: Edition, c: f64) -> u16 {
        match iaqi_lookup(i, e, c) {
            Some(Lookup::Iaqi(v)) => v,
            other => panic!("{other:?}"),
        }
    }

    /// HJ 633 worked examples (standards/hj633-aqi.md §7).
    #[test]
    fn worked_examples() {
        assert_eq!(iaqi(Pm25Daily, E2012, 68.0), 92);
        assert_eq!(iaqi(Pm25Daily, E2026, 68.0), 108);
        assert_eq!(iaqi(Pm25Daily, E2012, 60.0), 82);
        assert_eq!(iaqi(Pm25Daily, E2026, 60.0), 100);
        assert_eq!(iaqi(Pm25Daily, E2026, 61.0), 101);
        assert_eq!(iaqi(Pm10Daily, E2012, 135.0), 93);
        assert_eq!(iaqi(Pm10Daily, E2026, 135.0), 106);
        assert_eq!(iaqi(Pm10Daily, E2026, 121.0), 101);
        for e in [E2012, E2026] {
            assert_eq!(iaqi(O3EightHour, e, 180.0), 119);
            assert_eq!(iaqi(O3Hour, e, 250.0), 125);
            assert_eq!(iaqi(CoDaily, e, 1.3), 33);
            assert_eq!(iaqi(No2Daily, e, 95.0), 108);
            assert_eq!(iaqi(So2Daily, e, 20.0), 20);
        }
    }

    /// Every breakpoint of every column maps exactly to its IAQI step, and
    /// one unit above it is strictly above the step (no float 100 → 101).
    #[test]
    fn every_table_row() {
        let all = [So2Daily, So2Hour, No2Daily, No2Hour, Pm10Daily, Pm25Daily, CoDaily, CoHour, O3Hour, O3EightHour];
        for e in [E2012, E2026] {
            for ind in all {
                let bp = ind.breakpoints(e);
                for (k, &b) in bp.iter().enumerate() {
                    let c = b as f64 / 1000.0;
                    assert_eq!(iaqi(ind, e, c), IAQI_STEPS[k] as u16, "{ind:?} {e:?} at {c}");
                    if k + 1 < bp.len() {
                        let step = if ind.pollutant() == Pollutant::Co { 0.1 } else { 1.0 };
                        assert!(iaqi(ind, e, c + step) > IAQI_STEPS[k] as u16, "{ind:?} above {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn table_values_match_the_standard() {
        // Spot rows of HJ 633 Table 1 in natural units.
        let t = |i: Indicator, e| i.breakpoints(e).iter().map(|v| *v as f64 / 1000.0).collect::<Vec<_>>();
        assert_eq!(t(So2Daily, E2012), [0., 50., 150., 475., 800., 1600., 2100., 2620.]);
        assert_eq!(t(So2Hour, E2026), [0., 150., 500., 650., 800.]);
        assert_eq!(t(No2Hour, E2012), [0., 100., 200., 700., 1200., 2340., 3090., 3840.]);
        assert_eq!(t(CoHour, E2012), [0., 5., 10., 35., 60., 90., 120., 150.]);
        assert_eq!(t(O3Hour, E2026), [0., 160., 200., 300., 400., 800., 1000., 1200.]);
        assert_eq!(t(O3EightHour, E2012), [0., 100., 160., 215., 265., 800.]);
        assert_eq!(t(Pm10Daily, E2026)[2], 120.0);
        assert_eq!(t(Pm25Daily, E2026)[2], 60.0);
        assert_eq!(t(Pm25Daily, E2012)[2], 75.0);
        // Only the PM IAQI-100 breakpoints differ between editions.
        for i in [So2Daily, So2Hour, No2Daily, No2Hour, CoDaily, CoHour, O3Hour, O3EightHour] {
            assert_eq!(i.breakpoints(E2012), i.breakpoints(E2026));
        }
    }

    #[test]
    fn whole_day_example() {
        let input = DailyInput {
            so2: Some(20.0),
            no2: Some(95.0),
            co: Some(1.3),
            o3_8h: Some(180.0),
            pm10: Some(135.0),
            pm25: Some(68.0),
            o3_1h_max: None,
        };
        let r = daily_aqi(E2026, &input);
        assert_eq!(r.aqi, Some(119));
        assert_eq!(r.primary, vec![Pollutant::O3]);
        let l = r.level().unwrap();
        assert_eq!((l.number(), l.name_zh(), l.category_zh()), (3, "三级", "轻度污染"));
        let iaqis: Vec<u16> = [So2Daily, No2Daily, CoDaily, O3EightHour, Pm10Daily, Pm25Daily]
            .iter()
            .map(|i| r.iaqi(*i).unwrap())
            .collect();
        assert_eq!(iaqis, [20, 108, 33, 119, 106, 108]);
        let r12 = daily_aqi(E2012, &DailyInput { o3_1h_max: Some(190.0), ..input });
        let iaqis: Vec<u16> = [So2Daily, No2Daily, CoDaily, O3EightHour, Pm10Daily, Pm25Daily]
            .iter()
            .map(|i| r12.iaqi(*i).unwrap())
            .collect();
        assert_eq!(iaqis, [20, 108, 33, 119, 93, 92]);
        assert_eq!(r12.aqi, Some(119));
        assert_eq!(r12.primary, vec![Pollutant::O3]);
        assert_eq!(r12.exceeding(), vec![Pollutant::No2, Pollutant::O3]);
        assert!(r.exceeding().is_empty());
    }

    #[test]
    fn joint_primary_pollutants() {
        let input = DailyInput {
            no2: Some(95.0),
            pm25: Some(68.0),
            o3_8h: Some(100.0),
            so2: Some(5.0),
            pm10: Some(60.0),
            co: Some(0.5),
            o3_1h_max: None,
        };
        let r = daily_aqi(E2026, &input);
        assert_eq!(r.aqi, Some(108));
        assert_eq!(r.primary, vec![Pollutant::No2, Pollutant::Pm25]);
        assert_eq!(r.primary_label(), "NO2,PM2.5");
        // O3 tied through both its indicators is listed once.
        let r = daily_aqi(E2012, &DailyInput { o3_8h: Some(180.0), o3_1h_max: Some(238.0), ..Default::default() });
        assert_eq!(r.iaqi(O3Hour), Some(119));
        assert_eq!(r.primary, vec![Pollutant::O3]);
    }

    #[test]
    fn no_primary_at_or_below_50() {
        let r = daily_aqi(
            E2012,
            &DailyInput {
                so2: Some(5.),
                no2: Some(20.),
                pm10: Some(50.),
                pm25: Some(35.),
                co: Some(0.4),
                o3_8h: Some(60.),
                o3_1h_max: Some(80.),
            },
        );
        assert_eq!(r.aqi, Some(50));
        assert!(r.primary.is_empty());
        assert_eq!(r.level().unwrap().category_zh(), "优");
    }

    #[test]
    fn special_cases_above_800() {
        // 2012: SO2 1h 900 → the 24-hour SO2 IAQI (120 → 85).
        let r = hourly_aqi(E2012, &HourlyInput { so2: Some(900.0), so2_24h: Some(120.0), ..Default::default() });
        assert_eq!(r.iaqi(So2Hour), Some(85));
        assert_eq!(r.sub_indices[0].special, Some(SpecialCase::So2HourUses24h));
        // 2012 without a 24-hour value: SO2 is missing, not invented.
        let r = hourly_aqi(E2012, &HourlyInput { so2: Some(900.0), ..Default::default() });
        assert_eq!(r.iaqi(So2Hour), None);
        assert!(r.missing.contains(&So2Hour));
        // 2026: fixed 200.
        let r = hourly_aqi(E2026, &HourlyInput { so2: Some(900.0), ..Default::default() });
        assert_eq!(r.iaqi(So2Hour), Some(200));
        // O3 8h 850: 2026 → 300; 2012 → the 1-hour O3 IAQI.
        let r = daily_aqi(E2026, &DailyInput { o3_8h: Some(850.0), ..Default::default() });
        assert_eq!(r.iaqi(O3EightHour), Some(300));
        let r = daily_aqi(E2012, &DailyInput { o3_8h: Some(850.0), o3_1h_max: Some(900.0), ..Default::default() });
        assert_eq!(r.iaqi(O3EightHour), Some(350)); // O3 1h 900: 300 + 100·100/200
        assert_eq!(
            r.sub_indices.iter().find(|s| s.indicator == O3EightHour).unwrap().special,
            Some(SpecialCase::O3EightHourUses1h)
        );
        // Above the IAQI-500 breakpoint: capped, flagged.
        let r = daily_aqi(E2012, &DailyInput { pm10: Some(900.0), ..Default::default() });
        assert_eq!(r.aqi, Some(500));
        assert_eq!(r.sub_indices[0].special, Some(SpecialCase::AboveRange));
        assert_eq!(r.level().unwrap().number(), 6);
    }

    #[test]
    fn levels_and_colours() {
        let cases = [
            (0, 1, "#00e400"),
            (50, 1, "#00e400"),
            (51, 2, "#ffff00"),
            (100, 2, "#ffff00"),
            (101, 3, "#ff7e00"),
            (150, 3, "#ff7e00"),
            (151, 4, "#ff0000"),
            (200, 4, "#ff0000"),
            (201, 5, "#99004c"),
            (300, 5, "#99004c"),
            (301, 6, "#7e0023"),
            (500, 6, "#7e0023"),
        ];
        for (aqi, level, colour) in cases {
            let l = Level::from_aqi(aqi);
            assert_eq!((l.number(), l.colour_hex()), (level, colour), "AQI {aqi}");
        }
        assert!(Level::from_aqi(100).is_good() && !Level::from_aqi(101).is_good());
        assert!(Level::from_aqi(201).is_heavy() && !Level::from_aqi(200).is_heavy());
    }

    #[test]
    fn concentrations_are_rounded_before_lookup() {
        // 75.4 reports as 75 → IAQI 100 under 2012; 75.5 → 76 (half to even) → 102.
        assert_eq!(iaqi(Pm25Daily, E2012, 75.4), 100);
        assert_eq!(iaqi(Pm25Daily, E2012, 75.5), 102);
        assert_eq!(iaqi(Pm25Daily, E2012, 74.5), 99); // 74.5 → 74 → 98.75
        // CO 2.2 → 55 exactly (aqi-hub's float ceil gives 56).
        assert_eq!(iaqi(CoDaily, E2012, 2.2), 55);
        // PM2.5 19.6 reports as 20 → 28.57 → 29 (HJ 633-2026 §4.2.2 rounds
        // first; the unrounded 19.6 would give exactly 28).
        assert_eq!(iaqi(Pm25Daily, E2012, 19.6), 29);
        assert_eq!(iaqi_lookup(Pm25Daily, E2012, -1.0), None);
        assert_eq!(iaqi_lookup(Pm25Daily, E2012, f64::NAN), None);
    }

    #[test]
    fn incomplete_2026_withholds_low_aqi() {
        let r = daily_aqi(E2026, &DailyInput { pm25: Some(30.0), ..Default::default() });
        assert_eq!(r.aqi, None);
        let r = daily_aqi(E2026, &DailyInput { pm25: Some(100.0), ..Default::default() });
        assert_eq!(r.aqi, Some(137)); // 100 + 50·40/55 = 136.4
        let r = daily_aqi(E2012, &DailyInput { pm25: Some(30.0), ..Default::default() });
        assert_eq!(r.aqi, Some(43));
    }
}
