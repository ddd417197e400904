//! Daily badges (docs/STATISTICS.md, Badges): evaluated at each midnight of the
//! organization's time zone, over the window that ends at that midnight, with every
//! evaluation kept as history.
//!
//! The model keeps the agent statistics itself ([`crate::stats::StatsFold`], whose day
//! buckets are exactly what the windows sum), plus what the statistics do not: the days
//! each agent was active (for the Four-leaf Clover) and the tickets each agent tagged on
//! each day (distinct tickets over a window).
//!
//! # When
//!
//! The evaluation for midnight D happens once the log holds an event at or after D:
//! before that event is folded, every midnight not yet evaluated up to its time is, in
//! order. Ticks close quiet days. The first midnight evaluated is the one after the first
//! day with an agent active.
//!
//! # How
//!
//! A window is whole days: `[D − window, D)` (7 days or the previous day for the shipped
//! badges; 1 to 90 for custom ones). An agent's value is their statistic over those days,
//! intervals still open counted up to midnight. Only active agents whose sample reaches
//! the badge's minimum compete; every agent tied at the best value holds the badge; the
//! runner-up value is the best among those who compete and do not hold it. Four-leaf
//! Clover: every agent active on the previous day (an event attributed to them, other than
//! what the policies did by themselves — a planned pause's end, an auto-pause — or what
//! an administrator did to them — registration, role, deactivation) whose
//! keyed draw falls under the odds (`helpdesk_rules::badges::clover`). Disabled badges
//! are not evaluated. Holders stay until the next evaluation.
//!
//! | key | value |
//! |---|---|
//! | `B` | the badges as defined now ([`BadgeDef`] by key) |
//! | `E` | [`Schedule`]: the next midnight, the clover's seed and odds |
//! | `V` agent day | () — the agent was active that day |
//! | `T` agent day ticket | () — the agent tagged the ticket that day |
//! | `H` badge 0x00 day | [`Evaluation`] |
//! | `I` agent badge 0x00 day | () — the agent held the badge from that evaluation |

use std::collections::{BTreeMap, BTreeSet, HashMap};

use helpdesk_domain::{BadgeVisibility, Best, Event, Statistic, Timestamp};
use helpdesk_rules::badges::{clover, Rule, BADGES};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{day_of, day_start, format_day, split_by_day, Day};
use crate::runtime::{At, Model, ModelError, ModelHandle, Txn};
use crate::stats::{
    agent_records, day_counters, open_intervals, their_doing, AgentRecord, Counters, StatsFold,
};
use crate::store::{day_bytes, day_from, id_key, Read};

const DEFS: &[u8] = b"B";
const SCHEDULE: &[u8] = b"E";
const ACTIVE: u8 = b'V';
const TAGGED: u8 = b'T';
const HISTORY: u8 = b'H';
const HELD: u8 = b'I';

/// How a badge is defined now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadgeDef {
    pub key: String,
    pub name: String,
    pub description: String,
    pub image_url: Option<String>,
    pub visibility: BadgeVisibility,
    pub enabled: bool,
    pub builtin: bool,
    /// `None` for the Four-leaf Clover.
    pub statistic: Option<Statistic>,
    pub best: Best,
    /// In the statistic's sample unit (seconds for the `*_seconds` statistics).
    pub minimum: u64,
    pub window_days: u32,
}

/// The shipped badges as [`BadgeDef`]s.
pub fn default_badges() -> BTreeMap<String, BadgeDef> {
    BADGES
        .iter()
        .map(|b| {
            let (statistic, best, minimum) = match b.rule {
                Rule::Statistic {
                    statistic,
                    best,
                    minimum,
                } => (Some(statistic), best, minimum),
                Rule::Clover => (None, Best::Max, 0),
            };
            (
                b.key.to_owned(),
                BadgeDef {
                    key: b.key.to_owned(),
                    name: b.name.to_owned(),
                    description: b.description.to_owned(),
                    image_url: None,
                    visibility: BadgeVisibility::Public,
                    enabled: true,
                    builtin: true,
                    statistic,
                    best,
                    minimum,
                    window_days: b.window_days,
                },
            )
        })
        .collect()
}

/// When the next evaluation is due, and the clover's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The next midnight to evaluate (none before the first agent).
    pub next: Option<Day>,
    pub seed: [u8; 32],
    pub odds: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            next: None,
            seed: [0; 32],
            odds: helpdesk_domain::limits::DEFAULT_CLOVER_ODDS,
        }
    }
}

