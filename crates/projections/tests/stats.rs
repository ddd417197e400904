//! The statistics read model on a real embedded log: every level variable of
//! docs/STATISTICS.md, every counter of `Counters`, the badge statistics, day buckets in
//! the organization's zone (docs/STATISTICS.md, Time, daylight saving included), windows
//! and departments.
//!
//! The histories are scripted by hand and every expected number is worked out by hand
//! from the rules in docs/STATISTICS.md, in the comments next to it; none is copied from
//! what the code prints.

mod common;

use std::collections::BTreeMap;

use common::*;
use helpdesk_domain::event::{
    AgentAddedToDepartment, AgentDeactivated, AgentPaused, AgentRegistered,
    AgentRemovedFromDepartment, AgentResumed, AgentWentOffline, AgentWentOnline, CallAnswered,
    CallEnded, CallIncoming, CallMissed, CallRinging, ChatAccepted, ChatEnded, ChatMessageSent,
    ChatMissed, ChatOffered, ChatStarted, ClockTicked, ConversationRated, DepartmentCreated,
    OrganizationSetUp, OrganizationSettingsChanged, RatingRetracted, TicketAnswered,
    TicketAssigned, TicketCreated, TicketCustomerReplied, TicketDeleted, TicketReopened,
    TicketResolved, TicketTagged, TicketTransferred,
};
use helpdesk_domain::{
    Actor, AgentId, AggregateId, CallId, Channel, ChatId, ConversationRef, DepartmentId, Event,
    PauseReason, Priority, Rating, ResumeReason, Role, RuleId, Statistic, TicketId, Timestamp,
    TokenId,
};
use helpdesk_projections::calendar::{days_from_civil, Day};
use helpdesk_projections::runtime::dump;
use helpdesk_projections::stats::{AgentStats, Counters, Stats, StatsView, Window};
use helpdesk_projections::Projector;
use helpdesk_rules::condition::{Values, Variable};
use uuid::Uuid;

// ----------------------------------------------------------------------------------- time

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// 2024-05-01T00:00:00Z.
const MAY_1: i64 = 1_714_521_600_000;

/// `hh:mm:ss` UTC on day `day` of May 2024.
fn may(day: i64, hh: i64, mm: i64, ss: i64) -> Timestamp {
    Timestamp::from_millis(MAY_1 + (day - 1) * DAY + hh * HOUR + mm * MIN + ss * SEC)
}

/// A UTC instant given as civil date and time in UTC.
fn utc(y: i32, mo: u32, d: u32, hh: i64, mm: i64) -> Timestamp {
    Timestamp::from_millis(i64::from(days_from_civil(y, mo, d)) * DAY + hh * HOUR + mm * MIN)
}

// ------------------------------------------------------------------------------------ ids

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (kind << 32) | n)
}

fn ticket(n: u128) -> TicketId {
    TicketId::from_uuid(id(1, n))
}

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(id(2, n))
}

fn dept(n: u128) -> DepartmentId {
    DepartmentId::from_uuid(id(3, n))
}

fn chat(n: u128) -> ChatId {
    ChatId::from_uuid(id(4, n))
}

fn call(n: u128) -> CallId {
    CallId::from_uuid(id(5, n))
}

fn rule() -> Actor {
    Actor::Rule(RuleId::from_uuid(id(6, 1)))
}

/// The customer-facing integration (customer replies, reopenings, a transfer by an
/// integration).
fn integration() -> Actor {
    Actor::Integration(TokenId::from_uuid(id(7, 1)))
}

fn by(a: AgentId) -> Actor {
    Actor::Agent(a)
}

// --------------------------------------------------------------------------------- events

fn org_set_up(time_zone: &str) -> Event {
    OrganizationSetUp {
        seed: [7; 32],
        time_zone: time_zone.into(),
    }
    .into()
}

fn zone_changed(time_zone: &str) -> Event {
    OrganizationSettingsChanged {
        time_zone: Some(time_zone.into()),
        auto_pause: None,
        clover_odds: None,
        seed: None,
        max_custom_roles: None,
    }
    .into()
}

fn registered(a: AgentId, name: &str) -> Event {
    AgentRegistered {
        agent: a,
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase()),
        role: Role::Agent,
    }
    .into()
}

fn online(a: AgentId) -> Event {
    AgentWentOnline { agent: a }.into()
}

fn offline(a: AgentId) -> Event {
    AgentWentOffline { agent: a }.into()
}

fn paused(a: AgentId, planned_end: Option<Timestamp>) -> Event {
    AgentPaused {
        agent: a,
        reason: PauseReason::Text("break".into()),
        planned_end,
    }
    .into()
}

fn resumed(a: AgentId, reason: ResumeReason) -> Event {
    AgentResumed { agent: a, reason }.into()
}

/// What GoOffline appends for a paused agent (docs/TICKETS.md, Agents: presence and pauses:
/// closes an open pause first).
fn offline_while_paused(a: AgentId) -> Vec<Event> {
    vec![resumed(a, ResumeReason::WentOffline), offline(a)]
}

fn deactivated(a: AgentId) -> Event {
    AgentDeactivated { agent: a }.into()
}

fn department_created(d: DepartmentId, name: &str) -> Event {
    DepartmentCreated {
        department: d,
        name: name.into(),
        to_solve_enabled: true,
    }
    .into()
}

fn joined(a: AgentId, d: DepartmentId) -> Event {
    AgentAddedToDepartment {
        department: d,
        agent: a,
    }
    .into()
}

fn left(a: AgentId, d: DepartmentId) -> Event {
    AgentRemovedFromDepartment {
        department: d,
        agent: a,
    }
    .into()
}

fn created(t: TicketId) -> Event {
    TicketCreated {
        ticket: t,
        channel: Channel::Email,
        priority: Priority::Normal,
        subject: format!("ticket {t}"),
        body: None,
        department: None,
    }
    .into()
}

fn answered(t: TicketId, a: AgentId, chars: u32) -> Event {
    TicketAnswered {
        ticket: t,
        agent: a,
        chars,
    }
    .into()
}

fn replied(t: TicketId) -> Event {
    TicketCustomerReplied { ticket: t }.into()
}

/// What RecordCustomerReply appends on a resolved ticket (the ticket is reopened first).
fn replied_to_resolved(t: TicketId) -> Vec<Event> {
    vec![
        TicketReopened {
            ticket: t,
            by: integration(),
        }
        .into(),
        replied(t),
    ]
}

fn resolved(t: TicketId, who: Actor) -> Event {
    TicketResolved { ticket: t, by: who }.into()
}

fn deleted(t: TicketId, who: Actor) -> Event {
    TicketDeleted { ticket: t, by: who }.into()
}

fn transferred(t: TicketId, to: DepartmentId, who: Actor) -> Event {
    TicketTransferred {
        ticket: t,
        from: None,
        to,
        by: who,
    }
    .into()
}

fn tagged(t: TicketId, tag: &str, who: Actor) -> Event {
    TicketTagged {
        ticket: t,
        tag: tag.into(),
        by: who,
    }
    .into()
}

fn chat_started(c: ChatId) -> Event {
    ChatStarted {
        chat: c,
        channel: Channel::Chat,
        department: None,
    }
    .into()
}

fn offered(c: ChatId, a: AgentId) -> Event {
    ChatOffered { chat: c, agent: a }.into()
}

fn accepted(c: ChatId, a: AgentId) -> Event {
    ChatAccepted { chat: c, agent: a }.into()
}

fn chat_missed(c: ChatId, a: AgentId) -> Event {
    ChatMissed { chat: c, agent: a }.into()
}

fn message(c: ChatId, a: AgentId) -> Event {
    ChatMessageSent {
        chat: c,
        agent: a,
        chars: 25,
    }
    .into()
}

