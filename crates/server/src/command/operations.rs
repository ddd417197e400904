//! Long operations: a level or badge recompute (a preview or an apply) runs on a task of
//! its own under an id (UUID v7). Callers start it (`AdminService/StartRecompute`),
//! read it (`GetOperation`), watch its progress (`WatchOperation`: position, end, rate),
//! cancel it (`CancelOperation`) and list them (`ListOperations`); the unary recomputes
//! start one and wait for it.
//!
//! The registry lives in the memory of the process: every running operation, and the
//! last [`KEEP_FINISHED`] finished ones for [`KEEP_FOR`] after they finished. A restart
//! forgets them all (a running one ends with the process).
//!
//! Cancelling drops the operation's work where it stands: a replay stops (its scratch
//! stores are removed as they are dropped) and an apply cancelled before it appends
//! appends nothing. Once an apply has started appending ([`Progress::appending`]) it is
//! not stopped halfway: cancelling waits for the append, and the operation succeeds.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::Stream;
use helpdesk_api::convert::timestamp_from_millis;
use helpdesk_api::{pb, ApiError};
use helpdesk_log::Position;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Finished operations kept (the newest ones), besides every running one.
pub const KEEP_FINISHED: usize = 32;
/// How long a finished operation is kept.
pub const KEEP_FOR: Duration = Duration::from_secs(3600);
/// How often `WatchOperation` sends a running operation.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);
/// What an operation is doing while it replays the log.
const REPLAY_PHASE: &str = "replaying the log (the live model and the recompute, in one pass)";
/// The window over which the replay rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(3);

/// What an operation produced.
pub enum Outcome {
    Level(pb::LevelRecomputeResponse),
    Badge(pb::BadgeRecomputeResponse),
}

/// Why an operation did not succeed.
#[derive(Debug)]
pub enum Stop {
    Failed(ApiError),
    Cancelled,
}

impl From<ApiError> for Stop {
    fn from(err: ApiError) -> Self {
        Stop::Failed(err)
    }
}

/// The operations of a process.
pub struct Operations {
    /// Oldest first.
    kept: Mutex<Vec<Arc<Entry>>>,
    /// Stopping the process cancels every operation.
    shutdown: CancellationToken,
}

/// One operation.
struct Entry {
    id: Uuid,
    /// Its latest state, as the API shows it.
    state: watch::Sender<pb::Operation>,
    cancel: CancellationToken,
    /// When it finished, for how long it is kept.
    finished: OnceLock<Instant>,
    /// A failure as the unary recompute answers it (the proto keeps its code and message).
    failure: OnceLock<ApiError>,
}

fn now_pb() -> prost_types::Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    timestamp_from_millis(millis)
}

/// Whether `state` (an `OperationState`) is final.
pub fn finished(operation: &pb::Operation) -> bool {
    operation.state != pb::OperationState::Running as i32
}

impl Operations {
    pub fn new(shutdown: CancellationToken) -> Self {
        Operations {
            kept: Mutex::new(Vec::new()),
            shutdown,
        }
    }

    /// Starts `work` as an operation of `kind` on a task of its own and returns the
    /// operation as it starts (RUNNING).
    pub fn start<F, Fut>(
        &self,
        kind: pb::OperationKind,
        apply: bool,
        mode: pb::RecomputeMode,
        work: F,
    ) -> pb::Operation
    where
        F: FnOnce(Progress) -> Fut,
        Fut: Future<Output = Result<Outcome, Stop>> + Send + 'static,
    {
        let id = Uuid::now_v7();
        let initial = pb::Operation {
            id: id.to_string(),
            kind: kind as i32,
            apply,
            mode: mode as i32,
            state: pb::OperationState::Running as i32,
            phase: "waiting for its turn".to_owned(),
            started_at: Some(now_pb()),
            ..Default::default()
        };
        let entry = Arc::new(Entry {
            id,
            state: watch::Sender::new(initial.clone()),
            cancel: self.shutdown.child_token(),
            finished: OnceLock::new(),
            failure: OnceLock::new(),
        });
        {
            let mut kept = self.kept.lock().expect("operations lock");
            prune(&mut kept);
            kept.push(entry.clone());
        }
        let work = tokio::spawn(work(Progress::new(entry.clone())));
        tokio::spawn(async move {
            let result = match work.await {
                Ok(result) => result,
                Err(err) => Err(Stop::Failed(ApiError::internal(format!(
                    "the operation's task ended: {err}"
                )))),
            };
            entry.finish(result);
        });
        tracing::info!(operation = %id, kind = ?kind, apply, "operation started");
        initial
    }

