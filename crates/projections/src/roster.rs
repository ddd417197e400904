//! The roster (docs/ROSTER.md): every agent as a live board shows them: name, email,
//! role, departments, presence (online, paused with its reason, since when and until
//! when, offline), current level, open chats and calls, last activity.
//!
//! # Records (one sled tree; keys start with a record type byte)
//!
//! | key | value |
//! |---|---|
//! | `A` agent | [`Agent`] — only the agents this partition owns |
//! | `M` agent department | () — every membership, in every partition (visibility) |
//! | `P` department | its name |
//! | `O` role | a custom role's name |
//! | (levels and stats) | see [`crate::levels`] and [`crate::stats`] |
//!
//! # The current level
//!
//! No event carries a level-up: a level is reached when the level variables, which the
//! statistics derive from the whole history, first satisfy its condition (only an applied
//! recompute, `LevelsRecomputed`, names levels). So the roster embeds the levels fold
//! ([`Levels`]) and keeps its records beside its own, under the levels' and statistics'
//! first bytes, which the roster's own (upper case `A`, `M`, `P`, `O`) do not collide
//! with. A roster replica answers with its agents' levels without asking another model
//! (a `helpdesk project roster` process serves the roster alone, and partitions line up
//! with nothing else). The price: per agent, the statistics' records besides the roster's
//! (docs/PERFORMANCE.md), and the levels' fold again in the pass.
//!
//! # Presence
//!
//! As the agent's events say, with one rule of the domain's (docs/TICKETS.md, Agents:
//! presence and pauses): a pause whose planned end has come is over, even before its
//! `AgentResumed` is appended. Queries apply it at the model's time; the `since` of the
//! presence that follows is the planned end (also once the late `AgentResumed` is
//! folded, so a rebuild reads the same).
//!
//! # Partitions
//!
//! Agent records are per agent: every partition folds every event (departments, roles
//! and memberships are needed everywhere for names and visibility) and keeps the agents
//! it owns ([`crate::runtime::Partition::owns`]), like the statistics.

use helpdesk_domain::{AgentId, Event, PauseReason, ResumeReason, Role, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::levels::{attributed, Levels, LevelsView};
use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::stats::their_doing;
use crate::store::{id_key, pair_key, uuid_at, Read, Store};
use crate::tickets::Viewer;

const AGENT: u8 = b'A';
const MEMBER: u8 = b'M';
const DEPARTMENT: u8 = b'P';
const ROLE: u8 = b'O';

/// An open pause. Stored: fields are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub reason: PauseReason,
    pub planned_end: Option<Timestamp>,
}

/// One agent on the roster. Stored: fields are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    pub email: String,
    pub role: Role,
    /// False once deactivated.
    pub active: bool,
    pub online: bool,
    /// The open pause (only while online).
    pub pause: Option<Pause>,
    /// When the presence last changed (registration at first).
    pub since: Timestamp,
    /// Chats the agent accepted that have not ended, in the order accepted.
    pub open_chats: Vec<Uuid>,
    /// Calls the agent answered that have not ended.
    pub open_calls: Vec<Uuid>,
    /// The time of the agent's last doing of their own ([`their_doing`], without what
    /// [`happens_to_them`]): none before any.
    pub last_activity: Option<Timestamp>,
}

/// Where an agent is, at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Online,
    Paused {
        reason: PauseReason,
        planned_end: Option<Timestamp>,
    },
    Offline,
}

/// A presence without its details: what a filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceKind {
    Online,
    Paused,
    Offline,
}

impl Presence {
    pub fn kind(&self) -> PresenceKind {
        match self {
            Presence::Online => PresenceKind::Online,
            Presence::Paused { .. } => PresenceKind::Paused,
            Presence::Offline => PresenceKind::Offline,
        }
    }
}

impl Agent {
    /// The presence as the events folded so far say, planned ends not applied.
    pub fn recorded_presence(&self) -> (Presence, Timestamp) {
        self.presence_at(Timestamp::from_millis(i64::MIN))
    }

    /// The agent's presence at `now`, and since when (a pause whose planned end has come
    /// is over: see the module docs).
    pub fn presence_at(&self, now: Timestamp) -> (Presence, Timestamp) {
        match (&self.pause, self.online) {
            (_, false) => (Presence::Offline, self.since),
            (None, true) => (Presence::Online, self.since),
            (Some(pause), true) => match pause.planned_end {
                Some(end) if end <= now => (Presence::Online, end),
                _ => (
                    Presence::Paused {
                        reason: pause.reason.clone(),
                        planned_end: pause.planned_end,
                    },
                    self.since,
                ),
            },
        }
    }
}

