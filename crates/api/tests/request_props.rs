//! Random input never panics request validation, and every refusal is a well-formed API
//! error.
//!
//! Validating a command request is two steps: [`IntoCommand::into_command`] (ids, enums,
//! required fields → domain terms) and [`Command::validate`] (lengths, ranges, shapes,
//! without state). The properties here drive both, with `None` and an agent as the caller:
//!
//! 1. random bytes, and random protobuf wire records (which decode far more often), decoded
//!    as every request message that carries a command;
//! 2. structurally valid messages with hostile field values (unicode, control characters,
//!    empty, blank and very long strings, out-of-range enum numbers, malformed UUIDs,
//!    out-of-range timestamps, optional fields present or absent) for a selection of
//!    requests, alone and wrapped in an `ExecuteRequest`;
//! 3. valid `CreateTicket`s, which always convert and validate.
//!
//! Every refusal must be `INVALID_ARGUMENT` with a short message, name a field of the
//! request (a path that exists in its descriptor, never user input) or the request as a
//! whole, and survive the trip through a `tonic::Status`, its HTTP trailers and an
//! `Execute` stream error. One known bug is let through here and pinned by an ignored
//! property at the end.
//!
//! That the event log's decoder (`helpdesk_domain::Envelope::decode`) never panics on
//! random or mutated bytes is `crates/domain/tests/decode_props.rs`; not repeated here.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use helpdesk_api::convert::{channel_pb, issue_token, priority_pb};
use helpdesk_api::{pb, ApiError, ErrorCode, IntoCommand, ParsedCommand};
use helpdesk_domain::command::Command;
use helpdesk_domain::{AgentId, Permission};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use tonic_types::StatusExt;
use uuid::Uuid;

// --- checks ------------------------------------------------------------------------------

/// Shaped like a request field path: `name`, `conversation.id`,
/// `groups[0].conditions[1]`. Never a piece of the request's content.
fn is_field_path(field: &str) -> bool {
    !field.is_empty()
        && field.split('.').all(|segment| {
            let name_end = segment.find('[').unwrap_or(segment.len());
            let (name, mut rest) = segment.split_at(name_end);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return false;
            }
            while !rest.is_empty() {
                let Some(inner) = rest.strip_prefix('[') else {
                    return false;
                };
                let Some(close) = inner.find(']') else {
                    return false;
                };
                let index = &inner[..close];
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                rest = &inner[close + 1..];
            }
            true
        })
}

/// The messages of the API by full name (`.helpdesk.v1.CreateTicketRequest`).
fn messages() -> &'static HashMap<String, DescriptorProto> {
    static MESSAGES: OnceLock<HashMap<String, DescriptorProto>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        fn collect(
            prefix: &str,
            list: &[DescriptorProto],
            out: &mut HashMap<String, DescriptorProto>,
        ) {
            for message in list {
                let name = format!("{prefix}.{}", message.name());
                collect(&name, &message.nested_type, out);
                out.insert(name, message.clone());
            }
        }
        let fds = FileDescriptorSet::decode(helpdesk_api::FILE_DESCRIPTOR_SET).unwrap();
        let mut out = HashMap::new();
        for file in &fds.file {
            collect(
                &format!(".{}", file.package()),
                &file.message_type,
                &mut out,
            );
        }
        out
    })
}

/// Whether `path` names a field of the request message `message` (`CreateTicketRequest`):
/// every segment a field (or, last, a oneof) of the message before, an index only on a
/// repeated field, a nested segment only below a message.
fn field_resolves(message: &str, path: &str) -> bool {
    let Some(mut current) = messages().get(&format!(".helpdesk.v1.{message}")) else {
        return false;
    };
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let name = &segment[..segment.find('[').unwrap_or(segment.len())];
        let indices = segment.matches('[').count();
        match current.field.iter().find(|f| f.name() == name) {
            Some(field) => {
                let repeated = field.label() == Label::Repeated;
                if indices > 1 || (indices == 1 && !repeated) {
                    return false;
                }
                if !last {
                    if field.r#type() != Type::Message || (repeated && indices == 0) {
                        return false;
                    }
                    match messages().get(field.type_name()) {
                        Some(next) => current = next,
                        None => return false,
                    }
                }
            }
            None => {
                let oneof = current.oneof_decl.iter().any(|o| o.name() == name);
                if !(oneof && last && indices == 0) {
                    return false;
                }
            }
        }
    }
    true
}

/// The request message an `ExecuteRequest` wraps (`CreateTicketRequest`): error fields
/// name its fields.
fn wrapped_message(command: &pb::execute_request::Command) -> String {
    let bytes = pb::ExecuteRequest {
        command: Some(command.clone()),
    }
    .encode_to_vec();
    let tag = prost::encoding::decode_varint(&mut &bytes[..]).unwrap();
    let number = i32::try_from(tag >> 3).unwrap();
    let execute = &messages()[".helpdesk.v1.ExecuteRequest"];
    let field = execute.field.iter().find(|f| f.number() == number).unwrap();
    field
        .type_name()
        .trim_start_matches(".helpdesk.v1.")
        .to_owned()
}

/// Error messages quote at most a clip of the input: whatever its size, a status message
/// stays small (it travels in the `grpc-message` trailer).
const MAX_STATUS_MESSAGE_BYTES: usize = 1024;

/// Where a refusal comes from, for checking and for failure messages.
struct Origin<'a> {
    /// The request message whose fields errors name.
    message: &'a str,
    /// `into_command(None)`, `validate`, ….
    step: &'a str,
    /// Also hold the refusal to the rule a known bug breaks (see the ignored property at
    /// the end).
    strict: bool,
}

/// A known bug, pinned by the ignored property at the end (remove this with its fix):
/// `DefineRole` / `UpdateRole` quote an unknown permission name whole.
fn known_unclipped(err: &ApiError, origin: &Origin) -> bool {
    !origin.strict && err.message().starts_with("unknown permission ")
}

