//! The levels read model on a real embedded log (docs/STATISTICS.md, Levels and Level
//! variables): when a level is reached and with which values, the ladder, evaluation after
//! attributed events and after each `ClockTicked`, permanence, removal and reordering, the
//! leaderboard, progress, level-up notifications (live only), and recomputes.
//!
//! The ladders are small and defined here, so that histories stay short. Every expected
//! value is worked out by hand from the rules in docs/STATISTICS.md, in the comments next
//! to it; none is copied from what the code prints.

mod common;

use std::time::Duration;

use common::*;
use helpdesk_domain::event::{
    AgentAddedToDepartment, AgentDeactivated, AgentPaused, AgentRegistered, AgentResumed,
    AgentWentOffline, AgentWentOnline, ClockTicked, ConversationRated, LevelDefined, LevelRemoved,
    LevelUpdated, LevelsRecomputed, LevelsReordered, RatingRetracted, TicketAnswered,
    TicketAssigned, TicketCreated,
};
use helpdesk_domain::state::{ConfigState, Level};
use helpdesk_domain::{
    Actor, AgentId, AggregateId, AggregateKind, Channel, ConversationRef, DepartmentId, Envelope,
    Event, LevelGrant, LevelId, LevelRevocation, PauseReason, Priority, Rating, RecomputeMode,
    ResumeReason, Role, State, TicketId, Timestamp,
};
use helpdesk_log::Position;
use helpdesk_projections::levels::{
    diff, AgentLevel, Diff, LeaderboardRow, LevelUp, Levels, LevelsView, Mode, PartProgress,
    Progress, Reached,
};
use helpdesk_projections::runtime::dump;
use helpdesk_projections::{Note, Projector};
use helpdesk_rules::condition::{Values, Variable};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

// ------------------------------------------------------------------------------------ ids

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (kind << 32) | n)
}

fn ticket(n: u128) -> TicketId {
    TicketId::from_uuid(id(1, n))
}

/// Agents in the order of their ids (the tie-breaker nobody should need).
fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(id(2, n))
}

fn level_id(n: u128) -> LevelId {
    LevelId::from_uuid(id(3, n))
}

fn dept(n: u128) -> DepartmentId {
    DepartmentId::from_uuid(id(4, n))
}

fn at(minute: i64) -> Timestamp {
    T0.plus_minutes(minute)
}

// ------------------------------------------------------------------------------- ladders

fn level(n: u128, name: &str, condition: &str) -> Level {
    Level {
        level_id: level_id(n),
        name: name.into(),
        description: format!("{name}: well done, keep going."),
        condition: condition.into(),
    }
}

fn novice() -> Level {
    level(1, "Novice", "1")
}

fn apprentice() -> Level {
    level(2, "Apprentice", "$answers >= 2")
}

fn intern() -> Level {
    level(3, "Intern", "$answers >= 4 && $rewards >= 1")
}

fn shift() -> Level {
    level(4, "Shift", "$worktime >= 1")
}

/// The ladder most tests use: `1`, `$answers >= 2`, `$answers >= 4 && $rewards >= 1`.
fn ladder() -> Vec<Level> {
    vec![novice(), apprentice(), intern()]
}

/// Defines `levels` in this order, each on top of the ones before.
fn define_all(levels: &[Level]) -> Vec<Event> {
    levels
        .iter()
        .enumerate()
        .map(|(i, l)| define(l, i as u32 + 1))
        .collect()
}

// --------------------------------------------------------------------------------- events

fn define(l: &Level, rank: u32) -> Event {
    LevelDefined {
        level_id: l.level_id,
        rank,
        name: l.name.clone(),
        description: l.description.clone(),
        condition: l.condition.clone(),
    }
    .into()
}

fn update(l: &Level) -> Event {
    LevelUpdated {
        level_id: l.level_id,
        name: l.name.clone(),
        description: l.description.clone(),
        condition: l.condition.clone(),
    }
    .into()
}

fn remove(l: &Level) -> Event {
    LevelRemoved {
        level_id: l.level_id,
    }
    .into()
}

