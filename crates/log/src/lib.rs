//! The event log: one trait, two backends with the same semantics.
//!
//! - [`nats::JetStreamLog`]: a NATS JetStream stream, subjects `<prefix>.<kind>.<id>`.
//! - [`embedded::EmbeddedLog`]: an append-only log in sled, for running on one machine
//!   with nothing else installed.
//!
//! The log knows nothing of the domain: a message is opaque bytes (one encoded envelope
//! holding the events of one command) appended to one aggregate's subject. Both backends
//! are proven by the same conformance suite ([`conformance`]).
//!
//! Semantics every backend guarantees:
//! - **Global order.** Every message gets a position (1, 2, 3, …) in one total order.
//!   Positions only grow; gaps may exist (purges), so never assume contiguity.
//! - **Optimistic concurrency per subject.** An append names the position of the last
//!   message of its subject it has seen (`expected_last`, 0 for "the subject must be
//!   empty"). A mismatch is [`LogError::Conflict`] and appends nothing.
//! - **Idempotency.** An append carries a `message_id` (the command id). Appending the same
//!   id again inside the duplicate window appends nothing and returns the first append's
//!   position with `duplicate: true`, whatever the subject or expected position.
//! - **Durability.** Once `append` returns `Ok`, the message survives a restart of the
//!   process (embedded: flushed and fsynced; JetStream: as far as the server's
//!   `sync_interval` allows, see `deploy/README.md`).
//! - **Live tail.** [`EventLog::subscribe`] yields every message from a position on,
//!   including those appended after the call, in order.

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub mod conformance;
pub mod embedded;
pub mod nats;
pub mod sled_files;

pub use embedded::{EmbeddedConfig, EmbeddedLog};
pub use nats::{redact_url, JetStreamConfig, JetStreamLog, NatsSecurity};

/// How long a message id is remembered by default (JetStream's default too).
pub const DEFAULT_DUPLICATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// The largest payload an append may carry by default: 1 MiB less 4 KiB, so that a
/// payload at the limit and its headers fit a default nats-server (`max_payload` 1 MiB).
/// Far above any one command's events (a ticket's body is at most 64 KiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1024 * 1024 - 4 * 1024;

/// The longest subject and message id the log accepts, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// The most appends one [`EventLog::append_batch`] takes (JetStream's limit for an atomic
/// batch).
pub const MAX_BATCH: usize = 1000;

/// A position in the log's global order. The first message is at 1; 0 means "before
/// everything" (an empty log, a new subject).
pub type Position = u64;

/// One append: the bytes of one envelope for one aggregate's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    /// `<kind>.<id>` without the backend's prefix, for example `ticket.0190…`.
    pub subject: String,
    /// The position of the subject's last message that the writer has seen, 0 for a
    /// subject that must not exist yet.
    pub expected_last: Position,
    /// The command id: an append with an id seen inside the duplicate window is a no-op
    /// that returns the first result.
    pub message_id: String,
    /// The encoded envelope; at most the backend's `max_message_size` bytes.
    pub payload: Bytes,
}

/// The outcome of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Where the message is (or, for a duplicate, where the first append put it).
    pub position: Position,
    /// True when the message id had been appended before: nothing new was written and
    /// `position` is the first append's.
    pub duplicate: bool,
}

/// A message read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The message's position in the global order.
    pub position: Position,
    /// `<kind>.<id>` without the backend's prefix.
    pub subject: String,
    /// The bytes given to [`EventLog::append`].
    pub payload: Bytes,
}

impl Stored {
    /// A fingerprint of the message (its subject and bytes), FNV-1a 64: what a reader
    /// keeps of the last message it folded, to tell later whether the log at that
    /// position still holds it. A log restored from an older backup, or another stream
    /// under the same name, holds something else there (every envelope carries its
    /// command's id), and what was folded from the old log must then be folded again.
    pub fn fingerprint(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let bytes = self
            .subject
            .as_bytes()
            .iter()
            .chain([&0xff])
            .chain(self.payload.iter());
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }
}

/// The live tail returned by [`EventLog::subscribe`].
pub type StoredStream = Pin<Box<dyn Stream<Item = Result<Stored, LogError>> + Send>>;