fn chat_ended(c: ChatId, a: Option<AgentId>) -> Event {
    ChatEnded { chat: c, agent: a }.into()
}

/// A call comes in and rings `a` (one envelope, as routing appends it).
fn ringing(k: CallId, a: AgentId) -> Vec<Event> {
    vec![
        CallIncoming {
            call: k,
            department: None,
        }
        .into(),
        CallRinging { call: k, agent: a }.into(),
    ]
}

fn call_answered(k: CallId, a: AgentId) -> Event {
    CallAnswered { call: k, agent: a }.into()
}

fn call_missed(k: CallId, a: AgentId) -> Event {
    CallMissed { call: k, agent: a }.into()
}

fn call_ended(k: CallId, a: Option<AgentId>) -> Event {
    CallEnded { call: k, agent: a }.into()
}

fn rated(
    conversation: ConversationRef,
    a: AgentId,
    rating: Rating,
    replaces: Option<(Rating, AgentId)>,
) -> Event {
    ConversationRated {
        conversation,
        agent: a,
        rating,
        replaces: replaces.map(|(r, _)| r),
        replaced_agent: replaces.map(|(_, a)| a),
    }
    .into()
}

fn retracted(conversation: ConversationRef, a: AgentId, rating: Rating) -> Event {
    RatingRetracted {
        conversation,
        agent: a,
        rating,
    }
    .into()
}

fn tick() -> Event {
    ClockTicked {}.into()
}

/// The aggregate an envelope starting with `event` is appended to.
fn aggregate_of(event: &Event) -> AggregateId {
    match event {
        Event::OrganizationSetUp(_) | Event::OrganizationSettingsChanged(_) => {
            AggregateId::config()
        }
        Event::ClockTicked(_) => AggregateId::clock(),
        Event::AgentRegistered(e) => AggregateId::agent(e.agent),
        Event::AgentWentOnline(e) => AggregateId::agent(e.agent),
        Event::AgentWentOffline(e) => AggregateId::agent(e.agent),
        Event::AgentPaused(e) => AggregateId::agent(e.agent),
        Event::AgentResumed(e) => AggregateId::agent(e.agent),
        Event::AgentDeactivated(e) => AggregateId::agent(e.agent),
        Event::DepartmentCreated(e) => AggregateId::department(e.department),
        Event::AgentAddedToDepartment(e) => AggregateId::department(e.department),
        Event::AgentRemovedFromDepartment(e) => AggregateId::department(e.department),
        Event::TicketCreated(e) => AggregateId::ticket(e.ticket),
        Event::TicketAnswered(e) => AggregateId::ticket(e.ticket),
        Event::TicketCustomerReplied(e) => AggregateId::ticket(e.ticket),
        Event::TicketReopened(e) => AggregateId::ticket(e.ticket),
        Event::TicketResolved(e) => AggregateId::ticket(e.ticket),
        Event::TicketDeleted(e) => AggregateId::ticket(e.ticket),
        Event::TicketTransferred(e) => AggregateId::ticket(e.ticket),
        Event::TicketTagged(e) => AggregateId::ticket(e.ticket),
        Event::ChatStarted(e) => AggregateId::chat(e.chat),
        Event::ChatOffered(e) => AggregateId::chat(e.chat),
        Event::ChatAccepted(e) => AggregateId::chat(e.chat),
        Event::ChatMissed(e) => AggregateId::chat(e.chat),
        Event::ChatMessageSent(e) => AggregateId::chat(e.chat),
        Event::ChatEnded(e) => AggregateId::chat(e.chat),
        Event::CallIncoming(e) => AggregateId::call(e.call),
        Event::CallAnswered(e) => AggregateId::call(e.call),
        Event::CallMissed(e) => AggregateId::call(e.call),
        Event::CallEnded(e) => AggregateId::call(e.call),
        Event::ConversationRated(e) => e.conversation.rating_aggregate(),
        Event::RatingRetracted(e) => e.conversation.rating_aggregate(),
        other => panic!("no aggregate for {}", other.name()),
    }
}

// ---------------------------------------------------------------------------------- desk

/// A log, a stats projector over it (small batches, so the history spans many batch
/// commits), and its data directory.
struct Desk {
    log: TestLog,
    _data: tempfile::TempDir,
    projector: Projector<Stats>,
}

impl Desk {
    fn new() -> Self {
        let log = TestLog::new();
        let data = tempfile::tempdir().expect("temp dir");
        let projector = projector(Stats::default(), &log, data.path(), 3);
        Desk {
            log,
            _data: data,
            projector,
        }
    }

    /// Appends one envelope of `events` with `occurred_at` = `time`.
    async fn at(&mut self, time: Timestamp, events: Vec<Event>) {
        let aggregate = aggregate_of(&events[0]);
        self.log.append(aggregate, time, events).await;
    }

    async fn one(&mut self, time: Timestamp, event: Event) {
        self.at(time, vec![event]).await;
    }

    /// Catches the projector up and returns the queries on it.
    async fn view(&mut self) -> StatsView {
        caught_up(&mut self.projector).await;
        StatsView::new(self.projector.handle())
    }
}

fn stats(view: &StatsView, a: AgentId, window: Window) -> AgentStats {
    view.agent(a.uuid(), window)
        .expect("query")
        .unwrap_or_else(|| panic!("agent {a} is known"))
}

fn all_time(view: &StatsView, a: AgentId) -> Counters {
    stats(view, a, Window::AllTime).counters
}

fn days(view: &StatsView, a: AgentId) -> BTreeMap<Day, Counters> {
    view.days(a.uuid()).expect("days")
}

/// Checks all 19 level variables (docs/STATISTICS.md, Level variables; each listed exactly
/// once in `expected`).
fn assert_values(who: &str, values: &Values, expected: &[(Variable, f64)]) {
    assert_eq!(
        expected.len(),
        Variable::COUNT,
        "{who}: every variable is checked"
    );
    for variable in Variable::ALL {
        let want = expected
            .iter()
            .find(|(v, _)| *v == variable)
            .unwrap_or_else(|| panic!("{who}: no expected value for {variable}"))
            .1;
        let got = values.get(variable);
        assert!(
            (got - want).abs() < 1e-9,
            "{who}: {variable} is {got}, expected {want}"
        );
    }
}

/// Checks all 14 badge statistics (docs/STATISTICS.md, Badge statistics): (value, sample).
fn assert_statistics(who: &str, c: &Counters, expected: &[(Statistic, Option<u64>, u64)]) {
    assert_eq!(
        expected.len(),
        Statistic::ALL.len(),
        "{who}: every statistic is checked"
    );
    for &(statistic, value, sample) in expected {
        assert_eq!(
            c.statistic(statistic),
            (value, sample),
            "{who}: {statistic} (value, sample)"
        );
    }
}

/// docs/STATISTICS.md, Level variables: `$rewards + $punishments + $not_ranked` equals the
/// handled conversations.
fn assert_invariant(who: &str, c: &Counters) {
    let v = c.values();
    assert_eq!(
        v.get(Variable::Rewards) + v.get(Variable::Punishments) + v.get(Variable::NotRanked),
        c.handled as f64,
        "{who}: rewards + punishments + not_ranked = handled"
    );
}

// ------------------------------------------------------------------------- the help desk

