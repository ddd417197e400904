//! The server's own errors as API errors: the only place they meet gRPC codes.
//!
//! Domain, log and read-model errors map in the api crate; here the engine's own (a
//! conflict that persisted is `ABORTED`, unreadable data `INTERNAL`) and every
//! authentication failure (`UNAUTHENTICATED`).

use helpdesk_api::ApiError;

use crate::access::tokens::AuthError;
use crate::command::engine::ExecError;

impl From<ExecError> for ApiError {
    fn from(err: ExecError) -> Self {
        match err {
            ExecError::Domain(err) => err.into(),
            ExecError::Log(err) => {
                tracing::warn!("event log: {err}");
                err.into()
            }
            ExecError::Aborted { .. } => ApiError::aborted(err.to_string()),
            ExecError::ForeignCommandId => ApiError::failed_precondition(err.to_string()),
            // Retried with the same command id, it is decided on the log as it is now.
            ExecError::LogReplaced => ApiError::unavailable(err.to_string()),
            ExecError::Corrupt { .. } => {
                tracing::error!("{err}");
                ApiError::internal(err.to_string())
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Exec(err) => err.into(),
            AuthError::Missing
            | AuthError::Malformed
            | AuthError::Unknown
            | AuthError::Deactivated
            | AuthError::Expired(_) => ApiError::unauthenticated(err.to_string()),
            AuthError::RateLimited | AuthError::UnverifiedFlood => {
                ApiError::resource_exhausted(err.to_string())
            }
        }
    }
}
