//! What the policies still have to do: planned pauses waiting for their end, auto-pauses
//! owed after a missed chat or call (docs/TICKETS.md, Agents: presence and pauses), and
//! the chats and calls the distribution offers, times out and queues (docs/DISTRIBUTION.md).
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
//! | `D` | `true` once the organization has a department |
//! | `G` agent | [`Desk`]: what the distribution needs to know of an active agent |
//! | `Q` conversation | [`Queued`]: a chat or call not yet accepted or answered, nor ended |
//!
//! A pending resume goes when the pause ends (resumed, offline, deactivated). A pending
//! auto-pause goes with the agent's next event, whatever it is: the auto-pause itself, or
//! something that happened to the agent first and makes a pause at the miss's time moot.
//!
//! Every time here is an event's own time (its envelope's `occurred_at`, not the model's
//! clock, which never runs backwards: the system's commands are recorded at the times
//! they are due even when they reach the log after later ones). So the distribution's
//! choices and the times it records come from the log alone: a second runner, or one
//! after a rebuild, sees the same and issues the same commands (with the same ids).

use helpdesk_domain::{AgentId, AggregateKind, ConversationRef, DepartmentId, Event, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::store::{id_key, uuid_at, Read};

const SETTINGS: &[u8] = b"S";
const RESUME: u8 = b'R';
const AUTO_PAUSE: u8 = b'A';
const HAS_DEPARTMENTS: &[u8] = b"D";
const DESK: u8 = b'G';
const QUEUED: u8 = b'Q';

/// The organization settings the policies follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub auto_pause: bool,
    /// The system offers chats and rings calls.
    pub system_routes: bool,
    /// How long an offer waits for its answer.
    pub routing_seconds: u32,
    /// When the system last began to route: nothing it offers is recorded earlier.
    pub routing_since: Timestamp,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_pause: false,
            system_routes: false,
            routing_seconds: helpdesk_domain::limits::DEFAULT_ROUTING_SECONDS,
            routing_since: Timestamp::from_millis(0),
        }
    }
}

/// An active agent as the distribution sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    pub online: bool,
    pub paused: bool,
    pub departments: Vec<DepartmentId>,
    /// The conversation offered to the agent and not yet answered (one at a time).
    pub offer: Option<ConversationRef>,
    /// Chats accepted and calls answered that have not ended.
    pub open: u32,
    /// When the agent last went online or resumed: a miss before it is forgiven.
    pub available_since: Timestamp,
    /// When the agent last became free for an offer: went online, resumed, or their
    /// last offer was answered, missed or ended. An offer is recorded no earlier.
    pub free_since: Timestamp,
    /// Since when the agent has gone without an offer: the later of going online (or
    /// resuming) and their last offer. The longest idle is offered first.
    pub idle_since: Timestamp,
}

/// A chat or call that no agent has accepted or answered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub conversation: ConversationRef,
    pub department: Option<DepartmentId>,
    /// Since when it has waited for an offer (started, or its last offer missed).
    pub waiting_since: Timestamp,
    /// The command id of the event that made it wait: the next offer's id derives
    /// from it, so two runners never offer it twice.
    pub waiting_by: Uuid,
    /// The offer waiting for its answer.
    pub offer: Option<Offer>,
    /// Who missed it, and when: not offered it again until they go online or resume.
    pub missed: Vec<(AgentId, Timestamp)>,
}

