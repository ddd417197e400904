//! Domain errors: why a command was refused.
//!
//! A closed set of four, each mapped to one gRPC code by the api crate (NOT_FOUND,
//! FAILED_PRECONDITION, INVALID_ARGUMENT, PERMISSION_DENIED). Infrastructure failures
//! (log down, conflicts that persist) are not domain errors and live with the engine.
//! Messages are written for the person who sent the command: they name the state, the
//! field or the missing permission.

/// A refused command. Nothing is appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An agent, department, ticket, chat, call, level, badge, rule, role or token that
    /// does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The command does not fit the current state; the message names the state.
    #[error("{message}")]
    FailedPrecondition { message: String },
    /// Bad input: `field` names it (`subject`, `tags[3]`), `message` says what was expected.
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    /// The caller may not do this; the message names the missing permission.
    #[error("{message}")]
    PermissionDenied { message: String },
}

impl DomainError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        DomainError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        DomainError::FailedPrecondition {
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn denied(message: impl Into<String>) -> Self {
        DomainError::PermissionDenied {
            message: message.into(),
        }
    }

    /// The gRPC-style code name, for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::NotFound { .. } => "NOT_FOUND",
            DomainError::FailedPrecondition { .. } => "FAILED_PRECONDITION",
            DomainError::InvalidArgument { .. } => "INVALID_ARGUMENT",
            DomainError::PermissionDenied { .. } => "PERMISSION_DENIED",
        }
    }
}