fn reorder(order: &[&Level]) -> Event {
    LevelsReordered {
        order: order.iter().map(|l| l.level_id).collect(),
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

fn paused(a: AgentId) -> Event {
    AgentPaused {
        agent: a,
        reason: PauseReason::Text("lunch".into()),
        planned_end: None,
    }
    .into()
}

fn resumed(a: AgentId) -> Event {
    AgentResumed {
        agent: a,
        reason: ResumeReason::Manual,
    }
    .into()
}

fn deactivated(a: AgentId) -> Event {
    AgentDeactivated { agent: a }.into()
}

fn joined(a: AgentId, d: DepartmentId) -> Event {
    AgentAddedToDepartment {
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

fn assigned(t: TicketId, a: AgentId) -> Event {
    TicketAssigned {
        ticket: t,
        agent: a,
        by: Actor::System,
    }
    .into()
}

fn answered(t: TicketId, a: AgentId) -> Event {
    TicketAnswered {
        ticket: t,
        agent: a,
        chars: 80,
    }
    .into()
}

fn rated(t: TicketId, a: AgentId, rating: Rating) -> Event {
    ConversationRated {
        conversation: ConversationRef::ticket(t),
        agent: a,
        rating,
        replaces: None,
        replaced_agent: None,
    }
    .into()
}

fn retracted(t: TicketId, a: AgentId, rating: Rating) -> Event {
    RatingRetracted {
        conversation: ConversationRef::ticket(t),
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
        Event::AgentRegistered(e) => AggregateId::agent(e.agent),
        Event::AgentWentOnline(e) => AggregateId::agent(e.agent),
        Event::AgentPaused(e) => AggregateId::agent(e.agent),
        Event::AgentResumed(e) => AggregateId::agent(e.agent),
        Event::AgentWentOffline(e) => AggregateId::agent(e.agent),
        Event::AgentDeactivated(e) => AggregateId::agent(e.agent),
        Event::AgentAddedToDepartment(e) => AggregateId::department(e.department),
        Event::TicketCreated(e) => AggregateId::ticket(e.ticket),
        Event::TicketAssigned(e) => AggregateId::ticket(e.ticket),
        Event::TicketAnswered(e) => AggregateId::ticket(e.ticket),
        Event::ConversationRated(e) => AggregateId::rating(e.conversation.id),
        Event::RatingRetracted(e) => AggregateId::rating(e.conversation.id),
        Event::ClockTicked(_) => AggregateId::clock(),
        Event::LevelDefined(_)
        | Event::LevelUpdated(_)
        | Event::LevelRemoved(_)
        | Event::LevelsReordered(_)
        | Event::LevelsRecomputed(_) => AggregateId::config(),
        other => panic!("no aggregate for {}", other.name()),
    }
}

// --------------------------------------------------------------------------------- values

/// Level variables: the ones named, every other 0.
fn vals(pairs: &[(Variable, f64)]) -> Values {
    let mut values = Values::new();
    for (variable, value) in pairs {
        values.set(*variable, *value);
    }
    values
}

fn reached(time: Timestamp, position: Position, values: &Values) -> Reached {
    Reached {
        at: time,
        position,
        values: values.as_array().to_vec(),
    }
}

/// What `LevelsView::agent` returns for levels reached `(rank, level, reached)`.
fn standing(a: AgentId, name: &str, levels: Vec<(u32, Level, Reached)>) -> AgentLevel {
    AgentLevel {
        agent: a.uuid(),
        name: name.into(),
        level: levels.last().cloned(),
        reached: levels,
    }
}

// ---------------------------------------------------------------------------------- desk

/// A log, a live levels projector over it (small batches), and the configuration as the
/// command side folds it.
struct Desk {
    log: TestLog,
    data: tempfile::TempDir,
    projector: Option<Projector<Levels>>,
    config: State,
}

impl Desk {
    fn new() -> Self {
        let log = TestLog::new();
        let data = tempfile::tempdir().expect("temp dir");
        let p = projector(Levels::new(), &log, data.path(), 3);
        Desk {
            log,
            data,
            projector: Some(p),
            config: State::Config(ConfigState::default()),
        }
    }

    /// Appends one envelope of `events` at `minute` past T0.
    async fn at(&mut self, minute: i64, events: Vec<Event>) -> Position {
        self.at_time(at(minute), events).await
    }

    async fn at_time(&mut self, time: Timestamp, events: Vec<Event>) -> Position {
        let aggregate = aggregate_of(&events[0]);
        if aggregate.kind == AggregateKind::Config {
            self.config.evolve(&Envelope {
                command_id: Uuid::nil(),
                actor: Actor::System,
                occurred_at: time,
                recorded_at: None,
                events: events.clone(),
            });
        }
        self.log.append(aggregate, time, events).await
    }

    /// Catches the live projector up and returns the queries on it.
    async fn view(&mut self) -> LevelsView {
        let p = self.projector.as_mut().expect("projector");
        caught_up(p).await;
        LevelsView::new(p.handle())
    }

    /// The ladder as the command side has it.
    fn command_side_ladder(&self) -> Vec<Level> {
        match &self.config {
            State::Config(config) => config.levels.clone(),
            _ => unreachable!(),
        }
    }

    /// A replay of the whole log by `model` in a store of its own.
    async fn replay(&self, model: Levels) -> (tempfile::TempDir, Projector<Levels>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = projector(model, &self.log, dir.path(), 5);
        caught_up(&mut p).await;
        (dir, p)
    }
}

#[track_caller]
fn agent_level(view: &LevelsView, a: AgentId) -> AgentLevel {
    view.agent(a.uuid())
        .unwrap()
        .unwrap_or_else(|| panic!("agent {a} is known"))
}

/// Each agent with the names and ranks of their reached levels, for short assertions.
fn ranks(view: &LevelsView, a: AgentId) -> Vec<(u32, String, Timestamp)> {
    agent_level(view, a)
        .reached
        .into_iter()
        .map(|(rank, l, r)| (rank, l.name, r.at))
        .collect()
}

// ----------------------------------------------------------------------- reaching levels

#[tokio::test]
async fn a_level_is_reached_after_the_event_that_makes_its_condition_hold() {
    let mut desk = Desk::new();
    let (ann, t1, t2) = (agent(1), ticket(1), ticket(2));
    desk.at(0, define_all(&ladder())).await;
    let p_registered = desk.at(1, vec![registered(ann, "Ann")]).await;
    desk.at(1, vec![created(t1)]).await;
    desk.at(1, vec![created(t2)]).await;

    // Registration: `1` holds at once, with every variable 0.
    let view = desk.view().await;
    let novice_reached = reached(at(1), p_registered, &Values::new());
    assert_eq!(
        agent_level(&view, ann),
        standing(ann, "Ann", vec![(1, novice(), novice_reached.clone())])
    );
    assert_eq!(view.agent(agent(9).uuid()).unwrap(), None, "unknown agent");

    // One answer: `$answers >= 2` does not hold yet; a tick changes nothing.
    desk.at(3, vec![answered(t1, ann)]).await;
    desk.at(4, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(agent_level(&view, ann).reached.len(), 1);

    // A second answer to the same ticket: $answers 2, one handled conversation without a
    // rating ($not_ranked 1, $not_ranked_p 100). Reached now, with those values.
    let p_second = desk.at(5, vec![answered(t1, ann)]).await;
    desk.at(6, vec![answered(t2, ann)]).await;
    let view = desk.view().await;
    let values = vals(&[
        (Variable::Answers, 2.0),
        (Variable::NotRanked, 1.0),
        (Variable::NotRankedP, 100.0),
    ]);
    assert_eq!(
        agent_level(&view, ann),
        standing(
            ann,
            "Ann",
            vec![
                (1, novice(), novice_reached),
                (2, apprentice(), reached(at(5), p_second, &values)),
            ]
        )
    );
    assert_eq!(view.ladder().unwrap(), ladder());
}

#[tokio::test]
async fn a_ladder_defined_later_is_reached_at_the_next_tick_every_rank_at_once() {
    let mut desk = Desk::new();
    let ann = agent(1);
    desk.at(0, vec![registered(ann, "Ann")]).await;
    for n in 1..=4 {
        desk.at(n as i64, vec![answered(ticket(n), ann)]).await;
    }
    desk.at(5, vec![rated(ticket(4), ann, Rating::Positive)])
        .await;

    // No ladder while all that happened: nothing reached.
    let view = desk.view().await;
    assert_eq!(agent_level(&view, ann), standing(ann, "Ann", vec![]));

    // Defining levels is not an evaluation: nothing yet.
    desk.at(6, define_all(&ladder())).await;
    let view = desk.view().await;
    assert_eq!(agent_level(&view, ann), standing(ann, "Ann", vec![]));
    assert_eq!(
        view.progress(ann.uuid()).unwrap().unwrap().next,
        Some((1, novice()))
    );

    // The tick evaluates every active agent: rank 3 holds (4 answers, 1 reward), so ranks
    // 1, 2 and 3 are all reached at the tick, with the same values: 4 handled, 1 with a
    // standing rating (rewards_p 25), 3 without (not_ranked_p 75).
    let p_tick = desk.at(7, vec![tick()]).await;
    let view = desk.view().await;
    let values = vals(&[
        (Variable::Answers, 4.0),
        (Variable::Rewards, 1.0),
        (Variable::NotRanked, 3.0),
        (Variable::RewardsP, 25.0),
        (Variable::NotRankedP, 75.0),
    ]);
    let r = reached(at(7), p_tick, &values);
    assert_eq!(
        agent_level(&view, ann),
        standing(
            ann,
            "Ann",
            vec![
                (1, novice(), r.clone()),
                (2, apprentice(), r.clone()),
                (3, intern(), r),
            ]
        )
    );
}

#[tokio::test]
async fn reaching_a_rank_reaches_the_lower_ranks_whose_conditions_never_held() {
    let mut desk = Desk::new();
    let bob = agent(2);
    let chatter = level(5, "Chatter", "$chats >= 1");
    let fast = level(6, "Fast", "$answers >= 2 && $rewards >= 1");
    desk.at(0, define_all(&[novice(), chatter.clone(), fast.clone()]))
        .await;
    let p_registered = desk.at(1, vec![registered(bob, "Bob")]).await;
    desk.at(2, vec![answered(ticket(1), bob)]).await;
    desk.at(3, vec![answered(ticket(2), bob)]).await;
    let view = desk.view().await;
    assert_eq!(agent_level(&view, bob).reached.len(), 1, "Novice only");

    // Bob never accepted a chat, but rank 3 holds after the rating: rank 2 comes with it.
    let p_rated = desk
        .at(4, vec![rated(ticket(1), bob, Rating::Positive)])
        .await;
    let view = desk.view().await;
    let values = vals(&[
        (Variable::Answers, 2.0),
        (Variable::Rewards, 1.0),
        (Variable::NotRanked, 1.0),
        (Variable::RewardsP, 50.0),
        (Variable::NotRankedP, 50.0),
    ]);
    let r = reached(at(4), p_rated, &values);
    assert_eq!(
        agent_level(&view, bob),
        standing(
            bob,
            "Bob",
            vec![
                (1, novice(), reached(at(1), p_registered, &Values::new())),
                (2, chatter, r.clone()),
                (3, fast, r),
            ]
        )
    );
}

// ------------------------------------------------------------------------------ worktime

#[tokio::test]
async fn a_worktime_level_is_reached_at_the_tick_after_the_hour_not_before() {
    let mut desk = Desk::new();
    let (ann, bob, cid) = (agent(1), agent(2), agent(3));
    desk.at(0, define_all(&[novice(), shift()])).await;
    for (a, name) in [(ann, "Ann"), (bob, "Bob"), (cid, "Cid")] {
        desk.at(0, vec![registered(a, name)]).await;
        desk.at(0, vec![online(a)]).await;
    }
    desk.at(30, vec![tick()]).await;
    desk.at(40, vec![deactivated(cid)]).await; // Cid: 40 minutes of work, then gone
    desk.at(50, vec![paused(bob)]).await; // Bob: 50 minutes, then a pause
    desk.at(59, vec![tick()]).await;
    // One millisecond short of Ann's hour.
    desk.at_time(at(60).plus_millis(-1), vec![tick()]).await;
    let view = desk.view().await;
    for a in [ann, bob, cid] {
        assert_eq!(
            ranks(&view, a),
            vec![(1, "Novice".into(), at(0))],
            "no hour yet for {a}"
        );
    }

    // Ann has done nothing but be online: the tick at her hour reaches it.
    let p_ann = desk.at(60, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, ann).level,
        Some((
            2,
            shift(),
            reached(at(60), p_ann, &vals(&[(Variable::Worktime, 1.0)]))
        ))
    );
    assert_eq!(
        view.values(ann.uuid()).unwrap(),
        Some(("Ann".into(), vals(&[(Variable::Worktime, 1.0)])))
    );
    // Bob is paused at 50 minutes: paused time is no work time.
    assert_eq!(ranks(&view, bob).len(), 1);

    // Bob resumes at 70 and works his tenth minute until 80.
    desk.at(70, vec![resumed(bob)]).await;
    desk.at(79, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(ranks(&view, bob).len(), 1, "59 minutes of work");
    let p_bob = desk.at(80, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, bob).level,
        Some((
            2,
            shift(),
            reached(at(80), p_bob, &vals(&[(Variable::Worktime, 1.0)]))
        ))
    );

    // A new level Cid's 40 minutes would meet: ticks evaluate active agents only, so the
    // deactivated Cid does not reach it; Ann (90 minutes) and Bob (70) do.
    let veteran = level(7, "Veteran", "$worktime >= 0.5");
    desk.at(85, vec![define(&veteran, 3)]).await;
    let p_tick = desk.at(90, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, ann).level,
        Some((
            3,
            veteran.clone(),
            reached(at(90), p_tick, &vals(&[(Variable::Worktime, 1.5)]))
        ))
    );
    assert_eq!(
        agent_level(&view, bob).level,
        Some((
            3,
            veteran,
            reached(at(90), p_tick, &vals(&[(Variable::Worktime, 70.0 / 60.0)]))
        ))
    );
    assert_eq!(ranks(&view, cid), vec![(1, "Novice".into(), at(0))]);
}

#[tokio::test]
async fn every_event_naming_an_agent_evaluates_them() {
    let mut desk = Desk::new();
    let (ann, dan) = (agent(1), agent(4));
    desk.at(0, define_all(&[novice(), shift()])).await;
    for (a, name) in [(ann, "Ann"), (dan, "Dan")] {
        desk.at(0, vec![registered(a, name)]).await;
        desk.at(0, vec![online(a)]).await;
    }
    desk.at(59, vec![tick()]).await;
    // A ticket created at Ann's hour names nobody: no evaluation.
    desk.at(60, vec![created(ticket(1))]).await;
    let view = desk.view().await;
    assert_eq!(ranks(&view, ann).len(), 1);

    // Assigned to Ann (by the system) a minute later: the event names her, so she is
    // evaluated, with 61 minutes of work.
    let p_assigned = desk.at(61, vec![assigned(ticket(1), ann)]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, ann).level,
        Some((
            2,
            shift(),
            reached(
                at(61),
                p_assigned,
                &vals(&[(Variable::Worktime, 61.0 / 60.0)])
            )
        )),
        "evaluated after TicketAssigned names her"
    );

    // Dan is deactivated at 75 with no tick since 59: the deactivation names him, and
    // his 75 minutes of work meet the condition then. Ticks will not look at him again.
    let p_gone = desk.at(75, vec![deactivated(dan)]).await;
    desk.at(80, vec![tick()]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, dan).level,
        Some((
            2,
            shift(),
            reached(at(75), p_gone, &vals(&[(Variable::Worktime, 1.25)]))
        )),
        "evaluated after AgentDeactivated names him"
    );

    // A level defined later is reached at the next event naming Ann: here, joining a
    // department (90 minutes of work).
    let veteran = level(7, "Veteran", "$worktime >= 1.4");
    desk.at(85, vec![define(&veteran, 3)]).await;
    let p_joined = desk.at(90, vec![joined(ann, dept(1))]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, ann).level,
        Some((
            3,
            veteran,
            reached(at(90), p_joined, &vals(&[(Variable::Worktime, 1.5)]))
        )),
        "evaluated after AgentAddedToDepartment names her"
    );
}