/// A presence change, for live boards (not stored).
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceChange {
    pub agent: AgentId,
    pub name: String,
    pub presence: Presence,
    pub since: Timestamp,
    /// The agent's departments then (whom the change may be shown to).
    pub departments: Vec<Uuid>,
    pub deactivated: bool,
    pub position: u64,
}

/// The roster model; see the module docs.
#[derive(Debug, Default)]
pub struct Roster {
    levels: Levels,
}

impl Roster {
    pub fn new() -> Self {
        Roster::default()
    }
}

impl Model for Roster {
    const NAME: &'static str = "roster";
    /// The roster's own layout (1), and the embedded levels': a new levels fold rebuilds
    /// the roster too.
    const VERSION: u32 = 1 + 1000 * <Levels as Model>::VERSION;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        self.levels.fold(txn, at, event)?;
        match event {
            Event::DepartmentCreated(e) => {
                txn.put(id_key(DEPARTMENT, e.department.uuid()), &e.name);
            }
            Event::DepartmentUpdated(e) => {
                txn.put(id_key(DEPARTMENT, e.department.uuid()), &e.name);
            }
            Event::AgentAddedToDepartment(e) => {
                txn.put(pair_key(MEMBER, e.agent.uuid(), e.department.uuid()), &());
            }
            Event::AgentRemovedFromDepartment(e) => {
                txn.remove(pair_key(MEMBER, e.agent.uuid(), e.department.uuid()));
            }
            Event::RoleDefined(e) => txn.put(id_key(ROLE, e.role_id.uuid()), &e.name),
            // RoleRemoved changes nothing here: the role's agents keep it (with no
            // permissions), so its name stays for them.
            Event::RoleUpdated(e) => txn.put(id_key(ROLE, e.role_id.uuid()), &e.name),
            Event::AgentRegistered(e) if at.partition.owns(e.agent.uuid()) => {
                let agent = Agent {
                    name: e.name.clone(),
                    email: e.email.clone(),
                    role: e.role.clone(),
                    active: true,
                    online: false,
                    pause: None,
                    since: at.time,
                    open_chats: Vec::new(),
                    open_calls: Vec::new(),
                    last_activity: None,
                };
                txn.put(id_key(AGENT, e.agent.uuid()), &agent);
            }
            _ => {}
        }
        // The agents the event changes (presence, chats, calls) and those whose own doing
        // it is (last activity): the second may add who did it to a ticket (`by`).
        let attributed: Vec<AgentId> = attributed(event)
            .into_iter()
            .map(AgentId::from_uuid)
            .collect();
        let active: Vec<Uuid> = if happens_to_them(event) {
            Vec::new()
        } else {
            their_doing(at, event, &attributed)
        };
        let mut agents = attributed;
        agents.extend(active.iter().copied().map(AgentId::from_uuid));
        agents.sort();
        agents.dedup();
        for agent in agents {
            let key = id_key(AGENT, agent.uuid());
            // Only this partition's agents have a record.
            let Some(before) = txn.get::<Agent>(&key)? else {
                continue;
            };
            let mut after = before.clone();
            evolve(&mut after, event, at.time, agent);
            if active.contains(&agent.uuid()) {
                after.last_activity = Some(at.time);
            }
            if after == before {
                continue;
            }
            // As the events say: a planned end is announced when its `AgentResumed` is
            // recorded (the system records it at the planned end), not before.
            let was = before.recorded_presence();
            let is = after.recorded_presence();
            if was != is || before.active != after.active {
                let departments = txn
                    .scan_prefix(&id_key(MEMBER, agent.uuid()))?
                    .iter()
                    .map(|(k, _)| uuid_at(k, 17))
                    .collect::<Result<_, _>>()?;
                txn.notify(PresenceChange {
                    agent,
                    name: after.name.clone(),
                    presence: is.0,
                    since: is.1,
                    departments,
                    deactivated: !after.active,
                    position: at.position,
                });
            }
            txn.put(key, &after);
        }
        Ok(())
    }
}

/// Events that name an agent but are not their doing, beyond what [`their_doing`]
/// leaves out: being put into or out of a department, offered a chat, rung, missing
/// one, rated.
fn happens_to_them(event: &Event) -> bool {
    matches!(
        event,
        Event::AgentAddedToDepartment(_)
            | Event::AgentRemovedFromDepartment(_)
            | Event::ChatOffered(_)
            | Event::ChatMissed(_)
            | Event::CallRinging(_)
            | Event::CallMissed(_)
            | Event::ConversationRated(_)
            | Event::RatingRetracted(_)
    )
}