    fn entry(&self, id: &str) -> Result<Arc<Entry>, ApiError> {
        let uuid: Uuid = id
            .parse()
            .map_err(|_| ApiError::invalid_argument("id", format!("{id:?} is not a UUID")))?;
        let mut kept = self.kept.lock().expect("operations lock");
        prune(&mut kept);
        kept.iter().find(|e| e.id == uuid).cloned().ok_or_else(|| {
            ApiError::not_found(format!(
                "no operation {id}: none was started with that id, or it finished long \
                 enough ago to be forgotten (operations are kept in memory, the last \
                 {KEEP_FINISHED} finished for an hour, and not across a restart)"
            ))
        })
    }

    /// The operation `id` as it stands.
    pub fn get(&self, id: &str) -> Result<pb::Operation, ApiError> {
        Ok(self.entry(id)?.state.borrow().clone())
    }

    /// The operations kept, newest first.
    pub fn list(&self) -> Vec<pb::Operation> {
        let mut kept = self.kept.lock().expect("operations lock");
        prune(&mut kept);
        kept.iter()
            .rev()
            .map(|e| e.state.borrow().clone())
            .collect()
    }

    /// Cancels the operation `id` and returns it once it has stopped.
    pub async fn cancel(&self, id: &str) -> Result<pb::Operation, ApiError> {
        let entry = self.entry(id)?;
        entry.cancel.cancel();
        Ok(entry.finished().await)
    }

