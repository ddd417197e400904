//! A live tail of the log that tells the engine which cached aggregates are current.
//!
//! A decision reads more than its target: the configuration, the caller's agent, the
//! agents and departments a command names (`domain::needs`). Another process may have
//! changed any of them, and no conflict on the append would say so, so each used to be
//! read from the log before every decision: one NATS round trip each, five to eight a
//! command (docs/PERFORMANCE.md). The follower replaces those reads with one question per
//! command: "what is the log's last position now?" Once its tail has delivered up to
//! that position, it knows the last position of every configuration, agent and
//! department subject, and a cached aggregate at that position is current: everything
//! the log acknowledged before the command arrived is in it. Only an aggregate that is
//! not cached, or that the tail says has moved on, is read.
//!
//! Concurrent commands share that question: while one is on its way the others wait for
//! it and use its answer if it was asked after they arrived. When the tail is down or
//! does not reach the position in [`TAIL_PATIENCE`], the engine reads as before, and the
//! tail is replaced.
//!
//! The tail also tells the time the log has reached (the latest time of its events: an
//! import may not go back before it) and whether an import is running (the last import
//! envelope it saw arrived within a window of wall time). Both come from the log, not
//! from this process's memory, so they hold across restarts and across processes
//! ([`LogClock::read`] finds them on start).
//!
//! A log can change under a running process: a backup restored puts it back in time, and
//! what clients send again then lands at positions this process knows other messages
//! at. The tail keeps the fingerprint of the last message it delivered and checks every
//! few seconds that the log still holds it there; the engine reports the same when a
//! command's first result is not where it was recorded. Then everything known is
//! dropped ([`Follower::generation`] moves on, which empties the engine's cache) and the
//! tail starts again at the log's end as it is now.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use helpdesk_domain::{Actor, AggregateId, AggregateKind, Envelope, Event, Timestamp};
use helpdesk_log::{EventLog, LogError, Position, StoredStream};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

/// How long a command waits for the tail to deliver what the log already holds before
/// it reads the log itself and the tail is replaced.
const TAIL_PATIENCE: Duration = Duration::from_millis(500);
/// How long to wait before subscribing again after the tail failed.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);
/// How often the tail checks that the log still holds what it delivered last (a log
/// restored from an older backup does not).
const VERIFY_EVERY: Duration = Duration::from_secs(5);

/// What the tail of this process has seen of the log.
#[derive(Debug)]
pub struct Follower {
    /// The position of the last message the tail delivered.
    reached: watch::Sender<Position>,
    /// Whether a tail is running and may be waited for.
    live: AtomicBool,
    /// The last position of each followed aggregate the tail has delivered.
    last: Mutex<HashMap<AggregateId, Position>>,
    /// The latest answer to "the log's last position": when it was asked, and the answer.
    barrier: Mutex<Option<(Instant, Position)>>,
    /// Held while the question is on its way, so that commands arriving meanwhile share
    /// the next answer instead of each asking.
    asking: tokio::sync::Mutex<()>,
    /// The latest question that failed: when it was asked, and why.
    failed: Mutex<Option<(Instant, String)>>,
    /// Asks the tail to subscribe again (it was found silent).
    restart: Notify,
    /// The latest event time the tail delivered; `None` while the log is empty.
    time: watch::Sender<Option<Timestamp>>,
    /// When an import (an envelope from outside with its own time) was last seen: on
    /// the tail, arriving at this process, or last in the log when the tail started.
    import_seen: Mutex<Option<Instant>>,
    /// The last message the tail delivered: its position and fingerprint.
    print: Mutex<Option<(Position, u64)>>,
    /// Moves on each time the log is found to be another than the one followed.
    generation: std::sync::atomic::AtomicU64,
    /// Asks the tail to drop what it knows and start again at the log's end.
    replaced: Notify,
}

impl Default for Follower {
    fn default() -> Self {
        Follower {
            reached: watch::Sender::new(0),
            live: AtomicBool::new(false),
            last: Mutex::new(HashMap::new()),
            barrier: Mutex::new(None),
            asking: tokio::sync::Mutex::new(()),
            failed: Mutex::new(None),
            restart: Notify::new(),
            time: watch::Sender::new(None),
            import_seen: Mutex::new(None),
            print: Mutex::new(None),
            generation: std::sync::atomic::AtomicU64::new(0),
            replaced: Notify::new(),
        }
    }
}

