//! Agent statistics (docs/STATISTICS.md, Level variables): the level variables and what
//! badges and benchmarks need, over all time and per day in the organization's time zone.
//!
//! # What is counted, exactly
//!
//! An event counts for the agent it is attributed to: the agent it names (`agent`, or
//! `by` when that is an agent), the agent who accepted the chat or answered the call for
//! ChatEnded and CallEnded, the agent the rating was attributed to for RatingRetracted.
//! It counts on the day (in the organization's zone) its time falls on.
//!
//! | counter | counts |
//! |---|---|
//! | `answers` | TicketAnswered |
//! | `chats` | ChatAccepted |
//! | `missed_chats` | ChatMissed |
//! | `chat_answers` | ChatMessageSent |
//! | `calls` | CallAnswered |
//! | `call_ms` | answered → ended, for calls that ended, counted at the end |
//! | `missed_calls` | CallMissed |
//! | `rewards`, `punishments` | positive and negative ratings still standing, counted on the day they were given |
//! | `handled` | conversations handled: a ticket answered at least once (counted at its first answer by the agent), a chat accepted, a call answered |
//! | `transfers` | TicketTransferred by the agent |
//! | `tickets_tagged` | tickets the agent tagged, each ticket once (at its first tag by the agent) |
//! | `resolved`, `deleted` | TicketResolved, TicketDeleted by the agent |
//! | `pauses`, `pause_ms` | pauses started; time paused (a planned pause ends at its planned end) |
//! | `online_ms`, `work_ms` | time online; time online and not paused |
//! | `answer_chars`, `longest_answer` | characters of ticket answers: sum and longest |
//! | `chat_pickup_ms` / `chat_pickups` | ChatOffered → ChatAccepted, for chats the agent accepted |
//! | `chat_ms` / `chats_ended`, `longest_chat_ms` | accepted → ended, for chats that ended |
//! | `calls_ended`, `longest_call_ms` | answered calls that ended; the longest |
//! | `first_answer_ms` / `first_answers` | ticket created → its first answer, when the agent gave it |
//! | `resolution_ms` / `resolutions` | ticket created → resolved, for the agent's resolutions |
//! | `answer_wait_ms` / `answer_waits` | for each answer that takes a ticket out of `new` or `open`: the time since it entered that status |
//!
//! Intervals (online, working, paused) are split at the day boundaries they cross. An
//! interval still open (an agent online now, a pause running now) counts up to the time
//! of the latest event in the log: queries add it on top of what is stored.
//!
//! The level variables (docs/STATISTICS.md, Level variables) derive from these: `$worktime`
//! is `work_ms` in hours, `$call_seconds` is `call_ms` in seconds, `$not_ranked` is
//! `handled − rewards − punishments`, the `_ph` rates divide by `$worktime`, the `_p`
//! shares are 100 × the counter / `handled`; each is 0 when its divisor is.

use std::collections::BTreeMap;

use helpdesk_domain::{Actor, AgentId, AggregateKind, Event, Rating, Statistic, Timestamp};
use helpdesk_rules::condition::{Values, Variable};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{day_of, split_by_day, Day, Zones};
use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::store::{day_bytes, day_from, id_key, pair_key, uuid_at, Read, Store};

// ------------------------------------------------------------------------------ counters

/// The counters, listed once in their stored order (postcard encodes fields in order:
/// add new ones at the end), with how two spans of one combine: `sum` adds, `max` keeps
/// the larger (the longest answer, chat and call).
macro_rules! counters {
    ($($field:ident: $merge:ident),* $(,)?) => {
        /// What one agent did over a span: all time, or one day. Stored: fields are
        /// append-only.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Counters {
            $(pub $field: u64,)*
        }

        impl Counters {
            /// Every counter's name, as the API and the docs spell it.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Adds another span (sums add, longest take the max).
            pub fn add(&mut self, o: &Counters) {
                $(merge!($merge, self.$field, o.$field);)*
            }

            /// Every counter by name.
            pub fn named(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field)),*]
            }

            /// One counter by name.
            pub fn get(&self, name: &str) -> Option<u64> {
                match name {
                    $(stringify!($field) => Some(self.$field),)*
                    _ => None,
                }
            }
        }
    };
}

/// Combines one counter of two spans.
macro_rules! merge {
    (sum, $a:expr, $b:expr) => {
        $a += $b
    };
    (max, $a:expr, $b:expr) => {
        $a = $a.max($b)
    };
}

