//! The tickets read model: each ticket as it is now, lists by status, department,
//! assignee and tag, and per-department counts of new, open and resolved tickets.
//!
//! # Records (one sled tree; keys start with a record type byte)
//!
//! | key | value |
//! |---|---|
//! | `T` ticket | [`Ticket`] |
//! | `I` created ticket | () — every live ticket by creation time |
//! | `S` status created ticket | () |
//! | `D` department created ticket | () — the nil uuid for "no department" |
//! | `A` agent created ticket | () — tickets assigned to the agent |
//! | `G` tag 0x00 created ticket | () |
//! | `C` department | [`Counts`] |
//! | `P` department | [`Department`] |
//! | `M` agent department | () — memberships, for visibility |
//!
//! `created` is the ticket's creation time (8 bytes, big-endian, offset so that order is
//! numeric), so every index lists tickets in the order they came in; list queries walk
//! them newest first. Deleted tickets stay readable by id and in the `deleted` status
//! list, and leave the other lists and the counts.
//!
//! # Counts (how many tickets are new, open and resolved right now: docs/TICKETS.md, Statuses)
//!
//! `new`: no agent answer yet. `open`: answered and waiting on someone, that is status
//! `answered` (the customer's turn) or `open` (the agent's turn); both are reported apart
//! too. `resolved`: resolved and not reopened. Deleted tickets count nowhere.
//!
//! # Partitions
//!
//! Ticket events are partitioned by ticket id; departments and memberships are folded by
//! every partition (visibility needs them). Counts of several partitions add up.

use std::collections::BTreeMap;

use helpdesk_domain::{AgentId, Channel, DepartmentId, Event, Priority, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::store::{id_key, order_bytes, pair_key, uuid_at, Read, Store};

const TICKET: u8 = b'T';
const ALL: u8 = b'I';
const BY_STATUS: u8 = b'S';
const BY_DEPARTMENT: u8 = b'D';
const BY_AGENT: u8 = b'A';
const BY_TAG: u8 = b'G';
const COUNTS: u8 = b'C';
const DEPARTMENT: u8 = b'P';
const MEMBER: u8 = b'M';

/// A ticket's status (docs/TICKETS.md, Statuses). Stored: variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    New,
    Answered,
    Open,
    Resolved,
    Deleted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Answered,
        Status::Open,
        Status::Resolved,
        Status::Deleted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Answered => "answered",
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Deleted => "deleted",
        }
    }

    fn byte(self) -> u8 {
        self as u8
    }
}

/// One ticket as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Uuid,
    pub channel: Channel,
    pub priority: Priority,
    pub subject: String,
    pub status: Status,
    pub department: Option<Uuid>,
    pub assignee: Option<Uuid>,
    /// In the order they were added.
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    /// The time of the last event on the ticket.
    pub updated_at: Timestamp,
    pub first_answer_at: Option<Timestamp>,
    /// When it was last resolved (none while it is not; a deleted ticket keeps it).
    pub resolved_at: Option<Timestamp>,
    /// Agent answers written.
    pub answers: u32,
    /// Who answered last (the agent a rating is attributed to).
    pub last_answer_by: Option<Uuid>,
}

/// Tickets of one department by status, right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub new: u64,
    pub answered: u64,
    pub open: u64,
    pub resolved: u64,
}

impl Counts {
    fn slot(&mut self, status: Status) -> Option<&mut u64> {
        match status {
            Status::New => Some(&mut self.new),
            Status::Answered => Some(&mut self.answered),
            Status::Open => Some(&mut self.open),
            Status::Resolved => Some(&mut self.resolved),
            Status::Deleted => None,
        }
    }

    /// Adds another partition's counts.
    pub fn add(&mut self, other: &Counts) {
        self.new += other.new;
        self.answered += other.answered;
        self.open += other.open;
        self.resolved += other.resolved;
    }
}

/// A department, as far as the tickets model needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub name: String,
}