/// One agent holding a badge after an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub agent: Uuid,
    /// Their value (none for the Four-leaf Clover).
    pub value: Option<u64>,
}

/// One evaluation of one badge, kept as history so that each award can be explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The midnight evaluated: the day it starts.
    pub day: Day,
    /// The window's first day (included) and last day (included).
    pub from: Day,
    pub to: Day,
    pub holders: Vec<Holder>,
    /// The best value (none when nobody competed, and for the clover).
    pub value: Option<u64>,
    /// The best value among those who competed and do not hold it.
    pub runner_up: Option<u64>,
    /// How many agents competed (met the minimum).
    pub competitors: u32,
}

/// An award, for streaming clients (not stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Award {
    pub badge: BadgeDef,
    pub agent: Uuid,
    pub evaluation: Evaluation,
}

/// Which definitions the model evaluates with (as for levels).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Mode {
    /// The live model: the definitions in force at each midnight, and the recomputes
    /// administrators applied.
    #[default]
    Live,
    /// A recompute's replay with the definitions in force at each midnight, leaving out
    /// the recomputes applied before.
    AsItHappened,
    /// A recompute's replay with these definitions (today's) for all of history.
    TodaysDefinitions(BTreeMap<String, BadgeDef>),
}

/// The badges model; see the module docs.
#[derive(Debug, Default)]
pub struct Badges {
    stats: StatsFold,
    mode: Mode,
}

impl Badges {
    /// The live model.
    pub fn new() -> Self {
        Badges::default()
    }

    /// A model folding with `mode` (a recompute's replay).
    pub fn with_mode(mode: Mode) -> Self {
        Badges {
            mode,
            ..Badges::default()
        }
    }

    fn definitions(&self, txn: &Txn<'_>) -> Result<BTreeMap<String, BadgeDef>, ModelError> {
        match &self.mode {
            Mode::TodaysDefinitions(fixed) => Ok(fixed.clone()),
            Mode::Live | Mode::AsItHappened => Ok(txn.get(DEFS)?.unwrap_or_else(default_badges)),
        }
    }

    /// Whether definition changes in the log apply (not when the ladder is fixed).
    fn follows_definitions(&self) -> bool {
        !matches!(self.mode, Mode::TodaysDefinitions(_))
    }

    /// Evaluates every midnight due by `time`.
    fn evaluate_due(&self, txn: &mut Txn<'_>, time: Timestamp) -> Result<(), ModelError> {
        let mut schedule: Schedule = txn.get(SCHEDULE)?.unwrap_or_default();
        let zone = self.stats.zone(txn)?;
        let Some(mut next) = schedule.next else {
            return Ok(());
        };
        let mut evaluated = false;
        while day_start(next, &zone) <= time {
            self.evaluate(txn, next, &zone, &schedule)?;
            next += 1;
            evaluated = true;
        }
        if evaluated {
            schedule.next = Some(next);
            txn.put(SCHEDULE.to_vec(), &schedule);
        }
        Ok(())
    }

    /// The evaluation at the midnight starting `day`.
    fn evaluate(
        &self,
        txn: &mut Txn<'_>,
        day: Day,
        zone: &TimeZone,
        schedule: &Schedule,
    ) -> Result<(), ModelError> {
        let definitions = self.definitions(txn)?;
        let midnight = day_start(day, zone);
        let agents = agent_records(txn)?;
        let mut windows: HashMap<u32, Vec<(Uuid, Counters)>> = HashMap::new();
        for badge in definitions.values().filter(|b| b.enabled) {
            let from = day - badge.window_days.max(1) as Day;
            let to = day - 1;
            let evaluation = match badge.statistic {
                None => {
                    let date = format_day(to);
                    let mut holders = Vec::new();
                    for (agent, record) in &agents {
                        if record.active
                            && txn.contains(&agent_day_key(ACTIVE, *agent, to))?
                            && clover(&schedule.seed, &date, *agent, schedule.odds)
                        {
                            holders.push(Holder {
                                agent: *agent,
                                value: None,
                            });
                        }
                    }
                    Evaluation {
                        day,
                        from,
                        to,
                        holders,
                        value: None,
                        runner_up: None,
                        competitors: 0,
                    }
                }
                Some(statistic) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        windows.entry(badge.window_days)
                    {
                        let mut sums = Vec::new();
                        for (agent, record) in &agents {
                            if record.active {
                                let counters =
                                    window(txn, *agent, record, from, to, midnight, zone)?;
                                sums.push((*agent, counters));
                            }
                        }
                        slot.insert(sums);
                    }
                    rank(
                        statistic,
                        badge,
                        &windows[&badge.window_days],
                        day,
                        from,
                        to,
                    )
                }
            };
            let history = history_key(&badge.key, day);
            for holder in &evaluation.holders {
                txn.put(held_key(holder.agent, &badge.key, day), &());
                txn.notify(Award {
                    badge: badge.clone(),
                    agent: holder.agent,
                    evaluation: evaluation.clone(),
                });
            }
            txn.put(history, &evaluation);
        }
        Ok(())
    }
}