/// A conversation offered to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub agent: AgentId,
    pub at: Timestamp,
    /// The offer's command id: the miss after the routing time derives from it.
    pub command_id: Uuid,
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
    const VERSION: u32 = 2;

    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        let _ = event;
        None
    }

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        if at.aggregate.kind == AggregateKind::Agent {
            txn.remove(id_key(AUTO_PAUSE, at.aggregate.id));
        }
        distribute(txn, at, event)?;
        match event {
            Event::OrganizationSettingsChanged(e) => {
                if let Some(auto_pause) = e.auto_pause {
                    let mut settings: Settings = txn.get(SETTINGS)?.unwrap_or_default();
                    settings.auto_pause = auto_pause;
                    txn.put(SETTINGS.to_vec(), &settings);
                }
            }
            Event::DistributionSettingsChanged(e) => {
                let mut settings: Settings = txn.get(SETTINGS)?.unwrap_or_default();
                if let Some(v) = e.system_routes {
                    if v && !settings.system_routes {
                        settings.routing_since = at.envelope.occurred_at;
                    }
                    settings.system_routes = v;
                }
                if let Some(v) = e.routing_seconds {
                    settings.routing_seconds = v;
                }
                txn.put(SETTINGS.to_vec(), &settings);
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

/// What the distribution remembers of agents and waiting conversations.
fn distribute(txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
    let now = at.envelope.occurred_at;
    match event {
        Event::DepartmentCreated(_) => txn.put(HAS_DEPARTMENTS.to_vec(), &true),
        Event::AgentRegistered(e) => txn.put(
            id_key(DESK, e.agent.uuid()),
            &Desk {
                online: false,
                paused: false,
                departments: Vec::new(),
                offer: None,
                open: 0,
                available_since: now,
                free_since: now,
                idle_since: now,
            },
        ),
        Event::AgentDeactivated(e) => txn.remove(id_key(DESK, e.agent.uuid())),
        Event::AgentWentOnline(e) => update_desk(txn, e.agent, |d| {
            d.online = true;
            d.paused = false;
            d.become_available(now);
        })?,
        Event::AgentWentOffline(e) => update_desk(txn, e.agent, |d| {
            d.online = false;
            d.paused = false;
        })?,
        Event::AgentPaused(e) => update_desk(txn, e.agent, |d| d.paused = true)?,
        Event::AgentResumed(e) => update_desk(txn, e.agent, |d| {
            d.paused = false;
            d.become_available(now);
        })?,
        // A new member is free for the department's conversations from now on.
        Event::AgentAddedToDepartment(e) => update_desk(txn, e.agent, |d| {
            if !d.departments.contains(&e.department) {
                d.departments.push(e.department);
                d.free_since = d.free_since.max(now);
            }
        })?,
        Event::AgentRemovedFromDepartment(e) => update_desk(txn, e.agent, |d| {
            d.departments.retain(|x| *x != e.department)
        })?,
        Event::ChatStarted(e) => queue(txn, at, ConversationRef::chat(e.chat), e.department),
        Event::CallIncoming(e) => queue(txn, at, ConversationRef::call(e.call), e.department),
        Event::ChatOffered(e) => offered(txn, at, ConversationRef::chat(e.chat), e.agent)?,
        Event::CallRinging(e) => offered(txn, at, ConversationRef::call(e.call), e.agent)?,
        Event::ChatAccepted(e) => taken(txn, now, e.chat.uuid(), e.agent)?,
        Event::CallAnswered(e) => taken(txn, now, e.call.uuid(), e.agent)?,
        Event::ChatMissed(e) => missed(txn, at, e.chat.uuid(), e.agent)?,
        Event::CallMissed(e) => missed(txn, at, e.call.uuid(), e.agent)?,
        Event::ChatEnded(e) => ended(txn, now, e.chat.uuid(), e.agent)?,
        Event::CallEnded(e) => ended(txn, now, e.call.uuid(), e.agent)?,
        _ => {}
    }
    Ok(())
}

impl Desk {
    fn become_available(&mut self, now: Timestamp) {
        self.available_since = now;
        self.free_since = now;
        self.idle_since = now;
    }
}

/// Changes the agent's desk, if they have one (a deactivated agent has none).
fn update_desk(
    txn: &mut Txn<'_>,
    agent: AgentId,
    change: impl FnOnce(&mut Desk),
) -> Result<(), ModelError> {
    let key = id_key(DESK, agent.uuid());
    if let Some(mut desk) = txn.get::<Desk>(&key)? {
        change(&mut desk);
        txn.put(key, &desk);
    }
    Ok(())
}

fn queue(
    txn: &mut Txn<'_>,
    at: &At<'_>,
    conversation: ConversationRef,
    department: Option<DepartmentId>,
) {
    txn.put(
        id_key(QUEUED, conversation.id),
        &Queued {
            conversation,
            department,
            waiting_since: at.envelope.occurred_at,
            waiting_by: at.envelope.command_id,
            offer: None,
            missed: Vec::new(),
        },
    );
}

fn offered(
    txn: &mut Txn<'_>,
    at: &At<'_>,
    conversation: ConversationRef,
    agent: AgentId,
) -> Result<(), ModelError> {
    let key = id_key(QUEUED, conversation.id);
    if let Some(mut queued) = txn.get::<Queued>(&key)? {
        queued.offer = Some(Offer {
            agent,
            at: at.envelope.occurred_at,
            command_id: at.envelope.command_id,
        });
        txn.put(key, &queued);
    }
    update_desk(txn, agent, |d| {
        d.offer = Some(conversation);
        d.idle_since = at.envelope.occurred_at;
    })
}

/// Accepted or answered: out of the queue, and the agent is free for the next offer.
fn taken(txn: &mut Txn<'_>, now: Timestamp, id: Uuid, agent: AgentId) -> Result<(), ModelError> {
    txn.remove(id_key(QUEUED, id));
    update_desk(txn, agent, |d| {
        d.offer = None;
        d.open += 1;
        d.free_since = now;
    })
}

fn missed(txn: &mut Txn<'_>, at: &At<'_>, id: Uuid, agent: AgentId) -> Result<(), ModelError> {
    let key = id_key(QUEUED, id);
    if let Some(mut queued) = txn.get::<Queued>(&key)? {
        queued.offer = None;
        queued.waiting_since = at.envelope.occurred_at;
        queued.waiting_by = at.envelope.command_id;
        queued.missed.retain(|(a, _)| *a != agent);
        queued.missed.push((agent, at.envelope.occurred_at));
        txn.put(key, &queued);
    }
    update_desk(txn, agent, |d| {
        d.offer = None;
        d.free_since = at.envelope.occurred_at;
    })
}

/// Ended: out of the queue; an agent it was offered to is free, and the agent who had
/// it has one conversation less.
fn ended(
    txn: &mut Txn<'_>,
    now: Timestamp,
    id: Uuid,
    handled_by: Option<AgentId>,
) -> Result<(), ModelError> {
    let key = id_key(QUEUED, id);
    if let Some(offer) = txn.get::<Queued>(&key)?.and_then(|q| q.offer) {
        update_desk(txn, offer.agent, |d| {
            d.offer = None;
            d.free_since = now;
        })?;
    }
    txn.remove(key);
    if let Some(agent) = handled_by {
        update_desk(txn, agent, |d| d.open = d.open.saturating_sub(1))?;
    }
    Ok(())
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
                missed_at: at.envelope.occurred_at,
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

    /// The organization's settings as the policies follow them.
    pub fn settings(&self) -> Result<Settings, ModelError> {
        Ok(self.handle.store().get(SETTINGS)?.unwrap_or_default())
    }

    /// What the distribution has to do by `now` (docs/DISTRIBUTION.md): the offers whose
    /// routing time is over, then an offer for each waiting conversation that an
    /// available agent can take, oldest waiting first. Nothing when integrations route.
    /// `owed_pause`: the agents [`Self::auto_pauses`] owes a pause (skipped: they are
    /// about to be paused), as the caller has just read them.
    pub fn distribution(
        &self,
        now: Timestamp,
        owed_pause: &[AgentId],
    ) -> Result<Vec<Routing>, ModelError> {
        let store = self.handle.store();
        let settings = self.settings()?;
        if !settings.system_routes {
            return Ok(Vec::new());
        }
        let routing_millis = i64::from(settings.routing_seconds) * 1000;
        let has_departments = store.get::<bool>(HAS_DEPARTMENTS)?.unwrap_or(false);
        let mut free: Vec<(AgentId, Desk)> = Vec::new();
        for (key, desk) in store.scan::<Desk>(&[DESK])? {
            let agent = agent_of(&key)?;
            if desk.online && !desk.paused && desk.offer.is_none() && !owed_pause.contains(&agent) {
                free.push((agent, desk));
            }
        }
        let mut queued: Vec<Queued> = store
            .scan::<Queued>(&[QUEUED])?
            .into_iter()
            .map(|(_, q)| q)
            .collect();
        queued.sort_by_key(|q| (q.waiting_since, q.conversation.id));
        let mut work = Vec::new();
        for q in &queued {
            if let Some(offer) = q.offer {
                let due = offer.at.plus_millis(routing_millis);
                if due <= now {
                    work.push(Routing::Miss {
                        conversation: q.conversation,
                        agent: offer.agent,
                        command_id: Uuid::new_v5(&offer.command_id, b"distribution: missed"),
                        at: due,
                    });
                }
            }
        }
        for q in queued.iter().filter(|q| q.offer.is_none()) {
            let can_take = |(agent, desk): &&(AgentId, Desk)| {
                let member = match q.department {
                    Some(d) if has_departments => desk.departments.contains(&d),
                    _ => true,
                };
                let missed_it = q
                    .missed
                    .iter()
                    .any(|(a, when)| a == agent && desk.available_since <= *when);
                member && !missed_it
            };
            let chosen = free
                .iter()
                .filter(can_take)
                .min_by_key(|(agent, desk)| (desk.idle_since, desk.open, *agent))
                .map(|(agent, _)| *agent);
            if let Some(agent) = chosen {
                let index = free.iter().position(|(a, _)| *a == agent).expect("chosen");
                let (_, desk) = free.swap_remove(index);
                work.push(Routing::Offer {
                    conversation: q.conversation,
                    agent,
                    command_id: Uuid::new_v5(&q.waiting_by, b"distribution: offer"),
                    at: q
                        .waiting_since
                        .max(desk.free_since)
                        .max(settings.routing_since),
                });
            }
        }
        Ok(work)
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

/// One step of the distribution, for the runner to issue as the system's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// Offer the chat or ring the call for the agent, recorded at `at`.
    Offer {
        conversation: ConversationRef,
        agent: AgentId,
        command_id: Uuid,
        at: Timestamp,
    },
    /// The routing time of the agent's offer is over at `at`: record the miss.
    Miss {
        conversation: ConversationRef,
        agent: AgentId,
        command_id: Uuid,
        at: Timestamp,
    },
}

/// The agent a policy record is about.
fn agent_of(key: &[u8]) -> Result<AgentId, ModelError> {
    uuid_at(key, 1).map(AgentId::from_uuid)
}
