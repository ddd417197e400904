//! The badges read model on a real embedded log (docs/STATISTICS.md, Badges): a scripted
//! fortnight in `Europe/Berlin` (with the spring daylight-saving change) whose holders of
//! all 15 shipped badges are worked out by hand, the evaluation timing (a day closes only
//! once the log holds an event at or after its midnight), ratings retracted before and
//! after an evaluation, a custom badge and a disabled one, and the Four-leaf Clover's draw.
//!
//! Every expected number is worked out by hand from the rules in docs/STATISTICS.md in the
//! comments next to it; none is copied from what the code prints.

mod common;

use common::*;
use helpdesk_domain::event::{
    AgentPaused, AgentRegistered, AgentResumed, AgentWentOffline, AgentWentOnline, BadgeCustomized,
    BadgeDefined, CallAnswered, CallEnded, CallIncoming, CallRinging, ChatAccepted, ChatEnded,
    ChatOffered, ChatStarted, ClockTicked, ConversationRated, DepartmentCreated, OrganizationSetUp,
    OrganizationSettingsChanged, RatingRetracted, TicketAnswered, TicketCreated,
    TicketCustomerReplied, TicketDeleted, TicketReopened, TicketResolved, TicketTagged,
    TicketTransferred, TicketUntagged,
};
use helpdesk_domain::{
    Actor, AgentId, AggregateId, Best, CallId, Channel, ChatId, ConversationRef, DepartmentId,
    Event, PauseReason, Priority, Rating, ResumeReason, Role, Statistic, TicketId, Timestamp,
    TokenId,
};
use helpdesk_projections::badges::{Badges, BadgesView, Evaluation, Holder};
use helpdesk_projections::calendar::{day_start, days_from_civil, format_day, Day};
use helpdesk_projections::runtime::dump;
use helpdesk_projections::Projector;
use helpdesk_rules::badges::{clover, BADGES};
use uuid::Uuid;

// ----------------------------------------------------------------------------------- time

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// 2024-03-24T00:00:00Z: 19_806 days × 86_400_000 ms.
const MAR_24_UTC: i64 = 1_711_238_400_000;
/// 2024-03-24, day 0 of the fortnight (a Sunday): 2024-03-01 is day 19_783, + 23.
const D0: Day = 19_806;

/// Day `d` of the fortnight: 0 = Sun 2024-03-24, 1 = Mon 03-25, …, 7 = Sun 03-31 (the
/// daylight-saving change: 23 hours), 8 = Mon 04-01, …, 14 = Sun 04-07.
fn day(d: i32) -> Day {
    D0 + d
}

/// `hh:mm:ss` on the wall clock in Berlin on day `d` of the fortnight, as an instant.
/// Berlin is on CET (UTC+1) until Sunday 2024-03-31 02:00, when the clocks jump to 03:00
/// CEST (UTC+2); 02:xx does not exist that night.
fn berlin(d: i64, hh: i64, mm: i64, ss: i64) -> Timestamp {
    assert!(!(d == 7 && hh == 2), "02:xx does not exist on 2024-03-31");
    let offset = if d < 7 || (d == 7 && hh < 2) { 1 } else { 2 };
    Timestamp::from_millis(MAR_24_UTC + d * DAY + hh * HOUR + mm * MIN + ss * SEC - offset * HOUR)
}

/// 2024-05-05T00:00:00Z (19_848 days): day 0 of the clover's days, in UTC.
const MAY_5_UTC: i64 = 1_714_867_200_000;

