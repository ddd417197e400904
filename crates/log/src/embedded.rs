//! The embedded backend: an append-only log in sled, with JetStream's semantics.
//!
//! # Layout
//!
//! One sled tree (`helpdesk-log`), records told apart by a one-byte key prefix, because one
//! `Batch` on one tree is atomic and cheap while sled's multi-tree transactions are slow:
//!
//! | key                                   | value                                    |
//! |---------------------------------------|------------------------------------------|
//! | `m` position (u64 BE)                 | record: subject, message id, time, payload |
//! | `i` subject `0x00` position (u64 BE)  | empty: the per-subject index             |
//! | `l` subject                           | the subject's last position (u64 BE)     |
//!
//! Big-endian numbers make sled's byte order the numeric order; `0x00` cannot occur in a
//! subject, so `i ticket.a 0x00` never matches the entries of `ticket.ab`.
//!
//! The idempotency window lives in the writer's memory (message id → position and time,
//! plus an expiry queue), like JetStream's own. It is rebuilt on open by reading the log
//! backwards until the records are older than the window: each record carries its message
//! id and append time for that. Append times never go backwards (the writer's clock is the
//! later of the wall clock and the last record's time), so that backwards read may stop at
//! the first old record even if the wall clock was set back. Keeping the window out of
//! sled saves two of five writes and a read per append (measured: about 1.6× the
//! concurrent append rate), and expiry costs no writes at all.
//!
//! # Writing: group commit
//!
//! Every append goes through one writer thread. It takes all appends queued at that
//! moment (a *group*), decides each in order against sled plus what the group itself
//! staged (so two appends to one subject in one group see each other), writes the group
//! with one `apply_batch`, makes it durable, and only then publishes the new last position
//! and answers every waiter. One sync per group instead of per append is what makes
//! concurrent appends (bulk imports, many clients) fast.
//!
//! "Durable" is sled's `flush` **and** an `fdatasync` of sled's data file: sled's flush
//! ends in `sync_file_range`, which survives the process dying but neither a power
//! failure (the drive's cache is not flushed) nor a crash of the kernel before the file's
//! new length is on disk. The extra sync costs little after the flush has written the
//! data (the conformance suite runs as fast with it as without); it makes an acknowledged
//! append as safe as JetStream's `sync_interval: always`.
//!
//! # Reading: only what is durable
//!
//! Readers never look past the last *flushed* position (the `committed` watch): a message
//! that is in sled's memory but not yet on disk could vanish in a crash, and a projector
//! that had checkpointed it would then skip whatever took its position after the restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    sled_files, validate_append, validate_batch, validate_subject, validate_subject_prefix, Append,
    Appended, EventLog, LogError, Position, Stored, StoredStream, DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_MAX_MESSAGE_SIZE,
};

const TREE: &str = "helpdesk-log";
/// The file in a sled 0.34 directory that holds its log (and so every write).
const SLED_DATA_FILE: &str = sled_files::DATA_FILE;

const MSG: u8 = b'm';
const INDEX: u8 = b'i';
const LAST: u8 = b'l';

/// Version byte of a stored record, so the format can change later.
const RECORD_V1: u8 = 1;

/// At most this many appends in one group, so one slow group never holds everyone.
const MAX_GROUP: usize = 4096;
/// At most this many payload bytes in one group.
const MAX_GROUP_BYTES: usize = 32 * 1024 * 1024;
/// Appends waiting for the writer; beyond this, `append` waits (backpressure).
const QUEUE: usize = 16 * 1024;
/// How long a health check waits for the writer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// After a failed write, how often the writer tries again at most (each try checks for
/// free space, and reopens sled once there is some).
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// Messages read from sled per step of a live tail.
const TAIL_BATCH: usize = 1024;

/// Settings of the embedded log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedConfig {
    /// How long a message id is remembered; an append with a remembered id is a
    /// duplicate. Default 2 minutes, like JetStream.
    pub duplicate_window: Duration,
    /// sled's page cache in bytes. Default 64 MiB (sled's own default is 1 GiB per `Db`).
    pub cache_capacity: u64,
    /// The largest payload accepted. Default [`DEFAULT_MAX_MESSAGE_SIZE`], as on
    /// JetStream.
    pub max_message_size: usize,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            cache_capacity: 64 * 1024 * 1024,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

