//! How hdctl writes things for people: lengths of time as `1h 23m`, moments in the
//! organization's time zone, numbers without noise, and aligned tables. "No data" is
//! always a blank cell, never `0` or `NaN`.

use helpdesk_api::pb;

/// A length of time as people say it, in its two largest units: `45s`, `12m 5s`,
/// `1h 23m`, `2d 3h` (the smaller unit rounded). Under a second: `<1s` (`0s` for none).
pub fn duration_ms(millis: f64) -> String {
    if !millis.is_finite() {
        return String::new();
    }
    let millis = millis.max(0.0);
    if millis == 0.0 {
        return "0s".into();
    }
    if millis < 1000.0 {
        return "<1s".into();
    }
    const UNITS: [(&str, f64); 4] = [
        ("d", 86_400_000.0),
        ("h", 3_600_000.0),
        ("m", 60_000.0),
        ("s", 1000.0),
    ];
    // The largest unit that fits, and the next one to round to.
    let units = |millis: f64| {
        let big = UNITS
            .iter()
            .position(|(_, size)| millis >= *size)
            .unwrap_or(UNITS.len() - 1);
        (
            UNITS[big],
            UNITS.get(big + 1).copied().unwrap_or(UNITS[big]),
        )
    };
    let (_, (_, small)) = units(millis);
    // Rounding may carry into a larger unit (59m 59.6s is `1h`): the units of the
    // rounded length.
    let rounded = (millis / small).round() * small;
    let ((big_name, big_size), (small_name, small_size)) = units(rounded);
    let whole = (rounded / big_size).floor();
    let rest = ((rounded - whole * big_size) / small_size).round();
    if rest == 0.0 || big_name == small_name {
        format!("{whole}{big_name}")
    } else {
        format!("{whole}{big_name} {rest}{small_name}")
    }
}

/// [`duration_ms`] of a number of seconds.
pub fn duration_s(seconds: f64) -> String {
    duration_ms(seconds * 1000.0)
}

/// A moment in `zone`: `2025-03-03 14:05`.
pub fn time(at: &prost_types::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::new(at.seconds, at.nanos) {
        Ok(at) => at
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// [`time`], blank when there is none.
pub fn time_or_blank(at: Option<&prost_types::Timestamp>, zone: &jiff::tz::TimeZone) -> String {
    at.map(|at| time(at, zone)).unwrap_or_default()
}

/// `HH:MM:SS` of a moment in `zone` (a line of a live stream).
pub fn clock(at: &prost_types::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::new(at.seconds, at.nanos) {
        Ok(at) => at.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string(),
        Err(_) => String::new(),
    }
}

/// A column header naming the zone its times are in: `reached (Europe/Ljubljana)`.
pub fn zoned_header(what: &str, zone: &jiff::tz::TimeZone) -> String {
    format!("{what} ({})", zone.iana_name().unwrap_or("UTC"))
}

/// A number: whole numbers without decimals, others with one.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        String::new()
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Whether a badge statistic is a length of time (its values are milliseconds).
pub fn is_duration_statistic(statistic: i32) -> bool {
    use pb::BadgeStatistic as S;
    matches!(
        S::try_from(statistic),
        Ok(S::PausedSeconds
            | S::MeanAnswerWait
            | S::MeanChatPickup
            | S::MeanResolution
            | S::OnlineSeconds
            | S::LongestChat
            | S::LongestCall)
    )
}

/// A badge's value (or runner-up) for people: a length of time for the time
/// statistics, else the count; blank when there is none (nobody competed, the
/// Four-leaf Clover, or not shown to the caller).
pub fn badge_value(badge: Option<&pb::Badge>, value: Option<u64>) -> String {
    match value {
        None => String::new(),
        Some(v) if badge.is_some_and(|b| is_duration_statistic(b.statistic)) => {
            duration_ms(v as f64)
        }
        Some(v) => v.to_string(),
    }
}

/// A badge evaluation's window: `2025-03-03` for one day, `2025-02-25 – 2025-03-03`.
pub fn window(evaluation: &pb::BadgeEvaluation) -> String {
    if evaluation.window_from == evaluation.window_to {
        evaluation.window_from.clone()
    } else {
        format!("{} – {}", evaluation.window_from, evaluation.window_to)
    }
}

/// `yes` or `no`.
pub fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Items joined with `, `; `-` for none.
pub fn list_or_dash<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Prints rows as aligned columns, the first row as the header.
pub fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(duration_s(45.0), "45s");
        assert_eq!(duration_s(725.0), "12m 5s");
        assert_eq!(duration_s(83.0 * 60.0), "1h 23m");
        assert_eq!(duration_s(85_856.8), "23h 51m");
        assert_eq!(duration_s(2.0 * 86_400.0 + 3.0 * 3600.0), "2d 3h");
        assert_eq!(duration_s(3600.0), "1h");
        assert_eq!(duration_s(3599.7), "1h");
        assert_eq!(duration_ms(400.0), "<1s");
        assert_eq!(duration_ms(0.0), "0s");
        assert_eq!(duration_ms(f64::NAN), "");
        assert_eq!(duration_s(30.0 * 86_400.0), "30d");
    }

    #[test]
    fn times_read_in_the_zone() {
        let at = prost_types::Timestamp {
            seconds: 1_740_960_000, // 2025-03-03 00:00 UTC
            nanos: 0,
        };
        let utc = jiff::tz::TimeZone::UTC;
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(time(&at, &utc), "2025-03-03 00:00");
        assert_eq!(time(&at, &tokyo), "2025-03-03 09:00");
        assert_eq!(clock(&at, &tokyo), "09:00:00");
        assert_eq!(zoned_header("reached", &tokyo), "reached (Asia/Tokyo)");
    }

    #[test]
    fn badge_values_are_lengths_of_time_or_counts() {
        let pickup = pb::Badge {
            statistic: pb::BadgeStatistic::MeanChatPickup as i32,
            ..Default::default()
        };
        let transfers = pb::Badge {
            statistic: pb::BadgeStatistic::Transfers as i32,
            ..Default::default()
        };
        assert_eq!(badge_value(Some(&pickup), Some(83_000)), "1m 23s");
        assert_eq!(badge_value(Some(&transfers), Some(7)), "7");
        assert_eq!(badge_value(Some(&transfers), None), "");
        assert_eq!(number(f64::NAN), "");
        assert_eq!(number(85_856.8), "85856.8");
    }
}
