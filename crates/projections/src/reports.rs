//! Department reports (docs/REPORTS.md): the 24 columns per time bucket and group.
//!
//! Every event adds to one cell of a cube: its local hour (in the organization's zone),
//! the department its conversation belonged to when it happened, the agent it is
//! attributed to (docs/STATISTICS.md, Attribution), and its conversation's channel (`call`
//! for calls). A second cube adds the tag dimension: an event on a ticket counts once for
//! each tag the ticket had when it happened (`""`, the group "(none)", for events without
//! tags). Reports sum cells over buckets (hour, day, week from Monday, month, year, or one
//! range) and groups; means are stored as sums and counts, so any bucket is exact.
//!
//! Ratings count where their conversation first finished (ticket resolved, chat ended,
//! call ended), for the agent the rating is (or, unrated, would be) attributed to: a
//! handled conversation that finishes counts as not ranked there, and a later rating,
//! replacement or retraction moves it between not ranked, positive and negative in that
//! same cell (and between agents: an unrated ticket answered again by someone else after
//! it finished moves to that agent, the one a rating would now go to). So positive +
//! negative + not ranked is the number of handled conversations that first finished in
//! the bucket.
//!
//! | key | value |
//! |---|---|
//! | `M` hour dept agent channel | [`Columns`] |
//! | `G` hour tag 0x00 dept agent channel | [`Columns`] |
//! | `t` ticket, `c` chat, `k` call | what the conversation is and where it finished |
//! | `P` dept, `N` agent | names, for display |
//! | `z` | the organization's zone |
//!
//! The local hour is the wall-clock hour: the repeated hour of an autumn change is one
//! bucket (holding two hours of work), a day of 23 or 25 hours is one day.

use std::collections::BTreeMap;

use helpdesk_domain::{Channel, ConversationKind, Event, Rating, Timestamp};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{civil_from_days, days_from_civil, local_hour_of, Day, LocalHour, Zones};
use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::store::{id_key, order_bytes, order_from, Read, Store};

const CUBE: u8 = b'M';
const TAG_CUBE: u8 = b'G';
const TICKET: u8 = b't';
const CHAT: u8 = b'c';
const CALL: u8 = b'k';
const DEPARTMENT: u8 = b'P';
const AGENT: u8 = b'N';
const ORG: &[u8] = b"z";

// `Columns` itself is defined with its field list, by `sums!` below.
impl Columns {
    fn is_empty(&self) -> bool {
        *self == Columns::default()
    }

    /// The 24 columns of docs/REPORTS.md, in order, as numbers for people: counts, means in
    /// seconds (mean first-answer, mean open answer, chat pickup, chat time), call
    /// minutes, percentages 0–100.
    pub fn report(&self) -> [f64; 24] {
        let mean_s = |sum: u64, n: u64| {
            if n == 0 {
                0.0
            } else {
                sum as f64 / n as f64 / 1000.0
            }
        };
        let rated = self.positive + self.negative + self.not_ranked;
        let pct = |n: u64| {
            if rated == 0 {
                0.0
            } else {
                100.0 * n as f64 / rated as f64
            }
        };
        [
            self.answers as f64,
            mean_s(self.first_answer_ms, self.first_answers),
            mean_s(self.open_answer_ms, self.open_answers),
            self.calls as f64,
            self.missed_calls as f64,
            self.call_ms as f64 / 60_000.0,
            self.chat_messages as f64,
            self.chats as f64,
            self.missed_chats as f64,
            mean_s(self.pickup_ms, self.pickups),
            mean_s(self.chat_ms, self.chats_timed),
            self.not_ranked as f64,
            pct(self.not_ranked),
            self.positive as f64,
            pct(self.positive),
            self.negative as f64,
            pct(self.negative),
            self.incoming_messages as f64,
            self.incoming_calls as f64,
            self.finished_calls as f64,
            self.incoming_chats as f64,
            self.finished_chats as f64,
            self.created as f64,
            self.resolved as f64,
        ]
    }
}