counters!(
    answers: sum,
    chats: sum,
    missed_chats: sum,
    chat_answers: sum,
    calls: sum,
    call_ms: sum,
    missed_calls: sum,
    rewards: sum,
    punishments: sum,
    handled: sum,
    transfers: sum,
    tickets_tagged: sum,
    resolved: sum,
    deleted: sum,
    pauses: sum,
    pause_ms: sum,
    online_ms: sum,
    work_ms: sum,
    answer_chars: sum,
    longest_answer: max,
    chat_pickup_ms: sum,
    chat_pickups: sum,
    chat_ms: sum,
    chats_ended: sum,
    longest_chat_ms: max,
    calls_ended: sum,
    longest_call_ms: max,
    first_answer_ms: sum,
    first_answers: sum,
    resolution_ms: sum,
    resolutions: sum,
    answer_wait_ms: sum,
    answer_waits: sum,
);

impl Counters {
    /// Conversations handled with no standing rating.
    pub fn not_ranked(&self) -> u64 {
        self.handled.saturating_sub(self.rewards + self.punishments)
    }

    /// The level variables (docs/STATISTICS.md, Level variables).
    pub fn values(&self) -> Values {
        let hours = self.work_ms as f64 / 3_600_000.0;
        let per_hour = |n: u64| if hours > 0.0 { n as f64 / hours } else { 0.0 };
        let share = |n: u64| {
            if self.handled > 0 {
                100.0 * n as f64 / self.handled as f64
            } else {
                0.0
            }
        };
        let call_seconds = self.call_ms / 1_000;
        let mut v = Values::new();
        v.set(Variable::Worktime, hours);
        v.set(Variable::Answers, self.answers as f64);
        v.set(Variable::Chats, self.chats as f64);
        v.set(Variable::MissedChats, self.missed_chats as f64);
        v.set(Variable::ChatAnswers, self.chat_answers as f64);
        v.set(Variable::Calls, self.calls as f64);
        v.set(Variable::CallSeconds, call_seconds as f64);
        v.set(Variable::MissedCalls, self.missed_calls as f64);
        v.set(Variable::Rewards, self.rewards as f64);
        v.set(Variable::Punishments, self.punishments as f64);
        v.set(Variable::NotRanked, self.not_ranked() as f64);
        v.set(Variable::AnswersPh, per_hour(self.answers));
        v.set(Variable::ChatsPh, per_hour(self.chats));
        v.set(Variable::ChatAnswersPh, per_hour(self.chat_answers));
        v.set(Variable::CallsPh, per_hour(self.calls));
        v.set(Variable::CallSecondsPh, per_hour(call_seconds));
        v.set(Variable::RewardsP, share(self.rewards));
        v.set(Variable::PunishmentsP, share(self.punishments));
        v.set(Variable::NotRankedP, share(self.not_ranked()));
        v
    }

    /// A badge statistic (docs/STATISTICS.md, Badge statistics): its value (durations in
    /// whole milliseconds, means rounded to whole milliseconds) and its sample (how many
    /// things it is made of). `None` for a mean without samples.
    pub fn statistic(&self, statistic: Statistic) -> (Option<u64>, u64) {
        let mean = |sum: u64, n: u64| (sum + n / 2).checked_div(n);
        let count = |n: u64| (Some(n), n);
        match statistic {
            Statistic::Transfers => count(self.transfers),
            Statistic::PausedSeconds => (Some(self.pause_ms), self.pause_ms),
            Statistic::NegativeRatings => count(self.punishments),
            Statistic::MeanAnswerWait => (
                mean(self.answer_wait_ms, self.answer_waits),
                self.answer_waits,
            ),
            Statistic::MeanChatPickup => (
                mean(self.chat_pickup_ms, self.chat_pickups),
                self.chat_pickups,
            ),
            Statistic::PositiveRatings => count(self.rewards),
            Statistic::PausesStarted => count(self.pauses),
            Statistic::LongestAnswer => (Some(self.longest_answer), self.answers),
            Statistic::TicketsTagged => count(self.tickets_tagged),
            Statistic::MeanResolution => {
                (mean(self.resolution_ms, self.resolutions), self.resolutions)
            }
            Statistic::OnlineSeconds => (Some(self.work_ms), self.work_ms),
            Statistic::LongestChat => (Some(self.longest_chat_ms), self.chats_ended),
            Statistic::ResolutionsAndDeletions => count(self.resolved + self.deleted),
            Statistic::LongestCall => (Some(self.longest_call_ms), self.calls_ended),
        }
    }
}

// ------------------------------------------------------------------------------ records

/// Record prefixes of the statistics (a model that embeds them keeps these first bytes).
mod key {
    pub const ORG: u8 = b'z';
    pub const AGENT: u8 = b'a';
    pub const DAY: u8 = b'd';
    pub const TICKET: u8 = b't';
    pub const HANDLED: u8 = b'h';
    pub const TAGGED: u8 = b'g';
    pub const CHAT: u8 = b'c';
    pub const CALL: u8 = b'k';
    pub const RATING: u8 = b'r';
    pub const MEMBER: u8 = b'm';
}

fn day_key(agent: Uuid, day: Day) -> Vec<u8> {
    let mut k = id_key(key::DAY, agent);
    k.extend_from_slice(&day_bytes(day));
    k
}

