//! What the policies still have to do: planned pauses waiting for their end, and
//! auto-pauses owed after a missed chat or call (docs/TICKETS.md, Agents: presence and pauses).
//!
//! This model only remembers; the server's policy runner reads it and issues the
//! commands, each with an id derived from the event that called for it, so running a
//! policy twice (after a restart, a rebuild, in two processes) never doubles anything.
//!
//! | key | value |
//! |---|---|
//! | `S` | [`Settings`] |
//! | `R` agent | [`PendingResume`]: the agent's pause ends by itself at `planned_end` |
//! | `A` agent | [`PendingAutoPause`]: the agent missed a conversation with auto-pause on |
//!
//! A pending resume goes when the pause ends (resumed, offline, deactivated). A pending
//! auto-pause goes with the agent's next event, whatever it is: the auto-pause itself, or
//! something that happened to the agent first and makes a pause at the miss's time moot.

use helpdesk_domain::{AgentId, AggregateKind, ConversationRef, Event, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::store::{id_key, uuid_at, Read};

const SETTINGS: &[u8] = b"S";
const RESUME: u8 = b'R';
const AUTO_PAUSE: u8 = b'A';

/// The organization settings the policies follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub auto_pause: bool,
}

/// A pause that ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingResume {
    pub planned_end: Timestamp,
}

/// An auto-pause owed after a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAutoPause {
    /// The command id of the pause: derived from the miss's command id.
    pub command_id: Uuid,
    /// The conversation missed.
    pub conversation: ConversationRef,
    /// When it was missed: the pause's time.
    pub missed_at: Timestamp,
}

/// The policies' memory; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Policies;

impl Model for Policies {
    const NAME: &'static str = "policies";
    const VERSION: u32 = 1;

    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        let _ = event;
        None
    }

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        if at.aggregate.kind == AggregateKind::Agent {
            txn.remove(id_key(AUTO_PAUSE, at.aggregate.id));
        }
        match event {
            Event::OrganizationSettingsChanged(e) => {
                if let Some(auto_pause) = e.auto_pause {
                    txn.put(SETTINGS.to_vec(), &Settings { auto_pause });
                }
            }
            Event::AgentPaused(e) => match e.planned_end {
                Some(planned_end) => txn.put(
                    id_key(RESUME, e.agent.uuid()),
                    &PendingResume { planned_end },
                ),
                None => txn.remove(id_key(RESUME, e.agent.uuid())),
            },
            Event::AgentResumed(e) => txn.remove(id_key(RESUME, e.agent.uuid())),
            Event::AgentWentOffline(e) => txn.remove(id_key(RESUME, e.agent.uuid())),
            Event::AgentDeactivated(e) => txn.remove(id_key(RESUME, e.agent.uuid())),
            Event::ChatMissed(e) => {
                owe_auto_pause(txn, at, e.agent, ConversationRef::chat(e.chat))?;
            }
            Event::CallMissed(e) => {
                owe_auto_pause(txn, at, e.agent, ConversationRef::call(e.call))?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn owe_auto_pause(
    txn: &mut Txn<'_>,
    at: &At<'_>,
    agent: AgentId,
    conversation: ConversationRef,
) -> Result<(), ModelError> {
    let settings: Settings = txn.get(SETTINGS)?.unwrap_or_default();
    if settings.auto_pause {
        txn.put(
            id_key(AUTO_PAUSE, agent.uuid()),
            &PendingAutoPause {
                command_id: Uuid::new_v5(&at.envelope.command_id, b"auto-pause"),
                conversation,
                missed_at: at.time,
            },
        );
    }
    Ok(())
}

/// What the policy runner reads.
#[derive(Clone)]
pub struct PoliciesView {
    handle: ModelHandle,
}

impl PoliciesView {
    pub fn new(handle: ModelHandle) -> Self {
        PoliciesView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// Agents whose planned pause has ended by `now`, with its planned end.
    pub fn due_resumes(&self, now: Timestamp) -> Result<Vec<(AgentId, Timestamp)>, ModelError> {
        let mut due = Vec::new();
        for (k, pending) in self.handle.store().scan::<PendingResume>(&[RESUME])? {
            if pending.planned_end <= now {
                due.push((agent_of(&k)?, pending.planned_end));
            }
        }
        Ok(due)
    }

    /// The earliest planned end still pending, to know how long to sleep.
    pub fn next_planned_end(&self) -> Result<Option<Timestamp>, ModelError> {
        let mut next: Option<Timestamp> = None;
        for (_, pending) in self.handle.store().scan::<PendingResume>(&[RESUME])? {
            next = Some(next.map_or(pending.planned_end, |n| n.min(pending.planned_end)));
        }
        Ok(next)
    }

    /// The auto-pauses owed.
    pub fn auto_pauses(&self) -> Result<Vec<(AgentId, PendingAutoPause)>, ModelError> {
        let mut owed = Vec::new();
        for (k, pending) in self
            .handle
            .store()
            .scan::<PendingAutoPause>(&[AUTO_PAUSE])?
        {
            owed.push((agent_of(&k)?, pending));
        }
        Ok(owed)
    }
}

/// The agent a policy record is about.
fn agent_of(key: &[u8]) -> Result<AgentId, ModelError> {
    uuid_at(key, 1).map(AgentId::from_uuid)
}