/// The tickets model; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tickets;

impl Model for Tickets {
    const NAME: &'static str = "tickets";
    const VERSION: u32 = 3;

    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        ticket_of(event)
    }

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        match event {
            Event::DepartmentCreated(e) => {
                txn.put(
                    id_key(DEPARTMENT, e.department.uuid()),
                    &Department {
                        name: e.name.clone(),
                    },
                );
            }
            Event::DepartmentUpdated(e) => {
                txn.put(
                    id_key(DEPARTMENT, e.department.uuid()),
                    &Department {
                        name: e.name.clone(),
                    },
                );
            }
            Event::AgentAddedToDepartment(e) => {
                txn.put(member_key(e.agent, e.department), &());
            }
            Event::AgentRemovedFromDepartment(e) => {
                txn.remove(member_key(e.agent, e.department));
            }
            Event::TicketCreated(e) => {
                let ticket = Ticket {
                    id: e.ticket.uuid(),
                    channel: e.channel,
                    priority: e.priority,
                    subject: e.subject.clone(),
                    status: Status::New,
                    department: e.department.map(|d| d.uuid()),
                    assignee: None,
                    tags: Vec::new(),
                    created_at: at.time,
                    updated_at: at.time,
                    first_answer_at: None,
                    resolved_at: None,
                    answers: 0,
                    last_answer_by: None,
                };
                index(txn, &ticket, true)?;
                txn.put(id_key(TICKET, ticket.id), &ticket);
            }
            _ => {
                let Some(id) = ticket_of(event) else {
                    return Ok(());
                };
                let Some(before) = txn.get::<Ticket>(&id_key(TICKET, id))? else {
                    // An event for a ticket this store never saw created: nothing to do.
                    return Ok(());
                };
                if before.status == Status::Deleted {
                    // Deleted is final (docs/TICKETS.md, Statuses): the ticket stays as it
                    // was deleted.
                    return Ok(());
                }
                let mut after = before.clone();
                evolve(&mut after, event, at.time);
                after.updated_at = at.time;
                index(txn, &before, false)?;
                index(txn, &after, true)?;
                txn.put(id_key(TICKET, id), &after);
            }
        }
        Ok(())
    }
}

/// The ticket an event is about.
fn ticket_of(event: &Event) -> Option<Uuid> {
    Some(
        match event {
            Event::TicketCreated(e) => e.ticket,
            Event::TicketAssigned(e) => e.ticket,
            Event::TicketUnassigned(e) => e.ticket,
            Event::TicketTransferred(e) => e.ticket,
            Event::TicketAnswered(e) => e.ticket,
            Event::TicketCustomerReplied(e) => e.ticket,
            Event::TicketTagged(e) => e.ticket,
            Event::TicketUntagged(e) => e.ticket,
            Event::TicketResolved(e) => e.ticket,
            Event::TicketReopened(e) => e.ticket,
            Event::TicketDeleted(e) => e.ticket,
            Event::TicketPriorityChanged(e) => e.ticket,
            _ => return None,
        }
        .uuid(),
    )
}

/// The ticket status machine (docs/TICKETS.md, Statuses) and the ticket's other fields.
fn evolve(ticket: &mut Ticket, event: &Event, time: Timestamp) {
    let live = ticket.status != Status::Deleted;
    match event {
        Event::TicketAssigned(e) => ticket.assignee = Some(e.agent.uuid()),
        Event::TicketUnassigned(_) => ticket.assignee = None,
        Event::TicketTransferred(e) => ticket.department = Some(e.to.uuid()),
        Event::TicketAnswered(e) => {
            ticket.answers += 1;
            ticket.last_answer_by = Some(e.agent.uuid());
            ticket.first_answer_at.get_or_insert(time);
            if live {
                ticket.status = Status::Answered;
                ticket.resolved_at = None;
            }
        }
        Event::TicketCustomerReplied(_) => {
            if matches!(ticket.status, Status::Answered | Status::Resolved) {
                ticket.status = Status::Open;
                ticket.resolved_at = None;
            }
        }
        Event::TicketTagged(e) if !ticket.tags.contains(&e.tag) => {
            ticket.tags.push(e.tag.clone());
        }
        Event::TicketUntagged(e) => ticket.tags.retain(|t| t != &e.tag),
        Event::TicketResolved(_) if live => {
            ticket.status = Status::Resolved;
            ticket.resolved_at = Some(time);
        }
        Event::TicketReopened(_) if live => {
            ticket.status = Status::Open;
            ticket.resolved_at = None;
        }
        Event::TicketDeleted(_) => ticket.status = Status::Deleted,
        Event::TicketPriorityChanged(e) => ticket.priority = e.priority,
        _ => {}
    }
}

