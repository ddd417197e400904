//! The projector runtime: fold the log into a sled read model, batch by batch.
//!
//! A [`Projector`] owns one sled database (`<data dir>/models/<name>`, or
//! `<name>-<i>of<N>` for a partition) holding one tree, in which the model's records and
//! its [`Checkpoint`] live side by side. It reads the log from the position after the
//! checkpoint, folds what is ready (up to a batch) into an in-memory [`Txn`], then writes
//! the changed records **and** the new checkpoint in one atomic `apply_batch`, flushes,
//! and only then goes on. The checkpoint in sled is the cursor of record: a crash at any point
//! neither loses nor doubles an event, whatever the log (or a NATS consumer) remembers.
//!
//! A model is disposable. The runtime answers every state it cannot trust with a
//! rebuild (the store is moved aside, a fresh one starts from position 0, the log is
//! replayed):
//! - the store will not open (sled reports corruption after unclean stops);
//! - the log is not the one it folded: its checkpoint lies beyond the end of the log, or
//!   the message at the checkpoint is not the one folded there (a backup of the log
//!   restored, the stream recreated). The fingerprint of the last message folded is
//!   kept with the checkpoint and checked before every batch and whenever the tail is
//!   quiet, so a projector that runs through a restore notices it by itself;
//! - it was written by another version of the model's layout ([`Model::VERSION`]);
//! - a stored record does not decode.
//!
//! Event time never runs backwards in a read model (docs/STATISTICS.md, Time): an event's
//! time is the later of its `occurred_at` and the time of the message before it in the log.
//! The checkpoint keeps that time, so a replay computes the same times.
//!
//! An envelope that does not decode is set aside (a dead letter under the reserved
//! prefix, an error in the log) and the projector goes on.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use helpdesk_domain::{AggregateId, Envelope, Event, Timestamp};
use helpdesk_log::{sled_files, EventLog, LogError, Position, Stored};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use crate::store::decode;
use crate::store::{Read, Store};

/// A store's records as raw keys and values, in key order.
pub type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// Told the position reached and the end aimed at, after each batch of a catch-up.
type Progress<'a> = &'a mut (dyn FnMut(Position, Position) + Send);

/// Keys starting with this byte belong to the runtime; models use any other first byte.
pub const RESERVED: u8 = 0x00;
const CHECKPOINT_KEY: &[u8] = &[RESERVED, b'c'];
/// The fingerprint of the message at the checkpoint ([`Stored::fingerprint`]), written
/// with it: how the runtime tells that the log still is the one the model folded.
const PRINT_KEY: &[u8] = &[RESERVED, b'f'];
const DEAD_LETTER: u8 = b'd';

/// How many notes wait for slow listeners before the oldest are dropped for them.
const NOTE_CAPACITY: usize = 4_096;

/// How long a live tail may deliver nothing while the log has more before it is
/// replaced by a new subscription.
const STALL_CHECK: Duration = Duration::from_secs(10);

/// How many messages one batch folds at most.
pub const DEFAULT_BATCH: usize = 1_000;

/// The free space a projector leaves on its store's disk: a batch is not written with
/// less (a few of sled's 512 KiB segments, more than one batch of records takes). A
/// write sled tries and fails makes it refuse every later call on the store, reads
/// included, until it is reopened; a batch held back leaves the store readable.
const WRITE_HEADROOM: u64 = 2 * 1024 * 1024;

/// Why a batch is not on disk.
enum Unwritten {
    /// The disk has less than [`WRITE_HEADROOM`] free: nothing was tried.
    NotTried,
    /// sled failed doing this (writing, flushing): the store must be reopened.
    Failed(&'static str, sled::Error),
}

// ------------------------------------------------------------------------------- model

/// A read model: how events change its records.
pub trait Model: Send + Sync + 'static {
    /// The model's name: its store's directory and `helpdesk project <name>`.
    const NAME: &'static str;
    /// The layout of its records. Bump it when the layout or the fold changes: a store
    /// of another version is rebuilt on start.
    const VERSION: u32;

    /// The key that decides which partition folds `event` (an agent, a ticket, …), or
    /// `None` for events every partition folds (configuration, memberships).
    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        let _ = event;
        None
    }

    /// Folds one event into the records. Reads and writes go through `txn`.
    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError>;
}

/// Where and when an event happened, as the model sees it.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// The log position of the event's envelope.
    pub position: Position,
    /// The event's time in this model: never earlier than the message before it.
    pub time: Timestamp,
    /// The aggregate the envelope was appended to.
    pub aggregate: AggregateId,
    /// The whole envelope (actor, command id, the other events of the command).
    pub envelope: &'a Envelope,
    /// The share of the keys this replica folds: a model whose records are per agent
    /// folds every event (for what the events tell about conversations) but keeps only
    /// its own agents (see [`Partition::owns`]).
    pub partition: Partition,
}

/// Why a fold or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("read model storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error("a stored record does not decode ({0}): the model needs a rebuild")]
    Corrupt(String),
}

