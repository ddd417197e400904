//! One model inside a projector: its store, what its fold holds in memory, and the
//! writes behind the fold.
//!
//! A member folds the messages it is handed into its [`Txn`] (memory) and moves its
//! in-memory checkpoint (`folded`) with them; [`Member::write`] then puts every changed
//! record **and** that checkpoint into the store in one atomic batch, and flushes. The
//! checkpoint in the store (`written`) is the cursor of record: after a crash the member
//! starts from it and folds again what memory held, so nothing is lost or doubled.
//! Whatever goes wrong in memory (a failed write, a fold error, a log that changed under
//! it) is answered by [`Member::discard`]: back to what the store holds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use helpdesk_domain::{AggregateId, Envelope, Event};
use helpdesk_log::{sled_files, EventLog, LogError, Position, Stored};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::txn::Txn;
use super::{
    At, Checkpoint, Model, ModelError, ModelHandle, Note, Partition, ProjectionError,
    ProjectorConfig, CHECKPOINT_KEY, DEAD_LETTER, NOTE_CAPACITY, PRINT_KEY, RESERVED,
    WRITE_BATCH_BYTES, WRITE_HEADROOM,
};
use crate::store::Store;

/// A model behind a trait object, so that one projector folds models of several types.
pub(super) trait Fold: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn version(&self) -> u32;
    fn partition_key(&self, event: &Event) -> Option<Uuid>;
    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError>;
}

impl<M: Model> Fold for M {
    fn name(&self) -> &'static str {
        M::NAME
    }

    fn version(&self) -> u32 {
        M::VERSION
    }

    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        Model::partition_key(self, event)
    }

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        Model::fold(self, txn, at, event)
    }
}

/// A message of the log, decoded once for every member.
pub(super) struct Decoded {
    pub stored: Stored,
    /// The envelope and the aggregate its subject names, or why it cannot be folded
    /// (then it is set aside as a dead letter).
    pub envelope: Result<Envelope, String>,
    pub aggregate: Option<AggregateId>,
}

impl Decoded {
    pub fn new(stored: Stored) -> Decoded {
        let envelope = Envelope::decode(&stored.payload).map_err(|err| err.to_string());
        let aggregate = AggregateId::from_subject(&stored.subject);
        let reason = match (&envelope, aggregate) {
            (Err(reason), _) => Some(reason.as_str()),
            (Ok(_), None) => Some("the subject names no aggregate"),
            (Ok(_), Some(_)) => None,
        };
        if let Some(reason) = reason {
            tracing::error!(
                position = stored.position,
                subject = %stored.subject,
                "an event cannot be read and is set aside: {reason}"
            );
        }
        Decoded {
            stored,
            envelope,
            aggregate,
        }
    }
}

/// What went wrong for a member.
pub(super) enum Trouble {
    /// Its store cannot be trusted: rebuild it.
    Untrusted(String),
    /// The store or the log failed for now: go on later from the store's checkpoint.
    Failed(String),
}