// ---------------------------------------------------------------------------- permanence

#[tokio::test]
async fn a_retracted_rating_takes_no_level_away() {
    let mut desk = Desk::new();
    let ann = agent(1);
    desk.at(0, define_all(&ladder())).await;
    desk.at(0, vec![registered(ann, "Ann")]).await;
    for n in 1..=4 {
        desk.at(n as i64, vec![answered(ticket(n), ann)]).await;
    }
    let p_rated = desk
        .at(5, vec![rated(ticket(4), ann, Rating::Positive)])
        .await;
    let intern_reached = reached(
        at(5),
        p_rated,
        &vals(&[
            (Variable::Answers, 4.0),
            (Variable::Rewards, 1.0),
            (Variable::NotRanked, 3.0),
            (Variable::RewardsP, 25.0),
            (Variable::NotRankedP, 75.0),
        ]),
    );
    let view = desk.view().await;
    let before = agent_level(&view, ann);
    assert_eq!(
        before.level,
        Some((3, intern(), intern_reached.clone())),
        "Intern after the rating"
    );

    // The rating is retracted: `$rewards >= 1` no longer holds, Intern stays, with the
    // values of the moment it was reached. Later events change nothing either.
    desk.at(6, vec![retracted(ticket(4), ann, Rating::Positive)])
        .await;
    desk.at(7, vec![tick()]).await;
    desk.at(8, vec![answered(ticket(5), ann)]).await;
    let view = desk.view().await;
    assert_eq!(agent_level(&view, ann), before);
    assert_eq!(
        view.values(ann.uuid()).unwrap().unwrap().1,
        vals(&[
            (Variable::Answers, 5.0),
            (Variable::NotRanked, 5.0),
            (Variable::NotRankedP, 100.0),
        ])
    );
    assert_eq!(
        view.progress(ann.uuid()).unwrap(),
        Some(Progress {
            agent: ann.uuid(),
            next: None,
            parts: vec![],
        }),
        "at the top of the ladder"
    );
}

