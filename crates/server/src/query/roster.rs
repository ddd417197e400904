//! `helpdesk.v1.RosterService` over the roster read model.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use helpdesk_api::convert::{parse_id, parse_optional_id, role_ref_pb, timestamp_from_millis};
use helpdesk_api::{pb, ApiError, RosterService};
use helpdesk_domain::{ConversationKind, PauseReason, Principal, Role, Timestamp};
use helpdesk_projections::roster::{
    Filter, Presence, PresenceChange, PresenceKind, RosterView, Row,
};
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::{caller, Access};
use crate::query::preamble::{agent_or_caller, reached, read, viewer};

pub struct RosterApi {
    view: RosterView,
    /// Ends a presence stream whose caller may no longer watch.
    access: Arc<Access>,
    /// Ends the presence streams when the process stops.
    shutdown: CancellationToken,
}

impl RosterApi {
    pub fn new(view: RosterView, access: Arc<Access>, shutdown: CancellationToken) -> Self {
        RosterApi {
            view,
            access,
            shutdown,
        }
    }
}

/// The presence changes of `WatchPresence`.
pub type PresenceStream = Pin<Box<dyn Stream<Item = Result<pb::PresenceChange, Status>> + Send>>;

#[tonic::async_trait]
impl RosterService for RosterApi {
    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let filter = Filter {
            department: parse_optional_id("department_id", &request.department_id)?,
            presence: presence_filter("presence", request.presence)?,
            role: request.role.map(|r| parse_role("role", r)).transpose()?,
            deactivated: request.include_deactivated,
        };
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let viewer = viewer(&principal);
        let agents = read(&self.view, move |view| view.list(&filter, viewer))
            .await?
            .into_iter()
            .map(agent_pb)
            .collect();
        Ok(Response::new(pb::ListAgentsResponse { agents, position }))
    }

    async fn get_agent(
        &self,
        request: Request<pb::GetAgentRequest>,
    ) -> Result<Response<pb::GetAgentResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let agent = agent_or_caller(&principal, &request.agent_id)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let viewer = viewer(&principal);
        let row = read(&self.view, move |view| view.get(agent, viewer))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("agent {agent} not found")))?;
        Ok(Response::new(pb::GetAgentResponse {
            agent: Some(agent_pb(row)),
            position,
        }))
    }

    type WatchPresenceStream = PresenceStream;

    async fn watch_presence(
        &self,
        request: Request<pb::WatchPresenceRequest>,
    ) -> Result<Response<PresenceStream>, Status> {
        let principal = caller(&request)?.principal;
        let headers = request.metadata().clone().into_headers();
        let department: Option<Uuid> =
            parse_optional_id("department_id", &request.get_ref().department_id)?;
        let slot = self.access.open_stream(&principal)?;
        let view = self.view.clone();
        let viewer = viewer(&principal);
        let notes = BroadcastStream::new(self.view.handle().notes());
        let stream = notes.filter_map(move |note| {
            let change = match note {
                Ok(note) => note.downcast::<PresenceChange>().ok().and_then(|change| {
                    // Whom the caller sees now: their departments may have changed since
                    // the stream opened. A store that cannot be read shows nothing.
                    let sees = view.sees(viewer).ok()?;
                    let shown = sees.sees(change.agent.uuid(), &change.departments)
                        && department.is_none_or(|d| change.departments.contains(&d));
                    shown.then(|| change_pb(&change))
                }),
                Err(lagged) => {
                    tracing::warn!("a presence watcher fell behind: {lagged}");
                    None
                }
            };
            futures::future::ready(change.map(Ok))
        });
        // A stream never ends by itself: the process's shutdown ends it, so that a
        // graceful stop does not wait for watchers.
        let stream = stream.take_until(self.shutdown.clone().cancelled_owned());
        // Visibility is worked out per change; the recheck ends the stream once the token
        // no longer authenticates (revoked, expired, the agent deactivated).
        let still_may = |_: &Principal| Ok(());
        let stream = self.access.while_allowed(slot, headers, still_may, stream);
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A presence filter: unspecified is any.
fn presence_filter(field: &str, value: i32) -> Result<Option<PresenceKind>, ApiError> {
    Ok(match pb::Presence::try_from(value) {
        Ok(pb::Presence::Unspecified) => None,
        Ok(pb::Presence::Online) => Some(PresenceKind::Online),
        Ok(pb::Presence::Paused) => Some(PresenceKind::Paused),
        Ok(pb::Presence::Offline) => Some(PresenceKind::Offline),
        Err(_) => {
            return Err(ApiError::invalid_argument(
                field,
                format!("unknown value {value}"),
            ))
        }
    })
}

/// A role filter, naming the part at fault (`role.builtin`, `role.custom_role_id`).
fn parse_role(field: &str, value: pb::RoleRef) -> Result<Role, ApiError> {
    use pb::role_ref::Role as R;
    match value.role {
        None => Err(ApiError::invalid_argument(
            field,
            "set builtin or custom_role_id (or leave role unset for any)",
        )),
        Some(R::Builtin(builtin)) => {
            let field = format!("{field}.builtin");
            match pb::BuiltinRole::try_from(builtin) {
                Ok(pb::BuiltinRole::Owner) => Ok(Role::Owner),
                Ok(pb::BuiltinRole::Administrator) => Ok(Role::Administrator),
                Ok(pb::BuiltinRole::Agent) => Ok(Role::Agent),
                Ok(pb::BuiltinRole::Unspecified) => Err(ApiError::missing_field(field)),
                Err(_) => Err(ApiError::invalid_argument(
                    field,
                    format!("unknown value {builtin}"),
                )),
            }
        }
        Some(R::CustomRoleId(id)) => Ok(Role::Custom(parse_id(
            &format!("{field}.custom_role_id"),
            &id,
        )?)),
    }
}

fn time(t: Timestamp) -> Option<prost_types::Timestamp> {
    Some(timestamp_from_millis(t.millis()))
}

/// Since when an agent is where they are; unset when not known: the organization's
/// setup is stamped with time 0 (so that history may be imported after it), and an
/// agent registered there who never went online has no time of their own.
fn since(t: Timestamp) -> Option<prost_types::Timestamp> {
    (t.millis() > 0).then(|| timestamp_from_millis(t.millis()))
}

fn presence_pb(presence: &Presence) -> (pb::Presence, Option<pb::PauseInfo>) {
    match presence {
        Presence::Online => (pb::Presence::Online, None),
        Presence::Offline => (pb::Presence::Offline, None),
        Presence::Paused {
            reason,
            planned_end,
        } => {
            use pb::pause_info::PauseReason as R;
            let reason = match reason {
                PauseReason::Text(text) => R::Reason(text.clone()),
                PauseReason::AutoMissed { conversation } => R::AutoMissed(pb::ConversationRef {
                    kind: match conversation.kind {
                        ConversationKind::Ticket => pb::ConversationKind::Ticket,
                        ConversationKind::Chat => pb::ConversationKind::Chat,
                        ConversationKind::Call => pb::ConversationKind::Call,
                    } as i32,
                    id: conversation.id.to_string(),
                }),
            };
            let pause = pb::PauseInfo {
                pause_reason: Some(reason),
                planned_end: planned_end.and_then(time),
            };
            (pb::Presence::Paused, Some(pause))
        }
    }
}

fn agent_pb(row: Row) -> pb::RosterAgent {
    let (presence, pause) = presence_pb(&row.presence);
    let role_name = match &row.record.role {
        Role::Custom(id) => row.role_name.unwrap_or_else(|| format!("custom role {id}")),
        builtin => builtin.to_string(),
    };
    let (level_rank, level_name) = row.level.unwrap_or_default();
    pb::RosterAgent {
        agent_id: row.agent.to_string(),
        name: row.record.name,
        email: row.record.email,
        role: Some(role_ref_pb(&row.record.role)),
        role_name,
        departments: row
            .departments
            .into_iter()
            .map(|(id, name)| pb::RosterDepartment {
                department_id: id.to_string(),
                name,
            })
            .collect(),
        presence: presence as i32,
        since: since(row.since),
        pause,
        level_rank,
        level_name,
        open_chat_ids: row.record.open_chats.iter().map(Uuid::to_string).collect(),
        open_call_ids: row.record.open_calls.iter().map(Uuid::to_string).collect(),
        last_activity: row.record.last_activity.and_then(time),
        deactivated: !row.record.active,
    }
}

fn change_pb(change: &PresenceChange) -> pb::PresenceChange {
    let (presence, pause) = presence_pb(&change.presence);
    pb::PresenceChange {
        agent_id: change.agent.to_string(),
        name: change.name.clone(),
        presence: presence as i32,
        since: since(change.since),
        pause,
        deactivated: change.deactivated,
        position: change.position,
    }
}