/// The field list, once (in stored order: postcard encodes fields in order, so add new
/// ones at the end): the struct, adding, subtracting, and the sums partitions exchange.
macro_rules! sums {
    ($($field:ident),* $(,)?) => {
        /// The stored sums behind the 24 columns. Stored: fields are append-only.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Columns {
            $(pub $field: u64,)*
        }

        impl Columns {
            /// Adds `o`, field by field.
            pub fn add(&mut self, o: &Columns) {
                $(self.$field += o.$field;)*
            }

            /// Takes `o` away, field by field, never below 0.
            fn saturating_sub(&mut self, o: &Columns) {
                $(self.$field = self.$field.saturating_sub(o.$field);)*
            }

            /// The stored sums in field order (to merge reports of several partitions).
            pub fn to_sums(&self) -> Vec<u64> {
                vec![$(self.$field),*]
            }

            /// The sums [`Columns::to_sums`] gave; missing ones are 0.
            pub fn from_sums(sums: &[u64]) -> Columns {
                let mut values = sums.iter().copied();
                Columns { $($field: values.next().unwrap_or(0)),* }
            }
        }
    };
}

sums!(
    answers,
    first_answer_ms,
    first_answers,
    open_answer_ms,
    open_answers,
    calls,
    missed_calls,
    call_ms,
    chat_messages,
    chats,
    missed_chats,
    pickup_ms,
    pickups,
    chat_ms,
    chats_timed,
    not_ranked,
    positive,
    negative,
    incoming_messages,
    incoming_calls,
    finished_calls,
    incoming_chats,
    finished_chats,
    created,
    resolved,
);

/// The 24 columns' names, as the CSV header and the API's sort keys spell them.
pub const COLUMNS: [&str; 24] = [
    "answers",
    "mean_first_answer_seconds",
    "mean_open_answer_seconds",
    "calls",
    "missed_calls",
    "call_minutes",
    "chat_messages",
    "chats",
    "missed_chats",
    "mean_chat_pickup_seconds",
    "mean_chat_seconds",
    "not_ranked",
    "not_ranked_percent",
    "positive",
    "positive_percent",
    "negative",
    "negative_percent",
    "incoming_messages",
    "incoming_calls",
    "finished_calls",
    "incoming_chats",
    "finished_chats",
    "created_tickets",
    "resolved_tickets",
];

/// Where a handled conversation first finished: the cell its rating counts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Finished {
    hour: LocalHour,
    department: Uuid,
    agent: Uuid,
    channel: u8,
    tags: Vec<String>,
    /// What it counts as there now.
    rating: Option<Rating>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Conversation {
    channel: u8,
    department: Option<Uuid>,
    tags: Vec<String>,
    started_at: Timestamp,
    /// Tickets: answered at least once; chats: accepted; calls: answered.
    handled: bool,
    /// The agent a rating is (or would be) attributed to.
    agent: Option<Uuid>,
    /// Chats: accepted at; calls: answered at.
    taken_at: Option<Timestamp>,
    /// Tickets: the customer replied and waits for an answer since.
    waiting_since: Option<Timestamp>,
    /// The standing rating.
    rating: Option<(Uuid, Rating)>,
    finished: Option<Finished>,
}

fn channel_index(channel: Channel) -> u8 {
    Channel::ALL.iter().position(|c| *c == channel).unwrap_or(0) as u8
}

/// The channel of a stored index.
pub fn channel_of(index: u8) -> Channel {
    Channel::ALL
        .get(index as usize)
        .copied()
        .unwrap_or(Channel::Email)
}

/// The reports model; see the module docs.
#[derive(Debug, Default)]
pub struct Reports {
    zones: Zones,
}

/// One cell's coordinates (the tags go to the tag cube).
struct Cell<'a> {
    hour: LocalHour,
    department: Uuid,
    agent: Uuid,
    channel: u8,
    tags: &'a [String],
}

impl Reports {
    fn zone(&self, txn: &Txn<'_>) -> Result<TimeZone, ModelError> {
        Ok(self.zones.get(&zone_name(txn)?))
    }

