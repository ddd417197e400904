use uuid::Uuid;

use crate::envelope::Envelope;
use crate::event::Event;
use crate::ids::AgentId;
use crate::model::PauseReason;
use crate::roles::Role;
use crate::time::Timestamp;

/// A pause that has not been closed by an `AgentResumed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPause {
    pub reason: PauseReason,
    pub started_at: Timestamp,
    pub planned_end: Option<Timestamp>,
    /// The command id of the envelope that paused: the planned end's command id is
    /// derived from it, so that whoever records the end, it is recorded once.
    pub command_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    exists: bool,
    pub agent_id: Option<AgentId>,
    pub name: String,
    pub email: String,
    role: Role,
    pub online: bool,
    deactivated: bool,
    pub pause: Option<OpenPause>,
}

impl Default for AgentState {
    fn default() -> Self {
        AgentState {
            exists: false,
            agent_id: None,
            name: String::new(),
            email: String::new(),
            role: Role::Agent,
            online: false,
            deactivated: false,
            pause: None,
        }
    }
}

impl AgentState {
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub fn is_deactivated(&self) -> bool {
        self.deactivated
    }

    pub fn role(&self) -> &Role {
        &self.role
    }

    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Paused at `now`: a pause is open and its planned end (if any) lies after `now`.
    /// A pause whose planned end has come is over even before its `AgentResumed` is
    /// appended (docs/TICKETS.md, Agents: presence and pauses).
    pub fn is_paused(&self, now: Timestamp) -> bool {
        self.pause
            .as_ref()
            .is_some_and(|p| p.planned_end.is_none_or(|end| now < end))
    }

    /// Exists, active, online and not paused: may be offered chats, rung for calls and
    /// given high priority tickets by routing.
    pub fn is_available(&self, now: Timestamp) -> bool {
        self.exists && !self.deactivated && self.online && !self.is_paused(now)
    }

    pub(crate) fn apply(&mut self, event: &Event, envelope: &Envelope) {
        match event {
            Event::AgentRegistered(e) => {
                self.exists = true;
                self.agent_id = Some(e.agent);
                self.name.clone_from(&e.name);
                self.email.clone_from(&e.email);
                self.role = e.role.clone();
            }
            Event::AgentRoleChanged(e) => self.role = e.role.clone(),
            Event::AgentWentOnline(_) => self.online = true,
            Event::AgentWentOffline(_) => {
                self.online = false;
                self.pause = None;
            }
            Event::AgentPaused(e) => {
                self.pause = Some(OpenPause {
                    reason: e.reason.clone(),
                    started_at: envelope.occurred_at,
                    planned_end: e.planned_end,
                    command_id: envelope.command_id,
                })
            }
            Event::AgentResumed(_) => self.pause = None,
            Event::AgentDeactivated(_) => {
                self.deactivated = true;
                self.online = false;
                self.pause = None;
            }
            _ => {}
        }
    }
}
