//! Deciding: from state and command to events, or a refusal.
//!
//! `decide` is pure. Everything it reads comes in: the target aggregate's state, the
//! command, and a [`Context`] with the principal, the effective time, the configuration and
//! the other aggregates it asked for through [`needs`]. The engine loads those, decides,
//! and appends with the target's expected sequence; the other aggregates are read, not
//! locked (a decision that read a department's members a moment before a member left is
//! as good as one taken a moment earlier).
//!
//! Checks run in this order, so a refusal says the most useful thing first: input shape
//! (`INVALID_ARGUMENT`), permissions that do not depend on state (`PERMISSION_DENIED`),
//! existence (`NOT_FOUND`), ticket visibility (`PERMISSION_DENIED`), state
//! (`FAILED_PRECONDITION`).

mod agent;
mod config;
mod conversation;
mod department;
mod rating;
mod ticket;

use std::collections::HashMap;

use uuid::Uuid;

use crate::actor::Actor;
use crate::aggregate::AggregateId;
use crate::command::{ClockCommand, Command, ResumeAgent, Routed};
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{AgentId, DepartmentId};
use crate::model::{ConversationKind, ResumeReason, TokenSubject};
use crate::roles::{Permission, Principal, Role};
use crate::state::{AgentState, ConfigState, DepartmentState, State};
use crate::time::Timestamp;

/// A level-condition check (syntax, variables), supplied by the rules crate.
pub type ConditionCheck<'a> = &'a dyn Fn(&str) -> Result<(), DomainError>;

/// Everything a decision may read besides its target.
pub struct Context<'a> {
    pub principal: &'a Principal,
    /// The command's effective `occurred_at` (see [`effective_time`]).
    pub now: Timestamp,
    pub config: &'a ConfigState,
    /// The aggregates [`needs`] asked for (`State::new(kind)` when they do not exist).
    pub related: &'a HashMap<AggregateId, State>,
    /// Whether the organization has at least one department (docs/TICKETS.md, Assignment,
    /// departments and the queue).
    pub org_has_departments: bool,
    /// Checks a level condition's syntax; none until the rules crate provides it (then
    /// only the length is checked).
    pub check_condition: Option<ConditionCheck<'a>>,
}

impl<'a> Context<'a> {
    /// The agent, if it was loaded and exists.
    pub(crate) fn agent(&self, id: AgentId) -> Option<&'a AgentState> {
        match self.related.get(&AggregateId::agent(id)) {
            Some(State::Agent(a)) if a.exists() => Some(a),
            _ => None,
        }
    }

    /// The department, if it was loaded and exists.
    pub(crate) fn department(&self, id: DepartmentId) -> Option<&'a DepartmentState> {
        match self.related.get(&AggregateId::department(id)) {
            Some(State::Department(d)) if d.exists() => Some(d),
            _ => None,
        }
    }

    pub(crate) fn is_member(&self, department: DepartmentId, agent: AgentId) -> bool {
        self.department(department)
            .is_some_and(|d| d.is_member(agent))
    }

    /// An existing, active agent, or the matching refusal.
    pub(crate) fn active_agent(&self, id: AgentId) -> Result<&'a AgentState, DomainError> {
        let agent = self
            .agent(id)
            .ok_or_else(|| DomainError::not_found("agent", id))?;
        if agent.is_deactivated() {
            return Err(DomainError::failed(format!("agent {id} is deactivated")));
        }
        Ok(agent)
    }

    /// The agent a work command is done as: the command's `agent`, or the caller's own.
    /// Acting for someone else needs `system.import` and a standing that could manage
    /// them ([`may_act_for`]). The named agent must exist and be active (the caller's own
    /// agent was checked when the token was).
    pub(crate) fn acting_agent(
        &self,
        requested: Option<AgentId>,
    ) -> Result<Option<AgentId>, DomainError> {
        match requested {
            None => Ok(self.principal.agent),
            Some(id) if self.principal.agent == Some(id) => Ok(Some(id)),
            Some(id) => {
                self.principal
                    .require(Permission::SystemImport)
                    .map_err(|_| {
                        DomainError::denied(
                            "acting for another agent needs the permission system.import",
                        )
                    })?;
                let agent = self.active_agent(id)?;
                may_act_for(self.principal, id, agent.role())?;
                Ok(Some(id))
            }
        }
    }

    /// Like [`Context::acting_agent`], for commands that need an agent.
    pub(crate) fn required_agent(
        &self,
        requested: Option<AgentId>,
    ) -> Result<AgentId, DomainError> {
        self.acting_agent(requested)?.ok_or_else(|| {
            DomainError::invalid(
                "agent_id",
                "the agent this is done as (the caller is not an agent)",
            )
        })
    }

    /// Who the events name as `by`: the agent acted for, else the caller.
    pub(crate) fn by(&self, agent: Option<AgentId>) -> Actor {
        agent.map(Actor::Agent).unwrap_or(self.principal.actor)
    }

    /// Department visibility of a conversation (docs/TICKETS.md, Assignment, departments
    /// and the queue): with no departments in the organization everyone sees everything;
    /// otherwise `tickets.view_all` and `system.import` (an importer replays what every
    /// agent did) see every conversation, and an agent sees those of their departments and
    /// those that are `theirs` (a ticket's assignee; the agent a chat is offered to or a
    /// call rings for, and who accepted or answered it).
    pub(crate) fn sees(&self, department: Option<DepartmentId>, theirs: &[AgentId]) -> bool {
        if !self.org_has_departments
            || self.principal.has(Permission::TicketsViewAll)
            || self.principal.has(Permission::SystemImport)
        {
            return true;
        }
        let Some(me) = self.principal.agent else {
            return false;
        };
        theirs.contains(&me) || department.is_some_and(|d| self.is_member(d, me))
    }

    /// The customer's side of a conversation recorded by the caller (a customer's reply
    /// or chat message, ending a chat or call): an integration account (the chat, e-mail or
    /// telephone system) or the system records it for any conversation; an agent only for
    /// one they see ([`Context::sees`]). `PermissionDenied` naming what is missing.
    pub(crate) fn customer_side(
        &self,
        visible: bool,
        conversation: &str,
        whose: &str,
    ) -> Result<(), DomainError> {
        if visible || matches!(self.principal.actor, Actor::Integration(_) | Actor::System) {
            return Ok(());
        }
        Err(DomainError::denied(format!(
            "{conversation} is not in your departments nor {whose} you; recording its \
             customer's side or ending it needs the permission tickets.view_all (or an \
             integration account)"
        )))
    }

    /// `PermissionDenied` unless the caller is `agent` or has `permission` (or
    /// `system.import`, which acts for anyone: docs/SECURITY.md, Roles and permissions).
    pub(crate) fn self_or(
        &self,
        agent: AgentId,
        permission: Permission,
        what: &str,
    ) -> Result<(), DomainError> {
        if self.principal.agent == Some(agent)
            || self.principal.has(permission)
            || self.principal.has(Permission::SystemImport)
        {
            Ok(())
        } else {
            Err(DomainError::denied(format!(
                "{what} for another agent needs the permission {}",
                permission.as_str()
            )))
        }
    }
}

