//! The command engine: load the aggregate, decide, append, retry on conflict.
//!
//! The domain decides; the engine does the I/O around it. A command's target aggregate
//! comes from a cache that is trusted as it is: if it is stale the append's expected
//! position is wrong, the log refuses it with a conflict, and the engine reloads and
//! decides again. The other aggregates a decision reads (`domain::needs`), the
//! configuration and the caller's own agent must hold everything the log acknowledged
//! before the command arrived ([`Freshness::AsOf`]), because no conflict would reveal
//! them stale when another process wrote them: the [`Follower`] says which cached ones
//! do, and the rest are read from the log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use helpdesk_domain::{
    self as domain,
    event::{answer_id, ClockTicked},
    Actor, AgentId, AgentState, AggregateId, AggregateKind, Command, ConfigState, Context,
    DepartmentId, DepartmentState, DomainError, Envelope, Event, Permission, Principal, State,
    Timestamp,
};
use helpdesk_log::{Append, EventLog, LogError, Position, Stored};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::command::follower::{Follower, LogClock};

/// How often a command is decided after losing races (to other processes; this one
/// takes turns) before it is `ABORTED`.
const MAX_ATTEMPTS: u32 = 16;
/// How many locks the aggregates of this process share out (a power of two).
const STRIPES: usize = 1024;
/// Cached aggregates kept before the cache is emptied (a simple bound on memory).
const CACHE_CAPACITY: usize = 200_000;

/// One command as the engine receives it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The client's id, or none to have one made.
    pub command_id: Option<Uuid>,
    /// A caller-supplied event time (imports); checked by `domain::effective_time`.
    pub occurred_at: Option<Timestamp>,
    pub command: Command,
    /// When the command arrived: its decision sees everything the log acknowledged
    /// before then.
    pub received: Instant,
}

/// How current a loaded aggregate must be.
#[derive(Debug, Clone, Copy)]
pub enum Freshness {
    /// As cached, read from the log only when not cached: for a command's target, whose
    /// append checks that nothing came after it.
    Cached,
    /// As cached, and when not cached assumed not to exist yet: for the target of a
    /// command that starts it, whose append (expecting an empty subject) is refused if
    /// it does exist.
    CachedOrNew,
    /// Holding every message the log acknowledged before this instant.
    AsOf(Instant),
}

impl Freshness {
    /// Everything acknowledged until now.
    pub fn now() -> Self {
        Freshness::AsOf(Instant::now())
    }

    /// How current `command`'s target must be at first: as cached, and assumed new when
    /// the command starts it.
    fn of_target(command: &Command) -> Self {
        if command.starts_aggregate() {
            Freshness::CachedOrNew
        } else {
            Freshness::Cached
        }
    }
}

impl Request {
    /// When a planned pause of the target agent must have ended for this command: at
    /// an import's time, not the wall clock's (a pause planned to end after the imported
    /// moment is still running then), and never later than now.
    fn pauses_ended_by(&self) -> Timestamp {
        self.occurred_at
            .unwrap_or_else(wall_clock)
            .min(wall_clock())
    }

    /// The system's command that ends `agent`'s planned pause if its end has come by
    /// `at`, with the id derived from the pause (so the policies never double it).
    fn planned_end(
        state: &State,
        agent: AggregateId,
        at: Timestamp,
        received: Instant,
    ) -> Option<Request> {
        let State::Agent(state) = state else {
            return None;
        };
        let agent_id = helpdesk_domain::AgentId::from_uuid(agent.id);
        domain::planned_resume(state, agent_id, at).map(|(command_id, planned_end, command)| {
            Request {
                command_id: Some(command_id),
                occurred_at: Some(planned_end),
                command,
                received,
            }
        })
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub command_id: Uuid,
    /// What the answer names as acted on: the item a configuration command created or
    /// changed (`helpdesk_domain::event::answer_id`), else the aggregate's id.
    pub answer_id: String,
    /// The names of the events appended (for a duplicate: appended the first time).
    pub events: Vec<&'static str>,
    /// Where the envelope is in the log.
    pub position: Position,
    /// True when the command id had been accepted before and nothing was appended.
    pub duplicate: bool,
}

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log does not hold a command's first result where it was recorded: it is not
    /// the log this process read (a backup restored under it). What was read is dropped.
    #[error(
        "the event log changed under this process (restored from a backup?): it has \
         read the log again; send the command again with the same command_id"
    )]
    LogReplaced,
    /// The command id was used by another caller (nothing more is said of it).
    #[error("this command_id was used by another caller: send the command with a new command_id")]
    ForeignCommandId,
    /// The aggregate kept changing under us.
    #[error("{subject} changed {attempts} times while this command was decided; retry it")]
    Aborted { subject: String, attempts: u32 },
    /// The log holds bytes that are not an envelope we can read.
    #[error("unreadable event at position {position} of {subject}: {reason}")]
    Corrupt {
        subject: String,
        position: Position,
        reason: String,
    },
}