fn day_from_key(k: &[u8]) -> Option<Day> {
    day_from(k.get(17..21)?)
}

/// Where the statistics keep an agent's [`AgentRecord`] (a model that embeds them reads
/// it there).
pub fn agent_key(agent: Uuid) -> Vec<u8> {
    id_key(key::AGENT, agent)
}

/// Every agent's record, by agent, as a fold (`Txn`) or a query (`Store`) reads them.
pub fn agent_records(records: &impl Read) -> Result<Vec<(Uuid, AgentRecord)>, ModelError> {
    records
        .scan::<AgentRecord>(&[key::AGENT])?
        .into_iter()
        .map(|(k, record)| Ok((uuid_at(&k, 1)?, record)))
        .collect()
}

/// The organization's settings the statistics follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Org {
    time_zone: String,
}

/// The organization's settings as far as the statistics have come.
fn org(records: &impl Read) -> Result<Org, ModelError> {
    Ok(records.get(&[key::ORG])?.unwrap_or_default())
}

impl Default for Org {
    fn default() -> Self {
        Org {
            time_zone: "UTC".into(),
        }
    }
}

/// Where an agent is now: online since, working since, paused since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub online_since: Option<Timestamp>,
    /// Online and not paused since.
    pub working_since: Option<Timestamp>,
    pub paused_since: Option<Timestamp>,
    /// When the running pause ends by itself.
    pub planned_end: Option<Timestamp>,
}

