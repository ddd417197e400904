//! Who made a request.
//!
//! The envelope records the actor that made the request; events additionally name the
//! agent the work was done for (`agent`, `by`). The two differ for imports (an integration
//! replaying what agents did), for administrators pausing someone, and for routing rules.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, RuleId, TokenId};

/// Stored in every envelope: variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Actor {
    /// An agent, authenticated with their own token.
    Agent(AgentId),
    /// An integration account, by the token it used.
    Integration(TokenId),
    /// A routing rule (the results of routing on ticket creation).
    Rule(RuleId),
    /// The system itself: setup, the clock, policies (planned pause ends, auto-pause).
    System,
}

impl Actor {
    /// The agent, when the actor is one.
    pub fn agent(&self) -> Option<AgentId> {
        match self {
            Actor::Agent(id) => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Agent(id) => write!(f, "agent {id}"),
            Actor::Integration(id) => write!(f, "integration {id}"),
            Actor::Rule(id) => write!(f, "routing rule {id}"),
            Actor::System => f.write_str("system"),
        }
    }
}