/// An aggregate folded up to a position.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub state: State,
    /// The position of the aggregate's last envelope, 0 when it has none.
    pub position: Position,
    /// The time of its last envelope.
    pub last_time: Option<Timestamp>,
    /// Every command id accepted on this aggregate, and where its envelope is: a command
    /// sent again, however long after, appends nothing (an importer resends a whole
    /// history). A persistent map: a copy of the aggregate to fold a new event into shares
    /// it instead of copying every id ever accepted.
    commands: imbl::HashMap<Uuid, Position>,
}

impl Loaded {
    fn new(kind: AggregateKind) -> Self {
        Loaded {
            state: State::new(kind),
            position: 0,
            last_time: None,
            commands: imbl::HashMap::new(),
        }
    }

    fn apply(&mut self, position: Position, envelope: &Envelope) {
        self.state.evolve(envelope);
        self.position = position;
        self.last_time = Some(envelope.occurred_at);
        self.commands.insert(envelope.command_id, position);
    }
}

/// The configuration aggregate, loaded: its state, through `Deref`.
pub struct LoadedConfig(Arc<Loaded>);

impl std::ops::Deref for LoadedConfig {
    type Target = ConfigState;
    fn deref(&self) -> &ConfigState {
        config_state(&self.0.state)
    }
}

/// An agent aggregate, loaded: its state, through `Deref`.
pub struct LoadedAgent(Arc<Loaded>);

impl std::ops::Deref for LoadedAgent {
    type Target = AgentState;
    fn deref(&self) -> &AgentState {
        match &self.0.state {
            State::Agent(agent) => agent,
            // As for the configuration (below).
            _ => unreachable!("an agent aggregate folds into agent state"),
        }
    }
}

/// The state of the configuration aggregate. An aggregate starts as `State::new(kind)`,
/// the variant of its kind, and `evolve` never changes the variant: nothing else can be
/// there.
fn config_state(state: &State) -> &ConfigState {
    match state {
        State::Config(config) => config,
        _ => unreachable!("the config aggregate folds into config state"),
    }
}

pub struct Engine {
    log: Arc<dyn EventLog>,
    cache: Mutex<HashMap<AggregateId, Arc<Loaded>>>,
    /// The follower's generation the cache was filled in (see [`Engine::cache`]).
    cache_generation: AtomicU64,
    /// Turns for commands on one aggregate, by [`stripe`].
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Once the organization has a department it always has one (there is no deletion).
    has_departments: AtomicBool,
    /// The last position of the clock's subject, as far as this process knows.
    clock_position: AtomicU64,
    /// Which cached aggregates are current, once [`Engine::follow`] has started it.
    follower: Arc<Follower>,
    /// Held shared by every other append of this process and exclusively by a batch,
    /// which is refused whole if anything is appended between its look at the log's
    /// end and its commit (the policies end planned pauses while an import runs).
    appending: tokio::sync::RwLock<()>,
}