/// How one event changes an agent's roster record (`agent` is one the event is
/// attributed to).
fn evolve(a: &mut Agent, event: &Event, time: Timestamp, agent: AgentId) {
    match event {
        Event::AgentRoleChanged(e) => a.role = e.role.clone(),
        Event::AgentWentOnline(_) if !a.online => {
            a.online = true;
            a.since = time;
        }
        Event::AgentWentOffline(_) if a.online => {
            a.online = false;
            a.pause = None;
            a.since = time;
        }
        Event::AgentPaused(e) => {
            a.pause = Some(Pause {
                reason: e.reason.clone(),
                planned_end: e.planned_end,
            });
            a.since = time;
        }
        Event::AgentResumed(e) => {
            // A planned end is when the pause ended, whenever its event was appended.
            let planned = a.pause.as_ref().and_then(|p| p.planned_end);
            a.since = match (e.reason, planned) {
                (ResumeReason::PlannedEnd, Some(end)) => end,
                _ => time,
            };
            a.pause = None;
        }
        Event::AgentDeactivated(_) => {
            a.active = false;
            a.online = false;
            a.pause = None;
            a.since = time;
        }
        Event::ChatAccepted(e) if e.agent == agent && !a.open_chats.contains(&e.chat.uuid()) => {
            a.open_chats.push(e.chat.uuid());
        }
        Event::ChatEnded(e) if e.agent == Some(agent) => {
            a.open_chats.retain(|c| *c != e.chat.uuid());
        }
        Event::CallAnswered(e) if e.agent == agent && !a.open_calls.contains(&e.call.uuid()) => {
            a.open_calls.push(e.call.uuid());
        }
        Event::CallEnded(e) if e.agent == Some(agent) => {
            a.open_calls.retain(|c| *c != e.call.uuid());
        }
        _ => {}
    }
}

// ------------------------------------------------------------------------------ queries

/// One row of the roster, as a query answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub agent: Uuid,
    pub record: Agent,
    /// The custom role's name (none for a built-in role, or a role never defined).
    pub role_name: Option<String>,
    /// The presence at the model's time, and since when.
    pub presence: Presence,
    pub since: Timestamp,
    /// (id, name), by name.
    pub departments: Vec<(Uuid, String)>,
    /// The highest level reached: (rank, name).
    pub level: Option<(u32, String)>,
}

/// What a list asks for; unset criteria match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub department: Option<Uuid>,
    pub presence: Option<PresenceKind>,
    pub role: Option<Role>,
    /// Deactivated agents too (left out by default).
    pub deactivated: bool,
}

/// Queries on the roster model.
#[derive(Clone)]
pub struct RosterView {
    handle: ModelHandle,
}

/// Whom one viewer sees, worked out once per query (the tickets' rule, applied to
/// agents: docs/ROSTER.md, Who sees whom).
pub enum Sees {
    Everyone,
    /// Themself (when an agent) and the members of these departments.
    Only {
        agent: Option<Uuid>,
        departments: Vec<Uuid>,
    },
}

impl Sees {
    /// Whether an agent in `departments` is seen.
    pub fn sees(&self, agent: Uuid, departments: &[Uuid]) -> bool {
        match self {
            Sees::Everyone => true,
            Sees::Only {
                agent: me,
                departments: mine,
            } => *me == Some(agent) || departments.iter().any(|d| mine.contains(d)),
        }
    }
}

