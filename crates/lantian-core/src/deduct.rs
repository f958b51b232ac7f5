//! Deduction of sand-dust and exceptional-event data (环办监测〔2016〕120号;
//! HJ 663-2026 例外事件): the hours an event affected, as inclusive ranges
//! of hour-ending labels, and what they leave of a day.
//!
//! The reading chosen for an hour-level event and the 20-hour day rule
//! (docs/STANDARDS.md, "Deduction"): the affected hours are removed from
//! PM10 and PM2.5 for the assessment statistics, and the day keeps a
//! deducted daily value only when at least 20 valid unaffected hours remain
//! (the standard's own validity rule); otherwise the day's PM10 and PM2.5
//! are deducted whole. A whole-day event removes all 24 hours.

use crate::time::{DayNumber, HourLabel};

/// Affected hours: inclusive label ranges, sorted and merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Intervals(Vec<(HourLabel, HourLabel)>);

impl Intervals {
    /// From ranges in any order, overlapping or not.
    pub fn new(mut ranges: Vec<(HourLabel, HourLabel)>) -> Intervals {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        let mut out: Vec<(HourLabel, HourLabel)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match out.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Intervals(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ranges(&self) -> &[(HourLabel, HourLabel)] {
        &self.0
    }

    /// Which of a day's 24 hour slots (labels 1..=24) are affected; `None`
    /// when none is.
    pub fn day_mask(&self, day: DayNumber) -> Option<[bool; 24]> {
        let (first, last) = (day * 24 + 1, day * 24 + 24);
        let start = self.0.partition_point(|&(_, b)| b < first);
        let mut mask = [false; 24];
        let mut any = false;
        for &(a, b) in self.0[start..].iter().take_while(|&&(a, _)| a <= last) {
            for l in a.max(first)..=b.min(last) {
                mask[(l - first) as usize] = true;
                any = true;
            }
        }
        any.then_some(mask)
    }

    /// The ranges that touch labels `from..=to` (for keys of cached months).
    pub fn within(&self, from: HourLabel, to: HourLabel) -> Vec<(HourLabel, HourLabel)> {
        self.0.iter().copied().filter(|&(a, b)| b >= from && a <= to).collect()
    }
}

/// A day's PM10 and PM2.5 without the affected hours (`None`: deducted whole).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Deducted {
    pub pm10: Option<f64>,
    pub pm25: Option<f64>,
}

/// Whether a day's value from a source without hours (a published city
/// value) is deducted whole: more hours affected than the 20-hour rule can
/// spare (the hours are taken as all valid).
pub fn published_day_deducted(mask: &[bool; 24], daily_min_hours: usize) -> bool {
    mask.iter().filter(|&&m| !m).count() < daily_min_hours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_mask_days() {
        // Day 10: labels 241..=264. An event from label 250 (hour ending
        // 10:00) to 265 (label 1 of day 11) and one inside it.
        let iv = Intervals::new(vec![(252, 255), (250, 265), (300, 299)]);
        assert_eq!(iv.ranges(), &[(250, 265)]);
        let m = iv.day_mask(10).unwrap();
        assert_eq!(m.iter().filter(|&&x| x).count(), 15, "labels 250..=264");
        assert!(!m[8] && m[9] && m[23]);
        let next = iv.day_mask(11).unwrap();
        assert_eq!(next.iter().filter(|&&x| x).count(), 1, "label 265 opens day 11");
        assert!(next[0]);
        assert_eq!(iv.day_mask(9), None);
        assert_eq!(iv.day_mask(12), None);
        // Adjacent ranges join; a whole day is 24 hours.
        let whole = Intervals::new(vec![(241, 250), (251, 264)]);
        assert_eq!(whole.ranges(), &[(241, 264)]);
        assert!(whole.day_mask(10).unwrap().iter().all(|&x| x));
        assert_eq!(whole.day_mask(11), None, "label 264 is the last of day 10");
    }

    #[test]
    fn published_days_follow_the_20_hour_rule() {
        let mut m = [false; 24];
        m[..4].fill(true);
        assert!(!published_day_deducted(&m, 20), "20 hours remain");
        m[4] = true;
        assert!(published_day_deducted(&m, 20), "19 remain");
    }
}