// ------------------------------------------------------------------------------ partition

/// Which share of the keys a projector replica folds: `index` of `count` (`0/1` = all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

impl Partition {
    /// Everything, in one replica.
    pub const ALL: Partition = Partition { index: 0, count: 1 };

    /// Whether this replica owns `key`. The hash is FNV-1a over the uuid's 16 bytes:
    /// stable across versions and machines, so a partition map is configuration.
    pub fn owns(&self, key: Uuid) -> bool {
        self.count <= 1 || (fnv1a(key.as_bytes()) % u64::from(self.count)) as u32 == self.index
    }

    /// The directory suffix of a partition's store: empty for [`Partition::ALL`].
    fn suffix(&self) -> String {
        if self.count <= 1 {
            String::new()
        } else {
            format!("-{}of{}", self.index, self.count)
        }
    }
}

impl Default for Partition {
    fn default() -> Self {
        Partition::ALL
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Partition {
    type Err = String;

    /// `i/N` with `0 <= i < N`, e.g. `0/2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("a partition is `i/N` with 0 <= i < N, like 0/2; got {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

// ------------------------------------------------------------------------------------ txn

/// A derived fact a model announces to live listeners (a level-up, a badge award): not
/// stored, and never announced for events that were in the log before the projector
/// started or rebuilt (a rebuild announces nothing).
pub type Note = Arc<dyn Any + Send + Sync>;

/// The writes of one batch, in memory until the batch commits. Reads see them first,
/// then the store.
pub struct Txn<'a> {
    store: Store,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The position of the message being folded.
    position: Position,
    notes: Vec<(Position, Note)>,
    /// The transaction is over the tree it was made with (the store holds a handle).
    tree: PhantomData<&'a sled::Tree>,
}

impl<'a> Txn<'a> {
    /// A transaction over `tree`. The runtime makes one per batch; outside it (in
    /// benchmarks and tools) its writes stay in memory and are never committed.
    pub fn new(tree: &'a sled::Tree) -> Self {
        Txn {
            store: Store::new(tree.clone()),
            writes: BTreeMap::new(),
            position: 0,
            notes: Vec::new(),
            tree: PhantomData,
        }
    }

    /// The record at `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        match self.writes.get(key) {
            Some(Some(bytes)) => decode(key, bytes).map(Some),
            Some(None) => Ok(None),
            None => self.store.get(key),
        }
    }

    /// Whether a record is at `key`.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        match self.writes.get(key) {
            Some(write) => Ok(write.is_some()),
            None => self.store.contains(key),
        }
    }

    /// Writes `value` at `key`.
    pub fn put<T: Serialize>(&mut self, key: impl Into<Vec<u8>>, value: &T) {
        let key = key.into();
        debug_assert!(key.first() != Some(&RESERVED), "reserved key");
        let bytes = postcard::to_stdvec(value).expect("records always serialize");
        self.writes.insert(key, Some(bytes));
    }

    /// Announces `note` to live listeners once the batch is committed.
    pub fn notify<T: Any + Send + Sync>(&mut self, note: T) {
        self.notes.push((self.position, Arc::new(note)));
    }

    /// Removes the record at `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), None);
    }

    /// The keys and raw values under `prefix`, in key order, with this batch's writes.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Records, ModelError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for entry in self.store.raw(prefix) {
            let (key, value) = entry?;
            merged.insert(key.to_vec(), value.to_vec());
        }
        for (key, write) in self.writes.range(prefix.to_vec()..) {
            if !key.starts_with(prefix) {
                break;
            }
            match write {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    fn put_reserved<T: Serialize>(&mut self, key: Vec<u8>, value: &T) {
        let bytes = postcard::to_stdvec(value).expect("records always serialize");
        self.writes.insert(key, Some(bytes));
    }

    fn into_batch(self) -> (sled::Batch, Vec<(Position, Note)>) {
        let mut batch = sled::Batch::default();
        for (key, write) in self.writes {
            match write {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        (batch, self.notes)
    }
}

impl Read for Txn<'_> {
    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        Txn::get(self, key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        Txn::contains(self, key)
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, ModelError> {
        self.scan_prefix(prefix)?
            .into_iter()
            .map(|(key, bytes)| {
                let value = decode(&key, &bytes)?;
                Ok((key, value))
            })
            .collect()
    }
}

// ----------------------------------------------------------------------------- checkpoint

/// How far a store has folded the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last log position folded (0: nothing yet).
    pub position: Position,
    /// The time of that position's message (see the module docs).
    pub time: Timestamp,
    /// The model layout that wrote the store.
    pub version: u32,
    /// Messages set aside because they did not decode.
    pub dead_letters: u64,
}

// -------------------------------------------------------------------------------- handle

/// Read access to a model for queries: the current tree and the position it reached.
#[derive(Clone)]
pub struct ModelHandle {
    name: &'static str,
    folded: Arc<AtomicU64>,
    notes: broadcast::Sender<Note>,
    tree: Arc<RwLock<sled::Tree>>,
    checkpoint: watch::Receiver<Checkpoint>,
}

/// Why a query could not wait for a position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    #[error(
        "the {model} read model reached position {reached}, not yet {wanted}; \
         retry, or wait longer"
    )]
    NotYet {
        model: &'static str,
        wanted: Position,
        reached: Position,
    },
    #[error("the {model} projector has stopped")]
    Stopped { model: &'static str },
}