#[tokio::test]
async fn a_stricter_definition_takes_no_level_away_and_applies_from_then_on() {
    let mut desk = Desk::new();
    let (ann, bob) = (agent(1), agent(2));
    desk.at(0, define_all(&ladder())).await;
    desk.at(0, vec![registered(ann, "Ann")]).await;
    desk.at(0, vec![registered(bob, "Bob")]).await;
    desk.at(1, vec![answered(ticket(1), ann)]).await;
    let p_ann = desk.at(2, vec![answered(ticket(2), ann)]).await;
    desk.at(3, vec![answered(ticket(3), bob)]).await;

    let stricter = Level {
        description: "Three answers now.".into(),
        condition: "$answers >= 3".into(),
        ..apprentice()
    };
    desk.at(10, vec![update(&stricter)]).await;
    desk.at(11, vec![answered(ticket(4), bob)]).await; // Bob's second answer
    let view = desk.view().await;
    assert_eq!(view.ladder().unwrap(), desk.command_side_ladder());
    assert_eq!(
        view.ladder().unwrap(),
        vec![novice(), stricter.clone(), intern()]
    );
    // Ann keeps Apprentice, reached under the old condition, shown as it is defined now.
    let two = vals(&[
        (Variable::Answers, 2.0),
        (Variable::NotRanked, 2.0),
        (Variable::NotRankedP, 100.0),
    ]);
    assert_eq!(
        agent_level(&view, ann).level,
        Some((2, stricter.clone(), reached(at(2), p_ann, &two)))
    );
    // Bob's second answer comes after the change: the new condition applies.
    assert_eq!(ranks(&view, bob), vec![(1, "Novice".into(), at(0))]);

    let p_bob = desk.at(12, vec![answered(ticket(5), bob)]).await;
    let view = desk.view().await;
    let three = vals(&[
        (Variable::Answers, 3.0),
        (Variable::NotRanked, 3.0),
        (Variable::NotRankedP, 100.0),
    ]);
    assert_eq!(
        agent_level(&view, bob).level,
        Some((2, stricter, reached(at(12), p_bob, &three)))
    );
}

#[tokio::test]
async fn a_removed_level_no_longer_shows_and_the_ranks_above_move_down() {
    let mut desk = Desk::new();
    let (ann, bob, cid, dan) = (agent(1), agent(2), agent(3), agent(4));
    desk.at(0, define_all(&ladder())).await;
    desk.at(0, vec![registered(ann, "Ann")]).await;
    desk.at(1, vec![registered(bob, "Bob")]).await;
    desk.at(2, vec![registered(cid, "Cid")]).await;
    desk.at(2, vec![online(cid)]).await; // on the leaderboard from now on
    for n in 1..=4 {
        desk.at(2 + n as i64, vec![answered(ticket(n), ann)]).await;
    }
    desk.at(7, vec![rated(ticket(1), ann, Rating::Positive)])
        .await; // Ann: Intern
    desk.at(8, vec![answered(ticket(5), bob)]).await;
    desk.at(9, vec![answered(ticket(6), bob)]).await; // Bob: Apprentice

    desk.at(20, vec![remove(&apprentice())]).await;
    let view = desk.view().await;
    assert_eq!(view.ladder().unwrap(), vec![novice(), intern()]);
    assert_eq!(view.ladder().unwrap(), desk.command_side_ladder());
    assert_eq!(
        ranks(&view, ann),
        vec![(1, "Novice".into(), at(0)), (2, "Intern".into(), at(7))]
    );
    assert_eq!(ranks(&view, bob), vec![(1, "Novice".into(), at(1))]);
    assert_eq!(
        agent_level(&view, bob).level.map(|(rank, l, _)| (rank, l)),
        Some((1, novice()))
    );
    let board: Vec<(Uuid, u32, String, Timestamp)> = view
        .leaderboard()
        .unwrap()
        .into_iter()
        .map(|row| (row.agent, row.rank, row.level.name, row.reached_at))
        .collect();
    assert_eq!(
        board,
        vec![
            (ann.uuid(), 2, "Intern".into(), at(7)),
            (bob.uuid(), 1, "Novice".into(), at(1)),
            (cid.uuid(), 1, "Novice".into(), at(2)),
        ]
    );

    // Dan climbs the ladder as it is now: Intern is rank 2, Apprentice is no step.
    desk.at(21, vec![registered(dan, "Dan")]).await;
    for n in 7..=10 {
        desk.at(15 + n as i64, vec![answered(ticket(n), dan)]).await;
    }
    let view = desk.view().await;
    assert_eq!(ranks(&view, dan), vec![(1, "Novice".into(), at(21))]);
    assert_eq!(
        view.progress(dan.uuid()).unwrap().unwrap().next,
        Some((2, intern()))
    );
    desk.at(26, vec![rated(ticket(7), dan, Rating::Positive)])
        .await;
    let view = desk.view().await;
    assert_eq!(
        ranks(&view, dan),
        vec![(1, "Novice".into(), at(21)), (2, "Intern".into(), at(26))]
    );
    assert!(
        !view.all_reached().unwrap()[&dan.uuid()].contains_key(&apprentice().level_id.uuid()),
        "a removed level is not reached any more"
    );
}