impl RosterView {
    pub fn new(handle: ModelHandle) -> Self {
        RosterView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// Whom `viewer` sees: everyone without departments in the organization or with
    /// `Viewer::All`; else an agent themself and the members of their departments, and
    /// anyone else no one.
    pub fn sees(&self, viewer: Viewer) -> Result<Sees, ModelError> {
        let store = self.handle.store();
        Ok(match viewer {
            _ if !store.any(&[DEPARTMENT]) => Sees::Everyone,
            Viewer::All => Sees::Everyone,
            Viewer::Nobody => Sees::Only {
                agent: None,
                departments: Vec::new(),
            },
            Viewer::Agent(agent) => Sees::Only {
                agent: Some(agent),
                departments: departments_of(&store, agent)?,
            },
        })
    }

    /// One agent, if this replica holds them and `viewer` may see them (one they may not
    /// see is reported as unknown, so that their existence does not leak).
    pub fn get(&self, agent: Uuid, viewer: Viewer) -> Result<Option<Row>, ModelError> {
        let store = self.handle.store();
        let Some(record) = store.get::<Agent>(&id_key(AGENT, agent))? else {
            return Ok(None);
        };
        let sees = self.sees(viewer)?;
        let row = self.row(&store, agent, record)?;
        let departments: Vec<Uuid> = row.departments.iter().map(|(d, _)| *d).collect();
        Ok(sees.sees(agent, &departments).then_some(row))
    }

    /// The agents matching `filter` that `viewer` sees, by name (then id).
    pub fn list(&self, filter: &Filter, viewer: Viewer) -> Result<Vec<Row>, ModelError> {
        let store = self.handle.store();
        let sees = self.sees(viewer)?;
        let mut rows = Vec::new();
        for entry in store.iter::<Agent>(&[AGENT]) {
            let (key, record) = entry?;
            let agent = uuid_at(&key, 1)?;
            if !record.active && !filter.deactivated {
                continue;
            }
            if filter.role.as_ref().is_some_and(|r| *r != record.role) {
                continue;
            }
            let row = self.row(&store, agent, record)?;
            let departments: Vec<Uuid> = row.departments.iter().map(|(d, _)| *d).collect();
            if !sees.sees(agent, &departments)
                || filter.department.is_some_and(|d| !departments.contains(&d))
                || filter.presence.is_some_and(|p| p != row.presence.kind())
            {
                continue;
            }
            rows.push(row);
        }
        sort_by_name(&mut rows, |r| (&r.record.name, r.agent));
        Ok(rows)
    }

    fn row(&self, store: &Store, agent: Uuid, record: Agent) -> Result<Row, ModelError> {
        let (presence, since) = record.presence_at(self.handle.time());
        let mut departments = Vec::new();
        for department in departments_of(store, agent)? {
            let name: Option<String> = store.get(&id_key(DEPARTMENT, department))?;
            departments.push((department, name.unwrap_or_default()));
        }
        departments.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let role_name = match &record.role {
            Role::Custom(role) => store.get(&id_key(ROLE, role.uuid()))?,
            _ => None,
        };
        // The levels the embedded fold keeps in this very store.
        let level = LevelsView::new(self.handle.clone())
            .agent(agent)?
            .and_then(|standing| standing.level)
            .map(|(rank, level, _)| (rank, level.name));
        Ok(Row {
            agent,
            record,
            role_name,
            presence,
            since,
            departments,
            level,
        })
    }

    /// The departments `agent` is a member of (any agent: every partition keeps them).
    pub fn departments_of(&self, agent: Uuid) -> Result<Vec<Uuid>, ModelError> {
        departments_of(&self.handle.store(), agent)
    }
}

fn departments_of(store: &Store, agent: Uuid) -> Result<Vec<Uuid>, ModelError> {
    store
        .keys(&id_key(MEMBER, agent))
        .map(|k| uuid_at(&k?, 17))
        .collect()
}

/// Sorts by name (case-insensitively), then by the exact name and the id, so that every
/// replica and the gateway's merge order the same rows the same way.
pub fn sort_by_name<T>(rows: &mut [T], key: impl Fn(&T) -> (&String, Uuid)) {
    rows.sort_by(|a, b| {
        let (name_a, id_a) = key(a);
        let (name_b, id_b) = key(b);
        name_a
            .to_lowercase()
            .cmp(&name_b.to_lowercase())
            .then_with(|| name_a.cmp(name_b))
            .then(id_a.cmp(&id_b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(online: bool, pause: Option<Pause>) -> Agent {
        Agent {
            name: "Ada".into(),
            email: "ada@example.com".into(),
            role: Role::Agent,
            active: true,
            online,
            pause,
            since: Timestamp::from_millis(1_000),
            open_chats: Vec::new(),
            open_calls: Vec::new(),
            last_activity: None,
        }
    }

    #[test]
    fn a_pause_whose_planned_end_has_come_is_over() {
        let lunch = Pause {
            reason: PauseReason::Text("lunch".into()),
            planned_end: Some(Timestamp::from_millis(5_000)),
        };
        let paused = agent(true, Some(lunch.clone()));
        let (presence, since) = paused.presence_at(Timestamp::from_millis(4_999));
        assert_eq!(presence.kind(), PresenceKind::Paused);
        assert_eq!(since, Timestamp::from_millis(1_000));
        let (presence, since) = paused.presence_at(Timestamp::from_millis(5_000));
        assert_eq!(presence, Presence::Online);
        assert_eq!(since, Timestamp::from_millis(5_000));
        assert_eq!(
            agent(false, None)
                .presence_at(Timestamp::from_millis(9_000))
                .0,
            Presence::Offline
        );
    }

    #[test]
    fn names_sort_case_insensitively_then_by_id() {
        let mut rows = vec![
            ("bob".to_owned(), Uuid::from_u128(2)),
            ("Ada".to_owned(), Uuid::from_u128(3)),
            ("ada".to_owned(), Uuid::from_u128(1)),
            ("Ada".to_owned(), Uuid::from_u128(0)),
        ];
        sort_by_name(&mut rows, |(name, id)| (name, *id));
        let order: Vec<u128> = rows.iter().map(|(_, id)| id.as_u128()).collect();
        assert_eq!(order, [0, 3, 1, 2]);
    }
}
