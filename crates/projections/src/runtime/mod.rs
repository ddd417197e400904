//! The projector runtime: fold the log into sled read models, in one pass, written
//! behind.
//!
//! - [`Projectors`] (in `projector`): one reader of the log for every model of a process;
//!   each message is decoded once and handed to every model, while the next batch is
//!   read. [`Projector`] is the same for one model, typed.
//! - `member`: one model inside it: its sled database (`<data dir>/models/<name>`, or
//!   `<name>-<i>of<N>` for a partition) holding one tree, in which the model's records
//!   and its [`Checkpoint`] live side by side. Folds change records in memory
//!   ([`Txn`]); the runtime writes the changed records **and** the checkpoint they
//!   reach in one atomic `apply_batch`, flushes, and only then publishes the checkpoint
//!   to queries. It writes at the log's tail (at once, so queries see a command as soon
//!   as before), and while catching up when memory reaches half the model's budget or
//!   the last write is [`ProjectorConfig::write_every`] old. The checkpoint in sled is
//!   the cursor of record: a crash at any point neither loses nor doubles an event (what
//!   memory held is folded again), whatever the log (or a NATS consumer) remembers.
//! - `txn`: the records in memory, within a budget ([`ProjectorConfig::memory_bytes`]).
//!
//! A model is disposable. The runtime answers every state it cannot trust with a
//! rebuild (the store is moved aside, a fresh one starts from position 0, the log is
//! replayed):
//! - the store will not open (sled reports corruption after unclean stops);
//! - the log is not the one it folded: its checkpoint lies beyond the end of the log, or
//!   the message at the checkpoint is not the one folded there (a backup of the log
//!   restored, the stream recreated). The fingerprint of the last message folded is
//!   kept with the checkpoint and checked when a pass starts; during a pass the last
//!   message read is checked before every batch and whenever the tail is quiet, so a
//!   projector that runs through a restore notices it by itself;
//! - it was written by another version of the model's layout ([`Model::VERSION`]);
//! - a stored record does not decode.
//!
//! Event time never runs backwards in a read model (docs/STATISTICS.md, Time): an event's
//! time is the later of its `occurred_at` and the time of the message before it in the log.
//! The checkpoint keeps that time, so a replay computes the same times.
//!
//! An envelope that does not decode is set aside (a dead letter under the reserved
//! prefix, an error in the log) and the projector goes on.

mod member;
mod projector;
mod txn;

use std::any::Any;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use helpdesk_domain::{AggregateId, Envelope, Event, Timestamp};
use helpdesk_log::{LogError, Position};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

pub use crate::store::decode;
use crate::store::{Read, Store};
pub use projector::{Projector, Projectors};
pub use txn::Txn;

/// A store's records as raw keys and values, in key order.
pub type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// Keys starting with this byte belong to the runtime; models use any other first byte.
pub const RESERVED: u8 = 0x00;
const CHECKPOINT_KEY: &[u8] = &[RESERVED, b'c'];
/// The fingerprint of the message at the checkpoint ([`Stored::fingerprint`]), written
/// with it: how the runtime tells that the log still is the one the model folded.
const PRINT_KEY: &[u8] = &[RESERVED, b'f'];
const DEAD_LETTER: u8 = b'd';

/// How many notes wait for slow listeners before the oldest are dropped for them.
const NOTE_CAPACITY: usize = 4_096;

/// How many messages one batch folds at most.
pub const DEFAULT_BATCH: usize = 1_000;

/// Bytes of records a model keeps in memory by default (see
/// [`ProjectorConfig::memory_bytes`]).
pub const DEFAULT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

/// The most a model's changes may take in memory (estimated, see [`txn`]) before they
/// are written, whatever the budget. Larger batches were no faster, and sled holds
/// many times a batch's size while it applies it: a rebuild of the levels peaked at
/// 270 MiB with batches of 0.5 MiB and 670 MiB with 32 MiB (docs/PERFORMANCE.md).
/// Encoded, such a batch also stays well within [`WRITE_HEADROOM`].
pub(crate) const WRITE_BATCH_BYTES: usize = 1024 * 1024;

/// The free space a projector leaves on its store's disk: a batch is not written with
/// less (a few of sled's 512 KiB segments, more than one batch of records takes). A
/// write sled tries and fails makes it refuse every later call on the store, reads
/// included, until it is reopened; a batch held back leaves the store readable.
const WRITE_HEADROOM: u64 = 2 * 1024 * 1024;

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

// ----------------------------------------------------------------------------------- notes

/// A derived fact a model announces to live listeners (a level-up, a badge award): not
/// stored, and never announced for events that were in the log before the projector
/// started or rebuilt (a rebuild announces nothing).
pub type Note = Arc<dyn Any + Send + Sync>;

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
    /// Bytes of records each model keeps in memory: written when half of it is
    /// changed records, and its copies of stored records dropped when all of it is used
    /// (read from the store again as needed).
    pub memory_bytes: u64,
    /// While catching up, the longest a model's changes stay in memory only (queries
    /// see a catch-up advance at this pace).
    pub write_every: Duration,
}

impl ProjectorConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ProjectorConfig {
            data_dir: data_dir.into(),
            partition: Partition::ALL,
            batch: DEFAULT_BATCH,
            cache_bytes: 64 * 1024 * 1024,
            linger: Duration::from_millis(5),
            memory_bytes: DEFAULT_MEMORY_BYTES,
            write_every: Duration::from_secs(1),
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

/// The checkpoint a store holds (None: an empty store): how far a projector killed on it
/// had folded and flushed, which is where it starts again.
pub fn stored_checkpoint(tree: &sled::Tree) -> Result<Option<Checkpoint>, ModelError> {
    Store::new(tree.clone()).get(CHECKPOINT_KEY)
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
