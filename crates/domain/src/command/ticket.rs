//! Ticket commands.

use serde::{Deserialize, Serialize};

use super::{check_range, check_required, check_tag, CommandBody};
use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::ids::{AgentId, DepartmentId, TicketId};
use crate::limits;
use crate::model::{Channel, Priority};

/// A customer-side command: any authenticated actor. Routing rules run on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTicket {
    pub ticket_id: TicketId,
    pub channel: Channel,
    pub priority: Priority,
    pub subject: String,
    pub body: Option<String>,
    pub department: Option<DepartmentId>,
}

impl CommandBody for CreateTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket_id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_required("subject", &self.subject, limits::SUBJECT_MAX_CHARS)?;
        if let Some(body) = &self.body {
            if body.len() > limits::BODY_MAX_BYTES {
                return Err(DomainError::invalid(
                    "body",
                    format!(
                        "at most {} bytes (64 KiB), got {}",
                        limits::BODY_MAX_BYTES,
                        body.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Assign to `agent`: oneself freely, anyone else with `tickets.assign`. `by`: the agent
/// who assigns it, when not the caller (an import names who did it; `system.import`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignTicket {
    pub ticket: TicketId,
    pub agent: AgentId,
    pub by: Option<AgentId>,
}

impl CommandBody for AssignTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

/// Unassign: one's own ticket freely, someone else's with `tickets.assign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignTicket {
    pub ticket: TicketId,
    /// The agent who unassigns it, when not the caller (imports; `system.import`).
    pub by: Option<AgentId>,
}

impl CommandBody for UnassignTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

/// Needs `tickets.transfer`. The ticket arrives unassigned in the new department's queue,
/// whoever had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferTicket {
    pub ticket: TicketId,
    pub department: DepartmentId,
    pub agent: Option<AgentId>,
}

impl CommandBody for TransferTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

/// `chars`: the answer's length in characters (1 to 65,536).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerTicket {
    pub ticket: TicketId,
    pub agent: Option<AgentId>,
    pub chars: u32,
}

impl CommandBody for AnswerTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_range(
            "chars",
            self.chars.into(),
            1,
            limits::ANSWER_MAX_CHARS.into(),
        )
    }
}

/// A customer-side command. Reopens a resolved ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCustomerReply {
    pub ticket: TicketId,
}

impl CommandBody for RecordCustomerReply {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagTicket {
    pub ticket: TicketId,
    pub tag: String,
    pub agent: Option<AgentId>,
}

impl CommandBody for TagTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_tag("tag", &self.tag)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntagTicket {
    pub ticket: TicketId,
    pub tag: String,
    pub agent: Option<AgentId>,
}

impl CommandBody for UntagTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_tag("tag", &self.tag)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveTicket {
    pub ticket: TicketId,
    pub agent: Option<AgentId>,
}

impl CommandBody for ResolveTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenTicket {
    pub ticket: TicketId,
    pub agent: Option<AgentId>,
}

impl CommandBody for ReopenTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}

/// Needs `tickets.delete`. Final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteTicket {
    pub ticket: TicketId,
    pub agent: Option<AgentId>,
}

impl CommandBody for DeleteTicket {
    fn target(&self) -> AggregateId {
        AggregateId::ticket(self.ticket)
    }
}