#[tokio::test]
async fn reordering_ranks_the_levels_as_the_command_side_does() {
    let mut desk = Desk::new();
    let (ann, bob, cid) = (agent(1), agent(2), agent(3));
    desk.at(0, define_all(&ladder())).await;
    desk.at(0, vec![registered(ann, "Ann")]).await;
    desk.at(0, vec![registered(bob, "Bob")]).await;
    desk.at(1, vec![answered(ticket(1), bob)]).await;
    desk.at(2, vec![answered(ticket(2), bob)]).await; // Bob: Apprentice at 2
    for n in 3..=6 {
        desk.at(n as i64, vec![answered(ticket(n), ann)]).await; // Ann: Apprentice at 4
    }
    desk.at(7, vec![rated(ticket(3), ann, Rating::Positive)])
        .await; // Ann: Intern at 7

    desk.at(10, vec![reorder(&[&novice(), &intern(), &apprentice()])])
        .await;
    let view = desk.view().await;
    let side = desk.command_side_ladder();
    assert_eq!(view.ladder().unwrap(), side);
    assert_eq!(
        view.ladder().unwrap(),
        vec![novice(), intern(), apprentice()]
    );
    // Ranks as the command side numbers them.
    let rank_of =
        |l: &Level| side.iter().position(|s| s.level_id == l.level_id).unwrap() as u32 + 1;
    assert_eq!((rank_of(&intern()), rank_of(&apprentice())), (2, 3));
    assert_eq!(
        ranks(&view, ann),
        vec![
            (1, "Novice".into(), at(0)),
            (2, "Intern".into(), at(7)),
            (3, "Apprentice".into(), at(4)),
        ]
    );
    assert_eq!(
        agent_level(&view, bob)
            .level
            .map(|(rank, l, r)| (rank, l.name, r.at)),
        Some((3, "Apprentice".into(), at(2)))
    );
    // Both at rank 3 (Apprentice): Bob reached it first.
    let board: Vec<(Uuid, u32, Timestamp)> = view
        .leaderboard()
        .unwrap()
        .into_iter()
        .map(|row| (row.agent, row.rank, row.reached_at))
        .collect();
    assert_eq!(board, vec![(bob.uuid(), 3, at(2)), (ann.uuid(), 3, at(4))]);

    // Cid climbs the reordered ladder: his second answer reaches rank 3 (Apprentice), and
    // with it rank 2 (Intern), at that moment.
    desk.at(11, vec![registered(cid, "Cid")]).await;
    desk.at(12, vec![answered(ticket(7), cid)]).await;
    desk.at(13, vec![answered(ticket(8), cid)]).await;
    let view = desk.view().await;
    assert_eq!(
        ranks(&view, cid),
        vec![
            (1, "Novice".into(), at(11)),
            (2, "Intern".into(), at(13)),
            (3, "Apprentice".into(), at(13)),
        ]
    );
}

// --------------------------------------------------------------------------- leaderboard

#[tokio::test]
async fn the_leaderboard_is_by_rank_then_by_who_reached_it_first() {
    let mut desk = Desk::new();
    let (ann, bob, cid, dan, eve) = (agent(1), agent(2), agent(3), agent(4), agent(5));
    desk.at(0, vec![registered(eve, "Eve")]).await; // before any level, and never again
    desk.at(1, define_all(&ladder())).await;
    desk.at(2, vec![registered(ann, "Ann")]).await;
    desk.at(3, vec![registered(bob, "Bob")]).await;
    desk.at(4, vec![registered(cid, "Cid")]).await;
    desk.at(5, vec![registered(dan, "Dan")]).await;
    desk.at(5, vec![online(dan)]).await;
    desk.at(5, vec![registered(agent(6), "Fay")]).await; // yet to start: not listed
    desk.at(6, vec![answered(ticket(1), bob)]).await;
    desk.at(7, vec![answered(ticket(2), bob)]).await; // Bob: Apprentice at 7
    desk.at(8, vec![answered(ticket(3), ann)]).await;
    desk.at(9, vec![answered(ticket(4), ann)]).await; // Ann: Apprentice at 9
    for n in 5..=8 {
        desk.at(5 + n as i64, vec![answered(ticket(n), cid)]).await;
    }
    desk.at(14, vec![rated(ticket(5), cid, Rating::Positive)])
        .await; // Cid: Intern at 14

    let view = desk.view().await;
    let row = |a: AgentId, name: &str, rank: u32, l: Level, minute: i64| LeaderboardRow {
        agent: a.uuid(),
        name: name.into(),
        rank,
        level: l,
        reached_at: at(minute),
    };
    // Ann was a Novice before Bob, but Bob was an Apprentice first. Eve has no level.
    // Fay, registered but yet to do anything, is not on the board.
    assert_eq!(
        view.leaderboard().unwrap(),
        vec![
            row(cid, "Cid", 3, intern(), 14),
            row(bob, "Bob", 2, apprentice(), 7),
            row(ann, "Ann", 2, apprentice(), 9),
            row(dan, "Dan", 1, novice(), 5),
        ]
    );
    assert_eq!(agent_level(&view, eve), standing(eve, "Eve", vec![]));
}

