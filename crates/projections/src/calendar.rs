//! Days in the organization's time zone (docs/STATISTICS.md, Time): which day a moment
//! falls on, and when a day starts, daylight saving included (a day has 23, 24 or 25
//! hours).
//!
//! A day is numbered by its civil date: days since 1970-01-01. The zone is the
//! organization's setting at the time an event is folded; a change of zone applies to
//! what comes after it (days already counted keep their numbers).

use std::collections::HashMap;
use std::sync::Mutex;

use helpdesk_domain::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A civil day: days since 1970-01-01.
pub type Day = i32;

/// Time zones by name, parsed once.
#[derive(Debug, Default)]
pub struct Zones {
    parsed: Mutex<HashMap<String, TimeZone>>,
}

impl Zones {
    /// The zone named `name`; UTC for a name the bundled database does not know (the
    /// command side refuses those, so only an old log could hold one).
    pub fn get(&self, name: &str) -> TimeZone {
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(zone) = parsed.get(name) {
            return zone.clone();
        }
        let zone = jiff::tz::db().get(name).unwrap_or(TimeZone::UTC);
        parsed.insert(name.to_owned(), zone.clone());
        zone
    }
}

/// The day `time` falls on in `zone`.
pub fn day_of(time: Timestamp, zone: &TimeZone) -> Day {
    match time.to_jiff() {
        Some(t) => {
            let date = t.to_zoned(zone.clone()).date();
            days_from_civil(
                i32::from(date.year()),
                date.month() as u32,
                date.day() as u32,
            )
        }
        // Beyond jiff's range (years ±9999): UTC arithmetic is as good as any.
        None => time.millis().div_euclid(86_400_000) as Day,
    }
}

/// When `day` starts in `zone` (its first moment: midnight, or the first moment after a
/// gap when midnight does not exist that day).
pub fn day_start(day: Day, zone: &TimeZone) -> Timestamp {
    let (y, m, d) = civil_from_days(day);
    let start = Date::new(y as i16, m as i8, d as i8)
        .ok()
        .and_then(|date| date.to_zoned(zone.clone()).ok())
        .and_then(|zoned| zoned.start_of_day().ok());
    match start {
        Some(zoned) => Timestamp::from(zoned.timestamp()),
        None => Timestamp::from_millis(i64::from(day) * 86_400_000),
    }
}

/// `YYYY-MM-DD` of a day.
pub fn format_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: Day) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Splits `[from, to)` into the parts that fall on each day, in order.
pub fn split_by_day(from: Timestamp, to: Timestamp, zone: &TimeZone) -> Vec<(Day, i64)> {
    let mut parts = Vec::new();
    if to <= from {
        return parts;
    }
    let mut day = day_of(from, zone);
    let mut start = from;
    while start < to {
        let next = day_start(day + 1, zone);
        let end = if next > start { next.min(to) } else { to };
        parts.push((day, end.millis() - start.millis()));
        start = end;
        day += 1;
    }
    parts
}

/// A local civil hour: hours since 1970-01-01T00:00 on the wall clock of a zone. The
/// repeated hour of a daylight-saving change is one local hour; the skipped one is none.
pub type LocalHour = i64;

/// The local hour `time` falls in.
pub fn local_hour_of(time: Timestamp, zone: &TimeZone) -> LocalHour {
    match time.to_jiff() {
        Some(t) => {
            let dt = t.to_zoned(zone.clone()).datetime();
            let day = days_from_civil(i32::from(dt.year()), dt.month() as u32, dt.day() as u32);
            i64::from(day) * 24 + i64::from(dt.hour())
        }
        None => time.millis().div_euclid(3_600_000),
    }
}

/// When a local hour starts (the first instant showing it; after a gap, the gap's end).
pub fn local_hour_start(hour: LocalHour, zone: &TimeZone) -> Timestamp {
    let day = hour.div_euclid(24) as Day;
    let (y, m, d) = civil_from_days(day);
    let start = jiff::civil::DateTime::new(
        y as i16,
        m as i8,
        d as i8,
        hour.rem_euclid(24) as i8,
        0,
        0,
        0,
    )
    .ok()
    .and_then(|dt| dt.to_zoned(zone.clone()).ok());
    match start {
        Some(zoned) => Timestamp::from(zoned.timestamp()),
        None => Timestamp::from_millis(hour * 3_600_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 1), 19_783);
        for day in [-800_000, -1, 0, 1, 19_783, 60_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(format_day(19_783), "2024-03-01");
    }

    #[test]
    fn daylight_saving_days_have_23_and_25_hours() {
        let berlin = jiff::tz::db().get("Europe/Berlin").unwrap();
        let spring = days_from_civil(2024, 3, 31);
        let autumn = days_from_civil(2024, 10, 27);
        let hours = |day: Day| {
            (day_start(day + 1, &berlin).millis() - day_start(day, &berlin).millis()) / 3_600_000
        };
        assert_eq!(hours(spring), 23);
        assert_eq!(hours(autumn), 25);
        assert_eq!(hours(spring + 1), 24);
        // 2024-03-31 00:30 Berlin is 2024-03-30 23:30 UTC.
        let t = Timestamp::from_millis(1_711_841_400_000);
        assert_eq!(day_of(t, &berlin), spring);
        assert_eq!(day_of(t, &TimeZone::UTC), spring - 1);
    }

    #[test]
    fn intervals_split_at_local_midnight() {
        let utc = TimeZone::UTC;
        let day = days_from_civil(2024, 5, 1);
        let start = day_start(day, &utc);
        let parts = split_by_day(
            start.plus_millis(22 * 3_600_000),
            start.plus_millis(50 * 3_600_000),
            &utc,
        );
        assert_eq!(
            parts,
            vec![
                (day, 2 * 3_600_000),
                (day + 1, 24 * 3_600_000),
                (day + 2, 2 * 3_600_000)
            ]
        );
        assert!(split_by_day(start, start, &utc).is_empty());
    }
}