/// What can go wrong with the log. Domain errors live elsewhere: this is infrastructure.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The subject's last position is not the one the writer expected.
    #[error("conflict on {subject}: expected last position {expected}, found {actual}")]
    Conflict {
        /// The subject appended to, without the backend's prefix.
        subject: String,
        /// The `expected_last` the append carried.
        expected: Position,
        /// The subject's last position the log found (as close as the backend can tell:
        /// on a clustered JetStream stream it is read back after the refusal).
        actual: Position,
    },
    /// [`EventLog::append_batch`] appended nothing: the log moved on, an expected position
    /// or a message id did not fit (appending the messages one at a time tells which).
    #[error("the batch was not appended: {0}")]
    BatchRefused(String),
    /// The log cannot be reached right now (NATS down, no JetStream leader); retry later.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
    /// A request the log refuses (a subject with bad characters, a payload over the size
    /// limit): retrying will not help.
    #[error("event log refused the request: {0}")]
    Invalid(String),
    /// The storage failed or holds something it should not (an unreadable record).
    #[error("event log storage error: {0}")]
    Storage(String),
}

impl LogError {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, LogError::Unavailable(_))
    }
}

/// The event log. Cheap to share: backends are `Send + Sync` and used behind an `Arc`.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends one message to its subject, checking `expected_last` and the message id.
    async fn append(&self, append: Append) -> Result<Appended, LogError>;

    /// Appends `appends` in order, all or none, at positions `after + 1`, `after + 2`, …:
    /// only if the log's last position is still `after`, every `expected_last` holds (for
    /// a subject's later appends in the batch: the position its earlier one takes), and
    /// no message id is known or repeated. Otherwise it is [`LogError::BatchRefused`] and
    /// nothing is appended. At most [`MAX_BATCH`] appends; returns their positions. A
    /// backend that takes no batches (a nats-server before 2.12) answers
    /// [`LogError::Invalid`].
    async fn append_batch(
        &self,
        appends: Vec<Append>,
        after: Position,
    ) -> Result<Vec<Position>, LogError>;

    /// The messages of one subject with a position greater than `after`, in order.
    async fn read_subject(&self, subject: &str, after: Position) -> Result<Vec<Stored>, LogError>;

    /// The message at exactly `position`, if there is one.
    async fn get(&self, position: Position) -> Result<Option<Stored>, LogError>;

    /// Up to `max` messages with a position of at least `from`, in order.
    async fn read(&self, from: Position, max: usize) -> Result<Vec<Stored>, LogError>;

    /// The position of the last message in the log, 0 when empty.
    async fn last_position(&self) -> Result<Position, LogError>;

    /// Whether the log takes appends now, for readiness checks: an error while the
    /// embedded log's disk is full (after a write failed), until writing works again.
    /// It never waits long.
    async fn health(&self) -> Result<(), LogError> {
        Ok(())
    }

    /// The subjects that start with `prefix` (for example `department.`), in no order.
    async fn subjects(&self, prefix: &str) -> Result<Vec<String>, LogError>;

    /// Every message from position `from` on, then every message appended later, in order.
    /// The stream ends only on error or when dropped.
    async fn subscribe(&self, from: Position) -> Result<StoredStream, LogError>;
}

/// Checks that `subject` is `<kind>.<id>`: `kind` of `[a-z_]+`, `id` of `[A-Za-z0-9_-]+`,
/// at most [`MAX_NAME_LEN`] bytes. Anything else (wildcards, spaces, more tokens) is
/// [`LogError::Invalid`], so a subject can never address more than one aggregate.
pub fn validate_subject(subject: &str) -> Result<(), LogError> {
    let valid = subject.len() <= MAX_NAME_LEN
        && match subject.split_once('.') {
            Some((kind, id)) => {
                !kind.is_empty()
                    && kind.bytes().all(is_kind_byte)
                    && !id.is_empty()
                    && id.bytes().all(is_id_byte)
            }
            None => false,
        };
    if valid {
        Ok(())
    } else {
        Err(LogError::Invalid(format!(
            "subject {subject:?} is not `<kind>.<id>` (kind: a-z and _, id: A-Z, a-z, 0-9, _ \
             and -, at most {MAX_NAME_LEN} bytes)"
        )))
    }
}

