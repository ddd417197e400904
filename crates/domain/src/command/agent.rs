//! Agent commands.

use serde::{Deserialize, Serialize};

use super::{check_email, check_len, check_name, check_range, CommandBody};
use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::ids::AgentId;
use crate::limits;
use crate::model::{PauseReason, ResumeReason};
use crate::roles::Role;

/// Needs `agents.manage`; only an Owner registers Owners and Administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterAgent {
    pub agent_id: AgentId,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl CommandBody for RegisterAgent {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent_id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_name("name", &self.name)?;
        check_email("email", &self.email)
    }
}

/// Needs `agents.manage` and standing over both the old and the new role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeAgentRole {
    pub agent: AgentId,
    pub role: Role,
}

impl CommandBody for ChangeAgentRole {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoOnline {
    pub agent: AgentId,
}

impl CommandBody for GoOnline {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }
}

/// Closes an open pause first (`AgentResumed{went_offline}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoOffline {
    pub agent: AgentId,
}

impl CommandBody for GoOffline {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }
}

/// `planned_minutes`: 1 to 1,440; the pause then ends by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseAgent {
    pub agent: AgentId,
    pub reason: PauseReason,
    pub planned_minutes: Option<u32>,
}

impl CommandBody for PauseAgent {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }

    fn validate(&self) -> Result<(), DomainError> {
        if let PauseReason::Text(text) = &self.reason {
            check_len("reason", text, limits::PAUSE_REASON_MAX_CHARS)?;
        }
        if let Some(minutes) = self.planned_minutes {
            check_range(
                "planned_minutes",
                minutes.into(),
                1,
                limits::PLANNED_MINUTES_MAX.into(),
            )?;
        }
        Ok(())
    }
}

/// `reason`: none means `manual` when agents resume themselves and `by_admin` when
/// someone resumes them. `planned_end` is for the system (or an import); `went_offline`
/// is only ever recorded by GoOffline and DeactivateAgent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeAgent {
    pub agent: AgentId,
    pub reason: Option<ResumeReason>,
}

impl CommandBody for ResumeAgent {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }

    fn validate(&self) -> Result<(), DomainError> {
        if self.reason == Some(ResumeReason::WentOffline) {
            return Err(DomainError::invalid(
                "reason",
                "manual, by_admin or planned_end (went_offline is recorded by GoOffline)",
            ));
        }
        Ok(())
    }
}

/// Needs `agents.manage`. Takes the agent offline (closing a pause) for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivateAgent {
    pub agent: AgentId,
}

impl CommandBody for DeactivateAgent {
    fn target(&self) -> AggregateId {
        AggregateId::agent(self.agent)
    }
}
