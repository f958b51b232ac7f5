//! Hour labels and days, China time (UTC+8, no daylight saving).
//!
//! The network labels an hour by its end: label H of date D is the mean of
//! D (H−1):00 … H:00 Beijing time; label 0 of D+1 closes day D. An
//! [`HourLabel`] counts hours from 1970-01-01T00:00+08:00 to the label, so
//! day D owns labels `24·d + 1 ..= 24·d + 24`.

use jiff::civil::Date;

/// Hours from 1970-01-01T00:00+08:00 to the end of the hour (its label).
pub type HourLabel = i64;
/// Days from 1970-01-01 (China civil date).
pub type DayNumber = i64;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn day_number(d: Date) -> DayNumber {
    days_from_civil(i64::from(d.year()), i64::from(d.month()), i64::from(d.day()))
}

/// Civil date of a day number; `None` outside jiff's supported years.
pub fn date_of(day: DayNumber) -> Option<Date> {
    let (y, m, d) = civil_from_days(day);
    Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

/// The label for `hour` (0..=23) printed on date `d` in CNEMC files.
pub fn label(d: Date, hour: i64) -> HourLabel {
    day_number(d) * 24 + hour
}

/// The day whose mean a label belongs to (label 0 closes the previous day).
pub fn day_of_label(l: HourLabel) -> DayNumber {
    (l - 1).div_euclid(24)
}

/// Position 1..=24 of a label within its day.
pub fn slot_of_label(l: HourLabel) -> usize {
    ((l - 1).rem_euclid(24) + 1) as usize
}

/// `YYYY-MM-DDTHH:00+08:00` of a label, as printed on the label's own date
/// (label 24 of a day prints as 00:00 of the next).
pub fn format_label(l: HourLabel) -> String {
    let day = l.div_euclid(24);
    let hour = l.rem_euclid(24);
    match date_of(day) {
        Some(d) => format!("{d}T{hour:02}:00+08:00"),
        None => format!("hour {l}"),
    }
}

// Howard Hinnant's algorithms (public domain), exact for all i64 in range.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_numbers_agree_with_jiff() {
        let epoch = date(1970, 1, 1);
        let mut d = date(2012, 12, 25);
        for _ in 0..6000 {
            let n = day_number(d);
            assert_eq!(n, i64::from(d.since(epoch).unwrap().get_days()));
            assert_eq!(date_of(n), Some(d));
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn labels_close_the_previous_day() {
        let d = date(2019, 1, 1);
        let l0 = label(d, 0);
        assert_eq!(date_of(day_of_label(l0)), Some(date(2018, 12, 31)));
        assert_eq!(slot_of_label(l0), 24);
        assert_eq!(day_of_label(label(d, 1)), day_number(d));
        assert_eq!(slot_of_label(label(d, 1)), 1);
        assert_eq!(slot_of_label(label(d, 23)), 23);
        assert_eq!(format_label(label(d, 16)), "2019-01-01T16:00+08:00");
    }
}