    fn add(
        &self,
        txn: &mut Txn<'_>,
        cell: &Cell<'_>,
        f: impl Fn(&mut Columns),
    ) -> Result<(), ModelError> {
        let mut delta = Columns::default();
        f(&mut delta);
        self.apply(txn, cell, &delta, true)
    }

    fn remove(
        &self,
        txn: &mut Txn<'_>,
        cell: &Cell<'_>,
        f: impl Fn(&mut Columns),
    ) -> Result<(), ModelError> {
        let mut delta = Columns::default();
        f(&mut delta);
        self.apply(txn, cell, &delta, false)
    }

    fn apply(
        &self,
        txn: &mut Txn<'_>,
        cell: &Cell<'_>,
        delta: &Columns,
        add: bool,
    ) -> Result<(), ModelError> {
        let mut keys = vec![cube_key(cell)];
        if cell.tags.is_empty() {
            keys.push(tag_cube_key(cell, ""));
        } else {
            keys.extend(cell.tags.iter().map(|tag| tag_cube_key(cell, tag)));
        }
        for key in keys {
            let mut columns: Columns = txn.get(&key)?.unwrap_or_default();
            if add {
                columns.add(delta);
            } else {
                columns.saturating_sub(delta);
            }
            if columns.is_empty() {
                txn.remove(key);
            } else {
                txn.put(key, &columns);
            }
        }
        Ok(())
    }

    fn conversation(
        &self,
        txn: &Txn<'_>,
        kind: u8,
        id: Uuid,
    ) -> Result<Option<Conversation>, ModelError> {
        txn.get(&id_key(kind, id))
    }

    /// A conversation finishes: counted where it finished, the first time only.
    fn finish(
        &self,
        txn: &mut Txn<'_>,
        conversation: &mut Conversation,
        hour: LocalHour,
    ) -> Result<(), ModelError> {
        if conversation.finished.is_some() || !conversation.handled {
            return Ok(());
        }
        let (agent, rating) = match conversation.rating {
            Some((agent, rating)) => (agent, Some(rating)),
            None => (conversation.agent.unwrap_or(Uuid::nil()), None),
        };
        let finished = Finished {
            hour,
            department: conversation.department.unwrap_or(Uuid::nil()),
            agent,
            channel: conversation.channel,
            tags: conversation.tags.clone(),
            rating,
        };
        self.add(txn, &finished_cell(&finished), |c| count_rating(c, rating))?;
        conversation.finished = Some(finished);
        Ok(())
    }

    /// A rating changes: the conversation's finished cell moves with it.
    fn rate(
        &self,
        txn: &mut Txn<'_>,
        conversation: &mut Conversation,
        rating: Option<(Uuid, Rating)>,
    ) -> Result<(), ModelError> {
        conversation.rating = rating;
        let Some(mut finished) = conversation.finished.clone() else {
            return Ok(());
        };
        self.remove(txn, &finished_cell(&finished), |c| {
            count_rating(c, finished.rating)
        })?;
        finished.rating = rating.map(|(_, r)| r);
        finished.agent = match rating {
            Some((agent, _)) => agent,
            // Unrated: the agent a rating would be attributed to (docs/REPORTS.md, Ratings).
            None => conversation.agent.unwrap_or(Uuid::nil()),
        };
        self.add(txn, &finished_cell(&finished), |c| {
            count_rating(c, finished.rating)
        })?;
        conversation.finished = Some(finished);
        Ok(())
    }
}

/// The organization's zone as far as the reports have come.
fn zone_name(records: &impl Read) -> Result<String, ModelError> {
    Ok(records.get(ORG)?.unwrap_or_else(|| "UTC".to_owned()))
}

fn count_rating(c: &mut Columns, rating: Option<Rating>) {
    match rating {
        None => c.not_ranked = 1,
        Some(Rating::Positive) => c.positive = 1,
        Some(Rating::Negative) => c.negative = 1,
    }
}

fn finished_cell(f: &Finished) -> Cell<'_> {
    Cell {
        hour: f.hour,
        department: f.department,
        agent: f.agent,
        channel: f.channel,
        tags: &f.tags,
    }
}

