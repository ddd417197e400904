//! Agent decisions: registration, roles, presence and pauses.

use super::{may_act_for, may_grant, may_manage, role_exists, Context};
use crate::command::AgentCommand;
use crate::error::DomainError;
use crate::event::*;
use crate::ids::AgentId;
use crate::model::ResumeReason;
use crate::roles::Permission;
use crate::state::AgentState;

pub(super) fn decide(
    state: &AgentState,
    cmd: AgentCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let p = ctx.principal;
    match cmd {
        AgentCommand::RegisterAgent(c) => {
            p.require(Permission::AgentsManage)?;
            role_exists(ctx.config, &c.role)?;
            may_grant(p, &c.role, ctx.config)?;
            if state.exists() {
                return Err(DomainError::failed(format!(
                    "agent {} already exists",
                    c.agent_id
                )));
            }
            Ok(vec![AgentRegistered {
                agent: c.agent_id,
                name: c.name.clone(),
                email: c.email.clone(),
                role: c.role.clone(),
            }
            .into()])
        }
        AgentCommand::ChangeAgentRole(c) => {
            p.require(Permission::AgentsManage)?;
            if p.agent == Some(c.agent) {
                return Err(DomainError::denied(
                    "nobody changes their own role: ask another who manages agents",
                ));
            }
            role_exists(ctx.config, &c.role)?;
            may_grant(p, &c.role, ctx.config)?;
            active(state, c.agent)?;
            may_manage(p, state.role())?;
            if *state.role() == c.role {
                return Err(DomainError::failed(format!(
                    "agent {} already has the role {}",
                    c.agent, c.role
                )));
            }
            Ok(vec![AgentRoleChanged {
                agent: c.agent,
                role: c.role.clone(),
                previous: state.role().clone(),
            }
            .into()])
        }
        AgentCommand::DeactivateAgent(c) => {
            p.require(Permission::AgentsManage)?;
            active(state, c.agent)?;
            may_manage(p, state.role())?;
            let mut events = go_offline(state, c.agent);
            events.push(AgentDeactivated { agent: c.agent }.into());
            Ok(events)
        }
        AgentCommand::GoOnline(c) => {
            ctx.self_or(c.agent, Permission::SystemImport, "going online")?;
            active(state, c.agent)?;
            may_act_for(p, c.agent, state.role())?;
            if state.is_online() {
                return Err(DomainError::failed(format!(
                    "agent {} is online already",
                    c.agent
                )));
            }
            Ok(vec![AgentWentOnline { agent: c.agent }.into()])
        }
        AgentCommand::GoOffline(c) => {
            ctx.self_or(c.agent, Permission::SystemImport, "going offline")?;
            active(state, c.agent)?;
            may_act_for(p, c.agent, state.role())?;
            if !state.is_online() {
                return Err(DomainError::failed(format!("agent {} is offline", c.agent)));
            }
            Ok(go_offline(state, c.agent))
        }
        AgentCommand::PauseAgent(c) => {
            if p.agent != Some(c.agent)
                && !p.has(Permission::AgentsPauseOthers)
                && !p.has(Permission::SystemImport)
            {
                return Err(DomainError::denied(
                    "pausing another agent needs the permission agents.pause_others",
                ));
            }
            active(state, c.agent)?;
            may_act_for(p, c.agent, state.role())?;
            if !state.is_online() {
                return Err(DomainError::failed(format!(
                    "agent {} is offline and cannot pause",
                    c.agent
                )));
            }
            if state.is_paused(ctx.now) {
                return Err(DomainError::failed(format!(
                    "agent {} is paused already",
                    c.agent
                )));
            }
            Ok(vec![AgentPaused {
                agent: c.agent,
                reason: c.reason.clone(),
                planned_end: c
                    .planned_minutes
                    .map(|m| ctx.now.plus_minutes(i64::from(m))),
            }
            .into()])
        }
        AgentCommand::ResumeAgent(c) => {
            let own = p.agent == Some(c.agent);
            let reason = match c.reason {
                None if own => ResumeReason::Manual,
                None => ResumeReason::ByAdmin,
                Some(r) => r,
            };
            let others = p.has(Permission::AgentsPauseOthers) || p.has(Permission::SystemImport);
            let allowed = match reason {
                ResumeReason::Manual => own || p.has(Permission::SystemImport),
                ResumeReason::ByAdmin => others,
                ResumeReason::PlannedEnd => p.is_system() || p.has(Permission::SystemImport),
                ResumeReason::WentOffline => false,
            };
            if !allowed {
                return Err(DomainError::denied(match reason {
                    ResumeReason::PlannedEnd => {
                        "a planned end is recorded by the system (or with system.import)"
                    }
                    ResumeReason::Manual => {
                        "a manual resume of another agent needs the permission system.import"
                    }
                    _ => "resuming another agent needs the permission agents.pause_others",
                }));
            }
            active(state, c.agent)?;
            may_act_for(p, c.agent, state.role())?;
            let Some(pause) = &state.pause else {
                return Err(DomainError::failed(format!(
                    "agent {} is not paused",
                    c.agent
                )));
            };
            match (reason, pause.planned_end) {
                (ResumeReason::PlannedEnd, None) => {
                    return Err(DomainError::failed(format!(
                        "the pause of agent {} has no planned end",
                        c.agent
                    )))
                }
                (ResumeReason::PlannedEnd, Some(end)) if ctx.now < end => {
                    return Err(DomainError::failed(format!(
                        "the pause of agent {} ends at {end}, not yet",
                        c.agent
                    )))
                }
                (ResumeReason::PlannedEnd, Some(_)) => {}
                (_, Some(end)) if end <= ctx.now => {
                    return Err(DomainError::failed(format!(
                        "agent {} is not paused: the pause ended at its planned end {end}",
                        c.agent
                    )))
                }
                _ => {}
            }
            Ok(vec![AgentResumed {
                agent: c.agent,
                reason,
            }
            .into()])
        }
    }
}

/// Exists and is not deactivated.
fn active(state: &AgentState, id: AgentId) -> Result<(), DomainError> {
    if !state.exists() {
        return Err(DomainError::not_found("agent", id));
    }
    if state.is_deactivated() {
        return Err(DomainError::failed(format!("agent {id} is deactivated")));
    }
    Ok(())
}

/// Closing an open pause, then going offline (nothing when already offline).
fn go_offline(state: &AgentState, agent: AgentId) -> Vec<Event> {
    let mut events = Vec::new();
    if state.pause.is_some() {
        events.push(
            AgentResumed {
                agent,
                reason: ResumeReason::WentOffline,
            }
            .into(),
        );
    }
    if state.is_online() {
        events.push(AgentWentOffline { agent }.into());
    }
    events
}