    /// The operation `id` now, then at least every [`WATCH_EVERY`] while it runs, then
    /// its final state; then the stream ends.
    pub fn watch(&self, id: &str) -> Result<OperationStream, ApiError> {
        let entry = self.entry(id)?;
        let mut every = tokio::time::interval(WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let state = entry.state.subscribe();
        drop(entry);
        let stream = futures::stream::unfold(Some((state, every)), |watching| async move {
            let (mut state, mut every) = watching?;
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        let operation = state.borrow_and_update().clone();
                        let more = (!finished(&operation)).then_some((state, every));
                        return Some((Ok(operation), more));
                    }
                    changed = state.changed() => {
                        let operation = state.borrow_and_update().clone();
                        if changed.is_err() || finished(&operation) {
                            return Some((Ok(operation), None));
                        }
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }

    /// Runs `work` as an operation and waits for its outcome, as the unary recomputes do:
    /// dropping the future (the caller went away) cancels the operation.
    pub async fn run<F, Fut>(
        &self,
        kind: pb::OperationKind,
        apply: bool,
        mode: pb::RecomputeMode,
        work: F,
    ) -> Result<pb::Operation, ApiError>
    where
        F: FnOnce(Progress) -> Fut,
        Fut: Future<Output = Result<Outcome, Stop>> + Send + 'static,
    {
        let started = self.start(kind, apply, mode, work);
        let entry = self.entry(&started.id)?;
        let _cancel_unless_finished = entry.cancel.clone().drop_guard();
        let operation = entry.finished().await;
        match pb::OperationState::try_from(operation.state) {
            Ok(pb::OperationState::Succeeded) => Ok(operation),
            Ok(pb::OperationState::Failed) => Err(entry
                .failure
                .get()
                .cloned()
                .unwrap_or_else(|| ApiError::internal(operation.error.clone()))),
            _ if self.shutdown.is_cancelled() => Err(ApiError::unavailable(
                "the server is stopping: the recompute was cancelled; ask again",
            )),
            _ => Err(ApiError::aborted(format!(
                "the recompute's operation {} was cancelled",
                operation.id
            ))),
        }
    }
}

/// `WatchOperation`'s stream.
pub type OperationStream =
    Pin<Box<dyn Stream<Item = Result<pb::Operation, tonic::Status>> + Send + 'static>>;

/// Forgets finished operations older than [`KEEP_FOR`] and beyond the newest
/// [`KEEP_FINISHED`].
fn prune(kept: &mut Vec<Arc<Entry>>) {
    let now = Instant::now();
    kept.retain(|e| {
        e.finished
            .get()
            .is_none_or(|at| now.duration_since(*at) < KEEP_FOR)
    });
    let mut ends: Vec<Instant> = kept
        .iter()
        .filter_map(|e| e.finished.get().copied())
        .collect();
    if ends.len() > KEEP_FINISHED {
        ends.sort_unstable();
        let oldest_kept = ends[ends.len() - KEEP_FINISHED];
        kept.retain(|e| e.finished.get().is_none_or(|at| *at >= oldest_kept));
    }
}

impl Entry {
    /// The operation once it has finished.
    async fn finished(&self) -> pb::Operation {
        let mut state = self.state.subscribe();
        let operation = state
            .wait_for(finished)
            .await
            .map(|operation| operation.clone());
        // The sender lives as long as this entry.
        operation.unwrap_or_else(|_| self.state.borrow().clone())
    }

    fn finish(&self, result: Result<Outcome, Stop>) {
        let (state, phase) = match &result {
            Ok(_) => (pb::OperationState::Succeeded, "done"),
            Err(Stop::Failed(_)) => (pb::OperationState::Failed, "failed"),
            Err(Stop::Cancelled) => (pb::OperationState::Cancelled, "cancelled"),
        };
        if let Err(Stop::Failed(err)) = &result {
            let _ = self.failure.set(err.clone());
        }
        let _ = self.finished.set(Instant::now());
        self.state.send_modify(|operation| {
            operation.state = state as i32;
            operation.phase = phase.to_owned();
            operation.messages_per_second = 0.0;
            operation.finished_at = Some(now_pb());
            match result {
                Ok(Outcome::Level(level)) => {
                    operation.result = Some(pb::operation::Result::Level(level));
                }
                Ok(Outcome::Badge(badge)) => {
                    operation.result = Some(pb::operation::Result::Badge(badge));
                }
                Err(Stop::Failed(err)) => {
                    operation.error_code = err.code().grpc_code() as i32;
                    operation.error = err.status_message();
                }
                Err(Stop::Cancelled) => {}
            }
        });
        tracing::info!(operation = %self.id, state = ?state, "operation finished");
    }
}

/// What a running operation reports through: its phase, the replay's progress, and
/// whether it has been cancelled.
pub struct Progress {
    entry: Arc<Entry>,
    rate: Mutex<Rate>,
}

/// Recent samples of the replay's position, for the rate.
#[derive(Default)]
struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

impl Progress {
    fn new(entry: Arc<Entry>) -> Self {
        Progress {
            entry,
            rate: Mutex::new(Rate::default()),
        }
    }

    /// The operation's id.
    pub fn id(&self) -> Uuid {
        self.entry.id
    }

    /// Says what the operation is doing now.
    pub fn phase(&self, phase: &str) {
        self.entry
            .state
            .send_modify(|operation| phase.clone_into(&mut operation.phase));
    }

    /// The replay (one pass for the live model and the recompute) reached `position`
    /// of `end`.
    pub fn replayed(&self, position: Position, end: Position) {
        let mut rate = self.rate.lock().expect("rate lock");
        let (total, total_end) = (position, end);
        let now = Instant::now();
        rate.samples.push_back((now, total));
        while rate
            .samples
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
        {
            rate.samples.pop_front();
        }
        let per_second = match rate.samples.front() {
            Some((at, from)) if now.duration_since(*at) > Duration::from_millis(100) => {
                total.saturating_sub(*from) as f64 / now.duration_since(*at).as_secs_f64()
            }
            _ => self.entry.state.borrow().messages_per_second,
        };
        drop(rate);
        self.entry.state.send_modify(|operation| {
            if operation.phase != REPLAY_PHASE {
                REPLAY_PHASE.clone_into(&mut operation.phase);
            }
            operation.position = total;
            operation.end = total_end.max(total);
            operation.messages_per_second = per_second;
        });
    }

    /// The replays are done (or were not needed: the last answer still holds).
    pub fn replays_done(&self) {
        self.entry.state.send_modify(|operation| {
            operation.end = operation.end.max(operation.position);
            operation.position = operation.end;
            operation.messages_per_second = 0.0;
        });
    }

    /// `work`, unless the operation is cancelled first (then `work` is dropped where it
    /// stands).
    pub async fn unless_cancelled<T>(
        &self,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, Stop> {
        tokio::select! {
            biased;
            _ = self.entry.cancel.cancelled() => Err(Stop::Cancelled),
            result = work => result.map_err(Stop::Failed),
        }
    }

    /// The operation is about to append: `Err(Cancelled)` if it has been cancelled (it
    /// then appends nothing); otherwise cancelling no longer stops it.
    pub fn appending(&self) -> Result<(), Stop> {
        if self.entry.cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        self.phase("appending");
        Ok(())
    }
}