fn hour_bytes(hour: LocalHour) -> [u8; 8] {
    order_bytes(hour)
}

fn cube_key(cell: &Cell<'_>) -> Vec<u8> {
    let mut k = vec![CUBE];
    k.extend_from_slice(&hour_bytes(cell.hour));
    k.extend_from_slice(cell.department.as_bytes());
    k.extend_from_slice(cell.agent.as_bytes());
    k.push(cell.channel);
    k
}

fn tag_cube_key(cell: &Cell<'_>, tag: &str) -> Vec<u8> {
    let mut k = vec![TAG_CUBE];
    k.extend_from_slice(&hour_bytes(cell.hour));
    k.extend_from_slice(tag.as_bytes());
    k.push(0);
    k.extend_from_slice(cell.department.as_bytes());
    k.extend_from_slice(cell.agent.as_bytes());
    k.push(cell.channel);
    k
}

fn millis_between(from: Timestamp, to: Timestamp) -> u64 {
    (to.millis() - from.millis()).max(0) as u64
}

impl Model for Reports {
    /// Partitions split the conversations: every cell's sums add up across them.
    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        Some(match event {
            Event::TicketCreated(e) => e.ticket.uuid(),
            Event::TicketAssigned(e) => e.ticket.uuid(),
            Event::TicketUnassigned(e) => e.ticket.uuid(),
            Event::TicketTransferred(e) => e.ticket.uuid(),
            Event::TicketAnswered(e) => e.ticket.uuid(),
            Event::TicketCustomerReplied(e) => e.ticket.uuid(),
            Event::TicketTagged(e) => e.ticket.uuid(),
            Event::TicketUntagged(e) => e.ticket.uuid(),
            Event::TicketResolved(e) => e.ticket.uuid(),
            Event::TicketReopened(e) => e.ticket.uuid(),
            Event::TicketDeleted(e) => e.ticket.uuid(),
            Event::TicketPriorityChanged(e) => e.ticket.uuid(),
            Event::ChatStarted(e) => e.chat.uuid(),
            Event::ChatOffered(e) => e.chat.uuid(),
            Event::ChatAccepted(e) => e.chat.uuid(),
            Event::ChatMissed(e) => e.chat.uuid(),
            Event::ChatMessageSent(e) => e.chat.uuid(),
            Event::ChatCustomerMessage(e) => e.chat.uuid(),
            Event::ChatEnded(e) => e.chat.uuid(),
            Event::CallIncoming(e) => e.call.uuid(),
            Event::CallRinging(e) => e.call.uuid(),
            Event::CallAnswered(e) => e.call.uuid(),
            Event::CallMissed(e) => e.call.uuid(),
            Event::CallEnded(e) => e.call.uuid(),
            Event::ConversationRated(e) => e.conversation.id,
            Event::RatingRetracted(e) => e.conversation.id,
            _ => return None,
        })
    }

    const NAME: &'static str = "reports";
    const VERSION: u32 = 2;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        let zone = self.zone(txn)?;
        let t = at.time;
        let hour = local_hour_of(t, &zone);
        let nobody = Uuid::nil();
        // The cell of an event on a conversation, for `agent`.
        let cell_of = |conversation: &Conversation, agent: Uuid| Cell {
            hour,
            department: conversation.department.unwrap_or(nobody),
            agent,
            channel: conversation.channel,
            tags: &[],
        };
        match event {
            Event::OrganizationSetUp(e) => txn.put(ORG.to_vec(), &e.time_zone),
            Event::OrganizationSettingsChanged(e) => {
                if let Some(zone) = &e.time_zone {
                    txn.put(ORG.to_vec(), zone);
                }
            }
            Event::DepartmentCreated(e) => {
                txn.put(id_key(DEPARTMENT, e.department.uuid()), &e.name)
            }
            Event::DepartmentUpdated(e) => {
                txn.put(id_key(DEPARTMENT, e.department.uuid()), &e.name)
            }
            Event::AgentRegistered(e) => txn.put(id_key(AGENT, e.agent.uuid()), &e.name),

            // --- tickets ---------------------------------------------------------------
            Event::TicketCreated(e) => {
                let ticket = Conversation {
                    channel: channel_index(e.channel),
                    department: e.department.map(|d| d.uuid()),
                    tags: Vec::new(),
                    started_at: t,
                    handled: false,
                    agent: None,
                    taken_at: None,
                    waiting_since: None,
                    rating: None,
                    finished: None,
                };
                self.add(txn, &cell_of(&ticket, nobody), |c| {
                    c.created = 1;
                    c.incoming_messages = 1;
                })?;
                txn.put(id_key(TICKET, e.ticket.uuid()), &ticket);
            }
            _ => return self.fold_rest(txn, event, t, hour),
        }
        Ok(())
    }
}