/// A refusal of request validation, as the client will see it.
#[track_caller]
fn assert_well_formed(err: &ApiError, origin: &Origin) {
    let context = format!("{} {}", origin.message, origin.step);
    let unclipped = known_unclipped(err, origin);
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{context}: {err}");
    let message = err.status_message();
    assert!(!err.message().trim().is_empty(), "{context}: empty message");
    assert!(
        !message.trim().is_empty(),
        "{context}: empty status message"
    );
    assert!(
        unclipped || message.len() <= MAX_STATUS_MESSAGE_BYTES,
        "{context}: status message of {} bytes: {:?}…",
        message.len(),
        message.chars().take(200).collect::<String>(),
    );
    if let Some(field) = err.field() {
        assert!(
            is_field_path(field),
            "{context}: field {field:?} is not a field path: {err}"
        );
        assert!(
            field_resolves(origin.message, field),
            "{context}: field {field:?} is no field of {}: {err}",
            origin.message
        );
        assert_eq!(message, format!("field `{field}`: {}", err.message()));
    }
    // Else the request as a whole is at fault ("set at least one field to change").

    let status = tonic::Status::from(err);
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{context}");
    assert_eq!(status.message(), message, "{context}");
    let bad_request = status.get_details_bad_request();
    match err.field() {
        Some(field) => {
            let bad_request = bad_request.expect("INVALID_ARGUMENT naming a field has BadRequest");
            assert_eq!(bad_request.field_violations.len(), 1, "{context}");
            assert_eq!(bad_request.field_violations[0].field, field, "{context}");
            assert_eq!(
                bad_request.field_violations[0].description,
                err.message(),
                "{context}"
            );
        }
        None => assert!(bad_request.is_none(), "{context}"),
    }
    assert_eq!(&ApiError::from_status(&status), err, "{context}");

    // Through the trailers the client receives.
    let mut headers = tonic::codegen::http::HeaderMap::new();
    status
        .add_header(&mut headers)
        .unwrap_or_else(|e| panic!("{context}: status does not fit in headers: {e}"));
    let received = tonic::Status::from_header_map(&headers).expect("grpc-status header");
    assert_eq!(received.code(), status.code(), "{context}");
    assert_eq!(received.message(), status.message(), "{context}");
    assert_eq!(received.details(), status.details(), "{context}");

    // And as an `Execute` stream error.
    let command_error = err.to_command_error();
    assert_eq!(command_error.code, tonic::Code::InvalidArgument as i32);
    assert_eq!(command_error.message, message);
    assert_eq!(command_error.field, err.field().unwrap_or_default());
}

/// Runs `f`; a panic becomes one that names the request and the step.
fn guard<T>(request: &str, step: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        panic!("{request}: {step} panicked: {message}")
    })
}

/// How far a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Refused while converting (ids, enums, required fields).
    Refused,
    /// Converted, refused by `Command::validate`.
    Invalid,
    /// Converted and valid.
    Valid,
}

/// Validates what `into_command` gave; every refusal must be well-formed.
fn outcome(result: Result<ParsedCommand, ApiError>, origin: &Origin) -> Outcome {
    let parsed = match result {
        Ok(parsed) => parsed,
        Err(err) => {
            assert_well_formed(&err, origin);
            return Outcome::Refused;
        }
    };
    match guard(origin.message, "Command::validate", || {
        parsed.command.validate()
    }) {
        Ok(()) => Outcome::Valid,
        Err(err) => {
            let origin = Origin {
                step: "validate",
                ..*origin
            };
            assert_well_formed(&ApiError::from(err), &origin);
            Outcome::Invalid
        }
    }
}

/// A request that carries a command, and the message whose fields its errors name.
trait Request: IntoCommand + Clone + Debug {
    fn message(&self) -> String;
}

macro_rules! requests {
    ($($request:ident),* $(,)?) => {$(
        impl Request for pb::$request {
            fn message(&self) -> String {
                stringify!($request).to_owned()
            }
        }
    )*};
}

/// Calls `$then!` with every request message that implements `IntoCommand` (but
/// `ExecuteRequest`, which wraps them).
macro_rules! with_command_requests {
    ($then:ident) => {
        $then! {
            RegisterAgentRequest,
            ChangeAgentRoleRequest,
            GoOnlineRequest,
            GoOfflineRequest,
            PauseAgentRequest,
            ResumeAgentRequest,
            DeactivateAgentRequest,
            CreateDepartmentRequest,
            UpdateDepartmentRequest,
            AddAgentToDepartmentRequest,
            RemoveAgentFromDepartmentRequest,
            CreateTicketRequest,
            AssignTicketRequest,
            UnassignTicketRequest,
            TransferTicketRequest,
            AnswerTicketRequest,
            RecordCustomerReplyRequest,
            TagTicketRequest,
            UntagTicketRequest,
            ResolveTicketRequest,
            ReopenTicketRequest,
            DeleteTicketRequest,
            StartChatRequest,
            OfferChatRequest,
            AcceptChatRequest,
            MissChatRequest,
            AnswerChatRequest,
            RecordChatCustomerMessageRequest,
            EndChatRequest,
            IncomingCallRequest,
            RingCallRequest,
            AnswerCallRequest,
            MissCallRequest,
            EndCallRequest,
            RateConversationRequest,
            RetractRatingRequest,
            DefineLevelRequest,
            UpdateLevelRequest,
            RemoveLevelRequest,
            ReorderLevelsRequest,
            CustomizeBadgeRequest,
            DefineBadgeRequest,
            RemoveBadgeRequest,
            DefineRoutingRuleRequest,
            RemoveRoutingRuleRequest,
            UpdateRoutingRuleRequest,
            DefineRoleRequest,
            UpdateRoleRequest,
            RemoveRoleRequest,
            SetOrganizationSettingsRequest,
            RevokeTokenRequest,
        }
    };
}

with_command_requests!(requests);

impl Request for pb::ExecuteRequest {
    fn message(&self) -> String {
        match &self.command {
            Some(command) => wrapped_message(command),
            // The one error names `command`, the oneof.
            None => "ExecuteRequest".to_owned(),
        }
    }
}

impl Request for pb::execute_request::Command {
    fn message(&self) -> String {
        wrapped_message(self)
    }
}

/// Converts and validates `request` for no caller and for an agent. A caller only fills
/// in an empty `agent_id`, so what converts without one converts with one.
fn check<R: Request>(request: &R, agent: AgentId) -> [Outcome; 2] {
    check_with(request, agent, false)
}