/// The event log in a sled database on local disk. See the module documentation.
///
/// Dropping it stops the writer thread and waits for it (at most one group commit);
/// live tails then end with [`LogError::Unavailable`]. Once the drop has returned and
/// the last read in flight has finished, sled's files are closed and the directory can
/// be opened again, even while old tails have not been dropped yet.
pub struct EmbeddedLog {
    /// The tree as reads and live tails see it: emptied on drop, so that a tail nobody
    /// polls does not hold sled's files (and their lock) open, and replaced when the
    /// writer reopens sled after a failed write (see "A full disk" in the module docs).
    tail_tree: TailTree,
    /// Why the writer takes no appends right now (a failed write), if it does not.
    failed: Failed,
    config: EmbeddedConfig,
    /// The last durable position; the writer moves it after each flush.
    committed: watch::Receiver<Position>,
    queue: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
}

type TailTree = Arc<RwLock<Option<sled::Tree>>>;
type Failed = Arc<std::sync::Mutex<Option<LogError>>>;

/// What the writer is asked to do.
enum Request {
    /// One append, committed in a group with the others waiting.
    One(One),
    /// A batch, all or none, committed on its own.
    Batch {
        appends: Vec<Append>,
        after: Position,
        reply: oneshot::Sender<Result<Vec<Position>, LogError>>,
    },
    /// After a failed write: whether writing works again (it tries).
    Probe(oneshot::Sender<Result<(), LogError>>),
}

struct One {
    append: Append,
    reply: oneshot::Sender<Result<Appended, LogError>>,
}

impl EmbeddedLog {
    /// Opens (or creates) the log in the directory `path`, which it owns: the directory
    /// is a sled database of its own, so the log's syncs never wait for anyone else's
    /// writes, and a read model can be dropped and rebuilt without touching the log.
    pub fn open(path: &Path, config: EmbeddedConfig) -> Result<Self, LogError> {
        let (db, data_file, tree) = open_sled(path, config.cache_capacity)?;
        let last = match tree.scan_prefix([MSG]).next_back() {
            Some(entry) => {
                let (key, record) = entry.map_err(storage)?;
                let position = position_from_key(&key)?;
                Some((position, decode_header(position, &record)?.at))
            }
            None => None,
        };
        let window_ms = duration_ms(config.duplicate_window);
        let clock = Clock {
            last: last.map_or(0, |(_, at)| at),
        };
        let ids = RecentIds::load(&tree, window_ms, clock.peek())?;
        let last = last.map_or(0, |(position, _)| position);
        let (committed_tx, committed) = watch::channel(last);
        let (queue, requests) = mpsc::channel(QUEUE);
        let tail_tree: TailTree = Arc::new(RwLock::new(Some(tree.clone())));
        let failed = Failed::default();
        let writer = Writer {
            path: path.to_owned(),
            cache_capacity: config.cache_capacity,
            sled: Some(Sled {
                db,
                data_file,
                tree,
            }),
            shared: tail_tree.clone(),
            shared_failed: failed.clone(),
            last_attempt: None,
            window_ms,
            clock,
            ids,
            last,
            committed: committed_tx,
            failed: None,
        };
        let writer = std::thread::Builder::new()
            .name("helpdesk-log-writer".into())
            .spawn(move || writer.run(requests))
            .map_err(|err| {
                LogError::Storage(format!(
                    "cannot start the writer of the sled log at {}: {err}",
                    path.display()
                ))
            })?;
        Ok(EmbeddedLog {
            tail_tree,
            failed,
            config,
            committed,
            queue: Some(queue),
            writer: Some(writer),
        })
    }

    /// The settings the log was opened with.
    pub fn config(&self) -> &EmbeddedConfig {
        &self.config
    }

    fn committed(&self) -> Position {
        *self.committed.borrow()
    }

    /// Runs sled work off the async runtime.
    async fn blocking<T, F>(&self, work: F) -> Result<T, LogError>
    where
        T: Send + 'static,
        F: FnOnce(sled::Tree) -> Result<T, LogError> + Send + 'static,
    {
        let tree = self
            .tail_tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or_else(|| {
                LogError::Unavailable(
                    "the embedded log is being reopened after a failed write; retry".into(),
                )
            })?;
        tokio::task::spawn_blocking(move || work(tree))
            .await
            .map_err(|err| LogError::Storage(format!("log read task failed: {err}")))?
    }
}

impl Drop for EmbeddedLog {
    fn drop(&mut self) {
        // Closing the queue ends the writer's loop after the group in hand; joining makes
        // sure it has released the database before anyone reopens it.
        self.queue.take();
        self.tail_tree
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(writer) = self.writer.take() {
            if writer.join().is_err() {
                tracing::error!("the embedded log writer panicked");
            }
        }
    }
}

impl EmbeddedLog {
    /// Hands the writer the request `make` builds around a reply channel, and waits for
    /// the answer.
    async fn ask_writer<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, LogError>>) -> Request,
    ) -> Result<T, LogError> {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| LogError::Unavailable("the embedded log is closed".into()))?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(make(reply))
            .await
            .map_err(|_| LogError::Storage("the embedded log writer has stopped".into()))?;
        answer.await.map_err(|_| {
            LogError::Storage("the embedded log writer stopped before answering".into())
        })?
    }
}