impl Follower {
    /// Whether the follower keeps track of aggregates of this kind: the ones decisions
    /// read without appending to them. Tickets, conversations and ratings are targets,
    /// checked by the append itself, and far too many to keep a position for each.
    pub fn follows(kind: AggregateKind) -> bool {
        matches!(
            kind,
            AggregateKind::Config | AggregateKind::Agent | AggregateKind::Department
        )
    }

    /// Subscribes at the log's end and follows it until `shutdown`. Aggregates cached
    /// before this may miss what was appended meanwhile: the caller starts the follower
    /// before it caches anything.
    pub async fn start(
        self: &Arc<Self>,
        log: Arc<dyn EventLog>,
        shutdown: CancellationToken,
    ) -> Result<(), LogError> {
        let tail = self.start_at_end(&*log).await?;
        self.live.store(true, Ordering::Release);
        tokio::spawn(self.clone().run(log, tail, shutdown));
        Ok(())
    }

    /// Learns what the log tells as it is now (its end, the time it has reached, whether
    /// an import runs) and subscribes after its end.
    async fn start_at_end(&self, log: &dyn EventLog) -> Result<StoredStream, LogError> {
        let end = log.last_position().await?;
        let clock = LogClock::read(log, end).await?;
        // Replaced, not merged: after a restore the log's time may be earlier.
        self.time.send_replace(clock.time);
        if clock.importing {
            // An import may have been cut off by this process's restart: it gets a
            // whole window to come back before the clock ticks.
            self.note_import();
        }
        let print = match end {
            0 => None,
            _ => log
                .get(end)
                .await?
                .map(|stored| (end, stored.fingerprint())),
        };
        let tail = log.subscribe(end + 1).await?;
        *self.print.lock().expect("follower lock") = print;
        self.reached.send_replace(end);
        tracing::debug!(from = end + 1, "following the log");
        Ok(tail)
    }

    /// Which log this process follows: a number that moves on whenever the log turned
    /// out to be another than the one followed (restored from an older backup). What
    /// was read from the log before is then not to be trusted.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Reports that the log does not hold what it held (a command's first result is not
    /// where it was recorded): what is known is dropped at once and the tail starts
    /// again at the log's end.
    pub fn log_replaced(&self, why: &str) {
        tracing::warn!("the event log is not the one followed ({why}): starting again from it");
        self.forget();
        self.replaced.notify_one();
    }

    /// Drops everything known of the log; commands read it themselves until the tail
    /// runs again.
    fn forget(&self) {
        self.live.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.last.lock().expect("follower lock").clear();
        *self.barrier.lock().expect("follower lock") = None;
        *self.failed.lock().expect("follower lock") = None;
    }

    /// Why the log is not the one the tail followed, if it is not: it no longer holds
    /// the last message delivered at its position.
    async fn other_log(&self, log: &dyn EventLog) -> Result<Option<String>, LogError> {
        let Some((position, print)) = *self.print.lock().expect("follower lock") else {
            return Ok(None);
        };
        Ok(match log.get(position).await? {
            Some(stored) if stored.fingerprint() == print => None,
            Some(_) => Some(format!("another message is at position {position}")),
            None => Some(format!("position {position} is gone")),
        })
    }