/// Ana (A), Bo (B) and Cy (C); department X holds A and C (B joined and left).
/// Everything happens on 2024-05-01 and 2024-05-02, in UTC.
///
/// Tickets: T1 (A answers, B answers, rated, reopened on day 2), T2 (A: answers, tags,
/// transfers, resolves twice), T3 (routed by a rule; B answers, tags, transfers; A
/// deletes), T4 (B). Chats: Ch1 (A, after a miss), Ch2 (B), Ch3 (A), Ch4 (B, after a
/// miss; never ends), Ch5 (A misses; ends unaccepted). Calls: K1 (A), K2 (A misses), K3
/// (B), K4 (B), K5 (A; never ends), K6 (B misses).
#[tokio::test]
async fn a_scripted_history_gives_every_statistic_of_spec_sections_4_and_6() {
    let (a, b, c) = (agent(1), agent(2), agent(3));
    let (x, y) = (dept(1), dept(2));
    let (t1, t2, t3, t4) = (ticket(1), ticket(2), ticket(3), ticket(4));
    let (ch1, ch2, ch3, ch4, ch5) = (chat(1), chat(2), chat(3), chat(4), chat(5));
    let (k1, k2, k3, k4, k5, k6) = (call(1), call(2), call(3), call(4), call(5), call(6));
    let d1: Day = 19_844; // 2024-05-01: 1_714_521_600 s / 86_400 = 19_844 days
    assert_eq!(d1, days_from_civil(2024, 5, 1));
    let d2 = d1 + 1;

    let mut desk = Desk::new();

    // --- setup ------------------------------------------------------------------------
    desk.one(may(1, 7, 0, 0), org_set_up("UTC")).await;
    desk.one(may(1, 7, 0, 0), registered(a, "Ana")).await;
    desk.one(may(1, 7, 0, 0), registered(b, "Bo")).await;
    desk.one(may(1, 7, 0, 0), registered(c, "Cy")).await;
    desk.at(
        may(1, 7, 0, 0),
        vec![
            department_created(x, "X"),
            joined(a, x),
            joined(c, x),
            joined(b, x),
        ],
    )
    .await;
    desk.one(may(1, 7, 1, 0), left(b, x)).await;
    desk.one(may(1, 7, 2, 0), department_created(y, "Y")).await;

    // --- May 1, morning: A ---------------------------------------------------------------
    desk.one(may(1, 9, 0, 0), online(a)).await;
    desk.one(may(1, 9, 5, 0), created(t1)).await; // T1 new since 09:05
    desk.one(may(1, 9, 20, 0), answered(t1, a, 100)).await; // wait 15 min (first answer)
    desk.at(may(1, 9, 30, 0), vec![chat_started(ch1), offered(ch1, a)])
        .await;
    desk.one(may(1, 9, 30, 20), chat_missed(ch1, a)).await; // A missed chat 1
    desk.one(may(1, 9, 31, 0), offered(ch1, a)).await; // offered again
    desk.one(may(1, 9, 31, 10), accepted(ch1, a)).await; // pickup 10 s (from this offer)
    desk.one(may(1, 9, 32, 0), message(ch1, a)).await;
    desk.one(may(1, 9, 35, 0), message(ch1, a)).await;
    desk.one(may(1, 9, 40, 0), message(ch1, a)).await;
    desk.one(may(1, 9, 40, 0), replied(t1)).await; // T1 open since 09:40
    desk.one(may(1, 9, 45, 10), chat_ended(ch1, Some(a))).await; // chat 09:31:10–09:45:10 = 14 min
    desk.at(may(1, 9, 50, 0), ringing(k1, a)).await;
    desk.one(may(1, 9, 50, 10), call_answered(k1, a)).await;
    desk.one(may(1, 9, 55, 10), call_ended(k1, Some(a))).await; // call 5 min = 300 s
    desk.one(may(1, 10, 0, 0), paused(a, None)).await; // pause 1: 10:00–10:30 (manual resume)
    let ch1_ref = ConversationRef::chat(ch1);
    let k1_ref = ConversationRef::call(k1);
    desk.one(may(1, 10, 0, 0), rated(ch1_ref, a, Rating::Negative, None))
        .await;
    // Replaced by a positive one (same agent): A has 1 reward and no punishment from Ch1.
    desk.one(
        may(1, 10, 5, 0),
        rated(ch1_ref, a, Rating::Positive, Some((Rating::Negative, a))),
    )
    .await;
    desk.one(may(1, 10, 10, 0), rated(k1_ref, a, Rating::Positive, None))
        .await;
    // Retracted: K1 ends up with no standing rating.
    desk.one(may(1, 10, 20, 0), retracted(k1_ref, a, Rating::Positive))
        .await;
    desk.one(may(1, 10, 30, 0), resumed(a, ResumeReason::Manual))
        .await;
    // out of open: wait 09:40→10:45 = 65 min
    desk.one(may(1, 10, 45, 0), answered(t1, a, 300)).await;
    // answered → answered: no wait
    desk.one(may(1, 10, 50, 0), answered(t1, a, 50)).await;
    // Pause 2: planned 11:00–11:15. Its AgentResumed{planned_end} comes late (below).
    desk.one(may(1, 11, 0, 0), paused(a, Some(may(1, 11, 15, 0))))
        .await;
    desk.one(may(1, 11, 20, 0), created(t2)).await; // T2 new since 11:20

    // The model's time is now 11:20, and A's planned pause ended at 11:15 by itself.
    // Online 09:00–11:20 = 140 min; paused 10:00–10:30 + 11:00–11:15 = 45 min;
    // working 09:00–10:00 + 10:30–11:00 + 11:15–11:20 = 60 + 30 + 5 = 95 min.
    let view = desk.view().await;
    let now = all_time(&view, a);
    assert_eq!(
        (now.online_ms, now.pause_ms, now.work_ms, now.pauses),
        (140 * MIN as u64, 45 * MIN as u64, 95 * MIN as u64, 2),
        "A at 11:20: the planned pause ended at 11:15 without its AgentResumed"
    );

    // The late AgentResumed{planned_end}: occurred_at 11:15, after an event of 11:20, so
    // its time in the model is 11:20 (docs/STATISTICS.md, Time). It changes nothing
    // (docs/STATISTICS.md, Time: a planned pause ends at its planned end).
    desk.one(may(1, 11, 15, 0), resumed(a, ResumeReason::PlannedEnd))
        .await;
    let view = desk.view().await;
    let later = all_time(&view, a);
    assert_eq!(later, now, "the late planned-end resume changes nothing");

    desk.at(may(1, 11, 30, 0), ringing(k2, a)).await;
    desk.one(may(1, 11, 30, 30), call_missed(k2, a)).await; // A missed call
    desk.one(may(1, 11, 31, 0), call_ended(k2, None)).await; // unanswered: nobody's
    desk.one(may(1, 11, 50, 0), answered(t2, a, 80)).await; // wait 11:20→11:50 = 30 min (first)
    desk.one(may(1, 11, 52, 0), tagged(t2, "vip", by(a))).await;
    desk.one(may(1, 11, 53, 0), tagged(t2, "billing", by(a)))
        .await; // same ticket: 1 tagged
    desk.one(may(1, 11, 55, 0), transferred(t2, x, by(a))).await; // A's transfer
    desk.one(may(1, 12, 0, 0), tick()).await;
    // Going offline stamped 11:58, after a tick of 12:00: counted at 12:00
    // (docs/STATISTICS.md, Time).
    // Session 1: online 09:00–12:00 = 180 min, paused 45 min, working 135 min.
    desk.one(may(1, 11, 58, 0), offline(a)).await;

    // --- May 1, noon: B --------------------------------------------------------------------
    desk.one(may(1, 12, 0, 0), online(b)).await;
    desk.at(may(1, 12, 5, 0), vec![chat_started(ch2), offered(ch2, b)])
        .await;
    desk.one(may(1, 12, 5, 5), accepted(ch2, b)).await; // pickup 5 s
    desk.one(may(1, 12, 6, 0), message(ch2, b)).await;
    desk.one(may(1, 12, 7, 0), message(ch2, b)).await;
    // T3 routed by a rule: its transfer and tag are nobody's (docs/TICKETS.md, Routing
    // rules: the rule is the actor).
    desk.at(
        may(1, 12, 10, 0),
        vec![
            created(t3),
            transferred(t3, x, rule()),
            tagged(t3, "auto", rule()),
            TicketAssigned {
                ticket: t3,
                agent: b,
                by: rule(),
            }
            .into(),
        ],
    )
    .await;
    desk.at(may(1, 12, 10, 0), ringing(k3, b)).await;
    desk.one(may(1, 12, 10, 5), call_answered(k3, b)).await;
    desk.one(may(1, 12, 12, 5), call_ended(k3, Some(b))).await; // 2 min = 120 s
    let k3_ref = ConversationRef::call(k3);
    desk.one(may(1, 12, 20, 0), rated(k3_ref, b, Rating::Negative, None))
        .await;
    // Ch2: 12:05:05–12:25:05 = 20 min.
    desk.one(may(1, 12, 25, 5), chat_ended(ch2, Some(b))).await;
    // T1 is `answered` (A, 10:50), not new or open: no wait; B handles T1 too.
    desk.one(may(1, 12, 30, 0), answered(t1, b, 200)).await;
    desk.one(may(1, 12, 40, 0), answered(t3, b, 150)).await; // wait 12:10→12:40 = 30 min (first)
    desk.one(may(1, 12, 45, 0), tagged(t3, "x", by(b))).await;
    desk.one(may(1, 12, 46, 0), tagged(t1, "y", by(b))).await;
    desk.one(may(1, 12, 47, 0), tagged(t3, "z", by(b))).await; // B tagged T3, T1: 2 tickets
    desk.one(may(1, 12, 48, 0), transferred(t1, y, integration()))
        .await; // not an agent: nobody's
    desk.one(may(1, 12, 50, 0), transferred(t3, y, by(b))).await; // B's transfer

    // --- May 1, afternoon: A's second session ----------------------------------------------
    desk.one(may(1, 13, 0, 0), online(a)).await;
    desk.at(may(1, 13, 0, 0), vec![chat_started(ch3), offered(ch3, a)])
        .await;
    desk.one(may(1, 13, 0, 30), accepted(ch3, a)).await; // pickup 30 s
    desk.one(may(1, 13, 5, 0), message(ch3, a)).await;
    desk.one(may(1, 13, 10, 0), resolved(t2, by(a))).await; // 11:20→13:10 = 110 min
    desk.at(may(1, 13, 15, 0), ringing(k5, a)).await;
    desk.one(may(1, 13, 15, 10), call_answered(k5, a)).await; // K5 never ends
    desk.at(may(1, 13, 20, 0), replied_to_resolved(t2)).await; // T2 open since 13:20
    desk.one(may(1, 13, 30, 0), resolved(t1, by(a))).await; // 09:05→13:30 = 265 min
    desk.one(may(1, 13, 30, 30), chat_ended(ch3, Some(a))).await; // 13:00:30–13:30:30 = 30 min
    let ch3_ref = ConversationRef::chat(ch3);
    desk.one(may(1, 13, 35, 0), rated(ch3_ref, a, Rating::Positive, None))
        .await;
    desk.one(may(1, 13, 40, 0), answered(t2, a, 500)).await; // wait 13:20→13:40 = 20 min
    desk.at(may(1, 13, 45, 0), vec![chat_started(ch5), offered(ch5, a)])
        .await;
    desk.one(may(1, 13, 45, 30), chat_missed(ch5, a)).await; // A's second missed chat
    desk.one(may(1, 13, 50, 0), chat_ended(ch5, None)).await; // never accepted: nobody's
    desk.one(may(1, 13, 50, 0), deleted(t3, by(a))).await;
    // Pause 3: planned 14:00–14:30, closed by going offline at 14:10: 10 min.
    desk.one(may(1, 14, 0, 0), paused(a, Some(may(1, 14, 30, 0))))
        .await;
    desk.at(may(1, 14, 0, 0), vec![chat_started(ch4), offered(ch4, b)])
        .await;
    desk.one(may(1, 14, 0, 30), chat_missed(ch4, b)).await; // B's missed chat
    desk.one(may(1, 14, 1, 0), offered(ch4, b)).await;
    // pickup 20 s; Ch4 never ends
    desk.one(may(1, 14, 1, 20), accepted(ch4, b)).await;
    // again: 11:20→14:05 = 165 min
    desk.one(may(1, 14, 5, 0), resolved(t2, by(a))).await;
    // Session 2: online 13:00–14:10 = 70 min, paused 14:00–14:10 = 10 min, working 60 min.
    desk.at(may(1, 14, 10, 0), offline_while_paused(a)).await;
    let t1_ref = ConversationRef::ticket(t1);
    // T1's last answer is B's: the rating is B's.
    desk.one(may(1, 14, 30, 0), rated(t1_ref, b, Rating::Positive, None))
        .await;

    // --- May 1, afternoon: B -------------------------------------------------------------
    desk.at(may(1, 14, 59, 50), ringing(k4, b)).await;
    desk.one(may(1, 15, 0, 0), call_answered(k4, b)).await;
    desk.one(may(1, 15, 0, 0), created(t4)).await; // T4 new since 15:00
    desk.one(may(1, 15, 10, 0), call_ended(k4, Some(b))).await; // 10 min = 600 s
    desk.at(may(1, 15, 20, 0), ringing(k6, b)).await;
    desk.one(may(1, 15, 20, 30), call_missed(k6, b)).await; // B's missed call
    desk.one(may(1, 15, 21, 0), call_ended(k6, None)).await;
    // wait 30 min (first)
    desk.one(may(1, 15, 30, 0), answered(t4, b, 1000)).await;
    // T4 open since 15:40
    desk.one(may(1, 15, 40, 0), replied(t4)).await;
    // Wait 15:40:00.000 → 15:50:00.002 = 600_002 ms.
    desk.one(may(1, 15, 50, 0).plus_millis(2), answered(t4, b, 20))
        .await;
    desk.one(may(1, 15, 55, 0), answered(t4, b, 30)).await; // no wait
    desk.one(may(1, 16, 0, 0), paused(b, None)).await; // B's pause: 16:00–17:00
    let t4_ref = ConversationRef::ticket(t4);
    desk.one(may(1, 16, 30, 0), rated(t4_ref, b, Rating::Positive, None))
        .await;
    // 15:00→16:40 = 100 min
    desk.one(may(1, 16, 40, 0), resolved(t4, by(b))).await;
    // Deactivation, as DeactivateAgent appends it for a paused agent.
    // B: online 12:00–17:00 = 300 min, paused 60 min, working 240 min = 4 h.
    let mut events = offline_while_paused(b);
    events.push(deactivated(b));
    desk.at(may(1, 17, 0, 0), events).await;

    // --- May 1 evening into May 2: A across midnight -------------------------------------
    desk.one(may(1, 22, 0, 0), online(a)).await;
    // Pause 4: planned 23:30–00:30, which ends by itself; the next event of A is going
    // offline at 01:00 (its AgentResumed{went_offline} comes after the planned end).
    desk.one(may(1, 23, 30, 0), paused(a, Some(may(2, 0, 30, 0))))
        .await;
    // Session 3: online 22:00–01:00 (May 1: 120 min, May 2: 60 min); paused 23:30–00:30
    // (May 1: 30, May 2: 30); working 22:00–23:30 (May 1: 90) and 00:30–01:00 (May 2: 30).
    desk.at(may(2, 1, 0, 0), offline_while_paused(a)).await;

    // --- May 2 -------------------------------------------------------------------------
    desk.one(may(2, 9, 0, 0), online(a)).await;
    // T1 open since 09:10
    desk.at(may(2, 9, 10, 0), replied_to_resolved(t1)).await;
    // wait 20 min; A's again (handled once)
    desk.one(may(2, 9, 30, 0), answered(t1, a, 40)).await;
    // The customer rates T1 again: now A's (last answerer), replacing B's positive.
    desk.one(
        may(2, 9, 40, 0),
        rated(t1_ref, a, Rating::Negative, Some((Rating::Positive, b))),
    )
    .await;
    // Pause 5: planned 10:00–10:20; never resumed by any event.
    desk.one(may(2, 10, 0, 0), paused(a, Some(may(2, 10, 20, 0))))
        .await;
    desk.one(may(2, 12, 0, 0), tick()).await;

    // ===================================================================== at May 2 12:00
    // A is online since 09:00, worked 09:00–10:00 (closed by the pause, stored), paused
    // 10:00–10:20, and works again since 10:20: open intervals up to 12:00.
    // Work: closed 285 (May 1) + 30 + 60 (May 2) + open 10:20–12:00 = 100 → 475 min.
    // Online: closed 370 + 60 + open 09:00–12:00 = 180 → 610 min. Paused: 85 + 30 + 20.
    let view = desk.view().await;
    let noon = all_time(&view, a);
    assert_eq!(noon.work_ms, 475 * MIN as u64, "A's work time at 12:00");
    assert_eq!(noon.online_ms, 610 * MIN as u64, "A's online time at 12:00");
    assert_eq!(noon.pause_ms, 135 * MIN as u64, "A's pause time at 12:00");

    // A later tick moves the time of the latest event: 12:05.
    desk.one(may(2, 12, 5, 0), tick()).await;
    let view = desk.view().await;

    // ===================================================================== A, day by day
    // May 1 (every event of A that day; see the comments above):
    let a_may_1 = Counters {
        answers: 5,            // T1 ×3 (09:20, 10:45, 10:50), T2 ×2 (11:50, 13:40)
        chats: 2,              // Ch1, Ch3
        missed_chats: 2,       // Ch1 (09:30:20), Ch5
        chat_answers: 4,       // Ch1 ×3, Ch3 ×1
        calls: 2,              // K1, K5
        call_ms: 300_000,      // K1 only (K5 has not ended)
        missed_calls: 1,       // K2
        rewards: 2,            // Ch1 (negative replaced by positive), Ch3
        punishments: 0,        // T1's negative is given on May 2
        handled: 6,            // T1, T2, Ch1, Ch3, K1, K5 (K1's rating was retracted)
        transfers: 1,          // T2 (11:55)
        tickets_tagged: 1,     // T2, tagged twice
        resolved: 3,           // T2 13:10, T1 13:30, T2 14:05
        deleted: 1,            // T3
        pauses: 4,             // 10:00, 11:00, 14:00, 23:30
        pause_ms: 5_100_000,   // 30 + 15 + 10 + 30 (23:30–24:00) = 85 min
        online_ms: 22_200_000, // 180 + 70 + 120 (22:00–24:00) = 370 min
        work_ms: 17_100_000,   // 135 + 60 + 90 = 285 min = 370 − 85
        answer_chars: 1_030,   // 100 + 300 + 50 + 80 + 500
        longest_answer: 500,
        chat_pickup_ms: 40_000, // Ch1 10 s + Ch3 30 s
        chat_pickups: 2,
        chat_ms: 2_640_000, // Ch1 14 min + Ch3 30 min = 44 min
        chats_ended: 2,
        longest_chat_ms: 1_800_000, // Ch3, 30 min
        calls_ended: 1,
        longest_call_ms: 300_000,
        first_answer_ms: 2_700_000, // T1 09:05→09:20 = 15 min + T2 11:20→11:50 = 30 min
        first_answers: 2,
        resolution_ms: 32_400_000, // 110 + 265 + 165 = 540 min
        resolutions: 3,
        answer_wait_ms: 7_800_000, // 15 + 65 + 30 + 20 = 130 min
        answer_waits: 4,
    };
    // May 2, as stored (the open intervals are added by queries, not stored):
    let a_may_2 = Counters {
        answers: 1,           // T1 09:30
        punishments: 1,       // T1's negative, given 09:40
        pauses: 1,            // 10:00
        pause_ms: 1_800_000,  // 00:00–00:30
        online_ms: 3_600_000, // 00:00–01:00
        work_ms: 5_400_000,   // 00:30–01:00 + 09:00–10:00 = 90 min
        answer_chars: 40,
        longest_answer: 40,
        answer_wait_ms: 1_200_000, // open since 09:10 → 09:30
        answer_waits: 1,
        ..Counters::default()
    };
    assert_eq!(
        days(&view, a),
        BTreeMap::from([(d1, a_may_1), (d2, a_may_2)]),
        "A's day buckets"
    );

    // ============================================================ A, all time at 12:05
    // Open at 12:05: online 09:00–12:05 = 185 min; paused 10:00–10:20 = 20 min (ended by
    // itself); working 10:20–12:05 = 105 min.
    let a_all = Counters {
        answers: 6,
        chats: 2,
        missed_chats: 2,
        chat_answers: 4,
        calls: 2,
        call_ms: 300_000,
        missed_calls: 1,
        rewards: 2,
        punishments: 1,
        handled: 6, // T1 answered on both days still counts once
        transfers: 1,
        tickets_tagged: 1,
        resolved: 3,
        deleted: 1,
        pauses: 5,
        pause_ms: 8_100_000,   // 85 + 30 + 20 = 135 min
        online_ms: 36_900_000, // 370 + 60 + 185 = 615 min
        work_ms: 28_800_000,   // 285 + 90 + 105 = 480 min = 8 h = 615 − 135
        answer_chars: 1_070,
        longest_answer: 500,
        chat_pickup_ms: 40_000,
        chat_pickups: 2,
        chat_ms: 2_640_000,
        chats_ended: 2,
        longest_chat_ms: 1_800_000,
        calls_ended: 1,
        longest_call_ms: 300_000,
        first_answer_ms: 2_700_000,
        first_answers: 2,
        resolution_ms: 32_400_000,
        resolutions: 3,
        answer_wait_ms: 9_000_000, // 130 + 20 = 150 min
        answer_waits: 5,
    };
    let a_stats = stats(&view, a, Window::AllTime);
    assert_eq!(
        (a_stats.name.as_str(), a_stats.active),
        ("Ana", true),
        "A's record"
    );
    assert_eq!(a_stats.counters, a_all, "A over all time");

    // $worktime = 8 h; the _ph rates divide by 8; handled = 6.
    assert_values(
        "A",
        &a_all.values(),
        &[
            (Variable::Worktime, 8.0),
            (Variable::Answers, 6.0),
            (Variable::Chats, 2.0),
            (Variable::MissedChats, 2.0),
            (Variable::ChatAnswers, 4.0),
            (Variable::Calls, 2.0),
            (Variable::CallSeconds, 300.0),
            (Variable::MissedCalls, 1.0),
            (Variable::Rewards, 2.0),
            (Variable::Punishments, 1.0),
            (Variable::NotRanked, 3.0),      // T2, K1 (retracted), K5
            (Variable::AnswersPh, 0.75),     // 6 / 8
            (Variable::ChatsPh, 0.25),       // 2 / 8
            (Variable::ChatAnswersPh, 0.5),  // 4 / 8
            (Variable::CallsPh, 0.25),       // 2 / 8
            (Variable::CallSecondsPh, 37.5), // 300 / 8
            (Variable::RewardsP, 100.0 * 2.0 / 6.0),
            (Variable::PunishmentsP, 100.0 * 1.0 / 6.0),
            (Variable::NotRankedP, 50.0), // 100 × 3 / 6
        ],
    );
    assert_invariant("A", &a_all);
    assert_statistics(
        "A",
        &a_all,
        &[
            (Statistic::Transfers, Some(1), 1),
            (Statistic::PausedSeconds, Some(8_100_000), 8_100_000),
            (Statistic::NegativeRatings, Some(1), 1),
            // 150 min / 5 = 30 min
            (Statistic::MeanAnswerWait, Some(1_800_000), 5),
            // (10 s + 30 s) / 2
            (Statistic::MeanChatPickup, Some(20_000), 2),
            (Statistic::PositiveRatings, Some(2), 2),
            (Statistic::PausesStarted, Some(5), 5),
            (Statistic::LongestAnswer, Some(500), 6),
            (Statistic::TicketsTagged, Some(1), 1),
            // 540 min / 3 = 180 min
            (Statistic::MeanResolution, Some(10_800_000), 3),
            // online and not paused: 480 min
            (Statistic::OnlineSeconds, Some(28_800_000), 28_800_000),
            (Statistic::LongestChat, Some(1_800_000), 2),
            (Statistic::ResolutionsAndDeletions, Some(4), 4),
            (Statistic::LongestCall, Some(300_000), 1),
        ],
    );

    // ===================================================================== A, windows
    assert_eq!(
        stats(&view, a, Window::Days { from: d1, to: d1 }).counters,
        a_may_1,
        "A's May 1 (no interval open that day)"
    );
    // May 2 = what is stored + the open intervals: online 60 + 185 = 245 min, paused
    // 30 + 20 = 50 min, working 90 + 105 = 195 min.
    assert_eq!(
        stats(&view, a, Window::Days { from: d2, to: d2 }).counters,
        Counters {
            pause_ms: 3_000_000,
            online_ms: 14_700_000,
            work_ms: 11_700_000,
            ..a_may_2
        },
        "A's May 2 with the intervals still open"
    );
    assert_eq!(
        stats(&view, a, Window::Days { from: d1, to: d2 }).counters,
        a_all,
        "May 1–2 is all of A's history"
    );
    assert_eq!(
        stats(
            &view,
            a,
            Window::Days {
                from: d1 - 30,
                to: d1 - 1
            }
        )
        .counters,
        Counters::default(),
        "nothing before May 1"
    );
    assert_eq!(
        stats(
            &view,
            a,
            Window::Days {
                from: d2 + 1,
                to: d2 + 7
            }
        )
        .counters,
        Counters::default(),
        "nothing after May 2 (the open intervals end at the model's time)"
    );

    // ============================================================================ B
    // B's whole history is on May 1, and B is deactivated (nothing open).
    let b_all = Counters {
        answers: 5,        // T1 12:30, T3 12:40, T4 15:30, 15:50, 15:55
        chats: 2,          // Ch2, Ch4
        missed_chats: 1,   // Ch4 (14:00:30)
        chat_answers: 2,   // Ch2 ×2
        calls: 2,          // K3, K4
        call_ms: 720_000,  // K3 120 s + K4 600 s
        missed_calls: 1,   // K6
        rewards: 1,        // T4 (T1's positive was replaced by A's negative on May 2)
        punishments: 1,    // K3
        handled: 7,        // T1, T3, T4, Ch2, Ch4, K3, K4
        transfers: 1,      // T3 12:50 (the rule's transfer of T3 is nobody's)
        tickets_tagged: 2, // T3 (twice), T1
        resolved: 1,       // T4
        deleted: 0,
        pauses: 1,
        pause_ms: 3_600_000,   // 16:00–17:00
        online_ms: 18_000_000, // 12:00–17:00 = 300 min
        work_ms: 14_400_000,   // 300 − 60 = 240 min = 4 h
        answer_chars: 1_400,   // 200 + 150 + 1000 + 20 + 30
        longest_answer: 1_000,
        chat_pickup_ms: 25_000, // Ch2 5 s + Ch4 20 s (from its second offer)
        chat_pickups: 2,
        chat_ms: 1_200_000, // Ch2 20 min; Ch4 has not ended
        chats_ended: 1,
        longest_chat_ms: 1_200_000,
        calls_ended: 2,
        longest_call_ms: 600_000,
        first_answer_ms: 3_600_000, // T3 30 min + T4 30 min (T1's first answer was A's)
        first_answers: 2,
        resolution_ms: 6_000_000, // 100 min
        resolutions: 1,
        answer_wait_ms: 4_200_002, // T3 30 min + T4 30 min + T4 600_002 ms (T1 was answered)
        answer_waits: 3,
    };
    let b_stats = stats(&view, b, Window::AllTime);
    assert_eq!(
        (b_stats.name.as_str(), b_stats.active),
        ("Bo", false),
        "B is deactivated"
    );
    assert_eq!(b_stats.counters, b_all, "B over all time");
    assert_eq!(
        days(&view, b),
        BTreeMap::from([(d1, b_all)]),
        "B's only day"
    );
    assert_values(
        "B",
        &b_all.values(),
        &[
            (Variable::Worktime, 4.0),
            (Variable::Answers, 5.0),
            (Variable::Chats, 2.0),
            (Variable::MissedChats, 1.0),
            (Variable::ChatAnswers, 2.0),
            (Variable::Calls, 2.0),
            (Variable::CallSeconds, 720.0),
            (Variable::MissedCalls, 1.0),
            (Variable::Rewards, 1.0),
            (Variable::Punishments, 1.0),
            (Variable::NotRanked, 5.0),       // T1, T3, Ch2, Ch4, K4
            (Variable::AnswersPh, 1.25),      // 5 / 4
            (Variable::ChatsPh, 0.5),         // 2 / 4
            (Variable::ChatAnswersPh, 0.5),   // 2 / 4
            (Variable::CallsPh, 0.5),         // 2 / 4
            (Variable::CallSecondsPh, 180.0), // 720 / 4
            (Variable::RewardsP, 100.0 / 7.0),
            (Variable::PunishmentsP, 100.0 / 7.0),
            (Variable::NotRankedP, 500.0 / 7.0),
        ],
    );
    assert_invariant("B", &b_all);
    assert_statistics(
        "B",
        &b_all,
        &[
            (Statistic::Transfers, Some(1), 1),
            (Statistic::PausedSeconds, Some(3_600_000), 3_600_000),
            (Statistic::NegativeRatings, Some(1), 1),
            // 4_200_002 / 3 = 1_400_000.67, rounded to 1_400_001
            (Statistic::MeanAnswerWait, Some(1_400_001), 3),
            // 25 s / 2
            (Statistic::MeanChatPickup, Some(12_500), 2),
            (Statistic::PositiveRatings, Some(1), 1),
            (Statistic::PausesStarted, Some(1), 1),
            (Statistic::LongestAnswer, Some(1_000), 5),
            (Statistic::TicketsTagged, Some(2), 2),
            (Statistic::MeanResolution, Some(6_000_000), 1),
            (Statistic::OnlineSeconds, Some(14_400_000), 14_400_000),
            (Statistic::LongestChat, Some(1_200_000), 1),
            (Statistic::ResolutionsAndDeletions, Some(1), 1),
            (Statistic::LongestCall, Some(600_000), 2),
        ],
    );

    // ============================================================================ C
    // C did nothing: every counter 0, every rate and share 0 (their divisors are 0),
    // no mean.
    let c_stats = stats(&view, c, Window::AllTime);
    assert_eq!(
        (c_stats.name.as_str(), c_stats.active, c_stats.counters),
        ("Cy", true, Counters::default())
    );
    assert!(days(&view, c).is_empty(), "C has no day");
    assert_values(
        "C",
        &c_stats.counters.values(),
        &Variable::ALL.map(|v| (v, 0.0)),
    );
    assert_invariant("C", &c_stats.counters);
    assert_statistics(
        "C",
        &c_stats.counters,
        &[
            (Statistic::Transfers, Some(0), 0),
            (Statistic::PausedSeconds, Some(0), 0),
            (Statistic::NegativeRatings, Some(0), 0),
            (Statistic::MeanAnswerWait, None, 0),
            (Statistic::MeanChatPickup, None, 0),
            (Statistic::PositiveRatings, Some(0), 0),
            (Statistic::PausesStarted, Some(0), 0),
            (Statistic::LongestAnswer, Some(0), 0),
            (Statistic::TicketsTagged, Some(0), 0),
            (Statistic::MeanResolution, None, 0),
            (Statistic::OnlineSeconds, Some(0), 0),
            (Statistic::LongestChat, Some(0), 0),
            (Statistic::ResolutionsAndDeletions, Some(0), 0),
            (Statistic::LongestCall, Some(0), 0),
        ],
    );

    // ============================================================ agents and departments
    let everyone = view.agents(Window::AllTime, None).expect("agents");
    assert_eq!(
        everyone
            .iter()
            .map(|s| (s.agent, s.active, s.counters))
            .collect::<Vec<_>>(),
        vec![
            (a.uuid(), true, a_all),
            (b.uuid(), false, b_all),
            (c.uuid(), true, Counters::default()),
        ],
        "every agent, deactivated ones too"
    );
    let in_x = view
        .agents(Window::AllTime, Some(x.uuid()))
        .expect("agents");
    assert_eq!(
        in_x.iter().map(|s| s.agent).collect::<Vec<_>>(),
        vec![a.uuid(), c.uuid()],
        "X's members: A and C (B left)"
    );
    assert_eq!(in_x[0].counters, a_all);
    assert!(
        view.agents(Window::AllTime, Some(y.uuid()))
            .expect("agents")
            .is_empty(),
        "Y has no members"
    );
    let x_may_1 = view
        .agents(Window::Days { from: d1, to: d1 }, Some(x.uuid()))
        .expect("agents");
    assert_eq!(
        x_may_1
            .iter()
            .map(|s| (s.agent, s.counters))
            .collect::<Vec<_>>(),
        vec![(a.uuid(), a_may_1), (c.uuid(), Counters::default())],
        "X on May 1"
    );
    assert!(view
        .agent(agent(9).uuid(), Window::AllTime)
        .unwrap()
        .is_none());

    // ================================================================ replay, from scratch
    // docs/STATISTICS.md, Time: a replay (another store, other batches) yields the same
    // records.
    let data = tempfile::tempdir().expect("temp dir");
    let mut fresh = projector(Stats::default(), &desk.log, data.path(), 1_000);
    let replayed = caught_up(&mut fresh).await;
    assert_eq!(
        replayed,
        dump(&desk.projector.handle().tree()).unwrap(),
        "a replay gives the same records"
    );
}

