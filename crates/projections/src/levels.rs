//! Levels (docs/STATISTICS.md, Levels): who reached which level, when, and with which values.
//!
//! The model keeps the agent statistics itself (the same records as the stats model,
//! [`crate::stats::StatsFold`]) and the level definitions as they stand at each point of
//! the log. After each event it evaluates the conditions for the agents the event is
//! attributed to, and after each `ClockTicked` for every active agent (time online keeps
//! growing). A level is reached at the time of the event after which its condition first
//! holds, with the variable values of that moment; reaching a rank reaches every lower
//! rank not yet reached, at the same moment. Levels are permanent: nothing takes a
//! reached level away (a recompute, applied by an administrator, is the one exception).
//!
//! | key | value |
//! |---|---|
//! | `L` | the ladder: [`Level`]s, lowest rank first |
//! | `R` agent level | [`Reached`] |
//! | (stats) | see [`crate::stats`] |
//!
//! # Recompute modes
//!
//! The live model ([`Mode::Live`]) folds each event with the definitions in force at that
//! point of the log, and applies the recomputes recorded in it (`LevelsRecomputed`: the
//! levels a recompute granted and revoked). A recompute replays the log beside the live
//! model, without the recomputes applied before: [`Mode::AsItHappened`] with the
//! definitions in force at each point, [`Mode::TodaysDefinitions`] with today's ladder
//! for all of history. What the replay reached and the live model did not (and the
//! reverse) is what the recompute would change; applying it records exactly that.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use helpdesk_domain::state::{apply_level_event, Level};
use helpdesk_domain::{Actor, AgentId, Event, LevelId, ResumeReason, Timestamp};
use helpdesk_rules::condition::{Condition, Values, Variable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::stats::{agent_key, agent_records, open_intervals, AgentRecord, Counters, StatsFold};
use crate::store::{id_key, pair_key, uuid_at, Read, Store};

const LADDER: &[u8] = b"L";
const REACHED: u8 = b'R';

/// One level reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reached {
    pub at: Timestamp,
    /// The log position of the event after which it was reached.
    pub position: u64,
    /// The values of the level variables then ([`Variable`] order).
    pub values: Vec<f64>,
}

/// A level-up, for streaming clients (not stored).
#[derive(Debug, Clone, PartialEq)]
pub struct LevelUp {
    pub agent: AgentId,
    pub level: LevelId,
    pub rank: u32,
    pub name: String,
    /// The level's description: the message sent on reaching it.
    pub message: String,
    pub at: Timestamp,
    pub position: u64,
    pub values: Values,
}

/// Which definitions the model folds with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// The live model: the definitions in force at each point of the log, and the
    /// recomputes administrators applied.
    #[default]
    Live,
    /// A recompute's replay with the definitions in force at each point; the
    /// recomputes applied before are what it replaces, so it leaves them out.
    AsItHappened,
    /// A recompute's replay with this ladder (today's) for all of history.
    TodaysDefinitions(Vec<Level>),
}

/// The levels model; see the module docs.
#[derive(Debug, Default)]
pub struct Levels {
    mode: Mode,
    stats: StatsFold,
    compiled: Mutex<HashMap<String, Option<Condition>>>,
}

impl Levels {
    /// The live model.
    pub fn new() -> Self {
        Levels::default()
    }

    /// A model folding with `mode` (a recompute's replay).
    pub fn with_mode(mode: Mode) -> Self {
        Levels {
            mode,
            ..Levels::default()
        }
    }