impl Reports {
    /// Events on existing conversations.
    fn fold_rest(
        &self,
        txn: &mut Txn<'_>,
        event: &Event,
        t: Timestamp,
        hour: LocalHour,
    ) -> Result<(), ModelError> {
        let nobody = Uuid::nil();
        let with_tags = |conversation: &Conversation, agent: Uuid, f: &dyn Fn(&mut Columns)| {
            let mut delta = Columns::default();
            f(&mut delta);
            (conversation.clone(), agent, delta)
        };
        let mut update: Option<(u8, Uuid, Conversation)> = None;
        let mut adds: Vec<(Conversation, Uuid, Columns)> = Vec::new();
        match event {
            Event::TicketAssigned(_) | Event::TicketUnassigned(_) => {}
            Event::TicketTransferred(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    ticket.department = Some(e.to.uuid());
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }
            Event::TicketTagged(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    if !ticket.tags.contains(&e.tag) {
                        ticket.tags.push(e.tag.clone());
                    }
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }
            Event::TicketUntagged(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    ticket.tags.retain(|tag| tag != &e.tag);
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }
            Event::TicketAnswered(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    let agent = e.agent.uuid();
                    let first = !ticket.handled;
                    let waited = ticket.waiting_since.take();
                    let started = ticket.started_at;
                    adds.push(with_tags(&ticket, agent, &|c| {
                        c.answers = 1;
                        if first {
                            c.first_answer_ms = millis_between(started, t);
                            c.first_answers = 1;
                        }
                        if let Some(since) = waited {
                            c.open_answer_ms = millis_between(since, t);
                            c.open_answers = 1;
                        }
                    }));
                    ticket.handled = true;
                    ticket.agent = Some(agent);
                    // An unrated ticket that finished counts for its last answerer, whom
                    // a rating would go to: a later answer by someone else moves it.
                    if ticket.rating.is_none()
                        && ticket.finished.as_ref().is_some_and(|f| f.agent != agent)
                    {
                        self.rate(txn, &mut ticket, None)?;
                    }
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }
            Event::TicketCustomerReplied(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    adds.push(with_tags(&ticket, nobody, &|c| c.incoming_messages = 1));
                    // The next answer's wait starts at the first reply after an answer.
                    if ticket.handled && ticket.waiting_since.is_none() {
                        ticket.waiting_since = Some(t);
                    }
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }
            Event::TicketResolved(e) => {
                if let Some(mut ticket) = self.conversation(txn, TICKET, e.ticket.uuid())? {
                    let by = e.by.agent().map_or(nobody, |a| a.uuid());
                    adds.push(with_tags(&ticket, by, &|c| c.resolved = 1));
                    self.finish(txn, &mut ticket, hour)?;
                    update = Some((TICKET, e.ticket.uuid(), ticket));
                }
            }

            // --- chats -----------------------------------------------------------------
            Event::ChatStarted(e) => {
                let chat = Conversation {
                    channel: channel_index(e.channel),
                    department: e.department.map(|d| d.uuid()),
                    tags: Vec::new(),
                    started_at: t,
                    handled: false,
                    agent: None,
                    taken_at: None,
                    waiting_since: None,
                    rating: None,
                    finished: None,
                };
                adds.push(with_tags(&chat, nobody, &|c| c.incoming_chats = 1));
                update = Some((CHAT, e.chat.uuid(), chat));
            }
            Event::ChatAccepted(e) => {
                if let Some(mut chat) = self.conversation(txn, CHAT, e.chat.uuid())? {
                    let started = chat.started_at;
                    adds.push(with_tags(&chat, e.agent.uuid(), &|c| {
                        c.chats = 1;
                        c.pickup_ms = millis_between(started, t);
                        c.pickups = 1;
                    }));
                    chat.handled = true;
                    chat.agent = Some(e.agent.uuid());
                    chat.taken_at = Some(t);
                    update = Some((CHAT, e.chat.uuid(), chat));
                }
            }
            Event::ChatMissed(e) => {
                if let Some(chat) = self.conversation(txn, CHAT, e.chat.uuid())? {
                    adds.push(with_tags(&chat, e.agent.uuid(), &|c| c.missed_chats = 1));
                }
            }
            Event::ChatMessageSent(e) => {
                if let Some(chat) = self.conversation(txn, CHAT, e.chat.uuid())? {
                    adds.push(with_tags(&chat, e.agent.uuid(), &|c| c.chat_messages = 1));
                }
            }
            Event::ChatCustomerMessage(e) => {
                if let Some(chat) = self.conversation(txn, CHAT, e.chat.uuid())? {
                    adds.push(with_tags(&chat, nobody, &|c| c.incoming_messages = 1));
                }
            }
            Event::ChatEnded(e) => {
                if let Some(mut chat) = self.conversation(txn, CHAT, e.chat.uuid())? {
                    let agent = chat.agent.unwrap_or(nobody);
                    let taken = chat.taken_at;
                    adds.push(with_tags(&chat, agent, &|c| {
                        c.finished_chats = 1;
                        if let Some(accepted) = taken {
                            c.chat_ms = millis_between(accepted, t);
                            c.chats_timed = 1;
                        }
                    }));
                    self.finish(txn, &mut chat, hour)?;
                    update = Some((CHAT, e.chat.uuid(), chat));
                }
            }

            // --- calls -----------------------------------------------------------------
            Event::CallIncoming(e) => {
                let call = Conversation {
                    channel: channel_index(Channel::Call),
                    department: e.department.map(|d| d.uuid()),
                    tags: Vec::new(),
                    started_at: t,
                    handled: false,
                    agent: None,
                    taken_at: None,
                    waiting_since: None,
                    rating: None,
                    finished: None,
                };
                adds.push(with_tags(&call, nobody, &|c| c.incoming_calls = 1));
                update = Some((CALL, e.call.uuid(), call));
            }
            Event::CallAnswered(e) => {
                if let Some(mut call) = self.conversation(txn, CALL, e.call.uuid())? {
                    adds.push(with_tags(&call, e.agent.uuid(), &|c| c.calls = 1));
                    call.handled = true;
                    call.agent = Some(e.agent.uuid());
                    call.taken_at = Some(t);
                    update = Some((CALL, e.call.uuid(), call));
                }
            }
            Event::CallMissed(e) => {
                if let Some(call) = self.conversation(txn, CALL, e.call.uuid())? {
                    adds.push(with_tags(&call, e.agent.uuid(), &|c| c.missed_calls = 1));
                }
            }
            Event::CallEnded(e) => {
                if let Some(mut call) = self.conversation(txn, CALL, e.call.uuid())? {
                    let agent = call.agent.unwrap_or(nobody);
                    let taken = call.taken_at;
                    adds.push(with_tags(&call, agent, &|c| {
                        c.finished_calls = 1;
                        if let Some(answered) = taken {
                            c.call_ms = millis_between(answered, t);
                        }
                    }));
                    self.finish(txn, &mut call, hour)?;
                    update = Some((CALL, e.call.uuid(), call));
                }
            }

            // --- ratings ---------------------------------------------------------------
            Event::ConversationRated(e) => {
                let kind = conversation_kind(e.conversation.kind);
                if let Some(mut conversation) = self.conversation(txn, kind, e.conversation.id)? {
                    self.rate(txn, &mut conversation, Some((e.agent.uuid(), e.rating)))?;
                    update = Some((kind, e.conversation.id, conversation));
                }
            }
            Event::RatingRetracted(e) => {
                let kind = conversation_kind(e.conversation.kind);
                if let Some(mut conversation) = self.conversation(txn, kind, e.conversation.id)? {
                    self.rate(txn, &mut conversation, None)?;
                    update = Some((kind, e.conversation.id, conversation));
                }
            }
            _ => {}
        }
        for (conversation, agent, delta) in adds {
            let cell = Cell {
                hour,
                department: conversation.department.unwrap_or(nobody),
                agent,
                channel: conversation.channel,
                tags: &conversation.tags,
            };
            self.apply(txn, &cell, &delta, true)?;
        }
        if let Some((kind, id, conversation)) = update {
            txn.put(id_key(kind, id), &conversation);
        }
        Ok(())
    }
}

