//! Rating commands. The rating aggregate is keyed by the conversation's uuid.

use serde::{Deserialize, Serialize};

use super::CommandBody;
use crate::aggregate::AggregateId;
use crate::model::{ConversationRef, Rating};

/// Customers rate through integrations: an integration actor, or `system.import`.
/// Replaces a standing rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateConversation {
    pub conversation: ConversationRef,
    pub rating: Rating,
}

impl CommandBody for RateConversation {
    fn target(&self) -> AggregateId {
        self.conversation.rating_aggregate()
    }
}

/// Needs `gamification.manage` (an admin's review of a rating given by mistake).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetractRating {
    pub conversation: ConversationRef,
}

impl CommandBody for RetractRating {
    fn target(&self) -> AggregateId {
        self.conversation.rating_aggregate()
    }
}