/// An agent's counters over `[from, to]`, open intervals counted up to `midnight`.
fn window(
    txn: &Txn<'_>,
    agent: Uuid,
    record: &AgentRecord,
    from: Day,
    to: Day,
    midnight: Timestamp,
    zone: &TimeZone,
) -> Result<Counters, ModelError> {
    let mut sum = Counters::default();
    for day in from..=to {
        if let Some(counters) = day_counters(txn, agent, day)? {
            sum.add(&counters);
        }
    }
    for (open_from, open_to, add) in open_intervals(&record.presence, midnight) {
        for (day, ms) in split_by_day(open_from, open_to.min(midnight), zone) {
            if day >= from && day <= to {
                add(&mut sum, ms as u64);
            }
        }
    }
    // Distinct tickets tagged within the window, not ever.
    let mut tickets = BTreeSet::new();
    for day in from..=to {
        for (k, _) in txn.scan_prefix(&agent_day_key(TAGGED, agent, day))? {
            tickets.insert(k[21..].to_vec());
        }
    }
    sum.tickets_tagged = tickets.len() as u64;
    Ok(sum)
}

/// Ranks the competitors of one statistic badge.
fn rank(
    statistic: Statistic,
    badge: &BadgeDef,
    agents: &[(Uuid, Counters)],
    day: Day,
    from: Day,
    to: Day,
) -> Evaluation {
    let seconds = matches!(
        statistic,
        Statistic::PausedSeconds | Statistic::OnlineSeconds
    );
    let competing: Vec<(Uuid, u64)> = agents
        .iter()
        .filter_map(|(agent, counters)| {
            let (value, sample) = counters.statistic(statistic);
            let sample = if seconds { sample / 1_000 } else { sample };
            let value = value?;
            // At least one of whatever the value is made of, whatever the minimum says.
            (sample >= badge.minimum.max(1)).then_some((*agent, value))
        })
        .collect();
    let better = |a: u64, b: u64| match badge.best {
        Best::Max => a > b,
        Best::Min => a < b,
    };
    let best = competing
        .iter()
        .map(|(_, v)| *v)
        .reduce(|a, b| if better(b, a) { b } else { a });
    let holders: Vec<Holder> = match best {
        Some(best) => competing
            .iter()
            .filter(|(_, v)| *v == best)
            .map(|(agent, v)| Holder {
                agent: *agent,
                value: Some(*v),
            })
            .collect(),
        None => Vec::new(),
    };
    let runner_up = competing
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| Some(*v) != best)
        .reduce(|a, b| if better(b, a) { b } else { a });
    Evaluation {
        day,
        from,
        to,
        holders,
        value: best,
        runner_up,
        competitors: competing.len() as u32,
    }
}