fn check_with<R: Request>(request: &R, agent: AgentId, strict: bool) -> [Outcome; 2] {
    let message = request.message();
    let origin = |step| Origin {
        message: &message,
        step,
        strict,
    };
    let without = guard(&message, "into_command(None)", || {
        request.clone().into_command(None)
    });
    let without = outcome(without, &origin("into_command(None)"));
    let with = guard(&message, "into_command(Some(agent))", || {
        request.clone().into_command(Some(agent))
    });
    let with = outcome(with, &origin("into_command(Some(agent))"));
    assert!(
        without == Outcome::Refused || with != Outcome::Refused,
        "{message}: converts without a caller but not with one: {request:?}"
    );
    [without, with]
}

/// `IssueToken` is no `IntoCommand` (the server makes the secret), but is a command
/// request all the same.
fn check_issue_token(request: &pb::IssueTokenRequest) -> Outcome {
    let message = "IssueTokenRequest";
    let result = guard(message, "issue_token", || {
        issue_token(request.clone(), [7; 32]).map(|(parsed, _token_id)| parsed)
    });
    outcome(
        result,
        &Origin {
            message,
            step: "issue_token",
            strict: false,
        },
    )
}

// --- 1. random bytes -----------------------------------------------------------------------

/// Every request message that carries a command, decoded from `bytes` and checked.
/// Returns how many of them decoded.
fn decode_and_check_all(bytes: &[u8], agent: AgentId) -> usize {
    macro_rules! each {
        ($($request:ident),* $(,)?) => {{
            let mut decoded = 0;
            $(
                if let Ok(request) = pb::$request::decode(bytes) {
                    decoded += 1;
                    check(&request, agent);
                }
            )*
            decoded
        }};
    }
    let mut decoded = with_command_requests!(each);
    if let Ok(request) = pb::ExecuteRequest::decode(bytes) {
        decoded += 1;
        check(&request, agent);
    }
    if let Ok(request) = pb::IssueTokenRequest::decode(bytes) {
        decoded += 1;
        check_issue_token(&request);
    }
    decoded
}

/// A protobuf wire record: random, but shaped like what `prost` expects.
#[derive(Debug, Clone)]
enum Wire {
    Varint(u32, u64),
    Fixed64(u32, u64),
    Fixed32(u32, u32),
    Bytes(u32, Vec<u8>),
    Message(u32, Vec<Wire>),
    /// A group marker or a corrupt tag.
    Raw(Vec<u8>),
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_tag(field: u32, wire_type: u8, out: &mut Vec<u8>) {
    put_varint(u64::from(field) << 3 | u64::from(wire_type), out);
}

fn encode_wire(records: &[Wire], out: &mut Vec<u8>) {
    for record in records {
        match record {
            Wire::Varint(field, value) => {
                put_tag(*field, 0, out);
                put_varint(*value, out);
            }
            Wire::Fixed64(field, value) => {
                put_tag(*field, 1, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Wire::Fixed32(field, value) => {
                put_tag(*field, 5, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
            Wire::Bytes(field, bytes) => {
                put_tag(*field, 2, out);
                put_varint(bytes.len() as u64, out);
                out.extend_from_slice(bytes);
            }
            Wire::Message(field, inner) => {
                let mut body = Vec::new();
                encode_wire(inner, &mut body);
                put_tag(*field, 2, out);
                put_varint(body.len() as u64, out);
                out.extend_from_slice(&body);
            }
            Wire::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
}

/// Field numbers: mostly those the requests use (1..=9, and 1..=49 in `ExecuteRequest`).
fn field_number() -> BoxedStrategy<u32> {
    prop_oneof![
        12 => 1u32..=9,
        4 => 1u32..=50,
        1 => 1u32..(1 << 29),
    ]
    .boxed()
}

fn wire_value() -> BoxedStrategy<u64> {
    prop_oneof![
        4 => 0u64..16,
        1 => any::<i32>().prop_map(|v| v as i64 as u64),
        1 => any::<u64>(),
        1 => Just(u64::MAX),
    ]
    .boxed()
}

fn wire_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => id().prop_map(String::into_bytes),
        2 => small_text().prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..40),
    ]
    .boxed()
}

fn wire_record() -> BoxedStrategy<Wire> {
    let leaf = prop_oneof![
        4 => (field_number(), wire_value()).prop_map(|(f, v)| Wire::Varint(f, v)),
        1 => (field_number(), any::<u64>()).prop_map(|(f, v)| Wire::Fixed64(f, v)),
        1 => (field_number(), any::<u32>()).prop_map(|(f, v)| Wire::Fixed32(f, v)),
        6 => (field_number(), wire_bytes()).prop_map(|(f, b)| Wire::Bytes(f, b)),
        1 => vec(any::<u8>(), 1..4).prop_map(Wire::Raw),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            2 => inner.clone(),
            3 => (field_number(), vec(inner, 0..6)).prop_map(|(f, r)| Wire::Message(f, r)),
        ]
    })
    .boxed()
}

// --- 2. structured messages --------------------------------------------------------------

/// Characters that stress text handling.
fn hostile_char() -> BoxedStrategy<char> {
    // Whitespace, control, zero-width, combining, case-folding, CJK, astral, the last
    // code point, and the punctuation of paths, e-mails and formats.
    const SPECIAL: &str = " \t\n\r\0\u{7f}\u{85}\u{a0}\u{200b}\u{2028}\u{3000}\u{feff}\u{301}\
                           éßİ字🦀\u{10ffff}@./_-[]`\"\\%$";
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => proptest::char::range('0', '9'),
        3 => select(SPECIAL.chars().collect::<Vec<_>>()),
        2 => any::<char>(),
    ]
    .boxed()
}

/// Lengths (in characters) around the domain's limits: 64, 200, 254, 1000, 2000, 64 Ki.
const LENGTHS: &[usize] = &[
    1, 63, 64, 65, 199, 200, 201, 254, 255, 999, 1000, 1001, 2000, 2001, 65_536, 65_537,
];

fn whitespace() -> BoxedStrategy<String> {
    vec(
        select(&[' ', '\t', '\n', '\r', '\u{a0}', '\u{2028}', '\u{3000}'][..]),
        1..4,
    )
    .prop_map(String::from_iter)
    .boxed()
}

/// Short strings: empty, blank, or a few hostile characters.
fn small_text() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(String::new()),
        1 => whitespace(),
        6 => vec(hostile_char(), 1..12).prop_map(String::from_iter),
    ]
    .boxed()
}

/// Any string: short ones, and long ones of one or a few repeated characters.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => small_text(),
        2 => (hostile_char(), select(LENGTHS)).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => (vec(hostile_char(), 1..4), select(LENGTHS))
            .prop_map(|(cs, n)| cs.iter().cycle().take(n).collect()),
    ]
    .boxed()
}