/// Adds (`present`) or removes a ticket's index entries and its share of the counts.
fn index(txn: &mut Txn<'_>, ticket: &Ticket, present: bool) -> Result<(), ModelError> {
    let created = time_bytes(ticket.created_at);
    let tail = |prefix: Vec<u8>| {
        let mut key = prefix;
        key.extend_from_slice(&created);
        key.extend_from_slice(ticket.id.as_bytes());
        key
    };
    let mut keys = vec![tail(vec![BY_STATUS, ticket.status.byte()])];
    if ticket.status != Status::Deleted {
        keys.push(tail(vec![ALL]));
        keys.push(tail(id_key(
            BY_DEPARTMENT,
            ticket.department.unwrap_or(Uuid::nil()),
        )));
        if let Some(agent) = ticket.assignee {
            keys.push(tail(id_key(BY_AGENT, agent)));
        }
        for tag in &ticket.tags {
            keys.push(tail(tag_prefix(tag)));
        }
    }
    for key in keys {
        if present {
            txn.put(key, &());
        } else {
            txn.remove(key);
        }
    }
    // Removing the ticket as it was and adding it as it is moves it between counters.
    let counts_key = id_key(COUNTS, ticket.department.unwrap_or(Uuid::nil()));
    let mut counts: Counts = txn.get(&counts_key)?.unwrap_or_default();
    if let Some(slot) = counts.slot(ticket.status) {
        if present {
            *slot += 1;
        } else {
            *slot = slot.saturating_sub(1);
        }
        txn.put(counts_key, &counts);
    }
    Ok(())
}

fn member_key(agent: AgentId, department: DepartmentId) -> Vec<u8> {
    pair_key(MEMBER, agent.uuid(), department.uuid())
}

fn tag_prefix(tag: &str) -> Vec<u8> {
    let mut key = vec![BY_TAG];
    key.extend_from_slice(tag.as_bytes());
    key.push(0);
    key
}

/// A time as 8 bytes whose byte order is the time order.
fn time_bytes(time: Timestamp) -> [u8; 8] {
    order_bytes(time.millis())
}

// --------------------------------------------------------------------------------- queries

/// Who is asking, for department visibility (docs/TICKETS.md, Assignment, departments and
/// the queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Sees every ticket (`tickets.view_all`, or an importer).
    All,
    /// An agent without `tickets.view_all`: when the organization has departments, only
    /// the tickets of their departments and those assigned to them.
    Agent(Uuid),
    /// Neither (an integration without `tickets.view_all`): with departments, nothing.
    Nobody,
}

/// What a list asks for; unset criteria match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<Status>,
    /// `Some(Uuid::nil())` asks for tickets without a department.
    pub department: Option<Uuid>,
    pub assignee: Option<Uuid>,
    pub tag: Option<String>,
}

/// Where a list page starts: the last ticket of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub id: Uuid,
}