#[async_trait]
impl EventLog for EmbeddedLog {
    async fn append(&self, append: Append) -> Result<Appended, LogError> {
        validate_append(&append, self.config.max_message_size)?;
        self.ask_writer(|reply| Request::One(One { append, reply }))
            .await
    }

    async fn append_batch(
        &self,
        appends: Vec<Append>,
        after: Position,
    ) -> Result<Vec<Position>, LogError> {
        validate_batch(&appends, after, self.config.max_message_size)?;
        if appends.is_empty() {
            return Ok(Vec::new());
        }
        self.ask_writer(|reply| Request::Batch {
            appends,
            after,
            reply,
        })
        .await
    }

    async fn read_subject(&self, subject: &str, after: Position) -> Result<Vec<Stored>, LogError> {
        validate_subject(subject)?;
        let committed = self.committed();
        if after >= committed {
            return Ok(Vec::new());
        }
        let subject = subject.to_owned();
        self.blocking(move |tree| {
            let start = index_key(&subject, after + 1);
            let end = index_key(&subject, committed);
            let mut out = Vec::new();
            for entry in tree.range(start..=end) {
                let (key, _) = entry.map_err(storage)?;
                let position = index_position(&key)?;
                match tree.get(msg_key(position)).map_err(storage)? {
                    Some(record) => out.push(decode_record(position, &record)?),
                    None => {
                        return Err(LogError::Storage(format!(
                            "the index of {subject} names position {position}, which is missing"
                        )))
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn get(&self, position: Position) -> Result<Option<Stored>, LogError> {
        if position == 0 || position > self.committed() {
            return Ok(None);
        }
        self.blocking(move |tree| {
            tree.get(msg_key(position))
                .map_err(storage)?
                .map(|record| decode_record(position, &record))
                .transpose()
        })
        .await
    }

    async fn read(&self, from: Position, max: usize) -> Result<Vec<Stored>, LogError> {
        let committed = self.committed();
        if max == 0 || from > committed {
            return Ok(Vec::new());
        }
        self.blocking(move |tree| read_range(&tree, from, committed, max))
            .await
    }

    async fn last_position(&self) -> Result<Position, LogError> {
        Ok(self.committed())
    }

    async fn health(&self) -> Result<(), LogError> {
        let failed = self
            .failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some();
        if !failed {
            return Ok(());
        }
        // The writer tries to write again; a writer stuck in a write answers nothing.
        match tokio::time::timeout(PROBE_TIMEOUT, self.ask_writer(Request::Probe)).await {
            Ok(answer) => answer,
            Err(_) => Err(LogError::Unavailable(format!(
                "the embedded log's writer did not answer within {PROBE_TIMEOUT:?}"
            ))),
        }
    }

    async fn subjects(&self, prefix: &str) -> Result<Vec<String>, LogError> {
        validate_subject_prefix(prefix)?;
        let committed = self.committed();
        let prefix = prefix.to_owned();
        self.blocking(move |tree| {
            let mut out = Vec::new();
            for entry in tree.scan_prefix(key(LAST, prefix.as_bytes())) {
                let (key, value) = entry.map_err(storage)?;
                let subject = subject_from(&key[1..])?;
                // A last position past `committed` is a group being synced: the subject
                // exists if its first message is durable, not before.
                if decode_u64(&value)? <= committed
                    || first_of_subject(&tree, &subject)?.is_some_and(|first| first <= committed)
                {
                    out.push(subject);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn subscribe(&self, from: Position) -> Result<StoredStream, LogError> {
        let tail = Tail {
            tree: self.tail_tree.clone(),
            committed: self.committed.clone(),
            next: from.max(1),
            buffer: VecDeque::new(),
            ended: false,
        };
        Ok(Box::pin(futures::stream::unfold(tail, Tail::step)))
    }
}

/// Opens the sled database in `path`: its handle, its data file (for syncs) and the log's
/// tree. First deletes what an interrupted start left behind (see [`crate::sled_files`]).
/// A full disk is [`LogError::Unavailable`] (it passes once there is space); another
/// process holding the log says so.
fn open_sled(
    path: &Path,
    cache_capacity: u64,
) -> Result<(sled::Db, std::fs::File, sled::Tree), LogError> {
    let cannot = |what: &str, err: &dyn std::fmt::Display| {
        LogError::Storage(format!(
            "cannot {what} the sled log at {}: {err}",
            path.display()
        ))
    };
    let io_error = |what: &str, err: std::io::Error| {
        if sled_files::is_disk_full(&err) {
            LogError::Unavailable(sled_files::disk_full_message(path))
        } else {
            cannot(what, &err)
        }
    };
    let sled_error = |what: &str, err: sled::Error| {
        if sled_files::sled_disk_full(&err) {
            LogError::Unavailable(sled_files::disk_full_message(path))
        } else if sled_files::sled_in_use(&err) {
            cannot(what, &format!("{err} (is another helpdesk using it?)"))
        } else {
            cannot(what, &err)
        }
    };
    for removed in
        sled_files::remove_unfinished_snapshots(path).map_err(|err| io_error("clean up", err))?
    {
        tracing::warn!(file = %removed.display(), "deleted an unfinished sled snapshot (left by a start that failed)");
    }
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(cache_capacity)
        .open()
        .map_err(|err| sled_error("open", err))?;
    // sled writes everything to this one file; see "Writing" in the module docs. A
    // read-only handle may fsync on Linux, and fsync is per file, not per handle.
    let data_file = std::fs::File::open(path.join(SLED_DATA_FILE))
        .map_err(|err| io_error("find the data file of", err))?;
    // A freshly created file is only durable once its directory entry is.
    std::fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| io_error("sync the directory of", err))?;
    let tree = db
        .open_tree(TREE)
        .map_err(|err| sled_error("open the tree of", err))?;
    Ok((db, data_file, tree))
}

/// The state of one live tail: read what is durable, then wait for the writer.
struct Tail {
    tree: TailTree,
    committed: watch::Receiver<Position>,
    next: Position,
    buffer: VecDeque<Stored>,
    ended: bool,
}

impl Tail {
    async fn step(mut self) -> Option<(Result<Stored, LogError>, Tail)> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(stored) = self.buffer.pop_front() {
                return Some((Ok(stored), self));
            }
            // Marks the value seen, so `changed` below wakes only for a newer one.
            let committed = *self.committed.borrow_and_update();
            if self.next <= committed {
                let tree = self
                    .tree
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                let Some(tree) = tree else {
                    return self.closed();
                };
                let from = self.next;
                let read = tokio::task::spawn_blocking(move || {
                    read_range(&tree, from, committed, TAIL_BATCH)
                })
                .await
                .map_err(|err| LogError::Storage(format!("log read task failed: {err}")))
                .and_then(|read| read);
                match read {
                    Ok(batch) => {
                        // An empty read means a gap up to `committed`: skip it.
                        self.next = batch.last().map_or(committed, |s| s.position) + 1;
                        self.buffer.extend(batch);
                    }
                    Err(err) => {
                        self.ended = true;
                        return Some((Err(err), self));
                    }
                }
                continue;
            }
            if self.committed.changed().await.is_err() {
                return self.closed();
            }
        }
    }

    fn closed(mut self) -> Option<(Result<Stored, LogError>, Tail)> {
        self.ended = true;
        Some((
            Err(LogError::Unavailable(
                "the embedded log was closed; subscribe again once it is reopened".into(),
            )),
            self,
        ))
    }
}

/// sled's handles, as the writer holds them.
struct Sled {
    db: sled::Db,
    /// sled's data file, synced after each flush (see "Writing" in the module docs).
    data_file: std::fs::File,
    tree: sled::Tree,
}

/// The single writer: group commit, see the module documentation.
struct Writer {
    path: std::path::PathBuf,
    cache_capacity: u64,
    /// None between closing sled after a failed write and opening it again.
    sled: Option<Sled>,
    /// The tree readers use: replaced when sled is reopened.
    shared: TailTree,
    /// `failed`, for [`EventLog::health`].
    shared_failed: Failed,
    /// When the writer last tried to recover from a failed write.
    last_attempt: Option<std::time::Instant>,
    window_ms: u64,
    clock: Clock,
    /// Message ids inside the window, including those of the group being decided.
    ids: RecentIds,
    /// The last position written and flushed.
    last: Position,
    committed: watch::Sender<Position>,
    /// Set when a write or flush failed: sled then refuses every later write (it keeps
    /// the first error), and what is in its memory (and in `ids`) may not be on disk. So
    /// nothing more is accepted until sled is reopened, which reads back what is on
    /// disk; the writer does that by itself once the disk has space (see "A full disk").
    failed: Option<LogError>,
}

/// What one append of a group came to, before the group is durable.
type Outcome = Result<Appended, LogError>;

impl Writer {
    fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut group: Vec<One> = Vec::new();
        while let Some(first) = requests.blocking_recv() {
            let mut batch = None;
            match first {
                Request::One(one) => group.push(one),
                Request::Probe(reply) => {
                    let _ = reply.send(self.recover(true));
                    continue;
                }
                request @ Request::Batch { .. } => batch = Some(request),
            }
            let mut bytes = group.first().map_or(0, |one| one.append.payload.len());
            while batch.is_none() && group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                match requests.try_recv() {
                    Ok(Request::One(one)) => {
                        bytes += one.append.payload.len();
                        group.push(one);
                    }
                    // A batch goes after the group gathered so far, on its own.
                    Ok(request) => batch = Some(request),
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                let outcomes = self.commit(&group);
                for (one, outcome) in group.drain(..).zip(outcomes) {
                    // The caller may have given up waiting; the append stands either way.
                    let _ = one.reply.send(outcome);
                }
            }
            match batch {
                Some(Request::Batch {
                    appends,
                    after,
                    reply,
                }) => {
                    let _ = reply.send(self.commit_batch(&appends, after));
                }
                Some(Request::Probe(reply)) => {
                    let _ = reply.send(self.recover(true));
                }
                _ => {}
            }
        }
    }

    /// After a failed write: `Ok` once writing works again. Tries at most every
    /// [`RETRY_EVERY`] (unless `now`): checks that the disk has space, then reopens sled,
    /// reading back what is on disk, and (for a health check) writes and syncs a probe.
    fn recover(&mut self, now: bool) -> Result<(), LogError> {
        let Some(failed) = &self.failed else {
            return Ok(());
        };
        let failed = clone_error(failed);
        let recently = self
            .last_attempt
            .is_some_and(|at| at.elapsed() < RETRY_EVERY);
        if recently && !now {
            return Err(failed);
        }
        self.last_attempt = Some(std::time::Instant::now());
        if let Err(err) = sled_files::check_space(&self.path) {
            return Err(if sled_files::is_disk_full(&err) {
                LogError::Unavailable(sled_files::disk_full_message(&self.path))
            } else {
                failed
            });
        }
        if let Err(err) = self.reopen() {
            tracing::warn!("the embedded log cannot be reopened yet: {err}");
            return Err(err);
        }
        if now {
            // A health check: make sure a write goes through, not only the open.
            let probe = sled::Batch::default();
            if let Err(err) = self.persist(probe, self.last) {
                self.set_failed(clone_error(&err));
                return Err(err);
            }
        }
        self.set_failed_none();
        tracing::info!(
            last = self.last,
            "the embedded log takes appends again: the disk has space"
        );
        Ok(())
    }

    /// Closes sled and opens it again: reads see nothing of it meanwhile (they answer
    /// `Unavailable`), and afterwards what is on disk.
    fn reopen(&mut self) -> Result<(), LogError> {
        {
            let mut shared = self
                .shared
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            shared.take();
        }
        self.sled.take();
        // A read that took the tree before holds sled's lock until it ends: wait a little.
        let mut tries = 0;
        let (db, data_file, tree) = loop {
            match open_sled(&self.path, self.cache_capacity) {
                Ok(opened) => break opened,
                Err(err) if tries < 50 && err.to_string().contains("another helpdesk") => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => return Err(err),
            }
        };
        let last = match tree.scan_prefix([MSG]).next_back() {
            Some(entry) => {
                let (key, record) = entry.map_err(storage)?;
                let position = position_from_key(&key)?;
                Some((position, decode_header(position, &record)?.at))
            }
            None => None,
        };
        self.clock.last = self.clock.last.max(last.map_or(0, |(_, at)| at));
        self.ids = RecentIds::load(&tree, self.window_ms, self.clock.peek())?;
        let last = last.map_or(0, |(position, _)| position);
        self.sled = Some(Sled {
            db,
            data_file,
            tree: tree.clone(),
        });
        // What is on disk now, made durable: a group whose flush failed may be there
        // (its appends were answered with an error; retried, they are duplicates).
        self.persist(sled::Batch::default(), last)?;
        *self
            .shared
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(tree);
        Ok(())
    }

    fn set_failed(&mut self, err: LogError) {
        *self
            .shared_failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(clone_error(&err));
        self.failed = Some(err);
    }

    fn set_failed_none(&mut self) {
        *self
            .shared_failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        self.failed = None;
    }

    /// Decides, writes and flushes one group; returns one outcome per request.
    fn commit(&mut self, group: &[One]) -> Vec<Outcome> {
        if let Err(err) = self.recover(false) {
            return group.iter().map(|_| Err(clone_error(&err))).collect();
        }
        let now = self.clock.now();
        self.ids.forget_before(now.saturating_sub(self.window_ms));
        let mut batch = sled::Batch::default();
        let mut staged_last = HashMap::new();
        let mut next = self.last;
        let outcomes: Vec<Outcome> = group
            .iter()
            .map(|one| self.decide(&one.append, now, &mut next, &mut staged_last, &mut batch))
            .collect();
        if next == self.last {
            return outcomes; // Only duplicates and conflicts: nothing to write.
        }
        if let Err(err) = self.persist(batch, next) {
            return self.fail(group.len(), err);
        }
        outcomes
    }

    /// Checks that the whole batch fits before writing any of it, then writes it as one
    /// group.
    fn commit_batch(
        &mut self,
        appends: &[Append],
        after: Position,
    ) -> Result<Vec<Position>, LogError> {
        self.recover(false)?;
        if self.last != after {
            return Err(LogError::BatchRefused(format!(
                "the log's last position is {}, not {after}",
                self.last
            )));
        }
        let now = self.clock.now();
        self.ids.forget_before(now.saturating_sub(self.window_ms));
        for append in appends {
            if let Some(position) = self.ids.get(&append.message_id, now, self.window_ms) {
                return Err(LogError::BatchRefused(format!(
                    "message id {} was appended before, at {position}",
                    append.message_id
                )));
            }
        }
        // `validate_batch` checked the batch's own chains: each subject's first append
        // is left to check against the log.
        let mut seen = HashSet::new();
        for append in appends {
            if !seen.insert(append.subject.as_str()) {
                continue;
            }
            let actual = self.last_of(&append.subject)?;
            if actual != append.expected_last {
                return Err(LogError::BatchRefused(format!(
                    "conflict on {}: expected last position {}, found {actual}",
                    append.subject, append.expected_last
                )));
            }
        }
        let mut batch = sled::Batch::default();
        let mut staged_last = HashMap::new();
        let mut next = self.last;
        let mut positions = Vec::with_capacity(appends.len());
        for append in appends {
            // Everything was checked above: each append is accepted as it comes, unless
            // the storage fails, and then the log stops (this batch's ids are remembered
            // already).
            match self.decide(append, now, &mut next, &mut staged_last, &mut batch) {
                Ok(appended) => positions.push(appended.position),
                Err(err) => {
                    let err = LogError::Storage(format!("reading the sled log failed: {err}"));
                    self.fail(0, clone_error(&err));
                    return Err(err);
                }
            }
        }
        match self.persist(batch, next) {
            Ok(()) => Ok(positions),
            Err(err) => {
                self.fail(0, clone_error(&err));
                Err(err)
            }
        }
    }

    /// Writes `batch`, flushes and syncs it, and makes `next` the last position. A full
    /// disk is [`LogError::Unavailable`] (it passes), anything else [`LogError::Storage`].
    fn persist(&mut self, batch: sled::Batch, next: Position) -> Result<(), LogError> {
        let path = &self.path;
        let sled = self
            .sled
            .as_ref()
            .ok_or_else(|| LogError::Unavailable("the embedded log is not open".into()))?;
        let sled_error = |what: &str, err: sled::Error| {
            if sled_files::sled_disk_full(&err) {
                LogError::Unavailable(sled_files::disk_full_message(path))
            } else {
                LogError::Storage(format!("{what} the sled log failed: {err}"))
            }
        };
        // sled applies a batch atomically or not at all, but an error here means the
        // storage is failing: stop rather than guess.
        sled.tree
            .apply_batch(batch)
            .map_err(|err| sled_error("writing to", err))?;
        sled.db.flush().map_err(|err| sled_error("flushing", err))?;
        sled.data_file.sync_data().map_err(|err| {
            if sled_files::is_disk_full(&err) {
                LogError::Unavailable(sled_files::disk_full_message(path))
            } else {
                LogError::Storage(format!("syncing the sled log failed: {err}"))
            }
        })?;
        self.last = next;
        self.committed.send_replace(next);
        Ok(())
    }

    /// The position of `subject`'s last message, 0 when it has none.
    fn last_of(&self, subject: &str) -> Result<Position, LogError> {
        let sled = self
            .sled
            .as_ref()
            .ok_or_else(|| LogError::Unavailable("the embedded log is not open".into()))?;
        match sled
            .tree
            .get(key(LAST, subject.as_bytes()))
            .map_err(storage)?
        {
            Some(value) => decode_u64(&value),
            None => Ok(0),
        }
    }

    /// Stops taking appends after a failed write; the outcomes of the `count` appends.
    fn fail(&mut self, count: usize, err: LogError) -> Vec<Outcome> {
        let err = match err {
            LogError::Unavailable(reason) => {
                tracing::error!(
                    "{reason}; the embedded log takes appends again once there is space"
                );
                LogError::Unavailable(reason)
            }
            other => {
                tracing::error!(
                    "{other}; the embedded log accepts no more appends until it is reopened"
                );
                LogError::Storage(format!("{other} (reopen the log)"))
            }
        };
        // Tried again at the next append, but not at once.
        self.last_attempt = Some(std::time::Instant::now());
        self.set_failed(clone_error(&err));
        (0..count).map(|_| Err(clone_error(&err))).collect()
    }

    fn decide(
        &mut self,
        append: &Append,
        now: u64,
        next: &mut Position,
        staged_last: &mut HashMap<String, Position>,
        batch: &mut sled::Batch,
    ) -> Outcome {
        // Idempotency first, as the contract says: a known id returns the first result
        // whatever the subject or the expected position.
        if let Some(position) = self.ids.get(&append.message_id, now, self.window_ms) {
            return Ok(Appended {
                position,
                duplicate: true,
            });
        }
        // The group's own appends first: two appends to one subject in one group.
        let actual = match staged_last.get(&append.subject) {
            Some(&position) => position,
            None => self.last_of(&append.subject)?,
        };
        if actual != append.expected_last {
            return Err(LogError::Conflict {
                subject: append.subject.clone(),
                expected: append.expected_last,
                actual,
            });
        }
        let position = *next + 1;
        *next = position;
        batch.insert(msg_key(position).to_vec(), encode_record(append, now));
        batch.insert(index_key(&append.subject, position), &[] as &[u8]);
        batch.insert(
            key(LAST, append.subject.as_bytes()),
            &position.to_be_bytes(),
        );
        staged_last.insert(append.subject.clone(), position);
        self.ids.remember(append.message_id.clone(), position, now);
        Ok(Appended {
            position,
            duplicate: false,
        })
    }
}

/// A copy of `err` (LogError is not `Clone`: it is the trait's public error).
fn clone_error(err: &LogError) -> LogError {
    match err {
        LogError::Conflict {
            subject,
            expected,
            actual,
        } => LogError::Conflict {
            subject: subject.clone(),
            expected: *expected,
            actual: *actual,
        },
        LogError::BatchRefused(m) => LogError::BatchRefused(m.clone()),
        LogError::Unavailable(m) => LogError::Unavailable(m.clone()),
        LogError::Invalid(m) => LogError::Invalid(m.clone()),
        LogError::Storage(m) => LogError::Storage(m.clone()),
    }
}

/// Append times in milliseconds since the Unix epoch that never go backwards, so records
/// are in time order along positions (which [`RecentIds::load`] relies on). A wall clock
/// set back makes time stand still until it catches up: ids are then remembered longer
/// than the window, never shorter.
struct Clock {
    last: u64,
}

impl Clock {
    fn peek(&self) -> u64 {
        now_ms().max(self.last)
    }

    fn now(&mut self) -> u64 {
        self.last = self.peek();
        self.last
    }
}

/// The message ids appended inside the duplicate window.
#[derive(Default)]
struct RecentIds {
    by_id: HashMap<String, (Position, u64)>,
    /// (time, id, position) in append order, so expiry pops from the front.
    by_time: VecDeque<(u64, String, Position)>,
}

impl RecentIds {
    /// Reads the log backwards until its records are older than the window.
    fn load(tree: &sled::Tree, window_ms: u64, now: u64) -> Result<RecentIds, LogError> {
        let cutoff = now.saturating_sub(window_ms);
        let mut ids = RecentIds::default();
        for entry in tree.scan_prefix([MSG]).rev() {
            let (key, record) = entry.map_err(storage)?;
            let position = position_from_key(&key)?;
            let header = decode_header(position, &record)?;
            if header.at < cutoff {
                break;
            }
            // Going backwards, the first sighting of an id is its latest append.
            if !ids.by_id.contains_key(header.message_id) {
                let id = header.message_id.to_owned();
                ids.by_id.insert(id.clone(), (position, header.at));
                ids.by_time.push_front((header.at, id, position));
            }
        }
        Ok(ids)
    }

    fn get(&self, message_id: &str, now: u64, window_ms: u64) -> Option<Position> {
        let &(position, at) = self.by_id.get(message_id)?;
        (now.saturating_sub(at) < window_ms).then_some(position)
    }

    fn remember(&mut self, message_id: String, position: Position, at: u64) {
        self.by_time.push_back((at, message_id.clone(), position));
        self.by_id.insert(message_id, (position, at));
    }

    fn forget_before(&mut self, cutoff: u64) {
        while let Some((at, _, _)) = self.by_time.front() {
            if *at >= cutoff {
                break;
            }
            if let Some((_, id, position)) = self.by_time.pop_front() {
                // An id appended again after it expired has a newer entry: keep that.
                if self.by_id.get(&id).is_some_and(|&(p, _)| p == position) {
                    self.by_id.remove(&id);
                }
            }
        }
    }
}

fn read_range(
    tree: &sled::Tree,
    from: Position,
    to: Position,
    max: usize,
) -> Result<Vec<Stored>, LogError> {
    let mut out = Vec::with_capacity(max.min(TAIL_BATCH));
    if from > to {
        return Ok(out);
    }
    for entry in tree.range(msg_key(from.max(1))..=msg_key(to)).take(max) {
        let (key, record) = entry.map_err(storage)?;
        out.push(decode_record(position_from_key(&key)?, &record)?);
    }
    Ok(out)
}

/// The position of a subject's first message, from the index.
fn first_of_subject(tree: &sled::Tree, subject: &str) -> Result<Option<Position>, LogError> {
    let mut prefix = key(INDEX, subject.as_bytes());
    prefix.push(0);
    match tree.scan_prefix(prefix).next() {
        Some(entry) => Ok(Some(index_position(&entry.map_err(storage)?.0)?)),
        None => Ok(None),
    }
}

fn key(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(tag);
    key.extend_from_slice(rest);
    key
}

fn msg_key(position: Position) -> [u8; 9] {
    let mut key = [MSG; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn index_key(subject: &str, position: Position) -> Vec<u8> {
    let mut key = Vec::with_capacity(subject.len() + 10);
    key.push(INDEX);
    key.extend_from_slice(subject.as_bytes());
    key.push(0);
    key.extend_from_slice(&position.to_be_bytes());
    key
}

fn position_from_key(key: &[u8]) -> Result<Position, LogError> {
    match key {
        [MSG, rest @ ..] => decode_u64(rest),
        _ => Err(corrupt("message key", key)),
    }
}

fn index_position(key: &[u8]) -> Result<Position, LogError> {
    let tail = key
        .len()
        .checked_sub(8)
        .ok_or_else(|| corrupt("index key", key))?;
    decode_u64(&key[tail..])
}

/// A record: `[1][subject len: u16 BE][subject][id len: u16 BE][message id]
/// [time ms: u64 BE][payload]`. Lengths fit: subjects and ids are at most
/// `MAX_NAME_LEN` bytes (validated before they reach the writer).
fn encode_record(append: &Append, at: u64) -> Vec<u8> {
    let (subject, id) = (append.subject.as_bytes(), append.message_id.as_bytes());
    let mut record = Vec::with_capacity(13 + subject.len() + id.len() + append.payload.len());
    record.push(RECORD_V1);
    record.extend_from_slice(&(subject.len() as u16).to_be_bytes());
    record.extend_from_slice(subject);
    record.extend_from_slice(&(id.len() as u16).to_be_bytes());
    record.extend_from_slice(id);
    record.extend_from_slice(&at.to_be_bytes());
    record.extend_from_slice(&append.payload);
    record
}

/// The parts of a record before its payload.
struct RecordHeader<'a> {
    subject: &'a str,
    message_id: &'a str,
    at: u64,
    payload: &'a [u8],
}

fn decode_header(position: Position, record: &[u8]) -> Result<RecordHeader<'_>, LogError> {
    let bad = || LogError::Storage(format!("unreadable record at position {position}"));
    let [RECORD_V1, rest @ ..] = record else {
        return Err(bad());
    };
    let (subject, rest) = take_str(rest).ok_or_else(bad)?;
    let (message_id, rest) = take_str(rest).ok_or_else(bad)?;
    let (at, payload) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
    Ok(RecordHeader {
        subject,
        message_id,
        at: u64::from_be_bytes(*at),
        payload,
    })
}

/// A u16-length-prefixed UTF-8 string, and what follows it.
fn take_str(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    let len = u16::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return None;
    }
    let (text, rest) = rest.split_at(len);
    Some((std::str::from_utf8(text).ok()?, rest))
}

fn decode_record(position: Position, record: &[u8]) -> Result<Stored, LogError> {
    let header = decode_header(position, record)?;
    Ok(Stored {
        position,
        subject: header.subject.to_owned(),
        payload: Bytes::copy_from_slice(header.payload),
    })
}

fn decode_u64(bytes: &[u8]) -> Result<u64, LogError> {
    let array: [u8; 8] = bytes.try_into().map_err(|_| corrupt("number", bytes))?;
    Ok(u64::from_be_bytes(array))
}

fn subject_from(bytes: &[u8]) -> Result<String, LogError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("subject", bytes))
}

fn corrupt(what: &str, bytes: &[u8]) -> LogError {
    LogError::Storage(format!("unreadable {what} in the sled log: {bytes:02x?}"))
}

fn storage(err: sled::Error) -> LogError {
    LogError::Storage(format!("sled: {err}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, duration_ms)
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