impl Model for Badges {
    const NAME: &'static str = "badges";
    /// 3: an agent's record says whether they have worked.
    const VERSION: u32 = 3;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        // Midnights passed by this event's time are evaluated on the state before it.
        self.evaluate_due(txn, at.time)?;
        let counted = self.stats.fold(txn, at, event)?;
        let active = their_doing(at, event, &counted);
        let zone = self.stats.zone(txn)?;
        let today = day_of(at.time, &zone);
        if !active.is_empty() {
            // The first midnight evaluated is the one after the first agent activity
            // (not the setup's registration of the Owner, recorded at the epoch).
            let mut schedule: Schedule = txn.get(SCHEDULE)?.unwrap_or_default();
            if schedule.next.is_none() {
                schedule.next = Some(today + 1);
                txn.put(SCHEDULE.to_vec(), &schedule);
            }
        }
        for agent in active {
            txn.put(agent_day_key(ACTIVE, agent, today), &());
        }
        match event {
            Event::OrganizationSetUp(e) => {
                let mut schedule: Schedule = txn.get(SCHEDULE)?.unwrap_or_default();
                schedule.seed = e.seed;
                txn.put(SCHEDULE.to_vec(), &schedule);
            }
            Event::OrganizationSettingsChanged(e)
                if e.seed.is_some() || e.clover_odds.is_some() =>
            {
                let mut schedule: Schedule = txn.get(SCHEDULE)?.unwrap_or_default();
                if let Some(seed) = e.seed {
                    schedule.seed = seed;
                }
                if let Some(odds) = e.clover_odds {
                    schedule.odds = odds;
                }
                txn.put(SCHEDULE.to_vec(), &schedule);
            }
            Event::BadgesRecomputed(e) if self.mode == Mode::Live => {
                for record in &e.evaluations {
                    let key = history_key(&record.key, record.day);
                    if let Some(old) = txn.get::<Evaluation>(&key)? {
                        for holder in &old.holders {
                            txn.remove(held_key(holder.agent, &record.key, record.day));
                        }
                    }
                    let evaluation = Evaluation {
                        day: record.day,
                        from: record.from,
                        to: record.to,
                        holders: record
                            .holders
                            .iter()
                            .map(|h| Holder {
                                agent: h.agent.uuid(),
                                value: h.value,
                            })
                            .collect(),
                        value: record.value,
                        runner_up: record.runner_up,
                        competitors: record.competitors,
                    };
                    for holder in &evaluation.holders {
                        txn.put(held_key(holder.agent, &record.key, record.day), &());
                    }
                    txn.put(key, &evaluation);
                }
            }
            Event::TicketTagged(e) => {
                if let Some(agent) = e.by.agent() {
                    let mut k = agent_day_key(TAGGED, agent.uuid(), today);
                    k.extend_from_slice(e.ticket.uuid().as_bytes());
                    txn.put(k, &());
                }
            }
            Event::BadgeCustomized(_) | Event::BadgeDefined(_) | Event::BadgeRemoved(_)
                if self.follows_definitions() =>
            {
                let mut defs: BTreeMap<String, BadgeDef> =
                    txn.get(DEFS)?.unwrap_or_else(default_badges);
                redefine(&mut defs, event);
                txn.put(DEFS.to_vec(), &defs);
            }
            _ => {}
        }
        Ok(())
    }
}

/// The badge definitions after `events` (the configuration's, in log order): what the
/// live model holds once it has folded them. A recompute with today's definitions
/// starts from it.
pub fn definitions_after<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> BTreeMap<String, BadgeDef> {
    let mut defs = default_badges();
    for event in events {
        redefine(&mut defs, event);
    }
    defs
}

/// Applies a change of the definitions (customized, defined, removed); other events
/// change nothing.
fn redefine(defs: &mut BTreeMap<String, BadgeDef>, event: &Event) {
    match event {
        Event::BadgeCustomized(e) => {
            if let Some(def) = defs.get_mut(&e.key) {
                if let Some(v) = &e.name {
                    def.name.clone_from(v);
                }
                if let Some(v) = &e.description {
                    def.description.clone_from(v);
                }
                if let Some(v) = &e.image_url {
                    def.image_url = (!v.is_empty()).then(|| v.clone());
                }
                if let Some(v) = e.visibility {
                    def.visibility = v;
                }
                if let Some(v) = e.enabled {
                    def.enabled = v;
                }
            }
        }
        Event::BadgeDefined(e) => {
            defs.insert(
                e.key.clone(),
                BadgeDef {
                    key: e.key.clone(),
                    name: e.name.clone(),
                    description: e.description.clone(),
                    image_url: None,
                    visibility: BadgeVisibility::Public,
                    enabled: true,
                    builtin: false,
                    statistic: Some(e.statistic),
                    best: e.best,
                    minimum: e.minimum,
                    window_days: e.window_days,
                },
            );
        }
        Event::BadgeRemoved(e) => {
            defs.remove(&e.key);
        }
        _ => {}
    }
}

fn history_key(badge: &str, day: Day) -> Vec<u8> {
    let mut k = vec![HISTORY];
    k.extend_from_slice(badge.as_bytes());
    k.push(0);
    k.extend_from_slice(&day_bytes(day));
    k
}