/// Words and tags: short, but around their 64-character limit.
fn word() -> BoxedStrategy<String> {
    let letter = prop_oneof![
        8 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('0', '9'),
        1 => select(&['é', 'ß', '字', 'Ж', '_', '-', ' '][..]),
    ];
    prop_oneof![
        6 => vec(letter, 1..10).prop_map(String::from_iter),
        4 => small_text(),
        1 => (hostile_char(), 62usize..67).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => select(&["-", "!?", "#", "ok", "vip\n", "a\u{7}b"][..]).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A UUID in any of the spellings `Uuid::parse_str` knows.
fn uuid_text() -> BoxedStrategy<String> {
    (any::<u128>(), 0u8..6)
        .prop_map(|(n, form)| {
            let uuid = Uuid::from_u128(n);
            match form {
                0 | 1 => uuid.hyphenated().to_string(),
                2 => uuid.simple().to_string(),
                3 => uuid.braced().to_string(),
                4 => uuid.urn().to_string(),
                _ => uuid.hyphenated().to_string().to_uppercase(),
            }
        })
        .boxed()
}

/// Ids: empty, UUIDs, nearly-UUIDs (one character inserted, replaced or cut), and any text.
fn id() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(String::new()),
        8 => uuid_text(),
        1 => select(vec![Uuid::nil(), Uuid::max()]).prop_map(|u| u.to_string()),
        2 => (uuid_text(), any::<Index>(), hostile_char(), 0u8..3).prop_map(|(s, at, c, op)| {
            // UUID spellings are ASCII: every byte index is a char boundary.
            let mut s = s;
            match op {
                0 => s.insert(at.index(s.len() + 1), c),
                1 => {
                    let i = at.index(s.len());
                    s.replace_range(i..=i, &c.to_string());
                }
                _ => s.truncate(at.index(s.len())),
            }
            s
        }),
        2 => text(),
    ]
    .boxed()
}

/// An enum number: mostly a defined value, else unspecified (0), one past the end,
/// negative or huge.
fn enum_value(max: i32) -> BoxedStrategy<i32> {
    prop_oneof![
        14 => 1..=max,
        2 => Just(0),
        1 => Just(max + 1),
        1 => select(&[-1, i32::MIN, i32::MAX][..]),
        1 => any::<i32>(),
    ]
    .boxed()
}

fn timestamp() -> BoxedStrategy<prost_types::Timestamp> {
    let seconds = prop_oneof![
        4 => -100_000_000_000i64..100_000_000_000,
        2 => select(&[
            0,
            -1,
            i64::MAX,
            i64::MIN,
            i64::MAX / 1000,
            i64::MAX / 1000 + 1,
            i64::MIN / 1000,
            i64::MIN / 1000 - 1,
        ][..]),
        1 => any::<i64>(),
    ];
    let nanos = prop_oneof![
        4 => 0..1_000_000_000i32,
        2 => select(&[-1, 0, 999_999_999, 1_000_000_000, i32::MIN, i32::MAX][..]),
        1 => any::<i32>(),
    ];
    (seconds, nanos)
        .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos })
        .boxed()
}

/// From 1990 (the earliest time a command may carry) to 3000 years after 1970, nanos in
/// range.
fn valid_timestamp() -> BoxedStrategy<prost_types::Timestamp> {
    let earliest = helpdesk_domain::limits::OCCURRED_AT_MIN_MILLIS / 1000;
    (earliest..100_000_000_000, 0..1_000_000_000i32)
        .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos })
        .boxed()
}

/// The `command_id` and `occurred_at` every request starts with: mostly valid, so that
/// the rest of the request gets checked too.
fn header() -> BoxedStrategy<(String, Option<prost_types::Timestamp>)> {
    prop_oneof![
        3 => (given_or_empty_id(), option::of(valid_timestamp())),
        1 => (id(), option::of(timestamp())),
    ]
    .boxed()
}

/// A new aggregate's or item's id: mostly empty (a v7 is made) or a UUID.
fn new_id() -> BoxedStrategy<String> {
    prop_oneof![3 => given_or_empty_id(), 1 => id()].boxed()
}

/// Enum numbers mostly in range, for lists where one bad entry refuses the whole.
fn mostly_valid_enum(max: i32) -> BoxedStrategy<i32> {
    prop_oneof![8 => 1..=max, 1 => enum_value(max)].boxed()
}

/// Ids mostly valid, for lists where one bad entry refuses the whole.
fn mostly_valid_id() -> BoxedStrategy<String> {
    prop_oneof![8 => uuid_text(), 1 => id()].boxed()
}

fn small_u32(max: u32) -> BoxedStrategy<u32> {
    prop_oneof![
        6 => 0..=max + 1,
        1 => Just(u32::MAX),
        1 => any::<u32>(),
    ]
    .boxed()
}

/// Lists: mostly short, sometimes around the domain's limits (20 and 100 entries).
fn list<T: Debug + Clone + 'static>(
    element: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Vec<T>> {
    let element = element.boxed();
    prop_oneof![
        12 => vec(element.clone(), 0..4),
        1 => vec(element.clone(), 19..22),
        1 => vec(element, 99..102),
    ]
    .boxed()
}

fn role_ref() -> BoxedStrategy<pb::RoleRef> {
    use pb::role_ref::Role;
    option::weighted(
        0.9,
        prop_oneof![
            enum_value(3).prop_map(Role::Builtin),
            id().prop_map(Role::CustomRoleId),
        ],
    )
    .prop_map(|role| pb::RoleRef { role })
    .boxed()
}

fn conversation_ref() -> BoxedStrategy<pb::ConversationRef> {
    (enum_value(3), id())
        .prop_map(|(kind, id)| pb::ConversationRef { kind, id })
        .boxed()
}

fn email() -> BoxedStrategy<String> {
    prop_oneof![
        2 => text(),
        3 => (small_text(), small_text()).prop_map(|(local, domain)| format!("{local}@{domain}")),
        3 => "[a-z0-9.+_-]{1,12}@[a-z0-9.-]{1,12}",
        1 => Just("ana@example.com".to_owned()),
        1 => (1usize..260).prop_map(|n| format!("{}@example.com", "a".repeat(n))),
    ]
    .boxed()
}