    async fn run(
        self: Arc<Self>,
        log: Arc<dyn EventLog>,
        mut tail: StoredStream,
        shutdown: CancellationToken,
    ) {
        let mut verify = tokio::time::interval(VERIFY_EVERY);
        verify.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let why = tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.restart.notified() => "it did not deliver what the log holds".to_owned(),
                _ = self.replaced.notified() => {
                    tail = self.start_again(&*log, &shutdown).await;
                    continue;
                }
                _ = verify.tick() => match self.other_log(&*log).await {
                    Ok(Some(why)) => {
                        tracing::warn!(
                            "the event log is not the one followed ({why}): starting again from it"
                        );
                        self.forget();
                        tail = self.start_again(&*log, &shutdown).await;
                        continue;
                    }
                    // A log that does not answer now is the tail's to find out.
                    Ok(None) | Err(_) => continue,
                },
                next = tail.next() => match next {
                    Some(Ok(stored)) => {
                        if let Some(id) = AggregateId::from_subject(&stored.subject) {
                            self.saw(id, stored.position);
                        }
                        // What cannot be decoded is reported by the projectors.
                        if let Ok(envelope) = Envelope::decode(&stored.payload) {
                            self.saw_envelope(&envelope);
                        }
                        *self.print.lock().expect("follower lock") =
                            Some((stored.position, stored.fingerprint()));
                        self.reach(stored.position);
                        continue;
                    }
                    Some(Err(err)) => err.to_string(),
                    None => "it ended".to_owned(),
                },
            };
            // Until a new tail runs, commands read the log themselves.
            self.live.store(false, Ordering::Release);
            tracing::warn!("the log's tail for commands is replaced: {why}");
            tail = loop {
                // The new tail goes on from the last message delivered, so that every
                // position kept in `last` stays valid.
                let from = *self.reached.borrow() + 1;
                match log.subscribe(from).await {
                    Ok(tail) => break tail,
                    Err(err) => tracing::warn!("cannot follow the log again yet: {err}"),
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(RESUBSCRIBE_AFTER) => {}
                }
            };
            self.live.store(true, Ordering::Release);
        }
    }

    /// After [`Follower::forget`]: follows the log again from its end as it is now.
    async fn start_again(&self, log: &dyn EventLog, shutdown: &CancellationToken) -> StoredStream {
        loop {
            match self.start_at_end(log).await {
                Ok(tail) => {
                    self.live.store(true, Ordering::Release);
                    return tail;
                }
                Err(err) => tracing::warn!("cannot follow the log again yet: {err}"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Box::pin(futures::stream::empty()),
                _ = tokio::time::sleep(RESUBSCRIBE_AFTER) => {}
            }
        }
    }

    /// Records what an envelope in the log says about time.
    pub fn saw_envelope(&self, envelope: &Envelope) {
        self.saw_time(envelope.occurred_at);
        if envelope.recorded_at.is_some() {
            self.note_import();
        }
    }

    /// Records that the log holds an event at `time`.
    pub fn saw_time(&self, time: Timestamp) {
        self.time.send_if_modified(|known| {
            let later = known.is_none_or(|known| time > known);
            if later {
                *known = Some(time);
            }
            later
        });
    }

    /// Records that an import is running (one of its commands arrived just now).
    pub fn note_import(&self) {
        *self.import_seen.lock().expect("follower lock") = Some(Instant::now());
    }

    /// Whether an import was seen within `window` of wall time.
    pub fn import_running(&self, window: Duration) -> bool {
        self.import_seen
            .lock()
            .expect("follower lock")
            .is_some_and(|seen| seen.elapsed() < window)
    }

    /// The latest event time the tail has delivered (or this process appended).
    pub fn time(&self) -> Option<Timestamp> {
        *self.time.borrow()
    }

    /// Returns once the log holds an event later than the organization's setup (which
    /// is recorded at the Unix epoch): someone has started to work or to import.
    pub async fn work_started(&self) {
        let mut time = self.time.subscribe();
        let _ = time
            .wait_for(|t| t.is_some_and(|t| t > Timestamp::EPOCH))
            .await;
    }

    /// Records that `id` has a message at `position` (kept if it is the latest known).
    fn saw(&self, id: AggregateId, position: Position) {
        if Self::follows(id.kind) {
            let mut last = self.last.lock().expect("follower lock");
            let known = last.entry(id).or_insert(position);
            *known = (*known).max(position);
        }
    }

    /// Records that everything up to `position` is accounted for.
    fn reach(&self, position: Position) {
        self.reached.send_if_modified(|reached| {
            let further = position > *reached;
            if further {
                *reached = position;
            }
            further
        });
    }

    /// This process appended a batch right after `after`, which the tail had reached:
    /// the positions up to the batch's last are accounted for without waiting for the
    /// tail to deliver them (it will, and changes nothing then), so the next command
    /// does not wait for its own batch to come back.
    pub fn appended_batch(
        &self,
        after: Position,
        appended: impl IntoIterator<Item = (AggregateId, Position)>,
    ) {
        if !self.live.load(Ordering::Acquire) || *self.reached.borrow() < after {
            return;
        }
        let mut to = after;
        for (id, position) in appended {
            self.saw(id, position);
            to = to.max(position);
        }
        self.reach(to);
    }

    /// The last position of `id` in the log as of `since` (every message acknowledged
    /// before it is counted; 0: none since the tail started), or `None` when the tail
    /// cannot tell and the log must be read. The caller trusts a cached `id` at that
    /// position or later only if it was read after the follower started.
    pub async fn last_position_of(
        &self,
        log: &dyn EventLog,
        id: AggregateId,
        since: Instant,
    ) -> Result<Option<Position>, LogError> {
        if !Self::follows(id.kind) || self.caught_up(log, since).await?.is_none() {
            return Ok(None);
        }
        let last = self.last.lock().expect("follower lock");
        Ok(Some(last.get(&id).copied().unwrap_or(0)))
    }

    /// The log's last position as of `since`, once the tail has delivered it; `None`
    /// when the tail is down or does not get there in time.
    pub async fn caught_up(
        &self,
        log: &dyn EventLog,
        since: Instant,
    ) -> Result<Option<Position>, LogError> {
        if !self.live.load(Ordering::Acquire) {
            return Ok(None);
        }
        let end = self.log_end_since(log, since).await?;
        let mut reached = self.reached.subscribe();
        let caught_up = tokio::time::timeout(TAIL_PATIENCE, reached.wait_for(|r| *r >= end))
            .await
            .is_ok_and(|waited| waited.is_ok());
        if !caught_up {
            // Wakes the tail only if it is waiting now: a stored wake-up would tear down
            // the next, healthy, tail.
            self.restart.notify_waiters();
            return Ok(None);
        }
        Ok(Some(end))
    }

    /// The log's last position, asked at `since` or later.
    async fn log_end_since(
        &self,
        log: &dyn EventLog,
        since: Instant,
    ) -> Result<Position, LogError> {
        let answered_since = || {
            self.barrier
                .lock()
                .expect("follower lock")
                .filter(|(asked, _)| *asked >= since)
                .map(|(_, end)| end)
        };
        if let Some(end) = answered_since() {
            return Ok(end);
        }
        let _asking = self.asking.lock().await;
        // Someone else may have asked while this one waited its turn, and been answered
        // or have failed (then every command waiting fails with it, instead of each
        // asking a log that does not answer in turn).
        if let Some(end) = answered_since() {
            return Ok(end);
        }
        if let Some((_, reason)) = self
            .failed
            .lock()
            .expect("follower lock")
            .as_ref()
            .filter(|(asked, _)| *asked >= since)
        {
            return Err(LogError::Unavailable(reason.clone()));
        }
        let asked = Instant::now();
        let end = match log.last_position().await {
            Ok(end) => end,
            Err(err) => {
                *self.failed.lock().expect("follower lock") = Some((asked, err.to_string()));
                return Err(err);
            }
        };
        let mut barrier = self.barrier.lock().expect("follower lock");
        if barrier.is_none_or(|(before, _)| before < asked) {
            *barrier = Some((asked, end));
        }
        Ok(end)
    }
}

