//! Chat commands.

use serde::{Deserialize, Serialize};

use super::{check_range, CommandBody};
use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::ids::{AgentId, ChatId, DepartmentId};
use crate::limits;
use crate::model::Channel;

/// A customer-side command: any authenticated actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartChat {
    pub chat_id: ChatId,
    pub channel: Channel,
    pub department: Option<DepartmentId>,
}

impl CommandBody for StartChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat_id)
    }
}

/// Offer to `agent` (online, not paused, a member of the chat's department): oneself
/// freely, anyone else with `tickets.assign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferChat {
    pub chat: ChatId,
    pub agent: AgentId,
}

impl CommandBody for OfferChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
    }
}

/// Only the agent the chat is offered to accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptChat {
    pub chat: ChatId,
    pub agent: Option<AgentId>,
}

impl CommandBody for AcceptChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
    }
}

/// The offer was not taken: the chat waits again and the event names the offered agent.
/// Recorded by the offered agent, an integration or the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissChat {
    pub chat: ChatId,
}

impl CommandBody for MissChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
    }
}

/// A message by the accepting agent; `chars` 1 to 65,536.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerChat {
    pub chat: ChatId,
    pub agent: Option<AgentId>,
    pub chars: u32,
}

impl CommandBody for AnswerChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
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

/// A customer-side command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChatCustomerMessage {
    pub chat: ChatId,
}

impl CommandBody for RecordChatCustomerMessage {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
    }
}

/// Any authenticated actor (customer or agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndChat {
    pub chat: ChatId,
}

impl CommandBody for EndChat {
    fn target(&self) -> AggregateId {
        AggregateId::chat(self.chat)
    }
}
