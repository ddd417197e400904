//! The pass over the log: one reader for every model of a process.
//!
//! [`Projectors`] reads the log once, from the position after the least advanced of its
//! models, decodes each message once, and hands each batch to every model (off the async
//! workers). A model skips what it has folded
//! already, folds the rest in memory and writes behind (see [`super::member`]). While
//! one batch is folded the next is read. [`Projector`] is the same for a single model,
//! typed.

use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use helpdesk_log::{EventLog, LogError, Position, Stored, StoredStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::member::{other_message_at, Decoded, Member, Trouble};
use super::{
    CatchUpError, Checkpoint, Model, ModelHandle, Partition, ProjectionError, ProjectorConfig,
};

/// Told the position reached and the end aimed at, after each batch of a catch-up.
type Progress<'a> = &'a mut (dyn FnMut(Position, Position) + Send);

/// How long a live tail may deliver nothing while the log has more before it is
/// replaced by a new subscription.
const STALL_CHECK: Duration = Duration::from_secs(10);

/// Batches read ahead of the fold.
const READ_AHEAD: usize = 4;

/// What a pass over the log ended with.
enum Stop {
    /// Shut down as asked (what memory held is written).
    Shutdown,
    /// A member's store cannot be trusted: rebuild it, then go on.
    Rebuild { member: usize, reason: String },
    /// The log changed under the pass (a restore): start again from the stores.
    Restart(String),
    /// The log or a store failed for now: wait, then go on from the stores.
    Retry(String),
}

impl Stop {
    fn of(member: usize, trouble: Trouble) -> Stop {
        match trouble {
            Trouble::Untrusted(reason) => Stop::Rebuild { member, reason },
            Trouble::Failed(reason) => Stop::Retry(reason),
        }
    }
}

/// Several models folded in one pass over the log; see the module docs.
pub struct Projectors {
    log: Arc<dyn EventLog>,
    config: ProjectorConfig,
    members: Vec<Member>,
}

impl Projectors {
    /// No models yet: [`Projectors::add`] them.
    pub fn new(log: Arc<dyn EventLog>, config: ProjectorConfig) -> Self {
        Projectors {
            log,
            config,
            members: Vec::new(),
        }
    }

    /// Opens (or creates) the store of `model` under the configured data directory
    /// (`<data dir>/models/<name>`), and folds it from now on.
    pub fn add<M: Model>(&mut self, model: M) -> Result<ModelHandle, ProjectionError> {
        let data_dir = self.config.data_dir.clone();
        self.add_in(model, &data_dir)
    }

    /// As [`Projectors::add`], with the store under `data_dir` (two models of one kind
    /// in one pass, as a recompute replays them).
    pub fn add_in<M: Model>(
        &mut self,
        model: M,
        data_dir: &Path,
    ) -> Result<ModelHandle, ProjectionError> {
        let member = Member::open(Arc::new(model), data_dir, &self.config)?;
        let handle = member.handle();
        self.members.push(member);
        Ok(handle)
    }

    /// The share of the keys these models fold.
    pub fn partition(&self) -> Partition {
        self.config.partition
    }

    /// Read access to every model, in the order they were added.
    pub fn handles(&self) -> Vec<ModelHandle> {
        self.members.iter().map(Member::handle).collect()
    }

    /// The position every model has folded (in memory).
    fn folded(&self) -> Position {
        self.members
            .iter()
            .map(|m| m.folded.position)
            .min()
            .unwrap_or(0)
    }

    /// The position every model has written to its store.
    fn written(&self) -> Position {
        self.members
            .iter()
            .map(|m| m.written.position)
            .min()
            .unwrap_or(0)
    }

    /// Whether some model holds in memory what its store does not.
    fn unwritten(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.folded.position > m.written.position)
    }

    /// Drops every model's records: the next fold starts at position 1.
    pub fn rebuild(&mut self) -> Result<(), ProjectionError> {
        self.members.iter_mut().try_for_each(Member::rebuild)
    }

    /// Folds the log, live, until `shutdown`. Failures of the log are retried; states
    /// that cannot be trusted are rebuilt. Returns only on shutdown or when a store
    /// itself cannot be set up.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), ProjectionError> {
        for member in &self.members {
            tracing::info!(
                model = member.name,
                partition = %self.config.partition,
                position = member.written.position,
                "projector starting"
            );
        }
        let mut failures = 0u32;
        loop {
            if let Ok(end) = self.log.last_position().await {
                for member in &mut self.members {
                    if member.live_from == Position::MAX {
                        member.live_from = end;
                    }
                }
            }
            let stop = self.pass(&shutdown, None).await;
            if !matches!(stop, Stop::Shutdown) {
                self.members.iter_mut().for_each(Member::discard);
            }
            match stop {
                Stop::Shutdown => {
                    for member in &self.members {
                        tracing::info!(
                            model = member.name,
                            position = member.written.position,
                            "projector stopped"
                        );
                    }
                    return Ok(());
                }
                Stop::Rebuild { member, reason } => {
                    let member = &mut self.members[member];
                    tracing::error!(model = member.name, "{reason}: rebuilding the model");
                    member.rebuild()?;
                }
                Stop::Restart(reason) => tracing::warn!("{reason}: folding again from the stores"),
                Stop::Retry(reason) => {
                    failures += 1;
                    let wait = Duration::from_millis(100 << failures.min(6));
                    tracing::warn!("{reason}; trying again in {} ms", wait.as_millis());
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
            }
            failures = 0;
        }
    }

    /// Folds until every model has reached the log's end as it is now and written it,
    /// then returns that position (for `helpdesk replay`, recomputes, tests and
    /// benchmarks). `progress` is told the position after each batch.
    pub async fn catch_up(
        &mut self,
        mut progress: impl FnMut(Position, Position) + Send,
    ) -> Result<Position, CatchUpError> {
        let end = self.log.last_position().await?;
        for member in &mut self.members {
            if member.written.position > end {
                member.rebuild()?;
            }
        }
        let shutdown = CancellationToken::new();
        while self.written() < end {
            let stop = self.pass(&shutdown, Some((end, &mut progress))).await;
            if !matches!(stop, Stop::Shutdown) {
                self.members.iter_mut().for_each(Member::discard);
            }
            match stop {
                Stop::Shutdown => break,
                Stop::Rebuild { member, reason } => {
                    let member = &mut self.members[member];
                    tracing::error!(model = member.name, "{reason}: rebuilding the model");
                    member.rebuild()?;
                }
                Stop::Restart(reason) => tracing::warn!("{reason}: folding again from the stores"),
                Stop::Retry(reason) => return Err(CatchUpError::Log(reason)),
            }
        }
        Ok(self.written())
    }

    /// One pass: subscribe after the least advanced model and fold batches until
    /// shutdown, an error, or (with `until`) the given end.
    async fn pass(
        &mut self,
        shutdown: &CancellationToken,
        mut until: Option<(Position, Progress<'_>)>,
    ) -> Stop {
        let last = match self.log.last_position().await {
            Ok(last) => last,
            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
        };
        for (index, member) in self.members.iter().enumerate() {
            match member.other_log(&*self.log, last).await {
                Ok(Some(reason)) => {
                    return Stop::Rebuild {
                        member: index,
                        reason,
                    }
                }
                Ok(None) => {}
                Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
            }
        }
        let stream = match self.log.subscribe(self.folded() + 1).await {
            Ok(stream) => stream,
            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
        };
        let (batches, mut ready) = mpsc::channel(READ_AHEAD);
        let _reader = Reader(tokio::spawn(read_ahead(
            stream,
            self.config.batch.max(1),
            self.config.linger,
            batches,
        )));
        // The last message read and its fingerprint: the log must still hold it when
        // the next batch comes, or the tail went on across a restore.
        let mut read: Option<(Position, u64)> = None;
        // A tail that stays silent while the log moves on is stuck (seen after a NATS
        // node was lost under load: no error, no message): subscribe again.
        let mut silence = tokio::time::interval(STALL_CHECK);
        silence.reset();
        loop {
            if let Some((end, _)) = &until {
                if self.written() >= *end {
                    return Stop::Shutdown;
                }
            }
            let batch = tokio::select! {
                _ = shutdown.cancelled() => {
                    if let Err(stop) = self.fold_and_write(Vec::new(), true).await {
                        return stop;
                    }
                    return Stop::Shutdown;
                }
                batch = ready.recv() => {
                    silence.reset();
                    batch
                }
                // Nothing more came for a linger after a full batch: the tail.
                _ = tokio::time::sleep(self.config.linger), if self.unwritten() => {
                    if let Err(stop) = self.fold_and_write(Vec::new(), true).await {
                        return stop;
                    }
                    continue;
                }
                _ = silence.tick() => {
                    let read_to = read.map_or(self.folded(), |(at, _)| at);
                    match self.quiet_tail(read, read_to).await {
                        Some(stop) => return stop,
                        None => continue,
                    }
                }
            };
            let Some(batch) = batch else {
                return Stop::Retry("the log's live tail ended".into());
            };
            let full = batch.len() >= self.config.batch.max(1);
            let mut messages = Vec::with_capacity(batch.len());
            let mut failure = None;
            for item in batch {
                match item {
                    Ok(stored) => messages.push(stored),
                    Err(err) => {
                        failure = Some(err);
                        break;
                    }
                }
            }
            if let Some(last) = messages.last() {
                // Messages after the last one read are only worth folding on the log
                // that led to it. One read of the log a batch.
                if let Some((at, print)) = read {
                    match other_message_at(&*self.log, at, print).await {
                        Ok(None) => {}
                        Ok(Some(reason)) => return Stop::Restart(reason),
                        Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
                    }
                }
                read = Some((last.position, last.fingerprint()));
                let at_end = until.as_ref().is_some_and(|(end, _)| last.position >= *end);
                // A batch the linger closed before it was full is the log's tail: written
                // at once, so that queries see it.
                if let Err(stop) = self.fold_and_write(messages, !full || at_end).await {
                    return stop;
                }
                if let Some((end, progress)) = &mut until {
                    progress(self.folded(), *end);
                }
            }
            if let Some(err) = failure {
                return Stop::Retry(format!("reading the log failed: {err}"));
            }
        }
    }

    /// On a tail that delivered nothing for a while: whether the log was restored under
    /// it, or the tail is stuck while the log moved on.
    async fn quiet_tail(&self, read: Option<(Position, u64)>, read_to: Position) -> Option<Stop> {
        let last = match self.log.last_position().await {
            Ok(last) => last,
            Err(err) => return Some(Stop::Retry(format!("cannot read the log: {err}"))),
        };
        if read_to > last {
            return Some(Stop::Restart(format!(
                "the log ends at {last}, before {read_to}, the last position folded: the log \
                 is not the one folded (restored from an older backup?)"
            )));
        }
        if let Some((at, print)) = read {
            match other_message_at(&*self.log, at, print).await {
                Ok(None) => {}
                Ok(Some(reason)) => return Some(Stop::Restart(reason)),
                Err(err) => return Some(Stop::Retry(format!("cannot read the log: {err}"))),
            }
        } else {
            // Nothing read in this pass: the stores' own checkpoints say.
            for (index, member) in self.members.iter().enumerate() {
                match member.other_log(&*self.log, last).await {
                    Ok(Some(reason)) => {
                        return Some(Stop::Rebuild {
                            member: index,
                            reason,
                        })
                    }
                    Ok(None) => {}
                    Err(err) => return Some(Stop::Retry(format!("cannot read the log: {err}"))),
                }
            }
        }
        (last > read_to).then(|| {
            Stop::Retry(format!(
                "the log's live tail delivered nothing for {}s while the log moved on to \
                 {last} (folded: {read_to})",
                STALL_CHECK.as_secs()
            ))
        })
    }

    /// Decodes `messages` once, folds them into every model (off the async workers), and
    /// writes the models whose write is due (all of them
    /// with `write_now`).
    async fn fold_and_write(&mut self, messages: Vec<Stored>, write_now: bool) -> Result<(), Stop> {
        for index in 0..self.members.len() {
            if self.members[index].write_failed {
                self.members[index]
                    .reopen()
                    .await
                    .map_err(|trouble| Stop::of(index, trouble))?;
            }
        }
        let mut members = std::mem::take(&mut self.members);
        let partition = self.config.partition;
        let done = tokio::task::spawn_blocking(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let decoded: Vec<Decoded> = messages.into_iter().map(Decoded::new).collect();
                fold_all(&mut members, &decoded, partition, write_now)
            }))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(Stop::Retry(format!("a fold panicked: {what}")))
            });
            (members, outcome)
        })
        .await;
        match done {
            Ok((members, outcome)) => {
                self.members = members;
                outcome
            }
            // Only when the runtime shuts down: the models go with it.
            Err(err) => Err(Stop::Retry(format!("the fold did not finish: {err}"))),
        }
    }
}