// ---------------------------------------------------------------------- daylight saving

/// Day buckets in Europe/Berlin (set after a start in UTC), over the days of 23 and 25
/// hours of 2024 (docs/STATISTICS.md, Time and Badges: "a daylight-saving day has 23 or 25
/// hours").
#[tokio::test]
async fn days_follow_the_organization_zone_across_daylight_saving() {
    let e = agent(1);
    let t9 = ticket(9);
    let h = |hours: i64| (hours * HOUR) as u64;
    let m = |minutes: i64| (minutes * MIN) as u64;
    let mar_29 = days_from_civil(2024, 3, 29);
    assert_eq!(mar_29, 19_811); // 2024-03-01 is day 19_783; + 28
    let (mar_30, mar_31, apr_1) = (mar_29 + 1, mar_29 + 2, mar_29 + 3);
    let oct_26 = days_from_civil(2024, 10, 26);
    let (oct_27, oct_28) = (oct_26 + 1, oct_26 + 2);

    let mut desk = Desk::new();
    desk.one(utc(2024, 3, 29, 12, 0), org_set_up("UTC")).await;
    desk.one(utc(2024, 3, 29, 12, 0), registered(e, "Eve"))
        .await;
    desk.one(utc(2024, 3, 29, 23, 0), created(t9)).await;
    // Still UTC: 23:30Z is on March 29 (in Berlin it would be March 30, 00:30).
    desk.one(utc(2024, 3, 29, 23, 30), answered(t9, e, 10))
        .await; // wait 30 min (first)
    desk.one(utc(2024, 3, 30, 12, 0), zone_changed("Europe/Berlin"))
        .await;

    // Spring: online Sat 30 March 22:00 CET (21:00Z) to Mon 1 April 01:00 CEST
    // (31 March 23:00Z) = 26 h: 2 h on March 30, the whole 23-hour March 31, 1 h on
    // April 1.
    desk.one(utc(2024, 3, 30, 21, 0), online(e)).await;
    // open since 23:00Z
    desk.one(utc(2024, 3, 30, 23, 0), replied(t9)).await;
    // 23:30Z is 00:30 CET on March 31 in Berlin (March 30 in UTC).
    desk.one(utc(2024, 3, 30, 23, 30), answered(t9, e, 20))
        .await; // wait 30 min
    desk.one(utc(2024, 3, 31, 23, 0), offline(e)).await;

    // Autumn: online Sat 26 October 23:00 CEST (21:00Z); paused at 02:30 CEST (00:30Z)
    // for 60 minutes: the planned end is 02:30 CET (01:30Z), the same wall time an hour
    // later. Never resumed by an event; the model's time moves with ticks.
    desk.one(utc(2024, 10, 26, 21, 0), online(e)).await;
    desk.one(
        utc(2024, 10, 27, 0, 30),
        paused(e, Some(utc(2024, 10, 27, 1, 30))),
    )
    .await;
    // Mon 28 October 00:30 CET = 27 October 23:30Z.
    desk.one(utc(2024, 10, 27, 23, 30), tick()).await;

    let view = desk.view().await;
    let (zone, today) = view.today().expect("today");
    assert_eq!(zone.iana_name(), Some("Europe/Berlin"));
    assert_eq!(
        today, oct_28,
        "23:30Z on October 27 is October 28 in Berlin"
    );

    // Stored so far: March 29 (UTC), the spring session, and the autumn work 21:00Z–00:30Z
    // closed by the pause: 1 h on October 26 (until 22:00Z = midnight CEST), 2.5 h on
    // October 27.
    let mar_29_day = Counters {
        answers: 1,
        handled: 1,
        answer_chars: 10,
        longest_answer: 10,
        first_answer_ms: m(30),
        first_answers: 1,
        answer_wait_ms: m(30),
        answer_waits: 1,
        ..Counters::default()
    };
    let mar_31_day = Counters {
        answers: 1,
        answer_chars: 20,
        longest_answer: 20,
        answer_wait_ms: m(30),
        answer_waits: 1,
        online_ms: h(23),
        work_ms: h(23),
        ..Counters::default()
    };
    let online_work = |ms: u64| Counters {
        online_ms: ms,
        work_ms: ms,
        ..Counters::default()
    };
    assert_eq!(
        days(&view, e),
        BTreeMap::from([
            (mar_29, mar_29_day),
            (mar_30, online_work(h(2))),
            (mar_31, mar_31_day),
            (apr_1, online_work(h(1))),
            (
                oct_26,
                Counters {
                    work_ms: h(1),
                    ..Counters::default()
                }
            ),
            (
                oct_27,
                Counters {
                    work_ms: m(150),
                    pauses: 1,
                    ..Counters::default()
                }
            ),
        ]),
        "E's stored days"
    );

    // With the open intervals (up to 23:30Z): online since 21:00Z: October 26 1 h,
    // October 27 25 h (22:00Z → 23:00Z next day), October 28 0.5 h. Paused 00:30Z–01:30Z
    // (1 h, October 27). Working again since 01:30Z: October 27 21.5 h, October 28 0.5 h.
    // October 27: online 25 h, paused 1 h, working 2.5 + 21.5 = 24 h.
    let oct_26_day = online_work(h(1));
    let oct_27_day = Counters {
        online_ms: h(25),
        work_ms: h(24),
        pause_ms: h(1),
        pauses: 1,
        ..Counters::default()
    };
    let oct_28_day = online_work(m(30));
    let window = |from: Day, to: Day| stats(&view, e, Window::Days { from, to }).counters;
    assert_eq!(window(oct_26, oct_26), oct_26_day, "October 26");
    assert_eq!(window(oct_27, oct_27), oct_27_day, "October 27: 25 hours");
    assert_eq!(window(oct_28, oct_28), oct_28_day, "October 28, so far");
    assert_eq!(window(mar_31, mar_31), mar_31_day, "March 31: 23 hours");
    assert_eq!(
        window(mar_30, apr_1),
        Counters {
            online_ms: h(26),
            work_ms: h(26),
            ..mar_31_day
        },
        "March 30 – April 1: 2 + 23 + 1 hours"
    );
    assert_eq!(window(apr_1 + 1, oct_26 - 1), Counters::default());

    // All time: online 26 + 26.5 h; paused 1 h; working 26 + 25.5 h.
    let e_all = Counters {
        answers: 2,
        handled: 1,
        answer_chars: 30,
        longest_answer: 20,
        first_answer_ms: m(30),
        first_answers: 1,
        answer_wait_ms: m(60),
        answer_waits: 2,
        pauses: 1,
        pause_ms: h(1),
        online_ms: m(52 * 60 + 30),
        work_ms: m(51 * 60 + 30),
        ..Counters::default()
    };
    assert_eq!(all_time(&view, e), e_all, "E over all time");
    assert_values(
        "E",
        &e_all.values(),
        &[
            (Variable::Worktime, 51.5),
            (Variable::Answers, 2.0),
            (Variable::Chats, 0.0),
            (Variable::MissedChats, 0.0),
            (Variable::ChatAnswers, 0.0),
            (Variable::Calls, 0.0),
            (Variable::CallSeconds, 0.0),
            (Variable::MissedCalls, 0.0),
            (Variable::Rewards, 0.0),
            (Variable::Punishments, 0.0),
            (Variable::NotRanked, 1.0),
            (Variable::AnswersPh, 2.0 / 51.5),
            (Variable::ChatsPh, 0.0),
            (Variable::ChatAnswersPh, 0.0),
            (Variable::CallsPh, 0.0),
            (Variable::CallSecondsPh, 0.0),
            (Variable::RewardsP, 0.0),
            (Variable::PunishmentsP, 0.0),
            (Variable::NotRankedP, 100.0),
        ],
    );

    // Going offline now (what GoOffline appends: the pause is still open in the command
    // side's state) stores what the queries added, in the same days.
    desk.at(utc(2024, 10, 27, 23, 30), offline_while_paused(e))
        .await;
    let view = desk.view().await;
    let stored = days(&view, e);
    assert_eq!(
        (stored[&oct_26], stored[&oct_27], stored[&oct_28]),
        (oct_26_day, oct_27_day, oct_28_day),
        "the autumn days, stored"
    );
    assert_eq!(all_time(&view, e), e_all, "nothing changed by closing");
}