impl ModelHandle {
    /// The model's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Log messages folded since the projector started (for metrics).
    pub fn folded(&self) -> u64 {
        self.folded.load(Ordering::Relaxed)
    }

    /// The checkpoint the store has reached.
    pub fn checkpoint(&self) -> Checkpoint {
        *self.checkpoint.borrow()
    }

    /// What the model announces from now on (see [`Note`]). A listener that falls more
    /// than the channel's capacity behind misses some and is told how many.
    pub fn notes(&self) -> broadcast::Receiver<Note> {
        self.notes.subscribe()
    }

    /// The tree to read (a rebuild swaps it, so take it per query).
    pub fn tree(&self) -> sled::Tree {
        self.tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The store to read, with types (a rebuild swaps it, so take it per query).
    pub fn store(&self) -> Store {
        Store::new(self.tree())
    }

    /// The last log position the model has folded and flushed.
    pub fn position(&self) -> Position {
        self.checkpoint.borrow().position
    }

    /// The event time the model has reached: the time of its last folded message.
    pub fn time(&self) -> Timestamp {
        self.checkpoint.borrow().time
    }

    /// Waits until the model folds more. Never returns once its projector has stopped.
    pub async fn changed(&mut self) {
        if self.checkpoint.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits until the model has reached `position` (read-your-writes), at most `wait`.
    pub async fn wait_for(
        &self,
        position: Position,
        wait: Duration,
    ) -> Result<Position, WaitError> {
        let mut rx = self.checkpoint.clone();
        let reached = tokio::time::timeout(wait, rx.wait_for(|c| c.position >= position)).await;
        match reached {
            Ok(Ok(c)) => Ok(c.position),
            Ok(Err(_)) => Err(WaitError::Stopped { model: self.name }),
            Err(_) => Err(WaitError::NotYet {
                model: self.name,
                wanted: position,
                reached: self.position(),
            }),
        }
    }
}

// ----------------------------------------------------------------------------- projector

/// Why a projector stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("cannot set up the {model} store in {path}: {source}")]
    Setup {
        model: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the {model} store in {path} is in use by another process ({reason}): stop it \
         first, or give this one a data directory of its own"
    )]
    InUse {
        model: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// The store's disk is full (the reason says where, and what to do).
    #[error("cannot open the {model} store: {reason}")]
    DiskFull { model: &'static str, reason: String },
    #[error("the {model} store in {path} failed: {source}")]
    Store {
        model: &'static str,
        path: PathBuf,
        source: sled::Error,
    },
}

/// How a projector runs.
#[derive(Debug, Clone)]
pub struct ProjectorConfig {
    /// The data directory; stores go to `<data_dir>/models/`.
    pub data_dir: PathBuf,
    pub partition: Partition,
    /// Messages per batch at most.
    pub batch: usize,
    /// sled's page cache for this store, in bytes.
    pub cache_bytes: u64,
    /// How long a batch waits for more messages after its first (a little lag for far
    /// fewer flushes while the log trickles).
    pub linger: Duration,
}

impl ProjectorConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ProjectorConfig {
            data_dir: data_dir.into(),
            partition: Partition::ALL,
            batch: DEFAULT_BATCH,
            cache_bytes: 64 * 1024 * 1024,
            linger: Duration::from_millis(5),
        }
    }
}

/// What a pass over the log ended with.
enum Stop {
    /// Shut down as asked.
    Shutdown,
    /// A state that cannot be trusted: rebuild, then go on.
    Rebuild(String),
    /// The log or the store failed for now: wait, then go on from the checkpoint.
    Retry(String),
}

/// Folds the log into one model's store; see the module docs.
pub struct Projector<M: Model> {
    model: Arc<M>,
    log: Arc<dyn EventLog>,
    config: ProjectorConfig,
    path: PathBuf,
    db: sled::Db,
    tree: sled::Tree,
    checkpoint: Checkpoint,
    shared_tree: Arc<RwLock<sled::Tree>>,
    published: watch::Sender<Checkpoint>,
    notes: broadcast::Sender<Note>,
    folded: Arc<AtomicU64>,
    /// Notes are announced for messages after this position only (the log's end when
    /// the projector started or rebuilt); `Position::MAX` until that is known.
    live_from: Position,
    /// The fingerprint of the message at the checkpoint; `None` before the first fold
    /// (and for a store from before fingerprints were kept, until its next batch).
    print: Option<u64>,
    /// A write to the store failed (a full disk): sled refuses every later one, and its
    /// memory may hold what is not on disk, so the store is reopened before the next.
    write_failed: bool,
}

