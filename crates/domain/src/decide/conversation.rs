//! Chat and call decisions. Both follow the same shape: waiting (incoming) → offered
//! (ringing) to one agent → accepted (answered) by that agent → ended; a miss puts the
//! conversation back to waiting. Offering and ringing go only to agents who are online, not
//! paused, active and (when the conversation has a department) members of it.

use super::{found, may_act_for, Context};
use crate::command::{CallCommand, ChatCommand};
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

/// Offering and ringing by hand is for integrations that route themselves: when the
/// organization lets the system route (docs/DISTRIBUTION.md), only the system offers, so
/// that an offer never races the distribution's choice nor jumps the queue.
fn check_routes_by_hand(ctx: &Context, doing: &str) -> Result<(), DomainError> {
    if ctx.config.settings.system_routes && !ctx.principal.is_system() {
        return Err(DomainError::failed(format!(
            "{doing} by hand is off: the organization setting system_routes is on, so the \
             system offers chats and rings calls itself. To route by hand, set \
             system_routes to false (SetOrganizationSettings)"
        )));
    }
    Ok(())
}

/// A miss is recorded by the offered agent, an integration or the system; another agent
/// acts for the offered one: `system.import` and a standing that could manage them.
fn check_miss_permission(ctx: &Context, offered: AgentId) -> Result<(), DomainError> {
    match ctx.principal.agent {
        Some(me) if me != offered => {
            ctx.principal.require(Permission::SystemImport)?;
            match ctx.agent(offered) {
                Some(agent) => may_act_for(ctx.principal, offered, agent.role()),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The agents a chat is "theirs" for its visibility ([`Context::sees`]): the agent it is
/// offered to and the agent who accepted it.
fn chat_agents(state: &ChatState) -> Vec<AgentId> {
    let offered = match state.status {
        ChatStatus::Offered(a) => Some(a),
        _ => None,
    };
    offered.into_iter().chain(state.accepted_by).collect()
}

/// The same for a call: the agent it rings for and the agent who answered it.
fn call_agents(state: &CallState) -> Vec<AgentId> {
    let ringing = match state.status {
        CallStatus::Ringing(a) => Some(a),
        _ => None,
    };
    ringing.into_iter().chain(state.answered_by).collect()
}

fn department_exists(ctx: &Context, department: Option<DepartmentId>) -> Result<(), DomainError> {
    match department {
        Some(d) if ctx.department(d).is_none() => Err(DomainError::not_found("department", d)),
        _ => Ok(()),
    }
}

pub(super) fn decide_chat(
    state: &ChatState,
    cmd: ChatCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let chat = ChatId::from_uuid(cmd.target().id);
    // Each command checks, in order: the permissions that do not depend on the chat and
    // the acting agent, that the chat exists, then its state.
    let existing = || found(state.exists(), "chat", chat);
    let wrong = || DomainError::failed(format!("chat {chat} is {}", state.status));
    // The customer's side (a customer's message, the end): an integration, or an agent
    // who sees the chat.
    let customer_side = || {
        ctx.customer_side(
            ctx.sees(state.department, &chat_agents(state)),
            &format!("chat {chat}"),
            "offered to nor accepted by",
        )
    };
    match cmd {
        ChatCommand::StartChat(c) => {
            if state.exists() {
                return Err(DomainError::failed(format!("chat {chat} already exists")));
            }
            department_exists(ctx, c.department)?;
            Ok(vec![ChatStarted {
                chat,
                channel: c.channel,
                department: c.department,
            }
            .into()])
        }
        ChatCommand::OfferChat(c) => {
            ctx.self_or(c.agent, Permission::TicketsAssign, "offering a chat")?;
            check_routes_by_hand(ctx, "offering a chat")?;
            existing()?;
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
        ChatCommand::AcceptChat(c) => {
            let agent = ctx.required_agent(c.agent)?;
            existing()?;
            match state.status {
                ChatStatus::Offered(a) if a == agent => {
                    Ok(vec![ChatAccepted { chat, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        ChatCommand::MissChat(_) => {
            existing()?;
            match state.status {
                ChatStatus::Offered(agent) => {
                    check_miss_permission(ctx, agent)?;
                    Ok(vec![ChatMissed { chat, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        ChatCommand::AnswerChat(c) => {
            let agent = ctx.required_agent(c.agent)?;
            existing()?;
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
        ChatCommand::RecordChatCustomerMessage(_) => {
            existing()?;
            customer_side()?;
            if state.status == ChatStatus::Ended {
                return Err(wrong());
            }
            Ok(vec![ChatCustomerMessage { chat }.into()])
        }
        ChatCommand::EndChat(_) => {
            existing()?;
            customer_side()?;
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
    }
}

pub(super) fn decide_call(
    state: &CallState,
    cmd: CallCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let call = CallId::from_uuid(cmd.target().id);
    // In the order of [`decide_chat`].
    let existing = || found(state.exists(), "call", call);
    let wrong = || DomainError::failed(format!("call {call} is {}", state.status));
    let customer_side = || {
        ctx.customer_side(
            ctx.sees(state.department, &call_agents(state)),
            &format!("call {call}"),
            "ringing for nor answered by",
        )
    };
    match cmd {
        CallCommand::IncomingCall(c) => {
            if state.exists() {
                return Err(DomainError::failed(format!("call {call} already exists")));
            }
            department_exists(ctx, c.department)?;
            Ok(vec![CallIncoming {
                call,
                department: c.department,
            }
            .into()])
        }
        CallCommand::RingCall(c) => {
            ctx.self_or(c.agent, Permission::TicketsAssign, "ringing a call")?;
            check_routes_by_hand(ctx, "ringing a call")?;
            existing()?;
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
        CallCommand::AnswerCall(c) => {
            let agent = ctx.required_agent(c.agent)?;
            existing()?;
            match state.status {
                CallStatus::Ringing(a) if a == agent => {
                    Ok(vec![CallAnswered { call, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        CallCommand::MissCall(_) => {
            existing()?;
            match state.status {
                CallStatus::Ringing(agent) => {
                    check_miss_permission(ctx, agent)?;
                    Ok(vec![CallMissed { call, agent }.into()])
                }
                _ => Err(wrong()),
            }
        }
        CallCommand::EndCall(_) => {
            existing()?;
            customer_side()?;
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
    }
}