    /// A condition, compiled once. A condition that does not compile (only an old log
    /// could hold one: the command side checks them) never holds.
    fn condition(&self, source: &str) -> Option<Condition> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        compiled
            .entry(source.to_owned())
            .or_insert_with(|| helpdesk_rules::condition::compile(source).ok())
            .clone()
    }

    fn ladder(&self, txn: &Txn<'_>) -> Result<Vec<Level>, ModelError> {
        Ok(match &self.mode {
            Mode::Live | Mode::AsItHappened => txn.get(LADDER)?.unwrap_or_default(),
            Mode::TodaysDefinitions(levels) => levels.clone(),
        })
    }

    /// Evaluates the ladder for one agent at `at`; records what is newly reached.
    fn evaluate(
        &self,
        txn: &mut Txn<'_>,
        at: &At<'_>,
        agent: Uuid,
        ladder: &[Level],
    ) -> Result<(), ModelError> {
        let Some(record) = txn.get::<AgentRecord>(&agent_key(agent))? else {
            return Ok(());
        };
        let values = values_at(&record, at.time);
        let Some(top) = ladder.iter().rposition(|level| {
            self.condition(&level.condition)
                .is_some_and(|c| c.holds(&values))
        }) else {
            return Ok(());
        };
        for (index, level) in ladder[..=top].iter().enumerate() {
            let k = reached_key(agent, level.level_id);
            if txn.contains(&k)? {
                continue;
            }
            txn.put(
                k,
                &Reached {
                    at: at.time,
                    position: at.position,
                    values: values.as_array().to_vec(),
                },
            );
            txn.notify(LevelUp {
                agent: AgentId::from_uuid(agent),
                level: level.level_id,
                rank: index as u32 + 1,
                name: level.name.clone(),
                message: level.description.clone(),
                at: at.time,
                position: at.position,
                values,
            });
        }
        Ok(())
    }
}

impl Model for Levels {
    const NAME: &'static str = "levels";
    /// 2: every agent an event is attributed to is evaluated after it.
    /// 3: a planned pause's end (recorded late) is no moment of evaluation; an agent's
    /// record says whether they have worked.
    const VERSION: u32 = 3;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        let mut touched: Vec<Uuid> = self
            .stats
            .fold(txn, at, event)?
            .into_iter()
            .map(|a| a.uuid())
            .collect();
        // Every agent the event is attributed to is evaluated, not only those whose
        // statistics it changed (docs/STATISTICS.md, Levels): time online keeps growing,
        // and the ladder may have changed since their last evaluation.
        touched.extend(attributed(event));
        let by_the_setup =
            at.envelope.actor == Actor::System && at.envelope.occurred_at <= Timestamp::EPOCH;
        if matches!(event, Event::AgentRegistered(_)) && by_the_setup {
            // The Owner the organization's setup registers at the Unix epoch, before any
            // history: their first levels come with their first event or tick, never
            // dated 1970.
            touched.clear();
        }
        if let Event::AgentResumed(e) = event {
            if e.reason == ResumeReason::PlannedEnd {
                // A planned pause ends by itself at its planned end, and the statistics
                // count it so from then on. Its event is recorded whenever the system
                // gets to it (often at the agent's next command), so where it lands in
                // the log is no moment of the agent's: evaluating there would date a
                // level by when the end happened to be appended. At the planned end
                // itself nothing could be reached (no variable moves during a pause).
                touched.clear();
            }
        }
        match event {
            Event::LevelDefined(_)
            | Event::LevelUpdated(_)
            | Event::LevelRemoved(_)
            | Event::LevelsReordered(_) => {
                let mut ladder: Vec<Level> = txn.get(LADDER)?.unwrap_or_default();
                apply_level_event(&mut ladder, event);
                txn.put(LADDER.to_vec(), &ladder);
            }
            Event::LevelsRecomputed(e) if self.mode == Mode::Live => {
                for grant in &e.granted {
                    txn.put(
                        reached_key(grant.agent.uuid(), grant.level),
                        &Reached {
                            at: grant.reached_at,
                            position: at.position,
                            values: grant.values.clone(),
                        },
                    );
                }
                for revocation in &e.revoked {
                    txn.remove(reached_key(revocation.agent.uuid(), revocation.level));
                }
            }
            Event::ClockTicked(_) => {
                for (agent, record) in agent_records(txn)? {
                    if record.active {
                        touched.push(agent);
                    }
                }
            }
            _ => {}
        }
        if touched.is_empty() {
            return Ok(());
        }
        touched.sort();
        touched.dedup();
        let ladder = self.ladder(txn)?;
        for agent in touched {
            self.evaluate(txn, at, agent, &ladder)?;
        }
        Ok(())
    }
}