fn permission_name() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(&Permission::ALL[..]).prop_map(|p| p.as_str().to_owned()),
        2 => word(),
        1 => text(),
    ]
    .boxed()
}

fn time_zone() -> BoxedStrategy<String> {
    const ZONES: &[&str] = &[
        "UTC",
        "utc",
        "Europe/Berlin",
        "europe/berlin",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+12",
        "Etc/GMT+13",
        "Etc/GMT-14",
        "EST5EDT",
        "posix/Europe/Berlin",
        "right/UTC",
        "Factory",
        "localtime",
        "posixrules",
        "Z",
        "+01:00",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "../../../../etc/passwd",
        "/etc/localtime",
        "Europe/",
        "/",
        "Europe//Berlin",
        "Europe/../UTC",
        "Europe/Berlin\0",
        "Europe/Berlin ",
    ];
    prop_oneof![
        3 => select(ZONES).prop_map(str::to_owned),
        1 => "[A-Za-z_/+:.-]{1,70}",
        1 => text(),
    ]
    .boxed()
}

fn odds() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => 0.0..=1.0f64,
        2 => select(&[
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            1.0 + f64::EPSILON,
            -f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
        ][..]),
        1 => any::<f64>(),
    ]
    .boxed()
}

fn create_ticket() -> BoxedStrategy<pb::CreateTicketRequest> {
    (
        header(),
        id(),
        enum_value(10),
        enum_value(4),
        text(),
        option::of(text()),
        id(),
    )
        .prop_map(
            |(
                (command_id, occurred_at),
                ticket_id,
                channel,
                priority,
                subject,
                body,
                department_id,
            )| {
                pb::CreateTicketRequest {
                    command_id,
                    occurred_at,
                    ticket_id,
                    channel,
                    priority,
                    subject,
                    body,
                    department_id,
                }
            },
        )
        .boxed()
}

fn register_agent() -> BoxedStrategy<pb::RegisterAgentRequest> {
    (
        header(),
        new_id(),
        text(),
        email(),
        option::weighted(0.9, role_ref()),
    )
        .prop_map(|((command_id, occurred_at), agent_id, name, email, role)| {
            pb::RegisterAgentRequest {
                command_id,
                occurred_at,
                agent_id,
                name,
                email,
                role,
            }
        })
        .boxed()
}

fn pause_agent() -> BoxedStrategy<pb::PauseAgentRequest> {
    use pb::pause_agent_request::PauseReason;
    (
        header(),
        id(),
        option::of(prop_oneof![
            text().prop_map(PauseReason::Reason),
            conversation_ref().prop_map(PauseReason::AutoMissed),
        ]),
        option::of(small_u32(1440)),
    )
        .prop_map(
            |((command_id, occurred_at), agent_id, pause_reason, planned_minutes)| {
                pb::PauseAgentRequest {
                    command_id,
                    occurred_at,
                    agent_id,
                    pause_reason,
                    planned_minutes,
                }
            },
        )
        .boxed()
}

fn resume_agent() -> BoxedStrategy<pb::ResumeAgentRequest> {
    (header(), id(), enum_value(4))
        .prop_map(
            |((command_id, occurred_at), agent_id, reason)| pb::ResumeAgentRequest {
                command_id,
                occurred_at,
                agent_id,
                reason,
            },
        )
        .boxed()
}

/// Short lists (mostly 1 to 3 entries, sometimes none), or long ones around the limits (20 and 100 entries).
fn sized<T: Debug + Clone + 'static>(
    element: impl Strategy<Value = T> + 'static,
    long: bool,
) -> BoxedStrategy<Vec<T>> {
    let element = element.boxed();
    if long {
        prop_oneof![vec(element.clone(), 19..22), vec(element, 99..102)].boxed()
    } else {
        prop_oneof![1 => Just(Vec::new()), 8 => vec(element, 1..4)].boxed()
    }
}

fn routing_condition(long: bool) -> BoxedStrategy<pb::RoutingCondition> {
    use pb::routing_condition::Condition as C;
    let words = move || sized(word(), long).prop_map(|words| pb::WordList { words });
    option::weighted(
        0.95,
        prop_oneof![
            sized(mostly_valid_enum(10), long)
                .prop_map(|channels| C::ChannelIn(pb::ChannelSet { channels })),
            sized(mostly_valid_enum(4), long)
                .prop_map(|priorities| C::PriorityIn(pb::PrioritySet { priorities })),
            words().prop_map(C::SubjectContains),
            words().prop_map(C::BodyContains),
            words().prop_map(C::SubjectOrBodyContains),
        ],
    )
    .prop_map(|condition| pb::RoutingCondition { condition })
    .boxed()
}

fn routing_action(long: bool) -> BoxedStrategy<pb::RoutingAction> {
    use pb::routing_action::Action as A;
    option::weighted(
        0.95,
        prop_oneof![
            mostly_valid_id().prop_map(A::TransferToDepartmentId),
            sized(mostly_valid_id(), long)
                .prop_map(|agent_ids| A::AssignTo(pb::AgentList { agent_ids })),
            Just(A::LeaveUnassigned(pb::LeaveUnassigned {})),
            enum_value(4).prop_map(A::SetPriority),
            sized(word(), long).prop_map(|tags| A::AddTags(pb::TagList { tags })),
        ],
    )
    .prop_map(|action| pb::RoutingAction { action })
    .boxed()
}

/// Rules of every shape, one dimension at a time near its limit: many groups, many
/// conditions in a group, long lists in a condition, many actions, long action lists.
fn define_routing_rule() -> BoxedStrategy<pb::DefineRoutingRuleRequest> {
    let group = |conditions: BoxedStrategy<Vec<pb::RoutingCondition>>| {
        conditions.prop_map(|conditions| pb::RoutingConditionGroup { conditions })
    };
    let short_group = group(sized(routing_condition(false), false));
    let groups = prop_oneof![
        12 => vec(short_group.clone(), 0..4),
        1 => vec(short_group, 19..22),
        1 => vec(group(vec(routing_condition(false), 19..22).boxed()), 1..3),
        1 => vec(group(vec(routing_condition(true), 1..3).boxed()), 1..3),
    ];
    let actions = prop_oneof![
        12 => vec(routing_action(false), 0..4),
        1 => vec(routing_action(false), 19..22),
        1 => vec(routing_action(true), 1..3),
    ];
    (
        header(),
        new_id(),
        text(),
        groups,
        actions,
        option::of(small_u32(500)),
    )
        .prop_map(
            |((command_id, occurred_at), rule_id, name, groups, actions, position)| {
                pb::DefineRoutingRuleRequest {
                    command_id,
                    occurred_at,
                    rule_id,
                    name,
                    groups,
                    actions,
                    position,
                }
            },
        )
        .boxed()
}

