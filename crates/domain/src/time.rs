//! Event time.
//!
//! Every event carries the time it happened, in UTC with millisecond precision
//! (docs/STATISTICS.md, Time). A plain `i64` of milliseconds is what the log stores: it
//! encodes small, compares fast and can never carry a time zone by accident. Calendar work
//! (days, weeks in the organization's zone) belongs to the projections; they convert with
//! jiff where they need it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The wall clock. For the edges of the system (the command service, the ticker):
    /// nothing in this crate calls it, time always comes in as an argument.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(since)
    }

    /// This time plus `millis` (saturating, so hostile input cannot overflow).
    pub const fn plus_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// This time plus whole minutes.
    pub const fn plus_minutes(self, minutes: i64) -> Self {
        self.plus_millis(minutes.saturating_mul(60_000))
    }

    /// The time as people read it in a message: `2025-03-03 09:14:07 UTC` (to the
    /// second; RFC 3339 with milliseconds is for machines, see `Display`).
    pub fn for_people(self) -> String {
        match self.to_jiff() {
            Some(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            None => self.to_string(),
        }
    }

    /// The time as a jiff timestamp (none outside jiff's range, years -9999..=9999).
    pub fn to_jiff(self) -> Option<jiff::Timestamp> {
        jiff::Timestamp::from_millisecond(self.0).ok()
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Timestamp(t.as_millisecond())
    }
}

/// RFC 3339 in UTC, e.g. `2024-05-01T12:00:00.250Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_jiff() {
            Some(t) => write!(f, "{t}"),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

/// Parses RFC 3339 (any offset; the instant is kept).
impl FromStr for Timestamp {
    type Err = jiff::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<jiff::Timestamp>().map(Timestamp::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_rfc3339_and_parses_back() {
        let t = Timestamp::from_millis(1_714_564_800_250);
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.25Z");
        assert_eq!("2024-05-01T12:00:00.250Z".parse::<Timestamp>().unwrap(), t);
        assert_eq!(t.plus_minutes(1).millis(), t.millis() + 60_000);
    }
}
