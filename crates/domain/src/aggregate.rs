//! Aggregates and their subjects.
//!
//! One aggregate is one consistency boundary and one log subject,
//! `<prefix>.<kind>.<uuid>`: the log checks the expected last sequence per subject, so two
//! commands on one aggregate are serialized and commands on different ones never contend.
//!
//! The kind names are part of the stored data (they are in every subject) and never change.
//! Two aggregates are singletons with the nil uuid: `config` (levels, badges, routing rules,
//! roles, settings and tokens — rarely written, read by almost every decision, so one
//! subject is cheapest to keep current) and `clock` (the `ClockTicked` heartbeat). Ratings
//! are keyed by the rated conversation's uuid, so "one rating per conversation" is enforced
//! by the log's per-subject concurrency.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{AgentId, CallId, ChatId, DepartmentId, TicketId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AggregateKind {
    Agent,
    Department,
    Ticket,
    Chat,
    Call,
    Rating,
    Config,
    Clock,
}

impl AggregateKind {
    pub const ALL: [AggregateKind; 8] = [
        AggregateKind::Agent,
        AggregateKind::Department,
        AggregateKind::Ticket,
        AggregateKind::Chat,
        AggregateKind::Call,
        AggregateKind::Rating,
        AggregateKind::Config,
        AggregateKind::Clock,
    ];

    /// The subject segment. These strings are stored in the log: never change them.
    pub const fn as_str(self) -> &'static str {
        match self {
            AggregateKind::Agent => "agent",
            AggregateKind::Department => "department",
            AggregateKind::Ticket => "ticket",
            AggregateKind::Chat => "chat",
            AggregateKind::Call => "call",
            AggregateKind::Rating => "rating",
            AggregateKind::Config => "config",
            AggregateKind::Clock => "clock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AggregateKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for AggregateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One aggregate: its kind and uuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AggregateId {
    pub kind: AggregateKind,
    pub id: Uuid,
}

impl AggregateId {
    pub const fn new(kind: AggregateKind, id: Uuid) -> Self {
        AggregateId { kind, id }
    }

    pub const fn agent(id: AgentId) -> Self {
        Self::new(AggregateKind::Agent, id.uuid())
    }

    pub const fn department(id: DepartmentId) -> Self {
        Self::new(AggregateKind::Department, id.uuid())
    }

    pub const fn ticket(id: TicketId) -> Self {
        Self::new(AggregateKind::Ticket, id.uuid())
    }

    pub const fn chat(id: ChatId) -> Self {
        Self::new(AggregateKind::Chat, id.uuid())
    }

    pub const fn call(id: CallId) -> Self {
        Self::new(AggregateKind::Call, id.uuid())
    }

    /// The rating of the conversation with this uuid.
    pub const fn rating(conversation: Uuid) -> Self {
        Self::new(AggregateKind::Rating, conversation)
    }

    /// The organization's configuration (a singleton).
    pub const fn config() -> Self {
        Self::new(AggregateKind::Config, Uuid::nil())
    }

    /// The clock (a singleton).
    pub const fn clock() -> Self {
        Self::new(AggregateKind::Clock, Uuid::nil())
    }

    /// `<kind>.<uuid>`, e.g. `ticket.0190f5a4-…`; the log adds its prefix.
    pub fn subject(&self) -> String {
        format!("{}.{}", self.kind.as_str(), self.id.hyphenated())
    }

    /// The inverse of [`AggregateId::subject`]. Accepts a prefixed subject too
    /// (`helpdesk.ticket.<uuid>`): the last two segments are read.
    pub fn from_subject(subject: &str) -> Option<Self> {
        let mut parts = subject.rsplitn(3, '.');
        let id = parts.next()?;
        let kind = parts.next()?;
        let uuid = Uuid::parse_str(id).ok()?;
        if uuid.hyphenated().to_string() != id {
            return None;
        }
        Some(AggregateId::new(AggregateKind::parse(kind)?, uuid))
    }
}

impl fmt::Display for AggregateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.as_str(), self.id.hyphenated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        for kind in AggregateKind::ALL {
            let id = AggregateId::new(kind, Uuid::now_v7());
            assert_eq!(AggregateId::from_subject(&id.subject()), Some(id));
            assert_eq!(
                AggregateId::from_subject(&format!("hd.{}", id.subject())),
                Some(id)
            );
        }
        assert_eq!(
            AggregateId::config().subject(),
            "config.00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(AggregateId::from_subject("ticket"), None);
        assert_eq!(
            AggregateId::from_subject("nope.00000000-0000-0000-0000-000000000000"),
            None
        );
        assert_eq!(
            AggregateId::from_subject("ticket.00000000000000000000000000000000"),
            None,
            "only the hyphenated form is a subject"
        );
    }
}