fn define_level() -> BoxedStrategy<pb::DefineLevelRequest> {
    let condition = prop_oneof![
        3 => text(),
        1 => select(&["$answers >= 10", "$chats > 5 && $rewards_p < 0.5", "((", "$x"][..])
            .prop_map(str::to_owned),
    ];
    (
        header(),
        new_id(),
        option::of(small_u32(500)),
        text(),
        text(),
        condition,
    )
        .prop_map(
            |((command_id, occurred_at), level_id, rank, name, description, condition)| {
                pb::DefineLevelRequest {
                    command_id,
                    occurred_at,
                    level_id,
                    rank,
                    name,
                    description,
                    condition,
                }
            },
        )
        .boxed()
}

fn badge_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z0-9_]{0,66}",
        1 => word(),
    ]
    .boxed()
}

fn define_badge() -> BoxedStrategy<pb::DefineBadgeRequest> {
    (
        header(),
        badge_key(),
        text(),
        text(),
        enum_value(14),
        small_u32(90),
        enum_value(2),
        any::<u64>(),
    )
        .prop_map(
            |(
                (command_id, occurred_at),
                key,
                name,
                description,
                statistic,
                window_days,
                best,
                minimum,
            )| pb::DefineBadgeRequest {
                command_id,
                occurred_at,
                key,
                name,
                description,
                statistic,
                window_days,
                best,
                minimum,
            },
        )
        .boxed()
}

fn customize_badge() -> BoxedStrategy<pb::CustomizeBadgeRequest> {
    (
        header(),
        badge_key(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(enum_value(2)),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(
                (command_id, occurred_at),
                key,
                name,
                description,
                image_url,
                visibility,
                enabled,
            )| {
                pb::CustomizeBadgeRequest {
                    command_id,
                    occurred_at,
                    key,
                    name,
                    description,
                    image_url,
                    visibility,
                    enabled,
                }
            },
        )
        .boxed()
}

fn set_organization_settings() -> BoxedStrategy<pb::SetOrganizationSettingsRequest> {
    let seed = prop_oneof![
        1 => Just(vec![0; 32]),
        1 => vec(any::<u8>(), 32..=32),
        2 => vec(any::<u8>(), 0..40),
    ];
    (
        header(),
        option::of(time_zone()),
        option::of(any::<bool>()),
        option::of(odds()),
        option::of(seed),
        option::of(small_u32(100)),
        option::of(any::<bool>()),
        option::of(small_u32(1000)),
    )
        .prop_map(
            |(
                (command_id, occurred_at),
                time_zone,
                auto_pause,
                clover_odds,
                seed,
                max_custom_roles,
                system_routes,
                routing_seconds,
            )| pb::SetOrganizationSettingsRequest {
                command_id,
                occurred_at,
                time_zone,
                auto_pause,
                clover_odds,
                seed,
                max_custom_roles,
                system_routes,
                routing_seconds,
            },
        )
        .boxed()
}

fn rate_conversation() -> BoxedStrategy<pb::RateConversationRequest> {
    (
        header(),
        option::weighted(0.9, conversation_ref()),
        enum_value(2),
    )
        .prop_map(
            |((command_id, occurred_at), conversation, rating)| pb::RateConversationRequest {
                command_id,
                occurred_at,
                conversation,
                rating,
            },
        )
        .boxed()
}

fn tag_ticket() -> BoxedStrategy<pb::TagTicketRequest> {
    (header(), mostly_valid_id(), word(), id())
        .prop_map(
            |((command_id, occurred_at), ticket_id, tag, agent_id)| pb::TagTicketRequest {
                command_id,
                occurred_at,
                ticket_id,
                tag,
                agent_id,
            },
        )
        .boxed()
}

fn answer_ticket() -> BoxedStrategy<pb::AnswerTicketRequest> {
    (header(), mostly_valid_id(), id(), small_u32(65_536))
        .prop_map(|((command_id, occurred_at), ticket_id, agent_id, chars)| {
            pb::AnswerTicketRequest {
                command_id,
                occurred_at,
                ticket_id,
                agent_id,
                chars,
            }
        })
        .boxed()
}

fn define_role() -> BoxedStrategy<pb::DefineRoleRequest> {
    (header(), new_id(), text(), list(permission_name()))
        .prop_map(
            |((command_id, occurred_at), role_id, name, permissions)| pb::DefineRoleRequest {
                command_id,
                occurred_at,
                role_id,
                name,
                permissions,
            },
        )
        .boxed()
}

fn update_role() -> BoxedStrategy<pb::UpdateRoleRequest> {
    (
        header(),
        id(),
        option::of(text()),
        option::of(
            list(permission_name()).prop_map(|permissions| pb::PermissionSet { permissions }),
        ),
    )
        .prop_map(
            |((command_id, occurred_at), role_id, name, permissions)| pb::UpdateRoleRequest {
                command_id,
                occurred_at,
                role_id,
                name,
                permissions,
            },
        )
        .boxed()
}

fn reorder_levels() -> BoxedStrategy<pb::ReorderLevelsRequest> {
    let order = prop_oneof![
        8 => list(id()),
        1 => vec(uuid_text(), 499..502),
    ];
    (header(), order)
        .prop_map(
            |((command_id, occurred_at), order)| pb::ReorderLevelsRequest {
                command_id,
                occurred_at,
                order,
            },
        )
        .boxed()
}

fn issue_token_request() -> BoxedStrategy<pb::IssueTokenRequest> {
    use pb::issue_token_request::Subject;
    (
        new_id(),
        new_id(),
        option::weighted(
            0.9,
            prop_oneof![
                id().prop_map(Subject::AgentId),
                (text(), option::weighted(0.9, role_ref())).prop_map(|(name, role)| {
                    Subject::Integration(pb::IntegrationAccount { name, role })
                }),
            ],
        ),
    )
        .prop_map(|(command_id, token_id, subject)| pb::IssueTokenRequest {
            command_id,
            token_id,
            subject,
            ..Default::default()
        })
        .boxed()
}

/// An `ExecuteRequest` wrapping one of the structured requests, or none.
fn execute() -> BoxedStrategy<pb::ExecuteRequest> {
    use pb::execute_request::Command as C;
    option::weighted(
        0.95,
        prop_oneof![
            create_ticket().prop_map(C::CreateTicket),
            register_agent().prop_map(C::RegisterAgent),
            pause_agent().prop_map(C::PauseAgent),
            resume_agent().prop_map(C::ResumeAgent),
            define_routing_rule().prop_map(C::DefineRoutingRule),
            define_level().prop_map(C::DefineLevel),
            define_badge().prop_map(C::DefineBadge),
            customize_badge().prop_map(C::CustomizeBadge),
            set_organization_settings().prop_map(C::SetOrganizationSettings),
            rate_conversation().prop_map(C::RateConversation),
            tag_ticket().prop_map(C::TagTicket),
            answer_ticket().prop_map(C::AnswerTicket),
            define_role().prop_map(C::DefineRole),
            update_role().prop_map(C::UpdateRole),
            reorder_levels().prop_map(C::ReorderLevels),
        ],
    )
    .prop_map(|command| pb::ExecuteRequest { command })
    .boxed()
}

fn agent() -> BoxedStrategy<AgentId> {
    any::<u128>()
        .prop_map(|n| AgentId::from(Uuid::from_u128(n)))
        .boxed()
}

// --- 3. valid requests ---------------------------------------------------------------------

/// Empty, or a UUID as `Uuid` prints it.
fn given_or_empty_id() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        (1..=u128::MAX).prop_map(|n| Uuid::from_u128(n).to_string()),
    ]
    .boxed()
}