// ------------------------------------------------------------------------------ progress

#[tokio::test]
async fn progress_names_the_next_level_and_what_each_part_misses() {
    let mut desk = Desk::new();
    let (ann, eve) = (agent(1), agent(5));
    let expert = level(8, "Expert", "$answers + $chats >= 6 && $punishments_p < 20");
    desk.at(0, vec![registered(eve, "Eve")]).await; // before any level
    let mut levels = ladder();
    levels.push(expert.clone());
    desk.at(1, define_all(&levels)).await;
    desk.at(2, vec![registered(ann, "Ann")]).await;
    for n in 1..=3 {
        desk.at(2 + n as i64, vec![answered(ticket(n), ann)]).await;
    }
    let part = |condition: &str,
                holds: bool,
                values: Vec<(Variable, f64)>,
                numbers: Option<(f64, f64, f64)>| PartProgress {
        condition: condition.into(),
        holds,
        values,
        current: numbers.map(|n| n.0),
        target: numbers.map(|n| n.1),
        missing: numbers.map(|n| n.2),
    };

    // Ann (3 answers, no rating) is an Apprentice; Intern needs 1 more answer, 1 reward.
    let view = desk.view().await;
    assert_eq!(
        view.progress(ann.uuid()).unwrap(),
        Some(Progress {
            agent: ann.uuid(),
            next: Some((3, intern())),
            parts: vec![
                part(
                    "$answers >= 4",
                    false,
                    vec![(Variable::Answers, 3.0)],
                    Some((3.0, 4.0, 1.0))
                ),
                part(
                    "$rewards >= 1",
                    false,
                    vec![(Variable::Rewards, 0.0)],
                    Some((0.0, 1.0, 1.0))
                ),
            ],
        })
    );

    // A fourth answer: that part holds and misses nothing.
    desk.at(6, vec![answered(ticket(4), ann)]).await;
    let view = desk.view().await;
    let parts = view.progress(ann.uuid()).unwrap().unwrap().parts;
    assert_eq!(
        parts[0],
        part(
            "$answers >= 4",
            true,
            vec![(Variable::Answers, 4.0)],
            Some((4.0, 4.0, 0.0))
        )
    );
    assert_eq!(parts[1].missing, Some(1.0));

    // A reward (Intern), then a punishment: 4 handled, 1 negative = 25 % punishments.
    // Expert needs 2 more answers or chats, and 5 points less of punishments_p.
    desk.at(7, vec![rated(ticket(2), ann, Rating::Positive)])
        .await;
    desk.at(8, vec![rated(ticket(1), ann, Rating::Negative)])
        .await;
    let view = desk.view().await;
    assert_eq!(
        view.progress(ann.uuid()).unwrap(),
        Some(Progress {
            agent: ann.uuid(),
            next: Some((4, expert)),
            parts: vec![
                part(
                    "$answers + $chats >= 6",
                    false,
                    vec![(Variable::Answers, 4.0), (Variable::Chats, 0.0)],
                    Some((4.0, 6.0, 2.0))
                ),
                part(
                    "$punishments_p < 20",
                    false,
                    vec![(Variable::PunishmentsP, 25.0)],
                    Some((25.0, 20.0, 5.0))
                ),
            ],
        })
    );

    // Eve has no level yet: her next is rank 1, a condition with no comparison.
    assert_eq!(
        view.progress(eve.uuid()).unwrap(),
        Some(Progress {
            agent: eve.uuid(),
            next: Some((1, novice())),
            parts: vec![part("1", true, vec![], None)],
        })
    );
    assert_eq!(
        view.progress(agent(9).uuid()).unwrap(),
        None,
        "unknown agent"
    );
}

// ------------------------------------------------------------------------- notifications

/// The next note, as a level-up.
async fn next_level_up(notes: &mut broadcast::Receiver<Note>) -> LevelUp {
    let note = tokio::time::timeout(Duration::from_secs(10), notes.recv())
        .await
        .expect("a note within 10 s")
        .expect("the note channel is open");
    (*note.downcast::<LevelUp>().expect("a LevelUp note")).clone()
}

/// A live projector running in a task.
struct Running {
    handle: helpdesk_projections::ModelHandle,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), helpdesk_projections::ProjectionError>>,
}

impl Running {
    /// Starts `p` and waits until it has folded the log as it is now.
    async fn start(p: Projector<Levels>, end: Position) -> (Running, broadcast::Receiver<Note>) {
        let handle = p.handle();
        let notes = handle.notes();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(p.run(shutdown.clone()));
        handle
            .wait_for(end, Duration::from_secs(10))
            .await
            .expect("the projector catches up");
        (
            Running {
                handle,
                shutdown,
                task,
            },
            notes,
        )
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn level_up(
    a: AgentId,
    rank: u32,
    l: &Level,
    time: Timestamp,
    position: Position,
    values: Values,
) -> LevelUp {
    LevelUp {
        agent: a,
        level: l.level_id,
        rank,
        name: l.name.clone(),
        message: l.description.clone(),
        at: time,
        position,
        values,
    }
}

#[tokio::test]
async fn a_live_projector_announces_level_ups_of_new_events() {
    let mut desk = Desk::new();
    let (ann, bob, cid) = (agent(1), agent(2), agent(3));
    desk.at(0, define_all(&ladder())).await;
    desk.at(1, vec![registered(ann, "Ann")]).await; // Ann: Novice, in the history
    let end = desk.at(2, vec![answered(ticket(1), ann)]).await;

    let p = desk.projector.take().unwrap();
    let (running, mut notes) = Running::start(p, end).await;

    // Ann's second answer: the first note is this one (her Novice was history).
    let p_ann = desk.at(3, vec![answered(ticket(2), ann)]).await;
    let two = vals(&[
        (Variable::Answers, 2.0),
        (Variable::NotRanked, 2.0),
        (Variable::NotRankedP, 100.0),
    ]);
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(ann, 2, &apprentice(), at(3), p_ann, two)
    );

    let p_bob = desk.at(4, vec![registered(bob, "Bob")]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(bob, 1, &novice(), at(4), p_bob, Values::new())
    );

    // A new top level and a tick: Ann reaches Expert (rank 4) and with it Intern (rank
    // 3), two notes with the same values; Bob (no answer yet) reaches nothing.
    let expert = level(8, "Expert", "$answers >= 2");
    desk.at(5, vec![define(&expert, 4)]).await;
    let p_tick = desk.at(6, vec![tick()]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(ann, 3, &intern(), at(6), p_tick, two)
    );
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(ann, 4, &expert, at(6), p_tick, two)
    );
    // Nothing else came in between: the next note is Cid's.
    let p_cid = desk.at(7, vec![registered(cid, "Cid")]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(cid, 1, &novice(), at(7), p_cid, Values::new())
    );
    assert_eq!(running.handle.position(), p_cid);
    running.stop().await;
}

