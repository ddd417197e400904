//! What every query does before it reads: authenticate, and wait for the position the
//! caller asked for (read-your-writes).

use std::time::Duration;

use helpdesk_api::{pb, ApiError};
use helpdesk_domain::{Permission, Principal};
use helpdesk_log::Position;
use helpdesk_projections::tickets::Viewer;
use helpdesk_projections::ModelHandle;

/// How long a query waits for a position when it does not say.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// The longest wait a query may ask for.
const MAX_WAIT_MS: u32 = 60_000;

/// Waits until `handle` has reached the position `read` asks for; returns the position
/// the answer will reflect at least.
pub async fn reached(
    handle: &ModelHandle,
    read: Option<&pb::ReadOptions>,
) -> Result<Position, ApiError> {
    match wanted(read)? {
        None => Ok(handle.position()),
        Some((position, wait)) => Ok(handle.wait_for(position, wait).await?),
    }
}

/// The position `read` asks for and how long to wait for it; `None` when it asks for
/// none. A wait longer than the longest allowed is `INVALID_ARGUMENT` naming
/// `read.wait_ms`. (The configuration reads of the command side wait on the log with it.)
pub fn wanted(read: Option<&pb::ReadOptions>) -> Result<Option<(Position, Duration)>, ApiError> {
    let Some(read) = read.filter(|r| r.min_position > 0) else {
        return Ok(None);
    };
    if read.wait_ms > MAX_WAIT_MS {
        return Err(ApiError::invalid_argument(
            "read.wait_ms",
            format!("at most {MAX_WAIT_MS} milliseconds, got {}", read.wait_ms),
        ));
    }
    let wait = match read.wait_ms {
        0 => DEFAULT_WAIT,
        ms => Duration::from_millis(u64::from(ms)),
    };
    Ok(Some((read.min_position, wait)))
}

/// Whose department visibility applies (docs/TICKETS.md, Assignment, departments and the
/// queue): `tickets.view_all` and importers see everything, an agent their departments' and
/// their own tickets, anyone else nothing once the organization has departments.
pub fn viewer(principal: &Principal) -> Viewer {
    if principal.has(Permission::TicketsViewAll) || principal.has(Permission::SystemImport) {
        Viewer::All
    } else {
        match principal.agent {
            Some(agent) => Viewer::Agent(agent.uuid()),
            None => Viewer::Nobody,
        }
    }
}

/// An agent sees their own statistics, levels and badges; someone else's need
/// `reports.view` (docs/SECURITY.md, Roles and permissions).
pub fn may_see_agent(principal: &Principal, agent: uuid::Uuid) -> Result<(), ApiError> {
    if principal.agent.is_some_and(|a| a.uuid() == agent) || principal.has(Permission::ReportsView)
    {
        Ok(())
    } else {
        Err(ApiError::permission_denied(
            "seeing another agent's statistics, levels or badges needs the permission \
             reports.view",
        ))
    }
}

/// The agent a query is about: the one named, else the caller's own.
pub fn agent_or_caller(principal: &Principal, value: &str) -> Result<uuid::Uuid, ApiError> {
    match helpdesk_api::convert::parse_optional_id::<uuid::Uuid>("agent_id", value)? {
        Some(agent) => Ok(agent),
        None => principal.agent.map(|a| a.uuid()).ok_or_else(|| {
            ApiError::invalid_argument("agent_id", "is required when the caller is not an agent")
        }),
    }
}

/// Runs `read` on a clone of `view` on tokio's blocking threads: sled reads and scans
/// (a report, a benchmark over every agent, a page of tickets) may wait for the disk,
/// and the async workers take commands and every other query meanwhile.
pub async fn read<V, T, E>(
    view: &V,
    read: impl FnOnce(&V) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    V: Clone + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let view = view.clone();
    tokio::task::spawn_blocking(move || read(&view).map_err(Into::into))
        .await
        .map_err(|err| ApiError::internal(format!("a read of the model failed: {err}")))?
}