impl Engine {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Engine {
            log,
            cache: Mutex::new(HashMap::new()),
            cache_generation: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            has_departments: AtomicBool::new(false),
            clock_position: AtomicU64::new(0),
            follower: Arc::default(),
            appending: tokio::sync::RwLock::new(()),
        }
    }

    /// Follows the log from its end until `shutdown`, so that decisions read from the log
    /// only the aggregates that changed (see [`Follower`]). Call it before the first
    /// command: what is cached before it is forgotten.
    pub async fn follow(&self, shutdown: CancellationToken) -> Result<(), LogError> {
        self.follower.start(self.log.clone(), shutdown).await?;
        self.cache().clear();
        Ok(())
    }

    /// The cache of aggregates, emptied first if the log turned out to be another than
    /// the one they were read from (a backup restored under a running process): what
    /// this process knew of it, departments and the clock's position included, is
    /// forgotten and read again.
    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<AggregateId, Arc<Loaded>>> {
        let mut cache = self.cache.lock().expect("cache lock");
        let generation = self.follower.generation();
        if self.cache_generation.swap(generation, Ordering::AcqRel) != generation {
            cache.clear();
            self.has_departments.store(false, Ordering::Relaxed);
            self.clock_position.store(0, Ordering::Relaxed);
        }
        cache
    }

    /// Returns once the log holds more than the organization's setup: someone (in any
    /// process) has started to work or to import. A new organization's clock waits for
    /// it, so that a history imported into it is not preceded by a tick at today's time;
    /// it is read from the log, so a restart before that changes nothing.
    pub async fn work_started(&self) {
        self.follower.work_started().await
    }

    /// Whether an import is running: an import's command (one from outside with its own
    /// time) arrived here, or was seen in the log, within `window` of wall time, or was
    /// the last thing in the log when this process started less than `window` ago. The
    /// clock and the policies hold back then, so that nothing at today's time lands in
    /// the middle of imported history, and an import cut off by a restart can go on.
    pub fn import_running(&self, window: std::time::Duration) -> bool {
        self.follower.import_running(window)
    }

    /// The log's last position.
    pub async fn last_position(&self) -> Result<Position, ExecError> {
        Ok(self.log.last_position().await?)
    }

    /// The time the log has reached (the latest time of its events, everything
    /// acknowledged before `since` included); `None` for an empty log.
    pub async fn log_time(&self, since: Instant) -> Result<Option<Timestamp>, ExecError> {
        if self.follower.caught_up(&*self.log, since).await?.is_some() {
            return Ok(self.follower.time());
        }
        let end = self.log.last_position().await?;
        Ok(LogClock::read(&*self.log, end).await?.time)
    }

    /// Appends a `ClockTicked` at the wall clock's time.
    ///
    /// Ticks skip the decide cycle and the cache: the clock aggregate has no rules, and
    /// folding a year of ticks on every start would be waste. A conflict tells the clock
    /// subject's real last position, which the next attempt expects.
    pub async fn tick(&self) -> Result<Position, ExecError> {
        let subject = AggregateId::clock().subject();
        let _appending = self.appending.read().await;
        for _ in 0..MAX_ATTEMPTS {
            let envelope = Envelope {
                command_id: Uuid::now_v7(),
                actor: Actor::System,
                occurred_at: wall_clock(),
                recorded_at: None,
                events: vec![Event::ClockTicked(ClockTicked {})],
            };
            let append = Append {
                subject: subject.clone(),
                expected_last: self.clock_position.load(Ordering::Relaxed),
                message_id: envelope.command_id.to_string(),
                payload: Bytes::from(envelope.encode()),
            };
            match self.log.append(append).await {
                Ok(appended) => {
                    self.clock_position
                        .store(appended.position, Ordering::Relaxed);
                    return Ok(appended.position);
                }
                Err(LogError::Conflict { actual, .. }) => {
                    self.clock_position.store(actual, Ordering::Relaxed)
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ExecError::Aborted {
            subject,
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Carries out one command for `principal`.
    #[tracing::instrument(name = "command", skip_all, fields(command = request.command.name()))]
    pub async fn execute(
        &self,
        principal: &Principal,
        request: Request,
    ) -> Result<Outcome, ExecError> {
        request.command.validate()?;
        self.note_arrival(principal, &request);
        let target = request.command.target();
        let _appending = self.appending.read().await;
        // Commands on one aggregate take turns in this process, so that they do not
        // decide on the same state and lose to each other; only other processes can
        // still race them, and the expected-sequence check catches that.
        let _turn = self.stripes[stripe(&target)].lock().await;
        if target.kind == AggregateKind::Agent {
            self.end_planned_pause(target, request.pauses_ended_by(), request.received)
                .await?;
        }
        match self
            .decide_and_append(principal, request.clone(), target)
            .await
        {
            // Decided on what an earlier log held: once more, on the log as it is.
            Err(ExecError::LogReplaced) => self.decide_and_append(principal, request, target).await,
            outcome => outcome,
        }
    }

    /// Loads, decides and appends, deciding again on fresh state after a conflict.
    async fn decide_and_append(
        &self,
        principal: &Principal,
        request: Request,
        target: AggregateId,
    ) -> Result<Outcome, ExecError> {
        let command_id = request.command_id.unwrap_or_else(Uuid::now_v7);
        let mut target_freshness = Freshness::of_target(&request.command);
        let log_time = if is_import(principal, &request) {
            self.log_time(request.received).await?
        } else {
            None
        };
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let loaded = self.load(target, target_freshness).await?;
            if let Some(&position) = loaded.commands.get(&command_id) {
                return self
                    .replay_outcome(principal, command_id, target, position)
                    .await;
            }
            let decided = self
                .decide_on(
                    principal,
                    &request,
                    command_id,
                    &loaded,
                    &HashMap::new(),
                    log_time,
                )
                .await;
            let envelope = match decided {
                Ok(envelope) => envelope,
                Err(err @ ExecError::Domain(_)) => {
                    if let Some(position) =
                        self.recorded(target, command_id, request.received).await?
                    {
                        return self
                            .replay_outcome(principal, command_id, target, position)
                            .await;
                    }
                    return Err(err);
                }
                Err(err) => return Err(err),
            };
            let append = Append {
                subject: target.subject(),
                expected_last: loaded.position,
                message_id: command_id.to_string(),
                payload: Bytes::from(envelope.encode()),
            };
            match self.log.append(append).await {
                Ok(appended) if appended.duplicate => {
                    // The id was used within the log's duplicate window, perhaps on
                    // another aggregate: the first result stands.
                    return self
                        .replay_outcome(principal, command_id, target, appended.position)
                        .await;
                }
                Ok(appended) => {
                    self.follower.saw_envelope(&envelope);
                    let mut next = (*loaded).clone();
                    next.apply(appended.position, &envelope);
                    self.remember(target, next);
                    if target.kind == AggregateKind::Department {
                        self.has_departments.store(true, Ordering::Relaxed);
                    }
                    tracing::info!(
                        subject = %target.subject(),
                        position = appended.position,
                        events = ?envelope.events.iter().map(|e| e.name()).collect::<Vec<_>>(),
                        "appended"
                    );
                    return Ok(Outcome {
                        command_id,
                        answer_id: answer_id(&target.id, &envelope.events),
                        events: envelope.events.iter().map(|e| e.name()).collect(),
                        position: appended.position,
                        duplicate: false,
                    });
                }
                Err(LogError::Conflict { .. }) => {
                    crate::ops::metrics::COMMANDS.conflict();
                    tracing::debug!(subject = %target.subject(), attempt, "conflict, deciding again on fresh state");
                    target_freshness = Freshness::now();
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ExecError::Aborted {
            subject: target.subject(),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// What a command arriving from `principal` says about the process: an import runs
    /// (the clock and policies hold back).
    fn note_arrival(&self, principal: &Principal, request: &Request) {
        if is_import(principal, request) {
            self.follower.note_import();
        }
    }

    /// Decides `request` on its target `loaded`: the envelope to append. The other
    /// aggregates it reads come from `written` (this batch's own, not yet appended) or
    /// as the log held them when the request arrived. An import is checked against
    /// `log_time`, the time the log (and the batch before it) has reached.
    async fn decide_on(
        &self,
        principal: &Principal,
        request: &Request,
        command_id: Uuid,
        loaded: &Loaded,
        written: &HashMap<AggregateId, Loaded>,
        log_time: Option<Timestamp>,
    ) -> Result<Envelope, ExecError> {
        let needed = Freshness::AsOf(request.received);
        let target = request.command.target();
        // A configuration command decides on its target as it stands, a batch's earlier
        // changes included; other commands on the batch's or the log's.
        let config = if target == AggregateId::config() {
            Arc::new(loaded.clone())
        } else {
            match written.get(&AggregateId::config()) {
                Some(config) => Arc::new(config.clone()),
                None => self.load(AggregateId::config(), needed).await?,
            }
        };
        let config_state = config_state(&config.state);
        let mut related = HashMap::new();
        for id in domain::needs(&request.command, &loaded.state, config_state) {
            if id == target || related.contains_key(&id) {
                continue;
            }
            let state = match written.get(&id) {
                Some(written) => written.state.clone(),
                None => self.load(id, needed).await?.state.clone(),
            };
            related.insert(id, state);
        }
        let now = domain::effective_time(
            request.occurred_at,
            wall_clock(),
            loaded.last_time,
            principal,
        )?;
        let import = is_import(principal, request);
        if let Some(log_time) = log_time.filter(|_| import) {
            domain::check_import_time(now, log_time)?;
        }
        let org_has_departments = self.org_has_departments().await?
            || written
                .keys()
                .any(|id| id.kind == AggregateKind::Department);
        // The context holds a `dyn Fn` that is not `Sync`: it must not live across an
        // await, so the decision is taken in a block of its own.
        let events = {
            let context = Context {
                principal,
                now,
                config: config_state,
                related: &related,
                org_has_departments,
                check_condition: Some(&check_condition),
            };
            domain::decide(&loaded.state, &request.command, &context)?
        };
        Ok(Envelope {
            command_id,
            actor: principal.actor,
            occurred_at: now,
            recorded_at: import.then(wall_clock),
            events,
        })
    }

    /// Carries out `requests` in order for `principal`, as [`Engine::execute`] would one
    /// after another, but appended as one atomic batch: each is decided on the state the
    /// ones before it leave (kept aside until the batch is in the log), and the batch
    /// expects the log's last position, so it is refused whole if anything else was
    /// appended meanwhile; it is then decided again, a few times. When the batch cannot
    /// be used they run one after another instead, from scratch: nothing decided for a
    /// batch outlives it.
    pub async fn execute_batch(
        &self,
        principal: &Principal,
        requests: Vec<Request>,
    ) -> Vec<Result<Outcome, ExecError>> {
        let mut requests = requests;
        // One id per command for every attempt: a batch that was appended although its
        // answer was lost makes the one-by-one run find its commands done.
        let mut ids = std::collections::HashSet::new();
        let mut distinct = true;
        for request in &mut requests {
            distinct &= ids.insert(*request.command_id.get_or_insert_with(Uuid::now_v7));
        }
        if requests.len() > 1 && distinct {
            for _ in 0..BATCH_ATTEMPTS {
                match self.try_batch(principal, &requests).await {
                    Ok(Batch::Appended(outcomes)) => return outcomes,
                    Ok(Batch::Refused) => crate::ops::metrics::COMMANDS.conflict(),
                    Ok(Batch::Unsuitable) => break,
                    Err(err) => {
                        tracing::debug!("a batch of commands failed ({err}); one at a time");
                        break;
                    }
                }
            }
        }
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            outcomes.push(self.execute(principal, request).await);
        }
        outcomes
    }

    /// One attempt at the batch of [`Engine::execute_batch`].
    async fn try_batch(
        &self,
        principal: &Principal,
        requests: &[Request],
    ) -> Result<Batch, ExecError> {
        if requests.len() > helpdesk_log::MAX_BATCH / 2 {
            // Each request may bring a planned pause's end along.
            return Ok(Batch::Unsuitable);
        }
        let started = Instant::now();
        let _alone = self.appending.write().await;
        // Every target's turn, taken in one order so that two batches cannot wait on
        // each other.
        let mut stripes: Vec<usize> = requests
            .iter()
            .map(|r| stripe(&r.command.target()))
            .collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut turns = Vec::with_capacity(stripes.len());
        for index in stripes {
            turns.push(self.stripes[index].lock().await);
        }
        // The batch expects the log's last position as it is now, this process's own
        // latest appends included (a position from when the requests arrived would be
        // too old for that), and every request sees at least that.
        let Some(end) = self.follower.caught_up(&*self.log, Instant::now()).await? else {
            return Ok(Batch::Unsuitable);
        };
        let caught_up = started.elapsed();
        let mut staged = Staged {
            end,
            time: self.follower.time(),
            written: HashMap::new(),
            appends: Vec::new(),
            targets: Vec::new(),
            appended: Vec::new(),
        };
        let mut outcomes: Vec<Option<Result<Outcome, ExecError>>> = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            if let Err(err) = request.command.validate() {
                outcomes.push(Some(Err(err.into())));
                continue;
            }
            self.note_arrival(principal, request);
            let target = request.command.target();
            let command_id = request.command_id.unwrap_or_else(Uuid::now_v7);
            // Taken out of the batch's aggregates while it is decided (its own decision
            // does not read it from there), put back by `stage` or below.
            let mut loaded = match staged.written.remove(&target) {
                Some(loaded) => loaded,
                None => (*self
                    .load(target, Freshness::of_target(&request.command))
                    .await?)
                    .clone(),
            };
            // As `execute` does: a planned pause whose end has come ends first.
            let resume = Request::planned_end(
                &loaded.state,
                target,
                request.pauses_ended_by(),
                request.received,
            );
            if let Some(
                resume @ Request {
                    command_id: Some(end_id),
                    ..
                },
            ) = &resume
            {
                if loaded.commands.contains_key(end_id) {
                    return Ok(Batch::Unsuitable); // Recorded, yet the pause runs.
                }
                let envelope = self
                    .decide_on(
                        &Principal::system(),
                        resume,
                        *end_id,
                        &loaded,
                        &staged.written,
                        None,
                    )
                    .await?;
                staged.stage(target, &mut loaded, envelope, None);
            }
            if let Some(&position) = loaded.commands.get(&command_id) {
                if position > end {
                    return Ok(Batch::Unsuitable); // Twice in this batch.
                }
                staged.keep(target, loaded);
                outcomes.push(Some(
                    self.replay_outcome(principal, command_id, target, position)
                        .await,
                ));
                continue;
            }
            match self
                .decide_on(
                    principal,
                    request,
                    command_id,
                    &loaded,
                    &staged.written,
                    staged.time,
                )
                .await
            {
                Ok(envelope) => {
                    staged.stage(target, &mut loaded, envelope, Some(index));
                    outcomes.push(None);
                }
                Err(err @ ExecError::Domain(_)) => {
                    match self.recorded(target, command_id, request.received).await? {
                        Some(position) => outcomes.push(Some(
                            self.replay_outcome(principal, command_id, target, position)
                                .await,
                        )),
                        None => outcomes.push(Some(Err(err))),
                    }
                }
                Err(err) => outcomes.push(Some(Err(err))),
            }
            staged.keep(target, loaded);
        }
        let decided = started.elapsed();
        if !staged.appends.is_empty() {
            let count = staged.appends.len();
            let positions = match self.log.append_batch(staged.appends, end).await {
                Ok(positions) => positions,
                Err(LogError::BatchRefused(reason)) => {
                    tracing::debug!(
                        count,
                        after = end,
                        "batch refused ({reason}); deciding it again"
                    );
                    // Another process may have written a target: read them all again.
                    let mut cache = self.cache();
                    for target in &staged.targets {
                        cache.remove(target);
                    }
                    return Ok(Batch::Refused);
                }
                Err(err) => return Err(err.into()),
            };
            if let Some(time) = staged.time {
                self.follower.saw_time(time);
            }
            self.follower.appended_batch(
                end,
                staged
                    .targets
                    .iter()
                    .copied()
                    .zip(positions.iter().copied()),
            );
            drop(turns);
            for (id, loaded) in staged.written {
                if id.kind == AggregateKind::Department {
                    self.has_departments.store(true, Ordering::Relaxed);
                }
                self.remember(id, loaded);
            }
            tracing::info!(
                count,
                from = positions.first(),
                to = positions.last(),
                ?caught_up,
                ?decided,
                took = ?started.elapsed(),
                "appended a batch"
            );
            for (answer, position) in staged.appended.into_iter().zip(positions) {
                let Some(answer) = answer else {
                    continue; // A planned pause's end.
                };
                outcomes[answer.index] = Some(Ok(Outcome {
                    command_id: answer.command_id,
                    answer_id: answer.answer_id,
                    events: answer.events,
                    position,
                    duplicate: false,
                }));
            }
        }
        Ok(Batch::Appended(
            outcomes
                .into_iter()
                .map(|o| o.expect("every request decided"))
                .collect(),
        ))
    }

    /// A planned pause ends by itself at its planned end. Before anything else happens
    /// to the agent, the system records that end, at exactly that time, with a command
    /// id derived from the pause so that the policy doing the same never doubles it.
    /// The caller holds the agent's turn.
    async fn end_planned_pause(
        &self,
        agent: AggregateId,
        at: Timestamp,
        since: Instant,
    ) -> Result<(), ExecError> {
        let loaded = self.load(agent, Freshness::AsOf(since)).await?;
        if let Some(request) = Request::planned_end(&loaded.state, agent, at, since) {
            self.decide_and_append(&Principal::system(), request, agent)
                .await?;
        }
        Ok(())
    }

    /// Ends `agent`'s planned pause if its planned end has come by `now` (the policy
    /// runner's timer: the end is recorded even when nothing else happens to the agent).
    pub async fn end_planned_pause_by(
        &self,
        agent: helpdesk_domain::AgentId,
        now: Timestamp,
    ) -> Result<(), ExecError> {
        let target = AggregateId::agent(agent);
        let _appending = self.appending.read().await;
        let _turn = self.stripes[stripe(&target)].lock().await;
        self.end_planned_pause(target, now, Instant::now()).await
    }

    /// Runs a command of the system itself (setup, ticks, planned pause ends).
    pub async fn execute_as_system(&self, request: Request) -> Result<Outcome, ExecError> {
        self.execute(&Principal::system(), request).await
    }

    /// Where `command_id` was recorded on `target`, reading the log for what the cache
    /// may not hold yet. A command refused on a cached target (or one assumed new) may
    /// be a retry of one that is already in the log, whose first result stands: an
    /// importer that starts over after a restart sends old commands that are no longer
    /// decided the same way (too old for the log's time, for one).
    async fn recorded(
        &self,
        target: AggregateId,
        command_id: Uuid,
        since: Instant,
    ) -> Result<Option<Position>, ExecError> {
        let loaded = self.load(target, Freshness::AsOf(since)).await?;
        Ok(loaded.commands.get(&command_id).copied())
    }

    /// The outcome of an earlier command, read back from the log.
    async fn replay_outcome(
        &self,
        principal: &Principal,
        command_id: Uuid,
        target: AggregateId,
        position: Position,
    ) -> Result<Outcome, ExecError> {
        let recorded = match self.log.get(position).await? {
            Some(stored) => {
                let envelope = decode(&stored)?;
                (envelope.command_id == command_id).then_some((stored, envelope))
            }
            None => None,
        };
        let Some((stored, envelope)) = recorded else {
            self.follower.log_replaced(&format!(
                "command {command_id} is not at position {position}, where it was recorded"
            ));
            return Err(ExecError::LogReplaced);
        };
        // A command id is the first caller's: another learns nothing of what it did (its
        // aggregate, events, position). Importers may resend anyone's history (a
        // migration that goes on with a new token), as they may act for anyone.
        if envelope.actor != principal.actor && !principal.has(Permission::SystemImport) {
            return Err(ExecError::ForeignCommandId);
        }
        let aggregate = AggregateId::from_subject(&stored.subject).unwrap_or(target);
        Ok(Outcome {
            command_id,
            answer_id: answer_id(&aggregate.id, &envelope.events),
            events: envelope.events.iter().map(|e| e.name()).collect(),
            position,
            duplicate: true,
        })
    }

    /// The organization's configuration, as fresh as asked (see [`Engine::load`]).
    pub async fn load_config(&self, freshness: Freshness) -> Result<LoadedConfig, ExecError> {
        Ok(LoadedConfig(
            self.load(AggregateId::config(), freshness).await?,
        ))
    }

    /// An agent, as fresh as asked (see [`Engine::load`]); one never registered is
    /// `AgentState::default()`.
    pub async fn load_agent(
        &self,
        agent: AgentId,
        freshness: Freshness,
    ) -> Result<LoadedAgent, ExecError> {
        Ok(LoadedAgent(
            self.load(AggregateId::agent(agent), freshness).await?,
        ))
    }

    /// Every department there is, as fresh as asked, with its id. The log keeps no list
    /// of them: its department subjects are one each.
    pub async fn departments(
        &self,
        freshness: Freshness,
    ) -> Result<Vec<(DepartmentId, DepartmentState)>, ExecError> {
        let prefix = format!("{}.", AggregateKind::Department.as_str());
        let mut departments = Vec::new();
        for subject in self.log.subjects(&prefix).await? {
            let Some(id) = AggregateId::from_subject(&subject) else {
                continue;
            };
            if let State::Department(department) = &self.load(id, freshness).await?.state {
                if department.exists() {
                    departments.push((DepartmentId::from_uuid(id.id), department.clone()));
                }
            }
        }
        Ok(departments)
    }

    /// The aggregate from the cache, read from the log when it is not cached or not as
    /// fresh as asked.
    pub async fn load(
        &self,
        id: AggregateId,
        freshness: Freshness,
    ) -> Result<Arc<Loaded>, ExecError> {
        let cached = self.cache().get(&id).cloned();
        let base = match (cached, freshness) {
            (Some(loaded), Freshness::Cached | Freshness::CachedOrNew) => return Ok(loaded),
            (None, Freshness::CachedOrNew) => return Ok(Arc::new(Loaded::new(id.kind))),
            (Some(loaded), Freshness::AsOf(since)) => {
                let last = self
                    .follower
                    .last_position_of(&*self.log, id, since)
                    .await?;
                if last.is_some_and(|last| loaded.position >= last) {
                    return Ok(loaded);
                }
                loaded
            }
            (None, _) => Arc::new(Loaded::new(id.kind)),
        };
        let subject = id.subject();
        let newer = self.log.read_subject(&subject, base.position).await?;
        if newer.is_empty() {
            return Ok(base);
        }
        let mut next = (*base).clone();
        for stored in &newer {
            next.apply(stored.position, &decode(stored)?);
        }
        Ok(self.remember(id, next))
    }

    /// Caches `loaded` unless the cache already holds a later version.
    fn remember(&self, id: AggregateId, loaded: Loaded) -> Arc<Loaded> {
        let mut cache = self.cache();
        if let Some(current) = cache.get(&id) {
            if current.position >= loaded.position {
                return current.clone();
            }
        }
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        let loaded = Arc::new(loaded);
        cache.insert(id, loaded.clone());
        loaded
    }

    async fn org_has_departments(&self) -> Result<bool, ExecError> {
        if self.has_departments.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let any = !self
            .log
            .subjects(&format!("{}.", AggregateKind::Department.as_str()))
            .await?
            .is_empty();
        if any {
            self.has_departments.store(true, Ordering::Relaxed);
        }
        Ok(any)
    }
}

/// How often a batch refused by the log (something else was appended meanwhile) is
/// decided again before its commands run one by one.
const BATCH_ATTEMPTS: u32 = 3;

/// What one attempt at a batch came to.
enum Batch {
    /// In the log; every request's outcome, in order.
    Appended(Vec<Result<Outcome, ExecError>>),
    /// The log refused it: decide it again on what is there now.
    Refused,
    /// A batch does not fit these requests (too many, the log's tail is behind, a
    /// command twice): run them one by one.
    Unsuitable,
}

/// A batch being decided: the appends so far and the aggregates as they leave them.
struct Staged {
    /// The log's last position the batch follows.
    end: Position,
    /// The time the log and the batch so far have reached.
    time: Option<Timestamp>,
    written: HashMap<AggregateId, Loaded>,
    appends: Vec<Append>,
    /// Per append: the aggregate it goes to.
    targets: Vec<AggregateId>,
    /// Per append: the request it answers, none for a planned pause's end.
    appended: Vec<Option<Answer>>,
}

/// The request an append of a batch answers.
struct Answer {
    /// Its place among the batch's requests.
    index: usize,
    answer_id: String,
    command_id: Uuid,
    events: Vec<&'static str>,
}

impl Staged {
    /// Adds `envelope` for `target` to the batch and applies it to `loaded`.
    fn stage(
        &mut self,
        target: AggregateId,
        loaded: &mut Loaded,
        envelope: Envelope,
        request: Option<usize>,
    ) {
        let position = self.end + self.appends.len() as Position + 1;
        self.time = Some(
            self.time
                .map_or(envelope.occurred_at, |t| t.max(envelope.occurred_at)),
        );
        self.appends.push(Append {
            subject: target.subject(),
            expected_last: loaded.position,
            message_id: envelope.command_id.to_string(),
            payload: Bytes::from(envelope.encode()),
        });
        self.targets.push(target);
        self.appended.push(request.map(|index| Answer {
            index,
            answer_id: answer_id(&target.id, &envelope.events),
            command_id: envelope.command_id,
            events: envelope.events.iter().map(|e| e.name()).collect(),
        }));
        loaded.apply(position, &envelope);
    }

    /// Keeps `loaded` as the batch leaves `target`, if the batch wrote it.
    fn keep(&mut self, target: AggregateId, loaded: Loaded) {
        if loaded.position > self.end {
            self.written.insert(target, loaded);
        }
    }
}

/// A level condition's check (syntax, variables, nesting), by the rules crate.
fn check_condition(source: &str) -> Result<(), DomainError> {
    helpdesk_rules::condition::compile(source)
        .map(|_| ())
        .map_err(|err| DomainError::invalid("condition", err.to_string()))
}

/// The wall clock as an event time. The domain never reads the clock; the engine does.
pub fn wall_clock() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_millis(since_epoch.as_millis() as i64)
}

/// Whether `request` from `principal` is an import: a command from outside that brings
/// its own time. (The system's own commands bring theirs too: a planned pause's end, an
/// auto-pause at the miss's time. They are no import.)
fn is_import(principal: &Principal, request: &Request) -> bool {
    request.occurred_at.is_some() && !principal.is_system()
}

/// The lock stripe of an aggregate.
fn stripe(id: &AggregateId) -> usize {
    // v7 and v4 ids end in random bits; the nil singletons share stripe 0.
    (id.id.as_u128() as usize) & (STRIPES - 1)
}

/// Waits a little before deciding again, longer after each lost race, with jitter so
/// that racing processes do not collide again in step.
async fn backoff(attempt: u32) {
    let cap_ms = 1u64 << attempt.min(6); // 2, 4, …, 64 ms
    let wait = rand::random_range(0..=cap_ms * 1000);
    tokio::time::sleep(std::time::Duration::from_micros(wait)).await;
}

fn decode(stored: &Stored) -> Result<Envelope, ExecError> {
    Envelope::decode(&stored.payload).map_err(|err| ExecError::Corrupt {
        subject: stored.subject.clone(),
        position: stored.position,
        reason: err.to_string(),
    })
}