/// One agent: who they are, where they are, and their all-time counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub name: String,
    pub active: bool,
    /// Whether the agent has done anything of their own (see [`their_doing`]): the
    /// leaderboard and the benchmarks list only them, not a setup or import account.
    pub worked: bool,
    pub presence: Presence,
    /// All time, without the intervals still open.
    pub totals: Counters,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum TicketPhase {
    #[default]
    New,
    Answered,
    Open,
    Resolved,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct TicketTrack {
    created_at: Timestamp,
    phase: TicketPhase,
    /// When it entered its phase.
    since: Timestamp,
    answered: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ChatTrack {
    offered_at: Option<Timestamp>,
    accepted: Option<(Uuid, Timestamp)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct CallTrack {
    answered: Option<(Uuid, Timestamp)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct RatingTrack {
    agent: Uuid,
    rating: Rating,
    /// The day it was given.
    day: Day,
}

// ---------------------------------------------------------------------------------- fold

/// The statistics fold, for any model that keeps statistics in its tree (the stats, the
/// levels and the badges models each keep their own).
#[derive(Debug, Default)]
pub struct StatsFold {
    zones: Zones,
}

impl StatsFold {
    /// The organization's time zone, as far as the fold has come.
    pub fn zone(&self, txn: &Txn<'_>) -> Result<TimeZone, ModelError> {
        Ok(self.zones.get(&org(txn)?.time_zone))
    }

    /// Folds one event; returns the agents whose statistics it changed.
    pub fn fold(
        &self,
        txn: &mut Txn<'_>,
        at: &At<'_>,
        event: &Event,
    ) -> Result<Vec<AgentId>, ModelError> {
        let t = at.time;
        let zone = self.zone(txn)?;
        let today = day_of(t, &zone);
        let mut touched = Vec::new();
        // Every agent event first ends a planned pause whose end has come.
        if at.aggregate.kind == AggregateKind::Agent {
            self.advance(txn, at.aggregate.id, t, &zone)?;
        }
        match event {
            // --- the organization and the agents ---------------------------------------
            Event::OrganizationSetUp(e) => txn.put(
                vec![key::ORG],
                &Org {
                    time_zone: e.time_zone.clone(),
                },
            ),
            Event::OrganizationSettingsChanged(e) => {
                if let Some(zone) = &e.time_zone {
                    txn.put(
                        vec![key::ORG],
                        &Org {
                            time_zone: zone.clone(),
                        },
                    );
                }
            }
            // A partition keeps the agents it owns; everyone else's work finds no record
            // and is not counted here (their partition counts it).
            Event::AgentRegistered(e) if at.partition.owns(e.agent.uuid()) => {
                let record = AgentRecord {
                    name: e.name.clone(),
                    active: true,
                    worked: false,
                    presence: Presence::default(),
                    totals: Counters::default(),
                };
                txn.put(agent_key(e.agent.uuid()), &record);
            }
            Event::AgentAddedToDepartment(e) => {
                txn.put(
                    pair_key(key::MEMBER, e.department.uuid(), e.agent.uuid()),
                    &(),
                );
            }
            Event::AgentRemovedFromDepartment(e) => {
                txn.remove(pair_key(key::MEMBER, e.department.uuid(), e.agent.uuid()));
            }
            Event::AgentWentOnline(e) => {
                self.presence(txn, e.agent.uuid(), &zone, |p| {
                    p.online_since.get_or_insert(t);
                    if p.paused_since.is_none() {
                        p.working_since.get_or_insert(t);
                    }
                    Vec::new()
                })?;
            }
            Event::AgentPaused(e) => {
                let agent = e.agent.uuid();
                self.presence(txn, agent, &zone, |p| {
                    let mut closed = Vec::new();
                    if let Some(since) = p.working_since.take() {
                        closed.push((Interval::Work, since, t));
                    }
                    p.paused_since.get_or_insert(t);
                    p.planned_end = e.planned_end;
                    closed
                })?;
                self.bump(txn, &mut touched, today, agent, |c| c.pauses += 1)?;
            }
            Event::AgentResumed(e) => {
                self.presence(txn, e.agent.uuid(), &zone, |p| end_pause(p, t))?;
                touched.push(e.agent);
            }
            Event::AgentWentOffline(e) => {
                self.presence(txn, e.agent.uuid(), &zone, |p| go_offline(p, t))?;
                touched.push(e.agent);
            }
            Event::AgentDeactivated(e) => {
                let agent = e.agent.uuid();
                self.presence(txn, agent, &zone, |p| go_offline(p, t))?;
                if let Some(mut record) = txn.get::<AgentRecord>(&agent_key(agent))? {
                    record.active = false;
                    txn.put(agent_key(agent), &record);
                }
            }

            // --- tickets -------------------------------------------------------------
            Event::TicketCreated(e) => {
                let track = TicketTrack {
                    created_at: t,
                    phase: TicketPhase::New,
                    since: t,
                    answered: false,
                };
                txn.put(id_key(key::TICKET, e.ticket.uuid()), &track);
            }
            Event::TicketAnswered(e) => {
                let (ticket, agent) = (e.ticket.uuid(), e.agent.uuid());
                let chars = u64::from(e.chars);
                let mut extra = Counters {
                    answers: 1,
                    answer_chars: chars,
                    longest_answer: chars,
                    ..Counters::default()
                };
                if let Some(mut track) = txn.get::<TicketTrack>(&id_key(key::TICKET, ticket))? {
                    if track.phase != TicketPhase::Deleted {
                        if matches!(track.phase, TicketPhase::New | TicketPhase::Open) {
                            extra.answer_wait_ms = millis_between(track.since, t);
                            extra.answer_waits = 1;
                        }
                        if !track.answered {
                            extra.first_answer_ms = millis_between(track.created_at, t);
                            extra.first_answers = 1;
                            track.answered = true;
                        }
                        track.phase = TicketPhase::Answered;
                        track.since = t;
                        txn.put(id_key(key::TICKET, ticket), &track);
                    }
                }
                let handled = pair_key(key::HANDLED, agent, ticket);
                if !txn.contains(&handled)? {
                    txn.put(handled, &());
                    extra.handled = 1;
                }
                self.add(txn, agent, today, &extra)?;
                touched.push(e.agent);
            }
            Event::TicketCustomerReplied(e) => {
                self.ticket_phase(txn, e.ticket.uuid(), t, |phase| match phase {
                    TicketPhase::Answered | TicketPhase::Resolved => Some(TicketPhase::Open),
                    _ => None,
                })?;
            }
            Event::TicketReopened(e) => {
                self.ticket_phase(txn, e.ticket.uuid(), t, |phase| match phase {
                    TicketPhase::Deleted => None,
                    _ => Some(TicketPhase::Open),
                })?;
            }
            Event::TicketResolved(e) => {
                let track = self.ticket_phase(txn, e.ticket.uuid(), t, |phase| match phase {
                    TicketPhase::Deleted => None,
                    _ => Some(TicketPhase::Resolved),
                })?;
                if let Some(agent) = agent_of(&e.by) {
                    let extra = Counters {
                        resolved: 1,
                        resolution_ms: track.map_or(0, |tr| millis_between(tr.created_at, t)),
                        resolutions: u64::from(track.is_some()),
                        ..Counters::default()
                    };
                    self.add(txn, agent, today, &extra)?;
                    touched.push(AgentId::from_uuid(agent));
                }
            }
            Event::TicketDeleted(e) => {
                self.ticket_phase(txn, e.ticket.uuid(), t, |_| Some(TicketPhase::Deleted))?;
                if let Some(agent) = agent_of(&e.by) {
                    self.bump(txn, &mut touched, today, agent, |c| c.deleted += 1)?;
                }
            }
            Event::TicketTransferred(e) => {
                if let Some(agent) = agent_of(&e.by) {
                    self.bump(txn, &mut touched, today, agent, |c| c.transfers += 1)?;
                }
            }
            Event::TicketTagged(e) => {
                if let Some(agent) = agent_of(&e.by) {
                    let tagged = pair_key(key::TAGGED, agent, e.ticket.uuid());
                    if !txn.contains(&tagged)? {
                        txn.put(tagged, &());
                        self.bump(txn, &mut touched, today, agent, |c| c.tickets_tagged += 1)?;
                    }
                }
            }

            // --- chats and calls ------------------------------------------------------
            Event::ChatOffered(e) => {
                let k = id_key(key::CHAT, e.chat.uuid());
                let mut chat: ChatTrack = txn.get(&k)?.unwrap_or_default();
                chat.offered_at = Some(t);
                txn.put(k, &chat);
            }
            Event::ChatAccepted(e) => {
                let (chat_id, agent) = (e.chat.uuid(), e.agent.uuid());
                let k = id_key(key::CHAT, chat_id);
                let mut chat: ChatTrack = txn.get(&k)?.unwrap_or_default();
                let extra = Counters {
                    chats: 1,
                    handled: 1,
                    chat_pickup_ms: chat.offered_at.map_or(0, |o| millis_between(o, t)),
                    chat_pickups: u64::from(chat.offered_at.is_some()),
                    ..Counters::default()
                };
                chat.accepted = Some((agent, t));
                txn.put(k, &chat);
                self.add(txn, agent, today, &extra)?;
                touched.push(e.agent);
            }
            Event::ChatMissed(e) => self.bump(txn, &mut touched, today, e.agent.uuid(), |c| {
                c.missed_chats += 1
            })?,
            Event::ChatMessageSent(e) => {
                self.bump(txn, &mut touched, today, e.agent.uuid(), |c| {
                    c.chat_answers += 1
                })?
            }
            Event::ChatEnded(e) => {
                let chat: ChatTrack = txn
                    .get(&id_key(key::CHAT, e.chat.uuid()))?
                    .unwrap_or_default();
                if let Some((agent, accepted_at)) = chat.accepted {
                    let ms = millis_between(accepted_at, t);
                    let extra = Counters {
                        chat_ms: ms,
                        chats_ended: 1,
                        longest_chat_ms: ms,
                        ..Counters::default()
                    };
                    self.add(txn, agent, today, &extra)?;
                    touched.push(AgentId::from_uuid(agent));
                }
            }
            Event::CallAnswered(e) => {
                let agent = e.agent.uuid();
                txn.put(
                    id_key(key::CALL, e.call.uuid()),
                    &CallTrack {
                        answered: Some((agent, t)),
                    },
                );
                self.bump(txn, &mut touched, today, agent, |c| {
                    c.calls += 1;
                    c.handled += 1;
                })?;
            }
            Event::CallMissed(e) => self.bump(txn, &mut touched, today, e.agent.uuid(), |c| {
                c.missed_calls += 1
            })?,
            Event::CallEnded(e) => {
                let call: CallTrack = txn
                    .get(&id_key(key::CALL, e.call.uuid()))?
                    .unwrap_or_default();
                if let Some((agent, answered_at)) = call.answered {
                    let ms = millis_between(answered_at, t);
                    let extra = Counters {
                        call_ms: ms,
                        calls_ended: 1,
                        longest_call_ms: ms,
                        ..Counters::default()
                    };
                    self.add(txn, agent, today, &extra)?;
                    touched.push(AgentId::from_uuid(agent));
                }
            }

            // --- ratings ----------------------------------------------------------------
            Event::ConversationRated(e) => {
                let k = id_key(key::RATING, e.conversation.id);
                if let Some(old) = txn.get::<RatingTrack>(&k)? {
                    self.rating_change(txn, &old, -1)?;
                    touched.push(AgentId::from_uuid(old.agent));
                }
                let new = RatingTrack {
                    agent: e.agent.uuid(),
                    rating: e.rating,
                    day: today,
                };
                self.rating_change(txn, &new, 1)?;
                txn.put(k, &new);
                touched.push(e.agent);
            }
            Event::RatingRetracted(e) => {
                let k = id_key(key::RATING, e.conversation.id);
                if let Some(old) = txn.get::<RatingTrack>(&k)? {
                    self.rating_change(txn, &old, -1)?;
                    txn.remove(k);
                }
                touched.push(e.agent);
            }
            _ => {}
        }
        touched.sort();
        touched.dedup();
        for agent in their_doing(at, event, &touched) {
            let k = agent_key(agent);
            if let Some(mut record) = txn.get::<AgentRecord>(&k)? {
                if !record.worked {
                    record.worked = true;
                    txn.put(k, &record);
                }
            }
        }
        Ok(touched)
    }

    /// Ends `agent`'s planned pause if its planned end is at or before `t`.
    fn advance(
        &self,
        txn: &mut Txn<'_>,
        agent: Uuid,
        t: Timestamp,
        zone: &TimeZone,
    ) -> Result<(), ModelError> {
        self.presence(txn, agent, zone, |p| {
            match (p.paused_since, p.planned_end) {
                (Some(_), Some(end)) if end <= t => end_pause(p, end),
                _ => Vec::new(),
            }
        })
    }

    /// Changes an agent's presence; the intervals it closes are counted.
    fn presence(
        &self,
        txn: &mut Txn<'_>,
        agent: Uuid,
        zone: &TimeZone,
        change: impl FnOnce(&mut Presence) -> Vec<(Interval, Timestamp, Timestamp)>,
    ) -> Result<(), ModelError> {
        let k = agent_key(agent);
        let Some(mut record) = txn.get::<AgentRecord>(&k)? else {
            return Ok(());
        };
        let before = record.presence;
        let closed = change(&mut record.presence);
        if record.presence == before && closed.is_empty() {
            return Ok(());
        }
        txn.put(k, &record);
        for (interval, from, to) in closed {
            for (day, ms) in split_by_day(from, to, zone) {
                let ms = ms as u64;
                let mut extra = Counters::default();
                match interval {
                    Interval::Work => extra.work_ms = ms,
                    Interval::Pause => extra.pause_ms = ms,
                    Interval::Online => extra.online_ms = ms,
                }
                self.add(txn, agent, day, &extra)?;
            }
        }
        Ok(())
    }

    fn ticket_phase(
        &self,
        txn: &mut Txn<'_>,
        ticket: Uuid,
        t: Timestamp,
        next: impl FnOnce(TicketPhase) -> Option<TicketPhase>,
    ) -> Result<Option<TicketTrack>, ModelError> {
        let k = id_key(key::TICKET, ticket);
        let Some(mut track) = txn.get::<TicketTrack>(&k)? else {
            return Ok(None);
        };
        if let Some(phase) = next(track.phase) {
            if phase != track.phase {
                track.phase = phase;
                track.since = t;
                txn.put(k, &track);
            }
        }
        Ok(Some(track))
    }

    fn rating_change(
        &self,
        txn: &mut Txn<'_>,
        rating: &RatingTrack,
        sign: i64,
    ) -> Result<(), ModelError> {
        let apply = |c: &mut Counters| {
            let slot = match rating.rating {
                Rating::Positive => &mut c.rewards,
                Rating::Negative => &mut c.punishments,
            };
            *slot = slot.saturating_add_signed(sign);
        };
        let k = agent_key(rating.agent);
        if let Some(mut record) = txn.get::<AgentRecord>(&k)? {
            apply(&mut record.totals);
            txn.put(k, &record);
        }
        let dk = day_key(rating.agent, rating.day);
        let mut day: Counters = txn.get(&dk)?.unwrap_or_default();
        apply(&mut day);
        txn.put(dk, &day);
        Ok(())
    }

    /// Adds what `f` counts to an agent on `day`, and notes the agent as touched.
    fn bump(
        &self,
        txn: &mut Txn<'_>,
        touched: &mut Vec<AgentId>,
        day: Day,
        agent: Uuid,
        f: fn(&mut Counters),
    ) -> Result<(), ModelError> {
        let mut extra = Counters::default();
        f(&mut extra);
        self.add(txn, agent, day, &extra)?;
        touched.push(AgentId::from_uuid(agent));
        Ok(())
    }

    /// Adds `extra` to an agent's totals and to one day.
    fn add(
        &self,
        txn: &mut Txn<'_>,
        agent: Uuid,
        day: Day,
        extra: &Counters,
    ) -> Result<(), ModelError> {
        let k = agent_key(agent);
        let Some(mut record) = txn.get::<AgentRecord>(&k)? else {
            // Work of an agent this model never saw registered: nothing to count it for.
            return Ok(());
        };
        record.totals.add(extra);
        txn.put(k, &record);
        let dk = day_key(agent, day);
        let mut counters: Counters = txn.get(&dk)?.unwrap_or_default();
        counters.add(extra);
        txn.put(dk, &counters);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Interval {
    Online,
    Work,
    Pause,
}

fn end_pause(p: &mut Presence, at: Timestamp) -> Vec<(Interval, Timestamp, Timestamp)> {
    let mut closed = Vec::new();
    if let Some(since) = p.paused_since.take() {
        closed.push((Interval::Pause, since, at));
        p.planned_end = None;
        if p.online_since.is_some() {
            p.working_since = Some(at);
        }
    }
    closed
}

fn go_offline(p: &mut Presence, at: Timestamp) -> Vec<(Interval, Timestamp, Timestamp)> {
    let mut closed = end_pause(p, at);
    if let Some(since) = p.working_since.take() {
        closed.push((Interval::Work, since, at));
    }
    if let Some(since) = p.online_since.take() {
        closed.push((Interval::Online, since, at));
    }
    closed
}

/// The agents whose own doing `event` is: the agents it counts for in the statistics
/// (`counted`), the agent of an agent's own aggregate (online, pauses, …) and the agent
/// named as the one who did it to a ticket (`by`), whether or not the statistics count
/// it. Not what the system does by itself (a planned pause ending, an auto-pause: when it
/// is appended depends on timing), nor being registered, given a role or deactivated by
/// an administrator. This is what makes an agent active on a day (the Four-leaf Clover)
/// and listed on the leaderboards.
pub fn their_doing(at: &At<'_>, event: &Event, counted: &[AgentId]) -> Vec<Uuid> {
    let not_their_doing = match event {
        Event::AgentResumed(e) => e.reason == helpdesk_domain::ResumeReason::PlannedEnd,
        Event::AgentPaused(e) => {
            matches!(e.reason, helpdesk_domain::PauseReason::AutoMissed { .. })
        }
        Event::AgentRegistered(_) | Event::AgentRoleChanged(_) | Event::AgentDeactivated(_) => true,
        _ => false,
    };
    if not_their_doing {
        return Vec::new();
    }
    let mut agents: Vec<Uuid> = counted.iter().map(|a| a.uuid()).collect();
    if at.aggregate.kind == AggregateKind::Agent {
        agents.push(at.aggregate.id);
    }
    let by = match event {
        Event::TicketAssigned(e) => Some(&e.by),
        Event::TicketUnassigned(e) => Some(&e.by),
        Event::TicketTransferred(e) => Some(&e.by),
        Event::TicketTagged(e) => Some(&e.by),
        Event::TicketUntagged(e) => Some(&e.by),
        Event::TicketResolved(e) => Some(&e.by),
        // A customer's reply reopens a resolved ticket: the customer's doing, whoever
        // recorded the reply.
        Event::TicketReopened(e) if !customer_side(at.envelope) => Some(&e.by),
        Event::TicketDeleted(e) => Some(&e.by),
        Event::TicketPriorityChanged(e) => Some(&e.by),
        _ => None,
    };
    agents.extend(by.and_then(agent_of));
    agents.sort();
    agents.dedup();
    agents
}

/// Whether the envelope records what a customer did (a reply to a ticket).
fn customer_side(envelope: &helpdesk_domain::Envelope) -> bool {
    envelope
        .events
        .iter()
        .any(|e| matches!(e, Event::TicketCustomerReplied(_)))
}

fn agent_of(actor: &Actor) -> Option<Uuid> {
    actor.agent().map(|a| a.uuid())
}

fn millis_between(from: Timestamp, to: Timestamp) -> u64 {
    (to.millis() - from.millis()).max(0) as u64
}

/// An interval still open: from, to (now), and the counter it adds to.
pub type OpenInterval = (Timestamp, Timestamp, fn(&mut Counters, u64));

/// The intervals open at `now` (a running pause ending by its planned end), as the
/// counters they add.
pub fn open_intervals(p: &Presence, now: Timestamp) -> Vec<OpenInterval> {
    let mut open: Vec<OpenInterval> = Vec::new();
    if let Some(since) = p.online_since {
        open.push((since, now, |c, ms| c.online_ms += ms));
    }
    if let Some(since) = p.working_since {
        open.push((since, now, |c, ms| c.work_ms += ms));
    }
    if let Some(since) = p.paused_since {
        let end = p.planned_end.map_or(now, |e| e.min(now));
        open.push((since, end, |c, ms| c.pause_ms += ms));
        if let Some(end) = p.planned_end.filter(|e| *e < now) {
            if p.online_since.is_some() {
                open.push((end, now, |c, ms| c.work_ms += ms));
            }
        }
    }
    open
}

// -------------------------------------------------------------------------------- model

/// The statistics read model; see the module docs.
#[derive(Debug, Default)]
pub struct Stats {
    fold: StatsFold,
}

impl Model for Stats {
    const NAME: &'static str = "stats";
    /// 2: an agent's record says whether they have worked.
    const VERSION: u32 = 2;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        self.fold.fold(txn, at, event).map(|_| ())
    }
}

// ------------------------------------------------------------------------------ queries

/// A span of days to sum: all time, or `[from, to]` (inclusive days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    AllTime,
    Days { from: Day, to: Day },
}

/// One agent's statistics over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentStats {
    pub agent: Uuid,
    pub name: String,
    pub active: bool,
    /// Whether they have done anything of their own (see [`their_doing`]).
    pub worked: bool,
    pub counters: Counters,
}

/// Queries on the statistics. They read any tree that holds the statistics' records
/// (the stats model's, or the levels model's).
#[derive(Clone)]
pub struct StatsView {
    handle: ModelHandle,
}

impl StatsView {
    pub fn new(handle: ModelHandle) -> Self {
        StatsView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// The organization's zone and "today" in it (the day of the latest event folded).
    pub fn today(&self) -> Result<(TimeZone, Day), ModelError> {
        let zone = Zones::default().get(&org(&self.handle.store())?.time_zone);
        let today = day_of(self.handle.time(), &zone);
        Ok((zone, today))
    }

    /// One agent over `window`, open intervals counted up to the model's time.
    pub fn agent(&self, agent: Uuid, window: Window) -> Result<Option<AgentStats>, ModelError> {
        let store = self.handle.store();
        let Some(record) = store.get::<AgentRecord>(&agent_key(agent))? else {
            return Ok(None);
        };
        let (zone, _) = self.today()?;
        Ok(Some(self.over(&store, agent, record, window, &zone)?))
    }

    /// Every agent over `window` (optionally only the members of one department).
    pub fn agents(
        &self,
        window: Window,
        department: Option<Uuid>,
    ) -> Result<Vec<AgentStats>, ModelError> {
        let store = self.handle.store();
        let (zone, _) = self.today()?;
        let members: Option<Vec<Uuid>> = match department {
            Some(d) => Some(
                store
                    .keys(&id_key(key::MEMBER, d))
                    .map(|k| uuid_at(&k?, 17))
                    .collect::<Result<_, _>>()?,
            ),
            None => None,
        };
        let mut out = Vec::new();
        for (agent, record) in agent_records(&store)? {
            if members.as_ref().is_some_and(|m| !m.contains(&agent)) {
                continue;
            }
            out.push(self.over(&store, agent, record, window, &zone)?);
        }
        Ok(out)
    }

    fn over(
        &self,
        store: &Store,
        agent: Uuid,
        record: AgentRecord,
        window: Window,
        zone: &TimeZone,
    ) -> Result<AgentStats, ModelError> {
        let now = self.handle.time();
        let counters = match window {
            Window::AllTime => {
                let mut c = record.totals;
                for (from, to, add) in open_intervals(&record.presence, now) {
                    add(&mut c, millis_between(from, to));
                }
                c
            }
            Window::Days { from, to } => {
                let mut c = Counters::default();
                let start = day_key(agent, from);
                let end = day_key(agent, to);
                for entry in store.range::<Counters, _>(start..=end) {
                    let (_, day) = entry?;
                    c.add(&day);
                }
                for (open_from, open_to, add) in open_intervals(&record.presence, now) {
                    for (day, ms) in split_by_day(open_from, open_to, zone) {
                        if day >= from && day <= to {
                            add(&mut c, ms as u64);
                        }
                    }
                }
                c
            }
        };
        Ok(AgentStats {
            agent,
            name: record.name,
            active: record.active,
            worked: record.worked,
            counters,
        })
    }

    /// The days with counters of one agent (for history views and tests).
    pub fn days(&self, agent: Uuid) -> Result<BTreeMap<Day, Counters>, ModelError> {
        let mut out = BTreeMap::new();
        for (k, counters) in self
            .handle
            .store()
            .scan::<Counters>(&id_key(key::DAY, agent))?
        {
            let day =
                day_from_key(&k).ok_or_else(|| ModelError::Corrupt(format!("day key {k:02x?}")))?;
            out.insert(day, counters);
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------------------ metrics

/// What a benchmark ranks by: a level variable, a counter, or a badge statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Variable(Variable),
    Counter(&'static str),
    Statistic(Statistic),
}

impl Metric {
    /// A metric by name: level variables first (`answers` is the variable), then
    /// counters, then badge statistics.
    pub fn parse(name: &str) -> Option<Metric> {
        let name = name.strip_prefix('$').unwrap_or(name);
        if let Some(v) = Variable::from_name(name) {
            return Some(Metric::Variable(v));
        }
        if let Some(c) = Counters::NAMES.iter().find(|c| **c == name) {
            return Some(Metric::Counter(c));
        }
        Statistic::parse(name).map(Metric::Statistic)
    }

    /// Every name [`Metric::parse`] knows.
    pub fn names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = helpdesk_rules::condition::VARIABLES.to_vec();
        names.extend(
            Counters::NAMES
                .iter()
                .filter(|c| !names.contains(c))
                .collect::<Vec<_>>(),
        );
        names.extend(Statistic::ALL.iter().map(|s| s.as_str()));
        names
    }

    /// The metric's value for `counters` and the sample it is made of; none for a mean
    /// without samples.
    pub fn of(&self, counters: &Counters) -> (Option<f64>, u64) {
        match self {
            Metric::Variable(v) => (Some(counters.values().get(*v)), 1),
            Metric::Counter(name) => {
                let n = counters.get(name).unwrap_or(0);
                (Some(n as f64), n)
            }
            Metric::Statistic(s) => {
                let (value, sample) = counters.statistic(*s);
                (value.map(|v| v as f64), sample)
            }
        }
    }
}

/// An agent's counters of one day, as a fold sees them (for models that embed the
/// statistics and sum windows of days, like the badges).
pub fn day_counters(txn: &Txn<'_>, agent: Uuid, day: Day) -> Result<Option<Counters>, ModelError> {
    txn.get(&day_key(agent, day))
}