/// Why a write is not on disk.
enum Unwritten {
    /// The disk has less than [`WRITE_HEADROOM`] free: nothing was tried.
    NotTried,
    /// sled failed doing this (writing, flushing): the store must be reopened.
    Failed(&'static str, sled::Error),
}

/// One model's store and its fold; see the module docs.
pub(super) struct Member {
    model: Arc<dyn Fold>,
    pub name: &'static str,
    version: u32,
    pub path: PathBuf,
    cache_bytes: u64,
    /// Bytes of records the member keeps in memory (see [`ProjectorConfig::memory_bytes`]).
    memory_bytes: usize,
    write_every: Duration,
    db: sled::Db,
    tree: sled::Tree,
    /// The checkpoint in the store, and the fingerprint of the message at it.
    pub written: Checkpoint,
    written_print: Option<u64>,
    /// How far the fold has gone in memory (never behind `written`).
    pub folded: Checkpoint,
    folded_print: Option<u64>,
    txn: Txn<'static>,
    last_write: Instant,
    shared_tree: Arc<RwLock<sled::Tree>>,
    published: watch::Sender<Checkpoint>,
    notes: broadcast::Sender<Note>,
    folded_count: Arc<AtomicU64>,
    /// Notes are announced for messages after this position only (the log's end when
    /// the projector started or the member rebuilt); `Position::MAX` until known.
    pub live_from: Position,
    /// A write to the store failed (a full disk): sled refuses every later one, and its
    /// memory may hold what is not on disk, so the store is reopened before the next.
    pub write_failed: bool,
}

impl Member {
    /// Opens (or creates) the store of `model` under `data_dir`. A store that will not
    /// open, or that another layout version wrote, is moved aside and started afresh.
    pub fn open(
        model: Arc<dyn Fold>,
        data_dir: &Path,
        config: &ProjectorConfig,
    ) -> Result<Member, ProjectionError> {
        let (name, version) = (model.name(), model.version());
        let path = data_dir
            .join("models")
            .join(format!("{name}{}", config.partition.suffix()));
        let kind = StoreKind { name, version };
        let (db, tree, checkpoint) = match kind.open(&path, config.cache_bytes) {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                tracing::warn!(
                    model = name,
                    path = %path.display(),
                    "the store was written by another version of this model: rebuilding it"
                );
                kind.set_aside(&path)?;
                kind.open_fresh(&path, config.cache_bytes)?
            }
            Err(OpenError::InUse(reason)) => {
                return Err(ProjectionError::InUse {
                    model: name,
                    path,
                    reason,
                })
            }
            Err(OpenError::DiskFull(reason)) => {
                return Err(ProjectionError::DiskFull {
                    model: name,
                    reason,
                })
            }
            Err(OpenError::Broken(err)) => {
                tracing::error!(
                    model = name,
                    path = %path.display(),
                    "the store does not open ({err}): rebuilding it from the log"
                );
                kind.set_aside(&path)?;
                kind.open_fresh(&path, config.cache_bytes)?
            }
        };
        let print = stored_print(&tree);
        Ok(Member {
            model,
            name,
            version,
            path,
            cache_bytes: config.cache_bytes,
            memory_bytes: usize::try_from(config.memory_bytes).unwrap_or(usize::MAX),
            write_every: config.write_every,
            txn: Txn::over(Store::new(tree.clone())),
            shared_tree: Arc::new(RwLock::new(tree.clone())),
            published: watch::channel(checkpoint).0,
            notes: broadcast::channel(NOTE_CAPACITY).0,
            folded_count: Arc::default(),
            db,
            tree,
            written: checkpoint,
            written_print: print,
            folded: checkpoint,
            folded_print: print,
            last_write: Instant::now(),
            live_from: Position::MAX,
            write_failed: false,
        })
    }

    /// Read access for queries.
    pub fn handle(&self) -> ModelHandle {
        ModelHandle {
            name: self.name,
            tree: self.shared_tree.clone(),
            checkpoint: self.published.subscribe(),
            notes: self.notes.clone(),
            folded: self.folded_count.clone(),
        }
    }

    fn kind(&self) -> StoreKind {
        StoreKind {
            name: self.name,
            version: self.version,
        }
    }

    // ---------------------------------------------------------------------------- fold