fn conversation_kind(kind: ConversationKind) -> u8 {
    match kind {
        ConversationKind::Ticket => TICKET,
        ConversationKind::Chat => CHAT,
        ConversationKind::Call => CALL,
    }
}

// ------------------------------------------------------------------------------ queries

/// How a report cuts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
    Year,
    /// The whole range is one bucket.
    Range,
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Department,
    Agent,
    Channel,
    Tag,
    /// One group: everything.
    Nothing,
}

/// A report's question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The first day (local, included) and the last (included).
    pub from: Day,
    pub to: Day,
    pub bucket: Bucket,
    pub group: GroupBy,
    pub department: Option<Uuid>,
    pub agent: Option<Uuid>,
    pub channel: Option<Channel>,
}

/// A group's key: a department or agent (nil for "(none)"), a channel, a tag (empty for
/// "(none)"), or everything.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Department(Uuid),
    Agent(Uuid),
    Channel(Channel),
    Tag(String),
    All,
}

/// One row: a bucket (its first local hour) and a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub bucket: LocalHour,
    pub group: Group,
    /// A name for people: the department's or agent's name, the channel, the tag,
    /// `(none)`, or `all`.
    pub label: String,
    pub columns: Columns,
}

/// The first local hour of the bucket holding `hour`.
pub fn bucket_of(hour: LocalHour, bucket: Bucket, range_start: LocalHour) -> LocalHour {
    let day = hour.div_euclid(24) as Day;
    let first_hour = |d: Day| i64::from(d) * 24;
    match bucket {
        Bucket::Hour => hour,
        Bucket::Day => first_hour(day),
        // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
        Bucket::Week => first_hour(day - (day + 3).rem_euclid(7)),
        Bucket::Month => {
            let (y, m, _) = civil_from_days(day);
            first_hour(days_from_civil(y, m, 1))
        }
        Bucket::Year => {
            let (y, _, _) = civil_from_days(day);
            first_hour(days_from_civil(y, 1, 1))
        }
        Bucket::Range => range_start,
    }
}

