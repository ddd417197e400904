//! Department decisions (all need `departments.manage`).

use super::{found, Context};
use crate::command::DepartmentCommand;
use crate::error::DomainError;
use crate::event::*;
use crate::roles::Permission;
use crate::state::DepartmentState;

/// What DepartmentCreated and DepartmentUpdated carry as `to_solve_enabled`, a field of
/// those frozen events: the setting did nothing (no "to solve" list or view ever read it)
/// and was removed from the API (docs/TICKETS.md, Assignment, departments and the queue).
/// Nothing reads it.
const REMOVED_TO_SOLVE: bool = false;

pub(super) fn decide(
    state: &DepartmentState,
    cmd: DepartmentCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    ctx.principal.require(Permission::DepartmentsManage)?;
    let id = cmd.target().id;
    let existing = || found(state.exists(), "department", id);
    match cmd {
        DepartmentCommand::CreateDepartment(c) => {
            if state.exists() {
                return Err(DomainError::failed(format!(
                    "department {id} already exists"
                )));
            }
            Ok(vec![DepartmentCreated {
                department: c.department_id,
                name: c.name.clone(),
                to_solve_enabled: REMOVED_TO_SOLVE,
            }
            .into()])
        }
        DepartmentCommand::UpdateDepartment(c) => {
            existing()?;
            Ok(vec![DepartmentUpdated {
                department: c.department,
                name: c.name.clone().unwrap_or_else(|| state.name.clone()),
                to_solve_enabled: REMOVED_TO_SOLVE,
            }
            .into()])
        }
        DepartmentCommand::AddAgentToDepartment(c) => {
            existing()?;
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
        DepartmentCommand::RemoveAgentFromDepartment(c) => {
            existing()?;
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
    }
}