/// 1 to 1000 characters, at least one of them not whitespace.
fn subject() -> BoxedStrategy<String> {
    (
        any::<char>().prop_filter("not whitespace", |c| !c.is_whitespace()),
        vec(any::<char>(), 0..1000),
        any::<Index>(),
    )
        .prop_map(|(visible, mut rest, at)| {
            rest.truncate(999);
            rest.insert(at.index(rest.len() + 1), visible);
            String::from_iter(rest)
        })
        .boxed()
}

fn valid_create_ticket() -> BoxedStrategy<pb::CreateTicketRequest> {
    let body = prop_oneof![
        4 => vec(any::<char>(), 0..2000).prop_map(String::from_iter),
        1 => Just(String::new()),
        1 => Just("x".repeat(64 * 1024)),
    ];
    (
        given_or_empty_id(),
        option::of(valid_timestamp()),
        given_or_empty_id(),
        1..=10i32,
        1..=4i32,
        subject(),
        option::of(body),
        given_or_empty_id(),
    )
        .prop_map(
            |(
                command_id,
                occurred_at,
                ticket_id,
                channel,
                priority,
                subject,
                body,
                department_id,
            )| {
                pb::CreateTicketRequest {
                    command_id,
                    occurred_at,
                    ticket_id,
                    channel,
                    priority,
                    subject,
                    body,
                    department_id,
                }
            },
        )
        .boxed()
}

// --- properties ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn random_bytes_never_panic_any_request(
        bytes in vec(any::<u8>(), 0..256),
        agent in agent(),
    ) {
        decode_and_check_all(&bytes, agent);
    }

    #[test]
    fn random_wire_records_never_panic_any_request(
        records in vec(wire_record(), 0..8),
        agent in agent(),
    ) {
        let mut bytes = Vec::new();
        encode_wire(&records, &mut bytes);
        decode_and_check_all(&bytes, agent);
    }

    #[test]
    fn create_ticket_never_panics(request in create_ticket(), agent in agent()) {
        check(&request, agent);
    }

    #[test]
    fn register_agent_never_panics(request in register_agent(), agent in agent()) {
        check(&request, agent);
    }

    #[test]
    fn pause_and_resume_agent_never_panic(
        pause in pause_agent(),
        resume in resume_agent(),
        agent in agent(),
    ) {
        check(&pause, agent);
        check(&resume, agent);
    }

    #[test]
    fn define_routing_rule_never_panics(request in define_routing_rule(), agent in agent()) {
        check(&request, agent);
    }

    #[test]
    fn define_level_and_reorder_levels_never_panic(
        define in define_level(),
        reorder in reorder_levels(),
        agent in agent(),
    ) {
        check(&define, agent);
        check(&reorder, agent);
    }

    #[test]
    fn define_and_customize_badge_never_panic(
        define in define_badge(),
        customize in customize_badge(),
        agent in agent(),
    ) {
        check(&define, agent);
        check(&customize, agent);
    }

    #[test]
    fn set_organization_settings_never_panics(
        request in set_organization_settings(),
        agent in agent(),
    ) {
        check(&request, agent);
    }

    #[test]
    fn rate_conversation_never_panics(request in rate_conversation(), agent in agent()) {
        check(&request, agent);
    }

    #[test]
    fn ticket_work_never_panics(
        tag in tag_ticket(),
        answer in answer_ticket(),
        agent in agent(),
    ) {
        check(&tag, agent);
        check(&answer, agent);
    }

    #[test]
    fn roles_and_tokens_never_panic(
        define in define_role(),
        update in update_role(),
        token in issue_token_request(),
        agent in agent(),
    ) {
        check(&define, agent);
        check(&update, agent);
        check_issue_token(&token);
    }

    /// An `ExecuteRequest` is validated as the request it wraps, with the same outcome
    /// and the same error.
    #[test]
    fn execute_requests_never_panic(request in execute(), agent in agent()) {
        let outcomes = check(&request, agent);
        if let Some(command) = &request.command {
            prop_assert_eq!(outcomes, check(command, agent));
            prop_assert_eq!(
                request.clone().into_command(None).err(),
                command.clone().into_command(None).err()
            );
        } else {
            prop_assert_eq!(outcomes, [Outcome::Refused; 2]);
        }
    }

    /// In range, within limits: always accepted, and the values arrive unchanged.
    #[test]
    fn valid_create_ticket_converts_and_validates(
        request in valid_create_ticket(),
        caller in option::of(agent()),
    ) {
        let parsed = request
            .clone()
            .into_command(caller)
            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        prop_assert_eq!(parsed.command.validate(), Ok(()));
        if !request.command_id.is_empty() {
            prop_assert_eq!(parsed.command_id.to_string(), request.command_id.clone());
        }
        let millis = request
            .occurred_at
            .map(|t| t.seconds * 1000 + i64::from(t.nanos / 1_000_000));
        prop_assert_eq!(parsed.occurred_at.map(|t| t.millis()), millis);
        let Command::CreateTicket(ticket) = parsed.command else {
            return Err(TestCaseError::fail(format!("not a CreateTicket: {parsed:?}")));
        };
        if !request.ticket_id.is_empty() {
            prop_assert_eq!(ticket.ticket_id.to_string(), request.ticket_id);
        }
        prop_assert_eq!(channel_pb(ticket.channel) as i32, request.channel);
        prop_assert_eq!(priority_pb(ticket.priority) as i32, request.priority);
        prop_assert_eq!(ticket.subject, request.subject);
        prop_assert_eq!(ticket.body, request.body);
        prop_assert_eq!(
            ticket.department.map(|d| d.to_string()).unwrap_or_default(),
            request.department_id
        );
    }
}