/// The aggregates besides the target that `decide` will read for this command.
pub fn needs(cmd: &Command, target: &State, config: &ConfigState) -> Vec<AggregateId> {
    let mut ids = Vec::new();
    let agent = |ids: &mut Vec<AggregateId>, a: Option<AgentId>| {
        if let Some(a) = a {
            ids.push(AggregateId::agent(a));
        }
    };
    let department = |ids: &mut Vec<AggregateId>, d: Option<DepartmentId>| {
        if let Some(d) = d {
            ids.push(AggregateId::department(d));
        }
    };
    // The ticket's department decides visibility; the chat's and call's, who may take them.
    let target_department = match target {
        State::Ticket(t) => t.department,
        State::Chat(c) => c.department,
        State::Call(c) => c.department,
        _ => None,
    };
    match cmd {
        Command::AddAgentToDepartment(c) => agent(&mut ids, Some(c.agent)),
        Command::RemoveAgentFromDepartment(c) => agent(&mut ids, Some(c.agent)),
        Command::CreateTicket(c) => {
            department(&mut ids, c.department);
            for rule in config.enabled_routing_rules() {
                let (agents, departments) = rule.references();
                for a in agents {
                    agent(&mut ids, Some(a));
                }
                for d in departments {
                    department(&mut ids, Some(d));
                }
            }
        }
        Command::AssignTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, Some(c.agent));
            agent(&mut ids, c.by);
        }
        Command::UnassignTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.by);
        }
        Command::RecordCustomerReply(_) => department(&mut ids, target_department),
        Command::TransferTicket(c) => {
            department(&mut ids, target_department);
            department(&mut ids, Some(c.department));
            agent(&mut ids, c.agent);
        }
        Command::AnswerTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::TagTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::UntagTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::ResolveTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::ReopenTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::DeleteTicket(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, c.agent);
        }
        Command::StartChat(c) => department(&mut ids, c.department),
        Command::OfferChat(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, Some(c.agent));
        }
        // The customer's side: the department decides who besides integrations records it.
        Command::RecordChatCustomerMessage(_) | Command::EndChat(_) | Command::EndCall(_) => {
            department(&mut ids, target_department)
        }
        // Who missed it: a miss recorded by another agent acts for them.
        Command::MissChat(_) => {
            if let State::Chat(c) = target {
                if let crate::state::ChatStatus::Offered(a) = c.status {
                    agent(&mut ids, Some(a));
                }
            }
        }
        Command::MissCall(_) => {
            if let State::Call(c) = target {
                if let crate::state::CallStatus::Ringing(a) = c.status {
                    agent(&mut ids, Some(a));
                }
            }
        }
        Command::AcceptChat(c) => agent(&mut ids, c.agent),
        Command::AnswerChat(c) => agent(&mut ids, c.agent),
        Command::IncomingCall(c) => department(&mut ids, c.department),
        Command::RingCall(c) => {
            department(&mut ids, target_department);
            agent(&mut ids, Some(c.agent));
        }
        Command::AnswerCall(c) => agent(&mut ids, c.agent),
        Command::RateConversation(c) => ids.push(c.conversation.aggregate()),
        Command::IssueToken(c) => {
            if let TokenSubject::Agent(a) = c.subject {
                agent(&mut ids, Some(a));
            }
        }
        Command::RevokeToken(c) => {
            if let Some(TokenSubject::Agent(a)) = config.token(c.token_id).map(|t| &t.subject) {
                agent(&mut ids, Some(*a));
            }
        }
        Command::DefineRoutingRule(c) => {
            for action in &c.actions {
                match action {
                    crate::routing::Action::TransferTo(d) => department(&mut ids, Some(*d)),
                    crate::routing::Action::AssignTo(list) => {
                        for a in list {
                            agent(&mut ids, Some(*a));
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    ids
}

/// Turns a command into events, or refuses it. Pure; authorization happens here too.
pub fn decide(target: &State, cmd: &Command, ctx: &Context) -> Result<Vec<Event>, DomainError> {
    cmd.validate()?;
    // A target of the wrong kind (a caller's mistake) is treated as not existing.
    macro_rules! dispatch {
        ($variant:ident, $ty:ty, $f:path, $cmd:expr) => {
            match target {
                State::$variant(s) => $f(s, $cmd, ctx),
                _ => $f(&<$ty>::default(), $cmd, ctx),
            }
        };
    }
    use crate::state::{
        AgentState, CallState, ChatState, DepartmentState, RatingState, TicketState,
    };
    match cmd.routed() {
        Routed::Agent(c) => dispatch!(Agent, AgentState, agent::decide, c),
        Routed::Department(c) => dispatch!(Department, DepartmentState, department::decide, c),
        Routed::Ticket(c) => dispatch!(Ticket, TicketState, ticket::decide, c),
        Routed::Chat(c) => dispatch!(Chat, ChatState, conversation::decide_chat, c),
        Routed::Call(c) => dispatch!(Call, CallState, conversation::decide_call, c),
        Routed::Rating(c) => dispatch!(Rating, RatingState, rating::decide, c),
        Routed::Config(c) => dispatch!(Config, ConfigState, config::decide, c),
        Routed::Recompute(c) => config::decide_recompute(c, ctx),
        Routed::Clock(ClockCommand::Tick(_)) => {
            if !ctx.principal.is_system() {
                return Err(DomainError::denied("only the system ticks the clock"));
            }
            Ok(vec![crate::event::ClockTicked {}.into()])
        }
    }
}

/// The time a command's events get (docs/STATISTICS.md, Time).
///
/// Without a requested time: the wall clock `now`, but never earlier than the aggregate's
/// last event, so that each aggregate's own history is in order even across a clock
/// step. A requested time (imports) needs `system.import` and must lie between the
/// aggregate's last event and `now`.
pub fn effective_time(
    requested: Option<Timestamp>,
    now: Timestamp,
    last_of_aggregate: Option<Timestamp>,
    principal: &Principal,
) -> Result<Timestamp, DomainError> {
    let Some(at) = requested else {
        return Ok(last_of_aggregate.map_or(now, |last| last.max(now)));
    };
    if !principal.has(Permission::SystemImport) {
        return Err(DomainError::denied(
            "a caller-supplied occurred_at needs the permission system.import",
        ));
    }
    if let Some(last) = last_of_aggregate {
        if at < last {
            return Err(DomainError::invalid(
                "occurred_at",
                format!("not earlier than the aggregate's last event ({last}), got {at}"),
            ));
        }
    }
    if at > now {
        return Err(DomainError::invalid(
            "occurred_at",
            format!("not later than the current time ({now}), got {at}"),
        ));
    }
    Ok(at)
}

/// Whether an imported event at `at` may join a log whose events have reached
/// `log_time`: not earlier than that, less [`IMPORT_LAG_MAX_MILLIS`] for importers that
/// interleave. Time in the read models never runs backwards, so an older event would be
/// counted at the log's time instead of its own: history would be moved in time. It is
/// refused instead, saying what to do.
///
/// [`IMPORT_LAG_MAX_MILLIS`]: crate::limits::IMPORT_LAG_MAX_MILLIS
pub fn check_import_time(at: Timestamp, log_time: Timestamp) -> Result<(), DomainError> {
    let lag = crate::limits::IMPORT_LAG_MAX_MILLIS;
    if at.millis() >= log_time.millis().saturating_sub(lag) {
        return Ok(());
    }
    Err(DomainError::failed(format!(
        "occurred_at {} is earlier than the time this event log has already reached, \
         {} (an import may lag it by at most {} s): it would be counted at that \
         time, so it is refused. Import history into a fresh organization, before live \
         work starts: start helpdesk on a new data directory (`helpdesk dev --data-dir \
         <new dir>`; on NATS also a new stream, `--stream <name>`) and import there",
        at.for_people(),
        log_time.for_people(),
        lag / 1000
    )))
}

/// The system's `ResumeAgent{planned_end}` for a pause whose planned end has come: its
/// command id (derived from the pause's, so every re-run dedupes), the time to record it
/// at (exactly the planned end) and the command.
pub fn planned_resume(
    agent: &AgentState,
    agent_id: AgentId,
    now: Timestamp,
) -> Option<(Uuid, Timestamp, Command)> {
    let pause = agent.pause.as_ref()?;
    let end = pause.planned_end?;
    if end > now || agent.is_deactivated() {
        return None;
    }
    Some((
        Uuid::new_v5(&pause.command_id, b"planned_end"),
        end,
        Command::ResumeAgent(ResumeAgent {
            agent: agent_id,
            reason: Some(ResumeReason::PlannedEnd),
        }),
    ))
}

/// Whether `actor` may change an agent who holds `role` (docs/SECURITY.md, Roles and
/// permissions): Owners only by an Owner, Administrators by an Owner or Administrator.
pub(crate) fn may_manage(principal: &Principal, role: &Role) -> Result<(), DomainError> {
    outranked(principal, role, "changes")
}

/// Whether the caller may act for `agent`, who holds `role` (go online or offline for
/// them, pause or resume them, answer, accept, resolve, record a miss as them): only when
/// they could manage them ([`may_manage`]). An Administrator does not act for an Owner,
/// a custom role not for an Administrator or Owner, whatever their permissions.
pub(crate) fn may_act_for(
    principal: &Principal,
    agent: AgentId,
    role: &Role,
) -> Result<(), DomainError> {
    if principal.agent == Some(agent) {
        return Ok(());
    }
    outranked(principal, role, "acts for")
}

/// `PermissionDenied` when `role` is above the caller's standing: Owners are for Owners,
/// Administrators for Owners and Administrators.
fn outranked(principal: &Principal, role: &Role, verb: &str) -> Result<(), DomainError> {
    match role {
        Role::Owner if principal.role != Role::Owner => Err(DomainError::denied(format!(
            "only an Owner {verb} an Owner"
        ))),
        Role::Administrator if !principal.role.is_privileged() => Err(DomainError::denied(
            format!("only an Owner or Administrator {verb} an Administrator"),
        )),
        _ => Ok(()),
    }
}

/// Whether the caller may hand out `role`, to an agent or with a token: only an Owner
/// makes Owners and Administrators, and nobody grants a permission they do not hold
/// themselves (a custom role with `roles.manage` is not for someone with
/// `agents.manage` alone).
pub(crate) fn may_grant(
    principal: &Principal,
    role: &Role,
    config: &ConfigState,
) -> Result<(), DomainError> {
    if role.is_privileged() && principal.role != Role::Owner {
        return Err(DomainError::denied(format!(
            "only an Owner makes an agent {role}"
        )));
    }
    let granted = crate::roles::permissions_for(role, config);
    if let Some(missing) = granted
        .iter()
        .find(|permission| !principal.has(*permission))
    {
        return Err(DomainError::denied(format!(
            "the role {role} has the permission {}, which the caller does not have: a role \
             or token may grant only permissions the caller holds",
            missing.as_str()
        )));
    }
    Ok(())
}

/// A custom role must exist; built-in roles always do.
pub(crate) fn role_exists(config: &ConfigState, role: &Role) -> Result<(), DomainError> {
    if let Role::Custom(id) = role {
        if config.role(*id).is_none() {
            return Err(DomainError::not_found("role", id));
        }
    }
    Ok(())
}

/// `NotFound` for the `what` with `id` unless it exists.
pub(crate) fn found(
    exists: bool,
    what: &'static str,
    id: impl ToString,
) -> Result<(), DomainError> {
    if exists {
        Ok(())
    } else {
        Err(DomainError::not_found(what, id))
    }
}

pub(crate) fn conversation_word(kind: ConversationKind) -> &'static str {
    match kind {
        ConversationKind::Ticket => "ticket",
        ConversationKind::Chat => "chat",
        ConversationKind::Call => "call",
    }
}