#[tokio::test]
async fn catching_up_restarting_and_rebuilding_announce_nothing_of_the_history() {
    let mut desk = Desk::new();
    let (ann, bob, cid, dan) = (agent(1), agent(2), agent(3), agent(4));
    desk.at(0, define_all(&ladder())).await;
    desk.at(1, vec![registered(ann, "Ann")]).await;
    let end = desk.at(2, vec![answered(ticket(1), ann)]).await;

    // A catch-up (a replay) announces nothing; notes go out only after the commit, so
    // once `catch_up` returns, any would be in the channel.
    {
        let p = desk.projector.as_mut().unwrap();
        let mut notes = p.handle().notes();
        caught_up(p).await;
        assert!(matches!(
            notes.try_recv(),
            Err(broadcast::error::TryRecvError::Empty)
        ));
    }

    // Started live on that store, then stopped.
    let p = desk.projector.take().unwrap();
    let (running, _notes) = Running::start(p, end).await;
    running.stop().await;

    // While it is stopped, Ann reaches Apprentice. A restarted projector catches up on
    // that without a word, then announces what comes after.
    let end = desk.at(3, vec![answered(ticket(2), ann)]).await;
    let p = projector(Levels::new(), &desk.log, desk.data.path(), 3);
    let (running, mut notes) = Running::start(p, end).await;
    let p_bob = desk.at(4, vec![registered(bob, "Bob")]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(bob, 1, &novice(), at(4), p_bob, Values::new()),
        "Ann's Apprentice was history when the projector started"
    );
    running.stop().await;

    // A rebuild replays everything without a word.
    let mut p = projector(Levels::new(), &desk.log, desk.data.path(), 3);
    let before = dump(&p.handle().tree()).unwrap();
    p.rebuild().unwrap();
    let (running, mut notes) = Running::start(p, p_bob).await;
    assert_eq!(dump(&running.handle.tree()).unwrap(), before);
    let p_cid = desk.at(5, vec![registered(cid, "Cid")]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(cid, 1, &novice(), at(5), p_cid, Values::new()),
        "the rebuild announced nothing"
    );
    running.stop().await;

    // And a store running behind (a fresh one) that starts live catches up silently.
    let fresh = tempfile::tempdir().unwrap();
    let p = projector(Levels::new(), &desk.log, fresh.path(), 2);
    let (running, mut notes) = Running::start(p, p_cid).await;
    let p_dan = desk.at(6, vec![registered(dan, "Dan")]).await;
    assert_eq!(
        next_level_up(&mut notes).await,
        level_up(dan, 1, &novice(), at(6), p_dan, Values::new())
    );
    running.stop().await;
}

// ----------------------------------------------------------------------------- recompute