/// The agents an event is attributed to (docs/STATISTICS.md, Attribution): the agents it
/// names (`agent`, or `by` when that is an agent); for ChatEnded and CallEnded the agent
/// who accepted or answered; for a rating also the agent a replaced rating was attributed
/// to.
pub(crate) fn attributed(event: &Event) -> Vec<Uuid> {
    let by = |actor: &Actor| actor.agent().map(|a| a.uuid());
    let agents: Vec<Option<Uuid>> = match event {
        Event::AgentRegistered(e) => vec![Some(e.agent.uuid())],
        Event::AgentRoleChanged(e) => vec![Some(e.agent.uuid())],
        Event::AgentWentOnline(e) => vec![Some(e.agent.uuid())],
        Event::AgentWentOffline(e) => vec![Some(e.agent.uuid())],
        Event::AgentPaused(e) => vec![Some(e.agent.uuid())],
        Event::AgentResumed(e) => vec![Some(e.agent.uuid())],
        Event::AgentDeactivated(e) => vec![Some(e.agent.uuid())],
        Event::AgentAddedToDepartment(e) => vec![Some(e.agent.uuid())],
        Event::AgentRemovedFromDepartment(e) => vec![Some(e.agent.uuid())],
        Event::TicketAssigned(e) => vec![Some(e.agent.uuid()), by(&e.by)],
        Event::TicketUnassigned(e) => vec![Some(e.agent.uuid()), by(&e.by)],
        Event::TicketTransferred(e) => vec![by(&e.by)],
        Event::TicketAnswered(e) => vec![Some(e.agent.uuid())],
        Event::TicketTagged(e) => vec![by(&e.by)],
        Event::TicketUntagged(e) => vec![by(&e.by)],
        Event::TicketResolved(e) => vec![by(&e.by)],
        Event::TicketReopened(e) => vec![by(&e.by)],
        Event::TicketDeleted(e) => vec![by(&e.by)],
        Event::TicketPriorityChanged(e) => vec![by(&e.by)],
        Event::ChatOffered(e) => vec![Some(e.agent.uuid())],
        Event::ChatAccepted(e) => vec![Some(e.agent.uuid())],
        Event::ChatMissed(e) => vec![Some(e.agent.uuid())],
        Event::ChatMessageSent(e) => vec![Some(e.agent.uuid())],
        Event::ChatEnded(e) => vec![e.agent.map(|a| a.uuid())],
        Event::CallRinging(e) => vec![Some(e.agent.uuid())],
        Event::CallAnswered(e) => vec![Some(e.agent.uuid())],
        Event::CallMissed(e) => vec![Some(e.agent.uuid())],
        Event::CallEnded(e) => vec![e.agent.map(|a| a.uuid())],
        Event::ConversationRated(e) => {
            vec![Some(e.agent.uuid()), e.replaced_agent.map(|a| a.uuid())]
        }
        Event::RatingRetracted(e) => vec![Some(e.agent.uuid())],
        _ => Vec::new(),
    };
    agents.into_iter().flatten().collect()
}

/// The level variables of an agent at `now`, open intervals included.
pub fn values_at(record: &AgentRecord, now: Timestamp) -> Values {
    let mut counters: Counters = record.totals;
    for (from, to, add) in open_intervals(&record.presence, now) {
        add(&mut counters, (to.millis() - from.millis()).max(0) as u64);
    }
    counters.values()
}

fn reached_key(agent: Uuid, level: LevelId) -> Vec<u8> {
    pair_key(REACHED, agent, level.uuid())
}

// ------------------------------------------------------------------------------ queries

/// An agent's standing on the ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLevel {
    pub agent: Uuid,
    pub name: String,
    /// The highest level reached (by today's ranks), with its rank; none before any.
    pub level: Option<(u32, Level, Reached)>,
    /// Every level reached, lowest rank first (levels removed since are left out).
    pub reached: Vec<(u32, Level, Reached)>,
}

/// How far an agent is from their next level.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub agent: Uuid,
    /// The lowest level above the agent's that they have not reached; none at the top.
    pub next: Option<(u32, Level)>,
    pub parts: Vec<PartProgress>,
}