/// A bucket's label: `2024-05-01 13:00` (hour), `2024-05-01` (day, and the Monday of a
/// week, and a range's first day), `2024-05` (month), `2024` (year).
pub fn bucket_label(start: LocalHour, bucket: Bucket) -> String {
    let (y, m, d) = civil_from_days(start.div_euclid(24) as Day);
    match bucket {
        Bucket::Hour => format!("{y:04}-{m:02}-{d:02} {:02}:00", start.rem_euclid(24)),
        Bucket::Day | Bucket::Week | Bucket::Range => format!("{y:04}-{m:02}-{d:02}"),
        Bucket::Month => format!("{y:04}-{m:02}"),
        Bucket::Year => format!("{y:04}"),
    }
}

/// Queries on the reports model.
#[derive(Clone)]
pub struct ReportsView {
    handle: ModelHandle,
}

impl ReportsView {
    pub fn new(handle: ModelHandle) -> Self {
        ReportsView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// The organization's zone.
    pub fn zone(&self) -> Result<TimeZone, ModelError> {
        Ok(Zones::default().get(&zone_name(&self.handle.store())?))
    }

    /// The rows of a report: every (bucket, group) with something in it, by bucket then
    /// group.
    pub fn report(&self, query: &Query) -> Result<Vec<Row>, ModelError> {
        Ok(self
            .report_at_most(query, usize::MAX)?
            .expect("no report has more than usize::MAX rows"))
    }

    /// [`ReportsView::report`], or `None` as soon as it has more than `max_rows` rows: a
    /// report of years by the hour stops there instead of adding up every cell first.
    pub fn report_at_most(
        &self,
        query: &Query,
        max_rows: usize,
    ) -> Result<Option<Vec<Row>>, ModelError> {
        let store = self.handle.store();
        let start = i64::from(query.from) * 24;
        let end = (i64::from(query.to) + 1) * 24;
        let (kind, header) = match query.group {
            GroupBy::Tag => (TAG_CUBE, 9usize),
            _ => (CUBE, 9usize),
        };
        let mut low = vec![kind];
        low.extend_from_slice(&hour_bytes(start));
        let mut high = vec![kind];
        high.extend_from_slice(&hour_bytes(end));
        let mut sums: BTreeMap<(LocalHour, Group), Columns> = BTreeMap::new();
        for entry in store.range::<Columns, _>(low..high) {
            let (k, columns) = entry?;
            let hour = order_from(&k[1..9]).ok_or_else(|| corrupt(&k))?;
            let (tag, rest) = if kind == TAG_CUBE {
                let zero = k[header..]
                    .iter()
                    .position(|b| *b == 0)
                    .ok_or_else(|| corrupt(&k))?;
                (
                    Some(String::from_utf8_lossy(&k[header..header + zero]).into_owned()),
                    &k[header + zero + 1..],
                )
            } else {
                (None, &k[header..])
            };
            if rest.len() != 33 {
                return Err(corrupt(&k));
            }
            let department = Uuid::from_slice(&rest[..16]).map_err(|_| corrupt(&k))?;
            let agent = Uuid::from_slice(&rest[16..32]).map_err(|_| corrupt(&k))?;
            let channel = channel_of(rest[32]);
            if query.department.is_some_and(|d| d != department)
                || query.agent.is_some_and(|a| a != agent)
                || query.channel.is_some_and(|c| c != channel)
            {
                continue;
            }
            let group = match query.group {
                GroupBy::Department => Group::Department(department),
                GroupBy::Agent => Group::Agent(agent),
                GroupBy::Channel => Group::Channel(channel),
                GroupBy::Tag => Group::Tag(tag.unwrap_or_default()),
                GroupBy::Nothing => Group::All,
            };
            sums.entry((bucket_of(hour, query.bucket, start), group))
                .or_default()
                .add(&columns);
            if sums.len() > max_rows {
                return Ok(None);
            }
        }
        let mut rows = Vec::with_capacity(sums.len());
        for ((bucket, group), columns) in sums {
            let label = self.label(&store, &group)?;
            rows.push(Row {
                bucket,
                group,
                label,
                columns,
            });
        }
        Ok(Some(rows))
    }

    fn label(&self, store: &Store, group: &Group) -> Result<String, ModelError> {
        let name = |kind: u8, id: &Uuid| -> Result<String, ModelError> {
            if id.is_nil() {
                return Ok("(none)".to_owned());
            }
            Ok(store
                .get::<String>(&id_key(kind, *id))?
                .unwrap_or_else(|| id.to_string()))
        };
        Ok(match group {
            Group::Department(d) => name(DEPARTMENT, d)?,
            Group::Agent(a) => name(AGENT, a)?,
            Group::Channel(c) => c.as_str().to_owned(),
            Group::Tag(t) if t.is_empty() => "(none)".to_owned(),
            Group::Tag(t) => t.clone(),
            Group::All => "all".to_owned(),
        })
    }
}

fn corrupt(key: &[u8]) -> ModelError {
    ModelError::Corrupt(format!("report key {key:02x?} does not parse"))
}