/// What the end of the log says about time, read when a process starts (or when its
/// tail cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogClock {
    /// The latest event time among the messages read; `None` for an empty log.
    pub time: Option<Timestamp>,
    /// Whether the last envelope from outside (skipping what the system appended after
    /// it) is an import: an import may have been running when the log was last written.
    pub importing: bool,
}

impl LogClock {
    /// How many messages, at most, are read back from the end.
    const LOOK_BACK: Position = 1_000;

    /// Reads back from `end` to the last envelope from outside or the last clock tick:
    /// the system's own appends after it (a planned pause's end, recorded late at the
    /// time the pause was planned to end; an auto-pause) tell neither.
    pub async fn read(log: &dyn EventLog, end: Position) -> Result<LogClock, LogError> {
        let mut clock = LogClock {
            time: None,
            importing: false,
        };
        let mut to = end;
        let oldest = end.saturating_sub(Self::LOOK_BACK);
        while to > oldest {
            let from = to.saturating_sub(99).max(oldest + 1);
            let messages = log.read(from, (to - from + 1) as usize).await?;
            for stored in messages.iter().rev() {
                let Ok(envelope) = Envelope::decode(&stored.payload) else {
                    continue;
                };
                clock.time = Some(
                    clock
                        .time
                        .map_or(envelope.occurred_at, |t| t.max(envelope.occurred_at)),
                );
                let tick = matches!(envelope.events.as_slice(), [Event::ClockTicked(_)]);
                if tick || envelope.actor != Actor::System {
                    clock.importing = envelope.recorded_at.is_some();
                    return Ok(clock);
                }
            }
            to = from - 1;
        }
        Ok(clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use helpdesk_domain::AgentId;
    use helpdesk_log::{Append, EmbeddedConfig, EmbeddedLog};
    use uuid::Uuid;

    fn append(id: AggregateId, expected_last: Position) -> Append {
        Append {
            subject: id.subject(),
            expected_last,
            message_id: Uuid::now_v7().to_string(),
            payload: Bytes::from_static(b"x"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn knows_what_was_appended_before_a_command_arrived() {
        let dir = tempfile::tempdir().unwrap();
        let log: Arc<dyn EventLog> =
            Arc::new(EmbeddedLog::open(dir.path(), EmbeddedConfig::default()).unwrap());
        let ada = AggregateId::agent(AgentId::from_uuid(Uuid::now_v7()));
        let ticket = AggregateId::new(AggregateKind::Ticket, Uuid::now_v7());
        let before = log.append(append(ada, 0)).await.unwrap().position;

        let follower = Arc::new(Follower::default());
        let shutdown = CancellationToken::new();
        follower.start(log.clone(), shutdown.clone()).await.unwrap();
        // Appended before the tail started: not known, 0 (the caller read it after).
        let known = follower
            .last_position_of(&*log, ada, Instant::now())
            .await
            .unwrap();
        assert_eq!(known, Some(0));

        let later = log.append(append(ada, before)).await.unwrap().position;
        let arrived = Instant::now();
        let known = follower
            .last_position_of(&*log, ada, arrived)
            .await
            .unwrap();
        assert_eq!(known, Some(later), "an append acknowledged before arrival");
        assert_eq!(
            follower
                .last_position_of(&*log, ticket, arrived)
                .await
                .unwrap(),
            None,
            "tickets are not followed"
        );

        // A batch of this process counts at once, ahead of the tail.
        let end = log.last_position().await.unwrap();
        follower.appended_batch(end, [(ada, end + 1)]);
        assert_eq!(*follower.reached.borrow(), end + 1);
        assert_eq!(follower.last.lock().unwrap().get(&ada), Some(&(end + 1)));
        shutdown.cancel();
    }

    /// A log whose end cannot be learnt: every question fails after a while.
    struct Unreachable {
        inner: Arc<dyn EventLog>,
        asked: std::sync::atomic::AtomicUsize,
    }

    #[tonic::async_trait]
    impl EventLog for Unreachable {
        async fn append(&self, a: Append) -> Result<helpdesk_log::Appended, LogError> {
            self.inner.append(a).await
        }
        async fn append_batch(
            &self,
            a: Vec<Append>,
            after: Position,
        ) -> Result<Vec<Position>, LogError> {
            self.inner.append_batch(a, after).await
        }
        async fn read_subject(
            &self,
            s: &str,
            after: Position,
        ) -> Result<Vec<helpdesk_log::Stored>, LogError> {
            self.inner.read_subject(s, after).await
        }
        async fn get(&self, p: Position) -> Result<Option<helpdesk_log::Stored>, LogError> {
            self.inner.get(p).await
        }
        async fn read(&self, f: Position, m: usize) -> Result<Vec<helpdesk_log::Stored>, LogError> {
            self.inner.read(f, m).await
        }
        async fn last_position(&self) -> Result<Position, LogError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err(LogError::Unavailable("no answer".into()))
        }
        async fn subjects(&self, p: &str) -> Result<Vec<String>, LogError> {
            self.inner.subjects(p).await
        }
        async fn subscribe(&self, f: Position) -> Result<StoredStream, LogError> {
            self.inner.subscribe(f).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commands_waiting_on_a_failed_question_fail_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn EventLog> =
            Arc::new(EmbeddedLog::open(dir.path(), EmbeddedConfig::default()).unwrap());
        let follower = Arc::new(Follower::default());
        let shutdown = CancellationToken::new();
        follower
            .start(inner.clone(), shutdown.clone())
            .await
            .unwrap();
        let log = Arc::new(Unreachable {
            inner,
            asked: Default::default(),
        });
        let arrived = Instant::now();
        let waiting: Vec<_> = (0..5)
            .map(|_| {
                let (follower, log) = (follower.clone(), log.clone());
                tokio::spawn(async move { follower.caught_up(&*log, arrived).await })
            })
            .collect();
        for waiter in waiting {
            assert!(matches!(
                waiter.await.unwrap(),
                Err(LogError::Unavailable(_))
            ));
        }
        assert_eq!(
            log.asked.load(Ordering::SeqCst),
            1,
            "one question for all five, not one failure each in turn"
        );
        shutdown.cancel();
    }
}
