use std::fmt;

use crate::envelope::Envelope;
use crate::event::Event;
use crate::ids::{AgentId, DepartmentId};
use crate::model::{Channel, ConversationRef, Priority, Rating};
use crate::time::Timestamp;

/// docs/TICKETS.md, Statuses: new → answered ⇄ open → resolved → (reopen) open; deleted is
/// final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketStatus {
    #[default]
    New,
    Answered,
    Open,
    Resolved,
    Deleted,
}

impl TicketStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Answered => "answered",
            TicketStatus::Open => "open",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Deleted => "deleted",
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    exists: bool,
    pub channel: Channel,
    pub priority: Priority,
    pub department: Option<DepartmentId>,
    pub assignee: Option<AgentId>,
    pub status: TicketStatus,
    /// In the order they were added.
    pub tags: Vec<String>,
    /// Who answered last: the agent a rating is attributed to.
    pub last_answerer: Option<AgentId>,
    pub created_at: Option<Timestamp>,
}

impl Default for TicketState {
    fn default() -> Self {
        TicketState {
            exists: false,
            channel: Channel::Email,
            priority: Priority::Normal,
            department: None,
            assignee: None,
            status: TicketStatus::New,
            tags: Vec::new(),
            last_answerer: None,
            created_at: None,
        }
    }
}

impl TicketState {
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    pub(crate) fn apply(&mut self, event: &Event, envelope: &Envelope) {
        match event {
            Event::TicketCreated(e) => {
                self.exists = true;
                self.channel = e.channel;
                self.priority = e.priority;
                self.department = e.department;
                self.created_at = Some(envelope.occurred_at);
            }
            Event::TicketAssigned(e) => self.assignee = Some(e.agent),
            Event::TicketUnassigned(_) => self.assignee = None,
            Event::TicketTransferred(e) => self.department = Some(e.to),
            Event::TicketAnswered(e) => {
                self.last_answerer = Some(e.agent);
                if self.status != TicketStatus::Deleted {
                    self.status = TicketStatus::Answered;
                }
            }
            Event::TicketCustomerReplied(_) => {
                if matches!(self.status, TicketStatus::Answered | TicketStatus::Resolved) {
                    self.status = TicketStatus::Open;
                }
            }
            Event::TicketTagged(e) if !self.has_tag(&e.tag) => self.tags.push(e.tag.clone()),
            Event::TicketUntagged(e) => self.tags.retain(|t| t != &e.tag),
            Event::TicketResolved(_) if self.status != TicketStatus::Deleted => {
                self.status = TicketStatus::Resolved
            }
            Event::TicketReopened(_) if self.status != TicketStatus::Deleted => {
                self.status = TicketStatus::Open
            }
            Event::TicketDeleted(_) => self.status = TicketStatus::Deleted,
            Event::TicketPriorityChanged(e) => self.priority = e.priority,
            _ => {}
        }
    }
}

/// waiting → offered(agent) → accepted(agent) → ended; a miss returns it to waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChatStatus {
    #[default]
    Waiting,
    Offered(AgentId),
    Accepted(AgentId),
    Ended,
}

impl fmt::Display for ChatStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatStatus::Waiting => f.write_str("waiting"),
            ChatStatus::Offered(a) => write!(f, "offered to agent {a}"),
            ChatStatus::Accepted(a) => write!(f, "accepted by agent {a}"),
            ChatStatus::Ended => f.write_str("ended"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatState {
    exists: bool,
    pub channel: Channel,
    pub department: Option<DepartmentId>,
    pub status: ChatStatus,
    /// Who accepted it: the agent a rating is attributed to.
    pub accepted_by: Option<AgentId>,
}

impl Default for ChatState {
    fn default() -> Self {
        ChatState {
            exists: false,
            channel: Channel::Chat,
            department: None,
            status: ChatStatus::Waiting,
            accepted_by: None,
        }
    }
}

impl ChatState {
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::ChatStarted(e) => {
                self.exists = true;
                self.channel = e.channel;
                self.department = e.department;
            }
            Event::ChatOffered(e) => self.status = ChatStatus::Offered(e.agent),
            Event::ChatAccepted(e) => {
                self.status = ChatStatus::Accepted(e.agent);
                self.accepted_by = Some(e.agent);
            }
            Event::ChatMissed(_) => self.status = ChatStatus::Waiting,
            Event::ChatEnded(_) => self.status = ChatStatus::Ended,
            _ => {}
        }
    }
}

/// incoming → ringing(agent) → answered(agent) → ended; a miss returns it to incoming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallStatus {
    #[default]
    Incoming,
    Ringing(AgentId),
    Answered(AgentId),
    Ended,
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallStatus::Incoming => f.write_str("incoming"),
            CallStatus::Ringing(a) => write!(f, "ringing agent {a}"),
            CallStatus::Answered(a) => write!(f, "answered by agent {a}"),
            CallStatus::Ended => f.write_str("ended"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallState {
    exists: bool,
    pub department: Option<DepartmentId>,
    pub status: CallStatus,
    /// Who answered it: the agent a rating is attributed to.
    pub answered_by: Option<AgentId>,
}

impl CallState {
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::CallIncoming(e) => {
                self.exists = true;
                self.department = e.department;
            }
            Event::CallRinging(e) => self.status = CallStatus::Ringing(e.agent),
            Event::CallAnswered(e) => {
                self.status = CallStatus::Answered(e.agent);
                self.answered_by = Some(e.agent);
            }
            Event::CallMissed(_) => self.status = CallStatus::Incoming,
            Event::CallEnded(_) => self.status = CallStatus::Ended,
            _ => {}
        }
    }
}

/// A rating that stands, and the agent it is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandingRating {
    pub agent: AgentId,
    pub rating: Rating,
}

/// The rating of one conversation (keyed by the conversation's uuid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingState {
    pub conversation: Option<ConversationRef>,
    pub current: Option<StandingRating>,
}

impl RatingState {
    /// Rated at least once (a retracted rating leaves the aggregate existing).
    pub fn exists(&self) -> bool {
        self.conversation.is_some()
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::ConversationRated(e) => {
                self.conversation = Some(e.conversation);
                self.current = Some(StandingRating {
                    agent: e.agent,
                    rating: e.rating,
                });
            }
            Event::RatingRetracted(e) => {
                self.conversation = Some(e.conversation);
                self.current = None;
            }
            _ => {}
        }
    }
}