/// One `&&` part of a condition: whether it holds now and how far it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PartProgress {
    /// The part in canonical form, e.g. `$answers >= 500`.
    pub condition: String,
    pub holds: bool,
    /// The variables the part reads, with their values now.
    pub values: Vec<(Variable, f64)>,
    /// For a part that compares to a number (`… >= 500`): the left side's value now.
    pub current: Option<f64>,
    /// And the number it must reach.
    pub target: Option<f64>,
    /// What is missing (target − current for `>=`/`>`, current − target for `<=`/`<`;
    /// 0 once the part holds).
    pub missing: Option<f64>,
}

/// One row of the level leaderboard.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderboardRow {
    pub agent: Uuid,
    pub name: String,
    pub rank: u32,
    pub level: Level,
    pub reached_at: Timestamp,
}

/// Queries on the levels model.
#[derive(Clone)]
pub struct LevelsView {
    handle: ModelHandle,
}

impl LevelsView {
    pub fn new(handle: ModelHandle) -> Self {
        LevelsView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// The ladder as it stands, lowest rank first.
    pub fn ladder(&self) -> Result<Vec<Level>, ModelError> {
        Ok(self.handle.store().get(LADDER)?.unwrap_or_default())
    }

    fn reached(&self, store: &Store, agent: Uuid) -> Result<BTreeMap<Uuid, Reached>, ModelError> {
        store
            .scan::<Reached>(&id_key(REACHED, agent))?
            .into_iter()
            .map(|(k, reached)| Ok((uuid_at(&k, 17)?, reached)))
            .collect()
    }

    /// One agent's level and the levels they reached; none for an unknown agent.
    pub fn agent(&self, agent: Uuid) -> Result<Option<AgentLevel>, ModelError> {
        let store = self.handle.store();
        let Some(record) = store.get::<AgentRecord>(&agent_key(agent))? else {
            return Ok(None);
        };
        let ladder = self.ladder()?;
        let reached = self.reached(&store, agent)?;
        let reached: Vec<(u32, Level, Reached)> = ladder
            .iter()
            .enumerate()
            .filter_map(|(i, level)| {
                reached
                    .get(&level.level_id.uuid())
                    .map(|r| (i as u32 + 1, level.clone(), r.clone()))
            })
            .collect();
        Ok(Some(AgentLevel {
            agent,
            name: record.name,
            level: reached.last().cloned(),
            reached,
        }))
    }

    /// Every agent with a level: by rank (highest first), then by who reached it first.
    pub fn leaderboard(&self) -> Result<Vec<LeaderboardRow>, ModelError> {
        let store = self.handle.store();
        let ladder = self.ladder()?;
        let mut rows = Vec::new();
        for (agent, record) in agent_records(&store)? {
            if !record.worked {
                continue; // A setup or import account, or someone who has not started.
            }
            let reached = self.reached(&store, agent)?;
            let top = ladder
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, l)| reached.get(&l.level_id.uuid()).map(|r| (i, l, r)));
            if let Some((i, level, r)) = top {
                rows.push(LeaderboardRow {
                    agent,
                    name: record.name,
                    rank: i as u32 + 1,
                    level: level.clone(),
                    reached_at: r.at,
                });
            }
        }
        rows.sort_by(|a, b| {
            b.rank
                .cmp(&a.rank)
                .then(a.reached_at.cmp(&b.reached_at))
                .then(a.agent.cmp(&b.agent))
        });
        Ok(rows)
    }

    /// Every agent's reached levels (for recompute comparisons).
    pub fn all_reached(&self) -> Result<BTreeMap<Uuid, BTreeMap<Uuid, Reached>>, ModelError> {
        let mut out: BTreeMap<Uuid, BTreeMap<Uuid, Reached>> = BTreeMap::new();
        for (k, reached) in self.handle.store().scan::<Reached>(&[REACHED])? {
            out.entry(uuid_at(&k, 1)?)
                .or_default()
                .insert(uuid_at(&k, 17)?, reached);
        }
        Ok(out)
    }

    /// The agent's level variables now (open intervals up to the model's time).
    pub fn values(&self, agent: Uuid) -> Result<Option<(String, Values)>, ModelError> {
        let record = self.handle.store().get::<AgentRecord>(&agent_key(agent))?;
        Ok(record.map(|r| (r.name.clone(), values_at(&r, self.handle.time()))))
    }

    /// Every active agent's name and variables now.
    pub fn all_values(&self) -> Result<Vec<(Uuid, String, Values)>, ModelError> {
        let now = self.handle.time();
        let mut out = Vec::new();
        for (agent, record) in agent_records(&self.handle.store())? {
            if record.active {
                out.push((agent, record.name.clone(), values_at(&record, now)));
            }
        }
        Ok(out)
    }

    /// How far `agent` is from the next level; none for an unknown agent.
    pub fn progress(&self, agent: Uuid) -> Result<Option<Progress>, ModelError> {
        let Some(standing) = self.agent(agent)? else {
            return Ok(None);
        };
        let Some((_, values)) = self.values(agent)? else {
            return Ok(None);
        };
        let ladder = self.ladder()?;
        let current = standing.level.as_ref().map_or(0, |(rank, _, _)| *rank);
        let next = ladder
            .iter()
            .enumerate()
            .skip(current as usize)
            .find(|(_, l)| {
                !standing
                    .reached
                    .iter()
                    .any(|(_, r, _)| r.level_id == l.level_id)
            })
            .map(|(i, l)| (i as u32 + 1, l.clone()));
        let parts = match &next {
            Some((_, level)) => match helpdesk_rules::condition::compile(&level.condition) {
                Ok(condition) => condition
                    .parts()
                    .iter()
                    .map(|p| part_progress(p, &values))
                    .collect(),
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        Ok(Some(Progress { agent, next, parts }))
    }
}

/// How one part stands against `values`.
pub fn part_progress(part: &Condition, values: &Values) -> PartProgress {
    use helpdesk_rules::condition::{BinaryOp, Expr};
    let holds = part.holds(values);
    let (mut current, mut target, mut missing) = (None, None, None);
    if let Expr::Binary(op, lhs, rhs) = part.expr() {
        if let (Expr::Number(n), true) = (
            rhs.as_ref(),
            matches!(
                op,
                BinaryOp::Ge | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Lt
            ),
        ) {
            if let Ok(left) = helpdesk_rules::condition::compile(&lhs.to_string()) {
                let value = left.eval(values);
                current = Some(value);
                target = Some(*n);
                missing = Some(if holds {
                    0.0
                } else {
                    match op {
                        BinaryOp::Ge | BinaryOp::Gt => (n - value).max(0.0),
                        _ => (value - n).max(0.0),
                    }
                });
            }
        }
    }
    PartProgress {
        condition: part.to_string(),
        holds,
        values: part
            .variables()
            .iter()
            .map(|v| (*v, values.get(*v)))
            .collect(),
        current,
        target,
        missing,
    }
}

/// What a recompute would change: per agent, the levels gained and lost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// (agent, level, reached) that the recomputed model has and the live one lacks.
    pub gained: Vec<(Uuid, Uuid, Reached)>,
    /// (agent, level) that the live model has and the recomputed one lacks.
    pub lost: Vec<(Uuid, Uuid)>,
}

/// Compares the live model's reached levels with a recomputed model's.
pub fn diff(
    live: &BTreeMap<Uuid, BTreeMap<Uuid, Reached>>,
    recomputed: &BTreeMap<Uuid, BTreeMap<Uuid, Reached>>,
) -> Diff {
    let mut out = Diff::default();
    for (agent, levels) in recomputed {
        for (level, reached) in levels {
            if !live.get(agent).is_some_and(|l| l.contains_key(level)) {
                out.gained.push((*agent, *level, reached.clone()));
            }
        }
    }
    for (agent, levels) in live {
        for level in levels.keys() {
            if !recomputed.get(agent).is_some_and(|l| l.contains_key(level)) {
                out.lost.push((*agent, *level));
            }
        }
    }
    out
}