/// Checks a prefix for [`EventLog::subjects`]: a possibly partial subject such as ``,
/// `ticket`, `ticket.` or `ticket.01`.
pub fn validate_subject_prefix(prefix: &str) -> Result<(), LogError> {
    let valid = prefix.len() <= MAX_NAME_LEN
        && match prefix.split_once('.') {
            Some((kind, id)) => kind.bytes().all(is_kind_byte) && id.bytes().all(is_id_byte),
            None => prefix.bytes().all(is_kind_byte),
        };
    if valid {
        Ok(())
    } else {
        Err(LogError::Invalid(format!(
            "subject prefix {prefix:?} cannot start a `<kind>.<id>` subject"
        )))
    }
}

/// Checks a message id: 1 to [`MAX_NAME_LEN`] printable ASCII characters without spaces
/// (it travels in a NATS header).
pub fn validate_message_id(message_id: &str) -> Result<(), LogError> {
    if !message_id.is_empty()
        && message_id.len() <= MAX_NAME_LEN
        && message_id.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err(LogError::Invalid(format!(
            "message id {message_id:?} must be 1 to {MAX_NAME_LEN} printable ASCII characters \
             without spaces"
        )))
    }
}

/// The checks every backend makes before an append touches storage.
pub fn validate_append(append: &Append, max_message_size: usize) -> Result<(), LogError> {
    validate_subject(&append.subject)?;
    validate_message_id(&append.message_id)?;
    if append.payload.len() > max_message_size {
        return Err(LogError::Invalid(format!(
            "payload of {} bytes for {} is over the limit of {max_message_size} bytes",
            append.payload.len(),
            append.subject
        )));
    }
    Ok(())
}

/// The checks every backend makes before a batch touches storage: each append's, the
/// size, and that a subject's later appends expect the position its earlier one takes
/// and that no message id repeats (both refuse the batch, as the storage would).
pub fn validate_batch(
    appends: &[Append],
    after: Position,
    max_message_size: usize,
) -> Result<(), LogError> {
    if appends.len() > MAX_BATCH {
        return Err(LogError::Invalid(format!(
            "a batch of {} appends is over the limit of {MAX_BATCH}",
            appends.len()
        )));
    }
    let mut last_of = std::collections::HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for (i, append) in appends.iter().enumerate() {
        validate_append(append, max_message_size)?;
        if let Some(&earlier) = last_of.get(append.subject.as_str()) {
            if append.expected_last != earlier {
                return Err(LogError::BatchRefused(format!(
                    "append {i} to {} expects {}, but the batch puts its previous message at {earlier}",
                    append.subject, append.expected_last
                )));
            }
        }
        last_of.insert(append.subject.as_str(), after + i as Position + 1);
        if !ids.insert(append.message_id.as_str()) {
            return Err(LogError::BatchRefused(format!(
                "message id {} appears twice",
                append.message_id
            )));
        }
    }
    Ok(())
}

fn is_kind_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b == b'_'
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        for ok in ["ticket.0190-ab_C", "a.b", "agent_group.x"] {
            assert!(validate_subject(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ticket",
            "ticket.",
            ".x",
            "Ticket.x",
            "ticket.a.b",
            "ticket.*",
            "ticket.>",
            "ticket.a b",
            "tick-et.x",
            "ticket.é",
        ] {
            assert!(matches!(validate_subject(bad), Err(LogError::Invalid(m)) if m.contains(bad)));
        }
        assert!(validate_subject(&format!("t.{}", "x".repeat(MAX_NAME_LEN))).is_err());
    }

    #[test]
    fn prefixes() {
        for ok in ["", "tic", "ticket", "ticket.", "ticket.01"] {
            assert!(validate_subject_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [">", "ticket.>", "ticket.*", "a.b.c", "A", " "] {
            assert!(validate_subject_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_ids() {
        assert!(validate_message_id("0190a1b2-c3d4").is_ok());
        for bad in ["", "a b", "a\r\nb", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(validate_message_id(bad).is_err(), "{bad:?}");
        }
    }
}