impl<M: Model> Projector<M> {
    /// Opens (or creates) the model's store. A store that will not open, or that another
    /// layout version wrote, is moved aside and started afresh.
    pub fn open(
        model: M,
        log: Arc<dyn EventLog>,
        config: ProjectorConfig,
    ) -> Result<Self, ProjectionError> {
        let path = config.data_dir.join("models").join(format!(
            "{}{}",
            M::NAME,
            config.partition.suffix()
        ));
        let (db, tree, checkpoint) = match open_store::<M>(&path, config.cache_bytes) {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                tracing::warn!(
                    model = M::NAME,
                    path = %path.display(),
                    "the store was written by another version of this model: rebuilding it"
                );
                set_aside::<M>(&path)?;
                open_fresh::<M>(&path, config.cache_bytes)?
            }
            Err(OpenError::InUse(reason)) => {
                return Err(ProjectionError::InUse {
                    model: M::NAME,
                    path,
                    reason,
                })
            }
            Err(OpenError::DiskFull(reason)) => {
                return Err(ProjectionError::DiskFull {
                    model: M::NAME,
                    reason,
                })
            }
            Err(OpenError::Broken(err)) => {
                tracing::error!(
                    model = M::NAME,
                    path = %path.display(),
                    "the store does not open ({err}): rebuilding it from the log"
                );
                set_aside::<M>(&path)?;
                open_fresh::<M>(&path, config.cache_bytes)?
            }
        };
        let (published, _) = watch::channel(checkpoint);
        let print = stored_print(&tree);
        Ok(Projector {
            model: Arc::new(model),
            log,
            config,
            path,
            shared_tree: Arc::new(RwLock::new(tree.clone())),
            db,
            tree,
            checkpoint,
            published,
            notes: broadcast::channel(NOTE_CAPACITY).0,
            folded: Arc::default(),
            live_from: Position::MAX,
            print,
            write_failed: false,
        })
    }

    /// Read access for queries.
    pub fn handle(&self) -> ModelHandle {
        ModelHandle {
            name: M::NAME,
            tree: self.shared_tree.clone(),
            checkpoint: self.published.subscribe(),
            notes: self.notes.clone(),
            folded: self.folded.clone(),
        }
    }

    /// The checkpoint of the store.
    pub fn checkpoint(&self) -> Checkpoint {
        self.checkpoint
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Folds the log, live, until `shutdown`. Failures of the log are retried; states
    /// that cannot be trusted are rebuilt. Returns only on shutdown or when the store
    /// itself cannot be written.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), ProjectionError> {
        tracing::info!(
            model = M::NAME,
            partition = %self.config.partition,
            position = self.checkpoint.position,
            "projector starting"
        );
        let mut failures = 0u32;
        loop {
            if self.live_from == Position::MAX {
                if let Ok(end) = self.log.last_position().await {
                    self.live_from = end;
                }
            }
            match self.pass(&shutdown, None).await {
                Stop::Shutdown => {
                    tracing::info!(
                        model = M::NAME,
                        position = self.checkpoint.position,
                        "projector stopped"
                    );
                    return Ok(());
                }
                Stop::Rebuild(reason) => {
                    tracing::error!(model = M::NAME, "{reason}: rebuilding the model");
                    self.rebuild()?;
                }
                Stop::Retry(reason) => {
                    failures += 1;
                    let wait = Duration::from_millis(100 << failures.min(6));
                    tracing::warn!(
                        model = M::NAME,
                        "{reason}; trying again in {} ms",
                        wait.as_millis()
                    );
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

    /// Folds until the model has reached the log's end as it is now, then returns the
    /// checkpoint (for `helpdesk replay`, tests and benchmarks). `progress` is told the
    /// position after each batch.
    pub async fn catch_up(
        &mut self,
        mut progress: impl FnMut(Position, Position) + Send,
    ) -> Result<Checkpoint, CatchUpError> {
        let end = self.log.last_position().await?;
        if self.checkpoint.position > end {
            self.rebuild()?;
        }
        let shutdown = CancellationToken::new();
        while self.checkpoint.position < end {
            match self.pass(&shutdown, Some((end, &mut progress))).await {
                Stop::Shutdown => break,
                Stop::Rebuild(reason) => {
                    tracing::error!(model = M::NAME, "{reason}: rebuilding the model");
                    self.rebuild()?;
                }
                Stop::Retry(reason) => return Err(CatchUpError::Log(reason)),
            }
        }
        Ok(self.checkpoint)
    }

    /// Drops the model's records and checkpoint: the next fold starts at position 1.
    /// The old store is moved aside first, so a crash in the middle never leaves a half
    /// cleared store at the model's path.
    pub fn rebuild(&mut self) -> Result<(), ProjectionError> {
        // sled keeps the files open while any handle lives; ours are replaced below.
        let (db, tree, checkpoint) = {
            let placeholder = sled::Config::new()
                .temporary(true)
                .open()
                .map_err(|source| self.store_error(source))?;
            let placeholder_tree = placeholder
                .open_tree("model")
                .map_err(|source| self.store_error(source))?;
            *self.shared_tree.write().unwrap_or_else(|p| p.into_inner()) = placeholder_tree.clone();
            self.tree = placeholder_tree;
            drop(std::mem::replace(&mut self.db, placeholder));
            set_aside::<M>(&self.path)?;
            open_fresh::<M>(&self.path, self.config.cache_bytes)?
        };
        *self.shared_tree.write().unwrap_or_else(|p| p.into_inner()) = tree.clone();
        self.db = db;
        self.tree = tree;
        self.checkpoint = checkpoint;
        self.print = None;
        self.published.send_replace(checkpoint);
        // What is replayed now was announced before.
        self.live_from = Position::MAX;
        tracing::info!(model = M::NAME, path = %self.path.display(), "model dropped: replaying the log from the start");
        Ok(())
    }

    fn store_error(&self, source: sled::Error) -> ProjectionError {
        ProjectionError::Store {
            model: M::NAME,
            path: self.path.clone(),
            source,
        }
    }

    /// One pass: subscribe from the checkpoint and fold batches until shutdown, an
    /// error, or (with `until`) the given end.
    async fn pass(
        &mut self,
        shutdown: &CancellationToken,
        mut until: Option<(Position, Progress<'_>)>,
    ) -> Stop {
        let last = match self.log.last_position().await {
            Ok(last) => last,
            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
        };
        match self.other_log(last).await {
            Ok(Some(reason)) => return Stop::Rebuild(reason),
            Ok(None) => {}
            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
        }
        let stream = match self.log.subscribe(self.checkpoint.position + 1).await {
            Ok(stream) => stream,
            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
        };
        // A batch closes when it is full or when its first message has waited
        // `linger`: a log that trickles then still gets a few messages per flush.
        let mut batches = std::pin::pin!(tokio_stream::StreamExt::chunks_timeout(
            stream,
            self.config.batch.max(1),
            self.config.linger,
        ));
        // A tail that stays silent while the log moves on is stuck (seen after a NATS
        // node was lost under load: no error, no message): subscribe again.
        let mut silence = tokio::time::interval(STALL_CHECK);
        silence.reset();
        loop {
            if let Some((end, _)) = &until {
                if self.checkpoint.position >= *end {
                    return Stop::Shutdown;
                }
            }
            let batch = tokio::select! {
                _ = shutdown.cancelled() => return Stop::Shutdown,
                batch = batches.next() => {
                    silence.reset();
                    batch
                }
                _ = silence.tick() => match self.log.last_position().await {
                    // A restore behind a quiet tail: nothing new comes, the log is shorter
                    // or holds other messages.
                    Ok(last) if self.checkpoint.position > 0 => {
                        match self.other_log(last).await {
                            Ok(Some(reason)) => return Stop::Rebuild(reason),
                            Err(err) => return Stop::Retry(format!("cannot read the log: {err}")),
                            Ok(None) if last > self.checkpoint.position => {
                                return Stop::Retry(format!(
                                    "the log's live tail delivered nothing for {}s while the \
                                     log moved on to {last} (folded: {})",
                                    STALL_CHECK.as_secs(),
                                    self.checkpoint.position
                                ));
                            }
                            Ok(None) => continue,
                        }
                    }
                    Ok(last) if last > self.checkpoint.position => {
                        return Stop::Retry(format!(
                            "the log's live tail delivered nothing for {}s while the log \
                             moved on to {last} (folded: {})",
                            STALL_CHECK.as_secs(),
                            self.checkpoint.position
                        ));
                    }
                    _ => continue,
                },
            };
            let Some(batch) = batch else {
                return Stop::Retry("the log's live tail ended".into());
            };
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
            if !messages.is_empty() {
                if let Err(stop) = self.fold_batch(&messages).await {
                    return stop;
                }
                if let Some((end, progress)) = &mut until {
                    progress(self.checkpoint.position, *end);
                }
            }
            if let Some(err) = failure {
                return Stop::Retry(format!("reading the log failed: {err}"));
            }
        }
    }

    /// Why the log is not the one the model folded, if it is not: the checkpoint lies
    /// beyond its end (`last`), or the message at the checkpoint is not the one folded.
    async fn other_log(&self, last: Position) -> Result<Option<String>, LogError> {
        let at = self.checkpoint.position;
        if at > last {
            return Ok(Some(format!(
                "the checkpoint ({at}) lies beyond the end of the log ({last}): the log is \
                 not the one this model folded (restored from an older backup?)"
            )));
        }
        self.other_message_at_checkpoint().await
    }

    /// Why the message at the checkpoint is not the one folded there, if it is not.
    async fn other_message_at_checkpoint(&self) -> Result<Option<String>, LogError> {
        let at = self.checkpoint.position;
        let Some(print) = self.print.filter(|_| at > 0) else {
            return Ok(None);
        };
        Ok(match self.log.get(at).await? {
            Some(stored) if stored.fingerprint() == print => None,
            Some(_) => Some(format!(
                "the log holds another message at position {at} than the one this model \
                 folded: it is not the log the model was built from (restored from an \
                 older backup?)"
            )),
            None => Some(format!(
                "the log no longer holds position {at}, the last one this model folded (restored \
                 from an older backup?)"
            )),
        })
    }

    /// Folds `messages`, then commits records and checkpoint atomically and flushes.
    async fn fold_batch(&mut self, messages: &[Stored]) -> Result<(), Stop> {
        if self.write_failed {
            self.reopen_after_failed_write().await?;
        }
        // Messages after the checkpoint are only worth folding on the log that led to
        // it: a tail that went on across a restore would skip what the restored log
        // holds before them. One read of the log a batch.
        match self.other_message_at_checkpoint().await {
            Ok(None) => {}
            Ok(Some(reason)) => return Err(Stop::Rebuild(reason)),
            Err(err) => return Err(Stop::Retry(format!("cannot read the log: {err}"))),
        }
        // The fold reads and writes records in sled: off the async workers, which take
        // commands and queries meanwhile.
        let (model, tree, partition) =
            (self.model.clone(), self.tree.clone(), self.config.partition);
        let (checkpoint, print) = (self.checkpoint, self.print);
        let owned = messages.to_vec();
        let folded = tokio::task::spawn_blocking(move || {
            fold_messages(&*model, &tree, partition, checkpoint, print, &owned)
        })
        .await
        .map_err(|err| Stop::Retry(format!("the fold of the {} model failed: {err}", M::NAME)))??;
        let Some(Folded {
            batch,
            notes,
            checkpoint,
            print,
        }) = folded
        else {
            return Ok(());
        };
        // Off the async runtime: on a full disk sled's flush may take its time, and the
        // health endpoints and queries must not wait for it.
        let (tree, db, path) = (self.tree.clone(), self.db.clone(), self.path.clone());
        let written = tokio::task::spawn_blocking(move || {
            // Nothing is written unless there is room to spare: once a write of sled's
            // fails it refuses every later call on the store, reads too, and queries
            // would go unanswered until the store is reopened with space.
            if sled_files::free_space(&path).is_ok_and(|free| free < WRITE_HEADROOM) {
                return Err(Unwritten::NotTried);
            }
            tree.apply_batch(batch)
                .map_err(|err| Unwritten::Failed("writing", err))?;
            db.flush()
                .map_err(|err| Unwritten::Failed("flushing", err))?;
            Ok(())
        })
        .await
        .unwrap_or_else(|err| {
            Err(Unwritten::Failed(
                "writing",
                sled::Error::ReportableBug(err.to_string()),
            ))
        });
        if let Err(unwritten) = written {
            // Retried with a backoff (see `run`); after a failed write, by reopening
            // the store first.
            let (what, err) = match unwritten {
                Unwritten::NotTried => ("writing", sled::Error::Io(sled_files::no_space())),
                Unwritten::Failed(what, err) => {
                    self.write_failed = true;
                    (what, err)
                }
            };
            return Err(Stop::Retry(if sled_files::sled_disk_full(&err) {
                format!(
                    "writing the {} store: {}",
                    M::NAME,
                    sled_files::disk_full_message(&self.path)
                )
            } else {
                format!("{what} the {} store failed: {err}", M::NAME)
            }));
        }
        self.checkpoint = checkpoint;
        self.print = print;
        self.published.send_replace(checkpoint);
        self.folded
            .fetch_add(messages.len() as u64, Ordering::Relaxed);
        for (position, note) in notes {
            if position > self.live_from {
                // Nobody listening is fine.
                let _ = self.notes.send(note);
            }
        }
        Ok(())
    }
}

impl<M: Model> Projector<M> {
    /// After a failed write: once the disk has space, closes the store and opens it
    /// again, going on from the checkpoint on disk (what sled held in memory of the
    /// failed batch is dropped). Queries wait meanwhile; the store is kept while the
    /// disk is still full, so they go on answering from it.
    async fn reopen_after_failed_write(&mut self) -> Result<(), Stop> {
        let path = self.path.clone();
        let still_full = |err: std::io::Error| {
            Stop::Retry(if sled_files::is_disk_full(&err) {
                format!(
                    "the {} store cannot be written yet: {}",
                    M::NAME,
                    sled_files::disk_full_message(&path)
                )
            } else {
                format!("the {} store cannot be written yet: {err}", M::NAME)
            })
        };
        let probe = path.clone();
        tokio::task::spawn_blocking(move || sled_files::check_space(&probe))
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err.to_string())))
            .map_err(still_full)?;
        let placeholder = sled::Config::new()
            .temporary(true)
            .open()
            .and_then(|db| db.open_tree("model").map(|tree| (db, tree)))
            .map_err(|err| Stop::Retry(format!("cannot reopen the {} store: {err}", M::NAME)))?;
        let old_db = std::mem::replace(&mut self.db, placeholder.0);
        let old_tree = std::mem::replace(&mut self.tree, placeholder.1.clone());
        let shared = self.shared_tree.clone();
        let cache_bytes = self.config.cache_bytes;
        let reopened = tokio::task::spawn_blocking(move || {
            let mut current = shared.write().unwrap_or_else(|p| p.into_inner());
            *current = placeholder.1;
            drop((old_tree, old_db));
            // A query that took the tree before holds sled's lock until it ends.
            let mut tries = 0;
            let opened = loop {
                match open_store::<M>(&path, cache_bytes) {
                    Err(OpenError::InUse(_)) if tries < 100 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    other => break other,
                }
            };
            if let Ok(Some((_, tree, _))) = &opened {
                *current = tree.clone();
            }
            opened
        })
        .await
        .unwrap_or_else(|err| Err(OpenError::Broken(err.to_string())));
        match reopened {
            Ok(Some((db, tree, checkpoint))) => {
                self.print = stored_print(&tree);
                self.db = db;
                self.tree = tree;
                self.write_failed = false;
                if checkpoint != self.checkpoint {
                    self.checkpoint = checkpoint;
                    self.published.send_replace(checkpoint);
                }
                tracing::info!(
                    model = M::NAME,
                    position = checkpoint.position,
                    "the store takes writes again"
                );
                Ok(())
            }
            Ok(None) => {
                self.write_failed = false;
                Err(Stop::Rebuild(
                    "the reopened store has another version".into(),
                ))
            }
            Err(OpenError::Broken(reason)) => {
                self.write_failed = false;
                Err(Stop::Rebuild(reason))
            }
            Err(OpenError::InUse(reason) | OpenError::DiskFull(reason)) => Err(Stop::Retry(
                format!("cannot reopen the {} store: {reason}", M::NAME),
            )),
        }
    }
}

/// Why [`Projector::catch_up`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("the event log failed: {0}")]
    Log(String),
}

