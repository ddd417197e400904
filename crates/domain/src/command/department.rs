//! Department commands (all need `departments.manage`).

use serde::{Deserialize, Serialize};

use super::{check_name, check_some, CommandBody};
use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::ids::{AgentId, DepartmentId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDepartment {
    pub department_id: DepartmentId,
    pub name: String,
}

impl CommandBody for CreateDepartment {
    fn target(&self) -> AggregateId {
        AggregateId::department(self.department_id)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_name("name", &self.name)
    }
}

/// Changes the fields that are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDepartment {
    pub department: DepartmentId,
    pub name: Option<String>,
}

impl CommandBody for UpdateDepartment {
    fn target(&self) -> AggregateId {
        AggregateId::department(self.department)
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_some(self.name.is_some())?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddAgentToDepartment {
    pub department: DepartmentId,
    pub agent: AgentId,
}

impl CommandBody for AddAgentToDepartment {
    fn target(&self) -> AggregateId {
        AggregateId::department(self.department)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveAgentFromDepartment {
    pub department: DepartmentId,
    pub agent: AgentId,
}

impl CommandBody for RemoveAgentFromDepartment {
    fn target(&self) -> AggregateId {
        AggregateId::department(self.department)
    }
}
