//! Chat and call decisions. Both follow the same shape: waiting (incoming) → offered
//! (ringing) to one agent → accepted (answered) by that agent → ended; a miss puts the
//! conversation back to waiting. Offering and ringing go only to agents who are online, not
//! paused, active and (when the conversation has a department) members of it.

use super::Context;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::*;
use crate::ids::{AgentId, CallId, ChatId, DepartmentId};
use crate::roles::Permission;
use crate::state::{CallState, CallStatus, ChatState, ChatStatus};

/// Whether `agent` may be offered a conversation of `department` now.
fn check_can_take(
    ctx: &Context,
    agent: AgentId,
    department: Option<DepartmentId>,
) -> Result<(), DomainError> {
    let state = ctx.active_agent(agent)?;
    if !state.is_online() {
        return Err(DomainError::failed(format!("agent {agent} is offline")));
    }
    if state.is_paused(ctx.now) {
        return Err(DomainError::failed(format!("agent {agent} is paused")));
    }
    if ctx.org_has_departments {
        if let Some(d) = department {
            if !ctx.is_member(d, agent) {
                return Err(DomainError::failed(format!(
                    "agent {agent} is not a member of department {d}"
                )));
            }
        }
    }
    Ok(())
}

/// A miss is recorded by the offered agent, an integration or the system; another agent
/// needs `system.import`.
fn check_miss_permission(ctx: &Context, offered: AgentId) -> Result<(), DomainError> {
    match ctx.principal.agent {
        Some(me) if me != offered => ctx.principal.require(Permission::SystemImport),
        _ => Ok(()),
    }
}

fn department_exists(ctx: &Context, department: Option<DepartmentId>) -> Result<(), DomainError> {
    match department {
        Some(d) if ctx.department(d).is_none() => Err(DomainError::not_found("department", d)),
        _ => Ok(()),
    }
}

pub(super) fn decide_chat(
    state: &ChatState,
    cmd: &Command,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let chat = ChatId::from_uuid(cmd.target().id);
    if let Command::StartChat(c) = cmd {
        if state.exists() {
            return Err(DomainError::failed(format!("chat {chat} already exists")));
        }
        department_exists(ctx, c.department)?;
        return Ok(vec![ChatStarted {
            chat,
            channel: c.channel,
            department: c.department,
        }
        .into()]);
    }
    // State-independent permissions and the acting agent first.
    let acting = match cmd {
        Command::OfferChat(c) => {
            ctx.self_or(c.agent, Permission::TicketsAssign, "offering a chat")?;
            None
        }
        Command::AcceptChat(c) => Some(ctx.required_agent(c.agent)?),
        Command::AnswerChat(c) => Some(ctx.required_agent(c.agent)?),
        _ => None,
    };
    if !state.exists() {
        return Err(DomainError::not_found("chat", chat));
    }
    let wrong = || DomainError::failed(format!("chat {chat} is {}", state.status));
    match cmd {
        Command::OfferChat(c) => {
            if state.status != ChatStatus::Waiting {
                return Err(wrong());
            }
            check_can_take(ctx, c.agent, state.department)?;
            Ok(vec![ChatOffered {
                chat,
                agent: c.agent,
            }
            .into()])
        }
        Command::AcceptChat(_) => {
            let agent = acting.expect("set above");
            match state.status {
                ChatStatus::Offered(a) if a == agent => {
                    Ok(vec![ChatAccepted { chat, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        Command::MissChat(_) => match state.status {
            ChatStatus::Offered(agent) => {
                check_miss_permission(ctx, agent)?;
                Ok(vec![ChatMissed { chat, agent }.into()])
            }
            _ => Err(wrong()),
        },
        Command::AnswerChat(c) => {
            let agent = acting.expect("set above");
            match state.status {
                ChatStatus::Accepted(a) if a == agent => Ok(vec![ChatMessageSent {
                    chat,
                    agent,
                    chars: c.chars,
                }
                .into()]),
                _ => Err(wrong()),
            }
        }
        Command::RecordChatCustomerMessage(_) => {
            if state.status == ChatStatus::Ended {
                return Err(wrong());
            }
            Ok(vec![ChatCustomerMessage { chat }.into()])
        }
        Command::EndChat(_) => {
            if state.status == ChatStatus::Ended {
                return Err(DomainError::failed(format!(
                    "chat {chat} has ended already"
                )));
            }
            Ok(vec![ChatEnded {
                chat,
                agent: state.accepted_by,
            }
            .into()])
        }
        _ => Ok(Vec::new()),
    }
}

pub(super) fn decide_call(
    state: &CallState,
    cmd: &Command,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let call = CallId::from_uuid(cmd.target().id);
    if let Command::IncomingCall(c) = cmd {
        if state.exists() {
            return Err(DomainError::failed(format!("call {call} already exists")));
        }
        department_exists(ctx, c.department)?;
        return Ok(vec![CallIncoming {
            call,
            department: c.department,
        }
        .into()]);
    }
    let acting = match cmd {
        Command::RingCall(c) => {
            ctx.self_or(c.agent, Permission::TicketsAssign, "ringing a call")?;
            None
        }
        Command::AnswerCall(c) => Some(ctx.required_agent(c.agent)?),
        _ => None,
    };
    if !state.exists() {
        return Err(DomainError::not_found("call", call));
    }
    let wrong = || DomainError::failed(format!("call {call} is {}", state.status));
    match cmd {
        Command::RingCall(c) => {
            if state.status != CallStatus::Incoming {
                return Err(wrong());
            }
            check_can_take(ctx, c.agent, state.department)?;
            Ok(vec![CallRinging {
                call,
                agent: c.agent,
            }
            .into()])
        }
        Command::AnswerCall(_) => {
            let agent = acting.expect("set above");
            match state.status {
                CallStatus::Ringing(a) if a == agent => {
                    Ok(vec![CallAnswered { call, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        Command::MissCall(_) => match state.status {
            CallStatus::Ringing(agent) => {
                check_miss_permission(ctx, agent)?;
                Ok(vec![CallMissed { call, agent }.into()])
            }
            _ => Err(wrong()),
        },
        Command::EndCall(_) => {
            if state.status == CallStatus::Ended {
                return Err(DomainError::failed(format!(
                    "call {call} has ended already"
                )));
            }
            Ok(vec![CallEnded {
                call,
                agent: state.answered_by,
            }
            .into()])
        }
        _ => Ok(Vec::new()),
    }
}