    /// Folds the messages after its fold's checkpoint into memory. A blocking function:
    /// it may read records from sled. On an error, memory is no longer to be trusted
    /// (the projector discards it).
    pub fn fold(&mut self, messages: &[Decoded], partition: Partition) -> Result<(), Trouble> {
        let mut checkpoint = self.folded;
        let mut last = None;
        for message in messages {
            let stored = &message.stored;
            if stored.position <= checkpoint.position {
                continue;
            }
            self.txn.position = stored.position;
            match (&message.envelope, message.aggregate) {
                (Ok(envelope), aggregate) => {
                    let time = envelope.occurred_at.max(checkpoint.time);
                    match aggregate {
                        Some(aggregate) => {
                            let at = At {
                                position: stored.position,
                                time,
                                aggregate,
                                envelope,
                                partition,
                            };
                            for event in &envelope.events {
                                let mine = self
                                    .model
                                    .partition_key(event)
                                    .is_none_or(|key| partition.owns(key));
                                if mine {
                                    self.model
                                        .fold(&mut self.txn, &at, event)
                                        .map_err(trouble)?;
                                }
                            }
                        }
                        None => dead_letter(
                            &mut self.txn,
                            &mut checkpoint,
                            stored,
                            "the subject names no aggregate",
                        ),
                    }
                    checkpoint.time = time;
                }
                (Err(reason), _) => dead_letter(&mut self.txn, &mut checkpoint, stored, reason),
            }
            checkpoint.position = stored.position;
            last = Some(stored);
        }
        if let Some(last) = last {
            let count = checkpoint.position - self.folded.position;
            self.folded = checkpoint;
            self.folded_print = Some(last.fingerprint());
            // Approximate for a partial batch; for metrics.
            self.folded_count.fetch_add(count, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Whether what memory holds should be written now: `now` (the log's tail, the end
    /// of a catch-up, a stop), or the changes take half the memory budget or
    /// [`WRITE_BATCH_BYTES`], or the last write is `write_every` old.
    pub fn write_due(&self, now: bool) -> bool {
        self.folded.position > self.written.position
            && (now
                || self.txn.dirty_bytes() >= (self.memory_bytes / 2).min(WRITE_BATCH_BYTES)
                || self.last_write.elapsed() >= self.write_every)
    }

    /// Writes the records changed in memory and the fold's checkpoint to the store in
    /// one atomic batch, flushes, then publishes the checkpoint and the notes. A
    /// blocking function. On failure memory is dropped (see [`Member::discard`]).
    pub fn write(&mut self) -> Result<(), Trouble> {
        if self.folded.position == self.written.position {
            return Ok(());
        }
        if self.write_failed {
            // Not again on a store sled refuses: reopened first (see `reopen`).
            return Err(Trouble::Failed(format!(
                "the {} store awaits a reopen",
                self.name
            )));
        }
        self.txn.put_reserved(CHECKPOINT_KEY.to_vec(), &self.folded);
        if let Some(print) = self.folded_print {
            self.txn.put_reserved(PRINT_KEY.to_vec(), &print);
        }
        let (batch, notes) = self.txn.take_dirty();
        // Nothing is written unless there is room to spare: once a write of sled's fails
        // it refuses every later call on the store, reads too, and queries would go
        // unanswered until the store is reopened with space.
        let written = if sled_files::free_space(&self.path).is_ok_and(|free| free < WRITE_HEADROOM)
        {
            Err(Unwritten::NotTried)
        } else {
            self.tree
                .apply_batch(batch)
                .map_err(|err| Unwritten::Failed("writing", err))
                .and_then(|()| {
                    self.db
                        .flush()
                        .map(drop)
                        .map_err(|err| Unwritten::Failed("flushing", err))
                })
        };
        if let Err(unwritten) = written {
            self.discard();
            let (what, err) = match unwritten {
                Unwritten::NotTried => ("writing", sled::Error::Io(sled_files::no_space())),
                Unwritten::Failed(what, err) => {
                    self.write_failed = true;
                    (what, err)
                }
            };
            return Err(Trouble::Failed(if sled_files::sled_disk_full(&err) {
                format!(
                    "writing the {} store: {}",
                    self.name,
                    sled_files::disk_full_message(&self.path)
                )
            } else {
                format!("{what} the {} store failed: {err}", self.name)
            }));
        }
        self.written = self.folded;
        self.written_print = self.folded_print;
        self.last_write = Instant::now();
        self.published.send_replace(self.written);
        for (position, note) in notes {
            if position > self.live_from {
                // Nobody listening is fine.
                let _ = self.notes.send(note);
            }
        }
        if self.txn.memory_bytes() > self.memory_bytes {
            self.txn.evict();
        }
        Ok(())
    }

    /// Drops what memory holds beyond the store: the fold goes on from the store's
    /// checkpoint.
    pub fn discard(&mut self) {
        self.txn = Txn::over(Store::new(self.tree.clone()));
        self.folded = self.written;
        self.folded_print = self.written_print;
    }

    // ---------------------------------------------------------------------------- log

    /// Why the log is not the one the store folded, if it is not: its checkpoint lies
    /// beyond the log's end (`last`), or the message at it is not the one folded.
    pub async fn other_log(
        &self,
        log: &dyn EventLog,
        last: Position,
    ) -> Result<Option<String>, LogError> {
        let at = self.written.position;
        if at > last {
            return Ok(Some(format!(
                "the checkpoint ({at}) lies beyond the end of the log ({last}): the log is \
                 not the one this model folded (restored from an older backup?)"
            )));
        }
        match self.written_print.filter(|_| at > 0) {
            Some(print) => other_message_at(log, at, print).await,
            None => Ok(None),
        }
    }

    // ---------------------------------------------------------------------- rebuilds

    /// Drops the model's records and checkpoint: the next fold starts at position 1.
    /// The old store is moved aside first, so a crash in the middle never leaves a half
    /// cleared store at the model's path.
    pub fn rebuild(&mut self) -> Result<(), ProjectionError> {
        // sled keeps the files open while any handle lives; ours are replaced below.
        let (db, tree, checkpoint) = {
            let (placeholder, placeholder_tree) =
                placeholder().map_err(|source| self.store_error(source))?;
            *self.shared_tree.write().unwrap_or_else(|p| p.into_inner()) = placeholder_tree.clone();
            self.txn = Txn::over(Store::new(placeholder_tree.clone()));
            self.tree = placeholder_tree;
            drop(std::mem::replace(&mut self.db, placeholder));
            self.kind().set_aside(&self.path)?;
            self.kind().open_fresh(&self.path, self.cache_bytes)?
        };
        *self.shared_tree.write().unwrap_or_else(|p| p.into_inner()) = tree.clone();
        self.db = db;
        self.tree = tree;
        self.written = checkpoint;
        self.written_print = None;
        self.discard();
        self.published.send_replace(checkpoint);
        // What is replayed now was announced before.
        self.live_from = Position::MAX;
        tracing::info!(model = self.name, path = %self.path.display(), "model dropped: replaying the log from the start");
        Ok(())
    }

    fn store_error(&self, source: sled::Error) -> ProjectionError {
        ProjectionError::Store {
            model: self.name,
            path: self.path.clone(),
            source,
        }
    }

    /// After a failed write: once the disk has space, closes the store and opens it
    /// again, going on from the checkpoint on disk (what sled held in memory of the
    /// failed batch is dropped). Queries wait meanwhile; the store is kept while the
    /// disk is still full, so they go on answering from it.
    pub async fn reopen(&mut self) -> Result<(), Trouble> {
        let (name, path) = (self.name, self.path.clone());
        let still_full = |err: std::io::Error| {
            Trouble::Failed(if sled_files::is_disk_full(&err) {
                format!(
                    "the {name} store cannot be written yet: {}",
                    sled_files::disk_full_message(&path)
                )
            } else {
                format!("the {name} store cannot be written yet: {err}")
            })
        };
        let probe = path.clone();
        tokio::task::spawn_blocking(move || sled_files::check_space(&probe))
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err.to_string())))
            .map_err(still_full)?;
        let (placeholder_db, placeholder_tree) = placeholder()
            .map_err(|err| Trouble::Failed(format!("cannot reopen the {name} store: {err}")))?;
        let old_db = std::mem::replace(&mut self.db, placeholder_db);
        let old_tree = std::mem::replace(&mut self.tree, placeholder_tree.clone());
        self.txn = Txn::over(Store::new(placeholder_tree.clone()));
        let shared = self.shared_tree.clone();
        let (kind, cache_bytes, reopen_path) = (self.kind(), self.cache_bytes, path.clone());
        let reopened = tokio::task::spawn_blocking(move || {
            let mut current = shared.write().unwrap_or_else(|p| p.into_inner());
            *current = placeholder_tree;
            drop((old_tree, old_db));
            // A query that took the tree before holds sled's lock until it ends.
            let mut tries = 0;
            let opened = loop {
                match kind.open(&reopen_path, cache_bytes) {
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
                self.written_print = stored_print(&tree);
                self.db = db;
                self.tree = tree;
                self.write_failed = false;
                if checkpoint != self.written {
                    self.written = checkpoint;
                    self.published.send_replace(checkpoint);
                }
                self.discard();
                tracing::info!(
                    model = name,
                    position = checkpoint.position,
                    "the store takes writes again"
                );
                Ok(())
            }
            Ok(None) => {
                self.write_failed = false;
                Err(Trouble::Untrusted(
                    "the reopened store has another version".into(),
                ))
            }
            Err(OpenError::Broken(reason)) => {
                self.write_failed = false;
                Err(Trouble::Untrusted(reason))
            }
            Err(OpenError::InUse(reason) | OpenError::DiskFull(reason)) => Err(Trouble::Failed(
                format!("cannot reopen the {name} store: {reason}"),
            )),
        }
    }
}

/// Why the message at `at` is not the one whose fingerprint is `print`, if it is not.
pub(super) async fn other_message_at(
    log: &dyn EventLog,
    at: Position,
    print: u64,
) -> Result<Option<String>, LogError> {
    Ok(match log.get(at).await? {
        Some(stored) if stored.fingerprint() == print => None,
        Some(_) => Some(format!(
            "the log holds another message at position {at} than the one this model \
             folded: it is not the log the model was built from (restored from an \
             older backup?)"
        )),
        None => Some(format!(
            "the log no longer holds position {at}, the last one this model folded \
             (restored from an older backup?)"
        )),
    })
}

fn trouble(err: ModelError) -> Trouble {
    match err {
        ModelError::Corrupt(reason) => Trouble::Untrusted(reason),
        ModelError::Storage(err) => Trouble::Failed(format!("reading the store failed: {err}")),
    }
}

fn dead_letter(txn: &mut Txn<'_>, checkpoint: &mut Checkpoint, stored: &Stored, reason: &str) {
    let mut key = vec![RESERVED, DEAD_LETTER];
    key.extend_from_slice(&stored.position.to_be_bytes());
    txn.put_reserved(key, &(stored.subject.as_str(), reason));
    checkpoint.dead_letters += 1;
}

/// A store in memory, held while the real one is closed.
fn placeholder() -> Result<(sled::Db, sled::Tree), sled::Error> {
    let db = sled::Config::new().temporary(true).open()?;
    let tree = db.open_tree("model")?;
    Ok((db, tree))
}

// --------------------------------------------------------------------------- store files

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

/// Which model's store: its name and layout version.
#[derive(Clone, Copy)]
struct StoreKind {
    name: &'static str,
    version: u32,
}

impl StoreKind {
    /// Opens an existing store: `Ok(None)` when another layout version wrote it.
    fn open(self, path: &Path, cache_bytes: u64) -> Result<Option<Opened>, OpenError> {
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
                    tracing::warn!(model = self.name, file = %file.display(), "deleted an unfinished sled snapshot (left by a start that failed)");
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
        let checkpoint = match super::stored_checkpoint(&tree) {
            Ok(Some(checkpoint)) => checkpoint,
            Err(ModelError::Storage(err)) => return Err(broken(err)),
            Err(err @ ModelError::Corrupt(_)) => return Err(OpenError::Broken(err.to_string())),
            Ok(None) if tree.is_empty() => Checkpoint {
                version: self.version,
                ..Checkpoint::default()
            },
            Ok(None) => return Err(OpenError::Broken("records without a checkpoint".into())),
        };
        if checkpoint.version != self.version {
            return Ok(None);
        }
        Ok(Some((db, tree, checkpoint)))
    }

    fn open_fresh(self, path: &Path, cache_bytes: u64) -> Result<Opened, ProjectionError> {
        match self.open(path, cache_bytes) {
            Ok(Some(opened)) if opened.2.position == 0 => Ok(opened),
            Ok(_) | Err(_) => Err(ProjectionError::Setup {
                model: self.name,
                path: path.to_owned(),
                source: std::io::Error::other("a fresh store does not open empty"),
            }),
        }
    }

    /// Moves a store out of the way (atomically, by renaming) and deletes it.
    fn set_aside(self, path: &Path) -> Result<(), ProjectionError> {
        if !path.exists() {
            return Ok(());
        }
        let aside = path.with_extension(format!("old-{}", Uuid::now_v7().simple()));
        let setup = |source| ProjectionError::Setup {
            model: self.name,
            path: path.to_owned(),
            source,
        };
        std::fs::rename(path, &aside).map_err(setup)?;
        if let Err(err) = std::fs::remove_dir_all(&aside) {
            tracing::warn!(path = %aside.display(), "cannot delete an old store: {err}");
        }
        Ok(())
    }
}

/// The fingerprint of the message at a store's checkpoint, if it keeps one.
fn stored_print(tree: &sled::Tree) -> Option<u64> {
    use crate::store::Read as _;
    Store::new(tree.clone()).get(PRINT_KEY).ok().flatten()
}