/// `hh:mm` UTC on day `d` after 2024-05-05.
fn may5(d: i64, hh: i64, mm: i64) -> Timestamp {
    Timestamp::from_millis(MAY_5_UTC + d * DAY + hh * HOUR + mm * MIN)
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

/// The customer-facing integration (customer replies, a transfer and a deletion by an
/// integration, which no agent made).
fn integration() -> Actor {
    Actor::Integration(TokenId::from_uuid(id(7, 1)))
}

fn by(a: AgentId) -> Actor {
    Actor::Agent(a)
}

// --------------------------------------------------------------------------------- events

fn org_set_up(seed: [u8; 32], time_zone: &str) -> Event {
    OrganizationSetUp {
        seed,
        time_zone: time_zone.into(),
    }
    .into()
}

fn odds(clover_odds: f64) -> Event {
    OrganizationSettingsChanged {
        time_zone: None,
        auto_pause: None,
        clover_odds: Some(clover_odds),
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

fn department_created(d: DepartmentId, name: &str) -> Event {
    DepartmentCreated {
        department: d,
        name: name.into(),
        to_solve_enabled: true,
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

fn reopened(t: TicketId, who: Actor) -> Event {
    TicketReopened { ticket: t, by: who }.into()
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

fn untagged(t: TicketId, tag: &str, who: Actor) -> Event {
    TicketUntagged {
        ticket: t,
        tag: tag.into(),
        by: who,
    }
    .into()
}

/// A chat comes in and is offered to `a` (one envelope, as routing appends it).
fn chat_offered(c: ChatId, a: AgentId) -> Vec<Event> {
    vec![
        ChatStarted {
            chat: c,
            channel: Channel::Chat,
            department: None,
        }
        .into(),
        ChatOffered { chat: c, agent: a }.into(),
    ]
}

fn accepted(c: ChatId, a: AgentId) -> Event {
    ChatAccepted { chat: c, agent: a }.into()
}

fn chat_ended(c: ChatId, a: AgentId) -> Event {
    ChatEnded {
        chat: c,
        agent: Some(a),
    }
    .into()
}

/// A call comes in, rings `a` and is answered (one envelope each, same instant).
fn call_answered(k: CallId, a: AgentId) -> Vec<Vec<Event>> {
    vec![
        vec![
            CallIncoming {
                call: k,
                department: None,
            }
            .into(),
            CallRinging { call: k, agent: a }.into(),
        ],
        vec![CallAnswered { call: k, agent: a }.into()],
    ]
}

fn call_ended(k: CallId, a: AgentId) -> Event {
    CallEnded {
        call: k,
        agent: Some(a),
    }
    .into()
}

fn rated(conversation: ConversationRef, a: AgentId, rating: Rating) -> Event {
    ConversationRated {
        conversation,
        agent: a,
        rating,
        replaces: None,
        replaced_agent: None,
    }
    .into()
}

fn re_rated(conversation: ConversationRef, a: AgentId, rating: Rating, old: Rating) -> Event {
    ConversationRated {
        conversation,
        agent: a,
        rating,
        replaces: Some(old),
        replaced_agent: Some(a),
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
        Event::OrganizationSetUp(_)
        | Event::OrganizationSettingsChanged(_)
        | Event::BadgeDefined(_)
        | Event::BadgeCustomized(_) => AggregateId::config(),
        Event::ClockTicked(_) => AggregateId::clock(),
        Event::AgentRegistered(e) => AggregateId::agent(e.agent),
        Event::AgentWentOnline(e) => AggregateId::agent(e.agent),
        Event::AgentWentOffline(e) => AggregateId::agent(e.agent),
        Event::AgentPaused(e) => AggregateId::agent(e.agent),
        Event::AgentResumed(e) => AggregateId::agent(e.agent),
        Event::DepartmentCreated(e) => AggregateId::department(e.department),
        Event::TicketCreated(e) => AggregateId::ticket(e.ticket),
        Event::TicketAnswered(e) => AggregateId::ticket(e.ticket),
        Event::TicketCustomerReplied(e) => AggregateId::ticket(e.ticket),
        Event::TicketReopened(e) => AggregateId::ticket(e.ticket),
        Event::TicketResolved(e) => AggregateId::ticket(e.ticket),
        Event::TicketDeleted(e) => AggregateId::ticket(e.ticket),
        Event::TicketTransferred(e) => AggregateId::ticket(e.ticket),
        Event::TicketTagged(e) => AggregateId::ticket(e.ticket),
        Event::TicketUntagged(e) => AggregateId::ticket(e.ticket),
        Event::ChatStarted(e) => AggregateId::chat(e.chat),
        Event::ChatOffered(e) => AggregateId::chat(e.chat),
        Event::ChatAccepted(e) => AggregateId::chat(e.chat),
        Event::ChatEnded(e) => AggregateId::chat(e.chat),
        Event::CallIncoming(e) => AggregateId::call(e.call),
        Event::CallAnswered(e) => AggregateId::call(e.call),
        Event::CallEnded(e) => AggregateId::call(e.call),
        Event::ConversationRated(e) => e.conversation.rating_aggregate(),
        Event::RatingRetracted(e) => e.conversation.rating_aggregate(),
        other => panic!("no aggregate for {}", other.name()),
    }
}

// ---------------------------------------------------------------------------------- desk

/// A log, a badges projector over it (small batches, so evaluations land in the middle
/// of batches as well as at their edges), and its data directory.
struct Desk {
    log: TestLog,
    _data: tempfile::TempDir,
    projector: Projector<Badges>,
}

impl Desk {
    fn new() -> Self {
        let log = TestLog::new();
        let data = tempfile::tempdir().expect("temp dir");
        let projector = projector(Badges::new(), &log, data.path(), 3);
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

    /// Several envelopes at one instant.
    async fn all(&mut self, time: Timestamp, envelopes: Vec<Vec<Event>>) {
        for events in envelopes {
            self.at(time, events).await;
        }
    }

    /// Catches the projector up and returns the queries on it.
    async fn view(&mut self) -> BadgesView {
        caught_up(&mut self.projector).await;
        BadgesView::new(self.projector.handle())
    }

    /// The records after a rebuild of the same store, and those of a fresh projector with
    /// one big batch: both must equal `records` byte for byte.
    async fn assert_replays_identically(&mut self) {
        let records = Self::records(&mut self.projector).await;
        self.projector.rebuild().expect("rebuild");
        let rebuilt = Self::records(&mut self.projector).await;
        assert!(rebuilt == records, "a rebuild gives the same records");
        let other = tempfile::tempdir().expect("temp dir");
        let mut fresh = projector(Badges::new(), &self.log, other.path(), 1_000);
        let fresh_records = Self::records(&mut fresh).await;
        assert!(
            fresh_records == records,
            "one big batch gives the same records"
        );
        assert!(!records.is_empty());
    }

    /// Catches `projector` up and dumps its records (the runtime's own left out).
    async fn records(projector: &mut Projector<Badges>) -> Vec<(Vec<u8>, Vec<u8>)> {
        projector.catch_up(|_, _| {}).await.expect("catch up");
        dump(&projector.handle().tree()).expect("dump")
    }
}

/// An expected evaluation: badge key, window (first and last day), holders, value,
/// runner-up value, competitors.
type Want<'a> = (
    &'a str,
    (Day, Day),
    &'a [AgentId],
    Option<u64>,
    Option<u64>,
    u32,
);

/// The evaluation of `key` at midnight `day`, holders in agent order.
fn got(view: &BadgesView, key: &str, day: Day) -> Evaluation {
    let mut evaluation = view
        .evaluation(key, day)
        .expect("query")
        .unwrap_or_else(|| panic!("{key} is evaluated at {}", format_day(day)));
    evaluation.holders.sort_by_key(|h| h.agent);
    evaluation
}

/// What an evaluation must be. Each holder's value is the best value (none for the
/// clover, which has no value).
fn expected(
    day: Day,
    (from, to): (Day, Day),
    holders: &[AgentId],
    value: Option<u64>,
    runner_up: Option<u64>,
    competitors: u32,
) -> Evaluation {
    let mut holders: Vec<Holder> = holders
        .iter()
        .map(|a| Holder {
            agent: a.uuid(),
            value,
        })
        .collect();
    holders.sort_by_key(|h| h.agent);
    Evaluation {
        day,
        from,
        to,
        holders,
        value,
        runner_up,
        competitors,
    }
}

/// The latest evaluation's midnight.
fn current_day(view: &BadgesView, key: &str) -> Option<Day> {
    view.current(key).expect("query").map(|e| e.day)
}

fn clover_holders(view: &BadgesView, day: Day) -> Vec<Uuid> {
    got(view, "four_leaf_clover", day)
        .holders
        .iter()
        .map(|h| h.agent)
        .collect()
}

fn sorted(agents: &[AgentId]) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = agents.iter().map(|a| a.uuid()).collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------- the fortnight

/// Ana (A), Bo (B), Cy (C) and Di (D), in `Europe/Berlin`, from Sunday 2024-03-24 (day 0)
/// to Sunday 2024-04-07 (day 14); the clocks go forward on day 7 (Sunday 03-31, a day of
/// 23 hours). All times below are Berlin wall-clock times. The clover's odds are 1, so
/// every agent active on a day draws it.
///
/// ## Day 0 (before every window of the midnight of day 8)
/// T0a created 22:00, A answers 22:10 and it is rated positive 22:20 (A: +1 positive on
/// day 0); C tags T0a 22:30 (C's first tag of T0a ever); Tb3 created 23:00; B transfers
/// T0a 23:30 (day 0: outside).
///
/// ## Week one: days 1–7
/// - d1: A transfers T0a at 00:30 (= Sun 23:30 UTC: day 1 only in local days); B resolves
///   Tb3 at 00:30 (created d0 23:00: 90 min). A online 09:00, paused 12:00–12:30,
///   offline 17:00 (work 7 h 30). T1: A answers, rated positive (A).
/// - d2: B online 08:00, paused 09:00 with a planned end at 10:00 (its resume appended at
///   10:00), offline 16:00 (work 1 h + 6 h). T2: A answers, rated negative (A). C
///   transfers T1 and tags it thrice (a, b, c). T3: A answers, rated positive (A). T11: C
///   answers, rated positive (C) — retracted on d3.
/// - d3: A transfers T2; C tags T2. D online 09:00, four pauses of 10 min (10:00, 11:00,
///   12:00, 13:00), offline 15:00 (work 6 h − 40 min = 5 h 20). D resolves T8, T9, T10
///   (created 09:00) at 09:40, 09:45, 09:50:00.001. D tags T4, T5, T6, T7; T4: D answers,
///   rated negative (D); T5: B answers, rated positive (B).
/// - d4: T2's rating replaced by a positive one (A). B resolves T12 (30 min) and T13
///   (60 min), transfers T3, deletes T14 and T15. An integration transfers and deletes
///   T16. C online 08:00, paused 10:00–10:20, offline 14:00 (work 2 h + 3 h 40); C tags
///   T0a again.
/// - d5: C answers T17–T21; T17, T18, T19 rated negative, T20, T21 positive (C); C
///   transfers T4, deletes T22. A resolves T23 and T24, one minute after creation each.
/// - d6: D online 01:00, and stays online to the end. T25: D answers, rated negative (D).
///   T17, T18's ratings retracted. C answers T32 (12:10). C's 2-hour call K0 (14–16).
///   Chat H0 offered to C 22:59:59, accepted 23:00. C answers T26 with 5,000 characters
///   at 23:30 (outside the previous-day window of day 8).
/// - d7 (23 h: 00:00 CET = Sat 23:00 UTC to 24:00 CEST = Sun 22:00 UTC): A answers T27
///   (created d6 22:30) with 1,200 characters at 00:30 (= Sat 23:30 UTC). H0 ends 01:30.
///   B's call KB 01:50 CET → 03:10 CEST: 20 minutes. B answers T28, T29 at 08:10 and T30
///   at 08:10:00.002 (all created 08:00), tags T28, answers T28 again at 08:20. A answers
///   T34 (created 08:00) at 10:00. C answers T31 (09:00 → 09:05), T32 (customer reply
///   09:00 → 09:06), T33 (09:00 → 09:07). A's call KA 11:00–11:15. Chats offered and
///   accepted: A 2 (1 s each, 10 min long), B 3 (5 s, 6 s, 8 s; 1 h, 10 min, 5 min), C 3
///   (4 s, 9 s, 7 s; 5 min each). HB2 rated negative (B) at 15:00. C online 20:00, B
///   online 21:00; B paused 22:00 with a planned end at 22:30 whose resume event is not
///   in the log before midnight; C paused 23:15 (still paused at midnight); chat HL offered
///   to B 23:39:53.997, accepted 23:40:00 (6.003 s), still running at midnight. D did
///   nothing all day (only online).
///
/// ## Midnight of day 8 (Mon 04-01 00:00 CEST = Sun 22:00 UTC)
/// Windows: 7 days = days 1..=7 (03-25 to 03-31); previous day = day 7 (03-31).
///
/// | badge | A | B | C | D | holders | value | runner-up | competitors |
/// |---|---|---|---|---|---|---|---|---|
/// | traffic_controller | 2 (d1 00:30, d3) | 1 (d4; d0 outside) | 2 (d2, d5) | 0 | A, C | 2 | 1 | 3 |
/// | siesta (ms) | 1_800_000 | 3_600_000 + 1_800_000 (22:00 → planned end 22:30) = 5_400_000 | 1_200_000 + 2_700_000 (23:15 → midnight) = 3_900_000 | 4 × 600_000 = 2_400_000 | B | 5_400_000 | 3_900_000 | 4 |
/// | unruly_rebel | 0 (replaced) | 1 (retracted only on d8) | 3 − 2 retracted = 1 | 2 | D | 2 | 1 | 3 |
/// | inspector (d7, ≥ 3) | 2 samples of 7_200_000: does not compete | (600_000 + 600_000 + 600_002) / 3 = 600_000.67 → 600_001 (T28's 2nd answer: no sample) | (300_000 + 360_000 + 420_000) / 3 = 360_000 | — | B | 600_001 | 360_000 | 2 |
/// | speedy_gonzales (d7, ≥ 3, min) | 2 samples of 1_000: does not compete | (5_000 + 6_000 + 8_000 + 6_003) / 4 = 6_250.75 → 6_251 | (4_000 + 9_000 + 7_000) / 3 = 6_666.67 → 6_667 | — | B | 6_251 | 6_667 | 2 |
/// | recognized | 3 (T1, T3, T2 re-rated; T0a on d0) | 1 | 2 (T11 retracted) | 0 | A | 3 | 2 | 3 |
/// | coffee_lover | 1 | 2 | 2 | 4 | D | 4 | 2 | 4 |
/// | novelist (d7) | 1_200 | 900 | 700 (5_000 on d6) | — | A | 1_200 | 900 | 3 |
/// | tag_hanger | 0 | 1 | T1 (×3), T2, T0a = 3 distinct (5 tags) | 4 | D | 4 | 3 | 3 |
/// | four_leaf_clover (d7) | active | active | active | no event on d7 | A, B, C | — | — | 0 |
/// | express (≥ 3, min) | 2 × 60_000: does not compete | (5_400_000 + 1_800_000 + 3_600_000) / 3 = 3_600_000 | — | (2_400_000 + 2_700_000 + 3_000_001) / 3 = 2_700_000.33 → 2_700_000 | D | 2_700_000 | 3_600_000 | 2 |
/// | diligent (ms) | 27_000_000 | 25_200_000 + 3_600_000 + 5_400_000 (22:30 → midnight) = 34_200_000 | 20_400_000 + 11_700_000 = 32_100_000 | 19_200_000 + 23 h (d6) + 23 h (d7, to midnight) = 184_800_000 | D | 184_800_000 | 34_200_000 | 4 |
/// | chatterbox (d7) | 600_000 | 3_600_000 (HL still running) | H0: d6 23:00 CET → d7 01:30 CET = 9_000_000 | — | C | 9_000_000 | 3_600_000 | 3 |
/// | cleaner | 2 | 3 + 2 = 5 | 1 | 3 | B | 5 | 3 | 4 |
/// | spokesman (d7) | 900_000 | 00:50 → 01:10 UTC = 1_200_000 | (K0 ended d6) | — | B | 1_200_000 | 900_000 | 2 |
#[tokio::test]
async fn a_scripted_fortnight_gives_hand_checked_holders_of_all_fifteen_badges() {
    let (a, b, c, d) = (agent(1), agent(2), agent(3), agent(4));
    let billing = dept(1);
    let t = ticket;
    assert_eq!(days_from_civil(2024, 3, 24), D0);
    assert_eq!(MAR_24_UTC, i64::from(D0) * DAY);
    // Local midnights: day 7 starts at 23:00 UTC the day before, day 8 at 22:00 UTC.
    let berlin_zone = jiff::tz::db().get("Europe/Berlin").expect("zone");
    assert_eq!(day_start(day(7), &berlin_zone), berlin(7, 0, 0, 0));
    assert_eq!(berlin(7, 0, 0, 0).millis(), MAR_24_UTC + 7 * DAY - HOUR);
    assert_eq!(day_start(day(8), &berlin_zone), berlin(8, 0, 0, 0));
    assert_eq!(berlin(8, 0, 0, 0).millis(), MAR_24_UTC + 8 * DAY - 2 * HOUR);

    let mut desk = Desk::new();

    // --- day 0 -------------------------------------------------------------------------
    desk.one(berlin(0, 11, 0, 0), org_set_up([7; 32], "Europe/Berlin"))
        .await;
    desk.one(berlin(0, 11, 0, 0), odds(1.0)).await;
    desk.one(berlin(0, 11, 0, 0), department_created(billing, "Billing"))
        .await;
    desk.one(berlin(0, 12, 0, 0), registered(a, "Ana")).await;
    desk.one(berlin(0, 12, 0, 0), registered(b, "Bo")).await;
    desk.one(berlin(0, 12, 0, 0), registered(c, "Cy")).await;
    desk.one(berlin(0, 12, 0, 0), registered(d, "Di")).await;
    let view = desk.view().await;
    // Registration is not activity: no midnight is due before an agent does something.
    assert_eq!(view.schedule().expect("schedule").next, None);

    let t0a = t(100);
    let tb3 = t(103);
    desk.one(berlin(0, 22, 0, 0), created(t0a)).await;
    desk.one(berlin(0, 22, 10, 0), answered(t0a, a, 300)).await;
    // The first activity: the first midnight evaluated is the next one, day 1's.
    let view = desk.view().await;
    assert_eq!(view.schedule().expect("schedule").next, Some(day(1)));
    assert_eq!(
        current_day(&view, "diligent"),
        None,
        "nothing evaluated yet"
    );
    desk.one(
        berlin(0, 22, 20, 0),
        rated(ConversationRef::ticket(t0a), a, Rating::Positive),
    )
    .await;
    desk.one(berlin(0, 22, 30, 0), tagged(t0a, "vip", by(c)))
        .await;
    desk.one(berlin(0, 23, 0, 0), created(tb3)).await;
    desk.one(berlin(0, 23, 30, 0), transferred(t0a, billing, by(b)))
        .await;

    // --- day 1 -------------------------------------------------------------------------
    desk.one(berlin(1, 0, 30, 0), transferred(t0a, billing, by(a)))
        .await;
    desk.one(berlin(1, 0, 30, 0), resolved(tb3, by(b))).await;
    desk.one(berlin(1, 9, 0, 0), online(a)).await;
    desk.one(berlin(1, 9, 10, 0), created(t(1))).await;
    desk.one(berlin(1, 9, 20, 0), answered(t(1), a, 200)).await;
    desk.one(
        berlin(1, 9, 30, 0),
        rated(ConversationRef::ticket(t(1)), a, Rating::Positive),
    )
    .await;
    desk.one(berlin(1, 12, 0, 0), paused(a, None)).await;
    desk.one(berlin(1, 12, 30, 0), resumed(a, ResumeReason::Manual))
        .await;
    desk.one(berlin(1, 17, 0, 0), offline(a)).await;

    // --- day 2 -------------------------------------------------------------------------
    desk.one(berlin(2, 8, 0, 0), online(b)).await;
    desk.one(berlin(2, 9, 0, 0), paused(b, Some(berlin(2, 10, 0, 0))))
        .await;
    desk.one(berlin(2, 10, 0, 0), resumed(b, ResumeReason::PlannedEnd))
        .await;
    desk.one(berlin(2, 10, 0, 0), created(t(2))).await;
    desk.one(berlin(2, 10, 30, 0), answered(t(2), a, 150)).await;
    desk.one(
        berlin(2, 11, 0, 0),
        rated(ConversationRef::ticket(t(2)), a, Rating::Negative),
    )
    .await;
    desk.one(berlin(2, 11, 0, 0), transferred(t(1), billing, by(c)))
        .await;
    desk.one(berlin(2, 11, 5, 0), tagged(t(1), "a", by(c)))
        .await;
    desk.one(berlin(2, 11, 6, 0), tagged(t(1), "b", by(c)))
        .await;
    desk.one(berlin(2, 11, 7, 0), tagged(t(1), "c", by(c)))
        .await;
    desk.one(berlin(2, 12, 0, 0), created(t(3))).await;
    desk.one(berlin(2, 12, 15, 0), answered(t(3), a, 150)).await;
    desk.one(
        berlin(2, 12, 30, 0),
        rated(ConversationRef::ticket(t(3)), a, Rating::Positive),
    )
    .await;
    desk.one(berlin(2, 13, 0, 0), created(t(11))).await;
    desk.one(berlin(2, 13, 10, 0), answered(t(11), c, 100))
        .await;
    desk.one(
        berlin(2, 13, 20, 0),
        rated(ConversationRef::ticket(t(11)), c, Rating::Positive),
    )
    .await;
    desk.one(berlin(2, 16, 0, 0), offline(b)).await;

    // --- day 3 -------------------------------------------------------------------------
    desk.one(berlin(3, 9, 0, 0), transferred(t(2), billing, by(a)))
        .await;
    desk.one(berlin(3, 9, 0, 0), online(d)).await;
    for n in [8, 9, 10] {
        desk.one(berlin(3, 9, 0, 0), created(t(n))).await;
    }
    desk.one(berlin(3, 9, 30, 0), tagged(t(2), "billing", by(c)))
        .await;
    desk.one(berlin(3, 9, 40, 0), resolved(t(8), by(d))).await;
    desk.one(berlin(3, 9, 45, 0), resolved(t(9), by(d))).await;
    desk.one(berlin(3, 9, 50, 0).plus_millis(1), resolved(t(10), by(d)))
        .await;
    desk.one(
        berlin(3, 10, 0, 0),
        retracted(ConversationRef::ticket(t(11)), c, Rating::Positive),
    )
    .await;
    for hh in [10, 11, 12, 13] {
        desk.one(berlin(3, hh, 0, 0), paused(d, None)).await;
        desk.one(berlin(3, hh, 10, 0), resumed(d, ResumeReason::Manual))
            .await;
    }
    for n in [4, 5, 6, 7] {
        desk.one(berlin(3, 13, 50, 0), created(t(n))).await;
    }
    for n in [4, 5, 6, 7] {
        desk.one(berlin(3, 14, 0, 0), tagged(t(n), "hardware", by(d)))
            .await;
    }
    desk.one(berlin(3, 14, 10, 0), answered(t(4), d, 100)).await;
    desk.one(berlin(3, 14, 15, 0), answered(t(5), b, 100)).await;
    desk.one(
        berlin(3, 14, 20, 0),
        rated(ConversationRef::ticket(t(4)), d, Rating::Negative),
    )
    .await;
    desk.one(
        berlin(3, 14, 30, 0),
        rated(ConversationRef::ticket(t(5)), b, Rating::Positive),
    )
    .await;
    desk.one(berlin(3, 15, 0, 0), offline(d)).await;

    // --- day 4 -------------------------------------------------------------------------
    desk.one(berlin(4, 8, 0, 0), online(c)).await;
    desk.one(
        berlin(4, 9, 0, 0),
        re_rated(
            ConversationRef::ticket(t(2)),
            a,
            Rating::Positive,
            Rating::Negative,
        ),
    )
    .await;
    desk.one(berlin(4, 9, 0, 0), created(t(12))).await;
    desk.one(berlin(4, 9, 0, 0), created(t(13))).await;
    desk.one(berlin(4, 9, 30, 0), resolved(t(12), by(b))).await;
    desk.one(berlin(4, 10, 0, 0), resolved(t(13), by(b))).await;
    desk.one(berlin(4, 10, 0, 0), transferred(t(3), billing, by(b)))
        .await;
    desk.one(berlin(4, 10, 0, 0), paused(c, None)).await;
    desk.one(berlin(4, 10, 20, 0), resumed(c, ResumeReason::Manual))
        .await;
    desk.one(berlin(4, 11, 0, 0), tagged(t0a, "again", by(c)))
        .await;
    for n in [14, 15, 16] {
        desk.one(berlin(4, 11, 0, 0), created(t(n))).await;
    }
    desk.one(berlin(4, 11, 30, 0), deleted(t(14), by(b))).await;
    desk.one(berlin(4, 11, 30, 0), deleted(t(15), by(b))).await;
    desk.one(
        berlin(4, 11, 40, 0),
        transferred(t(16), billing, integration()),
    )
    .await;
    desk.one(berlin(4, 11, 40, 0), deleted(t(16), integration()))
        .await;
    desk.one(berlin(4, 14, 0, 0), offline(c)).await;

    // --- day 5 -------------------------------------------------------------------------
    for n in 17..=21 {
        desk.one(berlin(5, 8, 0, 0), created(t(n))).await;
    }
    for n in 17..=19 {
        desk.one(berlin(5, 8, 30, 0), answered(t(n), c, 100)).await;
    }
    for n in 20..=21 {
        desk.one(berlin(5, 8, 40, 0), answered(t(n), c, 100)).await;
    }
    desk.one(berlin(5, 9, 0, 0), transferred(t(4), billing, by(c)))
        .await;
    for n in 17..=19 {
        desk.one(
            berlin(5, 10, 0, 0),
            rated(ConversationRef::ticket(t(n)), c, Rating::Negative),
        )
        .await;
    }
    for n in 20..=21 {
        desk.one(
            berlin(5, 11, 0, 0),
            rated(ConversationRef::ticket(t(n)), c, Rating::Positive),
        )
        .await;
    }
    desk.one(berlin(5, 12, 0, 0), created(t(22))).await;
    desk.one(berlin(5, 12, 10, 0), deleted(t(22), by(c))).await;
    desk.one(berlin(5, 13, 0, 0), created(t(23))).await;
    desk.one(berlin(5, 13, 0, 0), created(t(24))).await;
    desk.one(berlin(5, 13, 1, 0), resolved(t(23), by(a))).await;
    desk.one(berlin(5, 13, 1, 0), resolved(t(24), by(a))).await;

    // --- day 6 -------------------------------------------------------------------------
    let (h0, k0) = (chat(100), call(100));
    desk.one(berlin(6, 1, 0, 0), online(d)).await;
    desk.one(berlin(6, 9, 0, 0), created(t(25))).await;
    desk.one(berlin(6, 9, 10, 0), answered(t(25), d, 100)).await;
    for n in [17, 18] {
        desk.one(
            berlin(6, 10, 0, 0),
            retracted(ConversationRef::ticket(t(n)), c, Rating::Negative),
        )
        .await;
    }
    desk.one(
        berlin(6, 11, 0, 0),
        rated(ConversationRef::ticket(t(25)), d, Rating::Negative),
    )
    .await;
    desk.one(berlin(6, 12, 0, 0), created(t(32))).await;
    desk.one(berlin(6, 12, 10, 0), answered(t(32), c, 100))
        .await;
    desk.all(berlin(6, 14, 0, 0), call_answered(k0, c)).await;
    desk.one(berlin(6, 16, 0, 0), call_ended(k0, c)).await;
    desk.one(berlin(6, 22, 30, 0), created(t(27))).await;
    desk.at(berlin(6, 22, 59, 59), chat_offered(h0, c)).await;
    desk.one(berlin(6, 23, 0, 0), accepted(h0, c)).await;
    desk.one(berlin(6, 23, 0, 0), created(t(26))).await;
    desk.one(berlin(6, 23, 30, 0), answered(t(26), c, 5_000))
        .await;

    // The midnight of day 7 is not evaluated yet: no event at or after it.
    let view = desk.view().await;
    assert_eq!(current_day(&view, "diligent"), Some(day(6)));

    // --- day 7 (23 hours) ----------------------------------------------------------------
    desk.one(berlin(7, 0, 30, 0), answered(t(27), a, 1_200))
        .await;
    // That answer closed day 6. Diligent over days 0..=6: A 27_000_000 (d1); B
    // 25_200_000 (d2); C 20_400_000 (d4); D 19_200_000 (d3) + 01:00 → 24:00 on d6, open
    // at midnight = 82_800_000: 102_000_000.
    let view = desk.view().await;
    assert_eq!(
        got(&view, "diligent", day(7)),
        expected(
            day(7),
            (day(0), day(6)),
            &[d],
            Some(102_000_000),
            Some(27_000_000),
            4
        )
    );

    let (kb, ka) = (call(101), call(102));
    desk.one(berlin(7, 1, 30, 0), chat_ended(h0, c)).await;
    desk.all(berlin(7, 1, 50, 0), call_answered(kb, b)).await;
    desk.one(berlin(7, 3, 10, 0), call_ended(kb, b)).await;
    for n in [28, 29, 30, 34] {
        desk.one(berlin(7, 8, 0, 0), created(t(n))).await;
    }
    desk.one(berlin(7, 8, 10, 0), answered(t(28), b, 900)).await;
    desk.one(berlin(7, 8, 10, 0), answered(t(29), b, 400)).await;
    desk.one(berlin(7, 8, 10, 0).plus_millis(2), answered(t(30), b, 400))
        .await;
    desk.one(berlin(7, 8, 15, 0), tagged(t(28), "urgent", by(b)))
        .await;
    // T28 is `answered` now: this answer takes it out of neither `new` nor `open`.
    desk.one(berlin(7, 8, 20, 0), answered(t(28), b, 100)).await;
    desk.one(berlin(7, 9, 0, 0), created(t(31))).await;
    desk.one(berlin(7, 9, 0, 0), created(t(33))).await;
    desk.one(berlin(7, 9, 0, 0), replied(t(32))).await;
    desk.one(berlin(7, 9, 5, 0), answered(t(31), c, 700)).await;
    desk.one(berlin(7, 9, 6, 0), answered(t(32), c, 700)).await;
    desk.one(berlin(7, 9, 7, 0), answered(t(33), c, 700)).await;
    desk.one(berlin(7, 10, 0, 0), answered(t(34), a, 300)).await;
    desk.all(berlin(7, 11, 0, 0), call_answered(ka, a)).await;
    desk.one(berlin(7, 11, 15, 0), call_ended(ka, a)).await;
    // A: two chats picked up in 1 s, 10 minutes long.
    let (ha1, ha2) = (chat(1), chat(2));
    desk.at(berlin(7, 12, 0, 0), chat_offered(ha1, a)).await;
    desk.one(berlin(7, 12, 0, 1), accepted(ha1, a)).await;
    desk.one(berlin(7, 12, 10, 1), chat_ended(ha1, a)).await;
    desk.at(berlin(7, 12, 20, 0), chat_offered(ha2, a)).await;
    desk.one(berlin(7, 12, 20, 1), accepted(ha2, a)).await;
    desk.one(berlin(7, 12, 30, 1), chat_ended(ha2, a)).await;
    // B: 5 s, 6 s, 8 s; 1 h, 10 min, 5 min.
    let (hb1, hb2, hb3) = (chat(11), chat(12), chat(13));
    desk.at(berlin(7, 13, 0, 0), chat_offered(hb1, b)).await;
    desk.one(berlin(7, 13, 0, 5), accepted(hb1, b)).await;
    desk.at(berlin(7, 13, 10, 0), chat_offered(hb2, b)).await;
    desk.one(berlin(7, 13, 10, 6), accepted(hb2, b)).await;
    desk.at(berlin(7, 13, 20, 0), chat_offered(hb3, b)).await;
    desk.one(berlin(7, 13, 20, 6), chat_ended(hb2, b)).await;
    desk.one(berlin(7, 13, 20, 8), accepted(hb3, b)).await;
    desk.one(berlin(7, 13, 25, 8), chat_ended(hb3, b)).await;
    // C: 4 s, 9 s, 7 s; 5 min each.
    let (hc1, hc2, hc3) = (chat(21), chat(22), chat(23));
    desk.at(berlin(7, 14, 0, 0), chat_offered(hc1, c)).await;
    desk.one(berlin(7, 14, 0, 4), accepted(hc1, c)).await;
    desk.one(berlin(7, 14, 0, 5), chat_ended(hb1, b)).await;
    desk.one(berlin(7, 14, 5, 4), chat_ended(hc1, c)).await;
    desk.at(berlin(7, 14, 10, 0), chat_offered(hc2, c)).await;
    desk.one(berlin(7, 14, 10, 9), accepted(hc2, c)).await;
    desk.one(berlin(7, 14, 15, 9), chat_ended(hc2, c)).await;
    desk.at(berlin(7, 14, 20, 0), chat_offered(hc3, c)).await;
    desk.one(berlin(7, 14, 20, 7), accepted(hc3, c)).await;
    desk.one(berlin(7, 14, 25, 7), chat_ended(hc3, c)).await;
    desk.one(
        berlin(7, 15, 0, 0),
        rated(ConversationRef::chat(hb2), b, Rating::Negative),
    )
    .await;
    desk.one(berlin(7, 20, 0, 0), online(c)).await;
    desk.one(berlin(7, 21, 0, 0), online(b)).await;
    desk.one(berlin(7, 22, 0, 0), paused(b, Some(berlin(7, 22, 30, 0))))
        .await;
    // (The policy's AgentResumed{planned_end} for 22:30 is not in the log yet.)
    desk.one(berlin(7, 23, 15, 0), paused(c, None)).await;
    desk.one(berlin(7, 23, 30, 0), created(t(35))).await;
    let hl = chat(30);
    desk.at(berlin(7, 23, 39, 53).plus_millis(997), chat_offered(hl, b))
        .await;
    desk.one(berlin(7, 23, 40, 0), accepted(hl, b)).await;
    // A tick one millisecond before midnight closes nothing.
    desk.one(berlin(8, 0, 0, 0).plus_millis(-1), tick()).await;

    let view = desk.view().await;
    for badge in BADGES {
        assert_eq!(
            current_day(&view, badge.key),
            Some(day(7)),
            "{}: the previous evaluation is still the current one",
            badge.key
        );
        assert_eq!(view.evaluation(badge.key, day(8)).expect("query"), None);
    }

    // --- midnight of day 8 -----------------------------------------------------------------
    desk.one(berlin(8, 0, 0, 0), tick()).await;
    let view = desk.view().await;
    let w7 = (day(1), day(7));
    let w1 = (day(7), day(7));
    #[rustfmt::skip]
    let want: [Want; 15] = [
        ("traffic_controller", w7, &[a, c], Some(2), Some(1), 3),
        ("siesta", w7, &[b], Some(5_400_000), Some(3_900_000), 4),
        ("unruly_rebel", w7, &[d], Some(2), Some(1), 3),
        ("inspector", w1, &[b], Some(600_001), Some(360_000), 2),
        ("speedy_gonzales", w1, &[b], Some(6_251), Some(6_667), 2),
        ("recognized", w7, &[a], Some(3), Some(2), 3),
        ("coffee_lover", w7, &[d], Some(4), Some(2), 4),
        ("novelist", w1, &[a], Some(1_200), Some(900), 3),
        ("tag_hanger", w7, &[d], Some(4), Some(3), 3),
        ("four_leaf_clover", w1, &[a, b, c], None, None, 0),
        ("express", w7, &[d], Some(2_700_000), Some(3_600_000), 2),
        ("diligent", w7, &[d], Some(184_800_000), Some(34_200_000), 4),
        ("chatterbox", w1, &[c], Some(9_000_000), Some(3_600_000), 3),
        ("cleaner", w7, &[b], Some(5), Some(3), 4),
        ("spokesman", w1, &[b], Some(1_200_000), Some(900_000), 2),
    ];
    for (badge, (key, ..)) in BADGES.iter().zip(want.iter()) {
        assert_eq!(
            badge.key, *key,
            "the table follows the order of docs/STATISTICS.md, Badges"
        );
    }
    for (key, window, holders, value, runner_up, competitors) in want {
        assert_eq!(
            got(&view, key, day(8)),
            expected(day(8), window, holders, value, runner_up, competitors),
            "{key} at the midnight of 2024-04-01"
        );
        assert_eq!(current_day(&view, key), Some(day(8)), "{key}");
    }

    // Who holds what now: A 4, B 6, C 3, D 5 (18 holders above).
    let held = |agent: AgentId| -> Vec<String> {
        let mut keys: Vec<String> = view
            .held_now(agent.uuid())
            .expect("held now")
            .into_iter()
            .map(|(def, evaluation)| {
                assert_eq!(evaluation.day, day(8));
                def.key
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        held(a),
        [
            "four_leaf_clover",
            "novelist",
            "recognized",
            "traffic_controller"
        ]
    );
    assert_eq!(
        held(b),
        [
            "cleaner",
            "four_leaf_clover",
            "inspector",
            "siesta",
            "speedy_gonzales",
            "spokesman"
        ]
    );
    assert_eq!(
        held(c),
        ["chatterbox", "four_leaf_clover", "traffic_controller"]
    );
    assert_eq!(
        held(d),
        [
            "coffee_lover",
            "diligent",
            "express",
            "tag_hanger",
            "unruly_rebel"
        ]
    );
    // An agent's history, newest day first, then by key.
    let history: Vec<(String, Day)> = view
        .agent_history(b.uuid(), 6)
        .expect("agent history")
        .into_iter()
        .map(|(key, evaluation)| (key, evaluation.day))
        .collect();
    let d8 = day(8);
    assert_eq!(
        history,
        [
            ("cleaner".to_string(), d8),
            ("four_leaf_clover".to_string(), d8),
            ("inspector".to_string(), d8),
            ("siesta".to_string(), d8),
            ("speedy_gonzales".to_string(), d8),
            ("spokesman".to_string(), d8),
        ]
    );

    // --- day 8, then three quiet days --------------------------------------------------
    // C answers T35 (created d7 23:30) with 8,000 characters at 00:30 (= Sun 22:30 UTC:
    // local day 8), C resumes; the planned end of B's pause (22:30 on day 7) is appended
    // late. HL ends 02:00 (accepted d7 23:40: 2 h 20 = 8_400_000). B's negative rating of
    // day 7 is retracted at 10:00, after the evaluation that counted it.
    desk.one(berlin(8, 0, 30, 0), answered(t(35), c, 8_000))
        .await;
    desk.one(berlin(8, 0, 30, 0), resumed(c, ResumeReason::Manual))
        .await;
    desk.one(berlin(7, 22, 30, 0), resumed(b, ResumeReason::PlannedEnd))
        .await;
    desk.one(berlin(8, 2, 0, 0), chat_ended(hl, b)).await;
    desk.one(
        berlin(8, 10, 0, 0),
        retracted(ConversationRef::chat(hb2), b, Rating::Negative),
    )
    .await;
    let view = desk.view().await;
    // The retraction after the evaluation changes nothing recorded.
    assert_eq!(
        got(&view, "unruly_rebel", day(8)),
        expected(day(8), w7, &[d], Some(2), Some(1), 3)
    );
    assert_eq!(current_day(&view, "unruly_rebel"), Some(day(8)));

    // Nothing more until Thursday 09:00 (day 11): days 8, 9 and 10 stay open …
    let view = desk.view().await;
    for badge in BADGES {
        assert_eq!(current_day(&view, badge.key), Some(day(8)), "{}", badge.key);
    }
    // … until one late event closes them all.
    desk.one(berlin(11, 9, 0, 0), tick()).await;
    let view = desk.view().await;
    for badge in BADGES {
        let days: Vec<Day> = view
            .history(badge.key, 4)
            .expect("history")
            .iter()
            .map(|e| e.day)
            .collect();
        assert_eq!(
            days,
            [day(11), day(10), day(9), day(8)],
            "{}: every quiet midnight is evaluated, newest first",
            badge.key
        );
    }

    // Midnight of day 9: 7 days = days 2..=8; previous day = day 8.
    // Diligent, open intervals up to each midnight (B and C online since d7, D since d6;
    // every day from day 8 on has 24 hours):
    //   B: 25_200_000 (d2) + 9_000_000 (d7) + 86_400_000 (d8)               = 120_600_000
    //   C: 20_400_000 (d4) + 11_700_000 (d7) + 84_600_000 (d8, from 00:30)   = 116_700_000
    //   D: 19_200_000 (d3) + 82_800_000 (d6) + 82_800_000 (d7) + 86_400_000 = 271_200_000
    //   A: nothing after day 1: does not compete.
    let w9 = (day(2), day(8));
    assert_eq!(
        got(&view, "diligent", day(9)),
        expected(day(9), w9, &[d], Some(271_200_000), Some(120_600_000), 3)
    );
    // Siesta: C 1_200_000 (d4) + 2_700_000 (d7) + 1_800_000 (d8, 00:00 → 00:30) =
    // 5_700_000; B 3_600_000 + 1_800_000 = 5_400_000; D 2_400_000.
    assert_eq!(
        got(&view, "siesta", day(9)),
        expected(day(9), w9, &[c], Some(5_700_000), Some(5_400_000), 3)
    );
    // Unruly Rebel: B's negative was retracted before this midnight: D 2, C 1.
    assert_eq!(
        got(&view, "unruly_rebel", day(9)),
        expected(day(9), w9, &[d], Some(2), Some(1), 2)
    );
    let p9 = (day(8), day(8));
    // Day 8: one answer (C, T35: 1 h wait, 8,000 characters), one chat ended (HL, B).
    assert_eq!(
        got(&view, "novelist", day(9)),
        expected(day(9), p9, &[c], Some(8_000), None, 1)
    );
    assert_eq!(
        got(&view, "chatterbox", day(9)),
        expected(day(9), p9, &[b], Some(8_400_000), None, 1)
    );
    // Nobody qualifies: no holders, no value, no runner-up.
    for key in ["inspector", "speedy_gonzales", "spokesman"] {
        assert_eq!(
            got(&view, key, day(9)),
            expected(day(9), p9, &[], None, None, 0),
            "{key}"
        );
    }
    // Clover: active on day 8 were B (HL ended, the retraction; the late planned end is
    // the policy's) and C (answer, resume); not A, not D.
    assert_eq!(clover_holders(&view, day(9)), sorted(&[b, c]));
    assert_eq!(clover_holders(&view, day(10)), sorted(&[]));
    assert_eq!(clover_holders(&view, day(11)), sorted(&[]));

    // Midnights of days 10 and 11, with nobody doing anything:
    //   day 10 (days 3..=9): B 9_000_000 + 2 × 86_400_000 = 181_800_000;
    //     C 20_400_000 (d4) + 11_700_000 + 84_600_000 + 86_400_000 = 203_100_000;
    //     D 19_200_000 + 82_800_000 + 82_800_000 + 2 × 86_400_000 = 357_600_000.
    //   day 11 (days 4..=10): B 9_000_000 + 3 × 86_400_000 = 268_200_000;
    //     C 20_400_000 + 11_700_000 + 84_600_000 + 2 × 86_400_000 = 289_500_000;
    //     D 82_800_000 + 82_800_000 + 3 × 86_400_000 = 424_800_000.
    assert_eq!(
        got(&view, "diligent", day(10)),
        expected(
            day(10),
            (day(3), day(9)),
            &[d],
            Some(357_600_000),
            Some(203_100_000),
            3
        )
    );
    assert_eq!(
        got(&view, "diligent", day(11)),
        expected(
            day(11),
            (day(4), day(10)),
            &[d],
            Some(424_800_000),
            Some(289_500_000),
            3
        )
    );
    // Coffee Lover at day 11 (days 4..=10): C 2 (d4, d7), B 1 (d7).
    assert_eq!(
        got(&view, "coffee_lover", day(11)),
        expected(day(11), (day(4), day(10)), &[c], Some(2), Some(1), 2)
    );

    // --- a custom badge, a disabled one ------------------------------------------------
    // Short Breaks: the least time paused over 3 days, among those paused 10 minutes or
    // more. Coffee Lover is disabled.
    desk.one(
        berlin(11, 9, 5, 0),
        BadgeDefined {
            key: "short_breaks".into(),
            name: "Short Breaks".into(),
            description: "Pauses, but briefly.".into(),
            statistic: Statistic::PausedSeconds,
            window_days: 3,
            best: Best::Min,
            minimum: 600,
        }
        .into(),
    )
    .await;
    desk.one(
        berlin(11, 9, 5, 0),
        BadgeCustomized {
            key: "coffee_lover".into(),
            name: None,
            description: None,
            image_url: None,
            visibility: None,
            enabled: Some(false),
        }
        .into(),
    )
    .await;
    // d11: B 10:00–10:15 (900 s).
    desk.one(berlin(11, 10, 0, 0), paused(b, None)).await;
    desk.one(berlin(11, 10, 15, 0), resumed(b, ResumeReason::Manual))
        .await;
    // d12: A online 09:00, paused 09:30–09:39 (540 s: under the minimum), offline 10:00;
    // C 10:00–10:20 (1,200 s).
    desk.one(berlin(12, 9, 0, 0), online(a)).await;
    desk.one(berlin(12, 9, 30, 0), paused(a, None)).await;
    desk.one(berlin(12, 9, 39, 0), resumed(a, ResumeReason::Manual))
        .await;
    desk.one(berlin(12, 10, 0, 0), offline(a)).await;
    desk.one(berlin(12, 10, 0, 0), paused(c, None)).await;
    desk.one(berlin(12, 10, 20, 0), resumed(c, ResumeReason::Manual))
        .await;
    // d13: B 10:00–10:05 (300 s); D 11:00 with a planned end at 11:30 (1,800 s).
    desk.one(berlin(13, 10, 0, 0), paused(b, None)).await;
    desk.one(berlin(13, 10, 5, 0), resumed(b, ResumeReason::Manual))
        .await;
    desk.one(berlin(13, 11, 0, 0), paused(d, Some(berlin(13, 11, 30, 0))))
        .await;
    desk.one(berlin(13, 11, 30, 0), resumed(d, ResumeReason::PlannedEnd))
        .await;
    desk.one(berlin(14, 0, 0, 0), tick()).await;
    let view = desk.view().await;
    let definitions = view.definitions().expect("definitions");
    assert_eq!(definitions.len(), 16);
    assert!(!definitions["coffee_lover"].enabled);
    assert!(!definitions["short_breaks"].builtin);
    // Defined after the midnight of day 11 was evaluated: first evaluated at day 12.
    assert_eq!(
        view.evaluation("short_breaks", day(11)).expect("query"),
        None
    );
    // day 12 (days 9..=11): B 900_000 alone: no runner-up.
    assert_eq!(
        got(&view, "short_breaks", day(12)),
        expected(day(12), (day(9), day(11)), &[b], Some(900_000), None, 1)
    );
    // day 13 (days 10..=12): B 900_000, C 1_200_000; A 540_000 does not compete.
    assert_eq!(
        got(&view, "short_breaks", day(13)),
        expected(
            day(13),
            (day(10), day(12)),
            &[b],
            Some(900_000),
            Some(1_200_000),
            2
        )
    );
    // day 14 (days 11..=13): B 900_000 + 300_000 = 1_200_000 and C 1_200_000 tie; D
    // 1_800_000; A 540_000 does not compete.
    assert_eq!(
        got(&view, "short_breaks", day(14)),
        expected(
            day(14),
            (day(11), day(13)),
            &[b, c],
            Some(1_200_000),
            Some(1_800_000),
            3
        )
    );
    // Coffee Lover is no longer evaluated (though B, C and D paused since).
    for n in [12, 13, 14] {
        assert_eq!(
            view.evaluation("coffee_lover", day(n)).expect("query"),
            None
        );
    }
    assert_eq!(current_day(&view, "coffee_lover"), Some(day(11)));
    assert_eq!(current_day(&view, "siesta"), Some(day(14)));

    desk.assert_replays_identically().await;
}

// ------------------------------------------------------------------------ the clover

/// The Four-leaf Clover in UTC, from Sunday 2024-05-05 (day 0). Seed: 32 bytes of 4.
///
/// - day 1 (odds 1): A goes online; B answers a ticket; C's only event is tagging T1
///   again (C tagged it on day 0); D's only event is the end of a planned pause, which the
///   policy appends (docs/TICKETS.md, Agents: presence and pauses: a late append must
///   change nothing derived, so it is not the agent's activity). Midnight of day 2: A, B,
///   C.
/// - day 2 (odds 1): A's only event is untagging T1; B's only event is reopening T2; D
///   goes online; C does nothing. Midnight of day 3: A, B, D.
/// - day 3 (odds 0): everybody works. Midnight of day 4: nobody.
/// - day 4 = 2024-05-09 (odds ½): everybody works. The draws, SHA-256([4; 32] ‖
///   "2024-05-09" ‖ uuid), computed independently (Python's hashlib), begin with:
///   A 571f937a…, B f7887324…, C 3a80f6f2…, D cd5dce77…; below ½ × 2^64 (a first byte
///   under 0x80): A and C. (With the date of the evaluated midnight, "2024-05-10", it would
///   have been C and D: ba6c…, cd29…, 7900…, 4801….)
#[tokio::test]
async fn the_four_leaf_clover_goes_to_active_agents_by_a_keyed_draw() {
    let (a, b, c, d) = (agent(1), agent(2), agent(3), agent(4));
    let (t1, t2) = (ticket(1), ticket(2));
    let seed = [4u8; 32];
    let day0: Day = 19_848; // 1_714_867_200 s / 86_400
    assert_eq!(day0, days_from_civil(2024, 5, 5));
    assert_eq!(MAY_5_UTC, i64::from(day0) * DAY);
    let mut desk = Desk::new();

    desk.one(may5(0, 8, 0), org_set_up(seed, "UTC")).await;
    for (who, name) in [(a, "Ana"), (b, "Bo"), (c, "Cy"), (d, "Di")] {
        desk.one(may5(0, 8, 0), registered(who, name)).await;
    }
    desk.one(may5(0, 8, 0), odds(1.0)).await;
    desk.one(may5(0, 9, 0), created(t1)).await;
    desk.one(may5(0, 9, 0), created(t2)).await;
    desk.one(may5(0, 9, 5), tagged(t1, "x", by(c))).await;
    desk.one(may5(0, 23, 0), paused(d, Some(may5(1, 1, 0))))
        .await;

    // Day 1.
    desk.one(may5(1, 1, 0), resumed(d, ResumeReason::PlannedEnd))
        .await;
    desk.one(may5(1, 9, 0), online(a)).await;
    desk.one(may5(1, 10, 0), answered(t2, b, 100)).await;
    desk.one(may5(1, 11, 0), tagged(t1, "y", by(c))).await;
    desk.one(may5(2, 0, 0), tick()).await;
    let view = desk.view().await;
    assert_eq!(
        got(&view, "four_leaf_clover", day0 + 2),
        expected(day0 + 2, (day0 + 1, day0 + 1), &[a, b, c], None, None, 0)
    );

    // Day 2.
    desk.one(may5(2, 9, 0), untagged(t1, "x", by(a))).await;
    desk.one(may5(2, 9, 30), reopened(t2, by(b))).await;
    desk.one(may5(2, 10, 0), online(d)).await;
    desk.one(may5(3, 0, 0), tick()).await;
    let view = desk.view().await;
    assert_eq!(clover_holders(&view, day0 + 3), sorted(&[a, b, d]));

    // Day 3: odds 0.
    desk.one(may5(3, 0, 30), odds(0.0)).await;
    desk.one(may5(3, 9, 0), offline(a)).await;
    desk.one(may5(3, 9, 0), answered(t2, b, 100)).await;
    desk.one(may5(3, 9, 0), tagged(t2, "z", by(c))).await;
    desk.one(may5(3, 9, 0), offline(d)).await;
    desk.one(may5(4, 0, 0), tick()).await;
    let view = desk.view().await;
    assert_eq!(clover_holders(&view, day0 + 4), sorted(&[]));

    // Day 4 (2024-05-09): odds ½.
    desk.one(may5(4, 0, 30), odds(0.5)).await;
    desk.one(may5(4, 9, 0), online(a)).await;
    desk.one(may5(4, 9, 0), answered(t2, b, 100)).await;
    desk.one(may5(4, 9, 0), answered(t1, c, 100)).await;
    desk.one(may5(4, 9, 0), online(d)).await;
    let view = desk.view().await;
    assert_eq!(current_day(&view, "four_leaf_clover"), Some(day0 + 4));
    desk.one(may5(5, 0, 0), tick()).await;
    let view = desk.view().await;

    // The hand computation, with the draw itself.
    let date = format_day(day0 + 4);
    assert_eq!(date, "2024-05-09");
    let lucky: Vec<AgentId> = [a, b, c, d]
        .into_iter()
        .filter(|who| clover(&seed, &date, who.uuid(), 0.5))
        .collect();
    assert_eq!(lucky, [a, c]);
    assert_eq!(
        got(&view, "four_leaf_clover", day0 + 5),
        expected(day0 + 5, (day0 + 4, day0 + 4), &[a, c], None, None, 0)
    );
    // The draw is keyed by the day the agents were active on, not the evaluated midnight.
    let next_date = format_day(day0 + 5);
    assert_eq!(
        [a, b, c, d]
            .into_iter()
            .filter(|who| clover(&seed, &next_date, who.uuid(), 0.5))
            .collect::<Vec<_>>(),
        [c, d]
    );

    let held: Vec<String> = view
        .held_now(a.uuid())
        .expect("held now")
        .into_iter()
        .map(|(def, _)| def.key)
        .collect();
    assert!(held.contains(&"four_leaf_clover".to_string()));
    assert!(view
        .held_now(b.uuid())
        .expect("held now")
        .iter()
        .all(|(def, _)| def.key != "four_leaf_clover"));

    desk.assert_replays_identically().await;
}
