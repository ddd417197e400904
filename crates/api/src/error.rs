//! The one place where errors become gRPC statuses.
//!
//! Handlers never build a [`tonic::Status`] by hand: they produce an
//! [`ApiError`] (directly, or by converting a domain or log error into one) and
//! let `?` / `.into()` turn it into a status, or [`ApiError::to_command_error`]
//! turn it into the error of an `Execute` stream response.
//!
//! Code conventions:
//! - malformed input: `INVALID_ARGUMENT`, naming the field, with
//!   `google.rpc.BadRequest` field violations;
//! - unknown id: `NOT_FOUND`;
//! - the state does not allow it: `FAILED_PRECONDITION`, naming the state;
//! - a write conflict that persisted after retries: `ABORTED` (retry the
//!   read-modify-write);
//! - the event log or a store is unreachable: `UNAVAILABLE` (retry the call,
//!   with the same command id);
//! - no credentials: `UNAUTHENTICATED`; lacking permission: `PERMISSION_DENIED`;
//! - too much at once (rate or size limits): `RESOURCE_EXHAUSTED`;
//! - a read model did not reach the asked position in time: `DEADLINE_EXCEEDED`;
//! - a bug or corrupt data: `INTERNAL`.

use std::fmt;

use tonic_types::{ErrorDetails, StatusExt};

use crate::pb;

