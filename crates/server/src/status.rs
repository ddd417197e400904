//! The server's own errors as API errors: the only place they meet gRPC codes.
//!
//! Domain refusals map one to one (the api crate does that). Of the infrastructure:
//! an unreachable log is `UNAVAILABLE` (retry with the same command id), a conflict that
//! persisted is `ABORTED`, unreadable data or storage failures are `INTERNAL`, and every
//! authentication failure is `UNAUTHENTICATED`.

use helpdesk_api::ApiError;
use helpdesk_log::LogError;

use crate::auth::AuthError;
use crate::engine::ExecError;

impl From<ExecError> for ApiError {
    fn from(err: ExecError) -> Self {
        match err {
            ExecError::Domain(err) => err.into(),
            ExecError::Log(err) => err.into_api(),
            ExecError::Aborted { .. } => ApiError::aborted(err.to_string()),
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
            | AuthError::Deactivated => ApiError::unauthenticated(err.to_string()),
        }
    }
}

trait IntoApi {
    fn into_api(self) -> ApiError;
}

impl IntoApi for LogError {
    fn into_api(self) -> ApiError {
        match self {
            LogError::Unavailable(_) => {
                tracing::warn!("{self}");
                ApiError::unavailable(format!("{self}; retry with the same command_id"))
            }
            // The engine retries conflicts itself; one that reaches here persisted.
            LogError::Conflict { .. } => ApiError::aborted(self.to_string()),
            LogError::Invalid(_) => ApiError::invalid_request(self.to_string()),
            LogError::Storage(_) => {
                tracing::error!("{self}");
                ApiError::internal(self.to_string())
            }
        }
    }
}
