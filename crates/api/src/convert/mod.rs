//! From request messages to domain values.
//!
//! Every helper names the request field it reads, so that a bad value becomes
//! `INVALID_ARGUMENT` naming that field (``field `ticket_id`: not a UUID``).
//! Nested fields are paths: `conversation.id`, `groups[0].conditions[1]`.

mod commands;
mod config;

pub use commands::{issue_token, IntoCommand, ParsedCommand};
pub use config::{role_ref_pb, routing_rule_pb};

use std::str::FromStr;

use uuid::Uuid;

use crate::error::ApiError;

/// A required id: empty is "is required", anything but a UUID is "not a UUID", and the
/// nil UUID (all zeros) is no id (the read models use it for "none").
pub fn parse_id<T>(field: &str, value: &str) -> Result<T, ApiError>
where
    T: FromStr<Err = uuid::Error>,
{
    if value.is_empty() {
        return Err(ApiError::missing_field(field));
    }
    let uuid = Uuid::parse_str(value)
        .map_err(|_| ApiError::invalid_argument(field, format!("not a UUID: {:?}", clip(value))))?;
    if uuid.is_nil() {
        return Err(ApiError::invalid_argument(
            field,
            "the nil UUID is not an id: leave it empty or give a real one",
        ));
    }
    value
        .parse()
        .map_err(|_| ApiError::invalid_argument(field, format!("not a UUID: {:?}", clip(value))))
}

/// An optional id: empty is `None`.
pub fn parse_optional_id<T>(field: &str, value: &str) -> Result<Option<T>, ApiError>
where
    T: FromStr<Err = uuid::Error>,
{
    if value.is_empty() {
        Ok(None)
    } else {
        parse_id(field, value).map(Some)
    }
}

/// The id of a new aggregate: the one given, or a new UUID v7 when empty.
pub fn new_or_given_id<T>(field: &str, value: &str) -> Result<T, ApiError>
where
    T: FromStr<Err = uuid::Error> + From<Uuid>,
{
    Ok(parse_optional_id(field, value)?.unwrap_or_else(|| T::from(Uuid::now_v7())))
}

/// A list of ids, each named `field[i]` when it is bad.
pub fn parse_ids<T>(field: &str, values: &[String]) -> Result<Vec<T>, ApiError>
where
    T: FromStr<Err = uuid::Error>,
{
    values
        .iter()
        .enumerate()
        .map(|(i, v)| parse_id(&format!("{field}[{i}]"), v))
        .collect()
}

/// The command id: the one given (a UUID), or a new UUID v7 when empty.
pub fn command_id(value: &str) -> Result<Uuid, ApiError> {
    new_or_given_id::<Uuid>("command_id", value)
}

/// A caller-supplied `occurred_at` as milliseconds since the Unix epoch (UTC),
/// sub-millisecond precision dropped (rounded down). `None` when unset.
pub fn occurred_at_millis(value: Option<&prost_types::Timestamp>) -> Result<Option<i64>, ApiError> {
    let Some(ts) = value else { return Ok(None) };
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(ApiError::invalid_argument(
            "occurred_at",
            "nanos must be in 0..1000000000",
        ));
    }
    ts.seconds
        .checked_mul(1_000)
        .and_then(|ms| ms.checked_add(i64::from(ts.nanos / 1_000_000)))
        .map(Some)
        .ok_or_else(|| ApiError::invalid_argument("occurred_at", "out of range"))
}

/// Milliseconds since the Unix epoch as a protobuf timestamp.
pub fn timestamp_from_millis(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: millis.div_euclid(1_000),
        nanos: (millis.rem_euclid(1_000) * 1_000_000) as i32,
    }
}

/// A domain channel as its proto enum (for read models).
pub fn channel_pb(channel: helpdesk_domain::Channel) -> crate::pb::Channel {
    use crate::pb::Channel as P;
    use helpdesk_domain::Channel as C;
    match channel {
        C::Email => P::Email,
        C::Chat => P::Chat,
        C::Call => P::Call,
        C::WebForm => P::WebForm,
        C::Facebook => P::Facebook,
        C::Twitter => P::Twitter,
        C::Instagram => P::Instagram,
        C::Viber => P::Viber,
        C::Whatsapp => P::Whatsapp,
        C::Api => P::Api,
    }
}

/// A domain priority as its proto enum (for read models).
pub fn priority_pb(priority: helpdesk_domain::Priority) -> crate::pb::Priority {
    use crate::pb::Priority as P;
    use helpdesk_domain::Priority as D;
    match priority {
        D::Low => P::Low,
        D::Normal => P::Normal,
        D::High => P::High,
        D::Urgent => P::Urgent,
    }
}

/// A badge statistic as its proto enum (for read models).
pub fn statistic_pb(statistic: helpdesk_domain::Statistic) -> crate::pb::BadgeStatistic {
    use crate::pb::BadgeStatistic as P;
    use helpdesk_domain::Statistic as S;
    match statistic {
        S::Transfers => P::Transfers,
        S::PausedSeconds => P::PausedSeconds,
        S::NegativeRatings => P::NegativeRatings,
        S::MeanAnswerWait => P::MeanAnswerWait,
        S::MeanChatPickup => P::MeanChatPickup,
        S::PositiveRatings => P::PositiveRatings,
        S::PausesStarted => P::PausesStarted,
        S::LongestAnswer => P::LongestAnswer,
        S::TicketsTagged => P::TicketsTagged,
        S::MeanResolution => P::MeanResolution,
        S::OnlineSeconds => P::OnlineSeconds,
        S::LongestChat => P::LongestChat,
        S::ResolutionsAndDeletions => P::ResolutionsAndDeletions,
        S::LongestCall => P::LongestCall,
    }
}