#[tokio::test]
async fn a_recompute_finds_gains_and_losses_and_applying_it_makes_the_live_model_agree() {
    let mut desk = Desk::new();
    let (ann, bob, dan) = (agent(1), agent(2), agent(4));
    desk.at(0, define_all(&ladder())).await;
    let p_ann = desk.at(1, vec![registered(ann, "Ann")]).await;
    let p_bob = desk.at(2, vec![registered(bob, "Bob")]).await;
    let p_dan = desk.at(3, vec![registered(dan, "Dan")]).await;
    desk.at(4, vec![answered(ticket(1), ann)]).await;
    let p_ann2 = desk.at(5, vec![answered(ticket(2), ann)]).await; // Apprentice
    let p_ann3 = desk.at(6, vec![answered(ticket(3), ann)]).await;
    desk.at(7, vec![answered(ticket(4), bob)]).await;
    let p_bob2 = desk.at(8, vec![answered(ticket(5), bob)]).await; // Apprentice
    desk.at(9, vec![answered(ticket(6), dan)]).await;
    let p_dan2 = desk.at(10, vec![answered(ticket(7), dan)]).await; // Apprentice
    let p_dan3 = desk.at(11, vec![answered(ticket(8), dan)]).await;
    // Dan: 3 answers and a reward; the Intern of the time wants 4 answers.
    let p_dan_rated = desk
        .at(12, vec![rated(ticket(6), dan, Rating::Positive)])
        .await;

    // Apprentice gets stricter, Intern easier. Nobody is evaluated after that.
    let stricter = Level {
        condition: "$answers >= 3".into(),
        ..apprentice()
    };
    let easier = Level {
        condition: "$answers >= 3 && $rewards >= 1".into(),
        ..intern()
    };
    desk.at(20, vec![update(&stricter), update(&easier)]).await;
    let view = desk.view().await;
    let today = vec![novice(), stricter.clone(), easier.clone()];
    assert_eq!(view.ladder().unwrap(), today);
    assert_eq!(desk.command_side_ladder(), today);
    let live = view.all_reached().unwrap();

    let answers = |n: f64| {
        vals(&[
            (Variable::Answers, n),
            (Variable::NotRanked, n),
            (Variable::NotRankedP, 100.0),
        ])
    };
    let zero = Values::new();
    let n = |l: &Level| l.level_id.uuid();

    // The live model, by hand: each reached Novice at registration and Apprentice at
    // the second answer.
    for (a, minute, p_second) in [(ann, 5, p_ann2), (bob, 8, p_bob2), (dan, 10, p_dan2)] {
        assert_eq!(
            live[&a.uuid()].keys().copied().collect::<Vec<_>>(),
            vec![n(&novice()), n(&apprentice())],
            "{a}"
        );
        assert_eq!(
            live[&a.uuid()][&n(&apprentice())],
            reached(at(minute), p_second, &answers(2.0))
        );
    }
    assert_eq!(
        live[&ann.uuid()][&n(&novice())],
        reached(at(1), p_ann, &zero)
    );
    assert_eq!(
        live[&dan.uuid()][&n(&novice())],
        reached(at(3), p_dan, &zero)
    );

    // Replayed with today's definitions: Ann's Apprentice comes at her third answer, Bob
    // (2 answers) never is one, Dan is one at his third answer and an Intern at the
    // rating (3 handled, 1 rewarded).
    let (_d1, replay) = desk
        .replay(Levels::with_mode(Mode::TodaysDefinitions(today.clone())))
        .await;
    let replayed = LevelsView::new(replay.handle()).all_reached().unwrap();
    let dan_intern = reached(
        at(12),
        p_dan_rated,
        &vals(&[
            (Variable::Answers, 3.0),
            (Variable::Rewards, 1.0),
            (Variable::NotRanked, 2.0),
            (Variable::RewardsP, 100.0 / 3.0),
            (Variable::NotRankedP, 200.0 / 3.0),
        ]),
    );
    assert_eq!(
        replayed[&ann.uuid()][&n(&apprentice())],
        reached(at(6), p_ann3, &answers(3.0))
    );
    assert_eq!(
        replayed[&bob.uuid()].keys().copied().collect::<Vec<_>>(),
        vec![n(&novice())]
    );
    assert_eq!(
        replayed[&bob.uuid()][&n(&novice())],
        reached(at(2), p_bob, &zero)
    );
    assert_eq!(
        replayed[&dan.uuid()][&n(&apprentice())],
        reached(at(11), p_dan3, &answers(3.0))
    );
    assert_eq!(replayed[&dan.uuid()][&n(&intern())], dan_intern);

    // The preview: Dan gains Intern, Bob loses Apprentice. Ann keeps hers (reached at
    // another moment, but reached).
    assert_eq!(
        diff(&live, &replayed),
        Diff {
            gained: vec![(dan.uuid(), n(&intern()), dan_intern.clone())],
            lost: vec![(bob.uuid(), n(&apprentice()))],
        }
    );
    // As it happened, nothing would change.
    let (_d2, as_it_happened) = desk.replay(Levels::with_mode(Mode::AsItHappened)).await;
    assert_eq!(
        LevelsView::new(as_it_happened.handle())
            .all_reached()
            .unwrap(),
        live
    );

    // Applying it.
    let p_applied = desk
        .at(
            30,
            vec![LevelsRecomputed {
                mode: RecomputeMode::TodaysDefinitions,
                granted: vec![LevelGrant {
                    agent: dan,
                    level: intern().level_id,
                    reached_at: dan_intern.at,
                    values: dan_intern.values.clone(),
                }],
                revoked: vec![LevelRevocation {
                    agent: bob,
                    level: apprentice().level_id,
                }],
            }
            .into()],
        )
        .await;
    let view = desk.view().await;
    let dan_now = agent_level(&view, dan).level.unwrap();
    assert_eq!(
        (dan_now.0, dan_now.1, dan_now.2.at, dan_now.2.values),
        (3, easier.clone(), at(12), dan_intern.values.clone()),
        "Dan is an Intern since the replay's moment, with its values"
    );
    assert_eq!(dan_now.2.position, p_applied, "recorded by the recompute");
    assert_eq!(ranks(&view, bob), vec![(1, "Novice".into(), at(2))]);
    assert_eq!(
        view.leaderboard()
            .unwrap()
            .into_iter()
            .map(|row| (row.agent, row.rank))
            .collect::<Vec<_>>(),
        vec![(dan.uuid(), 3), (ann.uuid(), 2), (bob.uuid(), 1)]
    );

    // A new replay with today's definitions leaves the recompute out and finds nothing
    // more to change.
    let live = view.all_reached().unwrap();
    let (_d3, again) = desk
        .replay(Levels::with_mode(Mode::TodaysDefinitions(today.clone())))
        .await;
    let again = LevelsView::new(again.handle()).all_reached().unwrap();
    assert_eq!(again, replayed, "the recompute is not part of a replay");
    assert_eq!(diff(&live, &again), Diff::default());

    // As it happened ignores the recompute too: it would undo it.
    let (_d4, undo) = desk.replay(Levels::with_mode(Mode::AsItHappened)).await;
    let undo = LevelsView::new(undo.handle()).all_reached().unwrap();
    assert_eq!(
        diff(&live, &undo),
        Diff {
            gained: vec![(
                bob.uuid(),
                n(&apprentice()),
                reached(at(8), p_bob2, &answers(2.0))
            )],
            lost: vec![(dan.uuid(), n(&intern()))],
        }
    );

    // A rebuild of the live model (the recompute is in the log) gives the same records,
    // in place and in a store of its own.
    let records = dump(&view.handle().tree()).unwrap();
    let p = desk.projector.as_mut().unwrap();
    p.rebuild().unwrap();
    assert_eq!(caught_up(p).await, records);
    let (_d5, fresh) = desk.replay(Levels::new()).await;
    assert_eq!(dump(&fresh.handle().tree()).unwrap(), records);

    // The live model goes on with today's definitions: Bob's third answer makes him an
    // Apprentice again.
    let p_bob3 = desk.at(31, vec![answered(ticket(9), bob)]).await;
    let view = desk.view().await;
    assert_eq!(
        agent_level(&view, bob).level,
        Some((2, stricter, reached(at(31), p_bob3, &answers(3.0))))
    );
}

/// A planned pause ends by itself at its planned end; the system records that end when
/// it gets to it (here with the agent's next command, late, after another ticket). The
/// late record is no moment of its own: the agent's hour of work is reached with their
/// own next event, exactly as when the end is recorded on time.
#[tokio::test]
async fn a_planned_pause_ended_late_changes_no_level_time() {
    async fn day(late: bool) -> Vec<(u32, String, Timestamp)> {
        let mut desk = Desk::new();
        let ann = agent(1);
        desk.at(0, define_all(&[novice(), shift()])).await;
        desk.at(0, vec![registered(ann, "Ann")]).await;
        desk.at(0, vec![online(ann)]).await; // 09:00, say
        let lunch = AgentPaused {
            agent: ann,
            reason: PauseReason::Text("coffee".into()),
            planned_end: Some(at(55)),
        };
        desk.at(50, vec![lunch.into()]).await; // 09:50, five minutes planned
        let end: Event = AgentResumed {
            agent: ann,
            reason: ResumeReason::PlannedEnd,
        }
        .into();
        if !late {
            desk.at(55, vec![end.clone()]).await;
        }
        desk.at(70, vec![created(ticket(1))]).await; // 10:10: someone else's ticket
        if late {
            // Appended with Ann's next command, at the time the pause was planned to
            // end; in the models it comes after 10:10.
            desk.at(55, vec![end]).await;
        }
        desk.at(80, vec![AgentWentOffline { agent: ann }.into()])
            .await; // 10:20
        ranks(&desk.view().await, ann)
    }
    let expected = vec![
        (1, "Novice".to_owned(), at(0)),
        (2, "Shift".to_owned(), at(80)),
    ];
    assert_eq!(day(false).await, expected, "the end recorded on time");
    assert_eq!(day(true).await, expected, "the end recorded late");
}