impl From<LogError> for CatchUpError {
    fn from(err: LogError) -> Self {
        CatchUpError::Log(err.to_string())
    }
}

/// What a batch folded to: the records to write with the checkpoint and fingerprint
/// they reach, and the notes to publish once written.
struct Folded {
    batch: sled::Batch,
    notes: Vec<(Position, Note)>,
    checkpoint: Checkpoint,
    print: Option<u64>,
}

/// Folds the `messages` after `from` into a transaction over `tree`; `None` when none of
/// them is after it. A blocking function: it reads records from sled.
fn fold_messages<M: Model>(
    model: &M,
    tree: &sled::Tree,
    partition: Partition,
    from: Checkpoint,
    print: Option<u64>,
    messages: &[Stored],
) -> Result<Option<Folded>, Stop> {
    let mut txn = Txn::new(tree);
    let (mut checkpoint, mut print) = (from, print);
    for stored in messages {
        if stored.position <= checkpoint.position {
            continue;
        }
        txn.position = stored.position;
        match Envelope::decode(&stored.payload) {
            Ok(envelope) => {
                let time = envelope.occurred_at.max(checkpoint.time);
                let aggregate = AggregateId::from_subject(&stored.subject);
                match aggregate {
                    Some(aggregate) => {
                        let at = At {
                            position: stored.position,
                            time,
                            aggregate,
                            envelope: &envelope,
                            partition,
                        };
                        for event in &envelope.events {
                            let mine = model
                                .partition_key(event)
                                .is_none_or(|key| partition.owns(key));
                            if mine {
                                model.fold(&mut txn, &at, event).map_err(fold_stop)?;
                            }
                        }
                    }
                    None => dead_letter(
                        &mut txn,
                        &mut checkpoint,
                        stored,
                        "the subject names no aggregate",
                    ),
                }
                checkpoint.time = time;
            }
            Err(err) => dead_letter(&mut txn, &mut checkpoint, stored, &err.to_string()),
        }
        checkpoint.position = stored.position;
        print = Some(stored.fingerprint());
    }
    if checkpoint.position == from.position {
        return Ok(None);
    }
    txn.put_reserved(CHECKPOINT_KEY.to_vec(), &checkpoint);
    if let Some(print) = print {
        txn.put_reserved(PRINT_KEY.to_vec(), &print);
    }
    let (batch, notes) = txn.into_batch();
    Ok(Some(Folded {
        batch,
        notes,
        checkpoint,
        print,
    }))
}