/// Folds `decoded` into each member in turn, then writes those due. The first trouble,
/// with its member. (One thread for all: folding the members on threads of their own
/// was measured no faster on 2 cores, the writes into sled dominating.)
fn fold_all(
    members: &mut [Member],
    decoded: &[Decoded],
    partition: Partition,
    write_now: bool,
) -> Result<(), Stop> {
    for (index, member) in members.iter_mut().enumerate() {
        member
            .fold(decoded, partition)
            .map_err(|trouble| Stop::of(index, trouble))?;
        if member.write_due(write_now) {
            member.write().map_err(|trouble| Stop::of(index, trouble))?;
        }
    }
    Ok(())
}

/// Reads the log into batches ahead of the fold: a batch closes when it is full or when
/// its first message has waited the linger (a log that trickles still gets a few
/// messages per write).
async fn read_ahead(
    stream: StoredStream,
    batch: usize,
    linger: Duration,
    ready: mpsc::Sender<Vec<Result<Stored, LogError>>>,
) {
    let mut batches = std::pin::pin!(tokio_stream::StreamExt::chunks_timeout(
        stream, batch, linger
    ));
    while let Some(batch) = batches.next().await {
        if ready.send(batch).await.is_err() {
            return;
        }
    }
}

/// The reading task, stopped with its pass.
struct Reader(tokio::task::JoinHandle<()>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ------------------------------------------------------------------------ one, typed

/// Folds the log into one model's store: [`Projectors`] with a single model.
pub struct Projector<M: Model> {
    inner: Projectors,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Projector<M> {
    /// Opens (or creates) the model's store (`<data dir>/models/<name>`, or
    /// `<name>-<i>of<N>` for a partition). A store that will not open, or that another
    /// layout version wrote, is moved aside and started afresh.
    pub fn open(
        model: M,
        log: Arc<dyn EventLog>,
        config: ProjectorConfig,
    ) -> Result<Self, ProjectionError> {
        let mut inner = Projectors::new(log, config);
        inner.add(model)?;
        Ok(Projector {
            inner,
            model: PhantomData,
        })
    }

    fn member(&self) -> &Member {
        &self.inner.members[0]
    }

    /// Read access for queries.
    pub fn handle(&self) -> ModelHandle {
        self.member().handle()
    }

    /// The checkpoint of the store.
    pub fn checkpoint(&self) -> Checkpoint {
        self.member().written
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.member().path
    }

    /// See [`Projectors::run`].
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ProjectionError> {
        self.inner.run(shutdown).await
    }

    /// See [`Projectors::catch_up`]; returns the store's checkpoint.
    pub async fn catch_up(
        &mut self,
        progress: impl FnMut(Position, Position) + Send,
    ) -> Result<Checkpoint, CatchUpError> {
        self.inner.catch_up(progress).await?;
        Ok(self.checkpoint())
    }

    /// See [`Projectors::rebuild`].
    pub fn rebuild(&mut self) -> Result<(), ProjectionError> {
        self.inner.rebuild()
    }
}