// ------------------------------------------------------------ open intervals at midnight

/// A pause resumed early by an admin, then a planned pause across midnight that ends by
/// itself: the queries split the open intervals at midnight, the late AgentResumed and
/// going offline store exactly what the queries showed.
#[tokio::test]
async fn open_intervals_split_at_midnight_and_planned_ends_hold() {
    let f = agent(1);
    let m = |minutes: i64| (minutes * MIN) as u64;
    let may_10 = days_from_civil(2024, 5, 10);
    assert_eq!(may_10, 19_853); // May 1 is 19_844
    let may_11 = may_10 + 1;

    let mut desk = Desk::new();
    desk.one(may(10, 8, 0, 0), registered(f, "Fay")).await; // no setup: the zone is UTC
    desk.one(may(10, 19, 0, 0), online(f)).await;
    // Planned 19:30–20:30, resumed by an admin at 19:50: 20 minutes.
    desk.one(may(10, 19, 30, 0), paused(f, Some(may(10, 20, 30, 0))))
        .await;
    desk.one(may(10, 19, 50, 0), resumed(f, ResumeReason::ByAdmin))
        .await;
    // Planned 23:00–01:00; nothing of F's happens before 02:00.
    desk.one(may(10, 23, 0, 0), paused(f, Some(may(11, 1, 0, 0))))
        .await;
    desk.one(may(11, 2, 0, 0), tick()).await;

    // Stored: the work 19:00–19:30 and 19:50–23:00 (30 + 190 = 220 min), the first pause.
    let view = desk.view().await;
    assert_eq!(
        days(&view, f),
        BTreeMap::from([(
            may_10,
            Counters {
                pauses: 2,
                pause_ms: m(20),
                work_ms: m(220),
                ..Counters::default()
            }
        )]),
        "F's stored days at 02:00"
    );
    // May 10: online 19:00–24:00 = 300 min; paused 20 + 60 (23:00–24:00) = 80 min;
    // working 300 − 80 = 220 min.
    // May 11 up to 02:00: online 120 min; paused 00:00–01:00 = 60 min; working
    // 01:00–02:00 = 60 min (the planned end has come).
    let may_10_day = Counters {
        pauses: 2,
        pause_ms: m(80),
        online_ms: m(300),
        work_ms: m(220),
        ..Counters::default()
    };
    let may_11_day = Counters {
        pause_ms: m(60),
        online_ms: m(120),
        work_ms: m(60),
        ..Counters::default()
    };
    let window =
        |view: &StatsView, from: Day, to: Day| stats(view, f, Window::Days { from, to }).counters;
    assert_eq!(window(&view, may_10, may_10), may_10_day, "May 10");
    assert_eq!(window(&view, may_11, may_11), may_11_day, "May 11 so far");
    let mut both = may_10_day;
    both.add(&may_11_day);
    assert_eq!(window(&view, may_10, may_11), both, "May 10–11");
    assert_eq!(all_time(&view, f), both, "all time");
    assert_eq!(
        all_time(&view, f).values().get(Variable::Worktime),
        (220.0 + 60.0) / 60.0,
        "$worktime: 280 min"
    );

    // The planned end's AgentResumed, late (its time in the model is 02:00): it stores
    // the pause up to 01:00, not 02:00, and the queries do not change.
    desk.one(may(11, 1, 0, 0), resumed(f, ResumeReason::PlannedEnd))
        .await;
    let view = desk.view().await;
    assert_eq!(window(&view, may_10, may_10), may_10_day, "May 10, after");
    assert_eq!(window(&view, may_11, may_11), may_11_day, "May 11, after");
    assert_eq!(
        days(&view, f)[&may_11],
        Counters {
            pause_ms: m(60),
            ..Counters::default()
        },
        "the pause 00:00–01:00 is stored on May 11"
    );

    // Offline at 03:00: May 11 has online 180 min, paused 60, working 120.
    desk.one(may(11, 3, 0, 0), offline(f)).await;
    let view = desk.view().await;
    let may_11_day = Counters {
        pause_ms: m(60),
        online_ms: m(180),
        work_ms: m(120),
        ..Counters::default()
    };
    assert_eq!(
        days(&view, f),
        BTreeMap::from([(may_10, may_10_day), (may_11, may_11_day)]),
        "F's stored days after going offline"
    );
    // A later tick adds nothing: F is offline.
    desk.one(may(12, 9, 0, 0), tick()).await;
    let view = desk.view().await;
    let mut both = may_10_day;
    both.add(&may_11_day);
    assert_eq!(all_time(&view, f), both, "offline: nothing open");
}