fn fold_stop(err: ModelError) -> Stop {
    match err {
        ModelError::Corrupt(reason) => Stop::Rebuild(reason),
        ModelError::Storage(err) => Stop::Retry(format!("reading the store failed: {err}")),
    }
}

fn dead_letter(txn: &mut Txn<'_>, checkpoint: &mut Checkpoint, stored: &Stored, reason: &str) {
    tracing::error!(
        position = stored.position,
        subject = %stored.subject,
        "an event cannot be read and is set aside: {reason}"
    );
    let mut key = vec![RESERVED, DEAD_LETTER];
    key.extend_from_slice(&stored.position.to_be_bytes());
    txn.put_reserved(key, &(stored.subject.as_str(), reason));
    checkpoint.dead_letters += 1;
}

type Opened = (sled::Db, sled::Tree, Checkpoint);

/// Why a store does not open.
enum OpenError {
    /// Another process has it open: not ours to touch.
    InUse(String),
    /// It cannot be trusted: rebuild it.
    Broken(String),
    /// The disk is full: nothing to rebuild, try again once there is space.
    DiskFull(String),
}

/// Opens an existing store: `Ok(None)` when another layout version wrote it.
fn open_store<M: Model>(path: &Path, cache_bytes: u64) -> Result<Option<Opened>, OpenError> {
    let broken = |err: sled::Error| {
        if sled_files::sled_disk_full(&err) {
            OpenError::DiskFull(sled_files::disk_full_message(path))
        } else {
            OpenError::Broken(err.to_string())
        }
    };
    // What a start on a full disk left behind would read as corruption (and cost a
    // rebuild): see helpdesk_log::sled_files.
    match sled_files::remove_unfinished_snapshots(path) {
        Ok(removed) => {
            for file in removed {
                tracing::warn!(model = M::NAME, file = %file.display(), "deleted an unfinished sled snapshot (left by a start that failed)");
            }
        }
        Err(err) if sled_files::is_disk_full(&err) => {
            return Err(OpenError::DiskFull(sled_files::disk_full_message(path)))
        }
        Err(err) => return Err(OpenError::Broken(err.to_string())),
    }
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .open()
        .map_err(|err| {
            if sled_files::sled_in_use(&err) {
                OpenError::InUse(err.to_string())
            } else {
                broken(err)
            }
        })?;
    let tree = db.open_tree("model").map_err(broken)?;
    let checkpoint = match stored_checkpoint(&tree) {
        Ok(Some(checkpoint)) => checkpoint,
        Err(ModelError::Storage(err)) => return Err(broken(err)),
        Err(err @ ModelError::Corrupt(_)) => return Err(OpenError::Broken(err.to_string())),
        Ok(None) if tree.is_empty() => Checkpoint {
            version: M::VERSION,
            ..Checkpoint::default()
        },
        Ok(None) => return Err(OpenError::Broken("records without a checkpoint".into())),
    };
    if checkpoint.version != M::VERSION {
        return Ok(None);
    }
    Ok(Some((db, tree, checkpoint)))
}