fn held_key(agent: Uuid, badge: &str, day: Day) -> Vec<u8> {
    let mut k = id_key(HELD, agent);
    k.extend_from_slice(badge.as_bytes());
    k.push(0);
    k.extend_from_slice(&day_bytes(day));
    k
}

/// `kind`, an agent and a day: what an agent did on a day.
fn agent_day_key(kind: u8, agent: Uuid, day: Day) -> Vec<u8> {
    let mut k = id_key(kind, agent);
    k.extend_from_slice(&day_bytes(day));
    k
}

// ------------------------------------------------------------------------------ queries

/// Queries on the badges model.
#[derive(Clone)]
pub struct BadgesView {
    handle: ModelHandle,
}

impl BadgesView {
    pub fn new(handle: ModelHandle) -> Self {
        BadgesView { handle }
    }

    pub fn handle(&self) -> &ModelHandle {
        &self.handle
    }

    /// Every badge as defined now.
    pub fn definitions(&self) -> Result<BTreeMap<String, BadgeDef>, ModelError> {
        Ok(self
            .handle
            .store()
            .get(DEFS)?
            .unwrap_or_else(default_badges))
    }

    /// A badge's evaluations, newest first (at most `limit`).
    pub fn history(&self, key: &str, limit: usize) -> Result<Vec<Evaluation>, ModelError> {
        let mut prefix = vec![HISTORY];
        prefix.extend_from_slice(key.as_bytes());
        prefix.push(0);
        self.handle
            .store()
            .iter::<Evaluation>(&prefix)
            .rev()
            .take(limit)
            .map(|entry| entry.map(|(_, evaluation)| evaluation))
            .collect()
    }

    /// A badge's latest evaluation: its current holders.
    pub fn current(&self, key: &str) -> Result<Option<Evaluation>, ModelError> {
        Ok(self.history(key, 1)?.into_iter().next())
    }

    /// The evaluation of `key` at the midnight starting `day`.
    pub fn evaluation(&self, key: &str, day: Day) -> Result<Option<Evaluation>, ModelError> {
        self.handle.store().get(&history_key(key, day))
    }

    /// The badges an agent held, newest evaluation first, a day's by badge key:
    /// (badge key, evaluation).
    pub fn agent_history(
        &self,
        agent: Uuid,
        limit: usize,
    ) -> Result<Vec<(String, Evaluation)>, ModelError> {
        let mut held: Vec<(Day, String)> = Vec::new();
        for k in self.handle.store().keys(&id_key(HELD, agent)) {
            let k = k?;
            let rest = &k[17..];
            let Some(zero) = rest.iter().position(|b| *b == 0) else {
                continue;
            };
            let key = String::from_utf8_lossy(&rest[..zero]).into_owned();
            if let Some(day) = day_from(&rest[zero + 1..]) {
                held.push((day, key));
            }
        }
        held.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut out = Vec::new();
        for (day, key) in held.into_iter().take(limit) {
            if let Some(evaluation) = self.evaluation(&key, day)? {
                out.push((key, evaluation));
            }
        }
        Ok(out)
    }

    /// The badges an agent holds now (their latest evaluation names the agent).
    pub fn held_now(&self, agent: Uuid) -> Result<Vec<(BadgeDef, Evaluation)>, ModelError> {
        let mut out = Vec::new();
        for (key, def) in self.definitions()? {
            if let Some(current) = self.current(&key)? {
                if current.holders.iter().any(|h| h.agent == agent) {
                    out.push((def, current));
                }
            }
        }
        Ok(out)
    }

    /// The next midnight to be evaluated.
    pub fn schedule(&self) -> Result<Schedule, ModelError> {
        Ok(self.handle.store().get(SCHEDULE)?.unwrap_or_default())
    }

    /// Every evaluation of every badge, by badge and day (for recompute comparisons).
    pub fn all_evaluations(&self) -> Result<BTreeMap<(String, Day), Evaluation>, ModelError> {
        let mut out = BTreeMap::new();
        for entry in self.handle.store().iter::<Evaluation>(&[HISTORY]) {
            let (k, evaluation) = entry?;
            let rest = &k[1..];
            let zero = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| ModelError::Corrupt(format!("badge history key {k:02x?}")))?;
            let key = String::from_utf8_lossy(&rest[..zero]).into_owned();
            let day = day_from(&rest[zero + 1..])
                .ok_or_else(|| ModelError::Corrupt(format!("badge history key {k:02x?}")))?;
            out.insert((key, day), evaluation);
        }
        Ok(out)
    }
}