impl Cursor {
    /// `<millis>.<uuid>`: opaque to clients.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at.millis(), self.id.simple())
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (millis, id) = s.split_once('.')?;
        Some(Cursor {
            created_at: Timestamp::from_millis(millis.parse().ok()?),
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub tickets: Vec<Ticket>,
    /// Where the next page starts; none on the last page.
    pub next: Option<Cursor>,
}

/// Per-department counts, with the department's name (none for "no department").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCounts {
    /// `Uuid::nil()` for tickets without a department.
    pub department: Uuid,
    pub name: Option<String>,
    pub counts: Counts,
}

/// Queries on the tickets model.
#[derive(Clone)]
pub struct TicketsView {
    handle: ModelHandle,
}

impl TicketsView {
    pub fn new(handle: ModelHandle) -> Self {
        TicketsView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// One ticket, if it exists and `viewer` may see it (a ticket one may not see is
    /// reported as not existing, so its existence does not leak).
    pub fn get(&self, id: Uuid, viewer: Viewer) -> Result<Option<Ticket>, ModelError> {
        let store = self.handle.store();
        let Some(ticket) = store.get::<Ticket>(&id_key(TICKET, id))? else {
            return Ok(None);
        };
        let sees = Visibility::of(&store, viewer)?;
        Ok(sees.sees(&ticket).then_some(ticket))
    }

    /// A page of tickets matching `filter` that `viewer` may see, newest first.
    pub fn list(
        &self,
        filter: &Filter,
        viewer: Viewer,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, ModelError> {
        let store = self.handle.store();
        let sees = Visibility::of(&store, viewer)?;
        // The most selective index the filter allows; the rest is checked per ticket.
        // Deleted tickets are only in their status list.
        let prefix = if filter.status == Some(Status::Deleted) {
            vec![BY_STATUS, Status::Deleted.byte()]
        } else if let Some(agent) = filter.assignee {
            id_key(BY_AGENT, agent)
        } else if let Some(tag) = &filter.tag {
            tag_prefix(tag)
        } else if let Some(department) = filter.department {
            id_key(BY_DEPARTMENT, department)
        } else if let Some(status) = filter.status {
            vec![BY_STATUS, status.byte()]
        } else {
            vec![ALL]
        };
        // Someone who sees only some tickets, asking for all: the lists of what they may
        // see (their departments', their own) are walked together instead of every
        // ticket there is. (With a status, its list is walked: it may be the shorter.)
        let broad = filter.status.is_none()
            && filter.assignee.is_none()
            && filter.tag.is_none()
            && filter.department.is_none();
        let sources = match &sees {
            Visibility::Only { agent, departments } if broad => departments
                .iter()
                .map(|d| id_key(BY_DEPARTMENT, *d))
                .chain(agent.map(|a| id_key(BY_AGENT, a)))
                .collect(),
            _ => vec![prefix],
        };
        let mut lists: Vec<_> = sources
            .into_iter()
            .map(|prefix| {
                let mut end = prefix.clone();
                match after {
                    Some(cursor) => {
                        end.extend_from_slice(&time_bytes(cursor.created_at));
                        end.extend_from_slice(cursor.id.as_bytes());
                    }
                    None => end.push(0xff),
                }
                store.key_range(prefix..end).rev().peekable()
            })
            .collect();
        let mut tickets = Vec::new();
        let mut next = None;
        // Index keys end in the ticket's creation time (8 bytes) and id (16): the newest
        // head of all lists comes next, once, whichever lists hold it.
        while let Some(newest) = newest_head(&mut lists)? {
            for list in &mut lists {
                if matches!(list.peek(), Some(Ok(key)) if key.ends_with(&newest)) {
                    list.next();
                }
            }
            let id =
                Uuid::from_slice(&newest[8..]).map_err(|e| ModelError::Corrupt(e.to_string()))?;
            let Some(ticket) = store.get::<Ticket>(&id_key(TICKET, id))? else {
                return Err(ModelError::Corrupt(format!(
                    "index names ticket {id}, which is missing"
                )));
            };
            if !matches(&ticket, filter) || !sees.sees(&ticket) {
                continue;
            }
            if tickets.len() == limit {
                next = tickets.last().map(|t: &Ticket| Cursor {
                    created_at: t.created_at,
                    id: t.id,
                });
                break;
            }
            tickets.push(ticket);
        }
        Ok(Page { tickets, next })
    }

    /// Tickets new, open and resolved now, per department (the departments `viewer` may
    /// see; with [`Viewer::All`] also "no department").
    pub fn counts(&self, viewer: Viewer) -> Result<Vec<DepartmentCounts>, ModelError> {
        let store = self.handle.store();
        let sees = Visibility::of(&store, viewer)?;
        let mut out: BTreeMap<Uuid, DepartmentCounts> = BTreeMap::new();
        for (k, info) in store.scan::<Department>(&[DEPARTMENT])? {
            let department = uuid_at(&k, 1)?;
            out.insert(
                department,
                DepartmentCounts {
                    department,
                    name: Some(info.name),
                    counts: Counts::default(),
                },
            );
        }
        for (k, counts) in store.scan::<Counts>(&[COUNTS])? {
            let department = uuid_at(&k, 1)?;
            out.entry(department)
                .or_insert(DepartmentCounts {
                    department,
                    name: None,
                    counts: Counts::default(),
                })
                .counts = counts;
        }
        Ok(out
            .into_values()
            .filter(|c| sees.sees_department(c.department))
            .collect())
    }
}

fn matches(ticket: &Ticket, filter: &Filter) -> bool {
    filter.status.is_none_or(|s| ticket.status == s)
        && filter
            .department
            .is_none_or(|d| ticket.department.unwrap_or(Uuid::nil()) == d)
        && filter.assignee.is_none_or(|a| ticket.assignee == Some(a))
        && filter.tag.as_ref().is_none_or(|t| ticket.tags.contains(t))
}

/// The (creation time, id) suffix of the newest key at the head of `lists` (each walked
/// newest first), or none when all are done.
fn newest_head<I>(lists: &mut [std::iter::Peekable<I>]) -> Result<Option<[u8; 24]>, ModelError>
where
    I: Iterator<Item = Result<sled::IVec, ModelError>>,
{
    let mut newest: Option<[u8; 24]> = None;
    for list in lists.iter_mut() {
        match list.peek() {
            None => {}
            Some(Err(_)) => return Err(list.next().expect("peeked").expect_err("peeked")),
            Some(Ok(key)) => {
                let suffix: [u8; 24] = key
                    .get(key.len().saturating_sub(24)..)
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| ModelError::Corrupt(format!("index key {key:02x?} is short")))?;
                if newest.is_none_or(|n| suffix > n) {
                    newest = Some(suffix);
                }
            }
        }
    }
    Ok(newest)
}

/// What one viewer sees, worked out once per query.
enum Visibility {
    Everything,
    Only {
        agent: Option<Uuid>,
        departments: Vec<Uuid>,
    },
}

impl Visibility {
    fn of(store: &Store, viewer: Viewer) -> Result<Visibility, ModelError> {
        let org_has_departments = store.any(&[DEPARTMENT]);
        Ok(match viewer {
            _ if !org_has_departments => Visibility::Everything,
            Viewer::All => Visibility::Everything,
            Viewer::Nobody => Visibility::Only {
                agent: None,
                departments: Vec::new(),
            },
            Viewer::Agent(agent) => {
                let departments = store
                    .keys(&id_key(MEMBER, agent))
                    .map(|k| uuid_at(&k?, 17))
                    .collect::<Result<_, _>>()?;
                Visibility::Only {
                    agent: Some(agent),
                    departments,
                }
            }
        })
    }

    fn sees(&self, ticket: &Ticket) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::Only { agent, departments } => {
                (agent.is_some() && ticket.assignee == *agent)
                    || ticket.department.is_some_and(|d| departments.contains(&d))
            }
        }
    }

    fn sees_department(&self, department: Uuid) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::Only { departments, .. } => departments.contains(&department),
        }
    }
}