fn open_fresh<M: Model>(path: &Path, cache_bytes: u64) -> Result<Opened, ProjectionError> {
    match open_store::<M>(path, cache_bytes) {
        Ok(Some(opened)) if opened.2.position == 0 => Ok(opened),
        Ok(_) | Err(_) => Err(ProjectionError::Setup {
            model: M::NAME,
            path: path.to_owned(),
            source: std::io::Error::other("a fresh store does not open empty"),
        }),
    }
}

/// Moves a store out of the way (atomically, by renaming) and deletes it.
fn set_aside<M: Model>(path: &Path) -> Result<(), ProjectionError> {
    if !path.exists() {
        return Ok(());
    }
    let aside = path.with_extension(format!("old-{}", Uuid::now_v7().simple()));
    let setup = |source| ProjectionError::Setup {
        model: M::NAME,
        path: path.to_owned(),
        source,
    };
    std::fs::rename(path, &aside).map_err(setup)?;
    if let Err(err) = std::fs::remove_dir_all(&aside) {
        tracing::warn!(path = %aside.display(), "cannot delete an old store: {err}");
    }
    Ok(())
}

/// The checkpoint a store holds (None: an empty store): how far a projector killed on it
/// had folded and flushed, which is where it starts again.
pub fn stored_checkpoint(tree: &sled::Tree) -> Result<Option<Checkpoint>, ModelError> {
    Store::new(tree.clone()).get(CHECKPOINT_KEY)
}

