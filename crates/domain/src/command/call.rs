//! Call commands.

use serde::{Deserialize, Serialize};

use super::CommandBody;
use crate::aggregate::AggregateId;
use crate::ids::{AgentId, CallId, DepartmentId};

/// A customer-side command: any authenticated actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingCall {
    pub call_id: CallId,
    pub department: Option<DepartmentId>,
}

impl CommandBody for IncomingCall {
    fn target(&self) -> AggregateId {
        AggregateId::call(self.call_id)
    }
}

/// Ring `agent` (online, not paused, a member of the call's department): oneself freely,
/// anyone else with `tickets.assign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingCall {
    pub call: CallId,
    pub agent: AgentId,
}

impl CommandBody for RingCall {
    fn target(&self) -> AggregateId {
        AggregateId::call(self.call)
    }
}

/// Only the agent being rung answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCall {
    pub call: CallId,
    pub agent: Option<AgentId>,
}

impl CommandBody for AnswerCall {
    fn target(&self) -> AggregateId {
        AggregateId::call(self.call)
    }
}

/// The ringing agent did not answer: the call is incoming again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissCall {
    pub call: CallId,
}

impl CommandBody for MissCall {
    fn target(&self) -> AggregateId {
        AggregateId::call(self.call)
    }
}

/// Any authenticated actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndCall {
    pub call: CallId,
}

impl CommandBody for EndCall {
    fn target(&self) -> AggregateId {
        AggregateId::call(self.call)
    }
}
