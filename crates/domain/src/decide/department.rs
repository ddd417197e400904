//! Department decisions (all need `departments.manage`).

use super::Context;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::*;
use crate::roles::Permission;
use crate::state::DepartmentState;

pub(super) fn decide(
    state: &DepartmentState,
    cmd: &Command,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    ctx.principal.require(Permission::DepartmentsManage)?;
    let id = cmd.target().id;
    if let Command::CreateDepartment(c) = cmd {
        if state.exists() {
            return Err(DomainError::failed(format!(
                "department {id} already exists"
            )));
        }
        return Ok(vec![DepartmentCreated {
            department: c.department_id,
            name: c.name.clone(),
            to_solve_enabled: c.to_solve_enabled,
        }
        .into()]);
    }
    if !state.exists() {
        return Err(DomainError::not_found("department", id));
    }
    match cmd {
        Command::UpdateDepartment(c) => Ok(vec![DepartmentUpdated {
            department: c.department,
            name: c.name.clone().unwrap_or_else(|| state.name.clone()),
            to_solve_enabled: c.to_solve_enabled.unwrap_or(state.to_solve_enabled),
        }
        .into()]),
        Command::AddAgentToDepartment(c) => {
            ctx.active_agent(c.agent)?;
            if state.is_member(c.agent) {
                return Err(DomainError::failed(format!(
                    "agent {} is already a member of department {id}",
                    c.agent
                )));
            }
            Ok(vec![AgentAddedToDepartment {
                department: c.department,
                agent: c.agent,
            }
            .into()])
        }
        Command::RemoveAgentFromDepartment(c) => {
            // A deactivated agent may still be removed; an unknown one is not found.
            if ctx.agent(c.agent).is_none() {
                return Err(DomainError::not_found("agent", c.agent));
            }
            if !state.is_member(c.agent) {
                return Err(DomainError::failed(format!(
                    "agent {} is not a member of department {id}",
                    c.agent
                )));
            }
            Ok(vec![AgentRemovedFromDepartment {
                department: c.department,
                agent: c.agent,
            }
            .into()])
        }
        _ => Ok(Vec::new()),
    }
}