/// Which value wins a badge, as its proto enum.
pub fn best_pb(best: helpdesk_domain::Best) -> crate::pb::BadgeBest {
    match best {
        helpdesk_domain::Best::Max => crate::pb::BadgeBest::Max,
        helpdesk_domain::Best::Min => crate::pb::BadgeBest::Min,
    }
}

/// A badge's visibility as its proto enum.
pub fn visibility_pb(visibility: helpdesk_domain::BadgeVisibility) -> crate::pb::BadgeVisibility {
    match visibility {
        helpdesk_domain::BadgeVisibility::Public => crate::pb::BadgeVisibility::Public,
        helpdesk_domain::BadgeVisibility::SelfAndManagers => {
            crate::pb::BadgeVisibility::SelfAndManagers
        }
    }
}

/// A required enum field: the `*_UNSPECIFIED` value (0) is "is required", an
/// unknown number is "unknown value".
pub fn required_enum<E>(field: &str, value: i32) -> Result<E, ApiError>
where
    E: TryFrom<i32>,
{
    if value == 0 {
        return Err(ApiError::missing_field(field));
    }
    E::try_from(value)
        .map_err(|_| ApiError::invalid_argument(field, format!("unknown value {value}")))
}

/// An optional enum field: the `*_UNSPECIFIED` value (0) is `None`.
pub fn optional_enum<E>(field: &str, value: i32) -> Result<Option<E>, ApiError>
where
    E: TryFrom<i32>,
{
    if value == 0 {
        Ok(None)
    } else {
        required_enum(field, value).map(Some)
    }
}

/// A required message field.
pub fn required<T>(field: &str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::missing_field(field))
}

/// A value for an error message: at most 64 characters of it.
fn clip(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::pb;

    #[test]
    fn ids_parse_or_name_the_field() {
        let id = Uuid::now_v7();
        assert_eq!(parse_id::<Uuid>("ticket_id", &id.to_string()), Ok(id));
        let err = parse_id::<Uuid>("ticket_id", "").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert_eq!(err.status_message(), "field `ticket_id`: is required");
        let err = parse_id::<Uuid>("ticket_id", "nope").unwrap_err();
        assert_eq!(err.field(), Some("ticket_id"));
        assert_eq!(err.message(), "not a UUID: \"nope\"");
        assert_eq!(parse_optional_id::<Uuid>("department_id", ""), Ok(None));
        let err = parse_ids::<Uuid>("level_ids", &[id.to_string(), "x".into()]).unwrap_err();
        assert_eq!(err.field(), Some("level_ids[1]"));
    }

    #[test]
    fn new_ids_are_v7_when_empty() {
        let id: Uuid = new_or_given_id("ticket_id", "").unwrap();
        assert_eq!(id.get_version_num(), 7);
        let given = Uuid::new_v4();
        assert_eq!(
            new_or_given_id::<Uuid>("ticket_id", &given.to_string()),
            Ok(given)
        );
        assert_eq!(command_id("").unwrap().get_version_num(), 7);
        assert_eq!(command_id("bad").unwrap_err().field(), Some("command_id"));
    }

    #[test]
    fn timestamps_round_trip_in_milliseconds() {
        assert_eq!(occurred_at_millis(None), Ok(None));
        let ts = prost_types::Timestamp {
            seconds: 1_714_564_800,
            nanos: 250_999_999,
        };
        assert_eq!(occurred_at_millis(Some(&ts)), Ok(Some(1_714_564_800_250)));
        let back = timestamp_from_millis(1_714_564_800_250);
        assert_eq!((back.seconds, back.nanos), (1_714_564_800, 250_000_000));
        let before_epoch = timestamp_from_millis(-1);
        assert_eq!(
            (before_epoch.seconds, before_epoch.nanos),
            (-1, 999_000_000)
        );
        assert_eq!(occurred_at_millis(Some(&before_epoch)), Ok(Some(-1)));
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(
            occurred_at_millis(Some(&bad)).unwrap_err().field(),
            Some("occurred_at")
        );
        let huge = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert!(occurred_at_millis(Some(&huge)).is_err());
    }

    #[test]
    fn enums_reject_unspecified_and_unknown() {
        assert_eq!(
            required_enum::<pb::Channel>("channel", 1),
            Ok(pb::Channel::Email)
        );
        let err = required_enum::<pb::Channel>("channel", 0).unwrap_err();
        assert_eq!(err.status_message(), "field `channel`: is required");
        let err = required_enum::<pb::Channel>("channel", 99).unwrap_err();
        assert_eq!(err.status_message(), "field `channel`: unknown value 99");
        assert_eq!(optional_enum::<pb::Priority>("priority", 0), Ok(None));
        assert_eq!(
            optional_enum::<pb::Priority>("priority", 4),
            Ok(Some(pb::Priority::Urgent))
        );
    }

    #[test]
    fn long_values_are_clipped_in_messages() {
        let long = "x".repeat(500);
        let err = parse_id::<Uuid>("agent_id", &long).unwrap_err();
        assert!(err.message().chars().count() < 100, "{}", err.message());
    }
}