/// The fingerprint of the message at a store's checkpoint, if it keeps one.
fn stored_print(tree: &sled::Tree) -> Option<u64> {
    Store::new(tree.clone()).get(PRINT_KEY).ok().flatten()
}

/// Every record of a store except the runtime's own: what two builds of one model must
/// agree on byte for byte.
pub fn dump(tree: &sled::Tree) -> Result<Records, sled::Error> {
    tree.iter()
        .filter(|entry| {
            entry
                .as_ref()
                .map_or(true, |(key, _)| key.first() != Some(&RESERVED))
        })
        .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_split_keys() {
        assert_eq!(
            "1/3".parse::<Partition>(),
            Ok(Partition { index: 1, count: 3 })
        );
        for bad in ["", "3/3", "1/0", "x/2", "1"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
        let parts: Vec<Partition> = (0..3).map(|index| Partition { index, count: 3 }).collect();
        let mut counts = [0; 3];
        for n in 0..3000u128 {
            let key = Uuid::from_u128(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834));
            let owners: Vec<_> = parts.iter().filter(|p| p.owns(key)).collect();
            assert_eq!(owners.len(), 1, "exactly one partition owns each key");
            counts[owners[0].index as usize] += 1;
            assert!(Partition::ALL.owns(key));
        }
        assert!(counts.iter().all(|c| *c > 800), "{counts:?}");
    }
}
