//! Test support: an embedded log in a temporary directory and a writer of envelopes.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use helpdesk_domain::{Actor, AggregateId, Envelope, Event, Timestamp};
use helpdesk_log::{Append, EmbeddedConfig, EmbeddedLog, EventLog, Position};
use helpdesk_projections::runtime::dump;
use helpdesk_projections::{Model, Projector, ProjectorConfig};
use uuid::Uuid;

pub const T0: Timestamp = Timestamp::from_millis(1_714_564_800_000); // 2024-05-01T12:00:00Z
pub const MINUTE: i64 = 60_000;

/// A real embedded log in its own temporary directory, and what was appended to it.
pub struct TestLog {
    pub dir: tempfile::TempDir,
    pub log: Arc<EmbeddedLog>,
    last: HashMap<AggregateId, Position>,
}

impl TestLog {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = EmbeddedLog::open(&dir.path().join("log"), EmbeddedConfig::default())
            .expect("embedded log opens");
        TestLog {
            dir,
            log: Arc::new(log),
            last: HashMap::new(),
        }
    }

    pub fn dyn_log(&self) -> Arc<dyn EventLog> {
        self.log.clone()
    }

    /// Appends one envelope of `events` to `aggregate`, at `at`.
    pub async fn append(
        &mut self,
        aggregate: AggregateId,
        at: Timestamp,
        events: Vec<Event>,
    ) -> Position {
        let envelope = Envelope {
            command_id: Uuid::now_v7(),
            actor: Actor::System,
            occurred_at: at,
            recorded_at: None,
            events,
        };
        self.append_raw(aggregate, envelope.encode()).await
    }

    /// Appends raw bytes (perhaps not an envelope at all).
    pub async fn append_raw(&mut self, aggregate: AggregateId, payload: Vec<u8>) -> Position {
        let expected_last = self.last.get(&aggregate).copied().unwrap_or(0);
        let appended = self
            .log
            .append(Append {
                subject: aggregate.subject(),
                expected_last,
                message_id: Uuid::now_v7().to_string(),
                payload: Bytes::from(payload),
            })
            .await
            .expect("append");
        self.last.insert(aggregate, appended.position);
        appended.position
    }
}

/// A projector of `model` over `log` with its store in `data_dir`.
pub fn projector<M: Model>(
    model: M,
    log: &TestLog,
    data_dir: &std::path::Path,
    batch: usize,
) -> Projector<M> {
    let mut config = ProjectorConfig::new(data_dir);
    config.batch = batch;
    config.cache_bytes = 4 * 1024 * 1024;
    wait_until_unlocked(&data_dir.join("models").join(M::NAME).join("db"));
    Projector::open(model, log.dyn_log(), config).expect("projector opens")
}

/// sled lets go of a dropped store's lock when its flusher thread ends, a moment after
/// the drop: a store reopened at once (a restart in a test) may still be locked.
fn wait_until_unlocked(lock_file: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while let Ok(file) = std::fs::File::open(lock_file) {
        if file.try_lock().is_ok() || std::time::Instant::now() > deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Catches `projector` up with the log and returns its records.
pub async fn caught_up<M: Model>(projector: &mut Projector<M>) -> Vec<(Vec<u8>, Vec<u8>)> {
    projector.catch_up(|_, _| {}).await.expect("catch up");
    dump(&projector.handle().tree()).expect("dump")
}