// --- known bugs -------------------------------------------------------------------------
//
// The properties above let this one through (`known_unclipped`); this holds requests to
// the rule. Run with `--ignored` to see it fail; un-ignore it with the fix.

/// Permission names that are no permission, of every length.
fn unknown_permission_name() -> BoxedStrategy<String> {
    prop_oneof![
        small_text(),
        (hostile_char(), 100usize..5000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
    .prop_filter("not a permission", |name| {
        !Permission::ALL.iter().any(|p| p.as_str() == name)
    })
    .boxed()
}

proptest! {
    // A known failure: keep no regression file for it.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn refusals_quote_at_most_a_clip_of_the_input(
        (define, update) in (define_role(), update_role()),
        name in unknown_permission_name(),
        agent in agent(),
    ) {
        check_with(&define, agent, true);
        check_with(&update, agent, true);
        let define = pb::DefineRoleRequest {
            name: "Lead".into(),
            permissions: vec![name.clone()],
            ..Default::default()
        };
        check_with(&define, agent, true);
        let update = pb::UpdateRoleRequest {
            role_id: Uuid::nil().to_string(),
            permissions: Some(pb::PermissionSet { permissions: vec![name] }),
            ..Default::default()
        };
        check_with(&update, agent, true);
    }
}

// --- guards of the test itself -----------------------------------------------------------

/// `decode_and_check_all` covers every request of `CommandService` (`Execute`'s as
/// `ExecuteRequest`) and of the commands of `AdminService` (`IssueToken`, `RevokeToken`).
#[test]
fn every_command_request_is_fuzzed() {
    macro_rules! names {
        ($($request:ident),* $(,)?) => {
            [$(stringify!($request)),*]
        };
    }
    let mut fuzzed: BTreeSet<&str> = with_command_requests!(names).into_iter().collect();
    fuzzed.extend(["ExecuteRequest", "IssueTokenRequest"]);
    let fds = FileDescriptorSet::decode(helpdesk_api::FILE_DESCRIPTOR_SET).unwrap();
    let mut requests: BTreeSet<&str> = fds
        .file
        .iter()
        .flat_map(|f| &f.service)
        .filter(|s| s.name() == "CommandService")
        .flat_map(|s| &s.method)
        .map(|m| m.input_type().trim_start_matches(".helpdesk.v1."))
        .collect();
    requests.extend(["IssueTokenRequest", "RevokeTokenRequest"]);
    assert_eq!(fuzzed, requests);
}

/// The wire strategy is worth its time: a good share of its inputs decode as some
/// request, and some as an `ExecuteRequest` that wraps one.
#[test]
fn wire_records_often_decode() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = vec(wire_record(), 0..8);
    let agent = AgentId::new_v7();
    let (mut decoding, mut executes) = (0, 0);
    for _ in 0..150 {
        let records = strategy.new_tree(&mut runner).unwrap().current();
        let mut bytes = Vec::new();
        encode_wire(&records, &mut bytes);
        if decode_and_check_all(&bytes, agent) > 0 {
            decoding += 1;
        }
        if let Ok(pb::ExecuteRequest { command: Some(_) }) = pb::ExecuteRequest::decode(&*bytes) {
            executes += 1;
        }
    }
    // Typically about 100 and 12.
    assert!(decoding > 50, "{decoding}/150 decode as some request");
    assert!(
        executes > 4,
        "{executes}/150 decode as a non-empty ExecuteRequest"
    );
}

/// The structured strategies are worth their time: each gets requests refused while
/// converting, refused by `validate`, and accepted.
#[test]
fn structured_requests_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn tally<R: Debug>(strategy: BoxedStrategy<R>, run: impl Fn(&R) -> Vec<Outcome>) -> [usize; 3] {
        let mut runner = TestRunner::deterministic();
        let mut counts = [0; 3];
        for _ in 0..64 {
            let request = strategy.new_tree(&mut runner).unwrap().current();
            for outcome in run(&request) {
                counts[outcome as usize] += 1;
            }
        }
        counts
    }
    fn both<R: Request>(strategy: BoxedStrategy<R>) -> [usize; 3] {
        let agent = AgentId::new_v7();
        tally(strategy, |r| check(r, agent).to_vec())
    }
    let tallies = [
        ("CreateTicket", both(create_ticket())),
        ("RegisterAgent", both(register_agent())),
        ("PauseAgent", both(pause_agent())),
        ("ResumeAgent", both(resume_agent())),
        ("DefineRoutingRule", both(define_routing_rule())),
        ("DefineLevel", both(define_level())),
        ("ReorderLevels", both(reorder_levels())),
        ("DefineBadge", both(define_badge())),
        ("CustomizeBadge", both(customize_badge())),
        ("SetOrganizationSettings", both(set_organization_settings())),
        ("RateConversation", both(rate_conversation())),
        ("TagTicket", both(tag_ticket())),
        ("AnswerTicket", both(answer_ticket())),
        ("DefineRole", both(define_role())),
        ("UpdateRole", both(update_role())),
        ("Execute", both(execute())),
        (
            "IssueToken",
            tally(issue_token_request(), |r| vec![check_issue_token(r)]),
        ),
    ];
    for (name, [refused, invalid, valid]) in tallies {
        let context = format!("{name}: refused {refused}, invalid {invalid}, valid {valid}");
        assert!(refused > 0, "{context}");
        // RateConversation has nothing for `validate` to refuse.
        assert!(invalid > 0 || name == "RateConversation", "{context}");
        assert!(valid > 0, "{context}");
    }
}
