//! The envelope: what one command appends, as one log message.
//!
//! All events of one command go to one subject in one message, so they are appended (and
//! deduplicated by command id) atomically. The bytes are postcard of
//! `VersionedEnvelope::V1(..)` or `V2(..)`: the leading variant index is the format
//! version, so a new envelope layout is a new variant next to the old ones, and every
//! reader can still read every message ever written. V2 adds `recorded_at` and is written
//! only for imports; everything else is still written as V1, byte for byte as before.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Actor;
use crate::event::Event;
use crate::time::Timestamp;

/// One command's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Also the log's message id, so a repeated command is recognized.
    pub command_id: Uuid,
    /// Who made the request.
    pub actor: Actor,
    /// When the events happened (all of them: a command is one moment).
    pub occurred_at: Timestamp,
    /// For an import (a command that brought its own `occurred_at`): when the command
    /// service recorded it, by its wall clock. `None` for everything else, whose
    /// `occurred_at` is the moment it was recorded. The clock reads it to tell whether an
    /// import is running, from the log alone (so a restart does not forget it).
    pub recorded_at: Option<Timestamp>,
    pub events: Vec<Event>,
}

/// Why bytes are not an envelope.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed envelope: {0}")]
    Malformed(#[from] postcard::Error),
    #[error("{0} unexpected bytes after the envelope")]
    TrailingBytes(usize),
}

/// Stored layout, version 1. Frozen.
#[derive(Deserialize)]
struct EnvelopeV1 {
    command_id: Uuid,
    actor: Actor,
    occurred_at: Timestamp,
    events: Vec<Event>,
}

/// Stored layout, version 2: an import, with the time it was recorded. Frozen.
#[derive(Deserialize)]
struct EnvelopeV2 {
    command_id: Uuid,
    actor: Actor,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
    events: Vec<Event>,
}

#[derive(Deserialize)]
enum VersionedEnvelope {
    V1(EnvelopeV1),
    V2(EnvelopeV2),
}

/// The same layouts, borrowing, for encoding without a copy.
#[derive(Serialize)]
struct EnvelopeV1Ref<'a> {
    command_id: &'a Uuid,
    actor: &'a Actor,
    occurred_at: &'a Timestamp,
    events: &'a [Event],
}

#[derive(Serialize)]
struct EnvelopeV2Ref<'a> {
    command_id: &'a Uuid,
    actor: &'a Actor,
    occurred_at: &'a Timestamp,
    recorded_at: &'a Timestamp,
    events: &'a [Event],
}

#[derive(Serialize)]
enum VersionedEnvelopeRef<'a> {
    V1(EnvelopeV1Ref<'a>),
    V2(EnvelopeV2Ref<'a>),
}

impl Envelope {
    /// The bytes for the log: V2 for an import, V1 (the same bytes as ever) otherwise.
    pub fn encode(&self) -> Vec<u8> {
        let versioned = match &self.recorded_at {
            None => VersionedEnvelopeRef::V1(EnvelopeV1Ref {
                command_id: &self.command_id,
                actor: &self.actor,
                occurred_at: &self.occurred_at,
                events: &self.events,
            }),
            Some(recorded_at) => VersionedEnvelopeRef::V2(EnvelopeV2Ref {
                command_id: &self.command_id,
                actor: &self.actor,
                occurred_at: &self.occurred_at,
                recorded_at,
                events: &self.events,
            }),
        };
        postcard::to_stdvec(&versioned).expect("an envelope always serializes")
    }

    /// Reads any version ever written. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        let (versioned, rest) = postcard::take_from_bytes::<VersionedEnvelope>(bytes)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes(rest.len()));
        }
        Ok(match versioned {
            VersionedEnvelope::V1(v1) => Envelope {
                command_id: v1.command_id,
                actor: v1.actor,
                occurred_at: v1.occurred_at,
                recorded_at: None,
                events: v1.events,
            },
            VersionedEnvelope::V2(v2) => Envelope {
                command_id: v2.command_id,
                actor: v2.actor,
                occurred_at: v2.occurred_at,
                recorded_at: Some(v2.recorded_at),
                events: v2.events,
            },
        })
    }
}