/// The closed set of gRPC codes this API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// An id names nothing (agent, department, ticket, chat, call, level, badge, rule, role).
    NotFound,
    /// The command does not fit the current state.
    FailedPrecondition,
    /// The request is malformed or beyond a limit.
    InvalidArgument,
    /// The caller lacks a permission.
    PermissionDenied,
    /// The request carries no valid credentials.
    Unauthenticated,
    /// A concurrency conflict persisted after retries.
    Aborted,
    /// A dependency (the event log, a store) is unreachable for now.
    Unavailable,
    /// A bug or corrupt data.
    Internal,
    /// A rate, size or quota limit was hit.
    ResourceExhausted,
    /// A read model did not reach the asked position in time.
    DeadlineExceeded,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotFound,
        ErrorCode::FailedPrecondition,
        ErrorCode::InvalidArgument,
        ErrorCode::PermissionDenied,
        ErrorCode::Unauthenticated,
        ErrorCode::Aborted,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::ResourceExhausted,
        ErrorCode::DeadlineExceeded,
    ];

    /// The gRPC status code.
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::Aborted => tonic::Code::Aborted,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
            ErrorCode::ResourceExhausted => tonic::Code::ResourceExhausted,
            ErrorCode::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        }
    }

    /// The code's canonical name, e.g. `NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
        }
    }

    /// The code from a gRPC status code; codes outside the closed set become
    /// [`ErrorCode::Internal`].
    pub fn from_grpc(code: tonic::Code) -> ErrorCode {
        match code {
            tonic::Code::NotFound => ErrorCode::NotFound,
            tonic::Code::FailedPrecondition => ErrorCode::FailedPrecondition,
            tonic::Code::InvalidArgument => ErrorCode::InvalidArgument,
            tonic::Code::PermissionDenied => ErrorCode::PermissionDenied,
            tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
            tonic::Code::Aborted => ErrorCode::Aborted,
            tonic::Code::Unavailable => ErrorCode::Unavailable,
            tonic::Code::ResourceExhausted => ErrorCode::ResourceExhausted,
            tonic::Code::DeadlineExceeded => ErrorCode::DeadlineExceeded,
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error on its way to the client: a code, a message for people, and for
/// `INVALID_ARGUMENT` the request field at fault (e.g. `subject`,
/// `conversation.id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    field: Option<String>,
}

impl ApiError {
    /// An error with the given code and message, naming no field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// `NOT_FOUND`: an id names nothing.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `FAILED_PRECONDITION`: the state does not allow it (name the state in the message).
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::FailedPrecondition, message)
    }

    /// `INVALID_ARGUMENT` about a request field, e.g.
    /// `invalid_argument("subject", "at most 1000 characters")`.
    pub fn invalid_argument(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message).with_field(field)
    }

    /// `INVALID_ARGUMENT` about the request as a whole (no single field at fault).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// `INVALID_ARGUMENT`: a required field is missing.
    pub fn missing_field(field: impl Into<String>) -> Self {
        Self::invalid_argument(field, "is required")
    }

    /// `PERMISSION_DENIED`: the caller lacks a permission.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    /// `UNAUTHENTICATED`: no or invalid credentials.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// `ABORTED`: a concurrency conflict persisted after retries.
    pub fn aborted(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Aborted, message)
    }

    /// `UNAVAILABLE`: a dependency is unreachable; the call may be retried.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// `INTERNAL`: a bug or corrupt data.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// `RESOURCE_EXHAUSTED`: a rate, size or quota limit.
    pub fn resource_exhausted(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceExhausted, message)
    }

    /// `DEADLINE_EXCEEDED`: a read model did not reach the asked position in time.
    pub fn deadline_exceeded(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::DeadlineExceeded, message)
    }

    /// The same error, naming `field` as the one at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error with the field path prefixed by `parent`, for errors
    /// found inside a nested message: `subject` under `create_ticket` becomes
    /// `create_ticket.subject`.
    pub fn in_field(mut self, parent: &str) -> Self {
        self.field = Some(match self.field.take() {
            Some(field) if !field.is_empty() => format!("{parent}.{field}"),
            _ => parent.to_owned(),
        });
        self
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message, without the field.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The message as the client sees it: for `INVALID_ARGUMENT` with a field,
    /// ``field `subject`: at most 1000 characters``.
    pub fn status_message(&self) -> String {
        match (&self.field, self.code) {
            (Some(field), ErrorCode::InvalidArgument) => {
                format!("field `{field}`: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }

    /// The gRPC status. `INVALID_ARGUMENT` naming a field carries
    /// `google.rpc.BadRequest` with one field violation.
    pub fn to_status(&self) -> tonic::Status {
        let code = self.code.grpc_code();
        match (&self.field, self.code) {
            (Some(field), ErrorCode::InvalidArgument) => tonic::Status::with_error_details(
                code,
                self.status_message(),
                ErrorDetails::with_bad_request_violation(field.clone(), self.message.clone()),
            ),
            _ => tonic::Status::new(code, self.status_message()),
        }
    }

    /// The error as carried by an `Execute` stream response.
    pub fn to_command_error(&self) -> pb::CommandError {
        pb::CommandError {
            code: self.code.grpc_code() as i32,
            message: self.status_message(),
            field: self.field.clone().unwrap_or_default(),
        }
    }

    /// The `Execute` stream response for the request at `index` that failed with this error.
    pub fn to_execute_response(&self, index: u64) -> pb::ExecuteResponse {
        pb::ExecuteResponse {
            index,
            result: Some(pb::execute_response::Result::Error(self.to_command_error())),
        }
    }

    /// An error from a status received from a server (e.g. by a client or a
    /// gateway passing it on). Codes outside the closed set become `INTERNAL`;
    /// the field comes from `google.rpc.BadRequest` when present.
    pub fn from_status(status: &tonic::Status) -> Self {
        let code = ErrorCode::from_grpc(status.code());
        let violation = status
            .get_details_bad_request()
            .and_then(|bad| bad.field_violations.into_iter().next());
        match violation {
            Some(v) if code == ErrorCode::InvalidArgument => ApiError {
                code,
                message: v.description,
                field: Some(v.field),
            },
            _ => ApiError::new(code, status.message()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.status_message())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for tonic::Status {
    fn from(err: ApiError) -> Self {
        err.to_status()
    }
}

impl From<&ApiError> for tonic::Status {
    fn from(err: &ApiError) -> Self {
        err.to_status()
    }
}

impl From<ApiError> for pb::CommandError {
    fn from(err: ApiError) -> Self {
        err.to_command_error()
    }
}

// ---------------------------------------------------------------------------
// Conversions from domain and log errors into ApiError.
//
// The domain's refusals map one to one. The log: unreachable is UNAVAILABLE, a
// conflict that persisted after retries ABORTED, storage INTERNAL. Read models: a
// position not reached in time is DEADLINE_EXCEEDED. The server's own errors
// (engine, authentication) map in the server with the constructors above.
// ---------------------------------------------------------------------------

impl From<helpdesk_domain::DomainError> for ApiError {
    fn from(err: helpdesk_domain::DomainError) -> Self {
        use helpdesk_domain::DomainError as E;
        match err {
            E::NotFound { .. } => ApiError::not_found(err.to_string()),
            E::FailedPrecondition { message } => ApiError::failed_precondition(message),
            // `*`: the request as a whole ("set at least one field to change").
            E::InvalidArgument { field, message } if field.is_empty() || field == "*" => {
                ApiError::invalid_request(message)
            }
            E::InvalidArgument { field, message } => ApiError::invalid_argument(field, message),
            E::PermissionDenied { message } => ApiError::permission_denied(message),
        }
    }
}

impl From<helpdesk_log::LogError> for ApiError {
    fn from(err: helpdesk_log::LogError) -> Self {
        use helpdesk_log::LogError as E;
        match err {
            E::Unavailable(_) => {
                ApiError::unavailable(format!("{err}; retry with the same command_id"))
            }
            // The engine retries conflicts itself; one that reaches a client persisted.
            E::Conflict { .. } => ApiError::aborted(err.to_string()),
            // The engine appends such a batch's commands one by one instead.
            E::BatchRefused(_) => ApiError::aborted(err.to_string()),
            E::Invalid(_) => ApiError::invalid_request(err.to_string()),
            E::Storage(_) => ApiError::internal(err.to_string()),
        }
    }
}

impl From<helpdesk_projections::WaitError> for ApiError {
    fn from(err: helpdesk_projections::WaitError) -> Self {
        use helpdesk_projections::WaitError as E;
        match err {
            E::NotYet { .. } => ApiError::deadline_exceeded(err.to_string()),
            E::Stopped { .. } => ApiError::unavailable(err.to_string()),
        }
    }
}

impl From<helpdesk_projections::ModelError> for ApiError {
    fn from(err: helpdesk_projections::ModelError) -> Self {
        use helpdesk_projections::ModelError as E;
        match err {
            E::Storage(_) => ApiError::unavailable(err.to_string()),
            E::Corrupt(_) => ApiError::internal(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_grpc_code_and_back() {
        let expected = [
            (ErrorCode::NotFound, tonic::Code::NotFound, 5),
            (
                ErrorCode::FailedPrecondition,
                tonic::Code::FailedPrecondition,
                9,
            ),
            (ErrorCode::InvalidArgument, tonic::Code::InvalidArgument, 3),
            (
                ErrorCode::PermissionDenied,
                tonic::Code::PermissionDenied,
                7,
            ),
            (ErrorCode::Unauthenticated, tonic::Code::Unauthenticated, 16),
            (ErrorCode::Aborted, tonic::Code::Aborted, 10),
            (ErrorCode::Unavailable, tonic::Code::Unavailable, 14),
            (ErrorCode::Internal, tonic::Code::Internal, 13),
            (
                ErrorCode::ResourceExhausted,
                tonic::Code::ResourceExhausted,
                8,
            ),
            (
                ErrorCode::DeadlineExceeded,
                tonic::Code::DeadlineExceeded,
                4,
            ),
        ];
        assert_eq!(expected.len(), ErrorCode::ALL.len());
        for (code, grpc, number) in expected {
            assert_eq!(code.grpc_code(), grpc, "{code}");
            assert_eq!(grpc as i32, number, "{code}");
            assert_eq!(ErrorCode::from_grpc(grpc), code);
            let status = tonic::Status::from(ApiError::new(code, "boom"));
            assert_eq!(status.code(), grpc);
            assert_eq!(status.message(), "boom");
        }
        assert_eq!(
            ErrorCode::from_grpc(tonic::Code::Unknown),
            ErrorCode::Internal
        );
    }

    #[test]
    fn invalid_argument_names_the_field_and_carries_bad_request() {
        let err = ApiError::invalid_argument("subject", "at most 1000 characters");
        let status: tonic::Status = err.clone().into();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "field `subject`: at most 1000 characters");
        let bad = status
            .get_details_bad_request()
            .expect("BadRequest details");
        assert_eq!(bad.field_violations.len(), 1);
        assert_eq!(bad.field_violations[0].field, "subject");
        assert_eq!(
            bad.field_violations[0].description,
            "at most 1000 characters"
        );
        assert_eq!(ApiError::from_status(&status), err);
    }

    #[test]
    fn other_codes_carry_no_details_even_with_a_field() {
        let status: tonic::Status = ApiError::not_found("ticket 42 not found")
            .with_field("ticket_id")
            .into();
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "ticket 42 not found");
        assert!(status.details().is_empty());
        assert!(status.get_details_bad_request().is_none());
    }

    #[test]
    fn invalid_request_without_field_has_no_details() {
        let status: tonic::Status = ApiError::invalid_request("exactly one command").into();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "exactly one command");
        assert!(status.get_details_bad_request().is_none());
    }

    #[test]
    fn nested_fields_are_prefixed() {
        let err = ApiError::missing_field("id").in_field("conversation");
        assert_eq!(err.field(), Some("conversation.id"));
        assert_eq!(err.status_message(), "field `conversation.id`: is required");
        let err =
            ApiError::invalid_request("exactly one condition").in_field("condition_groups[0]");
        assert_eq!(err.field(), Some("condition_groups[0]"));
    }

    #[test]
    fn execute_error_shape() {
        let err = ApiError::invalid_argument("tag", "at most 64 characters");
        let response = err.to_execute_response(7);
        assert_eq!(response.index, 7);
        assert_eq!(
            response.result,
            Some(pb::execute_response::Result::Error(pb::CommandError {
                code: 3,
                message: "field `tag`: at most 64 characters".into(),
                field: "tag".into(),
            }))
        );
        let plain = ApiError::failed_precondition("ticket is deleted").to_command_error();
        assert_eq!(plain.code, 9);
        assert_eq!(plain.message, "ticket is deleted");
        assert_eq!(plain.field, "");
    }

    #[test]
    fn display_names_the_code() {
        let err = ApiError::invalid_argument("name", "at most 200 characters");
        assert_eq!(
            err.to_string(),
            "INVALID_ARGUMENT: field `name`: at most 200 characters"
        );
        assert_eq!(
            ApiError::aborted("conflict").to_string(),
            "ABORTED: conflict"
        );
    }
}
